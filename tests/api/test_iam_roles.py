"""The built-in role model and least privilege.

req: IAM-ACCT-09, IAM-LP-01, IAM-SOD-01, IAM-SOD-02
"""


def test_role_model_has_admin_operator_third_party_and_auditor(server):
    """req: IAM-ACCT-09"""
    roles = {r["name"]: r for r in server.query("SELECT name, kind, privileged FROM iam_role")}
    for name in ("sysadmin", "operator", "third_party", "auditor", "security_admin",
                 "security_officer", "customer", "merchant_admin", "merchant_staff"):
        assert name in roles, name
    assert roles["third_party"]["privileged"] == 0


def test_no_role_grants_a_wildcard_and_third_parties_see_no_data(server):
    """req: IAM-LP-01"""
    perms = server.query("SELECT role, permission FROM iam_role_permission")
    assert all("*" not in p["permission"] for p in perms)
    third = {p["permission"] for p in perms if p["role"] == "third_party"}
    assert third and all(p.startswith("self.") for p in third)


def test_sysadmin_cannot_read_the_audit_log_and_auditor_cannot_change_accounts(server):
    """Split privileged functions. req: IAM-SOD-02"""
    perms = server.query("SELECT role, permission FROM iam_role_permission")
    sysadmin = {p["permission"] for p in perms if p["role"] == "sysadmin"}
    auditor = {p["permission"] for p in perms if p["role"] == "auditor"}
    assert "audit.read" not in sysadmin
    assert not {"iam.user.create", "iam.user.disable", "iam.user.force_password"} & auditor


def test_maker_and_checker_permissions_never_share_a_role(server):
    """req: IAM-SOD-01"""
    perms = server.query("SELECT role, permission FROM iam_role_permission")
    by_role = {}
    for p in perms:
        by_role.setdefault(p["role"], set()).add(p["permission"])
    for role, ps in by_role.items():
        for perm in ps:
            if perm.endswith(".request"):
                assert perm[:-len(".request")] + ".approve" not in ps, (role, perm)

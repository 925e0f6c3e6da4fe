/*
 * cli/cmd_staff: `anfu staff bootstrap`, the one staff account that may be
 * made without an approval.
 *
 * Four-eyes approval needs a second person who can approve; until one
 * exists, the host operator (trusted, see docs/security.md) may create
 * staff accounts here. Once any other active account can approve staff
 * creation, the service refuses and every further account goes through
 * POST /admin/v1/approvals. Audited as a bootstrap.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/rand.h"
#include "boot/boot.h"
#include "cli/cli.h"
#include "iam/iam.h"

static void staff_usage(void)
{
	printf("usage: anfu staff bootstrap --name NAME --role ROLE [--data DIR]\n"
	       "\n"
	       "Creates the staff account NAME with ROLE (e.g. security_officer) and\n"
	       "prints its random initial password once (it must be changed at the\n"
	       "first login). Allowed only while no other account can approve the\n"
	       "creation of staff accounts; afterwards staff accounts are created\n"
	       "through four-eyes approval on the admin API.\n");
}

int cmd_staff(int argc, char **argv)
{
	struct anfu_boot *b = NULL;
	struct cli_opts o;
	char err[512] = "", pw[64], id[ANFU_ID_MAX];
	int r;

	if (argc < 2 || strcmp(argv[1], "bootstrap") != 0) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			staff_usage();
			return 0;
		}
		fprintf(stderr, "usage: anfu staff bootstrap --name NAME --role ROLE\n");
		return 2;
	}
	r = cli_parse(argc - 1, argv + 1, "data,config,name,role", &o);
	if (r != 0)
		return r;
	if (o.help) {
		staff_usage();
		return 0;
	}
	if (!o.name || !o.role) {
		fprintf(stderr, "anfu staff bootstrap: --name and --role are required\n");
		return 2;
	}
	r = anfu_boot_open(o.data, o.config, 0, &b, err, sizeof(err));
	if (r == 0)
		r = anfu_boot_services(b, err, sizeof(err));
	if (r == 0)
		r = anfu_iam_bootstrap_staff(b->iam, o.name, o.role, pw, sizeof(pw), id, sizeof(id));
	if (r == 0) {
		printf("staff account %s (%s) with role %s, initial password: %s\n"
		       "shown once; it must be changed at the first login\n",
		       o.name, id, o.role, pw);
		anfu_wipe(pw, sizeof(pw));
	} else {
		fprintf(stderr, "anfu staff bootstrap: %s\n",
			err[0] ? err
			       : r == ANFU_EPERM ? "refused: someone can approve staff creation "
						   "already; use the approval API"
						 : anfu_strerror(r));
	}
	anfu_boot_close(b);
	return r < 0 ? 1 : 0;
}

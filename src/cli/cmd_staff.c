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
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/rand.h"
#include "cli/cli.h"
#include "iam/iam.h"

static void staff_usage(void)
{
	printf("usage: anfu staff bootstrap --name NAME --role ROLE [--data DIR]\n"
	       "       anfu staff unlock --name NAME [--data DIR]\n"
	       "\n"
	       "bootstrap: creates the staff account NAME with ROLE (e.g.\n"
	       "security_officer) and prints its random initial password once (it must\n"
	       "be changed at the first login). Allowed only while no other account can\n"
	       "approve the creation of staff accounts; afterwards staff accounts are\n"
	       "created through four-eyes approval on the admin API.\n"
	       "unlock: break-glass unlock of a locked staff account when no\n"
	       "administrator can log in to unlock it; audited.\n");
}

static int staff_unlock(struct anfu_app *b, const char *name)
{
	int r = anfu_iam_breakglass_unlock(b->iam, name);

	if (r == 0)
		printf("staff account %s unlocked\n", name);
	else
		fprintf(stderr, "anfu staff unlock: %s\n",
			r == ANFU_ENOTFOUND   ? "no such staff account"
			: r == ANFU_ECONFLICT ? "the account is not locked"
					      : anfu_strerror(r));
	return r;
}

int cmd_staff(int argc, char **argv)
{
	struct anfu_app *b = NULL;
	struct cli_opts o;
	char err[512] = "", pw[64], id[ANFU_ID_MAX];
	int r;

	bool unlock = argc >= 2 && strcmp(argv[1], "unlock") == 0;

	if (argc < 2 || (strcmp(argv[1], "bootstrap") != 0 && !unlock)) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			staff_usage();
			return 0;
		}
		fprintf(stderr,
			"usage: anfu staff bootstrap|unlock --name NAME ... (see --help)\n");
		return 2;
	}
	r = cli_parse(argc - 1, argv + 1, unlock ? "data,config,name" : "data,config,name,role",
		      &o);
	if (r != 0)
		return r;
	if (o.help) {
		staff_usage();
		return 0;
	}
	if (!o.name || (!unlock && !o.role)) {
		fprintf(stderr, "anfu staff: --name%s is required\n", unlock ? "" : " and --role");
		return 2;
	}
	r = anfu_app_open(o.data, o.config, 0, &b, err, sizeof(err));
	if (r == 0)
		r = anfu_app_start(b, err, sizeof(err));
	if (r == 0 && unlock) {
		r = staff_unlock(b, o.name);
		anfu_app_close(b);
		return r < 0 ? 1 : 0;
	}
	if (r == 0)
		r = anfu_iam_bootstrap_staff(b->iam, o.name, o.role, pw, sizeof(pw), id,
					     sizeof(id));
	if (r == 0) {
		printf("staff account %s (%s) with role %s, initial password: %s\n"
		       "shown once; it must be changed at the first login\n",
		       o.name, id, o.role, pw);
		anfu_wipe(pw, sizeof(pw));
	} else {
		fprintf(stderr, "anfu staff bootstrap: %s\n",
			err[0]		      ? err
			: r == ANFU_ECONFLICT ? "refused: someone can approve staff creation "
						"already; use the approval API"
			: r == ANFU_EINVAL    ? "invalid or reserved name, or unknown role"
					      : anfu_strerror(r));
	}
	anfu_app_close(b);
	return r < 0 ? 1 : 0;
}

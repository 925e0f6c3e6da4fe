/*
 * cli/main: `anfu`, the administration CLI: argument dispatch and the
 * options every command shares.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anfu_build.h"
#include "cli/cli.h"
#include "base/log.h"
#include "crypto/crypto.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: anfu COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  init                  create a data directory: config, keys, database\n"
		"  version               print the version\n"
		"  config check          check a configuration file (--show prints it)\n"
		"  db status             schema version and audit log state\n"
		"  db migrate            apply missing migrations (as the owner role)\n"
		"  db copy               move a stopped installation to PostgreSQL/SQLite\n"
		"  audit verify          recompute the audit hash chain, check checkpoints\n"
		"  audit export          write the audit log as signed JSON lines\n"
		"  ledger verify         recompute the ledger's balances, hash chain, holds\n"
		"  ledger accounts|account ID|transfers   list the ledger (owners masked)\n"
		"  keys export-public    print the public keys (for auditors)\n"
		"  receipts key|verify FILE   print the receipt key, verify a receipt\n"
		"  routes                list the HTTP routes, access classes, permissions\n"
		"  staff bootstrap       create the second staff account four-eyes needs\n"
		"\n"
		"Every command takes --help and --data DIR (default %s,\n"
		"or $ANFU_DATA).\n",
		ANFU_DEFAULT_DATA_DIR);
}

/* Whether the comma-separated list has name as a whole entry ("to" is not
 * in "crypto"). */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

int cli_parse(int argc, char **argv, const char *allowed, struct cli_opts *o)
{
	static const struct option all[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "crypto", required_argument, NULL, 'y' },
		{ "level", required_argument, NULL, 'l' },
		{ "admin", required_argument, NULL, 'a' },
		{ "name", required_argument, NULL, 'n' },
		{ "role", required_argument, NULL, 'r' },
		{ "account", required_argument, NULL, 'A' },
		{ "limit", required_argument, NULL, 'L' },
		{ "admin-dsn", required_argument, NULL, 'D' },
		{ "readonly-role", required_argument, NULL, 'R' },
		{ "to", required_argument, NULL, 't' },
		{ "key", required_argument, NULL, 'k' },
		{ "show", no_argument, NULL, 's' },
		{ "postgresql", no_argument, NULL, 'P' },
		{ "print-sql", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, idx = 0;

	memset(o, 0, sizeof(*o));
	o->data = getenv("ANFU_DATA") ? getenv("ANFU_DATA") : ANFU_DEFAULT_DATA_DIR;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", all, &idx)) != -1) {
		const char *name = c == 'h' ? "help" : all[idx].name;

		if (c == '?' || (c != 'h' && !listed(allowed, name))) {
			fprintf(stderr, "anfu %s: unknown option (see --help)\n", argv[0]);
			return 2;
		}
		switch (c) {
		case 'd': o->data = optarg; break;
		case 'c': o->config = optarg; break;
		case 'o': o->out = optarg; break;
		case 'y': o->crypto = optarg; break;
		case 'l': o->level = optarg; break;
		case 'a': o->admin = optarg; break;
		case 'n': o->name = optarg; break;
		case 'r': o->role = optarg; break;
		case 'A': o->account = optarg; break;
		case 'L': o->limit = optarg; break;
		case 'D': o->admin_dsn = optarg; break;
		case 'R': o->readonly_role = optarg; break;
		case 't': o->to = optarg; break;
		case 'k': o->key = optarg; break;
		case 's': o->show = true; break;
		case 'P': o->postgresql = true; break;
		case 'S': o->print_sql = true; break;
		case 'h': o->help = true; break;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "anfu %s: unexpected argument '%s' (see --help)\n", argv[0],
			argv[optind]);
		return 2;
	}
	return 0;
}

void cli_progress(int64_t done, int64_t total)
{
	if (!isatty(STDERR_FILENO))
		return;
	if (total > 0)
		fprintf(stderr, "\r  %lld / %lld (%d%%)", (long long)done, (long long)total,
			(int)(done * 100 / total));
	else
		fprintf(stderr, "\r  %lld", (long long)done);
	if (done == total)
		fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(cmd ? stdout : stderr);
		return cmd ? 0 : 2;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("anfu %s\n", ANFU_VERSION);
		return 0;
	}
	/* The CLI reports to people on stdout/stderr; only warnings and errors
	 * of the modules underneath go to stderr as log lines. */
	(void)anfu_log_open(NULL, NULL, ANFU_LOG_WARN);
	if (anfu_crypto_init() < 0) {
		fprintf(stderr, "anfu: cryptographic libraries failed to initialise\n");
		return 1;
	}
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(argc - 1, argv + 1);
	if (strcmp(cmd, "db") == 0)
		return cmd_db(argc - 1, argv + 1);
	if (strcmp(cmd, "audit") == 0)
		return cmd_audit(argc - 1, argv + 1);
	if (strcmp(cmd, "ledger") == 0)
		return cmd_ledger(argc - 1, argv + 1);
	if (strcmp(cmd, "receipts") == 0)
		return cmd_receipts(argc - 1, argv + 1);
	if (strcmp(cmd, "keys") == 0)
		return cmd_keys(argc - 1, argv + 1);
	if (strcmp(cmd, "routes") == 0)
		return cmd_routes(argc - 1, argv + 1);
	if (strcmp(cmd, "staff") == 0)
		return cmd_staff(argc - 1, argv + 1);
	fprintf(stderr, "anfu: unknown command '%s' (see anfu --help)\n", cmd);
	return 2;
}

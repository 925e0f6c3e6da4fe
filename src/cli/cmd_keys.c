/*
 * cli/cmd_keys: `anfu keys export-public`, printing the public keys an
 * auditor needs to verify audit exports without anfu.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/cli.h"
#include "keys/keys.h"

static void keys_usage(void)
{
	printf("usage: anfu keys export-public [--data DIR]\n"
	       "\n"
	       "Prints every public key of the data directory as PEM, each after a\n"
	       "comment line naming its key id, algorithm and use.\n");
}

int cmd_keys(int argc, char **argv)
{
	struct cli_opts o;
	struct anfu_buf b;
	int r;

	if (argc < 2 || strcmp(argv[1], "export-public") != 0) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			keys_usage();
			return 0;
		}
		fprintf(stderr, "usage: anfu keys export-public [--data DIR]\n");
		return 2;
	}
	r = cli_parse(argc - 1, argv + 1, "data", &o);
	if (r != 0)
		return r;
	if (o.help) {
		keys_usage();
		return 0;
	}
	anfu_buf_init(&b, 1024 * 1024);
	r = anfu_keys_export_public(o.data, &b);
	if (r == 0)
		fputs(b.data ? b.data : "", stdout);
	else
		fprintf(stderr, "anfu keys: cannot read the keys of %s: %s\n", o.data,
			anfu_strerror(r));
	anfu_buf_free(&b);
	return r < 0 ? 1 : 0;
}

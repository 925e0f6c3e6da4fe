/*
 * cli/cmd_config: `anfu config check`, validating a configuration file, and
 * `anfu config example|describe`, generated from every option table of
 * this build (the platform's and each module's of the list, src/app/).
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "base/buf.h"
#include "base/limits.h"
#include "cli/cli.h"
#include "config/config.h"

static void config_usage(void)
{
	printf("usage: anfu config check [--data DIR] [--config FILE] [--show]\n"
	       "       anfu config example\n"
	       "       anfu config describe\n"
	       "\n"
	       "check: reads FILE (default DIR/anfu.conf) and reports the first error\n"
	       "with its line, or OK. --show prints every option with its effective value.\n"
	       "example: prints an example file with every option at its default\n"
	       "(etc/anfu.conf.example). describe: prints the option reference table\n"
	       "of docs/configuration.md.\n");
}

/* `anfu config example|describe`: generated from the option table. */
static int print_generated(bool example)
{
	struct anfu_buf b;
	int r;

	const struct anfu_config_table *tables[ANFU_LIMIT_MODULES];
	size_t ntables = anfu_app_config_tables(tables);

	anfu_buf_init(&b, ANFU_LIMIT_CONFIG_RENDER_BYTES);
	r = example ? anfu_config_example(tables, ntables, &b)
		    : anfu_config_describe(tables, ntables, &b);
	if (r == 0)
		fputs(b.data ? b.data : "", stdout);
	anfu_buf_free(&b);
	return r < 0 ? 1 : 0;
}

int cmd_config(int argc, char **argv)
{
	const struct anfu_config_table *tables[ANFU_LIMIT_MODULES];
	struct anfu_config *cfg = NULL;
	size_t ntables;
	struct cli_opts o;
	char path[PATH_MAX], err[512] = "";
	struct anfu_buf b;
	int r;

	if (argc >= 2 && (strcmp(argv[1], "example") == 0 || strcmp(argv[1], "describe") == 0)) {
		if (argc == 3 && strcmp(argv[2], "--help") == 0) {
			config_usage();
			return 0;
		}
		if (argc != 2) {
			fprintf(stderr, "usage: anfu config example|describe\n");
			return 2;
		}
		return print_generated(strcmp(argv[1], "example") == 0);
	}
	if (argc < 2 || strcmp(argv[1], "check") != 0) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			config_usage();
			return 0;
		}
		fprintf(stderr, "usage: anfu config check [--data DIR] [--config FILE] [--show]\n");
		return 2;
	}
	r = cli_parse(argc - 1, argv + 1, "data,config,show", &o);
	if (r != 0)
		return r;
	if (o.help) {
		config_usage();
		return 0;
	}
	if (!o.config) {
		if (anfu_app_config_path(o.data, path, sizeof(path)) < 0)
			return 1;
		o.config = path;
	}
	ntables = anfu_app_config_tables(tables);
	if (anfu_config_load(o.config, o.data, tables, ntables, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (o.show) {
		anfu_buf_init(&b, ANFU_LIMIT_CONFIG_RENDER_BYTES);
		if (anfu_config_dump(cfg, &b) == 0)
			fputs(b.data ? b.data : "", stdout);
		anfu_buf_free(&b);
	}
	printf("OK: %s\n", o.config);
	anfu_config_free(cfg);
	return 0;
}

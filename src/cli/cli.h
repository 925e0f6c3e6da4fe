/*
 * cli: the anfu administration command. Internal header of src/cli/.
 *
 * Every command takes --help and --data DIR (default: the directory `make
 * run` uses), works without a terminal (scripts and tests drive it), prints
 * results on stdout and problems on stderr, and exits 0 on success, 1 on
 * failure, 2 on a usage error.
 */
#ifndef ANFU_CLI_CLI_H
#define ANFU_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

struct cli_opts {
	const char *data;    /* --data */
	const char *config;  /* --config */
	const char *out;     /* --out */
	const char *crypto;  /* --crypto */
	const char *level;   /* --level */
	const char *admin;   /* --admin */
	const char *name;    /* --name */
	const char *role;    /* --role */
	const char *account; /* --account */
	const char *limit;   /* --limit */
	bool show;	     /* --show */
	bool help;	     /* --help */
};

/* Parses the options common to all commands (argv[0] is the command name).
 * `allowed` lists the long options this command accepts ("data,config").
 * Returns 0, or 2 after printing the usage error. */
int cli_parse(int argc, char **argv, const char *allowed, struct cli_opts *o);

/* Prints a progress line on stderr when it is a terminal. */
void cli_progress(int64_t done, int64_t total);

int cmd_init(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_routes(int argc, char **argv);
int cmd_staff(int argc, char **argv);
int cmd_ledger(int argc, char **argv);

#endif

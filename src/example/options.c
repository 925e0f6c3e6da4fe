/*
 * example/options: the option table of the example module: its own
 * section, [example], parsed into struct anfu_example_config.
 *
 * Trusts nothing; static data checked at compile time (field types) and
 * when a configuration is made (defaults parse under their range).
 */
#include <stddef.h>

#include "config/option.h"
#include "example/example.h"

#define ANFU_CONFIG_STRUCT struct anfu_example_config

static const struct anfu_config_option example_options[] = {
	ANFU_OPT_INT("example", "max_chars", max_chars, 1, ANFU_EXAMPLE_CHARS_MAX, 200,
		     "characters", NULL, "Longest note a user may write (the example module)."),
};

const struct anfu_config_table anfu_example_config_table = {
	.owner = "example",
	.options = example_options,
	.noptions = sizeof(example_options) / sizeof(example_options[0]),
	.size = sizeof(struct anfu_example_config),
};

/*
 * web/options: the option table of the web module, [web], parsed into
 * struct anfu_web_config.
 *
 * Trusts nothing; static data checked at compile time (field types) and
 * when a configuration is made (defaults parse under their range).
 */
#include <stddef.h>

#include "config/option.h"
#include "web/web.h"

#define ANFU_CONFIG_STRUCT struct anfu_web_config

static const struct anfu_config_option web_options[] = {
	ANFU_OPT_INT("web", "keypad_ttl_s", keypad_ttl_s, 10, 900, 120, "seconds", "WEB-KBD-01",
		     "Life of a shuffled payment keypad after it is shown; a PIN entered on an "
		     "older one is refused (keypad_expired)."),
};

const struct anfu_config_table anfu_web_config_table = {
	.owner = "web",
	.options = web_options,
	.noptions = sizeof(web_options) / sizeof(web_options[0]),
	.size = sizeof(struct anfu_web_config),
};

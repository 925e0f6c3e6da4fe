/*
 * fuzz/fuzz_config: the configuration parser (config/parse.c and the
 * option values it feeds, of every table of the module list) on arbitrary
 * bytes.
 *
 * Owns nothing between runs: every input is parsed with a fixed data
 * directory and the result, or the error, is dropped. Trusts nothing in
 * the input; it must neither crash nor leak, and a successful parse must
 * render back into a dump.
 */
#include <stdint.h>
#include <stdlib.h>

#include "app/app.h"
#include "base/buf.h"
#include "config/config.h"

/* A directory that need not exist: an absolute path is used as given. */
#define FUZZ_DATA_DIR "/nonexistent/anfu-fuzz-data"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct anfu_config_table *tables[ANFU_LIMIT_MODULES];
	size_t ntables = anfu_app_config_tables(tables);
	struct anfu_config *c = NULL;
	struct anfu_buf dump;
	char err[512];

	if (anfu_config_load_text((const char *)data, size, "fuzz.conf", FUZZ_DATA_DIR, tables,
				  ntables, &c, err, sizeof(err)) != 0)
		return 0;
	anfu_buf_init(&dump, 1024 * 1024);
	if (anfu_config_dump(c, &dump) != 0)
		abort();
	anfu_buf_free(&dump);
	anfu_config_free(c);
	return 0;
}

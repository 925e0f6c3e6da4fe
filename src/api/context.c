/*
 * api/context: what a handler finds through the application context
 * (struct anfu_app, api/api.h): its module's service, or another
 * module's by name.
 *
 * Trusts the context src/app/ built: modules and services are parallel
 * arrays of nmodules, filled before the server takes requests and
 * unchanged until it stopped.
 */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/module.h"

void *anfu_api_service(const struct anfu_app *app, const struct anfu_module *m)
{
	if (!app || !m || !app->services)
		return NULL;
	for (size_t i = 0; i < app->nmodules; i++)
		if (app->modules[i] == m)
			return app->services[i];
	return NULL;
}

void *anfu_api_service_named(const struct anfu_app *app, const char *name)
{
	if (!app || !name || !app->services)
		return NULL;
	for (size_t i = 0; i < app->nmodules; i++)
		if (strcmp(app->modules[i]->name, name) == 0)
			return app->services[i];
	return NULL;
}

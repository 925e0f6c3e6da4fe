/*
 * api/module: the module descriptor, one struct in which a service declares
 * everything the application does with it (in the spirit of nginx's
 * ngx_module_t).
 *
 * A service's descriptor lives in src/<svc>/api/module.c (it names the
 * service's HTTP handlers, so it sits with them, above the service) and is
 * listed once, on one line of the module list in the top meson.build,
 * which generates the array src/app/ iterates: migrations applied in list
 * order, options parsed into the module's own struct, start in list order,
 * routes registered, jobs scheduled, approval types registered, metrics
 * rendered, stop in reverse order. Adding a service is its folder and that
 * line. Every field but name may be NULL.
 */
#ifndef ANFU_API_MODULE_H
#define ANFU_API_MODULE_H

#include <stddef.h>

#include "http/http.h"

struct anfu_app;
struct anfu_buf;
struct anfu_migration_set;
struct anfu_config_table;
struct anfu_job_table;
struct anfu_approval_table;

/* A module's routes: the array and its length. */
struct anfu_route_table {
	const struct anfu_route *routes;
	size_t n;
};

/*
 * Every list is a pointer to an {array, length} struct defined next to its
 * array (a descriptor is a constant initializer, and the length of an
 * array defined in another file is not a constant in C).
 */
struct anfu_module {
	/* "iam": [a-z][a-z0-9_]*, also the name of its migration sequence
	 * (schema_version.module) and of its meson library. */
	const char *name;
	/* Its own sequence, versions 1..n, generated from
	 * src/<name>/migrations/NNNN_name.sql by scripts/embed_migrations.py
	 * (the build refuses a gap): anfu_<name>_migrations. */
	const struct anfu_migration_set *migrations;
	/* Its configuration sections, parsed into a struct of its own
	 * (config/option.h); start() gets that struct. The table carries the
	 * options, their count and the struct's size together because
	 * config/ needs all three and finds the parsed struct by the table. */
	const struct anfu_config_table *config;
	/* Makes the service from the platform in app (started, borrowed) and
	 * the module's parsed options (config: NULL without a table; borrowed,
	 * lives as long as app); *ret_svc is the module's until stop(). The
	 * service must not take requests from any thread yet: routes, jobs
	 * and approvals are wired after every module started. */
	int (*start)(struct anfu_app *app, const void *config, void **ret_svc);
	/* Frees the service; NULL-safe. Called in reverse list order, after
	 * the HTTP server and the scheduler stopped. */
	void (*stop)(void *svc);
	/* Its HTTP routes (handlers in src/<name>/api/); a handler finds the
	 * service with anfu_api_service(req->app, &its_module). */
	const struct anfu_route_table *routes;
	/* Its scheduled jobs (jobs/jobs.h); each job's ud is the service. */
	const struct anfu_job_table *jobs;
	/* Its four-eyes approval types (iam/approval.h). */
	const struct anfu_approval_table *approvals;
	/* Appends its Prometheus lines (# HELP, # TYPE and samples) for
	 * /metrics; NULL for none. */
	int (*metrics)(void *svc, struct anfu_buf *out);
};

#endif

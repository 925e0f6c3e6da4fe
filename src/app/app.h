/*
 * app: the application core above the services: opening a data directory
 * and running the module list on it.
 *
 * Owns the order of start-up: config (the platform's options and every
 * module's), keys, audit writer, database (each module's migrations in
 * list order, each audited in its own transaction), then the platform's
 * services (vault, notifier, scheduler), each module's start in list
 * order, their approval types and jobs; the routes of the platform, the
 * modules and the test hooks; each module's stop in reverse order. Only
 * daemon/ and cli/ include this header (the include lint,
 * scripts/lint-includes.py, refuses it elsewhere); handlers reach the
 * application through struct anfu_app (api/api.h). Not thread-safe; call
 * from the main thread.
 */
#ifndef ANFU_APP_APP_H
#define ANFU_APP_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "api/module.h"
#include "audit/audit.h"
#include "base/limits.h"

struct anfu_config_table;
struct anfu_migration_set;
struct anfu_router;

#define ANFU_APP_MIGRATE 0x1u	  /* apply missing migrations */
#define ANFU_APP_PUBLIC_ONLY 0x2u /* load only public keys (verify) */
#define ANFU_APP_NO_SCHEMA 0x4u	  /* do not require a current schema */
/* Refuse a configuration naming a simulator gateway unless [server]
 * allow_simulators is true (anfud of a production build; DESIGN.md). The
 * refusal comes before keys, database or audit log are touched. */
#define ANFU_APP_REFUSE_SIMULATORS 0x8u
/* PostgreSQL with [database] owner_dsn: connect as the owner role (its
 * password from owner_password_file), which runs the migrations. Without
 * this flag such a configuration never migrates (ANFU_APP_MIGRATE then
 * only checks, and a schema behind is refused): anfud connects as the
 * application role, which has no DDL (docs/deployment.md, roles). */
#define ANFU_APP_OWNER 0x10u

/* The module list of this build, dependencies first: the platform's
 * (core: audit, vault, jobs tables; notify), then the modules of the list
 * in the top meson.build, one line each (src/app/modules_gen.c is
 * generated from it). */
extern const struct anfu_module *const anfu_app_modules[];
extern const size_t anfu_app_nmodules;
/* The platform's descriptors: migrations only; the app starts the
 * platform itself, before any module. */
extern const struct anfu_module anfu_core_module;
extern const struct anfu_module anfu_notify_module;
/* The core's migrations, src/app/migrations/ (generated). */
extern const struct anfu_migration_set anfu_core_migrations;

/* The option tables of the module list, in list order, into out (room for
 * ANFU_LIMIT_MODULES); returns how many. */
size_t anfu_app_config_tables(const struct anfu_config_table *out[ANFU_LIMIT_MODULES]);
/* The migrations of the module list, in list order, into out (room for
 * ANFU_LIMIT_MODULES); returns how many. */
size_t anfu_app_schema(struct anfu_migration_set *out);

/* The actor of records the platform writes on its own behalf. */
extern const struct anfu_actor anfu_app_system_actor;

/* Default config path of a data directory: DATA/anfu.conf. */
int anfu_app_config_path(const char *data_dir, char *out, size_t cap);

/* Opens data_dir: reads config_path (NULL: DATA/anfu.conf, which must
 * exist) with every module's options, applies ANFU_APP_REFUSE_SIMULATORS
 * (ANFU_EPERM), loads keys, opens the database and, with ANFU_APP_MIGRATE,
 * applies missing migrations; otherwise an outdated schema is an error
 * unless ANFU_APP_NO_SCHEMA. A database newer than this binary in any
 * module is always refused (ANFU_ESCHEMA). *ret is the caller's
 * (anfu_app_close); on failure errbuf says why for people. */
int anfu_app_open(const char *data_dir, const char *config_path, unsigned flags,
		  struct anfu_app **ret, char *errbuf, size_t errlen);
/* Starts the services on an opened data directory: the vault (data keys),
 * the notifier (queue; its delivery thread is not started), the scheduler
 * (not started), then each module in list order, whose approval types and
 * jobs are then registered. Needs the private keys (not
 * ANFU_APP_PUBLIC_ONLY). On failure errbuf says which step failed; what
 * started stays for anfu_app_close(). */
int anfu_app_start(struct anfu_app *app, char *errbuf, size_t errlen);
/* The module half of anfu_app_start(): starts each module of app's list
 * (app->modules, app->nmodules) in order with its parsed options and
 * registers its approval types and jobs (app->jobs). Stops at the first
 * failure, whose module and step errbuf names; the modules started before
 * it stay started (anfu_app_stop_modules). */
int anfu_app_start_modules(struct anfu_app *app, char *errbuf, size_t errlen);
/* Stops every started module of app's list in reverse order (after the
 * HTTP server and the scheduler stopped); NULL-safe, idempotent. */
void anfu_app_stop_modules(struct anfu_app *app);
/* Starts the background threads of a started app: notification delivery
 * and the scheduler (anfud). */
int anfu_app_run(struct anfu_app *app);
/* Stops the scheduler (waiting for a running job) before the database
 * goes; NULL-safe, idempotent. */
void anfu_app_halt(struct anfu_app *app);
/* Stops every module in reverse list order, then the platform, and frees
 * everything; NULL-safe. */
void anfu_app_close(struct anfu_app *app);

/* Registers every route of this build on r: the platform's, each module's
 * in list order, then the test hooks' (test-hooks builds). Returns the
 * first registration error. */
int anfu_app_register_routes(struct anfu_router *r);
/* Registers module m's approval types (iam/approval.h). Registering the
 * same type again (another app in the same process, as in tests) is not
 * an error; another type under a registered name is (ANFU_EEXIST). */
int anfu_app_register_approvals(const struct anfu_module *m);

/* Appends one system audit event in its own transaction. details may be
 * NULL and is borrowed. */
int anfu_app_audit(struct anfu_app *app, const char *action, const char *object_type,
		   const char *object_id, json_t *details);

#endif

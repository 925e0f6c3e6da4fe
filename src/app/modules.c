/*
 * app/modules: the module list at work: the platform's descriptors, the
 * option tables and migrations of the list, starting the platform and
 * every module, their approval types and jobs, and stopping it all in
 * reverse.
 *
 * Owns the services it starts (app->services[i] until stop) and the
 * platform's (vault, notifier, scheduler). Trusts the descriptors: they are
 * static data of this build (api/module.h says what each field means).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "audit/audit.h"
#include "base/assert.h"
#include "base/err.h"
#include "config/config.h"
#include "iam/api/module.h"
#include "iam/approval.h"
#include "jobs/jobs.h"
#include "keys/keys.h"
#include "notify/notify.h"
#include "store/store.h"
#include "tx/tx.h"
#include "vault/vault.h"

/* The platform: the app itself starts what these tables serve (audit,
 * vault, jobs; the notifier), before any module, since every module may
 * use them. */
const struct anfu_module anfu_core_module = {
	.name = "core",
	.migrations = &anfu_core_migrations,
};

const struct anfu_module anfu_notify_module = {
	.name = "notify",
	.migrations = &anfu_notify_migrations,
};

size_t anfu_app_config_tables(const struct anfu_config_table *out[ANFU_LIMIT_MODULES])
{
	size_t n = 0;

	for (size_t i = 0; i < anfu_app_nmodules && n < ANFU_LIMIT_MODULES; i++)
		if (anfu_app_modules[i]->config)
			out[n++] = anfu_app_modules[i]->config;
	return n;
}

/* The list is static data of this build (gen_modules.py made it, and the
 * build checked each migration sequence): what the core relies on. */
static void module_check(const struct anfu_module *m)
{
	const struct anfu_migration_set *set = m->migrations;

	ANFU_ASSERT(m->name && m->name[0]);
	for (size_t k = 0; set && k < set->n; k++)
		ANFU_ASSERT(set->migrations[k].version == (int)k + 1 &&
			    strcmp(set->migrations[k].module, set->module) == 0);
}

size_t anfu_app_schema(struct anfu_migration_set *out)
{
	size_t n = 0;

	ANFU_ASSERT(anfu_app_nmodules <= ANFU_LIMIT_MODULES);
	for (size_t i = 0; i < anfu_app_nmodules; i++) {
		module_check(anfu_app_modules[i]);
		if (anfu_app_modules[i]->migrations)
			out[n++] = *anfu_app_modules[i]->migrations;
	}
	return n;
}

int anfu_app_register_approvals(const struct anfu_module *m)
{
	if (!m)
		return ANFU_EINVAL;
	for (size_t i = 0; m->approvals && i < m->approvals->n; i++) {
		const struct anfu_approval_type *t = &m->approvals->types[i];
		int r = anfu_approval_register(t);

		if (r == ANFU_EEXIST && anfu_approval_type_find(t->name) == t)
			r = 0;
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_jobs(struct anfu_jobs *jobs, const struct anfu_module *m, void *svc)
{
	int r = 0;

	for (size_t i = 0; m->jobs && i < m->jobs->n && r == 0; i++)
		r = anfu_jobs_add_def(jobs, &m->jobs->defs[i], svc);
	return r;
}

/* Starts module i of the list, then registers its approval types and
 * jobs. */
static int start_module(struct anfu_app *app, size_t i, char *errbuf, size_t errlen)
{
	const struct anfu_module *m = app->modules[i];
	const char *step = "start";
	int r = 0;

	if (m->start)
		r = m->start(app, anfu_config_module(app->cfg, m->config), &app->services[i]);
	if (r == 0) {
		step = "register its approval types";
		r = anfu_app_register_approvals(m);
	}
	if (r == 0) {
		step = "schedule its jobs";
		r = add_jobs(app->jobs, m, app->services[i]);
	}
	if (r < 0)
		snprintf(errbuf, errlen, "module %s: cannot %s: %s", m->name, step,
			 anfu_strerror(r));
	return r;
}

int anfu_app_start_modules(struct anfu_app *app, char *errbuf, size_t errlen)
{
	int r;

	for (size_t i = 0; i < app->nmodules; i++) {
		r = start_module(app, i, errbuf, errlen);
		if (r < 0)
			return r;
		/* The session authenticator's service (api/authn.c). */
		if (app->modules[i] == &anfu_iam_module)
			app->iam = app->services[i];
	}
	return 0;
}

void anfu_app_stop_modules(struct anfu_app *app)
{
	if (!app || !app->services)
		return;
	app->iam = NULL;
	for (size_t i = app->nmodules; i-- > 0;) {
		if (app->services[i] && app->modules[i]->stop)
			app->modules[i]->stop(app->services[i]);
		app->services[i] = NULL;
	}
}

int anfu_app_start(struct anfu_app *app, char *errbuf, size_t errlen)
{
	int r;

	r = anfu_vault_open(app->keys, app->tx, &app->vault);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot open the data-key vault: %s", anfu_strerror(r));
		return r;
	}
	r = anfu_notify_new(app->cfg, app->tx, app->vault, &app->notify);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot start notifications: %s", anfu_strerror(r));
		return r;
	}
	r = anfu_jobs_new(app->tx, &app->jobs);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot make the job scheduler: %s", anfu_strerror(r));
		return r;
	}
	return anfu_app_start_modules(app, errbuf, errlen);
}

int anfu_app_run(struct anfu_app *app)
{
	int r = anfu_notify_start(app->notify);

	if (r == 0)
		r = anfu_jobs_start(app->jobs);
	return r;
}

void anfu_app_halt(struct anfu_app *app)
{
	if (!app)
		return;
	anfu_jobs_free(app->jobs);
	app->jobs = NULL;
}

void anfu_app_close(struct anfu_app *app)
{
	if (!app)
		return;
	anfu_app_halt(app);
	anfu_app_stop_modules(app);
	anfu_notify_free(app->notify);
	anfu_vault_free(app->vault);
	/* The checkpointer's last checkpoint goes through the executor. */
	anfu_audit_stop(app->audit);
	anfu_tx_exec_free(app->tx);
	anfu_audit_free(app->audit);
	anfu_store_free(app->store);
	anfu_sigkey_free(app->audit_pub);
	anfu_keys_free(app->keys);
	anfu_config_free(app->cfg);
	free(app->services);
	free(app->schema);
	free(app->data_dir);
	free(app);
}

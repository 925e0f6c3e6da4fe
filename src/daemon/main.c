/*
 * daemon/main: anfud, the server.
 *
 * The master sequence: parse arguments, block signals before any thread
 * exists, open the data directory (src/app/: config, keys, database,
 * migrations, audit), take the instance lock, start the platform and every
 * module (src/app/), start the HTTPS listeners, then wait for
 * signals: SIGHUP reopens the log files, SIGTERM/SIGINT stop gracefully
 * (in-flight requests get limits.shutdown_grace seconds). Parses nothing
 * from the network itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anfu_build.h"
#include "api/api.h"
#include "app/app.h"
#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "keys/keys.h"

/* A production build refuses simulator gateways unless the configuration
 * allows them (DESIGN.md, "simulators"); a test-hooks build runs them, since
 * its tests need them, and warns like a production build that allows them. */
#ifdef ANFU_TEST_HOOKS
#define OPEN_FLAGS ANFU_APP_MIGRATE
#define SIMULATORS_BECAUSE "test-hooks build"
#else
#define OPEN_FLAGS (ANFU_APP_MIGRATE | ANFU_APP_REFUSE_SIMULATORS)
#define SIMULATORS_BECAUSE "allowed by [server] allow_simulators = true"
#endif

struct daemon {
	struct anfu_app *app;
	struct anfu_router *router;
	struct anfu_http_server *server;
	char *tls_cert;
	char *tls_key;
	int lock_fd;
	char run_file[PATH_MAX];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: anfud [--data DIR] [--config FILE]\n"
		"\n"
		"Runs the anfu server on the data directory made by `anfu init`.\n"
		"  --data DIR     data directory (default %s)\n"
		"  --config FILE  configuration file (default DIR/anfu.conf)\n"
		"  --version      print the version and exit\n"
		"  --help         this text\n"
		"Signals: SIGTERM/SIGINT stop gracefully, SIGHUP reopens log files.\n",
		ANFU_DEFAULT_DATA_DIR);
}

/* Creates the parent directory of a file path with mode 0700 if missing. */
static int make_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (anfu_strlcpy(dir, path, sizeof(dir)) < 0)
		return ANFU_ELIMIT;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ANFU_EIO;
	return 0;
}

static int open_logs(const struct anfu_config *cfg)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	enum anfu_log_level level = ANFU_LOG_INFO;

	for (int i = 0; i < 4; i++)
		if (strcmp(cfg->log.level, names[i]) == 0)
			level = (enum anfu_log_level)i;
	if (make_parent(cfg->log.app) < 0 || make_parent(cfg->log.access) < 0)
		return ANFU_EIO;
	return anfu_log_open(cfg->log.app, cfg->log.access, level);
}

/* One anfud per data directory: an exclusive lock on DATA/run/anfud.lock. */
static int take_lock(struct daemon *d)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/run/anfud.lock", d->app->data_dir);
	if (make_parent(path) < 0)
		return ANFU_EIO;
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return ANFU_EIO;
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0)
		return ANFU_EBUSY;
	return 0;
}

/* DATA/run/anfud.json: pid and bound ports, for scripts and tests. */
static int write_run_file(struct daemon *d)
{
	char tmp[PATH_MAX + 8];
	FILE *f;

	snprintf(d->run_file, sizeof(d->run_file), "%s/run/anfud.json", d->app->data_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->run_file);
	f = fopen(tmp, "w");
	if (!f)
		return ANFU_EIO;
	fprintf(f, "{\"pid\":%ld,\"port\":%d,\"admin_port\":%d}\n", (long)getpid(),
		anfu_http_port(d->server, false), anfu_http_port(d->server, true));
	if (fclose(f) != 0 || rename(tmp, d->run_file) != 0)
		return ANFU_EIO;
	return 0;
}

/* One warning per simulator gateway, on stderr and in the log (the log
 * must be open). */
static void warn_simulators(const struct anfu_config *cfg)
{
	const char *names[4];
	size_t n = anfu_config_simulators(cfg, names, sizeof(names) / sizeof(names[0]));

	for (size_t i = 0; i < n && i < sizeof(names) / sizeof(names[0]); i++) {
		fprintf(stderr,
			"anfud: warning: %s = simulator (%s): nothing is sent; every code and "
			"phone number is written in clear to %s. Never use it in production.\n",
			names[i], SIMULATORS_BECAUSE, cfg->sms.outbox);
		anfu_log_warn("server.simulator",
			      "%s = simulator (%s): messages are written in clear to %s", names[i],
			      SIMULATORS_BECAUSE, cfg->sms.outbox);
	}
}

static int audit_start_events(struct daemon *d, const char *config_path)
{
	const struct anfu_config *cfg = d->app->cfg;
	json_t *det = json_pack("{s:s,s:s,s:s}", "path", config_path, "level",
				cfg->level == ANFU_LEVEL_ENHANCED ? "enhanced" : "basic", "crypto",
				cfg->crypto == ANFU_CRYPTO_GM ? "gm" : "intl");
	int r = anfu_app_audit(d->app, "config.loaded", "config", "anfu.conf", det);

	json_decref(det);
	if (r < 0)
		return r;
	det = json_pack("{s:s,s:i}", "version", ANFU_VERSION, "pid", (int)getpid());
	r = anfu_app_audit(d->app, "server.start", "server", "anfud", det);
	json_decref(det);
	return r;
}

static int start_http(struct daemon *d)
{
	struct anfu_http_opts o = { 0 };
	char why[512] = "";
	int r;

	r = anfu_keys_tls_load(d->app->cfg->http.tls_cert, d->app->cfg->http.tls_key, &d->tls_cert,
			       &d->tls_key);
	if (r < 0) {
		fprintf(stderr, "anfud: cannot read the TLS certificate or key: %s\n",
			anfu_strerror(r));
		return r;
	}
	d->router = anfu_router_new();
	r = anfu_app_register_routes(d->router);
	if (r < 0) {
		fprintf(stderr, "anfud: route registration failed: %s\n", anfu_strerror(r));
		return r;
	}
	d->app->started_ms = anfu_clock_now_ms();
	o.cfg = d->app->cfg;
	o.tls_cert_pem = d->tls_cert;
	o.tls_key_pem = d->tls_key;
	o.app = d->app;
	o.auth[ANFU_ACCESS_SESSION] = anfu_api_auth_session;
	o.auth[ANFU_ACCESS_ADMIN] = anfu_api_auth_admin;
	o.on_refusal = anfu_api_on_refusal;
	o.errbuf = why;
	o.errlen = sizeof(why);
	r = anfu_http_start(&o, d->router, &d->server);
	if (r < 0) {
		if (why[0])
			fprintf(stderr, "anfud: cannot start the HTTPS listeners: %s\n", why);
		else
			fprintf(stderr, "anfud: cannot start the HTTPS listeners on %s:%lld: %s\n",
				d->app->cfg->http.listen, (long long)d->app->cfg->http.port,
				anfu_strerror(r));
		return r;
	}
	d->app->server = d->server;
	return 0;
}

/* Services and background work: the platform, every module, jobs. */
static int start_services(struct daemon *d)
{
	char err[512] = "";
	int r = anfu_app_start(d->app, err, sizeof(err));

	if (r == 0)
		r = anfu_app_run(d->app);
	if (r < 0)
		fprintf(stderr, "anfud: %s\n", err[0] ? err : "cannot start background jobs");
	return r;
}

/* Waits for signals until asked to stop. */
static void serve(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (anfu_log_reopen() < 0)
				anfu_log_error("log.reopen_failed", "cannot reopen log files");
			else
				anfu_log_info("log.reopened", "log files reopened");
			continue;
		}
		anfu_log_info("server.stopping", "signal %d: stopping", sig);
		return;
	}
}

static void shutdown_daemon(struct daemon *d)
{
	int r;

	if (d->server) {
		anfu_http_stop(d->server, (int)d->app->cfg->limits.shutdown_grace_s);
		d->server = NULL;
		d->app->server = NULL;
		r = anfu_app_audit(d->app, "server.stop", "server", "anfud", NULL);
		/* An append failure was logged by the executor. */
		if (r < 0 && r != ANFU_EAUDIT)
			anfu_log_error("audit.stop_failed", "could not audit the stop: %s",
				       anfu_strerror(r));
	}
	/* Jobs and deliveries use the database: stop them before it closes. */
	anfu_app_halt(d->app);
	if (d->app && d->app->audit)
		anfu_audit_stop(d->app->audit);
	if (d->run_file[0])
		(void)unlink(d->run_file);
	anfu_router_free(d->router);
	anfu_free_secret(d->tls_key);
	free(d->tls_cert);
	anfu_app_close(d->app);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	anfu_log_close();
}

static int parse_args(int argc, char **argv, const char **data, const char **config)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "d:c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd': *data = optarg; break;
		case 'c': *config = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("anfud %s\n", ANFU_VERSION); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon d = { .lock_fd = -1 };
	const char *data = getenv("ANFU_DATA") ? getenv("ANFU_DATA") : ANFU_DEFAULT_DATA_DIR;
	const char *config = NULL;
	char err[512] = "";
	sigset_t set;
	int r;

	r = parse_args(argc, argv, &data, &config);
	if (r != 0)
		return r;
	/* Block the signals before any thread exists so that only sigwait()
	 * in the main thread sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	umask(077);

	if (anfu_crypto_init() < 0) {
		fprintf(stderr, "anfud: cryptographic libraries failed to initialise\n");
		return 1;
	}
	r = anfu_app_open(data, config, OPEN_FLAGS, &d.app, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "anfud: %s\n", err);
		return 1;
	}
	if (open_logs(d.app->cfg) < 0) {
		fprintf(stderr, "anfud: cannot open the log files %s, %s\n", d.app->cfg->log.app,
			d.app->cfg->log.access);
		goto fail;
	}
	warn_simulators(d.app->cfg);
	if ((r = take_lock(&d)) < 0) {
		fprintf(stderr, "anfud: %s\n",
			r == ANFU_EBUSY ? "another anfud is running on this data directory"
					: "cannot create the lock file");
		goto fail;
	}
	if (audit_start_events(&d, config ? config : "anfu.conf") < 0) {
		fprintf(stderr, "anfud: cannot write the audit log: refusing to start\n");
		goto fail;
	}
	if (anfu_audit_start(d.app->audit, d.app->store) < 0 || start_services(&d) < 0 ||
	    start_http(&d) < 0)
		goto fail;
	if (write_run_file(&d) < 0)
		anfu_log_warn("server.run_file", "cannot write %s", d.run_file);
	anfu_log_info("server.listening", "listening on %s:%d (admin %d)", d.app->cfg->http.listen,
		      anfu_http_port(d.server, false), anfu_http_port(d.server, true));
	fprintf(stderr, "anfud: listening on https://%s:%d/\n", d.app->cfg->http.listen,
		anfu_http_port(d.server, false));
	serve();
	shutdown_daemon(&d);
	return 0;
fail:
	shutdown_daemon(&d);
	return 1;
}

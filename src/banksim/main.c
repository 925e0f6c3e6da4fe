/*
 * banksim/main: anfu-banksim, the simulator bank: a separate process with
 * its own data directory (TLS certificate, signing key "banksim", SQLite
 * file), its own HTTPS listener (src/http), the bank API anfud's
 * simulator connector calls (every request signed by anfud's
 * "bank-client" key, checked here with timestamp and nonce), the control
 * API tests and `make run` use (/sim/v1/..., loopback only), and signed
 * result callbacks to anfud (docs/bank.md).
 *
 * Development and tests only: a production anfud refuses its connector
 * unless [server] allow_simulators = true. Trusts nothing from the
 * network; the control API trusts whoever reaches the loopback listener.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bank/bank.h"
#include "banksim/sim.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "keys/keys.h"

/* A request's timestamp may differ from the simulator's clock by this. */
#define WINDOW_MS (300LL * 1000)
#define SETTLE_TICK_US 200000

static struct sim sim;
static volatile sig_atomic_t stopping;

static void usage(FILE *f)
{
	fprintf(f, "usage: anfu-banksim --data DIR [--port N] [--bank-id ID] [--delay-ms N]\n"
		   "                    [--hang-ms N] [--peer-url URL --peer-ca FILE --peer-key "
		   "FILE]\n"
		   "The simulator bank (development and tests only; docs/bank.md).\n"
		   "  --delay-ms N  settle payments N ms after they arrive (0: only when\n"
		   "                POST /sim/v1/settle says so; default 0)\n"
		   "  --hang-ms N   how late a \"timeout\" request is answered (default 3000)\n");
}

/* ---- signature check of anfud's requests ------------------------------ */

static int verify_request(struct anfu_req *req)
{
	const char *ts = anfu_req_header(req, ANFU_BANK_H_TIMESTAMP);
	const char *nonce = anfu_req_header(req, ANFU_BANK_H_NONCE);
	const char *sig64 = anfu_req_header(req, ANFU_BANK_H_SIGNATURE);
	struct anfu_sigkey *peer = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0, len = 0;
	char *bytes = NULL;
	long long t = 0;
	int r;

	if (!ts || !nonce || !sig64 || anfu_parse_i64((struct anfu_str){ ts, strlen(ts) }, &t) < 0)
		return anfu_req_fail(req, ANFU_EAUTH, ANFU_R_BANK_SIGNATURE_INVALID, NULL);
	r = sim_peer_key(&sim, &peer);
	if (r < 0)
		return anfu_req_fail(req, ANFU_EAUTH, ANFU_R_BANK_SIGNATURE_INVALID, NULL);
	r = anfu_base64_decode(sig64, strlen(sig64), &sig, &siglen);
	if (r == 0)
		r = anfu_bank_wire_signed_bytes(req->method, req->path, t, nonce,
						req->body ? req->body : "", req->body_len, &bytes,
						&len);
	if (r == 0)
		r = anfu_verify(peer, bytes, len, sig, siglen);
	free(bytes);
	free(sig);
	if (r < 0)
		return anfu_req_fail(req, ANFU_EAUTH, ANFU_R_BANK_SIGNATURE_INVALID, NULL);
	if (t < sim_now_ms(&sim) - WINDOW_MS || t > sim_now_ms(&sim) + WINDOW_MS ||
	    sim_nonce(&sim, nonce, t) < 0)
		return anfu_req_fail(req, ANFU_ECONFLICT, ANFU_R_BANK_REPLAYED, NULL);
	return 0;
}

static json_t *body_json(struct anfu_req *req)
{
	json_t *in;

	if (!req->body || req->body_len > ANFU_LIMIT_BANK_BODY_BYTES)
		return NULL;
	in = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (in && !json_is_object(in)) {
		json_decref(in);
		in = NULL;
	}
	return in;
}

/* Status from a sim_* call into resp (a negative code is an error). */
static int reply(struct anfu_req *req, struct anfu_resp *resp, int status, json_t *out)
{
	if (status < 0) {
		json_decref(out);
		return status;
	}
	if (status >= 400) {
		json_decref(out);
		return anfu_req_fail(req, status == 404 ? ANFU_ENOTFOUND : ANFU_EINVAL,
				     status == 404 ? ANFU_R_NOT_FOUND : ANFU_R_INVALID_REQUEST,
				     NULL);
	}
	resp->status = status;
	resp->body = out ? out : json_object();
	return 0;
}

typedef int (*json_op)(struct sim *s, json_t *in, json_t **ret);

/* op on the request's JSON body, its answer the reply. */
static int body_op(struct anfu_req *req, struct anfu_resp *resp, json_op op)
{
	json_t *in = body_json(req), *out = NULL;
	int r;

	if (!in)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_JSON, NULL);
	r = op(&sim, in, &out);
	json_decref(in);
	return reply(req, resp, r, out);
}

/* The bank API's: body_op on a request anfud signed. */
static int signed_json(struct anfu_req *req, struct anfu_resp *resp, json_op op)
{
	int r = verify_request(req);

	if (r < 0)
		return r;
	return body_op(req, resp, op);
}

static int h_verify(struct anfu_req *req, struct anfu_resp *resp)
{
	return signed_json(req, resp, sim_card_verify);
}

static int h_confirm(struct anfu_req *req, struct anfu_resp *resp)
{
	return signed_json(req, resp, sim_card_confirm);
}

static int payment(struct anfu_req *req, struct anfu_resp *resp, const char *kind)
{
	json_t *in, *out = NULL;
	bool hang = false;
	int r = verify_request(req);

	if (r < 0)
		return r;
	in = body_json(req);
	if (!in)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_JSON, NULL);
	r = sim_payment(&sim, kind, in, &out, &hang);
	json_decref(in);
	if (hang)
		(void)usleep((useconds_t)(sim.hang_ms * 1000)); /* "timeout": answer too late */
	return reply(req, resp, r, out);
}

static int h_debit(struct anfu_req *req, struct anfu_resp *resp)
{
	return payment(req, resp, "debit");
}

static int h_credit(struct anfu_req *req, struct anfu_resp *resp)
{
	return payment(req, resp, "credit");
}

static int param(struct anfu_req *req, const char *name, char *out, size_t cap)
{
	struct anfu_str v = anfu_req_param(req, name);

	if (!v.ptr || v.len == 0 || v.len >= cap)
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_NOT_FOUND, NULL);
	memcpy(out, v.ptr, v.len);
	out[v.len] = '\0';
	return 0;
}

/* GET /sim/v1/payments/{serial} (control API), and the bank API's
 * status query once its signature is checked. */
static int h_payment(struct anfu_req *req, struct anfu_resp *resp)
{
	char serial[ANFU_BANK_SERIAL_MAX];
	json_t *out = NULL;
	int r = param(req, "serial", serial, sizeof(serial));

	if (r < 0)
		return r;
	r = sim_payment_status(&sim, serial, &out);
	return reply(req, resp, r, out);
}

static int h_status(struct anfu_req *req, struct anfu_resp *resp)
{
	int r = verify_request(req);

	if (r < 0)
		return r;
	return h_payment(req, resp);
}

static int h_statement(struct anfu_req *req, struct anfu_resp *resp)
{
	char day[16];
	json_t *out = NULL;
	int r = verify_request(req);

	if (r == 0)
		r = param(req, "day", day, sizeof(day));
	if (r < 0)
		return r;
	r = sim_statement(&sim, day, &out);
	return reply(req, resp, r, out);
}

/* ---- control API ----------------------------------------------------------- */

static int h_add_card(struct anfu_req *req, struct anfu_resp *resp)
{
	return body_op(req, resp, sim_add_card);
}

static int h_behaviour(struct anfu_req *req, struct anfu_resp *resp)
{
	return body_op(req, resp, sim_set_behaviour);
}

static int h_sms(struct anfu_req *req, struct anfu_resp *resp)
{
	json_t *out = NULL;
	int r = sim_sms(&sim, anfu_req_query(req, "phone"), &out);

	return reply(req, resp, r, out);
}

static int h_settle(struct anfu_req *req, struct anfu_resp *resp)
{
	json_t *in = req->body_len ? body_json(req) : json_object(), *out = NULL;
	int r;

	if (!in)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_JSON, NULL);
	r = sim_settle(&sim, json_string_value(json_object_get(in, "serial")),
		       json_is_true(json_object_get(in, "late")), false, &out);
	json_decref(in);
	return reply(req, resp, r, out);
}

static int h_peer(struct anfu_req *req, struct anfu_resp *resp)
{
	json_t *in = body_json(req);
	int r;

	if (!in)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_JSON, NULL);
	r = sim_set_peer(&sim, json_string_value(json_object_get(in, "url")),
			 json_string_value(json_object_get(in, "ca_file")),
			 json_string_value(json_object_get(in, "public_key")));
	json_decref(in);
	return reply(req, resp, r < 0 ? 400 : 200, NULL);
}

#ifdef ANFU_TEST_HOOKS
/* Moves the simulator's clock with anfud's (tests). */
static int h_clock(struct anfu_req *req, struct anfu_resp *resp)
{
	json_t *in = body_json(req);
	json_t *adv = json_object_get(in, "advance_ms");

	if (!json_is_integer(adv)) {
		json_decref(in);
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_R_INVALID_REQUEST, NULL);
	}
	anfu_clock_advance_ms(json_integer_value(adv));
	json_decref(in);
	return reply(req, resp, 200, json_pack("{s:I}", "now_ms", (json_int_t)sim_now_ms(&sim)));
}
#endif

#define PUB ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC
static const struct anfu_route routes[] = {
	{ "POST", "/bank/v1/cards/verify", PUB, h_verify, 0 },
	{ "POST", "/bank/v1/cards/confirm", PUB, h_confirm, 0 },
	{ "POST", "/bank/v1/debits", PUB, h_debit, 0 },
	{ "POST", "/bank/v1/credits", PUB, h_credit, 0 },
	{ "GET", "/bank/v1/payments/{serial}", PUB, h_status, 0 },
	{ "GET", "/bank/v1/statements/{day}", PUB, h_statement, 0 },
	{ "POST", "/sim/v1/cards", PUB, h_add_card, 0 },
	{ "POST", "/sim/v1/behaviour", PUB, h_behaviour, 0 },
	{ "GET", "/sim/v1/sms", PUB, h_sms, 0 },
	{ "POST", "/sim/v1/settle", PUB, h_settle, 0 },
	{ "POST", "/sim/v1/peer", PUB, h_peer, 0 },
	{ "GET", "/sim/v1/payments/{serial}", PUB, h_payment, 0 },
#ifdef ANFU_TEST_HOOKS
	{ "POST", "/sim/v1/clock", PUB, h_clock, 0 },
#endif
};

/* ---- process ------------------------------------------------------------- */

static void *settler(void *ud)
{
	(void)ud;
	while (!stopping) {
		json_t *out = NULL;

		(void)usleep(SETTLE_TICK_US);
		if (sim_settle(&sim, NULL, true, true, &out) == 200)
			json_decref(out);
	}
	return NULL;
}

static int write_run_file(const char *dir, int port)
{
	char path[4096], tmp[4200];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/run", dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return ANFU_EIO;
	(void)snprintf(path, sizeof(path), "%s/run/banksim.json", dir);
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return ANFU_EIO;
	fprintf(f,
		"{\"pid\":%ld,\"port\":%d,\"bank_id\":\"%s\",\"cert\":\"%s/tls/server.crt\","
		"\"public_key\":\"%s/keys/banksim.pub\"}\n",
		(long)getpid(), port, sim.bank_id, dir, dir);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return ANFU_EIO;
	return 0;
}

struct args {
	const char *dir, *peer_url, *peer_ca, *peer_key, *bank_id;
	long port;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "bank-id", required_argument, NULL, 'b' },
		{ "delay-ms", required_argument, NULL, 'D' },
		{ "hang-ms", required_argument, NULL, 'H' },
		{ "peer-url", required_argument, NULL, 'u' },
		{ "peer-ca", required_argument, NULL, 'c' },
		{ "peer-key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->dir = optarg; break;
		case 'p': a->port = strtol(optarg, NULL, 10); break;
		case 'b': a->bank_id = optarg; break;
		case 'D': sim.delay_ms = strtoll(optarg, NULL, 10); break;
		case 'H': sim.hang_ms = strtoll(optarg, NULL, 10); break;
		case 'u': a->peer_url = optarg; break;
		case 'c': a->peer_ca = optarg; break;
		case 'k': a->peer_key = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return ANFU_EINVAL;
		}
	}
	if (!a->dir || a->port < 0 || a->port > 65535 || strlen(a->bank_id) >= sizeof(sim.bank_id))
		return ANFU_EINVAL;
	return 0;
}

static int start(const struct args *a, struct anfu_config **cfg, struct anfu_router **router,
		 struct anfu_http_server **server, char **cert, char **key)
{
	char text[256], cpath[4096], kpath[4096], why[256] = "";
	struct anfu_http_opts o = { 0 };
	int r;

	(void)snprintf(text, sizeof(text),
		       "[http]\nlisten = 127.0.0.1\nport = %ld\nthreads = 4\n[admin]\nenabled = "
		       "false\n[limits]\nrate_per_ip = 100000\nrate_burst = 100000\n",
		       a->port);
	r = anfu_config_load_text(text, strlen(text), "banksim", a->dir, NULL, 0, cfg, why,
				  sizeof(why));
	if (r == 0)
		r = anfu_keys_tls_default_paths(a->dir, cpath, sizeof(cpath), kpath, sizeof(kpath));
	if (r == 0)
		r = anfu_keys_tls_load(cpath, kpath, cert, key);
	*router = anfu_router_new();
	if (r == 0)
		r = anfu_router_add_all(*router, routes, sizeof(routes) / sizeof(routes[0]));
	if (r < 0) {
		fprintf(stderr, "anfu-banksim: cannot start: %s %s\n", anfu_strerror(r), why);
		return r;
	}
	o.cfg = *cfg;
	o.tls_cert_pem = *cert;
	o.tls_key_pem = *key;
	o.errbuf = why;
	o.errlen = sizeof(why);
	r = anfu_http_start(&o, *router, server);
	if (r < 0)
		fprintf(stderr, "anfu-banksim: cannot listen: %s %s\n", anfu_strerror(r), why);
	return r;
}

int main(int argc, char **argv)
{
	struct args a = { .bank_id = "sim" };
	struct anfu_config *cfg = NULL;
	struct anfu_router *router = NULL;
	struct anfu_http_server *server = NULL;
	struct anfu_keys_made made;
	char *cert = NULL, *key = NULL, logpath[4096];
	pthread_t settle_thread;
	bool settling = false;
	sigset_t set;
	int sig = 0, r;

	sim.hang_ms = 3000;
	if (parse_args(argc, argv, &a) < 0) {
		usage(stderr);
		return 2;
	}
	(void)anfu_strlcpy(sim.bank_id, a.bank_id, sizeof(sim.bank_id));
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	(void)pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (anfu_crypto_init() < 0 || (mkdir(a.dir, 0700) != 0 && errno != EEXIST))
		return 1;
	(void)snprintf(logpath, sizeof(logpath), "%s/banksim.log", a.dir);
	(void)anfu_log_open(logpath, "/dev/null", ANFU_LOG_INFO);
	r = anfu_keys_init_dir(a.dir, ANFU_CRYPTO_INTL, &made);
	if (r == 0)
		r = anfu_keys_named_open(a.dir, "banksim", ANFU_SIG_ED25519, &sim.key);
	if (r == 0)
		r = sim_open(&sim, a.dir);
	if (r == 0 && a.peer_url && a.peer_ca && a.peer_key)
		r = sim_set_peer(&sim, a.peer_url, a.peer_ca, a.peer_key);
	if (r == 0)
		r = start(&a, &cfg, &router, &server, &cert, &key);
	if (r == 0)
		r = write_run_file(a.dir, anfu_http_port(server, false));
	if (r == 0 && sim.delay_ms > 0)
		settling = pthread_create(&settle_thread, NULL, settler, NULL) == 0;
	if (r < 0)
		fprintf(stderr, "anfu-banksim: %s\n", anfu_strerror(r));
	while (r == 0 && sigwait(&set, &sig) != 0)
		;
	stopping = 1;
	if (settling)
		(void)pthread_join(settle_thread, NULL);
	anfu_http_stop(server, 5);
	anfu_router_free(router);
	free(cert);
	anfu_free_secret(key);
	anfu_config_free(cfg);
	anfu_keys_named_free(sim.key);
	sim_close(&sim);
	return r == 0 ? 0 : 1;
}

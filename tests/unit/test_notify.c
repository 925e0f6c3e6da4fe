/*
 * tests/unit/test_notify: queued SMS and email with retries (src/notify/).
 *
 * Each test gets a fresh data directory with real keys, a migrated store,
 * a vault and a configuration read from INI text, with the injectable
 * clock frozen so retry times are exact. Email goes to a real SMTP sink:
 * Debian's aiosmtpd started from this test (/usr/bin/python3), whose
 * handler parses each message with Python's email package and writes what
 * it decoded as one JSON line, so the test checks what a mail reader sees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/hist.h"
#include "base/limits.h"
#include "base/str.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "notify/internal.h"
#include "notify/notify.h"
#include "store/store.h"
#include "tx/tx.h"
#include "vault/vault.h"

#include "fixture.h"

#define PHONE "13812345678"
#define EMAIL "zhang.sanfeng@example.cn"
#define USER "usr_4kQm2yXz9bT7wLcVr3Jd0a"

struct fix {
	struct anfu_fixture *fx; /* keys, store, vault; cfg and notify from configure() */
	char outbox[160];
	pid_t sink;
	char sink_out[160];
};

/* (Re)creates the notifier with a configuration whose relay is url. */
static void configure(struct fix *f, const char *url)
{
	char ini[512], err[256];
	int len;

	anfu_notify_free(f->fx->notify);
	f->fx->notify = NULL;
	anfu_config_free(f->fx->cfg);
	f->fx->cfg = NULL;
	len = snprintf(ini, sizeof(ini),
		       "[mail]\nsmtp_url = %s\nfrom = anfu@example.cn\ntimeout = 5\n"
		       "[sms]\noutbox = %s\n"
		       "[notify]\nmax_attempts = 4\nretry_base = 5\n",
		       url, f->outbox);
	assert_true(len > 0 && (size_t)len < sizeof(ini));
	assert_int_equal(anfu_config_load_text(ini, (size_t)len, "test.ini", f->fx->dir, NULL, 0,
					       &f->fx->cfg, err, sizeof(err)),
			 0);
	assert_int_equal(anfu_notify_new(f->fx->cfg, f->fx->tx, f->fx->vault, &f->fx->notify), 0);
}

static int setup(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "notify" };
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(fixture_open(FIXTURE_VAULT, &opts, &f->fx), 0);
	(void)snprintf(f->outbox, sizeof(f->outbox), "%s/notify/sms-outbox.jsonl", f->fx->dir);
	configure(f, "smtp://127.0.0.1:1");
	anfu_clock_freeze(1);
	*state = f;
	return 0;
}

static void sink_stop(struct fix *f)
{
	if (f->sink > 0) {
		(void)kill(f->sink, SIGTERM);
		(void)waitpid(f->sink, NULL, 0);
		f->sink = 0;
	}
}

static int teardown(void **state)
{
	struct fix *f = *state;

	sink_stop(f);
	fixture_close(f->fx);
	free(f);
	anfu_clock_reset();
	return 0;
}

/* ---- helpers --------------------------------------------------------------- */

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/* n messages queued in one transaction of the executor, which then ends
 * with refuse (0: it commits). */
struct enqueue {
	struct fix *f;
	enum anfu_channel ch;
	const char *user, *target, *kind, *subject, *body;
	int n;
	int refuse;
};

static int enqueue_tx(struct anfu_tx *tx, void *ud)
{
	const struct enqueue *e = ud;
	int r = 0;

	for (int i = 0; i < e->n && r == 0; i++)
		r = anfu_notify_enqueue(e->f->fx->notify, tx, e->ch, e->user, e->target, e->kind,
					e->subject, e->body);
	return r == 0 ? e->refuse : r;
}

static int enqueue_committed(struct fix *f, enum anfu_channel ch, const char *target,
			     const char *kind, const char *subject, const char *body)
{
	struct enqueue e = { f, ch, USER, target, kind, subject, body, 1, 0 };

	return anfu_tx_run(f->fx->tx, NULL, enqueue_tx, &e);
}

static bool woken(struct fix *f)
{
	bool w;

	(void)pthread_mutex_lock(&f->fx->notify->mu);
	w = f->fx->notify->wake;
	(void)pthread_mutex_unlock(&f->fx->notify->mu);
	return w;
}

static int64_t count_sql(struct fix *f, const char *where)
{
	char sql[256];

	(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM notify_message WHERE %s", where);
	return fixture_count(f->fx->db, sql, NULL);
}

static char *read_file(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0;

	if (!fp)
		return NULL;
	for (;;) {
		size_t got;

		if (n + 1 >= cap) {
			cap = cap ? 2 * cap : 4096;
			data = realloc(data, cap);
			assert_non_null(data);
		}
		got = fread(data + n, 1, cap - n - 1, fp);
		if (got == 0)
			break;
		n += got;
	}
	(void)fclose(fp);
	data[n] = '\0';
	if (ret_len)
		*ret_len = n;
	return data;
}

/* The lines of a JSON-lines file, parsed. */
static json_t *read_jsonl(const char *path)
{
	json_t *arr = json_array();
	char *data = read_file(path, NULL);
	char *line = data;

	while (line && *line) {
		char *nl = strchr(line, '\n');
		json_error_t e;
		json_t *j;

		assert_non_null(nl); /* every line is complete */
		*nl = '\0';
		j = json_loads(line, 0, &e);
		assert_non_null(j);
		json_array_append_new(arr, j);
		line = nl + 1;
	}
	free(data);
	return arr;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

/* A TCP port on 127.0.0.1 with nothing listening: bound, then released. */
static int closed_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	(void)close(fd);
	return port;
}

/* ---- the SMTP sink ----------------------------------------------------------- */

static const char sink_py[] =
	"import asyncio, email, email.policy, json, os, sys\n"
	"from aiosmtpd.smtp import SMTP\n"
	"out, portfile = sys.argv[1], sys.argv[2]\n"
	"class Handler:\n"
	"    async def handle_DATA(self, server, session, envelope):\n"
	"        raw = envelope.original_content\n"
	"        m = email.message_from_bytes(raw, policy=email.policy.default)\n"
	"        rec = {'mail_from': envelope.mail_from,\n"
	"               'rcpt_tos': envelope.rcpt_tos,\n"
	"               'subject': str(m['subject']),\n"
	"               'body': m.get_content().replace('\\r\\n', '\\n'),\n"
	"               'headers': sorted(m.keys()),\n"
	"               'content_type': m.get_content_type(),\n"
	"               'charset': m.get_content_charset(),\n"
	"               'defects': len(m.defects),\n"
	"               'ascii': all(b < 128 for b in raw),\n"
	"               'max_line': max(len(l) for l in raw.split(b'\\r\\n')),\n"
	"               'bare_lf': b'\\n' in raw.replace(b'\\r\\n', b''),\n"
	"               'raw_subject': raw.split(b'\\r\\nSubject: ', 1)[1]\n"
	"                   .split(b'\\r\\nMIME', 1)[0].decode('ascii', 'replace')}\n"
	"        with open(out, 'a', encoding='utf-8') as f:\n"
	"            f.write(json.dumps(rec, ensure_ascii=False) + '\\n')\n"
	"        return '250 OK'\n"
	"async def main():\n"
	"    loop = asyncio.get_running_loop()\n"
	"    srv = await loop.create_server(lambda: SMTP(Handler()), '127.0.0.1', 0)\n"
	"    port = srv.sockets[0].getsockname()[1]\n"
	"    with open(portfile + '.tmp', 'w') as f:\n"
	"        f.write(str(port))\n"
	"    os.rename(portfile + '.tmp', portfile)\n"
	"    await srv.serve_forever()\n"
	"asyncio.run(main())\n";

/* Starts the sink; returns its port (waits up to 10 s for it). */
static int sink_start(struct fix *f)
{
	char portfile[160];
	char *txt = NULL;

	(void)snprintf(f->sink_out, sizeof(f->sink_out), "%s/sink.jsonl", f->fx->dir);
	(void)snprintf(portfile, sizeof(portfile), "%s/sink.port", f->fx->dir);
	f->sink = fork();
	assert_true(f->sink >= 0);
	if (f->sink == 0) {
		char *argv[] = { (char *)"/usr/bin/python3",
				 (char *)"-c",
				 (char *)sink_py,
				 f->sink_out,
				 portfile,
				 NULL };

		execv(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 1000 && !txt; i++) {
		txt = read_file(portfile, NULL);
		if (!txt)
			sleep_ms(10);
	}
	assert_non_null(txt);
	{
		int port = (int)strtol(txt, NULL, 10);

		free(txt);
		assert_true(port > 0 && port < 65536);
		return port;
	}
}

/* ---- queueing ------------------------------------------------------------------- */

/* A notice exists exactly when the change it reports commits, and only
 * then is the delivery thread woken. */
static void test_enqueue_in_a_rolled_back_transaction_sends_nothing(void **state)
{
	struct fix *f = *state;
	struct enqueue e = { f,	   ANFU_CHANNEL_SMS, USER, PHONE,	  "code.login",
			     NULL, "验证码 123456",  1,	   ANFU_ECONFLICT };
	int sent = -1;

	assert_int_equal(anfu_tx_run(f->fx->tx, NULL, enqueue_tx, &e), ANFU_ECONFLICT);
	assert_false(woken(f));
	assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(count_sql(f, "1 = 1"), 0);
	assert_int_equal(access(f->outbox, F_OK), -1);
}

/* The commit of a transaction that queued messages wakes the delivery
 * thread (the notifier's post-commit hook); callers never poke it. */
static void test_commit_of_an_enqueue_wakes_the_delivery_thread(void **state)
{
	struct fix *f = *state;

	assert_false(woken(f));
	assert_int_equal(enqueue_committed(f, ANFU_CHANNEL_SMS, PHONE, "code.login", NULL, "x"), 0);
	assert_true(woken(f));
	assert_int_equal(count_sql(f, "status = 'pending'"), 1);
}

static void test_enqueue_outside_a_transaction_is_refused(void **state)
{
	struct fix *f = *state;

	assert_int_equal(anfu_notify_enqueue(f->fx->notify, NULL, ANFU_CHANNEL_SMS, USER, PHONE,
					     "code.login", NULL, "x"),
			 ANFU_EINVAL);
	assert_int_equal(count_sql(f, "1 = 1"), 0);
}

static void test_enqueue_refuses_bad_messages(void **state)
{
	struct fix *f = *state;
	char *big = malloc(ANFU_LIMIT_NOTIFY_BODY_BYTES + 2);
	char subject_max[ANFU_LIMIT_NOTIFY_SUBJECT_BYTES + 2];
	struct {
		enum anfu_channel ch;
		const char *target, *kind, *subject, *body;
	} bad[] = {
		{ ANFU_CHANNEL_SMS, "", "code.login", NULL, "x" },
		{ ANFU_CHANNEL_SMS, NULL, "code.login", NULL, "x" },
		{ ANFU_CHANNEL_SMS, "1234", "code.login", NULL, "x" },
		{ ANFU_CHANNEL_SMS, PHONE "\n", "code.login", NULL, "x" },
		{ ANFU_CHANNEL_EMAIL, "a@b.cn\r\nBcc: c@d.cn", "code.login", "s", "x" },
		{ ANFU_CHANNEL_EMAIL, EMAIL, "code.login", "s\r\nBcc: c@d.cn", "x" },
		{ ANFU_CHANNEL_EMAIL, EMAIL, "code.login", NULL, "x" },
		{ ANFU_CHANNEL_EMAIL, EMAIL, "code.login", "s", "" },
		{ ANFU_CHANNEL_EMAIL, EMAIL, "code.login", "s", "\xff\xfe" },
		{ ANFU_CHANNEL_EMAIL, EMAIL, "", "s", "x" },
		{ ANFU_CHANNEL_EMAIL, EMAIL, "Code Login", "s", "x" },
		{ ANFU_CHANNEL_EMAIL, EMAIL, "code.login", subject_max, "x" },
		{ ANFU_CHANNEL_EMAIL, EMAIL, "code.login", "s", big },
		{ (enum anfu_channel)7, EMAIL, "code.login", "s", "x" },
	};

	assert_non_null(big);
	memset(big, 'a', ANFU_LIMIT_NOTIFY_BODY_BYTES + 1);
	big[ANFU_LIMIT_NOTIFY_BODY_BYTES + 1] = '\0';
	memset(subject_max, 's', ANFU_LIMIT_NOTIFY_SUBJECT_BYTES + 1);
	subject_max[ANFU_LIMIT_NOTIFY_SUBJECT_BYTES + 1] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(enqueue_committed(f, bad[i].ch, bad[i].target, bad[i].kind,
						   bad[i].subject, bad[i].body),
				 ANFU_EINVAL);
	assert_int_equal(count_sql(f, "1 = 1"), 0);
	/* The limits themselves are accepted. */
	big[ANFU_LIMIT_NOTIFY_BODY_BYTES] = '\0';
	subject_max[ANFU_LIMIT_NOTIFY_SUBJECT_BYTES] = '\0';
	assert_int_equal(
		enqueue_committed(f, ANFU_CHANNEL_EMAIL, EMAIL, "code.login", subject_max, big), 0);
	free(big);
}

/* ---- SMS ----------------------------------------------------------------------- */

/* The SMS gateway's simulator writes to an outbox. */
static void test_sms_is_written_to_the_simulator_outbox(void **state)
{
	struct fix *f = *state;
	int64_t now = anfu_clock_now_ms();
	json_t *lines, *l;
	struct stat st;
	char dir[160];
	int sent = -1;

	assert_int_equal(enqueue_committed(f, ANFU_CHANNEL_SMS, PHONE, "code.login", NULL,
					   "【安付】验证码 482913，5分钟内有效。\"quoted\""),
			 0);
	assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
	assert_int_equal(sent, 1);
	lines = read_jsonl(f->outbox);
	assert_int_equal(json_array_size(lines), 1);
	l = json_array_get(lines, 0);
	assert_string_equal(jstr(l, "to"), PHONE);
	assert_string_equal(jstr(l, "text"), "【安付】验证码 482913，5分钟内有效。\"quoted\"");
	assert_int_equal(json_integer_value(json_object_get(l, "ts_ms")), now);
	assert_int_equal(strncmp(jstr(l, "id"), "ntf_", 4), 0);
	{
		char sql[512];

		(void)snprintf(sql, sizeof(sql),
			       "SELECT count(*) FROM notify_message WHERE id = '%s' AND "
			       "status = 'sent' AND attempts = 1 AND sent_ms = %lld "
			       "AND last_error IS NULL AND channel = 'sms' AND kind = 'code.login'",
			       jstr(l, "id"), (long long)now);
		assert_int_equal(fixture_count(f->fx->db, sql, NULL), 1);
	}
	json_decref(lines);
	assert_int_equal(stat(f->outbox, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	(void)snprintf(dir, sizeof(dir), "%s/notify", f->fx->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Sent once: a second pass finds nothing. */
	assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
	assert_int_equal(sent, 0);
}

/* Two commits a step of up to ANFU_LIMIT_NOTIFY_SEND_BATCH messages (the
 * claim and the outcomes), not two a message: 20 messages are two steps,
 * four commits, and every one is sent once and marked sent. */
static void test_a_pass_claims_and_records_messages_in_steps(void **state)
{
	struct fix *f = *state;
	struct enqueue e = {
		f, ANFU_CHANNEL_SMS, NULL, PHONE, "code.register", NULL, "code", 20, 0
	};
	uint64_t c0;
	json_t *lines;
	int sent = -1;

	_Static_assert(ANFU_LIMIT_NOTIFY_SEND_BATCH == 16, "the counts below assume 16");
	assert_int_equal(anfu_tx_run(f->fx->tx, NULL, enqueue_tx, &e), 0);
	c0 = atomic_load(&anfu_store_commit_hist.count);
	assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
	assert_int_equal(atomic_load(&anfu_store_commit_hist.count) - c0, 4);
	assert_int_equal(sent, 20);
	assert_int_equal(count_sql(f, "status = 'sent' AND attempts = 1 AND last_error IS NULL"),
			 20);
	lines = read_jsonl(f->outbox);
	assert_int_equal(json_array_size(lines), 20);
	for (size_t i = 0; i < 20; i++)
		for (size_t j = i + 1; j < 20; j++)
			assert_string_not_equal(jstr(json_array_get(lines, i), "id"),
						jstr(json_array_get(lines, j), "id"));
	json_decref(lines);
	/* Nothing left: the next pass commits nothing. */
	c0 = atomic_load(&anfu_store_commit_hist.count);
	assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(atomic_load(&anfu_store_commit_hist.count) - c0, 0);
}

struct racer {
	struct fix *f;
	int sent;
	int r;
};

static void *race_deliver(void *p)
{
	struct racer *rc = p;
	struct anfu_db *db = NULL;

	rc->r = anfu_store_db(rc->f->fx->store, &db);
	if (rc->r == 0)
		rc->r = anfu_notify_deliver_due(rc->f->fx->notify, db, &rc->sent);
	return NULL;
}

/* Concurrent passes (threads or nodes) claim each message once. */
static void test_concurrent_passes_send_each_message_once(void **state)
{
	struct fix *f = *state;
	struct enqueue e = {
		f, ANFU_CHANNEL_SMS, NULL, PHONE, "code.register", NULL, "code", 40, 0
	};
	struct racer rc[4];
	pthread_t t[4];
	json_t *lines;
	int total = 0;

	assert_int_equal(anfu_tx_run(f->fx->tx, NULL, enqueue_tx, &e), 0);
	for (int i = 0; i < 4; i++) {
		rc[i] = (struct racer){ f, 0, -1 };
		assert_int_equal(pthread_create(&t[i], NULL, race_deliver, &rc[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(rc[i].r, 0);
		total += rc[i].sent;
	}
	assert_int_equal(total, 40);
	lines = read_jsonl(f->outbox);
	assert_int_equal(json_array_size(lines), 40);
	for (size_t i = 0; i < 40; i++)
		for (size_t j = i + 1; j < 40; j++)
			assert_string_not_equal(jstr(json_array_get(lines, i), "id"),
						jstr(json_array_get(lines, j), "id"));
	json_decref(lines);
	assert_int_equal(count_sql(f, "status = 'sent' AND attempts = 1"), 40);
}

/* The thread delivers what was queued once it is poked. */
static void test_delivery_thread_sends_after_a_poke(void **state)
{
	struct fix *f = *state;
	json_t *lines = NULL;

	assert_int_equal(anfu_notify_start(f->fx->notify), 0);
	assert_int_equal(anfu_notify_start(f->fx->notify), ANFU_EINVAL);
	assert_int_equal(
		enqueue_committed(f, ANFU_CHANNEL_SMS, PHONE, "lockout", NULL, "您的账户已锁定"),
		0);
	anfu_notify_poke(f->fx->notify);
	for (int i = 0; i < 500; i++) {
		if (count_sql(f, "status = 'sent'") == 1)
			break;
		sleep_ms(10);
	}
	assert_int_equal(count_sql(f, "status = 'sent'"), 1);
	lines = read_jsonl(f->outbox);
	assert_int_equal(json_array_size(lines), 1);
	assert_string_equal(jstr(json_array_get(lines, 0), "text"), "您的账户已锁定");
	json_decref(lines);
	anfu_notify_free(f->fx->notify); /* stops the thread */
	f->fx->notify = NULL;
}

/* ---- email ----------------------------------------------------------------------- */

/* Mail goes through the configured SMTP relay. */
static void test_email_reaches_a_real_smtp_sink(void **state)
{
	struct fix *f = *state;
	const char *subject = "Anfu 安付登录验证码：请在五分钟内完成验证，切勿将验证码告诉任何人";
	const char *body = "您好，\n\n您的验证码是 482913，5 分钟内有效。\n.\n安付 Anfu";
	char url[64];
	json_t *lines, *m, *h;
	int sent = -1;

	(void)snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", sink_start(f));
	configure(f, url);
	assert_int_equal(
		enqueue_committed(f, ANFU_CHANNEL_EMAIL, EMAIL, "code.login", subject, body), 0);
	assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
	assert_int_equal(sent, 1);
	lines = read_jsonl(f->sink_out);
	assert_int_equal(json_array_size(lines), 1);
	m = json_array_get(lines, 0);
	assert_string_equal(jstr(m, "mail_from"), "anfu@example.cn");
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "rcpt_tos"), 0)),
			    EMAIL);
	assert_string_equal(jstr(m, "subject"), subject);
	assert_string_equal(jstr(m, "body"), body);
	assert_string_equal(jstr(m, "content_type"), "text/plain");
	assert_string_equal(jstr(m, "charset"), "utf-8");
	assert_int_equal(json_integer_value(json_object_get(m, "defects")), 0);
	assert_true(json_is_true(json_object_get(m, "ascii")));
	assert_false(json_is_true(json_object_get(m, "bare_lf")));
	assert_true(json_integer_value(json_object_get(m, "max_line")) <= 78);
	h = json_object_get(m, "headers");
	{
		static const char *const want[] = { "Date",	    "From",
						    "To",	    "Subject",
						    "Message-ID",   "MIME-Version",
						    "Content-Type", "Content-Transfer-Encoding" };

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			bool found = false;

			for (size_t k = 0; k < json_array_size(h); k++)
				found |= strcmp(json_string_value(json_array_get(h, k)), want[i]) ==
					 0;
			assert_true(found);
		}
	}
	assert_non_null(strstr(jstr(m, "raw_subject"), "=?UTF-8?B?"));
	json_decref(lines);
	assert_int_equal(count_sql(f, "status = 'sent' AND channel = 'email'"), 1);
}

/* A notice that cannot be delivered is retried. */
static void test_refusing_relay_retries_with_doubling_delays_then_fails(void **state)
{
	struct fix *f = *state;
	static const int64_t delay_s[] = { 5, 10, 20 };
	char url[64];
	int sent = -1;

	(void)snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", closed_port());
	configure(f, url);
	assert_int_equal(enqueue_committed(f, ANFU_CHANNEL_EMAIL, EMAIL, "new_device", "New device",
					   "A new device signed in."),
			 0);
	for (int attempt = 1; attempt <= 3; attempt++) {
		char where[160];
		int64_t due = anfu_clock_now_ms() + delay_s[attempt - 1] * 1000;

		assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
		assert_int_equal(sent, 0);
		(void)snprintf(where, sizeof(where),
			       "status = 'pending' AND attempts = %d AND next_attempt_ms = %lld "
			       "AND last_error IS NOT NULL",
			       attempt, (long long)due);
		assert_int_equal(count_sql(f, where), 1);
		/* Not due a millisecond early: nothing is tried. */
		anfu_clock_advance_ms(delay_s[attempt - 1] * 1000 - 1);
		assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
		assert_int_equal(count_sql(f, where), 1);
		anfu_clock_advance_ms(1);
	}
	assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(count_sql(f, "status = 'failed' AND attempts = 4"), 1);
	/* Failed is final. */
	anfu_clock_advance_ms(7LL * 24 * 3600 * 1000);
	assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
	assert_int_equal(count_sql(f, "status = 'failed' AND attempts = 4"), 1);
}

static void test_retry_delays_double_up_to_a_cap(void **state)
{
	(void)state;
	assert_int_equal(notify_retry_delay_ms(5, 1), 5000);
	assert_int_equal(notify_retry_delay_ms(5, 2), 10000);
	assert_int_equal(notify_retry_delay_ms(5, 3), 20000);
	assert_int_equal(notify_retry_delay_ms(5, 8), 640000);
	assert_int_equal(notify_retry_delay_ms(3600, 50), ANFU_LIMIT_NOTIFY_RETRY_CAP_MS);
	assert_int_equal(notify_retry_delay_ms(INT64_MAX, 1), ANFU_LIMIT_NOTIFY_RETRY_CAP_MS);
}

/* The delivery thread's passes start at once after a quiet spell of the
 * gap or more (and before any pass), else the gap after the last start:
 * pokes within the gap wait and join one pass. */
static void test_passes_keep_the_gap_between_their_starts(void **state)
{
	const int64_t g = ANFU_LIMIT_NOTIFY_PASS_GAP_MS, t = 1000000;

	(void)state;
	assert_int_equal(notify_pass_due_ms(0, t), t);
	assert_int_equal(notify_pass_due_ms(t, t), t + g);
	assert_int_equal(notify_pass_due_ms(t, t + 1), t + g);
	assert_int_equal(notify_pass_due_ms(t, t + g - 1), t + g);
	assert_int_equal(notify_pass_due_ms(t, t + g), t + g);
	assert_int_equal(notify_pass_due_ms(t, t + g + 1), t + g + 1);
	assert_int_equal(notify_pass_due_ms(t, t + 10 * g), t + 10 * g);
}

/* A message whose texts were swapped with another row's cannot be opened
 * and is failed at once rather than retried. */
static void test_tampered_message_fails_without_retries(void **state)
{
	struct fix *f = *state;
	int sent = -1;

	assert_int_equal(enqueue_committed(f, ANFU_CHANNEL_SMS, PHONE, "code.login", NULL, "a"), 0);
	assert_int_equal(enqueue_committed(f, ANFU_CHANNEL_SMS, PHONE, "code.login", NULL, "b"), 0);
	assert_int_equal(anfu_db_exec(f->fx->db,
				      "UPDATE notify_message SET body_enc = (SELECT max(body_enc) "
				      "FROM notify_message) WHERE body_enc <> (SELECT "
				      "max(body_enc) FROM notify_message)",
				      NULL, 0, NULL, NULL, NULL),
			 0);
	assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
	assert_int_equal(sent, 1);
	assert_int_equal(count_sql(f, "status = 'failed' AND attempts = 1"), 1);
}

/* ---- what the database holds ------------------------------------------------------ */

static bool file_has(const char *path, const char *needle)
{
	size_t len = 0;
	char *data = read_file(path, &len);
	bool found = data && memmem(data, len, needle, strlen(needle)) != NULL;

	free(data);
	return found;
}

/* req: DATA-ENC-03 (notices carry phone numbers, addresses and codes) */
static void test_database_holds_no_plaintext_of_targets_or_texts(void **state)
{
	struct fix *f = *state;
	static const char *const secrets[] = {
		PHONE, EMAIL, "验证码 739184", "Reset code 551207", "账户锁定通知",
	};
	char wal[160];

	assert_int_equal(
		enqueue_committed(f, ANFU_CHANNEL_SMS, PHONE, "code.login", NULL, "验证码 739184"),
		0);
	assert_int_equal(enqueue_committed(f, ANFU_CHANNEL_EMAIL, EMAIL, "code.reset",
					   "账户锁定通知", "Reset code 551207"),
			 0);
	anfu_notify_free(f->fx->notify);
	f->fx->notify = NULL;
	anfu_vault_free(f->fx->vault);
	f->fx->vault = NULL;
	anfu_store_free(f->fx->store);
	f->fx->store = NULL;
	f->fx->db = NULL;
	(void)snprintf(wal, sizeof(wal), "%s-wal", f->fx->dbpath);
	assert_true(file_has(f->fx->dbpath, "code.reset") || file_has(wal, "code.reset"));
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		assert_false(file_has(f->fx->dbpath, secrets[i]));
		assert_false(file_has(wal, secrets[i]));
	}
}

/* ---- the message format ------------------------------------------------------------ */

static void test_mail_format_encodes_subjects_and_bodies(void **state)
{
	struct anfu_buf b;
	const char *sub = "验证码验证码验证码验证码验证码验证码验证码验证码";

	(void)state;
	anfu_buf_init(&b, 1 << 20);
	assert_int_equal(notify_mail_format("anfu@example.cn", EMAIL, "ntf_x", 0, "Plain subject",
					    "line1\nline2", &b),
			 0);
	assert_non_null(strstr(b.data, "Date: Thu, 1 Jan 1970 00:00:00 +0000\r\n"));
	assert_non_null(strstr(b.data, "\r\nSubject: Plain subject\r\n"));
	assert_non_null(strstr(b.data, "\r\nMessage-ID: <ntf_x@example.cn>\r\n"));
	/* base64 of "line1\r\nline2" */
	assert_non_null(strstr(b.data, "\r\n\r\nbGluZTENCmxpbmUy\r\n"));
	anfu_buf_reset(&b);
	assert_int_equal(notify_mail_format("anfu@example.cn", EMAIL, "ntf_x", 0, sub, "x", &b), 0);
	/* 24 characters of 3 bytes: 72 bytes, cut into words of 39 and 33
	 * bytes (13 and 11 whole characters). */
	assert_non_null(strstr(b.data, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(b.data, "?=\r\n =?UTF-8?B?"));
	anfu_buf_reset(&b);
	/* "a" + CJK: a cut at 39 bytes would split a character; every word
	 * must decode to whole characters on its own (RFC 2047 5). */
	assert_int_equal(notify_mail_format("anfu@example.cn", EMAIL, "ntf_x", 0,
					    "a验证码验证码验证码验证码验证码验证码验证码", "x", &b),
			 0);
	{
		const char *p = b.data;
		int words = 0;

		while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
			const char *end = strstr(p, "?=");
			uint8_t *raw = NULL;
			size_t rawlen = 0;

			p += 10;
			assert_non_null(end);
			assert_int_equal(anfu_base64_decode(p, (size_t)(end - p), &raw, &rawlen),
					 0);
			assert_true(anfu_utf8_valid((const char *)raw, rawlen));
			free(raw);
			words++;
		}
		assert_int_equal(words, 2);
	}
	anfu_buf_reset(&b);
	/* Text that looks like an encoded word is encoded itself. */
	assert_int_equal(notify_mail_format("anfu@example.cn", EMAIL, "ntf_x", 0, "=?x?=", "x", &b),
			 0);
	assert_non_null(strstr(b.data, "Subject: =?UTF-8?B?PT94Pz0=?=\r\n"));
	anfu_buf_reset(&b);
	assert_int_equal(notify_mail_format("anfu@example.cn", "a@b.cn>\r\nBcc: x@y.cn", "ntf_x", 0,
					    "s", "x", &b),
			 ANFU_EINVAL);
	assert_int_equal(notify_mail_format("anfu\n@example.cn", EMAIL, "ntf_x", 0, "s", "x", &b),
			 ANFU_EINVAL);
	anfu_buf_free(&b);
}

/* A delivery pass that fails on the database returns the error and
 * leaves *ret_sent as it was (STYLE.md: outputs only on success). */
static void test_failed_pass_leaves_the_sent_count_untouched(void **state)
{
	struct fix *f = *state;
	int sent = -7;

	assert_int_equal(enqueue_committed(f, ANFU_CHANNEL_SMS, PHONE, "code.login", NULL, "a"), 0);
	assert_int_equal(anfu_db_exec(f->fx->db, "ALTER TABLE notify_message RENAME TO gone", NULL,
				      0, NULL, NULL, NULL),
			 0);
	assert_true(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent) < 0);
	assert_int_equal(sent, -7);
	assert_int_equal(anfu_db_exec(f->fx->db, "ALTER TABLE gone RENAME TO notify_message", NULL,
				      0, NULL, NULL, NULL),
			 0);
	assert_int_equal(anfu_notify_deliver_due(f->fx->notify, f->fx->db, &sent), 0);
	assert_int_equal(sent, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_enqueue_in_a_rolled_back_transaction_sends_nothing),
		T(test_enqueue_outside_a_transaction_is_refused),
		T(test_enqueue_refuses_bad_messages),
		T(test_sms_is_written_to_the_simulator_outbox),
		T(test_concurrent_passes_send_each_message_once),
		T(test_a_pass_claims_and_records_messages_in_steps),
		T(test_delivery_thread_sends_after_a_poke),
		T(test_commit_of_an_enqueue_wakes_the_delivery_thread),
		T(test_email_reaches_a_real_smtp_sink),
		T(test_refusing_relay_retries_with_doubling_delays_then_fails),
		cmocka_unit_test(test_retry_delays_double_up_to_a_cap),
		cmocka_unit_test(test_passes_keep_the_gap_between_their_starts),
		T(test_tampered_message_fails_without_retries),
		T(test_failed_pass_leaves_the_sent_count_untouched),
		T(test_database_holds_no_plaintext_of_targets_or_texts),
		cmocka_unit_test(test_mail_format_encodes_subjects_and_bodies),
	};
#undef T
	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}

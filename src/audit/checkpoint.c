/*
 * audit/checkpoint: signed checkpoints of the chain head, the checkpoint
 * file, and the thread that writes them.
 *
 * Owns the table audit_checkpoint and the file cfg.checkpoint_file (one
 * JSON line per checkpoint, 0600, in a 0700 directory). A checkpoint is
 * committed to the database first and appended to the file second, so a
 * crash in between leaves it only in the database, which verification
 * accepts; the reverse (in the file, not in the database) means rows were
 * deleted. Trusts the keys module to sign; trusts nothing it reads back.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/internal.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/store.h"

/* ---- lists of checkpoints ----------------------------------------------- */

void audit_ckpt_list_free(struct audit_ckpt_list *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void list_push(struct audit_ckpt_list *l, const struct audit_ckpt *c)
{
	size_t n;

	/* Grow in powers of two. */
	if ((l->n & (l->n - 1)) == 0) {
		if (__builtin_mul_overflow(l->n ? l->n * 2 : 1, sizeof(*l->v), &n))
			abort();
		l->v = anfu_xrealloc(l->v, n);
	}
	l->v[l->n++] = *c;
}

static int cmp_seq(const void *a, const void *b)
{
	int64_t x = ((const struct audit_ckpt *)a)->seq, y = ((const struct audit_ckpt *)b)->seq;

	return x < y ? -1 : x > y;
}

/* l is sorted by seq (the database reads ORDER BY seq, the file is sorted
 * after reading), so a lookup per record stays cheap on long logs. */
const struct audit_ckpt *audit_ckpt_find(const struct audit_ckpt_list *l, int64_t seq)
{
	struct audit_ckpt key = { .seq = seq };

	if (l->n == 0)
		return NULL;
	return bsearch(&key, l->v, l->n, sizeof(l->v[0]), cmp_seq);
}

bool audit_ckpt_equal(const struct audit_ckpt *a, const struct audit_ckpt *b)
{
	return a->seq == b->seq && a->ts_ms == b->ts_ms && strcmp(a->head, b->head) == 0 &&
	       strcmp(a->key_id, b->key_id) == 0 && strcmp(a->hash_alg, b->hash_alg) == 0 &&
	       strcmp(a->sig, b->sig) == 0;
}

static void copy_col(char *dst, size_t cap, const struct anfu_row *row, int col)
{
	size_t n = 0;
	const char *s = anfu_row_text(row, col, &n);

	/* A value too long for its field is malformed; keep it visibly so. */
	if (!s || n >= cap || memchr(s, '\0', n))
		dst[0] = '\0';
	else
		memcpy(dst, s, n + 1);
}

static int ckpt_row(void *ud, const struct anfu_row *row)
{
	struct audit_ckpt c;

	memset(&c, 0, sizeof(c));
	c.seq = anfu_row_int(row, 0);
	copy_col(c.head, sizeof(c.head), row, 1);
	c.ts_ms = anfu_row_int(row, 2);
	copy_col(c.key_id, sizeof(c.key_id), row, 3);
	copy_col(c.hash_alg, sizeof(c.hash_alg), row, 4);
	copy_col(c.sig, sizeof(c.sig), row, 5);
	list_push(ud, &c);
	return 0;
}

int audit_ckpt_db_read(struct anfu_db *db, struct audit_ckpt_list *ret)
{
	struct audit_ckpt_list l = { NULL, 0 };
	int r;

	r = anfu_db_exec(db,
			 "SELECT seq, head_hash, ts_ms, key_id, hash_alg, signature "
			 "FROM audit_checkpoint ORDER BY seq",
			 NULL, 0, ckpt_row, &l, NULL);
	if (r < 0) {
		audit_ckpt_list_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

/* Parses the lines of an open checkpoint file into l. */
static int read_ckpt_lines(FILE *f, const char *path, struct audit_ckpt_list *l,
			   struct anfu_audit_report *rep)
{
	char *buf = anfu_xmalloc(ANFU_LIMIT_AUDIT_EXPORT_LINE);
	int64_t prev_seq = 0, line_no = 0;
	int r = 0, rc;
	size_t len;
	bool nl;

	while ((rc = audit_read_line(f, buf, ANFU_LIMIT_AUDIT_EXPORT_LINE, &len, &nl)) != 0) {
		struct audit_ckpt c;

		line_no++;
		if (rc == ANFU_EIO) {
			anfu_log_error("audit.checkpoint", "cannot read %s: %m", path);
			r = ANFU_EIO;
			break;
		}
		if (rc < 0 || !nl || audit_parse_ckpt_line(buf, len, &c) < 0) {
			r = audit_report_bad(rep, prev_seq + 1,
					     "checkpoint file line %" PRId64 " is malformed%s",
					     line_no, rc >= 0 && !nl ? " (no newline)" : "");
			if (rc < 0)
				break;
			continue;
		}
		list_push(l, &c);
		prev_seq = c.seq;
	}
	free(buf);
	return r;
}

int audit_ckpt_file_read(const char *path, struct audit_ckpt_list *ret,
			 struct anfu_audit_report *rep)
{
	struct audit_ckpt_list l = { NULL, 0 };
	FILE *f;
	int fd, r;

	if (!path) {
		*ret = l;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		*ret = l;
		return 0;
	}
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		anfu_log_error("audit.checkpoint", "cannot open %s: %m", path);
		if (fd >= 0)
			(void)close(fd);
		return ANFU_EIO;
	}
	r = read_ckpt_lines(f, path, &l, rep);
	(void)fclose(f);
	if (r < 0 && r != ANFU_ECORRUPT) {
		audit_ckpt_list_free(&l);
		return r;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(l.v[0]), cmp_seq);
	for (size_t i = 1; i < l.n; i++)
		if (l.v[i].seq == l.v[i - 1].seq)
			(void)audit_report_bad(rep, l.v[i].seq,
					       "checkpoint %" PRId64
					       " appears twice in the checkpoint file",
					       l.v[i].seq);
	/* A malformed or repeated line is a finding in rep, not a failure
	 * of the read: the lines that parsed are the result. */
	*ret = l;
	return 0;
}

/* ---- the file ----------------------------------------------------------- */

int audit_make_parent_dir(const char *path)
{
	char *copy = anfu_xstrdup(path);
	const char *dir = dirname(copy);
	struct stat st;
	int r = 0;

	if (stat(dir, &st) != 0) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			anfu_log_error("audit.checkpoint", "cannot create %s: %m", dir);
			r = ANFU_EIO;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		anfu_log_error("audit.checkpoint", "%s is not a directory", dir);
		r = ANFU_EIO;
	}
	free(copy);
	return r;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return errno == ENOSPC ? ANFU_EFULL : ANFU_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A new file's directory entry must be durable too. */
static void sync_parent(const char *path)
{
	char *copy = anfu_xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		(void)close(fd);
	}
	free(copy);
}

static int file_append(const char *path, const struct audit_ckpt *c)
{
	struct anfu_buf line;
	json_t *o = audit_ckpt_to_json(c, false);
	struct stat st;
	bool created;
	int fd = -1, r;

	anfu_buf_init(&line, ANFU_LIMIT_AUDIT_EXPORT_LINE);
	r = audit_json_canon(&line, o);
	if (r == 0)
		r = anfu_buf_append(&line, "\n", 1);
	if (r == 0)
		r = audit_make_parent_dir(path);
	if (r < 0)
		goto out;
	created = stat(path, &st) != 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = ANFU_EIO;
		goto out;
	}
	/* One write of one line: O_APPEND keeps concurrent writers' lines
	 * whole. */
	r = write_all(fd, line.data, line.len);
	if (r == 0 && fsync(fd) != 0)
		r = ANFU_EIO;
	if (r == 0 && created)
		sync_parent(path);
out:
	if (r < 0)
		anfu_log_error("audit.checkpoint",
			       "checkpoint %" PRId64 " is in the database but not in %s: %s",
			       c->seq, path, anfu_strerror(r));
	if (fd >= 0)
		(void)close(fd);
	json_decref(o);
	anfu_buf_free(&line);
	return r;
}

int audit_ckpt_file_writable(const char *path)
{
	int fd, r;

	r = audit_make_parent_dir(path);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		anfu_log_error("audit.checkpoint", "cannot open %s for appending: %m", path);
		return ANFU_EIO;
	}
	(void)close(fd);
	return 0;
}

/* ---- writing a checkpoint ---------------------------------------------- */

struct state {
	int64_t head_seq;
	char head[AUDIT_HEX_LEN + 1];
	int64_t last_ckpt;
};

static int head_row(void *ud, const struct anfu_row *row)
{
	struct state *s = ud;
	size_t n = 0;
	const char *h = anfu_row_text(row, 1, &n);

	s->head_seq = anfu_row_int(row, 0);
	if (h && n == AUDIT_HEX_LEN)
		memcpy(s->head, h, AUDIT_HEX_LEN + 1);
	return 1;
}

static int read_state(struct anfu_db *db, struct state *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	r = anfu_db_exec(db, "SELECT seq, hash FROM audit_head WHERE id = 1", NULL, 0, head_row, s,
			 NULL);
	if (r < 0)
		return r;
	if (!audit_is_hash_hex(s->head, strlen(s->head))) {
		anfu_log_error("audit.checkpoint", "audit_head is missing or malformed");
		return ANFU_ECORRUPT;
	}
	r = anfu_db_query_int(db, "SELECT max(seq) FROM audit_checkpoint", NULL, 0, &s->last_ckpt);
	if (r == ANFU_ENOTFOUND) {
		s->last_ckpt = 0;
		r = 0;
	}
	return r;
}

/* 1 when the head is already checkpointed (*ret_covered: the newest
 * checkpoint's seq), 0 when there may be something to do: a plain read, so
 * the timer does not take the write lock every T seconds for nothing. */
static int nothing_new(struct anfu_db *db, int64_t *ret_covered)
{
	struct state s;
	int r = read_state(db, &s);

	if (r < 0)
		return r;
	if (s.head_seq == 0 || s.head_seq <= s.last_ckpt) {
		*ret_covered = s.last_ckpt;
		return 1;
	}
	return 0;
}

static int sign_ckpt(const struct anfu_audit *a, struct audit_ckpt *c)
{
	uint8_t sig[ANFU_SIG_MAX];
	size_t siglen = sizeof(sig);
	struct anfu_buf msg;
	int r;

	anfu_buf_init(&msg, 4096);
	r = audit_ckpt_message(&msg, c);
	if (r == 0)
		r = anfu_keys_audit_sign(a->keys, msg.data, msg.len, sig, &siglen);
	if (r == 0 && (siglen == 0 || siglen > ANFU_SIG_MAX))
		r = ANFU_ECRYPTO;
	if (r == 0)
		anfu_hex_encode(sig, siglen, c->sig);
	anfu_buf_free(&msg);
	return r;
}

static int insert_ckpt(struct anfu_db *db, const struct audit_ckpt *c)
{
	const struct anfu_param p[] = {
		ANFU_PI(c->seq),
		ANFU_PSN(c->head, strlen(c->head)),
		ANFU_PI(c->ts_ms),
		ANFU_PSN(c->key_id, strlen(c->key_id)),
		ANFU_PSN(c->hash_alg, strlen(c->hash_alg)),
		ANFU_PSN(c->sig, strlen(c->sig)),
	};

	return anfu_db_exec(db,
			    "INSERT INTO audit_checkpoint "
			    "(seq, head_hash, ts_ms, key_id, hash_alg, signature) "
			    "VALUES ($1, $2, $3, $4, $5, $6)",
			    p, 6, NULL, NULL, NULL);
}

/* What one checkpoint's transaction works with. */
struct ckpt_step {
	struct anfu_audit *a;
	struct audit_ckpt c; /* c.seq 0: nothing written */
	int64_t covered;     /* the seq already checkpointed */
};

/* In the runner's write transaction: checkpoints the head if it moved. */
static int checkpoint_step(struct anfu_db *db, void *ud)
{
	struct ckpt_step *st = ud;
	struct audit_ckpt c;
	struct state s;
	int r;

	memset(&c, 0, sizeof(c));
	r = read_state(db, &s);
	if (r < 0)
		return r;
	st->covered = s.last_ckpt;
	if (s.head_seq == 0 || s.head_seq <= s.last_ckpt)
		return 0;
	c.seq = s.head_seq;
	c.ts_ms = anfu_clock_now_ms();
	memcpy(c.head, s.head, sizeof(c.head));
	(void)snprintf(c.key_id, sizeof(c.key_id), "%s", anfu_keys_audit_kid(st->a->keys));
	(void)snprintf(c.hash_alg, sizeof(c.hash_alg), "%s", anfu_hash_name(st->a->hash));
	r = sign_ckpt(st->a, &c);
	if (r == 0)
		r = insert_ckpt(db, &c);
	if (r == 0)
		st->c = c;
	return r;
}

/* Checkpoints the head if it moved, in a transaction of the attached
 * runner. *ret_c->seq is 0 when nothing was written; *ret_covered is the
 * seq already covered. */
static int checkpoint_tx(struct anfu_audit *a, struct audit_ckpt *ret_c, int64_t *ret_covered)
{
	struct ckpt_step st = { .a = a };
	int r;

	r = a->run(a->run_ud, checkpoint_step, &st);
	if (r < 0) {
		anfu_log_error("audit.checkpoint", "cannot write a checkpoint: %s",
			       anfu_strerror(r));
		return r;
	}
	*ret_c = st.c;
	*ret_covered = st.covered;
	return 0;
}

/* See audit.h. Not synchronised with the checkpointer: attach first. */
void anfu_audit_attach_runner(struct anfu_audit *a, anfu_audit_runner_fn run, void *run_ud)
{
	if (!a)
		return;
	a->run = run;
	a->run_ud = run ? run_ud : NULL;
}

/*
 * Writes a signed checkpoint of the head when it moved since the last
 * checkpoint in the database, then appends it to the checkpoint file.
 * *ret_seq gets the seq written, or 0 when nothing was new; with force it
 * gets the seq the newest checkpoint already covers instead of 0. Returns
 * ANFU_EIO when the checkpoint was committed but its file line could not be
 * written. db must have no open transaction; the write goes through the
 * attached runner (ANFU_EINVAL without one). Thread-safe: checkpoints of
 * one writer are serialised.
 */
int anfu_audit_checkpoint(struct anfu_audit *a, struct anfu_db *db, bool force, int64_t *ret_seq)
{
	struct audit_ckpt c = { 0 };
	int64_t covered = 0;
	int r;

	if (!a || !db || db->tx_depth != 0)
		return ANFU_EINVAL;
	if (!a->keys) {
		anfu_log_error("audit.checkpoint", "no audit key: cannot sign checkpoints");
		return ANFU_EINVAL;
	}
	if (!a->run) {
		anfu_log_error("audit.checkpoint", "no transaction executor attached");
		return ANFU_EINVAL;
	}
	(void)pthread_mutex_lock(&a->ckpt_mu);
	r = nothing_new(db, &covered);
	if (r == 0)
		r = checkpoint_tx(a, &c, &covered);
	else if (r == 1)
		r = 0;
	if (r == 0 && c.seq > 0) {
		atomic_store(&a->last_seq, c.seq);
		atomic_store(&a->since_ckpt, 0);
		if (a->checkpoint_file)
			r = file_append(a->checkpoint_file, &c);
	}
	(void)pthread_mutex_unlock(&a->ckpt_mu);
	if (r == 0 && ret_seq)
		*ret_seq = c.seq > 0 ? c.seq : (force ? covered : 0);
	return r;
}

/* ---- the checkpointer thread ------------------------------------------ */

static void checkpoint_now(struct anfu_audit *a)
{
	struct anfu_db *db = NULL;
	int r;

	r = anfu_store_db(a->store, &db);
	if (r == 0)
		r = anfu_audit_checkpoint(a, db, false, NULL);
	if (r < 0)
		anfu_log_error("audit.checkpoint", "checkpointer: %s", anfu_strerror(r));
}

static void *checkpointer(void *p)
{
	struct anfu_audit *a = p;
	int64_t last_us = anfu_clock_mono_us();

	(void)pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct timespec ts;
		bool due;

		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		while (!a->stop && !a->wake)
			if (pthread_cond_timedwait(&a->cv, &a->mu, &ts) != 0)
				break;
		a->wake = false;
		if (a->stop)
			break;
		due = atomic_load(&a->since_ckpt) >= a->checkpoint_records ||
		      anfu_clock_mono_us() - last_us >= (int64_t)a->checkpoint_seconds * 1000000;
		if (!due)
			continue;
		(void)pthread_mutex_unlock(&a->mu);
		/* The database decides whether anything is new, so records
		 * appended by other processes are covered too. */
		checkpoint_now(a);
		last_us = anfu_clock_mono_us();
		(void)pthread_mutex_lock(&a->mu);
	}
	(void)pthread_mutex_unlock(&a->mu);
	checkpoint_now(a);
	return NULL;
}

/*
 * Starts the checkpointer thread; store is borrowed until anfu_audit_stop.
 * ANFU_EINVAL when it runs already or there is no key to sign with.
 */
int anfu_audit_start(struct anfu_audit *a, struct anfu_store *store)
{
	int r = 0;

	if (!a || !store || !a->keys)
		return ANFU_EINVAL;
	(void)pthread_mutex_lock(&a->mu);
	if (a->running) {
		r = ANFU_EINVAL;
	} else {
		a->store = store;
		a->stop = false;
		a->wake = false;
		if (pthread_create(&a->thread, NULL, checkpointer, a) != 0) {
			anfu_log_error("audit.checkpoint", "cannot start the checkpointer");
			r = ANFU_EINTERNAL;
		} else {
			a->running = true;
		}
	}
	(void)pthread_mutex_unlock(&a->mu);
	return r;
}

/*
 * Stops the checkpointer: it writes a final checkpoint (on its own
 * connection) and exits; returns after it has. NULL-safe, idempotent.
 */
void anfu_audit_stop(struct anfu_audit *a)
{
	bool running;

	if (!a)
		return;
	(void)pthread_mutex_lock(&a->mu);
	running = a->running;
	a->stop = true;
	(void)pthread_cond_signal(&a->cv);
	(void)pthread_mutex_unlock(&a->mu);
	if (!running)
		return;
	(void)pthread_join(a->thread, NULL);
	(void)pthread_mutex_lock(&a->mu);
	a->running = false;
	a->store = NULL;
	(void)pthread_mutex_unlock(&a->mu);
}

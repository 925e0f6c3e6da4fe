/*
 * store/sqlite_ckpt: WAL checkpoints off the committing thread.
 *
 * Private to src/store/ (sqlite.c). SQLite's automatic checkpoint runs in
 * the thread whose commit crossed the WAL's threshold: it copies the WAL
 * into the database file and fsyncs it, on the ledger writer's critical
 * path nearly every batch. Instead each database file a process has open
 * gets one checkpointer thread with its own connection; a connection's
 * commit only tells it that the WAL has grown past the threshold, and the
 * thread runs a PASSIVE checkpoint (which never blocks a writer or a
 * reader), then takes the process's write lock for the file and runs a
 * RESTART checkpoint: it copies the few frames committed meanwhile and
 * starts the WAL over from its beginning. Without that second step a WAL
 * under steady writes never restarts (every writer's snapshot has frames
 * not yet copied), so it grows past the threshold for good, every commit
 * wakes the thread again and every checkpoint walks the whole WAL. If the
 * checkpointer ever falls far behind, the committing connection
 * checkpoints itself, so the WAL stays bounded. Durability is unchanged: a
 * commit is durable once its WAL frames are synced, as before, and SQLite
 * syncs the database file before a checkpoint lets the WAL restart.
 */
#ifndef ANFU_STORE_SQLITE_CKPT_H
#define ANFU_STORE_SQLITE_CKPT_H

#include <sqlite3.h>
#include <stdbool.h>

struct sq_ckpt;

/* Attaches connection h of database file path to that file's checkpointer
 * (started with the first connection of path): turns off h's automatic
 * checkpoint and installs the hook that wakes the thread. Returns the
 * checkpointer to pass to sq_ckpt_detach(), or NULL when no thread could
 * be started (then h keeps SQLite's automatic checkpoint). */
struct sq_ckpt *sq_ckpt_attach(sqlite3 *h, const char *path);

/* Before h is closed: the last connection of a path stops its thread
 * (after its current checkpoint) and closes the thread's connection, so
 * the last sqlite3_close() still checkpoints and removes the WAL.
 * NULL-safe. */
void sq_ckpt_detach(struct sq_ckpt *c);

/* sqlite.c: the in-process write lock of a database file (sqlite.c says
 * why), for the checkpointer. attach returns NULL for a database that is
 * no file; detach is NULL-safe. take waits at most timeout_ms and is true
 * when the calling thread now holds the lock (false on timeout, or when
 * it held it already: then give nothing); give hands it to the next
 * writer in the queue. */
struct sq_wlock;
struct sq_wlock *sq_wlock_attach(const char *path);
void sq_wlock_detach(struct sq_wlock *w);
bool sq_wlock_take(struct sq_wlock *w, int timeout_ms);
void sq_wlock_give(struct sq_wlock *w);

#endif

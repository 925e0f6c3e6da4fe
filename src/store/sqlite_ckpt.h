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
 * reader). If the checkpointer ever falls far behind, the committing
 * connection checkpoints itself, so the WAL stays bounded. Durability is
 * unchanged: a commit is durable once its WAL frames are synced, as before.
 */
#ifndef ANFU_STORE_SQLITE_CKPT_H
#define ANFU_STORE_SQLITE_CKPT_H

#include <sqlite3.h>

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

#endif

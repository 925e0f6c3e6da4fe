/*
 * store/sqlite_vfs: the VFS anfu opens its SQLite files through.
 *
 * SQLite writes a WAL frame as two writes (its 24-byte header, then the
 * page), each a system call: a commit of 16 pages made 32 pwrite() calls
 * before its fdatasync, and a ledger batch of 1 000 transfers thousands
 * (docs/benchmarks.md §6.8, §6.9). This VFS is the platform's (unix) with
 * one difference: the writes to a WAL file that follow each other in the
 * file are gathered in a buffer of ANFU_LIMIT_DB_WAL_WRITE_BUFFER bytes
 * and handed over as one write when SQLite next does anything else with
 * the file — syncs it (a commit), reads it, truncates it, asks its size,
 * or touches the shared memory that publishes frames to other
 * connections. So every byte SQLite wrote is in the file before SQLite
 * can rely on it being there: durability (the commit's fdatasync) and
 * what other connections see are unchanged. A write that does not follow
 * the buffered bytes flushes them first. The main database file, the
 * shared memory and locks are the platform's, untouched.
 *
 * Not thread-safe per file: SQLite serialises the calls on one handle.
 */
#ifndef ANFU_STORE_SQLITE_VFS_H
#define ANFU_STORE_SQLITE_VFS_H

#include <sqlite3.h>

#define ANFU_SQLITE_VFS "anfu"

/* Registers the VFS (once per process; not as SQLite's default).
 * 0, or -1 when the platform's VFS is missing or too old (then callers
 * open with SQLite's default VFS). */
int anfu_sqlite_vfs_register(void);

/* Registers a VFS of this kind named name over real (tests put a
 * recording VFS underneath). name must outlive the process's use of it. */
int anfu_sqlite_vfs_register_over(const char *name, sqlite3_vfs *real);

#endif

/* SPDX-License-Identifier: MIT
 *
 * store — VibeML's SQLite database (state folder, vibeml.db), shared safely by several processes
 * at once (MCP servers, CLI commands, job supervisors):
 *   - WAL journal, so readers never block the writer and the writer never blocks readers;
 *   - a busy timeout (VML_STORE_BUSY_MS), so a second writer waits for the first instead of
 *     failing with SQLITE_BUSY; writers take the lock up front with BEGIN IMMEDIATE, which is
 *     what makes that wait safe (no lock upgrade deadlock);
 *   - foreign keys on; synchronous=FULL (the money ledger lives here too).
 * Each component owns its tables through its own migration list: vml_store_migrate(db, "jobs",
 * steps, n) records the component's version in schema_versions(component, version) and applies
 * the missing steps, each in its own IMMEDIATE transaction, so two processes starting at once
 * apply every step exactly once.
 *
 * Uses: err, paths, SQLite.
 */
#ifndef VML_STORE_H
#define VML_STORE_H

#include <sqlite3.h>
#include <stddef.h>

#include "err.h"

#define VML_STORE_BUSY_MS 5000
#define VML_STORE_FILE "vibeml.db"

/* Opens (creating) the database at path, or the state folder's vibeml.db when path is NULL,
 * and applies the connection settings above. *out is the caller's (vml_store_close). */
int vml_store_open(const char *path, sqlite3 **out, vml_err *err);
/* Closes db; statements still open keep it alive until finalized. NULL is a no-op. */
void vml_store_close(sqlite3 *db);

/* Runs one or more ;-separated statements without parameters. */
int vml_store_exec(sqlite3 *db, const char *sql, vml_err *err);
/* Prepares one statement; *out is the caller's (sqlite3_finalize). fmt binds parameters in order:
 * 'i' int64, 'd' double, 's' text (NULL pointer = SQL NULL), 'n' NULL. fmt may be NULL. */
int vml_store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, vml_err *err,
                      const char *fmt, ...);
/* Steps a statement. Returns 1 for a row, 0 when done, or a VML code. */
int vml_store_step(sqlite3_stmt *st, vml_err *err);

/* Transactions. mode: "IMMEDIATE" (default when NULL), "DEFERRED" or "EXCLUSIVE". */
int vml_store_begin(sqlite3 *db, const char *mode, vml_err *err);
int vml_store_commit(sqlite3 *db, vml_err *err);
/* Rolls back if a transaction is open; never fails. */
void vml_store_rollback(sqlite3 *db);

/* Brings component's tables to version n: applies steps[v..n-1] where v is the recorded version,
 * each step in its own IMMEDIATE transaction together with the version bump. A database newer
 * than the code (v > n) is refused with VML_ESTATE. *applied (may be NULL) gets the number of
 * steps applied by this call. */
int vml_store_migrate(sqlite3 *db, const char *component, const char *const *steps, size_t n,
                      int *applied, vml_err *err);
/* The recorded version of component (0 when none). */
int vml_store_version(sqlite3 *db, const char *component, int *version, vml_err *err);

/* Converts an SQLite result code into a VML code with the database's message. */
int vml_store_err(sqlite3 *db, int rc, const char *what, vml_err *err);

#endif

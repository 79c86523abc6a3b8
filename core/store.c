/* SPDX-License-Identifier: MIT
 *
 * store — SQLite state shared by several processes (see store.h).
 *
 * Uses: err, paths, SQLite.
 */
#include "store.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

#include "paths.h"

int vml_store_err(sqlite3 *db, int rc, const char *what, vml_err *err)
{
    int code = VML_EDB;
    int prim = rc & 0xff;
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        code = VML_EBUSY;
    else if (prim == SQLITE_NOMEM)
        code = VML_ENOMEM;
    else if (prim == SQLITE_CANTOPEN || prim == SQLITE_IOERR || prim == SQLITE_FULL)
        code = VML_EIO;
    return vml_err_set(err, code, "%s: %s", what ? what : "database",
                       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int vml_store_exec(sqlite3 *db, const char *sql, vml_err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        int code = vml_store_err(db, rc, "database", err);
        if (msg)
            vml_err_set(err, code, "database: %s", msg);
        sqlite3_free(msg);
        return code;
    }
    return 0;
}

/* {===================================================================== the "expected" marker
 * A database that held VibeML's tables leaves a small file beside it, <db>.expected. A database
 * file that is later missing, 0 bytes or without any component's tables while that marker
 * exists was lost (truncated by a full disk, a bad copy, an accidental delete): opening it as a
 * fresh, empty database would silently drop budgets, the money ledger and every job (launches
 * would run unlimited), so it is refused with the way out instead. */

#define MARKER_SUFFIX ".expected"

static int plain_path(const char *path)
{
    return path[0] && strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0;
}

static int marker_path(const char *path, char *buf, size_t n)
{
    return (size_t)snprintf(buf, n, "%s" MARKER_SUFFIX, path) < n;
}

static void marker_write(const char *path)
{
    char m[4200];
    FILE *f;
    struct stat st;
    if (!plain_path(path) || !marker_path(path, m, sizeof m) || stat(m, &st) == 0)
        return;
    if ((f = fopen(m, "w"))) {
        fprintf(f,
                "VibeML's state database %s exists and holds budgets, the money ledger and "
                "jobs.\nIf it goes missing or empty, vibeml refuses to start afresh; delete "
                "this file only to start with an empty database on purpose.\n",
                path);
        fclose(f);
        chmod(m, 0600);
    }
}

static int lost_error(const char *path, const char *what, vml_err *err)
{
    return vml_err_set(err, VML_ESTATE,
                       "the state database %s is %s, but a database with budgets, the money "
                       "ledger and jobs existed there (marker %s" MARKER_SUFFIX "); starting "
                       "empty would lose them and lift every budget. Restore %s from a backup; "
                       "or, to start with an empty database on purpose, delete %s" MARKER_SUFFIX,
                       path, what, path, path, path);
}

/* Before opening: a marked database whose file is gone or empty (and no WAL holds its pages). */
static int marker_check_file(const char *path, vml_err *err)
{
    char m[4200], wal[4200];
    struct stat st, ws;
    if (!plain_path(path) || !marker_path(path, m, sizeof m) || stat(m, &st) != 0)
        return 0;
    if (stat(path, &st) != 0)
        return lost_error(path, "missing", err);
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (st.st_size == 0 && (stat(wal, &ws) != 0 || ws.st_size == 0))
        return lost_error(path, "empty (0 bytes)", err);
    return 0;
}

/* After opening: a marked database without any component's tables (replaced by an empty one);
 * an unmarked one with tables (made before the marker existed) gets its marker. */
static int marker_check_schema(sqlite3 *db, const char *path, vml_err *err)
{
    char m[4200];
    struct stat st;
    sqlite3_stmt *q = NULL;
    int n = 0;
    if (!plain_path(path) || !marker_path(path, m, sizeof m))
        return 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM schema_versions", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (stat(m, &st) == 0)
        return n == 0 ? lost_error(path, "empty (no tables)", err) : 0;
    if (n > 0)
        marker_write(path);
    return 0;
}

/* }===================================================================== */

int vml_store_open(const char *path, sqlite3 **out, vml_err *err)
{
    char buf[4096];
    sqlite3 *db = NULL;
    int rc, tries;
    *out = NULL;
    if (!path) {
        if ((rc = vml_paths_join(VML_PATH_STATE, VML_STORE_FILE, buf, sizeof buf, 1, err)) < 0)
            return rc;
        path = buf;
    }
    if ((rc = marker_check_file(path, err)) < 0)
        return rc;
    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = vml_store_err(db, rc, path, err);
        goto out;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, VML_STORE_BUSY_MS);
    /* journal_mode and the first CREATE need a short exclusive moment; when several processes
     * open a new file at the same instant SQLite may answer BUSY at once (deadlock avoidance
     * skips the busy handler), so retry for up to the busy timeout */
    for (tries = 0;; tries++) {
        rc = vml_store_exec(db,
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                            "PRAGMA foreign_keys=ON;"
                            "CREATE TABLE IF NOT EXISTS schema_versions("
                            " component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
                            err);
        if (rc != VML_EBUSY || tries * 10 >= VML_STORE_BUSY_MS)
            break;
        usleep(10000);
    }
    if (rc < 0) {
        vml_err_prefix(err, "%s", path);
        goto out;
    }
    if ((rc = marker_check_schema(db, path, err)) < 0)
        goto out;
    *out = db;
    db = NULL;
    rc = 0;
out:
    if (db)
        sqlite3_close_v2(db);
    return rc;
}

void vml_store_close(sqlite3 *db)
{
    /* close_v2: statements still open (a Lua guard not yet collected) keep the connection as a
     * zombie until they are finalized, so the finalize in their __gc stays valid */
    if (db)
        sqlite3_close_v2(db);
}

int vml_store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, vml_err *err,
                      const char *fmt, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;
    int rc, i;
    *out = NULL;
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return vml_store_err(db, rc, "database", err);
    va_start(ap, fmt);
    for (i = 0; fmt && fmt[i]; i++) {
        const char *s;
        switch (fmt[i]) {
        case 'i':
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
            break;
        case 'd':
            rc = sqlite3_bind_double(st, i + 1, va_arg(ap, double));
            break;
        case 's':
            s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st, i + 1);
            break;
        case 'n':
            rc = sqlite3_bind_null(st, i + 1);
            break;
        default:
            rc = SQLITE_MISUSE;
        }
        if (rc != SQLITE_OK)
            break;
    }
    va_end(ap);
    if (rc != SQLITE_OK) {
        rc = vml_store_err(db, rc, "database: binding parameters", err);
        sqlite3_finalize(st);
        return rc;
    }
    *out = st;
    return 0;
}

int vml_store_step(sqlite3_stmt *st, vml_err *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return vml_store_err(sqlite3_db_handle(st), rc, "database", err);
}

int vml_store_begin(sqlite3 *db, const char *mode, vml_err *err)
{
    char sql[64];
    if (!mode)
        mode = "IMMEDIATE";
    if (strcasecmp(mode, "IMMEDIATE") && strcasecmp(mode, "DEFERRED") &&
        strcasecmp(mode, "EXCLUSIVE"))
        return vml_err_set(err, VML_EINVAL,
                           "transaction mode '%s' is not one of immediate, deferred, exclusive",
                           mode);
    snprintf(sql, sizeof sql, "BEGIN %s", mode);
    return vml_store_exec(db, sql, err);
}

int vml_store_commit(sqlite3 *db, vml_err *err)
{
    return vml_store_exec(db, "COMMIT", err);
}

void vml_store_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int vml_store_version(sqlite3 *db, const char *component, int *version, vml_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    *version = 0;
    rc = vml_store_prepare(db, "SELECT version FROM schema_versions WHERE component = ?", &st, err,
                           "s", component);
    if (rc < 0)
        return rc;
    rc = vml_store_step(st, err);
    if (rc == 1) {
        *version = sqlite3_column_int(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int vml_store_migrate(sqlite3 *db, const char *component, const char *const *steps, size_t n,
                      int *applied, vml_err *err)
{
    size_t i;
    int rc = 0, v, count = 0;
    sqlite3_stmt *st = NULL;

    if (applied)
        *applied = 0;
    if (!component || !*component)
        return vml_err_set(err, VML_EINVAL, "migrate: a component name is required");
    for (i = 0; i < n; i++) {
        /* re-read the version inside the write lock: another process may have applied it */
        if ((rc = vml_store_begin(db, "IMMEDIATE", err)) < 0)
            goto out;
        if ((rc = vml_store_version(db, component, &v, err)) < 0)
            goto fail;
        if ((size_t)v > n) {
            rc = vml_err_set(err, VML_ESTATE,
                             "database schema of '%s' is version %d but this vibeml knows only "
                             "%zu: a newer vibeml wrote it; upgrade vibeml",
                             component, v, n);
            goto fail;
        }
        if ((size_t)v > i) {
            vml_store_rollback(db);
            continue;
        }
        if ((rc = vml_store_exec(db, steps[i], err)) < 0) {
            vml_err_prefix(err, "migration %s step %zu", component, i + 1);
            goto fail;
        }
        rc = vml_store_prepare(db,
                               "INSERT INTO schema_versions(component, version) VALUES(?, ?) "
                               "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                               &st, err, "si", component, (int64_t)(i + 1));
        if (rc < 0)
            goto fail;
        rc = vml_store_step(st, err);
        sqlite3_finalize(st);
        st = NULL;
        if (rc < 0)
            goto fail;
        if ((rc = vml_store_commit(db, err)) < 0)
            goto fail;
        count++;
    }
    if (count > 0) /* the database holds tables now: its loss must not pass for a fresh start */
        marker_write(sqlite3_db_filename(db, "main"));
    if (n == 0 && (rc = vml_store_version(db, component, &v, err)) == 0 && v > 0)
        rc = vml_err_set(err, VML_ESTATE,
                         "database schema of '%s' is version %d but this vibeml knows none",
                         component, v);
    goto out;
fail:
    vml_store_rollback(db);
out:
    if (applied)
        *applied = count;
    return rc < 0 ? rc : 0;
}

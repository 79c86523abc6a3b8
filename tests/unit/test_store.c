/* SPDX-License-Identifier: MIT
 *
 * test_store — the SQLite state store: settings, migrations, and several processes racing on
 * the same file (real processes, real file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

typedef struct fx {
    char dir[256];
    char path[300];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/vml_store_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/vibeml.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

static int64_t scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    vml_err err;
    int64_t v = -1;
    assert_int_equal(vml_store_prepare(db, sql, &st, &err, NULL), 0);
    if (vml_store_step(st, &err) == 1)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_open_settings(void **state)
{
    fx *f = *state;
    sqlite3 *db;
    sqlite3_stmt *st;
    vml_err err;
    assert_int_equal(vml_store_open(f->path, &db, &err), 0);
    assert_int_equal(vml_store_prepare(db, "PRAGMA journal_mode", &st, &err, NULL), 0);
    assert_int_equal(vml_store_step(st, &err), 1);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(scalar(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(scalar(db, "PRAGMA busy_timeout"), VML_STORE_BUSY_MS);
    assert_int_equal(scalar(db, "SELECT count(*) FROM schema_versions"), 0);
    vml_store_close(db);
    vml_store_close(NULL);
}

static void test_open_bad_path(void **state)
{
    sqlite3 *db = (sqlite3 *)1;
    vml_err err;
    (void)state;
    assert_true(vml_store_open("/nonexistent-dir/x/vibeml.db", &db, &err) < 0);
    assert_null(db);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x/vibeml.db"));
}

static const char *const steps_v2[] = {
    "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "ALTER TABLE t ADD COLUMN extra INTEGER DEFAULT 7; INSERT INTO t(name) VALUES('seed')",
};

static void test_migrate(void **state)
{
    fx *f = *state;
    sqlite3 *db;
    vml_err err;
    int applied, v;
    const char *bad[] = {steps_v2[0], steps_v2[1], "CREATE TABLE u(x); SELECT nosuchfn()"};
    assert_int_equal(vml_store_open(f->path, &db, &err), 0);
    assert_int_equal(vml_store_migrate(db, "alpha", steps_v2, 1, &applied, &err), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(vml_store_migrate(db, "alpha", steps_v2, 2, &applied, &err), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(vml_store_migrate(db, "alpha", steps_v2, 2, &applied, &err), 0);
    assert_int_equal(applied, 0);
    assert_int_equal(vml_store_version(db, "alpha", &v, &err), 0);
    assert_int_equal(v, 2);
    assert_int_equal(scalar(db, "SELECT extra FROM t WHERE name='seed'"), 7);
    /* a second component has its own version */
    assert_int_equal(vml_store_migrate(db, "beta", steps_v2 + 0, 0, &applied, &err), 0);
    assert_int_equal(vml_store_version(db, "beta", &v, &err), 0);
    assert_int_equal(v, 0);
    /* a failing step rolls back completely: table u does not exist, version stays 2 */
    assert_int_equal(vml_store_migrate(db, "alpha", bad, 3, &applied, &err), VML_EDB);
    assert_non_null(strstr(err.msg, "migration alpha step 3"));
    assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name='u'"), 0);
    assert_int_equal(vml_store_version(db, "alpha", &v, &err), 0);
    assert_int_equal(v, 2);
    /* older code facing a newer database is refused */
    assert_int_equal(vml_store_migrate(db, "alpha", steps_v2, 1, &applied, &err), VML_ESTATE);
    assert_non_null(strstr(err.msg, "upgrade vibeml"));
    assert_true(sqlite3_get_autocommit(db));
    vml_store_close(db);
}

static void test_prepare_bind(void **state)
{
    fx *f = *state;
    sqlite3 *db;
    sqlite3_stmt *st;
    vml_err err;
    assert_int_equal(vml_store_open(f->path, &db, &err), 0);
    assert_int_equal(vml_store_exec(db, "CREATE TABLE k(i INTEGER, d REAL, s TEXT, n TEXT)", &err),
                     0);
    assert_int_equal(vml_store_prepare(db, "INSERT INTO k VALUES(?,?,?,?)", &st, &err, "idsn",
                                       (int64_t)1 << 40, 2.5, "hé", NULL),
                     0);
    assert_int_equal(vml_store_step(st, &err), 0);
    sqlite3_finalize(st);
    assert_int_equal(vml_store_prepare(db, "SELECT i, d, s, n FROM k", &st, &err, NULL), 0);
    assert_int_equal(vml_store_step(st, &err), 1);
    assert_true(sqlite3_column_int64(st, 0) == (int64_t)1 << 40);
    assert_true(sqlite3_column_double(st, 1) == 2.5);
    assert_string_equal((const char *)sqlite3_column_text(st, 2), "hé");
    assert_int_equal(sqlite3_column_type(st, 3), SQLITE_NULL);
    sqlite3_finalize(st);
    assert_int_equal(vml_store_prepare(db, "SELEC nonsense", &st, &err, NULL), VML_EDB);
    assert_int_equal(vml_store_begin(db, "sideways", &err), VML_EINVAL);
    vml_store_close(db);
}

/* Each child does read-modify-write increments in BEGIN IMMEDIATE transactions. Without the
 * write lock taken up front, or without the busy timeout, increments would be lost or fail. */
static int child_increments(const char *path, int n)
{
    sqlite3 *db;
    vml_err err;
    int i;
    if (vml_store_open(path, &db, &err) < 0)
        return 10;
    for (i = 0; i < n; i++) {
        sqlite3_stmt *st;
        int64_t v;
        if (vml_store_begin(db, NULL, &err) < 0)
            return 11;
        if (vml_store_prepare(db, "SELECT v FROM counter", &st, &err, NULL) < 0 ||
            vml_store_step(st, &err) != 1)
            return 12;
        v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (i % 7 == 0)
            usleep(200); /* widen the window between read and write */
        if (vml_store_prepare(db, "UPDATE counter SET v = ?", &st, &err, "i", v + 1) < 0 ||
            vml_store_step(st, &err) != 0)
            return 13;
        sqlite3_finalize(st);
        if (vml_store_commit(db, &err) < 0)
            return 14;
    }
    vml_store_close(db);
    return 0;
}

static void test_race_begin_immediate(void **state)
{
    fx *f = *state;
    sqlite3 *db;
    vml_err err;
    pid_t kids[3];
    int i, status;
    assert_int_equal(vml_store_open(f->path, &db, &err), 0);
    assert_int_equal(vml_store_exec(db,
                                    "CREATE TABLE counter(v INTEGER); "
                                    "INSERT INTO counter VALUES(0)",
                                    &err),
                     0);
    vml_store_close(db); /* no connection crosses fork() */
    for (i = 0; i < 3; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0)
            _exit(child_increments(f->path, 150));
    }
    for (i = 0; i < 3; i++) {
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(vml_store_open(f->path, &db, &err), 0);
    assert_int_equal(scalar(db, "SELECT v FROM counter"), 450);
    vml_store_close(db);
}

/* A second connection waits on BEGIN IMMEDIATE while the first holds the lock, then proceeds. */
static void test_busy_waits(void **state)
{
    fx *f = *state;
    sqlite3 *a, *b;
    vml_err err;
    pid_t kid;
    int status, go[2];
    char c = 0;
    /* no SQLite connection may cross fork(): make the file, close it, fork, then open */
    assert_int_equal(vml_store_open(f->path, &a, &err), 0);
    assert_int_equal(vml_store_exec(a, "CREATE TABLE w(x)", &err), 0);
    vml_store_close(a);
    assert_int_equal(pipe(go), 0);
    kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        /* the child's BEGIN IMMEDIATE blocks until the parent commits (about 300 ms) */
        close(go[1]);
        if (vml_store_open(f->path, &b, &err) < 0)
            _exit(20);
        if (read(go[0], &c, 1) != 1)
            _exit(24);
        if (vml_store_begin(b, NULL, &err) < 0)
            _exit(21);
        if (vml_store_exec(b, "INSERT INTO w SELECT count(*) + 1 FROM w", &err) < 0)
            _exit(22);
        if (vml_store_commit(b, &err) < 0)
            _exit(23);
        vml_store_close(b);
        _exit(0);
    }
    close(go[0]);
    assert_int_equal(vml_store_open(f->path, &a, &err), 0);
    assert_int_equal(vml_store_begin(a, NULL, &err), 0);
    assert_int_equal(vml_store_exec(a, "INSERT INTO w VALUES(1)", &err), 0);
    assert_int_equal(write(go[1], "g", 1), 1);
    close(go[1]);
    usleep(300000);
    assert_int_equal(vml_store_commit(a, &err), 0);
    assert_int_equal(waitpid(kid, &status, 0), kid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* the child saw the parent's committed row: it wrote 2 */
    assert_int_equal(scalar(a, "SELECT max(x) FROM w"), 2);
    vml_store_close(a);
}

static void test_concurrent_migrate(void **state)
{
    fx *f = *state;
    sqlite3 *db;
    vml_err err;
    pid_t kids[4];
    int i, status;
    static const char *const steps[] = {
        "CREATE TABLE once(x)",
        "INSERT INTO once VALUES(1)",
        "INSERT INTO once VALUES(2)",
    };
    for (i = 0; i < 4; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            sqlite3 *c;
            if (vml_store_open(f->path, &c, &err) < 0) {
                fprintf(stderr, "child open: %s\n", err.msg);
                _exit(30);
            }
            if (vml_store_migrate(c, "race", steps, 3, NULL, &err) < 0)
                _exit(31);
            vml_store_close(c);
            _exit(0);
        }
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(vml_store_open(f->path, &db, &err), 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM once"), 2);
    assert_int_equal(scalar(db, "SELECT version FROM schema_versions WHERE component='race'"), 3);
    vml_store_close(db);
}

/* A database that held tables and is then lost is not silently re-created empty (issue 16). */
static void expect_refused(fx *f, const char *what)
{
    sqlite3 *db = NULL;
    vml_err err;
    vml_err_clear(&err);
    assert_int_equal(vml_store_open(f->path, &db, &err), VML_ESTATE);
    assert_null(db);
    if (!strstr(err.msg, what) || !strstr(err.msg, "Restore") || !strstr(err.msg, ".expected"))
        fail_msg("wanted '%s' and the fix, got: %s", what, err.msg);
}

static void test_lost_database(void **state)
{
    fx *f = *state;
    sqlite3 *db;
    vml_err err;
    char marker[400], cmd[800];
    FILE *fp;
    snprintf(marker, sizeof marker, "%s.expected", f->path);
    /* opening alone leaves no marker: nothing is lost if this database disappears */
    assert_int_equal(vml_store_open(f->path, &db, &err), 0);
    vml_store_close(db);
    assert_int_not_equal(access(marker, F_OK), 0);
    /* once a component has tables, the marker exists */
    assert_int_equal(vml_store_open(f->path, &db, &err), 0);
    assert_int_equal(vml_store_migrate(db, "alpha", steps_v2, 2, NULL, &err), 0);
    vml_store_close(db);
    assert_int_equal(access(marker, F_OK), 0);
    /* truncated to 0 bytes (a full disk, a bad copy) */
    assert_non_null(fp = fopen(f->path, "w"));
    fclose(fp);
    snprintf(cmd, sizeof cmd, "rm -f '%s-wal' '%s-shm'", f->path, f->path);
    assert_int_equal(system(cmd), 0);
    expect_refused(f, "is empty (0 bytes)");
    /* deleted: refused, and not created by the attempt */
    assert_int_equal(unlink(f->path), 0);
    expect_refused(f, "is missing");
    assert_int_not_equal(access(f->path, F_OK), 0);
    /* replaced by an empty SQLite database */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE other(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_refused(f, "is empty (no tables)");
    /* starting afresh on purpose: delete the marker */
    assert_int_equal(unlink(marker), 0);
    assert_int_equal(vml_store_open(f->path, &db, &err), 0);
    vml_store_close(db);
    /* a database with tables made before markers existed gets one when opened */
    assert_int_equal(vml_store_open(f->path, &db, &err), 0);
    assert_int_equal(vml_store_migrate(db, "alpha", steps_v2, 1, NULL, &err), 0);
    vml_store_close(db);
    assert_int_equal(unlink(marker), 0);
    assert_int_equal(vml_store_open(f->path, &db, &err), 0);
    vml_store_close(db);
    assert_int_equal(access(marker, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_bad_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare_bind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_begin_immediate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_migrate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

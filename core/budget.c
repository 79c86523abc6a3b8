/* SPDX-License-Identifier: MIT
 * budget — the money ledger in SQLite, exact integer micro-dollars (see budget.h). */
#include "budget.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

struct vml_budget {
    sqlite3 *db;
    time_t last_reconcile;
};

static const char *const money_steps[] = {
    "CREATE TABLE money_settings(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE money_ledger("
    " job_id TEXT PRIMARY KEY,"
    " month TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK(state IN ('reserved','settled')),"
    " reserved INTEGER NOT NULL CHECK(reserved >= 0),"
    " accrued INTEGER NOT NULL DEFAULT 0 CHECK(accrued >= 0),"
    " final INTEGER CHECK(final IS NULL OR final >= 0),"
    " estimate INTEGER,"
    " cap INTEGER,"
    " override INTEGER NOT NULL DEFAULT 0,"
    " override_by TEXT,"
    " pid INTEGER, pid_start INTEGER, host TEXT,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL, settled_at INTEGER, note TEXT);"
    "CREATE INDEX money_ledger_month ON money_ledger(month, state);"
    "CREATE INDEX money_ledger_open ON money_ledger(state) WHERE state = 'reserved';"
    "CREATE TABLE money_events(id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
    " job_id TEXT, kind TEXT NOT NULL, amount INTEGER, detail TEXT);",
};

/* {============================================================ small helpers */

static time_t now_s(void)
{
    const char *fake = getenv("VIBEML_BUDGET_NOW");
    if (fake && *fake)
        return (time_t)strtoll(fake, NULL, 10);
    return time(NULL);
}

void vml_budget_month(char buf[8])
{
    time_t t = now_s();
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strftime(buf, 8, "%Y-%m", &tm) != 7)
        snprintf(buf, 8, "0000-00");
}

/* Test hook: VIBEML_TEST_BUDGET_PAUSE=<point> makes the process announce the point on stderr and
 * sleep there, so a test can SIGKILL it at exactly that moment. */
static void pause_point(const char *point)
{
    const char *want = getenv("VIBEML_TEST_BUDGET_PAUSE");
    if (want && strcmp(want, point) == 0) {
        fprintf(stderr, "money: paused at %s\n", point);
        fflush(stderr);
        sleep(60);
    }
}

/* Start time of pid in clock ticks since boot (/proc/<pid>/stat field 22), 0 when unknown. */
static int64_t proc_start(pid_t pid)
{
    char path[64], buf[1024], *p;
    FILE *f;
    size_t n;
    int field;
    unsigned long long v = 0;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return 0;
    if (p[1] && p[2] == 'Z')
        return 0; /* a zombie is gone */
    for (field = 2; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu", &v) != 1)
        return 0;
    return (int64_t)v;
}

static int pid_alive(int64_t pid, int64_t start)
{
    if (pid <= 0)
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 0;
    if (start > 0) {
        int64_t now = proc_start((pid_t)pid);
        return now == start;
    }
    return 1;
}

static void hostname(char *buf, size_t n)
{
    if (gethostname(buf, n) != 0)
        snprintf(buf, n, "unknown");
    buf[n - 1] = '\0';
}

const char *vml_budget_format_usd(int64_t micros, char *buf, size_t n)
{
    int neg = micros < 0;
    uint64_t m = neg ? (uint64_t)(-(micros + 1)) + 1 : (uint64_t)micros;
    uint64_t whole = m / 1000000, frac = m % 1000000;
    if (frac % 10000 == 0)
        snprintf(buf, n, "%s$%llu.%02llu", neg ? "-" : "", (unsigned long long)whole,
                 (unsigned long long)(frac / 10000));
    else {
        char f[8];
        int len;
        snprintf(f, sizeof f, "%06llu", (unsigned long long)frac);
        for (len = 6; len > 2 && f[len - 1] == '0'; len--)
            ;
        f[len] = '\0';
        snprintf(buf, n, "%s$%llu.%s", neg ? "-" : "", (unsigned long long)whole, f);
    }
    return buf;
}

int vml_budget_parse_usd(const char *text, int64_t *out, vml_err *err)
{
    const char *p = text;
    int64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0;
    if (!p)
        goto bad;
    while (*p == ' ')
        p++;
    if (*p == '$')
        p++;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (whole > (INT64_MAX / VML_MICROS_PER_USD - 9) / 10)
                return vml_err_set(err, VML_EINVAL, "'%s' is too large an amount", text);
            whole = whole * 10 + (*p - '0');
            digits++;
        } else if (*p == ',' && digits > 0) {
            continue;
        } else {
            break;
        }
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (++fdigits > 6)
                return vml_err_set(err, VML_EINVAL,
                                   "'%s' has more than 6 decimals (amounts are exact to a "
                                   "millionth of a dollar)",
                                   text);
            frac = frac * 10 + (*p - '0');
        }
    }
    while (*p == ' ')
        p++;
    if (*p || (digits == 0 && fdigits == 0))
        goto bad;
    while (fdigits < 6) {
        frac *= 10;
        fdigits++;
    }
    *out = whole * VML_MICROS_PER_USD + frac;
    return 0;
bad:
    return vml_err_set(err, VML_EINVAL,
                       "'%s' is not an amount of dollars: write it like 50, 12.50 or $1,200",
                       text ? text : "");
}

int vml_budget_from_double(double usd, int64_t *out, vml_err *err)
{
    double m = usd * 1e6;
    if (!isfinite(usd) || fabs(m) > 9e15)
        return vml_err_set(err, VML_EINVAL, "%g is not a usable amount of dollars", usd);
    *out = (int64_t)llround(m);
    return 0;
}

static int one_int(sqlite3 *db, const char *sql, int64_t *out, vml_err *err, const char *fmt,
                   const char *arg)
{
    sqlite3_stmt *st = NULL;
    int rc = vml_store_prepare(db, sql, &st, err, fmt, arg);
    if (rc < 0)
        return rc;
    rc = vml_store_step(st, err);
    if (rc == 1) {
        *out = sqlite3_column_type(st, 0) == SQLITE_NULL ? VML_BUDGET_NONE
                                                         : sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (rc == 0) {
        *out = VML_BUDGET_NONE;
    }
    sqlite3_finalize(st);
    return rc;
}

static int event(sqlite3 *db, const char *job_id, const char *kind, int64_t amount,
                 const char *detail, vml_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = vml_store_prepare(db,
                               "INSERT INTO money_events(at, job_id, kind, amount, detail) "
                               "VALUES(?, ?, ?, ?, ?)",
                               &st, err, "issis", (int64_t)now_s(), job_id, kind, amount, detail);
    if (rc < 0)
        return rc;
    rc = vml_store_step(st, err);
    sqlite3_finalize(st);
    return rc < 0 ? rc : 0;
}

/* }============================================================ */

/* {============================================================ open, limits */

int vml_budget_open(const char *db_path, vml_budget **out, vml_err *err)
{
    vml_budget *b;
    int rc;
    *out = NULL;
    b = calloc(1, sizeof *b);
    if (!b)
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    if ((rc = vml_store_open(db_path, &b->db, err)) < 0)
        goto fail;
    if ((rc = vml_store_migrate(b->db, "money", money_steps,
                                sizeof money_steps / sizeof money_steps[0], NULL, err)) < 0)
        goto fail;
    if ((rc = vml_budget_reconcile(b, -1, NULL, err)) < 0)
        goto fail;
    *out = b;
    return 0;
fail:
    vml_budget_close(b);
    return rc;
}

void vml_budget_close(vml_budget *b)
{
    if (!b)
        return;
    vml_store_close(b->db);
    free(b);
}

sqlite3 *vml_budget_db(vml_budget *b)
{
    return b->db;
}

static int get_setting(sqlite3 *db, const char *key, int64_t *out, vml_err *err)
{
    return one_int(db, "SELECT value FROM money_settings WHERE key = ?", out, err, "s", key);
}

static int put_setting(sqlite3 *db, const char *key, int64_t v, vml_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (v == VML_BUDGET_NONE)
        rc = vml_store_prepare(db, "DELETE FROM money_settings WHERE key = ?", &st, err, "s", key);
    else
        rc = vml_store_prepare(db,
                               "INSERT INTO money_settings(key, value) VALUES(?, ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                               &st, err, "si", key, v);
    if (rc < 0)
        return rc;
    rc = vml_store_step(st, err);
    sqlite3_finalize(st);
    return rc < 0 ? rc : event(db, NULL, key, v, "limit set", err);
}

int vml_budget_set_limits(vml_budget *b, unsigned which, int64_t monthly, int64_t per_job,
                          vml_err *err)
{
    int rc;
    if (((which & 1) && monthly < 0 && monthly != VML_BUDGET_NONE) ||
        ((which & 2) && per_job < 0 && per_job != VML_BUDGET_NONE))
        return vml_err_set(err, VML_EINVAL, "a budget cannot be negative");
    if ((rc = vml_store_begin(b->db, "IMMEDIATE", err)) < 0)
        return rc;
    if ((which & 1) && (rc = put_setting(b->db, "monthly_limit", monthly, err)) < 0)
        goto fail;
    if ((which & 2) && (rc = put_setting(b->db, "per_job_cap", per_job, err)) < 0)
        goto fail;
    return vml_store_commit(b->db, err);
fail:
    vml_store_rollback(b->db);
    return rc;
}

int vml_budget_get_limits(vml_budget *b, int64_t *monthly, int64_t *per_job, vml_err *err)
{
    int rc = get_setting(b->db, "monthly_limit", monthly, err);
    if (rc == 0)
        rc = get_setting(b->db, "per_job_cap", per_job, err);
    return rc;
}

/* What month has used: settled finals + open max(reserved, accrued). */
static int month_use(sqlite3 *db, const char *month, int64_t *spent, int64_t *held, vml_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = vml_store_prepare(db,
                               "SELECT COALESCE(SUM(CASE WHEN state = 'settled' THEN final END), "
                               "0), COALESCE(SUM(CASE WHEN state = 'reserved' THEN "
                               "MAX(reserved, accrued) END), 0) FROM money_ledger WHERE month = ?",
                               &st, err, "s", month);
    if (rc < 0)
        return rc;
    rc = vml_store_step(st, err);
    if (rc == 1) {
        *spent = sqlite3_column_int64(st, 0);
        *held = sqlite3_column_int64(st, 1);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

/* }============================================================ */

/* {============================================================ reserve, accrue, settle */

int vml_budget_reserve(vml_budget *b, const char *job_id, int64_t amount, int64_t cap, int override,
                       const char *override_by, vml_budget_info *info, vml_err *err)
{
    vml_budget_info local, *in = info ? info : &local;
    sqlite3_stmt *st = NULL;
    int64_t spent = 0, held = 0, existing = VML_BUDGET_NONE;
    char host[256];
    int rc;

    memset(in, 0, sizeof *in);
    in->limit = in->remaining = in->cap = in->per_job_cap = VML_BUDGET_NONE;
    if (!job_id || !*job_id || strlen(job_id) > 200)
        return vml_err_set(err, VML_EINVAL, "reserve: a job id is required");
    if (amount <= 0)
        return vml_err_set(err, VML_EINVAL, "reserve: the amount must be more than $0");
    if (cap != VML_BUDGET_NONE && cap <= 0)
        return vml_err_set(err, VML_EINVAL, "reserve: a job's cap must be more than $0");
    if (time(NULL) - b->last_reconcile >= 60)
        vml_budget_reconcile(b, -1, NULL, NULL);
    hostname(host, sizeof host);
    vml_budget_month(in->month);
    in->estimate = amount;

    if ((rc = vml_store_begin(b->db, "IMMEDIATE", err)) < 0)
        return rc;
    pause_point("reserve-begin");
    if ((rc = one_int(b->db, "SELECT reserved FROM money_ledger WHERE job_id = ?", &existing, err,
                      "s", job_id)) < 0)
        goto fail;
    if ((rc = vml_budget_get_limits(b, &in->limit, &in->per_job_cap, err)) < 0)
        goto fail;
    if ((rc = month_use(b->db, in->month, &spent, &held, err)) < 0)
        goto fail;
    in->used = spent + held;
    in->cap = cap;
    if (in->per_job_cap != VML_BUDGET_NONE && (cap == VML_BUDGET_NONE || cap > in->per_job_cap))
        in->cap = in->per_job_cap;
    in->needed = in->cap != VML_BUDGET_NONE ? in->cap : amount;
    in->capped = in->cap != VML_BUDGET_NONE && amount > in->cap;
    if (in->limit != VML_BUDGET_NONE)
        in->remaining = in->limit - in->used;
    if (existing != VML_BUDGET_NONE) {
        in->existing = 1;
        in->needed = existing;
        vml_store_rollback(b->db);
        return 0;
    }
    if (in->limit != VML_BUDGET_NONE && in->needed > in->remaining) {
        if (!override) {
            vml_store_rollback(b->db);
            /* the numbers are in *in; the wording is the caller's (lua/vibeml/budget.lua) */
            return vml_err_set(err, VML_EMONEY, "over this month's budget");
        }
        in->override = 1;
    }
    {
        int64_t t = (int64_t)now_s();
        pid_t pid = getpid();
        rc = vml_store_prepare(
            b->db,
            "INSERT INTO money_ledger(job_id, month, state, reserved, estimate,"
            " cap, override, override_by, pid, pid_start, host, created, "
            "updated) VALUES(?, ?, 'reserved', ?, ?, NULLIF(?, -1), ?, ?, ?, ?, ?, ?, ?)",
            &st, err,
            "ssii"
            "i"
            "is"
            "iisii",
            job_id, in->month, in->needed, amount, in->cap, (int64_t)in->override,
            in->override ? override_by : NULL, (int64_t)pid, proc_start(pid), host, t, t);
    }
    if (rc < 0)
        goto fail;
    rc = vml_store_step(st, err);
    sqlite3_finalize(st);
    st = NULL;
    if (rc < 0)
        goto fail;
    if ((rc = event(b->db, job_id, in->override ? "override" : "reserve", in->needed,
                    in->override ? (override_by ? override_by : "override") : NULL, err)) < 0)
        goto fail;
    pause_point("reserve");
    if ((rc = vml_store_commit(b->db, err)) < 0)
        goto fail;
    pause_point("reserve-after");
    return 0;
fail:
    vml_store_rollback(b->db);
    return rc;
}

int vml_budget_set_cap(vml_budget *b, const char *job_id, int64_t new_cap, int override,
                       const char *override_by, vml_budget_info *info, vml_err *err)
{
    vml_budget_info local, *in = info ? info : &local;
    sqlite3_stmt *st = NULL;
    int64_t spent = 0, held = 0, reserved = 0;
    int settled = 0, rc;

    memset(in, 0, sizeof *in);
    in->limit = in->remaining = in->cap = in->per_job_cap = in->old_cap = VML_BUDGET_NONE;
    in->estimate = VML_BUDGET_NONE;
    if (!job_id || !*job_id || strlen(job_id) > 200)
        return vml_err_set(err, VML_EINVAL, "set_cap: a job id is required");
    if (new_cap <= 0)
        return vml_err_set(err, VML_EINVAL, "set_cap: a job's cap must be more than $0");
    in->cap = new_cap;
    if ((rc = vml_store_begin(b->db, "IMMEDIATE", err)) < 0)
        return rc;
    rc = vml_store_prepare(b->db,
                           "SELECT state = 'settled', reserved, accrued, cap, month FROM "
                           "money_ledger WHERE job_id = ?",
                           &st, err, "s", job_id);
    if (rc < 0)
        goto out;
    if ((rc = vml_store_step(st, err)) < 0)
        goto out;
    if (rc == 0) {
        rc = vml_err_set(err, VML_ENOENT, "job '%s' has no entry in the ledger", job_id);
        goto out;
    }
    settled = sqlite3_column_int(st, 0);
    reserved = sqlite3_column_int64(st, 1);
    in->accrued = sqlite3_column_int64(st, 2);
    if (sqlite3_column_type(st, 3) != SQLITE_NULL)
        in->old_cap = sqlite3_column_int64(st, 3);
    snprintf(in->month, sizeof in->month, "%s", (const char *)sqlite3_column_text(st, 4));
    sqlite3_finalize(st);
    st = NULL;
    if (settled) {
        rc = vml_err_set(err, VML_ESTATE, "job '%s' has ended: its cost is settled", job_id);
        goto out;
    }
    if ((rc = vml_budget_get_limits(b, &in->limit, &in->per_job_cap, err)) < 0)
        goto out;
    if ((rc = month_use(b->db, in->month, &spent, &held, err)) < 0)
        goto out;
    in->used = spent + held;
    if (in->limit != VML_BUDGET_NONE)
        in->remaining = in->limit - in->used;
    /* the month holds max(reserved, accrued) for an open entry; afterwards new_cap */
    in->needed = new_cap - (reserved > in->accrued ? reserved : in->accrued);
    if (new_cap < in->accrued) {
        rc = vml_err_set(err, VML_EINVAL, "the cap is below the cost so far");
        goto out;
    }
    if (in->needed > 0 && ((in->limit != VML_BUDGET_NONE && in->needed > in->remaining) ||
                           (in->per_job_cap != VML_BUDGET_NONE && new_cap > in->per_job_cap))) {
        if (!override) {
            /* the numbers are in *in; the wording is the caller's (lua/vibeml/budget.lua) */
            rc = vml_err_set(err, VML_EMONEY, "over this month's budget or the per-job cap");
            goto out;
        }
        in->override = 1;
    }
    rc = vml_store_prepare(b->db,
                           "UPDATE money_ledger SET reserved = ?1, cap = ?1, updated = ?2, "
                           "override = MAX(override, ?3), override_by = COALESCE(?4, override_by) "
                           "WHERE job_id = ?5 AND state = 'reserved'",
                           &st, err, "iiiss", new_cap, (int64_t)now_s(), (int64_t)in->override,
                           in->override ? override_by : NULL, job_id);
    if (rc < 0)
        goto out;
    if ((rc = vml_store_step(st, err)) < 0)
        goto out;
    if ((rc = event(b->db, job_id, in->override ? "cap_override" : "cap", new_cap,
                    in->override ? (override_by ? override_by : "override") : NULL, err)) < 0)
        goto out;
    rc = vml_store_commit(b->db, err);
out:
    sqlite3_finalize(st);
    if (rc < 0)
        vml_store_rollback(b->db);
    return rc < 0 ? rc : 0;
}

int vml_budget_accrue(vml_budget *b, const char *job_id, int64_t cost, int *over_cap,
                      int64_t *cap_out, vml_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (over_cap)
        *over_cap = 0;
    if (cap_out)
        *cap_out = VML_BUDGET_NONE;
    if (cost < 0)
        return vml_err_set(err, VML_EINVAL, "accrue: a cost cannot be negative");
    rc = vml_store_prepare(b->db,
                           "UPDATE money_ledger SET accrued = MAX(accrued, ?1), updated = ?2 "
                           "WHERE job_id = ?3 AND state = 'reserved' RETURNING accrued, cap",
                           &st, err, "iis", cost, (int64_t)now_s(), job_id);
    if (rc < 0)
        return rc;
    rc = vml_store_step(st, err);
    if (rc == 1) {
        int64_t acc = sqlite3_column_int64(st, 0);
        int has_cap = sqlite3_column_type(st, 1) != SQLITE_NULL;
        int64_t cap = sqlite3_column_int64(st, 1);
        if (cap_out && has_cap)
            *cap_out = cap;
        if (over_cap)
            *over_cap = has_cap && acc >= cap;
        rc = 0;
    } else if (rc == 0) {
        rc = vml_err_set(err, VML_ENOENT, "job '%s' has no open reservation in the ledger", job_id);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Settles inside an open transaction. */
static int settle_locked(vml_budget *b, const char *job_id, int64_t final, const char *why,
                         vml_err *err)
{
    sqlite3_stmt *st = NULL;
    int64_t t = (int64_t)now_s(), state_open = VML_BUDGET_NONE;
    char month[8];
    int rc;
    if ((rc = one_int(b->db,
                      "SELECT CASE state WHEN 'reserved' THEN 1 ELSE 0 END FROM money_ledger "
                      "WHERE job_id = ?",
                      &state_open, err, "s", job_id)) < 0)
        return rc;
    if (state_open == 0)
        return 0; /* settled already: the first final stands */
    if (state_open == VML_BUDGET_NONE) {
        vml_budget_month(month);
        rc = vml_store_prepare(b->db,
                               "INSERT INTO money_ledger(job_id, month, state, reserved, accrued,"
                               " final, created, updated, settled_at, note) "
                               "VALUES(?, ?, 'settled', 0, ?, ?, ?, ?, ?, ?)",
                               &st, err, "ssiiiiis", job_id, month, final, final, t, t, t,
                               "settled without a reservation");
    } else {
        rc = vml_store_prepare(b->db,
                               "UPDATE money_ledger SET state = 'settled', final = ?1, "
                               "accrued = MAX(accrued, ?1), updated = ?2, settled_at = ?2, "
                               "note = ?3 WHERE job_id = ?4 AND state = 'reserved'",
                               &st, err, "iiss", final, t, why, job_id);
    }
    if (rc < 0)
        return rc;
    rc = vml_store_step(st, err);
    sqlite3_finalize(st);
    if (rc < 0)
        return rc;
    return event(b->db, job_id, "settle", final, why, err);
}

int vml_budget_settle(vml_budget *b, const char *job_id, int64_t final, vml_err *err)
{
    int rc;
    if (!job_id || !*job_id)
        return vml_err_set(err, VML_EINVAL, "settle: a job id is required");
    if (final < 0)
        return vml_err_set(err, VML_EINVAL, "settle: a final cost cannot be negative");
    if ((rc = vml_store_begin(b->db, "IMMEDIATE", err)) < 0)
        return rc;
    if ((rc = settle_locked(b, job_id, final, NULL, err)) < 0)
        goto fail;
    pause_point("settle");
    return vml_store_commit(b->db, err);
fail:
    vml_store_rollback(b->db);
    return rc;
}

int vml_budget_release(vml_budget *b, const char *job_id, vml_err *err)
{
    int64_t accrued = VML_BUDGET_NONE;
    int rc;
    if ((rc = vml_store_begin(b->db, "IMMEDIATE", err)) < 0)
        return rc;
    if ((rc = one_int(b->db,
                      "SELECT accrued FROM money_ledger WHERE job_id = ? AND state = 'reserved'",
                      &accrued, err, "s", job_id)) < 0)
        goto fail;
    if (accrued == VML_BUDGET_NONE) {
        vml_store_rollback(b->db);
        return 0; /* nothing open: released or settled already */
    }
    if ((rc = settle_locked(b, job_id, accrued, "released", err)) < 0)
        goto fail;
    return vml_store_commit(b->db, err);
fail:
    vml_store_rollback(b->db);
    return rc;
}

/* }============================================================ */

/* {============================================================ reconcile */

/* 1 when the jobs component has defined its view job_outcomes (lua/vibeml/jobs/db.lua). */
static int have_outcomes(sqlite3 *db)
{
    int64_t n = 0;
    return one_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'job_outcomes'", &n, NULL,
                   NULL, NULL) == 0 &&
           n > 0;
}

typedef struct open_row {
    char job_id[208];
    int64_t accrued, pid, pid_start, created;
    char host[256];
} open_row;

int vml_budget_reconcile(vml_budget *b, double grace, int *fixed, vml_err *err)
{
    sqlite3_stmt *st = NULL;
    open_row *rows = NULL;
    size_t n = 0, cap = 0, i;
    int rc = 0, count = 0, have_jobs;
    char myhost[256];
    int64_t t = (int64_t)now_s();

    if (fixed)
        *fixed = 0;
    b->last_reconcile = time(NULL);
    if (grace < 0) {
        const char *g = getenv("VIBEML_BUDGET_GRACE");
        grace = g && *g ? strtod(g, NULL) : 300;
    }
    hostname(myhost, sizeof myhost);
    rc = vml_store_prepare(b->db,
                           "SELECT job_id, accrued, pid, pid_start, host, created FROM "
                           "money_ledger WHERE state = 'reserved'",
                           &st, err, NULL);
    if (rc < 0)
        return rc;
    while ((rc = vml_store_step(st, err)) == 1) {
        if (n == cap) {
            open_row *nr;
            cap = cap ? cap * 2 : 16;
            nr = realloc(rows, cap * sizeof *nr);
            if (!nr) {
                rc = vml_err_set(err, VML_ENOMEM, "out of memory");
                goto out;
            }
            rows = nr;
        }
        memset(&rows[n], 0, sizeof rows[n]);
        snprintf(rows[n].job_id, sizeof rows[n].job_id, "%s",
                 (const char *)sqlite3_column_text(st, 0));
        rows[n].accrued = sqlite3_column_int64(st, 1);
        rows[n].pid = sqlite3_column_int64(st, 2);
        rows[n].pid_start = sqlite3_column_int64(st, 3);
        snprintf(rows[n].host, sizeof rows[n].host, "%s",
                 sqlite3_column_text(st, 4) ? (const char *)sqlite3_column_text(st, 4) : "");
        rows[n].created = sqlite3_column_int64(st, 5);
        n++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc < 0)
        goto out;
    rc = 0;
    if (n == 0)
        goto out;
    have_jobs = have_outcomes(b->db);
    for (i = 0; i < n; i++) {
        open_row *r = &rows[i];
        int job_found = 0, ended = 0;
        int64_t job_cost = 0;
        const char *why = NULL;
        if (have_jobs) {
            if (vml_store_prepare(b->db, "SELECT ended, cost_usd FROM job_outcomes WHERE id = ?",
                                  &st, NULL, "s", r->job_id) == 0 &&
                vml_store_step(st, NULL) == 1) {
                job_found = 1;
                ended = sqlite3_column_int(st, 0) != 0;
                if (sqlite3_column_type(st, 1) != SQLITE_NULL)
                    vml_budget_from_double(sqlite3_column_double(st, 1), &job_cost, NULL);
            }
            sqlite3_finalize(st);
            st = NULL;
        }
        if (job_found && ended) {
            why = "reconciled: the job had ended";
        } else if (have_jobs && !job_found && (double)(t - r->created) >= grace) {
            int gone = strcmp(r->host, myhost) == 0 ? !pid_alive(r->pid, r->pid_start)
                                                    : t - r->created >= 24 * 3600;
            if (gone) {
                why = "reconciled: released, the launch never recorded a job";
                job_cost = 0;
            }
        }
        if (!why)
            continue;
        if (vml_store_begin(b->db, "IMMEDIATE", err) < 0)
            continue;
        {
            int64_t final = r->accrued > job_cost ? r->accrued : job_cost;
            int64_t still = VML_BUDGET_NONE;
            if (one_int(b->db,
                        "SELECT accrued FROM money_ledger WHERE job_id = ? AND state = "
                        "'reserved'",
                        &still, err, "s", r->job_id) == 0 &&
                still != VML_BUDGET_NONE) {
                if (still > final)
                    final = still;
                if (settle_locked(b, r->job_id, final, why, err) < 0) {
                    vml_store_rollback(b->db);
                    continue;
                }
                count++;
            }
        }
        if (vml_store_commit(b->db, err) < 0)
            vml_store_rollback(b->db);
    }
out:
    sqlite3_finalize(st);
    free(rows);
    if (fixed)
        *fixed = count;
    return rc < 0 ? rc : 0;
}

/* }============================================================ */

/* {============================================================ status */

static json_t *usd(int64_t micros)
{
    if (micros == VML_BUDGET_NONE)
        return json_null();
    if (micros % VML_MICROS_PER_USD == 0)
        return json_integer(micros / VML_MICROS_PER_USD);
    return json_real((double)micros / 1e6);
}

int vml_budget_status(vml_budget *b, const char *month, json_t **out, vml_err *err)
{
    char m[8];
    int64_t limit = 0, per_job = 0, spent = 0, held = 0; /* -O2 cannot prove they are set */
    json_t *root = NULL, *jobs;
    sqlite3_stmt *st = NULL;
    int rc;

    *out = NULL;
    if (time(NULL) - b->last_reconcile >= 60)
        vml_budget_reconcile(b, -1, NULL, NULL);
    if (month)
        snprintf(m, sizeof m, "%s", month);
    else
        vml_budget_month(m);
    if ((rc = vml_budget_get_limits(b, &limit, &per_job, err)) < 0)
        return rc;
    if ((rc = month_use(b->db, m, &spent, &held, err)) < 0)
        return rc;
    root = json_object();
    jobs = json_array();
    json_object_set_new(root, "month", json_string(m));
    json_object_set_new(root, "monthly_limit", usd(limit));
    json_object_set_new(root, "spent", usd(spent));
    json_object_set_new(root, "reserved", usd(held));
    json_object_set_new(root, "remaining",
                        limit == VML_BUDGET_NONE ? json_null() : usd(limit - spent - held));
    json_object_set_new(root, "used_percent",
                        limit == VML_BUDGET_NONE || limit == 0
                            ? json_null()
                            : json_real((double)((spent + held) * 1000 / limit) / 10.0));
    json_object_set_new(root, "per_job_cap", usd(per_job));
    rc = vml_store_prepare(b->db,
                           "SELECT job_id, state, reserved, accrued, final, cap, override, "
                           "override_by, created, estimate, note FROM money_ledger WHERE month = ? "
                           "ORDER BY created DESC, job_id LIMIT 200",
                           &st, err, "s", m);
    if (rc < 0)
        goto fail;
    while ((rc = vml_store_step(st, err)) == 1) {
        json_t *j = json_object();
        json_object_set_new(j, "job_id", json_string((const char *)sqlite3_column_text(st, 0)));
        json_object_set_new(j, "state", json_string((const char *)sqlite3_column_text(st, 1)));
        json_object_set_new(j, "reserved", usd(sqlite3_column_int64(st, 2)));
        json_object_set_new(j, "accrued", usd(sqlite3_column_int64(st, 3)));
        json_object_set_new(j, "final",
                            sqlite3_column_type(st, 4) == SQLITE_NULL
                                ? json_null()
                                : usd(sqlite3_column_int64(st, 4)));
        json_object_set_new(j, "cap",
                            sqlite3_column_type(st, 5) == SQLITE_NULL
                                ? json_null()
                                : usd(sqlite3_column_int64(st, 5)));
        json_object_set_new(j, "override", json_boolean(sqlite3_column_int64(st, 6)));
        json_object_set_new(j, "override_by",
                            sqlite3_column_type(st, 7) == SQLITE_NULL
                                ? json_null()
                                : json_string((const char *)sqlite3_column_text(st, 7)));
        json_object_set_new(j, "created", json_integer(sqlite3_column_int64(st, 8)));
        json_object_set_new(j, "estimate",
                            sqlite3_column_type(st, 9) == SQLITE_NULL
                                ? json_null()
                                : usd(sqlite3_column_int64(st, 9)));
        if (sqlite3_column_type(st, 10) != SQLITE_NULL)
            json_object_set_new(j, "note", json_string((const char *)sqlite3_column_text(st, 10)));
        json_array_append_new(jobs, j);
    }
    sqlite3_finalize(st);
    if (rc < 0)
        goto fail;
    json_object_set_new(root, "jobs", jobs);
    *out = root;
    return 0;
fail:
    json_decref(jobs);
    json_decref(root);
    return rc;
}

/* }============================================================ */

/* SPDX-License-Identifier: MIT
 * test_budget — the money ledger: exact amounts, limits, refusals, caps, a fork race, months,
 * settlement and reconciliation after crashes. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"
#include "budget.h"
#include "store.h"

static char home[256];
#define USD(x) ((int64_t)(x)*VML_MICROS_PER_USD)

static int setup(void **state)
{
    vml_budget *b = NULL;
    vml_err err;
    vml_test_home(home, sizeof home, "budget");
    unsetenv("VIBEML_BUDGET_NOW");
    unsetenv("VIBEML_BUDGET_GRACE");
    if (vml_budget_open(NULL, &b, &err) < 0)
        fail_msg("open: %s", vml_err_msg(&err));
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    vml_budget_close(*state);
    vml_test_rm_rf(home);
    unsetenv("VIBEML_BUDGET_NOW");
    return 0;
}

static int64_t q(vml_budget *b, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -999;
    assert_int_equal(sqlite3_prepare_v2(vml_budget_db(b), sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_parse_format(void **state)
{
    static const struct {
        const char *text;
        int64_t micros;
    } ok[] = {
        {"50", 50000000}, {"12.5", 12500000}, {"$12.345678", 12345678}, {"1,250.00", 1250000000},
        {"0.000001", 1},  {".5", 500000},     {" 7 ", 7000000},         {"0", 0}};
    static const char *const bad[] = {"", "abc", "-5", "1.2345678", "12.3.4", "5 USD", "$", "1e3"};
    char buf[48];
    int64_t v;
    vml_err err;
    size_t i;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(vml_budget_parse_usd(ok[i].text, &v, &err), 0);
        assert_int_equal(v, ok[i].micros);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(vml_budget_parse_usd(bad[i], &v, &err), VML_EINVAL);
    assert_string_equal(vml_budget_format_usd(50000000, buf, sizeof buf), "$50.00");
    assert_string_equal(vml_budget_format_usd(12345678, buf, sizeof buf), "$12.345678");
    assert_string_equal(vml_budget_format_usd(12340000, buf, sizeof buf), "$12.34");
    assert_string_equal(vml_budget_format_usd(1, buf, sizeof buf), "$0.000001");
    assert_string_equal(vml_budget_format_usd(-1000000, buf, sizeof buf), "-$1.00");
    assert_int_equal(vml_budget_from_double(0.1, &v, &err), 0);
    assert_int_equal(v, 100000);
    assert_int_equal(vml_budget_from_double(1.0 / 0.0, &v, &err), VML_EINVAL);
}

static void test_limits_and_refusal(void **state)
{
    vml_budget *b = *state;
    vml_budget_info in;
    vml_err err;
    int64_t m, p;
    int i;
    assert_int_equal(vml_budget_get_limits(b, &m, &p, &err), 0);
    assert_int_equal(m, VML_BUDGET_NONE);
    assert_int_equal(vml_budget_set_limits(b, 1, USD(100), 0, &err), 0);
    /* 0.10 ten times is exactly 1.00 */
    for (i = 0; i < 10; i++) {
        char job[16];
        snprintf(job, sizeof job, "s%d", i);
        assert_int_equal(vml_budget_reserve(b, job, 100000, VML_BUDGET_NONE, 0, NULL, &in, &err),
                         0);
    }
    assert_int_equal(q(b, "SELECT SUM(reserved) FROM money_ledger"), USD(1));
    assert_int_equal(vml_budget_reserve(b, "a", USD(69), VML_BUDGET_NONE, 0, NULL, &in, &err), 0);
    assert_int_equal(in.used, USD(1));
    assert_int_equal(in.remaining, USD(99));
    /* remaining is exactly 30: 30.000001 is refused, 30 fits */
    assert_int_equal(vml_budget_reserve(b, "b", USD(30) + 1, VML_BUDGET_NONE, 0, NULL, &in, &err),
                     VML_EMONEY);
    /* the numbers of the refusal (its wording is lua/vibeml/budget.lua's) */
    assert_int_equal(in.remaining, USD(30));
    assert_int_equal(in.needed, USD(30) + 1);
    assert_int_equal(in.used, USD(70));
    assert_int_equal(in.limit, USD(100));
    assert_int_equal(q(b, "SELECT COUNT(*) FROM money_ledger WHERE job_id = 'b'"), 0);
    assert_int_equal(vml_budget_reserve(b, "c", USD(30), VML_BUDGET_NONE, 0, NULL, &in, &err), 0);
    assert_int_equal(in.used + in.needed, USD(100));
    /* full: an override by a person goes through and is recorded */
    assert_int_equal(vml_budget_reserve(b, "d", USD(50), VML_BUDGET_NONE, 0, NULL, &in, &err),
                     VML_EMONEY);
    assert_int_equal(in.remaining, 0);
    assert_int_equal(in.needed, USD(50));
    assert_int_equal(
        vml_budget_reserve(b, "d", USD(50), VML_BUDGET_NONE, 1, "elicitation", &in, &err), 0);
    assert_true(in.override);
    assert_int_equal(q(b, "SELECT override FROM money_ledger WHERE job_id = 'd'"), 1);
    assert_int_equal(q(b, "SELECT COUNT(*) FROM money_events WHERE job_id = 'd' AND kind = "
                          "'override'"),
                     1);
    /* bad input */
    assert_int_equal(vml_budget_reserve(b, "", USD(1), VML_BUDGET_NONE, 0, NULL, &in, &err),
                     VML_EINVAL);
    assert_int_equal(vml_budget_reserve(b, "e", 0, VML_BUDGET_NONE, 0, NULL, &in, &err),
                     VML_EINVAL);
    assert_int_equal(vml_budget_set_limits(b, 1, -5, 0, &err), VML_EINVAL);
}

static void test_caps_accrue_settle(void **state)
{
    vml_budget *b = *state;
    vml_budget_info in;
    vml_err err;
    int over;
    int64_t cap;
    json_t *st = NULL;
    assert_int_equal(vml_budget_set_limits(b, 3, USD(100), USD(10), &err), 0);
    assert_int_equal(vml_budget_reserve(b, "j", USD(25), VML_BUDGET_NONE, 0, NULL, &in, &err), 0);
    assert_int_equal(in.needed, USD(10));
    assert_true(in.capped);
    assert_int_equal(vml_budget_reserve(b, "k", USD(25), USD(4), 0, NULL, &in, &err), 0);
    assert_int_equal(in.needed, USD(4));
    assert_int_equal(vml_budget_accrue(b, "j", USD(9), &over, &cap, &err), 0);
    assert_false(over);
    assert_int_equal(cap, USD(10));
    assert_int_equal(vml_budget_accrue(b, "j", USD(3), &over, &cap, &err), 0); /* monotonic */
    assert_int_equal(q(b, "SELECT accrued FROM money_ledger WHERE job_id = 'j'"), USD(9));
    assert_int_equal(vml_budget_accrue(b, "j", USD(10), &over, &cap, &err), 0);
    assert_true(over);
    assert_int_equal(vml_budget_accrue(b, "nope", USD(1), &over, &cap, &err), VML_ENOENT);
    assert_int_equal(vml_budget_settle(b, "j", 10123456, &err), 0);
    assert_int_equal(vml_budget_settle(b, "j", USD(99), &err), 0); /* first final stands */
    assert_int_equal(q(b, "SELECT final FROM money_ledger WHERE job_id = 'j'"), 10123456);
    assert_int_equal(vml_budget_accrue(b, "j", USD(11), &over, &cap, &err), VML_ENOENT);
    assert_int_equal(vml_budget_release(b, "k", &err), 0);
    assert_int_equal(q(b, "SELECT final FROM money_ledger WHERE job_id = 'k'"), 0);
    assert_int_equal(vml_budget_settle(b, "never-reserved", 2500000, &err), 0);
    assert_int_equal(q(b, "SELECT final FROM money_ledger WHERE job_id = 'never-reserved'"),
                     2500000);
    assert_int_equal(vml_budget_status(b, NULL, &st, &err), 0);
    assert_int_equal(json_array_size(json_object_get(st, "jobs")), 3);
    assert_true(json_real_value(json_object_get(st, "spent")) == 12.623456);
    assert_int_equal(json_integer_value(json_object_get(st, "monthly_limit")), 100);
    json_decref(st);
}

/* A running job's cap changes: the reservation follows it, a raise is checked against the month
 * and the per-job cap (refused with the numbers, or recorded as a person's override), a cap below
 * the cost so far and a settled job are refused, and the new cap is the one accrue enforces. */
static void test_set_cap(void **state)
{
    vml_budget *b = *state;
    vml_budget_info in;
    vml_err err;
    int over;
    int64_t cap;
    assert_int_equal(vml_budget_set_limits(b, 3, USD(10), USD(6), &err), 0);
    assert_int_equal(vml_budget_reserve(b, "other", USD(3), USD(3), 0, NULL, &in, &err), 0);
    assert_int_equal(vml_budget_reserve(b, "j", USD(2), USD(2), 0, NULL, &in, &err), 0);
    assert_int_equal(vml_budget_accrue(b, "j", USD(1), &over, &cap, &err), 0);
    /* raise 2 -> 5: the month holds 3 + 5 = 8 of 10 */
    assert_int_equal(vml_budget_set_cap(b, "j", USD(5), 0, NULL, &in, &err), 0);
    assert_int_equal(in.old_cap, USD(2));
    assert_int_equal(in.needed, USD(3));
    assert_int_equal(in.accrued, USD(1));
    assert_int_equal(q(b, "SELECT reserved FROM money_ledger WHERE job_id = 'j'"), USD(5));
    assert_int_equal(q(b, "SELECT cap FROM money_ledger WHERE job_id = 'j'"), USD(5));
    assert_int_equal(vml_budget_accrue(b, "j", USD(2), &over, &cap, &err), 0);
    assert_false(over); /* would have been stopped at the old cap */
    assert_int_equal(cap, USD(5));
    /* above the per-job cap (6): refused with the numbers, nothing changed */
    assert_int_equal(vml_budget_set_cap(b, "j", USD(7), 0, NULL, &in, &err), VML_EMONEY);
    assert_int_equal(in.per_job_cap, USD(6));
    assert_int_equal(q(b, "SELECT reserved FROM money_ledger WHERE job_id = 'j'"), USD(5));
    /* over the month: 3 + 6 = 9 fits, then lift the per-job cap and ask for 8 (3 + 8 > 10) */
    assert_int_equal(vml_budget_set_limits(b, 2, 0, VML_BUDGET_NONE, &err), 0);
    assert_int_equal(vml_budget_set_cap(b, "j", USD(8), 0, NULL, &in, &err), VML_EMONEY);
    assert_int_equal(in.limit, USD(10));
    assert_int_equal(in.used, USD(8));
    assert_int_equal(in.needed, USD(3));
    assert_int_equal(in.remaining, USD(2));
    assert_int_equal(q(b, "SELECT reserved FROM money_ledger WHERE job_id = 'j'"), USD(5));
    /* a person's approval goes over, recorded */
    assert_int_equal(vml_budget_set_cap(b, "j", USD(8), 1, "cli", &in, &err), 0);
    assert_true(in.override);
    assert_int_equal(q(b, "SELECT reserved FROM money_ledger WHERE job_id = 'j'"), USD(8));
    assert_int_equal(q(b, "SELECT count(*) FROM money_events WHERE job_id = 'j' AND kind = "
                          "'cap_override' AND detail = 'cli'"),
                     1);
    /* lowering: allowed down to the cost so far, not below */
    assert_int_equal(vml_budget_set_cap(b, "j", 1500000, 0, NULL, &in, &err), VML_EINVAL);
    assert_int_equal(in.accrued, USD(2));
    assert_int_equal(vml_budget_set_cap(b, "j", USD(2), 0, NULL, &in, &err), 0);
    assert_int_equal(in.needed, -USD(6));
    assert_int_equal(vml_budget_accrue(b, "j", USD(2), &over, &cap, &err), 0);
    assert_true(over);
    assert_int_equal(vml_budget_set_cap(b, "j", 0, 0, NULL, &in, &err), VML_EINVAL);
    assert_int_equal(vml_budget_set_cap(b, "nope", USD(1), 0, NULL, &in, &err), VML_ENOENT);
    assert_int_equal(vml_budget_settle(b, "j", USD(2), &err), 0);
    assert_int_equal(vml_budget_set_cap(b, "j", USD(4), 0, NULL, &in, &err), VML_ESTATE);
    assert_int_equal(q(b, "SELECT count(*) FROM money_events WHERE job_id = 'j' AND kind LIKE "
                          "'cap%'"),
                     3);
}

static void test_months(void **state)
{
    vml_budget *b = *state;
    vml_budget_info in;
    vml_err err;
    char m[8];
    setenv("VIBEML_BUDGET_NOW", "1796083199", 1); /* 2026-11-30T23:59:59Z */
    vml_budget_month(m);
    assert_string_equal(m, "2026-11");
    assert_int_equal(vml_budget_set_limits(b, 1, USD(10), 0, &err), 0);
    assert_int_equal(vml_budget_reserve(b, "nov", USD(10), VML_BUDGET_NONE, 0, NULL, &in, &err), 0);
    assert_int_equal(vml_budget_reserve(b, "nov2", USD(1), VML_BUDGET_NONE, 0, NULL, &in, &err),
                     VML_EMONEY);
    setenv("VIBEML_BUDGET_NOW", "1796083200", 1); /* 2026-12-01T00:00:00Z: a fresh month */
    vml_budget_month(m);
    assert_string_equal(m, "2026-12");
    assert_int_equal(vml_budget_reserve(b, "dec", USD(10), VML_BUDGET_NONE, 0, NULL, &in, &err), 0);
    assert_int_equal(in.used, 0);
    /* a job settles against the month it was reserved in */
    assert_int_equal(vml_budget_settle(b, "nov", USD(7), &err), 0);
    assert_int_equal(q(b, "SELECT COUNT(*) FROM money_ledger WHERE job_id = 'nov' AND "
                          "month = '2026-11' AND state = 'settled' AND final = 7000000"),
                     1);
    unsetenv("VIBEML_BUDGET_NOW");
}

/* 20 processes, each with its own connection, reserve $20 at once against $100: exactly 5. */
static void test_fork_race(void **state)
{
    vml_budget *b = *state;
    vml_err err;
    pid_t pids[20];
    int i, accepted = 0, refused = 0, go[2];
    assert_int_equal(vml_budget_set_limits(b, 3, USD(100), VML_BUDGET_NONE, &err), 0);
    assert_int_equal(pipe(go), 0);
    for (i = 0; i < 20; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            vml_budget *cb = NULL;
            vml_err e;
            char job[32], c;
            int rc;
            close(go[1]);
            if (vml_budget_open(NULL, &cb, &e) < 0)
                _exit(3);
            if (read(go[0], &c, 1) < 0) /* released all at once by closing the pipe */
                _exit(4);
            snprintf(job, sizeof job, "race-%02d", i);
            rc = vml_budget_reserve(cb, job, USD(20), VML_BUDGET_NONE, 0, NULL, NULL, &e);
            vml_budget_close(cb);
            _exit(rc == 0 ? 0 : rc == VML_EMONEY ? 1 : 2);
        }
    }
    close(go[0]);
    close(go[1]);
    for (i = 0; i < 20; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 0)
            accepted++;
        else if (WEXITSTATUS(status) == 1)
            refused++;
        else
            fail_msg("child %d failed with %d", i, WEXITSTATUS(status));
    }
    assert_int_equal(accepted, 5);
    assert_int_equal(refused, 15);
    assert_int_equal(q(b, "SELECT COUNT(*) FROM money_ledger WHERE state = 'reserved'"), 5);
    assert_int_equal(q(b, "SELECT SUM(reserved) FROM money_ledger"), USD(100));
    assert_int_equal(q(b, "SELECT COUNT(*) FROM money_events WHERE kind = 'reserve'"), 5);
}

/* A child reserves and dies before recording its job. */
static void reserve_in_child(const char *job, int64_t amount)
{
    pid_t pid = fork();
    int status;
    if (pid == 0) {
        vml_budget *cb = NULL;
        vml_err e;
        if (vml_budget_open(NULL, &cb, &e) < 0)
            _exit(3);
        _exit(vml_budget_reserve(cb, job, amount, VML_BUDGET_NONE, 0, NULL, NULL, &e) == 0 ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_reconcile(void **state)
{
    vml_budget *b = *state;
    vml_budget_info in;
    vml_err err;
    int fixed = -1, over;
    assert_int_equal(vml_budget_set_limits(b, 1, USD(100), 0, &err), 0);

    /* 0. without the jobs component's view nobody can tell whether a job runs: nothing is
     *    released */
    reserve_in_child("ghost", USD(40));
    assert_int_equal(vml_budget_reconcile(b, 0, &fixed, &err), 0);
    assert_int_equal(fixed, 0);
    /* the view as the ledger reads it (lua/vibeml/jobs/db.lua defines the real one; the Lua
     * test tests/lua/test_budget.lua checks it against jobs it records) */
    assert_int_equal(vml_store_exec(vml_budget_db(b),
                                    "CREATE TABLE jobs(id TEXT PRIMARY KEY, state TEXT, "
                                    "cost_final REAL, cost_accrued REAL);"
                                    "CREATE VIEW job_outcomes(id, ended, cost_usd) AS SELECT id, "
                                    "state IN ('completed', 'failed', 'terminated'), "
                                    "MAX(COALESCE(cost_final, 0), cost_accrued) FROM jobs;",
                                    &err),
                     0);
    /* 1. reserver gone, no job recorded: kept during the grace period, released after it */
    assert_int_equal(vml_budget_reconcile(b, 300, &fixed, &err), 0);
    assert_int_equal(fixed, 0);
    assert_int_equal(q(b, "SELECT state = 'reserved' FROM money_ledger WHERE job_id = 'ghost'"), 1);
    assert_int_equal(vml_budget_reconcile(b, 0, &fixed, &err), 0);
    assert_int_equal(fixed, 1);
    assert_int_equal(q(b, "SELECT final FROM money_ledger WHERE job_id = 'ghost'"), 0);

    /* 2. the reserver is alive (this process): kept even past the grace period */
    assert_int_equal(vml_budget_reserve(b, "mine", USD(5), VML_BUDGET_NONE, 0, NULL, &in, &err), 0);
    assert_int_equal(vml_budget_reconcile(b, 0, &fixed, &err), 0);
    assert_int_equal(fixed, 0);

    /* 3. the job ended (jobs table) while settlement never happened: settled at the larger of
     *    the accrued cost and the job's own cost, so no charge is lost */
    assert_int_equal(vml_store_exec(vml_budget_db(b),
                                    "INSERT INTO jobs VALUES('mine', 'completed', 3.25, 3.0);"
                                    "INSERT INTO jobs VALUES('running', 'running', NULL, 1.0);",
                                    &err),
                     0);
    assert_int_equal(vml_budget_accrue(b, "mine", USD(2), &over, NULL, &err), 0);
    /* the next process to start (its vml_budget_open) reconciles */
    reserve_in_child("running", USD(6));
    assert_int_equal(q(b, "SELECT final FROM money_ledger WHERE job_id = 'mine'"), 3250000);
    assert_int_equal(vml_budget_reconcile(b, 0, &fixed, &err), 0);
    assert_int_equal(fixed, 0);
    /* a running job keeps its reservation even though its launcher is gone */
    assert_int_equal(q(b, "SELECT state = 'reserved' FROM money_ledger WHERE job_id = "
                          "'running'"),
                     1);
    /* accrued above the job's reported cost wins */
    assert_int_equal(vml_budget_accrue(b, "running", USD(4), &over, NULL, &err), 0);
    assert_int_equal(vml_store_exec(vml_budget_db(b),
                                    "UPDATE jobs SET state = 'failed' WHERE id = 'running'", &err),
                     0);
    assert_int_equal(vml_budget_reconcile(b, 0, &fixed, &err), 0);
    assert_int_equal(q(b, "SELECT final FROM money_ledger WHERE job_id = 'running'"), USD(4));
    /* the sums are exact: 0 + 3.25 + 4 */
    assert_int_equal(q(b, "SELECT SUM(final) FROM money_ledger"), 7250000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_and_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps_accrue_settle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_months, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconcile, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

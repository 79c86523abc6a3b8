/* SPDX-License-Identifier: MIT
 * Unit tests for core/loop: tasks on the libuv loop, awaits, cancellation, coroutines that
 * pass waits through, and error reporting from tasks. */
#include "support.h"

#include <lauxlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"

typedef struct outcome {
    int done;
    int rc;
    vml_err err;
    lua_Integer value;
} outcome;

static void on_done(vml_task *t, int rc, const vml_err *err, void *ud)
{
    outcome *o = ud;
    lua_State *co = vml_task_thread(t);
    o->done = 1;
    o->rc = rc;
    if (err)
        o->err = *err;
    if (rc == 0 && lua_gettop(co) >= 1)
        o->value = lua_tointeger(co, 1);
}

static vml_script *new_script(void)
{
    vml_script *s = NULL;
    vml_err e;
    assert_int_equal(vml_script_new(VML_PROFILE_SCRIPT, NULL, &s, &e), 0);
    return s;
}

static vml_task *spawn(vml_script *s, const char *code, outcome *o)
{
    vml_err e;
    vml_task *t = NULL;
    memset(o, 0, sizeof *o);
    assert_int_equal(vml_script_load(s, code, strlen(code), "=task", &e), 0);
    assert_int_equal(vml_task_spawn(s, 0, on_done, o, &t, &e), 0);
    return t;
}

static void test_task_sleeps_and_returns(void **state)
{
    vml_script *s = new_script();
    outcome o;
    (void)state;
    spawn(s, "vibeml.sleep(0.01) return 7", &o);
    assert_false(o.done);
    vml_loop_run_until(&o.done);
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.value, 7);
    vml_script_free(s);
}

static void test_many_tasks_interleave(void **state)
{
    vml_script *s = new_script();
    outcome o[100];
    int i, all = 0;
    (void)state;
    /* each task sleeps a different time; all share one state and one loop */
    for (i = 0; i < 100; i++) {
        char code[128];
        snprintf(code, sizeof code, "vibeml.sleep(%g) return %d", (100 - i) * 0.0005, i);
        spawn(s, code, &o[i]);
    }
    while (!all) {
        all = 1;
        for (i = 0; i < 100; i++)
            all &= o[i].done;
        if (!all)
            uv_run(vml_loop(), UV_RUN_ONCE);
    }
    for (i = 0; i < 100; i++) {
        assert_int_equal(o[i].rc, 0);
        assert_int_equal(o[i].value, i);
    }
    vml_script_free(s);
}

static void test_cancel_while_waiting(void **state)
{
    vml_script *s = new_script();
    outcome o;
    vml_task *t;
    (void)state;
    t = spawn(s, "local ok = pcall(vibeml.sleep, 3600) while true do end", &o);
    assert_non_null(t);
    vml_task_cancel(t, VML_ECANCELED);
    vml_loop_run_until(&o.done);
    assert_int_equal(o.rc, VML_ECANCELED);
    assert_non_null(strstr(o.err.msg, "canceled"));
    vml_script_free(s);
}

static void test_coroutines_pass_waits_through(void **state)
{
    vml_script *s = new_script();
    outcome o;
    (void)state;
    spawn(s,
          "local gen = coroutine.wrap(function()\n"
          "  for i = 1, 3 do vibeml.sleep(0.001) coroutine.yield(i) end\n"
          "end)\n"
          "local co = coroutine.create(function(a) vibeml.sleep(0.001) return a * 2 end)\n"
          "local ok, v = coroutine.resume(co, 21)\n"
          "assert(ok and v == 42, tostring(v))\n"
          "return gen() + gen() + gen() + v",
          &o);
    vml_loop_run_until(&o.done);
    if (o.rc)
        fail_msg("%s", o.err.msg);
    assert_int_equal(o.value, 48);
    vml_script_free(s);
}

static void test_task_errors(void **state)
{
    vml_script *s = new_script();
    outcome o;
    (void)state;
    spawn(s, "vibeml.sleep(0.001)\nerror('late failure')", &o);
    vml_loop_run_until(&o.done);
    assert_int_equal(o.rc, VML_ELUA);
    assert_non_null(strstr(o.err.msg, "task:2: late failure"));
    assert_non_null(strstr(o.err.msg, "traceback"));
    /* a bare yield at the top of a task is an error, not a hang */
    spawn(s, "coroutine.yield(1)", &o);
    vml_loop_run_until(&o.done);
    assert_int_equal(o.rc, VML_ELUA);
    assert_non_null(strstr(o.err.msg, "outside a coroutine"));
    /* waiting inside a metamethod called from C cannot yield: a clear error */
    spawn(s,
          "local t = {3, 1, 2} table.sort(t, function(a, b) vibeml.sleep(0) return a < b "
          "end)",
          &o);
    vml_loop_run_until(&o.done);
    assert_int_equal(o.rc, VML_ELUA);
    assert_non_null(strstr(o.err.msg, "cannot wait"));
    vml_script_free(s);
}

static void test_wait_outside_task(void **state)
{
    vml_script *s = new_script();
    vml_err e;
    (void)state;
    assert_int_equal(vml_test_eval(s, "vibeml.sleep(0.01)", 0, &e), VML_ELUA);
    assert_non_null(strstr(e.msg, "cannot wait"));
    vml_script_free(s);
}

/* A task that loops on sleep(0) must not starve the loop: another task's timer still fires.
 * (A 0 ms libuv timer started from a timer callback used to run again in the same phase.) */
static void test_sleep_zero_does_not_starve(void **state)
{
    vml_script *s = new_script();
    outcome spin, other;
    vml_task *t;
    (void)state;
    alarm(20); /* a regression hangs: fail loudly instead */
    t = spawn(s, "while true do vibeml.sleep(0) end", &spin);
    spawn(s, "vibeml.sleep(0.05) return 9", &other);
    vml_loop_run_until(&other.done);
    assert_int_equal(other.value, 9);
    vml_task_cancel(t, VML_ECANCELED);
    vml_loop_run_until(&spin.done);
    assert_int_equal(spin.rc, VML_ECANCELED);
    alarm(0);
    vml_script_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_sleeps_and_returns),
        cmocka_unit_test(test_many_tasks_interleave),
        cmocka_unit_test(test_cancel_while_waiting),
        cmocka_unit_test(test_coroutines_pass_waits_through),
        cmocka_unit_test(test_task_errors),
        cmocka_unit_test(test_wait_outside_task),
        cmocka_unit_test(test_sleep_zero_does_not_starve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT
 *
 * watchdog — the last resort behind the plugin limits: runs a job on a worker thread while the
 * caller waits, and gives the job up when the Lua state it runs is past its own deadline by more
 * than a grace period. That happens only when the count hook cannot reach the running code (a
 * C loop nobody bounded; bounded.h closes the known ones), so the thread is left spinning,
 * detached, with everything the job owns; the caller gets VML_ETIMEOUT and goes on serving.
 *
 * The deadline comes from vml_script_arm on the worker thread (script.h, vml__script_watch);
 * before the job arms a state the watchdog assumes VML_WATCHDOG_START_S.
 *
 * Threading: any thread may call vml_watchdog_run (the loop thread for plugin calls, libuv's
 * pool for reloads). Workers are kept and reused; one that was given up never comes back.
 *
 * Uses: err, script (the deadline slot), pthreads, libuv (clock, mutex, condition).
 */
#ifndef VML_WATCHDOG_H
#define VML_WATCHDOG_H

#include <stdint.h>

#include "err.h"

#define VML_WATCHDOG_START_S 5.0 /* budget before the job's first vml_script_arm */

/* Grace after the state's deadline before the job is given up, ns (tests lower it). */
extern uint64_t vml_watchdog_grace_ns;

/* Runs fn(arg) on a worker and waits. Returns 0 when fn returned (arg is the caller's again),
 * or VML_ETIMEOUT when the job was given up: arg then belongs to the stuck thread, which calls
 * release(arg) if fn ever returns; the caller must not touch arg again. When no thread can be
 * started, fn runs on the calling thread. */
int vml_watchdog_run(void (*fn)(void *), void (*release)(void *), void *arg, vml_err *err);

/* Jobs given up whose threads still run. A process with any left should leave with _exit: its
 * exit handlers could free what a stuck thread still uses. */
int vml_watchdog_stuck(void);

#endif

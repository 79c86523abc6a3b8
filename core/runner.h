/* SPDX-License-Identifier: MIT
 *
 * runner — runs a Lua function as a task to completion on the loop, for `vibeml run`, commands
 * written in Lua, and tests. Enforces s->limits.timeout even while the task waits (a timer trips
 * the state and cancels the task), and turns the outcome into an exit code.
 *
 * Uses: loop, script, cmd.
 */
#ifndef VML_RUNNER_H
#define VML_RUNNER_H

#include "script.h"

/* Runs the function on s->L below nargs arguments [-(nargs+1), +0, -]. A failure is printed on
 * stderr as "vibeml: <message and traceback>". Returns the exit code: the function's integer
 * result when it returns one, else 0; 1 for an error; 2 for an error whose code is VML_EUSAGE;
 * 3 for VML_ETIMEOUT, VML_EBUDGET, VML_ELIMIT or VML_EMONEY. err (may be NULL) gets the error. */
int vml_runner_exec(vml_script *s, int nargs, vml_err *err);

/* The exit code for an error code. */
int vml_runner_exit_code(int code);

#endif

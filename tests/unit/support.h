/* SPDX-License-Identifier: MIT
 * Shared unit-test support (tests/unit/support_*.c are linked into every test executable). */
#ifndef VML_TEST_SUPPORT_H
#define VML_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "err.h"
#include "script.h"

/* Compiles and runs code in s, leaving nres results. Returns 0 or the VML code (err filled). */
int vml_test_eval(vml_script *s, const char *code, int nres, vml_err *err);
/* Runs code in a fresh PLUGIN-profile state under limits (NULL = vml_limits_plugin). */
int vml_test_eval_plugin(const char *code, const vml_limits *limits, vml_err *err);

/* Makes a private folder /tmp/vml_<name>_XXXXXX (its path into dir, n bytes) and points
 * VIBEML_HOME at it; fails the test if it cannot. */
void vml_test_home(char *dir, size_t n, const char *name);
/* Removes path and everything below it (links are removed, not followed). */
void vml_test_rm_rf(const char *path);

#endif

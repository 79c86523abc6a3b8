/* SPDX-License-Identifier: MIT
 * Shared test support for the unit tests (docs/style.md): evaluate Lua text in a state. */
#include "support.h"

#include <lauxlib.h>
#include <string.h>

int vml_test_eval(vml_script *s, const char *code, int nres, vml_err *err)
{
    int rc = vml_script_load(s, code, strlen(code), "=test", err);
    if (rc < 0)
        return rc;
    return vml_script_pcall(s, 0, nres, err);
}

int vml_test_eval_plugin(const char *code, const vml_limits *limits, vml_err *err)
{
    vml_script *s = NULL;
    int rc = vml_script_new(VML_PROFILE_PLUGIN, limits ? limits : &vml_limits_plugin, &s, err);
    if (rc < 0)
        return rc;
    vml_script_arm(s);
    rc = vml_test_eval(s, code, 0, err);
    vml_script_free(s);
    return rc;
}

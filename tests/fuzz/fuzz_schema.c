/* SPDX-License-Identifier: MIT
 * libFuzzer target: core/schema.c, the JSON Schema validator every tool call passes before its
 * handler. Input: a JSON array [schema, value, ...]. Contract checked: vml_schema_check never
 * crashes; a schema it accepts compiles; validating never crashes, gives 0 or VML_EINVAL with
 * a message, does not modify the value without VML_SCHEMA_FILL_DEFAULTS, and gives the same
 * verdict twice. Build: tests/fuzz/run.sh schema. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je), *schema;
    vml_schema *c = NULL;
    vml_err err;
    size_t i;
    if (!doc)
        return 0;
    schema = json_is_array(doc) ? json_array_get(doc, 0) : doc;
    if (vml_schema_check(schema, &err) == 0) {
        if (vml_schema_compile(schema, &c, &err) < 0) {
            fprintf(stderr, "fuzz: FINDING a checked schema does not compile: %s\n",
                    vml_err_msg(&err));
            abort();
        }
        for (i = 1; json_is_array(doc) && i < json_array_size(doc); i++) {
            json_t *v = json_array_get(doc, i), *copy = json_deep_copy(v);
            int a = vml_schema_run(c, v, "arguments", 0, &err);
            int b = vml_schema_run(c, v, "arguments", 0, &err);
            if (a != b || (a < 0 && (a != VML_EINVAL || !vml_err_msg(&err)[0]))) {
                fprintf(stderr, "fuzz: FINDING verdicts %d then %d: %s\n", a, b, vml_err_msg(&err));
                abort();
            }
            if (!json_equal(v, copy)) {
                fprintf(stderr, "fuzz: FINDING validation without defaults changed the value\n");
                abort();
            }
            vml_schema_run(c, copy, "arguments", VML_SCHEMA_FILL_DEFAULTS, &err);
            json_decref(copy);
        }
        vml_schema_free(c);
    }
    json_decref(doc);
    return 0;
}

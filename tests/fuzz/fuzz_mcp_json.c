/* SPDX-License-Identifier: MIT
 * libFuzzer target for the JSON text of `vibeml serve`: every input line (and every HTTP body)
 * goes through vml_mcp_parse, every output line through json_dumps with VML_MCP_WRITE_FLAGS.
 * Checks, beyond "no crash, no leak": the reader refuses a raw NUL byte (jansson alone would
 * read "1\0junk" as 1) and otherwise agrees with jansson under the same flags; what it reads,
 * written the server's way, reads back and writes to the same bytes (reals keep 15 digits, so
 * the second writing is the first; a real within 15 digits of DBL_MAX is the one value written
 * rounded past the largest double); a refusal's position lies inside the input.
 *
 * Build and run: tests/fuzz/run.sh mcp_json (see tests/fuzz/README.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_t *ours = NULL, *theirs, *back = NULL;
    json_error_t je;
    vml_err err;
    size_t pos = 0;
    int rc = vml_mcp_parse(text, size, &ours, &pos, &err);
    theirs = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
    if (rc == 0 && (!ours || memchr(data, '\0', size)))
        abort();
    if (rc < 0 && (ours || pos > size || err.code != VML_EJSON))
        abort();
    if (!memchr(data, '\0', size) && (rc == 0) != (theirs != NULL))
        abort(); /* without a NUL byte the verdict is jansson's */
    if (rc == 0 && !json_equal(ours, theirs))
        abort();
    if (rc == 0) {
        char *once = json_dumps(ours, VML_MCP_WRITE_FLAGS), *twice;
        if (!once)
            abort();
        if (vml_mcp_parse(once, strlen(once), &back, NULL, &err) != 0) {
            /* known and accepted: a real within 15 digits of DBL_MAX is written rounded up,
             * past the largest double */
            if (!strstr(err.msg, "overflow"))
                abort();
            free(once);
            goto out;
        }
        twice = json_dumps(back, VML_MCP_WRITE_FLAGS);
        if (!twice || strcmp(once, twice) != 0)
            abort();
        free(once);
        free(twice);
    }
out:
    json_decref(back);
    json_decref(ours);
    json_decref(theirs);
    return 0;
}

/* SPDX-License-Identifier: MIT
 * libFuzzer target for core/jtext.c: every input line of `vibeml serve` goes through
 * vml_jtext_parse. Checks, beyond "no crash, no leak": jansson (strict flags) and our reader
 * agree on what is valid JSON and on the value read, and what we write reads back equal.
 * Known, intended differences: integers past 64 bits are reals here, an error in jansson; a raw
 * NUL byte ends jansson's input (it reads "1\0junk" as 1) but is an error here; jansson refuses
 * keys with an escaped NUL ("a\u0000b"), which are valid JSON and kept here.
 *
 * Build and run: tests/fuzz/run.sh jtext (see tests/fuzz/README.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *ours = NULL, *theirs, *back = NULL;
    json_error_t je;
    vml_err err;
    size_t pos;
    int rc = vml_jtext_parse((const char *)data, size, &ours, &pos, &err);
    theirs = json_loadb((const char *)data, size,
                       JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
    if (rc == 0 && pos != 0)
        abort();
    if (rc < 0 && pos > size)
        abort();
    if (theirs && rc < 0 && !memchr(data, '\0', size))
        abort(); /* jansson read it, we refused */
    if (theirs && rc == 0 && !json_equal(ours, theirs))
        abort();
    if (!theirs && rc == 0 && !strstr(je.text, "too big") && !strstr(je.text, "overflow") &&
        !strstr(je.text, "NUL byte in object key"))
        abort(); /* we read something jansson refuses, for another reason than a big number */
    if (rc == 0) {
        vml_jtext t;
        char *text;
        size_t len;
        vml_jtext_init(&t);
        vml_jtext_value(&t, ours);
        text = vml_jtext_take(&t, &len);
        /* compared as text: jansson's json_equal looks keys up as C strings, so it calls two
         * objects with a key "a\u0000b" different */
        if (!text || vml_jtext_parse(text, len, &back, &pos, &err) != 0)
            abort();
        vml_jtext_value(&t, back);
        if (t.len != len || memcmp(t.p, text, len) != 0)
            abort();
        vml_jtext_free(&t);
        free(text);
    }
    json_decref(back);
    json_decref(ours);
    json_decref(theirs);
    return 0;
}

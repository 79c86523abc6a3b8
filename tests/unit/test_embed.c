/* SPDX-License-Identifier: MIT
 * Unit tests for core/embed: the generated table (sources NUL-terminated inside one aligned
 * blob, build-time bytecode of lua/ modules) and vml_embed_release(). */
#include "support.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "embed.h"

/* Every entry lies inside the blob; sources are NUL-terminated; bytecode only for .lua files
 * (modules, shipped plugins), and it loads (binary chunk of this Lua) under the chunk name
 * "@<path>" that require and the shipped-plugin loader use. */
static void test_table_and_bytecode(void **state)
{
    const vml_embed_file *f;
    const char *lo = (const char *)vml_embed_blob, *hi = lo + vml_embed_blob_len;
    size_t n = 0, with_bc = 0, lua_modules = 0;
    lua_State *L = luaL_newstate();
    (void)state;
    assert_non_null(L);
    assert_int_equal((uintptr_t)vml_embed_blob % 4096, 0);
    for (f = vml_embed_files; f->path; f++, n++) {
        size_t plen = strlen(f->path);
        int is_module = plen > 4 && strcmp(f->path + plen - 4, ".lua") == 0;
        assert_true(f->data >= lo && f->data + f->len < hi);
        assert_int_equal(f->data[f->len], '\0');
        lua_modules += (size_t)is_module;
        if (!f->bc_len) {
            assert_null(f->bc);
            continue;
        }
        with_bc++;
        assert_true(is_module);
        assert_true(f->bc >= lo && f->bc + f->bc_len <= hi);
        assert_memory_equal(f->bc, LUA_SIGNATURE, strlen(LUA_SIGNATURE));
        {
            char chunk[512];
            lua_Debug ar;
            snprintf(chunk, sizeof chunk, "@%s", f->path);
            assert_int_equal(luaL_loadbufferx(L, f->bc, f->bc_len, chunk, "b"), LUA_OK);
            assert_int_equal(lua_getinfo(L, ">S", &ar), 1);
            assert_string_equal(ar.source, chunk); /* error messages name the file */
        }
    }
    assert_true(n > 20);
#ifdef VML_TEST_EMBED_BYTECODE
    assert_int_equal(with_bc, lua_modules); /* every shipped .lua file compiles */
#else
    (void)lua_modules;
#endif
    lua_close(L);
}

/* After vml_embed_release() every file reads back byte for byte (the pages come back from the
 * executable), repeatedly. */
static void test_release_keeps_contents(void **state)
{
    const vml_embed_file *f;
    size_t total = 0, i;
    unsigned char *copy, *p;
    (void)state;
    for (f = vml_embed_files; f->path; f++)
        total += f->len + 1 + f->bc_len;
    copy = malloc(total);
    assert_non_null(copy);
    for (p = copy, f = vml_embed_files; f->path; f++) {
        memcpy(p, f->data, f->len + 1);
        p += f->len + 1;
        memcpy(p, f->bc ? f->bc : "", f->bc_len);
        p += f->bc_len;
    }
    for (i = 0; i < 2; i++) {
        vml_embed_release();
        for (p = copy, f = vml_embed_files; f->path; f++) {
            assert_memory_equal(p, f->data, f->len + 1);
            p += f->len + 1;
            if (f->bc_len)
                assert_memory_equal(p, f->bc, f->bc_len);
            p += f->bc_len;
        }
    }
    free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_and_bytecode),
        cmocka_unit_test(test_release_keeps_contents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

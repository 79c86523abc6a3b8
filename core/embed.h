/* SPDX-License-Identifier: MIT
 *
 * embed — the files compiled into the binary: every lua/ module, and the workflows/ and plugins/
 * trees (Lua, CSV, JSON, Python training scripts). Paths are relative to the source tree
 * ("lua/vibeml/test.lua", "workflows/smoke/train.py"). Data is NUL-terminated; len excludes it.
 */
#ifndef VML_EMBED_H
#define VML_EMBED_H

#include <stddef.h>

typedef struct vml_embed_file {
    const char *path;
    const char *data;
    size_t len;
    /* .lua files: their bytecode, compiled at build time by the same Lua with debug
     * information and chunk name "@<path>" (vml_script_load_embedded loads it); NULL, 0 for
     * other files, a file that did not compile, or a build without it (VML_EMBED_BYTECODE) */
    const char *bc;
    size_t bc_len;
} vml_embed_file;

/* The table, terminated by {NULL}. Generated at build time. */
extern const vml_embed_file vml_embed_files[];

/* Finds an embedded file by path. Returns a borrowed entry or NULL. */
const vml_embed_file *vml_embed_find(const char *path);

/* All files' bytes, back to back in one page-aligned read-only array (generated). */
extern const unsigned char vml_embed_blob[];
extern const size_t vml_embed_blob_len;

/* Hands the blob's resident pages back to the kernel (madvise MADV_DONTNEED on the whole pages
 * it spans). They are clean, read-only pages of the executable file: any later read of an
 * embedded file brings its pages back from the page cache, so entries stay valid and nothing
 * changes for callers. Call it once a long-running process has loaded what it needs (the MCP
 * server, after its Lua side has started): the sources read at start-up otherwise stay resident
 * for the life of the process (~0.5 MB). Safe to call any number of times. */
void vml_embed_release(void);

#endif

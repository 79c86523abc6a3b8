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
} vml_embed_file;

/* The table, terminated by {NULL}. Generated at build time. */
extern const vml_embed_file vml_embed_files[];

/* Finds an embedded file by path. Returns a borrowed entry or NULL. */
const vml_embed_file *vml_embed_find(const char *path);

#endif

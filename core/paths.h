/* SPDX-License-Identifier: MIT
 *
 * paths — where VibeML keeps a user's files.
 *   config  $XDG_CONFIG_HOME/vibeml  (config.json, plugins/)
 *   data    $XDG_DATA_HOME/vibeml    (vault, catalog cache)
 *   state   $XDG_STATE_HOME/vibeml   (vibeml.db, jobs/<id>/)
 * VIBEML_HOME, when set, is used for all three (tests use a temporary one).
 *
 * Uses: err.
 */
#ifndef VML_PATHS_H
#define VML_PATHS_H

#include <stddef.h>

#include "err.h"

typedef enum { VML_PATH_CONFIG, VML_PATH_DATA, VML_PATH_STATE } vml_path_kind;

/* Writes the folder into buf (n bytes). With create, makes it (and parents) with mode 0700.
 * Returns 0 or a VML code. */
int vml_paths_get(vml_path_kind kind, char *buf, size_t n, int create, vml_err *err);
/* Joins folder kind and a relative name into buf. Returns 0 or a VML code (name too long). */
int vml_paths_join(vml_path_kind kind, const char *name, char *buf, size_t n, int create,
                   vml_err *err);
/* Reads a whole file into *out (malloc'd, NUL-terminated; the caller frees it) and its length
 * into *len. max > 0 refuses a larger file with VML_ELIMIT. Returns 0 or a VML code. */
int vml_paths_read(const char *path, size_t max, char **out, size_t *len, vml_err *err);
/* mkdir -p with mode. Returns 0 or a VML code. */
int vml_paths_mkdirs(const char *path, int mode, vml_err *err);

#endif

/* SPDX-License-Identifier: MIT
 * embed — lookup in the generated table (see embed.h). */
#include "embed.h"

#include <string.h>

const vml_embed_file *vml_embed_find(const char *path)
{
    const vml_embed_file *f;
    for (f = vml_embed_files; f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}

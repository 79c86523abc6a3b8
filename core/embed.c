/* SPDX-License-Identifier: MIT
 * embed — lookup in the generated table (see embed.h). */
#include "embed.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

const vml_embed_file *vml_embed_find(const char *path)
{
    const vml_embed_file *f;
    for (f = vml_embed_files; f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}

void vml_embed_release(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)vml_embed_blob, e = a + vml_embed_blob_len;
    if (pg <= 0)
        return;
    a = (a + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1); /* whole pages only */
    e &= ~((uintptr_t)pg - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_DONTNEED); /* advice: failure changes nothing */
}

/* SPDX-License-Identifier: MIT
 *
 * log — stderr that never blocks the server. `vibeml serve` logs to stderr from the loop thread
 * (its own messages, plugin failures, scripts' print); when whoever reads the other end of a
 * stderr pipe stops reading, write(2) blocks once the pipe is full and the whole server froze.
 *
 * vml_log_start() replaces the process's `stderr` stream with one that appends to a bounded
 * memory buffer (VML_LOG_BUFFER bytes); a writer thread drains it to file descriptor 2 and may
 * block there alone. When the buffer is full, a line is dropped and counted; once lines fit
 * again a notice "vibeml: N log lines dropped ..." takes their place, in order.
 *
 * Threading: any thread may write to stderr; the writer thread is the only one writing fd 2.
 * Uses: pthreads, libc (fopencookie or funopen).
 */
#ifndef VML_LOG_H
#define VML_LOG_H

#include <stddef.h>

#define VML_LOG_BUFFER (256u << 10)

/* Starts the writer thread and swaps `stderr` for the buffered stream. Idempotent. Returns 0, or
 * -1 when it could not (stderr is then left as it was). */
int vml_log_start(void);
/* Waits up to timeout_ms for the buffer to drain to fd 2 (at exit). Returns the bytes left. */
size_t vml_log_flush(int timeout_ms);
/* Lines dropped so far (tests, status). */
unsigned long vml_log_dropped(void);

#endif

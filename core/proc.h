/* SPDX-License-Identifier: MIT
 *
 * proc — child processes on the libuv loop: spawn an argv (never a shell string) with an
 * environment, a folder, stdin data, stdout/stderr to pipes, files or nowhere; optionally in a
 * new session and process group (setsid) so the whole tree can be signalled and so it outlives
 * us (detached). Stop = SIGTERM to the group, SIGKILL to the group after a grace period, even
 * when the leader already exited (no orphans). Exit status is reaped by libuv (no zombies).
 * Also: signalling and liveness of processes we did not start (a job supervisor started by an
 * earlier server) through pid + start time, so a reused pid is never mistaken for the job.
 *
 * Uses: loop, err, libuv.
 */
#ifndef VML_PROC_H
#define VML_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

typedef struct vml_proc vml_proc;

/* Where a child's stdout or stderr goes. */
typedef enum {
    VML_PROC_PIPE = 0, /* read through the data callback */
    VML_PROC_NULL,     /* /dev/null */
    VML_PROC_INHERIT,  /* ours */
    VML_PROC_FILE      /* appended to a file (created 0600) */
} vml_proc_sink;

/* data: stream 1 (stdout) or 2 (stderr); n == 0 means that stream reached its end.
 * exit: code and terminating signal (0 if none). Called once, after the streams ended. */
typedef void (*vml_proc_data_fn)(vml_proc *p, int stream, const char *buf, size_t n, void *ud);
typedef void (*vml_proc_exit_fn)(vml_proc *p, int64_t code, int sig, void *ud);

typedef struct vml_proc_opts {
    const char *const *argv; /* argv[0] is looked up on PATH when it has no '/' */
    const char *const *env;  /* complete "NAME=value" list, NULL-terminated; NULL = ours */
    const char *cwd;         /* NULL = ours */
    const char *stdin_data;  /* written to the child's stdin, then closed; NULL = /dev/null */
    size_t stdin_len;
    vml_proc_sink out, err;
    const char *out_path, *err_path; /* for VML_PROC_FILE (the same path twice is allowed) */
    int new_group; /* setsid: own session and process group; signals reach the tree */
    int detached;  /* new_group, and the loop does not wait for it */
    vml_proc_data_fn on_data;
    vml_proc_exit_fn on_exit;
    void *ud;
} vml_proc_opts;

/* Starts the process. On success *out is the handle; it lives until the process exited, its
 * streams ended, and vml_proc_release was called. If this fails, no callback is ever called. */
int vml_proc_spawn(const vml_proc_opts *o, vml_proc **out, vml_err *err);
pid_t vml_proc_pid(const vml_proc *p);
int vml_proc_exited(const vml_proc *p);
/* Sends sig to the process group (new_group) or the process. Returns 0 or a VML code. */
int vml_proc_kill(vml_proc *p, int sig, vml_err *err);
/* SIGTERM now, SIGKILL to the group grace seconds later unless the whole group is gone. */
int vml_proc_stop(vml_proc *p, double grace, vml_err *err);
/* The owner is no longer interested: callbacks stop; the handle is freed once the process
 * exited (it keeps running). */
void vml_proc_release(vml_proc *p);

/* Processes we did not start -------------------------------------------------------------- */
/* Start time of pid in clock ticks since boot (/proc/<pid>/stat field 22), or 0 when there is
 * no such process (or it is a zombie). */
uint64_t vml_proc_start_time(pid_t pid);
/* 1 when pid is alive and (start == 0 or) its start time equals start. */
int vml_proc_alive(pid_t pid, uint64_t start);
/* Sends sig to the group led by pgid, falling back to the single process. 0, or VML_ENOENT when
 * nothing received it. */
int vml_proc_signal_group(pid_t pgid, int sig, vml_err *err);
/* Path of the running executable (/proc/self/exe) into buf. */
int vml_proc_self_exe(char *buf, size_t n, vml_err *err);

#endif

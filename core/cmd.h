/* SPDX-License-Identifier: MIT
 *
 * cmd — command-line commands written in C. core/cmd_<name>.c defines
 * `const vml_cmd vml_cmd_<name>`; the build collects them into vml_cmd_all. Commands written in
 * Lua live in lua/vibeml/cli/<name>.lua and return {summary=, usage=, main=function(args)}.
 * main.c looks in C first, then Lua.
 *
 * Exit codes (every command): 0 success, 1 failure, 2 usage, 3 a resource limit was hit.
 */
#ifndef VML_CMD_H
#define VML_CMD_H

#define VML_EXIT_OK 0
#define VML_EXIT_FAIL 1
#define VML_EXIT_USAGE 2
#define VML_EXIT_LIMIT 3

typedef struct vml_cmd {
    const char *name;
    int (*main)(int argc, char **argv); /* argv[0] is the command's name; returns the exit code */
    const char *summary;                /* one line for `vibeml help` */
    const char *usage;                  /* the full text for `vibeml help NAME` */
} vml_cmd;

extern const vml_cmd *const vml_cmd_all[];

/* Finds a C command by name, or NULL. */
const vml_cmd *vml_cmd_find(const char *name);

#endif

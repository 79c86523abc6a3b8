/* SPDX-License-Identifier: MIT
 *
 * cmd_serve — `vibeml serve [--http [ADDR:]PORT] [--token-file FILE] [--plugins DIR]...
 * [--conformance]`: the MCP server on stdio (mcp_stdio.h) or Streamable HTTP (mcp_http.h).
 * VIBEML_TEST_TOOLS=1 adds the test tools used by tests/integration (never in normal use).
 *
 * Uses: mcp, mcp_stdio, cmd.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "mcp_http.h"
#include "mcp_stdio.h"

static const char serve_usage[] =
    "usage: vibeml serve [--http [ADDR:]PORT] [--token-file FILE] [--plugins DIR]... "
    "[--conformance]\n"
    "\n"
    "Runs the MCP server on stdin/stdout (one JSON-RPC message per line) for an AI assistant.\n"
    "Configure your MCP client to start `vibeml serve`; stdout carries only protocol, logs go to\n"
    "stderr. The server exits when its input closes or on SIGTERM.\n"
    "  --plugins DIR    also load plugins from DIR (repeatable)\n"
    "  --conformance    also register the MCP conformance-suite fixtures\n"
    "  --http [ADDR:]PORT   serve Streamable HTTP at http://ADDR:PORT/mcp instead of stdio\n"
    "                   (ADDR defaults to 127.0.0.1; PORT 0 picks a free port, printed on stderr)\n"
    "  --token-file FILE    with --http: every request needs `Authorization: Bearer <token>`,\n"
    "                   the token being FILE's first line (keep FILE mode 0600); required\n"
    "                   when ADDR is not a loopback address\n"
    "Protocol versions: 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05.\n"
    "Exit codes: 0 clean shutdown, 1 failure, 2 usage.\n";

/* "[ADDR:]PORT" or "[v6]:PORT" -> addr, port. Returns 0 or -1. */
static int parse_listen(const char *spec, char *addr, size_t n, int *port)
{
    const char *colon = strrchr(spec, ':');
    char *end;
    long p;
    snprintf(addr, n, "127.0.0.1");
    if (colon) {
        const char *a = spec;
        size_t len = (size_t)(colon - spec);
        if (*a == '[' && len >= 2 && spec[len - 1] == ']') {
            a++;
            len -= 2;
        }
        if (len == 0 || len >= n)
            return -1;
        memcpy(addr, a, len);
        addr[len] = '\0';
        spec = colon + 1;
    }
    p = strtol(spec, &end, 10);
    if (!*spec || *end || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

/* The token: the file's first line, surrounding blanks removed. */
static int read_token(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t len;
    if (!f) {
        fprintf(stderr, "vibeml serve: cannot read --token-file %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!fgets(buf, (int)n, f))
        buf[0] = '\0';
    fclose(f);
    len = strlen(buf);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    if (len < 16) {
        fprintf(stderr,
                "vibeml serve: the token in %s is too short (use at least 16 random "
                "characters, e.g. `head -c 24 /dev/urandom | base64`)\n",
                path);
        return -1;
    }
    return 0;
}

static int serve_main(int argc, char **argv)
{
    char addr[64], token[512];
    const char *token_file = NULL;
    int http = 0, port = 0;
    vml_mcp_opts opts;
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    size_t ndirs = 0;
    const char *ps = getenv("VIBEML_MCP_PAGE_SIZE");
    const char *tt = getenv("VIBEML_TEST_TOOLS");
    int i, code;

    if (!dirs) {
        fprintf(stderr, "vibeml serve: out of memory\n");
        return VML_EXIT_FAIL;
    }
    memset(&opts, 0, sizeof opts);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--plugins") == 0 && i + 1 < argc) {
            dirs[ndirs++] = argv[++i];
        } else if (strcmp(argv[i], "--conformance") == 0) {
            opts.conformance = 1;
        } else if (strcmp(argv[i], "--http") == 0 && i + 1 < argc) {
            if (parse_listen(argv[++i], addr, sizeof addr, &port) < 0) {
                fprintf(stderr,
                        "vibeml serve: --http wants [ADDR:]PORT (e.g. 8765 or "
                        "127.0.0.1:8765 or [::1]:8765), got '%s'\n",
                        argv[i]);
                free(dirs);
                return VML_EXIT_USAGE;
            }
            http = 1;
        } else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
            token_file = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(serve_usage, stdout);
            free(dirs);
            return VML_EXIT_OK;
        } else {
            fprintf(stderr, "vibeml serve: unknown option '%s'\n%s", argv[i], serve_usage);
            free(dirs);
            return VML_EXIT_USAGE;
        }
    }
    opts.plugin_dirs = dirs;
    opts.n_plugin_dirs = ndirs;
    opts.test_tools = tt && strcmp(tt, "1") == 0;
    if (ps && atoi(ps) > 0)
        opts.page_size = (size_t)atoi(ps);
    if (token_file && !http) {
        fprintf(stderr, "vibeml serve: --token-file applies to --http only\n");
        free(dirs);
        return VML_EXIT_USAGE;
    }
    if (token_file && read_token(token_file, token, sizeof token) < 0) {
        free(dirs);
        return VML_EXIT_FAIL;
    }
    /* from here on stderr never blocks the loop, whoever reads it (log.h) */
    vml_log_start();
    if (http)
        code = vml_mcp_http_serve(&opts, addr, port, token_file ? token : NULL);
    else
        code = vml_mcp_stdio_serve(&opts, STDIN_FILENO, STDOUT_FILENO);
    sodium_memzero(token, sizeof token);
    free(dirs);
    return code;
}

const vml_cmd vml_cmd_serve = {"serve", serve_main, "MCP server for AI assistants (stdio or HTTP)",
                               serve_usage};

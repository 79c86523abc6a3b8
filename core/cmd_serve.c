/* SPDX-License-Identifier: MIT
 *
 * cmd_serve — `vibeml serve [--plugins DIR]... [--conformance]`: the MCP server on stdio (see
 * mcp.h, mcp_stdio.h). `--http` (Streamable HTTP) is not built yet and says so (exit code 2).
 * VIBEML_TEST_TOOLS=1 adds the test tools used by tests/integration (never in normal use).
 *
 * Uses: mcp, mcp_stdio, cmd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "mcp_stdio.h"

static const char serve_usage[] =
    "usage: vibeml serve [--plugins DIR]... [--conformance]\n"
    "\n"
    "Runs the MCP server on stdin/stdout (one JSON-RPC message per line) for an AI assistant.\n"
    "Configure your MCP client to start `vibeml serve`; stdout carries only protocol, logs go to\n"
    "stderr. The server exits when its input closes or on SIGTERM.\n"
    "  --plugins DIR    also load plugins from DIR (repeatable)\n"
    "  --conformance    also register the MCP conformance-suite fixtures\n"
    "  --http [ADDR:]PORT   Streamable HTTP: not supported yet (use stdio)\n"
    "Protocol versions: 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05.\n"
    "Exit codes: 0 clean shutdown, 1 failure, 2 usage.\n";

static int serve_main(int argc, char **argv)
{
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
        } else if (strcmp(argv[i], "--http") == 0) {
            fprintf(stderr, "vibeml serve: --http (Streamable HTTP) is not supported yet; run "
                            "`vibeml serve` over stdio from your MCP client\n");
            free(dirs);
            return VML_EXIT_USAGE;
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
    code = vml_mcp_stdio_serve(&opts, STDIN_FILENO, STDOUT_FILENO);
    free(dirs);
    return code;
}

const vml_cmd vml_cmd_serve = {"serve", serve_main, "MCP server for AI assistants (stdio)",
                               serve_usage};

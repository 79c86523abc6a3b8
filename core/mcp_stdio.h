/* SPDX-License-Identifier: MIT
 *
 * mcp_stdio — the MCP stdio transport on the libuv loop: reads JSON-RPC lines from in_fd (a pipe,
 * a socket, a terminal, a regular file or /dev/null) and writes protocol lines, and nothing else,
 * to out_fd. Logs go to stderr.
 *
 * Flow control: when more than VML_MCP_STDIO_HIGH_WATER bytes of replies wait for the client to
 * read them, or VML_MCP_MAX_INFLIGHT requests run, reading pauses until the backlog drains, so
 * a client that floods requests without reading replies cannot grow memory without bound.
 *
 * Shutdown: on end of input the server finishes the requests in flight (cancelling them after
 * VML_MCP_STDIO_GRACE_MS), flushes its output and exits 0. SIGTERM/SIGINT cancel everything,
 * flush what the client will take within a second, and exit 0.
 *
 * Uses: mcp, loop, err, libuv.
 */
#ifndef VML_MCP_STDIO_H
#define VML_MCP_STDIO_H

#include "mcp.h"

#define VML_MCP_STDIO_HIGH_WATER ((size_t)8 << 20)
#define VML_MCP_STDIO_GRACE_MS 10000

/* Serves MCP on in_fd/out_fd until the input ends or a signal arrives. opts->write, write_ud and
 * wake are set here. Returns an exit code (0 clean, 1 failure). */
int vml_mcp_stdio_serve(vml_mcp_opts *opts, int in_fd, int out_fd);

#endif

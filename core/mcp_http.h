/* SPDX-License-Identifier: MIT
 *
 * mcp_http — the MCP Streamable HTTP transport (2025-11-25 basic/transports) on core/httpd.
 *
 * One endpoint, /mcp:
 *   POST    one JSON-RPC message (or a batch where the version allows). Notifications and
 *           responses get 202. A request gets a text/event-stream response that carries the
 *           request's progress, log messages and server->client requests (elicitation) and
 *           ends with its response. initialize creates a session: Mcp-Session-Id (32 random hex
 *           characters) comes on its response; later requests without it get 400, with an
 *           unknown or ended one 404 (the client then initializes again).
 *   GET     a standalone event stream for the session: notifications not tied to a request
 *           (resources/updated, tools/list_changed, log lines of services).
 *   DELETE  ends the session.
 * Security: binds to 127.0.0.1 unless an address is given; the Host header must name a loopback
 * host (or the bound address) and an Origin, when present, a loopback origin, else 403 (DNS
 * rebinding); with a token every request needs `Authorization: Bearer <token>` (compared in
 * constant time) or gets 401. MCP-Protocol-Version, when present, must be a supported version.
 *
 * Each session is a vml_mcp (mcp.h) whose write callback routes what the server sends: a
 * response to the stream that carries its id; a progress notification to the stream whose
 * request gave that progressToken; anything else to the newest open request stream of the
 * session, else its GET stream, else it is dropped (nobody is listening). One extra vml_mcp,
 * not tied to any session, runs the server's services (job poller, plugin watcher) once.
 *
 * Uses: httpd, mcp, loop, err, jansson, libsodium.
 */
#ifndef VML_MCP_HTTP_H
#define VML_MCP_HTTP_H

#include "mcp.h"

/* Sessions idle longer than this end (seconds). */
#define VML_MCP_HTTP_IDLE_S 3600

/* Serves MCP over HTTP on addr:port until SIGTERM/SIGINT. token (may be NULL) is the bearer
 * token every request must carry. Prints "listening on http://ADDR:PORT/mcp" on stderr (the
 * real port when port is 0). Returns an exit code (0 clean, 1 failure). */
int vml_mcp_http_serve(const vml_mcp_opts *opts, const char *addr, int port, const char *token);

#endif

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
 * Security: binds to 127.0.0.1 unless an address is given; an address that is not loopback
 * refuses to start without a token (any client can send "Host: localhost"). The Host header
 * must name a loopback host (or the bound address) and an Origin, when present, a loopback
 * origin, else 403 (DNS rebinding); with a token every request needs `Authorization: Bearer
 * <token>` (compared in constant time) or gets 401. Both are checked on the headers, before any
 * body byte is read. MCP-Protocol-Version, when present, must be a supported version.
 * Limits (httpd.h): connections in all and per address, idle and read timeouts, body size (413)
 * and a shared body budget; sessions are capped (VML_MCP_HTTP_MAX_SESSIONS).
 * Every POST gets a complete answer: a message vml_mcp refuses at once (an id that is not a
 * string or an integer, a bad envelope) is answered 400 with its JSON-RPC error; a batch is
 * refused (400) unless the session's protocol is 2025-03-26, whose batches are answered in one
 * line that ends their stream.
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

/* Sessions idle longer than this end (seconds); each holds a Lua state (~450 KB). */
#define VML_MCP_HTTP_IDLE_S 900
/* Sessions at once: a new one ends the one idle longest with no request open or running
 * (those without a GET stream first), or is refused with 503 when all are busy. */
#define VML_MCP_HTTP_MAX_SESSIONS 64

/* Serves MCP over HTTP on addr:port until SIGTERM/SIGINT. token (may be NULL) is the bearer
 * token every request must carry. Prints "listening on http://ADDR:PORT/mcp" on stderr (the
 * real port when port is 0). Returns an exit code (0 clean, 1 failure). */
int vml_mcp_http_serve(const vml_mcp_opts *opts, const char *addr, int port, const char *token);

#endif

/* SPDX-License-Identifier: MIT
 *
 * mcp — the Model Context Protocol server: JSON-RPC 2.0 framing and discipline, the MCP lifecycle
 * with version negotiation (2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05), and dispatch.
 * Transport-neutral: a transport feeds bytes (vml_mcp_feed) and receives whole lines through
 * the write callback; core/mcp_stdio.c is the stdio transport, core/mcp_http.c Streamable HTTP.
 * This header is the whole module's public face; its files (mcp.c lifecycle, mcp_rpc.c
 * JSON-RPC, mcp_tools.c tools, mcp_hooks.c the hooks for Lua) share core/mcp_int.h.
 *
 * Handled in C: initialize, ping, logging/setLevel, tools/list (cached, paginated), tools/call
 * (arguments validated against the tool's inputSchema by core/schema.c before the handler runs;
 * the Lua handler then runs as its own task in the server's one SCRIPT-profile state, so a
 * handler that waits never delays anything else), notifications/cancelled (cancels the task; no
 * response follows), progress, notifications/message, responses to the server's own requests
 * (elicitation/create) and batches (2025-03-26 only).
 * Handled in Lua (lua/vibeml/mcp/server.lua, each call a task): resources/..., prompts/...,
 * completion/complete, and the model's instructions in the initialize result
 * (lua/vibeml/mcp/instructions.lua). Tools come from lua/vibeml/tools/NAME.lua and the runtime
 * registry lua/vibeml/mcp/registry.lua (see docs/mcp.md).
 *
 * Error codes: -32700 parse error (id null), -32600 invalid request (bad envelope, an id that is
 * not a string or an integer, a batch where the version forbids it, a request before
 * initialize, a message over the size limit), -32601 unknown method, -32602 invalid params
 * (names the field and what is allowed; unknown tool/prompt, bad cursor), -32603 internal,
 * -32002 resource not found. Notifications are never answered. Tool arguments that fail the
 * tool's inputSchema are -32602 (with the tool and its schema as data) up to 2025-06-18 and,
 * from 2025-11-25 (SEP-1303), a result with isError and the same message, so the model can
 * correct its call.
 *
 * JSON text: jansson (json_loadb/json_dumps), with the flags in mcp_rpc.c and mcp_int.h.
 *
 * Uses: schema, luajson, loop, script, embed, vault, err, jansson.
 */
#ifndef VML_MCP_H
#define VML_MCP_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

#define VML_MCP_MAX_MESSAGE ((size_t)16 << 20) /* bytes in one line, newline excluded */
#define VML_MCP_MAX_INFLIGHT 1024              /* requests running at once before input pauses */

typedef struct vml_mcp vml_mcp;

typedef struct vml_mcp_opts {
    /* Takes ownership of line (malloc'd, len bytes, ends with '\n'). Returns 0 or a VML code. */
    int (*write)(void *ud, char *line, size_t len);
    void *write_ud;
    /* Called after an in-flight request ended (a transport paused for load may resume). May be
     * NULL. */
    void (*wake)(void *ud);
    int test_tools;                 /* also register the test tools (VIBEML_TEST_TOOLS=1) */
    int conformance;                /* also register the conformance fixtures */
    const char *const *plugin_dirs; /* extra plugin folders (--plugins), n_plugin_dirs of them */
    size_t n_plugin_dirs;
    size_t page_size;   /* items per list page; 0 = 100 */
    size_t max_message; /* 0 = VML_MCP_MAX_MESSAGE */
    int no_services;    /* start only the services marked per_session (HTTP
                           sessions: the transport runs the others once for the whole
                           process; each session follows plugin changes itself) */
} vml_mcp_opts;

/* Creates the server: its Lua state, the tools, resources, prompts; starts the services.
 * *out is the caller's (vml_mcp_free). */
int vml_mcp_new(const vml_mcp_opts *opts, vml_mcp **out, vml_err *err);
/* Starts the Lua side (tools, resources, prompts) and the services now instead of at
 * initialize (HTTP starts its process-wide server this way). Returns 0 or a VML code. */
int vml_mcp_start(vml_mcp *m, vml_err *err);
/* Cancels everything still running and frees the server. NULL is a no-op. */
void vml_mcp_free(vml_mcp *m);

/* Feeds bytes read from the transport: splits lines (any length up to max_message; a longer
 * line gets one -32600 reply and is skipped to its end) and handles each. */
void vml_mcp_feed(vml_mcp *m, const char *data, size_t len);
/* The input ended: a last line without a newline is handled. */
void vml_mcp_feed_eof(vml_mcp *m);
/* Handles one message (a line without its newline). */
void vml_mcp_handle(vml_mcp *m, const char *msg, size_t len);

/* Requests still running (tool calls, Lua-dispatched methods). */
size_t vml_mcp_inflight(const vml_mcp *m);
/* Non-zero while so many requests run that the transport should stop reading for now. */
int vml_mcp_busy(const vml_mcp *m);
/* Cancels every in-flight request (no responses follow) and every service task. */
void vml_mcp_cancel_all(vml_mcp *m);

/* The protocol version negotiated by initialize, or NULL before it. Borrowed. */
const char *vml_mcp_version(const vml_mcp *m);

/* Reads one message's JSON text as the server does (also for the HTTP transport's bodies):
 * strict RFC 8259, UTF-8 checked, duplicate keys refused, \u0000 kept inside strings, a raw
 * NUL byte refused, nesting up to 2048 levels. *out is a new reference. On failure VML_EJSON
 * (not JSON) or VML_ELIMIT (valid JSON with an integer past 64 bits or a real past a double:
 * an invalid request, not a parse error), with jansson's message and, when pos is not NULL,
 * the byte offset of the problem. */
int vml_mcp_parse(const char *text, size_t len, json_t **out, size_t *pos, vml_err *err);

#endif

/* SPDX-License-Identifier: MIT
 *
 * mcp_int — what the files of the MCP server share; not for other modules (they use mcp.h).
 *
 *   mcp.c        lifecycle: create/free, the Lua side, services, initialize, logging/setLevel
 *   mcp_rpc.c    JSON-RPC: line framing, JSON text, the envelope, dispatch, replies, requests
 *                in flight, batches, cancellation, methods handled in Lua
 *   mcp_tools.c  tools: the cache rebuilt on change, tools/list, tools/call and the shaping of
 *                a handler's return values into a result
 *   mcp_hooks.c  the C functions vibeml.mcp.server calls (progress, log, elicit...) and the
 *                answers to the server's own requests
 *
 * Ownership: as said on each field; every json_t built in these files is either sent
 * (vml__mcp_reply and vml__mcp_send steal it) or decref'd where it was made.
 * Uses: mcp, loop, schema, script, err, jansson, Lua.
 */
#ifndef VML_MCP_INT_H
#define VML_MCP_INT_H

#include <lua.h>

#include "loop.h"
#include "mcp.h"
#include "schema.h"
#include "script.h"

/* JSON-RPC and MCP error codes */
#define VML_MCP_E_PARSE (-32700)
#define VML_MCP_E_INVALID_REQUEST (-32600)
#define VML_MCP_E_METHOD (-32601)
#define VML_MCP_E_PARAMS (-32602)
#define VML_MCP_E_INTERNAL (-32603)
#define VML_MCP_E_RESOURCE_NOT_FOUND (-32002)

/* How every line out is written (jansson keeps keys in insertion order; reals as
 * vibeml.json.encode writes them). */
#define VML_MCP_WRITE_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

typedef struct vml_mcp_batch vml_mcp_batch;

/* A request in flight: a tool call or a method handled in Lua, freed when its task ends. */
typedef struct vml_mcp_req {
    struct vml_mcp_req *prev, *next;
    vml_mcp *m;
    long serial;            /* the handle Lua code uses (ctx) */
    json_t *id;             /* owned */
    char *key;              /* owned: key of m->inflight (vml__mcp_id_key) */
    json_t *progress_token; /* owned or NULL */
    double last_progress;
    int has_progress;
    vml_task *task; /* while running */
    int cancelled;
    char *tool;           /* owned: tool name (tools/call) */
    char *method;         /* owned: method (Lua-dispatched) */
    vml_mcp_batch *batch; /* borrowed; the batch collects the reply */
} vml_mcp_req;

typedef struct vml_mcp_service {
    struct vml_mcp_service *next;
    vml_task *task;
    char name[96];
} vml_mcp_service;

typedef struct vml_mcp_tool {
    vml_schema *in, *out; /* owned; out NULL without an outputSchema */
} vml_mcp_tool;

struct vml_mcp {
    vml_mcp_opts o;
    vml_script *s;
    int lua_server; /* registry ref of the vibeml.mcp.server table */
    /* line framing */
    char *buf;
    size_t len, cap;
    int discarding;
    /* session */
    int initialized;     /* initialize answered */
    int ready;           /* notifications/initialized received */
    int version;         /* index into the versions of mcp.c, -1 before initialize */
    json_t *client_caps; /* owned */
    json_t *client_info; /* owned */
    int log_level;       /* index into the levels of mcp.c */
    /* requests */
    vml_mcp_req *reqs; /* in flight, doubly linked */
    size_t n_reqs;
    long next_serial;
    json_t *inflight; /* key -> integer (req pointer) */
    json_t *pending;  /* outgoing request id -> integer (outgoing record pointer) */
    long next_out;
    vml_mcp_service *services;
    /* tools (mcp_tools.c) */
    int tools_dirty;
    json_t *tools;      /* array of rendered tool definitions (for this version) */
    json_t *tool_index; /* name -> {"def":..., "input":schema, "slot": index into compiled} */
    vml_mcp_tool *compiled;
    size_t n_compiled;
    int shutting_down;
    int lua_started; /* 0 not yet, 1 running, -1 failed (lua_err says why) */
    vml_err lua_err;
};

/* mcp.c */
int vml__mcp_ver_at_least(const vml_mcp *m, const char *version);
int vml__mcp_ensure_lua(vml_mcp *m); /* 0, or -1 with m->lua_err set */
/* Pushes vibeml.mcp.server's field name (a function) [-0, +1, -]. */
void vml__mcp_push_server_fn(vml_mcp *m, const char *name);
void vml__mcp_initialize(vml_mcp *m, vml_mcp_batch *b, json_t *id, json_t *params);
void vml__mcp_set_level(vml_mcp *m, vml_mcp_batch *b, json_t *id, json_t *params);
/* The index of a log level name ("warn" is warning), or -1; the name of an index. */
int vml__mcp_level(const char *name);
const char *vml__mcp_level_name(int level);

/* mcp_rpc.c */
void vml__mcp_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string that C may use as a C string (no NUL inside). */
int vml__mcp_c_string(const json_t *v);
/* s[0..n) as a JSON string (new reference); bytes that are not UTF-8 become U+FFFD, so odd
 * tool output still makes a valid message. NULL only when out of memory. */
json_t *vml__mcp_text(const char *s, size_t n);
/* An error object {code, message[, data]}: data stolen. New reference. */
json_t *vml__mcp_error_obj(int code, const char *msg, json_t *data);
/* Sends (or adds to the batch b) a reply: result or error stolen (both NULL: an empty
 * result); id borrowed, NULL for null. */
void vml__mcp_reply(vml_mcp *m, vml_mcp_batch *b, json_t *id, json_t *result, json_t *error);
void vml__mcp_reply_error(vml_mcp *m, vml_mcp_batch *b, json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Sends a whole message (stolen) to the client as one line. */
void vml__mcp_send(vml_mcp *m, json_t *msg);
/* Sends a notification; params stolen, may be NULL. */
void vml__mcp_notify(vml_mcp *m, const char *method, json_t *params);
vml_mcp_req *vml__mcp_req_new(vml_mcp *m, json_t *id, vml_mcp_batch *b);
void vml__mcp_req_free(vml_mcp_req *r);
vml_mcp_req *vml__mcp_req_by_serial(vml_mcp *m, long serial);
/* The text of a failure for a result: the message without its traceback, into buf. */
void vml__mcp_short_message(const char *msg, char *buf, size_t n);
json_t *vml__mcp_ptr_json(void *p);
void *vml__mcp_json_ptr(const json_t *j);

/* mcp_tools.c */
void vml__mcp_tools_list(vml_mcp *m, vml_mcp_batch *b, json_t *id, json_t *params);
void vml__mcp_tools_call(vml_mcp *m, vml_mcp_batch *b, json_t *id, json_t *params);
void vml__mcp_tools_free(vml_mcp *m);

/* mcp_hooks.c */
/* Pushes the hooks table vibeml.mcp.server.init receives, bound to m [-0, +1, m]. */
void vml__mcp_push_hooks(lua_State *L, vml_mcp *m);
/* A response to one of the server's own requests arrived (msg borrowed). */
void vml__mcp_handle_response(vml_mcp *m, json_t *msg);

#endif

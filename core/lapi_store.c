/* SPDX-License-Identifier: MIT
 *
 * lapi_store — vibeml.store (SCRIPT profile): the SQLite state database from Lua.
 * Every database failure returns nil, message, code (lapi.h): code vibeml.E.EDB, or EBUSY when
 * another process held the lock for the whole busy timeout. db:first's "no row" is a lone nil.
 *   vibeml.store.open([path]) -> db | nil, message, code   (default: the state folder's
 *                                                             vibeml.db)
 *   db:exec(sql, ...)           -> number of rows changed | nil, message, code
 *   db:query(sql, ...)          -> { row, ... } | nil, message, code   each row {column = value}
 *   db:first(sql, ...)          -> row | nil | nil, message, code
 *   db:tx(fn [, "immediate"|"deferred"|"exclusive"]) -> fn's results | nil, message, code
 *        BEGIN IMMEDIATE (default) ... COMMIT; nil, message, code when BEGIN or COMMIT fails.
 *        When fn raises: ROLLBACK and re-raise, so fn abandons the transaction by raising
 *        (require("vibeml.store").check turns a failed call into such an error). Nested calls
 *        become SAVEPOINTs. fn must not wait (vibeml.sleep, processes) inside: holding the write
 *        lock across a wait would stall every other process.
 *   db:migrate(component, { sql_step1, sql_step2, ... }) -> steps applied now | nil, message,
 *        code (a failed step, or a schema newer than this vibeml)
 *   db:last_insert_id() -> integer        db:changes() -> integer        db:close()
 *   db:path() -> the file
 * Parameters: `?` placeholders bind the extra arguments in order; a single table argument binds
 * named parameters (:name, @name, $name) by key. nil and vibeml.null bind NULL, booleans 1/0,
 * integers stay integers, other tables are stored as JSON text. Column values come back as
 * integer, number or string; NULL columns are absent from the row (nil).
 * Misuse raises: a closed handle, two statements in one call, more parameters than the
 * statement takes, a value SQLite cannot store (a function), migrate inside a transaction.
 *
 * Uses: store, conv, lapi, SQLite.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "luajson.h"
#include "lapi.h"
#include "store.h"

#define DB_TYPE "vibeml.Store"
#define STMT_TYPE "vibeml.StoreStmt"

typedef struct ldb {
    sqlite3 *db;
    int depth; /* nesting of db:tx */
} ldb;

static ldb *check_db(lua_State *L)
{
    ldb *d = luaL_checkudata(L, 1, DB_TYPE);
    if (!d->db)
        luaL_error(L, "vibeml.store: the database is closed");
    return d;
}

/* Pushes nil, message, code for SQLite's rc and returns 3. */
static int fail_db(lua_State *L, sqlite3 *db, int rc, const char *what)
{
    vml_err err;
    vml_store_err(db, rc, what, &err);
    return vml_lua_fail(L, &err);
}

/* A statement guard on the stack: its __gc finalizes, so a raise never leaks. */
static sqlite3_stmt **push_stmt(lua_State *L)
{
    sqlite3_stmt **g = lua_newuserdatauv(L, sizeof *g, 0);
    *g = NULL;
    luaL_setmetatable(L, STMT_TYPE);
    return g;
}

static int stmt_gc(lua_State *L)
{
    sqlite3_stmt **g = luaL_checkudata(L, 1, STMT_TYPE);
    if (*g) {
        sqlite3_finalize(*g);
        *g = NULL;
    }
    return 0;
}

/* Binds the value at idx to parameter pos; arg is the argument it came from (for messages).
 * Returns SQLite's rc. */
static int bind_one(lua_State *L, sqlite3_stmt *st, int pos, int idx, int arg)
{
    int rc = SQLITE_OK;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
    case LUA_TNONE:
        rc = sqlite3_bind_null(st, pos);
        break;
    case LUA_TBOOLEAN:
        rc = sqlite3_bind_int(st, pos, lua_toboolean(L, idx));
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            rc = sqlite3_bind_int64(st, pos, (sqlite3_int64)lua_tointeger(L, idx));
        else
            rc = sqlite3_bind_double(st, pos, (double)lua_tonumber(L, idx));
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        rc = sqlite3_bind_text(st, pos, s, (int)len, SQLITE_TRANSIENT);
        break;
    }
    case LUA_TLIGHTUSERDATA:
        if (vml_luajson_isnull(L, idx)) {
            rc = sqlite3_bind_null(st, pos);
            break;
        }
        /* fallthrough */
    case LUA_TTABLE: {
        char **text;
        vml_err err;
        idx = lua_absindex(L, idx);
        text = vml_lua_guard(L);
        if (vml_luajson_encode(L, idx, 0, text, &err) < 0)
            vml_lapi_argerror(L, arg, "parameter %d: %s", pos, vml_err_msg(&err));
        rc = sqlite3_bind_text(st, pos, *text, -1, SQLITE_TRANSIENT);
        vml_lua_guard_free(text);
        lua_pop(L, 1);
        break;
    }
    default:
        vml_lapi_argerror(L, arg,
                          "parameter %d: cannot store a %s (use a string, number, "
                          "boolean, nil or a table for JSON)",
                          pos, luaL_typename(L, idx));
    }
    return rc;
}

/* Prepares sql (at index 2) and binds arguments first..top, leaving the statement's guard on
 * the stack top. Returns 0 and sets *out, or pushes nil, message, code and returns 3. */
static int prepare(lua_State *L, ldb *d, int first, sqlite3_stmt **out)
{
    const char *sql = vml_lua_checkcstr(L, 2);
    int top = lua_gettop(L), nparams, i, rc;
    sqlite3_stmt **g = push_stmt(L);
    const char *tail = NULL;
    rc = sqlite3_prepare_v2(d->db, sql, -1, g, &tail);
    if (rc != SQLITE_OK)
        return fail_db(L, d->db, rc, "database");
    if (!*g)
        return vml_lapi_argerror(L, 2, "no SQL statement in '%s'", sql);
    while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == ';'))
        tail++;
    if (tail && *tail)
        return vml_lapi_argerror(L, 2, "one statement per call: extra text '%.40s'", tail);
    *out = *g;
    nparams = sqlite3_bind_parameter_count(*g);
    if (top - first + 1 == 1 && lua_istable(L, first) && lua_rawlen(L, first) == 0 && nparams > 0 &&
        sqlite3_bind_parameter_name(*g, 1) && sqlite3_bind_parameter_name(*g, 1)[0] != '?') {
        for (i = 1; i <= nparams; i++) {
            const char *name = sqlite3_bind_parameter_name(*g, i);
            if (!name)
                return vml_lapi_argerror(L, first,
                                         "parameter %d has no name: use only "
                                         ":name parameters with a table",
                                         i);
            lua_getfield(L, first, name + 1);
            rc = bind_one(L, *g, i, -1, first);
            lua_pop(L, 1);
            if (rc != SQLITE_OK)
                return fail_db(L, d->db, rc, "database: binding parameters");
        }
        return 0;
    }
    if (top - first + 1 > nparams)
        return vml_lapi_argerror(L, first + nparams, "%d parameters given, the statement takes %d",
                                 top - first + 1, nparams);
    for (i = first; i <= top; i++)
        if ((rc = bind_one(L, *g, i - first + 1, i, i)) != SQLITE_OK)
            return fail_db(L, d->db, rc, "database: binding parameters");
    return 0;
}

static void push_row(lua_State *L, sqlite3_stmt *st)
{
    int n = sqlite3_column_count(st), i;
    lua_createtable(L, 0, n);
    for (i = 0; i < n; i++) {
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            lua_pushinteger(L, (lua_Integer)sqlite3_column_int64(st, i));
            break;
        case SQLITE_FLOAT:
            lua_pushnumber(L, (lua_Number)sqlite3_column_double(st, i));
            break;
        case SQLITE_TEXT:
        case SQLITE_BLOB:
            lua_pushlstring(L, (const char *)sqlite3_column_blob(st, i),
                            (size_t)sqlite3_column_bytes(st, i));
            break;
        default:
            continue;
        }
        lua_setfield(L, -2, sqlite3_column_name(st, i));
    }
}

static int finish(lua_State *L, sqlite3_stmt *st)
{
    sqlite3_stmt **g = luaL_checkudata(L, -1, STMT_TYPE);
    (void)st;
    sqlite3_finalize(*g);
    *g = NULL;
    return 0;
}

static int l_exec(lua_State *L)
{
    ldb *d = check_db(L);
    sqlite3_stmt *st = NULL;
    int rc;
    if (prepare(L, d, 3, &st))
        return 3;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        return fail_db(L, d->db, rc, "database");
    finish(L, st);
    lua_pushinteger(L, sqlite3_changes(d->db));
    return 1;
}

static int l_query(lua_State *L)
{
    ldb *d = check_db(L);
    sqlite3_stmt *st = NULL;
    int rc;
    lua_Integer n = 0;
    if (prepare(L, d, 3, &st))
        return 3;
    lua_newtable(L); /* [..., guard, rows] */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        push_row(L, st);
        lua_rawseti(L, -2, ++n);
    }
    if (rc != SQLITE_DONE)
        return fail_db(L, d->db, rc, "database");
    lua_insert(L, -2);
    finish(L, st);
    lua_pop(L, 1);
    return 1;
}

static int l_first(lua_State *L)
{
    ldb *d = check_db(L);
    sqlite3_stmt *st = NULL;
    int rc;
    if (prepare(L, d, 3, &st))
        return 3;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        push_row(L, st);
    else if (rc == SQLITE_DONE)
        lua_pushnil(L);
    else
        return fail_db(L, d->db, rc, "database");
    lua_insert(L, -2);
    finish(L, st);
    lua_pop(L, 1);
    return 1;
}

static int l_last_insert_id(lua_State *L)
{
    ldb *d = check_db(L);
    lua_pushinteger(L, (lua_Integer)sqlite3_last_insert_rowid(d->db));
    return 1;
}

static int l_changes(lua_State *L)
{
    ldb *d = check_db(L);
    lua_pushinteger(L, sqlite3_changes(d->db));
    return 1;
}

static int l_path(lua_State *L)
{
    ldb *d = check_db(L);
    const char *p = sqlite3_db_filename(d->db, "main");
    lua_pushstring(L, p ? p : "");
    return 1;
}

static int l_tx(lua_State *L)
{
    ldb *d = check_db(L);
    static const char *const modes[] = {"immediate", "deferred", "exclusive", NULL};
    int mode, nested, rc, base;
    vml_err err;
    char sql[96];
    luaL_checktype(L, 2, LUA_TFUNCTION);
    mode = luaL_checkoption(L, 3, "immediate", modes);
    lua_settop(L, 2);
    nested = !sqlite3_get_autocommit(d->db);
    if (nested) {
        snprintf(sql, sizeof sql, "SAVEPOINT vml_tx_%d", d->depth + 1);
        if (vml_store_exec(d->db, sql, &err) < 0)
            return vml_lua_fail(L, &err);
    } else if (vml_store_begin(d->db, modes[mode], &err) < 0) {
        return vml_lua_fail(L, &err);
    }
    d->depth++;
    base = lua_gettop(L) - 1; /* below the function */
    lua_pushvalue(L, 2);
    rc = lua_pcall(L, 0, LUA_MULTRET, 0);
    d->depth--;
    if (!d->db) /* closed inside fn */
        return luaL_error(L, "vibeml.store: the database was closed inside db:tx");
    if (rc != LUA_OK) {
        if (nested) {
            snprintf(sql, sizeof sql, "ROLLBACK TO vml_tx_%d; RELEASE vml_tx_%d", d->depth + 1,
                     d->depth + 1);
            sqlite3_exec(d->db, sql, NULL, NULL, NULL);
        } else {
            vml_store_rollback(d->db);
        }
        return lua_error(L);
    }
    if (nested) {
        snprintf(sql, sizeof sql, "RELEASE vml_tx_%d", d->depth + 1);
        rc = vml_store_exec(d->db, sql, &err);
    } else {
        rc = vml_store_commit(d->db, &err);
    }
    if (rc < 0) {
        if (!nested)
            vml_store_rollback(d->db);
        return vml_lua_fail(L, &err);
    }
    return lua_gettop(L) - base - 1;
}

static int l_migrate(lua_State *L)
{
    ldb *d = check_db(L);
    const char *component = vml_lua_checkcstr(L, 2);
    lua_Integer n, i;
    const char **steps;
    int applied = 0, rc;
    vml_err err;
    luaL_checktype(L, 3, LUA_TTABLE);
    if (!sqlite3_get_autocommit(d->db))
        return luaL_error(L, "vibeml.store: db:migrate cannot run inside a transaction");
    n = (lua_Integer)lua_rawlen(L, 3);
    steps = lua_newuserdatauv(L, sizeof *steps * (size_t)(n ? n : 1), 0);
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, 3, i);
        if (lua_type(L, -1) != LUA_TSTRING || !vml_lua_tocstr(L, -1))
            return vml_lapi_argerror(L, 3, "step %d of '%s' must be SQL text, not a %s", (int)i,
                                     component, luaL_typename(L, -1));
        steps[i - 1] = lua_tostring(L, -1); /* anchored by the steps table */
        lua_pop(L, 1);
    }
    rc = vml_store_migrate(d->db, component, steps, (size_t)n, &applied, &err);
    if (rc < 0)
        return vml_lua_fail(L, &err);
    lua_pushinteger(L, applied);
    return 1;
}

static int l_close(lua_State *L)
{
    ldb *d = luaL_checkudata(L, 1, DB_TYPE);
    if (d->depth > 0)
        return luaL_error(L, "vibeml.store: cannot close inside db:tx");
    vml_store_close(d->db);
    d->db = NULL;
    return 0;
}

static int l_tostring(lua_State *L)
{
    ldb *d = luaL_checkudata(L, 1, DB_TYPE);
    const char *p = d->db ? sqlite3_db_filename(d->db, "main") : NULL;
    lua_pushfstring(L, "vibeml.Store(%s)", d->db ? (p ? p : "") : "closed");
    return 1;
}

static int l_open(lua_State *L)
{
    const char *path = vml_lua_optcstr(L, 1, NULL);
    ldb *d = lua_newuserdatauv(L, sizeof *d, 0);
    vml_err err;
    d->db = NULL;
    d->depth = 0;
    luaL_setmetatable(L, DB_TYPE);
    if (vml_store_open(path, &d->db, &err) < 0)
        return vml_lua_fail(L, &err);
    return 1;
}

static const luaL_Reg db_methods[] = {
    {"exec", l_exec},       {"query", l_query},     {"first", l_first},
    {"tx", l_tx},           {"migrate", l_migrate}, {"last_insert_id", l_last_insert_id},
    {"changes", l_changes}, {"path", l_path},       {"close", l_close},
    {NULL, NULL},
};

static const luaL_Reg store_funcs[] = {
    {"open", l_open},
    {NULL, NULL},
};

static int open_store(lua_State *L)
{
    if (luaL_newmetatable(L, DB_TYPE)) {
        luaL_newlib(L, db_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, STMT_TYPE)) {
        lua_pushcfunction(L, stmt_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_newlib(L, store_funcs);
    return 1;
}

const vml_lapi vml_lapi_store = {"store", open_store, VML_PROFILE_SCRIPT};

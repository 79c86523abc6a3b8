/* SPDX-License-Identifier: MIT
 *
 * bounded — library functions that charge the instruction budget (see bounded.h).
 *
 * The matcher is written for this file from the Lua 5.4 manual (§6.4.1 Patterns, §6.4 string
 * functions). Work is counted in steps (a call of do_match, one character tried by a repetition,
 * one character scanned by %b or a back reference); every CHARGE_EVERY steps the count goes to
 * vml_script_charge, which raises the limit error once the budget or the deadline is passed. All
 * matcher state lives on the C stack or in the Lua stack, so that raise leaks nothing.
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bounded.h"
#include "script.h"

#define CHARGE_EVERY 1024
#define MAX_CAPTURES 32 /* as Lua's LUA_MAXCAPTURES */
#define MAX_DEPTH 200   /* nested do_match calls: "pattern too complex" beyond */
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define ESC '%'
#define SPECIALS "^$*+?.([%-"

typedef struct matcher {
    const char *src, *src_end; /* subject */
    const char *pat_end;
    lua_State *L;
    int depth;           /* calls left before "pattern too complex" */
    int level;           /* captures opened */
    unsigned long steps; /* not yet charged */
    struct {
        const char *init;
        ptrdiff_t len; /* or CAP_UNFINISHED / CAP_POSITION */
    } cap[MAX_CAPTURES];
} matcher;

static void step(matcher *m, unsigned long n)
{
    m->steps += n;
    if (m->steps >= CHARGE_EVERY) {
        unsigned long k = m->steps;
        m->steps = 0;
        vml_script_charge(m->L, k);
    }
}

static void flush_steps(matcher *m)
{
    if (m->steps) {
        unsigned long k = m->steps;
        m->steps = 0;
        vml_script_charge(m->L, k);
    }
}

/* {===================================================================== single items */

static int class_match(int c, int cl)
{
    int res;
    switch (tolower(cl)) {
    case 'a':
        res = isalpha(c);
        break;
    case 'c':
        res = iscntrl(c);
        break;
    case 'd':
        res = isdigit(c);
        break;
    case 'g':
        res = isgraph(c);
        break;
    case 'l':
        res = islower(c);
        break;
    case 'p':
        res = ispunct(c);
        break;
    case 's':
        res = isspace(c);
        break;
    case 'u':
        res = isupper(c);
        break;
    case 'w':
        res = isalnum(c);
        break;
    case 'x':
        res = isxdigit(c);
        break;
    default:
        return cl == c;
    }
    if (isupper(cl))
        res = !res;
    return res != 0;
}

/* The end of the single-character class starting at p (one past it). */
static const char *item_end(matcher *m, const char *p)
{
    char c = *p++;
    if (c == ESC) {
        if (p >= m->pat_end)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (p < m->pat_end && *p == '^')
            p++;
        /* the first character of a set is literal, even ']' */
        do {
            if (p >= m->pat_end)
                luaL_error(m->L, "malformed pattern (missing ']')");
            c = *p++;
            if (c == ESC && p < m->pat_end)
                p++;
        } while (p >= m->pat_end || *p != ']');
        return p + 1;
    }
    return p;
}

/* Does c belong to the set [ ... ] between p (at '[') and ec (at its ']')? */
static int set_match(int c, const char *p, const char *ec)
{
    int yes = 1;
    if (p[1] == '^') {
        yes = 0;
        p++;
    }
    while (++p < ec) {
        if (*p == ESC) {
            p++;
            if (class_match(c, (unsigned char)*p))
                return yes;
        } else if (p[1] == '-' && p + 2 < ec) {
            p += 2;
            if ((unsigned char)p[-2] <= c && c <= (unsigned char)*p)
                return yes;
        } else if ((unsigned char)*p == c) {
            return yes;
        }
    }
    return !yes;
}

static int single_match(matcher *m, const char *s, const char *p, const char *ep)
{
    int c;
    if (s >= m->src_end)
        return 0;
    c = (unsigned char)*s;
    switch (*p) {
    case '.':
        return 1;
    case ESC:
        return class_match(c, (unsigned char)p[1]);
    case '[':
        return set_match(c, p, ep - 1);
    default:
        return (unsigned char)*p == c;
    }
}

/* }===================================================================== */

/* {===================================================================== matching */

static const char *do_match(matcher *m, const char *s, const char *p);

static const char *balance(matcher *m, const char *s, const char *p)
{
    int depth = 1;
    if (p + 1 >= m->pat_end)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->src_end || *s != p[0])
        return NULL;
    while (++s < m->src_end) {
        step(m, 1);
        if (*s == p[1]) {
            if (--depth == 0)
                return s + 1;
        } else if (*s == p[0]) {
            depth++;
        }
    }
    return NULL;
}

static const char *greedy(matcher *m, const char *s, const char *p, const char *ep)
{
    ptrdiff_t n = 0;
    while (single_match(m, s + n, p, ep)) {
        n++;
        step(m, 1);
    }
    for (; n >= 0; n--) { /* longest first, then give back one at a time */
        const char *r = do_match(m, s + n, ep + 1);
        if (r)
            return r;
    }
    return NULL;
}

static const char *lazy(matcher *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = do_match(m, s, ep + 1);
        if (r)
            return r;
        if (!single_match(m, s, p, ep))
            return NULL;
        s++;
    }
}

static const char *open_capture(matcher *m, const char *s, const char *p, ptrdiff_t what)
{
    const char *r;
    if (m->level >= MAX_CAPTURES)
        luaL_error(m->L, "too many captures");
    m->cap[m->level].init = s;
    m->cap[m->level].len = what;
    m->level++;
    if (!(r = do_match(m, s, p)))
        m->level--;
    return r;
}

static const char *close_capture(matcher *m, const char *s, const char *p)
{
    int l;
    const char *r;
    for (l = m->level - 1; l >= 0; l--)
        if (m->cap[l].len == CAP_UNFINISHED)
            break;
    if (l < 0)
        luaL_error(m->L, "invalid pattern capture");
    m->cap[l].len = s - m->cap[l].init;
    if (!(r = do_match(m, s, p)))
        m->cap[l].len = CAP_UNFINISHED;
    return r;
}

static int capture_index(matcher *m, int c)
{
    int l = c - '1';
    if (l < 0 || l >= m->level || m->cap[l].len == CAP_UNFINISHED)
        return luaL_error(m->L, "invalid capture index %%%d", l + 1);
    return l;
}

static const char *back_ref(matcher *m, const char *s, int c)
{
    int l = capture_index(m, c);
    size_t len = (size_t)m->cap[l].len;
    step(m, len / 16);
    if ((size_t)(m->src_end - s) >= len && memcmp(m->cap[l].init, s, len) == 0)
        return s + len;
    return NULL;
}

/* The end of the match of pattern p (up to pat_end) at s, or NULL. */
static const char *do_match(matcher *m, const char *s, const char *p)
{
    const char *r = NULL;
    if (m->depth-- == 0)
        luaL_error(m->L, "pattern too complex");
    step(m, 1);
    for (;;) {
        const char *ep;
        char rep;
        if (p >= m->pat_end) {
            r = s;
            break;
        }
        if (*p == '(') {
            if (p + 1 < m->pat_end && p[1] == ')')
                r = open_capture(m, s, p + 2, CAP_POSITION);
            else
                r = open_capture(m, s, p + 1, CAP_UNFINISHED);
            break;
        }
        if (*p == ')') {
            r = close_capture(m, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == m->pat_end) {
            r = s == m->src_end ? s : NULL;
            break;
        }
        if (*p == ESC && p + 1 < m->pat_end && p[1] == 'b') {
            if (!(s = balance(m, s, p + 2)))
                break;
            p += 4;
            continue;
        }
        if (*p == ESC && p + 1 < m->pat_end && p[1] == 'f') {
            int before, here;
            p += 2;
            if (p >= m->pat_end || *p != '[')
                luaL_error(m->L, "missing '[' after '%%f' in pattern");
            ep = item_end(m, p);
            before = s == m->src ? 0 : (unsigned char)s[-1];
            here = s < m->src_end ? (unsigned char)*s : 0;
            if (set_match(before, p, ep - 1) || !set_match(here, p, ep - 1))
                break;
            p = ep;
            continue;
        }
        if (*p == ESC && p + 1 < m->pat_end && isdigit((unsigned char)p[1])) {
            if (!(s = back_ref(m, s, (unsigned char)p[1])))
                break;
            p += 2;
            continue;
        }
        /* a single-character class, maybe with a repetition */
        ep = item_end(m, p);
        rep = ep < m->pat_end ? *ep : '\0';
        if (!single_match(m, s, p, ep)) {
            if (rep == '*' || rep == '?' || rep == '-') { /* zero times is a match */
                p = ep + 1;
                continue;
            }
            break;
        }
        if (rep == '?') {
            if ((r = do_match(m, s + 1, ep + 1)))
                break;
            p = ep + 1;
            continue;
        }
        if (rep == '+') {
            r = greedy(m, s + 1, p, ep);
            break;
        }
        if (rep == '*') {
            r = greedy(m, s, p, ep);
            break;
        }
        if (rep == '-') {
            r = lazy(m, s, p, ep);
            break;
        }
        s++;
        p = ep;
    }
    m->depth++;
    return r;
}

static void matcher_init(matcher *m, lua_State *L, const char *s, size_t ls, const char *p,
                         size_t lp)
{
    m->L = L;
    m->src = s;
    m->src_end = s + ls;
    m->pat_end = p + lp;
    m->steps = 0;
    m->level = 0;
    m->depth = MAX_DEPTH;
}

static void matcher_reset(matcher *m)
{
    m->level = 0;
    m->depth = MAX_DEPTH;
}

/* }===================================================================== */

/* {===================================================================== captures */

/* Pushes capture i (the whole match s..e when there are none and i == 0). */
static void push_capture(matcher *m, int i, const char *s, const char *e)
{
    if (i >= m->level) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m->L, s, (size_t)(e - s));
        return;
    }
    if (m->cap[i].len == CAP_UNFINISHED)
        luaL_error(m->L, "unfinished capture");
    if (m->cap[i].len == CAP_POSITION)
        lua_pushinteger(m->L, (lua_Integer)(m->cap[i].init - m->src) + 1);
    else
        lua_pushlstring(m->L, m->cap[i].init, (size_t)m->cap[i].len);
}

/* Pushes every capture, or the whole match when there are none and s is not NULL. */
static int push_captures(matcher *m, const char *s, const char *e)
{
    int i, n = (m->level == 0 && s) ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (i = 0; i < n; i++)
        push_capture(m, i, s, e);
    return n;
}

/* }===================================================================== */

/* {===================================================================== string functions */

/* A 1-based start position from a possibly negative one, clipped to 1 (manual §6.4). */
static size_t start_pos(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos;
    if (pos == 0)
        return 1;
    if (pos < -(lua_Integer)len)
        return 1;
    return len + (size_t)pos + 1;
}

static int no_specials(const char *p, size_t lp)
{
    size_t i;
    for (i = 0; i < lp; i++)
        if (strchr(SPECIALS, p[i]) && p[i] != '\0')
            return 0;
    return 1;
}

static int find_or_match(lua_State *L, int find)
{
    size_t ls, lp, init;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    init = start_pos(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || no_specials(p, lp))) {
        /* memmem is linear in glibc and the BSDs; charge the bytes it may scan */
        const char *hit = memmem(s + init, ls - init, p, lp);
        vml_script_charge(L, (ls - init) / 16 + 1);
        if (!hit) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
        lua_pushinteger(L, (lua_Integer)(hit - s + (ptrdiff_t)lp));
        return 2;
    }
    {
        matcher m;
        const char *s1 = s + init;
        int anchor = lp > 0 && *p == '^';
        if (anchor) {
            p++;
            lp--;
        }
        matcher_init(&m, L, s, ls, p, lp);
        do {
            const char *e;
            matcher_reset(&m);
            if ((e = do_match(&m, s1, p))) {
                flush_steps(&m);
                if (find) {
                    lua_pushinteger(L, (lua_Integer)(s1 - s) + 1);
                    lua_pushinteger(L, (lua_Integer)(e - s));
                    return push_captures(&m, NULL, NULL) + 2;
                }
                return push_captures(&m, s1, e);
            }
        } while (s1++ < m.src_end && !anchor);
        flush_steps(&m);
    }
    luaL_pushfail(L);
    return 1;
}

static int l_find(lua_State *L)
{
    return find_or_match(L, 1);
}

static int l_match(lua_State *L)
{
    return find_or_match(L, 0);
}

/* gmatch's iterator state: a userdata; the subject and pattern are upvalues 1 and 2. */
typedef struct gmatch_state {
    size_t pos;     /* next start, 0-based */
    ptrdiff_t last; /* end of the last match, or -1 */
} gmatch_state;

static int gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    gmatch_state *g = lua_touserdata(L, lua_upvalueindex(3));
    matcher m;
    size_t i;
    matcher_init(&m, L, s, ls, p, lp);
    for (i = g->pos; i <= ls; i++) {
        const char *e;
        matcher_reset(&m);
        if ((e = do_match(&m, s + i, p)) && (g->last < 0 || e != s + g->last)) {
            g->pos = (size_t)(e - s);
            g->last = e - s;
            flush_steps(&m);
            return push_captures(&m, s + i, e);
        }
    }
    g->pos = ls + 1;
    flush_steps(&m);
    return 0;
}

static int l_gmatch(lua_State *L)
{
    size_t ls, init;
    gmatch_state *g;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    init = start_pos(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls)
        init = ls + 1; /* no match at all */
    lua_settop(L, 2);
    g = lua_newuserdatauv(L, sizeof *g, 0);
    g->pos = init;
    g->last = -1;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* gsub: appends the replacement of the match s..e; returns whether it changed the text. */
static int add_replacement(matcher *m, luaL_Buffer *b, const char *s, const char *e, int tr)
{
    lua_State *L = m->L;
    if (tr == LUA_TFUNCTION) {
        int n;
        lua_pushvalue(L, 3);
        n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else { /* a string (or number): %0..%9 and %% */
        size_t l;
        const char *r = lua_tolstring(L, 3, &l), *q;
        while ((q = memchr(r, ESC, l))) {
            luaL_addlstring(b, r, (size_t)(q - r));
            q++;
            if (*q == ESC) {
                luaL_addchar(b, ESC);
            } else if (*q == '0') {
                luaL_addlstring(b, s, (size_t)(e - s));
            } else if (isdigit((unsigned char)*q)) {
                push_capture(m, *q - '1', s, e);
                luaL_tolstring(L, -1, NULL); /* a position capture is a number */
                lua_remove(L, -2);
                luaL_addvalue(b);
            } else {
                luaL_error(L, "invalid use of '%c' in replacement string", ESC);
            }
            l -= (size_t)(q + 1 - r);
            r = q + 1;
        }
        luaL_addlstring(b, r, l);
        return 1;
    }
    if (!lua_toboolean(L, -1)) { /* nil or false: keep the original text */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int l_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *last = NULL;
    int tr = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1), n = 0;
    int anchor = lp > 0 && *p == '^', changed = 0;
    matcher m;
    luaL_Buffer b;
    luaL_argexpected(
        L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
        "string/function/table");
    luaL_buffinit(L, &b);
    if (anchor) {
        p++;
        lp--;
    }
    matcher_init(&m, L, src, ls, p, lp);
    while (n < max) {
        const char *e;
        matcher_reset(&m);
        if ((e = do_match(&m, src, p)) && e != last) {
            n++;
            changed |= add_replacement(&m, &b, src, e, tr);
            src = last = e;
        } else if (src < m.src_end) {
            luaL_addchar(&b, *src++);
            step(&m, 1);
        } else {
            break;
        }
        if (anchor)
            break;
    }
    flush_steps(&m);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(m.src_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

/* string.rep: nothing to repeat (empty string and separator) is the empty string at once; the
 * library's loop would copy zero bytes up to 2^63 times. Otherwise the memory limit bounds it. */
static int l_rep(lua_State *L)
{
    size_t l, lsep = 0;
    luaL_checklstring(L, 1, &l);
    luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (l + lsep == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* }===================================================================== */

/* {===================================================================== table functions */

/* The table library's own function (upvalue 1) called with all arguments after charging n. */
static int call_original(lua_State *L, lua_Integer n)
{
    vml_script_charge(L, n > 0 ? (unsigned long)n : 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* insert and remove shift the elements after pos: up to #t of them */
static int l_insert_remove(lua_State *L)
{
    /* other types are refused by the library itself (with its own message) */
    lua_Integer n = lua_type(L, 1) == LUA_TTABLE ? luaL_len(L, 1) : 0;
    return call_original(L, n < 0 ? 0 : n);
}

/* move(a1, f, e, t [,a2]) copies e - f + 1 elements */
static int l_move(lua_State *L)
{
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3), n = 0;
    if (e >= f && (f > 0 || e < LUA_MAXINTEGER + f)) /* else the library refuses it */
        n = e - f + 1;
    return call_original(L, n);
}

/* sort compares about n log2 n times */
static int l_sort(lua_State *L)
{
    lua_Integer n = lua_type(L, 1) == LUA_TTABLE ? luaL_len(L, 1) : 0, k = 1, work;
    if (n <= 1)
        return call_original(L, 1);
    while (k < 63 && ((lua_Integer)1 << k) < n)
        k++;
    work = n > LUA_MAXINTEGER / (k + 1) ? LUA_MAXINTEGER : n * (k + 1);
    return call_original(L, work);
}

/* }===================================================================== */

/* setmetatable refusing finalizers: Lua 5.4 runs __gc with hooks disabled, so a finalizer that
 * loops would never be stopped. An object is marked for finalization only when its metatable has
 * a __gc field at the time it is set, so checking here is enough. */
static int l_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: a '__gc' finalizer is not allowed in a plugin "
                                 "(finalizers run outside the time limit); use a to-be-closed "
                                 "variable or an explicit close function instead");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* Replaces lib.name with f, giving f the original as upvalue 1 when wrap is set. */
static void replace(lua_State *L, const char *lib, const char *name, lua_CFunction f, int wrap)
{
    if (lib)
        lua_getglobal(L, lib);
    else
        lua_pushglobaltable(L);
    if (wrap) {
        lua_getfield(L, -1, name);
        lua_pushcclosure(L, f, 1);
    } else {
        lua_pushcfunction(L, f);
    }
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

void vml_bounded_install(lua_State *L)
{
    replace(L, LUA_STRLIBNAME, "find", l_find, 0);
    replace(L, LUA_STRLIBNAME, "match", l_match, 0);
    replace(L, LUA_STRLIBNAME, "gmatch", l_gmatch, 0);
    replace(L, LUA_STRLIBNAME, "gsub", l_gsub, 0);
    replace(L, LUA_STRLIBNAME, "rep", l_rep, 1);
    replace(L, LUA_TABLIBNAME, "insert", l_insert_remove, 1);
    replace(L, LUA_TABLIBNAME, "remove", l_insert_remove, 1);
    replace(L, LUA_TABLIBNAME, "move", l_move, 1);
    replace(L, LUA_TABLIBNAME, "sort", l_sort, 1);
    replace(L, NULL, "setmetatable", l_setmetatable, 1);
}

/* SPDX-License-Identifier: MIT
 *
 * lapi_fs — files for scripts and the Lua half of VibeML (SCRIPT profile only; plugins get no
 * files). Runtime failures return nil, message, code (lapi.h); a path holding a NUL byte raises.
 *   vibeml.fs.read(path [, {regular = true}]) -> string
 *       regular: refuse (nil, message, "VML_EPERM") anything but a regular file, without
 *       following a symlink or blocking on a FIFO
 *   vibeml.fs.write(path, data [, {mode = 0x180 (0600), atomic = true}]) -> true
 *       atomic: temp file in the same folder, fsync, rename, so a reader never sees half a file
 *   vibeml.fs.append(path, data) -> true
 *   vibeml.fs.exists(path) -> "file" | "dir" | "other" | nil
 *   vibeml.fs.stat(path) -> {type=, size=, mtime=, mode=}
 *   vibeml.fs.mkdirs(path [, mode]) -> true
 *   vibeml.fs.list(dir) -> { names, sorted } (no . and ..)
 *   vibeml.fs.remove(path) -> true (a file or an empty folder)
 *   vibeml.fs.paths() -> {config=, data=, state=} (created, mode 0700)
 *
 * Uses: paths, lapi, err.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "lapi.h"

static int fail_errno(lua_State *L, int e, const char *what)
{
    vml_err err;
    vml_err_from_errno(&err, e, what);
    return vml_lua_fail(L, &err);
}

/* read(path [, {regular = true}]): with regular, only a regular file is read: a symlink (even
 * to a regular file), FIFO, socket, device or folder is refused without blocking (O_NOFOLLOW
 * and O_NONBLOCK at open, then fstat), e.g. a job's log that something replaced. */
static int l_read(lua_State *L)
{
    const char *path = vml_lua_checkcstr(L, 1);
    int regular = 0, fd;
    luaL_Buffer b;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "regular");
        regular = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | (regular ? O_NOFOLLOW | O_NONBLOCK : 0));
    if (fd < 0 && regular && errno == ELOOP) {
        vml_err err;
        vml_err_set(&err, VML_EPERM, "%s: is a symbolic link; only a regular file is read here",
                    path);
        return vml_lua_fail(L, &err);
    }
    if (fd < 0)
        return fail_errno(L, errno, path);
    if (regular) {
        struct stat st;
        if (fstat(fd, &st) != 0) {
            int e = errno;
            close(fd);
            return fail_errno(L, e, path);
        }
        if (!S_ISREG(st.st_mode)) {
            vml_err err;
            close(fd);
            vml_err_set(&err, VML_EPERM,
                        "%s: is not a regular file (%s); only a regular file "
                        "is read here",
                        path,
                        S_ISDIR(st.st_mode)    ? "a folder"
                        : S_ISFIFO(st.st_mode) ? "a FIFO"
                        : S_ISSOCK(st.st_mode) ? "a socket"
                                               : "a device or special file");
            return vml_lua_fail(L, &err);
        }
    }
    luaL_buffinit(L, &b);
    for (;;) {
        char *p = luaL_prepbuffer(&b);
        ssize_t n = read(fd, p, LUAL_BUFFERSIZE);
        if (n < 0) {
            int e = errno;
            if (e == EINTR)
                continue;
            close(fd);
            return fail_errno(L, e, path);
        }
        if (n == 0)
            break;
        luaL_addsize(&b, (size_t)n);
    }
    close(fd);
    luaL_pushresult(&b);
    return 1;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int l_write(lua_State *L)
{
    size_t len;
    const char *path = vml_lua_checkcstr(L, 1);
    const char *data = luaL_checklstring(L, 2, &len);
    int mode = 0600, atomic = 1, fd, e;
    char tmp[4200];
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "mode");
        mode = (int)luaL_optinteger(L, -1, 0600);
        lua_getfield(L, 3, "atomic");
        if (!lua_isnil(L, -1))
            atomic = lua_toboolean(L, -1);
        lua_pop(L, 2);
    }
    if (!atomic) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
            return fail_errno(L, errno, path);
        if (write_all(fd, data, len) < 0) {
            e = errno;
            close(fd);
            return fail_errno(L, e, path);
        }
        close(fd);
        lua_pushboolean(L, 1);
        return 1;
    }
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return vml_lapi_fail(L, VML_EINVAL, "path too long (%zu bytes): %.200s...", strlen(path),
                             path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return fail_errno(L, errno, tmp);
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        e = errno;
        close(fd);
        unlink(tmp);
        return fail_errno(L, e, path);
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        e = errno;
        unlink(tmp);
        return fail_errno(L, e, path);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_append(lua_State *L)
{
    size_t len;
    const char *path = vml_lua_checkcstr(L, 1);
    const char *data = luaL_checklstring(L, 2, &len);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600), e;
    if (fd < 0)
        return fail_errno(L, errno, path);
    if (write_all(fd, data, len) < 0) {
        e = errno;
        close(fd);
        return fail_errno(L, e, path);
    }
    close(fd);
    lua_pushboolean(L, 1);
    return 1;
}

static const char *type_of(mode_t m)
{
    return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : "other";
}

static int l_exists(lua_State *L)
{
    struct stat st;
    if (stat(vml_lua_checkcstr(L, 1), &st) != 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, type_of(st.st_mode));
    return 1;
}

static int l_stat(lua_State *L)
{
    const char *path = vml_lua_checkcstr(L, 1);
    struct stat st;
    if (stat(path, &st) != 0)
        return fail_errno(L, errno, path);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, type_of(st.st_mode));
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, (lua_Integer)st.st_size);
    lua_setfield(L, -2, "size");
    lua_pushnumber(L, (lua_Number)st.st_mtim.tv_sec + (lua_Number)st.st_mtim.tv_nsec / 1e9);
    lua_setfield(L, -2, "mtime");
    lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
    lua_setfield(L, -2, "mode");
    return 1;
}

static int l_mkdirs(lua_State *L)
{
    const char *path = vml_lua_checkcstr(L, 1);
    int mode = (int)luaL_optinteger(L, 2, 0700);
    vml_err err;
    if (vml_paths_mkdirs(path, mode, &err) < 0)
        return vml_lua_fail(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int l_list(lua_State *L)
{
    const char *path = vml_lua_checkcstr(L, 1);
    DIR *d = opendir(path);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    if (!d)
        return fail_errno(L, errno, path);
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            char **nn;
            cap = cap ? cap * 2 : 32;
            nn = realloc(names, cap * sizeof *names);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    /* copy into Lua only after every malloc is done; a push that raises then leaks nothing
     * but this list, which we free first by building a guard-free copy on the stack */
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
        free(names[i]);
        names[i] = NULL;
    }
    free(names);
    return 1;
}

static int l_remove(lua_State *L)
{
    const char *path = vml_lua_checkcstr(L, 1);
    if (remove(path) != 0)
        return fail_errno(L, errno, path);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_paths(lua_State *L)
{
    static const struct {
        const char *name;
        vml_path_kind kind;
    } kinds[] = {{"config", VML_PATH_CONFIG}, {"data", VML_PATH_DATA}, {"state", VML_PATH_STATE}};
    char buf[4096];
    size_t i;
    vml_err err;
    lua_createtable(L, 0, 3);
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (vml_paths_get(kinds[i].kind, buf, sizeof buf, 1, &err) < 0)
            return vml_lua_fail(L, &err);
        lua_pushstring(L, buf);
        lua_setfield(L, -2, kinds[i].name);
    }
    return 1;
}

static const luaL_Reg fs_funcs[] = {
    {"read", l_read},   {"write", l_write},   {"append", l_append}, {"exists", l_exists},
    {"stat", l_stat},   {"mkdirs", l_mkdirs}, {"list", l_list},     {"remove", l_remove},
    {"paths", l_paths}, {NULL, NULL},
};

static int open_fs(lua_State *L)
{
    luaL_newlib(L, fs_funcs);
    return 1;
}

const vml_lapi vml_lapi_fs = {"fs", open_fs, VML_PROFILE_SCRIPT};

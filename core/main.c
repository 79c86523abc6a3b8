/* SPDX-License-Identifier: MIT
 *
 * main — `vibeml COMMAND ...`: version and help here; every other command is a C command
 * (core/cmd_<name>.c, see cmd.h) or a Lua command (lua/vibeml/cli/<name>.lua) run as a task.
 *
 * Uses: cmd, script, runner, embed, and the library versions it reports.
 */
#include <curl/curlver.h>
#include <jansson.h>
#include <lauxlib.h>
#include <microhttpd.h>
#include <sodium.h>
#include <sqlite3.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <uv.h>

#include "cmd.h"
#include "embed.h"
#include "log.h"
#include "runner.h"
#include "script.h"
#include "watchdog.h"

const vml_cmd *vml_cmd_find(const char *name)
{
    const vml_cmd *const *c;
    for (c = vml_cmd_all; *c; c++)
        if (strcmp((*c)->name, name) == 0)
            return *c;
    return NULL;
}

static int print_version(int json)
{
    if (json) {
        printf("{\"name\":\"vibeml\",\"version\":\"%s\",\"build\":\"%s\",\"sanitize\":\"%s\","
               "\"lua\":\"%s\",\"jansson\":\"%s\",\"libcurl\":\"%s\",\"libsodium\":\"%s\","
               "\"libuv\":\"%s\",\"sqlite\":\"%s\",\"libmicrohttpd\":\"%s\"}\n",
               VML_VERSION, VML_BUILD_TYPE, VML_SANITIZE_STR, LUA_RELEASE, JANSSON_VERSION,
               LIBCURL_VERSION, sodium_version_string(), uv_version_string(), sqlite3_libversion(),
               MHD_get_version());
        return VML_EXIT_OK;
    }
    printf("vibeml %s (%s build%s%s)\n", VML_VERSION, VML_BUILD_TYPE,
           VML_SANITIZE_STR[0] ? ", sanitizers: " : "", VML_SANITIZE_STR);
    printf("  %s, jansson %s, libcurl %s, libsodium %s, libuv %s, SQLite %s, "
           "libmicrohttpd %s\n",
           LUA_RELEASE, JANSSON_VERSION, LIBCURL_VERSION, sodium_version_string(),
           uv_version_string(), sqlite3_libversion(), MHD_get_version());
    return VML_EXIT_OK;
}

/* Loads lua/vibeml/cli/<name>.lua's table onto a new state's stack. Returns the state or NULL. */
static vml_script *lua_command(const char *name, vml_err *err)
{
    char path[256];
    vml_script *s = NULL;
    snprintf(path, sizeof path, "lua/vibeml/cli/%s.lua", name);
    if (strchr(name, '/') || strchr(name, '.') || !vml_embed_find(path))
        return NULL;
    if (vml_script_new(VML_PROFILE_SCRIPT, NULL, &s, err) < 0)
        return NULL;
    snprintf(s->name, sizeof s->name, "%s", name);
    lua_getglobal(s->L, "require");
    lua_pushfstring(s->L, "vibeml.cli.%s", name);
    if (vml_script_pcall(s, 1, 1, err) < 0) {
        vml_script_free(s);
        return NULL;
    }
    return s;
}

static void lua_command_field(vml_script *s, const char *field, char *buf, size_t n)
{
    buf[0] = '\0';
    if (lua_istable(s->L, -1)) {
        if (lua_getfield(s->L, -1, field) == LUA_TSTRING)
            snprintf(buf, n, "%s", lua_tostring(s->L, -1));
        lua_pop(s->L, 1);
    }
}

static void print_help(void)
{
    const vml_cmd *const *c;
    const vml_embed_file *f;
    printf("vibeml %s — fine-tune LLMs on cloud GPUs from an AI assistant or a Lua script\n\n"
           "usage: vibeml COMMAND [OPTIONS]\n\ncommands:\n"
           "  %-12s %s\n  %-12s %s\n",
           VML_VERSION, "version", "version, build options, library versions", "help",
           "this text, or `vibeml help COMMAND`");
    for (c = vml_cmd_all; *c; c++)
        printf("  %-12s %s\n", (*c)->name, (*c)->summary);
    for (f = vml_embed_files; f->path; f++) {
        const char *pre = "lua/vibeml/cli/";
        char name[64], summary[256];
        vml_script *s;
        vml_err err;
        size_t len;
        if (strncmp(f->path, pre, strlen(pre)) != 0)
            continue;
        len = strlen(f->path + strlen(pre));
        if (len < 5 || len - 4 >= sizeof name || strchr(f->path + strlen(pre), '/'))
            continue;
        snprintf(name, sizeof name, "%.*s", (int)(len - 4), f->path + strlen(pre));
        if (name[0] == '_' || vml_cmd_find(name))
            continue;
        s = lua_command(name, &err);
        if (!s)
            continue;
        lua_command_field(s, "summary", summary, sizeof summary);
        vml_script_free(s);
        printf("  %-12s %s\n", name, summary);
    }
    printf("\nexit codes: 0 success, 1 failure, 2 usage error, 3 a resource limit was hit\n"
           "environment: VIBEML_HOME (one folder for config, data, state), VIBEML_PASSPHRASE,\n"
           "  HF_ENDPOINT, HF_TOKEN, VIBEML_SKY, NO_COLOR\n");
}

/* Edit distance with a swap of neighbours counting once (optimal string alignment), case-blind,
 * on names of at most 63 bytes (longer ones are too far from any command anyway). The same rule
 * as lua/vibeml/names.lua's distance, for the one lookup that happens before Lua starts. */
static int name_distance(const char *a, const char *b)
{
    int d[64][64];
    int la = (int)strlen(a), lb = (int)strlen(b), i, j;
    if (la > 63 || lb > 63)
        return 99;
    for (i = 0; i <= la; i++)
        d[i][0] = i;
    for (j = 0; j <= lb; j++)
        d[0][j] = j;
    for (i = 1; i <= la; i++) {
        for (j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int v = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

static void consider(const char *typed, const char *name, int *best, char *out, size_t n)
{
    int len = (int)strlen(typed);
    int limit = len / 3 < 1 ? 1 : (len / 3 > 3 ? 3 : len / 3);
    int dist = name_distance(typed, name);
    if (len >= 2 && strncasecmp(name, typed, (size_t)len) == 0 && dist > 1)
        dist = 1; /* "work" -> workflows */
    if (dist <= limit && dist < *best) {
        *best = dist;
        snprintf(out, n, "%s", name);
    }
}

/* The command closest to a mistyped one ("plna" -> plan), or "" when none is close. */
static void closest_command(const char *typed, char *out, size_t n)
{
    const vml_cmd *const *c;
    const vml_embed_file *f;
    const char *pre = "lua/vibeml/cli/";
    int best = 99;
    out[0] = '\0';
    consider(typed, "version", &best, out, n);
    consider(typed, "help", &best, out, n);
    for (c = vml_cmd_all; *c; c++)
        consider(typed, (*c)->name, &best, out, n);
    for (f = vml_embed_files; f->path; f++) {
        char name[64];
        size_t len;
        if (strncmp(f->path, pre, strlen(pre)) != 0 || strchr(f->path + strlen(pre), '/'))
            continue;
        len = strlen(f->path + strlen(pre));
        if (len < 5 || len - 4 >= sizeof name || strcmp(f->path + strlen(f->path) - 4, ".lua") != 0)
            continue;
        snprintf(name, sizeof name, "%.*s", (int)(len - 4), f->path + strlen(pre));
        if (name[0] != '_' && strcmp(name, "supervise") != 0)
            consider(typed, name, &best, out, n);
    }
}

static void unknown_command(const char *name)
{
    char near[64];
    closest_command(name, near, sizeof near);
    if (near[0])
        fprintf(stderr, "vibeml: unknown command '%s' (did you mean '%s'? see `vibeml help`)\n",
                name, near);
    else
        fprintf(stderr, "vibeml: unknown command '%s' (see `vibeml help`)\n", name);
}

static int help_for(const char *name)
{
    const vml_cmd *c = vml_cmd_find(name);
    vml_script *s;
    vml_err err;
    char usage[4096];
    if (c) {
        fputs(c->usage, stdout);
        return VML_EXIT_OK;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "help") == 0) {
        print_help();
        return VML_EXIT_OK;
    }
    vml_err_clear(&err);
    s = lua_command(name, &err);
    if (!s) {
        if (err.code)
            fprintf(stderr, "vibeml: %s\n", vml_err_msg(&err));
        else
            unknown_command(name);
        return VML_EXIT_USAGE;
    }
    lua_command_field(s, "usage", usage, sizeof usage);
    vml_script_free(s);
    fputs(usage, stdout);
    if (usage[0] && usage[strlen(usage) - 1] != '\n')
        fputc('\n', stdout);
    return VML_EXIT_OK;
}

/* The exit code, or leaves at once when a plugin thread the watchdog gave up still runs: exit
 * handlers (libuv's among them) could free or join what that thread holds. */
static int finish(int code)
{
    fflush(stderr);
    vml_log_flush(2000); /* a server's buffered stderr: bounded, a reader may be gone */
    if (vml_watchdog_stuck() > 0) {
        fflush(stdout);
        fflush(stderr);
        _exit(code);
    }
    return code;
}

int main(int argc, char **argv)
{
    const vml_cmd *c;
    vml_script *s;
    vml_err err;
    const char *name;
    int i, code;

    if (argc < 2) {
        print_help();
        return VML_EXIT_USAGE;
    }
    name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0)
        return print_version(argc > 2 && strcmp(argv[2], "--json") == 0);
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2)
            return help_for(argv[2]);
        print_help();
        return VML_EXIT_OK;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "vibeml: libsodium failed to initialise\n");
        return VML_EXIT_FAIL;
    }
    /* jansson's hash seed from libsodium's generator, before any JSON object exists: else
     * jansson opens and reads /dev/urandom itself on first use (three syscalls per start) */
    json_object_seed((size_t)randombytes_random() | 1u);
    c = vml_cmd_find(name);
    if (c)
        return finish(c->main(argc - 1, argv + 1));
    vml_err_clear(&err);
    s = lua_command(name, &err);
    if (!s) {
        if (err.code) {
            fprintf(stderr, "vibeml: %s\n", vml_err_msg(&err));
            return VML_EXIT_FAIL;
        }
        unknown_command(name);
        return VML_EXIT_USAGE;
    }
    /* [cmdtable] -> cmdtable.main(args) with args = {argv[2], ...}, args[0] = name */
    if (lua_getfield(s->L, -1, "main") != LUA_TFUNCTION) {
        fprintf(stderr, "vibeml: command '%s' has no main function\n", name);
        vml_script_free(s);
        return VML_EXIT_FAIL;
    }
    lua_remove(s->L, -2);
    lua_createtable(s->L, argc, 1);
    for (i = 1; i < argc; i++) {
        lua_pushstring(s->L, argv[i]);
        lua_rawseti(s->L, -2, i - 1);
    }
    code = vml_runner_exec(s, 1, NULL);
    vml_script_free(s);
    return finish(code);
}

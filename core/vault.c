/* SPDX-License-Identifier: MIT
 * vault — the encrypted secrets file: format, keys, rollback check (see vault.h). */
#include "vault.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "paths.h"
#include "store.h"

#define MAGIC "VIBEMLVAULT1\n"
#define MAC_TAG "\nmac "
#define AD_PREFIX "vibeml-vault:1:"
#define CHECK_TEXT "vibeml vault key check"
#define KEYBYTES 32
#define CHECKBYTES 16
#define MACBYTES 32
#define SALTBYTES crypto_pwhash_SALTBYTES
#define NONCEBYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAGBYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

static unsigned long long kdf_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
static size_t kdf_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;

void vml_vault_set_kdf_cost(unsigned long long opslimit, size_t memlimit)
{
    kdf_ops = opslimit;
    kdf_mem = memlimit;
}

/* {============================================================ the passphrase from the environment
 * VIBEML_PASSPHRASE is taken out of the environment when the process starts: copied into
 * sodium memory, wiped in the original environment block (so /proc/<pid>/environ no longer shows
 * it) and unset, so no child process (sky, a training script, a supervisor) ever inherits the
 * vault's master secret. A value set later with setenv (tests) is still honoured. */
static unsigned char *env_pw;
static size_t env_pwlen;

__attribute__((constructor)) static void capture_passphrase(void)
{
    char *env = getenv("VIBEML_PASSPHRASE");
    size_t n;
    if (!env || !*env || sodium_init() < 0)
        return;
    n = strlen(env);
    env_pw = sodium_malloc(n + 1);
    if (!env_pw)
        return;
    memcpy(env_pw, env, n);
    env_pw[n] = '\0';
    env_pwlen = n;
    sodium_memzero(env, n);
    unsetenv("VIBEML_PASSPHRASE");
}

/* The passphrase given through the environment (borrowed), or NULL. */
static const char *passphrase_env(size_t *len)
{
    const char *now = getenv("VIBEML_PASSPHRASE");
    if (now && *now) {
        *len = strlen(now);
        return now;
    }
    *len = env_pwlen;
    return env_pw ? (const char *)env_pw : NULL;
}

/* }============================================================ */

static int sodium_ready(vml_err *err)
{
    if (sodium_init() < 0)
        return vml_err_set(err, VML_ECRYPTO, "libsodium failed to initialise");
    return 0;
}

int vml_vault_path(char *buf, size_t n, vml_err *err)
{
    return vml_paths_join(VML_PATH_DATA, "vault", buf, n, 0, err);
}

/* {============================================================ the vault in memory */

typedef struct ventry {
    char name[VML_SECRET_NAME_MAX + 1];
    char created[32], updated[32];
    unsigned char nonce[NONCEBYTES];
    unsigned char *ct; /* malloc'd ciphertext + tag (not secret) */
    size_t ctlen;
} ventry;

typedef struct vault {
    char path[4096], keypath[4096], lockpath[4096], dir[4096];
    int exists;
    int passphrase;
    unsigned char salt[SALTBYTES];
    unsigned long long ops;
    size_t mem;
    unsigned char check[CHECKBYTES];
    ventry *e;
    size_t n, cap;
    unsigned char *keys; /* sodium_malloc: enc(32) mac(32) check(32); NULL until unlocked */
    int lockfd;
    long long gen;    /* the file's generation (0 for files written before it existed) */
    int accept_older; /* vml_vault_accept_restore: skip the rollback check once */
} vault;

static void vault_deinit(vault *v)
{
    size_t i;
    for (i = 0; i < v->n; i++)
        free(v->e[i].ct);
    free(v->e);
    v->e = NULL;
    v->n = v->cap = 0;
    if (v->keys)
        sodium_free(v->keys);
    v->keys = NULL;
    if (v->lockfd >= 0) {
        flock(v->lockfd, LOCK_UN);
        close(v->lockfd);
    }
    v->lockfd = -1;
}

static int vault_init(vault *v, vml_err *err)
{
    int rc;
    memset(v, 0, sizeof *v);
    v->lockfd = -1;
    if ((rc = sodium_ready(err)) < 0)
        return rc;
    if ((rc = vml_paths_get(VML_PATH_DATA, v->dir, sizeof v->dir, 0, err)) < 0)
        return rc;
    if ((size_t)snprintf(v->path, sizeof v->path, "%s/vault", v->dir) >= sizeof v->path ||
        (size_t)snprintf(v->keypath, sizeof v->keypath, "%s/vault.key", v->dir) >=
            sizeof v->keypath ||
        (size_t)snprintf(v->lockpath, sizeof v->lockpath, "%s/vault.lock", v->dir) >=
            sizeof v->lockpath)
        return vml_err_set(err, VML_EINVAL, "data folder path is too long: %s", v->dir);
    return 0;
}

/* Takes the vault lock: exclusive for writers, shared for readers. Creates the folder. */
static int vault_lock(vault *v, int exclusive, vml_err *err)
{
    int rc;
    if ((rc = vml_paths_mkdirs(v->dir, 0700, err)) < 0)
        return rc;
    v->lockfd = open(v->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (v->lockfd < 0)
        return vml_err_from_errno(err, errno, v->lockpath);
    while (flock(v->lockfd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
        if (errno != EINTR) {
            rc = vml_err_from_errno(err, errno, v->lockpath);
            close(v->lockfd);
            v->lockfd = -1;
            return rc;
        }
    }
    return 0;
}

static int damaged(vml_err *err, const vault *v, const char *what)
{
    return vml_err_set(err, VML_ECRYPTO,
                       "the vault at %s is damaged (%s); it was left untouched. Restore it from "
                       "a backup, or move it away and add the secrets again with `vibeml "
                       "secrets set NAME`",
                       v->path, what);
}

static int b64_decode_exact(const char *text, unsigned char *out, size_t want)
{
    size_t got = 0;
    if (!text || sodium_base642bin(out, want, text, strlen(text), NULL, &got, NULL,
                                   sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return got == want ? 0 : -1;
}

/* Reads the whole file into a malloc'd buffer; *exists 0 when it is missing. */
static int read_whole(const char *path, char **out, size_t *len, int *exists, vml_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    *out = NULL;
    *len = 0;
    *exists = 0;
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return vml_err_from_errno(err, errno, path);
    }
    *exists = 1;
    if (fstat(fd, &st) != 0) {
        rc = vml_err_from_errno(err, errno, path);
        goto out;
    }
    if (st.st_size > 64 * 1024 * 1024) {
        rc = vml_err_set(err, VML_EIO, "%s is too large to be a vault", path);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = vml_err_set(err, VML_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = vml_err_from_errno(err, errno, path);
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

/* The file's text as read, kept for the MAC check. */
typedef struct vault_text {
    char *data;
    size_t len;
    size_t mac_at; /* offset of "\nmac " + 1: bytes [0, mac_at) are authenticated */
    unsigned char mac[MACBYTES];
} vault_text;

static int parse_entry(vault *v, json_t *je, vml_err *err)
{
    const char *name = json_string_value(json_object_get(je, "name"));
    const char *created = json_string_value(json_object_get(je, "created"));
    const char *updated = json_string_value(json_object_get(je, "updated"));
    const char *nonce = json_string_value(json_object_get(je, "nonce"));
    const char *ct = json_string_value(json_object_get(je, "ct"));
    ventry *e;
    size_t ctlen;
    if (!vml_secrets_name_ok(name) || !created || !updated || !nonce || !ct ||
        strlen(created) >= sizeof e->created || strlen(updated) >= sizeof e->updated)
        return damaged(err, v, "an entry is malformed");
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        ventry *ne = realloc(v->e, cap * sizeof *ne);
        if (!ne)
            return vml_err_set(err, VML_ENOMEM, "out of memory");
        v->e = ne;
        v->cap = cap;
    }
    e = &v->e[v->n];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->created, sizeof e->created, "%s", created);
    snprintf(e->updated, sizeof e->updated, "%s", updated);
    if (b64_decode_exact(nonce, e->nonce, NONCEBYTES) < 0)
        return damaged(err, v, "an entry's nonce is malformed");
    ctlen = strlen(ct) / 4 * 3 + 3;
    e->ct = malloc(ctlen);
    if (!e->ct)
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    if (sodium_base642bin(e->ct, ctlen, ct, strlen(ct), NULL, &e->ctlen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        e->ctlen < TAGBYTES + 1) {
        free(e->ct);
        return damaged(err, v, "an entry's ciphertext is malformed");
    }
    v->n++;
    return 0;
}

/* Reads and parses the file (no key needed). A missing file leaves v->exists 0. */
static int vault_read(vault *v, vault_text *t, vml_err *err)
{
    json_t *root = NULL, *kdf, *entries;
    json_error_t jerr;
    const char *alg, *p, *body;
    size_t i, bodylen;
    int rc;

    memset(t, 0, sizeof *t);
    if ((rc = read_whole(v->path, &t->data, &t->len, &v->exists, err)) < 0)
        return rc;
    if (!v->exists)
        return 0;
    if (t->len < sizeof MAGIC - 1 || memcmp(t->data, MAGIC, sizeof MAGIC - 1) != 0)
        return damaged(err, v, "it does not start with the vault header");
    /* the last "\nmac " line */
    p = NULL;
    for (i = t->len; i-- > sizeof MAGIC - 2;) {
        if (t->len - i >= sizeof MAC_TAG - 1 &&
            memcmp(t->data + i, MAC_TAG, sizeof MAC_TAG - 1) == 0) {
            p = t->data + i;
            break;
        }
    }
    if (!p)
        return damaged(err, v, "the authentication line is missing; the file may be truncated");
    t->mac_at = (size_t)(p - t->data) + 1;
    {
        char macb64[128];
        const char *m = p + sizeof MAC_TAG - 1;
        size_t mlen = t->len - (size_t)(m - t->data);
        while (mlen && (m[mlen - 1] == '\n'))
            mlen--;
        if (mlen == 0 || mlen >= sizeof macb64)
            return damaged(err, v, "the authentication line is malformed");
        memcpy(macb64, m, mlen);
        macb64[mlen] = '\0';
        if (b64_decode_exact(macb64, t->mac, MACBYTES) < 0)
            return damaged(err, v, "the authentication line is malformed");
    }
    body = t->data + sizeof MAGIC - 1;
    bodylen = t->mac_at - (sizeof MAGIC - 1);
    root = json_loadb(body, bodylen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        rc = damaged(err, v, "its JSON part does not parse");
        goto out;
    }
    if (json_integer_value(json_object_get(root, "version")) != 1 ||
        !json_is_string(json_object_get(root, "format")) ||
        strcmp(json_string_value(json_object_get(root, "format")), "vibeml-vault") != 0) {
        rc = vml_err_set(err, VML_EUNSUPPORTED,
                         "the vault at %s has a format or version this vibeml does not know "
                         "(this build reads version 1); upgrade vibeml",
                         v->path);
        goto out;
    }
    kdf = json_object_get(root, "kdf");
    alg = json_string_value(json_object_get(kdf, "alg"));
    if (alg && strcmp(alg, "argon2id13") == 0) {
        json_int_t ops = json_integer_value(json_object_get(kdf, "opslimit"));
        json_int_t mem = json_integer_value(json_object_get(kdf, "memlimit"));
        v->passphrase = 1;
        if (b64_decode_exact(json_string_value(json_object_get(kdf, "salt")), v->salt, SALTBYTES) <
                0 ||
            ops < (json_int_t)crypto_pwhash_OPSLIMIT_MIN ||
            ops > (json_int_t)crypto_pwhash_OPSLIMIT_SENSITIVE * 4 ||
            mem < (json_int_t)crypto_pwhash_MEMLIMIT_MIN || mem > (json_int_t)4096 * 1024 * 1024) {
            rc = damaged(err, v, "its key-derivation parameters are malformed");
            goto out;
        }
        v->ops = (unsigned long long)ops;
        v->mem = (size_t)mem;
    } else if (alg && strcmp(alg, "keyfile") == 0) {
        v->passphrase = 0;
    } else {
        rc = damaged(err, v, "its key-derivation section is malformed");
        goto out;
    }
    if (b64_decode_exact(json_string_value(json_object_get(root, "check")), v->check, CHECKBYTES) <
        0) {
        rc = damaged(err, v, "its key check value is malformed");
        goto out;
    }
    {
        json_t *g = json_object_get(root, "generation");
        if (g && (!json_is_integer(g) || json_integer_value(g) < 0)) {
            rc = damaged(err, v, "its generation is malformed");
            goto out;
        }
        v->gen = g ? (long long)json_integer_value(g) : 0;
    }
    entries = json_object_get(root, "entries");
    if (!json_is_array(entries)) {
        rc = damaged(err, v, "its entry list is malformed");
        goto out;
    }
    for (i = 0; i < json_array_size(entries); i++)
        if ((rc = parse_entry(v, json_array_get(entries, i), err)) < 0)
            goto out;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

static void text_free(vault_text *t)
{
    free(t->data);
    t->data = NULL;
}

/* Reads the vault file into v and t (t zeroed by the caller); a writer first takes the lock
 * (for_write 1). Whatever it returns, vault_close(v, t) releases what was taken. */
static int vault_open(vault *v, vault_text *t, int for_write, vml_err *err)
{
    int rc;
    if ((rc = vault_init(v, err)) < 0)
        return rc;
    if (for_write && (rc = vault_lock(v, 1, err)) < 0)
        return rc;
    return vault_read(v, t, err);
}

static void vault_close(vault *v, vault_text *t)
{
    text_free(t);
    vault_deinit(v);
}

/* }============================================================ */

/* {============================================================ keys */

int vml_vault_read_secret(int fd, const char *prompt, unsigned char **out, size_t *len,
                          vml_err *err)
{
    size_t cap = VML_VAULT_VALUE_MAX + 2, n = 0;
    unsigned char *buf;
    struct termios old, quiet;
    int tty = isatty(fd), echo_off = 0, rc = 0;

    *out = NULL;
    *len = 0;
    if ((rc = sodium_ready(err)) < 0)
        return rc;
    buf = sodium_malloc(cap);
    if (!buf)
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    if (tty) {
        fputs(prompt, stderr);
        fflush(stderr);
        if (tcgetattr(fd, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
            quiet.c_lflag |= ICANON;
            if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
                echo_off = 1;
        }
    }
    for (;;) {
        ssize_t r;
        if (n == cap) {
            rc = vml_err_set(err, VML_EINVAL, "the value is longer than %d bytes",
                             VML_VAULT_VALUE_MAX);
            goto out;
        }
        r = read(fd, buf + n, tty ? 1 : cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = vml_err_from_errno(err, errno, "reading the secret");
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (tty && buf[n - 1] == '\n')
            break;
    }
    if (n && buf[n - 1] == '\n')
        n--;
    if (n && buf[n - 1] == '\r')
        n--;
    if (n > VML_VAULT_VALUE_MAX) {
        rc = vml_err_set(err, VML_EINVAL, "the value is longer than %d bytes", VML_VAULT_VALUE_MAX);
        goto out;
    }
    if (n == 0) {
        rc = vml_err_set(err, VML_EINVAL, "the value is empty; nothing was stored");
        goto out;
    }
    *out = buf;
    *len = n;
    buf = NULL;
out:
    if (echo_off) {
        tcsetattr(fd, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (buf) {
        sodium_memzero(buf, cap);
        sodium_free(buf);
    }
    return rc;
}

/* Reads the key file into key (KEYBYTES). create: make one when missing. */
static int keyfile_read(vault *v, unsigned char *key, int create, vml_err *err)
{
    struct stat st;
    int fd = open(v->keypath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = 0;
    ssize_t r;
    if (fd < 0 && errno == ENOENT && create) {
        fd = open(v->keypath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return vml_err_from_errno(err, errno, v->keypath);
        randombytes_buf(key, KEYBYTES);
        if (write(fd, key, KEYBYTES) != KEYBYTES || fsync(fd) != 0) {
            rc = vml_err_from_errno(err, errno, v->keypath);
            close(fd);
            unlink(v->keypath);
            return rc;
        }
        close(fd);
        return 0;
    }
    if (fd < 0) {
        if (errno == ENOENT)
            return vml_err_set(err, VML_EAUTH,
                               "the key file %s of the vault at %s is missing; restore it, or "
                               "move the vault away and add the secrets again",
                               v->keypath, v->path);
        return vml_err_from_errno(err, errno, v->keypath);
    }
    if (fstat(fd, &st) != 0) {
        rc = vml_err_from_errno(err, errno, v->keypath);
        goto out;
    }
    if (st.st_mode & 077) {
        rc = vml_err_set(err, VML_EPERM,
                         "the vault key file %s can be read by other users (mode %04o); run "
                         "`chmod 600 %s`",
                         v->keypath, (unsigned)(st.st_mode & 07777), v->keypath);
        goto out;
    }
    r = read(fd, key, KEYBYTES);
    if (r != KEYBYTES || st.st_size != KEYBYTES)
        rc = vml_err_set(err, VML_EAUTH, "the vault key file %s is damaged (not %d bytes)",
                         v->keypath, KEYBYTES);
out:
    close(fd);
    return rc;
}

/* The passphrase (sodium memory) from VIBEML_PASSPHRASE or a prompt. */
static int get_passphrase(vault *v, int allow_prompt, unsigned char **pw, size_t *pwlen,
                          vml_err *err)
{
    size_t n = 0;
    const char *env = passphrase_env(&n);
    *pw = NULL;
    if (env) {
        *pw = sodium_malloc(n + 1);
        if (!*pw)
            return vml_err_set(err, VML_ENOMEM, "out of memory");
        memcpy(*pw, env, n);
        *pwlen = n;
        return 0;
    }
    if (allow_prompt && isatty(STDIN_FILENO))
        return vml_vault_read_secret(STDIN_FILENO, "Vault passphrase: ", pw, pwlen, err);
    return vml_err_set(err, VML_EAUTH,
                       "the vault at %s is protected by a passphrase; set VIBEML_PASSPHRASE (or "
                       "run the command on a terminal to be asked)",
                       v->path);
}

static void derive_subkeys(const unsigned char *master, unsigned char *keys)
{
    crypto_kdf_derive_from_key(keys, KEYBYTES, 1, "vmlvault", master);
    crypto_kdf_derive_from_key(keys + KEYBYTES, KEYBYTES, 2, "vmlvault", master);
    crypto_kdf_derive_from_key(keys + 2 * KEYBYTES, KEYBYTES, 3, "vmlvault", master);
}

static void compute_check(const unsigned char *keys, unsigned char *check)
{
    crypto_generichash(check, CHECKBYTES, (const unsigned char *)CHECK_TEXT, sizeof CHECK_TEXT - 1,
                       keys + 2 * KEYBYTES, KEYBYTES);
}

/* Gets the master key and the sub-keys into v->keys. For a vault that does not exist yet
 * (create), chooses the mode: passphrase when VIBEML_PASSPHRASE is set, else a new key file.
 * For an existing one, checks the key (check value) and the file's MAC. */
/* {============================================================ rollback detection
 * Every write gives the file the next generation (inside the MAC'd JSON) and records it in the
 * state database, table vault_generation. A verified file whose generation is below the
 * recorded one is an older copy put back (a backup restored, a sync conflict, an attacker who
 * can only replace files): refused, so a removed or rotated secret does not silently come back.
 * A file ahead of the record (a write whose process died before recording) moves the record up. */
static const char *const gen_steps[] = {
    "CREATE TABLE vault_generation (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " generation INTEGER NOT NULL)",
};

static int gen_open(sqlite3 **db, vml_err *err)
{
    int rc = vml_store_open(NULL, db, err);
    if (rc == 0 && (rc = vml_store_migrate(*db, "vault", gen_steps, 1, NULL, err)) < 0) {
        vml_store_close(*db);
        *db = NULL;
    }
    return rc;
}

/* The recorded generation (0 when none) into *gen. */
static int gen_recorded(long long *gen, vml_err *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc;
    *gen = 0;
    if ((rc = gen_open(&db, err)) < 0)
        return rc;
    rc = vml_store_prepare(db, "SELECT generation FROM vault_generation WHERE id = 1", &st, err,
                           NULL);
    if (rc == 0 && (rc = vml_store_step(st, err)) == 1) {
        *gen = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    vml_store_close(db);
    return rc;
}

/* Records gen: raising the record only (exact 0), or setting it to exactly gen (exact 1:
 * accepting an older copy on purpose). */
static int gen_write(long long gen, int exact, vml_err *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = gen_open(&db, err)) < 0)
        return rc;
    rc = vml_store_prepare(db,
                           exact ? "INSERT OR REPLACE INTO vault_generation (id, generation) "
                                   "VALUES (1, ?)"
                                 : "INSERT INTO vault_generation (id, generation) VALUES (1, ?) "
                                   "ON CONFLICT (id) DO UPDATE SET generation = "
                                   "MAX(generation, excluded.generation)",
                           &st, err, "i", (sqlite3_int64)gen);
    if (rc == 0 && (rc = vml_store_step(st, err)) > 0)
        rc = 0;
    sqlite3_finalize(st);
    vml_store_close(db);
    return rc;
}

/* After the MAC matched: refuses a rolled-back file, ratchets the record up to the file. */
static int gen_check(vault *v, vml_err *err)
{
    long long rec;
    int rc = gen_recorded(&rec, err);
    if (rc < 0)
        return vml_err_prefix(err, "checking the vault's generation");
    if (v->gen < rec)
        return vml_err_set(err, VML_ESTATE,
                           "the vault at %s is an older copy (generation %lld; this machine "
                           "last wrote generation %lld): it was rolled back or restored from a "
                           "backup, so secrets changed or removed since then could come back. "
                           "It was left untouched. Put the newest copy of the vault back, or, "
                           "if this older copy is the one you want, accept it with `vibeml "
                           "secrets accept-restore`",
                           v->path, v->gen, rec);
    if (v->gen > rec && (rc = gen_write(v->gen, 0, err)) < 0)
        return vml_err_prefix(err, "recording the vault's generation");
    return 0;
}

/* }============================================================ */

static int vault_unlock(vault *v, const vault_text *t, int allow_prompt, int create, vml_err *err)
{
    unsigned char *master = NULL, *pw = NULL;
    unsigned char check[CHECKBYTES];
    size_t pwlen = 0;
    int rc = 0;

    master = sodium_malloc(KEYBYTES);
    v->keys = sodium_malloc(3 * KEYBYTES);
    if (!master || !v->keys) {
        rc = vml_err_set(err, VML_ENOMEM, "out of memory");
        goto out;
    }
    if (!v->exists) {
        if (!create) {
            rc = vml_err_set(err, VML_ENOENT, "there is no vault at %s yet", v->path);
            goto out;
        }
        {
            size_t n;
            v->passphrase = passphrase_env(&n) != NULL;
        }
        if (v->passphrase) {
            randombytes_buf(v->salt, SALTBYTES);
            v->ops = kdf_ops;
            v->mem = kdf_mem;
        }
    }
    if (v->passphrase) {
        if ((rc = get_passphrase(v, allow_prompt, &pw, &pwlen, err)) < 0)
            goto out;
        if (crypto_pwhash(master, KEYBYTES, (const char *)pw, pwlen, v->salt, v->ops, v->mem,
                          crypto_pwhash_ALG_ARGON2ID13) != 0) {
            rc = vml_err_set(err, VML_ENOMEM,
                             "deriving the vault key needs %zu MiB of memory, which the system "
                             "refused",
                             v->mem >> 20);
            goto out;
        }
    } else if ((rc = keyfile_read(v, master, !v->exists, err)) < 0) {
        goto out;
    }
    derive_subkeys(master, v->keys);
    compute_check(v->keys, check);
    if (!v->exists) {
        memcpy(v->check, check, CHECKBYTES);
        goto out;
    }
    if (sodium_memcmp(check, v->check, CHECKBYTES) != 0) {
        if (v->passphrase)
            rc = vml_err_set(err, VML_EAUTH,
                             "wrong passphrase for the vault at %s (check VIBEML_PASSPHRASE)",
                             v->path);
        else
            rc = vml_err_set(err, VML_EAUTH,
                             "the key file %s does not open the vault at %s (wrong key file)",
                             v->keypath, v->path);
        goto out;
    }
    {
        unsigned char mac[MACBYTES];
        crypto_generichash(mac, MACBYTES, (const unsigned char *)t->data, t->mac_at,
                           v->keys + KEYBYTES, KEYBYTES);
        if (crypto_verify_32(mac, t->mac) != 0)
            rc = damaged(err, v,
                         "its authentication code does not match: it was edited or "
                         "corrupted");
        else if (!v->accept_older)
            rc = gen_check(v, err);
    }
out:
    if (pw)
        sodium_free(pw);
    if (master)
        sodium_free(master);
    if (rc < 0 && v->keys) {
        sodium_free(v->keys);
        v->keys = NULL;
    }
    return rc;
}

/* }============================================================ */

/* {============================================================ writing */

static char *b64(const unsigned char *bin, size_t n)
{
    size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(len);
    if (s)
        sodium_bin2base64(s, len, bin, n, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

static int set_b64(json_t *obj, const char *key, const unsigned char *bin, size_t n)
{
    char *s = b64(bin, n);
    int rc;
    if (!s)
        return -1;
    rc = json_object_set_new(obj, key, json_string(s));
    free(s);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const ventry *)a)->name, ((const ventry *)b)->name);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
    if (fd < 0)
        return -1;
    if (fsync(fd) != 0)
        rc = -1;
    close(fd);
    return rc;
}

/* Serialises v (unlocked), MACs it and replaces the file atomically. */
static int vault_write(vault *v, vml_err *err)
{
    json_t *root = json_object(), *kdf = json_object(), *entries = json_array();
    char *body = NULL, *text = NULL, *macb64 = NULL, tmp[4200];
    unsigned char mac[MACBYTES];
    size_t i, blen, tlen, off = 0;
    int fd = -1, rc = 0;

    if (!root || !kdf || !entries) {
        json_decref(kdf);
        json_decref(entries);
        rc = vml_err_set(err, VML_ENOMEM, "out of memory");
        goto out;
    }
    if (v->n)
        qsort(v->e, v->n, sizeof *v->e, cmp_entry);
    json_object_set_new(root, "format", json_string("vibeml-vault"));
    json_object_set_new(root, "version", json_integer(1));
    if (v->passphrase) {
        json_object_set_new(kdf, "alg", json_string("argon2id13"));
        set_b64(kdf, "salt", v->salt, SALTBYTES);
        json_object_set_new(kdf, "opslimit", json_integer((json_int_t)v->ops));
        json_object_set_new(kdf, "memlimit", json_integer((json_int_t)v->mem));
    } else {
        json_object_set_new(kdf, "alg", json_string("keyfile"));
    }
    json_object_set_new(root, "kdf", kdf);
    set_b64(root, "check", v->check, CHECKBYTES);
    {
        /* the next generation: above the file read and above the record (rollback check) */
        long long rec = 0;
        vml_err e2;
        gen_recorded(&rec, &e2); /* unreadable: the file's own generation still moves up */
        v->gen = (rec > v->gen ? rec : v->gen) + 1;
        json_object_set_new(root, "generation", json_integer((json_int_t)v->gen));
    }
    for (i = 0; i < v->n; i++) {
        json_t *je = json_object();
        if (!je) {
            rc = vml_err_set(err, VML_ENOMEM, "out of memory");
            json_decref(entries);
            goto out;
        }
        json_object_set_new(je, "name", json_string(v->e[i].name));
        json_object_set_new(je, "created", json_string(v->e[i].created));
        json_object_set_new(je, "updated", json_string(v->e[i].updated));
        set_b64(je, "nonce", v->e[i].nonce, NONCEBYTES);
        set_b64(je, "ct", v->e[i].ct, v->e[i].ctlen);
        json_array_append_new(entries, je);
    }
    json_object_set_new(root, "entries", entries);
    body = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    if (!body) {
        rc = vml_err_set(err, VML_ENOMEM, "out of memory");
        goto out;
    }
    blen = strlen(body);
    tlen = sizeof MAGIC - 1 + blen + 1 + 4 + 64 + 2;
    text = malloc(tlen);
    if (!text) {
        rc = vml_err_set(err, VML_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(text, MAGIC, sizeof MAGIC - 1);
    off = sizeof MAGIC - 1;
    memcpy(text + off, body, blen);
    off += blen;
    text[off++] = '\n';
    crypto_generichash(mac, MACBYTES, (const unsigned char *)text, off, v->keys + KEYBYTES,
                       KEYBYTES);
    macb64 = b64(mac, MACBYTES);
    if (!macb64) {
        rc = vml_err_set(err, VML_ENOMEM, "out of memory");
        goto out;
    }
    off += (size_t)snprintf(text + off, tlen - off, "mac %s\n", macb64);

    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", v->path, (long)getpid());
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = vml_err_from_errno(err, errno, tmp);
        goto out;
    }
    for (i = 0; i < off;) {
        ssize_t w = write(fd, text + i, off - i);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = vml_err_from_errno(err, errno, tmp);
            goto out;
        }
        i += (size_t)w;
    }
    if (fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
        rc = vml_err_from_errno(err, errno, tmp);
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, v->path) != 0) {
        rc = vml_err_from_errno(err, errno, v->path);
        goto out;
    }
    fsync_dir(v->dir);
    v->exists = 1;
    if ((rc = gen_write(v->gen, 0, err)) < 0)
        vml_err_prefix(err, "the vault was written, but its generation could not be recorded "
                            "(rollback detection)");
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    } else if (rc < 0 && tmp[0]) {
        unlink(tmp);
    }
    free(body);
    free(text);
    free(macb64);
    json_decref(root);
    return rc;
}

static void now_iso(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static size_t ad_make(unsigned char *ad, const char *name)
{
    size_t n = strlen(name);
    memcpy(ad, AD_PREFIX, sizeof AD_PREFIX - 1);
    memcpy(ad + sizeof AD_PREFIX - 1, name, n);
    return sizeof AD_PREFIX - 1 + n;
}

static ventry *find_entry(vault *v, const char *name)
{
    size_t i;
    for (i = 0; i < v->n; i++)
        if (strcmp(v->e[i].name, name) == 0)
            return &v->e[i];
    return NULL;
}

/* Decrypts e into a sodium buffer "NAME=value\0" (*out), value length in *vlen. */
static int entry_open(vault *v, const ventry *e, char **out, size_t *vlen, vml_err *err)
{
    unsigned char ad[sizeof AD_PREFIX + VML_SECRET_NAME_MAX];
    size_t adlen = ad_make(ad, e->name), nlen = strlen(e->name);
    size_t plen = e->ctlen - TAGBYTES;
    unsigned long long got = 0;
    char *buf = sodium_malloc(nlen + 1 + plen + 1);
    *out = NULL; /* set on every path: the compiler cannot see that failures return < 0 */
    *vlen = 0;
    if (!buf)
        return vml_err_set(err, VML_ENOMEM, "out of memory");
    memcpy(buf, e->name, nlen);
    buf[nlen] = '=';
    if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)buf + nlen + 1, &got, NULL,
                                                   e->ct, e->ctlen, ad, adlen, e->nonce,
                                                   v->keys) != 0) {
        sodium_free(buf);
        return damaged(err, v, "an entry does not decrypt");
    }
    buf[nlen + 1 + got] = '\0';
    *out = buf;
    *vlen = (size_t)got;
    return 0;
}

/* }============================================================ */

/* {============================================================ public: list, set, rm */

void vml_vault_index_deinit(vml_vault_index *idx)
{
    if (!idx)
        return;
    free(idx->entries);
    idx->entries = NULL;
    idx->count = 0;
}

static int key_available_quietly(const vault *v)
{
    size_t n;
    return !v->passphrase || passphrase_env(&n) != NULL;
}

int vml_vault_list(vml_vault_index *idx, vml_err *err)
{
    vault v;
    vault_text t = {0};
    size_t i;
    int rc;
    memset(idx, 0, sizeof *idx);
    rc = vault_open(&v, &t, 0, err);
    snprintf(idx->path, sizeof idx->path, "%s", v.path);
    if (rc < 0)
        goto out;
    idx->exists = v.exists;
    idx->passphrase = v.passphrase;
    if (v.exists && key_available_quietly(&v)) {
        if ((rc = vault_unlock(&v, &t, 0, 0, err)) < 0)
            goto out;
        idx->verified = 1;
    }
    if (v.n)
        qsort(v.e, v.n, sizeof *v.e, cmp_entry);
    if (v.n) {
        idx->entries = calloc(v.n, sizeof *idx->entries);
        if (!idx->entries) {
            rc = vml_err_set(err, VML_ENOMEM, "out of memory");
            goto out;
        }
    }
    for (i = 0; i < v.n; i++) {
        snprintf(idx->entries[i].name, sizeof idx->entries[i].name, "%s", v.e[i].name);
        snprintf(idx->entries[i].created, sizeof idx->entries[i].created, "%s", v.e[i].created);
        snprintf(idx->entries[i].updated, sizeof idx->entries[i].updated, "%s", v.e[i].updated);
    }
    idx->count = v.n;
out:
    vault_close(&v, &t);
    return rc;
}

int vml_vault_has(const char *name, vml_err *err)
{
    vault v;
    vault_text t = {0};
    int rc;
    if ((rc = vault_open(&v, &t, 0, err)) == 0)
        rc = find_entry(&v, name) != NULL;
    vault_close(&v, &t);
    return rc;
}

int vml_vault_set(const char *name, const unsigned char *value, size_t len, vml_err *err)
{
    vault v;
    vault_text t = {0};
    unsigned char ad[sizeof AD_PREFIX + VML_SECRET_NAME_MAX];
    ventry *e;
    unsigned char *ct = NULL;
    unsigned long long ctlen = 0;
    char now[32];
    int rc;

    if (!vml_secrets_name_ok(name))
        return vml_secrets_name_error(err, name);
    if (len == 0 || len > VML_VAULT_VALUE_MAX)
        return vml_err_set(err, VML_EINVAL, "a secret's value must be 1 to %d bytes",
                           VML_VAULT_VALUE_MAX);
    if ((rc = vault_open(&v, &t, 1, err)) < 0)
        goto out;
    if ((rc = vault_unlock(&v, &t, 1, 1, err)) < 0)
        goto out;
    ct = malloc(len + TAGBYTES);
    if (!ct) {
        rc = vml_err_set(err, VML_ENOMEM, "out of memory");
        goto out;
    }
    now_iso(now, sizeof now);
    e = find_entry(&v, name);
    if (!e) {
        if (v.n == v.cap) {
            size_t cap = v.cap ? v.cap * 2 : 8;
            ventry *ne = realloc(v.e, cap * sizeof *ne);
            if (!ne) {
                rc = vml_err_set(err, VML_ENOMEM, "out of memory");
                goto out;
            }
            v.e = ne;
            v.cap = cap;
        }
        e = &v.e[v.n++];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%s", name);
        snprintf(e->created, sizeof e->created, "%s", now);
    }
    snprintf(e->updated, sizeof e->updated, "%s", now);
    randombytes_buf(e->nonce, NONCEBYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, value, len, ad, ad_make(ad, name), NULL,
                                               e->nonce, v.keys);
    free(e->ct);
    e->ct = ct;
    e->ctlen = (size_t)ctlen;
    ct = NULL;
    rc = vault_write(&v, err);
out:
    free(ct);
    vault_close(&v, &t);
    return rc;
}

int vml_vault_remove(const char *name, vml_err *err)
{
    vault v;
    vault_text t = {0};
    ventry *e;
    int rc;
    if (!vml_secrets_name_ok(name))
        return vml_secrets_name_error(err, name);
    if ((rc = vault_open(&v, &t, 1, err)) < 0)
        goto out;
    if (!v.exists || !(e = find_entry(&v, name))) {
        rc = vml_err_set(err, VML_ENOENT,
                         "there is no secret called '%s' (see `vibeml secrets "
                         "list`)",
                         name);
        goto out;
    }
    if ((rc = vault_unlock(&v, &t, 1, 0, err)) < 0)
        goto out;
    e = find_entry(&v, name);
    free(e->ct);
    *e = v.e[v.n - 1];
    v.n--;
    rc = vault_write(&v, err);
out:
    vault_close(&v, &t);
    return rc;
}

int vml_vault_accept_restore(long long *gen, vml_err *err)
{
    vault v;
    vault_text t = {0};
    int rc;
    if ((rc = vault_open(&v, &t, 1, err)) < 0)
        goto out;
    if (!v.exists) {
        rc = vml_err_set(err, VML_ENOENT, "there is no vault at %s", v.path);
        goto out;
    }
    v.accept_older = 1; /* the key and the MAC are still checked */
    if ((rc = vault_unlock(&v, &t, 1, 0, err)) < 0)
        goto out;
    rc = gen_write(v.gen, 1, err);
    if (gen)
        *gen = v.gen;
out:
    vault_close(&v, &t);
    return rc;
}

/* }============================================================ */

/* {============================================================ loading secrets into sets */

static int in_list(const char *const *list, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

/* Loads names (all when all_names) from the vault. */
static int load_some(const char *const *names, size_t n, const char *const *optional, size_t m,
                     int all_names, int allow_prompt, vml_secrets **out, vml_err *err)
{
    vault v;
    vault_text t = {0};
    vml_secrets *s = NULL;
    size_t i;
    int rc;

    *out = NULL;
    for (i = 0; i < n; i++)
        if (!vml_secrets_name_ok(names[i]))
            return vml_secrets_name_error(err, names[i]);
    for (i = 0; i < m; i++)
        if (!vml_secrets_name_ok(optional[i]))
            return vml_secrets_name_error(err, optional[i]);
    if ((rc = vault_open(&v, &t, 0, err)) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        if (!v.exists || !find_entry(&v, names[i])) {
            rc = vml_err_set(err, VML_ENOENT,
                             "secret '%s' is not in the vault; add it with `vibeml secrets set "
                             "%s`",
                             names[i], names[i]);
            goto out;
        }
    }
    s = vml_secrets_new();
    if (!s) {
        rc = vml_err_set(err, VML_ENOMEM, "out of memory");
        goto out;
    }
    if (!v.exists || (all_names ? v.n == 0 : (n == 0 && !m)))
        goto done;
    {
        int need = 0;
        for (i = 0; i < v.n && !need; i++)
            need = all_names || in_list(names, n, v.e[i].name) || in_list(optional, m, v.e[i].name);
        if (!need)
            goto done;
    }
    if ((rc = vault_unlock(&v, &t, allow_prompt, 0, err)) < 0)
        goto out;
    for (i = 0; i < v.n; i++) {
        char *entry = NULL;
        size_t vlen;
        ventry *e = &v.e[i];
        if (!all_names && !in_list(names, n, e->name) && !in_list(optional, m, e->name))
            continue;
        if ((rc = entry_open(&v, e, &entry, &vlen, err)) < 0)
            goto out;
        rc = vml_secrets_add(s, e->name, entry + strlen(e->name) + 1, vlen, err);
        sodium_free(entry);
        if (rc < 0)
            goto out;
    }
done:
    *out = s;
    s = NULL;
out:
    vml_secrets_free(s);
    vault_close(&v, &t);
    return rc;
}

int vml_vault_load(const char *const *names, size_t n, const char *const *optional, size_t m,
                   vml_secrets **out, vml_err *err)
{
    return load_some(names, n, optional, m, 0, 1, out, err);
}

int vml_vault_load_all(vml_secrets **out, vml_err *err)
{
    return load_some(NULL, 0, NULL, 0, 1, 1, out, err);
}

int vml_vault_load_quiet(vml_secrets **out, vml_err *err)
{
    vault v;
    vault_text t = {0};
    int rc, quiet;
    *out = NULL;
    rc = vault_open(&v, &t, 0, err);
    quiet = rc == 0 && v.exists && key_available_quietly(&v);
    vault_close(&v, &t);
    if (rc < 0 || !quiet)
        return rc;
    return load_some(NULL, 0, NULL, 0, 1, 0, out, err);
}

/* }============================================================ */

/* SPDX-License-Identifier: MIT
 * libFuzzer target: the vault file reader (core/vault.c: header, JSON part, entries, key check,
 * MAC, decryption) through its public calls: vml_vault_list, vml_vault_has,
 * vml_vault_load_all, then the secrets' env entries and redaction. A private VIBEML_HOME holds
 * a key-file vault (fixed key) whose file is the input. The first input byte picks a mode:
 *   0  the rest is the file, as is (header, MAC line, any bytes);
 *   1  the rest is the JSON part: "@" as the "check" value becomes the real key check and a
 *      correct MAC line is appended, so the fuzzer gets past both and into the entries;
 *   2  as 1, and every entry whose "ct" is "@" gets a real ciphertext of a value for its name
 *      (fresh nonce), so decryption succeeds and the loaded secrets are used.
 * Contract checked: no crash or leak; every call gives 0 or a code with a message; a vault
 * that lists fine and verifies loads with as many secrets as entries. Build:
 * tests/fuzz/run.sh vault. */
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_lua.h" /* fuzz_home_init */
#include "vault.h"

static unsigned char master[32];
static unsigned char keys[3][32];
static char vault_path[128];

static void setup(void)
{
    char kp[128];
    int fd;
    fuzz_home_init();
    unsetenv("VIBEML_PASSPHRASE");
    if (sodium_init() < 0)
        abort();
    memset(master, 0x42, sizeof master);
    crypto_kdf_derive_from_key(keys[0], 32, 1, "vmlvault", master);
    crypto_kdf_derive_from_key(keys[1], 32, 2, "vmlvault", master);
    crypto_kdf_derive_from_key(keys[2], 32, 3, "vmlvault", master);
    snprintf(kp, sizeof kp, "%s/vault.key", fuzz_home);
    snprintf(vault_path, sizeof vault_path, "%s/vault", fuzz_home);
    fd = open(kp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, master, sizeof master) != (ssize_t)sizeof master)
        abort();
    close(fd);
}

static void put(const char *s, size_t n, FILE *f)
{
    if (fwrite(s, 1, n, f) != n)
        abort();
}

static char *b64(const unsigned char *bin, size_t n)
{
    size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(len);
    sodium_bin2base64(s, len, bin, n, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

/* mode 2: fills "ct":"@" entries with real ciphertexts; returns new text (malloc) or NULL */
static char *encrypt_entries(const char *body, size_t len)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je), *e;
    size_t i;
    char *out;
    if (!root)
        return NULL;
    json_array_foreach (json_object_get(root, "entries"), i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *ct = json_string_value(json_object_get(e, "ct"));
        if (name && ct && strcmp(ct, "@") == 0 && strlen(name) < 200) {
            unsigned char nonce[24], c[64 + 16];
            char ad[256], value[64];
            unsigned long long clen;
            char *nb, *cb;
            snprintf(value, sizeof value, "value-of-%.40s-1234", name);
            snprintf(ad, sizeof ad, "vibeml-vault:1:%s", name);
            randombytes_buf(nonce, sizeof nonce);
            crypto_aead_xchacha20poly1305_ietf_encrypt(c, &clen, (unsigned char *)value,
                                                       strlen(value), (unsigned char *)ad,
                                                       strlen(ad), NULL, nonce, keys[0]);
            nb = b64(nonce, sizeof nonce);
            cb = b64(c, (size_t)clen);
            json_object_set_new(e, "nonce", json_string(nb));
            json_object_set_new(e, "ct", json_string(cb));
            free(nb);
            free(cb);
        }
    }
    out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}

static void write_vault(const uint8_t *data, size_t size)
{
    FILE *f = fopen(vault_path, "wb");
    int mode = size ? data[0] % 3 : 0;
    if (!f)
        abort();
    if (size)
        data++, size--;
    if (mode == 0) {
        put((const char *)data, size, f);
    } else {
        /* header + body with "@" check replaced + "\n" + mac line */
        unsigned char check[16], mac[32];
        char *cb, *body = NULL, *text = NULL, *mb;
        size_t blen = size, tlen = 0, i;
        int replaced = 0;
        crypto_generichash(check, 16, (const unsigned char *)"vibeml vault key check", 22, keys[2],
                           32);
        cb = b64(check, 16);
        body = malloc(size + 1);
        memcpy(body, data, size);
        body[size] = '\0';
        if (mode == 2) {
            char *enc = encrypt_entries(body, size);
            if (enc) {
                free(body);
                body = enc;
                blen = strlen(enc);
            }
        }
        /* "check":"@" -> the real value (first occurrence, bytes around kept) */
        text = malloc(13 + blen + strlen(cb) + 2);
        memcpy(text, "VIBEMLVAULT1\n", 13);
        tlen = 13;
        for (i = 0; i < blen; i++) {
            if (!replaced && i + 3 <= blen && memcmp(body + i, "\"@\"", 3) == 0 && i >= 8 &&
                memcmp(body + i - 8, "\"check\":", 8) == 0) {
                text[tlen++] = '"';
                memcpy(text + tlen, cb, strlen(cb));
                tlen += strlen(cb);
                text[tlen++] = '"';
                i += 2;
                replaced = 1; /* once: the buffer has room for one */
            } else {
                text[tlen++] = body[i];
            }
        }
        text[tlen++] = '\n';
        crypto_generichash(mac, 32, (unsigned char *)text, tlen, keys[1], 32);
        mb = b64(mac, 32);
        put(text, tlen, f);
        put("mac ", 4, f);
        put(mb, strlen(mb), f);
        put("\n", 1, f);
        free(mb);
        free(cb);
        free(body);
        free(text);
    }
    fclose(f);
}

static int count_put(void *ud, const char *entry)
{
    (*(size_t *)ud)++;
    return strchr(entry, '=') ? 0 : VML_EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vml_vault_index idx;
    vml_secrets *s = NULL;
    vml_err err;
    int lrc, rc;
    if (!vault_path[0])
        setup();
    write_vault(data, size);
    lrc = vml_vault_list(&idx, &err);
    if (lrc < 0 && !vml_err_msg(&err)[0])
        abort();
    rc = vml_vault_has("HF_TOKEN", &err);
    if (rc < 0 && !vml_err_msg(&err)[0])
        abort();
    rc = vml_vault_load_all(&s, &err);
    if (rc < 0 && !vml_err_msg(&err)[0])
        abort();
    if (getenv("VML_FUZZ_VERBOSE"))
        fprintf(stderr, "list %d, load %d (%zu secrets): %s\n", lrc, rc,
                rc == 0 ? vml_secrets_count(s) : 0, rc < 0 ? vml_err_msg(&err) : "ok");
    if (rc == 0) {
        char buf[256];
        size_t n = 0, i;
        if (vml_secrets_env_apply(s, count_put, &n) < 0 || n != vml_secrets_count(s)) {
            fprintf(stderr, "fuzz: FINDING env entries do not match the secrets\n");
            abort();
        }
        if (lrc == 0 && idx.verified && vml_secrets_count(s) != idx.count) {
            fprintf(stderr, "fuzz: FINDING listed %zu entries, loaded %zu\n", idx.count,
                    vml_secrets_count(s));
            abort();
        }
        for (i = 0; i < vml_secrets_count(s); i++) {
            snprintf(buf, sizeof buf, "log: %s", vml_secrets_env_entry(s, i));
            vml_secrets_redact(s, buf, strlen(buf));
            if (strstr(buf, "value-of-")) {
                fprintf(stderr, "fuzz: FINDING a secret value survived redaction\n");
                abort();
            }
        }
        vml_secrets_free(s);
    }
    if (lrc == 0)
        vml_vault_index_deinit(&idx);
    return 0;
}

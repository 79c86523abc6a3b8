/* SPDX-License-Identifier: MIT
 *
 * cmd_secrets — `vibeml secrets set NAME` · `secrets list [--json]` · `secrets rm NAME`.
 * Values come from a no-echo prompt on a terminal, else from stdin; they are never taken from
 * argv (which other users can read in /proc) and never printed. `list` shows names and dates.
 *
 * Uses: vault, cmd.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "vault.h"

static const char secrets_usage[] =
    "usage: vibeml secrets set NAME      store a secret (no-echo prompt, or the value on stdin)\n"
    "       vibeml secrets list [--json] names and dates of the stored secrets (no values)\n"
    "       vibeml secrets rm NAME       remove a secret\n"
    "       vibeml secrets accept-restore  use the vault file as it is now, after restoring an\n"
    "                                    older copy on purpose (else it is refused as rolled "
    "back)\n"
    "\n"
    "Secrets live encrypted (XChaCha20-Poly1305) in the vault file in the data folder. The key is\n"
    "VIBEML_PASSPHRASE (Argon2id) when set at creation, else a random key file (vault.key, mode\n"
    "0600) beside the vault. Jobs get a secret in their environment only (SkyPilot: --secret\n"
    "NAME); MCP clients see names, never values. NAME is an environment-variable name, e.g.\n"
    "HF_TOKEN or WANDB_API_KEY.\n"
    "  echo \"$TOKEN\" | vibeml secrets set HF_TOKEN\n";

static int fail(const vml_err *err)
{
    fprintf(stderr, "vibeml secrets: %s\n", vml_err_msg(err));
    return err->code == VML_EINVAL ? VML_EXIT_USAGE : VML_EXIT_FAIL;
}

static int do_set(const char *name)
{
    unsigned char *value = NULL;
    size_t len = 0;
    vml_err err;
    char prompt[200];
    vml_err_clear(&err);
    if (!vml_secrets_name_ok(name)) {
        vml_vault_set(name, (const unsigned char *)"", 0, &err);
        return fail(&err);
    }
    snprintf(prompt, sizeof prompt, "Value for %s (not shown): ", name);
    if (vml_vault_read_secret(STDIN_FILENO, prompt, &value, &len, &err) < 0)
        return fail(&err);
    if (vml_vault_set(name, value, len, &err) < 0) {
        sodium_free(value);
        return fail(&err);
    }
    sodium_free(value);
    fprintf(stderr, "stored %s in the vault\n", name);
    return VML_EXIT_OK;
}

static int do_list(int json)
{
    vml_vault_index idx;
    vml_err err;
    size_t i;
    vml_err_clear(&err);
    if (vml_vault_list(&idx, &err) < 0)
        return fail(&err);
    if (json) {
        json_t *root = json_object(), *arr = json_array();
        char *text;
        for (i = 0; i < idx.count; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "name", json_string(idx.entries[i].name));
            json_object_set_new(e, "created", json_string(idx.entries[i].created));
            json_object_set_new(e, "updated", json_string(idx.entries[i].updated));
            json_array_append_new(arr, e);
        }
        json_object_set_new(root, "secrets", arr);
        json_object_set_new(root, "path", json_string(idx.path));
        json_object_set_new(root, "exists", json_boolean(idx.exists));
        json_object_set_new(root, "key", json_string(idx.passphrase ? "passphrase" : "keyfile"));
        json_object_set_new(root, "verified", json_boolean(idx.verified));
        text = json_dumps(root, JSON_PRESERVE_ORDER);
        puts(text ? text : "{}");
        free(text);
        json_decref(root);
    } else if (idx.count == 0) {
        printf("no secrets stored (add one with `vibeml secrets set NAME`)\n");
    } else {
        printf("%-32s %-21s %s\n", "NAME", "CREATED", "UPDATED");
        for (i = 0; i < idx.count; i++)
            printf("%-32s %-21s %s\n", idx.entries[i].name, idx.entries[i].created,
                   idx.entries[i].updated);
        if (!idx.verified)
            printf("(not verified: set VIBEML_PASSPHRASE to check the vault's integrity)\n");
    }
    vml_vault_index_deinit(&idx);
    return VML_EXIT_OK;
}

static int do_rm(const char *name)
{
    vml_err err;
    vml_err_clear(&err);
    if (vml_vault_remove(name, &err) < 0)
        return fail(&err);
    fprintf(stderr, "removed %s from the vault\n", name);
    return VML_EXIT_OK;
}

static int secrets_main(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "list";
    int json = 0, i;
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
        fputs(secrets_usage, stdout);
        return VML_EXIT_OK;
    }
    if (strcmp(sub, "--json") == 0) {
        sub = "list";
        json = 1;
    }
    if (strcmp(sub, "list") == 0) {
        for (i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--json") == 0)
                json = 1;
            else {
                fprintf(stderr, "vibeml secrets list: unknown option '%s'\n%s", argv[i],
                        secrets_usage);
                return VML_EXIT_USAGE;
            }
        }
        return do_list(json);
    }
    if (strcmp(sub, "set") == 0 || strcmp(sub, "rm") == 0) {
        if (argc != 3) {
            fprintf(stderr,
                    "vibeml secrets %s: give exactly one NAME (the value is read from a prompt "
                    "or stdin, never from the command line)\n%s",
                    sub, secrets_usage);
            return VML_EXIT_USAGE;
        }
        return sub[0] == 's' ? do_set(argv[2]) : do_rm(argv[2]);
    }
    if (strcmp(sub, "accept-restore") == 0 && argc == 2) {
        vml_err err;
        long long gen = 0;
        vml_err_clear(&err);
        if (vml_vault_accept_restore(&gen, &err) < 0)
            return fail(&err);
        fprintf(stderr, "the vault as it is now (generation %lld) is accepted as the newest\n",
                gen);
        return VML_EXIT_OK;
    }
    fprintf(stderr, "vibeml secrets: unknown subcommand '%s' (set, list, rm, accept-restore)\n%s",
            sub, secrets_usage);
    return VML_EXIT_USAGE;
}

const vml_cmd vml_cmd_secrets = {"secrets", secrets_main,
                                 "the encrypted vault: set NAME, list, rm NAME", secrets_usage};

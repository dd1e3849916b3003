/*
 * sops — manifests encrypted value by value by SOPS (YAML or JSON) with
 * age recipients, opened into plain JSON manifests.
 *
 * A SOPS file is one document whose top level has a `sops` map. Its data
 * key is an armored age file for each age recipient listed there; one of
 * the keyring's recipients must be among them (pgp, kms, gcp_kms,
 * azure_kv, hc_vault and hckms entries are ignored when one is, and named
 * in the refusal when none is; Shamir key groups are refused). Each value
 * that the file's rule (unencrypted_suffix — `_unencrypted` by default —,
 * encrypted_suffix, unencrypted_regex or encrypted_regex — a regular
 * expression as rx.h reads it —, tested on every key of its path) says is
 * encrypted is an
 * ENC[AES256_GCM,data:...,iv:...,tag:...,type:...] string, opened with the
 * path ("stringData:key:") as additional data and written back with its
 * type (str, int, float, bool). The MAC — SHA-512 over every value in
 * document order, or only the encrypted ones with mac_only_encrypted — is
 * checked against the stored one (itself encrypted with lastmodified as
 * additional data): a changed value, an added key or a missing MAC refuse
 * the file. Comments are dropped (they never count in the MAC).
 *
 * Refusals name the file and the path, never a value. The plaintext lives
 * only in out, which the caller wipes (crypto_buf_free).
 */
#ifndef OUTPOST_SOPS_H
#define OUTPOST_SOPS_H

#include <stddef.h>

#include "age.h"
#include "buf.h"

/* Called for each value opened: its path (the AAD), type and plaintext. */
typedef void (*sops_value_fn)(void *ctx, const char *aad, const char *type,
			      const char *plain, size_t len);

/*
 * Open the SOPS file data (len bytes) named name with k's identities and
 * append the plain document to out as compact JSON, without its `sops`
 * map. 1 when data is not a SOPS file (out unchanged); 0 when opened; or
 * E_FORMAT (malformed, MAC missing), E_SIGNATURE (a value or the MAC does
 * not authenticate, the MAC does not match), E_NOTFOUND (no age recipient
 * of this keyring), E_UNSUPPORTED, E_LIMIT, E_NOMEM, logged once and the
 * same sentence appended to why (when not NULL). each (may be NULL) sees
 * every value opened.
 */
int sops_decrypt(const struct age_keyring *k, const char *name, const char *data, size_t len,
		 struct buf *out, struct buf *why, sops_value_fn each, void *ctx);

/*
 * The age recipients a SOPS file was made for, one per line, appended to
 * out (for `bundle inspect`). 1 when it is not a SOPS file, 0, or an error.
 */
int sops_recipients(const char *name, const char *data, size_t len, struct buf *out);

#endif

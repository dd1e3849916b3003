/*
 * secrets — the gateway's age identities, and opening a release's
 * encrypted members when it is applied.
 *
 * The gateway's own X25519 identity lives in <state_dir>/identity.txt
 * (0600; made on the first start) or at secrets.identity; the files listed
 * in secrets.identities (a fleet or site-group key provisioned at flash
 * time) are added to it. Only recipients ("age1...") ever leave this
 * module: identities are not logged, reported or stored in SQLite, and
 * once identities are loaded the process is not dumpable.
 *
 * A bundle member named *.age is an age file whose plaintext is a
 * manifest; a YAML or JSON manifest whose top level has a `sops` map is
 * opened value by value (sops.h). Either is opened in memory only, when
 * its release is applied (and re-applied for drift or rollback): the store
 * keeps the encrypted bytes.
 *
 * Compiled only with CONFIG_SECRETS. Without it, secrets_open() gives no
 * keyring and an encrypted member refuses its release by name.
 */
#ifndef OUTPOST_SECRETS_H
#define OUTPOST_SECRETS_H

#include <stddef.h>
#include <string.h>

#include "buf.h"
#include "bundle.h"
#include "config.h"
#include "error.h"
#include "features.h"

#define SECRETS_PLAIN_MAX (16u << 20)  /* bytes of one decrypted member */
/* the store setting that holds the gateway's recipient, for status and reports */
#define SECRETS_KEY_RECIPIENT "identity/recipient"

struct secrets;

/* Whether a bundle member is encrypted (*.age) and must be opened to be applied. */
static inline int secrets_member_is_encrypted(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".age") == 0;
}

#if IS_ENABLED(CONFIG_SECRETS)

/*
 * Load the gateway's identities (making its own on the first start) and
 * make the process non-dumpable. *out is the caller's (secrets_close()).
 * E_IO / E_FORMAT / E_STATE (an identity file others may read) /
 * E_UNSUPPORTED / E_NOMEM, logged with the file's path.
 */
int secrets_open(const struct config *cfg, struct secrets **out);
void secrets_close(struct secrets *s);

/* The gateway's own recipient ("age1..."); "" without identities. */
const char *secrets_recipient(const struct secrets *s);

/*
 * Open the encrypted member name (data, len bytes) into plain (capped at
 * SECRETS_PLAIN_MAX), which the caller wipes (crypto_buf_free). 0, or an
 * error logged and, in why, a sentence for the release's history that
 * names the file and the recipients (E_NOTFOUND: no identity of this
 * gateway opens it; E_FORMAT, E_SIGNATURE, E_UNSUPPORTED, E_NOMEM).
 */
int secrets_open_member(const struct secrets *s, const char *name, const char *data,
			size_t len, struct buf *plain, struct buf *why);

/*
 * A manifest that may be a SOPS file: 1 when it is not one (plain is
 * untouched), 0 when opened into plain (JSON, wiped by the caller), or an
 * error as secrets_open_member().
 */
int secrets_open_manifest(const struct secrets *s, const char *name, const char *data,
			  size_t len, struct buf *plain, struct buf *why);

/*
 * For `bundle inspect`: what the encrypted member name was made for,
 * appended to out ("age X25519, X25519" or "sops age1..., age1..."). 1
 * when it is not encrypted, 0, or an error (logged).
 */
int secrets_describe(const char *name, const char *data, size_t len, struct buf *out);

/*
 * For `bundle verify --identity FILE`: open every encrypted member of
 * files[0..n) with the identities of identity_file, in memory, plaintext
 * wiped. 0 when all open (*encrypted counts them); E_NOTFOUND (or the
 * first other error) when one does not, each refusal logged by name.
 */
int secrets_check_files(const char *identity_file, const struct bundle_file *files, size_t n,
			size_t *encrypted);

/*
 * `outpost identity new|show`: make the identity at path (refusing to
 * overwrite one: E_STATE) or read it, writing its recipient.
 */
int secrets_identity_new(const char *path, char *recipient, size_t cap);
int secrets_identity_show(const char *path, char *recipient, size_t cap);

/* The path of the gateway's own identity under cfg. */
int secrets_identity_path(const struct config *cfg, struct buf *path);

#else

static inline int secrets_open(const struct config *cfg, struct secrets **out)
{
	(void)cfg;
	*out = NULL;
	return 0;
}

static inline void secrets_close(struct secrets *s)
{
	(void)s;
}

static inline const char *secrets_recipient(const struct secrets *s)
{
	(void)s;
	return "";
}

static inline int secrets_open_member(const struct secrets *s, const char *name,
				      const char *data, size_t len, struct buf *plain,
				      struct buf *why)
{
	(void)s, (void)data, (void)len, (void)plain;
	buf_addf(why, "%s: an encrypted file, and this build has no encrypted Secrets "
		 "(CONFIG_SECRETS is off)", name);
	return error(E_UNSUPPORTED, "%s", why->data);
}

/* Without CONFIG_SECRETS a SOPS file is refused, never applied as it is. */
static inline int secrets_open_manifest(const struct secrets *s, const char *name,
					const char *data, size_t len, struct buf *plain,
					struct buf *why)
{
	(void)s, (void)plain;
	if (!memmem(data, len, "\nsops:", 6) && !memmem(data, len, "\"sops\"", 6))
		return 1;
	buf_addf(why, "%s: looks SOPS-encrypted, and this build has no encrypted Secrets "
		 "(CONFIG_SECRETS is off)", name);
	return error(E_UNSUPPORTED, "%s", why->data);
}

static inline int secrets_describe(const char *name, const char *data, size_t len,
				   struct buf *out)
{
	(void)name, (void)data, (void)len, (void)out;
	return 1;
}

static inline int secrets_check_files(const char *identity_file, const struct bundle_file *files,
				      size_t n, size_t *encrypted)
{
	(void)identity_file, (void)files, (void)n;
	*encrypted = 0;
	return error(E_UNSUPPORTED, "bundle verify --identity: this build has no encrypted "
		     "Secrets (CONFIG_SECRETS)");
}

static inline int secrets_identity_new(const char *path, char *recipient, size_t cap)
{
	(void)path, (void)recipient, (void)cap;
	return error(E_UNSUPPORTED, "identity: this build has no encrypted Secrets (CONFIG_SECRETS)");
}

static inline int secrets_identity_show(const char *path, char *recipient, size_t cap)
{
	return secrets_identity_new(path, recipient, cap);
}

static inline int secrets_identity_path(const struct config *cfg, struct buf *path)
{
	(void)cfg, (void)path;
	return E_UNSUPPORTED;
}

#endif

#endif

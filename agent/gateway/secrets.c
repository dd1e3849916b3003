/* secrets — see secrets.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "age.h"
#include "crypto.h"
#include "file.h"
#include "log.h"
#include "mem.h"
#include "secrets.h"
#include "sops.h"

#define IDENTITY_FILE_MAX (64 * 1024)

struct secrets {
	struct age_keyring *k;
};

int secrets_identity_path(const struct config *cfg, struct buf *path)
{
	if (cfg->secrets.identity)
		return buf_addstr(path, cfg->secrets.identity);
	return buf_addf(path, "%s/%s", cfg->state_dir, CFG_IDENTITY_FILE);
}

/* Add the identities of the file at path; one others may read is refused. */
static int load_identities(struct age_keyring *k, const char *path)
{
	struct buf text = BUF_INIT(IDENTITY_FILE_MAX);
	struct stat st;
	int rc;

	if (stat(path, &st))
		return error(errno == ENOENT ? E_NOTFOUND : E_IO, "%s: %s", path, strerror(errno));
	if (st.st_mode & 077)
		return error(E_STATE, "%s: an age identity that others may read (mode %04o): "
			     "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
	rc = file_read(path, IDENTITY_FILE_MAX, &text);
	if (!rc)
		rc = age_keyring_add(k, text.data, text.len, path);
	crypto_buf_free(&text);
	return rc;
}

int secrets_identity_new(const char *path, char *recipient, size_t cap)
{
	struct buf text = BUF_INIT(4096);
	char r[AGE_RECIPIENT_MAX];
	int rc = age_identity_new(&text, r);

	if (!rc)
		rc = file_create(path, text.data, text.len, 0600);
	crypto_buf_free(&text);
	if (!rc)
		snprintf(recipient, cap, "%s", r);
	return rc;
}

int secrets_identity_show(const char *path, char *recipient, size_t cap)
{
	struct age_keyring *k = age_keyring_new();
	int rc = k ? load_identities(k, path) : E_NOMEM;

	if (!rc)
		snprintf(recipient, cap, "%s", age_keyring_recipient(k, 0));
	age_keyring_free(k);
	return rc;
}

void secrets_close(struct secrets *s)
{
	if (!s)
		return;
	age_keyring_free(s->k);
	mem_free(s);
}

int secrets_open(const struct config *cfg, struct secrets **out)
{
	struct secrets *s = mem_zalloc(1, sizeof(*s));
	struct buf path = BUF_INIT(CFG_PATH_MAX + 32);
	struct stat st;
	int rc;

	*out = NULL;
	if (!s)
		return error(E_NOMEM, "secrets: out of memory");
	s->k = age_keyring_new();
	rc = s->k ? secrets_identity_path(cfg, &path) : E_NOMEM;
	/* the first start makes the gateway's identity */
	if (!rc && stat(path.data, &st) && errno == ENOENT) {
		char r[AGE_RECIPIENT_MAX];

		rc = secrets_identity_new(path.data, r, sizeof(r));
		if (!rc)
			log_info("made this gateway's age identity %s: its recipient is %s",
				 path.data, r);
	}
	if (!rc)
		rc = load_identities(s->k, path.data);
	for (size_t i = 0; !rc && i < cfg->secrets.nidentities; i++)
		rc = load_identities(s->k, cfg->secrets.identities[i]);
	/* what holds identities and plaintext leaves no core dump and cannot
	 * be traced by another user's process */
	if (!rc && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		rc = error(E_IO, "secrets: cannot make the process non-dumpable: %s",
			   strerror(errno));
	buf_free(&path);
	if (rc) {
		secrets_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

const char *secrets_recipient(const struct secrets *s)
{
	return s && s->k ? age_keyring_recipient(s->k, 0) : "";
}

int secrets_open_member(const struct secrets *s, const char *name, const char *data,
			size_t len, struct buf *plain, struct buf *why)
{
	enum age_outcome how;

	if (!s) {
		buf_addf(why, "%s: encrypted, and this gateway has no age identity", name);
		return error(E_STATE, "%s", why->data);
	}
	return age_decrypt(s->k, data, len, plain, &how, name, why);
}

int secrets_open_manifest(const struct secrets *s, const char *name, const char *data,
			  size_t len, struct buf *plain, struct buf *why)
{
	struct buf recipients = BUF_INIT(64 * 1024);
	int rc;

	if (s)
		return sops_decrypt(s->k, name, data, len, plain, why, NULL, NULL);
	rc = sops_recipients(name, data, len, &recipients);
	buf_free(&recipients);
	if (rc == 1)
		return 1;
	buf_addf(why, "%s: SOPS-encrypted, and this gateway has no age identity", name);
	return error(E_STATE, "%s", why->data);
}

int secrets_describe(const char *name, const char *data, size_t len, struct buf *out)
{
	int rc;

	if (secrets_member_is_encrypted(name)) {
		buf_addstr(out, "age ");
		return age_header_types(data, len, out, name);
	}
	if (!bundle_is_manifest(name))
		return 1;
	buf_addstr(out, "sops ");
	rc = sops_recipients(name, data, len, out);
	/* one recipient a line from sops_recipients: one line here */
	for (size_t i = 5; i + 1 < out->len; i++)
		if (out->data[i] == '\n')
			out->data[i] = ',';
	if (out->len && out->data[out->len - 1] == '\n')
		buf_truncate(out, out->len - 1);
	return rc;
}

int secrets_check_files(const char *identity_file, const struct bundle_file *files, size_t n,
			size_t *encrypted)
{
	struct age_keyring *k = age_keyring_new();
	struct buf text = BUF_INIT(IDENTITY_FILE_MAX);
	int rc = k ? file_read(identity_file, IDENTITY_FILE_MAX, &text) : E_NOMEM, bad = 0;

	*encrypted = 0;
	if (!rc)
		rc = age_keyring_add(k, text.data, text.len, identity_file);
	crypto_buf_free(&text);
	for (size_t i = 0; !rc && i < n; i++) {
		struct buf plain = BUF_INIT(SECRETS_PLAIN_MAX), why = BUF_INIT(1024);
		enum age_outcome how;
		int r;

		if (secrets_member_is_encrypted(files[i].name))
			r = age_decrypt(k, files[i].data, files[i].len, &plain, &how, files[i].name,
					&why);
		else if (bundle_is_manifest(files[i].name))
			r = sops_decrypt(k, files[i].name, files[i].data, files[i].len, &plain, &why,
					 NULL, NULL);
		else
			r = 1;
		crypto_buf_free(&plain);
		buf_free(&why);
		if (r == E_NOMEM)
			rc = r;
		else if (r < 0 && !bad)
			bad = r;
		*encrypted += r != 1;
	}
	age_keyring_free(k);
	return rc ? rc : bad;
}

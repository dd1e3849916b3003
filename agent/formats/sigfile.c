/* sigfile — parse and write detached `keyid base64-signature` files. */
#include <string.h>

#include "error.h"
#include "sigfile.h"

/* One line of the file: its text without the ending, and where it ends. */
struct line {
	const char *p;
	size_t len;        /* without LF or CRLF */
	size_t full;       /* with it */
	unsigned no;
};

/* Next line from *pos; 0 at the end of the data. */
static int line_next(const char *data, size_t len, size_t *pos, struct line *l)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	l->p = data + *pos;
	nl = memchr(l->p, '\n', len - *pos);
	l->full = nl ? (size_t)(nl - l->p) + 1 : len - *pos;
	l->len = nl ? l->full - 1 : l->full;
	if (nl && l->len && l->p[l->len - 1] == '\r')
		l->len--;
	l->no++;
	*pos += l->full;
	return 1;
}

static int line_ignored(const struct line *l)
{
	return l->len == 0 || l->p[0] == '#';
}

static int is_keyid(const char *s, size_t len)
{
	if (len != KEYID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int refuse(struct sigfile *sf, int e, const char *name, unsigned no, const char *why)
{
	sf->err_line = no;
	return error(e, "%s line %u: %s", name, no, why);
}

/* Parse one signature line into sl. */
static int line_parse(struct sigfile *sf, const struct line *l, const char *name,
		      struct sigline *sl)
{
	const char *sp = memchr(l->p, ' ', l->len);
	size_t idlen = sp ? (size_t)(sp - l->p) : l->len;
	const char *b64;
	size_t b64len;
	int rc;

	if (l->len && (l->p[0] == ' ' || l->p[0] == '\t'))
		return refuse(sf, E_FORMAT, name, l->no, "the line starts with a space; it must "
			      "start with the key id ('<keyid> <base64 signature>')");
	if (!sp && idlen >= KEYID_LEN)
		return refuse(sf, E_FORMAT, name, l->no, "expected '<keyid> <base64 signature>': "
			      "no space after the key id");
	if (idlen != KEYID_LEN) {
		sf->err_line = l->no;
		return error(E_FORMAT, "%s line %u: key id is %zu characters long; it must be %d "
			     "lowercase hex characters", name, l->no, idlen, KEYID_LEN);
	}
	if (!is_keyid(l->p, idlen))
		return refuse(sf, E_FORMAT, name, l->no,
			      "key id must be 64 lowercase hex characters (0-9, a-f)");
	b64 = sp + 1;
	b64len = l->len - idlen - 1;
	if (b64len == 0)
		return refuse(sf, E_FORMAT, name, l->no, "no signature after the key id");
	rc = base64_decode_mem(sl->sig, sizeof(sl->sig), &sl->sig_len, b64, b64len);
	if (rc == E_LIMIT)
		return refuse(sf, E_FORMAT, name, l->no,
			      "signature is longer than any ECDSA signature");
	if (rc)
		return refuse(sf, E_FORMAT, name, l->no, "signature is not valid base64 "
			      "(one space after the key id, no other spaces)");
	memcpy(sl->keyid, l->p, KEYID_LEN);
	sl->keyid[KEYID_LEN] = '\0';
	sl->lineno = l->no;
	return 0;
}

int sigfile_parse(struct sigfile *sf, const char *data, size_t len, const char *name)
{
	struct line l = { 0 };
	size_t pos = 0;
	int rc;

	memset(sf, 0, sizeof(*sf));
	if (len > SIGFILE_MAX_SIZE)
		return error(E_LIMIT, "%s: %zu bytes; a signature file holds at most %d",
			     name, len, SIGFILE_MAX_SIZE);
	while (line_next(data, len, &pos, &l)) {
		struct sigline *sl;

		if (memchr(l.p, '\0', l.full))
			return refuse(sf, E_FORMAT, name, l.no, "NUL byte");
		if (l.len > SIGFILE_MAX_LINE) {
			sf->err_line = l.no;
			return error(E_LIMIT, "%s line %u: longer than %d bytes", name, l.no,
				     SIGFILE_MAX_LINE);
		}
		if (line_ignored(&l))
			continue;
		if (sf->count == SIGFILE_MAX_LINES) {
			sf->err_line = l.no;
			return error(E_LIMIT, "%s line %u: more than %d signature lines", name,
				     l.no, SIGFILE_MAX_LINES);
		}
		sl = &sf->lines[sf->count];
		rc = line_parse(sf, &l, name, sl);
		if (rc) {
			memset(sl, 0, sizeof(*sl));
			return rc;
		}
		if (sigfile_find(sf, sl->keyid, NULL)) {
			sl->duplicate = 1;
			sf->duplicates++;
		}
		sf->count++;
	}
	return 0;
}

const struct sigline *sigfile_find(const struct sigfile *sf, const char *keyid,
				   const struct sigline *after)
{
	size_t i = after ? (size_t)(after - sf->lines) + 1 : 0;

	for (; i < sf->count; i++)
		if (strcmp(sf->lines[i].keyid, keyid) == 0)
			return &sf->lines[i];
	return NULL;
}

int sigfile_format_line(struct buf *out, const char *keyid, const void *sig, size_t len)
{
	size_t start = out->len;
	int rc;

	if (!is_keyid(keyid, strlen(keyid)))
		return error(E_FORMAT, "signature line: key id '%.80s' is not 64 lowercase hex "
			     "characters", keyid);
	rc = buf_add(out, keyid, KEYID_LEN);
	if (!rc)
		rc = buf_addch(out, ' ');
	if (!rc)
		rc = base64_encode(out, sig, len);
	if (!rc)
		rc = buf_addch(out, '\n');
	if (rc)
		buf_truncate(out, start);
	return rc;
}

int sigfile_update(struct buf *out, const char *data, size_t len, const char *name,
		   const char *keyid, const void *sig, size_t siglen)
{
	struct sigfile sf;
	struct line l = { 0 };
	size_t pos = 0, start = out->len;
	int rc, done = 0;

	if (!is_keyid(keyid, strlen(keyid)))
		return error(E_FORMAT, "%s: key id '%.80s' is not 64 lowercase hex characters",
			     name, keyid);
	rc = sigfile_parse(&sf, data, len, name);
	if (rc)
		return rc;
	while (!rc && line_next(data, len, &pos, &l)) {
		int ours = !line_ignored(&l) && memcmp(l.p, keyid, KEYID_LEN) == 0;

		if (!ours)
			rc = buf_add(out, l.p, l.full);
		else if (!done++)
			rc = sigfile_format_line(out, keyid, sig, siglen);
	}
	if (!rc && !done) {
		if (out->len > start && out->data[out->len - 1] != '\n')
			rc = buf_addch(out, '\n');
		if (!rc)
			rc = sigfile_format_line(out, keyid, sig, siglen);
	}
	if (rc) {
		buf_truncate(out, start);
		return error(rc, "%s: writing the new signature file: %s", name, err_str(rc));
	}
	/* one more signer may cross a bound: the result must parse too */
	rc = sigfile_parse(&sf, out->data + start, out->len - start, name);
	if (rc)
		buf_truncate(out, start);
	return rc;
}

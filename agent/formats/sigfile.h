/*
 * sigfile — the detached signature file `<file>.sig`: one line per signer,
 *
 *     <keyid> <base64 of the DER ECDSA signature>
 *
 * keyid is 64 lowercase hex characters (see pubkey_id), then exactly one
 * space, then strict base64 (crypto.h), then LF or CRLF (the last line may
 * lack it). Blank lines and lines starting with '#' are ignored.
 *
 * Bounds, each refused with a specific error naming the line:
 * SIGFILE_MAX_LINES signature lines, SIGFILE_MAX_LINE bytes per line
 * (without its line ending), SIGFILE_MAX_SIZE bytes in all, no NUL byte.
 *
 * This module only reads and writes the format. A key id that appears on
 * two lines is reported (sigline.duplicate), not refused: what counts
 * toward a threshold is policy, decided in agent/. Parsing allocates
 * nothing: the result lives in a struct the caller owns.
 */
#ifndef OUTPOST_SIGFILE_H
#define OUTPOST_SIGFILE_H

#include <stddef.h>

#include "buf.h"
#include "crypto.h"

#define SIGFILE_MAX_LINES 16
#define SIGFILE_MAX_LINE 512
#define SIGFILE_MAX_SIZE (16 * 1024)
/* Room for DER signatures of curves up to P-521, though crypto takes P-256. */
#define SIGFILE_SIG_MAX 144

struct sigline {
	char keyid[KEYID_LEN + 1];
	unsigned char sig[SIGFILE_SIG_MAX];     /* DER, as decoded */
	size_t sig_len;
	unsigned lineno;        /* 1-based line number in the file */
	int duplicate;          /* an earlier line has the same key id */
};

struct sigfile {
	struct sigline lines[SIGFILE_MAX_LINES];
	size_t count;
	size_t duplicates;      /* lines with duplicate set */
	unsigned err_line;      /* after a refusal: its line, 0 for the file */
};

/*
 * Parse len bytes of data (need not be NUL-terminated) into sf. 0, or
 * E_FORMAT (bad key id, missing space, bad base64, NUL byte, ...) or
 * E_LIMIT (line, line count or file too long), logged once as
 * "NAME line N: why", with sf->err_line = N.
 */
int sigfile_parse(struct sigfile *sf, const char *data, size_t len, const char *name);

/*
 * The first line for keyid after line `after` (NULL: from the start), or
 * NULL. Walk every line of a key with
 * for (l = sigfile_find(sf, id, NULL); l; l = sigfile_find(sf, id, l)).
 */
const struct sigline *sigfile_find(const struct sigfile *sf, const char *keyid,
				   const struct sigline *after);

/*
 * Append "<keyid> <base64 sig>\n" to out. E_FORMAT for a key id that is not
 * 64 lowercase hex characters (logged), E_LIMIT / E_NOMEM from out.
 */
int sigfile_format_line(struct buf *out, const char *keyid, const void *sig, size_t len);

/*
 * Write into out (appending) the signature file data[len] with keyid's
 * signature set to sig: its first line is replaced in place and any later
 * line of the same key dropped, or a line is appended when it had none.
 * Other lines, comments and line endings are kept byte for byte. data must
 * parse (errors as sigfile_parse) and so must the result (E_LIMIT when a
 * 17th signer would be added).
 */
int sigfile_update(struct buf *out, const char *data, size_t len, const char *name,
		   const char *keyid, const void *sig, size_t siglen);

#endif

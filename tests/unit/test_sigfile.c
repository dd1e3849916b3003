/*
 * Unit tests: agent/formats/sigfile — the detached `keyid base64` signature
 * file: good files parse, every kind of bad one is refused with its own
 * error naming the line, and updating keeps what it does not touch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "error.h"
#include "log.h"
#include "mem.h"
#include "sigfile.h"
#include "tap.h"

#define ID_A "5a7a78cca4a0f420d9bc62bb669c3c2759e39f723d3ae10dcbe0f0815a07ecd4"
#define ID_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_C "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
/* base64 of 0x30 0x06 0x02 0x01 0x01 0x02 0x01 0x02: a tiny DER shape */
#define SIG1 "MAYCAQECAQI="
static const unsigned char sig1[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };

/* --- log capture: the refusal must say why, and where ------------------------ */

static FILE *cap;
static int saved_fd = -1;
static char logtext[8192];

static void capture_start(void)
{
	fflush(stderr);
	cap = tmpfile();
	saved_fd = dup(2);
	dup2(fileno(cap), 2);
}

static const char *capture_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	rewind(cap);
	n = fread(logtext, 1, sizeof(logtext) - 1, cap);
	logtext[n] = '\0';
	fclose(cap);
	return logtext;
}

/* Parse text, expecting refusal e at line; the log must contain `says`. */
static void refused(const char *text, size_t len, int e, unsigned line, const char *says)
{
	struct sigfile sf;
	const char *log;
	int rc;

	capture_start();
	rc = sigfile_parse(&sf, text, len, "x.sig");
	log = capture_end();
	check_int(rc, ==, e);
	check_int(sf.err_line, ==, line);
	if (!strstr(log, says))
		tap_diag("log was: %s", log);
	check(strstr(log, says) != NULL);
	if (line) {
		char where[32];

		snprintf(where, sizeof(where), "x.sig line %u:", line);
		check(strstr(log, where) != NULL);
	}
}

static void refused_str(const char *text, int e, unsigned line, const char *says)
{
	refused(text, strlen(text), e, line, says);
}

/* --- good files --------------------------------------------------------------- */

static void test_one_line(void)
{
	const char *t = ID_A " " SIG1 "\n";
	struct sigfile sf;

	check_int(sigfile_parse(&sf, t, strlen(t), "x.sig"), ==, 0);
	check_int(sf.count, ==, 1);
	check_str(sf.lines[0].keyid, ID_A);
	check_mem(sf.lines[0].sig, sf.lines[0].sig_len, sig1, sizeof(sig1));
	check_int(sf.lines[0].lineno, ==, 1);
	check_int(sf.lines[0].duplicate, ==, 0);
	check_int(sf.duplicates, ==, 0);
	/* without the final newline too */
	check_int(sigfile_parse(&sf, t, strlen(t) - 1, "x.sig"), ==, 0);
	check_int(sf.count, ==, 1);
	check(sigfile_find(&sf, ID_A, NULL) == &sf.lines[0]);
	check(sigfile_find(&sf, ID_B, NULL) == NULL);
	check(sigfile_find(&sf, ID_A, &sf.lines[0]) == NULL);
}

static void test_three_lines_crlf_comments(void)
{
	const char *t =
		"# signatures of release.yaml\r\n"
		"\r\n"
		ID_A " " SIG1 "\r\n"
		"#" ID_C " " SIG1 "\n"
		ID_B " AQID\r\n"
		"\n"
		ID_C " BAUG\n";
	struct sigfile sf;

	check_int(sigfile_parse(&sf, t, strlen(t), "x.sig"), ==, 0);
	check_int(sf.count, ==, 3);
	check_str(sf.lines[0].keyid, ID_A);
	check_int(sf.lines[0].lineno, ==, 3);
	check_str(sf.lines[1].keyid, ID_B);
	check_mem(sf.lines[1].sig, sf.lines[1].sig_len, "\x01\x02\x03", 3);
	check_int(sf.lines[1].lineno, ==, 5);
	check_str(sf.lines[2].keyid, ID_C);
	check_int(sf.lines[2].lineno, ==, 7);
	check_mem(sf.lines[2].sig, sf.lines[2].sig_len, "\x04\x05\x06", 3);
	check_int(sf.duplicates, ==, 0);
}

static void test_empty_and_comment_only(void)
{
	struct sigfile sf;

	check_int(sigfile_parse(&sf, "", 0, "x.sig"), ==, 0);
	check_int(sf.count, ==, 0);
	check_int(sigfile_parse(&sf, "# nothing yet\n\n", 15, "x.sig"), ==, 0);
	check_int(sf.count, ==, 0);
}

/* Two lines of one key are reported, not refused: counting is policy. */
static void test_duplicate_reported(void)
{
	const char *t = ID_A " " SIG1 "\n" ID_B " AQID\n" ID_A " BAUG\n";
	struct sigfile sf;
	const struct sigline *l;
	int n = 0;

	check_int(sigfile_parse(&sf, t, strlen(t), "x.sig"), ==, 0);
	check_int(sf.count, ==, 3);
	check_int(sf.duplicates, ==, 1);
	check_int(sf.lines[0].duplicate, ==, 0);
	check_int(sf.lines[1].duplicate, ==, 0);
	check_int(sf.lines[2].duplicate, ==, 1);
	for (l = sigfile_find(&sf, ID_A, NULL); l; l = sigfile_find(&sf, ID_A, l))
		n++;
	check_int(n, ==, 2);
}

static void test_limits_inclusive(void)
{
	struct buf b = BUF_INIT(SIGFILE_MAX_SIZE);
	struct sigfile sf;

	/* 16 signature lines and a 512-byte line are allowed */
	for (int i = 0; i < SIGFILE_MAX_LINES; i++)
		buf_addf(&b, "%064x " SIG1 "\n", i);
	buf_addch(&b, '#');
	for (int i = 1; i < SIGFILE_MAX_LINE; i++)
		buf_addch(&b, 'x');
	buf_addch(&b, '\n');
	check_int(sigfile_parse(&sf, b.data, b.len, "x.sig"), ==, 0);
	check_int(sf.count, ==, SIGFILE_MAX_LINES);
	/* exactly SIGFILE_MAX_SIZE bytes is allowed */
	while (b.len < SIGFILE_MAX_SIZE)
		buf_addch(&b, '\n');
	check_int(sigfile_parse(&sf, b.data, b.len, "x.sig"), ==, 0);
	buf_free(&b);
}

/* --- refusals ------------------------------------------------------------------- */

static void test_refusals(void)
{
	struct buf b = BUF_INIT(1 << 16);

	/* upper case and non-hex key ids */
	refused_str("# c\n" "5A7A78CCA4A0F420D9BC62BB669C3C2759E39F723D3AE10DCBE0F0815A07ECD4 "
		    SIG1 "\n", E_FORMAT, 2, "lowercase hex");
	refused_str(ID_A " " SIG1 "\n"
		    "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef " SIG1 "\n",
		    E_FORMAT, 2, "lowercase hex");
	/* short and long key ids */
	refused_str("0123456789 " SIG1 "\n", E_FORMAT, 1, "key id is 10 characters long");
	refused_str(ID_A "0 " SIG1 "\n", E_FORMAT, 1, "key id is 65 characters long");
	/* no space: a tab, or nothing at all */
	refused_str(ID_A "\t" SIG1 "\n", E_FORMAT, 1, "no space after the key id");
	refused_str(ID_A "\n", E_FORMAT, 1, "no space after the key id");
	refused_str(ID_A " \n", E_FORMAT, 1, "no signature after the key id");
	/* base64: bad character, two spaces, trailing space, bad padding */
	refused_str(ID_A " MAYCAQECA*I=\n", E_FORMAT, 1, "not valid base64");
	refused_str(ID_A "  " SIG1 "\n", E_FORMAT, 1, "not valid base64");
	refused_str(ID_A " " SIG1 " \n", E_FORMAT, 1, "not valid base64");
	refused_str(ID_A " MAYCAQECAQI\n", E_FORMAT, 1, "not valid base64");
	refused_str(ID_A " " SIG1 "\r\r\n", E_FORMAT, 1, "not valid base64");
	/* a signature longer than any ECDSA one */
	buf_addstr(&b, ID_A " ");
	for (int i = 0; i < 50; i++)          /* 150 bytes: a short line all the same */
		buf_addstr(&b, "AAAA");
	buf_addch(&b, '\n');
	refused(b.data, b.len, E_FORMAT, 1, "longer than any ECDSA signature");

	/* a line over 512 bytes, even a comment */
	buf_reset(&b);
	buf_addstr(&b, ID_A " " SIG1 "\n#");
	for (int i = 0; i < SIGFILE_MAX_LINE; i++)
		buf_addch(&b, 'x');
	refused(b.data, b.len, E_LIMIT, 2, "longer than 512 bytes");

	/* a 17th signature line */
	buf_reset(&b);
	buf_addstr(&b, "# header\n");
	for (int i = 0; i <= SIGFILE_MAX_LINES; i++)
		buf_addf(&b, "%064x " SIG1 "\n", i);
	refused(b.data, b.len, E_LIMIT, 18, "more than 16 signature lines");

	/* a file over 16 KiB, though each line is fine */
	buf_reset(&b);
	buf_addstr(&b, ID_A " " SIG1 "\n");
	while (b.len <= SIGFILE_MAX_SIZE)
		buf_addstr(&b, "# padding\n");
	refused(b.data, b.len, E_LIMIT, 0, "at most 16384");

	/* NUL bytes, in a signature line and in a comment */
	refused(ID_A " MAYC\0QECAQI=\n", 78, E_FORMAT, 1, "NUL byte");
	refused("# a\0b\n" ID_A " " SIG1 "\n", 6 + 78, E_FORMAT, 1, "NUL byte");
	buf_free(&b);
}

/* Every prefix of a good file, in an exactly sized heap block: no over-read. */
static void test_prefixes(void)
{
	const char *t = "# c\r\n" ID_A " " SIG1 "\r\n" ID_B " AQID\n";
	size_t len = strlen(t);
	int ok = 1;

	capture_start();
	for (size_t n = 0; n <= len; n++) {
		char *p = malloc(n ? n : 1);
		struct sigfile sf;
		int rc;

		memcpy(p, t, n);
		rc = sigfile_parse(&sf, p, n, "x.sig");
		if (rc != 0 && rc != E_FORMAT)
			ok = 0;
		free(p);
	}
	capture_end();
	check(ok);
}

/* --- writing ------------------------------------------------------------------ */

static void test_format_line(void)
{
	struct buf b = BUF_INIT(1024);

	check_int(sigfile_format_line(&b, ID_A, sig1, sizeof(sig1)), ==, 0);
	check_str(b.data, ID_A " " SIG1 "\n");
	capture_start();
	check_int(sigfile_format_line(&b, "5A7A", sig1, sizeof(sig1)), ==, E_FORMAT);
	capture_end();
	check_str(b.data, ID_A " " SIG1 "\n");
	buf_free(&b);
	b = (struct buf)BUF_INIT(70);
	check_int(sigfile_format_line(&b, ID_A, sig1, sizeof(sig1)), ==, E_LIMIT);
	check_int(b.len, ==, 0);
	buf_free(&b);
}

static void test_update(void)
{
	struct buf b = BUF_INIT(SIGFILE_MAX_SIZE);
	const char *before = "# keep me\r\n" ID_A " AQID\r\n" ID_B " AQID\n" ID_A " BAUG\n";
	const char *noeol = ID_B " AQID";

	/* a new file */
	check_int(sigfile_update(&b, "", 0, "x.sig", ID_A, sig1, sizeof(sig1)), ==, 0);
	check_str(b.data, ID_A " " SIG1 "\n");

	/* replaced in place, later lines of the key dropped, the rest kept byte for byte */
	buf_reset(&b);
	check_int(sigfile_update(&b, before, strlen(before), "x.sig", ID_A, sig1, sizeof(sig1)),
		  ==, 0);
	check_str(b.data, "# keep me\r\n" ID_A " " SIG1 "\n" ID_B " AQID\n");

	/* appended, after a last line that had no newline */
	buf_reset(&b);
	check_int(sigfile_update(&b, noeol, strlen(noeol), "x.sig", ID_C, sig1, sizeof(sig1)),
		  ==, 0);
	check_str(b.data, ID_B " AQID\n" ID_C " " SIG1 "\n");

	/* a 17th signer is refused, and nothing is written */
	buf_reset(&b);
	{
		struct buf full = BUF_INIT(SIGFILE_MAX_SIZE);

		for (int i = 0; i < SIGFILE_MAX_LINES; i++)
			buf_addf(&full, "%064x " SIG1 "\n", i + 1);
		capture_start();
		check_int(sigfile_update(&b, full.data, full.len, "x.sig", ID_C, sig1,
					 sizeof(sig1)), ==, E_LIMIT);
		/* but a signer already there can re-sign */
		check_int(sigfile_update(&b, full.data, full.len, "x.sig",
					 "0000000000000000000000000000000000000000000000000000000000000003",
					 sig1, sizeof(sig1)), ==, 0);
		capture_end();
		check_int(b.len, ==, full.len);
		buf_free(&full);
	}

	/* a damaged file is not rewritten */
	buf_reset(&b);
	capture_start();
	check_int(sigfile_update(&b, "junk\n", 5, "x.sig", ID_A, sig1, sizeof(sig1)), ==,
		  E_FORMAT);
	check_int(sigfile_update(&b, "", 0, "x.sig", "ABC", sig1, sizeof(sig1)), ==, E_FORMAT);
	capture_end();
	check_int(b.len, ==, 0);
	buf_free(&b);
}

/* Allocation failures while updating leave out empty and leak nothing. */
static void test_update_alloc_failure(void)
{
	const char *before = "# keep me\n" ID_B " AQID\n";
	int nomem = 0, ok = 1;

	capture_start();
	for (unsigned long n = 1; n < 8; n++) {
		struct buf b = BUF_INIT(SIGFILE_MAX_SIZE);
		int rc;

		mem_fail_after(n);
		rc = sigfile_update(&b, before, strlen(before), "x.sig", ID_A, sig1, sizeof(sig1));
		mem_fail_after(0);
		if (rc == E_NOMEM) {
			nomem++;
			ok &= b.len == 0;
		} else {
			ok &= rc == 0;
		}
		buf_free(&b);
	}
	capture_end();
	check(nomem > 0);
	check(ok);
}

int main(void)
{
	log_set_timestamps(0);
	test_one_line();
	test_three_lines_crlf_comments();
	test_empty_and_comment_only();
	test_duplicate_reported();
	test_limits_inclusive();
	test_refusals();
	test_prefixes();
	test_format_line();
	test_update();
	test_update_alloc_failure();
	return tap_done();
}

/* Unit tests: agent/formats: meta, trust, pointer — the signature policy. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "error.h"
#include "log.h"
#include "meta.h"
#include "pointer.h"
#include "sigfile.h"
#include "tap.h"
#include "trust.h"

#define NKEYS 4
static struct privkey *keys[NKEYS];
static struct buf pems[NKEYS];

static void make_keys(void)
{
	for (int i = 0; i < NKEYS; i++) {
		check_int(privkey_generate(&keys[i]), ==, 0);
		buf_init(&pems[i], 4096);
		check_int(privkey_pubkey_pem(keys[i], &pems[i]), ==, 0);
	}
}

/* root.yaml text: version, expires, root keys [a..b), release keys [c..d). */
static void root_text(struct buf *out, int version, const char *expires, int a, int b,
		      int rthr, int c, int d, int relthr)
{
	buf_reset(out);
	buf_addf(out, "outpost: root/v1\nversion: %d\nexpires: %s\nkeys:\n", version, expires);
	for (int i = 0; i < NKEYS; i++) {
		const char *p = pems[i].data;

		buf_addf(out, "  %s: |\n", privkey_id(keys[i]));
		while (*p) {
			const char *nl = strchr(p, '\n');

			buf_addf(out, "    %.*s\n", (int)(nl - p), p);
			p = nl + 1;
		}
	}
	buf_addf(out, "roles:\n  root:\n    threshold: %d\n    keys:\n", rthr);
	for (int i = a; i < b; i++)
		buf_addf(out, "      - %s\n", privkey_id(keys[i]));
	buf_addf(out, "  release:\n    threshold: %d\n    keys:\n", relthr);
	for (int i = c; i < d; i++)
		buf_addf(out, "      - %s\n", privkey_id(keys[i]));
}

/* Append key k's signature over data to the signature file sig. */
static void sign_with(struct buf *sig, int k, const struct buf *data)
{
	unsigned char digest[SHA256_LEN], der[ECDSA_SIG_MAX];
	size_t len;

	sha256(data->data, data->len, digest);
	privkey_sign(keys[k], digest, der, &len);
	sigfile_format_line(sig, privkey_id(keys[k]), der, len);
}

static void test_time(void)
{
	char s[META_TIME_LEN + 1];
	int64_t t;

	check_int(meta_time_parse("1970-01-01T00:00:00Z", &t), ==, 0);
	check_int(t, ==, 0);
	check_int(meta_time_parse("2026-11-26T09:00:00Z", &t), ==, 0);
	check_int(t, ==, 1795683600);
	meta_time_format(t, s);
	check_str(s, "2026-11-26T09:00:00Z");
	check_int(meta_time_parse("2024-02-29T23:59:59Z", &t), ==, 0);
	meta_time_format(t, s);
	check_str(s, "2024-02-29T23:59:59Z");
	check_int(meta_time_parse("2023-02-29T00:00:00Z", &t), ==, E_FORMAT);
	check_int(meta_time_parse("2026-11-26 09:00:00Z", &t), ==, E_FORMAT);
	check_int(meta_time_parse("2026-11-26T09:00:00+01:00", &t), ==, E_FORMAT);
	check_int(meta_time_parse("2026-13-01T00:00:00Z", &t), ==, E_FORMAT);
	check_int(meta_time_parse("2026-11-26T24:00:00Z", &t), ==, E_FORMAT);
	check_int(meta_time_parse("1969-12-31T23:59:59Z", &t), ==, E_FORMAT);
	check_int(meta_time_parse("", &t), ==, E_FORMAT);
	/* every day of four years round-trips */
	int ok = 1;
	for (int64_t d = 0; d < 4 * 366; d++) {
		int64_t back;

		meta_time_format(1704067200 + d * 86400 + 3723, s);
		ok &= meta_time_parse(s, &back) == 0 && back == 1704067200 + d * 86400 + 3723;
	}
	check(ok);
}

static const int64_t NOW = 1795683600;  /* 2026-11-26T09:00:00Z */

static void test_root(void)
{
	struct buf text = BUF_INIT(65536), sig = BUF_INIT(16384);
	struct trust *t = NULL;

	/* self-signed 2 of 2, release 1 of 1 */
	root_text(&text, 1, "2027-11-26T00:00:00Z", 0, 2, 2, 2, 3, 1);
	sign_with(&sig, 0, &text);
	check_int(trust_load("root.yaml", text.data, text.len, sig.data, sig.len, NOW, &t),
		  ==, E_SIGNATURE);
	check(t == NULL);
	sign_with(&sig, 1, &text);
	check_int(trust_load("root.yaml", text.data, text.len, sig.data, sig.len, NOW, &t), ==, 0);
	check_int(trust_version(t), ==, 1);
	check_int(trust_threshold(t, ROLE_ROOT), ==, 2);
	check_int(trust_role_size(t, ROLE_RELEASE), ==, 1);
	check(trust_key_in_role(t, ROLE_RELEASE, 2) && !trust_key_in_role(t, ROLE_ROOT, 2));
	/* release keys do not count for the root role */
	buf_reset(&sig);
	sign_with(&sig, 2, &text);
	sign_with(&sig, 0, &text);
	check_int(trust_check(t, ROLE_ROOT, "root.yaml", text.data, text.len, sig.data, sig.len),
		  ==, E_SIGNATURE);
	/* keys outside every role: untrusted */
	buf_reset(&sig);
	sign_with(&sig, 3, &text);
	check_int(trust_check(t, ROLE_ROOT, "root.yaml", text.data, text.len, sig.data, sig.len),
		  ==, E_UNTRUSTED);
	/* expired at the moment of checking */
	buf_reset(&sig);
	sign_with(&sig, 0, &text);
	sign_with(&sig, 1, &text);
	trust_free(t);
	check_int(trust_load("root.yaml", text.data, text.len, sig.data, sig.len,
			     NOW + 400 * 86400, &t), ==, E_EXPIRED);
	check(t == NULL);

	/* malformed roots */
	root_text(&text, 1, "2027-11-26T00:00:00Z", 0, 2, 3, 2, 3, 1);   /* 3 of 2 */
	check_int(trust_parse("root.yaml", text.data, text.len, &t), ==, E_FORMAT);
	root_text(&text, 0, "2027-11-26T00:00:00Z", 0, 2, 1, 2, 3, 1);   /* version 0 */
	check_int(trust_parse("root.yaml", text.data, text.len, &t), ==, E_FORMAT);
	root_text(&text, 1, "next year", 0, 2, 1, 2, 3, 1);
	check_int(trust_parse("root.yaml", text.data, text.len, &t), ==, E_FORMAT);
	root_text(&text, 1, "2027-11-26T00:00:00Z", 0, 2, 1, 2, 3, 1);
	buf_addstr(&text, "mirrors: [x]\n");                               /* unknown key */
	check_int(trust_parse("root.yaml", text.data, text.len, &t), ==, E_FORMAT);
	root_text(&text, 1, "2027-11-26T00:00:00Z", 0, 2, 1, 2, 3, 1);
	/* a key id that is not the key's */
	char *id = strstr(text.data, privkey_id(keys[0]));
	id[0] = id[0] == 'a' ? 'b' : 'a';
	check_int(trust_parse("root.yaml", text.data, text.len, &t), ==, E_FORMAT);
	check(t == NULL);
	buf_free(&text);
	buf_free(&sig);
}

/* The floors reset only when at least the old release threshold is gone. */
static void test_release_keys_replaced(void)
{
	static const struct { int c, d, thr, replaced; } next[] = {
		{ 1, 3, 2, 0 },         /* the same release keys 1, 2 */
		{ 1, 4, 2, 0 },         /* one added */
		{ 2, 4, 1, 0 },         /* key 1 gone: 1 below the old threshold 2 */
		{ 3, 4, 1, 1 },         /* keys 1 and 2 gone: replaced */
		{ 0, 1, 1, 1 },         /* another key altogether */
	};
	struct buf text = BUF_INIT(65536);
	struct trust *cur = NULL, *t = NULL;

	root_text(&text, 1, "2027-11-26T00:00:00Z", 0, 1, 1, 1, 3, 2);
	check_int(trust_parse("v1", text.data, text.len, &cur), ==, 0);
	for (size_t i = 0; cur && i < sizeof(next) / sizeof(next[0]); i++) {
		root_text(&text, 2, "2027-11-26T00:00:00Z", 0, 1, 1, next[i].c, next[i].d,
			  next[i].thr);
		check_int(trust_parse("v2", text.data, text.len, &t), ==, 0);
		if (t)
			check_int(trust_release_keys_replaced(cur, t), ==, next[i].replaced);
		trust_free(t);
		t = NULL;
	}
	trust_free(cur);
	buf_free(&text);
}

static void test_rotation(void)
{
	struct buf v1 = BUF_INIT(65536), s1 = BUF_INIT(16384);
	struct buf v2 = BUF_INIT(65536), s2 = BUF_INIT(16384);
	struct trust *cur = NULL, *next = NULL;

	root_text(&v1, 1, "2027-11-26T00:00:00Z", 0, 2, 2, 3, 4, 1);
	sign_with(&s1, 0, &v1);
	sign_with(&s1, 1, &v1);
	check_int(trust_load("v1", v1.data, v1.len, s1.data, s1.len, NOW, &cur), ==, 0);
	/* v2 replaces root key 0 by key 2: root keys 1,2 (2 of 2) */
	root_text(&v2, 2, "2027-12-26T00:00:00Z", 1, 3, 2, 3, 4, 1);
	sign_with(&s2, 1, &v2);
	sign_with(&s2, 2, &v2);
	/* new keys only: the old threshold (keys 0 and 1) is not met */
	check_int(trust_rotate(cur, "v2", v2.data, v2.len, s2.data, s2.len, NOW, &next),
		  ==, E_SIGNATURE);
	check(next == NULL);
	/* old keys only: the new root's own threshold (keys 1 and 2) is not met */
	buf_reset(&s2);
	sign_with(&s2, 0, &v2);
	sign_with(&s2, 1, &v2);
	check_int(trust_rotate(cur, "v2", v2.data, v2.len, s2.data, s2.len, NOW, &next),
		  ==, E_SIGNATURE);
	/* both: accepted */
	sign_with(&s2, 2, &v2);
	check_int(trust_rotate(cur, "v2", v2.data, v2.len, s2.data, s2.len, NOW, &next), ==, 0);
	check_int(trust_version(next), ==, 2);
	/* the same version again, or an older one: rollback */
	{
		struct trust *again = NULL;

		check_int(trust_rotate(next, "v2", v2.data, v2.len, s2.data, s2.len, NOW, &again),
			  ==, E_ROLLBACK);
		check_int(trust_rotate(next, "v1", v1.data, v1.len, s1.data, s1.len, NOW, &again),
			  ==, E_ROLLBACK);
		check(again == NULL);
	}
	trust_free(cur);
	trust_free(next);
	buf_free(&v1);
	buf_free(&s1);
	buf_free(&v2);
	buf_free(&s2);
}

static void pointer_text(struct buf *out, const char *app, int seq, const char *created,
			 const char *expires, const char *extra)
{
	buf_reset(out);
	buf_addf(out, "outpost: release/v1\napp: %s\nsequence: %d\nversion: \"1.%d\"\n"
		 "created: %s\nexpires: %s\nbundle:\n  url: ../../bundles/%s-%d.bundle\n"
		 "  size: 4096\n  sha256: %064d\n%s", app, seq, seq, created, expires, app,
		 seq, 7, extra);
}

static void test_pointer(void)
{
	struct buf root = BUF_INIT(65536), rsig = BUF_INIT(16384);
	struct buf p = BUF_INIT(65536), psig = BUF_INIT(16384);
	struct verify_ctx ctx = { NOW, 0, "web", 0 };
	struct trust *t = NULL;
	struct pointer ptr;

	root_text(&root, 1, "2030-01-01T00:00:00Z", 0, 1, 1, 1, 3, 2);
	sign_with(&rsig, 0, &root);
	check_int(trust_load("root", root.data, root.len, rsig.data, rsig.len, NOW, &t), ==, 0);

	pointer_text(&p, "web", 5, "2026-11-20T00:00:00Z", "2026-12-20T00:00:00Z",
		     "schedule:\n  interval: 600\n  jitter: 30\n  window: \"22:00-02:00\"\n"
		     "  utc_offset: \"-05:30\"\nrollout:\n  percent: 10\n  salt: s\n"
		     "health:\n  timeout: 120\n");
	sign_with(&psig, 1, &p);
	check_int(pointer_verify(t, "release.yaml", p.data, p.len, psig.data, psig.len, &ctx,
				 &ptr), ==, E_SIGNATURE);   /* release threshold is 2 */
	sign_with(&psig, 2, &p);
	check_int(pointer_verify(t, "release.yaml", p.data, p.len, psig.data, psig.len, &ctx,
				 &ptr), ==, 0);
	check_str(ptr.app, "web");
	check_int(ptr.sequence, ==, 5);
	check_int(ptr.size, ==, 4096);
	check_int(ptr.schedule.interval, ==, 600);
	check_int(ptr.schedule.start, ==, 22 * 60);
	check_int(ptr.schedule.end, ==, 2 * 60);
	check_int(ptr.schedule.utc_offset, ==, -330);
	check_int(ptr.rollout.percent, ==, 10);
	check_int(ptr.health_timeout, ==, 120);

	/* anti-rollback: a lower sequence than accepted; equal is the same release */
	ctx.min_sequence = 6;
	check_int(pointer_verify(t, "r", p.data, p.len, psig.data, psig.len, &ctx, &ptr),
		  ==, E_ROLLBACK);
	ctx.min_sequence = 5;
	check_int(pointer_verify(t, "r", p.data, p.len, psig.data, psig.len, &ctx, &ptr), ==, 0);
	/* another app's channel */
	ctx.app = "db";
	check_int(pointer_verify(t, "r", p.data, p.len, psig.data, psig.len, &ctx, &ptr),
		  ==, E_FORMAT);
	ctx.app = "web";
	/*
	 * A `created` from the future (2026-11-20) is refused when the clock is
	 * trusted and that far behind; within the skew, or with an untrusted
	 * clock (booted in 1970, or behind the floor), it is not judged.
	 */
	ctx.max_created = trust_created_limit(1795132800 - 2 * 86400, 0);      /* 11-18 */
	check_int(pointer_verify(t, "r", p.data, p.len, psig.data, psig.len, &ctx, &ptr),
		  ==, E_EXPIRED);
	ctx.max_created = trust_created_limit(1795132800 - 3600, 0);
	check_int(pointer_verify(t, "r", p.data, p.len, psig.data, psig.len, &ctx, &ptr), ==, 0);
	check_int(trust_created_limit(86400, 0), ==, 0);
	check_int(trust_created_limit(1795651200, 1795651201), ==, 0);
	check_int(trust_created_limit(1795651200, 1795651200), ==, 1795651200 + TRUST_CREATED_SKEW);
	ctx.max_created = 0;
	/*
	 * No real-time clock: the device booted in 1970, so now is the floor,
	 * the newest created time it accepted. Metadata that expired before
	 * the floor is refused; valid metadata is accepted.
	 */
	ctx.now = 1795683600 - 10 * 86400;      /* floor: 2026-11-16 */
	check_int(pointer_verify(t, "r", p.data, p.len, psig.data, psig.len, &ctx, &ptr), ==, 0);
	ctx.now = 1795683600 + 30 * 86400;      /* floor past the expiry */
	check_int(pointer_verify(t, "r", p.data, p.len, psig.data, psig.len, &ctx, &ptr),
		  ==, E_EXPIRED);
	ctx.now = NOW;

	/* malformed pointers, each refused before use */
	static const char *const bad[] = {
		"schedule:\n  window: \"22:00\"\n",
		"schedule:\n  window: \"25:00-02:00\"\n",
		"schedule:\n  utc_offset: \"+15:00\"\n",
		"schedule:\n  interval: 1\n",
		"rollout:\n  percent: 101\n",
		"rollout:\n  salt: x\n",
		"health:\n  timeout: 0\n",
		"color: blue\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pointer_text(&p, "web", 5, "2026-11-20T00:00:00Z", "2026-12-20T00:00:00Z", bad[i]);
		check_int(pointer_parse("r", p.data, p.len, &ptr), ==, E_FORMAT);
	}
	pointer_text(&p, "Web", 5, "2026-11-20T00:00:00Z", "2026-12-20T00:00:00Z", "");
	check_int(pointer_parse("r", p.data, p.len, &ptr), ==, E_FORMAT);
	pointer_text(&p, "web", 5, "2026-11-20T00:00:00Z", "2026-11-19T00:00:00Z", "");
	check_int(pointer_parse("r", p.data, p.len, &ptr), ==, E_FORMAT);
	trust_free(t);
	buf_free(&root);
	buf_free(&rsig);
	buf_free(&p);
	buf_free(&psig);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	make_keys();
	test_time();
	test_root();
	test_rotation();
	test_release_keys_replaced();
	test_pointer();
	for (int i = 0; i < NKEYS; i++) {
		privkey_free(keys[i]);
		buf_free(&pems[i]);
	}
	return tap_done();
}

/* verifier — the sandboxed child that fetches and checks first. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "log.h"
#include "mem.h"
#include "pointer.h"
#include "sandbox.h"
#include "verifier.h"

#define VERIFIER_FRAME_MAX (2 * (ROOT_MAX_SIZE + SIG_MAX_SIZE) + 64 * 1024)
#define CHUNK (64 * 1024)
#define CHILD_FD 3
#define QUIET_MS 120000L        /* the longest the child may be silent in a check */
#define HEADERS_MAX 8
/* Tests only: make the child misbehave ("die", "lie-pointer", "lie-bundle",
 * "garbage")
 * or try to open files after entering its sandbox (comma-separated). */
#define ENV_TEST "OUTPOST_TEST_VERIFIER"
#define ENV_PROBE "OUTPOST_TEST_VERIFIER_PROBE"
/* Tests of a foreign build only: the emulator to start the child with
 * (qemu-user runs the binary; the kernel could not exec it). */
#define ENV_RUNNER "OUTPOST_TEST_RUNNER"

enum { M_HTTP = 1, M_POINTER, M_BUNDLE, M_DATA, M_END, M_RESP, M_RESULT };

struct verifier {
	const char *config;     /* the file the child loads its own from */
	pid_t pid;
	int fd;                 /* -1: no child */
};

/* --- frames ------------------------------------------------------------------ */

static void put_u64(struct buf *b, uint64_t v)
{
	unsigned char x[8];

	for (int i = 0; i < 8; i++)
		x[i] = (unsigned char)(v >> (56 - 8 * i));
	buf_add(b, x, 8);
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	put_u64(b, n);
	buf_add(b, p, n);
}

/* A string with its NUL (NULL: no bytes), so the reader gets a C string. */
static void put_str(struct buf *b, const char *s)
{
	put_bytes(b, s, s ? strlen(s) + 1 : 0);
}

struct rd {
	const unsigned char *p;
	size_t n;
	int bad;
};

static uint64_t get_u64(struct rd *r)
{
	uint64_t v = 0;

	if (r->n < 8) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < 8; i++)
		v = v << 8 | r->p[i];
	r->p += 8;
	r->n -= 8;
	return v;
}

static const void *get_bytes(struct rd *r, size_t *len)
{
	uint64_t n = get_u64(r);
	const void *p = r->p;

	if (r->bad || n > r->n) {
		r->bad = 1;
		*len = 0;
		return "";
	}
	r->p += n;
	r->n -= (size_t)n;
	*len = (size_t)n;
	return p;
}

/* A C string, or NULL when it was; a field that does not end in its NUL
 * marks the message bad. */
static const char *get_str(struct rd *r)
{
	size_t n;
	const char *s = get_bytes(r, &n);

	if (!n)
		return NULL;
	if (s[n - 1] != '\0') {
		r->bad = 1;
		return "";
	}
	return s;
}

static int send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t k = send(fd, c, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return E_IO;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

static int frame_send(int fd, uint32_t type, const void *p, size_t n)
{
	unsigned char h[8];

	if (n > VERIFIER_FRAME_MAX)
		return E_LIMIT;
	for (int i = 0; i < 4; i++) {
		h[i] = (unsigned char)(type >> (24 - 8 * i));
		h[4 + i] = (unsigned char)(n >> (24 - 8 * i));
	}
	return send_all(fd, h, sizeof(h)) ? E_IO : n ? send_all(fd, p, n) : 0;
}

/* n bytes, waiting at most ms between arrivals (-1: no bound). 1 at a
 * clean end before the first byte, E_IO otherwise. */
static int recv_all(int fd, void *p, size_t n, long ms, int eof_ok)
{
	char *c = p;
	size_t got = 0;

	while (got < n) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t k;
		int w = poll(&pf, 1, (int)ms);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return E_IO;
		k = recv(fd, c + got, n - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0 && got == 0 && eof_ok)
			return 1;
		if (k <= 0)
			return E_IO;
		got += (size_t)k;
	}
	return 0;
}

/* The next frame into body (reset first). 1 at a clean end, E_IO for a
 * broken or oversized frame. */
static int frame_recv(int fd, uint32_t *type, struct buf *body, long ms)
{
	unsigned char h[8];
	uint32_t n = 0;
	int rc = recv_all(fd, h, sizeof(h), ms, 1);

	if (rc)
		return rc;
	*type = 0;
	for (int i = 0; i < 4; i++) {
		*type = *type << 8 | h[i];
		n = n << 8 | h[4 + i];
	}
	buf_reset(body);
	if (n > VERIFIER_FRAME_MAX || buf_grow(body, n))
		return E_IO;
	rc = recv_all(fd, body->data, n, ms, 0);
	if (!rc) {
		body->len = n;
		body->data[n] = '\0';
	}
	return rc;
}

static int rc_valid(int64_t rc)
{
	return rc <= 0 && rc > E_NERR;
}

static void put_ctx(struct buf *b, const struct verifier_root *root, const char *name,
		    const struct verify_ctx *c)
{
	put_bytes(b, root->root, root->len);
	put_bytes(b, root->sig, root->siglen);
	put_str(b, name);
	put_u64(b, (uint64_t)c->now);
	put_u64(b, (uint64_t)c->min_sequence);
	put_str(b, c->app);
	put_u64(b, (uint64_t)c->max_created);
}

/* --- the parent's side ------------------------------------------------------------- */

int verifier_new(struct verifier **out, const char *config)
{
	*out = mem_zalloc(1, sizeof(**out));
	if (!*out)
		return E_NOMEM;
	(*out)->config = config;
	(*out)->fd = -1;
	return 0;
}

/* Wait up to ms for the child to end by itself; else end it. 1 when it
 * ended by itself (*status says how). */
static int reap(pid_t pid, int *status, int ms)
{
	pid_t w = 0;

	for (int i = 0; i < ms / 10 && w == 0; i++) {
		w = waitpid(pid, status, WNOHANG);
		if (w == 0)
			usleep(10000);
	}
	if (w != 0)
		return w == pid;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}

/* End the child; E_INTERNAL with why and how it ended, logged. */
static int lost(struct verifier *v, const char *why)
{
	int status = 0;
	char how[64] = "killed";
	/* a child that ended closed its socket a moment before it is a zombie */
	int ended = reap(v->pid, &status, 500);

	if (ended && WIFSIGNALED(status))
		snprintf(how, sizeof(how), "died of signal %d", WTERMSIG(status));
	else if (ended && WIFEXITED(status))
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	close(v->fd);
	v->fd = -1;
	return error(E_INTERNAL, "the verifier process (pid %d) %s: %s; nothing it fetched or "
		     "checked is used, a new one starts with the next request", (int)v->pid,
		     why, how);
}

void verifier_free(struct verifier *v)
{
	int status;

	if (!v)
		return;
	if (v->fd >= 0) {
		close(v->fd);   /* it ends at the end of its input, or is ended */
		reap(v->pid, &status, 1000);
	}
	mem_free(v);
}

/* The child: the program's own binary afresh, its socket on CHILD_FD. */
static int start(struct verifier *v)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	enum log_level l = log_get_level();
	char path[4096], level[8], self[] = "outpost", opt_c[] = "--config",
	     opt_l[] = "--log-level", cmd[] = VERIFIER_COMMAND;
	char *argv[] = { self, opt_c, path, opt_l, level, cmd, NULL }, exe[4096];
	char *runner = getenv(ENV_RUNNER), *rargv[] = { runner, exe, opt_c, path, opt_l, level,
						      cmd, NULL };
	struct timeval tv = { QUIET_MS / 1000, 0 };
	pid_t parent = getpid();
	ssize_t n;
	int sv[2];

	if (v->fd >= 0)
		return 0;
	if (snprintf(path, sizeof(path), "%s", v->config) >= (int)sizeof(path))
		return error(E_LIMIT, "verifier: the configuration's path is too long");
	snprintf(level, sizeof(level), "%s", levels[l >= LOG_ERROR && l <= LOG_DEBUG ? l : 0]);
	/* the binary by its name (a tool that runs it, valgrind, qemu, says
	 * which), or the running inode itself when that name is gone */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0 || (size_t)n >= sizeof(exe) - 1)
		return error(E_IO, "verifier: /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	if (n > 10 && strcmp(exe + n - 10, " (deleted)") == 0)
		snprintf(exe, sizeof(exe), "/proc/self/exe");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return error(E_IO, "verifier: socketpair: %s", strerror(errno));
	v->pid = fork();
	if (v->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return error(E_IO, "verifier: fork: %s", strerror(errno));
	}
	if (v->pid == 0) {
		/* it dies with the parent; nothing of the parent's survives exec */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || getppid() != parent)
			_exit(127);
		if (sv[1] == CHILD_FD ? fcntl(CHILD_FD, F_SETFD, 0) : dup2(sv[1], CHILD_FD) < 0)
			_exit(127);
		if (syscall(SYS_close_range, CHILD_FD + 1, ~0u, 0))
			for (int fd = CHILD_FD + 1; fd < 4096; fd++)
				close(fd);
		if (runner && *runner)
			execvp(runner, rargv);
		else
			execv(exe, argv);
		_exit(127);
	}
	close(sv[1]);
	v->fd = sv[0];
	setsockopt(v->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	log_debug("verifier: started pid %d", (int)v->pid);
	return 0;
}

/* Send one request frame, starting the child when there is none. */
static int request(struct verifier *v, uint32_t type, const struct buf *m)
{
	int rc = buf_error(m);

	if (rc)
		return error(rc, "verifier: a request too large for the protocol");
	rc = start(v);
	if (!rc && frame_send(v->fd, type, m->data, m->len))
		rc = lost(v, "stopped taking requests");
	return rc;
}

/* The child's M_RESULT: its verdict, already logged by it. */
static int result(struct verifier *v, struct buf *in, long ms)
{
	uint32_t type = 0;
	struct rd r;
	int64_t rc;

	if (frame_recv(v->fd, &type, in, ms))
		return lost(v, "ended or stalled before its answer");
	r = (struct rd){ (const unsigned char *)in->data, in->len, 0 };
	rc = (int64_t)get_u64(&r);
	if (type != M_RESULT || r.bad || r.n || !rc_valid(rc))
		return lost(v, "answered outside the protocol");
	return (int)rc;
}

/* The strings of an answer, bounded to their fields. */
static void copy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

int verifier_http(struct verifier *v, const struct http_request *q, struct http_response *r)
{
	size_t cap = q->max_body ? q->max_body : VERIFIER_FRAME_MAX, streamed = 0;
	long ms = (q->timeout_ms > 0 ? q->timeout_ms : 300000L) + 60000L;
	struct buf m = BUF_INIT(VERIFIER_FRAME_MAX), in = BUF_INIT(VERIFIER_FRAME_MAX);
	uint64_t nh = 0;
	int sink_rc = 0, rc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, cap);
	r->retry_after = -1;
	while (q->headers && q->headers[nh] && nh < HEADERS_MAX)
		nh++;
	put_str(&m, q->method);
	put_str(&m, q->url);
	put_str(&m, q->content_type);
	put_str(&m, q->accept);
	put_u64(&m, nh);
	for (uint64_t i = 0; i < nh; i++)
		put_str(&m, q->headers[i]);
	put_bytes(&m, q->body, q->body ? q->body_len : 0);
	put_u64(&m, q->max_body);
	put_u64(&m, (uint64_t)(int64_t)q->timeout_ms);
	put_u64(&m, (q->sink ? 1u : 0u) | (q->progress ? 2u : 0u));
	rc = request(v, M_HTTP, &m);
	while (!rc) {
		uint32_t type = 0;
		struct rd d;
		const void *p;
		size_t n;
		int64_t status;

		if (frame_recv(v->fd, &type, &in, ms)) {
			rc = lost(v, "ended or stalled in an HTTP request");
			break;
		}
		d = (struct rd){ (const unsigned char *)in.data, in.len, 0 };
		if (type == M_DATA) {
			status = (int64_t)get_u64(&d);
			p = get_bytes(&d, &n);
			/* status 0: progress before the answer began */
			if (d.bad || d.n || !q->sink || n > cap - streamed || status < 0 ||
			    status > 999 || (n && status < 100)) {
				rc = lost(v, "sent data outside the protocol");
				break;
			}
			streamed += n;
			if (status)
				r->status = (long)status;
			if (n && !sink_rc)
				sink_rc = q->sink(q->sink_ctx, p, n);
			if (q->progress)
				q->progress(q->progress_ctx);
			continue;
		}
		if (type != M_RESP) {
			rc = lost(v, "answered outside the protocol");
			break;
		}
		r->err = (int)(int64_t)get_u64(&d);
		r->status = (long)(int64_t)get_u64(&d);
		r->retry_after = (long)(int64_t)get_u64(&d);
		r->tls_failed = get_u64(&d) != 0;
		copy(r->content_type, sizeof(r->content_type), get_str(&d));
		copy(r->etag, sizeof(r->etag), get_str(&d));
		copy(r->last_modified, sizeof(r->last_modified), get_str(&d));
		copy(r->warning, sizeof(r->warning), get_str(&d));
		copy(r->error, sizeof(r->error), get_str(&d));
		p = get_bytes(&d, &n);
		if (d.bad || d.n || !rc_valid(r->err) || r->status < 0 || r->status > 999 ||
		    r->retry_after < -1 || buf_add(&r->body, p, n)) {
			buf_reset(&r->body);
			rc = lost(v, "answered outside the protocol");
			break;
		}
		if (sink_rc && !r->err) {
			r->err = sink_rc;
			copy(r->error, sizeof(r->error), err_str(sink_rc));
		}
		rc = r->err;
		break;
	}
	if (rc && !r->err) {
		r->err = rc;
		r->status = 0;
		copy(r->error, sizeof(r->error), "the verifier process failed");
	}
	buf_free(&m);
	buf_free(&in);
	return rc;
}

int verifier_pointer(struct verifier *v, const struct verifier_root *root, const char *name,
		     const char *data, size_t len, const char *sig, size_t siglen,
		     const struct verify_ctx *ctx)
{
	struct buf m = BUF_INIT(VERIFIER_FRAME_MAX);
	int rc;

	put_ctx(&m, root, name, ctx);
	put_bytes(&m, data, len);
	put_bytes(&m, sig, siglen);
	rc = request(v, M_POINTER, &m);
	if (!rc) {
		buf_reset(&m);
		rc = result(v, &m, QUIET_MS);
	}
	buf_free(&m);
	return rc;
}

int verifier_bundle(struct verifier *v, const struct verifier_root *root, read_fn read,
		    void *rctx, const char *name, uint64_t max, const struct verify_ctx *vctx,
		    const unsigned char sha256[SHA256_LEN], int64_t size)
{
	struct buf m = BUF_INIT(VERIFIER_FRAME_MAX);
	unsigned char *chunk = NULL;
	int rc, rrc = 0;

	put_ctx(&m, root, name, vctx);
	put_u64(&m, max);
	put_bytes(&m, sha256, SHA256_LEN);
	put_u64(&m, (uint64_t)size);
	rc = request(v, M_BUNDLE, &m);
	if (!rc && !(chunk = mem_alloc(1, CHUNK)))
		rrc = E_NOMEM;
	while (!rc && !rrc) {
		int n = read(rctx, chunk, CHUNK);

		if (n <= 0) {
			rrc = n;
			break;
		}
		if (frame_send(v->fd, M_DATA, chunk, (size_t)n))
			rc = lost(v, "stopped reading the bundle");
	}
	if (!rc && frame_send(v->fd, M_END, NULL, 0))
		rc = lost(v, "stopped reading the bundle");
	if (!rc) {
		buf_reset(&m);
		rc = result(v, &m, QUIET_MS);
	}
	mem_free(chunk);
	buf_free(&m);
	return rrc ? rrc : rc;
}

/* --- the child's side ---------------------------------------------------------------- */

struct child {
	int fd;
	const char *mode;       /* ENV_TEST */
	struct http_response *r;
	time_t said;            /* the last progress frame */
	unsigned char *copy;    /* a chunk to tamper with (lie-bundle) */
};

static int say(int fd, int rc)
{
	struct buf m = BUF_INIT(16);
	int s;

	put_u64(&m, (uint64_t)(int64_t)rc);
	s = frame_send(fd, M_RESULT, m.data, m.len);
	buf_free(&m);
	return s;
}

static int data_frame(struct child *c, const void *p, size_t n)
{
	struct buf m = BUF_INIT(CHUNK + 64);
	int rc;

	put_u64(&m, (uint64_t)c->r->status);
	put_bytes(&m, p, n);
	rc = buf_error(&m) ? E_LIMIT : frame_send(c->fd, M_DATA, m.data, m.len);
	buf_free(&m);
	c->said = time(NULL);
	return rc;
}

static int child_sink(void *ctx, const void *data, size_t len)
{
	struct child *c = ctx;
	const unsigned char *p = data;
	int rc = 0;

	while (len && !rc) {
		size_t n = len > CHUNK ? CHUNK : len;

		if (c->copy) {          /* a lying child: one byte changed */
			memcpy(c->copy, p, n);
			c->copy[0] ^= 0x20;
			rc = data_frame(c, c->copy, n);
		} else {
			rc = data_frame(c, p, n);
		}
		p += n;
		len -= n;
	}
	return rc;
}

static void child_progress(void *ctx)
{
	struct child *c = ctx;

	if (time(NULL) != c->said)
		data_frame(c, NULL, 0);
}

static int child_http(struct child *c, struct rd *d, verifier_http_fn http, void *ctx)
{
	const char *headers[HEADERS_MAX + 1] = { NULL };
	struct http_request q = { 0 };
	struct http_response r;
	struct buf m = BUF_INIT(VERIFIER_FRAME_MAX);
	uint64_t nh, flags;
	size_t n;
	int rc;

	q.method = get_str(d);
	q.url = get_str(d);
	q.content_type = get_str(d);
	q.accept = get_str(d);
	nh = get_u64(d);
	for (uint64_t i = 0; i < nh && i < HEADERS_MAX; i++)
		headers[i] = get_str(d);
	q.headers = headers;
	q.body = get_bytes(d, &n);
	q.body_len = n;
	if (!n)
		q.body = NULL;
	q.max_body = (size_t)get_u64(d);
	q.timeout_ms = (long)(int64_t)get_u64(d);
	flags = get_u64(d);
	if (d->bad || nh > HEADERS_MAX || !q.url)
		return E_INTERNAL;
	c->r = &r;
	c->said = 0;
	if (flags & 1) {
		q.sink = child_sink;
		q.sink_ctx = c;
	}
	if (flags & 2) {
		q.progress = child_progress;
		q.progress_ctx = c;
	}
	c->copy = c->mode && strcmp(c->mode, "lie-bundle") == 0 ? mem_alloc(1, CHUNK) : NULL;
	rc = http(ctx, &q, &r);
	mem_free(c->copy);
	c->copy = NULL;
	if (c->mode && strcmp(c->mode, "lie-pointer") == 0 && r.body.len &&
	    strlen(q.url) > 12 && strcmp(q.url + strlen(q.url) - 12, "release.yaml") == 0)
		r.body.data[0] ^= 0x20;
	put_u64(&m, (uint64_t)(int64_t)rc);
	put_u64(&m, (uint64_t)(int64_t)r.status);
	put_u64(&m, (uint64_t)(int64_t)r.retry_after);
	put_u64(&m, (uint64_t)r.tls_failed);
	put_str(&m, r.content_type);
	put_str(&m, r.etag);
	put_str(&m, r.last_modified);
	put_str(&m, r.warning);
	put_str(&m, r.error);
	/* an error page of a big download is cut to what a frame holds */
	n = r.body.len < VERIFIER_FRAME_MAX - 4096 ? r.body.len : VERIFIER_FRAME_MAX - 4096;
	put_bytes(&m, r.body.data, n);
	rc = buf_error(&m) ? E_LIMIT : frame_send(c->fd, M_RESP, m.data, m.len);
	http_response_free(&r);
	buf_free(&m);
	return rc;
}

/* The trust root and context of a check; *t is the caller's. */
static int child_ctx(struct rd *d, struct trust **t, const char **name, struct verify_ctx *vc)
{
	size_t rl, sl;
	const char *root = get_bytes(d, &rl), *sig = get_bytes(d, &sl);
	int rc;

	*t = NULL;
	*name = get_str(d);
	vc->now = (int64_t)get_u64(d);
	vc->min_sequence = (int64_t)get_u64(d);
	vc->app = get_str(d);
	vc->max_created = (int64_t)get_u64(d);
	if (d->bad || !*name)
		return E_INTERNAL;
	rc = trust_parse("trust root", root, rl, t);
	if (!rc)
		rc = trust_check(*t, ROLE_ROOT, "trust root", root, rl, sig, sl);
	return rc;
}

static int child_pointer(struct child *c, struct rd *d)
{
	struct pointer *p = mem_zalloc(1, sizeof(*p));
	struct verify_ctx vc;
	struct trust *t;
	const char *name, *data, *sig;
	size_t len, siglen;
	int rc = child_ctx(d, &t, &name, &vc);

	data = get_bytes(d, &len);
	sig = get_bytes(d, &siglen);
	if (!rc && d->bad)
		rc = E_INTERNAL;
	if (!rc && !p)
		rc = E_NOMEM;
	if (!rc && !c->mode)
		rc = pointer_verify(t, name, data, len, sig, siglen, &vc, p);
	trust_free(t);
	mem_free(p);
	return say(c->fd, rc);
}

/* The bundle's bytes as the parent sends them, hashed and counted. */
struct stream {
	int fd, ended, broken;
	struct buf frame;
	size_t pos;
	struct sha256 h;
	int64_t n;
};

static int stream_read(void *ctx, void *dst, size_t len)
{
	struct stream *s = ctx;
	uint32_t type = 0;

	while (s->pos == s->frame.len) {
		if (s->ended)
			return 0;
		s->pos = 0;
		if (frame_recv(s->fd, &type, &s->frame, -1) || (type != M_DATA && type != M_END)) {
			s->broken = 1;
			buf_reset(&s->frame);
			return E_INTERNAL;
		}
		s->ended = type == M_END;
		sha256_update(&s->h, s->frame.data, s->frame.len);
		s->n += (int64_t)s->frame.len;
	}
	if (len > s->frame.len - s->pos)
		len = s->frame.len - s->pos;
	if (len > (size_t)1 << 30)
		len = (size_t)1 << 30;
	memcpy(dst, s->frame.data + s->pos, len);
	s->pos += len;
	return (int)len;
}

static int child_bundle(struct child *c, struct rd *d)
{
	struct stream s = { .fd = c->fd, .frame = BUF_INIT(VERIFIER_FRAME_MAX) };
	unsigned char want[SHA256_LEN], got[SHA256_LEN];
	struct bundle *b = NULL;
	struct verify_ctx vc;
	struct trust *t;
	const char *name;
	const void *sha;
	size_t shalen;
	uint64_t max;
	int64_t size;
	int rc = child_ctx(d, &t, &name, &vc);

	max = get_u64(d);
	sha = get_bytes(d, &shalen);
	size = (int64_t)get_u64(d);
	if (!rc && (d->bad || shalen != SHA256_LEN))
		rc = E_INTERNAL;
	if (shalen == SHA256_LEN)
		memcpy(want, sha, SHA256_LEN);
	sha256_init(&s.h);
	if (!rc && !c->mode)
		rc = bundle_read(stream_read, &s, name, max, t, &vc, &b);
	while (!s.ended && !s.broken) {          /* the rest, to its end */
		s.pos = s.frame.len;
		stream_read(&s, got, 1);
	}
	sha256_final(&s.h, got);
	if (!rc && !c->mode && s.n != size)
		rc = error(E_TRUNCATED, "%s: %lld bytes of %lld", name, (long long)s.n,
			   (long long)size);
	if (!rc && !c->mode && memcmp(got, want, SHA256_LEN) != 0)
		rc = error(E_DIGEST, "%s: the content does not match the release pointer's "
			   "sha256: refused", name);
	bundle_free(b);
	trust_free(t);
	buf_free(&s.frame);
	return s.broken ? E_INTERNAL : say(c->fd, rc);
}

/* Tests: what the sandbox lets this process open. */
static void probe(void)
{
	const char *list = getenv(ENV_PROBE);
	char path[4096];

	while (list && *list) {
		size_t n = strcspn(list, ",");
		int r, w;
		char rd[128], wr[128];

		snprintf(path, sizeof(path), "%.*s", (int)n, list);
		list += n + (list[n] == ',');
		r = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(rd, sizeof(rd), "%s", r < 0 ? strerror(errno) : "allowed");
		w = open(path, O_RDWR | O_CLOEXEC);
		snprintf(wr, sizeof(wr), "%s", w < 0 ? strerror(errno) : "allowed");
		log_warn("verifier probe (%s, for tests only): %s: read: %s; write: %s", ENV_PROBE,
			 path, rd, wr);
		if (r >= 0)
			close(r);
		if (w >= 0)
			close(w);
	}
}

int verifier_serve(const char *const *readable, verifier_http_fn http, void *ctx)
{
	struct buf in = BUF_INIT(VERIFIER_FRAME_MAX);
	struct child c = { .fd = CHILD_FD, .mode = getenv(ENV_TEST) };
	int type_ok = 0, abi = 0, rc;
	socklen_t tl = sizeof(type_ok);

	if (getsockopt(CHILD_FD, SOL_SOCKET, SO_TYPE, &type_ok, &tl) || type_ok != SOCK_STREAM) {
		error(E_USAGE, "%s: started by outpost itself, not by hand", VERIFIER_COMMAND);
		return 2;
	}
	if (c.mode && !*c.mode)
		c.mode = NULL;
	if (sandbox_enter(readable, &abi))
		return 1;
	log_debug("verifier: pid %d, uid %d, no capabilities, %s%d", (int)getpid(),
		  (int)getuid(), abi ? "Landlock ABI " : "no Landlock", abi);
	probe();
	for (;;) {
		uint32_t type = 0;
		struct rd d;

		rc = frame_recv(CHILD_FD, &type, &in, -1);
		if (rc)
			break;
		if (c.mode)
			log_warn("%s=%s: the verifier misbehaves (for tests only)", ENV_TEST, c.mode);
		if (c.mode && strcmp(c.mode, "die") == 0)
			raise(SIGKILL);
		if (c.mode && strcmp(c.mode, "garbage") == 0) {
			/* a frame that says it is 4 GiB long */
			static const unsigned char big[8] = { 0, 0, 0, M_RESULT, 0xff, 0xff, 0xff, 0xff };

			send_all(CHILD_FD, big, sizeof(big));
		}
		d = (struct rd){ (const unsigned char *)in.data, in.len, 0 };
		rc = type == M_HTTP ? child_http(&c, &d, http, ctx) :
		     type == M_POINTER ? child_pointer(&c, &d) :
		     type == M_BUNDLE ? child_bundle(&c, &d) : E_INTERNAL;
		if (rc)
			break;
	}
	buf_free(&in);
	return rc == 1 ? 0 : 1;
}

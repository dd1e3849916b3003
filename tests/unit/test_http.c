/* Unit tests: platform/http against a tiny plain-HTTP server on loopback
 * (a forked child): status and selected headers, the body cap, "could not
 * reach" kept apart from "answered with an error", and batches. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "http.h"
#include "tap.h"

static int port;
static pid_t child;

/* Answer each request by its path: /big (1 MiB body), /err (503), else 200. */
static void serve(int ls)
{
	static char big[1 << 20];

	memset(big, 'x', sizeof(big));
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int c = accept(ls, NULL, NULL);
		char req[4096], head[512];
		ssize_t n;

		if (c < 0)
			continue;
		/* one request per connection, so that parallel clients never
		 * wait behind an idle keep-alive connection */
		if ((n = read(c, req, sizeof(req) - 1)) > 0) {
			const char *body = "hello";
			size_t blen = 5;
			int hl;

			req[n] = '\0';
			if (strncmp(req, "GET /big", 8) == 0) {
				body = big;
				blen = sizeof(big);
			}
			if (strncmp(req, "GET /slow", 9) == 0) {
				/* 10 x 100 bytes, 250 ms apart */
				hl = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nConnection: close\r\n"
					      "Content-Length: 1000\r\n\r\n");
				for (int i = 0; i < 10 && write(c, i ? big : head, i ? 100 : (size_t)hl) > 0; i++)
					usleep(250000);
				if (write(c, big, 100) < 0)
					hl = 0;
				close(c);
				continue;
			}
			if (strncmp(req, "GET /cut", 8) == 0) {
				/* promises 100000 bytes, sends 1000 and hangs up */
				hl = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nConnection: close\r\n"
					      "Content-Length: 100000\r\n\r\n");
				if (write(c, head, (size_t)hl) == hl && write(c, big, 1000) < 0)
					hl = 0;
				close(c);
				continue;
			}
			if (strncmp(req, "GET /err", 8) == 0)
				hl = snprintf(head, sizeof(head), "HTTP/1.1 503 Unavailable\r\nConnection: close\r\n"
					      "Retry-After: 7\r\nContent-Length: 4\r\n\r\nbusy");
			else
				hl = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nConnection: close\r\n"
					      "Content-Type: text/plain\r\nETag: \"v1\"\r\n"
					      "Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
					      "Content-Length: %zu\r\n\r\n", blen);
			if (write(c, head, (size_t)hl) == hl && strncmp(req, "GET /err", 8) != 0 &&
			    write(c, body, blen) < 0)
				hl = 0;
		}
		close(c);
	}
}

static int start_server(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 16) ||
	    getsockname(ls, (struct sockaddr *)&a, &len))
		return -1;
	port = ntohs(a.sin_port);
	child = fork();
	if (child == 0) {
		serve(ls);
		_exit(0);
	}
	close(ls);
	return child > 0 ? 0 : -1;
}

static void count_progress(void *ctx)
{
	(*(int *)ctx)++;
}

int main(void)
{
	int progress = 0;
	struct http_client *c;
	struct http_opts o = { .max_body = 4096, .connect_timeout_ms = 2000 };
	struct http_response r;
	struct http_request q = { 0 };
	char url[128], urls[8][128];
	struct http_request qs[8];
	struct http_response rs[8];

	check_int(start_server(), ==, 0);
	check_int(http_client_new(&c, &o), ==, 0);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", port);
	q.url = url;
	check_int(http_do(c, &q, &r), ==, 0);
	check_int(r.status, ==, 200);
	check_str(r.body.data, "hello");
	check_str(r.content_type, "text/plain");
	check_str(r.etag, "\"v1\"");
	check_str(r.last_modified, "Wed, 21 Oct 2015 07:28:00 GMT");
	check_int(r.retry_after, ==, -1);
	http_response_free(&r);

	/* an error status is an answer: err 0, the status and Retry-After */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/err", port);
	check_int(http_do(c, &q, &r), ==, 0);
	check_int(r.status, ==, 503);
	check_int(r.retry_after, ==, 7);
	http_response_free(&r);

	/* a body past the cap aborts the transfer: nothing beyond it is kept */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", port);
	check_int(http_do(c, &q, &r), ==, E_LIMIT);
	/* what is kept is the start of the answer, never past the cap */
	check_int(r.body.max, ==, 4096);
	check_int(strspn(r.body.data, "x"), ==, r.body.len);
	check(strstr(r.error, "larger than 4096") != NULL);
	http_response_free(&r);
	q.max_body = 2u << 20;      /* a request may raise it */
	check_int(http_do(c, &q, &r), ==, 0);
	check_int(r.body.len, ==, 1 << 20);
	http_response_free(&r);
	q.max_body = 0;

	/* no protocol but HTTP(S) */
	snprintf(url, sizeof(url), "file:///etc/passwd");
	check_int(http_do(c, &q, &r), ==, E_CONFIG);
	http_response_free(&r);

	/* a batch: every request answered, in its own slot */
	for (int i = 0; i < 8; i++) {
		snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%d/%s", port,
			 i == 3 ? "err" : "ok");
		memset(&qs[i], 0, sizeof(qs[i]));
		qs[i].url = urls[i];
	}
	check_int(http_batch(c, qs, rs, 8, 3, NULL, NULL), ==, 0);
	for (int i = 0; i < 8; i++) {
		check_int(rs[i].status, ==, i == 3 ? 503 : 200);
		http_response_free(&rs[i]);
	}

	/* a transfer cut short: could not reach, and says what happened (not
	 * curl's bare "Error", all a build without verbose strings has) */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cut", port);
	q.max_body = 2u << 20;
	check_int(http_do(c, &q, &r), ==, E_NETWORK);
	tap_diag("cut: %s", r.error);
	check(strstr(r.error, "cut") != NULL);
	check(strstr(r.error, "99000 bytes") != NULL);
	check(strncmp(r.error, "Error", 5) != 0 && strstr(r.error, ": Error") == NULL);
	http_response_free(&r);
	q.max_body = 0;

	/* the progress callback runs while a slow transfer goes on */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/slow", port);
	q.progress = count_progress;
	q.progress_ctx = &progress;
	check_int(http_do(c, &q, &r), ==, 0);
	check_int(r.body.len, ==, 1000);
	tap_diag("progress: %d calls in a 2.5 s transfer", progress);
	check_int(progress, >=, 3);
	http_response_free(&r);
	q.progress = NULL;

	/* the overall bound: bytes at the floor (1 B/s by default) + 30 s of
	 * low-speed grace + the 2 s connect timeout, rounded up */
	check_int(http_transfer_bound_ms(c, 1000), ==, (1000 + 1 + 30 + 2 + 1) * 1000L);
	check_int(http_transfer_bound_ms(c, (uint64_t)1 << 40), ==, HTTP_BOUND_MAX_MS);

	/* one connection, and a request in the middle that cannot be set up:
	 * it fails alone, the ones after it still run */
	for (int i = 0; i < 3; i++) {
		static const char *const bad[] = { "X-Split: a\r\nInjected: b", NULL };

		snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%d/ok", port);
		memset(&qs[i], 0, sizeof(qs[i]));
		qs[i].url = urls[i];
		qs[i].headers = i == 1 ? bad : NULL;
	}
	check_int(http_batch(c, qs, rs, 3, 1, NULL, NULL), ==, E_CONFIG);
	check_int(rs[0].status, ==, 200);
	check_int(rs[1].err, ==, E_CONFIG);
	check_int(rs[2].err, ==, 0);
	check_int(rs[2].status, ==, 200);
	for (int i = 0; i < 3; i++)
		http_response_free(&rs[i]);

	/* nothing listening: could not reach, with the system's reason */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", port);
	check_int(http_do(c, &q, &r), ==, E_NETWORK);
	check_int(r.status, ==, 0);
	tap_diag("refused: %s", r.error);
	check(strstr(r.error, "connect") != NULL);
	check(strstr(r.error, "Connection refused") != NULL);
	check(strncmp(r.error, "Error", 5) != 0 && strstr(r.error, ": Error") == NULL);
	http_response_free(&r);

	http_client_free(c);
	return tap_done();
}

/* sdnotify — the sd_notify protocol over a unix datagram socket. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "sdnotify.h"

#define STATUS_MAX 255

static int warned;              /* a failure is logged once per process */
static uint64_t last_ping_us;   /* CLOCK_MONOTONIC; 0 = never pinged */

/* Log the first failure only, at warn level: the agent works on without
 * the service manager, which will act on the missing pings if it cares. */
static int failed(int e, const char *socket_name, const char *why)
{
	if (!warned) {
		warned = 1;
		log_warn("NOTIFY_SOCKET %s: %s", socket_name, why);
	}
	return e;
}

int sdnotify_send(const char *msg)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t n, len = strlen(msg);
	socklen_t salen;
	ssize_t sent;
	int fd;

	if (!name || !*name)
		return 0;
	n = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || n < 2)
		return failed(E_CONFIG, name,
			      "not an absolute path or an @abstract name");
	/* a path needs its NUL inside sun_path; an abstract name does not */
	if (n > sizeof(sa.sun_path) - (name[0] == '/'))
		return failed(E_CONFIG, name,
			      "too long for a unix socket address");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return failed(E_IO, name, strerror(errno));
	/* never wait for a service manager whose queue is full: a lost
	 * message is better than a daemon stuck in sendto() */
	do
		sent = sendto(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT,
			      (const struct sockaddr *)&sa, salen);
	while (sent < 0 && errno == EINTR);
	if (sent < 0) {
		int e = errno;

		close(fd);
		return failed(E_IO, name, e == EAGAIN ? "the service manager's queue is full: "
			      "message dropped" : strerror(e));
	}
	close(fd);
	return (size_t)sent == len ? 0 : failed(E_IO, name, "message truncated");
}

int sdnotify_ready(void)
{
	return sdnotify_send("READY=1");
}

int sdnotify_reloading(void)
{
	return sdnotify_send("RELOADING=1");
}

int sdnotify_stopping(void)
{
	return sdnotify_send("STOPPING=1");
}

int sdnotify_status(const char *fmt, ...)
{
	char msg[sizeof("STATUS=") + STATUS_MAX];
	va_list ap;

	if (!getenv("NOTIFY_SOCKET"))
		return 0;
	memcpy(msg, "STATUS=", 7);
	va_start(ap, fmt);
	vsnprintf(msg + 7, sizeof(msg) - 7, fmt, ap);
	va_end(ap);
	/* one line of text: a newline would start a message of its own */
	for (unsigned char *p = (unsigned char *)msg + 7; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return sdnotify_send(msg);
}

int sdnotify_parse_usec(const char *s, uint64_t *usec)
{
	uint64_t v = 0;

	if (!s || !*s)
		return E_FORMAT;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return E_FORMAT;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return E_FORMAT;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (!v)
		return E_FORMAT;
	*usec = v;
	return 0;
}

uint64_t sdnotify_watchdog_usec(void)
{
	const char *pid = getenv("WATCHDOG_PID");
	const char *name = getenv("NOTIFY_SOCKET");
	uint64_t usec, p;

	if (!name || !*name || sdnotify_parse_usec(getenv("WATCHDOG_USEC"), &usec))
		return 0;
	/* the watchdog is for the main process, not for a child that
	 * inherited the environment */
	if (pid && (sdnotify_parse_usec(pid, &p) || p != (uint64_t)getpid()))
		return 0;
	return usec;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int sdnotify_watchdog(void)
{
	uint64_t usec = sdnotify_watchdog_usec(), now;
	int rc;

	if (!usec)
		return 0;
	now = now_us();
	if (last_ping_us && now - last_ping_us < usec / 2)
		return 0;
	rc = sdnotify_send("WATCHDOG=1");
	if (!rc)
		last_ping_us = now;
	return rc;
}

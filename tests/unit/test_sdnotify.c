/* Unit tests: platform/sdnotify, against a unix datagram socket we bind. */
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "sdnotify.h"
#include "tap.h"

static char dir[] = "/tmp/outpost-sdnotify-XXXXXX";
static char path[128];

/* A datagram socket bound at name ("/path" or "@abstract"); -1 on failure. */
static int listen_at(const char *name)
{
	struct sockaddr_un sa;
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || n >= sizeof(sa.sun_path))
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'))) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The next queued datagram as a string, or "" when none is waiting. A
 * unix datagram is queued by the time sendto() returns, so no waiting. */
static const char *next_msg(int fd)
{
	static char msg[1024];
	ssize_t n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);

	msg[n > 0 ? n : 0] = '\0';
	return msg;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void test_unset_is_a_noop(int fd)
{
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "1000000", 1);
	check_int(sdnotify_ready(), ==, 0);
	check_int(sdnotify_status("idle"), ==, 0);
	check_int(sdnotify_stopping(), ==, 0);
	check_int(sdnotify_watchdog_usec(), ==, 0);
	check_int(sdnotify_watchdog(), ==, 0);
	check_str(next_msg(fd), "");
	/* an empty NOTIFY_SOCKET is unset too */
	setenv("NOTIFY_SOCKET", "", 1);
	check_int(sdnotify_ready(), ==, 0);
	check_str(next_msg(fd), "");
	unsetenv("WATCHDOG_USEC");
}

static void test_messages(int fd)
{
	int before;

	setenv("NOTIFY_SOCKET", path, 1);
	check_int(sdnotify_ready(), ==, 0);
	check_str(next_msg(fd), "READY=1");
	check_int(sdnotify_reloading(), ==, 0);
	check_str(next_msg(fd), "RELOADING=1");
	check_int(sdnotify_stopping(), ==, 0);
	check_str(next_msg(fd), "STOPPING=1");
	check_int(sdnotify_send("STATUS=x\nREADY=1"), ==, 0);
	check_str(next_msg(fd), "STATUS=x\nREADY=1");
	check_int(sdnotify_status("%d apps, %s", 2, "all healthy"), ==, 0);
	check_str(next_msg(fd), "STATUS=2 apps, all healthy");
	check_str(next_msg(fd), "");

	/* each message is its own socket, closed again */
	before = open_fds();
	for (int i = 0; i < 50; i++) {
		sdnotify_ready();
		next_msg(fd);
	}
	check_int(open_fds(), ==, before);
}

/* A listener that reads nothing: its queue fills, and the sender must
 * neither block nor lose its way (the watchdog ping is not worth a hang). */
static void test_full_queue(int fd)
{
	int rc = 0, i;

	setenv("NOTIFY_SOCKET", path, 1);
	for (i = 0; i < 10000 && !rc; i++)
		rc = sdnotify_ready();
	check_int(rc, ==, E_IO);
	check(i > 1);
	while (*next_msg(fd))
		;
	check_int(sdnotify_ready(), ==, 0);
	check_str(next_msg(fd), "READY=1");
}

static void test_status_is_one_line(int fd)
{
	char big[600];
	const char *m;

	setenv("NOTIFY_SOCKET", path, 1);
	/* a newline in the text must not smuggle in a message of its own */
	check_int(sdnotify_status("web: %s", "bad\nMAINPID=1\r\tx"), ==, 0);
	check_str(next_msg(fd), "STATUS=web: bad MAINPID=1  x");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	check_int(sdnotify_status("%s", big), ==, 0);
	m = next_msg(fd);
	check_int(strlen(m), ==, strlen("STATUS=") + 255);
	check(strncmp(m, "STATUS=aaaa", 11) == 0);
}

static void test_abstract(void)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@outpost-test-sdnotify-%ld", (long)getpid());
	fd = listen_at(name);
	check(fd >= 0);
	setenv("NOTIFY_SOCKET", name, 1);
	check_int(sdnotify_ready(), ==, 0);
	check_str(next_msg(fd), "READY=1");
	close(fd);
}

static void test_bad_socket(void)
{
	char p[256];

	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	check_int(sdnotify_ready(), ==, E_CONFIG);
	setenv("NOTIFY_SOCKET", "@", 1);
	check_int(sdnotify_ready(), ==, E_CONFIG);
	memset(p, 'x', sizeof(p) - 1);
	p[0] = '/';
	p[sizeof(p) - 1] = '\0';
	setenv("NOTIFY_SOCKET", p, 1);
	check_int(sdnotify_ready(), ==, E_CONFIG);
	snprintf(p, sizeof(p), "%s/nobody-listens", dir);
	setenv("NOTIFY_SOCKET", p, 1);
	check_int(sdnotify_ready(), ==, E_IO);
	/* vsock: is systemd 254's; not supported here */
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	check_int(sdnotify_ready(), ==, E_CONFIG);
}

static void test_parse_usec(void)
{
	uint64_t u = 7;

	check_int(sdnotify_parse_usec("30000000", &u), ==, 0);
	check_int(u, ==, 30000000);
	check_int(sdnotify_parse_usec("18446744073709551615", &u), ==, 0);
	check(u == UINT64_MAX);
	u = 7;
	check_int(sdnotify_parse_usec("18446744073709551616", &u), ==, E_FORMAT);
	check_int(sdnotify_parse_usec("0", &u), ==, E_FORMAT);
	check_int(sdnotify_parse_usec("", &u), ==, E_FORMAT);
	check_int(sdnotify_parse_usec(NULL, &u), ==, E_FORMAT);
	check_int(sdnotify_parse_usec("-1", &u), ==, E_FORMAT);
	check_int(sdnotify_parse_usec(" 5", &u), ==, E_FORMAT);
	check_int(sdnotify_parse_usec("5s", &u), ==, E_FORMAT);
	check_int(u, ==, 7);
}

static void test_watchdog_usec(void)
{
	char pid[32];

	setenv("NOTIFY_SOCKET", path, 1);
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	check_int(sdnotify_watchdog_usec(), ==, 0);
	setenv("WATCHDOG_USEC", "20000000", 1);
	check_int(sdnotify_watchdog_usec(), ==, 20000000);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	check_int(sdnotify_watchdog_usec(), ==, 20000000);
	/* meant for another process (we inherited the environment) */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	check_int(sdnotify_watchdog_usec(), ==, 0);
	setenv("WATCHDOG_PID", "abc", 1);
	check_int(sdnotify_watchdog_usec(), ==, 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "20s", 1);
	check_int(sdnotify_watchdog_usec(), ==, 0);
	unsetenv("WATCHDOG_USEC");
}

static void test_watchdog_pings(int fd)
{
	setenv("NOTIFY_SOCKET", path, 1);
	unsetenv("WATCHDOG_USEC");
	check_int(sdnotify_watchdog(), ==, 0);
	check_str(next_msg(fd), "");

	/* 400 ms: a ping at most every 200 ms */
	setenv("WATCHDOG_USEC", "400000", 1);
	check_int(sdnotify_watchdog(), ==, 0);
	check_str(next_msg(fd), "WATCHDOG=1");
	check_int(sdnotify_watchdog(), ==, 0);
	check_str(next_msg(fd), "");
	sleep_ms(50);
	check_int(sdnotify_watchdog(), ==, 0);
	check_str(next_msg(fd), "");
	sleep_ms(200);
	check_int(sdnotify_watchdog(), ==, 0);
	check_str(next_msg(fd), "WATCHDOG=1");
	check_int(sdnotify_watchdog(), ==, 0);
	check_str(next_msg(fd), "");
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	int fd;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_at(path);
	check(fd >= 0);
	if (fd >= 0) {
		test_unset_is_a_noop(fd);
		test_messages(fd);
		test_status_is_one_line(fd);
		test_full_queue(fd);
		test_watchdog_usec();
		test_watchdog_pings(fd);
		close(fd);
	}
	test_abstract();
	test_parse_usec();
	test_bad_socket();
	unlink(path);
	rmdir(dir);
	return tap_done();
}

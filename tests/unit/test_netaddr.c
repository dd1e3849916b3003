/* test_netaddr — the host of a probe URL, and which hosts are this node. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "netaddr.h"
#include "tap.h"

static void test_url_host(void)
{
	static const struct {
		const char *url, *host;
	} good[] = {
		{ "http://127.0.0.1:8080/healthz", "127.0.0.1" },
		{ "https://localhost/", "localhost" },
		{ "http://[::1]:9000/x", "::1" },
		{ "HTTP://Example.com?q", "Example.com" },
		{ "http://h#frag", "h" },
	};
	static const char *const bad[] = {
		"ftp://h/", "file:///etc/passwd", "http://", "http:///x", "http://u:p@h/",
		"http://user@127.0.0.1/", "http://[::1/", "h/x", "",
	};
	char host[64], tiny[4];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		check_int(netaddr_url_host(good[i].url, host, sizeof(host)), ==, 0);
		check_str(host, good[i].host);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_int(netaddr_url_host(bad[i], host, sizeof(host)), ==, E_FORMAT);
	check_int(netaddr_url_host("http://abcd/", tiny, sizeof(tiny)), ==, E_FORMAT);
	check_int(netaddr_url_host("http://abc/", tiny, sizeof(tiny)), ==, 0);
}

static void test_is_local(void)
{
	struct ifaddrs *list = NULL;
	char text[INET6_ADDRSTRLEN];
	int own = 0;

	check_int(netaddr_is_local("localhost"), ==, 1);
	check_int(netaddr_is_local("LocalHost"), ==, 1);
	check_int(netaddr_is_local("127.0.0.1"), ==, 1);
	check_int(netaddr_is_local("127.255.0.9"), ==, 1);
	check_int(netaddr_is_local("::1"), ==, 1);
	check_int(netaddr_is_local("0:0:0:0:0:0:0:1"), ==, 1);
	check_int(netaddr_is_local("169.254.169.254"), ==, 0);
	check_int(netaddr_is_local("192.0.2.1"), ==, 0);       /* TEST-NET-1 */
	check_int(netaddr_is_local("2001:db8::1"), ==, 0);     /* documentation */
	check_int(netaddr_is_local("example.com"), ==, 0);
	check_int(netaddr_is_local("localhost.evil.example"), ==, 0);
	check_int(netaddr_is_local("0x7f000001"), ==, 0);
	check_int(netaddr_is_local(""), ==, 0);
	/* every address of this machine's interfaces is the node's own */
	if (getifaddrs(&list) != 0)
		return;
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;
		const void *a;

		if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
			continue;
		a = sa->sa_family == AF_INET ?
		    (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr :
		    (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (!inet_ntop(sa->sa_family, a, text, sizeof(text)) || strchr(text, '%'))
			continue;
		check_int(netaddr_is_local(text), ==, 1);
		own++;
	}
	freeifaddrs(list);
	tap_diag("%d interface addresses checked", own);
}

int main(void)
{
	test_url_host();
	test_is_local();
	return tap_done();
}

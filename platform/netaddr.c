/* netaddr — loopback and this node's own addresses. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "error.h"
#include "netaddr.h"

int netaddr_url_host(const char *url, char *host, size_t cap)
{
	const char *a, *end;
	size_t n;

	if (strncasecmp(url, "http://", 7) == 0)
		a = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		a = url + 8;
	else
		return E_FORMAT;
	end = a + strcspn(a, "/?#");
	if (memchr(a, '@', (size_t)(end - a)))
		return E_FORMAT;
	if (*a == '[') {
		const char *close = memchr(a, ']', (size_t)(end - a));

		if (!close)
			return E_FORMAT;
		a++;
		n = (size_t)(close - a);
	} else {
		const char *colon = memchr(a, ':', (size_t)(end - a));

		n = (size_t)((colon ? colon : end) - a);
	}
	if (n == 0 || n >= cap)
		return E_FORMAT;
	memcpy(host, a, n);
	host[n] = '\0';
	return 0;
}

int netaddr_is_local(const char *host)
{
	struct in_addr v4;
	struct in6_addr v6;
	struct ifaddrs *list = NULL;
	int is4, is6, found = 0;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	is4 = inet_pton(AF_INET, host, &v4) == 1;
	is6 = !is4 && inet_pton(AF_INET6, host, &v6) == 1;
	if (!is4 && !is6)
		return 0;
	if (is4 && (ntohl(v4.s_addr) >> 24) == 127)
		return 1;
	if (is6 && IN6_IS_ADDR_LOOPBACK(&v6))
		return 1;
	if (getifaddrs(&list) != 0)
		return 0;
	for (const struct ifaddrs *i = list; i && !found; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;

		if (!sa)
			continue;
		if (is4 && sa->sa_family == AF_INET)
			found = memcmp(&((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				       &v4, sizeof(v4)) == 0;
		else if (is6 && sa->sa_family == AF_INET6)
			found = memcmp(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
				       &v6, sizeof(v6)) == 0;
	}
	freeifaddrs(list);
	return found;
}

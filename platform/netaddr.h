/*
 * netaddr — which hosts are this node: loopback and the addresses of its
 * own interfaces (getifaddrs). The gateway limits the health probes a
 * signed bundle may name to these, so that a bundle cannot turn the
 * gateway into a client of other hosts (a cloud metadata service at
 * 169.254.169.254, the LAN behind it).
 */
#ifndef OUTPOST_NETADDR_H
#define OUTPOST_NETADDR_H

#include <stddef.h>

/*
 * The host part of an http(s) URL (a bracketed IPv6 address without its
 * brackets), into host[cap]. 0, or E_FORMAT: not http(s)://, credentials
 * in it (user@), an empty or too long host.
 */
int netaddr_url_host(const char *url, char *host, size_t cap);

/*
 * 1 when host is "localhost", an IPv4 address in 127.0.0.0/8, ::1, or an
 * address (IPv4 or IPv6, as written or in any equal spelling) of one of
 * this node's interfaces; 0 otherwise, also for every other name (no DNS:
 * what a name resolves to is not the bundle's to decide).
 */
int netaddr_is_local(const char *host);

#endif

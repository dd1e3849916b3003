/*
 * sdnotify — tells the service manager how the daemon is doing: the
 * sd_notify(3) protocol without libsystemd. Each message is one datagram
 * of newline-separated KEY=VALUE lines sent to the unix socket that
 * NOTIFY_SOCKET names: a path ("/run/systemd/notify") or a name in the
 * abstract namespace ("@name"). The watchdog interval comes from
 * WATCHDOG_USEC (honoured only when WATCHDOG_PID is unset or this process).
 *
 * Without NOTIFY_SOCKET every call is a no-op that returns 0, so the same
 * binary runs under OpenRC, from a shell and in tests. The environment is
 * read at each call (a tiny cost next to a datagram, once a second at
 * most); the only state kept is the time of the last watchdog ping.
 * Not thread-safe: the daemon loop is the one caller.
 */
#ifndef OUTPOST_SDNOTIFY_H
#define OUTPOST_SDNOTIFY_H

#include <stdint.h>

/*
 * Send msg (e.g. "READY=1" or "STATUS=...\nREADY=1") as one datagram.
 * 0 when sent or when NOTIFY_SOCKET is unset; E_CONFIG when NOTIFY_SOCKET
 * is not an absolute path or an @name (or too long for a socket address);
 * E_IO when the socket cannot be reached. A failure is logged once per
 * process (a service manager that went away must not fill the log).
 */
int sdnotify_send(const char *msg);

/* "READY=1": start-up done (and, after "RELOADING=1", reload done). */
int sdnotify_ready(void);

/* "RELOADING=1": reloading the configuration; sdnotify_ready() ends it. */
int sdnotify_reloading(void);

/* "STOPPING=1": shutting down. */
int sdnotify_stopping(void);

/*
 * "STATUS=<text>", the line `systemctl status` shows. Line breaks and
 * other control characters become spaces, so the text can never add a
 * message of its own (e.g. a forged "MAINPID="); at most 255 characters.
 */
int sdnotify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The watchdog interval in microseconds: WATCHDOG_USEC when it is a
 * positive decimal number and WATCHDOG_PID is unset or this process's id;
 * 0 when there is no watchdog (or no NOTIFY_SOCKET to ping).
 */
uint64_t sdnotify_watchdog_usec(void);

/*
 * "WATCHDOG=1" when at least half the watchdog interval has passed since
 * the last ping (or there was none), else nothing: call it as often as is
 * convenient (every wait step, every health poll). 0 when sent, not due,
 * or without a watchdog; a negative enum err as sdnotify_send().
 */
int sdnotify_watchdog(void);

/*
 * Parse a WATCHDOG_USEC value: decimal digits only, 1 to 2^64-1. 0 and
 * *usec set when valid, E_FORMAT otherwise. Exposed for the tests.
 */
int sdnotify_parse_usec(const char *s, uint64_t *usec);

#endif

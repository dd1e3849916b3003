/*
 * log — leveled logging in logfmt on stderr:
 *   ts=2026-11-26T09:30:00Z level=error msg="bundle x: bad signature"
 * Messages are single lines; quotes, backslashes and control characters in a
 * message are escaped, so an outside string cannot forge a log line.
 */
#ifndef OUTPOST_LOG_H
#define OUTPOST_LOG_H

#include <stdarg.h>

enum log_level { LOG_OFF = -1, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above level are dropped. Default LOG_INFO; LOG_OFF drops even
 * errors (only the fuzzers use it: their inputs fail on purpose). */
void log_set_level(enum log_level level);

/* The level in force (handed on to a child process). */
enum log_level log_get_level(void);

/* The level from a config file: kept only if log_set_level() was not called. */
void log_set_default_level(enum log_level level);

/* Parse "error", "warn", "info" or "debug"; -1 when unknown. */
int log_level_parse(const char *name);

/* Include ts= in every line (off for deterministic test output). */
void log_set_timestamps(int on);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Progress of a long operation (import, once), shown only on a terminal at
 * info level or above: one line rewritten in place, cleared by the next
 * log line or by log_progress_end(). Nothing when stderr is not a TTY, so
 * logs and service journals stay clean.
 */
void log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_progress_end(void);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif

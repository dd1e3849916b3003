/* log — logfmt lines on stderr. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level max_level = LOG_INFO;
static int level_given, timestamps = 1;
static int progress_shown;      /* a progress line is on the terminal */
static const char *const names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level)
{
	max_level = level;
	level_given = 1;
}

enum log_level log_get_level(void)
{
	return max_level;
}

void log_set_default_level(enum log_level level)
{
	if (!level_given)
		max_level = level;
}

int log_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

void log_set_timestamps(int on)
{
	timestamps = on;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char msg[1024], line[2200], *o = line;
	const char *end = line + sizeof(line) - 3;

	if (level > max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (timestamps) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		o += strftime(o, 32, "ts=%Y-%m-%dT%H:%M:%SZ ", &tm);
	}
	o += snprintf(o, 32, "level=%s msg=\"", names[level]);
	for (const unsigned char *p = (const unsigned char *)msg; *p && o < end - 4; p++) {
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			o += snprintf(o, 5, "\\x%02x", *p);
		} else {
			*o++ = (char)*p;
		}
	}
	*o++ = '"';
	*o++ = '\n';
	if (progress_shown) {
		fputs("\r\033[K", stderr);    /* log lines replace the progress line */
		progress_shown = 0;
	}
	fwrite(line, 1, (size_t)(o - line), stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_progress(const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (max_level < LOG_INFO || !isatty(2))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	fprintf(stderr, "\r\033[K%s", msg);
	fflush(stderr);
	progress_shown = 1;
}

void log_progress_end(void)
{
	if (progress_shown)
		fputs("\r\033[K", stderr);
	progress_shown = 0;
}

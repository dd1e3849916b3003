/*
 * status — what `outpost status` and `outpost history` print, from the
 * state store alone (no cluster, no network): per app the current
 * (last-known-good) release, the newest one and its state, and the poll
 * schedule; the history of transitions, newest first.
 */
#ifndef OUTPOST_STATUS_H
#define OUTPOST_STATUS_H

#include <stddef.h>

struct buf;
struct config;
struct store;

/* Append the status of every app of cfg (text, or JSON when json) to out. */
struct agent;
int status_show(struct agent *a, const struct config *cfg, int json, struct buf *out);

/* Append the history of app (a name or channel of cfg; every app when
 * NULL), at most limit lines, newest first. 0 or the store's error. */
int status_history(struct store *st, const struct config *cfg, const char *app,
		   size_t limit, struct buf *out);

#endif

/*
 * roots — the chain of trust roots the server publishes (CONFIG_ROOT_WALK),
 * docs/server.md: <server>roots/<version>.root.yaml and its .sig, one file
 * per version. Each cycle the gateway asks for the version after its own
 * root; each one found is accepted only as a verified rotation of the one
 * before (agent_root_rotate()), so a gateway that missed some rotations
 * walks forward through all of them by itself. A root refused is asked
 * for again with its ETag (If-None-Match): while the server keeps it, it
 * costs a 304, and it is said once.
 *
 * Settings key: roots/refused (the ETag and version of the root refused).
 */
#ifndef OUTPOST_ROOTS_H
#define OUTPOST_ROOTS_H

#include "agent.h"
#include "config.h"
#include "features.h"

struct upstream;

/* Rotations accepted in one walk, at most: the rest waits a cycle. */
#define ROOTS_WALK_MAX 16

#ifdef CONFIG_ROOT_WALK
/*
 * Walk the published roots forward from the agent's. The number of roots
 * accepted (0 when the next version is not published: 404); E_NETWORK /
 * E_HTTP when the server could not be asked; the trust_rotate() errors
 * when what it publishes is refused; E_STORE. Logged.
 */
int roots_walk(struct agent *a, struct upstream *up, const struct config *cfg);
#else
static inline int roots_walk(struct agent *a, struct upstream *up, const struct config *cfg)
{
	(void)a, (void)up, (void)cfg;
	return 0;
}
#endif

#endif

/*
 * sandbox — give up privileges for good, as far as the kernel allows, for
 * a process that handles what came from the network (the verifier child,
 * agent/gateway/verifier.h): no new privileges ever (setuid binaries, file
 * capabilities), every capability dropped (bounding and ambient sets too),
 * and where the kernel has Landlock (Linux 5.13+) a file-system allow-list:
 * only the files named may be opened, only for reading; nothing may be
 * written, created, removed or listed anywhere. The user stays the same
 * (the files named, such as a TLS client key, may be readable by it only):
 * without Landlock a process of root's without capabilities can still
 * open root's own files.
 */
#ifndef OUTPOST_SANDBOX_H
#define OUTPOST_SANDBOX_H

/*
 * Enter the sandbox; readable: the files still to be read, NULL-ended (a
 * missing one is skipped). 0 with *landlock the Landlock ABI in force (0
 * when the kernel has none: the rest still holds); E_IO when a step failed
 * (logged): the caller must not go on then.
 */
int sandbox_enter(const char *const *readable, int *landlock);

#endif

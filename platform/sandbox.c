/* sandbox — no new privileges, no capabilities, a Landlock allow-list. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "sandbox.h"

/* Landlock's user ABI (linux/landlock.h), spelled here: the libc headers
 * of the cross toolchains do not all carry it. */
#define LL_CREATE_VERSION 1u
#define LL_RULE_PATH_BENEATH 1
#define LL_READ_FILE (1ull << 2)
#define LL_READ_DIR (1ull << 3)
#define LL_ABI1_FS ((1ull << 13) - 1)   /* execute .. make_sym */
#define LL_REFER (1ull << 13)           /* ABI 2 */
#define LL_TRUNCATE (1ull << 14)        /* ABI 3 */
#define LL_IOCTL_DEV (1ull << 15)       /* ABI 5 */

struct ll_ruleset {
	uint64_t handled_fs;
};

struct ll_path_beneath {
	uint64_t allowed;
	int32_t parent_fd;
} __attribute__((packed));

/* capset(2)'s version 3 header and data (linux/capability.h) */
struct cap_header {
	uint32_t version;
	int pid;
};

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

static int fail(const char *what)
{
	return error(E_IO, "sandbox: %s: %s", what, strerror(errno));
}

static int drop_caps(void)
{
	struct cap_header h = { 0x20080522u, 0 };
	struct cap_data d[2];

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return fail("no_new_privs");
	/* the bounding set needs CAP_SETPCAP, so it goes first; EINVAL past
	 * the kernel's last capability */
	for (int c = 0; c < 64; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL && errno != EPERM)
			return fail("dropping the capability bounding set");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return fail("clearing the ambient capabilities");
	memset(d, 0, sizeof(d));
	/* a service manager's filter may refuse capset (systemd's @privileged):
	 * then there must be nothing left to drop */
	if (syscall(SYS_capset, &h, d)) {
		struct cap_data now[2];

		if (errno != EPERM || syscall(SYS_capget, &h, now) ||
		    (now[0].effective | now[0].permitted | now[0].inheritable |
		     now[1].effective | now[1].permitted | now[1].inheritable))
			return fail("dropping the capabilities");
	}
	return 0;
}

/* Allow access under path (a file or a directory) on ruleset fd. */
static int allow(int fd, const char *path, uint64_t access)
{
	struct ll_path_beneath pb = { access, -1 };
	int rc = 0;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0)
		return 0;       /* nothing there to allow */
	if (syscall(SYS_landlock_add_rule, fd, LL_RULE_PATH_BENEATH, &pb, 0))
		rc = fail(path);
	close(pb.parent_fd);
	return rc;
}

/* The sanitizer build's runtime reads the process's own /proc files and
 * writes its reports where the tests collect them. */
static int allow_sanitizer(int fd, uint64_t handled)
{
#if defined(__SANITIZE_ADDRESS__)
	const char *logs = getenv("OUTPOST_SAN_LOGS");
	int rc = allow(fd, "/proc/self", LL_READ_FILE | LL_READ_DIR);

	if (!rc && logs && *logs)
		rc = allow(fd, logs, handled);
	return rc;
#else
	(void)fd, (void)handled;
	return 0;
#endif
}

static int landlock(const char *const *readable, int *abi_out)
{
	struct ll_ruleset rs;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_VERSION);
	int fd, rc = 0;

	*abi_out = 0;
	if (abi < 1)
		return 0;       /* not built in or disabled: the rest still holds */
	rs.handled_fs = LL_ABI1_FS | (abi >= 2 ? LL_REFER : 0) | (abi >= 3 ? LL_TRUNCATE : 0) |
			(abi >= 5 ? LL_IOCTL_DEV : 0);
	fd = (int)syscall(SYS_landlock_create_ruleset, &rs, sizeof(rs), 0);
	if (fd < 0)
		return fail("landlock ruleset");
	for (size_t i = 0; readable && readable[i] && !rc; i++)
		rc = allow(fd, readable[i], LL_READ_FILE);
	if (!rc)
		rc = allow_sanitizer(fd, rs.handled_fs);
	if (!rc && syscall(SYS_landlock_restrict_self, fd, 0))
		rc = fail("landlock");
	close(fd);
	if (!rc)
		*abi_out = (int)abi;
	return rc;
}

int sandbox_enter(const char *const *readable, int *abi)
{
	int rc = drop_caps();

	return rc ? rc : landlock(readable, abi);
}

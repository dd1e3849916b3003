/* file — bounded reads, atomic and exclusive writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "error.h"
#include "file.h"

int file_read(const char *path, size_t max, struct buf *out)
{
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	size_t start = out->len;
	char chunk[16384];
	int rc = 0;

	if (fd < 0)
		return error(errno == ENOENT ? E_NOTFOUND : E_IO, "%s: %s", path,
			     strerror(errno));
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error(E_IO, "%s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (out->len - start + (size_t)n > max) {
			rc = error(E_LIMIT, "%s: larger than %zu bytes", path, max);
			break;
		}
		rc = buf_add(out, chunk, (size_t)n);
		if (rc) {
			error(rc, "%s: %s", path, err_str(rc));
			break;
		}
	}
	if (!is_stdin)
		close(fd);
	crypto_wipe(chunk, sizeof(chunk));      /* it may have held a private key */
	if (rc)
		buf_truncate(out, start);
	return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *path)
{
	char dir[4096] = ".";
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash) {
		size_t n = slash == path ? 1 : (size_t)(slash - path);

		if (n >= sizeof(dir))
			return -1;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[4096];
	int fd;

	/* a fresh name of our own: never follows a link planted beside path */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return error(E_IO, "%s: path too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return error(E_IO, "%s: %s", tmp, strerror(errno));
	if (fchmod(fd, mode) || write_all(fd, data, len) || fsync(fd)) {
		int e = errno;

		close(fd);
		unlink(tmp);
		return error(E_IO, "%s: %s", tmp, strerror(e));
	}
	if (close(fd) || rename(tmp, path)) {
		int e = errno;

		unlink(tmp);
		return error(E_IO, "%s: %s", path, strerror(e));
	}
	if (fsync_dir(path))
		return error(E_IO, "%s: syncing its directory: %s", path, strerror(errno));
	return 0;
}

int file_create(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);

	if (fd < 0)
		return error(errno == EEXIST ? E_STATE : E_IO, "%s: %s", path,
			     errno == EEXIST ? "already exists, not overwriting" :
			     strerror(errno));
	if (write_all(fd, data, len) || fsync(fd)) {
		int e = errno;

		close(fd);
		unlink(path);
		return error(E_IO, "%s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

// SPDX-License-Identifier: MIT
/* fptd: logging, atomic file writes, the single-instance lock (fptd.h). */
#define _GNU_SOURCE
#include "fptd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static bool log_journal, log_verbose;

/* stderr is connected to journald (systemd sets $JOURNAL_STREAM). */
void fptd_log_init(bool verbose)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	log_verbose = verbose;
	log_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		      !fstat(STDERR_FILENO, &st) &&
		      (unsigned long long)st.st_dev == dev &&
		      (unsigned long long)st.st_ino == ino;
}

bool fptd_log_to_journal(void)
{
	return log_journal;
}

void fptd_log(int prio, const char *fmt, ...)
{
	static const char *const word[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info",
		"debug",
	};
	char msg[2048];
	va_list ap;

	if (prio >= LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_journal) {
		/* journald reads the <N> prefix as the priority, per line */
		char *line, *save = NULL;

		for (line = strtok_r(msg, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			fprintf(stderr, "<%d>%s\n", prio, line);
	} else {
		fprintf(stderr, "fptd: %s%s%s\n",
			prio <= LOG_WARNING ? word[prio & 7] : "",
			prio <= LOG_WARNING ? ": " : "", msg);
	}
}

double fptd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int fptd_write_atomic(const char *dir, const char *name, const char *data,
		      size_t len, unsigned int mode, bool durable)
{
	char tmp[FPTD_PATH_MAX + 300], dst[FPTD_PATH_MAX + 300];
	size_t off = 0;
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >=
	    (int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= (int)sizeof(dst))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (!ret && fchmod(fd, mode))
		ret = -errno;
	if (!ret && durable && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, dst))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	if (durable) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return 0;
}

int fptd_lock(const char *path, pid_t *owner)
{
	char buf[32];
	int fd, n;

	*owner = 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;

		n = (int)pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = 0;
			*owner = (pid_t)atoi(buf);
		}
		close(fd);
		return e == EWOULDBLOCK ? -EWOULDBLOCK : -e;
	}
	/* ours now: the file is never removed (that would race) */
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n)
		fptd_log(LOG_DEBUG, "cannot write the pid into %s: %m", path);
	return fd;
}

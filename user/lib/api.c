// SPDX-License-Identifier: GPL-2.0-only
/* Control API framing for xlbd and xlbctl: see api.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "api.h"

long long xlb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

long long xlb_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

int xlb_api_send(int fd, json_t *obj)
{
	struct timeval tv = { .tv_sec = 2 };
	char *text;
	int err, fl;

	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return -ENOMEM;
	/* Responses can be large (dump): write them blocking, bounded in time. */
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	err = send_all(fd, text, strlen(text));
	if (!err)
		err = send_all(fd, "\n", 1);
	free(text);
	return err;
}

json_t *xlb_api_ok(json_t *result)
{
	json_t *o = json_object();

	json_object_set_new(o, "ok", json_true());
	if (result)
		json_object_set_new(o, "result", result);
	return o;
}

json_t *xlb_api_error(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	json_t *o = json_object();

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One line, always. */
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	json_object_set_new(o, "ok", json_false());
	json_object_set_new(o, "error", json_string(buf));
	return o;
}

int xlb_api_call(const char *path, json_t *req, json_t **resp, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = 30 };
	struct sockaddr_un sa;
	json_error_t jerr;
	size_t len = 0, cap = 0;
	char *buf = NULL, *text = NULL;
	int fd, ret;

	*resp = NULL;
	ret = fill_addr(&sa, path);
	if (ret) {
		snprintf(err, errlen, "socket path %s too long", path);
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-ret));
		return ret;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		snprintf(err, errlen, "cannot reach xlbd at %s: %s", path, strerror(-ret));
		goto out;
	}
	text = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ret = send_all(fd, text, strlen(text));
	if (!ret)
		ret = send_all(fd, "\n", 1);
	if (ret) {
		snprintf(err, errlen, "sending to xlbd: %s", strerror(-ret));
		goto out;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		ssize_t n;

		if (cap - len < 65536) {
			char *nb = realloc(buf, cap + 65536 + 1);

			if (!nb) {
				ret = -ENOMEM;
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			buf = nb;
			cap += 65536;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "reading from xlbd: %s", strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (!len) {
		ret = -ECONNRESET;
		snprintf(err, errlen, "xlbd closed the connection without an answer");
		goto out;
	}
	buf[len] = 0;
	*resp = json_loadb(buf, len, 0, &jerr);
	if (!*resp || !json_is_object(*resp)) {
		json_decref(*resp);
		*resp = NULL;
		ret = -EPROTO;
		snprintf(err, errlen, "malformed answer from xlbd: %s", jerr.text);
		goto out;
	}
	ret = 0;
out:
	free(text);
	free(buf);
	close(fd);
	return ret;
}

int xlb_api_listen(const char *path, char *err, size_t errlen)
{
	char dirbuf[PATH_MAX];
	struct sockaddr_un sa;
	mode_t old;
	int fd, probe, ret;

	ret = fill_addr(&sa, path);
	if (ret) {
		snprintf(err, errlen, "socket path %s too long", path);
		return ret;
	}
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	if (mkdir(dirname(dirbuf), 0755) && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "mkdir %s: %s", dirbuf, strerror(-ret));
		return ret;
	}
	/* A socket a daemon answers on belongs to that daemon; a dead one is stale. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (!connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
			close(probe);
			snprintf(err, errlen, "%s: another xlbd is listening there", path);
			return -EADDRINUSE;
		}
		close(probe);
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-ret));
		return ret;
	}
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret) {
		ret = -errno;
		snprintf(err, errlen, "bind %s: %s", path, strerror(-ret));
		goto err_close;
	}
	if (chmod(path, 0600) || listen(fd, 64)) {
		ret = -errno;
		snprintf(err, errlen, "listen %s: %s", path, strerror(-ret));
		goto err_close;
	}
	return fd;
err_close:
	close(fd);
	return ret;
}

int xlb_api_peer_check(int fd, unsigned int *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return -errno;
	if (uid)
		*uid = cred.uid;
	return cred.uid == 0 ? 0 : -EPERM;
}

int xlb_api_conn__read(struct xlb_api_conn *c)
{
	for (;;) {
		char *nl;
		ssize_t n;

		if (c->cap - c->len < 4096) {
			size_t ncap = c->cap ? c->cap * 2 : 8192;
			char *nb;

			if (ncap > XLB_API_MAX_MSG + 1)
				ncap = XLB_API_MAX_MSG + 1;
			if (ncap <= c->len + 1)
				return -E2BIG;
			nb = realloc(c->buf, ncap);
			if (!nb)
				return -ENOMEM;
			c->buf = nb;
			c->cap = ncap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		if (n == 0) {
			if (!c->len)
				return -ECONNRESET;
			c->buf[c->len] = 0;
			return 1;
		}
		nl = memchr(c->buf + c->len, '\n', n);
		c->len += n;
		if (nl) {
			*nl = 0;
			c->len = nl - c->buf;
			return 1;
		}
		if (c->len >= XLB_API_MAX_MSG)
			return -E2BIG;
	}
}

void xlb_api_conn__free(struct xlb_api_conn *c)
{
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

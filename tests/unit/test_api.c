// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the control API framing (user/lib/api.c): the server-side
 * request reader fed in pieces, without a newline, empty, oversized; a
 * client call against a forked one-shot server; the socket's mode; refusing
 * to take over a socket a live server answers on; the peer check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "api.h"
#include "../lib/test.h"

static void test_reader_pieces(void)
{
	struct xlb_api_conn c = {};
	int sv[2];

	if (!ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair"))
		return;
	c.fd = sv[0];
	ASSERT_EQ(xlb_api_conn__read(&c), 0, "nothing yet");
	write(sv[1], "{\"verb\":", 8);
	ASSERT_EQ(xlb_api_conn__read(&c), 0, "half a request");
	write(sv[1], "\"list\"}\njunk", 12);
	ASSERT_EQ(xlb_api_conn__read(&c), 1, "complete at the newline");
	ASSERT_STR_EQ(c.buf, "{\"verb\":\"list\"}", "request text, newline stripped");
	ASSERT_EQ(c.len, 15, "length");
	xlb_api_conn__free(&c);
	close(sv[0]);
	close(sv[1]);
}

static void test_reader_eof(void)
{
	struct xlb_api_conn c = {};
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	c.fd = sv[0];
	write(sv[1], "{\"verb\":\"dump\"}", 15);
	shutdown(sv[1], SHUT_WR);
	ASSERT_EQ(xlb_api_conn__read(&c), 1, "EOF ends a request without newline");
	ASSERT_STR_EQ(c.buf, "{\"verb\":\"dump\"}", "text");
	xlb_api_conn__free(&c);
	close(sv[0]);
	close(sv[1]);

	memset(&c, 0, sizeof(c));
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	c.fd = sv[0];
	shutdown(sv[1], SHUT_WR);
	ASSERT_EQ(xlb_api_conn__read(&c), -ECONNRESET, "EOF without data");
	xlb_api_conn__free(&c);
	close(sv[0]);
	close(sv[1]);
}

static void test_reader_oversized(void)
{
	struct xlb_api_conn c = {};
	char chunk[65536];
	size_t sent = 0;
	int sv[2], ret = 0;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	c.fd = sv[0];
	memset(chunk, 'x', sizeof(chunk));
	/* Feed more than the limit without a newline, reading as we go. */
	while (sent < 2 * XLB_API_MAX_MSG && ret == 0) {
		ssize_t n = write(sv[1], chunk, sizeof(chunk));

		if (n > 0)
			sent += n;
		ret = xlb_api_conn__read(&c);
	}
	ASSERT_EQ(ret, -E2BIG, "over XLB_API_MAX_MSG without a newline");
	ASSERT_TRUE(c.len <= XLB_API_MAX_MSG, "buffer bounded");
	xlb_api_conn__free(&c);
	close(sv[0]);
	close(sv[1]);
}

/* A one-shot server in a child: answers one request with its verb echoed. */
static pid_t serve_once(int lfd)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	{
		struct xlb_api_conn c = {};
		json_t *req, *resp;
		int ret;

		/* The listener is non-blocking (xlbd's loop); here we wait. */
		fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) & ~O_NONBLOCK);
		/* Connections without a request (the probe of a second listen) are skipped. */
		do {
			if (c.fd > 0)
				close(c.fd);
			xlb_api_conn__free(&c);
			c.fd = accept(lfd, NULL, NULL);
			do
				ret = xlb_api_conn__read(&c);
			while (ret == 0);
		} while (ret == -ECONNRESET);
		if (ret != 1)
			_exit(1);
		req = json_loads(c.buf, 0, NULL);
		resp = xlb_api_ok(json_pack("{s:O}", "echo", json_object_get(req, "verb")));
		_exit(xlb_api_send(c.fd, resp) ? 1 : 0);
	}
}

static void test_call_round_trip(void)
{
	char dir[] = "/tmp/xlbt-api.XXXXXX", path[128], err[256] = "";
	json_t *resp = NULL;
	struct stat sb;
	int lfd, fd2, status = 0;
	pid_t pid;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/sub/xlbd.sock", dir);
	lfd = xlb_api_listen(path, err, sizeof(err));
	if (!ASSERT_TRUE(lfd >= 0, err))
		return;
	ASSERT_OK(stat(path, &sb), "socket exists");
	ASSERT_EQ(sb.st_mode & 0777, 0600, "socket mode 0600");
	/* A live server keeps its socket. */
	fd2 = xlb_api_listen(path, err, sizeof(err));
	ASSERT_EQ(fd2, -EADDRINUSE, "second daemon refused");
	ASSERT_TRUE(strstr(err, "another xlbd") != NULL, err);

	pid = serve_once(lfd);
	ASSERT_OK(xlb_api_call(path, json_pack("{s:s}", "verb", "ping"), &resp, err, sizeof(err)),
		  err);
	waitpid(pid, &status, 0);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server side ok");
	ASSERT_TRUE(json_is_true(json_object_get(resp, "ok")), "ok");
	ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(resp, "result"), "echo")),
		      "ping", "echoed verb");
	json_decref(resp);

	/* A stale socket (no server) is replaced. */
	close(lfd);
	lfd = xlb_api_listen(path, err, sizeof(err));
	ASSERT_TRUE(lfd >= 0, "stale socket replaced");
	close(lfd);
	unlink(path);
	ASSERT_EQ(xlb_api_call(path, json_object(), &resp, err, sizeof(err)), -ENOENT,
		  "no daemon");
	ASSERT_TRUE(strstr(err, "cannot reach xlbd") != NULL, err);

	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

static void test_peer_check(void)
{
	unsigned int uid = 99;
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	if (getuid() == 0)
		ASSERT_OK(xlb_api_peer_check(sv[0], &uid), "root peer accepted");
	else
		ASSERT_EQ(xlb_api_peer_check(sv[0], &uid), -EPERM, "non-root peer refused");
	ASSERT_EQ(uid, getuid(), "peer uid");
	close(sv[0]);
	close(sv[1]);
}

static void test_error_one_line(void)
{
	json_t *e = xlb_api_error("bad\nthing %d", 3);

	ASSERT_STR_EQ(json_string_value(json_object_get(e, "error")), "bad thing 3", "one line");
	ASSERT_TRUE(json_is_false(json_object_get(e, "ok")), "ok false");
	json_decref(e);
}

int main(void)
{
	XLBT_RUN(test_reader_pieces);
	XLBT_RUN(test_reader_eof);
	XLBT_RUN(test_reader_oversized);
	XLBT_RUN(test_call_round_trip);
	XLBT_RUN(test_peer_check);
	XLBT_RUN(test_error_one_line);
	return xlbt_finish("unit/api");
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP connect and UDP request/reply probes of the health engine: one
 * non-blocking socket per probe in flight, registered in the engine's epoll
 * with a tag naming the probe, closed as soon as the probe has a result.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "health_int.h"
#include "log.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static socklen_t sa_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					: sizeof(struct sockaddr_in);
}

static void sock_close(struct xlb_health_target *t)
{
	if (t->fd < 0)
		return;
	if (t->cfg.kind == XLB_HEALTH_TCP && !t->cfg.tcp_graceful_close) {
		/* A RST instead of FIN: no TIME_WAIT left behind (see health.h). */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(t->fd);	/* also leaves the epoll set */
	t->fd = -1;
}

static const char *errno_reason(int err, enum xlb_health_kind kind, char *buf)
{
	switch (err) {
	case ECONNREFUSED:
		return kind == XLB_HEALTH_UDP ? "udp port unreachable" : "connect refused";
	case ETIMEDOUT:
		return "timeout";
	case EHOSTUNREACH:
		return "host unreachable";
	case ENETUNREACH:
		return "network unreachable";
	case ECONNRESET:
		return "connection reset";
	default:
		hc_set_reason(buf, "%s error: %s", xlb_health__kind_str(kind), strerror(err));
		return buf;
	}
}

/* Errors that say something about the LB host, not about the target. */
static bool local_errno(int err)
{
	switch (err) {
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
	case EADDRNOTAVAIL:	/* no ephemeral port left, or a source we do not have */
	case EAFNOSUPPORT:	/* IPv6 disabled on this host */
	case EAGAIN:
		return true;
	default:
		return false;
	}
}

static void fail(struct xlb_health *h, struct xlb_health_target *t, int err)
{
	char buf[XLB_HEALTH_REASON_LEN];
	const char *reason;

	sock_close(t);
	if (local_errno(err)) {
		hc_set_reason(buf, "%s: %s", xlb_health__kind_str(t->cfg.kind), strerror(err));
		hc_probe_local_error(h, t, buf);
		return;
	}
	reason = errno_reason(err, t->cfg.kind, buf);
	hc_probe_done(h, t, false, reason);
}

int hc_sock_start(struct xlb_health *h, struct xlb_health_target *t)
{
	bool udp = t->cfg.kind == XLB_HEALTH_UDP;
	struct epoll_event ev = {};
	int fd, one = 1;

	fd = socket(t->cfg.addr.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		char buf[XLB_HEALTH_REASON_LEN];

		/* Our problem (fd limit, memory), never the target's. */
		hc_set_reason(buf, "socket: %s", strerror(errno));
		hc_probe_local_error(h, t, buf);
		return 0;
	}
	t->fd = fd;
	if (t->cfg.src.ss_family) {
		/* Port chosen at connect time, per destination: no port exhaustion. */
		if (!udp)
			setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&t->cfg.src, sa_len(&t->cfg.src)) < 0) {
			char buf[XLB_HEALTH_REASON_LEN];

			hc_set_reason(buf, "bind to the source: %s", strerror(errno));
			sock_close(t);
			hc_probe_local_error(h, t, buf);
			return 0;
		}
	}
	ev.data.u64 = HC_TAG_PROBE << HC_TAG_SHIFT | (__u64)t->seq << 32 | t->slot;
	if (connect(fd, (const struct sockaddr *)&t->cfg.addr, sa_len(&t->cfg.addr)) < 0) {
		if (errno != EINPROGRESS) {
			fail(h, t, errno);
			return 0;
		}
	} else if (!udp) {
		/* Connected at once (possible on loopback). */
		sock_close(t);
		hc_probe_done(h, t, true, NULL);
		return 0;
	}
	if (udp) {
		if (send(fd, t->cfg.payload, t->cfg.payload_len, 0) < 0) {
			fail(h, t, errno);
			return 0;
		}
		ev.events = EPOLLIN;
	} else {
		ev.events = EPOLLOUT;
	}
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		char buf[XLB_HEALTH_REASON_LEN];

		hc_set_reason(buf, "epoll_ctl: %s", strerror(errno));
		sock_close(t);
		hc_probe_local_error(h, t, buf);
	}
	return 0;
}

static void udp_event(struct xlb_health *h, struct xlb_health_target *t)
{
	unsigned char buf[XLB_HEALTH_MAX_UDP_PAYLOAD + 1];
	ssize_t n;

	/* A few datagrams at most per event; a spurious wakeup keeps waiting. */
	n = recv(t->fd, buf, sizeof(buf), MSG_TRUNC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		fail(h, t, errno);
		return;
	}
	sock_close(t);
	if (t->cfg.reply && ((size_t)n != t->cfg.reply_len ||
			     memcmp(buf, t->cfg.reply, t->cfg.reply_len) != 0)) {
		hc_probe_done(h, t, false, "udp reply mismatch");
		return;
	}
	hc_probe_done(h, t, true, NULL);
}

void hc_sock_event(struct xlb_health *h, struct xlb_health_target *t, __u32 events)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (t->fd < 0)
		return;
	if (t->cfg.kind == XLB_HEALTH_UDP) {
		udp_event(h, t);
		return;
	}
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (!err && !(events & EPOLLOUT))
		return;	/* not yet */
	if (err) {
		fail(h, t, err);
		return;
	}
	sock_close(t);
	hc_probe_done(h, t, true, NULL);
}

void hc_sock_abort(struct xlb_health *h, struct xlb_health_target *t)
{
	sock_close(t);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP connect and UDP request/reply probes of the health engine: one
 * non-blocking socket per probe in flight, registered in the engine's epoll
 * with a tag naming the probe, closed as soon as the probe has a result.
 * Also the through-VIP TCP probe (health.h): a SYN in IPIP on a raw socket,
 * the answer read on a filtered raw TCP socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
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

/* ---- tcp through the VIP ---- */

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static __u32 csum_add(__u32 sum, const void *data, size_t len)
{
	const __u8 *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

/*
 * Sends one TCP segment (flags, seq, ack) from src:sport to vip:port,
 * encapsulated in IPIP to the real: the kernel writes the outer header
 * (IPPROTO_IPIP raw socket), we write the inner one. 0 or -errno.
 */
static int vip_send(const struct xlb_health_target *t, __be32 src, __u16 sport, __u8 flags,
		    __u32 seq, __u32 ack)
{
	const struct sockaddr_in *real = (const void *)&t->cfg.addr;
	const struct sockaddr_in *vip = (const void *)&t->cfg.vip;
	struct {
		struct iphdr ip;
		struct tcphdr tcp;
	} __attribute__((packed)) pkt = {};
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr = real->sin_addr };
	__u8 pseudo[12];
	__u32 sum;
	int fd, err = 0;

	pkt.ip.version = 4;
	pkt.ip.ihl = 5;
	pkt.ip.tot_len = htons(sizeof(pkt));
	pkt.ip.id = htons(sport);
	pkt.ip.ttl = 64;
	pkt.ip.protocol = IPPROTO_TCP;
	pkt.ip.saddr = src;
	pkt.ip.daddr = vip->sin_addr.s_addr;
	pkt.ip.check = htons(csum_fold(csum_add(0, &pkt.ip, sizeof(pkt.ip))));
	pkt.tcp.source = htons(sport);
	pkt.tcp.dest = real->sin_port;
	pkt.tcp.seq = htonl(seq);
	pkt.tcp.ack_seq = htonl(ack);
	pkt.tcp.doff = 5;
	pkt.tcp.syn = !!(flags & 0x02);
	pkt.tcp.rst = !!(flags & 0x04);
	pkt.tcp.ack = !!(flags & 0x10);
	pkt.tcp.window = htons(flags & 0x04 ? 0 : 64240);
	memcpy(pseudo, &src, 4);
	memcpy(pseudo + 4, &vip->sin_addr.s_addr, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = sizeof(pkt.tcp);
	sum = csum_add(csum_add(0, pseudo, sizeof(pseudo)), &pkt.tcp, sizeof(pkt.tcp));
	pkt.tcp.check = htons(csum_fold(sum));
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IPIP);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* The inner source: the configured one, else the route's to the real. */
static int vip_source(const struct xlb_health_target *t, __be32 *src)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd, err = 0;

	if (t->cfg.src.ss_family == AF_INET) {
		*src = ((const struct sockaddr_in *)&t->cfg.src)->sin_addr.s_addr;
		return 0;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&t->cfg.addr, sizeof(struct sockaddr_in)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		err = -errno;
	else
		*src = a.sin_addr.s_addr;
	close(fd);
	return err;
}

/* Per probe: the source port in t->fd's filter, and the SYN's sequence number. */
static __u16 vip_sport(const struct xlb_health_target *t)
{
	return 32768 + (t->seq * 2654435761U ^ t->slot * 40503U) % 28000;
}

static __u32 vip_isn(const struct xlb_health_target *t)
{
	return t->seq * 2246822519U + t->slot;
}

static int vip_start(struct xlb_health *h, struct xlb_health_target *t)
{
	const struct sockaddr_in *vip = (const void *)&t->cfg.vip;
	const struct sockaddr_in *real = (const void *)&t->cfg.addr;
	__u16 sport = vip_sport(t);
	/* ip src == vip, tcp sport == the probed port, tcp dport == ours. */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(vip->sin_addr.s_addr), 0, 6),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohs(real->sin_port), 0, 3),
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sport, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	char buf[XLB_HEALTH_REASON_LEN];
	struct epoll_event ev = {};
	__be32 src = 0;
	int fd, err;

	fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		hc_set_reason(buf, "tcp via vip: raw socket: %s", strerror(errno));
		hc_probe_local_error(h, t, buf);
		return 0;
	}
	t->fd = fd;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
		hc_set_reason(buf, "tcp via vip: filter: %s", strerror(errno));
		goto local_err;
	}
	err = vip_source(t, &src);
	if (err) {
		fail(h, t, -err);	/* no route to the real is the real's problem */
		return 0;
	}
	ev.data.u64 = HC_TAG_PROBE << HC_TAG_SHIFT | (__u64)t->seq << 32 | t->slot;
	ev.events = EPOLLIN;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		hc_set_reason(buf, "epoll_ctl: %s", strerror(errno));
		goto local_err;
	}
	err = vip_send(t, src, sport, 0x02, vip_isn(t), 0);
	if (err) {
		fail(h, t, -err);
		return 0;
	}
	return 0;
local_err:
	sock_close(t);
	hc_probe_local_error(h, t, buf);
	return 0;
}

static void vip_event(struct xlb_health *h, struct xlb_health_target *t)
{
	__u8 buf[128];

	/* Bounded: the filter passes only this probe's answers. */
	for (int i = 0; i < 8; i++) {
		ssize_t n = recv(t->fd, buf, sizeof(buf), 0);
		size_t ihl;
		__u8 flags;
		__u32 ack;
		__be32 src;

		if (n < 0)
			return;	/* EAGAIN: wait on */
		ihl = (buf[0] & 0xf) * 4;
		if ((size_t)n < ihl + 20)
			continue;
		flags = buf[ihl + 13];
		if (flags & 0x04) {		/* RST */
			sock_close(t);
			hc_probe_done(h, t, false, "connect refused");
			return;
		}
		if ((flags & 0x12) != 0x12)	/* not a SYN-ACK */
			continue;
		memcpy(&ack, buf + ihl + 8, 4);
		memcpy(&src, buf + 16, 4);	/* our address, as the real saw it */
		/* Close the half-open connection on the real (its SYN-ACK needs no retries). */
		vip_send(t, src, vip_sport(t), 0x04, ntohl(ack), 0);
		sock_close(t);
		hc_probe_done(h, t, true, NULL);
		return;
	}
}

int hc_sock_start(struct xlb_health *h, struct xlb_health_target *t)
{
	bool udp = t->cfg.kind == XLB_HEALTH_UDP;
	struct epoll_event ev = {};
	int fd, one = 1;

	if (t->cfg.through_vip)
		return vip_start(h, t);
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
	if (t->cfg.through_vip) {
		vip_event(h, t);
		return;
	}
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

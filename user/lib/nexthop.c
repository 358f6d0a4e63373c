// SPDX-License-Identifier: GPL-2.0-only
/* Next-hop MAC resolution over rtnetlink: see nexthop.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>

#include "nexthop.h"

#define NH_BUF 8192
#define NUD_VALID_MASK (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | \
			NUD_DELAY)

static int af_of(__u8 family)
{
	return family == XLB_AF_INET6 ? AF_INET6 : AF_INET;
}

static int alen_of(__u8 family)
{
	return family == XLB_AF_INET6 ? 16 : 4;
}

int xlb_nh__open(struct xlb_nh *nh)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 1 };
	int err;

	nh->seq = 1;
	nh->ev_fd = -1;
	nh->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nh->fd < 0)
		return -errno;
	setsockopt(nh->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(nh->fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto err_close;
	nh->ev_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (nh->ev_fd < 0)
		goto err_close;
	sa.nl_groups = RTMGRP_NEIGH;
	if (bind(nh->ev_fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto err_close;
	return 0;
err_close:
	err = -errno;
	xlb_nh__close(nh);
	return err;
}

void xlb_nh__close(struct xlb_nh *nh)
{
	if (nh->fd >= 0)
		close(nh->fd);
	if (nh->ev_fd >= 0)
		close(nh->ev_fd);
	nh->fd = nh->ev_fd = -1;
}

static void add_attr(struct nlmsghdr *n, int type, const void *data, int len)
{
	struct rtattr *rta = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/*
 * Sends n and reads until the reply with its seq: the first data message is
 * copied to reply (NULL: an ACK is expected). 0, or -errno from NLMSG_ERROR.
 */
static int transact(struct xlb_nh *nh, struct nlmsghdr *n, char *reply, size_t rlen)
{
	char buf[NH_BUF];
	__u32 seq = ++nh->seq;

	n->nlmsg_seq = seq;
	if (send(nh->fd, n, n->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(nh->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error;
			}
			if (reply && h->nlmsg_len <= rlen) {
				memcpy(reply, h, h->nlmsg_len);
				return 0;
			}
			return -EMSGSIZE;
		}
	}
}

int xlb_nh__lookup(struct xlb_nh *nh, __u8 family, const union xlb_addr *addr,
		   struct xlb_nh_res *res)
{
	struct {
		struct nlmsghdr n;
		union {
			struct rtmsg r;
			struct ndmsg nd;
		};
		char attrs[64];
	} req;
	char reply[NH_BUF];
	struct nlmsghdr *h = (struct nlmsghdr *)reply;
	struct rtattr *rta;
	int len, err, alen = alen_of(family);
	bool have_gw = false;

	memset(res, 0, sizeof(*res));
	res->family = family;
	res->via = *addr;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.n.nlmsg_type = RTM_GETROUTE;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.r.rtm_family = af_of(family);
	req.r.rtm_dst_len = alen * 8;
	add_attr(&req.n, RTA_DST, addr, alen);
	err = transact(nh, &req.n, reply, sizeof(reply));
	if (err)
		return err == -ENETUNREACH || err == -EHOSTUNREACH ? -ENETUNREACH : err;
	if (h->nlmsg_type != RTM_NEWROUTE)
		return -EPROTO;
	{
		struct rtmsg *r = NLMSG_DATA(h);

		if (r->rtm_type == RTN_LOCAL)
			return -EADDRNOTAVAIL;
		if (r->rtm_type != RTN_UNICAST)
			return -ENETUNREACH;
		len = RTM_PAYLOAD(h);
		for (rta = RTM_RTA(r); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
			if (rta->rta_type == RTA_OIF)
				res->oif = *(int *)RTA_DATA(rta);
			else if (rta->rta_type == RTA_GATEWAY &&
				 RTA_PAYLOAD(rta) == (unsigned int)alen) {
				memset(&res->via, 0, sizeof(res->via));
				memcpy(&res->via, RTA_DATA(rta), alen);
				have_gw = true;
			}
		}
	}
	(void)have_gw;
	if (!res->oif)
		return -ENETUNREACH;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	req.n.nlmsg_type = RTM_GETNEIGH;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.nd.ndm_family = af_of(family);
	req.nd.ndm_ifindex = res->oif;
	add_attr(&req.n, NDA_DST, &res->via, alen);
	err = transact(nh, &req.n, reply, sizeof(reply));
	if (err == -ENOENT)
		return 0;	/* no entry yet: unresolved */
	if (err)
		return err;
	if (h->nlmsg_type != RTM_NEWNEIGH)
		return -EPROTO;
	{
		struct ndmsg *nd = NLMSG_DATA(h);
		bool have_mac = false;

		len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
		for (rta = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
		     RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
			if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6) {
				memcpy(res->mac, RTA_DATA(rta), 6);
				have_mac = true;
			}
		}
		res->resolved = have_mac && (nd->ndm_state & NUD_VALID_MASK);
	}
	return 0;
}

int xlb_nh__trigger(struct xlb_nh *nh, const struct xlb_nh_res *res)
{
	struct {
		struct nlmsghdr n;
		struct ndmsg nd;
		char attrs[64];
	} req;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	req.n.nlmsg_type = RTM_NEWNEIGH;
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;
	req.nd.ndm_family = af_of(res->family);
	req.nd.ndm_ifindex = res->oif;
	req.nd.ndm_state = NUD_NONE;
	req.nd.ndm_flags = NTF_USE;
	add_attr(&req.n, NDA_DST, &res->via, alen_of(res->family));
	return transact(nh, &req.n, NULL, 0);
}

int xlb_nh__read_events(struct xlb_nh *nh, xlb_nh_event_fn fn, void *ctx)
{
	char buf[NH_BUF];

	for (;;) {
		ssize_t len = recv(nh->ev_fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			/* ENOBUFS: updates were lost; callers re-resolve on their timer. */
			return -errno;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			struct ndmsg *nd = NLMSG_DATA(h);
			union xlb_addr a = {};
			__u8 mac[6] = {}, fam;
			bool have_dst = false, have_mac = false;
			struct rtattr *rta;
			int alen;

			if (h->nlmsg_type != RTM_NEWNEIGH && h->nlmsg_type != RTM_DELNEIGH)
				continue;
			if (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6)
				continue;
			fam = nd->ndm_family == AF_INET6 ? XLB_AF_INET6 : XLB_AF_INET;
			alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
			for (rta = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
			     RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
				if (rta->rta_type == NDA_DST &&
				    RTA_PAYLOAD(rta) == (unsigned int)alen_of(fam)) {
					memcpy(&a, RTA_DATA(rta), alen_of(fam));
					have_dst = true;
				} else if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6) {
					memcpy(mac, RTA_DATA(rta), 6);
					have_mac = true;
				}
			}
			if (!have_dst)
				continue;
			fn(ctx, fam, &a, nd->ndm_ifindex, mac,
			   h->nlmsg_type == RTM_NEWNEIGH && have_mac &&
			   (nd->ndm_state & NUD_VALID_MASK));
		}
	}
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Next-hop MAC resolution over rtnetlink, for the next_hop_mac of each
 * xlb_reals entry: route lookup of the real (its gateway, or the real
 * itself when on-link), then the neighbour entry of that next hop. When the
 * neighbour is unknown or incomplete, resolution is triggered
 * (RTM_NEWNEIGH with NTF_USE, the kernel's "use this entry" nudge that
 * sends ARP / neighbour solicitation) and the caller retries or waits for
 * the neighbour update that a second socket, subscribed to the neighbour
 * groups, delivers to its event loop.
 *
 * Plain rtnetlink (no libmnl): three requests and one parser are all it takes.
 */
#ifndef XLB_NEXTHOP_H
#define XLB_NEXTHOP_H

#include <stdbool.h>
#include <linux/types.h>
#include <xlb/abi.h>

struct xlb_nh {
	int fd;				/* requests (route/neighbour get, trigger) */
	int ev_fd;			/* neighbour updates (RTNLGRP_NEIGH), non-blocking */
	__u32 seq;
};

struct xlb_nh_res {
	union xlb_addr via;		/* next hop: gateway, or the destination on-link */
	__u8 family;			/* family of via */
	bool resolved;			/* mac is valid */
	int oif;			/* egress interface of the route */
	__u8 mac[6];
};

int xlb_nh__open(struct xlb_nh *nh);
void xlb_nh__close(struct xlb_nh *nh);

/*
 * Route + neighbour lookup for addr. 0 with res filled (resolved or not),
 * -ENETUNREACH without a route, -EADDRNOTAVAIL when addr is local, -errno.
 */
int xlb_nh__lookup(struct xlb_nh *nh, __u8 family, const union xlb_addr *addr,
		   struct xlb_nh_res *res);
/* Asks the kernel to resolve res->via on res->oif. 0 or -errno. */
int xlb_nh__trigger(struct xlb_nh *nh, const struct xlb_nh_res *res);

/* Called per neighbour update: valid is false for deleted/failed entries. */
typedef void (*xlb_nh_event_fn)(void *ctx, __u8 family, const union xlb_addr *addr, int ifindex,
				const __u8 mac[6], bool valid);
/* Drains ev_fd, calling fn per update. 0 or -errno. */
int xlb_nh__read_events(struct xlb_nh *nh, xlb_nh_event_fn fn, void *ctx);

#endif /* XLB_NEXTHOP_H */

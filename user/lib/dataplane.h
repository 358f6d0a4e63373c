/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The balancer's data plane as xlbd sees it: load or adopt the xlb_ingress
 * program on an interface, its maps pinned under XLB_PIN_ROOT/<ifname>/,
 * and the map operations the reconciler needs (rings, stats, flow purge).
 *
 * Opening never detaches anything. When the program is attached and every
 * map is pinned (and the program uses those maps), both are adopted as they
 * are: forwarding goes on untouched across a daemon restart. Otherwise the
 * skeleton is loaded with the pinned maps reused where they exist (libbpf
 * pin-path reuse) and attached through libxdp, replacing an older copy of
 * xlb_ingress in place.
 */
#ifndef XLB_DATAPLANE_H
#define XLB_DATAPLANE_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>
#include <xdp/libxdp.h>
#include <xlb/abi.h>

#include "xdp_attach.h"

#define XLB_PROG_NAME "xlb_ingress"

enum xlb_dp_map {
	XLB_DP_VIPS,
	XLB_DP_VIP_ADDRS,
	XLB_DP_REALS,
	XLB_DP_RINGS,
	XLB_DP_FLOWS,
	XLB_DP_CONFIG,
	XLB_DP_STATS,
	XLB_DP_VIP_STATS,
	XLB_DP_REAL_STATS,
	XLB_DP__MAX,
};

extern const char *const xlb_dp_map_names[XLB_DP__MAX];

struct xlb_dp {
	char ifname[IF_NAMESIZE];
	int ifindex;
	char pin_dir[256];
	int fd[XLB_DP__MAX];		/* map fds (from the pins) */
	struct xlb_xdp_state xdp;	/* program id, mode, dispatcher or alone */
	bool adopted;			/* program and maps were there already */
	__u32 flow_table_size;		/* actual max_entries of xlb_flows */
	int ncpus;			/* possible CPUs (per-CPU value arrays) */
	int lock_fd;			/* the pin directory, flock()ed: one owner per interface */
};

/*
 * Adopts or loads and attaches (see above). flow_table_size applies when
 * xlb_flows is created; an existing pinned map keeps its size (logged).
 * The pin directory is locked (flock) for as long as dp is open: -EBUSY
 * when another process (another xlbd) holds it. 0 or -errno (logged).
 */
int xlb_dp__open(struct xlb_dp *dp, const char *ifname, enum xdp_attach_mode mode,
		 __u32 flow_table_size);
/* Closes fds; the program stays attached and the maps pinned. */
void xlb_dp__close(struct xlb_dp *dp);
/* Detaches xlb_ingress and removes the pins, then closes. 0 or -errno. */
int xlb_dp__detach(struct xlb_dp *dp);

/* A new inner ring map (BPF_F_INNER_MAP) of size slots filled from table. fd or -errno. */
int xlb_dp__ring_create(struct xlb_dp *dp, __u32 size, const __u32 *table);
/* fd of the ring of VIP id (caller closes), -ENOENT when there is none. */
int xlb_dp__ring_get(struct xlb_dp *dp, __u32 id, __u32 *size);
/* Reads size slots of ring fd into table. 0 or -errno. */
int xlb_dp__ring_read(int fd, __u32 size, __u32 *table);
/* Writes table[slots[i]] for the n slots listed. 0 or -errno. */
int xlb_dp__ring_write(int fd, const __u32 *table, const __u32 *slots, size_t n);

/* Per-CPU sums. 0 or -errno. */
int xlb_dp__read_stats(struct xlb_dp *dp, __u64 out[XLB_STAT__MAX]);
int xlb_dp__read_vip_stats(struct xlb_dp *dp, __u32 id, struct xlb_vip_stats *out);
int xlb_dp__read_real_stats(struct xlb_dp *dp, __u32 index, struct xlb_real_stats *out);
/* Zeroes one row of a per-CPU stats map (VIP or real index reuse). */
int xlb_dp__zero_stats(struct xlb_dp *dp, enum xlb_dp_map map, __u32 index);

/*
 * Deletes every xlb_flows entry whose real index has dead[index] set
 * (dead has XLB_MAX_REALS entries). Returns the number deleted or -errno.
 */
long xlb_dp__purge_flows(struct xlb_dp *dp, const bool *dead);

#endif /* XLB_DATAPLANE_H */

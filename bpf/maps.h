/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Maps of the balancer (xlb_ingress) and the counter helpers over them.
 * Names, key and value types are fixed by include/xlb/abi.h; sizes come from
 * its XLB_MAX_* limits. No pinning attributes: xlbd pins the maps itself
 * under XLB_PIN_ROOT/<ifname>/.
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xlb/abi.h"

/* VIP {addr, port, proto, family} -> VIP; port 0 is a port-less VIP. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip);
} xlb_vips SEC(".maps");

/* VIP {addr, 0, 0, family} -> number of VIPs on it: the one "is it ours" probe. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_key);
	__type(value, __u32);
} xlb_vip_addrs SEC(".maps");

/* Real index -> real; index 0 (XLB_REAL_NONE) is never used. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_REALS);
	__type(key, __u32);
	__type(value, struct xlb_real);
} xlb_reals SEC(".maps");

/*
 * VIP index -> Maglev ring (slot -> real index). BPF_F_INNER_MAP lets each
 * VIP's ring have its own size; the template below only fixes the type.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(map_flags, BPF_F_INNER_MAP);
		__uint(max_entries, XLB_RING_SIZE_TEMPLATE);
		__type(key, __u32);
		__type(value, __u32);
	});
} xlb_rings SEC(".maps");

/* 5-tuple -> real; per-CPU LRU lists so CPUs never contend on eviction. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, XLB_MAX_FLOWS);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_flow);
} xlb_flows SEC(".maps");

/* LB-host settings that change at run time (outer sources, seed, GUE port, MTU). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_config);
} xlb_config SEC(".maps");

/* Global counters by reason (enum xlb_stat). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} xlb_stats SEC(".maps");

/* Per-VIP counters, indexed by VIP index (v2: with drops by reason, 64 B). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xlb_vip_stats);
} xlb_vipstats_v2 SEC(".maps");

/* Per-real counters, indexed by real index. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_REALS);
	__type(key, __u32);
	__type(value, struct xlb_real_stats);
} xlb_real_stats SEC(".maps");

static __always_inline void count_stat(__u32 stat)
{
	__u64 *val = bpf_map_lookup_elem(&xlb_stats, &stat);

	/* A miss means stat >= XLB_STAT__MAX: a bug, nothing to count. */
	if (val)
		*val += 1;
}

/* Per-CPU values: plain increments, no atomics needed. */
static __always_inline void count_vip(__u32 vip, __u32 bytes, __u32 new_flow)
{
	struct xlb_vip_stats *vs = bpf_map_lookup_elem(&xlb_vipstats_v2, &vip);

	/* A miss means an out-of-range VIP index from the control plane: not counted. */
	if (!vs)
		return;
	vs->packets += 1;
	vs->bytes += bytes;
	vs->new_flows += new_flow;
}

/*
 * One dropped packet of a VIP: the total and the field of its reason, the
 * global counter (enum xlb_stat) the drop was counted under.
 */
static __always_inline void count_vip_drop(__u32 vip, __u32 stat)
{
	struct xlb_vip_stats *vs = bpf_map_lookup_elem(&xlb_vipstats_v2, &vip);

	/* As in count_vip. */
	if (!vs)
		return;
	vs->drops += 1;
	switch (stat) {
	case XLB_STAT_DROP_NO_REAL:
		vs->drop_no_real += 1;
		break;
	case XLB_STAT_DROP_FRAGMENT:
		vs->drop_fragment += 1;
		break;
	case XLB_STAT_ICMP_TOO_BIG:
	case XLB_STAT_DROP_TOO_BIG:
		vs->drop_too_big += 1;
		break;
	default:	/* XLB_STAT_DROP_ENCAP */
		vs->drop_encap += 1;
		break;
	}
}

static __always_inline void count_real(__u32 real, __u32 bytes)
{
	struct xlb_real_stats *rs = bpf_map_lookup_elem(&xlb_real_stats, &real);

	/* real was found in xlb_reals, which has the same size: never misses. */
	if (!rs)
		return;
	rs->packets += 1;
	rs->bytes += bytes;
}

#endif /* XLB_MAPS_H */

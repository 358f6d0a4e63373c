/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ABI between the XDP programs and userspace: every map key and value,
 * the enums that index counters and select options, and the limits.
 *
 * This is the only definition of these layouts. Both bpf/ and user/ include
 * it, so it uses kernel integer types and no libc. Fields are ordered largest
 * first with explicit padding, and every struct has its size pinned by a
 * _Static_assert: a layout change must be deliberate and gets a new map name.
 */
#ifndef XLB_ABI_H
#define XLB_ABI_H

#include <linux/types.h>

/* ---- limits (override with -D for tests) ---- */

#ifndef XLB_MAX_VIPS
#define XLB_MAX_VIPS 512		/* VIPs per LB host = rings = VIP stat rows */
#endif
#ifndef XLB_MAX_REALS
#define XLB_MAX_REALS 65536		/* (VIP, real) pairs; index 0 is reserved for "none" */
#endif
#ifndef XLB_MAX_FLOWS
#define XLB_MAX_FLOWS 262144		/* flow LRU entries (userspace may resize before load) */
#endif
#define XLB_RING_SIZE_DEFAULT 65537	/* Maglev M: a prime, ~100x the reals of a big VIP */
#define XLB_RING_SIZE_TEMPLATE 65537	/* max_entries of the inner-map template */
#define XLB_REAL_NONE 0			/* ring slot value meaning "no real" */
#define XLB_GUE_PORT_DEFAULT 6080	/* outer UDP destination port of GUE */
#define XLB_OUTER_TTL 64		/* hop limit of the outer header we add */
#define XLB_PIN_ROOT "/sys/fs/bpf/xlb"	/* maps are pinned under XLB_PIN_ROOT/<ifname>/ */

/*
 * Maps of the balancer (bpf/xlb.bpf.c), program xlb_ingress, SEC("xdp"):
 *   xlb_vips       HASH           struct xlb_vip_key -> struct xlb_vip
 *   xlb_vip_addrs  HASH           struct xlb_vip_key (port 0, proto 0) -> __u32 (VIPs on it)
 *   xlb_reals      ARRAY          __u32 real index -> struct xlb_real (index 0 unused)
 *   xlb_rings      ARRAY_OF_MAPS  __u32 VIP index -> inner ARRAY (BPF_F_INNER_MAP) of
 *                                 ring_size x __u32 real index; inner maps may differ in size
 *   xlb_flows      LRU_HASH       struct xlb_flow_key -> struct xlb_flow
 *                                 (BPF_F_NO_COMMON_LRU: per-CPU LRU lists)
 *   xlb_config     ARRAY[1]       struct xlb_config
 *   xlb_stats      PERCPU_ARRAY   enum xlb_stat -> __u64
 *   xlb_vipstats_v2 PERCPU_ARRAY  VIP index -> struct xlb_vip_stats (64 B; "_v2": the 32-byte
 *                                 xlb_vip_stats without per-reason drops is never reused)
 *   xlb_real_stats PERCPU_ARRAY   real index -> struct xlb_real_stats
 * Maps of the decap program (bpf/decap.bpf.c), program xlb_decap, SEC("xdp"):
 *   xlb_decap_vips HASH           struct xlb_vip_key (port 0, proto 0) -> __u8 (allowed)
 *   xlb_dstats     PERCPU_ARRAY   enum xlb_decap_stat -> __u64
 */

/* ---- enums ---- */

enum xlb_family {
	XLB_AF_NONE = 0,
	XLB_AF_INET = 4,
	XLB_AF_INET6 = 6,
};

enum xlb_hash_mode {
	XLB_HASH_5TUPLE = 0,		/* src/dst address, src/dst port, protocol */
	XLB_HASH_SRC_IP = 1,		/* client affinity: source address only */
	XLB_HASH_SRC_IP_DPORT = 2,	/* source address and destination port */
	XLB_HASH__MAX,
};

enum xlb_encap {
	XLB_ENCAP_IPIP = 0,		/* IP in IP: 4in4, 6in6, 4in6, 6in4 */
	XLB_ENCAP_GUE = 1,		/* GUE variant 1: outer IP + UDP + inner IP */
	XLB_ENCAP__MAX,
};

/* xlb_real.flags */
#define XLB_REAL_F_DOWN (1U << 0)	/* failed health checks: flows to it reselect */

/* xlb_vip.flags */
#define XLB_VIP_F_NONE 0

/*
 * Global counters of the balancer, one per reason. X(name, help) keeps the
 * enum and the names userspace prints in one list. New counters are appended
 * at the end: the indices of existing ones never move.
 */
#define XLB_STAT_LIST(X)							\
	X(RX,			"packets seen by the balancer")			\
	X(PASS_NOT_IP,		"passed: not IPv4/IPv6")			\
	X(PASS_NOT_VIP,		"passed: destination is not a VIP address")	\
	X(TX,			"forwarded to a real (XDP_TX)")			\
	X(DROP_NO_VIP_PORT,	"dropped: VIP address, unconfigured port or protocol") \
	X(DROP_NO_REAL,		"dropped: VIP has no real in its ring")		\
	X(DROP_MALFORMED,	"dropped: truncated or malformed headers")	\
	X(DROP_FRAGMENT,	"dropped: IP fragment to a VIP")		\
	X(DROP_ENCAP,		"dropped: encapsulation failed (headroom, no source)") \
	X(DROP_ICMP,		"dropped: ICMP to a VIP that xlb does not handle") \
	X(LRU_HIT,		"flow found in the flow table")			\
	X(LRU_MISS,		"flow not in the flow table")			\
	X(LRU_DOWN,		"flow table entry pointed to a down real: reselected") \
	X(SYN_RESELECT,		"TCP SYN: selected afresh from the ring")	\
	X(ICMP_ECHO_REPLY,	"ICMP/ICMPv6 echo requests to a VIP answered")	\
	X(ICMP_TOO_BIG,		"too big once encapsulated: frag-needed/PTB sent to the client") \
	X(ICMP_ERR_FWD,		"ICMP errors about a VIP flow forwarded to its real") \
	X(ENCAP_IPIP,		"encapsulated in IPIP")				\
	X(ENCAP_GUE,		"encapsulated in GUE")				\
	X(DROP_TOO_BIG,		"dropped: too big once encapsulated and not allowed to send frag-needed (no DF)")

#define XLB_STAT_ENUM(name, help) XLB_STAT_##name,
enum xlb_stat {
	XLB_STAT_LIST(XLB_STAT_ENUM)
	XLB_STAT__MAX,
};
#undef XLB_STAT_ENUM

/* Counters of the decap program (bpf/decap.bpf.c). */
#define XLB_DECAP_STAT_LIST(X)							\
	X(RX,			"packets seen by decap")			\
	X(PASS,			"passed untouched: not xlb encapsulation")	\
	X(DECAP_IPIP,		"IPIP packets decapsulated")			\
	X(DECAP_GUE,		"GUE packets decapsulated")			\
	X(DROP_MALFORMED,	"dropped: truncated or malformed encapsulation") \
	X(DROP_NOT_ALLOWED,	"dropped: inner destination not in the VIP list")

#define XLB_DECAP_STAT_ENUM(name, help) XLB_DECAP_STAT_##name,
enum xlb_decap_stat {
	XLB_DECAP_STAT_LIST(XLB_DECAP_STAT_ENUM)
	XLB_DECAP_STAT__MAX,
};
#undef XLB_DECAP_STAT_ENUM

/* ---- map keys and values ---- */

/* An IPv4 or IPv6 address in network byte order; IPv4 uses v4, the rest is 0. */
union xlb_addr {
	__be32 v6[4];			/* IPv6 address */
	__be32 v4;			/* IPv4 address (first word) */
	__u8 bytes[16];
};
_Static_assert(sizeof(union xlb_addr) == 16, "xlb_addr size");

/*
 * xlb_vips key: one VIP. port 0 = port-less (every port of addr/proto).
 * xlb_vip_addrs uses the same key with port = 0 and proto = 0: it answers
 * "is this address a VIP at all?" with one lookup, so non-VIP traffic passes
 * after a single probe.
 */
struct xlb_vip_key {
	union xlb_addr addr;		/* VIP address, network order */
	__be16 port;			/* destination port, network order; 0 = any */
	__u8 proto;			/* IPPROTO_TCP / IPPROTO_UDP (0 in xlb_vip_addrs) */
	__u8 family;			/* enum xlb_family */
};
_Static_assert(sizeof(struct xlb_vip_key) == 20, "xlb_vip_key size");

/* xlb_vips value. */
struct xlb_vip {
	__u32 id;			/* VIP index: its ring in xlb_rings, its row in xlb_vipstats_v2 */
	__u32 ring_size;		/* slots in the VIP's ring (M, a prime) */
	__u16 flags;			/* XLB_VIP_F_* */
	__u8 hash_mode;			/* enum xlb_hash_mode */
	__u8 encap;			/* enum xlb_encap */
};
_Static_assert(sizeof(struct xlb_vip) == 12, "xlb_vip size");

/*
 * xlb_reals value, indexed by real index (0 = none). The next-hop MAC is
 * resolved by the control plane (the real itself when on-link, else its
 * gateway), so forwarding needs no per-packet FIB lookup.
 */
struct xlb_real {
	union xlb_addr addr;		/* real server address, network order */
	__u8 next_hop_mac[6];		/* Ethernet destination towards the real */
	__u8 family;			/* enum xlb_family */
	__u8 flags;			/* XLB_REAL_F_* */
};
_Static_assert(sizeof(struct xlb_real) == 24, "xlb_real size");

/* xlb_flows key: the 5-tuple as seen on the wire (client -> VIP). */
struct xlb_flow_key {
	union xlb_addr src;		/* client address */
	union xlb_addr dst;		/* VIP address */
	__be16 sport;			/* client port (0 for ICMP) */
	__be16 dport;			/* VIP port (0 for ICMP) */
	__u8 proto;			/* IPPROTO_* */
	__u8 family;			/* enum xlb_family */
	__u8 pad[2];			/* zero */
};
_Static_assert(sizeof(struct xlb_flow_key) == 40, "xlb_flow_key size");

/* xlb_flows value. */
struct xlb_flow {
	__u64 atime_ns;			/* last use, coarse monotonic ns, refreshed at most 1/s */
	__u32 real;			/* real index */
	__u32 vip;			/* VIP index (for per-VIP flow counts) */
};
_Static_assert(sizeof(struct xlb_flow) == 16, "xlb_flow size");

/* xlb_config value (array of one): LB-host settings that change at run time. */
struct xlb_config {
	union xlb_addr src_v6;		/* outer source for IPv6 outer headers; 0 = unset */
	__be32 src_v4;			/* outer source for IPv4 outer headers; 0 = unset */
	__u32 hash_seed;		/* flow hash seed, identical on every LB host */
	__be16 gue_port;		/* outer UDP destination port of GUE, network order */
	__u16 mtu;			/* egress L3 MTU towards reals; 0 = no check */
	__u16 flags;			/* reserved, zero */
	__u16 pad;			/* zero */
};
_Static_assert(sizeof(struct xlb_config) == 32, "xlb_config size");

/*
 * xlb_vipstats_v2 value (per CPU), indexed by VIP index. Every drop of a
 * packet whose VIP is known counts in drops and in exactly one drop_*
 * field, named after the global counter (enum xlb_stat) it also counts in,
 * so drops == the sum of the drop_* fields. Packets dropped before their
 * VIP is known (malformed headers, unconfigured port, unmatched ICMP) count
 * only globally.
 */
struct xlb_vip_stats {
	__u64 packets;			/* packets forwarded to a real */
	__u64 bytes;			/* bytes of those packets as received */
	__u64 new_flows;		/* TCP SYNs and flow-table misses */
	__u64 drops;			/* packets to this VIP that were dropped: sum of drop_* */
	__u64 drop_no_real;		/* DROP_NO_REAL: no real in the ring */
	__u64 drop_fragment;		/* DROP_FRAGMENT: fragment to a VIP that hashes on ports */
	__u64 drop_too_big;		/* ICMP_TOO_BIG + DROP_TOO_BIG: too big once encapsulated */
	__u64 drop_encap;		/* DROP_ENCAP: encapsulation (or the too-big reply) failed */
};
_Static_assert(sizeof(struct xlb_vip_stats) == 64, "xlb_vip_stats size");

/* xlb_real_stats value (per CPU), indexed by real index. */
struct xlb_real_stats {
	__u64 packets;			/* packets sent to this real */
	__u64 bytes;			/* bytes of those packets as received (before encap) */
};
_Static_assert(sizeof(struct xlb_real_stats) == 16, "xlb_real_stats size");

#endif /* XLB_ABI_H */

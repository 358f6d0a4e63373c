/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Constants of the balancer and the per-packet state its stages pass along
 * (struct xlb_pkt), shared by xlb.bpf.c, encap.h and icmp.h.
 */
#ifndef XLB_BALANCER_H
#define XLB_BALANCER_H

#include <linux/types.h>
#include "xlb/abi.h"

/* A stage's "go on with the next stage" (XDP actions are 0..4). */
#define XLB_CONTINUE (-1)

#define XLB_NSEC_PER_SEC 1000000000ULL
/* A flow entry's atime_ns is rewritten only when older than this (no per-packet writes). */
#define XLB_ATIME_REFRESH_NS XLB_NSEC_PER_SEC

#define XLB_ETH_ALEN 6
#define XLB_IPV6_MIN_MTU 1280		/* RFC 8200: every IPv6 link carries this much */
#define XLB_IPV4_MIN_MTU 68		/* RFC 791 */
/* ICMP and ICMPv6 headers, rest-of-header word included: where an error's quote starts. */
#define XLB_ICMP_HDR_LEN 8
/* Quoted bytes of a packet-too-big: fill the reply to exactly 1280 bytes. */
#define XLB_PTB_QUOTE (XLB_IPV6_MIN_MTU - 40 - 8)

#ifndef XLB_GUE_EXT_SUM_MAX
/* IPv6 extension-header bytes a GUE checksum sums at most (more: DROP_ENCAP). */
#define XLB_GUE_EXT_SUM_MAX 256
#endif

/* Per-packet state filled by parsing and read by the later stages. */
struct xlb_pkt {
	struct xlb_flow_key key;	/* client -> VIP; ICMP error: its quote, reversed */
	__u32 pkt_len;			/* frame length as received */
	__u32 l3_len;			/* IP length per header: tot_len, 40 + payload_len */
	__u32 l3_hdr_len;		/* IP header incl. options / extension headers */
	__u8 l4_proto;			/* the packet's own L4 (ICMP for an ICMP error) */
	__u8 tos;			/* DSCP + ECN of the packet */
	__u8 df;			/* IPv4: DF set; IPv6: 1 (never fragmented en route) */
	__u8 vlan;			/* an 802.1Q/802.1ad tag follows the Ethernet header */
	__u8 syn;			/* TCP SYN without ACK */
	__u8 icmp_err;			/* ICMP error of a VIP flow: no store/MTU check */
	__u8 no_l4_csum;		/* UDPv4 with checksum 0, or a fragment: outer GUE checksum 0 */
	__u8 frag;			/* IPv4 fragment / IPv6 fragment header: key has ports 0 */
};

#endif /* XLB_BALANCER_H */

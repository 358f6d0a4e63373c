// SPDX-License-Identifier: GPL-2.0-only
/*
 * xlb_decap: the XDP program real servers run. It strips the encapsulation
 * the balancer adds and hands the client's original packet to the stack
 * (XDP_PASS), so a real with the VIP on `lo` answers the client directly.
 *
 * Accepted on the wire (Ethernet, optionally one 802.1Q/802.1ad tag):
 *   IPIP   outer IPv4 protocol 4 (IPv4 inside) or 41 (IPv6 inside), options allowed;
 *          outer IPv6 next header 4 or 41 (no extension headers: xlb adds none)
 *   GUE    variant 1: outer IPv4/IPv6 + UDP to gue_port, directly followed by
 *          the inner IPv4/IPv6 header (the version nibble says which)
 * The output is the inner packet behind the same Ethernet header (and tag),
 * with the ethertype of the inner packet. Ethernet padding after the outer
 * packet is trimmed, so the frame ends where the inner packet ends.
 *
 * Classification rule: a packet is xlb encapsulation when its outer IP header
 * is complete and valid and its protocol is 4/41 (or UDP to gue_port). From
 * then on every inconsistency (truncation, lengths that disagree, wrong inner
 * version) is dropped and counted DROP_MALFORMED. Everything else, including
 * IP headers too broken to classify, passes untouched (PASS) for the stack to
 * handle and count in its own IP counters.
 *
 * Outer IPv4 fragments pass untouched: only the first fragment holds the inner
 * header, so XDP cannot decapsulate them; the stack reassembles them (and, on
 * a host with a kernel ipip/fou tunnel, decapsulates the whole datagram; on
 * one without, drops it). The balancer never fragments (it answers "too big"
 * instead), so these only come from a router that ignored DF.
 *
 * The outer UDP checksum of GUE is not verified (zero is allowed for tunnels,
 * RFC 6935); the inner packet keeps its own checksums, which the stack checks.
 *
 * ECN (RFC 6040, as the kernel's tunnels do): a congestion mark (CE) on the
 * outer header is copied to an ECN-capable inner packet (IPv4 header checksum
 * updated); an outer CE over a not-ECN-capable inner packet cannot be
 * delivered, so that packet is dropped (counted DROP_MALFORMED). The balancer
 * copies the inner ECN bits to the outer header, so routers only mark what
 * the endpoints made ECN-capable.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb/abi.h"
#include "csum.h"
#include "parse.h"

char LICENSE[] SEC("license") = "GPL";

/* Knobs fixed at load time (set through the skeleton's rodata). */
const volatile bool restrict_vips = false;		/* inner dst must be in xlb_decap_vips */
const volatile __be16 gue_port = bpf_htons(XLB_GUE_PORT_DEFAULT); /* GUE UDP dport */

/* VIPs whose traffic may be decapsulated when restrict_vips is set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_key);
	__type(value, __u8);
} xlb_decap_vips SEC(".maps");

/* Counters, one per enum xlb_decap_stat; every packet adds RX and exactly one other. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_DECAP_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} xlb_dstats SEC(".maps");

#define IPV6_HLEN 40
#define GUE_UDP_HLEN 8
#define ECN_MASK 0x03		/* the ECN bits of TOS / traffic class */
#define ECN_NOT_ECT 0x00
#define ECN_CE 0x03

/* What the parse stage learned; the rewrite stage works from these alone. */
struct decap_plan {
	__u32 l2_len;		/* Ethernet header (+ tag) length: 14 or 18 */
	__u32 strip;		/* outer IP header (+ UDP) bytes to remove */
	__u32 trim;		/* padding bytes after the outer packet */
	__u16 inner_proto;	/* ethertype of the inner packet, host order */
	__u8 stat;		/* DECAP_IPIP or DECAP_GUE */
	__u8 mark_ce;		/* outer CE to copy onto the (ECN-capable) inner packet */
	struct xlb_vip_key key;	/* inner destination, for the allow list */
};

enum {
	DECAP_CONTINUE = -1,	/* stage done, go on with the next */
};

static __always_inline void count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&xlb_dstats, &stat);

	/* Cannot miss: stat < max_entries. The check is for the verifier. */
	if (v)
		*v += 1;
}

/* ECN bits of an IPv6 header: the low two bits of the traffic class. */
static __always_inline __u8 ipv6_ecn(const struct ipv6hdr *ip6h)
{
	return (ip6h->flow_lbl[0] >> 4) & ECN_MASK;
}

static __always_inline bool is_encap_proto(__u8 proto)
{
	return proto == IPPROTO_IPIP || proto == IPPROTO_IPV6 || proto == IPPROTO_UDP;
}

/*
 * Validates the inner header at cursor c against the outer payload length
 * `len` and the version the outer header announced (0 = either, for GUE).
 * Fills the plan's ethertype and allow-list key. DECAP_CONTINUE or XDP_DROP.
 */
static __always_inline int check_inner(struct xlb_cursor *c, void *data_end, __u32 len,
				       __u8 want, __u8 outer_ecn, struct decap_plan *plan)
{
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	__u8 version, ecn;

	if (c->pos + 1 > data_end)
		return XDP_DROP;
	version = *(__u8 *)c->pos >> 4;
	if (want && version != want)
		return XDP_DROP;

	if (version == 4) {
		if (parse_iphdr(c, data_end, &iph) < 0 || bpf_ntohs(iph->tot_len) != len)
			return XDP_DROP;
		plan->inner_proto = ETH_P_IP;
		plan->key.family = XLB_AF_INET;
		plan->key.addr.v4 = iph->daddr;
		ecn = iph->tos & ECN_MASK;
		goto ecn;
	}
	if (version == 6) {
		if (parse_ipv6hdr(c, data_end, &ip6h) < 0 ||
		    bpf_ntohs(ip6h->payload_len) + IPV6_HLEN != len)
			return XDP_DROP;
		plan->inner_proto = ETH_P_IPV6;
		plan->key.family = XLB_AF_INET6;
		__builtin_memcpy(plan->key.addr.bytes, &ip6h->daddr, 16);
		ecn = ipv6_ecn(ip6h);
		goto ecn;
	}
	return XDP_DROP;

ecn:
	/* RFC 6040 4.2: outer CE marks an ECT inner packet, and drops a not-ECT one. */
	if (outer_ecn == ECN_CE && ecn != ECN_CE) {
		if (ecn == ECN_NOT_ECT)
			return XDP_DROP;
		plan->mark_ce = 1;
	}
	return DECAP_CONTINUE;
}

/*
 * Parse stage: Ethernet, outer IP, optional GUE UDP, inner IP. Returns
 * XDP_PASS (not xlb encapsulation), XDP_DROP (malformed) or DECAP_CONTINUE
 * with *plan filled in.
 *
 * The outer header is read field by field rather than with parse_iphdr /
 * parse_ipv6hdr: those reject a total length beyond the frame before the
 * protocol is known, and a truncated tunnel packet is to be counted as
 * DROP_MALFORMED here, while truncated other traffic passes to the stack.
 */
static __always_inline int parse_encap(struct xdp_md *ctx, struct decap_plan *plan)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct xlb_cursor c = { .pos = data };
	__u32 l3_avail, outer_len, hlen;
	struct xlb_vlan_hdr *vlan;
	struct ethhdr *eth;
	__u8 proto, want, outer_ecn;
	int h_proto;
	void *l3;

	h_proto = parse_ethhdr(&c, data_end, &eth, &vlan);
	if (h_proto < 0)
		return XDP_PASS;
	plan->l2_len = vlan ? sizeof(*eth) + sizeof(*vlan) : sizeof(*eth);
	l3 = c.pos;
	l3_avail = data_end - l3;

	if (h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l3;

		if ((void *)(iph + 1) > data_end || iph->version != 4 || iph->ihl < 5)
			return XDP_PASS;
		proto = iph->protocol;
		if (!is_encap_proto(proto) || ipv4_is_fragment(iph))
			return XDP_PASS;	/* fragments: see the lead comment */
		hlen = iph->ihl * 4;
		outer_len = bpf_ntohs(iph->tot_len);
		outer_ecn = iph->tos & ECN_MASK;
	} else if (h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > data_end || ip6h->version != 6)
			return XDP_PASS;
		proto = ip6h->nexthdr;
		if (!is_encap_proto(proto))
			return XDP_PASS;
		hlen = IPV6_HLEN;
		outer_len = bpf_ntohs(ip6h->payload_len) + IPV6_HLEN;
		outer_ecn = ipv6_ecn(ip6h);
	} else {
		return XDP_PASS;
	}

	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l3 + hlen;

		/* Can't read the port: not classifiable, let the stack judge it. */
		if ((void *)(udp + 1) > data_end || udp->dest != gue_port)
			return XDP_PASS;
		/* From here on it is GUE to us: inconsistencies are drops. */
		if (outer_len < hlen + GUE_UDP_HLEN || bpf_ntohs(udp->len) != outer_len - hlen)
			return XDP_DROP;
		hlen += GUE_UDP_HLEN;
		want = 0;
		plan->stat = XLB_DECAP_STAT_DECAP_GUE;
	} else {
		want = proto == IPPROTO_IPIP ? 4 : 6;
		plan->stat = XLB_DECAP_STAT_DECAP_IPIP;
	}

	/* The outer packet must fit in the frame; anything after it is padding. */
	if (outer_len < hlen || outer_len > l3_avail)
		return XDP_DROP;
	plan->strip = hlen;
	plan->trim = l3_avail - outer_len;

	/* hlen <= 60 + 8 (ihl is 4 bits): a bounded packet offset for the verifier. */
	c.pos = l3 + (hlen & 0x7f);
	return check_inner(&c, data_end, outer_len - hlen, want, outer_ecn, plan);
}

/* Allow-list stage: with restrict_vips, the inner destination must be listed. */
static __always_inline int check_allowed(struct decap_plan *plan)
{
	if (!restrict_vips)
		return DECAP_CONTINUE;
	/* A miss means the VIP is not served here: drop rather than deliver. */
	if (!bpf_map_lookup_elem(&xlb_decap_vips, &plan->key))
		return XDP_DROP;
	return DECAP_CONTINUE;
}

/* Sets CE on the inner header at l3 (its ECN field was ECT(0) or ECT(1)). */
static __always_inline int mark_ce(void *l3, void *data_end, __u16 inner_proto)
{
	if (inner_proto == ETH_P_IP) {
		struct iphdr *iph = l3;
		__be16 old_word, new_word;

		if ((void *)(iph + 1) > data_end)
			return XDP_DROP;	/* checked before the move: cannot happen */
		/* The checksum covers version/ihl and tos as one 16-bit word. */
		old_word = *(__be16 *)iph;
		iph->tos |= ECN_CE;
		new_word = *(__be16 *)iph;
		csum_replace2(&iph->check, old_word, new_word);
	} else {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > data_end)
			return XDP_DROP;
		ip6h->flow_lbl[0] |= ECN_CE << 4;
	}
	return DECAP_CONTINUE;
}

/*
 * Rewrite stage: trim padding, remove the outer headers, write the saved
 * Ethernet header (and tag) in front of the inner packet with its ethertype.
 */
static __always_inline int strip_outer(struct xdp_md *ctx, const struct decap_plan *plan)
{
	struct xlb_vlan_hdr tag_copy;
	struct ethhdr eth_copy;
	void *data, *data_end;
	struct ethhdr *eth;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) + sizeof(tag_copy) > data_end)
		return XDP_DROP;	/* parse saw at least this much; keeps the verifier happy */
	__builtin_memcpy(&eth_copy, eth, sizeof(eth_copy));
	__builtin_memcpy(&tag_copy, eth + 1, sizeof(tag_copy));

	if (plan->trim && bpf_xdp_adjust_tail(ctx, -(int)plan->trim))
		return XDP_DROP;
	if (bpf_xdp_adjust_head(ctx, (int)plan->strip))
		return XDP_DROP;

	/* The helpers above invalidated every packet pointer: derive them again. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) + sizeof(tag_copy) > data_end)
		return XDP_DROP;	/* inner header (>= 20 bytes) follows: cannot happen */
	if (plan->l2_len == sizeof(*eth)) {
		eth_copy.h_proto = bpf_htons(plan->inner_proto);
	} else {
		tag_copy.proto = bpf_htons(plan->inner_proto);
		__builtin_memcpy(eth + 1, &tag_copy, sizeof(tag_copy));
	}
	__builtin_memcpy(eth, &eth_copy, sizeof(eth_copy));
	if (plan->mark_ce)
		return mark_ce(data + (plan->l2_len & 0x1f), data_end, plan->inner_proto);
	return DECAP_CONTINUE;
}

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	struct decap_plan plan;
	int act;

	__builtin_memset(&plan, 0, sizeof(plan));	/* key padding must be zero */
	count(XLB_DECAP_STAT_RX);

	act = parse_encap(ctx, &plan);
	if (act == XDP_PASS) {
		count(XLB_DECAP_STAT_PASS);
		return XDP_PASS;
	}
	if (act != DECAP_CONTINUE)
		goto malformed;

	if (check_allowed(&plan) != DECAP_CONTINUE) {
		count(XLB_DECAP_STAT_DROP_NOT_ALLOWED);
		return XDP_DROP;
	}

	if (strip_outer(ctx, &plan) != DECAP_CONTINUE)
		goto malformed;
	count(plan.stat);
	return XDP_PASS;

malformed:
	count(XLB_DECAP_STAT_DROP_MALFORMED);
	return XDP_DROP;
}

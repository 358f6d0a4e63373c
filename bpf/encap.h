/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Encapsulation of a VIP packet towards its real: IPIP (4in4, 6in6, 4in6,
 * 6in4) or GUE variant 1 (outer IP + UDP + the inner IP packet, no GUE
 * header), grown in front of the received packet with bpf_xdp_adjust_head.
 * The inner packet (and any Ethernet padding after it) is never touched.
 *
 * Outer header: source = the LB's configured address for the outer family,
 * destination = the real, TTL/hop limit XLB_OUTER_TTL, TOS/traffic class =
 * the inner DSCP+ECN, DF copied from the inner IPv4 header (set for an
 * inner IPv6 packet, which routers must not fragment), IPv4 id 0 when DF is
 * set (an atomic datagram, RFC 6864) and random when it is clear (a router
 * may fragment it: reassembly needs ids that vary), IPv6 flow label from the
 * flow hash. Ethernet: destination = the real's next hop,
 * source = the MAC the packet was sent to (ours), VLAN tag kept.
 */
#ifndef XLB_ENCAP_H
#define XLB_ENCAP_H

#include "parse.h"
#include "csum.h"
#include "balancer.h"
#include "xlb/hash.h"

/* Bytes added in front of the inner IP packet. */
static __always_inline __u32 encap_overhead(__u8 outer_family, __u8 encap)
{
	__u32 len = outer_family == XLB_AF_INET6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);

	if (encap == XLB_ENCAP_GUE)
		len += sizeof(struct udphdr);
	return len;
}

/*
 * Partial sum of the inner IP header with its options or extension headers
 * (l3_hdr_len bytes at l3). -1 when out of bounds or when IPv6 extension
 * headers exceed XLB_GUE_EXT_SUM_MAX bytes.
 */
static __always_inline int sum_l3_hdr(const void *l3, const void *data_end,
				      const struct xlb_pkt *pkt, __u64 *sum)
{
	__u32 hlen = pkt->l3_hdr_len;
	__u64 s = 0;

	if (pkt->key.family == XLB_AF_INET) {
		const struct iphdr *iph = l3;

		if ((void *)(iph + 1) > data_end)
			return -1;
		s = csum_add_words(0, iph, 5);
		/* Options: up to 10 more words, all in the frame per parse_iphdr. */
#pragma unroll
		for (int i = 5; i < 15; i++) {
			const __u32 *w = l3 + i * 4;

			if (i * 4 >= hlen)
				break;
			/* Re-checked per word: the verifier cannot relate hlen to data_end. */
			if ((void *)(w + 1) > data_end)
				return -1;
			s += *w;
		}
	} else {
		const struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > data_end)
			return -1;
		s = csum_add_words(0, ip6h, 10);
		if (hlen > sizeof(*ip6h) + XLB_GUE_EXT_SUM_MAX)
			return -1;
		/* Extension headers are multiples of 8 bytes. */
#pragma unroll
		for (int i = 0; i < XLB_GUE_EXT_SUM_MAX / 8; i++) {
			const __u32 *w = l3 + sizeof(*ip6h) + i * 8;

			if (sizeof(*ip6h) + i * 8 >= hlen)
				break;
			if ((void *)(w + 2) > data_end)
				return -1;
			s += w[0];
			s += w[1];
		}
	}
	*sum = s;
	return 0;
}

/*
 * Partial sum of the inner L4 pseudo header (0 for ICMPv4, which has none).
 * The caller has checked the bounds of the fixed IP header at l3.
 */
static __always_inline __u64 sum_l4_pseudo(const void *l3, const struct xlb_pkt *pkt)
{
	__u32 l4_len = pkt->l3_len - pkt->l3_hdr_len;

	if (pkt->key.family == XLB_AF_INET) {
		const struct iphdr *iph = l3;

		if (pkt->l4_proto == IPPROTO_ICMP)
			return 0;
		return csum_pseudo_v4(iph->saddr, iph->daddr, pkt->l4_proto, l4_len);
	} else {
		const struct ipv6hdr *ip6h = l3;

		return csum_pseudo_v6(ip6h->saddr.in6_u.u6_addr32, ip6h->daddr.in6_u.u6_addr32,
				      pkt->l4_proto, l4_len);
	}
}

/*
 * Partial sum of everything the outer UDP checksum covers after the UDP
 * header, i.e. the whole inner IP packet, without reading its payload.
 *
 * Local checksum offload identity (Documentation/networking/checksum-offloads
 * .rst, "LCO"): an L4 segment whose checksum is valid sums, checksum field
 * included, to the complement of its pseudo-header sum (ICMPv4 has none: the
 * message sums to 0xffff, i.e. 0). So the inner packet sums to
 *   sum(inner IP header + options / extension headers) + ~sum(inner pseudo header).
 * ASSUMPTION: the inner L4 checksum is valid. If it is not, the outer
 * checksum is wrong too and the real drops the packet, as it would have
 * dropped the inner one. UDP over IPv4 without a checksum (0) and fragments
 * (whose L4 checksum covers the whole datagram) have no such identity: the
 * outer UDP checksum is then sent as 0 (pkt->no_l4_csum), allowed for IPv4
 * and, for tunnels, for IPv6 (RFC 6935).
 */
static __always_inline int sum_inner_packet(const void *l3, const void *data_end,
					    const struct xlb_pkt *pkt, __u64 *sum)
{
	__u64 hdr;

	if (sum_l3_hdr(l3, data_end, pkt, &hdr))
		return -1;
	*sum = hdr + (__u16)~csum_fold(sum_l4_pseudo(l3, pkt));
	return 0;
}

/* Writes the outer IPv4 header; its checksum is computed over what was written. */
static __always_inline void write_outer_v4(struct iphdr *oip, const struct xlb_pkt *pkt,
					   __be32 saddr, __be32 daddr, __u32 tot_len, __u8 proto)
{
	*(__u8 *)oip = 0x45;		/* version 4, ihl 5 */
	oip->tos = pkt->tos;
	oip->tot_len = bpf_htons(tot_len);
	/* RFC 6864: 0 is fine for atomic datagrams only; low 16 bits of a random word. */
	oip->id = pkt->df ? 0 : (__be16)bpf_get_prandom_u32();
	oip->frag_off = pkt->df ? bpf_htons(XLB_IPV4_DF) : 0;
	oip->ttl = XLB_OUTER_TTL;
	oip->protocol = proto;
	oip->check = 0;
	oip->saddr = saddr;
	oip->daddr = daddr;
	oip->check = csum_ipv4_hdr(oip);
}

static __always_inline void write_outer_v6(struct ipv6hdr *o6, const struct xlb_pkt *pkt,
					   const union xlb_addr *saddr,
					   const union xlb_addr *daddr,
					   __u32 payload_len, __u8 proto, __u32 hash)
{
	/* version 6, traffic class, flow label in one word */
	*(__be32 *)o6 = bpf_htonl(0x60000000 | ((__u32)pkt->tos << 20) | xlb_flow_label(hash));
	o6->payload_len = bpf_htons(payload_len);
	o6->nexthdr = proto;
	o6->hop_limit = XLB_OUTER_TTL;
	__builtin_memcpy(&o6->saddr, saddr, sizeof(o6->saddr));
	__builtin_memcpy(&o6->daddr, daddr, sizeof(o6->daddr));
}

/*
 * Encapsulates the packet for real and rewrites its Ethernet header.
 * Returns 0, or -1 (DROP_ENCAP: no outer source configured, no headroom,
 * unexpected bounds after the move).
 */
static __always_inline int encap_packet(struct xdp_md *ctx, const struct xlb_pkt *pkt,
					const struct xlb_real *real,
					const struct xlb_config *cfg, __u32 hash, __u8 encap)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xlb_vlan_hdr vlan = {};
	struct ethhdr *eth = data;
	__u8 our_mac[XLB_ETH_ALEN];
	__u32 overhead, inner_len = pkt->l3_len;
	__u8 family = real->family, proto;
	__u64 inner_sum = 0;
	struct udphdr *udph;
	void *l3;

	if (family == XLB_AF_INET) {
		/* The real's address and our outer source must match its family. */
		if (!cfg->src_v4)
			return -1;
	} else if (family == XLB_AF_INET6) {
		if (!(cfg->src_v6.v6[0] | cfg->src_v6.v6[1] | cfg->src_v6.v6[2] |
		      cfg->src_v6.v6[3]))
			return -1;
	} else {
		return -1;
	}

	/* Save what the move overwrites: our MAC (the destination) and the tag. */
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(our_mac, eth->h_dest, XLB_ETH_ALEN);
	l3 = eth + 1;
	if (pkt->vlan) {
		struct xlb_vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > data_end)
			return -1;
		vlan = *vh;
		vlan.proto = eth->h_proto;	/* the TPID goes into the Ethernet header */
		l3 = vh + 1;
	}

	if (encap == XLB_ENCAP_GUE) {
		/* Summed now, while the inner pointers are still valid; not when unused. */
		if (!pkt->no_l4_csum && sum_inner_packet(l3, data_end, pkt, &inner_sum))
			return -1;
		proto = IPPROTO_UDP;
	} else {
		proto = pkt->key.family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	}
	overhead = encap_overhead(family, encap);

	if (bpf_xdp_adjust_head(ctx, -(int)overhead))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;

	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, real->next_hop_mac, XLB_ETH_ALEN);
	__builtin_memcpy(eth->h_source, our_mac, XLB_ETH_ALEN);
	l3 = eth + 1;
	if (pkt->vlan) {
		struct xlb_vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > data_end)
			return -1;
		eth->h_proto = vlan.proto;
		vh->tci = vlan.tci;
		vh->proto = bpf_htons(family == XLB_AF_INET ? ETH_P_IP : ETH_P_IPV6);
		l3 = vh + 1;
	} else {
		eth->h_proto = bpf_htons(family == XLB_AF_INET ? ETH_P_IP : ETH_P_IPV6);
	}

	if (family == XLB_AF_INET) {
		struct iphdr *oip = l3;

		if ((void *)(oip + 1) > data_end)
			return -1;
		write_outer_v4(oip, pkt, cfg->src_v4, real->addr.v4, inner_len + overhead, proto);
		udph = (void *)(oip + 1);
	} else {
		struct ipv6hdr *o6 = l3;

		if ((void *)(o6 + 1) > data_end)
			return -1;
		write_outer_v6(o6, pkt, &cfg->src_v6, &real->addr,
			       inner_len + overhead - sizeof(*o6), proto, hash);
		udph = (void *)(o6 + 1);
	}
	if (encap != XLB_ENCAP_GUE)
		return 0;

	if ((void *)(udph + 1) > data_end)
		return -1;
	{
		__u32 udp_len = inner_len + sizeof(*udph);
		__u64 sum;
		__sum16 check;

		udph->source = bpf_htons(xlb_gue_sport(hash));
		udph->dest = cfg->gue_port;
		udph->len = bpf_htons(udp_len);
		udph->check = 0;
		if (pkt->no_l4_csum)
			return 0;
		if (family == XLB_AF_INET)
			sum = csum_pseudo_v4(cfg->src_v4, real->addr.v4, IPPROTO_UDP, udp_len);
		else
			sum = csum_pseudo_v6(cfg->src_v6.v6, real->addr.v6, IPPROTO_UDP, udp_len);
		sum = csum_add_words(sum, udph, 2) + inner_sum;
		check = csum_finish(sum);
		/* RFC 768: a computed 0 is sent as all ones (0 means "no checksum"). */
		udph->check = check ? check : (__sum16)0xffff;
	}
	return 0;
}

#endif /* XLB_ENCAP_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ICMP handling of the balancer:
 * - echo requests to a VIP address are answered in place (reply_echo_v4/v6);
 * - ICMP errors to a VIP address quoting a packet of a VIP flow are mapped
 *   back to that flow (parse_quote_v4/v6 reverse the quoted tuple) so that
 *   the caller forwards them to the flow's real;
 * - a packet too big once encapsulated is answered with frag-needed /
 *   packet-too-big, built in place over the packet (send_frag_needed,
 *   send_pkt_too_big), sourced from the VIP.
 */
#ifndef XLB_ICMP_H
#define XLB_ICMP_H

#include "parse.h"
#include "csum.h"
#include "balancer.h"
#include "maps.h"

/* Most 32-bit words a frag-needed quotes: a 60-byte IPv4 header + 8 bytes. */
#define XLB_FRAG_QUOTE_WORDS 17

static __always_inline void swap_macs(struct ethhdr *eth)
{
	__u8 tmp[XLB_ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, XLB_ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, XLB_ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, XLB_ETH_ALEN);
}

/*
 * Echo request -> echo reply, in place: MACs and addresses swapped (neither
 * changes a checksum: the sums are commutative and the ICMPv6 pseudo header
 * is symmetric), TTL reset to XLB_OUTER_TTL, type changed; both checksums
 * updated incrementally. The caller checked the bounds of every header.
 */
static __always_inline int reply_echo_v4(struct ethhdr *eth, struct iphdr *iph,
					 struct icmphdr *icmph)
{
	__be32 addr = iph->saddr;

	swap_macs(eth);
	iph->saddr = iph->daddr;
	iph->daddr = addr;
	/* The 16-bit words changed: ttl|protocol and type|code (values, not re-reads). */
	csum_replace2(&iph->check, bpf_htons((iph->ttl << 8) | iph->protocol),
		      bpf_htons((XLB_OUTER_TTL << 8) | iph->protocol));
	iph->ttl = XLB_OUTER_TTL;
	csum_replace2(&icmph->checksum, bpf_htons((ICMP_ECHO << 8) | icmph->code),
		      bpf_htons((ICMP_ECHOREPLY << 8) | icmph->code));
	icmph->type = ICMP_ECHOREPLY;
	return XDP_TX;
}

static __always_inline int reply_echo_v6(struct ethhdr *eth, struct ipv6hdr *ip6h,
					 struct icmp6hdr *icmp6h)
{
	struct in6_addr addr = ip6h->saddr;

	swap_macs(eth);
	ip6h->saddr = ip6h->daddr;
	ip6h->daddr = addr;
	ip6h->hop_limit = XLB_OUTER_TTL;	/* not covered by any checksum */
	csum_replace2(&icmp6h->icmp6_cksum,
		      bpf_htons((ICMPV6_ECHO_REQUEST << 8) | icmp6h->icmp6_code),
		      bpf_htons((ICMPV6_ECHO_REPLY << 8) | icmp6h->icmp6_code));
	icmp6h->icmp6_type = ICMPV6_ECHO_REPLY;
	return XDP_TX;
}

/*
 * True when qlen bytes from the start of the quote lie inside the ICMP
 * error's own IP packet (pkt->l3_len, from tot_len / payload_len), not merely
 * inside the frame: bytes after the IP packet are Ethernet padding, and a
 * flow key read from them would steer the error to an arbitrary real.
 */
static __always_inline int quote_fits(const struct xlb_pkt *pkt, __u32 qlen)
{
	return pkt->l3_hdr_len + XLB_ICMP_HDR_LEN + qlen <= pkt->l3_len;
}

/*
 * The packet quoted by an ICMPv4 error (c on the quoted IP header): a packet
 * a real sent for a VIP, VIP -> client. Fills pkt->key with the reversed
 * tuple, client -> VIP, i.e. the key of the flow it belongs to. Returns
 * XLB_CONTINUE, or the stat of the drop: DROP_MALFORMED when the quoted IP
 * header and the 4 bytes of ports are not all inside the frame and inside the
 * ICMP error's IP packet, DROP_ICMP when it cannot belong to a flow (not
 * TCP/UDP, a non-first fragment without ports).
 */
static __always_inline int parse_quote_v4(struct xlb_cursor *c, void *data_end,
					  struct xlb_pkt *pkt)
{
	struct iphdr *iph = c->pos;
	__be16 *ports;

	if ((void *)(iph + 1) > data_end)
		return XLB_STAT_DROP_MALFORMED;
	if (iph->version != 4 || iph->ihl < 5)
		return XLB_STAT_DROP_MALFORMED;
	/* ihl <= 15: a bounded variable offset. RFC 792 quotes 8 bytes of L4. */
	ports = (void *)iph + iph->ihl * 4;
	if ((void *)(ports + 2) > data_end || !quote_fits(pkt, iph->ihl * 4 + 4))
		return XLB_STAT_DROP_MALFORMED;
	if (iph->frag_off & bpf_htons(XLB_IPV4_OFFSET))
		return XLB_STAT_DROP_ICMP;
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		return XLB_STAT_DROP_ICMP;
	pkt->key.src.v4 = iph->daddr;
	pkt->key.dst.v4 = iph->saddr;
	pkt->key.sport = ports[1];
	pkt->key.dport = ports[0];
	pkt->key.proto = iph->protocol;
	pkt->key.family = XLB_AF_INET;
	return XLB_CONTINUE;
}

/*
 * As parse_quote_v4, for an ICMPv6 error: the quoted IPv6 header, its
 * extension headers and the ports must lie inside the frame and inside the
 * error's IP packet. A quoted fragment header: DROP_ICMP.
 */
static __always_inline int parse_quote_v6(struct xlb_cursor *c, void *data_end,
					  struct xlb_pkt *pkt)
{
	struct ipv6hdr *ip6h = c->pos;
	__u32 qhlen;
	__be16 *ports;
	int proto;

	if ((void *)(ip6h + 1) > data_end || !quote_fits(pkt, sizeof(*ip6h)))
		return XLB_STAT_DROP_MALFORMED;
	if (ip6h->version != 6)
		return XLB_STAT_DROP_MALFORMED;
	c->pos = ip6h + 1;
	proto = skip_ipv6_ext(c, data_end, ip6h->nexthdr);
	if (proto < 0)
		return XLB_STAT_DROP_MALFORMED;
	qhlen = c->pos - (void *)ip6h;
	if (!quote_fits(pkt, qhlen))
		return XLB_STAT_DROP_MALFORMED;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return XLB_STAT_DROP_ICMP;
	ports = c->pos;
	if ((void *)(ports + 2) > data_end || !quote_fits(pkt, qhlen + 4))
		return XLB_STAT_DROP_MALFORMED;
	__builtin_memcpy(&pkt->key.src, &ip6h->daddr, sizeof(pkt->key.src));
	__builtin_memcpy(&pkt->key.dst, &ip6h->saddr, sizeof(pkt->key.dst));
	pkt->key.sport = ports[1];
	pkt->key.dport = ports[0];
	pkt->key.proto = proto;
	pkt->key.family = XLB_AF_INET6;
	return XLB_CONTINUE;
}

/*
 * Saves the Ethernet header (and tag) of the received frame and returns a
 * pointer to its L3 header, or NULL when out of bounds.
 */
static __always_inline void *save_l2(void *data, void *data_end, const struct xlb_pkt *pkt,
				     struct ethhdr *eth_save, struct xlb_vlan_hdr *vlan_save)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return NULL;
	*eth_save = *eth;
	if (pkt->vlan) {
		struct xlb_vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > data_end)
			return NULL;
		*vlan_save = *vh;
		return vh + 1;
	}
	return eth + 1;
}

/*
 * Writes the Ethernet header of a reply (MACs of the received frame swapped,
 * tag kept) at the start of the frame; returns the L3 pointer or NULL.
 */
static __always_inline void *write_reply_l2(void *data, void *data_end, const struct xlb_pkt *pkt,
					    const struct ethhdr *eth_save,
					    const struct xlb_vlan_hdr *vlan_save)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return NULL;
	__builtin_memcpy(eth->h_dest, eth_save->h_source, XLB_ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth_save->h_dest, XLB_ETH_ALEN);
	eth->h_proto = eth_save->h_proto;
	if (pkt->vlan) {
		struct xlb_vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > data_end)
			return NULL;
		*vh = *vlan_save;
		return vh + 1;
	}
	return eth + 1;
}

/*
 * Makes room for a reply's new L3 and ICMP headers (hdr_len bytes) in front
 * of the client's packet and writes the L2 header back at the new start;
 * returns the L3 pointer (with *data_end re-derived) or NULL.
 */
static __always_inline void *push_reply_hdrs(struct xdp_md *ctx, const struct xlb_pkt *pkt,
					     __u32 hdr_len, const struct ethhdr *eth_save,
					     const struct xlb_vlan_hdr *vlan_save, void **data_end)
{
	void *data;

	if (bpf_xdp_adjust_head(ctx, -(int)hdr_len))
		return NULL;
	data = (void *)(long)ctx->data;
	*data_end = (void *)(long)ctx->data_end;
	return write_reply_l2(data, *data_end, pkt, eth_save, vlan_save);
}

/*
 * Cuts the reply after its quote: l3_len bytes from the new L3 header on.
 * The frame holds the whole client packet plus hdr_len, so this only shrinks.
 */
static __always_inline int trim_reply(struct xdp_md *ctx, const struct xlb_pkt *pkt, __u32 l3_len,
				      __u32 hdr_len)
{
	__u32 len = l3_len;

	len += pkt->vlan ? sizeof(struct ethhdr) + sizeof(struct xlb_vlan_hdr) :
			   sizeof(struct ethhdr);
	if (bpf_xdp_adjust_tail(ctx, (int)len - (int)(pkt->pkt_len + hdr_len)))
		return -1;
	return 0;
}

/*
 * ICMP "fragmentation needed" (type 3 code 4, RFC 1191) to the client, in
 * place of its IPv4 packet with DF set: new IPv4 header (VIP -> client, no
 * options, TTL XLB_OUTER_TTL, TOS 0, id 0, DF clear) + ICMP header with the
 * next-hop MTU + the client's IP header (with options) and the first 8 bytes
 * of its payload (RFC 792). The frame grows by 28 bytes at the front and is
 * cut after the quote. Returns 0, or -1 when the frame cannot be rebuilt.
 */
static __always_inline int send_frag_needed(struct xdp_md *ctx, const struct xlb_pkt *pkt,
					    __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 quote = pkt->l3_hdr_len + 8;
	struct ethhdr eth_save;
	struct xlb_vlan_hdr vlan_save = {};
	__be32 vip, client;
	struct icmphdr *icmph;
	struct iphdr *iph;
	__u64 sum = 0;
	__u32 len;
	void *l3;

	l3 = save_l2(data, data_end, pkt, &eth_save, &vlan_save);
	if (!l3)
		return -1;
	iph = l3;
	if ((void *)(iph + 1) > data_end)
		return -1;
	vip = iph->daddr;
	client = iph->saddr;
	/* Sum the quote before the move; TCP/UDP parsing checked its bounds. */
#pragma unroll
	for (int i = 0; i < XLB_FRAG_QUOTE_WORDS; i++) {
		const __u32 *w = l3 + i * 4;

		if (i * 4 >= quote)
			break;
		if ((void *)(w + 1) > data_end)
			return -1;
		sum += *w;
	}

	l3 = push_reply_hdrs(ctx, pkt, sizeof(*iph) + sizeof(*icmph), &eth_save, &vlan_save,
			     &data_end);
	if (!l3)
		return -1;
	iph = l3;
	icmph = (void *)(iph + 1);
	if ((void *)(icmph + 1) > data_end)
		return -1;

	len = sizeof(*iph) + sizeof(*icmph) + quote;
	*(__u8 *)iph = 0x45;
	iph->tos = 0;
	iph->tot_len = bpf_htons(len);
	iph->id = 0;
	iph->frag_off = 0;
	iph->ttl = XLB_OUTER_TTL;
	iph->protocol = IPPROTO_ICMP;
	iph->check = 0;
	iph->saddr = vip;
	iph->daddr = client;
	iph->check = csum_ipv4_hdr(iph);

	icmph->type = ICMP_DEST_UNREACH;
	icmph->code = ICMP_FRAG_NEEDED;
	icmph->checksum = 0;
	icmph->un.frag.__unused = 0;
	icmph->un.frag.mtu = bpf_htons(mtu);
	icmph->checksum = csum_finish(csum_add_words(sum, icmph, 2));

	return trim_reply(ctx, pkt, len, sizeof(*iph) + sizeof(*icmph));
}

/*
 * ICMPv6 packet-too-big (type 2, RFC 8201) to the client, in place of its
 * IPv6 packet: new IPv6 header (VIP -> client, hop limit XLB_OUTER_TTL,
 * traffic class and flow label 0) + ICMPv6 header with the MTU + the first
 * XLB_PTB_QUOTE bytes of the client's packet, so that the reply is exactly
 * 1280 bytes (RFC 4443: as much as fits without exceeding the minimum MTU).
 * Only sent for packets longer than 1280 bytes, so the quote is constant.
 */
static __always_inline int send_pkt_too_big(struct xdp_md *ctx, const struct xlb_pkt *pkt,
					    __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xlb_vlan_hdr vlan_save = {};
	struct in6_addr vip, client;
	struct ethhdr eth_save;
	struct icmp6hdr *icmp6h;
	struct ipv6hdr *ip6h;
	__u64 sum;
	__s64 part;
	__u32 len;
	void *l3;

	l3 = save_l2(data, data_end, pkt, &eth_save, &vlan_save);
	if (!l3)
		return -1;
	ip6h = l3;
	if (l3 + XLB_PTB_QUOTE > data_end)
		return -1;
	vip = ip6h->daddr;
	client = ip6h->saddr;
	/* bpf_csum_diff sums at most 512 bytes per call: 512 + 512 + 208. */
	sum = 0;
	part = bpf_csum_diff(NULL, 0, l3, 512, 0);
	if (part < 0)
		return -1;
	sum += (__u32)part;
	part = bpf_csum_diff(NULL, 0, l3 + 512, 512, 0);
	if (part < 0)
		return -1;
	sum += (__u32)part;
	part = bpf_csum_diff(NULL, 0, l3 + 1024, XLB_PTB_QUOTE - 1024, 0);
	if (part < 0)
		return -1;
	sum += (__u32)part;

	l3 = push_reply_hdrs(ctx, pkt, sizeof(*ip6h) + sizeof(*icmp6h), &eth_save, &vlan_save,
			     &data_end);
	if (!l3)
		return -1;
	ip6h = l3;
	icmp6h = (void *)(ip6h + 1);
	if ((void *)(icmp6h + 1) > data_end)
		return -1;

	len = sizeof(*icmp6h) + XLB_PTB_QUOTE;
	*(__be32 *)ip6h = bpf_htonl(0x60000000);
	ip6h->payload_len = bpf_htons(len);
	ip6h->nexthdr = IPPROTO_ICMPV6;
	ip6h->hop_limit = XLB_OUTER_TTL;
	ip6h->saddr = vip;
	ip6h->daddr = client;

	icmp6h->icmp6_type = ICMPV6_PKT_TOOBIG;
	icmp6h->icmp6_code = 0;
	icmp6h->icmp6_cksum = 0;
	icmp6h->icmp6_mtu = bpf_htonl(mtu);
	sum += csum_pseudo_v6(vip.in6_u.u6_addr32, client.in6_u.u6_addr32, IPPROTO_ICMPV6, len);
	icmp6h->icmp6_cksum = csum_finish(csum_add_words(sum, icmp6h, 2));

	return trim_reply(ctx, pkt, sizeof(*ip6h) + len, sizeof(*ip6h) + sizeof(*icmp6h));
}

#endif /* XLB_ICMP_H */

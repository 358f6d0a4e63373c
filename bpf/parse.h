/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cursor-style packet parsers shared by the balancer (xlb.bpf.c) and the
 * decap program (decap.bpf.c), after xdp-tools' parsing_helpers.h.
 *
 * Every parser takes a cursor positioned on its header and data_end, checks
 * the bounds of what it reads, stores a pointer to the header, advances the
 * cursor past it and returns the next protocol (or a length for the L4
 * parsers). A negative return means "truncated or not a valid header": the
 * cursor is then left where it was and the header pointer is not set.
 *
 * Nothing here touches a map: the parsers are generic and self-contained.
 */
#ifndef XLB_PARSE_H
#define XLB_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef XLB_IPV6_EXT_MAX
#define XLB_IPV6_EXT_MAX 4		/* IPv6 extension headers skipped before giving up */
#endif

#define XLB_IPV4_DF 0x4000		/* iphdr.frag_off: don't fragment (host order) */
#define XLB_IPV4_MF 0x2000		/* iphdr.frag_off: more fragments (host order) */
#define XLB_IPV4_OFFSET 0x1fff		/* iphdr.frag_off: fragment offset (host order) */

/* Where the next header starts; data_end is passed beside it. */
struct xlb_cursor {
	void *pos;
};

/* One 802.1Q / 802.1ad tag (the uapi has no struct for it). */
struct xlb_vlan_hdr {
	__be16 tci;			/* PCP, DEI, VLAN id */
	__be16 proto;			/* ethertype of what follows */
};

/* IPv6 fragment header (struct frag_hdr is kernel-internal). */
struct xlb_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;		/* offset << 3 | M flag, network order */
	__be32 identification;
};

/*
 * Ethernet and at most one VLAN tag (802.1Q or 802.1ad). Returns the
 * ethertype of the L3 header in NETWORK byte order (compare it with
 * bpf_htons(ETH_P_IP)), or -1 when truncated. *vlanp is NULL without a tag.
 * A second tag is not parsed: its ethertype is returned and is not IP.
 */
static __always_inline int parse_ethhdr(struct xlb_cursor *c, void *data_end,
					struct ethhdr **ethp, struct xlb_vlan_hdr **vlanp)
{
	struct ethhdr *eth = c->pos;
	struct xlb_vlan_hdr *vh;
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	proto = eth->h_proto;
	*vlanp = NULL;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		vh = (void *)(eth + 1);
		if ((void *)(vh + 1) > data_end)
			return -1;
		proto = vh->proto;
		*vlanp = vh;
		c->pos = vh + 1;
	} else {
		c->pos = eth + 1;
	}
	*ethp = eth;
	return proto;
}

/*
 * IPv4 header with options. Returns the protocol, or -1 when truncated, not
 * version 4, ihl < 5, or when tot_len is shorter than the header or longer
 * than the frame (trailing Ethernet padding beyond tot_len is fine).
 */
static __always_inline int parse_iphdr(struct xlb_cursor *c, void *data_end,
				       struct iphdr **iphp)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot_len;

	if ((void *)(iph + 1) > data_end)
		return -1;
	if (iph->version != 4 || iph->ihl < 5)
		return -1;
	hlen = iph->ihl * 4;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < hlen || (void *)iph + tot_len > data_end)
		return -1;
	/* hlen <= 60: a variable but bounded packet offset for the verifier. */
	if ((void *)iph + hlen > data_end)
		return -1;
	c->pos = (void *)iph + hlen;
	*iphp = iph;
	return iph->protocol;
}

/* True when the IPv4 packet is a fragment (MF set or a non-zero offset). */
static __always_inline int ipv4_is_fragment(const struct iphdr *iph)
{
	return (iph->frag_off & bpf_htons(XLB_IPV4_MF | XLB_IPV4_OFFSET)) != 0;
}

/*
 * IPv6 fixed header. Returns nexthdr, or -1 when truncated, not version 6,
 * or payload_len is longer than the frame (jumbograms, payload_len 0 with a
 * hop-by-hop jumbo option, are not supported: they never reach XDP).
 */
static __always_inline int parse_ipv6hdr(struct xlb_cursor *c, void *data_end,
					 struct ipv6hdr **ip6hp)
{
	struct ipv6hdr *ip6h = c->pos;

	if ((void *)(ip6h + 1) > data_end)
		return -1;
	if (ip6h->version != 6)
		return -1;
	if ((void *)(ip6h + 1) + bpf_ntohs(ip6h->payload_len) > data_end)
		return -1;
	c->pos = ip6h + 1;
	*ip6hp = ip6h;
	return ip6h->nexthdr;
}

/*
 * Skips a chain of IPv6 hop-by-hop, routing and destination-options headers,
 * starting with nexthdr (the value parse_ipv6hdr returned). Stops on the
 * first other header and returns its protocol with the cursor on it; a
 * fragment header stops the walk too (IPPROTO_FRAGMENT is returned, see
 * parse_ipv6_frag). Returns -1 when a header is truncated or when more than
 * XLB_IPV6_EXT_MAX headers would have to be skipped.
 */
static __always_inline int skip_ipv6_ext(struct xlb_cursor *c, void *data_end, int nexthdr)
{
	struct ipv6_opt_hdr *oh;
	void *pos = c->pos;

#pragma unroll
	for (int i = 0; i < XLB_IPV6_EXT_MAX; i++) {
		if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
		    nexthdr != IPPROTO_DSTOPTS)
			break;
		oh = pos;
		if ((void *)(oh + 1) > data_end)
			return -1;
		nexthdr = oh->nexthdr;
		/* Up to 2 KiB per header: a bounded variable packet offset. */
		pos += (oh->hdrlen + 1) * 8;
	}
	if (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	    nexthdr == IPPROTO_DSTOPTS)
		return -1;
	if (pos > data_end)
		return -1;
	c->pos = pos;
	return nexthdr;
}

/* IPv6 fragment header. Returns the protocol of the fragment, or -1. */
static __always_inline int parse_ipv6_frag(struct xlb_cursor *c, void *data_end,
					   struct xlb_frag_hdr **fhp)
{
	struct xlb_frag_hdr *fh = c->pos;

	if ((void *)(fh + 1) > data_end)
		return -1;
	c->pos = fh + 1;
	*fhp = fh;
	return fh->nexthdr;
}

/* TCP header with options. Returns the header length (20..60), or -1. */
static __always_inline int parse_tcphdr(struct xlb_cursor *c, void *data_end,
					struct tcphdr **tcphp)
{
	struct tcphdr *tcph = c->pos;
	__u32 hlen;

	if ((void *)(tcph + 1) > data_end)
		return -1;
	hlen = tcph->doff * 4;
	if (hlen < sizeof(*tcph))
		return -1;
	if ((void *)tcph + hlen > data_end)
		return -1;
	c->pos = (void *)tcph + hlen;
	*tcphp = tcph;
	return hlen;
}

/* UDP header. Returns the UDP length (>= 8, host order), or -1. */
static __always_inline int parse_udphdr(struct xlb_cursor *c, void *data_end,
					struct udphdr **udphp)
{
	struct udphdr *udph = c->pos;
	__u32 len;

	if ((void *)(udph + 1) > data_end)
		return -1;
	len = bpf_ntohs(udph->len);
	if (len < sizeof(*udph))
		return -1;
	c->pos = udph + 1;
	*udphp = udph;
	return len;
}

/* ICMP header (8 bytes incl. the rest-of-header word). Returns the type, or -1. */
static __always_inline int parse_icmphdr(struct xlb_cursor *c, void *data_end,
					 struct icmphdr **icmphp)
{
	struct icmphdr *icmph = c->pos;

	if ((void *)(icmph + 1) > data_end)
		return -1;
	c->pos = icmph + 1;
	*icmphp = icmph;
	return icmph->type;
}

/* ICMPv6 header (8 bytes incl. the rest-of-header word). Returns the type, or -1. */
static __always_inline int parse_icmp6hdr(struct xlb_cursor *c, void *data_end,
					  struct icmp6hdr **icmp6hp)
{
	struct icmp6hdr *icmp6h = c->pos;

	if ((void *)(icmp6h + 1) > data_end)
		return -1;
	c->pos = icmp6h + 1;
	*icmp6hp = icmp6h;
	return icmp6h->icmp6_type;
}

#endif /* XLB_PARSE_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * xlb_ingress: the XDP balancer. Pipeline, each stage returning an XDP
 * action or XLB_CONTINUE:
 *
 *   parse     Ethernet (+ one VLAN tag), IPv4/IPv6 to a VIP address (one
 *             xlb_vip_addrs probe; everything else passes untouched), L4
 *   icmp      echo requests answered; errors about a VIP flow mapped to it
 *   classify  {VIP address, port, protocol}, then the port-less VIP
 *             (fragments: only a port-less VIP hashing on the source
 *             address, see balance_fragment)
 *   flow      flow table (per-CPU LRU), TCP SYN always reselects
 *   select    flow hash -> Maglev ring slot -> real index -> real
 *   forward   MTU check (frag-needed / packet-too-big), IPIP or GUE encap,
 *             next-hop MAC, XDP_TX; counters per VIP, per real, global
 *
 * Maps: maps.h. Parsers: parse.h. Checksums: csum.h. Encapsulation:
 * encap.h. ICMP replies and quotes: icmp.h.
 *
 * Verifier cost (bpf_prog_info.verified_insns, printed by
 * tests/bpf/test_balancer; kernel 6.18, clang of this tree): 61009 (58839
 * before the per-VIP drop reasons of xlb_vipstats_v2), down from 76118
 * before fragment forwarding, the ICMP quote bound, DROP_TOO_BIG and the
 * random outer id (the id and the quote bound added ~2.2k; the fragment
 * parsing's early exits let the verifier prune ~19.5k). Recount and update
 * this when the program changes.
 *
 * Hot path (VIP TCP established: parse, VIP lookup, LRU hit, encap, TX),
 * BPF_PROG_TEST_RUN on a 2-CPU VM, median of medians: 4in4 ~108 ns and GUE
 * 6in6 ~135 ns per call with repeat 1 (~33 ns of it test-run overhead),
 * non-VIP pass ~18 ns with repeat 1000; within 1-3 ns of before these
 * changes. Branch hints (__builtin_expect) along the fast path changed
 * nothing measurable and were not kept; what remains per packet is three
 * hash lookups (VIP address, VIP, flow), one clock read on an LRU hit and
 * bpf_xdp_adjust_head, each needed, and inlined array lookups.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb/abi.h"
#include "xlb/hash.h"
#include "balancer.h"
#include "parse.h"
#include "csum.h"
#include "maps.h"
#include "encap.h"
#include "icmp.h"

#define XLB_TCP_FLAG_SYN 0x02
#define XLB_TCP_FLAG_ACK 0x10

/* The real a packet goes to, and how it was chosen. */
struct xlb_sel {
	const struct xlb_real *real;	/* xlb_reals entry */
	__u32 idx;			/* real index */
	__u32 hash;			/* flow hash, valid when have_hash */
	__u8 have_hash;
	__u8 new_flow;			/* SYN or flow-table miss: counts in new_flows */
	__u8 drop;			/* enum xlb_stat of a drop: its per-VIP reason */
};

static __always_inline int drop_stat(__u32 stat)
{
	count_stat(stat);
	return XDP_DROP;
}

/* A drop once the VIP is known: also remembers the reason for count_vip_drop. */
static __always_inline int drop_sel(struct xlb_sel *sel, __u32 stat)
{
	sel->drop = stat;
	return drop_stat(stat);
}

static __always_inline int pass_stat(__u32 stat)
{
	count_stat(stat);
	return XDP_PASS;
}

/* The one probe that separates VIP traffic from everything else. */
static __always_inline int is_vip_addr(const void *addr, __u8 family)
{
	struct xlb_vip_key key = {};

	if (family == XLB_AF_INET)
		key.addr.v4 = *(const __be32 *)addr;
	else
		__builtin_memcpy(&key.addr, addr, sizeof(key.addr));
	key.family = family;
	return bpf_map_lookup_elem(&xlb_vip_addrs, &key) != NULL;
}

/* ---- parse ---- */

/*
 * The L4 header must lie within the IP packet's own length, not merely in
 * the frame (Ethernet padding follows a short tot_len / payload_len).
 */
static __always_inline int l4_fits(const struct xlb_pkt *pkt, __u32 l4_hdr_len)
{
	return pkt->l3_hdr_len + l4_hdr_len <= pkt->l3_len;
}

/* TCP/UDP ports and flags into pkt; other protocols keep ports 0. */
static __always_inline int parse_l4(struct xlb_cursor *c, void *data_end, struct xlb_pkt *pkt)
{
	struct tcphdr *tcph;
	struct udphdr *udph;
	int len;

	if (pkt->l4_proto == IPPROTO_TCP) {
		len = parse_tcphdr(c, data_end, &tcph);
		if (len < 0 || !l4_fits(pkt, len))
			return drop_stat(XLB_STAT_DROP_MALFORMED);
		pkt->key.sport = tcph->source;
		pkt->key.dport = tcph->dest;
		pkt->syn = (((__u8 *)tcph)[13] & (XLB_TCP_FLAG_SYN | XLB_TCP_FLAG_ACK)) ==
			   XLB_TCP_FLAG_SYN;
	} else if (pkt->l4_proto == IPPROTO_UDP) {
		if (parse_udphdr(c, data_end, &udph) < 0 || !l4_fits(pkt, sizeof(*udph)))
			return drop_stat(XLB_STAT_DROP_MALFORMED);
		pkt->key.sport = udph->source;
		pkt->key.dport = udph->dest;
		pkt->no_l4_csum = pkt->key.family == XLB_AF_INET && udph->check == 0;
	} else if (!l4_fits(pkt, 0)) {
		return drop_stat(XLB_STAT_DROP_MALFORMED);
	}
	return XLB_CONTINUE;
}

/*
 * ICMP to a VIP address: echo request -> reply (XDP_TX); an error quoting a
 * packet of a VIP flow -> pkt->key = that flow, XLB_CONTINUE; else drop.
 */
static __always_inline int handle_icmp_v4(struct xlb_cursor *c, void *data_end,
					  struct ethhdr *eth, struct iphdr *iph,
					  struct xlb_pkt *pkt)
{
	struct icmphdr *icmph;
	int type, ret;

	type = parse_icmphdr(c, data_end, &icmph);
	if (type < 0 || !l4_fits(pkt, 8))
		return drop_stat(XLB_STAT_DROP_MALFORMED);
	if (type == ICMP_ECHO) {
		count_stat(XLB_STAT_ICMP_ECHO_REPLY);
		return reply_echo_v4(eth, iph, icmph);
	}
	if (type != ICMP_DEST_UNREACH && type != ICMP_TIME_EXCEEDED)
		return drop_stat(XLB_STAT_DROP_ICMP);
	ret = parse_quote_v4(c, data_end, pkt);
	if (ret != XLB_CONTINUE)
		return drop_stat(ret);
	pkt->icmp_err = 1;
	return XLB_CONTINUE;
}

static __always_inline int handle_icmp_v6(struct xlb_cursor *c, void *data_end,
					  struct ethhdr *eth, struct ipv6hdr *ip6h,
					  struct xlb_pkt *pkt)
{
	struct icmp6hdr *icmp6h;
	int type, ret;

	type = parse_icmp6hdr(c, data_end, &icmp6h);
	if (type < 0 || !l4_fits(pkt, 8))
		return drop_stat(XLB_STAT_DROP_MALFORMED);
	if (type == ICMPV6_ECHO_REQUEST) {
		count_stat(XLB_STAT_ICMP_ECHO_REPLY);
		return reply_echo_v6(eth, ip6h, icmp6h);
	}
	/*
	 * Neighbour discovery (RS, RA, NS, NA, redirect; RFC 4861) is the
	 * host's business, not VIP traffic: a router's unicast NUD probe of a
	 * VIP address on the host must reach the stack, or the neighbour entry
	 * flaps. Counted as not-VIP traffic.
	 */
	if (type >= 133 && type <= 137)
		return pass_stat(XLB_STAT_PASS_NOT_VIP);
	if (type != ICMPV6_DEST_UNREACH && type != ICMPV6_PKT_TOOBIG &&
	    type != ICMPV6_TIME_EXCEED)
		return drop_stat(XLB_STAT_DROP_ICMP);
	ret = parse_quote_v6(c, data_end, pkt);
	if (ret != XLB_CONTINUE)
		return drop_stat(ret);
	pkt->icmp_err = 1;
	return XLB_CONTINUE;
}

/*
 * IPv4. A frame too short for the fixed header passes: its destination is
 * unknown and the stack drops it anyway. Once the destination is a VIP
 * address, anything invalid is dropped.
 *
 * A fragment (MF or a non-zero offset) continues with ports 0 and pkt->frag
 * set, its L4 header unparsed even in the first fragment: every fragment of
 * a datagram must take the same way (see balance_fragment).
 */
static __always_inline int parse_v4(struct xlb_cursor *c, void *data_end, struct ethhdr *eth,
				    struct xlb_pkt *pkt)
{
	struct iphdr *iph = c->pos;
	int proto;

	if ((void *)(iph + 1) > data_end || !is_vip_addr(&iph->daddr, XLB_AF_INET))
		return pass_stat(XLB_STAT_PASS_NOT_VIP);
	/* Zeroed (VIP traffic only): the flow key's padding is hashed and looked up. */
	__builtin_memset(pkt, 0, sizeof(*pkt));
	proto = parse_iphdr(c, data_end, &iph);
	if (proto < 0)
		return drop_stat(XLB_STAT_DROP_MALFORMED);

	pkt->key.src.v4 = iph->saddr;
	pkt->key.dst.v4 = iph->daddr;
	pkt->key.proto = proto;
	pkt->key.family = XLB_AF_INET;
	pkt->l3_len = bpf_ntohs(iph->tot_len);
	pkt->l3_hdr_len = iph->ihl * 4;
	pkt->l4_proto = proto;
	pkt->tos = iph->tos;
	pkt->df = (iph->frag_off & bpf_htons(XLB_IPV4_DF)) != 0;
	if (ipv4_is_fragment(iph)) {
		pkt->frag = 1;
		pkt->no_l4_csum = 1;	/* see balance_fragment */
		return XLB_CONTINUE;
	}

	if (proto == IPPROTO_ICMP)
		return handle_icmp_v4(c, data_end, eth, iph, pkt);
	return parse_l4(c, data_end, pkt);
}

/*
 * IPv6, as parse_v4. A fragment header (any, even an atomic fragment's)
 * makes the packet a fragment: its next header is the protocol looked up
 * (a further extension header there finds no VIP: DROP_FRAGMENT).
 */
static __always_inline int parse_v6(struct xlb_cursor *c, void *data_end, struct ethhdr *eth,
				    struct xlb_pkt *pkt)
{
	struct ipv6hdr *ip6h = c->pos;
	int proto;

	if ((void *)(ip6h + 1) > data_end || !is_vip_addr(&ip6h->daddr, XLB_AF_INET6))
		return pass_stat(XLB_STAT_PASS_NOT_VIP);
	/* Zeroed (VIP traffic only): the flow key's padding is hashed and looked up. */
	__builtin_memset(pkt, 0, sizeof(*pkt));
	proto = parse_ipv6hdr(c, data_end, &ip6h);
	if (proto < 0)
		return drop_stat(XLB_STAT_DROP_MALFORMED);
	proto = skip_ipv6_ext(c, data_end, proto);
	if (proto < 0)
		return drop_stat(XLB_STAT_DROP_MALFORMED);
	if (proto == IPPROTO_FRAGMENT) {
		struct xlb_frag_hdr *fh;

		proto = parse_ipv6_frag(c, data_end, &fh);
		if (proto < 0)
			return drop_stat(XLB_STAT_DROP_MALFORMED);
		pkt->frag = 1;
		pkt->no_l4_csum = 1;	/* see balance_fragment */
	}

	__builtin_memcpy(&pkt->key.src, &ip6h->saddr, sizeof(pkt->key.src));
	__builtin_memcpy(&pkt->key.dst, &ip6h->daddr, sizeof(pkt->key.dst));
	pkt->key.proto = proto;
	pkt->key.family = XLB_AF_INET6;
	pkt->l3_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	pkt->l3_hdr_len = c->pos - (void *)ip6h;
	pkt->l4_proto = proto;
	pkt->tos = (ip6h->priority << 4) | (ip6h->flow_lbl[0] >> 4);
	pkt->df = 1;
	if (pkt->frag)	/* the fragment header must lie inside payload_len too */
		return l4_fits(pkt, 0) ? XLB_CONTINUE : drop_stat(XLB_STAT_DROP_MALFORMED);

	if (proto == IPPROTO_ICMPV6)
		return handle_icmp_v6(c, data_end, eth, ip6h, pkt);
	return parse_l4(c, data_end, pkt);
}

/* ---- classify ---- */

/* The VIP of the flow: exact port first, then the port-less VIP (port 0). */
static __always_inline const struct xlb_vip *lookup_vip(const struct xlb_flow_key *fk)
{
	struct xlb_vip_key key = {};
	struct xlb_vip *vip;

	__builtin_memcpy(&key.addr, &fk->dst, sizeof(key.addr));
	key.port = fk->dport;
	key.proto = fk->proto;
	key.family = fk->family;
	vip = bpf_map_lookup_elem(&xlb_vips, &key);
	/* A miss is no VIP on this port: try the port-less one. */
	if (vip || !key.port)
		return vip;
	key.port = 0;
	return bpf_map_lookup_elem(&xlb_vips, &key);
}

/* ---- flow and select ---- */

/*
 * Maglev: hash -> slot of the VIP's ring -> real index -> real. The real is
 * used even when flagged down: the control plane keeps down reals out of
 * the rings, except in fail-open mode where using them is the point.
 */
static __always_inline int select_real(const struct xlb_pkt *pkt, const struct xlb_vip *vip,
				       const struct xlb_config *cfg, struct xlb_sel *sel)
{
	__u32 slot, *idx;
	void *ring;

	sel->hash = xlb_flow_hash(&pkt->key, vip->hash_mode, cfg->hash_seed);
	sel->have_hash = 1;
	slot = xlb_ring_slot(sel->hash, vip->ring_size);
	ring = bpf_map_lookup_elem(&xlb_rings, &vip->id);
	/* No ring installed for this VIP (yet): nowhere to send it. */
	if (!ring)
		return -1;
	idx = bpf_map_lookup_elem(ring, &slot);
	/* Slot beyond the ring (ring_size larger than the ring) or an empty slot. */
	if (!idx || *idx == XLB_REAL_NONE)
		return -1;
	sel->idx = *idx;
	sel->real = bpf_map_lookup_elem(&xlb_reals, &sel->idx);
	/* An index beyond xlb_reals or a freed real: nothing to send to. */
	if (!sel->real || sel->real->family == XLB_AF_NONE)
		return -1;
	return 0;
}

/*
 * The flow table. A TCP SYN always selects afresh and overwrites the entry
 * (SYN_RESELECT, new flow). Otherwise an entry of this VIP whose real is up
 * is used (LRU_HIT); one whose real is down (or freed) is reselected and
 * overwritten (LRU_DOWN); no entry, or one left by another VIP with the same
 * tuple, is a new flow (LRU_MISS).
 *
 * An ICMP error only reads the table: it maps to the real its flow has, or
 * would get, and never creates or changes an entry nor counts LRU_*.
 */
static __always_inline int pick_real(const struct xlb_pkt *pkt, const struct xlb_vip *vip,
				     const struct xlb_config *cfg, struct xlb_sel *sel)
{
	struct xlb_flow *flow, entry = {};
	__u32 reason;
	__u64 now;

	if (pkt->syn) {
		reason = XLB_STAT_SYN_RESELECT;
		sel->new_flow = 1;
		goto select;
	}
	flow = bpf_map_lookup_elem(&xlb_flows, &pkt->key);
	/* A miss is a new flow (or an evicted one): select below. */
	if (flow && flow->vip == vip->id) {
		sel->idx = flow->real;
		sel->real = bpf_map_lookup_elem(&xlb_reals, &sel->idx);
		/* A miss here is an index beyond xlb_reals: treat as down. */
		if (sel->real && sel->real->family != XLB_AF_NONE &&
		    !(sel->real->flags & XLB_REAL_F_DOWN)) {
			if (!pkt->icmp_err) {
				count_stat(XLB_STAT_LRU_HIT);
				now = bpf_ktime_get_coarse_ns();
				if (now - flow->atime_ns > XLB_ATIME_REFRESH_NS)
					flow->atime_ns = now;
			}
			return XLB_CONTINUE;
		}
		reason = XLB_STAT_LRU_DOWN;
	} else {
		reason = XLB_STAT_LRU_MISS;
		sel->new_flow = 1;
	}

select:
	if (select_real(pkt, vip, cfg, sel))
		return drop_sel(sel, XLB_STAT_DROP_NO_REAL);
	if (pkt->icmp_err) {
		sel->new_flow = 0;
		return XLB_CONTINUE;
	}
	count_stat(reason);
	entry.atime_ns = bpf_ktime_get_coarse_ns();
	entry.real = sel->idx;
	entry.vip = vip->id;
	/* Failing to store (e.g. -ENOMEM) only costs stickiness: forward anyway. */
	bpf_map_update_elem(&xlb_flows, &pkt->key, &entry, BPF_ANY);
	return XLB_CONTINUE;
}

/* ---- forward ---- */

/*
 * Too big once encapsulated (cfg->mtu set and the outer packet longer): an
 * IPv4 packet with DF or any IPv6 packet gets frag-needed / packet-too-big
 * with MTU = cfg->mtu - overhead (at least 68 / 1280: an IPv6 packet that
 * fits in 1280 bytes is forwarded even when the outer exceeds the MTU, as
 * IPv6 hosts cannot go lower). IPv4 without DF is dropped and counted
 * DROP_TOO_BIG: frag-needed is only for DF packets (RFC 1191), xlb does not
 * fragment, and XDP_TX of a frame above the link MTU is dropped silently by
 * the driver, so dropping here is what would happen anyway, only counted.
 * ICMP errors are never answered with an ICMP error (RFC 1122, RFC 4443)
 * and skip this check.
 */
static __always_inline int check_mtu(struct xdp_md *ctx, const struct xlb_pkt *pkt,
				     const struct xlb_config *cfg, __u32 overhead,
				     struct xlb_sel *sel)
{
	__s32 mtu = (__s32)cfg->mtu - (__s32)overhead;
	int err;

	if (!cfg->mtu || pkt->icmp_err || pkt->l3_len + overhead <= cfg->mtu)
		return XLB_CONTINUE;
	if (pkt->key.family == XLB_AF_INET) {
		if (!pkt->df)
			return drop_sel(sel, XLB_STAT_DROP_TOO_BIG);
		if (mtu < XLB_IPV4_MIN_MTU)
			mtu = XLB_IPV4_MIN_MTU;
		if (pkt->l3_len <= (__u32)mtu)
			return XLB_CONTINUE;
		err = send_frag_needed(ctx, pkt, mtu);
	} else {
		if (mtu < XLB_IPV6_MIN_MTU)
			mtu = XLB_IPV6_MIN_MTU;
		if (pkt->l3_len <= (__u32)mtu)
			return XLB_CONTINUE;
		err = send_pkt_too_big(ctx, pkt, mtu);
	}
	if (err)
		return drop_sel(sel, XLB_STAT_DROP_ENCAP);
	count_stat(XLB_STAT_ICMP_TOO_BIG);
	sel->drop = XLB_STAT_ICMP_TOO_BIG;	/* the client's packet itself is dropped */
	return XDP_TX;
}

/*
 * Fragments (DESIGN.md: dropped and counted unless the VIP hashes on
 * addresses only). Only the first fragment carries the ports, and every
 * fragment of a datagram must reach the same real (it reassembles them), so
 * all fragments take the same way, the first included: the port-less VIP
 * {address, port 0, protocol} (lookup_vip with the key's ports 0), used only
 * when its hash mode is XLB_HASH_SRC_IP; the real comes from the ring by the
 * source-address hash. A VIP on a specific port never receives fragments
 * (their port is unknown), nor does a port-less VIP hashing on ports.
 *
 * No flow-table entry is read or written: the 5-tuple is unknown, and a
 * source-IP VIP's ring gives the same real as its flows' entries do while
 * the ring is unchanged. Not a new flow either.
 *
 * GUE: the LCO checksum shortcut (encap.h) needs the inner L4 checksum to
 * cover this packet, which a fragment's does not (it covers the datagram),
 * so the outer UDP checksum is sent as 0 (pkt->no_l4_csum): allowed over
 * IPv4 (RFC 768) and for tunnels over IPv6 (RFC 6935, RFC 6936). xlb's decap
 * does not verify it, and the datagram's own L4 checksum is still verified
 * by the real after reassembly, so corruption is caught end to end.
 */
static __always_inline int balance_fragment(const struct xlb_pkt *pkt, const struct xlb_vip *vip,
					    const struct xlb_config *cfg, struct xlb_sel *sel)
{
	if (vip->hash_mode != XLB_HASH_SRC_IP)
		return drop_sel(sel, XLB_STAT_DROP_FRAGMENT);
	if (select_real(pkt, vip, cfg, sel))
		return drop_sel(sel, XLB_STAT_DROP_NO_REAL);
	return XLB_CONTINUE;
}

/* Classify, pick a real, encapsulate, send: the VIP part of the pipeline. */
static __always_inline int balance(struct xdp_md *ctx, struct xlb_pkt *pkt)
{
	const struct xlb_config *cfg;
	const struct xlb_vip *vip;
	struct xlb_sel sel = {};
	__u32 zero = 0, overhead;
	int act;

	/* A fragment's key has ports 0: this looks up the port-less VIP only. */
	vip = lookup_vip(&pkt->key);
	if (!vip)
		return drop_stat(pkt->frag ? XLB_STAT_DROP_FRAGMENT :
				 pkt->icmp_err ? XLB_STAT_DROP_ICMP : XLB_STAT_DROP_NO_VIP_PORT);
	cfg = bpf_map_lookup_elem(&xlb_config, &zero);
	/* An array of one: never misses; were it to, nothing could be encapsulated. */
	if (!cfg) {
		act = drop_sel(&sel, XLB_STAT_DROP_ENCAP);
		goto vip_drop;
	}

	if (pkt->frag)
		act = balance_fragment(pkt, vip, cfg, &sel);
	else
		act = pick_real(pkt, vip, cfg, &sel);
	if (act != XLB_CONTINUE)
		goto vip_drop;

	overhead = encap_overhead(sel.real->family, vip->encap);
	act = check_mtu(ctx, pkt, cfg, overhead, &sel);
	if (act != XLB_CONTINUE)
		goto vip_drop;	/* the client's packet goes no further either way */

	/* Only an LRU hit needs the hash here, and only for GUE or an IPv6 outer. */
	if (!sel.have_hash &&
	    (vip->encap == XLB_ENCAP_GUE || sel.real->family == XLB_AF_INET6))
		sel.hash = xlb_flow_hash(&pkt->key, vip->hash_mode, cfg->hash_seed);
	if (encap_packet(ctx, pkt, sel.real, cfg, sel.hash, vip->encap)) {
		act = drop_sel(&sel, XLB_STAT_DROP_ENCAP);
		goto vip_drop;
	}

	count_stat(XLB_STAT_TX);
	count_stat(vip->encap == XLB_ENCAP_GUE ? XLB_STAT_ENCAP_GUE : XLB_STAT_ENCAP_IPIP);
	if (pkt->icmp_err)
		count_stat(XLB_STAT_ICMP_ERR_FWD);
	count_vip(vip->id, pkt->pkt_len, sel.new_flow);
	count_real(sel.idx, pkt->pkt_len);
	return XDP_TX;

vip_drop:
	count_vip_drop(vip->id, sel.drop);
	return act;
}

SEC("xdp")
int xlb_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xlb_cursor c = { .pos = data };
	struct xlb_vlan_hdr *vlan;
	struct ethhdr *eth;
	struct xlb_pkt pkt;
	int proto, act;

	count_stat(XLB_STAT_RX);
	proto = parse_ethhdr(&c, data_end, &eth, &vlan);
	if (proto == bpf_htons(ETH_P_IP))
		act = parse_v4(&c, data_end, eth, &pkt);
	else if (proto == bpf_htons(ETH_P_IPV6))
		act = parse_v6(&c, data_end, eth, &pkt);
	else
		return pass_stat(XLB_STAT_PASS_NOT_IP);
	if (act != XLB_CONTINUE)
		return act;

	pkt.pkt_len = data_end - data;
	pkt.vlan = vlan != NULL;
	return balance(ctx, &pkt);
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fixture tests of the decap program (bpf/decap.bpf.c) through
 * BPF_PROG_TEST_RUN, repeat = 1: a table of {description, packet recipe,
 * expected action, expected output} compared byte for byte, plus the
 * deltas of every xlb_dstats counter (RX and exactly one outcome per packet).
 *
 * Three program instances, rodata set before load:
 *   DFLT  GUE port 6080 (default), no allow list
 *   PORT  GUE port 7000
 *   ALLOW default port, allow list {198.18.0.10, 2001:db8::10}
 *
 * Recipes: the client's packet (client -> VIP) is built with tests/lib/pkt.h;
 * pkt_encap() wraps it exactly as the balancer does (LB -> real, IPIP or GUE),
 * and the expected decap output is the client's L3 packet behind the outer
 * frame's Ethernet header (and tag). Malformed inputs are these packets with
 * one named thing broken.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xlb/abi.h"
#include "../lib/pkt.h"
#include "../lib/test.h"
#include "../lib/xlb_fixture.h"
#include "decap.skel.h"

static const uint8_t MAC_CLIENT_GW[6] = { 0x02, 0, 0, 0, 0, 0x01 };	/* router before the LB */
static const uint8_t MAC_LB[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t MAC_REAL[6] = { 0x02, 0, 0, 0, 0, 0x21 };

#define CLIENT4 "198.18.1.1"
#define VIP4 "198.18.0.10"
#define OTHER_VIP4 "198.18.0.11"	/* not in the allow list */
#define LB4 "198.18.0.1"
#define REAL4 "198.18.0.21"
#define CLIENT6 "2001:db8:1::1"
#define VIP6 "2001:db8::10"
#define OTHER_VIP6 "2001:db8::11"
#define LB6 "2001:db8::1"
#define REAL6 "2001:db8::21"

#define GUE_DEFAULT XLB_GUE_PORT_DEFAULT
#define GUE_CUSTOM 7000
#define GUE_SPORT 51234			/* what the balancer derives from the flow hash */

enum inst { DFLT, PORT, ALLOW, N_INST };

static struct decap *skels[N_INST];

/* ---- recipes ---- */

/* The client's packet as it reached the LB: TCP SYN, UDP or ICMP echo, 32 bytes of payload. */
static void client(struct pkt *p, int fam, uint8_t l4, const char *dst, bool vlan)
{
	pkt_init(p);
	pkt_eth(p, MAC_LB, MAC_CLIENT_GW);
	if (vlan)
		pkt_vlan(p, 100);
	if (fam == 4)
		pkt_ip4(p, &(struct pkt_ip4){ .src = CLIENT4, .dst = dst ? dst : VIP4, .df = true,
					      .id = 0x1234, .tos = 0x10 });
	else
		pkt_ip6(p, &(struct pkt_ip6){ .src = CLIENT6, .dst = dst ? dst : VIP6,
					      .flow_label = 0x12345 });
	if (l4 == IPPROTO_TCP)
		pkt_tcp(p, &(struct pkt_tcp){ .sport = 40000, .dport = 80, .flags = PKT_TCP_SYN,
					      .seq = 1000 });
	else if (l4 == IPPROTO_UDP)
		pkt_udp(p, &(struct pkt_udp){ .sport = 40000, .dport = 53 });
	else if (fam == 4)
		pkt_icmp4(p, 8, 0, PKT_ECHO(7, 1));
	else
		pkt_icmp6(p, 128, 0, PKT_ECHO(7, 1));
	pkt_payload_pattern(p, 32, fam * 10 + l4);
	pkt_finish(p);
}

/* The balancer's output for c: outer family 4/6, IPIP or GUE to dport. */
static void encap(struct pkt *out, const struct pkt *c, int outer, bool gue, uint16_t dport)
{
	pkt_encap(out, c, &(struct pkt_encap){
		.dmac = { 0x02, 0, 0, 0, 0, 0x21 }, .smac = { 0x02, 0, 0, 0, 0, 0x0b },
		.src = outer == 4 ? LB4 : LB6, .dst = outer == 4 ? REAL4 : REAL6,
		.df = true, .flow_label = 0xabcde, .gue = gue, .gue_sport = GUE_SPORT,
		.gue_dport = dport, .keep_vlan = true,
	});
}

/* What decap must hand the stack: c's L3 packet behind enc's MACs (and tag). */
static void decapped(struct pkt *exp, const struct pkt *enc, const struct pkt *c)
{
	int l3 = pkt_l3_offset(c->buf, c->len);

	pkt_init(exp);
	pkt_eth(exp, enc->buf, enc->buf + 6);
	if (pkt_l3_offset(enc->buf, enc->len) == 18)
		pkt_vlan(exp, (enc->buf[14] << 8) | enc->buf[15]);
	pkt_ethertype(exp, (c->buf[l3] >> 4) == 4 ? 0x0800 : 0x86dd);
	pkt_payload_l3(exp, c, 0);
	pkt_finish(exp);
}

/* Appends n zero bytes after the finished frame (Ethernet padding, trailing junk). */
static void append_zeros(struct pkt *p, size_t n)
{
	memset(p->buf + p->len, 0, n);
	p->len += n;
}

/* Recomputes the header checksum of the IPv4 header at off (after a hand edit). */
static void fix_ip4_csum(struct pkt *p, int off)
{
	uint16_t c;

	p->buf[off + 10] = p->buf[off + 11] = 0;
	c = pkt_csum_fold(pkt_csum_add(0, p->buf + off, (p->buf[off] & 0xf) * 4));
	p->buf[off + 10] = c >> 8;
	p->buf[off + 11] = c & 0xff;
}

/* Each recipe builds the input and, for decapsulated cases, the expected output. */
#define RECIPE(name) static void name(struct pkt *in, struct pkt *exp)

/* IPIP, every pairing of inner/outer family. */
#define IPIP_RECIPE(name, inner, l4, outer)					\
	RECIPE(name)								\
	{									\
		struct pkt c;							\
										\
		client(&c, inner, l4, NULL, false);				\
		encap(in, &c, outer, false, 0);					\
		decapped(exp, in, &c);						\
	}
IPIP_RECIPE(r_4in4_tcp, 4, IPPROTO_TCP, 4)
IPIP_RECIPE(r_4in4_udp, 4, IPPROTO_UDP, 4)
IPIP_RECIPE(r_6in6_tcp, 6, IPPROTO_TCP, 6)
IPIP_RECIPE(r_6in6_icmp, 6, IPPROTO_ICMPV6, 6)
IPIP_RECIPE(r_4in6_tcp, 4, IPPROTO_TCP, 6)
IPIP_RECIPE(r_6in4_udp, 6, IPPROTO_UDP, 4)

/* GUE: outer v4/v6, inner v4/v6, port given. */
#define GUE_RECIPE(name, inner, l4, outer, port)				\
	RECIPE(name)								\
	{									\
		struct pkt c;							\
										\
		client(&c, inner, l4, NULL, false);				\
		encap(in, &c, outer, true, port);				\
		decapped(exp, in, &c);						\
	}
GUE_RECIPE(r_gue4_4, 4, IPPROTO_TCP, 4, GUE_DEFAULT)
GUE_RECIPE(r_gue6_6, 6, IPPROTO_UDP, 6, GUE_DEFAULT)
GUE_RECIPE(r_gue4_6, 6, IPPROTO_TCP, 4, GUE_DEFAULT)
GUE_RECIPE(r_gue6_4, 4, IPPROTO_UDP, 6, GUE_DEFAULT)
GUE_RECIPE(r_gue4_custom, 4, IPPROTO_TCP, 4, GUE_CUSTOM)
GUE_RECIPE(r_gue6_custom, 6, IPPROTO_TCP, 6, GUE_CUSTOM)

/* GUE over IPv4 with a zero (absent) UDP checksum, which RFC 768 allows. */
RECIPE(r_gue4_nocsum)
{
	struct pkt c;

	client(&c, 4, IPPROTO_UDP, NULL, false);
	pkt_init(in);
	pkt_eth(in, MAC_REAL, MAC_LB);
	pkt_ip4(in, &(struct pkt_ip4){ .src = LB4, .dst = REAL4, .df = true });
	pkt_udp(in, &(struct pkt_udp){ .sport = GUE_SPORT, .dport = GUE_DEFAULT, .no_csum = true });
	pkt_payload_l3(in, &c, 0);
	pkt_finish(in);
	decapped(exp, in, &c);
}

/* 802.1Q tag 100 on the client side, kept by the balancer, kept by decap. */
RECIPE(r_vlan_4in4)
{
	struct pkt c;

	client(&c, 4, IPPROTO_TCP, NULL, true);
	encap(in, &c, 4, false, 0);
	decapped(exp, in, &c);
}

RECIPE(r_vlan_gue6_6)
{
	struct pkt c;

	client(&c, 6, IPPROTO_TCP, NULL, true);
	encap(in, &c, 6, true, GUE_DEFAULT);
	decapped(exp, in, &c);
}

/* Outer IPv4 with 8 bytes of options (two NOPs, an 4-byte unknown option, EOL, pad). */
RECIPE(r_4in4_options)
{
	static const uint8_t opts[8] = { 1, 1, 0x1e, 4, 0xaa, 0xbb, 0, 0 };
	struct pkt c;

	client(&c, 4, IPPROTO_TCP, NULL, false);
	pkt_init(in);
	pkt_eth(in, MAC_REAL, MAC_LB);
	pkt_ip4(in, &(struct pkt_ip4){ .src = LB4, .dst = REAL4, .df = true, .options = opts,
				       .opt_len = sizeof(opts), .proto = IPPROTO_IPIP });
	pkt_payload_l3(in, &c, 0);
	pkt_finish(in);
	decapped(exp, in, &c);
}

/*
 * Ethernet padding: a 4in4 packet whose inner packet is a bare IPv4 header
 * (protocol 59, no payload) is 54 bytes, so the sender pads the frame to the
 * 60-byte minimum. The padding must not reach the stack.
 */
RECIPE(r_4in4_padded)
{
	struct pkt c;

	pkt_init(&c);
	pkt_eth(&c, MAC_LB, MAC_CLIENT_GW);
	pkt_ip4(&c, &(struct pkt_ip4){ .src = CLIENT4, .dst = VIP4, .proto = 59 });
	pkt_finish(&c);
	encap(in, &c, 4, false, 0);
	append_zeros(in, 60 - in->len);
	decapped(exp, in, &c);
}

/* Padding after a GUE/IPv6 packet too (trailing bytes beyond payload_len). */
RECIPE(r_gue6_padded)
{
	struct pkt c;

	client(&c, 6, IPPROTO_UDP, NULL, false);
	encap(in, &c, 6, true, GUE_DEFAULT);
	append_zeros(in, 6);
	decapped(exp, in, &c);
}

/* Allow list: VIP4 / VIP6 are listed, OTHER_VIP4 / OTHER_VIP6 are not. */
RECIPE(r_allow_v4)
{
	struct pkt c;

	client(&c, 4, IPPROTO_TCP, VIP4, false);
	encap(in, &c, 4, false, 0);
	decapped(exp, in, &c);
}

RECIPE(r_allow_v6_gue)
{
	struct pkt c;

	client(&c, 6, IPPROTO_TCP, VIP6, false);
	encap(in, &c, 4, true, GUE_DEFAULT);
	decapped(exp, in, &c);
}

RECIPE(r_deny_v4)
{
	struct pkt c;

	client(&c, 4, IPPROTO_TCP, OTHER_VIP4, false);
	encap(in, &c, 4, false, 0);
}

/* Without an allow list any inner destination is decapsulated. */
RECIPE(r_unlisted_v4)
{
	struct pkt c;

	client(&c, 4, IPPROTO_TCP, OTHER_VIP4, false);
	encap(in, &c, 4, false, 0);
	decapped(exp, in, &c);
}

RECIPE(r_deny_v6)
{
	struct pkt c;

	client(&c, 6, IPPROTO_UDP, OTHER_VIP6, false);
	encap(in, &c, 6, false, 0);
}

/* ::ffff:198.18.0.10 is an IPv6 destination: the IPv4 VIP's key must not match it. */
RECIPE(r_deny_v4mapped)
{
	struct pkt c;

	client(&c, 6, IPPROTO_TCP, "::ffff:198.18.0.10", false);
	encap(in, &c, 6, false, 0);
}

/* ---- ECN (RFC 6040): outer CE reaches ECN-capable inner packets ---- */

/* A client TCP packet with the given TOS / traffic class. */
static void client_tos(struct pkt *p, int fam, uint8_t tos)
{
	pkt_init(p);
	pkt_eth(p, MAC_LB, MAC_CLIENT_GW);
	if (fam == 4)
		pkt_ip4(p, &(struct pkt_ip4){ .src = CLIENT4, .dst = VIP4, .df = true, .tos = tos });
	else
		pkt_ip6(p, &(struct pkt_ip6){ .src = CLIENT6, .dst = VIP6, .tclass = tos,
					      .flow_label = 0x12345 });
	pkt_tcp(p, &(struct pkt_tcp){ .sport = 40001, .dport = 443, .flags = PKT_TCP_ACK });
	pkt_payload_pattern(p, 20, 9);
	pkt_finish(p);
}

/* What a congested router does to the outer header: ECN bits := ecn. */
static void set_outer_ecn(struct pkt *p, uint8_t ecn)
{
	int l3 = pkt_l3_offset(p->buf, p->len);

	if ((p->buf[l3] >> 4) == 4) {
		p->buf[l3 + 1] = (p->buf[l3 + 1] & ~3) | ecn;
		fix_ip4_csum(p, l3);
	} else {
		p->buf[l3 + 1] = (p->buf[l3 + 1] & ~0x30) | ecn << 4;	/* tclass bits 1..0 */
	}
}

/*
 * inner_tos goes in, the balancer copies it to the outer header, a router
 * sets the outer ECN to outer_ecn; decap must deliver the inner packet with
 * want_tos (the expected packet is built afresh, so its IPv4 checksum is the
 * builder's, not an incremental update).
 */
#define ECN_RECIPE(name, inner, outer, gue, inner_tos, outer_ecn, want_tos)	\
	RECIPE(name)								\
	{									\
		struct pkt c, want;						\
										\
		client_tos(&c, inner, inner_tos);				\
		encap(in, &c, outer, gue, GUE_DEFAULT);				\
		set_outer_ecn(in, outer_ecn);					\
		client_tos(&want, inner, want_tos);				\
		decapped(exp, in, &want);					\
	}
ECN_RECIPE(r_ecn_ce_4in4, 4, 4, false, 0xb8 | 2, 3, 0xb8 | 3)	/* EF + ECT(0) -> CE */
ECN_RECIPE(r_ecn_ce_4in4_ect1, 4, 4, false, 0x01, 3, 0x03)
ECN_RECIPE(r_ecn_ce_6in6, 6, 6, false, 0x20 | 1, 3, 0x20 | 3)
ECN_RECIPE(r_ecn_ce_4in6_gue, 4, 6, true, 0x02, 3, 0x03)
ECN_RECIPE(r_ecn_ce_6in4, 6, 4, false, 0x02, 3, 0x03)
ECN_RECIPE(r_ecn_ce_already, 4, 4, false, 0x03, 3, 0x03)
ECN_RECIPE(r_ecn_ect_outer, 4, 4, false, 0x00, 2, 0x00)	/* outer ECT, inner not: as is */
ECN_RECIPE(r_ecn_ce_not_ect, 6, 6, false, 0x00, 3, 0x00)	/* dropped */

/* ---- not xlb encapsulation: must pass untouched ---- */

RECIPE(r_plain_tcp4) { client(in, 4, IPPROTO_TCP, NULL, false); }
RECIPE(r_plain_udp4) { client(in, 4, IPPROTO_UDP, NULL, false); }
RECIPE(r_plain_icmp4) { client(in, 4, IPPROTO_ICMP, NULL, false); }
RECIPE(r_plain_tcp6) { client(in, 6, IPPROTO_TCP, NULL, false); }
RECIPE(r_plain_icmp6) { client(in, 6, IPPROTO_ICMPV6, NULL, false); }
RECIPE(r_plain_vlan_udp6) { client(in, 6, IPPROTO_UDP, NULL, true); }

/* ARP request who-has 198.18.0.21 tell 198.18.0.1 (RFC 826 layout). */
RECIPE(r_arp)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t arp[28] = { 0, 1, 0x08, 0, 6, 4, 0, 1 };	/* Ethernet, IPv4, request */
	uint8_t a[16];

	memcpy(arp + 8, MAC_LB, 6);
	pkt_parse_addr(LB4, a);
	memcpy(arp + 14, a, 4);
	pkt_parse_addr(REAL4, a);
	memcpy(arp + 24, a, 4);
	pkt_init(in);
	pkt_eth(in, bcast, MAC_LB);
	pkt_ethertype(in, 0x0806);
	pkt_payload(in, arp, sizeof(arp));
	append_zeros(in, 60 - 14 - sizeof(arp));
	pkt_finish(in);
}

/* GUE-shaped UDP to a port that is not the configured one. */
GUE_RECIPE(r_gue4_other_port, 4, IPPROTO_TCP, 4, 6081)
GUE_RECIPE(r_gue6_other_port, 6, IPPROTO_TCP, 6, 6081)

/* An outer IPv4 fragment carrying IPIP (MF set): passed for the stack to reassemble. */
RECIPE(r_4in4_fragment)
{
	struct pkt c;

	client(&c, 4, IPPROTO_TCP, NULL, false);
	pkt_init(in);
	pkt_eth(in, MAC_REAL, MAC_LB);
	pkt_ip4(in, &(struct pkt_ip4){ .src = LB4, .dst = REAL4, .mf = true, .id = 77,
				       .proto = IPPROTO_IPIP });
	pkt_payload_l3(in, &c, 0);
	pkt_finish(in);
}

/* Outer IPv6 with a destination-options header before IPIP: xlb adds none, not ours. */
RECIPE(r_6in6_exthdr)
{
	struct pkt c;

	client(&c, 6, IPPROTO_TCP, NULL, false);
	pkt_init(in);
	pkt_eth(in, MAC_REAL, MAC_LB);
	pkt_ip6(in, &(struct pkt_ip6){ .src = LB6, .dst = REAL6 });
	pkt_ip6_ext(in, 60, 8);
	pkt_payload_l3(in, &c, 0);
	pkt_finish(in);
	in->buf[14 + 40] = IPPROTO_IPV6;	/* the options header's next header */
}

/* Too short to hold an IPv4 header: nothing to classify. */
RECIPE(r_short_ip4)
{
	pkt_init(in);
	pkt_eth(in, MAC_REAL, MAC_LB);
	pkt_ethertype(in, 0x0800);
	pkt_payload_pattern(in, 10, 3);
	pkt_finish(in);
}

/* ---- xlb encapsulation, malformed: dropped ---- */

/* Outer total length beyond the frame: cut inside the inner payload. */
RECIPE(r_trunc_outer4)
{
	struct pkt c;

	client(&c, 4, IPPROTO_TCP, NULL, false);
	encap(in, &c, 4, false, 0);
	pkt_truncate(in, in->len - 10);
}

RECIPE(r_trunc_outer6_gue)
{
	struct pkt c;

	client(&c, 6, IPPROTO_TCP, NULL, false);
	encap(in, &c, 6, true, GUE_DEFAULT);
	pkt_truncate(in, in->len - 1);
}

/* Frame cut inside the inner header (outer lengths still claim the whole packet). */
RECIPE(r_trunc_inner_hdr)
{
	struct pkt c;

	client(&c, 6, IPPROTO_TCP, NULL, false);
	encap(in, &c, 4, false, 0);
	pkt_truncate(in, 14 + 20 + 30);
}

/* Outer lengths consistent, but the outer payload is only 12 bytes of an IPv4 header. */
RECIPE(r_short_inner)
{
	struct pkt c;

	client(&c, 4, IPPROTO_TCP, NULL, false);
	pkt_init(in);
	pkt_eth(in, MAC_REAL, MAC_LB);
	pkt_ip4(in, &(struct pkt_ip4){ .src = LB4, .dst = REAL4, .proto = IPPROTO_IPIP });
	pkt_payload_l3(in, &c, 12);
	pkt_finish(in);
}

/* Inner total length shorter than the outer payload: 4 junk bytes inside the tunnel. */
RECIPE(r_len_mismatch4)
{
	static const uint8_t junk[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct pkt c;

	client(&c, 4, IPPROTO_TCP, NULL, false);
	pkt_init(in);
	pkt_eth(in, MAC_REAL, MAC_LB);
	pkt_ip4(in, &(struct pkt_ip4){ .src = LB4, .dst = REAL4, .proto = IPPROTO_IPIP });
	pkt_payload_l3(in, &c, 0);
	pkt_payload(in, junk, sizeof(junk));
	pkt_finish(in);
}

/* Inner IPv6 payload length one more than what the tunnel carries. */
RECIPE(r_len_mismatch6)
{
	struct pkt c;
	int l3;

	client(&c, 6, IPPROTO_UDP, NULL, false);
	l3 = pkt_l3_offset(c.buf, c.len);
	c.buf[l3 + 5]++;	/* payload_len low byte (the packet is far below 256 bytes) */
	encap(in, &c, 6, false, 0);
}

/* GUE whose UDP length disagrees with the outer IPv4 total length. */
RECIPE(r_gue_bad_udp_len)
{
	struct pkt c;

	client(&c, 4, IPPROTO_TCP, NULL, false);
	pkt_init(in);
	pkt_eth(in, MAC_REAL, MAC_LB);
	pkt_ip4(in, &(struct pkt_ip4){ .src = LB4, .dst = REAL4 });
	pkt_udp(in, &(struct pkt_udp){ .sport = GUE_SPORT, .dport = GUE_DEFAULT, .len = 20,
				       .no_csum = true });
	pkt_payload_l3(in, &c, 0);
	pkt_finish(in);
}

/* GUE to our port but not variant 1: a variant-0 GUE header (version bits 00) first. */
RECIPE(r_gue_variant0)
{
	static const uint8_t gue_hdr[4] = { 0x00, 0x04, 0x00, 0x00 };	/* hlen 0, proto 4 */
	struct pkt c;

	client(&c, 4, IPPROTO_TCP, NULL, false);
	pkt_init(in);
	pkt_eth(in, MAC_REAL, MAC_LB);
	pkt_ip4(in, &(struct pkt_ip4){ .src = LB4, .dst = REAL4 });
	pkt_udp(in, &(struct pkt_udp){ .sport = GUE_SPORT, .dport = GUE_DEFAULT });
	pkt_payload(in, gue_hdr, sizeof(gue_hdr));
	pkt_payload_l3(in, &c, 0);
	pkt_finish(in);
}

/* Outer protocol 4 (IPv4 inside) but an IPv6 packet inside. */
RECIPE(r_ipip_wrong_version)
{
	struct pkt c;
	int l3;

	client(&c, 6, IPPROTO_TCP, NULL, false);
	encap(in, &c, 4, false, 0);
	l3 = pkt_l3_offset(in->buf, in->len);
	in->buf[l3 + 9] = IPPROTO_IPIP;
	fix_ip4_csum(in, l3);
}

/* Inner IPv4 with ihl 4 (shorter than the fixed header). */
RECIPE(r_inner_bad_ihl)
{
	struct pkt c;

	pkt_init(&c);
	pkt_eth(&c, MAC_LB, MAC_CLIENT_GW);
	pkt_ip4(&c, &(struct pkt_ip4){ .src = CLIENT4, .dst = VIP4, .ihl = 4 });
	pkt_udp(&c, &(struct pkt_udp){ .sport = 1, .dport = 2 });
	pkt_finish(&c);
	encap(in, &c, 4, false, 0);
}

/* ---- the table ---- */

enum out_kind {
	OUT_DECAP,	/* exp as built by the recipe */
	OUT_SAME,	/* the input, byte for byte */
	OUT_ANY,	/* dropped: output not looked at */
};

struct decap_case {
	const char *desc;
	void (*recipe)(struct pkt *in, struct pkt *exp);
	enum inst inst;
	int action;
	enum out_kind out;
	enum xlb_decap_stat stat;	/* the outcome counter that must move by one */
};

#define DECAP(d, r, i, s) { d, r, i, XDP_PASS, OUT_DECAP, XLB_DECAP_STAT_##s }
#define SAME(d, r, i) { d, r, i, XDP_PASS, OUT_SAME, XLB_DECAP_STAT_PASS }
#define DROP(d, r, i, s) { d, r, i, XDP_DROP, OUT_ANY, XLB_DECAP_STAT_##s }

static const struct decap_case cases[] = {
	DECAP("ipip 4in4 tcp syn", r_4in4_tcp, DFLT, DECAP_IPIP),
	DECAP("ipip 4in4 udp", r_4in4_udp, DFLT, DECAP_IPIP),
	DECAP("ipip 6in6 tcp syn", r_6in6_tcp, DFLT, DECAP_IPIP),
	DECAP("ipip 6in6 icmpv6 echo", r_6in6_icmp, DFLT, DECAP_IPIP),
	DECAP("ipip 4in6 tcp syn", r_4in6_tcp, DFLT, DECAP_IPIP),
	DECAP("ipip 6in4 udp", r_6in4_udp, DFLT, DECAP_IPIP),
	DECAP("ipip 4in4, outer ipv4 options", r_4in4_options, DFLT, DECAP_IPIP),
	DECAP("ipip 4in4 vlan 100 kept", r_vlan_4in4, DFLT, DECAP_IPIP),
	DECAP("ipip 4in4 ethernet padding trimmed", r_4in4_padded, DFLT, DECAP_IPIP),
	DECAP("gue v4 outer, v4 inner, port 6080", r_gue4_4, DFLT, DECAP_GUE),
	DECAP("gue v6 outer, v6 inner, port 6080", r_gue6_6, DFLT, DECAP_GUE),
	DECAP("gue v4 outer, v6 inner", r_gue4_6, DFLT, DECAP_GUE),
	DECAP("gue v6 outer, v4 inner", r_gue6_4, DFLT, DECAP_GUE),
	DECAP("gue v4, udp checksum 0", r_gue4_nocsum, DFLT, DECAP_GUE),
	DECAP("gue v6 vlan 100 kept", r_vlan_gue6_6, DFLT, DECAP_GUE),
	DECAP("gue v6 trailing padding trimmed", r_gue6_padded, DFLT, DECAP_GUE),
	DECAP("gue v4 custom port 7000", r_gue4_custom, PORT, DECAP_GUE),
	DECAP("gue v6 custom port 7000", r_gue6_custom, PORT, DECAP_GUE),
	SAME("custom port: gue to 6080 passes untouched", r_gue4_4, PORT),
	DECAP("custom port: ipip still decapsulated", r_4in4_tcp, PORT, DECAP_IPIP),
	DECAP("allow list: listed v4 vip", r_allow_v4, ALLOW, DECAP_IPIP),
	DECAP("allow list: listed v6 vip over gue", r_allow_v6_gue, ALLOW, DECAP_GUE),
	DROP("allow list: unlisted v4 vip", r_deny_v4, ALLOW, DROP_NOT_ALLOWED),
	DROP("allow list: unlisted v6 vip", r_deny_v6, ALLOW, DROP_NOT_ALLOWED),
	DROP("allow list: v4-mapped v6 is not the v4 vip", r_deny_v4mapped, ALLOW,
	     DROP_NOT_ALLOWED),
	DECAP("no allow list: any vip decapsulated", r_unlisted_v4, DFLT, DECAP_IPIP),
	DECAP("ecn: outer CE marks inner ECT(0) v4 (checksum)", r_ecn_ce_4in4, DFLT, DECAP_IPIP),
	DECAP("ecn: outer CE marks inner ECT(1) v4", r_ecn_ce_4in4_ect1, DFLT, DECAP_IPIP),
	DECAP("ecn: outer CE marks inner ECT(1) v6", r_ecn_ce_6in6, DFLT, DECAP_IPIP),
	DECAP("ecn: outer v6 CE marks inner v4 over gue", r_ecn_ce_4in6_gue, DFLT, DECAP_GUE),
	DECAP("ecn: outer v4 CE marks inner v6", r_ecn_ce_6in4, DFLT, DECAP_IPIP),
	DECAP("ecn: inner already CE stays CE", r_ecn_ce_already, DFLT, DECAP_IPIP),
	DECAP("ecn: outer ECT over not-ECT inner: unchanged", r_ecn_ect_outer, DFLT, DECAP_IPIP),
	DROP("ecn: outer CE over not-ECT inner", r_ecn_ce_not_ect, DFLT, DROP_MALFORMED),
	SAME("plain tcp v4", r_plain_tcp4, DFLT),
	SAME("plain udp v4", r_plain_udp4, DFLT),
	SAME("plain icmp echo v4", r_plain_icmp4, DFLT),
	SAME("plain tcp v6", r_plain_tcp6, DFLT),
	SAME("plain icmpv6 echo", r_plain_icmp6, DFLT),
	SAME("plain udp v6 vlan", r_plain_vlan_udp6, DFLT),
	SAME("arp request", r_arp, DFLT),
	SAME("plain tcp v4 with allow list", r_plain_tcp4, ALLOW),
	SAME("udp v4 to port 6081 (not gue port)", r_gue4_other_port, DFLT),
	SAME("udp v6 to port 6081 (not gue port)", r_gue6_other_port, DFLT),
	SAME("outer ipv4 fragment (MF) passed to the stack", r_4in4_fragment, DFLT),
	SAME("outer ipv6 with extension header: not xlb's", r_6in6_exthdr, DFLT),
	SAME("frame too short for ipv4", r_short_ip4, DFLT),
	DROP("truncated: ipip v4 outer beyond frame", r_trunc_outer4, DFLT, DROP_MALFORMED),
	DROP("truncated: gue v6 outer beyond frame", r_trunc_outer6_gue, DFLT, DROP_MALFORMED),
	DROP("truncated: frame ends in inner header", r_trunc_inner_hdr, DFLT, DROP_MALFORMED),
	DROP("truncated: tunnel holds 12 bytes of header", r_short_inner, DFLT, DROP_MALFORMED),
	DROP("length: inner v4 shorter than tunnel", r_len_mismatch4, DFLT, DROP_MALFORMED),
	DROP("length: inner v6 longer than tunnel", r_len_mismatch6, DFLT, DROP_MALFORMED),
	DROP("length: gue udp length wrong", r_gue_bad_udp_len, DFLT, DROP_MALFORMED),
	DROP("gue variant 0 header", r_gue_variant0, DFLT, DROP_MALFORMED),
	DROP("ipip proto 4 carrying ipv6", r_ipip_wrong_version, DFLT, DROP_MALFORMED),
	DROP("inner ipv4 ihl 4", r_inner_bad_ihl, DFLT, DROP_MALFORMED),
};

/* ---- running ---- */

static const char *const dstat_names[XLB_DECAP_STAT__MAX] = {
#define NAME(n, h) #n,
	XLB_DECAP_STAT_LIST(NAME)
#undef NAME
};

static int read_dstats(struct decap *skel, uint64_t *sum)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(skel->maps.xlb_dstats);
	uint64_t vals[ncpu > 0 ? ncpu : 1];
	__u32 k;

	for (k = 0; k < XLB_DECAP_STAT__MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			return -errno;
		sum[k] = 0;
		for (int c = 0; c < ncpu; c++)
			sum[k] += vals[c];
	}
	return 0;
}

static void run_case(const struct decap_case *tc)
{
	static struct pkt in, exp, out;
	uint64_t before[XLB_DECAP_STAT__MAX], after[XLB_DECAP_STAT__MAX];
	struct decap *skel = skels[tc->inst];
	char why[160], name[64];
	int act, k;

	xlbt_case_begin("decap: %s", tc->desc);
	if (!skel) {
		xlbt_skip("program instance not loaded");
		return;
	}
	pkt_init(&in);
	pkt_init(&exp);
	tc->recipe(&in, &exp);

	if (!ASSERT_OK(read_dstats(skel, before), "read xlb_dstats"))
		return;
	act = xlbf_run_prog(bpf_program__fd(skel->progs.xlb_decap), &in, &out);
	ASSERT_EQ(act, tc->action, "action");
	if (tc->out == OUT_DECAP) {
		ASSERT_MEM_EQ(out.buf, out.len, exp.buf, exp.len, "decapsulated frame");
		/* Inner checksums travel untouched; the output must verify as a whole. */
		if (pkt_verify(out.buf, out.len, 0, why, sizeof(why)))
			xlbt_fail(__FILE__, __LINE__, "output does not verify: %s", why);
	} else if (tc->out == OUT_SAME) {
		ASSERT_MEM_EQ(out.buf, out.len, in.buf, in.len, "frame passed untouched");
	}

	if (!ASSERT_OK(read_dstats(skel, after), "read xlb_dstats"))
		return;
	for (k = 0; k < XLB_DECAP_STAT__MAX; k++) {
		int want = (k == XLB_DECAP_STAT_RX || k == (int)tc->stat) ? 1 : 0;

		snprintf(name, sizeof(name), "delta %s", dstat_names[k]);
		ASSERT_EQ(after[k] - before[k], want, name);
	}
}

static struct decap *load(uint16_t gue_port, bool restrict_vips)
{
	struct decap *skel = decap__open();
	int err;

	if (!skel)
		return NULL;
	skel->rodata->gue_port = htons(gue_port);
	skel->rodata->restrict_vips = restrict_vips;
	err = decap__load(skel);
	if (err) {
		fprintf(stderr, "decap load: %s\n", strerror(-err));
		decap__destroy(skel);
		return NULL;
	}
	return skel;
}

static int allow(struct decap *skel, const char *addr)
{
	struct xlb_vip_key key;
	__u8 one = 1;
	int fam;

	memset(&key, 0, sizeof(key));
	fam = pkt_parse_addr(addr, key.addr.bytes);
	key.family = fam == 4 ? XLB_AF_INET : XLB_AF_INET6;
	return bpf_map_update_elem(bpf_map__fd(skel->maps.xlb_decap_vips), &key, &one, BPF_ANY)
		? -errno : 0;
}

static void test_load(void)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	skels[DFLT] = load(GUE_DEFAULT, false);
	skels[PORT] = load(GUE_CUSTOM, false);
	skels[ALLOW] = load(GUE_DEFAULT, true);
	if (!ASSERT_TRUE(skels[DFLT] && skels[PORT] && skels[ALLOW], "load three instances"))
		return;
	ASSERT_OK(allow(skels[ALLOW], VIP4), "allow " VIP4);
	ASSERT_OK(allow(skels[ALLOW], VIP6), "allow " VIP6);
	if (!bpf_obj_get_info_by_fd(bpf_program__fd(skels[DFLT]->progs.xlb_decap), &info, &len))
		printf("# xlb_decap: %u verified instructions, %u xlated bytes (%u insns), "
		       "%u jited bytes\n", info.verified_insns, info.xlated_prog_len,
		       info.xlated_prog_len / 8, info.jited_prog_len);
}

/* Every counter row sums to RX: each packet has exactly one outcome. */
static void test_counters_add_up(void)
{
	uint64_t s[XLB_DECAP_STAT__MAX], out = 0;
	int i, k;

	for (i = 0; i < N_INST; i++) {
		if (!skels[i] || read_dstats(skels[i], s))
			continue;
		for (out = 0, k = XLB_DECAP_STAT_PASS; k < XLB_DECAP_STAT__MAX; k++)
			out += s[k];
		ASSERT_EQ(out, s[XLB_DECAP_STAT_RX], "outcomes == rx");
	}
}

int main(void)
{
	size_t i;

	XLBT_RUN(test_load);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	XLBT_RUN(test_counters_add_up);
	for (i = 0; i < N_INST; i++)
		decap__destroy(skels[i]);
	return xlbt_finish("bpf/decap");
}

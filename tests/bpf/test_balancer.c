// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fixture tests of the balancer (bpf/xlb.bpf.c, xlb_ingress) through
 * BPF_PROG_TEST_RUN, after Katran's fixture table: every case has a
 * description, the recipe of its input packet, the expected XDP action,
 * the expected output packet (built independently by tests/lib/pkt.c and
 * compared byte for byte) and the expected counter deltas: global counters
 * (every counter not listed must stay put), per VIP and per real.
 *
 * The table covers single packets against a fixed set of VIPs and reals;
 * sequences (flow table behaviour, hash modes, config changes, ICMP) are
 * functions below it. Real selection is predicted with the shared hash of
 * include/xlb/hash.h.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "xlb/abi.h"
#include "xlb/hash.h"
#include "../lib/pkt.h"
#include "../lib/test.h"
#include "../lib/xlb_fixture.h"

#define XDP_ABORTED_ 0
#define XDP_DROP_ 1
#define XDP_PASS_ 2
#define XDP_TX_ 3

#define SEED 0x5eed1234u
#define LB4 "198.18.0.1"
#define LB6 "2001:db8::1"
#define CLIENT4 "198.18.100.1"
#define CLIENT6 "2001:db8:100::1"

static const uint8_t MAC_LB[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t MAC_GW[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static struct xlbf F;

/* ---- the topology every case runs against ---- */

struct real_def {
	const char *addr;
	uint8_t mac[6];
};

static const struct real_def REALS[] = {
	[1] = { "198.18.20.1", { 0x02, 0, 0, 0, 0x20, 0x01 } },
	[2] = { "2001:db8:20::2", { 0x02, 0, 0, 0, 0x20, 0x02 } },
	[3] = { "2001:db8:20::3", { 0x02, 0, 0, 0, 0x20, 0x03 } },
	[4] = { "198.18.20.4", { 0x02, 0, 0, 0, 0x20, 0x04 } },
	[5] = { "198.18.20.5", { 0x02, 0, 0, 0, 0x20, 0x05 } },
	[6] = { "198.18.20.6", { 0x02, 0, 0, 0, 0x20, 0x06 } },
	[7] = { "2001:db8:20::7", { 0x02, 0, 0, 0, 0x20, 0x07 } },
};
#define N_REALS (sizeof(REALS) / sizeof(REALS[0]))

struct vip_def {
	const char *addr;
	uint16_t port;
	uint8_t proto;
	uint8_t mode;
	uint8_t encap;
	uint32_t ring_real;	/* every slot of its ring */
	uint32_t ring_size;
	bool no_ring;		/* no entry in xlb_rings at all */
};

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define IPIP XLB_ENCAP_IPIP
#define GUE XLB_ENCAP_GUE

#define H5T XLB_HASH_5TUPLE

/* Index = VIP id. Rings are small primes: the slot math is the same at any M. */
static const struct vip_def VIPS[] = {
	[1] = { "198.18.10.1", 80, TCP, H5T, IPIP, 1, 13 },		/* 4in4 */
	[2] = { "198.18.10.1", 53, UDP, H5T, IPIP, 1, 13 },
	[3] = { "2001:db8:10::1", 80, TCP, H5T, IPIP, 2, 13 },		/* 6in6 */
	[4] = { "2001:db8:10::1", 53, UDP, H5T, IPIP, 2, 13 },
	[5] = { "198.18.10.2", 80, TCP, H5T, IPIP, 3, 13 },		/* 4in6 */
	[6] = { "198.18.10.2", 53, UDP, H5T, IPIP, 3, 13 },
	[7] = { "2001:db8:10::2", 80, TCP, H5T, IPIP, 4, 13 },		/* 6in4 */
	[8] = { "2001:db8:10::2", 53, UDP, H5T, IPIP, 4, 13 },
	[9] = { "198.18.10.3", 443, TCP, H5T, GUE, 1, 13 },		/* GUE v4 */
	[10] = { "198.18.10.3", 53, UDP, H5T, GUE, 1, 13 },
	[11] = { "2001:db8:10::3", 443, TCP, H5T, GUE, 2, 13 },		/* GUE v6 */
	[12] = { "198.18.10.4", 443, TCP, H5T, GUE, 3, 13 },		/* GUE 4 in v6 */
	[13] = { "198.18.10.5", 0, TCP, H5T, IPIP, 1, 13 },		/* port-less */
	[14] = { "198.18.10.6", 80, TCP, H5T, IPIP, 0, 13, true },	/* no ring */
	[15] = { "198.18.10.6", 81, TCP, H5T, IPIP, XLB_REAL_NONE, 13 }, /* empty ring */
	[16] = { "2001:db8:10::6", 0, UDP, H5T, GUE, 7, 13 },		/* port-less v6 GUE */
	[17] = { "198.18.10.7", 80, TCP, H5T, IPIP, 5, 13 },		/* flow table tests */
	[18] = { "198.18.10.8", 0, UDP, H5T, GUE, 3, 13 },		/* GUE 4 in v6, UDP */
};
#define N_VIPS (sizeof(VIPS) / sizeof(VIPS[0]))

/* VIP ids of the sequence tests, configured by those tests themselves. */
#define VIP_HASH_5T 20
#define VIP_HASH_SRC 21
#define VIP_HASH_SRC_DPORT 22
#define VIP_EXACT_PORT 24
#define VIP_REMOVED 25
#define VIP_FRAG_SRC_IP 26
#define VIP_HASH_SRC_V6 27
#define VIP_FRAG_GUE4 28
#define VIP_FRAG_V6 29

static struct xlbf_vip vip_of(uint32_t id)
{
	const struct vip_def *d = &VIPS[id];

	return (struct xlbf_vip){ .addr = d->addr, .port = d->port, .proto = d->proto, .id = id,
				  .ring_size = d->ring_size, .hash_mode = d->mode,
				  .encap = d->encap };
}

static int setup_topology(void)
{
	int err;

	err = xlbf_set_config(&F, LB4, LB6, 0, SEED, 0);
	for (uint32_t i = 1; !err && i < N_REALS; i++)
		err = xlbf_set_real(&F, i, REALS[i].addr, REALS[i].mac, 0);
	for (uint32_t i = 1; !err && i < N_VIPS; i++) {
		if (!VIPS[i].addr)
			continue;
		struct xlbf_vip v = vip_of(i);

		err = xlbf_add_vip(&F, &v);
		if (!err && !VIPS[i].no_ring)
			err = xlbf_set_ring(&F, i, VIPS[i].ring_size, NULL, VIPS[i].ring_real);
	}
	return err;
}

/* ---- input recipes ---- */

struct recipe {
	uint8_t proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	const char *src;	/* client; NULL = CLIENT4 / CLIENT6 by the VIP's family */
	const char *dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t flags;		/* TCP flags */
	uint16_t vlan;		/* 802.1Q TCI, 0 = untagged */
	uint8_t tos;		/* TOS / traffic class */
	bool df;
	uint16_t payload;	/* bytes after L4 */
};

static bool is_v6(const char *addr)
{
	return strchr(addr, ':') != NULL;
}

static const char *src_of(const struct recipe *r)
{
	return r->src ? r->src : is_v6(r->dst) ? CLIENT6 : CLIENT4;
}

static void build(struct pkt *p, const struct recipe *r)
{
	pkt_init(p);
	pkt_eth(p, MAC_LB, MAC_GW);
	if (r->vlan)
		pkt_vlan(p, r->vlan);
	if (is_v6(r->dst))
		pkt_ip6(p, &(struct pkt_ip6){ .src = src_of(r), .dst = r->dst, .tclass = r->tos,
					      .flow_label = 0x54321, .hop_limit = 61 });
	else
		pkt_ip4(p, &(struct pkt_ip4){ .src = src_of(r), .dst = r->dst, .tos = r->tos,
					      .df = r->df, .ttl = 61, .id = 0x1234 });
	if (r->proto == TCP)
		pkt_tcp(p, &(struct pkt_tcp){ .sport = r->sport, .dport = r->dport,
					      .flags = r->flags, .seq = 1000,
					      .ack = r->flags & PKT_TCP_ACK ? 2000 : 0 });
	else
		pkt_udp(p, &(struct pkt_udp){ .sport = r->sport, .dport = r->dport });
	pkt_payload_pattern(p, r->payload, r->sport);
	pkt_finish(p);
}

static struct xlb_flow_key key_of(const struct recipe *r)
{
	return xlbf_flow_key(src_of(r), r->dst, r->sport, r->dport, r->proto);
}

/* An IPv4 fragment (MF or offset) or an IPv6 packet whose first next header is a fragment header. */
static bool is_fragment(const struct pkt *in)
{
	const uint8_t *h = in->buf + pkt_l3_offset(in->buf, in->len);

	if (h[0] >> 4 == 4)
		return ((h[6] << 8 | h[7]) & 0x3fff) != 0;
	return h[6] == 44;
}

/*
 * The exact packet the balancer must send for input in of VIP vip to real.
 * A fragment in GUE gets the outer UDP checksum 0 (xlb.bpf.c, balance_fragment).
 */
static void expect_encap(struct pkt *out, const struct pkt *in, const struct xlb_flow_key *key,
			 uint8_t mode, uint8_t encap, uint32_t real)
{
	const struct real_def *r = &REALS[real];
	uint32_t hash = xlb_flow_hash(key, mode, SEED);
	struct pkt_encap e = {
		.src = is_v6(r->addr) ? LB6 : LB4,
		.dst = r->addr,
		/* DF copied from an inner IPv4 header; set for inner IPv6 (never fragmented). */
		.df = in->buf[pkt_l3_offset(in->buf, in->len)] >> 4 == 6 ? true : pkt_inner_df(in),
		.flow_label = xlb_flow_label(hash),
		.gue = encap == GUE,
		.gue_sport = xlb_gue_sport(hash),
		.gue_dport = ntohs(F.cfg.gue_port),
		.keep_vlan = true,
		.gue_no_csum = encap == GUE && is_fragment(in),
	};

	memcpy(e.dmac, r->mac, 6);
	memcpy(e.smac, MAC_LB, 6);
	pkt_encap(out, in, &e);
}

/*
 * The outer IPv4 id of a non-atomic datagram (DF clear) is random (RFC 6864),
 * so an expected packet (built with id 0) takes the id the program wrote,
 * with its header checksum recomputed over it: the comparison then covers
 * every other byte, and a checksum that must match the id actually sent. A
 * DF-set outer keeps the expected id 0, as does anything that is no IPv4.
 */
static void adopt_outer_id(struct pkt *exp, const struct pkt *out)
{
	int l3 = pkt_l3_offset(exp->buf, exp->len);
	uint16_t c;
	uint8_t *h;

	if (l3 < 0 || exp->buf[l3] >> 4 != 4 || (exp->buf[l3 + 6] & 0x40) ||
	    out->len < (size_t)l3 + 20)
		return;
	h = exp->buf + l3;
	h[4] = out->buf[l3 + 4];
	h[5] = out->buf[l3 + 5];
	h[10] = h[11] = 0;
	c = pkt_csum_fold(pkt_csum_add(0, h, (h[0] & 0xf) * 4));
	h[10] = c >> 8;
	h[11] = c & 0xff;
}

/* ASSERT_MEM_EQ of an encapsulated packet, the outer IPv4 id as adopt_outer_id says. */
#define ASSERT_ENCAP_EQ(out, exp, name) ({					\
	adopt_outer_id(&(exp), &(out));						\
	ASSERT_MEM_EQ((out).buf, (out).len, (exp).buf, (exp).len, (name));	\
})

/* ---- counters ---- */

#define S(name) (1u << XLB_STAT_##name)

struct snap {
	struct xlbf_counters g;
	struct xlb_vip_stats v;
	struct xlb_real_stats r;
	uint32_t vip, real;
};

static void take(struct snap *s, uint32_t vip, uint32_t real)
{
	memset(s, 0, sizeof(*s));
	s->vip = vip;
	s->real = real;
	ASSERT_OK(xlbf_read_stats(&F, &s->g), "read xlb_stats");
	if (vip)
		ASSERT_OK(xlbf_vip_stats(&F, vip, &s->v), "read xlb_vipstats_v2");
	if (real)
		ASSERT_OK(xlbf_real_stats(&F, real, &s->r), "read xlb_real_stats");
}

/* Every global counter moved by exactly RX + the ones in mask (each +1). */
static void check_global(const struct snap *a, uint32_t mask)
{
	struct snap b;
	char name[80];

	take(&b, 0, 0);
	mask |= S(RX);
	for (int i = 0; i < XLB_STAT__MAX; i++) {
		snprintf(name, sizeof(name), "xlb_stats[%s] delta", xlbf_stat_names[i]);
		ASSERT_EQ(b.g.stat[i] - a->g.stat[i], (mask >> i) & 1, name);
	}
}

/* Global counters a per-VIP drop is counted under (struct xlb_vip_stats drop_*). */
#define VIP_DROPS (S(DROP_NO_REAL) | S(DROP_FRAGMENT) | S(DROP_TOO_BIG) | S(ICMP_TOO_BIG) | \
		   S(DROP_ENCAP))

/*
 * drop: 0 (not dropped) or the S() bit of the reason of the one drop; drops
 * and exactly the drop_* field of that reason move by one.
 */
static void check_vip(const struct snap *a, uint64_t packets, uint64_t bytes, uint64_t new_flows,
		      uint32_t drop)
{
	struct xlb_vip_stats v;

	ASSERT_OK(xlbf_vip_stats(&F, a->vip, &v), "read xlb_vipstats_v2");
	ASSERT_EQ(v.packets - a->v.packets, packets, "vip packets delta");
	ASSERT_EQ(v.bytes - a->v.bytes, bytes, "vip bytes delta");
	ASSERT_EQ(v.new_flows - a->v.new_flows, new_flows, "vip new_flows delta");
	ASSERT_EQ(v.drops - a->v.drops, !!drop, "vip drops delta");
	ASSERT_EQ(v.drop_no_real - a->v.drop_no_real, !!(drop & S(DROP_NO_REAL)),
		  "vip drop_no_real delta");
	ASSERT_EQ(v.drop_fragment - a->v.drop_fragment, !!(drop & S(DROP_FRAGMENT)),
		  "vip drop_fragment delta");
	ASSERT_EQ(v.drop_too_big - a->v.drop_too_big,
		  !!(drop & (S(DROP_TOO_BIG) | S(ICMP_TOO_BIG))), "vip drop_too_big delta");
	ASSERT_EQ(v.drop_encap - a->v.drop_encap, !!(drop & S(DROP_ENCAP)),
		  "vip drop_encap delta");
	ASSERT_EQ(v.drops, v.drop_no_real + v.drop_fragment + v.drop_too_big + v.drop_encap,
		  "vip drops = sum of drop_*");
}

static void check_real(const struct snap *a, uint64_t packets, uint64_t bytes)
{
	struct xlb_real_stats r;

	ASSERT_OK(xlbf_real_stats(&F, a->real, &r), "read xlb_real_stats");
	ASSERT_EQ(r.packets - a->r.packets, packets, "real packets delta");
	ASSERT_EQ(r.bytes - a->r.bytes, bytes, "real bytes delta");
}

static void check_verify(const struct pkt *out, uint16_t gue_port)
{
	char why[160] = "";

	if (pkt_verify(out->buf, out->len, gue_port, why, sizeof(why)))
		xlbt_fail(__FILE__, __LINE__, "output fails the checksum/length verifier: %s", why);
}

/* ---- the fixture table ---- */

struct fixture {
	const char *desc;
	struct recipe in;
	int action;
	uint32_t vip;		/* VIP the packet is for (per-VIP deltas), 0 = none */
	uint32_t real;		/* real it must reach (XDP_TX) */
	uint32_t stats;		/* global counters expected +1 besides RX: S(...) | ... */
	bool fresh;		/* empty the flow table first */
	bool new_flow;		/* counts as a new flow of the VIP */
};

#define SYN PKT_TCP_SYN
#define ACK PKT_TCP_ACK
#define TX_IPIP (S(TX) | S(ENCAP_IPIP))
#define TX_GUE (S(TX) | S(ENCAP_GUE))

static const struct fixture TABLE[] = {
	/* 4in4 */
	{ "4in4 TCP SYN",
	  { TCP, NULL, "198.18.10.1", 40001, 80, SYN, .df = true, .payload = 0 },
	  XDP_TX_, 1, 1, TX_IPIP | S(SYN_RESELECT), true, true },
	{ "4in4 TCP ACK of the same flow: flow table hit",
	  { TCP, NULL, "198.18.10.1", 40001, 80, ACK, .df = true, .payload = 100 },
	  XDP_TX_, 1, 1, TX_IPIP | S(LRU_HIT) },
	{ "4in4 TCP ACK, no flow entry (established elsewhere)",
	  { TCP, NULL, "198.18.10.1", 40002, 80, ACK, .tos = 0x2e, .df = false, .payload = 33 },
	  XDP_TX_, 1, 1, TX_IPIP | S(LRU_MISS), true, true },
	{ "4in4 UDP",
	  { UDP, NULL, "198.18.10.1", 5353, 53, .df = false, .payload = 40 },
	  XDP_TX_, 2, 1, TX_IPIP | S(LRU_MISS), true, true },
	{ "4in4 UDP again: flow table hit",
	  { UDP, NULL, "198.18.10.1", 5353, 53, .payload = 41 },
	  XDP_TX_, 2, 1, TX_IPIP | S(LRU_HIT) },
	/* 6in6 */
	{ "6in6 TCP SYN",
	  { TCP, NULL, "2001:db8:10::1", 40001, 80, SYN, .tos = 0xb8 },
	  XDP_TX_, 3, 2, TX_IPIP | S(SYN_RESELECT), true, true },
	{ "6in6 TCP ACK: flow table hit",
	  { TCP, NULL, "2001:db8:10::1", 40001, 80, ACK, .payload = 200 },
	  XDP_TX_, 3, 2, TX_IPIP | S(LRU_HIT) },
	{ "6in6 UDP",
	  { UDP, NULL, "2001:db8:10::1", 5353, 53, .payload = 64 },
	  XDP_TX_, 4, 2, TX_IPIP | S(LRU_MISS), true, true },
	/* 4in6 */
	{ "4in6 TCP SYN",
	  { TCP, NULL, "198.18.10.2", 40001, 80, SYN, .df = true },
	  XDP_TX_, 5, 3, TX_IPIP | S(SYN_RESELECT), true, true },
	{ "4in6 TCP ACK: flow table hit",
	  { TCP, NULL, "198.18.10.2", 40001, 80, ACK, .df = true, .payload = 10 },
	  XDP_TX_, 5, 3, TX_IPIP | S(LRU_HIT) },
	{ "4in6 UDP",
	  { UDP, NULL, "198.18.10.2", 5353, 53, .tos = 0x10, .payload = 7 },
	  XDP_TX_, 6, 3, TX_IPIP | S(LRU_MISS), true, true },
	/* 6in4 */
	{ "6in4 TCP SYN",
	  { TCP, NULL, "2001:db8:10::2", 40001, 80, SYN },
	  XDP_TX_, 7, 4, TX_IPIP | S(SYN_RESELECT), true, true },
	{ "6in4 TCP ACK: flow table hit",
	  { TCP, NULL, "2001:db8:10::2", 40001, 80, ACK, .payload = 1 },
	  XDP_TX_, 7, 4, TX_IPIP | S(LRU_HIT) },
	{ "6in4 UDP",
	  { UDP, NULL, "2001:db8:10::2", 5353, 53, .tos = 0x04, .payload = 99 },
	  XDP_TX_, 8, 4, TX_IPIP | S(LRU_MISS), true, true },
	/* GUE */
	{ "GUE v4 outer, TCP SYN",
	  { TCP, NULL, "198.18.10.3", 40001, 443, SYN, .df = true },
	  XDP_TX_, 9, 1, TX_GUE | S(SYN_RESELECT), true, true },
	{ "GUE v4 outer, TCP ACK",
	  { TCP, NULL, "198.18.10.3", 40001, 443, ACK, .df = true, .payload = 301 },
	  XDP_TX_, 9, 1, TX_GUE | S(LRU_HIT) },
	{ "GUE v4 outer, UDP (odd length)",
	  { UDP, NULL, "198.18.10.3", 5353, 53, .payload = 77 },
	  XDP_TX_, 10, 1, TX_GUE | S(LRU_MISS), true, true },
	{ "GUE v6 outer, TCP SYN (6 in GUE/v6)",
	  { TCP, NULL, "2001:db8:10::3", 40001, 443, SYN, .tos = 0x28 },
	  XDP_TX_, 11, 2, TX_GUE | S(SYN_RESELECT), true, true },
	{ "GUE v6 outer, TCP ACK",
	  { TCP, NULL, "2001:db8:10::3", 40001, 443, ACK, .payload = 555 },
	  XDP_TX_, 11, 2, TX_GUE | S(LRU_HIT) },
	{ "GUE v6 outer, IPv4 inner (4 in GUE/v6)",
	  { TCP, NULL, "198.18.10.4", 40001, 443, SYN, .df = true, .payload = 3 },
	  XDP_TX_, 12, 3, TX_GUE | S(SYN_RESELECT), true, true },
	{ "GUE v6 outer, port-less v6 UDP VIP",
	  { UDP, NULL, "2001:db8:10::6", 1234, 9999, .payload = 13 },
	  XDP_TX_, 16, 7, TX_GUE | S(LRU_MISS), true, true },
	/* VLAN */
	{ "802.1Q-tagged 4in4 SYN keeps its tag",
	  { TCP, NULL, "198.18.10.1", 40003, 80, SYN, .vlan = 0x2064, .df = true },
	  XDP_TX_, 1, 1, TX_IPIP | S(SYN_RESELECT), true, true },
	{ "802.1Q-tagged 6in6 UDP keeps its tag",
	  { UDP, NULL, "2001:db8:10::1", 5353, 53, .vlan = 0x0005, .payload = 20 },
	  XDP_TX_, 4, 2, TX_IPIP | S(LRU_MISS), true, true },
	{ "802.1Q-tagged GUE v4 keeps its tag",
	  { UDP, NULL, "198.18.10.3", 5353, 53, .vlan = 0xe00a, .payload = 20 },
	  XDP_TX_, 10, 1, TX_GUE | S(LRU_MISS), true, true },
	/* port-less */
	{ "port-less VIP, port 80",
	  { TCP, NULL, "198.18.10.5", 40001, 80, SYN, .df = true },
	  XDP_TX_, 13, 1, TX_IPIP | S(SYN_RESELECT), true, true },
	{ "port-less VIP, port 12345",
	  { TCP, NULL, "198.18.10.5", 40001, 12345, SYN, .df = true },
	  XDP_TX_, 13, 1, TX_IPIP | S(SYN_RESELECT), true, true },
	{ "port-less TCP VIP, UDP to it: no VIP",
	  { UDP, NULL, "198.18.10.5", 40001, 80 },
	  XDP_DROP_, 0, 0, S(DROP_NO_VIP_PORT), true },
	/* unconfigured port / protocol on a VIP address */
	{ "VIP address, unconfigured TCP port",
	  { TCP, NULL, "198.18.10.1", 40001, 81, SYN },
	  XDP_DROP_, 0, 0, S(DROP_NO_VIP_PORT), true },
	{ "VIP address, UDP to a TCP-only port",
	  { UDP, NULL, "198.18.10.1", 40001, 80 },
	  XDP_DROP_, 0, 0, S(DROP_NO_VIP_PORT), true },
	{ "v6 VIP address, unconfigured port",
	  { TCP, NULL, "2001:db8:10::1", 40001, 8080, ACK },
	  XDP_DROP_, 0, 0, S(DROP_NO_VIP_PORT), true },
	/* no real */
	{ "VIP without a ring",
	  { TCP, NULL, "198.18.10.6", 40001, 80, SYN },
	  XDP_DROP_, 14, 0, S(DROP_NO_REAL), true, false },
	{ "VIP whose ring slots are all XLB_REAL_NONE",
	  { TCP, NULL, "198.18.10.6", 40001, 81, SYN },
	  XDP_DROP_, 15, 0, S(DROP_NO_REAL), true, false },
	/* not for a VIP: untouched */
	{ "IPv4 to a non-VIP address passes untouched",
	  { TCP, NULL, "198.18.99.1", 40001, 80, SYN },
	  XDP_PASS_, 0, 0, S(PASS_NOT_VIP), true },
	{ "IPv6 to a non-VIP address passes untouched",
	  { UDP, NULL, "2001:db8:99::1", 40001, 53 },
	  XDP_PASS_, 0, 0, S(PASS_NOT_VIP), true },
	{ "VIP as source, not destination, passes",
	  { UDP, "198.18.10.1", "198.18.99.1", 53, 5353 },
	  XDP_PASS_, 0, 0, S(PASS_NOT_VIP), true },
};

static void run_fixture(const struct fixture *fx)
{
	struct pkt in, out, exp;
	struct snap before;
	int act;

	if (fx->fresh)
		ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	build(&in, &fx->in);
	take(&before, fx->vip, fx->real);
	act = xlbf_run(&F, &in, &out);
	if (!ASSERT_EQ(act, fx->action, "XDP action"))
		printf("  got %s, expected %s\n", xlbf_action_name(act),
		       xlbf_action_name(fx->action));
	if (fx->action == XDP_TX_ && act == XDP_TX_) {
		struct xlb_flow_key key = key_of(&fx->in);

		expect_encap(&exp, &in, &key, VIPS[fx->vip].mode, VIPS[fx->vip].encap, fx->real);
		ASSERT_ENCAP_EQ(out, exp, "output packet");
		check_verify(&out, ntohs(F.cfg.gue_port));
	} else if (fx->action == XDP_PASS_) {
		ASSERT_MEM_EQ(out.buf, out.len, in.buf, in.len, "passed packet untouched");
	}
	check_global(&before, fx->stats);
	if (fx->vip)
		check_vip(&before, fx->action == XDP_TX_, fx->action == XDP_TX_ ? in.len : 0,
			  fx->new_flow, fx->action == XDP_DROP_ ? fx->stats & VIP_DROPS : 0);
	if (fx->real)
		check_real(&before, fx->action == XDP_TX_, fx->action == XDP_TX_ ? in.len : 0);
}

static void run_table(void)
{
	for (size_t i = 0; i < sizeof(TABLE) / sizeof(TABLE[0]); i++) {
		xlbt_case_begin("fixture: %s", TABLE[i].desc);
		run_fixture(&TABLE[i]);
		xlbt_case_end();
	}
}

/* ---- non-IP and ARP ---- */

static void test_arp_passes(void)
{
	const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	/* ARP request who-has 198.18.10.1 (a VIP) tell 198.18.100.1. */
	const uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 2, 198, 18, 100, 1,
				  0, 0, 0, 0, 0, 0, 198, 18, 10, 1 };
	struct pkt in, out;
	struct snap before;

	pkt_init(&in);
	pkt_eth(&in, bcast, MAC_GW);
	pkt_ethertype(&in, 0x0806);
	pkt_payload(&in, arp, sizeof(arp));
	pkt_payload_pattern(&in, 18, 0);	/* padding to 60 bytes */
	pkt_finish(&in);
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_PASS_, "action");
	ASSERT_MEM_EQ(out.buf, out.len, in.buf, in.len, "untouched");
	check_global(&before, S(PASS_NOT_IP));
}

/* ---- GUE with a custom port ---- */

static void test_gue_custom_port(void)
{
	struct recipe r4 = { UDP, NULL, "198.18.10.3", 5353, 53, .payload = 50 };
	struct recipe r6 = { TCP, NULL, "2001:db8:10::3", 40009, 443, SYN, .payload = 9 };
	struct pkt in, out, exp;
	struct xlb_flow_key key;
	struct snap before;

	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 7777, SEED, 0), "config gue_port 7777");
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");

	build(&in, &r4);
	key = key_of(&r4);
	take(&before, 10, 1);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "v4 action");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, GUE, 1);
	ASSERT_EQ(exp.buf[14 + 20 + 2] << 8 | exp.buf[14 + 20 + 3], 7777, "expected dport");
	ASSERT_ENCAP_EQ(out, exp, "v4 GUE to port 7777");
	check_verify(&out, 7777);
	check_global(&before, TX_GUE | S(LRU_MISS));

	build(&in, &r6);
	key = key_of(&r6);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "v6 action");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, GUE, 2);
	ASSERT_ENCAP_EQ(out, exp, "v6 GUE to port 7777");
	check_verify(&out, 7777);

	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 0), "config back");
}

/* The GUE UDP checksum, once more by hand: sum of every byte, nothing shared. */
static void test_gue_udp_checksum_by_hand(void)
{
	struct recipe r = { UDP, NULL, "198.18.10.3", 7, 53, .payload = 1001 };
	struct pkt in, out;
	uint32_t sum = 0;
	size_t udp_off = 14 + 20, i;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	build(&in, &r);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "action");
	if (!ASSERT_EQ(out.len, in.len + 28, "len"))
		return;
	/* Pseudo-header: source, destination, zero + protocol, UDP length. */
	for (i = 14 + 12; i < 14 + 20; i += 2)
		sum += out.buf[i] << 8 | out.buf[i + 1];
	sum += 17 + (out.len - udp_off);
	for (i = udp_off; i < out.len; i++)
		sum += (i - udp_off) % 2 ? out.buf[i] : out.buf[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ASSERT_EQ(sum, 0xffff, "one's complement sum over pseudo-header + UDP + payload");
	ASSERT_NEQ(out.buf[udp_off + 6] << 8 | out.buf[udp_off + 7], 0, "checksum present");
}

/* ---- hash modes ---- */

static const uint32_t HASH_RING[13] = { 5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5 };

static uint32_t ring_real(const struct xlb_flow_key *k, uint8_t mode)
{
	return HASH_RING[xlb_ring_slot(xlb_flow_hash(k, mode, SEED), 13)];
}

static int send_udp(const char *dst, uint16_t sport, uint16_t dport, uint32_t *real_out)
{
	struct recipe r = { UDP, NULL, dst, sport, dport, .payload = 8 };
	struct pkt in, out;
	int act;

	build(&in, &r);
	act = xlbf_run(&F, &in, &out);
	*real_out = 0;
	for (uint32_t i = 1; act == XDP_TX_ && i < N_REALS; i++)
		if (out.len > 14 && !memcmp(out.buf, REALS[i].mac, 6))
			*real_out = i;
	return act;
}

/* Which of the hash tests' reals (5 or 6) an output frame goes to; 0 if neither. */
static uint32_t real_of(const struct pkt *out)
{
	if (out->len >= 6 && !memcmp(out->buf, REALS[5].mac, 6))
		return 5;
	if (out->len >= 6 && !memcmp(out->buf, REALS[6].mac, 6))
		return 6;
	return 0;
}

static void setup_hash_vip(uint32_t id, const char *addr, uint16_t port, uint8_t mode)
{
	ASSERT_OK(xlbf_add_vip(&F, &(struct xlbf_vip){ .addr = addr, .port = port, .proto = UDP,
						      .id = id, .ring_size = 13, .hash_mode = mode,
						      .encap = IPIP }), "add VIP");
	ASSERT_OK(xlbf_set_ring(&F, id, 13, HASH_RING, 0), "set ring");
}

static void test_hash_5tuple(void)
{
	const char *vip = "198.18.11.1";
	struct xlb_flow_key ka, kb;
	uint16_t a = 40000, b;
	uint32_t ra, rb;

	setup_hash_vip(VIP_HASH_5T, vip, 53, XLB_HASH_5TUPLE);
	ka = xlbf_flow_key(CLIENT4, vip, a, 53, UDP);
	for (b = a + 1; b < a + 200; b++) {
		kb = xlbf_flow_key(CLIENT4, vip, b, 53, UDP);
		if (ring_real(&kb, XLB_HASH_5TUPLE) != ring_real(&ka, XLB_HASH_5TUPLE))
			break;
	}
	printf("  source ports %u and %u: reals %u and %u by the shared hash\n", a, b,
	       ring_real(&ka, XLB_HASH_5TUPLE), ring_real(&kb, XLB_HASH_5TUPLE));
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	ASSERT_EQ(send_udp(vip, a, 53, &ra), XDP_TX_, "flow a");
	ASSERT_EQ(send_udp(vip, b, 53, &rb), XDP_TX_, "flow b");
	ASSERT_EQ(ra, ring_real(&ka, XLB_HASH_5TUPLE), "flow a real");
	ASSERT_EQ(rb, ring_real(&kb, XLB_HASH_5TUPLE), "flow b real");
	ASSERT_NEQ(ra, rb, "flows differing in source port land apart");
	/* A larger sample: every flow lands where the shared hash says. */
	for (uint16_t p = 41000; p < 41064; p++) {
		struct xlb_flow_key k = xlbf_flow_key(CLIENT4, vip, p, 53, UDP);
		uint32_t r;

		send_udp(vip, p, 53, &r);
		if (!ASSERT_EQ(r, ring_real(&k, XLB_HASH_5TUPLE), "sampled flow real"))
			break;
	}
}

static void test_hash_src_ip(void)
{
	const char *vip = "198.18.11.2";
	const char *other = "198.18.100.2";
	struct xlb_flow_key ka, kc;
	uint32_t ra, rb, rc;

	setup_hash_vip(VIP_HASH_SRC, vip, 53, XLB_HASH_SRC_IP);
	ka = xlbf_flow_key(CLIENT4, vip, 40000, 53, UDP);
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	ASSERT_EQ(send_udp(vip, 40000, 53, &ra), XDP_TX_, "flow a");
	ASSERT_EQ(ra, ring_real(&ka, XLB_HASH_SRC_IP), "flow a real");
	/* Every source port of the same client lands on the same real. */
	for (uint16_t p = 40001; p < 40040; p++) {
		ASSERT_EQ(send_udp(vip, p, 53, &rb), XDP_TX_, "flow b");
		if (!ASSERT_EQ(rb, ra, "same client, other port: same real"))
			break;
	}
	/* A client whose address hashes to the other real goes there. */
	for (int i = 2; i < 250; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "198.18.100.%d", i);
		kc = xlbf_flow_key(addr, vip, 40000, 53, UDP);
		if (ring_real(&kc, XLB_HASH_SRC_IP) != ra) {
			struct recipe r = { UDP, addr, vip, 40000, 53, .payload = 8 };
			struct pkt in, out;

			other = addr;
			build(&in, &r);
			ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "client c");
			rc = real_of(&out);
			ASSERT_EQ(rc, ring_real(&kc, XLB_HASH_SRC_IP), "client c real");
			printf("  client %s -> real %u, client %s -> real %u\n", CLIENT4, ra, other,
			       rc);
			break;
		}
	}
}

static void test_hash_src_ip_dport(void)
{
	const char *vip = "198.18.11.3";	/* port-less, so that dport varies */
	struct xlb_flow_key k80, kd;
	uint32_t r80, rb, rd;
	uint16_t d;

	setup_hash_vip(VIP_HASH_SRC_DPORT, vip, 0, XLB_HASH_SRC_IP_DPORT);
	k80 = xlbf_flow_key(CLIENT4, vip, 40000, 80, UDP);
	for (d = 81; d < 300; d++) {
		kd = xlbf_flow_key(CLIENT4, vip, 40000, d, UDP);
		if (ring_real(&kd, XLB_HASH_SRC_IP_DPORT) != ring_real(&k80, XLB_HASH_SRC_IP_DPORT))
			break;
	}
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	ASSERT_EQ(send_udp(vip, 40000, 80, &r80), XDP_TX_, "dport 80");
	ASSERT_EQ(r80, ring_real(&k80, XLB_HASH_SRC_IP_DPORT), "dport 80 real");
	for (uint16_t p = 40001; p < 40040; p++) {
		ASSERT_EQ(send_udp(vip, p, 80, &rb), XDP_TX_, "other sport");
		if (!ASSERT_EQ(rb, r80, "same src and dport, other sport: same real"))
			break;
	}
	ASSERT_EQ(send_udp(vip, 40000, d, &rd), XDP_TX_, "other dport");
	ASSERT_EQ(rd, ring_real(&kd, XLB_HASH_SRC_IP_DPORT), "other dport real");
	ASSERT_NEQ(rd, r80, "other dport lands apart");
	printf("  dport 80 -> real %u, dport %u -> real %u\n", r80, d, rd);
}

static void test_hash_src_ip_v6(void)
{
	const char *vip = "2001:db8:11::2";
	struct xlb_flow_key k;
	uint32_t r0, r;
	int apart = 0;

	setup_hash_vip(VIP_HASH_SRC_V6, vip, 53, XLB_HASH_SRC_IP);
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	k = xlbf_flow_key(CLIENT6, vip, 40000, 53, UDP);
	ASSERT_EQ(send_udp(vip, 40000, 53, &r0), XDP_TX_, "first flow");
	ASSERT_EQ(r0, ring_real(&k, XLB_HASH_SRC_IP), "first flow real");
	for (uint16_t p = 40001; p < 40040; p++) {
		ASSERT_EQ(send_udp(vip, p, 53, &r), XDP_TX_, "other port");
		if (!ASSERT_EQ(r, r0, "same v6 client, other port: same real"))
			break;
	}
	/* Clients differing in the last address word spread by the shared hash. */
	for (int i = 2; i < 40; i++) {
		char addr[64];
		struct recipe rc = { UDP, addr, vip, 40000, 53, .payload = 8 };
		struct pkt in, out;

		snprintf(addr, sizeof(addr), "2001:db8:100::%x", i);
		k = xlbf_flow_key(addr, vip, 40000, 53, UDP);
		build(&in, &rc);
		if (!ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "client"))
			break;
		r = real_of(&out);
		if (!ASSERT_EQ(r, ring_real(&k, XLB_HASH_SRC_IP), "v6 client real"))
			break;
		apart += r != r0;
	}
	ASSERT_TRUE(apart > 0, "some v6 clients land elsewhere");
}

/* The seed comes from xlb_config at run time: changing it moves flows as the shared hash says. */
static void test_hash_seed_from_config(void)
{
	const char *vip = "198.18.11.1";	/* VIP_HASH_5T, set up by test_hash_5tuple */
	const uint32_t seed2 = 0xabad1dea;
	int moved = 0;

	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, seed2, 0), "seed 2");
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	for (uint16_t p = 42000; p < 42032; p++) {
		struct xlb_flow_key k = xlbf_flow_key(CLIENT4, vip, p, 53, UDP);
		uint32_t h = xlb_flow_hash(&k, XLB_HASH_5TUPLE, seed2);
		uint32_t want = HASH_RING[xlb_ring_slot(h, 13)];
		uint32_t r;

		ASSERT_EQ(send_udp(vip, p, 53, &r), XDP_TX_, "action");
		if (!ASSERT_EQ(r, want, "real by the new seed"))
			break;
		moved += want != ring_real(&k, XLB_HASH_5TUPLE);
	}
	ASSERT_TRUE(moved > 0, "some flows land elsewhere than with the old seed");
	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 0), "seed back");
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
}

/* ---- outer IPv4 id (RFC 6864) ---- */

/* The outer id of an output frame with an untagged IPv4 outer header. */
static uint16_t outer_id(const struct pkt *out)
{
	return out->buf[14 + 4] << 8 | out->buf[14 + 5];
}

/*
 * An atomic outer datagram (DF set) has id 0; a non-atomic one (DF clear:
 * a router may fragment it) a random id, which must vary from packet to
 * packet of the same flow. 16 packets with one id: a chance of 2^-240.
 */
static void test_outer_ipv4_id(void)
{
	struct recipe nodf = { UDP, NULL, "198.18.10.1", 5370, 53, .payload = 20 };
	struct recipe df = { TCP, NULL, "198.18.10.1", 40370, 80, ACK, .df = true, .payload = 20 };
	struct recipe v6in4 = { UDP, NULL, "2001:db8:10::2", 5370, 53, .payload = 20 };
	struct pkt in, out;
	uint16_t first = 0;
	int distinct = 0;
	char why[160];

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	build(&in, &nodf);
	for (int i = 0; i < 16; i++) {
		if (!ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "DF clear: action"))
			return;
		ASSERT_EQ(out.buf[14 + 6] & 0x40, 0, "outer DF clear");
		/* The header checksum covers the id actually written. */
		if (pkt_verify(out.buf, out.len, 0, why, sizeof(why)))
			xlbt_fail(__FILE__, __LINE__, "DF clear, packet %d: %s", i, why);
		if (i == 0)
			first = outer_id(&out);
		else
			distinct += outer_id(&out) != first;
	}
	printf("  DF clear: 16 outer ids, %d differ from the first (0x%04x)\n", distinct, first);
	ASSERT_TRUE(distinct > 0, "outer ids vary when DF is clear");

	build(&in, &df);
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "DF set: action");
		ASSERT_EQ(out.buf[14 + 6] & 0x40, 0x40, "outer DF set");
		ASSERT_EQ(outer_id(&out), 0, "DF set: outer id 0");
	}
	/* IPv6 inside IPv4: DF set (the inner may not be fragmented), id 0. */
	build(&in, &v6in4);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "6in4: action");
	ASSERT_EQ(out.buf[14 + 6] & 0x40, 0x40, "6in4: outer DF set");
	ASSERT_EQ(outer_id(&out), 0, "6in4: outer id 0");
}

/* ---- flow table ---- */

static const struct recipe FLOW_SYN = { TCP, NULL, "198.18.10.7", 45000, 80, SYN, .df = true };
static const struct recipe FLOW_ACK = { TCP, NULL, "198.18.10.7", 45000, 80, ACK, .df = true,
					.payload = 20 };

/* Sends r; asserts XDP_TX to `real` with the exact bytes and the counters in mask. */
static size_t expect_tx(const struct recipe *r, uint32_t vip, uint32_t real, uint32_t mask,
			const char *what)
{
	struct xlb_flow_key key = key_of(r);
	struct pkt in, out, exp;
	struct snap before;
	int act;

	build(&in, r);
	take(&before, vip, real);
	act = xlbf_run(&F, &in, &out);
	if (!ASSERT_EQ(act, XDP_TX_, what))
		return in.len;
	expect_encap(&exp, &in, &key, VIPS[vip].mode, VIPS[vip].encap, real);
	if (!ASSERT_ENCAP_EQ(out, exp, what))
		return in.len;
	check_global(&before, mask);
	check_real(&before, 1, in.len);
	return in.len;
}

static void test_lru_sticky_after_ring_change(void)
{
	struct xlb_flow_key key = key_of(&FLOW_SYN);
	struct xlb_flow fl;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 5), "ring -> real 5");
	expect_tx(&FLOW_SYN, 17, 5, TX_IPIP | S(SYN_RESELECT), "SYN to real 5");
	if (ASSERT_OK(xlbf_get_flow(&F, &key, &fl), "flow entry stored"))
		ASSERT_EQ(fl.real, 5, "flow entry real");
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 6), "ring -> real 6");
	expect_tx(&FLOW_ACK, 17, 5, TX_IPIP | S(LRU_HIT), "ACK still to real 5");
	expect_tx(&FLOW_ACK, 17, 5, TX_IPIP | S(LRU_HIT), "and again");
	/* A new flow follows the new ring. */
	struct recipe other = FLOW_SYN;

	other.sport = 45001;
	expect_tx(&other, 17, 6, TX_IPIP | S(SYN_RESELECT), "new flow to real 6");
}

static void test_lru_udp_sticky(void)
{
	struct recipe r = { UDP, NULL, "198.18.10.1", 6000, 53, .payload = 5 };

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	ASSERT_OK(xlbf_set_real(&F, 5, REALS[5].addr, REALS[5].mac, 0), "real 5 up");
	expect_tx(&r, 2, 1, TX_IPIP | S(LRU_MISS), "UDP to real 1");
	ASSERT_OK(xlbf_set_ring(&F, 2, 13, NULL, 5), "ring -> real 5");
	expect_tx(&r, 2, 1, TX_IPIP | S(LRU_HIT), "UDP flow stays on real 1");
	ASSERT_OK(xlbf_set_ring(&F, 2, 13, NULL, 1), "ring back");
}

static void test_lru_real_down_reselects(void)
{
	struct xlb_flow_key key = key_of(&FLOW_SYN);
	struct xlb_flow fl;
	struct snap before;
	size_t len;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 5), "ring -> real 5");
	expect_tx(&FLOW_SYN, 17, 5, TX_IPIP | S(SYN_RESELECT), "SYN to real 5");
	/* The control plane takes real 5 out of the ring and marks it down. */
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 6), "ring -> real 6");
	ASSERT_OK(xlbf_set_real(&F, 5, REALS[5].addr, REALS[5].mac, XLB_REAL_F_DOWN),
		  "real 5 down");
	take(&before, 17, 0);
	len = expect_tx(&FLOW_ACK, 17, 6, TX_IPIP | S(LRU_DOWN), "ACK reselected to real 6");
	/* Neither a SYN nor a miss: not a new flow of the VIP (ABI: new_flows). */
	check_vip(&before, 1, len, 0, 0);
	if (ASSERT_OK(xlbf_get_flow(&F, &key, &fl), "flow entry"))
		ASSERT_EQ(fl.real, 6, "flow entry now real 6");
	ASSERT_OK(xlbf_set_real(&F, 5, REALS[5].addr, REALS[5].mac, 0), "real 5 up");
	expect_tx(&FLOW_ACK, 17, 6, TX_IPIP | S(LRU_HIT), "stays on real 6 once 5 is back");
}

static void test_syn_overrides_stale_entry(void)
{
	struct xlb_flow_key key = key_of(&FLOW_SYN);
	struct xlb_flow fl;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 6), "ring -> real 6");
	/* A stale entry: the 5-tuple was used before and went to real 5. */
	ASSERT_OK(xlbf_put_flow(&F, &key, 5, 17), "stale entry -> real 5");
	expect_tx(&FLOW_ACK, 17, 5, TX_IPIP | S(LRU_HIT), "ACK follows the entry");
	expect_tx(&FLOW_SYN, 17, 6, TX_IPIP | S(SYN_RESELECT), "SYN selects afresh: real 6");
	if (ASSERT_OK(xlbf_get_flow(&F, &key, &fl), "flow entry"))
		ASSERT_EQ(fl.real, 6, "entry overwritten with real 6");
	expect_tx(&FLOW_ACK, 17, 6, TX_IPIP | S(LRU_HIT), "ACK now to real 6");
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 5), "ring back");
}

/* ---- config ---- */

static void test_outer_source_unset(void)
{
	struct recipe r4 = { TCP, NULL, "198.18.10.1", 40001, 80, SYN };
	struct recipe r6 = { TCP, NULL, "2001:db8:10::1", 40001, 80, SYN };
	struct pkt in;
	struct snap before;

	ASSERT_OK(xlbf_set_config(&F, NULL, LB6, 0, SEED, 0), "config without src_v4");
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	build(&in, &r4);
	take(&before, 1, 1);
	ASSERT_EQ(xlbf_run(&F, &in, NULL), XDP_DROP_, "v4 outer, no source: drop");
	check_global(&before, S(DROP_ENCAP) | S(SYN_RESELECT));
	check_vip(&before, 0, 0, 0, S(DROP_ENCAP));
	check_real(&before, 0, 0);

	ASSERT_OK(xlbf_set_config(&F, LB4, NULL, 0, SEED, 0), "config without src_v6");
	build(&in, &r6);
	take(&before, 3, 2);
	ASSERT_EQ(xlbf_run(&F, &in, NULL), XDP_DROP_, "v6 outer, no source: drop");
	check_global(&before, S(DROP_ENCAP) | S(SYN_RESELECT));
	check_vip(&before, 0, 0, 0, S(DROP_ENCAP));
	check_real(&before, 0, 0);
	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 0), "config back");
}

/* ---- malformed and truncated input ---- */

struct bad {
	const char *desc;
	int action;		/* expected */
	uint32_t stats;		/* expected besides RX */
};

static void run_bad(const struct pkt *in, const struct bad *b)
{
	struct pkt out;
	struct snap before;
	int act;

	xlbt_case_begin("malformed: %s", b->desc);
	take(&before, 0, 0);
	act = xlbf_run(&F, in, &out);
	if (!ASSERT_EQ(act, b->action, "action"))
		printf("  got %s\n", xlbf_action_name(act));
	if (act == XDP_PASS_)
		ASSERT_MEM_EQ(out.buf, out.len, in->buf, in->len, "passed untouched");
	check_global(&before, b->stats);
	xlbt_case_end();
}

static void v4_to_vip(struct pkt *p, const struct pkt_ip4 *ip)
{
	pkt_init(p);
	pkt_eth(p, MAC_LB, MAC_GW);
	pkt_ip4(p, ip);
}

static void test_malformed(void)
{
	struct pkt p;

	/* Ethernet only, ethertype IPv4. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ethertype(&p, 0x0800);
	/* No destination to look at: not ours, the stack drops it. */
	run_bad(&p, &(struct bad){ "Ethernet header only (IPv4 ethertype)", XDP_PASS_,
				   S(PASS_NOT_VIP) });

	/* An 802.1Q TPID and nothing after it (test_run refuses frames under 14 bytes). */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ethertype(&p, 0x8100);
	run_bad(&p, &(struct bad){ "802.1Q tag cut off", XDP_PASS_, S(PASS_NOT_IP) });

	/* A tag, then an IPv4 ethertype and no IP header. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_vlan(&p, 5);
	pkt_ethertype(&p, 0x0800);
	run_bad(&p, &(struct bad){ "802.1Q tag, IPv4 ethertype, no header", XDP_PASS_,
				   S(PASS_NOT_VIP) });

	/* Two stacked tags (QinQ): the inner tag is not parsed, not IP. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_vlan(&p, 5);
	pkt_vlan(&p, 6);
	pkt_ip4(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1" });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1, .dport = 80, .flags = SYN });
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "two 802.1Q tags", XDP_PASS_, S(PASS_NOT_IP) });

	/* IPv4 header cut at 12 bytes. */
	v4_to_vip(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1" });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1, .dport = 80, .flags = SYN });
	pkt_finish(&p);
	pkt_truncate(&p, 14 + 12);
	run_bad(&p, &(struct bad){ "IPv4 header truncated before daddr", XDP_PASS_,
				   S(PASS_NOT_VIP) });

	/* ihl < 5. */
	v4_to_vip(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .ihl = 4 });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1, .dport = 80, .flags = SYN });
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "IPv4 ihl 4", XDP_DROP_, S(DROP_MALFORMED) });

	/* ihl 15 (60 bytes) but only 28 bytes of IP. */
	v4_to_vip(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .ihl = 15,
					 .proto = UDP });
	pkt_payload_pattern(&p, 8, 2);
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "IPv4 ihl beyond the data", XDP_DROP_, S(DROP_MALFORMED) });

	/* tot_len larger than the frame. */
	v4_to_vip(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .tot_len = 1000 });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1, .dport = 80, .flags = SYN });
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "IPv4 tot_len beyond the frame", XDP_DROP_, S(DROP_MALFORMED) });

	/* tot_len smaller than the header. */
	v4_to_vip(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .tot_len = 19 });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1, .dport = 80, .flags = SYN });
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "IPv4 tot_len below ihl", XDP_DROP_, S(DROP_MALFORMED) });

	/* TCP header cut at 10 bytes (tot_len consistent). */
	v4_to_vip(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .proto = TCP });
	pkt_payload_pattern(&p, 10, 3);
	pkt_finish(&p);
	p.buf[14 + 20] = 0x9c;	/* sport 40000 */
	p.buf[14 + 21] = 0x40;
	p.buf[14 + 22] = 0;	/* dport 80 */
	p.buf[14 + 23] = 80;
	run_bad(&p, &(struct bad){ "TCP header truncated", XDP_DROP_, S(DROP_MALFORMED) });

	/* TCP doff < 5. */
	v4_to_vip(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1" });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1, .dport = 80, .flags = SYN });
	pkt_finish(&p);
	p.buf[14 + 20 + 12] = 0x40;
	run_bad(&p, &(struct bad){ "TCP doff 4", XDP_DROP_, S(DROP_MALFORMED) });

	/* UDP header cut at 4 bytes. */
	v4_to_vip(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .proto = UDP });
	pkt_payload(&p, "\x13\x88\x00\x35", 4);
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "UDP header truncated", XDP_DROP_, S(DROP_MALFORMED) });

	/* IPv6 header truncated. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip6(&p, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::1" });
	pkt_finish(&p);
	pkt_truncate(&p, 14 + 30);
	run_bad(&p, &(struct bad){ "IPv6 header truncated before daddr", XDP_PASS_,
				   S(PASS_NOT_VIP) });

	/* IPv6 payload_len beyond the frame. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip6(&p, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::1",
				       .payload_len = 500 });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1, .dport = 80, .flags = SYN });
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "IPv6 payload_len beyond the frame", XDP_DROP_,
				   S(DROP_MALFORMED) });

	/* IPv6 extension chain cut inside a header. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip6(&p, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::1" });
	pkt_ip6_ext(&p, 0, 8);
	pkt_ip6_ext(&p, 60, 64);
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1, .dport = 80, .flags = SYN });
	pkt_finish(&p);
	pkt_truncate(&p, 14 + 40 + 8 + 20);
	p.buf[14 + 4] = 0;
	p.buf[14 + 5] = 28;	/* consistent payload_len: the chain itself is short */
	run_bad(&p, &(struct bad){ "IPv6 extension header chain truncated", XDP_DROP_,
				   S(DROP_MALFORMED) });

	/* More extension headers than the parser walks. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip6(&p, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::1" });
	pkt_ip6_ext(&p, 0, 8);
	for (int i = 0; i < 8; i++)
		pkt_ip6_ext(&p, 60, 8);
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1, .dport = 80, .flags = SYN });
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "IPv6 chain of 9 extension headers", XDP_DROP_,
				   S(DROP_MALFORMED) });

	/* IPv4 version nibble wrong behind an IPv4 ethertype. */
	v4_to_vip(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1" });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1, .dport = 80, .flags = SYN });
	pkt_finish(&p);
	p.buf[14] = 0x65;
	run_bad(&p, &(struct bad){ "version 6 behind the IPv4 ethertype", XDP_DROP_,
				   S(DROP_MALFORMED) });

	/* Malformed packets not for a VIP still pass (nothing of ours). */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip4(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.99.1", .proto = TCP });
	pkt_payload_pattern(&p, 6, 3);
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "truncated TCP to a non-VIP address", XDP_PASS_,
				   S(PASS_NOT_VIP) });
}

/* Well-formed but unusual headers that must still be balanced. */
static void test_ipv4_options_to_vip(void)
{
	static const uint8_t opts[8] = { 0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00 };
	struct xlb_flow_key key = xlbf_flow_key(CLIENT4, "198.18.10.1", 40077, 80, TCP);
	struct pkt in, out, exp;
	struct snap before;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip4(&in, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .df = true,
					.options = opts, .opt_len = sizeof(opts) });
	pkt_tcp(&in, &(struct pkt_tcp){ .sport = 40077, .dport = 80, .flags = SYN });
	pkt_payload_pattern(&in, 17, 4);
	pkt_finish(&in);
	take(&before, 1, 1);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "action");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, IPIP, 1);
	ASSERT_ENCAP_EQ(out, exp, "output packet");
	check_global(&before, TX_IPIP | S(SYN_RESELECT));
}

static void test_ipv6_ext_to_vip(void)
{
	struct xlb_flow_key key = xlbf_flow_key(CLIENT6, "2001:db8:10::1", 40077, 80, TCP);
	struct pkt in, out, exp;
	struct snap before;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip6(&in, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::1" });
	pkt_ip6_ext(&in, 0, 8);
	pkt_ip6_ext(&in, 60, 16);
	pkt_tcp(&in, &(struct pkt_tcp){ .sport = 40077, .dport = 80, .flags = SYN });
	pkt_payload_pattern(&in, 17, 4);
	pkt_finish(&in);
	take(&before, 3, 2);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "action");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, IPIP, 2);
	ASSERT_ENCAP_EQ(out, exp, "output packet");
	check_global(&before, TX_IPIP | S(SYN_RESELECT));
}

/* ---- fragments ---- */

static void test_fragments_dropped(void)
{
	struct pkt p;
	struct snap before;

	/* First fragment (MF, offset 0). */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip4(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .mf = true, .id = 7 });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 40000, .dport = 80, .flags = ACK });
	pkt_payload_pattern(&p, 64, 1);
	pkt_finish(&p);
	take(&before, 1, 0);
	ASSERT_EQ(xlbf_run(&F, &p, NULL), XDP_DROP_, "first fragment");
	check_global(&before, S(DROP_FRAGMENT));
	/* Without ports the VIP (port-specific) is unknown: no per-VIP drop. */
	check_vip(&before, 0, 0, 0, 0);

	/* Later fragment: no L4 header at all. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip4(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .frag_off = 1480,
				       .id = 7, .proto = TCP });
	pkt_payload_pattern(&p, 64, 1);
	pkt_finish(&p);
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &p, NULL), XDP_DROP_, "later fragment");
	check_global(&before, S(DROP_FRAGMENT));

	/* IPv6 fragment header. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip6(&p, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::1" });
	pkt_ip6_frag(&p, 0, true, 99);
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 40000, .dport = 80, .flags = ACK });
	pkt_payload_pattern(&p, 64, 1);
	pkt_finish(&p);
	p.buf[14 + 40] = TCP;	/* the fragment header's next header */
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &p, NULL), XDP_DROP_, "IPv6 fragment");
	check_global(&before, S(DROP_FRAGMENT));
}

/* ---- Ethernet padding, checksum-less UDP, GUE over options / extension headers ---- */

/* A 54-byte SYN padded to the 60-byte Ethernet minimum: the padding rides along untouched. */
static void test_ethernet_padding(void)
{
	struct recipe r = { TCP, NULL, "198.18.10.1", 40100, 80, SYN, .df = true };
	struct recipe g = { TCP, NULL, "198.18.10.3", 40100, 443, SYN, .df = true };
	const uint8_t pad[6] = { 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	struct xlb_flow_key key;
	struct pkt in, padded, out, exp;
	struct snap before;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	build(&in, &r);
	padded = in;
	pkt_payload(&padded, pad, sizeof(pad));
	key = key_of(&r);
	take(&before, 1, 1);
	ASSERT_EQ(xlbf_run(&F, &padded, &out), XDP_TX_, "IPIP action");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, IPIP, 1);
	pkt_payload(&exp, pad, sizeof(pad));
	ASSERT_ENCAP_EQ(out, exp, "IPIP: lengths exclude the padding");
	check_vip(&before, 1, padded.len, 1, 0);
	check_real(&before, 1, padded.len);

	build(&in, &g);
	padded = in;
	pkt_payload(&padded, pad, sizeof(pad));
	key = key_of(&g);
	ASSERT_EQ(xlbf_run(&F, &padded, &out), XDP_TX_, "GUE action");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, GUE, 1);
	pkt_payload(&exp, pad, sizeof(pad));
	ASSERT_ENCAP_EQ(out, exp, "GUE: UDP length, checksum exclude it");
}

static void test_gue_inner_udp_without_checksum(void)
{
	struct xlb_flow_key key = xlbf_flow_key(CLIENT4, "198.18.10.3", 5354, 53, UDP);
	struct xlb_flow_key key6 = xlbf_flow_key(CLIENT4, "198.18.10.8", 5354, 53, UDP);
	struct pkt in, out, exp;
	uint32_t hash;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip4(&in, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.3" });
	pkt_udp(&in, &(struct pkt_udp){ .sport = 5354, .dport = 53, .no_csum = true });
	pkt_payload_pattern(&in, 30, 9);
	pkt_finish(&in);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "v4 outer action");
	hash = xlb_flow_hash(&key, XLB_HASH_5TUPLE, SEED);
	pkt_encap(&exp, &in, &(struct pkt_encap){
		.dmac = { 0x02, 0, 0, 0, 0x20, 0x01 }, .smac = { 0x02, 0, 0, 0, 0, 0x01 },
		.src = LB4, .dst = REALS[1].addr, .gue = true, .gue_sport = xlb_gue_sport(hash),
		.gue_dport = XLB_GUE_PORT_DEFAULT, .gue_no_csum = true });
	ASSERT_ENCAP_EQ(out, exp, "outer UDP checksum 0 (v4 outer)");

	/* The same over an IPv6 outer: 0 as well (RFC 6935 allows it for tunnels). */
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip4(&in, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.8" });
	pkt_udp(&in, &(struct pkt_udp){ .sport = 5354, .dport = 53, .no_csum = true });
	pkt_payload_pattern(&in, 31, 9);
	pkt_finish(&in);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "v6 outer action");
	hash = xlb_flow_hash(&key6, XLB_HASH_5TUPLE, SEED);
	pkt_encap(&exp, &in, &(struct pkt_encap){
		.dmac = { 0x02, 0, 0, 0, 0x20, 0x03 }, .smac = { 0x02, 0, 0, 0, 0, 0x01 },
		.src = LB6, .dst = REALS[3].addr, .gue = true, .gue_sport = xlb_gue_sport(hash),
		.flow_label = xlb_flow_label(hash), .gue_dport = XLB_GUE_PORT_DEFAULT,
		.gue_no_csum = true });
	ASSERT_ENCAP_EQ(out, exp, "outer UDP checksum 0 (v6 outer)");
}

/* GUE's checksum shortcut sums the inner header with its options / extension headers. */
static void test_gue_over_options_and_ext(void)
{
	static const uint8_t opts[12] = { 0x07, 0x07, 0x04, 0, 0, 0, 0, 0x01, 0x01, 0x01, 0x01, 0 };
	struct xlb_flow_key k4 = xlbf_flow_key(CLIENT4, "198.18.10.3", 40200, 443, TCP);
	struct xlb_flow_key k6 = xlbf_flow_key(CLIENT6, "2001:db8:10::3", 40200, 443, TCP);
	struct pkt in, out, exp;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip4(&in, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.3", .df = true,
					.options = opts, .opt_len = sizeof(opts) });
	pkt_tcp(&in, &(struct pkt_tcp){ .sport = 40200, .dport = 443, .flags = ACK, .seq = 5 });
	pkt_payload_pattern(&in, 123, 5);
	pkt_finish(&in);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "v4 with options: action");
	expect_encap(&exp, &in, &k4, XLB_HASH_5TUPLE, GUE, 1);
	ASSERT_ENCAP_EQ(out, exp, "GUE around IPv4 with options");
	check_verify(&out, XLB_GUE_PORT_DEFAULT);

	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip6(&in, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::3", .tclass = 0x11 });
	pkt_ip6_ext(&in, 0, 16);
	pkt_ip6_ext(&in, 43, 24);
	pkt_ip6_ext(&in, 60, 8);
	pkt_tcp(&in, &(struct pkt_tcp){ .sport = 40200, .dport = 443, .flags = ACK, .seq = 5 });
	pkt_payload_pattern(&in, 124, 5);
	pkt_finish(&in);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "v6 with extension headers: action");
	expect_encap(&exp, &in, &k6, XLB_HASH_5TUPLE, GUE, 2);
	ASSERT_ENCAP_EQ(out, exp, "GUE around IPv6 with extension headers");
	check_verify(&out, XLB_GUE_PORT_DEFAULT);
}

/* ---- ICMP ---- */

static void echo_request(struct pkt *p, bool v6, const char *dst, uint16_t vlan, size_t len)
{
	pkt_init(p);
	pkt_eth(p, MAC_LB, MAC_GW);
	if (vlan)
		pkt_vlan(p, vlan);
	if (v6) {
		pkt_ip6(p, &(struct pkt_ip6){ .src = CLIENT6, .dst = dst, .tclass = 0x08,
					      .flow_label = 0x777, .hop_limit = 60 });
		pkt_icmp6(p, 128, 0, PKT_ECHO(0x4242, 7));
	} else {
		pkt_ip4(p, &(struct pkt_ip4){ .src = CLIENT4, .dst = dst, .tos = 0x08, .ttl = 60,
					      .id = 0xabcd, .df = true });
		pkt_icmp4(p, 8, 0, PKT_ECHO(0x4242, 7));
	}
	pkt_payload_pattern(p, len, 42);
	pkt_finish(p);
}

static void test_icmp_echo(void)
{
	struct pkt in, out, exp;
	struct snap before;

	/* IPv4: MACs and addresses swapped, TTL 64, type 0, checksums exact. */
	echo_request(&in, false, "198.18.10.1", 0, 56);
	take(&before, 1, 0);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "v4 echo action");
	pkt_init(&exp);
	pkt_eth(&exp, MAC_GW, MAC_LB);
	pkt_ip4(&exp, &(struct pkt_ip4){ .src = "198.18.10.1", .dst = CLIENT4, .tos = 0x08,
					 .ttl = 64, .id = 0xabcd, .df = true });
	pkt_icmp4(&exp, 0, 0, PKT_ECHO(0x4242, 7));
	pkt_payload_pattern(&exp, 56, 42);
	pkt_finish(&exp);
	ASSERT_MEM_EQ(out.buf, out.len, exp.buf, exp.len, "v4 echo reply");
	check_verify(&out, 0);
	check_global(&before, S(ICMP_ECHO_REPLY));
	check_vip(&before, 0, 0, 0, 0);

	/* Odd length and a VLAN tag. */
	echo_request(&in, false, "198.18.10.3", 0x0123, 33);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "v4 tagged echo action");
	pkt_init(&exp);
	pkt_eth(&exp, MAC_GW, MAC_LB);
	pkt_vlan(&exp, 0x0123);
	pkt_ip4(&exp, &(struct pkt_ip4){ .src = "198.18.10.3", .dst = CLIENT4, .tos = 0x08,
					 .ttl = 64, .id = 0xabcd, .df = true });
	pkt_icmp4(&exp, 0, 0, PKT_ECHO(0x4242, 7));
	pkt_payload_pattern(&exp, 33, 42);
	pkt_finish(&exp);
	ASSERT_MEM_EQ(out.buf, out.len, exp.buf, exp.len, "v4 tagged echo reply");

	/* IPv6: hop limit 64, type 129; traffic class and flow label kept. */
	echo_request(&in, true, "2001:db8:10::1", 0, 56);
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "v6 echo action");
	pkt_init(&exp);
	pkt_eth(&exp, MAC_GW, MAC_LB);
	pkt_ip6(&exp, &(struct pkt_ip6){ .src = "2001:db8:10::1", .dst = CLIENT6, .tclass = 0x08,
					 .flow_label = 0x777, .hop_limit = 64 });
	pkt_icmp6(&exp, 129, 0, PKT_ECHO(0x4242, 7));
	pkt_payload_pattern(&exp, 56, 42);
	pkt_finish(&exp);
	ASSERT_MEM_EQ(out.buf, out.len, exp.buf, exp.len, "v6 echo reply");
	check_verify(&out, 0);
	check_global(&before, S(ICMP_ECHO_REPLY));

	/* Echo to an address that is no VIP is not ours. */
	echo_request(&in, false, "198.18.99.1", 0, 8);
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_PASS_, "non-VIP echo passes");
	ASSERT_MEM_EQ(out.buf, out.len, in.buf, in.len, "untouched");
	check_global(&before, S(PASS_NOT_VIP));
}

static void test_icmp_other_dropped(void)
{
	struct pkt in, quoted;
	struct snap before;

	/* An echo reply to a VIP. */
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip4(&in, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1" });
	pkt_icmp4(&in, 0, 0, PKT_ECHO(1, 1));
	pkt_finish(&in);
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, NULL), XDP_DROP_, "echo reply to a VIP");
	check_global(&before, S(DROP_ICMP));

	/* An error quoting a flow on a port no VIP has. */
	pkt_init(&quoted);
	pkt_eth(&quoted, MAC_GW, MAC_LB);
	pkt_ip4(&quoted, &(struct pkt_ip4){ .src = "198.18.10.1", .dst = CLIENT4, .df = true });
	pkt_tcp(&quoted, &(struct pkt_tcp){ .sport = 8081, .dport = 40001, .flags = ACK });
	pkt_finish(&quoted);
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip4(&in, &(struct pkt_ip4){ .src = "198.18.50.1", .dst = "198.18.10.1" });
	pkt_icmp4(&in, 3, 4, 1200);
	pkt_payload_l3(&in, &quoted, 28);
	pkt_finish(&in);
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, NULL), XDP_DROP_, "error about no VIP flow");
	check_global(&before, S(DROP_ICMP));

	/* An error whose quote is cut inside the ports. */
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip4(&in, &(struct pkt_ip4){ .src = "198.18.50.1", .dst = "198.18.10.1" });
	pkt_icmp4(&in, 3, 4, 1200);
	pkt_payload_l3(&in, &quoted, 22);
	pkt_finish(&in);
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, NULL), XDP_DROP_, "truncated quote");
	check_global(&before, S(DROP_MALFORMED));
}

/*
 * An ICMP error from a router on the client's path, to the VIP, about a
 * packet the real sent (VIP -> client): goes to the real serving the flow,
 * encapsulated like the flow's own packets (hash of the reversed quote).
 */
static void icmp_error_v4(struct pkt *in, const char *vip, uint16_t vport, uint16_t cport,
			  uint8_t proto)
{
	struct pkt quoted;

	pkt_init(&quoted);
	pkt_eth(&quoted, MAC_GW, MAC_LB);
	pkt_ip4(&quoted, &(struct pkt_ip4){ .src = vip, .dst = CLIENT4, .df = true, .ttl = 3 });
	if (proto == TCP)
		pkt_tcp(&quoted, &(struct pkt_tcp){ .sport = vport, .dport = cport, .flags = ACK });
	else
		pkt_udp(&quoted, &(struct pkt_udp){ .sport = vport, .dport = cport });
	pkt_payload_pattern(&quoted, 1400, 1);
	pkt_finish(&quoted);
	pkt_init(in);
	pkt_eth(in, MAC_LB, MAC_GW);
	pkt_ip4(in, &(struct pkt_ip4){ .src = "198.18.50.1", .dst = vip, .tos = 0xc0 });
	pkt_icmp4(in, 3, 4, 1300);
	pkt_payload_l3(in, &quoted, 28);
	pkt_finish(in);
}

static void test_icmp_error_forwarded(void)
{
	struct xlb_flow_key key = xlbf_flow_key(CLIENT4, "198.18.10.7", 45000, 80, TCP);
	struct xlb_flow_key key6 = xlbf_flow_key(CLIENT6, "2001:db8:10::3", 40300, 443, TCP);
	struct pkt in, out, exp, quoted;
	struct snap before;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 5), "ring -> real 5");
	/* No flow entry: the ring's real. */
	icmp_error_v4(&in, "198.18.10.7", 80, 45000, TCP);
	take(&before, 17, 5);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "action");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, IPIP, 5);
	ASSERT_ENCAP_EQ(out, exp, "frag-needed forwarded to real 5");
	check_verify(&out, 0);
	check_global(&before, TX_IPIP | S(ICMP_ERR_FWD));
	check_vip(&before, 1, in.len, 0, 0);
	check_real(&before, 1, in.len);
	ASSERT_EQ(xlbf_get_flow(&F, &key, &(struct xlb_flow){ 0 }), -ENOENT,
		  "an ICMP error creates no flow entry");

	/* With a flow entry: the entry's real, even after the ring moved. */
	expect_tx(&FLOW_SYN, 17, 5, TX_IPIP | S(SYN_RESELECT), "SYN to real 5");
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 6), "ring -> real 6");
	take(&before, 17, 5);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "action");
	ASSERT_ENCAP_EQ(out, exp, "follows the flow entry to real 5");
	check_global(&before, TX_IPIP | S(ICMP_ERR_FWD));
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 5), "ring back");

	/* ICMPv6 packet-too-big about a v6 GUE flow. */
	pkt_init(&quoted);
	pkt_eth(&quoted, MAC_GW, MAC_LB);
	pkt_ip6(&quoted, &(struct pkt_ip6){ .src = "2001:db8:10::3", .dst = CLIENT6 });
	pkt_tcp(&quoted, &(struct pkt_tcp){ .sport = 443, .dport = 40300, .flags = ACK });
	pkt_payload_pattern(&quoted, 1400, 1);
	pkt_finish(&quoted);
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip6(&in, &(struct pkt_ip6){ .src = "2001:db8:50::1", .dst = "2001:db8:10::3" });
	pkt_icmp6(&in, 2, 0, 1280);
	pkt_payload_l3(&in, &quoted, 1280 - 48);
	pkt_finish(&in);
	take(&before, 11, 2);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "v6 action");
	expect_encap(&exp, &in, &key6, XLB_HASH_5TUPLE, GUE, 2);
	ASSERT_ENCAP_EQ(out, exp, "packet-too-big forwarded in GUE");
	check_verify(&out, XLB_GUE_PORT_DEFAULT);
	check_global(&before, TX_GUE | S(ICMP_ERR_FWD));
	check_real(&before, 1, in.len);
}

/* ---- MTU ---- */

/* Sends r; asserts DROP_TOO_BIG (+ what else is in mask), a per-VIP drop, nothing to the real. */
static void expect_too_big(const struct recipe *r, uint32_t vip, uint32_t real, uint32_t mask,
			   const char *what)
{
	struct snap before;
	struct pkt in;

	build(&in, r);
	take(&before, vip, real);
	ASSERT_EQ(xlbf_run(&F, &in, NULL), XDP_DROP_, what);
	check_global(&before, S(DROP_TOO_BIG) | mask);
	check_vip(&before, 0, 0, 0, S(DROP_TOO_BIG));	/* new_flows counts forwarded packets only */
	check_real(&before, 0, 0);
}

/*
 * IPv4 without DF, too big once encapsulated: no frag-needed may be sent
 * (RFC 1191 is for DF packets), xlb does not fragment, and XDP_TX above the
 * link MTU would be dropped by the driver: dropped here, DROP_TOO_BIG.
 */
static void test_mtu_no_df_dropped(void)
{
	struct recipe r = { TCP, NULL, "198.18.10.1", 40410, 80, ACK, .payload = 1000 - 40 };

	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 1000), "mtu 1000");
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	/* 1000 + 20 > 1000, 4in4; a miss still stores the flow (selection ran). */
	expect_too_big(&r, 1, 1, S(LRU_MISS), "4in4, 1000 bytes, no DF");
	expect_too_big(&r, 1, 1, S(LRU_HIT), "again: the flow entry's real, still too big");
	/* One byte less than the MTU allows for GUE (28 bytes): 973 + 28 > 1000. */
	r.dst = "198.18.10.3";
	r.dport = 443;
	r.payload = 973 - 40;
	expect_too_big(&r, 9, 1, S(LRU_MISS), "GUE v4, 973 bytes, no DF");
	r.payload = 972 - 40;
	expect_tx(&r, 9, 1, TX_GUE | S(LRU_HIT), "GUE v4, 972 bytes, no DF: fits");
	/* 4in6: 40 bytes of outer IPv6. */
	r.dst = "198.18.10.2";
	r.dport = 80;
	r.payload = 961 - 40;
	expect_too_big(&r, 5, 3, S(LRU_MISS), "4in6, 961 bytes, no DF");
	r.payload = 960 - 40;
	expect_tx(&r, 5, 3, TX_IPIP | S(LRU_HIT), "4in6, 960 bytes, no DF: fits");
	/* UDP likewise, and a SYN. */
	expect_too_big(&(struct recipe){ UDP, NULL, "198.18.10.1", 5360, 53, .payload = 1200 },
		       2, 1, S(LRU_MISS), "4in4 UDP, no DF");
	expect_too_big(&(struct recipe){ TCP, NULL, "198.18.10.1", 40411, 80, SYN,
					 .payload = 1200 }, 1, 1, S(SYN_RESELECT),
		       "4in4 SYN, no DF");
	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 0), "mtu off");
}

static void test_mtu_frag_needed(void)
{
	struct recipe big = { TCP, NULL, "198.18.10.1", 40400, 80, ACK, .tos = 0x10, .df = true,
			      .payload = 1000 - 40 };
	struct pkt in, out, exp;
	struct snap before;

	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 1000), "mtu 1000");
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");

	/* 1000 bytes of IP + 20 of IPIP > 1000: frag-needed, MTU 980. */
	build(&in, &big);
	take(&before, 1, 1);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "action");
	pkt_init(&exp);
	pkt_eth(&exp, MAC_GW, MAC_LB);
	pkt_ip4(&exp, &(struct pkt_ip4){ .src = "198.18.10.1", .dst = CLIENT4, .ttl = 64 });
	pkt_icmp4(&exp, 3, 4, 980);
	pkt_payload_l3(&exp, &in, 20 + 8);
	pkt_finish(&exp);
	ASSERT_MEM_EQ(out.buf, out.len, exp.buf, exp.len, "frag-needed to the client");
	check_verify(&out, 0);
	check_global(&before, S(ICMP_TOO_BIG) | S(LRU_MISS));
	check_vip(&before, 0, 0, 0, S(ICMP_TOO_BIG));
	check_real(&before, 0, 0);

	/* Tagged, IPv4 options quoted whole. */
	{
		static const uint8_t opts[4] = { 0x01, 0x01, 0x01, 0x00 };
		struct pkt tin;

		pkt_init(&tin);
		pkt_eth(&tin, MAC_LB, MAC_GW);
		pkt_vlan(&tin, 0x0042);
		pkt_ip4(&tin, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .df = true,
						 .options = opts, .opt_len = 4 });
		pkt_tcp(&tin, &(struct pkt_tcp){ .sport = 40401, .dport = 80, .flags = ACK });
		pkt_payload_pattern(&tin, 1200, 3);
		pkt_finish(&tin);
		ASSERT_EQ(xlbf_run(&F, &tin, &out), XDP_TX_, "tagged action");
		pkt_init(&exp);
		pkt_eth(&exp, MAC_GW, MAC_LB);
		pkt_vlan(&exp, 0x0042);
		pkt_ip4(&exp, &(struct pkt_ip4){ .src = "198.18.10.1", .dst = CLIENT4, .ttl = 64 });
		pkt_icmp4(&exp, 3, 4, 980);
		pkt_payload_l3(&exp, &tin, 24 + 8);
		pkt_finish(&exp);
		ASSERT_MEM_EQ(out.buf, out.len, exp.buf, exp.len, "tagged frag-needed");
	}

	/* GUE v4 (28 bytes): MTU 972. */
	big.dst = "198.18.10.3";
	big.dport = 443;
	build(&in, &big);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "GUE action");
	pkt_init(&exp);
	pkt_eth(&exp, MAC_GW, MAC_LB);
	pkt_ip4(&exp, &(struct pkt_ip4){ .src = "198.18.10.3", .dst = CLIENT4, .ttl = 64 });
	pkt_icmp4(&exp, 3, 4, 972);
	pkt_payload_l3(&exp, &in, 28);
	pkt_finish(&exp);
	ASSERT_MEM_EQ(out.buf, out.len, exp.buf, exp.len, "GUE frag-needed");

	/* Exactly fitting: 980 bytes of IP + 20 = 1000: forwarded. */
	big.dst = "198.18.10.1";
	big.dport = 80;
	big.payload = 980 - 40;
	expect_tx(&big, 1, 1, TX_IPIP | S(LRU_HIT), "980 bytes fit");

	/* No DF and exactly fitting: forwarded, outer DF clear with a random id. */
	big.df = false;
	expect_tx(&big, 1, 1, TX_IPIP | S(LRU_HIT), "980 bytes without DF fit");

	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 0), "mtu off");
}

static void test_mtu_packet_too_big(void)
{
	struct recipe big = { TCP, NULL, "2001:db8:10::1", 40500, 80, ACK, .tos = 0x10,
			      .payload = 1400 - 60 };
	struct pkt in, out, exp;
	struct snap before;

	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 1400), "mtu 1400");
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");

	/* 1400 + 40 > 1400: packet-too-big, MTU 1360, quote fills 1280 bytes. */
	build(&in, &big);
	take(&before, 3, 2);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "action");
	pkt_init(&exp);
	pkt_eth(&exp, MAC_GW, MAC_LB);
	pkt_ip6(&exp, &(struct pkt_ip6){ .src = "2001:db8:10::1", .dst = CLIENT6,
					 .hop_limit = 64 });
	pkt_icmp6(&exp, 2, 0, 1360);
	pkt_payload_l3(&exp, &in, 1280 - 48);
	pkt_finish(&exp);
	ASSERT_EQ(exp.len, 14 + 1280, "expected reply is 1280 bytes of IPv6");
	ASSERT_MEM_EQ(out.buf, out.len, exp.buf, exp.len, "packet-too-big to the client");
	check_verify(&out, 0);
	check_global(&before, S(ICMP_TOO_BIG) | S(LRU_MISS));
	check_vip(&before, 0, 0, 0, S(ICMP_TOO_BIG));

	/* MTU below what IPv6 allows: 1300 - 40 -> 1280 is announced. */
	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 1300), "mtu 1300");
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "action");
	pkt_init(&exp);
	pkt_eth(&exp, MAC_GW, MAC_LB);
	pkt_ip6(&exp, &(struct pkt_ip6){ .src = "2001:db8:10::1", .dst = CLIENT6,
					 .hop_limit = 64 });
	pkt_icmp6(&exp, 2, 0, 1280);
	pkt_payload_l3(&exp, &in, 1280 - 48);
	pkt_finish(&exp);
	ASSERT_MEM_EQ(out.buf, out.len, exp.buf, exp.len, "packet-too-big with MTU 1280");

	/* A 1280-byte packet cannot be made smaller: forwarded. */
	big.payload = 1280 - 60;
	expect_tx(&big, 3, 2, TX_IPIP | S(LRU_HIT), "1280 bytes forwarded");

	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 0), "mtu off");
}

/* ---- more edges of classification and selection ---- */

static void test_8021ad_tag_kept(void)
{
	struct recipe r = { TCP, NULL, "198.18.10.1", 40600, 80, SYN, .vlan = 0x0064, .df = true };
	struct xlb_flow_key key = key_of(&r);
	struct pkt in, out, exp;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	build(&in, &r);
	in.buf[12] = 0x88;	/* 802.1ad service tag */
	in.buf[13] = 0xa8;
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "action");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, IPIP, 1);
	ASSERT_EQ(exp.buf[12] << 8 | exp.buf[13], 0x88a8, "expected TPID");
	ASSERT_ENCAP_EQ(out, exp, "802.1ad tag kept");
}

static void test_exact_port_beats_portless(void)
{
	struct xlbf_vip v = { .addr = "198.18.10.5", .port = 8080, .proto = TCP,
			      .id = VIP_EXACT_PORT,
			      .ring_size = 13, .hash_mode = XLB_HASH_5TUPLE, .encap = IPIP };
	struct recipe exact = { TCP, NULL, "198.18.10.5", 40700, 8080, SYN };
	struct recipe other = { TCP, NULL, "198.18.10.5", 40700, 8081, SYN };
	struct snap before;
	struct pkt in, out;

	ASSERT_OK(xlbf_add_vip(&F, &v), "VIP :8080 beside the port-less VIP");
	ASSERT_OK(xlbf_set_ring(&F, VIP_EXACT_PORT, 13, NULL, 6), "its ring -> real 6");
	build(&in, &exact);
	take(&before, VIP_EXACT_PORT, 6);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, ":8080 action");
	ASSERT_MEM_EQ(out.buf, 6, REALS[6].mac, 6, ":8080 goes to the exact VIP's real 6");
	check_vip(&before, 1, in.len, 1, 0);
	build(&in, &other);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, ":8081 action");
	ASSERT_MEM_EQ(out.buf, 6, REALS[1].mac, 6, ":8081 goes to the port-less VIP's real 1");
	/* Removed again: 8080 falls back to the port-less VIP. */
	ASSERT_OK(xlbf_del_vip(&F, &v), "delete :8080");
	build(&in, &exact);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, ":8080 after delete");
	ASSERT_MEM_EQ(out.buf, 6, REALS[1].mac, 6, "port-less VIP's real 1");
}

static void test_other_protocol_to_vip(void)
{
	struct pkt in;
	struct snap before;

	/* GRE (47) to a VIP address: no VIP has protocol 47. */
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip4(&in, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .proto = 47 });
	pkt_payload_pattern(&in, 24, 0);
	pkt_finish(&in);
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, NULL), XDP_DROP_, "GRE to a VIP");
	check_global(&before, S(DROP_NO_VIP_PORT));
}

static void test_vip_removed_passes(void)
{
	struct xlbf_vip v = { .addr = "198.18.10.9", .port = 80, .proto = TCP, .id = VIP_REMOVED,
			      .ring_size = 13, .encap = IPIP };
	struct recipe r = { TCP, NULL, "198.18.10.9", 40800, 80, SYN };
	struct snap before;
	struct pkt in, out;

	ASSERT_OK(xlbf_add_vip(&F, &v), "add");
	ASSERT_OK(xlbf_set_ring(&F, VIP_REMOVED, 13, NULL, 1), "ring");
	build(&in, &r);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "while configured");
	ASSERT_OK(xlbf_del_vip(&F, &v), "delete");
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_PASS_, "after removal");
	ASSERT_MEM_EQ(out.buf, out.len, in.buf, in.len, "untouched");
	check_global(&before, S(PASS_NOT_VIP));
}

static void test_ring_to_unusable_real(void)
{
	struct recipe r = { TCP, NULL, "198.18.10.7", 40900, 80, SYN };
	struct pkt in;
	struct snap before;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	/* A slot naming a real index that was never set (family 0). */
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 100), "ring -> unset real 100");
	build(&in, &r);
	take(&before, 17, 0);
	ASSERT_EQ(xlbf_run(&F, &in, NULL), XDP_DROP_, "unset real");
	check_global(&before, S(DROP_NO_REAL));
	check_vip(&before, 0, 0, 0, S(DROP_NO_REAL));
	/* An index beyond xlb_reals. */
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, XLB_MAX_REALS + 5), "ring -> index out of range");
	take(&before, 17, 0);
	ASSERT_EQ(xlbf_run(&F, &in, NULL), XDP_DROP_, "real index out of range");
	check_global(&before, S(DROP_NO_REAL));
	check_vip(&before, 0, 0, 0, S(DROP_NO_REAL));
	/* A VIP whose ring_size says more slots than its ring has: slots beyond miss. */
	ASSERT_OK(xlbf_set_ring(&F, 17, 1, NULL, 5), "one-slot ring, ring_size 13");
	{
		int sent = 0, dropped = 0;

		for (uint16_t p = 41000; p < 41040; p++) {
			struct xlb_flow_key k = xlbf_flow_key(CLIENT4, "198.18.10.7", p, 80, TCP);
			uint32_t slot = xlb_ring_slot(xlb_flow_hash(&k, XLB_HASH_5TUPLE, SEED), 13);
			int act;

			r.sport = p;
			build(&in, &r);
			act = xlbf_run(&F, &in, NULL);
			if (!ASSERT_EQ(act, slot == 0 ? XDP_TX_ : XDP_DROP_, "slot 0 only"))
				break;
			sent += act == XDP_TX_;
			dropped += act == XDP_DROP_;
		}
		printf("  ring of 1 slot for ring_size 13: %d sent, %d dropped\n", sent, dropped);
	}
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 5), "ring back");
}

static void test_flow_entry_edges(void)
{
	struct xlb_flow_key key = key_of(&FLOW_SYN);
	struct xlb_flow fl;
	struct snap before;
	size_t len;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 5), "ring -> real 5");

	/* The entry a SYN leaves. */
	expect_tx(&FLOW_SYN, 17, 5, TX_IPIP | S(SYN_RESELECT), "SYN");
	if (ASSERT_OK(xlbf_get_flow(&F, &key, &fl), "entry")) {
		ASSERT_EQ(fl.real, 5, "entry real");
		ASSERT_EQ(fl.vip, 17, "entry vip");
		ASSERT_TRUE(fl.atime_ns > 0, "entry atime set");
	}

	/* An entry of another VIP with the same tuple is not this VIP's flow. */
	ASSERT_OK(xlbf_put_flow(&F, &key, 6, 99), "entry of VIP 99 -> real 6");
	take(&before, 17, 0);
	len = expect_tx(&FLOW_ACK, 17, 5, TX_IPIP | S(LRU_MISS), "other VIP's entry: miss");
	check_vip(&before, 1, len, 1, 0);
	if (ASSERT_OK(xlbf_get_flow(&F, &key, &fl), "entry"))
		ASSERT_EQ(fl.vip, 17, "entry taken over");

	/* An entry naming a freed real (family 0): reselected like a down one. */
	ASSERT_OK(xlbf_put_flow(&F, &key, 100, 17), "entry -> unset real 100");
	expect_tx(&FLOW_ACK, 17, 5, TX_IPIP | S(LRU_DOWN), "freed real: reselected");
	ASSERT_OK(xlbf_put_flow(&F, &key, XLB_MAX_REALS + 5, 17), "entry -> index out of range");
	expect_tx(&FLOW_ACK, 17, 5, TX_IPIP | S(LRU_DOWN), "out-of-range real: reselected");
	if (ASSERT_OK(xlbf_get_flow(&F, &key, &fl), "entry"))
		ASSERT_EQ(fl.real, 5, "entry repaired");
}

/* GUE sums at most XLB_GUE_EXT_SUM_MAX (256) bytes of IPv6 extension headers. */
static void test_gue_long_ext_chain(void)
{
	struct pkt in, out;
	struct snap before;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip6(&in, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::3" });
	pkt_ip6_ext(&in, 60, 264);
	pkt_tcp(&in, &(struct pkt_tcp){ .sport = 41100, .dport = 443, .flags = SYN });
	pkt_finish(&in);
	take(&before, 11, 0);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_DROP_, "GUE, 264 bytes of extension headers");
	check_global(&before, S(DROP_ENCAP) | S(SYN_RESELECT));
	check_vip(&before, 0, 0, 0, S(DROP_ENCAP));

	/* IPIP does not sum them: forwarded. */
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip6(&in, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::1" });
	pkt_ip6_ext(&in, 60, 264);
	pkt_tcp(&in, &(struct pkt_tcp){ .sport = 41100, .dport = 80, .flags = SYN });
	pkt_finish(&in);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "IPIP, 264 bytes of extension headers");

	/* 256 bytes exactly: GUE still works. */
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip6(&in, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::3" });
	pkt_ip6_ext(&in, 0, 128);
	pkt_ip6_ext(&in, 60, 128);
	pkt_tcp(&in, &(struct pkt_tcp){ .sport = 41101, .dport = 443, .flags = SYN });
	pkt_payload_pattern(&in, 11, 1);
	pkt_finish(&in);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "GUE, 256 bytes of extension headers");
	check_verify(&out, XLB_GUE_PORT_DEFAULT);
}

static void test_icmp_more(void)
{
	struct xlb_flow_key key = xlbf_flow_key(CLIENT4, "198.18.10.3", 45555, 443, TCP);
	struct pkt in, out, exp;
	struct snap before;

	/* An echo request cut inside its ICMP header. */
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip4(&in, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .proto = 1 });
	pkt_payload(&in, "\x08\x00\x00", 3);
	pkt_finish(&in);
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, NULL), XDP_DROP_, "truncated ICMP");
	check_global(&before, S(DROP_MALFORMED));

	/* Frag-needed about a GUE v4 flow: the ICMPv4 message has no pseudo-header. */
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	icmp_error_v4(&in, "198.18.10.3", 443, 45555, TCP);
	take(&before, 9, 1);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "GUE action");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, GUE, 1);
	ASSERT_ENCAP_EQ(out, exp, "ICMP error in GUE");
	check_verify(&out, XLB_GUE_PORT_DEFAULT);
	check_global(&before, TX_GUE | S(ICMP_ERR_FWD));

	/* Time exceeded is forwarded the same way. */
	in.buf[14 + 20] = 11;
	in.buf[14 + 21] = 0;
	in.buf[14 + 20 + 2] = 0;
	in.buf[14 + 20 + 3] = 0;
	{
		uint32_t sum = pkt_csum_add(0, in.buf + 34, in.len - 34);
		uint16_t c = pkt_csum_fold(sum);

		in.buf[36] = c >> 8;
		in.buf[37] = c;
	}
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "time exceeded action");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, GUE, 1);
	ASSERT_ENCAP_EQ(out, exp, "time exceeded in GUE");
}

static void test_ptb_tagged(void)
{
	struct pkt in, out, exp;

	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 1400), "mtu 1400");
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_vlan(&in, 0x0999);
	pkt_ip6(&in, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::1", .tclass = 4 });
	pkt_ip6_ext(&in, 0, 8);
	pkt_udp(&in, &(struct pkt_udp){ .sport = 41200, .dport = 53 });
	pkt_payload_pattern(&in, 1500, 2);
	pkt_finish(&in);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "action");
	pkt_init(&exp);
	pkt_eth(&exp, MAC_GW, MAC_LB);
	pkt_vlan(&exp, 0x0999);
	pkt_ip6(&exp, &(struct pkt_ip6){ .src = "2001:db8:10::1", .dst = CLIENT6,
					 .hop_limit = 64 });
	pkt_icmp6(&exp, 2, 0, 1360);
	pkt_payload_l3(&exp, &in, 1280 - 48);
	pkt_finish(&exp);
	ASSERT_MEM_EQ(out.buf, out.len, exp.buf, exp.len, "tagged packet-too-big");
	check_verify(&out, 0);
	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 0), "mtu off");
}

/* ---- headers that must lie inside the IP packet; neighbour discovery ---- */

/* The L4 header must lie inside the IP packet, not in the frame's padding after it. */
static void test_l4_header_outside_ip_packet(void)
{
	struct pkt p;

	/* IPv4 tot_len = 20: the "TCP header" after it is Ethernet padding. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip4(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .tot_len = 20 });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 41300, .dport = 80, .flags = SYN });
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "IPv4 tot_len 20, TCP header in the padding", XDP_DROP_,
				   S(DROP_MALFORMED) });

	/* IPv4 tot_len = 24: half a UDP header inside. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip4(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .tot_len = 24 });
	pkt_udp(&p, &(struct pkt_udp){ .sport = 41300, .dport = 53 });
	pkt_payload_pattern(&p, 20, 1);
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "IPv4 tot_len 24, UDP header half inside", XDP_DROP_,
				   S(DROP_MALFORMED) });

	/* ICMP echo request header in the padding. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip4(&p, &(struct pkt_ip4){ .src = CLIENT4, .dst = "198.18.10.1", .tot_len = 20 });
	pkt_icmp4(&p, 8, 0, PKT_ECHO(1, 1));
	pkt_payload_pattern(&p, 20, 1);
	pkt_finish(&p);
	run_bad(&p, &(struct bad){ "IPv4 tot_len 20, ICMP echo in the padding", XDP_DROP_,
				   S(DROP_MALFORMED) });

	/* IPv6 payload_len = 0, UDP header in the padding. */
	pkt_init(&p);
	pkt_eth(&p, MAC_LB, MAC_GW);
	pkt_ip6(&p, &(struct pkt_ip6){ .src = CLIENT6, .dst = "2001:db8:10::1" });
	pkt_udp(&p, &(struct pkt_udp){ .sport = 41300, .dport = 53 });
	pkt_payload_pattern(&p, 10, 1);
	pkt_finish(&p);
	p.buf[14 + 4] = 0;
	p.buf[14 + 5] = 0;
	run_bad(&p, &(struct bad){ "IPv6 payload_len 0, UDP header in the padding", XDP_DROP_,
				   S(DROP_MALFORMED) });
}

/* Neighbour discovery addressed to a VIP is the host's business; other ICMPv6 is dropped. */
static void test_icmp6_nd_and_others(void)
{
	struct pkt in, out;
	struct snap before;

	/* A unicast neighbour solicitation for the VIP (NUD probe from a router). */
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip6(&in, &(struct pkt_ip6){ .src = "fe80::1", .dst = "2001:db8:10::1",
				       .hop_limit = 255 });
	pkt_icmp6(&in, 135, 0, 0);
	pkt_payload(&in, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 1 }, 16);
	pkt_finish(&in);
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_PASS_, "NS to a VIP");
	ASSERT_MEM_EQ(out.buf, out.len, in.buf, in.len, "untouched");
	check_global(&before, S(PASS_NOT_VIP));

	/* A neighbour advertisement likewise. */
	in.buf[54] = 136;
	in.buf[56] = in.buf[57] = 0;
	{
		uint16_t c;

		pkt_finish(&in);
		c = in.buf[56] << 8 | in.buf[57];
		ASSERT_NEQ(c, 0, "NA checksum computed");
	}
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_PASS_, "NA to a VIP");
	check_global(&before, S(PASS_NOT_VIP));

	/* Parameter problem is no error xlb forwards. */
	pkt_init(&in);
	pkt_eth(&in, MAC_LB, MAC_GW);
	pkt_ip6(&in, &(struct pkt_ip6){ .src = "2001:db8:50::1", .dst = "2001:db8:10::1" });
	pkt_icmp6(&in, 4, 0, 40);
	pkt_payload_pattern(&in, 48, 1);
	pkt_finish(&in);
	take(&before, 0, 0);
	ASSERT_EQ(xlbf_run(&F, &in, NULL), XDP_DROP_, "parameter problem");
	check_global(&before, S(DROP_ICMP));
}

/* ---- fragments to a VIP hashing on the source address only ---- */

/*
 * An IPv4 fragment from src to dst at byte offset off: the first (off 0)
 * carries a UDP/TCP header (ports 5000 -> 53), later ones only payload.
 * DF clear, as fragments have it: the outer id is random.
 */
static void frag4(struct pkt *p, const char *src, const char *dst, uint16_t off, bool mf,
		  uint8_t proto, size_t len)
{
	pkt_init(p);
	pkt_eth(p, MAC_LB, MAC_GW);
	pkt_ip4(p, &(struct pkt_ip4){ .src = src, .dst = dst, .tos = 0x28, .ttl = 50, .id = 0x4711,
				      .mf = mf, .frag_off = off, .proto = off ? proto : 0 });
	if (off == 0 && proto == UDP)
		pkt_udp(p, &(struct pkt_udp){ .sport = 5000, .dport = 53, .len = 8 + 2000 });
	else if (off == 0 && proto == TCP)
		pkt_tcp(p, &(struct pkt_tcp){ .sport = 5000, .dport = 53, .flags = ACK });
	else if (off == 0)
		p->buf[14 + 9] = proto;
	pkt_payload_pattern(p, len, off / 8);
	pkt_finish(p);
}

/* The same for IPv6: a fragment header whose next header is proto (UDP header in the first). */
static void frag6(struct pkt *p, const char *dst, uint16_t off, bool mf, uint8_t proto, size_t len)
{
	pkt_init(p);
	pkt_eth(p, MAC_LB, MAC_GW);
	pkt_ip6(p, &(struct pkt_ip6){ .src = CLIENT6, .dst = dst, .tclass = 0x48,
				      .flow_label = 0xabcde, .hop_limit = 50 });
	pkt_ip6_frag(p, off, mf, 0x4711);
	if (off == 0 && proto == UDP)
		pkt_udp(p, &(struct pkt_udp){ .sport = 5000, .dport = 53, .len = 8 + 2000 });
	pkt_payload_pattern(p, len, off / 8);
	pkt_finish(p);
	p->buf[14 + 40] = proto;	/* the fragment header's next header */
}

/* Runs a fragment that must reach `real` of VIP vip, byte for byte, counters exact. */
static void expect_frag_tx(const struct pkt *in, uint32_t vip, uint32_t real, const char *what)
{
	int l3 = pkt_l3_offset(in->buf, in->len);
	struct xlb_flow_key key;
	struct pkt out, exp;
	struct snap before;
	char src[64];

	/* The source-IP hash reads the source address only: ports and dst do not matter. */
	inet_ntop(in->buf[l3] >> 4 == 4 ? AF_INET : AF_INET6, in->buf + l3 + (in->buf[l3] >> 4 == 4 ?
		  12 : 8), src, sizeof(src));
	key = xlbf_flow_key(src, VIPS[1].addr, 0, 0, UDP);
	take(&before, vip, real);
	if (!ASSERT_EQ(xlbf_run(&F, in, &out), XDP_TX_, what))
		return;
	expect_encap(&exp, in, &key, XLB_HASH_SRC_IP, vip == VIP_FRAG_SRC_IP ? IPIP : GUE, real);
	ASSERT_ENCAP_EQ(out, exp, what);
	/*
	 * The verifier follows RFC 8200 and refuses a zero UDP checksum over
	 * IPv6, which RFC 6935 allows tunnels (and xlb sends for fragments):
	 * the bytes above already hold exactly that, so only IPv4 outers here.
	 */
	if (out.buf[12] == 0x08)
		check_verify(&out, XLB_GUE_PORT_DEFAULT);
	/* No flow-table counter moves: fragments never read or write it. */
	check_global(&before, vip == VIP_FRAG_SRC_IP ? TX_IPIP : TX_GUE);
	/* Forwarded, not a new flow (there is no flow without a 5-tuple). */
	check_vip(&before, 1, in->len, 0, 0);
	check_real(&before, 1, in->len);
}

/* Runs a packet that must be dropped with counters mask (+ a drop of VIP vip when non-zero). */
static void expect_drop(const struct pkt *in, uint32_t vip, uint32_t mask, const char *what)
{
	struct snap before;

	take(&before, vip, 0);
	ASSERT_EQ(xlbf_run(&F, in, NULL), XDP_DROP_, what);
	check_global(&before, mask);
	if (vip)
		check_vip(&before, 0, 0, 0, mask & VIP_DROPS);
}

/*
 * DESIGN.md: "Fragments are dropped and counted unless the VIP hashes on
 * addresses only." Every fragment of a datagram, the first included, goes
 * by the port-less VIP of its address and protocol with hash mode
 * XLB_HASH_SRC_IP to the ring's real for the source address, without the
 * flow table; GUE gets the outer UDP checksum 0.
 */
static void test_fragment_to_src_ip_vip(void)
{
	struct xlbf_vip v = { .addr = "198.18.11.9", .port = 0, .proto = UDP, .id = VIP_FRAG_SRC_IP,
			      .ring_size = 13, .hash_mode = XLB_HASH_SRC_IP, .encap = IPIP };
	struct xlbf_vip g4 = { .addr = "198.18.11.10", .port = 0, .proto = UDP, .id = VIP_FRAG_GUE4,
			       .ring_size = 13, .hash_mode = XLB_HASH_SRC_IP, .encap = GUE };
	struct xlbf_vip g6 = { .addr = "2001:db8:11::9", .port = 0, .proto = UDP, .id = VIP_FRAG_V6,
			       .ring_size = 13, .hash_mode = XLB_HASH_SRC_IP, .encap = GUE };
	struct xlb_flow_key k5 = xlbf_flow_key(CLIENT4, v.addr, 5000, 53, UDP);
	struct xlb_flow_key k0 = xlbf_flow_key(CLIENT4, v.addr, 0, 0, UDP);
	uint32_t real = ring_real(&k5, XLB_HASH_SRC_IP), other = real == 5 ? 6 : 5;
	const char *client2 = NULL;
	struct xlb_flow fl;
	struct pkt in;

	ASSERT_OK(xlbf_add_vip(&F, &v), "port-less source-IP VIP (IPIP)");
	ASSERT_OK(xlbf_set_ring(&F, VIP_FRAG_SRC_IP, 13, HASH_RING, 0), "ring of reals 5 and 6");
	ASSERT_OK(xlbf_add_vip(&F, &g4), "port-less source-IP VIP (GUE, v4 outer)");
	ASSERT_OK(xlbf_set_ring(&F, VIP_FRAG_GUE4, 13, NULL, 1), "ring -> real 1");
	ASSERT_OK(xlbf_add_vip(&F, &g6), "port-less source-IP VIP (GUE, v6)");
	ASSERT_OK(xlbf_set_ring(&F, VIP_FRAG_V6, 13, NULL, 2), "ring -> real 2");
	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	/* A flow entry of the datagram's 5-tuple naming the other real: fragments ignore it. */
	ASSERT_OK(xlbf_put_flow(&F, &k5, other, VIP_FRAG_SRC_IP), "5-tuple entry -> other real");

	/* First, middle and last fragment of one datagram: the same real, the ring's. */
	frag4(&in, CLIENT4, v.addr, 0, true, UDP, 992);
	expect_frag_tx(&in, VIP_FRAG_SRC_IP, real, "first fragment (UDP header)");
	frag4(&in, CLIENT4, v.addr, 1000, true, UDP, 1000);
	expect_frag_tx(&in, VIP_FRAG_SRC_IP, real, "middle fragment");
	frag4(&in, CLIENT4, v.addr, 2000, false, UDP, 8);
	expect_frag_tx(&in, VIP_FRAG_SRC_IP, real, "last fragment");
	if (ASSERT_OK(xlbf_get_flow(&F, &k5, &fl), "5-tuple entry still there"))
		ASSERT_EQ(fl.real, other, "5-tuple entry untouched");
	ASSERT_EQ(xlbf_get_flow(&F, &k0, &fl), -ENOENT, "no port-less entry created");

	/* Another client whose address hashes to the other real goes there. */
	for (int i = 2; i < 250 && !client2; i++) {
		static char addr[32];
		struct xlb_flow_key k;

		snprintf(addr, sizeof(addr), "198.18.100.%d", i);
		k = xlbf_flow_key(addr, v.addr, 0, 0, UDP);
		if (ring_real(&k, XLB_HASH_SRC_IP) == other)
			client2 = addr;
	}
	if (ASSERT_TRUE(client2 != NULL, "a client hashing to the other real")) {
		frag4(&in, client2, v.addr, 1000, true, UDP, 64);
		expect_frag_tx(&in, VIP_FRAG_SRC_IP, other, "other client's fragment");
	}

	/* GUE: outer UDP checksum 0 over IPv4 (outer DF clear, random id) and over IPv6. */
	frag4(&in, CLIENT4, g4.addr, 0, true, UDP, 300);
	expect_frag_tx(&in, VIP_FRAG_GUE4, 1, "first fragment in GUE, v4 outer");
	frag4(&in, CLIENT4, g4.addr, 1000, false, UDP, 301);
	expect_frag_tx(&in, VIP_FRAG_GUE4, 1, "last fragment in GUE, v4 outer");
	frag6(&in, g6.addr, 0, true, UDP, 400);
	expect_frag_tx(&in, VIP_FRAG_V6, 2, "IPv6 first fragment in GUE, v6 outer");
	frag6(&in, g6.addr, 1232, false, UDP, 401);
	expect_frag_tx(&in, VIP_FRAG_V6, 2, "IPv6 last fragment in GUE, v6 outer");
	frag6(&in, g6.addr, 0, false, UDP, 40);
	expect_frag_tx(&in, VIP_FRAG_V6, 2, "IPv6 atomic fragment (RFC 6946) likewise");
	ASSERT_EQ(xlbf_get_flow(&F, &(struct xlb_flow_key){ 0 }, &fl), -ENOENT, "no zero key");
}

/* Every other fragment to a VIP address is dropped, DROP_FRAGMENT; malformed ones DROP_MALFORMED. */
static void test_fragment_drops(void)
{
	struct pkt in;

	/* Port-less VIP hashing on the 5-tuple (VIP 13, TCP): dropped, counted on the VIP. */
	frag4(&in, CLIENT4, "198.18.10.5", 1000, true, TCP, 64);
	expect_drop(&in, 13, S(DROP_FRAGMENT), "port-less 5-tuple VIP");
	frag4(&in, CLIENT4, "198.18.10.5", 0, true, TCP, 64);
	expect_drop(&in, 13, S(DROP_FRAGMENT), "port-less 5-tuple VIP, first fragment");
	/* A source-IP VIP on a port (198.18.11.2:53): the fragment's port is unknown. */
	frag4(&in, CLIENT4, "198.18.11.2", 0, true, UDP, 64);
	expect_drop(&in, 0, S(DROP_FRAGMENT), "source-IP VIP on port 53, first fragment");
	/* Another protocol than the source-IP VIP's. */
	frag4(&in, CLIENT4, "198.18.11.9", 1000, true, TCP, 64);
	expect_drop(&in, 0, S(DROP_FRAGMENT), "TCP fragment to a UDP source-IP VIP");
	frag4(&in, CLIENT4, "198.18.11.9", 0, true, IPPROTO_ICMP, 64);
	expect_drop(&in, 0, S(DROP_FRAGMENT), "fragmented echo request");
	/* IPv6: an extension header after the fragment header finds no VIP. */
	frag6(&in, "2001:db8:11::9", 0, true, 60, 64);
	expect_drop(&in, 0, S(DROP_FRAGMENT), "IPv6 fragment header -> destination options");
	frag6(&in, "2001:db8:10::1", 0, true, UDP, 64);
	expect_drop(&in, 0, S(DROP_FRAGMENT), "IPv6 fragment to a 5-tuple VIP address");
	/* The fragment header outside payload_len, or cut off by the frame's end. */
	frag6(&in, "2001:db8:11::9", 8, true, UDP, 64);
	in.buf[14 + 4] = 0;
	in.buf[14 + 5] = 4;
	expect_drop(&in, 0, S(DROP_MALFORMED), "IPv6 fragment header beyond payload_len");
	pkt_truncate(&in, 14 + 40 + 4);
	expect_drop(&in, 0, S(DROP_MALFORMED), "IPv6 fragment header truncated");
}

/* MTU rules apply to fragments as to any packet: DF clear drops, IPv6 gets packet-too-big. */
static void test_fragment_too_big(void)
{
	struct xlb_flow_key k = xlbf_flow_key(CLIENT4, "198.18.11.9", 0, 0, UDP);
	struct pkt in, out, exp;
	struct snap before;

	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 1400), "mtu 1400");
	/* 1400 bytes of IP + 20 of IPIP > 1400, DF clear (a fragment): dropped. */
	frag4(&in, CLIENT4, "198.18.11.9", 1000, true, UDP, 1400 - 20);
	expect_drop(&in, VIP_FRAG_SRC_IP, S(DROP_TOO_BIG), "IPv4 fragment of 1400 bytes");
	frag4(&in, CLIENT4, "198.18.11.9", 1000, true, UDP, 1380 - 20);
	expect_frag_tx(&in, VIP_FRAG_SRC_IP, ring_real(&k, XLB_HASH_SRC_IP),
		       "IPv4 fragment of 1380 bytes fits");

	/* IPv6 fragment of 1400 bytes + 48 of GUE: packet-too-big with MTU 1352. */
	frag6(&in, "2001:db8:11::9", 0, true, UDP, 1400 - 40 - 8 - 8);
	take(&before, VIP_FRAG_V6, 2);
	ASSERT_EQ(xlbf_run(&F, &in, &out), XDP_TX_, "IPv6 fragment: action");
	pkt_init(&exp);
	pkt_eth(&exp, MAC_GW, MAC_LB);
	pkt_ip6(&exp, &(struct pkt_ip6){ .src = "2001:db8:11::9", .dst = CLIENT6,
					 .hop_limit = 64 });
	pkt_icmp6(&exp, 2, 0, 1352);
	pkt_payload_l3(&exp, &in, 1280 - 48);
	pkt_finish(&exp);
	ASSERT_MEM_EQ(out.buf, out.len, exp.buf, exp.len, "packet-too-big quoting the fragment");
	check_verify(&out, 0);
	check_global(&before, S(ICMP_TOO_BIG));
	check_vip(&before, 0, 0, 0, S(ICMP_TOO_BIG));
	check_real(&before, 0, 0);
	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 0), "mtu off");
}

/* The quote of an ICMP error must lie inside the ICMP message, not in the padding after it. */
static void build_icmp4_quote(struct pkt *in, size_t quote_len, uint16_t tot_len)
{
	struct pkt quoted;

	pkt_init(&quoted);
	pkt_eth(&quoted, MAC_GW, MAC_LB);
	pkt_ip4(&quoted, &(struct pkt_ip4){ .src = "198.18.10.7", .dst = CLIENT4, .df = true });
	pkt_tcp(&quoted, &(struct pkt_tcp){ .sport = 80, .dport = 45000, .flags = ACK });
	pkt_finish(&quoted);
	pkt_init(in);
	pkt_eth(in, MAC_LB, MAC_GW);
	pkt_ip4(in, &(struct pkt_ip4){ .src = "198.18.50.1", .dst = "198.18.10.7",
				       .tot_len = tot_len });
	pkt_icmp4(in, 3, 4, 1200);
	pkt_payload_l3(in, &quoted, quote_len);
	pkt_finish(in);
}

static void test_icmp_quote_outside_packet(void)
{
	struct xlb_flow_key key = xlbf_flow_key(CLIENT4, "198.18.10.7", 45000, 80, TCP);
	const uint8_t pad[10] = { 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	struct pkt in, padded, out, exp;
	struct snap before;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	ASSERT_OK(xlbf_set_ring(&F, 17, 13, NULL, 5), "ring -> real 5");
	/* tot_len 28: IP + ICMP header only; the whole "quote" is Ethernet padding. */
	build_icmp4_quote(&in, 28, 28);
	/* Dropped while parsing: no VIP is known yet, none counts a drop. */
	expect_drop(&in, 0, S(DROP_MALFORMED), "quote entirely in the padding");
	/* tot_len 48: the quoted IP header inside, its ports in the padding. */
	build_icmp4_quote(&in, 28, 48);
	expect_drop(&in, 0, S(DROP_MALFORMED), "quoted ports in the padding");
	/* tot_len 50: half the ports inside. */
	build_icmp4_quote(&in, 28, 50);
	expect_drop(&in, 0, S(DROP_MALFORMED), "quoted ports half inside");
	/* tot_len 52: IP header + 4 bytes of ports exactly: forwarded, padding rides along. */
	build_icmp4_quote(&in, 24, 0);
	ASSERT_EQ(in.len, 14 + 52, "52 bytes of IP");
	padded = in;
	pkt_payload(&padded, pad, sizeof(pad));
	take(&before, 17, 5);
	ASSERT_EQ(xlbf_run(&F, &padded, &out), XDP_TX_, "quote of header + ports, then padding");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, IPIP, 5);
	pkt_payload(&exp, pad, sizeof(pad));
	ASSERT_ENCAP_EQ(out, exp, "forwarded to real 5 with its padding");
	check_global(&before, TX_IPIP | S(ICMP_ERR_FWD));
	check_vip(&before, 1, padded.len, 0, 0);
	check_real(&before, 1, padded.len);
}

static void build_icmp6_quote(struct pkt *in, size_t quote_len, uint16_t payload_len, bool ext)
{
	struct pkt quoted;

	pkt_init(&quoted);
	pkt_eth(&quoted, MAC_GW, MAC_LB);
	pkt_ip6(&quoted, &(struct pkt_ip6){ .src = "2001:db8:10::3", .dst = CLIENT6 });
	if (ext)
		pkt_ip6_ext(&quoted, 60, 16);
	pkt_tcp(&quoted, &(struct pkt_tcp){ .sport = 443, .dport = 40300, .flags = ACK });
	pkt_finish(&quoted);
	pkt_init(in);
	pkt_eth(in, MAC_LB, MAC_GW);
	pkt_ip6(in, &(struct pkt_ip6){ .src = "2001:db8:50::1", .dst = "2001:db8:10::3",
				       .payload_len = payload_len });
	pkt_icmp6(in, 2, 0, 1280);
	pkt_payload_l3(in, &quoted, quote_len);
	pkt_finish(in);
}

static void test_icmp6_quote_outside_packet(void)
{
	struct xlb_flow_key key = xlbf_flow_key(CLIENT6, "2001:db8:10::3", 40300, 443, TCP);
	const uint8_t pad[6] = { 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	struct pkt in, padded, out, exp;
	struct snap before;

	ASSERT_OK(xlbf_clear_flows(&F), "clear flows");
	/* payload_len 8: the ICMPv6 header only; the quote is padding. */
	build_icmp6_quote(&in, 48, 8, false);
	expect_drop(&in, 0, S(DROP_MALFORMED), "quote entirely in the padding");
	/* payload_len 8 + 40: the quoted header inside, the ports not. */
	build_icmp6_quote(&in, 48, 48, false);
	expect_drop(&in, 0, S(DROP_MALFORMED), "quoted ports in the padding");
	/* payload_len 8 + 40 + 8: a quoted extension header half inside. */
	build_icmp6_quote(&in, 64, 56, true);
	expect_drop(&in, 0, S(DROP_MALFORMED), "quoted extension header half inside");
	/* payload_len 8 + 40 + 16 + 2: half the ports after the extension header. */
	build_icmp6_quote(&in, 66, 66, true);
	expect_drop(&in, 0, S(DROP_MALFORMED), "quoted ports half inside, after an extension");
	/* payload_len 8 + 40 + 16 + 4: forwarded, padding rides along. */
	build_icmp6_quote(&in, 60, 0, true);
	ASSERT_EQ(in.len, 14 + 40 + 68, "68 bytes of payload");
	padded = in;
	pkt_payload(&padded, pad, sizeof(pad));
	take(&before, 11, 2);
	ASSERT_EQ(xlbf_run(&F, &padded, &out), XDP_TX_, "quote of header + ext + ports");
	expect_encap(&exp, &in, &key, XLB_HASH_5TUPLE, GUE, 2);
	pkt_payload(&exp, pad, sizeof(pad));
	ASSERT_ENCAP_EQ(out, exp, "forwarded in GUE with its padding");
	check_global(&before, TX_GUE | S(ICMP_ERR_FWD));
	check_vip(&before, 1, padded.len, 0, 0);
	check_real(&before, 1, padded.len);
}

/* ---- hostile input: mutated packets ---- */

/* Counters of which every packet adds exactly one (besides RX). */
static const uint32_t OUTCOMES = S(PASS_NOT_IP) | S(PASS_NOT_VIP) | S(TX) | S(DROP_NO_VIP_PORT) |
	S(DROP_NO_REAL) | S(DROP_MALFORMED) | S(DROP_FRAGMENT) | S(DROP_ENCAP) | S(DROP_ICMP) |
	S(ICMP_ECHO_REPLY) | S(ICMP_TOO_BIG) | S(DROP_TOO_BIG);

static uint32_t fuzz_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

/*
 * Valid packets of every kind the table uses, with random bytes of their
 * headers overwritten, random truncation and random lengths: every run must
 * end in PASS (untouched), DROP or TX, with RX and exactly one outcome
 * counter, and TX only towards a known real or back to the sender.
 */
static void test_fuzz_mutations(void)
{
	const struct recipe seeds[] = {
		{ TCP, NULL, "198.18.10.1", 40001, 80, SYN, .df = true, .payload = 40 },
		{ UDP, NULL, "2001:db8:10::1", 5353, 53, .payload = 30 },
		{ TCP, NULL, "198.18.10.3", 40001, 443, ACK, .vlan = 7, .payload = 20 },
		{ UDP, NULL, "198.18.10.8", 1, 2, .payload = 10 },
		{ TCP, NULL, "2001:db8:10::2", 40001, 80, SYN, .payload = 3 },
	};
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int n = 4000, bad = 0, counts[5] = { 0 };
	struct snap start, end;

	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 700), "mtu 700 (reach the ICMP paths)");
	take(&start, 0, 0);
	for (int i = 0; i < n && bad < 5; i++) {
		struct pkt in, out;
		struct snap before, after;
		uint32_t outcome = 0;
		int act, flips;
		size_t hdr;

		if (i % 5 == 4) {
			bool v6 = fuzz_rand(&rng) & 1;

			echo_request(&in, v6, v6 ? "2001:db8:10::1" : "198.18.10.1", 0,
				     fuzz_rand(&rng) % 64);
		} else {
			struct recipe r = seeds[fuzz_rand(&rng) % 5];

			r.payload = fuzz_rand(&rng) % 900;
			build(&in, &r);
		}
		hdr = in.len < 90 ? in.len : 90;
		flips = 1 + fuzz_rand(&rng) % 4;
		for (int f = 0; f < flips; f++) {
			/* Skip the MACs: the interesting bytes are the ethertype on. */
			size_t at = 12 + fuzz_rand(&rng) % (hdr - 12);

			in.buf[at] = fuzz_rand(&rng);
		}
		if (fuzz_rand(&rng) % 4 == 0)
			pkt_truncate(&in, 14 + fuzz_rand(&rng) % (in.len - 13));

		take(&before, 0, 0);
		act = xlbf_run(&F, &in, &out);
		take(&after, 0, 0);
		for (int s = 0; s < XLB_STAT__MAX; s++)
			if ((OUTCOMES >> s) & 1)
				outcome += after.g.stat[s] - before.g.stat[s];
		if (act >= 0 && act < 5)
			counts[act]++;
		if (!ASSERT_TRUE(act == XDP_PASS_ || act == XDP_DROP_ || act == XDP_TX_,
				 "action") ||
		    !ASSERT_EQ(after.g.stat[XLB_STAT_RX] - before.g.stat[XLB_STAT_RX], 1, "RX") ||
		    !ASSERT_EQ(outcome, 1, "exactly one outcome counter")) {
			pkt_dump("input", in.buf, in.len);
			bad++;
			continue;
		}
		if (act == XDP_PASS_ &&
		    !ASSERT_MEM_EQ(out.buf, out.len, in.buf, in.len, "passed untouched")) {
			bad++;
			continue;
		}
		if (act == XDP_TX_) {
			bool known = out.len >= 14 && !memcmp(out.buf, MAC_GW, 6);

			for (uint32_t r = 1; r < N_REALS && !known; r++)
				known = out.len >= 14 && !memcmp(out.buf, REALS[r].mac, 6);
			if (!ASSERT_TRUE(known, "TX to a real or back to the sender")) {
				pkt_dump("input", in.buf, in.len);
				bad++;
			}
		}
	}
	printf("  %d mutated packets: %d XDP_DROP, %d XDP_PASS, %d XDP_TX; outcomes:", n, counts[1],
	       counts[2], counts[3]);
	take(&end, 0, 0);
	for (int s = 0; s < XLB_STAT__MAX; s++)
		if (end.g.stat[s] != start.g.stat[s])
			printf(" %s %llu", xlbf_stat_names[s],
			       (unsigned long long)(end.g.stat[s] - start.g.stat[s]));
	printf("\n");
	ASSERT_OK(xlbf_set_config(&F, LB4, LB6, 0, SEED, 0), "mtu off");
}

/* ---- verifier ---- */

static void test_verified_insns(void)
{
	uint32_t n = xlbf_verified_insns(&F);

	printf("  xlb_ingress: %u verified instructions\n", n);
	ASSERT_TRUE(n > 0, "verified_insns");
}

int main(void)
{
	cpu_set_t cpus;
	int err;

	/* One CPU: per-CPU counters and the per-CPU LRU behave predictably. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	xlbt_case_begin("load balancer and set up the topology");
	err = xlbf_open(&F);
	if (!ASSERT_OK(err, "xlbf_open"))
		return xlbt_finish("bpf/balancer");
	ASSERT_OK(setup_topology(), "setup");
	xlbt_case_end();
	if (xlbt_case_failed())
		return xlbt_finish("bpf/balancer");

	XLBT_RUN(test_verified_insns);
	run_table();
	XLBT_RUN(test_arp_passes);
	XLBT_RUN(test_gue_custom_port);
	XLBT_RUN(test_gue_udp_checksum_by_hand);
	XLBT_RUN(test_hash_5tuple);
	XLBT_RUN(test_hash_src_ip);
	XLBT_RUN(test_hash_src_ip_dport);
	XLBT_RUN(test_hash_src_ip_v6);
	XLBT_RUN(test_hash_seed_from_config);
	XLBT_RUN(test_outer_ipv4_id);
	XLBT_RUN(test_lru_sticky_after_ring_change);
	XLBT_RUN(test_lru_udp_sticky);
	XLBT_RUN(test_lru_real_down_reselects);
	XLBT_RUN(test_syn_overrides_stale_entry);
	XLBT_RUN(test_outer_source_unset);
	test_malformed();
	XLBT_RUN(test_ipv4_options_to_vip);
	XLBT_RUN(test_ipv6_ext_to_vip);
	XLBT_RUN(test_fragments_dropped);
	XLBT_RUN(test_ethernet_padding);
	XLBT_RUN(test_gue_inner_udp_without_checksum);
	XLBT_RUN(test_gue_over_options_and_ext);
	XLBT_RUN(test_icmp_echo);
	XLBT_RUN(test_icmp_other_dropped);
	XLBT_RUN(test_icmp_error_forwarded);
	XLBT_RUN(test_mtu_frag_needed);
	XLBT_RUN(test_mtu_no_df_dropped);
	XLBT_RUN(test_mtu_packet_too_big);
	XLBT_RUN(test_8021ad_tag_kept);
	XLBT_RUN(test_exact_port_beats_portless);
	XLBT_RUN(test_other_protocol_to_vip);
	XLBT_RUN(test_vip_removed_passes);
	XLBT_RUN(test_ring_to_unusable_real);
	XLBT_RUN(test_flow_entry_edges);
	XLBT_RUN(test_gue_long_ext_chain);
	XLBT_RUN(test_icmp_more);
	XLBT_RUN(test_ptb_tagged);
	test_l4_header_outside_ip_packet();
	XLBT_RUN(test_icmp6_nd_and_others);
	XLBT_RUN(test_fuzz_mutations);
	XLBT_RUN(test_fragment_to_src_ip_vip);
	XLBT_RUN(test_fragment_drops);
	XLBT_RUN(test_fragment_too_big);
	XLBT_RUN(test_icmp_quote_outside_packet);
	XLBT_RUN(test_icmp6_quote_outside_packet);

	xlbf_close(&F);
	return xlbt_finish("bpf/balancer");
}

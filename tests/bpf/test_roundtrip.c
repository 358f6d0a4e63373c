// SPDX-License-Identifier: GPL-2.0-only
/*
 * Round trip: a client packet goes through the balancer (xlb_ingress) and
 * the balancer's output through the real server's decap program
 * (xlb_decap), both with BPF_PROG_TEST_RUN. What decap hands to the stack
 * must be the client's packet byte for byte from the IP header on; the
 * Ethernet header is the one decap received (the balancer's: destination =
 * the real's next hop, source = the LB), with an 802.1Q tag kept.
 * Covered: 4in4, 6in6, 4in6, 6in4, GUE over v4 and v6 (default and custom
 * port), tagged and untagged, TCP and UDP, odd and even lengths, ECN
 * codepoints (copied out by the balancer, left alone by decap's RFC 6040
 * handling), and Ethernet padding (the balancer carries it along, decap
 * trims it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xlb/abi.h"
#include "../lib/pkt.h"
#include "../lib/test.h"
#include "../lib/xlb_fixture.h"

#if __has_include("decap.skel.h")
#include "decap.skel.h"
#define HAVE_DECAP_SKEL 1
#endif

#define XDP_PASS_ 2
#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define IPIP XLB_ENCAP_IPIP
#define GUE XLB_ENCAP_GUE
#define XDP_TX_ 3
#define SEED 0x0dd5eedu
#define CLIENT4 "198.18.100.9"
#define CLIENT6 "2001:db8:100::9"

static const uint8_t MAC_LB[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t MAC_GW[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t MAC_R4[6] = { 0x02, 0x00, 0x00, 0x00, 0x30, 0x04 };
static const uint8_t MAC_R6[6] = { 0x02, 0x00, 0x00, 0x00, 0x30, 0x06 };

static struct xlbf F;

struct trip {
	const char *desc;
	const char *vip;
	uint8_t proto;
	uint8_t encap;
	bool real_v6;		/* real 2 (v6) rather than real 1 (v4) */
	uint16_t vlan;
	uint16_t payload;
	uint8_t padding;	/* Ethernet padding after the IP packet (decap trims it) */
	uint8_t tos;		/* TOS / traffic class; 0 = 0x20 (DSCP 8, not-ECT) */
};

/* VIP ids by (family of VIP, proto, encap, real family); set up on demand. */
static uint32_t next_vip_id = 1;

static int setup_vip(const struct trip *t, uint32_t *id)
{
	int err;

	*id = next_vip_id++;
	err = xlbf_add_vip(&F, &(struct xlbf_vip){ .addr = t->vip, .port = 0, .proto = t->proto,
						   .id = *id, .ring_size = 7,
						   .hash_mode = XLB_HASH_5TUPLE,
						   .encap = t->encap });
	if (err)
		return err;
	return xlbf_set_ring(&F, *id, 7, NULL, t->real_v6 ? 2 : 1);
}

static void build(struct pkt *p, const struct trip *t)
{
	bool v6 = strchr(t->vip, ':') != NULL;
	uint8_t tos = t->tos ? t->tos : 0x20;

	pkt_init(p);
	pkt_eth(p, MAC_LB, MAC_GW);
	if (t->vlan)
		pkt_vlan(p, t->vlan);
	if (v6)
		pkt_ip6(p, &(struct pkt_ip6){ .src = CLIENT6, .dst = t->vip, .tclass = tos,
					      .flow_label = 0xbeef, .hop_limit = 55 });
	else
		pkt_ip4(p, &(struct pkt_ip4){ .src = CLIENT4, .dst = t->vip, .tos = tos, .df = true,
					      .ttl = 55, .id = 4321 });
	if (t->proto == IPPROTO_TCP)
		pkt_tcp(p, &(struct pkt_tcp){ .sport = 33333, .dport = 443, .flags = PKT_TCP_ACK,
					      .seq = 7, .ack = 9 });
	else
		pkt_udp(p, &(struct pkt_udp){ .sport = 33333, .dport = 53 });
	pkt_payload_pattern(p, t->payload, t->payload);
	pkt_finish(p);
}

/* The frame on the wire: the packet plus its Ethernet padding. */
static void pad(struct pkt *p, const struct trip *t)
{
	for (int i = 0; i < t->padding; i++)
		p->buf[p->len++] = 0;
}

#ifdef HAVE_DECAP_SKEL
static struct decap *load_decap(uint16_t gue_port)
{
	struct decap *d = decap__open();

	if (!d)
		return NULL;
	d->rodata->gue_port = htons(gue_port);
	if (decap__load(d)) {
		decap__destroy(d);
		return NULL;
	}
	return d;
}

static uint64_t dstat(struct decap *d, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *rows = calloc(ncpu, sizeof(uint64_t)), sum = 0;

	if (rows && !bpf_map_lookup_elem(bpf_map__fd(d->maps.xlb_dstats), &key, rows))
		for (int i = 0; i < ncpu; i++)
			sum += rows[i];
	free(rows);
	return sum;
}

static void run_trip(struct decap *d, const struct trip *t)
{
	struct pkt in, wire, mid, out, want;
	uint32_t id;
	uint64_t before;
	int l3, stat = t->encap == XLB_ENCAP_GUE ? XLB_DECAP_STAT_DECAP_GUE :
						  XLB_DECAP_STAT_DECAP_IPIP;

	xlbt_case_begin("round trip: %s", t->desc);
	if (!ASSERT_OK(setup_vip(t, &id), "VIP"))
		goto out;
	build(&in, t);
	wire = in;
	pad(&wire, t);
	if (!ASSERT_EQ(xlbf_run(&F, &wire, &mid), XDP_TX_, "balancer action"))
		goto out;
	ASSERT_EQ(mid.buf[12] << 8 | mid.buf[13], t->vlan ? 0x8100 : t->real_v6 ? 0x86dd : 0x0800,
		  "balancer output ethertype");
	before = dstat(d, stat);
	if (!ASSERT_EQ(xlbf_run_prog(bpf_program__fd(d->progs.xlb_decap), &mid, &out), XDP_PASS_,
		       "decap action"))
		goto out;
	ASSERT_EQ(dstat(d, stat) - before, 1, "decap counter");

	/* The client's packet with the balancer's Ethernet header. */
	want = in;
	memcpy(want.buf, t->real_v6 ? MAC_R6 : MAC_R4, 6);
	memcpy(want.buf + 6, MAC_LB, 6);
	ASSERT_MEM_EQ(out.buf, out.len, want.buf, want.len, "decapsulated packet");
	l3 = pkt_l3_offset(in.buf, in.len);
	ASSERT_MEM_EQ(out.buf + l3, out.len - l3, in.buf + l3, in.len - l3,
		      "IP packet identical to the client's");
out:
	xlbt_case_end();
}

/*
 * The same trip with the packet the balancer fixture table expects
 * (pkt_encap) in place of the balancer's output: ties the two fixture
 * suites' views of the wire format together even where the balancer fails.
 */
static void run_expected(struct decap *d, const struct trip *t, uint16_t gue_port)
{
	struct pkt in, mid, out, want;
	struct pkt_encap e = {
		.src = t->real_v6 ? "2001:db8::1" : "198.18.0.1",
		.dst = t->real_v6 ? "2001:db8:40::2" : "198.18.40.1",
		.flow_label = 0x12345,
		.gue = t->encap == XLB_ENCAP_GUE,
		.gue_sport = 0xc001,
		.gue_dport = gue_port,
		.keep_vlan = true,
	};

	xlbt_case_begin("decap of the expected encapsulation: %s", t->desc);
	build(&in, t);
	e.df = pkt_inner_df(&in);
	memcpy(e.dmac, t->real_v6 ? MAC_R6 : MAC_R4, 6);
	memcpy(e.smac, MAC_LB, 6);
	pkt_encap(&mid, &in, &e);
	if (!ASSERT_EQ(xlbf_run_prog(bpf_program__fd(d->progs.xlb_decap), &mid, &out), XDP_PASS_,
		       "decap action"))
		goto out;
	want = in;
	memcpy(want.buf, e.dmac, 6);
	memcpy(want.buf + 6, MAC_LB, 6);
	ASSERT_MEM_EQ(out.buf, out.len, want.buf, want.len, "decapsulated packet");
out:
	xlbt_case_end();
}
#endif

static const struct trip TRIPS[] = {
	{ "4in4 TCP", "198.18.30.1", TCP, IPIP, false, 0, 100 },
	{ "4in4 UDP tagged", "198.18.30.1", UDP, IPIP, false, 0x0007, 33 },
	{ "6in6 TCP", "2001:db8:30::1", TCP, IPIP, true, 0, 200 },
	{ "6in6 UDP tagged", "2001:db8:30::1", UDP, IPIP, true, 0x0008, 1 },
	{ "4in6 TCP", "198.18.30.2", TCP, IPIP, true, 0, 64 },
	{ "4in6 UDP", "198.18.30.2", UDP, IPIP, true, 0, 65 },
	{ "6in4 TCP", "2001:db8:30::2", TCP, IPIP, false, 0, 64 },
	{ "6in4 UDP tagged", "2001:db8:30::2", UDP, IPIP, false, 0x0009, 3 },
	{ "GUE v4 outer, v4 inner TCP", "198.18.30.3", TCP, GUE, false, 0, 501 },
	{ "GUE v4 outer, v4 inner UDP tagged", "198.18.30.3", UDP, GUE, false, 0x000a, 0 },
	{ "GUE v6 outer, v6 inner TCP", "2001:db8:30::3", TCP, GUE, true, 0, 333 },
	{ "GUE v6 outer, v4 inner UDP", "198.18.30.4", UDP, GUE, true, 0, 2 },
	{ "GUE v4 outer, v6 inner UDP", "2001:db8:30::4", UDP, GUE, false, 0, 77 },
	{ "4in4 TCP SYN padded to 60 bytes", "198.18.30.1", TCP, IPIP, false, 0, 0, 6 },
	{ "GUE v6 outer, padded tagged v4 UDP", "198.18.30.4", UDP, GUE, true, 0x000c, 0, 10 },
	/* ECN: the balancer copies it to the outer header; decap (RFC 6040) must leave it be. */
	{ "4in4 TCP, ECN CE", "198.18.30.1", TCP, IPIP, false, 0, 40, 0, 0x23 },
	{ "6in6 UDP, ECT(1)", "2001:db8:30::1", UDP, IPIP, true, 0, 41, 0, 0x01 },
	{ "4in6 UDP, ECT(0)", "198.18.30.2", UDP, IPIP, true, 0, 42, 0, 0x02 },
	{ "GUE v6 outer, v4 inner, ECN CE", "198.18.30.4", UDP, GUE, true, 0, 43, 0, 0xbb },
	{ "GUE v4 outer, v6 inner, ECN CE", "2001:db8:30::4", UDP, GUE, false, 0, 44, 0, 0x03 },
};

int main(void)
{
#ifdef HAVE_DECAP_SKEL
	struct decap *d;

	xlbt_case_begin("load balancer and decap");
	if (!ASSERT_OK(xlbf_open(&F), "balancer"))
		return xlbt_finish("bpf/roundtrip");
	ASSERT_OK(xlbf_set_config(&F, "198.18.0.1", "2001:db8::1", 0, SEED, 0), "config");
	ASSERT_OK(xlbf_set_real(&F, 1, "198.18.40.1", MAC_R4, 0), "real 1");
	ASSERT_OK(xlbf_set_real(&F, 2, "2001:db8:40::2", MAC_R6, 0), "real 2");
	d = load_decap(XLB_GUE_PORT_DEFAULT);
	ASSERT_TRUE(d != NULL, "decap loads");
	xlbt_case_end();
	if (xlbt_case_failed())
		return xlbt_finish("bpf/roundtrip");

	for (size_t i = 0; i < sizeof(TRIPS) / sizeof(TRIPS[0]); i++)
		run_expected(d, &TRIPS[i], XLB_GUE_PORT_DEFAULT);
	for (size_t i = 0; i < sizeof(TRIPS) / sizeof(TRIPS[0]); i++)
		run_trip(d, &TRIPS[i]);
	decap__destroy(d);

	/* A custom GUE port on both sides. */
	d = load_decap(7777);
	xlbt_case_begin("decap with GUE port 7777 loads");
	ASSERT_TRUE(d != NULL, "decap loads");
	ASSERT_OK(xlbf_set_config(&F, "198.18.0.1", "2001:db8::1", 7777, SEED, 0), "config");
	xlbt_case_end();
	if (d) {
		run_trip(d, &(struct trip){ "GUE port 7777, v4 outer", "198.18.30.5", TCP,
					    GUE, false, 0, 99 });
		run_trip(d, &(struct trip){ "GUE port 7777, v6 outer", "2001:db8:30::5", UDP,
					    GUE, true, 0x000b, 98 });
		decap__destroy(d);
	}
	xlbf_close(&F);
#else
	xlbt_case_begin("round trip");
	xlbt_skip("built without decap.skel.h (no bpf/decap.bpf.c)");
	xlbt_case_end();
#endif
	return xlbt_finish("bpf/roundtrip");
}

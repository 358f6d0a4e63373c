// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of the fixture packet builder (tests/lib/pkt.c) against known
 * vectors: the BPF fixture tests trust its checksums, so they are checked
 * here against values computed elsewhere (RFC 1071's example, a textbook
 * IPv4 header, hand-summed TCP/UDP/ICMPv6 packets).
 */
#include <string.h>

#include "../lib/pkt.h"
#include "../lib/test.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xaa };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xbb };

static void test_rfc1071_example(void)
{
	/* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
	const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	ASSERT_EQ(pkt_csum_fold(pkt_csum_add(0, b, sizeof(b))), (uint16_t)~0xddf2, "csum");
}

static void test_ipv4_header_vector(void)
{
	/*
	 * The classic example (RFC 1071 style) moved into the test range:
	 * 4500 0073 0000 4000 4011 [ad8d] c612 0001 c612 00c7, summed by hand.
	 */
	const uint8_t want[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				   0xad, 0x8d, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0xc7 };
	struct pkt p;

	pkt_init(&p);
	pkt_eth(&p, MAC_A, MAC_B);
	pkt_ip4(&p, &(struct pkt_ip4){ .src = "198.18.0.1", .dst = "198.18.0.199", .df = true,
				       .proto = 17 });
	pkt_payload_pattern(&p, 0x73 - 20, 0);
	pkt_finish(&p);
	ASSERT_EQ(p.len, 14 + 0x73, "len");
	ASSERT_MEM_EQ(p.buf + 14, 20, want, 20, "ipv4 header");
	ASSERT_EQ(p.buf[12] << 8 | p.buf[13], 0x0800, "ethertype");
}

static void test_udp4_vector(void)
{
	/* 198.18.0.1:1 -> 198.18.0.2:2, payload "ab": summed by hand:
	 * pseudo c612+0001+c612+0002+0011+000a, udp 0001+0002+000a+0000, data 6162
	 * = 0xedb2 -> checksum 0x124d. */
	struct pkt p;
	char why[128];

	pkt_init(&p);
	pkt_eth(&p, MAC_A, MAC_B);
	pkt_ip4(&p, &(struct pkt_ip4){ .src = "198.18.0.1", .dst = "198.18.0.2" });
	pkt_udp(&p, &(struct pkt_udp){ .sport = 1, .dport = 2 });
	pkt_payload(&p, "ab", 2);
	pkt_finish(&p);
	ASSERT_EQ(p.buf[14 + 9], 17, "proto chained");
	ASSERT_EQ(p.buf[34 + 4] << 8 | p.buf[34 + 5], 10, "udp len");
	ASSERT_EQ(p.buf[34 + 6] << 8 | p.buf[34 + 7], 0x124d, "udp csum");
	ASSERT_OK(pkt_verify(p.buf, p.len, 0, why, sizeof(why)), why);
}

static void test_icmp6_vector(void)
{
	/* Echo request ::1 -> ::2, id 0, seq 0, no data: pseudo 0001 + 0002 + 0008 +
	 * 003a, header 8000 -> 0x8045 -> checksum 0x7fba. */
	struct pkt p;
	char why[128];

	pkt_init(&p);
	pkt_eth(&p, MAC_A, MAC_B);
	pkt_ip6(&p, &(struct pkt_ip6){ .src = "::1", .dst = "::2" });
	pkt_icmp6(&p, 128, 0, 0);
	pkt_finish(&p);
	ASSERT_EQ(p.buf[14 + 6], 58, "next header");
	ASSERT_EQ(p.buf[14 + 4] << 8 | p.buf[14 + 5], 8, "payload len");
	ASSERT_EQ(p.buf[54 + 2] << 8 | p.buf[54 + 3], 0x7fba, "icmp6 csum");
	ASSERT_OK(pkt_verify(p.buf, p.len, 0, why, sizeof(why)), why);
}

static void test_ext_chain_and_vlan(void)
{
	struct pkt p;
	char why[128];

	pkt_init(&p);
	pkt_eth(&p, MAC_A, MAC_B);
	pkt_vlan(&p, 0x2064);
	pkt_ip6(&p, &(struct pkt_ip6){ .src = "2001:db8::1", .dst = "2001:db8::2",
				       .tclass = 0xb8, .flow_label = 0x12345 });
	pkt_ip6_ext(&p, 0, 8);
	pkt_ip6_ext(&p, 60, 16);
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1000, .dport = 80, .flags = PKT_TCP_SYN });
	pkt_finish(&p);
	ASSERT_EQ(pkt_l3_offset(p.buf, p.len), 18, "l3 offset");
	ASSERT_EQ(p.buf[12] << 8 | p.buf[13], 0x8100, "tpid");
	ASSERT_EQ(p.buf[16] << 8 | p.buf[17], 0x86dd, "inner ethertype");
	ASSERT_EQ(p.buf[18], 0x6b, "version + tclass high");
	ASSERT_EQ(p.buf[19], 0x81, "tclass low + label");
	ASSERT_EQ(p.buf[18 + 6], 0, "next = hop-by-hop");
	ASSERT_EQ(p.buf[58], 60, "hbh next = dstopts");
	ASSERT_EQ(p.buf[66], 6, "dstopts next = tcp");
	ASSERT_EQ(p.buf[67], 1, "dstopts hdr ext len");
	ASSERT_EQ(pkt_inner_tos(&p), 0xb8, "tclass");
	ASSERT_OK(pkt_verify(p.buf, p.len, 0, why, sizeof(why)), why);
}

static void test_verify_catches_corruption(void)
{
	struct pkt p;
	char why[128];

	pkt_init(&p);
	pkt_eth(&p, MAC_A, MAC_B);
	pkt_ip4(&p, &(struct pkt_ip4){ .src = "198.18.0.1", .dst = "198.18.0.2" });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 1, .dport = 2, .bad_csum = true });
	pkt_finish(&p);
	ASSERT_EQ(pkt_verify(p.buf, p.len, 0, why, sizeof(why)), -1, "bad tcp csum found");

	pkt_init(&p);
	pkt_eth(&p, MAC_A, MAC_B);
	pkt_ip4(&p, &(struct pkt_ip4){ .src = "198.18.0.1", .dst = "198.18.0.2", .bad_csum = true });
	pkt_udp(&p, &(struct pkt_udp){ .sport = 1, .dport = 2 });
	pkt_finish(&p);
	ASSERT_EQ(pkt_verify(p.buf, p.len, 0, why, sizeof(why)), -1, "bad ip csum found");
}

static void test_gue_encap(void)
{
	struct pkt in, out;
	char why[128];

	pkt_init(&in);
	pkt_eth(&in, MAC_A, MAC_B);
	pkt_ip4(&in, &(struct pkt_ip4){ .src = "198.18.1.1", .dst = "198.18.0.10", .df = true,
					.tos = 0x10, .ttl = 50, .id = 77 });
	pkt_tcp(&in, &(struct pkt_tcp){ .sport = 40000, .dport = 80, .flags = PKT_TCP_ACK });
	pkt_payload_pattern(&in, 101, 3);
	pkt_finish(&in);

	pkt_encap(&out, &in, &(struct pkt_encap){
		.dmac = { 2, 0, 0, 0, 1, 1 }, .smac = { 2, 0, 0, 0, 0, 0xaa },
		.src = "2001:db8::100", .dst = "2001:db8::1:1", .flow_label = 0xabcde,
		.gue = true, .gue_sport = 0xc123, .gue_dport = 6080 });
	ASSERT_EQ(out.len, in.len + 40 + 8, "len");
	ASSERT_EQ(out.buf[14], 0x61, "v6 + tclass high");
	ASSERT_EQ(out.buf[15], 0x0a, "tclass low + label");
	ASSERT_EQ(out.buf[14 + 6], 17, "next = udp");
	ASSERT_EQ(out.buf[14 + 7], 64, "hop limit");
	ASSERT_MEM_EQ(out.buf + 62, in.len - 14, in.buf + 14, in.len - 14, "inner");
	ASSERT_OK(pkt_verify(out.buf, out.len, 6080, why, sizeof(why)), why);

	pkt_encap(&out, &in, &(struct pkt_encap){
		.dmac = { 2, 0, 0, 0, 1, 1 }, .smac = { 2, 0, 0, 0, 0, 0xaa },
		.src = "198.18.0.1", .dst = "198.18.2.1", .df = pkt_inner_df(&in) });
	ASSERT_EQ(out.buf[14 + 1], 0x10, "tos");
	ASSERT_EQ(out.buf[14 + 6], 0x40, "df");
	ASSERT_EQ(out.buf[14 + 9], 4, "ipip");
	ASSERT_EQ(out.buf[14 + 8], 64, "ttl");
	ASSERT_OK(pkt_verify(out.buf, out.len, 0, why, sizeof(why)), why);
}

static void test_icmp_error_quote(void)
{
	struct pkt in, err;
	char why[128];

	pkt_init(&in);
	pkt_eth(&in, MAC_A, MAC_B);
	pkt_ip4(&in, &(struct pkt_ip4){ .src = "198.18.1.1", .dst = "198.18.0.10", .df = true });
	pkt_tcp(&in, &(struct pkt_tcp){ .sport = 40000, .dport = 80, .flags = PKT_TCP_ACK });
	pkt_payload_pattern(&in, 1400, 3);
	pkt_finish(&in);

	pkt_init(&err);
	pkt_eth(&err, MAC_B, MAC_A);
	pkt_ip4(&err, &(struct pkt_ip4){ .src = "198.18.0.10", .dst = "198.18.1.1" });
	pkt_icmp4(&err, 3, 4, 1400);
	pkt_payload_l3(&err, &in, 64);
	pkt_finish(&err);
	ASSERT_EQ(err.len, 14 + 20 + 8 + 64, "len");
	ASSERT_OK(pkt_verify(err.buf, err.len, 0, why, sizeof(why)), why);
}

int main(void)
{
	XLBT_RUN(test_rfc1071_example);
	XLBT_RUN(test_ipv4_header_vector);
	XLBT_RUN(test_udp4_vector);
	XLBT_RUN(test_icmp6_vector);
	XLBT_RUN(test_ext_chain_and_vlan);
	XLBT_RUN(test_verify_catches_corruption);
	XLBT_RUN(test_gue_encap);
	XLBT_RUN(test_icmp_error_quote);
	return xlbt_finish("unit/pkt");
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A packet builder for the BPF fixture tests: input packets and the exact
 * packets a program is expected to emit, byte for byte.
 *
 * Headers are appended outermost first; pkt_finish() then fills in every
 * length and checksum, innermost layer first, so that an outer checksum
 * (the UDP checksum of GUE) covers inner headers that are already final.
 * Checksums are computed the slow, obvious way (RFC 1071 one's complement
 * sum over every byte, with the RFC 768/793/8200/4443 pseudo-headers), with
 * no code shared with the BPF programs: the tests check the programs'
 * incremental shortcuts against it.
 *
 *	struct pkt p;
 *
 *	pkt_init(&p);
 *	pkt_eth(&p, MAC_LB, MAC_CLIENT);
 *	pkt_ip4(&p, &(struct pkt_ip4){ .src = "198.18.1.1", .dst = "198.18.0.10", .df = true });
 *	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 40000, .dport = 80, .flags = PKT_TCP_SYN });
 *	pkt_payload_pattern(&p, 32, 1);
 *	pkt_finish(&p);
 *
 * Fields left zero in the spec structs take the documented default (TTL and
 * hop limit 64, TCP window 65535, protocols chained automatically). The
 * "raw" knobs (ihl, tot_len, bad_csum, ...) build malformed packets on
 * purpose; pkt_truncate() cuts a finished packet short.
 */
#ifndef XLB_TEST_PKT_H
#define XLB_TEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX_LEN 4096
#define PKT_MAX_LAYERS 16

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10

enum pkt_layer_kind {
	PKT_L_IP4 = 1,
	PKT_L_IP6,
	PKT_L_TCP,
	PKT_L_UDP,
	PKT_L_ICMP4,
	PKT_L_ICMP6,
};

struct pkt_layer {
	uint8_t kind;		/* enum pkt_layer_kind */
	bool keep_len;		/* length field given explicitly: leave it */
	bool keep_csum;		/* checksum given explicitly (or corrupt on purpose): leave it */
	bool bad_csum;		/* finish, then flip the checksum's low bit */
	uint16_t off;		/* offset of the header in buf */
};

struct pkt {
	uint8_t buf[PKT_MAX_LEN];
	size_t len;
	int l3_off;		/* first IP header, -1 if none */
	int proto_off;		/* byte that takes the next protocol number, -1 if none */
	int ethertype_off;	/* ethertype that takes the next L3 type, -1 if none */
	int n_layers;
	struct pkt_layer layers[PKT_MAX_LAYERS];
};

/* IPv4 header. Addresses as text ("198.18.0.10"). */
struct pkt_ip4 {
	const char *src;
	const char *dst;
	uint8_t tos;		/* DSCP + ECN */
	uint8_t ttl;		/* 0 = 64 */
	uint16_t id;		/* host order */
	bool df;
	bool mf;
	uint16_t frag_off;	/* fragment offset in bytes, a multiple of 8 */
	uint8_t proto;		/* 0 = set by the next header appended */
	const uint8_t *options;	/* IP options, opt_len a multiple of 4 (max 40) */
	size_t opt_len;
	uint8_t ihl;		/* 0 = computed; else written as is (malformed tests) */
	uint16_t tot_len;	/* 0 = computed; else written as is */
	bool bad_csum;		/* corrupt the header checksum */
};

/* IPv6 header. */
struct pkt_ip6 {
	const char *src;
	const char *dst;
	uint8_t tclass;		/* traffic class */
	uint32_t flow_label;	/* 20 bits */
	uint8_t hop_limit;	/* 0 = 64 */
	uint8_t next;		/* 0 = set by the next header appended (59 if none) */
	uint16_t payload_len;	/* 0 = computed; else written as is */
};

struct pkt_tcp {
	uint16_t sport;		/* host order */
	uint16_t dport;
	uint8_t flags;		/* PKT_TCP_* */
	uint32_t seq;
	uint32_t ack;
	uint16_t window;	/* 0 = 65535 */
	const uint8_t *options;	/* TCP options, opt_len a multiple of 4 */
	size_t opt_len;
	bool bad_csum;
};

struct pkt_udp {
	uint16_t sport;		/* host order */
	uint16_t dport;
	bool no_csum;		/* checksum 0 (IPv4 only) */
	uint16_t len;		/* 0 = computed; else written as is */
	bool bad_csum;
};

void pkt_init(struct pkt *p);
/* Ethernet; the next VLAN/IP header fills the ethertype in (or pkt_ethertype sets it). */
void pkt_eth(struct pkt *p, const uint8_t dst[6], const uint8_t src[6]);
/* One 802.1Q tag (TPID 0x8100) after the MACs; tci = PCP/DEI/VID. */
void pkt_vlan(struct pkt *p, uint16_t tci);
/* Sets the ethertype slot explicitly (ARP, or a wrong one on purpose). */
void pkt_ethertype(struct pkt *p, uint16_t type);
void pkt_ip4(struct pkt *p, const struct pkt_ip4 *h);
void pkt_ip6(struct pkt *p, const struct pkt_ip6 *h);
/*
 * IPv6 extension header (hop-by-hop 0, routing 43, destination options 60)
 * of len bytes (a multiple of 8, >= 8), padded with Pad1 options / zeros.
 */
void pkt_ip6_ext(struct pkt *p, uint8_t type, size_t len);
/* IPv6 fragment header; offset in bytes (multiple of 8). */
void pkt_ip6_frag(struct pkt *p, uint16_t offset, bool mf, uint32_t id);
void pkt_tcp(struct pkt *p, const struct pkt_tcp *h);
void pkt_udp(struct pkt *p, const struct pkt_udp *h);
/* ICMP (v4) header: type, code and the 4 "rest of header" bytes (host order). */
void pkt_icmp4(struct pkt *p, uint8_t type, uint8_t code, uint32_t rest);
/* ICMPv6 header, same shape; the checksum takes the IPv6 pseudo-header. */
void pkt_icmp6(struct pkt *p, uint8_t type, uint8_t code, uint32_t rest);
/* Echo request/reply helpers: rest = id << 16 | seq. */
#define PKT_ECHO(id, seq) (((uint32_t)(id) << 16) | (uint16_t)(seq))
void pkt_payload(struct pkt *p, const void *data, size_t len);
/* len bytes of a deterministic pattern (seed selects it). */
void pkt_payload_pattern(struct pkt *p, size_t len, unsigned int seed);
/* Appends the L3 part (IP header onwards) of a finished packet as payload. */
void pkt_payload_l3(struct pkt *p, const struct pkt *inner, size_t max_len);
/* Fills every length and checksum not given explicitly. Call once, last. */
void pkt_finish(struct pkt *p);
/* Cuts a finished packet to len bytes (headers keep their original lengths). */
void pkt_truncate(struct pkt *p, size_t len);

/* Offset of the first IP header, after Ethernet and one 802.1Q/802.1ad tag; -1 if none. */
int pkt_l3_offset(const uint8_t *buf, size_t len);
/* Parses an address (v4 or v6) into 16 bytes (v4: first 4); returns 4, 6 or 0. */
int pkt_parse_addr(const char *text, uint8_t out[16]);

/* ---- checksums (RFC 1071), for tests that compute one by hand ---- */

/* One's complement sum of len bytes, as 16-bit big-endian words, added to sum. */
uint32_t pkt_csum_add(uint32_t sum, const void *data, size_t len);
/* Folds and complements: the value to store in a checksum field (network order as a number). */
uint16_t pkt_csum_fold(uint32_t sum);

/*
 * Verifies a packet from Ethernet on: every IPv4 header checksum and length,
 * IPv6 payload lengths, TCP/UDP/ICMP/ICMPv6 checksums, recursing into IPIP,
 * GUE (UDP to gue_port, host order; 0 = no GUE) and the packet quoted in an
 * ICMP error (whose lengths may exceed what was quoted: only its IPv4 header
 * checksum is checked there). Returns 0, or -1 with the first problem in why.
 */
int pkt_verify(const uint8_t *buf, size_t len, uint16_t gue_port, char *why, size_t why_len);

/* ---- expected output of the balancer ---- */

/*
 * How an encapsulated packet must look. The inner packet is the input's L3
 * part (from its IP header on), unchanged. The outer header gets TTL/hop
 * limit 64, IPv4 id 0, the inner TOS / traffic class, DF as given.
 */
struct pkt_encap {
	uint8_t dmac[6];	/* next hop of the real */
	uint8_t smac[6];	/* the LB: the input frame's destination MAC */
	const char *src;	/* outer source (LB address) */
	const char *dst;	/* outer destination (the real) */
	bool df;		/* outer IPv4 DF */
	uint32_t flow_label;	/* outer IPv6 flow label */
	bool gue;		/* GUE (UDP) rather than IPIP */
	uint16_t gue_sport;	/* host order */
	uint16_t gue_dport;	/* host order */
	bool keep_vlan;		/* copy the input's 802.1Q/802.1ad tag (TPID and TCI) */
	bool gue_no_csum;	/* outer UDP checksum 0 (inner IPv4 UDP without checksum) */
};

/* Traffic class (v6) or TOS (v4) of the packet's first IP header. */
uint8_t pkt_inner_tos(const struct pkt *in);
/* DF bit of the packet's first IP header (false for IPv6). */
bool pkt_inner_df(const struct pkt *in);
/* Builds (and finishes) out: e around the L3 part of the finished packet in. */
void pkt_encap(struct pkt *out, const struct pkt *in, const struct pkt_encap *e);

/* Hex dump to stdout, 16 bytes a row. */
void pkt_dump(const char *title, const uint8_t *buf, size_t len);

#endif /* XLB_TEST_PKT_H */

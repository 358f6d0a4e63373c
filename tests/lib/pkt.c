// SPDX-License-Identifier: GPL-2.0-only
/*
 * The packet builder and checksum verifier behind tests/lib/pkt.h.
 *
 * Deliberately naive: checksums are full sums over every byte, headers are
 * written field by field in network order, and nothing here is shared with
 * the BPF code it checks.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6_ 0x86dd
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8

#define P_HOPOPTS 0
#define P_ICMP 1
#define P_IPIP 4
#define P_TCP 6
#define P_UDP 17
#define P_IPV6 41
#define P_ROUTING 43
#define P_FRAGMENT 44
#define P_ICMPV6 58
#define P_NONE 59
#define P_DSTOPTS 60

static void die(const char *what)
{
	fprintf(stderr, "pkt: %s\n", what);
	abort();
}

static uint8_t *room(struct pkt *p, size_t n)
{
	uint8_t *at;

	if (p->len + n > PKT_MAX_LEN)
		die("packet too long for PKT_MAX_LEN");
	at = p->buf + p->len;
	memset(at, 0, n);
	p->len += n;
	return at;
}

static void put16(uint8_t *at, uint16_t v)
{
	at[0] = v >> 8;
	at[1] = v;
}

static void put32(uint8_t *at, uint32_t v)
{
	at[0] = v >> 24;
	at[1] = v >> 16;
	at[2] = v >> 8;
	at[3] = v;
}

static uint16_t get16(const uint8_t *at)
{
	return (uint16_t)(at[0] << 8 | at[1]);
}

static struct pkt_layer *add_layer(struct pkt *p, uint8_t kind, size_t off)
{
	struct pkt_layer *l;

	if (p->n_layers == PKT_MAX_LAYERS)
		die("too many layers");
	l = &p->layers[p->n_layers++];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->off = off;
	return l;
}

/* Writes proto into the previous header's "next protocol" slot, once. */
static void chain_proto(struct pkt *p, uint8_t proto)
{
	if (p->proto_off >= 0)
		p->buf[p->proto_off] = proto;
	p->proto_off = -1;
}

static void chain_ethertype(struct pkt *p, uint16_t type)
{
	if (p->ethertype_off >= 0)
		put16(p->buf + p->ethertype_off, type);
	p->ethertype_off = -1;
}

int pkt_parse_addr(const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	if (!text)
		return 0;
	if (inet_pton(AF_INET, text, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, text, out) == 1)
		return 6;
	return 0;
}

static void addr_or_die(const char *text, uint8_t out[16], int family)
{
	if (pkt_parse_addr(text, out) != family) {
		fprintf(stderr, "pkt: bad IPv%d address \"%s\"\n", family, text ? text : "(null)");
		abort();
	}
}

void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->l3_off = -1;
	p->proto_off = -1;
	p->ethertype_off = -1;
}

void pkt_eth(struct pkt *p, const uint8_t dst[6], const uint8_t src[6])
{
	size_t off = p->len;
	uint8_t *h = room(p, 14);

	memcpy(h, dst, 6);
	memcpy(h + 6, src, 6);
	p->ethertype_off = off + 12;
}

void pkt_vlan(struct pkt *p, uint16_t tci)
{
	size_t off = p->len;
	uint8_t *h = room(p, 4);

	chain_ethertype(p, ETH_P_8021Q_);
	put16(h, tci);
	p->ethertype_off = off + 2;
}

void pkt_ethertype(struct pkt *p, uint16_t type)
{
	chain_ethertype(p, type);
}

void pkt_ip4(struct pkt *p, const struct pkt_ip4 *s)
{
	size_t off = p->len, hlen = 20 + s->opt_len;
	uint8_t addr[16], *h;
	struct pkt_layer *l;
	uint16_t frag;

	if (s->opt_len % 4 || s->opt_len > 40)
		die("IPv4 options must be a multiple of 4, at most 40 bytes");
	chain_ethertype(p, ETH_P_IPV4);
	chain_proto(p, P_IPIP);
	h = room(p, hlen);
	h[0] = 0x40 | (s->ihl ? s->ihl : hlen / 4);
	h[1] = s->tos;
	put16(h + 2, s->tot_len);
	put16(h + 4, s->id);
	frag = (s->frag_off / 8) & 0x1fff;
	if (s->df)
		frag |= 0x4000;
	if (s->mf)
		frag |= 0x2000;
	put16(h + 6, frag);
	h[8] = s->ttl ? s->ttl : 64;
	h[9] = s->proto;
	addr_or_die(s->src, addr, 4);
	memcpy(h + 12, addr, 4);
	addr_or_die(s->dst, addr, 4);
	memcpy(h + 16, addr, 4);
	if (s->opt_len)
		memcpy(h + 20, s->options, s->opt_len);
	if (p->l3_off < 0)
		p->l3_off = off;
	p->proto_off = s->proto ? -1 : (int)off + 9;
	l = add_layer(p, PKT_L_IP4, off);
	l->keep_len = s->tot_len != 0;
	l->bad_csum = s->bad_csum;
}

void pkt_ip6(struct pkt *p, const struct pkt_ip6 *s)
{
	size_t off = p->len;
	uint8_t addr[16], *h;
	struct pkt_layer *l;

	chain_ethertype(p, ETH_P_IPV6_);
	chain_proto(p, P_IPV6);
	h = room(p, 40);
	put32(h, 6u << 28 | (uint32_t)s->tclass << 20 | (s->flow_label & 0xfffff));
	put16(h + 4, s->payload_len);
	h[6] = s->next ? s->next : P_NONE;
	h[7] = s->hop_limit ? s->hop_limit : 64;
	addr_or_die(s->src, addr, 6);
	memcpy(h + 8, addr, 16);
	addr_or_die(s->dst, addr, 6);
	memcpy(h + 24, addr, 16);
	if (p->l3_off < 0)
		p->l3_off = off;
	p->proto_off = s->next ? -1 : (int)off + 6;
	l = add_layer(p, PKT_L_IP6, off);
	l->keep_len = s->payload_len != 0;
}

void pkt_ip6_ext(struct pkt *p, uint8_t type, size_t len)
{
	size_t off = p->len;
	uint8_t *h;

	if (len < 8 || len % 8 || len > 2048)
		die("IPv6 extension header length must be a multiple of 8");
	chain_proto(p, type);
	h = room(p, len);
	h[0] = P_NONE;
	h[1] = len / 8 - 1;
	/* The rest stays zero: Pad1 options (hop-by-hop, dest opts), or an
	 * RH type 0 with segments left 0, which a node skips. */
	p->proto_off = off;
}

void pkt_ip6_frag(struct pkt *p, uint16_t offset, bool mf, uint32_t id)
{
	size_t off = p->len;
	uint8_t *h;

	chain_proto(p, P_FRAGMENT);
	h = room(p, 8);
	h[0] = P_NONE;
	put16(h + 2, (offset & ~7u) | (mf ? 1 : 0));
	put32(h + 4, id);
	p->proto_off = off;
}

void pkt_tcp(struct pkt *p, const struct pkt_tcp *s)
{
	size_t off = p->len, hlen = 20 + s->opt_len;
	struct pkt_layer *l;
	uint8_t *h;

	if (s->opt_len % 4 || s->opt_len > 40)
		die("TCP options must be a multiple of 4, at most 40 bytes");
	chain_proto(p, P_TCP);
	h = room(p, hlen);
	put16(h, s->sport);
	put16(h + 2, s->dport);
	put32(h + 4, s->seq);
	put32(h + 8, s->ack);
	h[12] = (hlen / 4) << 4;
	h[13] = s->flags;
	put16(h + 14, s->window ? s->window : 65535);
	if (s->opt_len)
		memcpy(h + 20, s->options, s->opt_len);
	l = add_layer(p, PKT_L_TCP, off);
	l->bad_csum = s->bad_csum;
}

void pkt_udp(struct pkt *p, const struct pkt_udp *s)
{
	size_t off = p->len;
	struct pkt_layer *l;
	uint8_t *h;

	chain_proto(p, P_UDP);
	h = room(p, 8);
	put16(h, s->sport);
	put16(h + 2, s->dport);
	put16(h + 4, s->len);
	l = add_layer(p, PKT_L_UDP, off);
	l->keep_len = s->len != 0;
	l->keep_csum = s->no_csum;
	l->bad_csum = s->bad_csum;
}

static void icmp_common(struct pkt *p, uint8_t kind, uint8_t proto, uint8_t type, uint8_t code,
			uint32_t rest)
{
	size_t off = p->len;
	uint8_t *h;

	chain_proto(p, proto);
	h = room(p, 8);
	h[0] = type;
	h[1] = code;
	put32(h + 4, rest);
	add_layer(p, kind, off);
}

void pkt_icmp4(struct pkt *p, uint8_t type, uint8_t code, uint32_t rest)
{
	icmp_common(p, PKT_L_ICMP4, P_ICMP, type, code, rest);
}

void pkt_icmp6(struct pkt *p, uint8_t type, uint8_t code, uint32_t rest)
{
	icmp_common(p, PKT_L_ICMP6, P_ICMPV6, type, code, rest);
}

void pkt_payload(struct pkt *p, const void *data, size_t len)
{
	memcpy(room(p, len), data, len);
}

void pkt_payload_pattern(struct pkt *p, size_t len, unsigned int seed)
{
	uint8_t *at = room(p, len);
	uint32_t x = 0x9e3779b9u * (seed + 1);

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		at[i] = x >> 16;
	}
}

void pkt_payload_l3(struct pkt *p, const struct pkt *inner, size_t max_len)
{
	int off = pkt_l3_offset(inner->buf, inner->len);
	size_t n;

	if (off < 0)
		die("inner packet has no IP header");
	n = inner->len - off;
	if (max_len && n > max_len)
		n = max_len;
	pkt_payload(p, inner->buf + off, n);
}

uint32_t pkt_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *b = data;
	uint64_t s = sum;

	for (size_t i = 0; i < len; i++)
		s += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

uint16_t pkt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Pseudo-header sum of the IP header at l3 for an upper layer of len bytes. */
static uint32_t pseudo_sum(const uint8_t *l3, uint8_t proto, size_t len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum;

	if ((l3[0] >> 4) == 4) {
		sum = pkt_csum_add(0, l3 + 12, 8);
		tail[1] = proto;
		put16(tail + 2, len);
		return pkt_csum_add(sum, tail, 4);
	}
	sum = pkt_csum_add(0, l3 + 8, 32);
	put32(tail, len);
	tail[7] = proto;
	return pkt_csum_add(sum, tail, 8);
}

/* Nearest IP layer before layer i (the one whose pseudo-header applies). */
static const struct pkt_layer *ip_before(const struct pkt *p, int i)
{
	while (--i >= 0)
		if (p->layers[i].kind == PKT_L_IP4 || p->layers[i].kind == PKT_L_IP6)
			return &p->layers[i];
	die("transport header without an IP header");
	return NULL;
}

void pkt_finish(struct pkt *p)
{
	for (int i = p->n_layers - 1; i >= 0; i--) {
		struct pkt_layer *l = &p->layers[i];
		uint8_t *h = p->buf + l->off;
		size_t len = p->len - l->off;
		const struct pkt_layer *ip;
		uint8_t proto;
		uint16_t c;
		int csum_at;

		switch (l->kind) {
		case PKT_L_IP4:
			if (!l->keep_len)
				put16(h + 2, len);
			put16(h + 10, 0);
			c = pkt_csum_fold(pkt_csum_add(0, h, (h[0] & 0xf) * 4 > (int)len ?
							   len : (size_t)(h[0] & 0xf) * 4));
			csum_at = 10;
			break;
		case PKT_L_IP6:
			if (!l->keep_len)
				put16(h + 4, len - 40);
			continue;
		case PKT_L_TCP:
		case PKT_L_UDP:
		case PKT_L_ICMP6:
			if (l->kind == PKT_L_UDP && !l->keep_len)
				put16(h + 4, len);
			csum_at = l->kind == PKT_L_TCP ? 16 : l->kind == PKT_L_UDP ? 6 : 2;
			if (l->keep_csum)
				continue;
			put16(h + csum_at, 0);
			ip = ip_before(p, i);
			proto = l->kind == PKT_L_TCP ? P_TCP :
				l->kind == PKT_L_UDP ? P_UDP : P_ICMPV6;
			c = pkt_csum_fold(pkt_csum_add(pseudo_sum(p->buf + ip->off, proto, len),
						       h, len));
			if (l->kind == PKT_L_UDP && c == 0)
				c = 0xffff;	/* RFC 768: 0 means "no checksum" */
			break;
		case PKT_L_ICMP4:
			put16(h + 2, 0);
			c = pkt_csum_fold(pkt_csum_add(0, h, len));
			csum_at = 2;
			break;
		default:
			continue;
		}
		if (l->bad_csum)
			c ^= 1;
		put16(h + csum_at, c);
	}
}

void pkt_truncate(struct pkt *p, size_t len)
{
	if (len < p->len)
		p->len = len;
}

int pkt_l3_offset(const uint8_t *buf, size_t len)
{
	size_t off = 12;
	uint16_t type;

	if (len < 14)
		return -1;
	type = get16(buf + off);
	off += 2;
	if (type == ETH_P_8021Q_ || type == ETH_P_8021AD_) {
		if (len < 18)
			return -1;
		type = get16(buf + off + 2);
		off += 4;
	}
	if (type != ETH_P_IPV4 && type != ETH_P_IPV6_)
		return -1;
	return off;
}

/* ---- verifier ---- */

#define VFAIL(...) do { snprintf(why, why_len, __VA_ARGS__); return -1; } while (0)

static int verify_l3(const uint8_t *b, size_t len, uint16_t gue_port, bool quoted, int depth,
		     char *why, size_t why_len);

static int verify_l4(const uint8_t *l3, uint8_t proto, const uint8_t *b, size_t len,
		     uint16_t gue_port, bool quoted, int depth, char *why, size_t why_len)
{
	uint32_t sum;

	/* A quote holds the start of the L4 header only (RFC 792: 8 bytes). */
	if (quoted && proto != P_IPIP && proto != P_IPV6)
		return 0;
	switch (proto) {
	case P_IPIP:
	case P_IPV6:
		return verify_l3(b, len, gue_port, quoted, depth + 1, why, why_len);
	case P_TCP:
		if (len < 20)
			VFAIL("TCP header truncated (%zu bytes)", len);
		sum = pkt_csum_add(pseudo_sum(l3, P_TCP, len), b, len);
		if (pkt_csum_fold(sum))
			VFAIL("bad TCP checksum 0x%04x", get16(b + 16));
		return 0;
	case P_UDP:
		if (len < 8)
			VFAIL("UDP header truncated (%zu bytes)", len);
		if (get16(b + 4) != len)
			VFAIL("UDP length %u, %zu bytes present", get16(b + 4), len);
		if (get16(b + 6) == 0 && (l3[0] >> 4) == 6)
			VFAIL("UDP over IPv6 with checksum 0");
		if (get16(b + 6)) {
			sum = pkt_csum_add(pseudo_sum(l3, P_UDP, len), b, len);
			if (pkt_csum_fold(sum))
				VFAIL("bad UDP checksum 0x%04x", get16(b + 6));
		}
		if (gue_port && get16(b + 2) == gue_port)
			return verify_l3(b + 8, len - 8, gue_port, quoted, depth + 1, why, why_len);
		return 0;
	case P_ICMP:
	case P_ICMPV6:
		if (len < 8)
			VFAIL("ICMP header truncated (%zu bytes)", len);
		sum = pkt_csum_add(proto == P_ICMPV6 ? pseudo_sum(l3, P_ICMPV6, len) : 0, b, len);
		if (pkt_csum_fold(sum))
			VFAIL("bad ICMP%s checksum 0x%04x", proto == P_ICMPV6 ? "v6" : "",
			      get16(b + 2));
		/* Errors quote the offending packet: check what is there of it. */
		if ((proto == P_ICMP && (b[0] == 3 || b[0] == 11 || b[0] == 12)) ||
		    (proto == P_ICMPV6 && b[0] < 128))
			return verify_l3(b + 8, len - 8, gue_port, true, depth + 1, why, why_len);
		return 0;
	default:
		return 0;
	}
}

static int verify_l3(const uint8_t *b, size_t len, uint16_t gue_port, bool quoted, int depth,
		     char *why, size_t why_len)
{
	size_t hlen, tot;
	uint8_t proto;

	if (depth > 4)
		VFAIL("nested too deep");
	if (len < 1)
		VFAIL("IP header missing");
	if ((b[0] >> 4) == 4) {
		if (len < 20)
			VFAIL("IPv4 header truncated (%zu bytes)", len);
		hlen = (b[0] & 0xf) * 4;
		if (hlen < 20 || hlen > len)
			VFAIL("IPv4 ihl %zu bad for %zu bytes", hlen / 4, len);
		if (pkt_csum_fold(pkt_csum_add(0, b, hlen)))
			VFAIL("bad IPv4 header checksum 0x%04x", get16(b + 10));
		tot = get16(b + 2);
		if (quoted) {
			if (tot < hlen)
				VFAIL("quoted IPv4 tot_len %zu < ihl", tot);
			if (tot < len)
				len = tot;
		} else if (tot != len) {
			VFAIL("IPv4 tot_len %zu, %zu bytes present", tot, len);
		}
		if (get16(b + 6) & 0x3fff)
			return 0;	/* a fragment: no L4 to check */
		return verify_l4(b, b[9], b + hlen, len - hlen, gue_port, quoted, depth, why,
				 why_len);
	}
	if ((b[0] >> 4) == 6) {
		if (len < 40)
			VFAIL("IPv6 header truncated (%zu bytes)", len);
		tot = get16(b + 4) + 40;
		if (quoted) {
			if (tot < len)
				len = tot;
		} else if (tot != len) {
			VFAIL("IPv6 payload length %zu, %zu bytes present", tot - 40, len - 40);
		}
		proto = b[6];
		hlen = 40;
		for (int i = 0; i < 8; i++) {
			if (proto != P_HOPOPTS && proto != P_ROUTING && proto != P_DSTOPTS &&
			    proto != P_FRAGMENT)
				break;
			if (hlen + 8 > len)
				VFAIL("IPv6 extension header truncated");
			if (proto == P_FRAGMENT)
				return 0;
			proto = b[hlen];
			hlen += (b[hlen + 1] + 1) * 8;
		}
		if (hlen > len)
			VFAIL("IPv6 extension header truncated");
		/* The pseudo-header wants the IPv6 header; it is at b. */
		return verify_l4(b, proto, b + hlen, len - hlen, gue_port, quoted, depth, why,
				 why_len);
	}
	VFAIL("IP version %u", b[0] >> 4);
}

int pkt_verify(const uint8_t *buf, size_t len, uint16_t gue_port, char *why, size_t why_len)
{
	int off = pkt_l3_offset(buf, len);

	if (off < 0)
		VFAIL("no Ethernet + IP header");
	return verify_l3(buf + off, len - off, gue_port, false, 0, why, why_len);
}

/* ---- expected encapsulation ---- */

uint8_t pkt_inner_tos(const struct pkt *in)
{
	int off = pkt_l3_offset(in->buf, in->len);
	const uint8_t *h;

	if (off < 0)
		die("packet has no IP header");
	h = in->buf + off;
	if ((h[0] >> 4) == 4)
		return h[1];
	return (uint8_t)((h[0] & 0xf) << 4 | h[1] >> 4);
}

bool pkt_inner_df(const struct pkt *in)
{
	int off = pkt_l3_offset(in->buf, in->len);
	const uint8_t *h;

	if (off < 0)
		die("packet has no IP header");
	h = in->buf + off;
	return (h[0] >> 4) == 4 && (h[6] & 0x40);
}

void pkt_encap(struct pkt *out, const struct pkt *in, const struct pkt_encap *e)
{
	int l3 = pkt_l3_offset(in->buf, in->len);
	uint8_t addr[16], inner_ver;
	int fam;

	if (l3 < 0)
		die("encap: input has no IP header");
	inner_ver = in->buf[l3] >> 4;
	pkt_init(out);
	pkt_eth(out, e->dmac, e->smac);
	if (e->keep_vlan && l3 == 18)
		pkt_vlan(out, get16(in->buf + 14));
	fam = pkt_parse_addr(e->dst, addr);
	if (fam == 4)
		pkt_ip4(out, &(struct pkt_ip4){
			.src = e->src, .dst = e->dst, .tos = pkt_inner_tos(in), .ttl = 64,
			.id = 0, .df = e->df,
			.proto = e->gue ? P_UDP : (inner_ver == 4 ? P_IPIP : P_IPV6),
		});
	else
		pkt_ip6(out, &(struct pkt_ip6){
			.src = e->src, .dst = e->dst, .tclass = pkt_inner_tos(in),
			.flow_label = e->flow_label, .hop_limit = 64,
			.next = e->gue ? P_UDP : (inner_ver == 4 ? P_IPIP : P_IPV6),
		});
	if (e->gue)
		pkt_udp(out, &(struct pkt_udp){ .sport = e->gue_sport, .dport = e->gue_dport,
						 .no_csum = e->gue_no_csum });
	pkt_payload_l3(out, in, 0);
	pkt_finish(out);
	if (e->keep_vlan && l3 == 18)
		memcpy(out->buf + 12, in->buf + 12, 2);	/* the tag's TPID, 802.1Q or 802.1ad */
}

void pkt_dump(const char *title, const uint8_t *buf, size_t len)
{
	printf("  %s (%zu bytes)\n", title, len);
	for (size_t i = 0; i < len; i += 16) {
		printf("  %04zx ", i);
		for (size_t j = i; j < i + 16 && j < len; j++)
			printf(" %02x", buf[j]);
		printf("\n");
	}
}

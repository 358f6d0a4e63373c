/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internet checksum helpers (RFC 1071, incremental updates per RFC 1624),
 * shared by the balancer and the decap program.
 *
 * Partial sums are kept in a __u64 accumulator to which 16- or 32-bit words
 * are added exactly as they sit in memory (network order): one's complement
 * addition is byte-order independent, so folding the accumulator gives the
 * checksum in network order, ready to store (the trick of the kernel's
 * csum_partial). Every chunk added must start at an even offset of the
 * checksummed byte stream. Nothing here touches a map or packet bounds: the
 * caller has checked the bounds of every pointer it passes.
 */
#ifndef XLB_CSUM_H
#define XLB_CSUM_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Folds a partial sum to 16 bits (not complemented). */
static __always_inline __u16 csum_fold(__u64 sum)
{
	/* Two 32-bit folds bring any __u64 below 2^32, two 16-bit folds below 2^16. */
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The checksum field value for a partial sum: the complement of the fold. */
static __always_inline __sum16 csum_finish(__u64 sum)
{
	return (__sum16)~csum_fold(sum);
}

/*
 * 32-bit words read for summing. may_alias: a header is often summed right
 * after being written through its struct fields, and without it clang's
 * type-based alias analysis may move these loads above those stores.
 */
typedef __u32 __attribute__((__may_alias__)) xlb_csum_word_t;

/* Adds n 32-bit words at p (n is a compile-time constant: unrolled). */
static __always_inline __u64 csum_add_words(__u64 sum, const void *p, int n)
{
	const xlb_csum_word_t *w = p;

#pragma unroll
	for (int i = 0; i < n; i++)
		sum += w[i];
	return sum;
}

/* Adds an IPv6 address (or any 16 bytes). */
static __always_inline __u64 csum_add_addr6(__u64 sum, const __be32 *a)
{
	return sum + a[0] + a[1] + a[2] + a[3];
}

/*
 * Partial sums of the pseudo headers (RFC 768 / RFC 8200 8.1). len is the
 * L4 length in host order, proto the L4 protocol.
 */
static __always_inline __u64 csum_pseudo_v4(__be32 saddr, __be32 daddr, __u8 proto, __u32 len)
{
	return (__u64)saddr + daddr + bpf_htons(proto) + bpf_htons((__u16)len);
}

static __always_inline __u64 csum_pseudo_v6(const __be32 *saddr, const __be32 *daddr,
					     __u8 proto, __u32 len)
{
	__u64 sum = csum_add_addr6(0, saddr);

	sum = csum_add_addr6(sum, daddr);
	/* The 32-bit length and next-header words; len < 2^16 on Ethernet. */
	return sum + bpf_htons((__u16)len) + bpf_htons(proto);
}

/* Checksum of an IPv4 header without options whose check field is already 0. */
static __always_inline __sum16 csum_ipv4_hdr(const void *iph)
{
	return csum_finish(csum_add_words(0, iph, 5));
}

/*
 * Incremental updates (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')) of a
 * checksum field when a 16- or 32-bit word of the covered data changes.
 */
static __always_inline void csum_replace2(__sum16 *check, __be16 from, __be16 to)
{
	__u64 sum = (__u16)~*check;

	sum += (__u16)~from;
	sum += to;
	*check = csum_finish(sum);
}

static __always_inline void csum_replace4(__sum16 *check, __be32 from, __be32 to)
{
	__u64 sum = (__u16)~*check;

	sum += (__u32)~from;
	sum += to;
	*check = csum_finish(sum);
}

#endif /* XLB_CSUM_H */

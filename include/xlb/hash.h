/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flow hash, shared by the balancer and userspace (tests and tools
 * predict which ring slot a flow lands in with the very same code).
 *
 * The mixing function is Bob Jenkins' lookup3 "hashword" (public domain),
 * the hash the kernel itself uses as jhash2. Word counts are compile-time
 * constants for every hash mode, so the verifier sees straight-line code.
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include <linux/types.h>
#include "abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define XLB_ROL32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

#define XLB_JMIX(a, b, c)						\
	do {								\
		a -= c; a ^= XLB_ROL32(c, 4); c += b;			\
		b -= a; b ^= XLB_ROL32(a, 6); a += c;			\
		c -= b; c ^= XLB_ROL32(b, 8); b += a;			\
		a -= c; a ^= XLB_ROL32(c, 16); c += b;			\
		b -= a; b ^= XLB_ROL32(a, 19); a += c;			\
		c -= b; c ^= XLB_ROL32(b, 4); b += a;			\
	} while (0)

#define XLB_JFINAL(a, b, c)						\
	do {								\
		c ^= b; c -= XLB_ROL32(b, 14);				\
		a ^= c; a -= XLB_ROL32(c, 11);				\
		b ^= a; b -= XLB_ROL32(a, 25);				\
		c ^= b; c -= XLB_ROL32(b, 16);				\
		a ^= c; a -= XLB_ROL32(c, 4);				\
		b ^= a; b -= XLB_ROL32(a, 14);				\
		c ^= b; c -= XLB_ROL32(b, 24);				\
	} while (0)

/* lookup3 hashword() over n 32-bit words; n is a constant at every call site. */
static __always_inline __u32 xlb_jhash_words(const __u32 *k, __u32 n, __u32 seed)
{
	__u32 a, b, c;

	a = b = c = 0xdeadbeef + (n << 2) + seed;
#ifdef __clang__
#pragma unroll
#endif
	for (int i = 0; i < 4; i++) {	/* at most 12 words + tail: 4 rounds */
		if (n <= 3)
			break;
		a += k[0];
		b += k[1];
		c += k[2];
		XLB_JMIX(a, b, c);
		n -= 3;
		k += 3;
	}
	switch (n) {
	case 3:
		c += k[2];
		/* fallthrough */
	case 2:
		b += k[1];
		/* fallthrough */
	case 1:
		a += k[0];
		XLB_JFINAL(a, b, c);
		break;
	default:
		break;
	}
	return c;
}

/*
 * Hash of a flow for Maglev slot selection, by the VIP's hash mode.
 * The words hashed are the key's bytes as they sit in memory (network order),
 * so every LB host computes the same value for the same packet.
 */
static __always_inline __u32 xlb_flow_hash(const struct xlb_flow_key *key, __u8 mode, __u32 seed)
{
	__u32 w[10];

	w[0] = key->src.v6[0];
	w[1] = key->src.v6[1];
	w[2] = key->src.v6[2];
	w[3] = key->src.v6[3];
	if (mode == XLB_HASH_SRC_IP)
		return xlb_jhash_words(w, 4, seed);
	if (mode == XLB_HASH_SRC_IP_DPORT) {
		w[4] = key->dport;
		return xlb_jhash_words(w, 5, seed);
	}
	w[4] = key->dst.v6[0];
	w[5] = key->dst.v6[1];
	w[6] = key->dst.v6[2];
	w[7] = key->dst.v6[3];
	w[8] = ((__u32)key->sport << 16) | key->dport;
	w[9] = key->proto;
	return xlb_jhash_words(w, 10, seed);
}

/* Ring slot for a hash: multiply-shift maps [0, 2^32) evenly onto [0, M) without a division. */
static __always_inline __u32 xlb_ring_slot(__u32 hash, __u32 ring_size)
{
	return (__u32)(((__u64)hash * ring_size) >> 32);
}

/* GUE outer source port: from the flow hash, in the ephemeral range 49152-65535. */
static __always_inline __u16 xlb_gue_sport(__u32 hash)
{
	return (__u16)(0xc000 | (hash & 0x3fff));
}

/* Outer IPv6 flow label (RFC 6438): 20 bits of the flow hash. */
static __always_inline __u32 xlb_flow_label(__u32 hash)
{
	return hash & 0xfffff;
}

#endif /* XLB_HASH_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Weighted Maglev lookup tables (Eisenbud et al., "Maglev: A Fast and
 * Reliable Software Network Load Balancer", NSDI 2016, section 3.4).
 *
 * A table is a pure function of (set of reals with their weights, M, seed):
 * reals are identified by their address only (family + 16 address bytes),
 * never by their position in the input or by their index, so every LB host
 * with the same configuration builds a byte-identical table whatever order
 * the reals were added in. The caller-given index of a real is only what gets
 * written into its slots.
 *
 *   struct xlb_maglev_real reals[] = { { .addr = a, .family = XLB_AF_INET,
 *                                        .weight = 1, .index = 7 }, ... };
 *   err = xlb_maglev__build(reals, n, 65537, seed, table);   // table[65537]
 *   changed = xlb_maglev__diff(old, table, 65537, slots);    // rewrite only these
 */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <stddef.h>
#include <stdbool.h>
#include <xlb/abi.h>

/* One real as Maglev sees it. */
struct xlb_maglev_real {
	union xlb_addr addr;		/* identity, network order; IPv4: v4 only */
	__u32 weight;			/* relative share of slots; 0 = none (drained/down) */
	__u32 index;			/* value of its slots; not XLB_REAL_NONE */
	__u8 family;			/* enum xlb_family: XLB_AF_INET or XLB_AF_INET6 */
	__u8 pad[3];			/* ignored */
};

/*
 * Accepted table sizes M, all prime, ascending. 65537 is the default
 * (XLB_RING_SIZE_DEFAULT); keep M >= ~100 x the reals of a VIP for balance
 * within ~1% under weights and churn.
 */
#define XLB_MAGLEV_M_MIN 251
#define XLB_MAGLEV_M_MAX 1048573
extern const __u32 xlb_maglev_primes[];
extern const size_t xlb_maglev_nprimes;

/* True when m is one of xlb_maglev_primes. */
bool xlb_maglev__m_valid(__u32 m);

/*
 * Writes "251, 1021, ..., 1048573" into buf (for error messages); returns
 * buf.
 */
const char *xlb_maglev__m_list(char *buf, size_t len);

/*
 * Scratch space reused across builds so that rebuilding many rings does not
 * allocate each time. Grows on demand; one scratch per thread.
 */
struct xlb_maglev_scratch;
struct xlb_maglev_scratch *xlb_maglev_scratch__new(void);
void xlb_maglev_scratch__free(struct xlb_maglev_scratch *s);

/*
 * Fills table_out[0..m-1] with the index of the real owning each slot, or
 * XLB_REAL_NONE when no real has a non-zero weight (n == 0 included).
 * Returns 0, or:
 *   -EINVAL  m not in xlb_maglev_primes; reals NULL with n > 0; table_out NULL;
 *            a family other than XLB_AF_INET/XLB_AF_INET6; two reals with the
 *            same address (weight 0 included); a weighted real whose index is
 *            XLB_REAL_NONE
 *   -E2BIG   n > XLB_MAX_REALS
 *   -ENOMEM  scratch could not grow
 * On error table_out is left untouched.
 */
int xlb_maglev__build(const struct xlb_maglev_real *reals, size_t n, __u32 m,
		      __u64 seed, __u32 *table_out);
/* The same with caller-owned scratch (NULL = allocate and free internally). */
int xlb_maglev__build_scratch(const struct xlb_maglev_real *reals, size_t n, __u32 m,
			      __u64 seed, __u32 *table_out,
			      struct xlb_maglev_scratch *scratch);

/*
 * The permutation of one real: offset = h1 % m, skip = h2 % (m - 1) + 1.
 * Exposed for tests and tools; m must be valid. Returns 0 or -EINVAL.
 */
int xlb_maglev__perm(const union xlb_addr *addr, __u8 family, __u32 m, __u64 seed,
		     __u32 *offset, __u32 *skip);

/*
 * Number of slots where a and b differ. When changed_out is not NULL (room
 * for m entries) the differing slot numbers are written to it, ascending, so
 * that a ring can be updated by rewriting only those slots.
 */
size_t xlb_maglev__diff(const __u32 *a, const __u32 *b, __u32 m, __u32 *changed_out);

#endif /* XLB_MAGLEV_H */

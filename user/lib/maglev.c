// SPDX-License-Identifier: GPL-2.0-only
/*
 * Weighted Maglev table construction (NSDI 2016, section 3.4), see maglev.h.
 *
 * Each real with a non-zero weight walks its own permutation of the M slots,
 * slot(j) = (offset + j * skip) mod M, and in turn claims the next slot of its
 * permutation that is still free. With M prime and 1 <= skip < M every
 * permutation visits every slot, so each turn claims exactly one slot.
 *
 * Weights: each round every real adds its weight to a credit and takes a turn
 * when its credit reaches the largest weight (then pays that much). The
 * heaviest real takes one turn per round, a real of half its weight one turn
 * every other round, and so on, so slot counts follow the weights to within
 * a slot or two (not a fixed rounding of the weights); with equal weights
 * this is exactly the paper's round robin and every real gets floor(M/N) or
 * ceil(M/N) slots. A real never takes two turns in one round (its credit is
 * below the largest weight before it adds its own), so there are at most M
 * rounds whatever the weights.
 *
 * Speed: the textbook loop recomputes (offset + next * skip) % M and tests a
 * u32 table entry on every probe. Here each real keeps its current position
 * and advances it by one add and a conditional subtract, and "slot taken" is
 * a bitmap (8 KiB for M = 65537, so it stays in L1) rather than the table.
 * The last ~sqrt(M) free slots, which would cost most of the probes, are
 * found from a list of free slots instead (claim_from_list). Both give the
 * textbook table exactly; tests/unit/test_maglev checks that.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "maglev.h"

const __u32 xlb_maglev_primes[] = {
	251, 1021, 4093, 16381, 65537, 131071, 262147, 524287, 655373, 1048573,
};
const size_t xlb_maglev_nprimes = sizeof(xlb_maglev_primes) / sizeof(xlb_maglev_primes[0]);

_Static_assert(XLB_RING_SIZE_DEFAULT == 65537, "default ring size is in the list");

/* Per real state of one build, sorted by identity. */
struct mg_real {
	__u8 id[17];			/* family, then 16 address bytes (IPv4: 4 + 12 zeros) */
	__u32 weight;
	__u32 index;
	__u32 pos;			/* next slot of its permutation to try */
	__u32 skip;
	__u32 inv;			/* skip^-1 mod M, for the tail phase */
	__u64 credit;			/* accumulated weight; < largest weight between rounds */
};

struct xlb_maglev_scratch {
	struct mg_real *reals;
	size_t reals_cap;
	__u64 *taken;			/* bitmap of claimed slots */
	size_t taken_cap;		/* in 64-bit words */
	__u32 *free_slots;		/* free slots in the tail phase */
	size_t free_cap;
};

/*
 * Free slots left when the tail phase starts (see claim_from_list): ceil(sqrt(M)),
 * where scanning E free slots per turn costs about what ~M/E bitmap probes do.
 * tests/bench/bench_maglev measured sqrt(M)/2 .. 1.5 sqrt(M) as equally good
 * and 3 sqrt(M) as 25% slower.
 */
static __u32 mg_tail_len(__u32 m)
{
	__u32 t = 1;

	while ((__u64)t * t < m)
		t++;
	return t;
}

bool xlb_maglev__m_valid(__u32 m)
{
	for (size_t i = 0; i < xlb_maglev_nprimes; i++)
		if (xlb_maglev_primes[i] == m)
			return true;
	return false;
}

const char *xlb_maglev__m_list(char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < xlb_maglev_nprimes && off < len; i++) {
		int r = snprintf(buf + off, len - off, "%s%u", i ? ", " : "", xlb_maglev_primes[i]);

		if (r < 0)
			break;
		off += (size_t)r;
	}
	return buf;
}

struct xlb_maglev_scratch *xlb_maglev_scratch__new(void)
{
	return calloc(1, sizeof(struct xlb_maglev_scratch));
}

void xlb_maglev_scratch__free(struct xlb_maglev_scratch *s)
{
	if (!s)
		return;
	free(s->reals);
	free(s->taken);
	free(s->free_slots);
	free(s);
}

static int scratch_reserve(struct xlb_maglev_scratch *s, size_t n, __u32 m)
{
	size_t words = ((size_t)m + 63) / 64;

	if (n > s->reals_cap) {
		void *p = realloc(s->reals, n * sizeof(*s->reals));

		if (!p)
			return -ENOMEM;
		s->reals = p;
		s->reals_cap = n;
	}
	if (words > s->taken_cap) {
		void *p = realloc(s->taken, words * sizeof(*s->taken));

		if (!p)
			return -ENOMEM;
		s->taken = p;
		s->taken_cap = words;
	}
	if (mg_tail_len(m) > s->free_cap) {
		void *p = realloc(s->free_slots, mg_tail_len(m) * sizeof(*s->free_slots));

		if (!p)
			return -ENOMEM;
		s->free_slots = p;
		s->free_cap = mg_tail_len(m);
	}
	return 0;
}

/* The canonical identity: family byte and 16 address bytes (IPv4 zero-padded). */
static int make_id(__u8 id[17], const union xlb_addr *addr, __u8 family)
{
	memset(id, 0, 17);
	id[0] = family;
	switch (family) {
	case XLB_AF_INET:
		memcpy(id + 1, &addr->v4, 4);
		return 0;
	case XLB_AF_INET6:
		memcpy(id + 1, addr->bytes, 16);
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * offset and skip from two independent hashes of the identity. XXH64's
 * output is specified (xxHash doc/xxhash_spec.md) and has been stable across
 * releases, CPUs and endianness since 0.6: input bytes are read as
 * little-endian words by definition. Identical tables on every LB host depend
 * on that, so neither a home-made hash nor one that may change (std::hash,
 * SipHash keyed per process, jhash variants) is used. The two hash seeds are
 * themselves XXH64 of the configured seed under two fixed constants, with the
 * seed serialised little-endian so that the result does not depend on the
 * host's byte order.
 */
#define MG_SEED_OFFSET 0x786c622d6f666673ULL	/* "xlb-offs" */
#define MG_SEED_SKIP   0x786c622d736b6970ULL	/* "xlb-skip" */

static void derive_seeds(__u64 seed, __u64 *s1, __u64 *s2)
{
	__u8 le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (__u8)(seed >> (8 * i));
	*s1 = XXH64(le, sizeof(le), MG_SEED_OFFSET);
	*s2 = XXH64(le, sizeof(le), MG_SEED_SKIP);
}

static void perm_of(const __u8 id[17], __u32 m, __u64 s1, __u64 s2, __u32 *offset, __u32 *skip)
{
	*offset = (__u32)(XXH64(id, 17, s1) % m);
	*skip = (__u32)(XXH64(id, 17, s2) % (m - 1)) + 1;
}

int xlb_maglev__perm(const union xlb_addr *addr, __u8 family, __u32 m, __u64 seed,
		     __u32 *offset, __u32 *skip)
{
	__u8 id[17];
	__u64 s1, s2;

	if (!addr || !offset || !skip || !xlb_maglev__m_valid(m))
		return -EINVAL;
	if (make_id(id, addr, family))
		return -EINVAL;
	derive_seeds(seed, &s1, &s2);
	perm_of(id, m, s1, s2, offset, skip);
	return 0;
}

static int cmp_real(const void *a, const void *b)
{
	const struct mg_real *x = a, *y = b;

	return memcmp(x->id, y->id, sizeof(x->id));
}

/* skip^-1 mod m (m prime, 0 < skip < m), by the extended Euclidean algorithm. */
static __u32 inverse_mod(__u32 skip, __u32 m)
{
	__s64 t = 0, nt = 1, r = m, nr = skip;

	while (nr) {
		__s64 q = r / nr, tmp;

		tmp = t - q * nt;
		t = nt;
		nt = tmp;
		tmp = r - q * nr;
		r = nr;
		nr = tmp;
	}
	return (__u32)(t < 0 ? t + m : t);
}

/* x mod m for x < 2^64 (Barrett: mu = floor(2^64 / m)), without a division. */
static inline __u32 mod_m(__u64 x, __u32 m, __u64 mu)
{
	__u64 q = (__u64)(((unsigned __int128)x * mu) >> 64);
	__u64 r = x - q * m;

	return (__u32)(r >= m ? r - m : r);
}

/*
 * Tail phase: once few slots are free, a real's next free slot costs ~M/E
 * probes of the bitmap (E free slots), and the last few percent of slots
 * would take most of the build (the probes add up to ~M ln M, most of them
 * near the end). With E small it is cheaper to ask, for each free slot e, how
 * many steps of the real's permutation lie between its position and e:
 * (e - pos) * skip^-1 mod M. The free slot with the fewest steps is exactly
 * the one the probe loop would reach first, so the table is the same.
 */
static __u32 claim_from_list(struct mg_real *r, __u32 *free_slots, __u32 *nfree, __u32 m,
			     __u64 mu)
{
	__u32 pos = r->pos, best_d = ~0u, best_q = 0, slot;

	for (__u32 q = 0; q < *nfree; q++) {
		__u32 e = free_slots[q];
		__u32 diff = e >= pos ? e - pos : e + m - pos;
		__u32 d = mod_m((__u64)diff * r->inv, m, mu);

		if (d < best_d) {
			best_d = d;
			best_q = q;
		}
	}
	slot = free_slots[best_q];
	free_slots[best_q] = free_slots[--*nfree];
	return slot;
}

/* The free slots, ascending, from the bitmap (bits past m are never free). */
static __u32 list_free(const __u64 *taken, __u32 m, __u32 *out)
{
	__u32 n = 0;

	for (__u32 w = 0; w < (m + 63) / 64; w++) {
		__u64 f = ~taken[w];

		if ((__u64)w * 64 + 64 > m)
			f &= (1ULL << (m - w * 64)) - 1;
		while (f) {
			out[n++] = w * 64 + (__u32)__builtin_ctzll(f);
			f &= f - 1;
		}
	}
	return n;
}

static void fill(struct mg_real *rs, size_t k, __u32 wmax, __u32 m,
		 struct xlb_maglev_scratch *s, __u32 *table)
{
	__u64 *taken = s->taken, mu = ~0ULL / m;
	__u32 filled = 0, tail = mg_tail_len(m), nfree = 0;
	bool in_tail = false;

	memset(taken, 0, ((size_t)m + 63) / 64 * sizeof(*taken));
	for (;;) {
		for (size_t i = 0; i < k; i++) {
			struct mg_real *r = &rs[i];
			__u32 pos, skip;

			r->credit += r->weight;
			if (r->credit < wmax)
				continue;
			r->credit -= wmax;

			skip = r->skip;
			if (m - filled > tail) {
				pos = r->pos;
				while (taken[pos >> 6] & (1ULL << (pos & 63))) {
					pos += skip;
					if (pos >= m)
						pos -= m;
				}
				taken[pos >> 6] |= 1ULL << (pos & 63);
			} else {
				if (!in_tail) {
					nfree = list_free(taken, m, s->free_slots);
					for (size_t q = 0; q < k; q++)
						rs[q].inv = inverse_mod(rs[q].skip, m);
					in_tail = true;
				}
				pos = claim_from_list(r, s->free_slots, &nfree, m, mu);
			}
			table[pos] = r->index;
			pos += skip;
			if (pos >= m)
				pos -= m;
			r->pos = pos;
			if (++filled == m)
				return;
		}
	}
}

int xlb_maglev__build_scratch(const struct xlb_maglev_real *reals, size_t n, __u32 m,
			      __u64 seed, __u32 *table_out,
			      struct xlb_maglev_scratch *scratch)
{
	struct xlb_maglev_scratch *s = scratch;
	struct mg_real *rs;
	__u32 wmax = 0;
	__u64 s1, s2;
	size_t i, k;
	int err;

	if (!xlb_maglev__m_valid(m) || !table_out || (n && !reals))
		return -EINVAL;
	if (n > XLB_MAX_REALS)
		return -E2BIG;

	if (!s) {
		s = xlb_maglev_scratch__new();
		if (!s)
			return -ENOMEM;
	}
	err = scratch_reserve(s, n ? n : 1, m);
	if (err)
		goto out;

	rs = s->reals;
	for (i = 0; i < n; i++) {
		err = make_id(rs[i].id, &reals[i].addr, reals[i].family);
		if (err)
			goto out;
		rs[i].weight = reals[i].weight;
		rs[i].index = reals[i].index;
		if (rs[i].weight && rs[i].index == XLB_REAL_NONE) {
			err = -EINVAL;
			goto out;
		}
	}

	/* Input order must not matter: sort by identity, then reject duplicates. */
	qsort(rs, n, sizeof(*rs), cmp_real);
	for (i = 1; i < n; i++) {
		if (!memcmp(rs[i - 1].id, rs[i].id, sizeof(rs[i].id))) {
			err = -EINVAL;
			goto out;
		}
	}

	/* Weight 0 is exactly "absent": it takes no turn and shifts no one. */
	derive_seeds(seed, &s1, &s2);
	for (i = 0, k = 0; i < n; i++) {
		if (!rs[i].weight)
			continue;
		rs[k] = rs[i];
		perm_of(rs[k].id, m, s1, s2, &rs[k].pos, &rs[k].skip);
		rs[k].credit = 0;
		if (rs[k].weight > wmax)
			wmax = rs[k].weight;
		k++;
	}

	if (!k) {
		for (i = 0; i < m; i++)
			table_out[i] = XLB_REAL_NONE;
		goto out;
	}
	fill(rs, k, wmax, m, s, table_out);
out:
	if (s != scratch)
		xlb_maglev_scratch__free(s);
	return err;
}

int xlb_maglev__build(const struct xlb_maglev_real *reals, size_t n, __u32 m,
		      __u64 seed, __u32 *table_out)
{
	return xlb_maglev__build_scratch(reals, n, m, seed, table_out, NULL);
}

size_t xlb_maglev__diff(const __u32 *a, const __u32 *b, __u32 m, __u32 *changed_out)
{
	size_t changed = 0;

	for (__u32 i = 0; i < m; i++) {
		if (a[i] == b[i])
			continue;
		if (changed_out)
			changed_out[changed] = i;
		changed++;
	}
	return changed;
}

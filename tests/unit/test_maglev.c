// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of user/lib/maglev.c: balance, weighted shares, disruption on
 * removal/addition, determinism (input order, hosts), seeds, weight 0,
 * argument validation, the diff helper, and equality with the textbook loop
 * (tests/bench/maglev_naive.h). Each figure is printed before it is asserted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "../lib/test.h"
#include "../bench/maglev_naive.h"

#define M 65537
#define SEED 0x5eed5eed12345678ULL

static __u32 tab_a[1048573], tab_b[1048573];
static unsigned cnt[XLB_MAX_REALS + 2];

/* xorshift64*: a fixed, portable pseudo-random sequence for test inputs. */
static __u64 rng_state = 0x9e3779b97f4a7c15ULL;
static __u64 rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/*
 * Real i: 198.18.0.0/15 for even i, 2001:db8::/32 for odd i, scattered so
 * that sorted order differs from i order; index i + 1; weight w.
 */
static void make_real(struct xlb_maglev_real *r, unsigned i, __u32 w)
{
	memset(r, 0, sizeof(*r));
	if (i % 2 == 0) {
		r->family = XLB_AF_INET;
		r->addr.v4 = htonl(0xc6120000u + ((i * 2654435761u) & 0x1ffff));
	} else {
		r->family = XLB_AF_INET6;
		r->addr.v6[0] = htonl(0x20010db8);
		r->addr.v6[3] = htonl(i * 40503u + 7);
	}
	r->weight = w;
	r->index = i + 1;
}

static void make_reals(struct xlb_maglev_real *r, unsigned n, __u32 w)
{
	for (unsigned i = 0; i < n; i++)
		make_real(&r[i], i, w);
}

/* Slots per index (cnt[index]); returns the number of NONE slots. */
static unsigned count_slots(const __u32 *t, __u32 m)
{
	memset(cnt, 0, sizeof(cnt));
	for (__u32 j = 0; j < m; j++)
		cnt[t[j] < XLB_MAX_REALS + 2 ? t[j] : XLB_MAX_REALS + 1]++;
	return cnt[XLB_REAL_NONE];
}

static void test_balance(void)
{
	static const unsigned ns[] = { 10, 100, 1000 };
	static struct xlb_maglev_real r[1000];

	printf("  balance, equal weights, M = %u:\n", M);
	for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
		unsigned n = ns[t], mn = ~0u, mx = 0;

		make_reals(r, n, 1);
		if (!ASSERT_OK(xlb_maglev__build(r, n, M, SEED, tab_a), "build"))
			return;
		ASSERT_EQ(count_slots(tab_a, M), 0, "empty slots");
		for (unsigned i = 1; i <= n; i++) {
			mn = cnt[i] < mn ? cnt[i] : mn;
			mx = cnt[i] > mx ? cnt[i] : mx;
		}
		printf("    N=%-5u slots/real min %u max %u (ideal %.2f) max/min %.4f\n",
		       n, mn, mx, (double)M / n, (double)mx / mn);
		/*
		 * With equal weights every real takes one turn per round and each
		 * turn claims exactly one slot, so counts are floor(M/N) or
		 * ceil(M/N): max - min <= 1 (max/min 1.0015 for N = 1000).
		 */
		ASSERT_TRUE(mx - mn <= 1, "max - min <= 1 slot");
		ASSERT_EQ(mn, M / n, "min = floor(M/N)");
	}
}

/* Builds with the weights given, prints and checks each real's share against its weight. */
static void check_weights(const char *name, const __u32 *w, unsigned n, __u32 m,
			  double max_rel, double max_slots)
{
	static struct xlb_maglev_real r[XLB_MAX_REALS];
	double sum = 0, worst_rel = 0, worst_slots = 0;

	for (unsigned i = 0; i < n; i++) {
		make_real(&r[i], i, w[i]);
		sum += w[i];
	}
	if (!ASSERT_OK(xlb_maglev__build(r, n, m, SEED, tab_a), "build"))
		return;
	ASSERT_EQ(count_slots(tab_a, m), 0, "empty slots");
	for (unsigned i = 0; i < n; i++) {
		double want = m * (w[i] / sum), got = cnt[i + 1];
		double dslots = got > want ? got - want : want - got;

		if (!w[i]) {
			ASSERT_EQ(cnt[i + 1], 0, "weight 0 has no slot");
			continue;
		}
		if (dslots / want > worst_rel)
			worst_rel = dslots / want;
		if (dslots > worst_slots)
			worst_slots = dslots;
		if (n <= 4)
			printf("    %s: weight %u -> %u slots (%.3f%%, ideal %.3f%%)\n", name, w[i],
			       cnt[i + 1], 100.0 * got / m, 100.0 * w[i] / sum);
	}
	printf("    %s: N=%u M=%u worst share error %.3f%% of the ideal share, %.2f slots\n",
	       name, n, m, 100 * worst_rel, worst_slots);
	ASSERT_TRUE(worst_rel <= max_rel, "relative share error within bound");
	ASSERT_TRUE(worst_slots <= max_slots, "share error in slots within bound");
}

static void test_weighted(void)
{
	static __u32 w[100];

	printf("  weighted shares:\n");
	check_weights("1:2:3", (const __u32[]){ 1, 2, 3 }, 3, M, 0.01, 2);
	check_weights("1:1000", (const __u32[]){ 1, 1000 }, 2, M, 0.05, 2);
	/*
	 * A real's slot count is its number of turns, floor(rounds * w / wmax)
	 * plus at most one from the last, partial round: within ~2 slots of
	 * its ideal whatever the weights. Shares within 1% need >= 200 slots
	 * per real, which the 20-real set has (weights 1..10: >= 550 slots).
	 */
	for (unsigned i = 0; i < 20; i++)
		w[i] = 1 + rng() % 10;
	check_weights("random 1..10", w, 20, M, 0.01, 2);
	for (unsigned i = 0; i < 100; i++)
		w[i] = 1 + rng() % 100;
	check_weights("random 1..100", w, 100, M, 0.20, 2);
	for (unsigned i = 0; i < 100; i++)
		w[i] = rng() % 4 == 0 ? 0 : 1 + rng() % 65535;
	check_weights("random 0..65535", w, 100, 655373, 0.05, 2);
}

/* Scaling every weight by the same factor must not change the table. */
static void test_weight_scale(void)
{
	struct xlb_maglev_real r[3];

	for (unsigned i = 0; i < 3; i++)
		make_real(&r[i], i, i + 1);
	ASSERT_OK(xlb_maglev__build(r, 3, M, SEED, tab_a), "build 1:2:3");
	for (unsigned i = 0; i < 3; i++)
		r[i].weight = (i + 1) * 1000;
	ASSERT_OK(xlb_maglev__build(r, 3, M, SEED, tab_b), "build 1000:2000:3000");
	ASSERT_EQ(xlb_maglev__diff(tab_a, tab_b, M, NULL), 0, "slots differing");
}

/*
 * Disruption: slots that change owner when one real goes (or comes), other
 * than the slots that must change (the removed real's own, or those the new
 * real takes). Minimal disruption would be 0; Maglev trades a little of it
 * for balance (paper, section 5.3). Averaged over several choices of the
 * real removed/added.
 */
static void test_disruption(void)
{
	/* Bounds on the extra fraction, above what was measured (printed below). */
	static const struct { unsigned n; __u32 m; double bound; } cfg[] = {
		{ 10, M, 0.01 }, { 100, M, 0.01 }, { 1000, M, 0.01 }, { 1000, 655373, 0.005 },
	};
	static struct xlb_maglev_real r[1001];
	static __u32 tab_c[1048573];

	printf("  disruption (fraction of all slots; 'own' = the slots that must move):\n");
	for (size_t t = 0; t < sizeof(cfg) / sizeof(cfg[0]); t++) {
		unsigned n = cfg[t].n, trials = 8;
		__u32 m = cfg[t].m;
		double rm_sum = 0, rm_max = 0, add_sum = 0, add_max = 0;

		make_reals(r, n + 1, 1);
		if (!ASSERT_OK(xlb_maglev__build(r, n, m, SEED, tab_a), "build N"))
			return;
		for (unsigned k = 0; k < trials; k++) {
			unsigned victim = (unsigned)(rng() % n), extra = 0;
			struct xlb_maglev_real save = r[victim];

			/* Removal: weight 0 is the same as absent (tested below). */
			r[victim].weight = 0;
			if (!ASSERT_OK(xlb_maglev__build(r, n, m, SEED, tab_b), "build N-1"))
				return;
			r[victim] = save;
			for (__u32 j = 0; j < m; j++)
				extra += tab_a[j] != tab_b[j] && tab_a[j] != save.index;
			rm_sum += (double)extra / m;
			if ((double)extra / m > rm_max)
				rm_max = (double)extra / m;
		}
		/* Addition of one new address to the N reals, several choices. */
		for (unsigned k = 0; k < trials; k++) {
			unsigned extra = 0;

			make_real(&r[n], n + 1 + k * 7919, 1);
			if (!ASSERT_OK(xlb_maglev__build(r, n + 1, m, SEED, tab_c), "build N+1"))
				return;
			for (__u32 j = 0; j < m; j++)
				extra += tab_a[j] != tab_c[j] && tab_c[j] != r[n].index;
			add_sum += (double)extra / m;
			if ((double)extra / m > add_max)
				add_max = (double)extra / m;
		}
		printf("    N=%-5u M=%-6u own %.4f | remove: extra mean %.4f max %.4f | "
		       "add: extra mean %.4f max %.4f (bound %.3f)\n", n, m, 1.0 / n,
		       rm_sum / trials, rm_max, add_sum / trials, add_max, cfg[t].bound);
		ASSERT_TRUE(rm_max <= cfg[t].bound, "extra disruption on removal within bound");
		ASSERT_TRUE(add_max <= cfg[t].bound, "extra disruption on addition within bound");
	}
}

static void test_permutation_invariance(void)
{
	static struct xlb_maglev_real r[1000];
	unsigned n = 1000;

	for (unsigned i = 0; i < n; i++)
		make_real(&r[i], i, 1 + i % 7);
	ASSERT_OK(xlb_maglev__build(r, n, M, SEED, tab_a), "build sorted-ish");
	for (unsigned round = 0; round < 5; round++) {
		for (unsigned i = n - 1; i > 0; i--) {
			unsigned j = (unsigned)(rng() % (i + 1));
			struct xlb_maglev_real tmp = r[i];

			r[i] = r[j];
			r[j] = tmp;
		}
		ASSERT_OK(xlb_maglev__build(r, n, M, SEED, tab_b), "build shuffled");
		ASSERT_MEM_EQ(tab_b, sizeof(__u32) * M, tab_a, sizeof(__u32) * M,
			      "table after shuffling the input");
		if (xlbt_case_failed())
			return;
	}
}

/*
 * Pins the output for one configuration: a change to the hash, the seed
 * derivation or the fill order shows up here (and would make LB hosts of
 * two versions disagree during an upgrade).
 */
static void test_golden(void)
{
	struct xlb_maglev_real r[3];
	union xlb_addr a;
	__u32 off, skip, sum = 0;

	memset(&a, 0, sizeof(a));
	a.v4 = htonl(0xc612000a);	/* 198.18.0.10 */
	ASSERT_OK(xlb_maglev__perm(&a, XLB_AF_INET, M, 0, &off, &skip), "perm");
	printf("  198.18.0.10 seed 0 M %u: offset %u skip %u\n", M, off, skip);
	ASSERT_EQ(off, 33629, "offset");
	ASSERT_EQ(skip, 25924, "skip");
	/* garbage after an IPv4 address is not part of its identity */
	a.v6[2] = 0xffffffff;
	ASSERT_OK(xlb_maglev__perm(&a, XLB_AF_INET, M, 0, &off, &skip), "perm");
	ASSERT_EQ(off, 33629, "offset ignoring bytes 4..15");

	for (unsigned i = 0; i < 3; i++)
		make_real(&r[i], i, i + 1);
	ASSERT_OK(xlb_maglev__build(r, 3, 251, 42, tab_a), "build M=251");
	for (unsigned j = 0; j < 251; j++)
		sum = sum * 31 + tab_a[j];
	printf("  golden table M=251 seed 42: first slots %u %u %u %u %u %u, checksum %u\n",
	       tab_a[0], tab_a[1], tab_a[2], tab_a[3], tab_a[4], tab_a[5], sum);
	ASSERT_EQ(sum, 1374197382u, "checksum of the M=251 table");
}

static void test_seeds(void)
{
	struct xlb_maglev_real r[10];
	size_t d;

	make_reals(r, 10, 1);
	ASSERT_OK(xlb_maglev__build(r, 10, M, 1, tab_a), "seed 1");
	ASSERT_OK(xlb_maglev__build(r, 10, M, 2, tab_b), "seed 2");
	d = xlb_maglev__diff(tab_a, tab_b, M, NULL);
	printf("  seeds 1 vs 2, N=10: %zu of %u slots differ (independent tables: ~%u)\n", d, M,
	       M - M / 10);
	/* Unrelated tables agree on ~1/N of the slots. */
	ASSERT_TRUE(d > M * 8 / 10, "most slots differ");
	ASSERT_OK(xlb_maglev__build(r, 10, M, 1, tab_b), "seed 1 again");
	ASSERT_EQ(xlb_maglev__diff(tab_a, tab_b, M, NULL), 0, "same seed, same table");
}

static void test_weight_zero(void)
{
	struct xlb_maglev_real r[5];

	make_reals(r, 5, 1);
	r[2].weight = 0;
	ASSERT_OK(xlb_maglev__build(r, 5, M, SEED, tab_a), "build with a weight 0");
	count_slots(tab_a, M);
	ASSERT_EQ(cnt[r[2].index], 0, "slots of the weight-0 real");
	/* drained == absent: the same table as without it */
	r[2] = r[4];
	ASSERT_OK(xlb_maglev__build(r, 4, M, SEED, tab_b), "build without it");
	ASSERT_EQ(xlb_maglev__diff(tab_a, tab_b, M, NULL), 0, "slots differing");

	make_reals(r, 5, 0);
	memset(tab_a, 0xff, sizeof(__u32) * M);
	ASSERT_OK(xlb_maglev__build(r, 5, M, SEED, tab_a), "all weights 0");
	ASSERT_EQ(count_slots(tab_a, M), M, "NONE slots, all weights 0");
	memset(tab_a, 0xff, sizeof(__u32) * M);
	ASSERT_OK(xlb_maglev__build(NULL, 0, M, SEED, tab_a), "no reals");
	ASSERT_EQ(count_slots(tab_a, M), M, "NONE slots, no reals");
}

static int is_prime(__u32 p)
{
	if (p < 2)
		return 0;
	for (__u32 d = 2; d * d <= p; d++)
		if (p % d == 0)
			return 0;
	return 1;
}

static void test_m(void)
{
	static const __u32 bad[] = { 0, 1, 2, 3, 250, 65536, 65539, 655371, 1048576, 0xffffffff };
	struct xlb_maglev_real r[2];
	char buf[128];

	make_reals(r, 2, 1);
	for (size_t i = 0; i < xlb_maglev_nprimes; i++) {
		__u32 m = xlb_maglev_primes[i];

		ASSERT_TRUE(is_prime(m), "listed M is prime");
		ASSERT_TRUE(xlb_maglev__m_valid(m), "listed M is valid");
		if (i)
			ASSERT_TRUE(m > xlb_maglev_primes[i - 1], "list ascending");
		ASSERT_OK(xlb_maglev__build(r, 2, m, SEED, tab_a), "build with listed M");
		ASSERT_EQ(count_slots(tab_a, m), 0, "empty slots");
	}
	ASSERT_TRUE(xlb_maglev__m_valid(XLB_RING_SIZE_DEFAULT), "default M valid");
	ASSERT_TRUE(xlb_maglev__m_valid(655373), "655373 valid");
	ASSERT_EQ(xlb_maglev_primes[0], XLB_MAGLEV_M_MIN, "min");
	ASSERT_EQ(xlb_maglev_primes[xlb_maglev_nprimes - 1], XLB_MAGLEV_M_MAX, "max");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_TRUE(!xlb_maglev__m_valid(bad[i]), "bad M invalid");
		ASSERT_EQ(xlb_maglev__build(r, 2, bad[i], SEED, tab_a), -EINVAL, "build bad M");
	}
	ASSERT_STR_EQ(xlb_maglev__m_list(buf, sizeof(buf)),
		      "251, 1021, 4093, 16381, 65537, 131071, 262147, 524287, 655373, 1048573",
		      "m_list");
}

static void test_invalid(void)
{
	static struct xlb_maglev_real big[XLB_MAX_REALS + 1];
	struct xlb_maglev_real r[4];

	make_reals(r, 4, 1);
	memset(tab_a, 0xab, sizeof(__u32) * M);

	r[3].addr = r[1].addr;
	r[3].family = r[1].family;
	ASSERT_EQ(xlb_maglev__build(r, 4, M, SEED, tab_a), -EINVAL, "duplicate address");
	r[3].weight = 0;
	ASSERT_EQ(xlb_maglev__build(r, 4, M, SEED, tab_a), -EINVAL, "duplicate, weight 0");

	/* IPv4 identity ignores bytes 4..15: still the same real */
	make_reals(r, 4, 1);
	r[3].addr = r[0].addr;
	r[3].family = r[0].family;
	r[3].addr.v6[3] = 0x1234;
	ASSERT_EQ(xlb_maglev__build(r, 4, M, SEED, tab_a), -EINVAL, "duplicate IPv4, junk tail");

	make_reals(r, 4, 1);
	r[1].family = 5;
	ASSERT_EQ(xlb_maglev__build(r, 4, M, SEED, tab_a), -EINVAL, "bad family");
	r[1].family = XLB_AF_NONE;
	ASSERT_EQ(xlb_maglev__build(r, 4, M, SEED, tab_a), -EINVAL, "family none");

	make_reals(r, 4, 1);
	r[2].index = XLB_REAL_NONE;
	ASSERT_EQ(xlb_maglev__build(r, 4, M, SEED, tab_a), -EINVAL, "index NONE with weight");
	r[2].weight = 0;
	ASSERT_OK(xlb_maglev__build(r, 4, M, SEED, tab_b), "index NONE, weight 0 is fine");

	make_reals(r, 4, 1);
	ASSERT_EQ(xlb_maglev__build(NULL, 4, M, SEED, tab_a), -EINVAL, "NULL reals");
	ASSERT_EQ(xlb_maglev__build(r, 4, M, SEED, NULL), -EINVAL, "NULL table");
	ASSERT_EQ(xlb_maglev__build(big, XLB_MAX_REALS + 1, M, SEED, tab_a), -E2BIG, "too many");

	/* nothing written on error */
	for (__u32 j = 0; j < M; j++)
		if (!ASSERT_EQ(tab_a[j], 0xabababab, "table untouched on error"))
			break;
}

static void test_same_as_textbook(void)
{
	static struct xlb_maglev_real r[1000];
	static const struct { unsigned n; __u32 m; int weighted; } cfg[] = {
		{ 1, 251, 0 }, { 3, 251, 1 }, { 10, M, 0 }, { 100, M, 1 }, { 1000, M, 0 },
		{ 1000, M, 1 }, { 250, 251, 0 }, { 300, 251, 1 }, { 100, 655373, 1 },
	};

	for (size_t c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		for (unsigned i = 0; i < cfg[c].n; i++)
			make_real(&r[i], i, cfg[c].weighted ? (__u32)(rng() % 50) : 1);
		ASSERT_OK(xlb_maglev__build(r, cfg[c].n, cfg[c].m, SEED + c, tab_a), "build");
		ASSERT_OK(maglev_naive_build(r, cfg[c].n, cfg[c].m, SEED + c, tab_b), "naive");
		if (!ASSERT_EQ(xlb_maglev__diff(tab_a, tab_b, cfg[c].m, NULL), 0,
			       "slots differing from the textbook loop"))
			printf("    config n=%u m=%u weighted=%d\n", cfg[c].n, cfg[c].m,
			       cfg[c].weighted);
	}
}

static void test_scratch(void)
{
	static struct xlb_maglev_real r[1000];
	struct xlb_maglev_scratch *s = xlb_maglev_scratch__new();
	static const unsigned ns[] = { 3, 1000, 10 };
	static const __u32 ms[] = { 251, 655373, M };

	if (!ASSERT_TRUE(s != NULL, "scratch"))
		return;
	for (size_t k = 0; k < 3; k++) {
		make_reals(r, ns[k], 1);
		ASSERT_OK(xlb_maglev__build_scratch(r, ns[k], ms[k], SEED, tab_a, s), "scratch");
		ASSERT_OK(xlb_maglev__build(r, ns[k], ms[k], SEED, tab_b), "no scratch");
		ASSERT_EQ(xlb_maglev__diff(tab_a, tab_b, ms[k], NULL), 0, "same table");
	}
	xlb_maglev_scratch__free(s);
}

static void test_diff(void)
{
	static __u32 slots[M];
	__u32 a[6] = { 1, 2, 3, 4, 5, 6 }, b[6] = { 1, 9, 3, 4, 9, 9 };

	ASSERT_EQ(xlb_maglev__diff(a, b, 6, slots), 3, "changed");
	ASSERT_EQ(slots[0], 1, "slot");
	ASSERT_EQ(slots[1], 4, "slot");
	ASSERT_EQ(slots[2], 5, "slot");
	ASSERT_EQ(xlb_maglev__diff(a, a, 6, slots), 0, "unchanged");
}

int main(void)
{
	XLBT_RUN(test_balance);
	XLBT_RUN(test_weighted);
	XLBT_RUN(test_weight_scale);
	XLBT_RUN(test_disruption);
	XLBT_RUN(test_permutation_invariance);
	XLBT_RUN(test_golden);
	XLBT_RUN(test_seeds);
	XLBT_RUN(test_weight_zero);
	XLBT_RUN(test_m);
	XLBT_RUN(test_invalid);
	XLBT_RUN(test_same_as_textbook);
	XLBT_RUN(test_scratch);
	XLBT_RUN(test_diff);
	return xlbt_finish("unit/maglev");
}

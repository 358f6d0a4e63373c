// SPDX-License-Identifier: GPL-2.0-only
/*
 * Maglev table build time: xlb_maglev__build (with reused scratch, as xlbd
 * calls it) against the textbook populate loop of tests/bench/maglev_naive.h
 * in the same run, for M = 65537 and 655373 and N = 10, 100, 1000 reals.
 * Prints the median of several runs of each, their ratio, and the paper's
 * figures for N = 1000 as reference lines (NSDI 2016, section 5.3: 1.8 ms
 * for M = 65537 and 22.9 ms for M = 655373, on their hardware). Both
 * implementations must produce the same table, or the run fails.
 *
 *   bench_maglev [--quick] [--runs N]
 *
 * --quick: M = 65537 with N = 10 and 100, 3 runs: a smoke run for make check.
 * One machine-readable line per configuration:
 *   XLB-BENCH maglev m=65537 n=1000 w=equal runs=11 xlb_ms=... baseline_ms=... speedup=...
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maglev.h"
#include "maglev_naive.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Reals like a VIP's: addresses in 198.18.0.0/15, indices 1..n. */
static void make_reals(struct xlb_maglev_real *r, unsigned n, int weighted)
{
	__u64 x = 0x9e3779b97f4a7c15ULL;

	memset(r, 0, n * sizeof(*r));
	for (unsigned i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		r[i].family = XLB_AF_INET;
		r[i].addr.v4 = htonl(0xc6120000u + ((i * 2654435761u) & 0x1ffff));
		r[i].weight = weighted ? 1 + (__u32)(x % 100) : 1;
		r[i].index = i + 1;
	}
}

int main(int argc, char **argv)
{
	static const struct { __u32 m; unsigned n; int weighted; double paper_ms; } all[] = {
		{ 65537, 10, 0, 0 }, { 65537, 100, 0, 0 }, { 65537, 1000, 0, 1.8 },
		{ 65537, 1000, 1, 0 },
		{ 655373, 10, 0, 0 }, { 655373, 100, 0, 0 }, { 655373, 1000, 0, 22.9 },
		{ 655373, 1000, 1, 0 },
	};
	static const struct { __u32 m; unsigned n; int weighted; double paper_ms; } quick[] = {
		{ 65537, 10, 0, 0 }, { 65537, 100, 0, 0 },
	};
	static struct xlb_maglev_real reals[1000];
	struct xlb_maglev_scratch *s;
	__u32 *ta, *tb;
	int runs = 11, is_quick = 0, bad = 0;
	size_t ncfg;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			is_quick = 1;
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			runs = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: %s [--quick] [--runs N]\n", argv[0]);
			return 2;
		}
	}
	if (is_quick)
		runs = 3;
	if (runs < 1 || runs > 1000) {
		fprintf(stderr, "--runs: 1..1000\n");
		return 2;
	}
	ncfg = is_quick ? sizeof(quick) / sizeof(quick[0]) : sizeof(all) / sizeof(all[0]);

	s = xlb_maglev_scratch__new();
	ta = malloc(sizeof(__u32) * XLB_MAGLEV_M_MAX);
	tb = malloc(sizeof(__u32) * XLB_MAGLEV_M_MAX);
	if (!s || !ta || !tb) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}

	printf("Maglev table build, median of %d runs (ms); baseline = textbook loop "
	       "(modulo per probe, int entry[] as 'taken')\n", runs);
	printf("%8s %5s %-8s %10s %12s %8s %10s\n", "M", "N", "weights", "xlb", "baseline",
	       "speedup", "paper");
	for (size_t c = 0; c < ncfg; c++) {
		__u32 m = is_quick ? quick[c].m : all[c].m;
		unsigned n = is_quick ? quick[c].n : all[c].n;
		int weighted = is_quick ? quick[c].weighted : all[c].weighted;
		double paper = is_quick ? quick[c].paper_ms : all[c].paper_ms;
		double tx[1000], tn[1000], mx, mn;
		char pbuf[16] = "-";

		make_reals(reals, n, weighted);
		/* warm up caches and scratch, and check both agree */
		if (xlb_maglev__build_scratch(reals, n, m, 1, ta, s) ||
		    maglev_naive_build(reals, n, m, 1, tb) ||
		    xlb_maglev__diff(ta, tb, m, NULL)) {
			fprintf(stderr, "M=%u N=%u: build failed or tables differ\n", m, n);
			bad = 1;
			continue;
		}
		for (int r = 0; r < runs; r++) {
			double t0 = now_ms();

			xlb_maglev__build_scratch(reals, n, m, 1, ta, s);
			tx[r] = now_ms() - t0;
			t0 = now_ms();
			maglev_naive_build(reals, n, m, 1, tb);
			tn[r] = now_ms() - t0;
		}
		mx = median(tx, runs);
		mn = median(tn, runs);
		if (paper)
			snprintf(pbuf, sizeof(pbuf), "%.1f", paper);
		printf("%8u %5u %-8s %10.3f %12.3f %7.2fx %10s\n", m, n,
		       weighted ? "1..100" : "equal", mx, mn, mn / mx, pbuf);
		printf("XLB-BENCH maglev m=%u n=%u w=%s runs=%d xlb_ms=%.4f baseline_ms=%.4f "
		       "speedup=%.2f%s%s\n", m, n, weighted ? "random" : "equal", runs, mx, mn,
		       mn / mx, paper ? " paper_ms=" : "", paper ? pbuf : "");
	}
	printf("tables identical to the baseline: %s\n", bad ? "NO" : "yes");

	xlb_maglev_scratch__free(s);
	free(ta);
	free(tb);
	return bad;
}

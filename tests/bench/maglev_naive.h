/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The textbook Maglev populate loop (NSDI 2016, section 3.4, "Pseudocode 1"),
 * with the same weighting, sorting and hashes as user/lib/maglev.c, written
 * as plainly as the paper: permutation[i][next[i]] computed as
 * (offset + next * skip) % M on every probe and entry[] (one int per slot,
 * -1 = empty) as the "taken" test. Its table must be byte-identical to
 * xlb_maglev__build's: tests/unit/test_maglev.c checks that, and
 * tests/bench/bench_maglev.c uses it as the same-run baseline.
 * Header-only (static) because it belongs to the tests, not to libxlb.
 */
#ifndef XLB_MAGLEV_NAIVE_H
#define XLB_MAGLEV_NAIVE_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"

struct naive_real {
	__u8 id[17];
	__u32 weight, index, offset, skip;
	__u64 next, credit;
};

static int naive_cmp(const void *a, const void *b)
{
	return memcmp(((const struct naive_real *)a)->id, ((const struct naive_real *)b)->id, 17);
}

static __attribute__((unused)) int
maglev_naive_build(const struct xlb_maglev_real *reals, size_t n, __u32 m, __u64 seed,
		   __u32 *table)
{
	struct naive_real *r = calloc(n ? n : 1, sizeof(*r));
	int *entry = malloc((size_t)m * sizeof(*entry));
	__u32 wmax = 0, filled = 0;
	union xlb_addr a;
	size_t i, k = 0;
	int err = 0;

	if (!r || !entry) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		r[i].id[0] = reals[i].family;
		memcpy(r[i].id + 1, reals[i].addr.bytes, reals[i].family == XLB_AF_INET ? 4 : 16);
		r[i].weight = reals[i].weight;
		r[i].index = reals[i].index;
	}
	qsort(r, n, sizeof(*r), naive_cmp);
	for (i = 0; i < n; i++) {
		if (!r[i].weight)
			continue;
		r[k] = r[i];
		memset(&a, 0, sizeof(a));
		memcpy(a.bytes, r[k].id + 1, 16);
		err = xlb_maglev__perm(&a, r[k].id[0], m, seed, &r[k].offset, &r[k].skip);
		if (err)
			goto out;
		if (r[k].weight > wmax)
			wmax = r[k].weight;
		k++;
	}
	if (!k) {
		for (i = 0; i < m; i++)
			table[i] = XLB_REAL_NONE;
		goto out;
	}

	for (i = 0; i < m; i++)
		entry[i] = -1;
	for (;;) {
		for (i = 0; i < k; i++) {
			__u64 c;

			r[i].credit += r[i].weight;
			if (r[i].credit < wmax)
				continue;
			r[i].credit -= wmax;
			c = (r[i].offset + r[i].next * r[i].skip) % m;
			while (entry[c] >= 0) {
				r[i].next++;
				c = (r[i].offset + r[i].next * r[i].skip) % m;
			}
			entry[c] = (int)i;
			r[i].next++;
			if (++filled == m)
				goto done;
		}
	}
done:
	for (i = 0; i < m; i++)
		table[i] = r[entry[i]].index;
out:
	free(r);
	free(entry);
	return err;
}

#endif /* XLB_MAGLEV_NAIVE_H */

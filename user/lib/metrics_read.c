// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading the balancer's per-CPU counter rows and summing them over the
 * possible CPUs. Per-VIP and per-real rows are fetched with
 * BPF_MAP_LOOKUP_BATCH over the range of indices in use, in chunks of
 * BATCH_CHUNK rows (one syscall per chunk instead of one per row); per-key
 * lookups remain for sparse index sets and for kernels that refuse batch
 * ops on arrays. tests/bench/bench_metrics.c measures both (README
 * "Metrics" has figures).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "metrics_priv.h"

/*
 * AUTO reads a range by batch when it holds at most this many rows per
 * wanted row: a batched row costs about a third of a lookup syscall
 * (bench_metrics, 51200 rows of 2 CPUs: 5.2 ms by batch, 15.2 ms by key),
 * so reading up to twice as many rows by batch still wins.
 */
#define BATCH_SPAN_FACTOR 2

/* Adds the ncpus per-CPU copies of one row (words __u64 fields) into sum. */
void xlb_metrics_sum_row(__u64 *sum, const __u64 *percpu, unsigned int words, int ncpus)
{
	unsigned int w;
	int c;

	for (w = 0; w < words; w++)
		sum[w] = 0;
	for (c = 0; c < ncpus; c++, percpu += words)
		for (w = 0; w < words; w++)
			sum[w] += percpu[w];
}

static bool batch_unsupported(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUP || err == -524 /* ENOTSUPP */;
}

/*
 * Rows [lo, hi] of a per-CPU array by batch: sums (rows of words __u64) and
 * ok flags for every row in the range.
 */
static int read_range_batch(struct xlb_metrics *m, int fd, unsigned int words, __u32 lo,
			    __u32 hi, __u64 *sums, bool *ok)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	size_t row = (size_t)words * 8 * m->ncpus;
	__u32 prev, next, count, i, start = lo;
	unsigned int rounds = 0;
	int err;

	while (start <= hi) {
		/* bounded: each round advances start by at least one row or stops */
		if (++rounds > (hi - lo) + 2)
			return -EIO;
		count = hi - start + 1;
		if (count > BATCH_CHUNK)
			count = BATCH_CHUNK;
		/* arrays batch from the key after in_batch; NULL starts at 0 */
		prev = start - 1;
		err = bpf_map_lookup_batch(fd, start ? &prev : NULL, &next, m->keys, m->vals, &count,
					   &bopts);
		if (err && err != -ENOENT)
			return err;
		for (i = 0; i < count; i++) {
			__u32 k = m->keys[i];

			if (k < lo || k > hi)
				continue;
			xlb_metrics_sum_row(sums + (size_t)k * words,
					    (const __u64 *)((char *)m->vals + i * row), words,
					    m->ncpus);
			ok[k] = true;
		}
		if (err == -ENOENT || !count)
			break;	/* end of the map */
		start = m->keys[count - 1] + 1;
		if (start == 0)
			break;	/* wrapped: key 0xffffffff read */
	}
	return 0;
}

static int read_keys(struct xlb_metrics *m, int fd, unsigned int words, const __u32 *idx,
		     size_t n, __u64 *sums, bool *ok)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = bpf_map_lookup_elem(fd, &idx[i], m->vals);
		if (err == -ENOENT)
			continue;	/* past max_entries: not read, left out */
		if (err)
			return err;
		xlb_metrics_sum_row(sums + (size_t)idx[i] * words, m->vals, words, m->ncpus);
		ok[idx[i]] = true;
	}
	return 0;
}

/*
 * Reads the rows idx[0..n) (all < max) of a per-CPU array into sums/ok,
 * by batch or by key per m->opts.lookup.
 */
int xlb_metrics_read_rows(struct xlb_metrics *m, int fd, unsigned int words, __u32 max,
			  const __u32 *idx, size_t n, __u64 *sums, bool *ok)
{
	__u32 lo = UINT32_MAX, hi = 0;
	bool batch;
	size_t i;
	int err;

	memset(ok, 0, (size_t)max * sizeof(*ok));
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		if (idx[i] < lo)
			lo = idx[i];
		if (idx[i] > hi)
			hi = idx[i];
	}
	switch (m->opts.lookup) {
	case XLB_METRICS_LOOKUP_BATCH:
		batch = true;
		break;
	case XLB_METRICS_LOOKUP_PER_KEY:
		batch = false;
		break;
	default:
		batch = (__u64)(hi - lo + 1) <= (__u64)n * BATCH_SPAN_FACTOR;
		break;
	}
	if (batch && !m->no_batch) {
		err = read_range_batch(m, fd, words, lo, hi, sums, ok);
		if (!err || !batch_unsupported(err))
			return err;
		pr_info("metrics: batch lookups refused (%s): reading by key\n", strerror(-err));
		m->no_batch = true;
	}
	return read_keys(m, fd, words, idx, n, sums, ok);
}

int xlb_metrics_want_idx(struct xlb_metrics *m, size_t n)
{
	__u32 *nidx;

	if (n <= m->idx_cap)
		return 0;
	nidx = realloc(m->idx, n * sizeof(*nidx));
	if (!nidx)
		return -ENOMEM;
	m->idx = nidx;
	m->idx_cap = n;
	return 0;
}

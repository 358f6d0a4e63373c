/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals shared by metrics.c (map reads, rendering), metrics_flows.c
 * (flow-table sampling) and metrics_http.c (server). Not for other users.
 */
#ifndef XLB_METRICS_PRIV_H
#define XLB_METRICS_PRIV_H

#include <stdlib.h>
#include <time.h>

#include "metrics.h"

struct xlb_metrics {
	struct xlb_metrics_maps maps;
	struct xlb_metrics_opts opts;
	int ncpus;			/* libbpf_num_possible_cpus() */
	bool no_batch;			/* kernel refused BPF_MAP_LOOKUP_BATCH: per key only */

	/* max_entries and kernel name of each map (0 / "" when absent) */
	__u32 stats_max, vip_max, real_max, flows_max;
	char stats_name[16], vip_name[16], real_name[16], flows_name[16];

	/* per-render sums, indexed by row */
	__u64 *stat_sum;		/* [stats_max] */
	bool *stat_ok;			/* [stats_max]: row read */
	struct xlb_vip_stats *vip_sum;	/* [vip_max] */
	struct xlb_real_stats *real_sum;	/* [real_max] */
	bool *vip_ok, *real_ok;		/* row read this render */

	/* scratch for lookups: keys and per-CPU values of one batch */
	__u32 *idx;			/* wanted indices */
	size_t idx_cap;
	void *vals;
	size_t vals_sz;
	__u32 *keys;

	/* flow sampling (metrics_flows.c) */
	__u64 *active;			/* [vip_max] active flows per VIP, last completed walk */
	__u64 flow_entries;		/* entries seen by the last walk */
	__u64 flow_sample_ns;		/* CLOCK_MONOTONIC at its end; 0 = none yet */
	double flow_sample_s;		/* its cost: sum of its steps' durations */
	__u64 *walk_active;		/* [vip_max] counts of the walk in progress */
	__u64 walk_entries;		/* entries seen so far by it */
	__u64 walk_start_ns;		/* when it started (window reference); 0 = no walk */
	__u64 walk_next_ns;		/* when its next step is due / the next walk starts */
	double walk_s;			/* its cost so far */
	__u32 walk_token;		/* batch position (hash bucket) */
	bool walk_first;		/* next batch starts from the beginning */
	void *fkeys, *fvals;		/* batch buffers */
	__u32 fchunk;			/* entries per batch */

	double render_s;		/* duration of the last render */
	size_t size_hint;		/* length of the last scrape, to reserve up front */
	struct xlb_prom scratch;	/* label escaping */
	struct xlb_prom labels;		/* escaped label sets of one render */
};

static inline __u64 xlb_metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#define BATCH_CHUNK 1024	/* rows per BPF_MAP_LOOKUP_BATCH call */

/* metrics_read.c */
/* Adds the ncpus per-CPU copies of one row (words __u64 fields) into sum. */
void xlb_metrics_sum_row(__u64 *sum, const __u64 *percpu, unsigned int words, int ncpus);
/*
 * Reads the rows idx[0..n) (all < max) of a per-CPU array into sums/ok,
 * by batch or by key per m->opts.lookup.
 */
int xlb_metrics_read_rows(struct xlb_metrics *m, int fd, unsigned int words, __u32 max,
			  const __u32 *idx, size_t n, __u64 *sums, bool *ok);
/* Room for n indices in m->idx. */
int xlb_metrics_want_idx(struct xlb_metrics *m, size_t n);

/* metrics_flows.c */
int xlb_metrics_flows_init(struct xlb_metrics *m);
void xlb_metrics_flows_free(struct xlb_metrics *m);

/* free() a table and forget it, so that freeing twice is harmless. */
#define free_null(p)		\
	do {			\
		free(p);	\
		(p) = NULL;	\
	} while (0)

#endif /* XLB_METRICS_PRIV_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Active flows per VIP, estimated from the flow table (xlb_flows, an LRU
 * hash of struct xlb_flow). The data path refreshes a flow's atime_ns at most
 * once a second, so "used within the last W seconds" (W = 60 by default) is
 * a fair count of live connections: established TCP flows that idle longer
 * than W, and flows the LRU evicted, are not counted; closed TCP flows count
 * until W has passed (the data path does not track FIN/RST).
 *
 * The whole table is walked with BPF_MAP_LOOKUP_BATCH (FLOW_CHUNK entries a
 * syscall), at most once per flow_interval_ms (10 s by default): walking
 * 262144 entries takes tens of ms (bench_metrics prints the figure), too
 * much for every scrape of a busy table, fine every 10 s. The timestamp is
 * bpf_ktime_get_coarse_ns() on the BPF side, CLOCK_MONOTONIC here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <xlb/abi.h>

#include "log.h"
#include "metrics_priv.h"

#define FLOW_CHUNK 8192		/* entries per batch: 8192 * (40 + 16) B = 448 KiB of buffers */
#define FLOW_CHUNK_MAX 65536	/* grown to on ENOSPC (a hash bucket larger than the chunk) */

static __u32 active_rows(const struct xlb_metrics *m)
{
	return m->vip_max ? m->vip_max : XLB_MAX_VIPS;
}

int xlb_metrics_flows_init(struct xlb_metrics *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err;

	m->flow_sample_ns = 0;
	m->flow_entries = 0;
	if (m->maps.flows_fd < 0)
		return 0;
	err = bpf_obj_get_info_by_fd(m->maps.flows_fd, &info, &len);
	if (err)
		return err;
	if (info.key_size != sizeof(struct xlb_flow_key) ||
	    info.value_size != sizeof(struct xlb_flow) ||
	    (info.type != BPF_MAP_TYPE_LRU_HASH && info.type != BPF_MAP_TYPE_HASH)) {
		pr_warn("metrics: %s is not a flow table (type %u, key %u B, value %u B)\n",
			info.name, info.type, info.key_size, info.value_size);
		return -EINVAL;
	}
	m->active = calloc(active_rows(m), sizeof(*m->active));
	m->fchunk = FLOW_CHUNK;
	m->fkeys = malloc((size_t)m->fchunk * sizeof(struct xlb_flow_key));
	m->fvals = malloc((size_t)m->fchunk * sizeof(struct xlb_flow));
	if (!m->active || !m->fkeys || !m->fvals)
		return -ENOMEM;
	return 0;
}

void xlb_metrics_flows_free(struct xlb_metrics *m)
{
	free(m->active);
	free(m->fkeys);
	free(m->fvals);
	m->active = NULL;
	m->fkeys = NULL;
	m->fvals = NULL;
	m->flow_sample_ns = 0;
}

static int grow_chunk(struct xlb_metrics *m)
{
	__u32 n = m->fchunk * 2;
	void *k, *v;

	if (n > FLOW_CHUNK_MAX)
		return -ENOSPC;
	k = realloc(m->fkeys, (size_t)n * sizeof(struct xlb_flow_key));
	if (!k)
		return -ENOMEM;
	m->fkeys = k;
	v = realloc(m->fvals, (size_t)n * sizeof(struct xlb_flow));
	if (!v)
		return -ENOMEM;
	m->fvals = v;
	m->fchunk = n;
	return 0;
}

static void count_flow(const struct xlb_flow *f, __u64 *active, __u32 rows, __u64 now,
		       __u64 window)
{
	/* atime may run a tick ahead of now (coarse vs fine clock): active */
	if (f->vip < rows && f->atime_ns + window >= now)
		active[f->vip]++;
}

static int walk_batch(struct xlb_metrics *m, __u64 *active, __u32 rows, __u64 now, __u64 window,
		      __u64 *entries)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	__u32 token = 0, count, i;
	unsigned long rounds = 0;
	bool first = true;
	int err;

	/* bounded: every round returns at least one entry or ends the walk */
	while (rounds++ < (unsigned long)m->flows_max + 2) {
		count = m->fchunk;
		err = bpf_map_lookup_batch(m->maps.flows_fd, first ? NULL : &token, &token,
					   m->fkeys, m->fvals, &count, &bopts);
		if (err == -ENOSPC && !count) {
			err = grow_chunk(m);
			if (err)
				return err;
			continue;
		}
		if (err && err != -ENOENT)
			return err;
		first = false;
		for (i = 0; i < count; i++)
			count_flow((const struct xlb_flow *)m->fvals + i, active, rows, now, window);
		*entries += count;
		if (err == -ENOENT)
			return 0;
	}
	return -EIO;
}

/* Fallback and comparison: get_next_key + lookup, two syscalls per entry. */
static int walk_keys(struct xlb_metrics *m, __u64 *active, __u32 rows, __u64 now, __u64 window,
		     __u64 *entries)
{
	struct xlb_flow_key key, next;
	struct xlb_flow f;
	unsigned long rounds = 0;
	bool first = true;
	int err;

	while (rounds++ < 2UL * m->flows_max + 2) {
		err = bpf_map_get_next_key(m->maps.flows_fd, first ? NULL : &key, &next);
		if (err == -ENOENT)
			return 0;
		if (err)
			return err;
		first = false;
		key = next;
		if (bpf_map_lookup_elem(m->maps.flows_fd, &key, &f))
			continue;	/* evicted meanwhile */
		count_flow(&f, active, rows, now, window);
		(*entries)++;
	}
	return 0;
}

int xlb_metrics__sample_flows(struct xlb_metrics *m)
{
	__u64 t0, window = (__u64)m->opts.flow_window_s * 1000000000ULL, entries = 0;
	__u32 rows = active_rows(m);
	__u64 *active;
	int err;

	if (m->maps.flows_fd < 0 || !m->active)
		return -EBADF;
	/* count into a fresh array so that a failed walk keeps the last sample */
	active = calloc(rows, sizeof(*active));
	if (!active)
		return -ENOMEM;
	t0 = xlb_metrics_now_ns();
	if (m->opts.lookup == XLB_METRICS_LOOKUP_PER_KEY || m->no_batch) {
		err = walk_keys(m, active, rows, t0, window, &entries);
	} else {
		err = walk_batch(m, active, rows, t0, window, &entries);
		if (err == -EINVAL || err == -EOPNOTSUPP || err == -524 /* ENOTSUPP */) {
			memset(active, 0, rows * sizeof(*active));
			entries = 0;
			err = walk_keys(m, active, rows, t0, window, &entries);
		}
	}
	if (err) {
		pr_warn("metrics: sampling %s: %s\n", m->flows_name, strerror(-err));
		free(active);
		return err;
	}
	free(m->active);
	m->active = active;
	m->flow_entries = entries;
	m->flow_sample_ns = xlb_metrics_now_ns();
	m->flow_sample_s = (double)(m->flow_sample_ns - t0) / 1e9;
	return 0;
}

__u64 xlb_metrics__active_flows(const struct xlb_metrics *m, __u32 vip)
{
	if (!m->flow_sample_ns || !m->active || vip >= active_rows(m))
		return 0;
	return m->active[vip];
}

__u64 xlb_metrics__flow_entries(const struct xlb_metrics *m)
{
	return m->flow_entries;
}

double xlb_metrics__flow_sample_seconds(const struct xlb_metrics *m)
{
	return m->flow_sample_s;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Active flows per VIP, estimated from the flow table (xlb_flows, an LRU
 * hash of struct xlb_flow). The data path refreshes a flow's atime_ns at most
 * once a second, so "used within the last W seconds" (W = 60 by default) is
 * a fair count of live connections: established TCP flows that idle longer
 * than W, and flows the LRU evicted, are not counted; closed TCP flows count
 * until W has passed (the data path does not track FIN/RST).
 *
 * The table is walked with BPF_MAP_LOOKUP_BATCH (FLOW_CHUNK entries a
 * syscall). The kernel's side dominates (~0.27 us an entry here: a bucket
 * lock and two copies per bucket), so 262144 entries take ~70 ms however
 * large the batches: too long to hold the daemon's loop at once. A walk is
 * therefore cut into steps of flow_step entries (~4 ms), XLB_METRICS_
 * FLOW_STEP_GAP_MS apart, and starts every flow_interval_ms (10 s), which
 * costs under 1% of a core for a full table. The timestamp is
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

#define FLOW_CHUNK 4096		/* entries per batch: 4096 * (40 + 16) B = 224 KiB of buffers */
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
	m->walk_active = calloc(active_rows(m), sizeof(*m->walk_active));
	m->walk_start_ns = 0;
	m->walk_next_ns = 0;
	/* a step is whole batches: smaller steps read smaller batches */
	m->fchunk = m->opts.flow_step < FLOW_CHUNK ? m->opts.flow_step : FLOW_CHUNK;
	m->fkeys = malloc((size_t)m->fchunk * sizeof(struct xlb_flow_key));
	m->fvals = malloc((size_t)m->fchunk * sizeof(struct xlb_flow));
	if (!m->active || !m->walk_active || !m->fkeys || !m->fvals)
		return -ENOMEM;
	return 0;
}

void xlb_metrics_flows_free(struct xlb_metrics *m)
{
	free_null(m->active);
	free_null(m->walk_active);
	free_null(m->fkeys);
	free_null(m->fvals);
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

/*
 * Reads batches of the walk in progress until budget entries were read or
 * the table ended (*done). The batch token (a hash bucket) persists in m
 * between steps, so the walk resumes where the last step stopped; flows that
 * move meanwhile may be missed or seen twice, which an estimate tolerates.
 */
static int walk_batches(struct xlb_metrics *m, __u64 budget, __u64 now, bool *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bopts);
	__u64 window = (__u64)m->opts.flow_window_s * 1000000000ULL, read = 0;
	__u32 rows = active_rows(m), count, i;
	unsigned long rounds = 0;
	int err;

	*done = false;
	/*
	 * Whole batches while they fit in the budget (at least one). Bounded:
	 * each round reads at least one entry, grows the buffer or ends.
	 */
	while ((!read || read + m->fchunk <= budget) &&
	       rounds++ < (unsigned long)m->flows_max + 64) {
		count = m->fchunk;
		err = bpf_map_lookup_batch(m->maps.flows_fd, m->walk_first ? NULL : &m->walk_token,
					   &m->walk_token, m->fkeys, m->fvals, &count, &bopts);
		if (err == -ENOSPC && !count) {
			err = grow_chunk(m);
			if (err)
				return err;
			continue;
		}
		if (err && err != -ENOENT)
			return err;
		m->walk_first = false;
		for (i = 0; i < count; i++)
			count_flow((const struct xlb_flow *)m->fvals + i, m->walk_active, rows, now,
				   window);
		m->walk_entries += count;
		read += count;
		if (err == -ENOENT || !count) {
			*done = true;
			return 0;
		}
	}
	/* a table that keeps growing under the walk cannot hold it forever */
	if (m->walk_entries > 4ULL * m->flows_max + FLOW_CHUNK_MAX)
		return -EIO;
	return 0;
}

/* Fallback and comparison: get_next_key + lookup, two syscalls per entry, all at once. */
static int walk_keys(struct xlb_metrics *m, __u64 now)
{
	__u64 window = (__u64)m->opts.flow_window_s * 1000000000ULL;
	struct xlb_flow_key key, next;
	__u32 rows = active_rows(m);
	unsigned long rounds = 0;
	struct xlb_flow f;
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
		count_flow(&f, m->walk_active, rows, now, window);
		m->walk_entries++;
	}
	return 0;
}

static void walk_begin(struct xlb_metrics *m, __u64 now)
{
	memset(m->walk_active, 0, active_rows(m) * sizeof(*m->walk_active));
	m->walk_entries = 0;
	m->walk_s = 0;
	m->walk_first = true;
	m->walk_token = 0;
	m->walk_start_ns = now;
}

static void walk_publish(struct xlb_metrics *m, __u64 now)
{
	__u64 *t = m->active;
	__u64 next = m->walk_start_ns + (__u64)m->opts.flow_interval_ms * 1000000ULL;

	m->active = m->walk_active;
	m->walk_active = t;
	m->flow_entries = m->walk_entries;
	m->flow_sample_ns = now;
	m->flow_sample_s = m->walk_s;
	m->walk_start_ns = 0;
	/* walks start on a fixed cadence; one that ran long starts the next now */
	m->walk_next_ns = next > now ? next : now;
}

static void walk_abort(struct xlb_metrics *m, __u64 now, int err)
{
	pr_warn("metrics: walking %s: %s\n", m->flows_name, strerror(-err));
	m->walk_start_ns = 0;
	m->walk_next_ns = now + (__u64)m->opts.flow_interval_ms * 1000000ULL;
}

/* One step of at most budget entries (batch) or the whole walk (per key). */
static int walk_step(struct xlb_metrics *m, __u64 budget)
{
	__u64 t0 = xlb_metrics_now_ns(), t1;
	bool done = false;
	int err;

	if (m->opts.lookup == XLB_METRICS_LOOKUP_PER_KEY || m->no_batch) {
		err = walk_keys(m, t0);
		done = true;
	} else {
		err = walk_batches(m, budget, t0, &done);
		if (m->walk_first && (err == -EINVAL || err == -EOPNOTSUPP || err == -524)) {
			/* no batch ops on this kernel (-524 is ENOTSUPP) */
			pr_info("metrics: batch lookups refused on %s: walking by key\n",
				m->flows_name);
			m->no_batch = true;
			err = walk_keys(m, t0);
			done = true;
		}
	}
	t1 = xlb_metrics_now_ns();
	m->walk_s += (double)(t1 - t0) / 1e9;
	if (err) {
		walk_abort(m, t1, err);
		return err;
	}
	if (done) {
		walk_publish(m, t1);
		return 1;
	}
	m->walk_next_ns = t1 + XLB_METRICS_FLOW_STEP_GAP_MS * 1000000ULL;
	return 0;
}

int xlb_metrics__sample_flows(struct xlb_metrics *m)
{
	int err;

	if (m->maps.flows_fd < 0 || !m->active)
		return -EBADF;
	walk_begin(m, xlb_metrics_now_ns());
	err = walk_step(m, UINT64_MAX);
	return err < 0 ? err : 0;
}

int xlb_metrics__flows_step(struct xlb_metrics *m)
{
	__u64 now;

	if (m->maps.flows_fd < 0 || !m->active)
		return -EBADF;
	now = xlb_metrics_now_ns();
	if (now < m->walk_next_ns)
		return 0;
	if (!m->walk_start_ns)
		walk_begin(m, now);
	return walk_step(m, m->opts.flow_step);
}

int xlb_metrics__flows_timeout_ms(const struct xlb_metrics *m)
{
	__u64 now;

	if (m->maps.flows_fd < 0 || !m->active)
		return -1;
	now = xlb_metrics_now_ns();
	if (m->walk_next_ns <= now)
		return 0;
	return (int)((m->walk_next_ns - now + 999999) / 1000000);
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

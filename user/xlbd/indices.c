// SPDX-License-Identifier: GPL-2.0-only
/*
 * Real indices and VIP ids: allocation, and the quarantine a removed real's
 * index sits in (flagged down in xlb_reals) until no flow entry can still
 * name it; the entries that do are deleted before the index is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "addr.h"
#include "api.h"
#include "log.h"
#include "reconcile.h"
#include "xlbd.h"

/* Indices leaving quarantine in one pass (static: XLB_MAX_REALS is large). */
static bool dead_tmp[XLB_MAX_REALS];

size_t xlbd_free_indices(struct xlbd *d)
{
	size_t n = 0;

	for (__u32 i = 1; i < XLB_MAX_REALS; i++)
		n += d->real_state[i] == RT_FREE;
	return n;
}

__u32 xlbd_alloc_index(struct xlbd *d)
{
	for (__u32 i = 1; i < XLB_MAX_REALS; i++) {
		if (d->real_state[i] == RT_FREE) {
			d->real_state[i] = RT_USED;
			return i;
		}
	}
	return 0;
}

int xlbd_alloc_vip_id(struct xlbd *d, __u32 *id)
{
	for (__u32 i = 0; i < XLB_MAX_VIPS; i++) {
		if (!d->vip_used[i]) {
			d->vip_used[i] = true;
			*id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

int xlbd_write_real(struct xlbd *d, const struct rt_real *r, __u8 flags)
{
	struct xlb_real v = {};

	v.addr = r->addr;
	v.family = r->family;
	v.flags = flags;
	memcpy(v.next_hop_mac, r->mac, 6);
	if (bpf_map_update_elem(d->dp.fd[XLB_DP_REALS], &r->index, &v, BPF_ANY))
		return -errno;
	return 0;
}

/* Flags a real index down and starts its quarantine. */
void xlbd_quarantine(struct xlbd *d, const struct rt_real *r)
{
	char as[XLB_ADDR_STRLEN];
	int err = xlbd_write_real(d, r, XLB_REAL_F_DOWN);

	if (err)
		pr_warn("real index %u (%s): cannot flag it down: %s\n", r->index,
			xlb_addr_str(&r->addr, r->family, as), strerror(-err));
	d->real_state[r->index] = RT_QUARANTINE;
	d->q_until[r->index] = xlb_now_ms() + d->quarantine_ms;
	d->nquarantine++;
}

void xlbd_expire_quarantine(struct xlbd *d)
{
	long long now = xlb_now_ms();
	struct xlb_real zero_real = {};
	size_t n = 0;
	long purged;

	if (!d->nquarantine)
		return;
	memset(dead_tmp, 0, sizeof(dead_tmp));
	for (__u32 i = 1; i < XLB_MAX_REALS; i++) {
		if (d->real_state[i] == RT_QUARANTINE && d->q_until[i] <= now) {
			dead_tmp[i] = true;
			n++;
		}
	}
	if (!n)
		return;
	/* No flow entry may name an index that is about to get a new address. */
	purged = xlb_dp__purge_flows(&d->dp, dead_tmp);
	if (purged < 0) {
		pr_warn("cannot purge flows of %zu expired real indices: %s\n", n,
			strerror(-purged));
		return;
	}
	for (__u32 i = 1; i < XLB_MAX_REALS; i++) {
		if (!dead_tmp[i])
			continue;
		bpf_map_update_elem(d->dp.fd[XLB_DP_REALS], &i, &zero_real, BPF_ANY);
		xlb_dp__zero_stats(&d->dp, XLB_DP_REAL_STATS, i);
		d->real_state[i] = RT_FREE;
		d->nquarantine--;
	}
	pr_debug("%zu real indices left quarantine (%ld flow entries deleted)\n", n, purged);
}

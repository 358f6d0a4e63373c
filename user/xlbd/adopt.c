// SPDX-License-Identifier: GPL-2.0-only
/*
 * Adoption: at startup over maps that are already pinned, rebuild xlbd's
 * model (VIP ids, real indices, rings) from what the maps hold, so that the
 * first reconcile diffs against them instead of rewriting every entry.
 * Real indices no ring or desired VIP claims go to quarantine.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "addr.h"
#include "log.h"
#include "reconcile.h"
#include "xlbd.h"

/* Add the real at xlb_reals[idx] to VIP v's model, as the map has it. */
static int adopt_real(struct xlbd *d, struct rt_vip *v, const struct xlb_real *m, __u32 idx)
{
	struct rt_real *nr;

	nr = realloc(v->reals, (v->nreals + 1) * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	v->reals = nr;
	nr = &v->reals[v->nreals++];
	memset(nr, 0, sizeof(*nr));
	nr->addr = m->addr;
	nr->family = m->family;
	nr->index = idx;
	memcpy(nr->mac, m->next_hop_mac, 6);
	nr->mac_ok = !!memcmp(nr->mac, "\0\0\0\0\0\0", 6);
	nr->eff_weight = ~0U;	/* unknown: recomputed */
	d->real_state[idx] = RT_USED;
	return 0;
}

int xlbd_adopt(struct xlbd *d)
{
	struct xlb_vip_key key, next;
	struct xlb_real *reals;
	void *prev = NULL;
	__u32 *owner, *table = NULL;
	size_t orphans = 0;
	__u32 zero = 0;
	int err = 0;

	reals = calloc(XLB_MAX_REALS, sizeof(*reals));
	owner = calloc(XLB_MAX_REALS, sizeof(*owner));
	if (!reals || !owner) {
		err = -ENOMEM;
		goto out;
	}
	/* VIPs as the maps have them. */
	while (!bpf_map_get_next_key(d->dp.fd[XLB_DP_VIPS], prev, &next)) {
		struct xlb_vip val;
		struct rt_vip *nv;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(d->dp.fd[XLB_DP_VIPS], &key, &val))
			continue;
		if (val.id >= XLB_MAX_VIPS || d->vip_used[val.id]) {
			/* Unusable entry: the next reconcile deletes it (not in the model). */
			continue;
		}
		nv = realloc(d->vips, (d->nvips + 1) * sizeof(*nv));
		if (!nv) {
			err = -ENOMEM;
			goto out;
		}
		d->vips = nv;
		nv = &d->vips[d->nvips++];
		memset(nv, 0, sizeof(*nv));
		nv->key = key;
		nv->id = val.id;
		nv->ring_size = val.ring_size;
		nv->hash_mode = val.hash_mode;
		nv->encap = val.encap;
		nv->dirty = true;
		d->vip_used[val.id] = true;
	}
	/* Every real index in use (family set). */
	for (__u32 i = 1; i < XLB_MAX_REALS; i++)
		bpf_map_lookup_elem(d->dp.fd[XLB_DP_REALS], &i, &reals[i]);
	/* A VIP owns the indices its ring points to. */
	for (size_t vi = 0; vi < d->nvips; vi++) {
		struct rt_vip *v = &d->vips[vi];
		__u32 size;
		int fd = xlb_dp__ring_get(&d->dp, v->id, &size);

		if (fd < 0)
			continue;
		free(table);
		table = malloc(size * sizeof(*table));
		if (!table || xlb_dp__ring_read(fd, size, table)) {
			close(fd);
			continue;
		}
		close(fd);
		/* What the ring holds now: the first reconcile diffs against it. */
		xlbd_cache_ring(v, size, table);
		for (__u32 s = 0; s < size; s++) {
			__u32 idx = table[s];

			if (!idx || idx >= XLB_MAX_REALS || !reals[idx].family || owner[idx])
				continue;
			owner[idx] = vi + 1;
			err = adopt_real(d, v, &reals[idx], idx);
			if (err)
				goto out;
		}
	}
	/* Indices no ring points to: drained reals of a desired VIP, or leftovers. */
	for (__u32 i = 1; i < XLB_MAX_REALS; i++) {
		bool adopted = false;

		/* A flagged-down entry is a removed real: never adopted again. */
		if (!reals[i].family || owner[i] || (reals[i].flags & XLB_REAL_F_DOWN))
			goto park;
		for (size_t w = 0; w < d->want.nvips && !adopted; w++) {
			const struct xlb_vip_cfg *wv = &d->want.vips[w];
			struct rt_vip *v = xlbd_find_vip(d, &wv->key);

			if (!v || xlbd_find_real(v, &reals[i].addr, reals[i].family) ||
			    !xlb_vip_cfg__find_real(wv, &reals[i].addr, reals[i].family))
				continue;
			err = adopt_real(d, v, &reals[i], i);
			if (err)
				goto out;
			adopted = true;
		}
park:
		if (reals[i].family && !owner[i] && !adopted) {
			struct rt_real tmp = { .addr = reals[i].addr, .family = reals[i].family,
					       .index = i };

			memcpy(tmp.mac, reals[i].next_hop_mac, 6);
			xlbd_quarantine(d, &tmp);
			orphans++;
		}
	}
	/* Outer-header settings as the map has them. */
	if (!bpf_map_lookup_elem(d->dp.fd[XLB_DP_CONFIG], &zero, &d->applied_cfg)) {
		d->cfg_known = true;
		d->applied_seed = d->applied_cfg.hash_seed;
	}
	{
		size_t nr = 0;

		for (size_t i = 0; i < d->nvips; i++)
			nr += d->vips[i].nreals;
		pr_info("adopted %zu VIPs and %zu reals from the maps; %zu unused real indices "
			"quarantined\n", d->nvips, nr, orphans);
	}
out:
	free(table);
	free(reals);
	free(owner);
	return err;
}

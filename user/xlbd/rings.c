// SPDX-License-Identifier: GPL-2.0-only
/*
 * Maglev rings in the maps: building a VIP's table, diffing it against the
 * ring the map holds and writing only the changed slots, or swapping in a
 * new inner map (ordered against xlb_vips.ring_size) when the size changes.
 * Rings of new VIPs are put into xlb_rings in one batch.
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

int xlbd_build_ring(struct xlbd *d, const struct rt_vip *v, __u32 size, __u32 seed,
		       __u32 *table)
{
	struct xlb_maglev_real *mr = NULL;
	size_t n = 0;
	int err;

	if (v->nreals) {
		mr = calloc(v->nreals, sizeof(*mr));
		if (!mr)
			return -ENOMEM;
	}
	for (size_t i = 0; i < v->nreals; i++) {
		mr[n].addr = v->reals[i].addr;
		mr[n].family = v->reals[i].family;
		mr[n].index = v->reals[i].index;
		mr[n].weight = v->reals[i].eff_weight;
		n++;
	}
	err = xlb_maglev__build_scratch(mr, n, size, seed, table, d->scratch);
	free(mr);
	return err;
}

int xlbd_write_vip(struct xlbd *d, const struct rt_vip *v)
{
	struct xlb_vip val = {
		.id = v->id,
		.ring_size = v->ring_size,
		.hash_mode = v->hash_mode,
		.encap = v->encap,
	};

	if (bpf_map_update_elem(d->dp.fd[XLB_DP_VIPS], &v->key, &val, BPF_ANY))
		return -errno;
	return 0;
}

/* Keeps a copy of what the ring holds now, so the next change need not read it back. */
void xlbd_cache_ring(struct rt_vip *v, __u32 size, const __u32 *table)
{
	if (v->ring_cached != size) {
		free(v->ring);
		v->ring = malloc(size * sizeof(*v->ring));
		v->ring_cached = v->ring ? size : 0;
	}
	if (v->ring)
		memcpy(v->ring, table, size * sizeof(*table));
}

/* Rings of new VIPs waiting to be put into xlb_rings in one batch. */
static struct pending_ring {
	__u32 id;
	int fd;
} *pend;
static size_t npend, pend_cap;

/* 0, or -ENOMEM (the caller then inserts the ring itself). */
static int pending_add(__u32 id, int fd)
{
	if (npend == pend_cap) {
		size_t ncap = pend_cap ? 2 * pend_cap : 64;
		struct pending_ring *np = realloc(pend, ncap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		pend = np;
		pend_cap = ncap;
	}
	pend[npend].id = id;
	pend[npend++].fd = fd;
	return 0;
}

/* Puts the pending rings into xlb_rings (one batch, else one by one) and closes them. */
int xlbd_flush_rings(struct xlbd *d)
{
	int rfd = d->dp.fd[XLB_DP_RINGS], err = 0;
	__u32 *ids = NULL, count = npend;
	int *fds = NULL;

	if (!npend)
		return 0;
	ids = malloc(npend * sizeof(*ids));
	fds = malloc(npend * sizeof(*fds));
	if (ids && fds) {
		for (size_t i = 0; i < npend; i++) {
			ids[i] = pend[i].id;
			fds[i] = pend[i].fd;
		}
		err = bpf_map_update_batch(rfd, ids, fds, &count, NULL);
	}
	if (!ids || !fds || err || count != npend) {
		err = 0;
		for (size_t i = 0; i < npend; i++)
			if (bpf_map_update_elem(rfd, &pend[i].id, &pend[i].fd, BPF_ANY))
				err = -errno;
	}
	for (size_t i = 0; i < npend; i++)
		close(pend[i].fd);
	npend = 0;
	free(ids);
	free(fds);
	return err;
}

/*
 * Brings the ring of v to table (size slots). in_vips: v is already in
 * xlb_vips, so a size change must be ordered against its ring_size.
 */
int xlbd_sync_ring(struct xlbd *d, struct rt_vip *v, __u32 size, const __u32 *table,
		     bool in_vips, bool full, size_t *changed)
{
	__u32 cur_size = 0, *old = NULL, *slots = NULL;
	int fd, nfd, err = 0;

	*changed = 0;
	fd = xlb_dp__ring_get(&d->dp, v->id, &cur_size);
	if (fd >= 0 && cur_size == size) {
		slots = malloc(size * sizeof(*slots));
		if (!slots) {
			err = -ENOMEM;
			goto out;
		}
		/* The map is the truth in a full pass (repairs); else our copy of it. */
		if (full || v->ring_cached != size) {
			old = malloc(size * sizeof(*old));
			if (!old) {
				err = -ENOMEM;
				goto out;
			}
			err = xlb_dp__ring_read(fd, size, old);
			if (err)
				goto out;
		}
		*changed = xlb_maglev__diff(old ? old : v->ring, table, size, slots);
		err = xlb_dp__ring_write(fd, table, slots, *changed);
		if (err)
			v->ring_cached = 0;	/* unknown now: read it next time */
		else
			xlbd_cache_ring(v, size, table);
		goto out;
	}
	v->ring_cached = 0;
	/* No ring yet, or another size: a new inner map swapped in at once. */
	nfd = xlb_dp__ring_create(&d->dp, size, table);
	if (nfd < 0) {
		err = nfd;
		goto out;
	}
	*changed = size;
	if (!in_vips && fd < 0 && !pending_add(v->id, nfd)) {
		/*
		 * A new VIP: its ring goes into xlb_rings with the other new ones
		 * in one batch (flush_pending): every update of a map-in-map waits
		 * for an RCU grace period, a batch waits once.
		 */
		v->ring_size = size;
		xlbd_cache_ring(v, size, table);
		goto out;
	}
	if (in_vips && fd >= 0 && size < cur_size) {
		/* Shrinking: slots computed with the new size exist in the old ring. */
		v->ring_size = size;
		err = xlbd_write_vip(d, v);
	}
	if (!err && bpf_map_update_elem(d->dp.fd[XLB_DP_RINGS], &v->id, &nfd, BPF_ANY))
		err = -errno;
	if (!err && in_vips && v->ring_size != size) {
		/* Growing (or no ring before): the new ring covers the old size. */
		v->ring_size = size;
		err = xlbd_write_vip(d, v);
	}
	v->ring_size = size;
	close(nfd);
	if (!err)
		xlbd_cache_ring(v, size, table);
out:
	if (fd >= 0)
		close(fd);
	free(old);
	free(slots);
	return err;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the parts of the reconcile share: reconcile.c (desired state -> maps),
 * rings.c (Maglev rings), indices.c (real indices, VIP ids, quarantine) and
 * adopt.c (the model rebuilt from pinned maps). Not used outside them.
 */
#ifndef XLBD_RECONCILE_H
#define XLBD_RECONCILE_H

#include "xlbd.h"

/* indices.c */
size_t xlbd_free_indices(struct xlbd *d);
/* A free real index marked used, or 0 when none is left. */
__u32 xlbd_alloc_index(struct xlbd *d);
int xlbd_alloc_vip_id(struct xlbd *d, __u32 *id);
int xlbd_write_real(struct xlbd *d, const struct rt_real *r, __u8 flags);
void xlbd_quarantine(struct xlbd *d, const struct rt_real *r);
void xlbd_expire_quarantine(struct xlbd *d);

/* rings.c */
int xlbd_build_ring(struct xlbd *d, const struct rt_vip *v, __u32 size, __u32 seed,
		    __u32 *table);
int xlbd_write_vip(struct xlbd *d, const struct rt_vip *v);
void xlbd_cache_ring(struct rt_vip *v, __u32 size, const __u32 *table);
int xlbd_flush_rings(struct xlbd *d);
int xlbd_sync_ring(struct xlbd *d, struct rt_vip *v, __u32 size, const __u32 *table,
		   bool in_vips, bool full, size_t *changed);

/* reconcile.c */
struct rt_real *xlbd_find_real(struct rt_vip *v, const union xlb_addr *a, __u8 family);

#endif /* XLBD_RECONCILE_H */

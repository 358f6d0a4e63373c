/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Model helpers that state.c (the model) and state_json.c (its JSON form)
 * share; not for other users of the library.
 */
#ifndef XLB_STATE_PRIV_H
#define XLB_STATE_PRIV_H

#include "state.h"

void xlb_vip_cfg__free(struct xlb_vip_cfg *v);
/* Orders of reals (by family, then address) and of VIPs (by key), for qsort. */
int xlb_real_cfg__cmp(const void *a, const void *b);
int xlb_vip_key__cmp(const struct xlb_vip_key *x, const struct xlb_vip_key *y);
int xlb_vip_cfg__cmp(const void *a, const void *b);

#endif /* XLB_STATE_PRIV_H */

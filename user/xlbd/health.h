/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xlbd's health checking (issue 5): one probe engine (user/lib/health.h) in
 * the event loop, one target per (VIP, real) whose VIP or real carries a
 * "health" object, and the glue that turns the engine's transitions into
 * data-plane changes: a real that goes down leaves its VIP's Maglev ring
 * (ring first, then XLB_REAL_F_DOWN so its flows reselect), one that comes
 * back gets its slots again. Administrative state beats health (a drained
 * real stays out whatever its health), and when every real of a VIP is down
 * the VIP's "all_down" policy decides: "fail_open" (default) builds the ring
 * from all of them as if none were down, "drop" leaves the ring empty (the
 * data plane drops and counts DROP_NO_REAL). Health state is runtime only:
 * a restarted xlbd starts every target per the engine's init policy.
 */
#ifndef XLBD_HEALTH_H
#define XLBD_HEALTH_H

#include <stdbool.h>
#include <linux/types.h>
#include <jansson.h>

#include "../lib/health.h"	/* the engine (this file has its name) */

struct xlbd;
struct rt_real;
struct rt_vip;
struct xlb_vip_cfg;
struct xlb_real_cfg;

/* Creates the engine and watches its fd in d->loop. 0 or -errno. */
int xlbd_health_start(struct xlbd *d);
void xlbd_health_stop(struct xlbd *d);
/*
 * Brings the targets in line with d->want (adds, updates, removes) and the
 * data plane with the health states. Call after every change of d->want
 * that reached the maps. 0 or -errno (logged).
 */
int xlbd_health_sync(struct xlbd *d);

/*
 * The status of one (VIP, real) pair's probe target, for `xlbctl health`
 * and metrics: 0 and *st filled, or -ENOENT when the real has no health
 * target (its VIP and itself have no "health" object, or kind "none" is
 * still a target: it is reported, always up).
 */
int xlbd_health_real_status(const struct xlbd *d, const struct rt_real *r,
			    struct xlb_health_status *st);

/* Per VIP: how often every real was down at once, and whether it is now. */
struct xlbd_health_vip_status {
	__u64 all_down_events;		/* entries into "every real down" since start */
	bool all_down;			/* every real with weight > 0 is down now */
	bool fail_open;			/* the VIP's policy is fail_open */
};
/* 0, or -ENOENT for an unknown VIP. */
int xlbd_health_vip_status(const struct xlbd *d, const struct rt_vip *v,
			   struct xlbd_health_vip_status *st);

/*
 * Hook for metrics: called for every completed probe (from the engine's
 * on_probe), when defined. Metrics defines it (a strong symbol, e.g. in
 * user/xlbd/metrics.c) as
 *   xlb_metrics_daemon__probe(&m, xlb_metrics_probe_result(p->ok, p->reason),
 *                             p->latency_us / 1e6);
 * Local errors (no probe ran) do not come here: sum status.local_errors.
 */
void xlbd_metrics_on_probe(struct xlbd *d, const struct xlb_health_probe *p)
	__attribute__((weak));

/* Control API: the "health" and "set-health" verbs; fields of "list". */
json_t *xlbd_health_verb(struct xlbd *d, json_t *req, char *err, size_t errlen);
json_t *xlbd_set_health_verb(struct xlbd *d, json_t *req, char *err, size_t errlen);
/*
 * Reads "health" (an object, or null for none) and "all_down" of a request:
 * *spec (heap, free with xlbd_health_spec_free; NULL for null or absent),
 * *has_spec (the key was there), *all_down (-1 when absent). 0 or -errno + err.
 */
struct xlb_health_spec;
int xlbd_health_req(json_t *req, struct xlb_health_spec **spec, bool *has_spec, int *all_down,
		    char *err, size_t errlen);
void xlbd_health_spec_free(struct xlb_health_spec *spec);
/* Adds "health" (and "all_down") keys to a VIP's / real's object of `list`. */
void xlbd_health_list_vip(const struct xlbd *d, const struct rt_vip *v, json_t *o);
void xlbd_health_list_real(const struct xlbd *d, const struct rt_real *r, json_t *o);

#endif /* XLBD_HEALTH_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xlbd's shared state: the desired state (what the operator asked for), the
 * runtime model of what is in the maps (VIP ids, real indices, next hops,
 * quarantine), and the entry points of its parts: reconcile.c (desired ->
 * maps, with rings.c, indices.c and adopt.c), control.c (the API), main.c
 * (startup, signals, loop).
 */
#ifndef XLBD_H
#define XLBD_H

#include <stdbool.h>
#include <linux/types.h>
#include <xlb/abi.h>

#include "dataplane.h"
#include "loop.h"
#include "maglev.h"
#include "nexthop.h"
#include "state.h"

#define XLBD_QUARANTINE_MS 60000	/* default: a freed real index is not reused before this */
#define XLBD_TICK_MS 1000		/* housekeeping timer: quarantine, unresolved next hops */
#define XLBD_VERIFY_MS 30000		/* full re-read of the maps, repairs drift */

/* A (VIP, real) pair as applied to the maps. */
struct rt_real {
	union xlb_addr addr;
	__u8 family;
	__u8 mac[6];			/* next-hop MAC written to xlb_reals */
	bool mac_ok;			/* mac resolved: the real may get ring slots */
	bool down;			/* health (issue 5): out of the ring, flows reselect */
	__u64 health_id;		/* its target in the health engine; 0 = not checked */
	__u32 index;			/* its index in xlb_reals */
	__u32 weight;			/* desired weight */
	__u32 eff_weight;		/* weight in the ring now (0 when drained/unresolved/down) */
	union xlb_addr via;		/* next hop of the route to it */
	__u8 via_family;
	int oif;
	long long next_try_ms;		/* next resolution attempt while unresolved */
};

struct rt_vip {
	struct xlb_vip_key key;
	__u32 id;			/* VIP index */
	__u32 ring_size;
	__u8 hash_mode, encap;
	struct rt_real *reals;
	size_t nreals;
	bool dirty;			/* ring must be recomputed */
	bool verify_ring;		/* next reconcile reads its ring back (round robin) */
	__u32 *ring;			/* copy of the ring as last written (NULL: read the map) */
	__u32 ring_cached;		/* slots in ring */
};

enum rt_index_state {
	RT_FREE = 0,
	RT_USED,
	RT_QUARANTINE,
};

struct xlbd {
	/* command line */
	const char *iface;
	const char *config_path;	/* --config, may be NULL */
	const char *state_dir;
	char state_path[512];
	const char *socket_path;
	enum xdp_attach_mode mode;
	bool detach_on_exit;
	long long quarantine_ms;		/* --quarantine (tests shorten it) */

	struct xlb_state want;		/* desired state (persisted) */
	struct xlb_dp dp;
	struct xlb_nh nh;
	struct xlbd_loop *loop;
	struct xlb_maglev_scratch *scratch;
	int listen_fd;

	/* runtime model of the maps */
	struct rt_vip *vips;
	size_t nvips;
	bool vip_used[XLB_MAX_VIPS];
	__u8 real_state[XLB_MAX_REALS];		/* enum rt_index_state */
	long long q_until[XLB_MAX_REALS];	/* quarantine end, CLOCK_MONOTONIC ms */
	size_t nquarantine;
	__u32 applied_seed;
	struct xlb_config applied_cfg;
	bool cfg_known;
	long long last_route_check_ms;
	size_t verify_cursor;			/* next VIP whose ring the tick reads back */
};

/* xlbd_reconcile() flags: what to re-read from the maps and repair. */
#define XLBD_RC_ENTRIES (1U << 0)	/* xlb_vips, xlb_vip_addrs, xlb_reals, xlb_config; next hops */
#define XLBD_RC_RINGS (1U << 1)		/* every ring, slot by slot */
#define XLBD_RC_FULL (XLBD_RC_ENTRIES | XLBD_RC_RINGS)

/* reconcile.c */
/* Effective settings: the desired ones with interface defaults filled in. */
void xlbd_effective_settings(struct xlbd *d, const struct xlb_settings *in,
			     struct xlb_settings *out);
/* Checks what only the daemon can (outer sources, free indices). 0 or -errno + err. */
int xlbd_validate(struct xlbd *d, const struct xlb_state *want, char *err, size_t errlen);
/* Builds the runtime model from the maps (after xlb_dp__open). 0 or -errno. */
int xlbd_adopt(struct xlbd *d);
/*
 * Makes the maps match want (d->want is not changed here). flags (XLBD_RC_*)
 * add re-reading and repairing map contents beyond what changed. 0 or
 * -errno + err.
 */
int xlbd_reconcile(struct xlbd *d, const struct xlb_state *want, unsigned int flags, char *err,
		   size_t errlen);
/* Housekeeping: quarantine expiry, next-hop retries, route changes. */
void xlbd_tick(struct xlbd *d);
/* Neighbour updates from the netlink event socket. */
void xlbd_neigh_event(void *ctx, __u8 family, const union xlb_addr *addr, int ifindex,
		      const __u8 mac[6], bool valid);
/*
 * For health checks (issue 5): marks one (VIP, real) pair down or up. Down:
 * its ring slots go to the other reals first, then its xlb_reals entry is
 * flagged XLB_REAL_F_DOWN (flows to it reselect). Up: the flag is cleared
 * first, then it gets its slots back. 0, -ENOENT, or -errno of the maps.
 */
int xlbd_set_real_down(struct xlbd *d, const struct xlb_vip_key *vip, const union xlb_addr *addr,
		       __u8 family, bool down);
/*
 * The same for several reals of one VIP at once (down[j] for v->reals[j]):
 * flags cleared for those coming up, one ring update, then flags set for
 * those going down. 0 or -errno of the maps.
 */
int xlbd_set_reals_down(struct xlbd *d, struct rt_vip *v, const bool *down);
struct rt_vip *xlbd_find_vip(struct xlbd *d, const struct xlb_vip_key *key);
const char *xlbd_real_state_name(const struct rt_real *r, __u32 weight);

/* control.c */
int xlbd_control_start(struct xlbd *d);
void xlbd_control_stop(struct xlbd *d);
/* Applies new desired state: validate, reconcile, persist. 0 or -errno + err. */
int xlbd_apply(struct xlbd *d, struct xlb_state *next, char *err, size_t errlen);

/* main.c */
void xlbd_request_exit(struct xlbd *d, bool detach);

#endif /* XLBD_H */

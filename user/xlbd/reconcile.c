// SPDX-License-Identifier: GPL-2.0-only
/*
 * Desired state -> BPF maps. xlbd keeps a model of what it wrote (VIP ids,
 * real indices, next hops, quarantine) and brings the maps to the desired
 * state in an order that never lets a packet see a half-built VIP:
 *
 *   new VIP      reals (xlb_reals), then its full ring (a new inner map put
 *                into xlb_rings), then xlb_vip_addrs, then xlb_vips last
 *   new real     xlb_reals first, then only the ring slots that change
 *   removed real ring slots first, then XLB_REAL_F_DOWN in xlb_reals (flows
 *                reselect), then its index sits in quarantine; before reuse
 *                the flow entries that still name it are deleted
 *   ring size    a new inner map, swapped in with one update of xlb_rings,
 *                ordered against xlb_vips.ring_size so that every slot the
 *                data plane computes exists in the ring it reads
 *   removed VIP  xlb_vips first, then xlb_vip_addrs, then its ring and reals
 *
 * Rings are always diffed against what the map holds (read back), so the
 * same code repairs a tampered or stale ring after an adoption. A "full"
 * pass also re-reads and repairs every xlb_vips, xlb_vip_addrs, xlb_reals
 * and xlb_config entry.
 *
 * Ring building and writing is in rings.c, real indices and quarantine in
 * indices.c, rebuilding the model from pinned maps in adopt.c.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "addr.h"
#include "api.h"
#include "log.h"
#include "reconcile.h"
#include "xlbd.h"

/* ---- settings ---- */

static bool v6_global(const struct in6_addr *a)
{
	return !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_MULTICAST(a) &&
	       !IN6_IS_ADDR_UNSPECIFIED(a);
}

void xlbd_effective_settings(struct xlbd *d, const struct xlb_settings *in,
			     struct xlb_settings *out)
{
	struct ifaddrs *ifa, *p;
	char path[128];
	FILE *f;

	*out = *in;
	if ((!out->has_src_v4 || !out->has_src_v6) && !getifaddrs(&ifa)) {
		for (p = ifa; p; p = p->ifa_next) {
			if (!p->ifa_addr || strcmp(p->ifa_name, d->iface))
				continue;
			if (p->ifa_addr->sa_family == AF_INET && !out->has_src_v4) {
				out->src_v4 = ((struct sockaddr_in *)p->ifa_addr)->sin_addr.s_addr;
				out->has_src_v4 = true;
			} else if (p->ifa_addr->sa_family == AF_INET6 && !out->has_src_v6) {
				struct in6_addr *a = &((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr;

				if (v6_global(a)) {
					memcpy(&out->src_v6, a, 16);
					out->has_src_v6 = true;
				}
			}
		}
		freeifaddrs(ifa);
	}
	if (!out->mtu) {
		unsigned int mtu = 0;

		snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", d->iface);
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%u", &mtu) == 1 && mtu <= 65535)
				out->mtu = mtu;
			fclose(f);
		}
	}
}

static void config_of(const struct xlb_settings *eff, struct xlb_config *c)
{
	memset(c, 0, sizeof(*c));
	if (eff->has_src_v4)
		c->src_v4 = eff->src_v4;
	if (eff->has_src_v6)
		c->src_v6 = eff->src_v6;
	c->hash_seed = eff->hash_seed;
	c->gue_port = htons(eff->gue_port);
	c->mtu = eff->mtu;
}

/* ---- model helpers ---- */

struct rt_vip *xlbd_find_vip(struct xlbd *d, const struct xlb_vip_key *key)
{
	for (size_t i = 0; i < d->nvips; i++)
		if (!memcmp(&d->vips[i].key, key, sizeof(*key)))
			return &d->vips[i];
	return NULL;
}

struct rt_real *xlbd_find_real(struct rt_vip *v, const union xlb_addr *a, __u8 family)
{
	for (size_t i = 0; i < v->nreals; i++)
		if (v->reals[i].family == family && !memcmp(&v->reals[i].addr, a, sizeof(*a)))
			return &v->reals[i];
	return NULL;
}

const char *xlbd_real_state_name(const struct rt_real *r, __u32 weight)
{
	if (r->down)
		return "down";
	if (!r->mac_ok)
		return "unresolved";
	if (!weight)
		return "drain";
	return "up";
}

static void vip_key_addr(const struct xlb_vip_key *k, struct xlb_vip_key *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = k->addr;
	out->family = k->family;
}

/*
 * Lookups within one pass over every real are memoized by address: many
 * (VIP, real) pairs share a real, and each lookup is two netlink round trips.
 */
struct nh_memo {
	union xlb_addr addr;
	__u8 family;
	bool used;
	int err;
	struct xlb_nh_res res;
};

static struct nh_memo *memo;
static size_t memo_cap;			/* power of two; 0 = memo off */

static void memo_begin(struct xlbd *d)
{
	size_t n = 0, cap = 64;

	for (size_t i = 0; i < d->nvips; i++)
		n += d->vips[i].nreals;
	while (cap < 2 * n)
		cap *= 2;
	free(memo);
	memo = calloc(cap, sizeof(*memo));
	memo_cap = memo ? cap : 0;
}

static void memo_end(void)
{
	free(memo);
	memo = NULL;
	memo_cap = 0;
}

static int lookup_nh(struct xlbd *d, __u8 family, const union xlb_addr *addr,
		     struct xlb_nh_res *res)
{
	struct nh_memo *m = NULL;
	__u32 h = 2166136261u;

	if (memo_cap) {
		for (size_t i = 0; i < sizeof(*addr); i++)
			h = (h ^ addr->bytes[i]) * 16777619u;
		for (size_t i = h & (memo_cap - 1);; i = (i + 1) & (memo_cap - 1)) {
			m = &memo[i];
			if (!m->used)
				break;
			if (m->family == family && !memcmp(&m->addr, addr, sizeof(*addr))) {
				*res = m->res;
				return m->err;
			}
		}
	}
	int err = xlb_nh__lookup(&d->nh, family, addr, res);

	if (m) {
		m->used = true;
		m->addr = *addr;
		m->family = family;
		m->err = err;
		m->res = *res;
	}
	return err;
}

/*
 * Route + neighbour lookup for r. Returns true when r->mac changed (the
 * caller rewrites xlb_reals). Unresolved next hops get a resolution nudge
 * at most once a second.
 */
static bool resolve(struct xlbd *d, struct rt_real *r, bool trigger)
{
	char as[XLB_ADDR_STRLEN];
	struct xlb_nh_res res;
	long long now = xlb_now_ms();
	int err;

	err = lookup_nh(d, r->family, &r->addr, &res);
	if (err) {
		if (now >= r->next_try_ms)
			pr_warn("real %s: no usable route: %s\n",
				xlb_addr_str(&r->addr, r->family, as), strerror(-err));
		r->next_try_ms = now + 5000;
		return false;
	}
	r->via = res.via;
	r->via_family = res.family;
	r->oif = res.oif;
	if (res.oif != d->dp.ifindex) {
		if (now >= r->next_try_ms)
			pr_warn("real %s is routed out of ifindex %d, not %s: xlb sends out of "
				"%s only\n", xlb_addr_str(&r->addr, r->family, as), res.oif,
				d->iface, d->iface);
		r->next_try_ms = now + 5000;
		return false;
	}
	if (res.resolved) {
		bool changed = !r->mac_ok || memcmp(r->mac, res.mac, 6);

		memcpy(r->mac, res.mac, 6);
		r->mac_ok = true;
		return changed;
	}
	if (trigger && now >= r->next_try_ms) {
		err = xlb_nh__trigger(&d->nh, &res);
		if (err)
			pr_debug("neighbour resolution of %s: %s\n",
				 xlb_addr_str(&res.via, res.family, as), strerror(-err));
		r->next_try_ms = now + 1000;
	}
	return false;
}

static __u32 eff_weight(const struct rt_real *r)
{
	return r->mac_ok && !r->down ? r->weight : 0;
}

/* ---- settings validation ---- */

int xlbd_validate(struct xlbd *d, const struct xlb_state *want, char *err, size_t errlen)
{
	struct xlb_settings eff;
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];
	size_t needed = 0, avail;

	xlbd_effective_settings(d, &want->settings, &eff);
	for (size_t i = 0; i < want->nvips; i++) {
		const struct xlb_vip_cfg *v = &want->vips[i];
		struct rt_vip *rv = xlbd_find_vip(d, &v->key);

		for (size_t j = 0; j < v->nreals; j++) {
			const struct xlb_real_cfg *r = &v->reals[j];

			if (r->family == XLB_AF_INET && !eff.has_src_v4)
				return xlb_errf(err, errlen, -EADDRNOTAVAIL,
						"VIP %s: real %s needs an IPv4 outer source address: "
						"set settings.src_v4 or give %s an IPv4 address",
						xlb_vip_str(&v->key, vs),
						xlb_addr_str(&r->addr, r->family, as), d->iface);
			if (r->family == XLB_AF_INET6 && !eff.has_src_v6)
				return xlb_errf(err, errlen, -EADDRNOTAVAIL,
						"VIP %s: real %s needs an IPv6 outer source address: "
						"set settings.src_v6 or give %s a global IPv6 address",
						xlb_vip_str(&v->key, vs),
						xlb_addr_str(&r->addr, r->family, as), d->iface);
			if (!rv || !xlbd_find_real(rv, &r->addr, r->family))
				needed++;
		}
	}
	avail = xlbd_free_indices(d);
	if (needed > avail)
		return xlb_errf(err, errlen, -ENOSPC,
				"no free real index for %zu new (VIP, real) pairs: %zu free, %zu in "
				"quarantine for up to %lld s", needed, avail, d->nquarantine,
				d->quarantine_ms / 1000);
	return 0;
}

/* ---- reconcile ---- */

/* xlb_vip_addrs: one entry per VIP address with the number of VIPs on it. */
static int sync_addrs(struct xlbd *d, const struct xlb_state *want, const struct xlb_vip_key *extra,
		      size_t nextra, bool full)
{
	int fd = d->dp.fd[XLB_DP_VIP_ADDRS];
	struct xlb_vip_key k, next;
	void *prev = NULL;
	int err = 0;

	/* Desired counts for every address of want. */
	for (size_t i = 0; i < want->nvips; i++) {
		__u32 count = 0, cur;

		vip_key_addr(&want->vips[i].key, &k);
		for (size_t j = 0; j < want->nvips; j++) {
			struct xlb_vip_key kj;

			vip_key_addr(&want->vips[j].key, &kj);
			count += !memcmp(&k, &kj, sizeof(k));
		}
		if (bpf_map_lookup_elem(fd, &k, &cur) || cur != count)
			if (bpf_map_update_elem(fd, &k, &count, BPF_ANY))
				err = -errno;
	}
	/* Addresses that may have lost their last VIP. */
	for (size_t i = 0; i < nextra; i++) {
		bool wanted = false;

		vip_key_addr(&extra[i], &k);
		for (size_t j = 0; j < want->nvips && !wanted; j++) {
			struct xlb_vip_key kj;

			vip_key_addr(&want->vips[j].key, &kj);
			wanted = !memcmp(&k, &kj, sizeof(k));
		}
		if (!wanted)
			bpf_map_delete_elem(fd, &k);
	}
	if (!full)
		return err;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		bool wanted = false;

		k = next;
		for (size_t j = 0; j < want->nvips && !wanted; j++) {
			struct xlb_vip_key kj;

			vip_key_addr(&want->vips[j].key, &kj);
			wanted = !memcmp(&k, &kj, sizeof(k));
		}
		if (!wanted) {
			bpf_map_delete_elem(fd, &k);
			prev = NULL;	/* restart: the walk lost its place */
			continue;
		}
		prev = &k;
	}
	return err;
}

/* Deletes xlb_vips keys that are not in the model (tampering, stale entries). */
static void sweep_vips(struct xlbd *d)
{
	int fd = d->dp.fd[XLB_DP_VIPS];
	struct xlb_vip_key k, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		if (!xlbd_find_vip(d, &k)) {
			char vs[XLB_VIP_STRLEN];

			pr_warn("xlb_vips has unknown VIP %s: removed\n", xlb_vip_str(&k, vs));
			bpf_map_delete_elem(fd, &k);
			prev = NULL;
			continue;
		}
		prev = &k;
	}
}

static void remove_vip_model(struct xlbd *d, size_t i)
{
	struct rt_vip *v = &d->vips[i];

	bpf_map_delete_elem(d->dp.fd[XLB_DP_RINGS], &v->id);
	for (size_t j = 0; j < v->nreals; j++)
		xlbd_quarantine(d, &v->reals[j]);
	d->vip_used[v->id] = false;
	free(v->reals);
	free(v->ring);
	memmove(&d->vips[i], &d->vips[i + 1], (d->nvips - i - 1) * sizeof(*v));
	d->nvips--;
}

/* Makes v's reals match wv; returns -errno. Sets v->dirty when the ring must change. */
static int sync_reals(struct xlbd *d, struct rt_vip *v, const struct xlb_vip_cfg *wv, bool full)
{
	char as[XLB_ADDR_STRLEN];
	int err;

	/* New reals: xlb_reals before any ring slot points to them. */
	for (size_t j = 0; j < wv->nreals; j++) {
		const struct xlb_real_cfg *wr = &wv->reals[j];
		struct rt_real *r = xlbd_find_real(v, &wr->addr, wr->family), *nr;

		if (r)
			continue;
		nr = realloc(v->reals, (v->nreals + 1) * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		v->reals = nr;
		r = &v->reals[v->nreals];
		memset(r, 0, sizeof(*r));
		r->addr = wr->addr;
		r->family = wr->family;
		r->index = xlbd_alloc_index(d);
		if (!r->index)
			return -ENOSPC;
		v->nreals++;
		resolve(d, r, true);
		xlb_dp__zero_stats(&d->dp, XLB_DP_REAL_STATS, r->index);
		err = xlbd_write_real(d, r, 0);
		if (err) {
			pr_warn("cannot write real %s (index %u): %s\n",
				xlb_addr_str(&r->addr, r->family, as), r->index, strerror(-err));
			return err;
		}
		v->dirty = true;
	}
	for (size_t j = 0; j < v->nreals; j++) {
		struct rt_real *r = &v->reals[j];
		const struct xlb_real_cfg *wr = xlb_vip_cfg__find_real(wv, &r->addr, r->family);
		__u32 ew;

		/* Next hop first: the weight in the ring depends on it. */
		if (wr && (full || (!r->mac_ok && xlb_now_ms() >= r->next_try_ms)) &&
		    resolve(d, r, true))
			xlbd_write_real(d, r, r->down ? XLB_REAL_F_DOWN : 0);
		r->weight = wr ? wr->weight : 0;
		ew = wr ? eff_weight(r) : 0;
		if (ew != r->eff_weight) {
			r->eff_weight = ew;
			v->dirty = true;
		}
		if (full && wr) {
			struct xlb_real cur, exp = {};

			exp.addr = r->addr;
			exp.family = r->family;
			exp.flags = r->down ? XLB_REAL_F_DOWN : 0;
			memcpy(exp.next_hop_mac, r->mac, 6);
			if (bpf_map_lookup_elem(d->dp.fd[XLB_DP_REALS], &r->index, &cur) ||
			    memcmp(&cur, &exp, sizeof(cur))) {
				pr_info("repairing xlb_reals[%u] (%s)\n", r->index,
					xlb_addr_str(&r->addr, r->family, as));
				xlbd_write_real(d, r, exp.flags);
			}
		}
	}
	return 0;
}

int xlbd_reconcile(struct xlbd *d, const struct xlb_state *want, unsigned int flags, char *err,
		   size_t errlen)
{
	bool full = flags & XLBD_RC_ENTRIES, rings = flags & XLBD_RC_RINGS;
	struct xlb_settings eff;
	struct xlb_config cfg, cur;
	struct xlb_vip_key *gone = NULL;
	size_t ngone = 0;
	char vs[XLB_VIP_STRLEN];
	__u32 *table = NULL, zero = 0;
	bool seed_changed;
	int ret = 0;

	if (full)
		memo_begin(d);
	/* Global settings. */
	xlbd_effective_settings(d, &want->settings, &eff);
	config_of(&eff, &cfg);
	if (full || !d->cfg_known || memcmp(&cfg, &d->applied_cfg, sizeof(cfg))) {
		if (bpf_map_lookup_elem(d->dp.fd[XLB_DP_CONFIG], &zero, &cur) ||
		    memcmp(&cur, &cfg, sizeof(cfg))) {
			if (bpf_map_update_elem(d->dp.fd[XLB_DP_CONFIG], &zero, &cfg, BPF_ANY)) {
				ret = xlb_errf(err, errlen, -errno, "cannot write xlb_config: %s",
					       strerror(errno));
				goto out;
			}
		}
		d->applied_cfg = cfg;
		d->cfg_known = true;
	}
	seed_changed = d->applied_seed != eff.hash_seed;
	d->applied_seed = eff.hash_seed;

	/* A. VIPs to remove: out of xlb_vips first, so no new packet reaches them. */
	gone = calloc(d->nvips + 1, sizeof(*gone));
	if (!gone) {
		ret = xlb_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d->nvips; i++) {
		if (xlb_state__find_vip(want, &d->vips[i].key))
			continue;
		bpf_map_delete_elem(d->dp.fd[XLB_DP_VIPS], &d->vips[i].key);
		gone[ngone++] = d->vips[i].key;
	}

	/* B. Reals and rings of every wanted VIP. */
	for (size_t i = 0; i < want->nvips; i++) {
		const struct xlb_vip_cfg *wv = &want->vips[i];
		struct rt_vip *v = xlbd_find_vip(d, &wv->key);
		bool is_new = !v, vip_changed, was_dirty;
		size_t changed = 0;

		xlb_vip_str(&wv->key, vs);
		if (!v) {
			struct rt_vip *nv = realloc(d->vips, (d->nvips + 1) * sizeof(*nv));

			if (!nv) {
				ret = xlb_errf(err, errlen, -ENOMEM, "out of memory");
				goto out;
			}
			d->vips = nv;
			v = &d->vips[d->nvips];
			memset(v, 0, sizeof(*v));
			v->key = wv->key;
			if (xlbd_alloc_vip_id(d, &v->id)) {
				ret = xlb_errf(err, errlen, -ENOSPC, "VIP %s: no free VIP id", vs);
				goto out;
			}
			d->nvips++;
			v->hash_mode = wv->hash_mode;
			v->encap = wv->encap;
			v->dirty = true;
			xlb_dp__zero_stats(&d->dp, XLB_DP_VIP_STATS, v->id);
		}
		ret = sync_reals(d, v, wv, full);
		if (ret) {
			xlb_errf(err, errlen, ret, "VIP %s: cannot write its reals: %s", vs,
				 strerror(-ret));
			goto out;
		}
		was_dirty = v->dirty || seed_changed || v->ring_size != wv->ring_size;
		if (was_dirty || rings || v->verify_ring) {
			free(table);
			table = malloc(wv->ring_size * sizeof(*table));
			if (!table) {
				ret = xlb_errf(err, errlen, -ENOMEM, "out of memory");
				goto out;
			}
			ret = xlbd_build_ring(d, v, wv->ring_size, eff.hash_seed, table);
			if (!ret)
				ret = xlbd_sync_ring(d, v, wv->ring_size, table, !is_new,
						     rings || v->verify_ring, &changed);
			if (ret) {
				xlb_errf(err, errlen, ret, "VIP %s: cannot write its ring: %s", vs,
					 strerror(-ret));
				goto out;
			}
			if (changed && !was_dirty)
				pr_info("VIP %s: %zu ring slots differed from the desired state: "
					"repaired\n", vs, changed);
			else if (changed)
				pr_debug("VIP %s: %zu ring slots rewritten\n", vs, changed);
			v->dirty = false;
			v->verify_ring = false;
		}
		/* Reals gone from the VIP: their slots are rewritten, now flag and park them. */
		for (size_t j = 0; j < v->nreals;) {
			struct rt_real *r = &v->reals[j];

			if (xlb_vip_cfg__find_real(wv, &r->addr, r->family)) {
				j++;
				continue;
			}
			xlbd_quarantine(d, r);
			memmove(r, r + 1, (v->nreals - j - 1) * sizeof(*r));
			v->nreals--;
		}
		vip_changed = v->hash_mode != wv->hash_mode || v->encap != wv->encap;
		v->hash_mode = wv->hash_mode;
		v->encap = wv->encap;
		if (!is_new && (vip_changed || full)) {
			struct xlb_vip curv;

			if (bpf_map_lookup_elem(d->dp.fd[XLB_DP_VIPS], &v->key, &curv) ||
			    curv.id != v->id || curv.ring_size != v->ring_size ||
			    curv.hash_mode != v->hash_mode || curv.encap != v->encap ||
			    curv.flags) {
				if (!vip_changed)
					pr_info("repairing xlb_vips entry of %s\n", vs);
				ret = xlbd_write_vip(d, v);
				if (ret) {
					xlb_errf(err, errlen, ret,
						 "VIP %s: cannot update it: %s", vs,
						 strerror(-ret));
					goto out;
				}
			}
		}
	}

	/* The rings of new VIPs, in one batch, before anything points to them. */
	ret = xlbd_flush_rings(d);
	if (ret) {
		xlb_errf(err, errlen, ret,
			 "cannot put new rings into xlb_rings: %s", strerror(-ret));
		goto out;
	}

	/* C. Address refcounts, before new VIPs appear and after removed ones went. */
	ret = sync_addrs(d, want, gone, ngone, full);
	if (ret) {
		xlb_errf(err, errlen, ret, "cannot write xlb_vip_addrs: %s", strerror(-ret));
		goto out;
	}

	/* D. New VIPs go live last. */
	for (size_t i = 0; i < want->nvips; i++) {
		struct rt_vip *v = xlbd_find_vip(d, &want->vips[i].key);
		struct xlb_vip curv;

		if (!v || !bpf_map_lookup_elem(d->dp.fd[XLB_DP_VIPS], &v->key, &curv))
			continue;
		ret = xlbd_write_vip(d, v);
		if (ret) {
			xlb_errf(err, errlen, ret, "VIP %s: cannot add it: %s",
				 xlb_vip_str(&v->key, vs), strerror(-ret));
			goto out;
		}
	}

	/* E. Removed VIPs: ring and reals last (rings in one batch: one grace period). */
	if (ngone) {
		__u32 *ids = calloc(ngone, sizeof(*ids)), count = 0;

		for (size_t g = 0; ids && g < ngone; g++) {
			struct rt_vip *v = xlbd_find_vip(d, &gone[g]);

			if (v)
				ids[count++] = v->id;
		}
		if (ids && count)
			bpf_map_delete_batch(d->dp.fd[XLB_DP_RINGS], ids, &count, NULL);
		free(ids);
	}
	for (size_t g = 0; g < ngone; g++) {
		for (size_t i = 0; i < d->nvips; i++) {
			if (!memcmp(&d->vips[i].key, &gone[g], sizeof(gone[g]))) {
				remove_vip_model(d, i);
				break;
			}
		}
	}
	if (full)
		sweep_vips(d);
out:
	/* Rings still pending (failed before the flush): in anyway, the model has them. */
	xlbd_flush_rings(d);
	if (full)
		memo_end();
	free(table);
	free(gone);
	return ret;
}

/* ---- health ---- */

int xlbd_set_real_down(struct xlbd *d, const struct xlb_vip_key *vip, const union xlb_addr *addr,
		       __u8 family, bool down)
{
	struct rt_vip *v = xlbd_find_vip(d, vip);
	struct rt_real *r = v ? xlbd_find_real(v, addr, family) : NULL;
	char err[256];
	int ret;

	if (!r)
		return -ENOENT;
	if (r->down == down)
		return 0;
	r->down = down;
	if (!down) {
		ret = xlbd_write_real(d, r, 0);
		if (ret)
			return ret;
	}
	ret = xlbd_reconcile(d, &d->want, 0, err, sizeof(err));
	if (ret) {
		pr_warn("real marked %s: %s\n", down ? "down" : "up", err);
		return ret;
	}
	return down ? xlbd_write_real(d, r, XLB_REAL_F_DOWN) : 0;
}

int xlbd_set_reals_down(struct xlbd *d, struct rt_vip *v, const bool *down)
{
	size_t n = v->nreals;
	bool *going = calloc(n ? n : 1, sizeof(*going));
	char err[256];
	int ret = 0;

	if (!going)
		return -ENOMEM;
	/* Coming up: the flag goes first, so the ring never points to a flagged real. */
	for (size_t j = 0; j < n; j++) {
		struct rt_real *r = &v->reals[j];

		if (r->down && !down[j]) {
			r->down = false;
			ret = xlbd_write_real(d, r, 0);
			if (ret)
				goto out;
		} else if (!r->down && down[j]) {
			r->down = true;
			going[j] = true;
		}
	}
	ret = xlbd_reconcile(d, &d->want, 0, err, sizeof(err));
	if (ret) {
		pr_warn("health states: %s\n", err);
		goto out;
	}
	/* Going down: out of the ring now, flag them so their flows reselect. */
	for (size_t j = 0; j < n && j < v->nreals; j++)
		if (going[j] && v->reals[j].down)
			ret = xlbd_write_real(d, &v->reals[j], XLB_REAL_F_DOWN) ?: ret;
out:
	free(going);
	return ret;
}

/* ---- housekeeping ---- */

void xlbd_tick(struct xlbd *d)
{
	long long now = xlb_now_ms();
	bool routes = now - d->last_route_check_ms >= XLBD_VERIFY_MS;
	bool changed = false;
	char err[256];

	xlbd_expire_quarantine(d);
	if (routes) {
		d->last_route_check_ms = now;
		memo_begin(d);
	}
	for (size_t i = 0; i < d->nvips; i++) {
		struct rt_vip *v = &d->vips[i];

		for (size_t j = 0; j < v->nreals; j++) {
			struct rt_real *r = &v->reals[j];

			if ((r->mac_ok && !routes) || (!r->mac_ok && now < r->next_try_ms))
				continue;
			if (resolve(d, r, true)) {
				xlbd_write_real(d, r, r->down ? XLB_REAL_F_DOWN : 0);
				changed = true;
			}
		}
	}
	if (routes)
		memo_end();
	/* One ring a tick is read back and repaired: drift is found without a stall. */
	if (d->nvips) {
		d->vips[d->verify_cursor++ % d->nvips].verify_ring = true;
		changed = true;
	}
	if (changed && xlbd_reconcile(d, &d->want, 0, err, sizeof(err)))
		pr_warn("reconcile after next-hop changes: %s\n", err);
}

void xlbd_neigh_event(void *ctx, __u8 family, const union xlb_addr *addr, int ifindex,
		      const __u8 mac[6], bool valid)
{
	struct xlbd *d = ctx;
	bool changed = false;
	char err[256], as[XLB_ADDR_STRLEN], hs[XLB_ADDR_STRLEN];

	for (size_t i = 0; i < d->nvips; i++) {
		struct rt_vip *v = &d->vips[i];

		for (size_t j = 0; j < v->nreals; j++) {
			struct rt_real *r = &v->reals[j];

			if (r->via_family != family || memcmp(&r->via, addr, sizeof(*addr)) ||
			    (r->oif && r->oif != ifindex))
				continue;
			if (!valid) {
				/* Keep forwarding to the MAC we know; the tick re-resolves. */
				continue;
			}
			if (r->mac_ok && !memcmp(r->mac, mac, 6))
				continue;
			memcpy(r->mac, mac, 6);
			r->mac_ok = true;
			xlbd_write_real(d, r, r->down ? XLB_REAL_F_DOWN : 0);
			pr_info("real %s: next hop %s is %02x:%02x:%02x:%02x:%02x:%02x\n",
				xlb_addr_str(&r->addr, r->family, as),
				xlb_addr_str(addr, family, hs), mac[0], mac[1], mac[2], mac[3],
				mac[4], mac[5]);
			changed = true;
		}
	}
	if (changed && xlbd_reconcile(d, &d->want, 0, err, sizeof(err)))
		pr_warn("reconcile after a neighbour update: %s\n", err);
}

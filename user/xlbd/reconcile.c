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
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdarg.h>
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
#include "xlbd.h"

static bool dead_tmp[XLB_MAX_REALS];

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

static struct rt_real *find_real(struct rt_vip *v, const union xlb_addr *a, __u8 family)
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

static size_t free_indices(struct xlbd *d)
{
	size_t n = 0;

	for (__u32 i = 1; i < XLB_MAX_REALS; i++)
		n += d->real_state[i] == RT_FREE;
	return n;
}

static __u32 alloc_index(struct xlbd *d)
{
	for (__u32 i = 1; i < XLB_MAX_REALS; i++) {
		if (d->real_state[i] == RT_FREE) {
			d->real_state[i] = RT_USED;
			return i;
		}
	}
	return 0;
}

static int alloc_vip_id(struct xlbd *d, __u32 *id)
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

static int write_real(struct xlbd *d, const struct rt_real *r, __u8 flags)
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
static void quarantine(struct xlbd *d, const struct rt_real *r)
{
	char as[XLB_ADDR_STRLEN];
	int err = write_real(d, r, XLB_REAL_F_DOWN);

	if (err)
		pr_warn("real index %u (%s): cannot flag it down: %s\n", r->index,
			xlb_addr_str(&r->addr, r->family, as), strerror(-err));
	d->real_state[r->index] = RT_QUARANTINE;
	d->q_until[r->index] = xlb_now_ms() + d->quarantine_ms;
	d->nquarantine++;
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
			if (!rv || !find_real(rv, &r->addr, r->family))
				needed++;
		}
	}
	avail = free_indices(d);
	if (needed > avail)
		return xlb_errf(err, errlen, -ENOSPC,
				"no free real index for %zu new (VIP, real) pairs: %zu free, %zu in "
				"quarantine for up to %lld s", needed, avail, d->nquarantine,
				d->quarantine_ms / 1000);
	return 0;
}

static void cache_ring(struct rt_vip *v, __u32 size, const __u32 *table);

/* ---- adoption ---- */

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
		cache_ring(v, size, table);
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

			if (!v || find_real(v, &reals[i].addr, reals[i].family) ||
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
			quarantine(d, &tmp);
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

/* ---- rings ---- */

static int build_table(struct xlbd *d, const struct rt_vip *v, __u32 size, __u32 seed,
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

static int write_vip(struct xlbd *d, const struct rt_vip *v)
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

/*
 * Brings the ring of v to table (size slots). in_vips: v is already in
 * xlb_vips, so a size change must be ordered against its ring_size.
 */
/* Keeps a copy of what the ring holds now, so the next change need not read it back. */
static void cache_ring(struct rt_vip *v, __u32 size, const __u32 *table)
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
static int flush_pending(struct xlbd *d)
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

static int sync_ring(struct xlbd *d, struct rt_vip *v, __u32 size, const __u32 *table,
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
			cache_ring(v, size, table);
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
		cache_ring(v, size, table);
		goto out;
	}
	if (in_vips && fd >= 0 && size < cur_size) {
		/* Shrinking: slots computed with the new size exist in the old ring. */
		v->ring_size = size;
		err = write_vip(d, v);
	}
	if (!err && bpf_map_update_elem(d->dp.fd[XLB_DP_RINGS], &v->id, &nfd, BPF_ANY))
		err = -errno;
	if (!err && in_vips && v->ring_size != size) {
		/* Growing (or no ring before): the new ring covers the old size. */
		v->ring_size = size;
		err = write_vip(d, v);
	}
	v->ring_size = size;
	close(nfd);
	if (!err)
		cache_ring(v, size, table);
out:
	if (fd >= 0)
		close(fd);
	free(old);
	free(slots);
	return err;
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
		quarantine(d, &v->reals[j]);
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
		struct rt_real *r = find_real(v, &wr->addr, wr->family), *nr;

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
		r->index = alloc_index(d);
		if (!r->index)
			return -ENOSPC;
		v->nreals++;
		resolve(d, r, true);
		xlb_dp__zero_stats(&d->dp, XLB_DP_REAL_STATS, r->index);
		err = write_real(d, r, 0);
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
			write_real(d, r, r->down ? XLB_REAL_F_DOWN : 0);
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
				write_real(d, r, exp.flags);
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
			if (alloc_vip_id(d, &v->id)) {
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
			ret = build_table(d, v, wv->ring_size, eff.hash_seed, table);
			if (!ret)
				ret = sync_ring(d, v, wv->ring_size, table, !is_new,
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
			quarantine(d, r);
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
				ret = write_vip(d, v);
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
	ret = flush_pending(d);
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
		ret = write_vip(d, v);
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
	if (npend) {
		/* Failed before the flush: put them in anyway, the model has them. */
		flush_pending(d);
	}
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
	struct rt_real *r = v ? find_real(v, addr, family) : NULL;
	char err[256];
	int ret;

	if (!r)
		return -ENOENT;
	if (r->down == down)
		return 0;
	r->down = down;
	if (!down) {
		ret = write_real(d, r, 0);
		if (ret)
			return ret;
	}
	ret = xlbd_reconcile(d, &d->want, 0, err, sizeof(err));
	if (ret) {
		pr_warn("real marked %s: %s\n", down ? "down" : "up", err);
		return ret;
	}
	return down ? write_real(d, r, XLB_REAL_F_DOWN) : 0;
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
			ret = write_real(d, r, 0);
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
			ret = write_real(d, &v->reals[j], XLB_REAL_F_DOWN) ?: ret;
out:
	free(going);
	return ret;
}

/* ---- housekeeping ---- */

static void expire_quarantine(struct xlbd *d)
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

void xlbd_tick(struct xlbd *d)
{
	long long now = xlb_now_ms();
	bool routes = now - d->last_route_check_ms >= XLBD_VERIFY_MS;
	bool changed = false;
	char err[256];

	expire_quarantine(d);
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
				write_real(d, r, r->down ? XLB_REAL_F_DOWN : 0);
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
			write_real(d, r, r->down ? XLB_REAL_F_DOWN : 0);
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

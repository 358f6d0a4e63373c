// SPDX-License-Identifier: GPL-2.0-only
/*
 * Health checking in xlbd (see health.h): the probe engine in the event
 * loop, the targets of the desired state's (VIP, real) pairs, and the
 * policy that turns health into ring membership.
 *
 * Targets live in their own records (struct htarget, stable addresses: the
 * engine's `user` pointer), keyed by (VIP, real address) in a tree, because
 * xlbd's rt_real arrays move on every change; rt_real.health_id is the
 * engine id of its target, refreshed by every sync. Per VIP, the data plane
 * gets rt_real.down = health down, except when every real with weight > 0
 * is down and the VIP fails open: then none is (the ring is built from all
 * of them, as if health checks were off). Drained reals (weight 0) stay
 * out of the ring whatever their health; their down flag still follows
 * health, so the flows they keep move away when they die.
 */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "addr.h"
#include "api.h"
#include "health.h"
#include "health_json.h"
#include "log.h"
#include "xlbd.h"

struct htarget {
	struct xlb_vip_key vip;		/* key: VIP, real family and address */
	union xlb_addr addr;
	__u8 family;
	__u64 id;			/* engine id */
	__u64 gen;			/* last sync that wanted it */
	bool down;			/* the engine's state */
	char *sig;			/* the config it was added with (JSON), to spot changes */
};

struct hvip {
	struct xlb_vip_key key;
	__u64 all_down_events;
	bool all_down;
};

static struct xlb_health *eng;
static struct xlbd_watch *watch;
static void *tree;			/* of struct htarget *, by key */
static struct htarget **targets;
static size_t ntargets, cap_targets;
static struct hvip *hvips;
static size_t nhvips;
static __u64 cur_gen;

static int tcmp(const void *a, const void *b)
{
	const struct htarget *x = a, *y = b;
	int c = memcmp(&x->vip, &y->vip, sizeof(x->vip));

	if (c)
		return c;
	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

static struct htarget *find_target(const struct xlb_vip_key *vip, const union xlb_addr *addr,
				   __u8 family)
{
	struct htarget k = { .vip = *vip, .addr = *addr, .family = family };
	void *p = tfind(&k, &tree, tcmp);

	return p ? *(struct htarget **)p : NULL;
}

static struct hvip *find_hvip(const struct xlb_vip_key *key, bool create)
{
	struct hvip *n;

	for (size_t i = 0; i < nhvips; i++)
		if (!memcmp(&hvips[i].key, key, sizeof(*key)))
			return &hvips[i];
	if (!create)
		return NULL;
	n = realloc(hvips, (nhvips + 1) * sizeof(*n));
	if (!n)
		return NULL;
	hvips = n;
	n = &hvips[nhvips++];
	memset(n, 0, sizeof(*n));
	n->key = *key;
	return n;
}

static struct rt_real *rt_find_real(struct rt_vip *v, const union xlb_addr *a, __u8 family)
{
	for (size_t i = 0; v && i < v->nreals; i++)
		if (v->reals[i].family == family && !memcmp(&v->reals[i].addr, a, sizeof(*a)))
			return &v->reals[i];
	return NULL;
}

/*
 * Brings the data plane of one VIP in line with its reals' health and the
 * all-down policy. Logs entering and leaving the all-down state.
 */
static int apply_vip(struct xlbd *d, const struct xlb_vip_cfg *wv)
{
	struct rt_vip *v = xlbd_find_vip(d, &wv->key);
	size_t ncand = 0, ndown = 0;
	struct hvip *hv;
	bool all_down, *want = NULL, change = false;
	char vs[XLB_VIP_STRLEN];
	int ret = 0;

	if (!v || !v->nreals)
		return 0;
	want = calloc(v->nreals, sizeof(*want));
	if (!want)
		return -ENOMEM;
	for (size_t j = 0; j < v->nreals; j++) {
		struct rt_real *r = &v->reals[j];
		const struct xlb_real_cfg *wr = xlb_vip_cfg__find_real(wv, &r->addr, r->family);
		struct htarget *t = find_target(&wv->key, &r->addr, r->family);

		want[j] = t && t->down;
		if (wr && wr->weight) {
			ncand++;
			ndown += want[j];
		}
	}
	all_down = ncand && ndown == ncand;
	hv = find_hvip(&wv->key, true);
	xlb_vip_str(&wv->key, vs);
	if (hv && hv->all_down != all_down) {
		hv->all_down = all_down;
		if (all_down) {
			hv->all_down_events++;
			if (wv->all_down == XLB_ALL_DOWN_FAIL_OPEN)
				pr_warn("VIP %s: all %zu reals are down: failing open, forwarding to "
					"all of them (all_down fail_open)\n", vs, ncand);
			else
				pr_warn("VIP %s: all %zu reals are down: dropping its packets "
					"(all_down drop)\n", vs, ncand);
		} else {
			pr_info("VIP %s: a real is up again: %zu of %zu reals up\n", vs,
				ncand - ndown, ncand);
		}
	}
	if (all_down && wv->all_down == XLB_ALL_DOWN_FAIL_OPEN)
		memset(want, 0, v->nreals * sizeof(*want));
	for (size_t j = 0; j < v->nreals; j++)
		change |= v->reals[j].down != want[j];
	if (change)
		ret = xlbd_set_reals_down(d, v, want);
	if (ret)
		pr_warn("VIP %s: cannot apply health states to the maps: %s\n", vs, strerror(-ret));
	free(want);
	return ret;
}

static void on_change(void *ctx, void *user, __u64 id, enum xlb_health_state state,
		      const char *reason)
{
	struct xlbd *d = ctx;
	struct htarget *t = user;
	const struct xlb_vip_cfg *wv = xlb_state__find_vip(&d->want, &t->vip);
	const struct xlb_real_cfg *wr = wv ? xlb_vip_cfg__find_real(wv, &t->addr, t->family) :
					     NULL;
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];

	t->down = state == XLB_HEALTH_DOWN;
	xlb_vip_str(&t->vip, vs);
	xlb_addr_str(&t->addr, t->family, as);
	if (t->down)
		pr_warn("real %s of VIP %s down: %s%s\n", as, vs, reason,
			wr && !wr->weight ? " (drained: it was out of the ring already)" : "");
	else
		pr_info("real %s of VIP %s up: %s%s\n", as, vs, reason,
			wr && !wr->weight ? " (drained: it stays out of the ring)" : "");
	if (wv)
		apply_vip(d, wv);
}

static void on_probe(void *ctx, void *user, __u64 id, const struct xlb_health_probe *p)
{
	if (xlbd_metrics_on_probe)
		xlbd_metrics_on_probe(ctx, p);
}

static void on_fd(void *ctx, int fd, uint32_t events)
{
	int ret = xlb_health__dispatch(eng);

	if (ret)
		pr_debug("health dispatch: %s\n", strerror(-ret));
}

int xlbd_health_start(struct xlbd *d)
{
	struct xlb_health_opts o = { .ctx = d, .on_change = on_change, .on_probe = on_probe };
	char host[256] = "";
	struct rlimit rl;

	/* Per LB host, so several LB hosts do not probe a real in step. */
	gethostname(host, sizeof(host) - 1);
	for (const char *p = host; *p; p++)
		o.seed = (o.seed ^ (unsigned char)*p) * 1099511628211ULL;
	/* One fd per probe in flight: the default soft limit is low for thousands. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	eng = xlb_health__new(&o);
	if (!eng) {
		pr_warn("health checks: cannot start the probe engine: %s\n", strerror(errno));
		return -errno;
	}
	watch = xlbd_loop_add_fd(d->loop, xlb_health__fd(eng), EPOLLIN, on_fd, d);
	if (!watch) {
		int err = -errno;

		pr_warn("health checks: event loop: %s\n", strerror(-err));
		xlb_health__free(eng);
		eng = NULL;
		return err;
	}
	return 0;
}

static void free_target(void *p)
{
	struct htarget *t = p;

	free(t->sig);
	free(t);
}

void xlbd_health_stop(struct xlbd *d)
{
	if (watch)
		xlbd_loop_del(d->loop, watch);
	watch = NULL;
	xlb_health__free(eng);
	eng = NULL;
	tdestroy(tree, free_target);
	tree = NULL;
	free(targets);
	targets = NULL;
	ntargets = cap_targets = 0;
	free(hvips);
	hvips = NULL;
	nhvips = 0;
}

/* The check's identity: the two specs as JSON and the target address. */
static char *signature(const struct xlb_vip_cfg *wv, const struct xlb_real_cfg *wr)
{
	json_t *o = json_object();
	char *s = NULL, as[XLB_ADDR_STRLEN];

	if (!o)
		return NULL;
	json_object_set_new(o, "a", json_string(xlb_addr_str(&wr->addr, wr->family, as)));
	if (wv->health)
		json_object_set_new(o, "v", xlb_health_spec__to_json(wv->health));
	if (wr->health)
		json_object_set_new(o, "r", xlb_health_spec__to_json(wr->health));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static int add_or_update(struct xlbd *d, const struct xlb_vip_cfg *wv,
			 const struct xlb_real_cfg *wr, struct htarget **out)
{
	struct xlb_health_target_cfg cfg;
	struct xlb_health_status st;
	struct htarget *t = find_target(&wv->key, &wr->addr, wr->family);
	char err[256], vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];
	char *sig = signature(wv, wr);
	int ret;

	*out = t;
	if (!sig)
		return -ENOMEM;
	if (t && t->sig && !strcmp(t->sig, sig)) {
		free(sig);
		return 0;
	}
	xlb_vip_str(&wv->key, vs);
	xlb_addr_str(&wr->addr, wr->family, as);
	ret = xlb_real_cfg__health_target(wv, wr, &cfg, err, sizeof(err));
	if (ret) {
		/* Validation refuses such states; only a bug gets here. */
		pr_warn("VIP %s: real %s: %s\n", vs, as, err);
		free(sig);
		return ret;
	}
	if (t) {
		ret = xlb_health__update_target(eng, t->id, &cfg);
		if (ret) {
			pr_warn("VIP %s: real %s: cannot update its check: %s\n", vs, as,
				strerror(-ret));
			free(sig);
			return ret;
		}
		free(t->sig);
		t->sig = sig;
		pr_info("VIP %s: real %s: %s check updated\n", vs, as,
			xlb_health__kind_str(cfg.kind));
		return 0;
	}
	if (ntargets == cap_targets) {
		size_t ncap = cap_targets ? 2 * cap_targets : 64;
		struct htarget **nt = realloc(targets, ncap * sizeof(*nt));

		if (!nt)
			goto nomem;
		targets = nt;
		cap_targets = ncap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto nomem;
	t->vip = wv->key;
	t->addr = wr->addr;
	t->family = wr->family;
	t->sig = sig;
	ret = xlb_health__add_target(eng, &cfg, t, &t->id);
	if (ret) {
		pr_warn("VIP %s: real %s: cannot add its check: %s\n", vs, as, strerror(-ret));
		free_target(t);
		return ret;
	}
	if (!tsearch(t, &tree, tcmp)) {
		xlb_health__remove_target(eng, t->id);
		free_target(t);
		return -ENOMEM;
	}
	targets[ntargets++] = t;
	/* The initial state is not announced: read it (init up or down). */
	if (!xlb_health__get(eng, t->id, &st))
		t->down = st.state == XLB_HEALTH_DOWN;
	pr_debug("VIP %s: real %s: %s check added (id %llu)\n", vs, as,
		 xlb_health__kind_str(cfg.kind), (unsigned long long)t->id);
	*out = t;
	return 0;
nomem:
	free(sig);
	return -ENOMEM;
}

int xlbd_health_sync(struct xlbd *d)
{
	int ret = 0, err;

	if (!eng)
		return 0;
	cur_gen++;
	for (size_t i = 0; i < d->want.nvips; i++) {
		const struct xlb_vip_cfg *wv = &d->want.vips[i];
		struct rt_vip *v = xlbd_find_vip(d, &wv->key);

		for (size_t j = 0; j < wv->nreals; j++) {
			const struct xlb_real_cfg *wr = &wv->reals[j];
			struct rt_real *r = rt_find_real(v, &wr->addr, wr->family);
			struct htarget *t = NULL;

			if (wv->health || wr->health) {
				err = add_or_update(d, wv, wr, &t);
				if (err)
					ret = err;
				if (t)
					t->gen = cur_gen;
			}
			if (r)
				r->health_id = t ? t->id : 0;
		}
	}
	/* Targets nobody wants any more. */
	for (size_t i = 0; i < ntargets;) {
		struct htarget *t = targets[i];

		if (t->gen == cur_gen) {
			i++;
			continue;
		}
		xlb_health__remove_target(eng, t->id);
		tdelete(t, &tree, tcmp);
		free_target(t);
		targets[i] = targets[--ntargets];
	}
	for (size_t i = 0; i < nhvips;) {
		if (xlb_state__find_vip(&d->want, &hvips[i].key)) {
			i++;
			continue;
		}
		hvips[i] = hvips[--nhvips];
	}
	for (size_t i = 0; i < d->want.nvips; i++) {
		err = apply_vip(d, &d->want.vips[i]);
		if (err)
			ret = err;
	}
	return ret;
}

int xlbd_health_real_status(const struct xlbd *d, const struct rt_real *r,
			    struct xlb_health_status *st)
{
	if (!eng || !r->health_id)
		return -ENOENT;
	return xlb_health__get(eng, r->health_id, st);
}

int xlbd_health_vip_status(const struct xlbd *d, const struct rt_vip *v,
			   struct xlbd_health_vip_status *st)
{
	const struct xlb_vip_cfg *wv = xlb_state__find_vip(&d->want, &v->key);
	const struct hvip *hv = find_hvip(&v->key, false);

	if (!wv)
		return -ENOENT;
	memset(st, 0, sizeof(*st));
	st->fail_open = wv->all_down == XLB_ALL_DOWN_FAIL_OPEN;
	if (hv) {
		st->all_down = hv->all_down;
		st->all_down_events = hv->all_down_events;
	}
	return 0;
}

/* ---- control API ---- */

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void xlbd_health_list_vip(const struct xlbd *d, const struct rt_vip *v, json_t *o)
{
	struct xlbd_health_vip_status hs;

	if (!v || xlbd_health_vip_status(d, v, &hs))
		return;
	json_object_set_new(o, "all_down", json_string(hs.fail_open ? "fail_open" : "drop"));
	json_object_set_new(o, "all_reals_down", json_boolean(hs.all_down));
	json_object_set_new(o, "all_down_events", json_integer(hs.all_down_events));
}

void xlbd_health_list_real(const struct xlbd *d, const struct rt_real *r, json_t *o)
{
	struct xlb_health_status st;

	if (!r || xlbd_health_real_status(d, r, &st)) {
		json_object_set_new(o, "health", json_string("unchecked"));
		return;
	}
	json_object_set_new(o, "health", json_string(xlb_health__state_str(st.state)));
}

json_t *xlbd_health_verb(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	const char *k, *vs_req = NULL;
	struct xlb_vip_key only;
	json_t *val, *vips, *res;
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];
	__u64 now = now_ns();

	json_object_foreach(req, k, val) {
		if (!strcmp(k, "verb"))
			continue;
		if (strcmp(k, "vip")) {
			snprintf(err, errlen, "health: unknown key \"%s\" (accepted: vip)", k);
			return NULL;
		}
		if (!json_is_string(val)) {
			snprintf(err, errlen, "health: \"vip\" must be a string");
			return NULL;
		}
		vs_req = json_string_value(val);
	}
	if (vs_req && xlb_vip_parse(vs_req, &only, err, errlen))
		return NULL;
	if (vs_req && !xlb_state__find_vip(&d->want, &only)) {
		snprintf(err, errlen, "VIP %s does not exist", xlb_vip_str(&only, vs));
		return NULL;
	}
	vips = json_array();
	for (size_t i = 0; vips && i < d->want.nvips; i++) {
		const struct xlb_vip_cfg *wv = &d->want.vips[i];
		struct rt_vip *v = xlbd_find_vip(d, &wv->key);
		json_t *vo, *reals = json_array();

		if (vs_req && memcmp(&wv->key, &only, sizeof(only)))
			continue;
		vo = json_pack("{s:s}", "vip", xlb_vip_str(&wv->key, vs));
		if (wv->health)
			json_object_set_new(vo, "check", xlb_health_spec__to_json(wv->health));
		if (v)
			xlbd_health_list_vip(d, v, vo);
		for (size_t j = 0; j < wv->nreals; j++) {
			const struct xlb_real_cfg *wr = &wv->reals[j];
			struct rt_real *r = rt_find_real(v, &wr->addr, wr->family);
			struct xlb_health_status st;
			json_t *ro = json_pack("{s:s, s:i}", "address",
					       xlb_addr_str(&wr->addr, wr->family, as), "weight",
					       (int)wr->weight);

			if (r) {
				json_object_set_new(ro, "in_ring", json_boolean(r->eff_weight > 0));
				json_object_set_new(ro, "state", json_string(
					xlbd_real_state_name(r, wr->weight)));
			}
			if (r && !xlbd_health_real_status(d, r, &st))
				json_object_set_new(ro, "health", xlb_health_status__to_json(&st, now));
			else
				json_object_set_new(ro, "health", json_null());
			json_array_append_new(reals, ro);
		}
		json_object_set_new(vo, "reals", reals);
		json_array_append_new(vips, vo);
	}
	res = json_pack("{s:o}", "vips", vips);
	return xlb_api_ok(res);
}

/*
 * Reads "health" (object, or null to remove) and "all_down" from a request
 * into spec/has_spec and *all_down (-1 when absent). 0 or -EINVAL + err.
 */
int xlbd_health_req(json_t *req, struct xlb_health_spec **spec, bool *has_spec, int *all_down,
		    char *err, size_t errlen)
{
	json_t *h = json_object_get(req, "health"), *ad = json_object_get(req, "all_down");
	int ret;

	*spec = NULL;
	*has_spec = h != NULL;
	*all_down = -1;
	if (ad) {
		*all_down = xlb_all_down_parse(json_string_value(ad));
		if (*all_down < 0) {
			snprintf(err, errlen, "\"all_down\" must be \"fail_open\" or \"drop\"");
			return -EINVAL;
		}
	}
	if (!h || json_is_null(h))
		return 0;
	*spec = calloc(1, sizeof(**spec));
	if (!*spec) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = xlb_health_spec__from_json(*spec, h, err, errlen);
	if (ret) {
		free(*spec);
		*spec = NULL;
	}
	return ret;
}

void xlbd_health_spec_free(struct xlb_health_spec *spec)
{
	if (spec) {
		xlb_health_spec__free(spec);
		free(spec);
	}
}

json_t *xlbd_set_health_verb(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	struct xlb_health_spec *spec = NULL;
	struct xlb_vip_key key;
	union xlb_addr addr;
	struct xlb_state next;
	const char *k, *vs, *rs = NULL;
	json_t *val;
	bool has_spec;
	__u8 family = 0;
	int all_down, ret;

	json_object_foreach(req, k, val) {
		if (strcmp(k, "verb") && strcmp(k, "vip") && strcmp(k, "real") &&
		    strcmp(k, "health") && strcmp(k, "all_down")) {
			snprintf(err, errlen, "set-health: unknown key \"%s\" (accepted: vip, real, "
				 "health, all_down)", k);
			return NULL;
		}
	}
	vs = json_string_value(json_object_get(req, "vip"));
	if (!vs) {
		snprintf(err, errlen, "set-health: \"vip\" (a string) is required");
		return NULL;
	}
	if (xlb_vip_parse(vs, &key, err, errlen))
		return NULL;
	if (json_object_get(req, "real")) {
		rs = json_string_value(json_object_get(req, "real"));
		if (!rs || xlb_addr_parse(rs, XLB_AF_NONE, &addr, &family, err, errlen)) {
			if (!rs)
				snprintf(err, errlen, "set-health: \"real\" must be a string");
			return NULL;
		}
	}
	if (xlbd_health_req(req, &spec, &has_spec, &all_down, err, errlen))
		return NULL;
	if (rs && all_down >= 0) {
		snprintf(err, errlen, "\"all_down\" is a VIP's policy: set it without a real");
		xlbd_health_spec_free(spec);
		return NULL;
	}
	if (xlb_state__copy(&next, &d->want)) {
		snprintf(err, errlen, "out of memory");
		xlbd_health_spec_free(spec);
		return NULL;
	}
	if (has_spec || all_down >= 0) {
		const struct xlb_vip_cfg *cv = xlb_state__find_vip(&next, &key);
		const struct xlb_real_cfg *cr = cv && rs ? xlb_vip_cfg__find_real(cv, &addr, family) :
						NULL;
		const struct xlb_health_spec *keep = rs ? (cr ? cr->health : NULL) :
						     (cv ? cv->health : NULL);

		ret = xlb_state__set_health(&next, &key, rs ? &addr : NULL, family,
					    has_spec ? spec : keep, all_down, err, errlen);
	} else {
		ret = -EINVAL;
		snprintf(err, errlen, "set-health: nothing to set (give \"health\" or \"all_down\")");
	}
	xlbd_health_spec_free(spec);
	if (!ret)
		ret = xlbd_apply(d, &next, err, errlen);
	xlb_state__free(&next);
	return ret ? NULL : xlb_api_ok(NULL);
}

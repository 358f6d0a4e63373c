// SPDX-License-Identifier: GPL-2.0-only
/*
 * Desired state: the in-memory model, its checks and its edits (JSON form
 * and persistence are in state_json.c). See state.h for the format. VIPs
 * are kept sorted by key and reals by address so that dumps are stable and
 * equal states compare equal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "state.h"
#include "addr.h"
#include "health_json.h"
#include "log.h"
#include "maglev.h"
#include "state_priv.h"

static const char *const hash_names[XLB_HASH__MAX] = {
	[XLB_HASH_5TUPLE] = "5tuple",
	[XLB_HASH_SRC_IP] = "src-ip",
	[XLB_HASH_SRC_IP_DPORT] = "src-ip-dport",
};

static const char *const encap_names[XLB_ENCAP__MAX] = {
	[XLB_ENCAP_IPIP] = "ipip",
	[XLB_ENCAP_GUE] = "gue",
};

int xlb_hash_mode_parse(const char *s)
{
	for (int i = 0; i < XLB_HASH__MAX; i++)
		if (s && !strcmp(s, hash_names[i]))
			return i;
	return -EINVAL;
}

const char *xlb_hash_mode_name(__u8 mode)
{
	return mode < XLB_HASH__MAX ? hash_names[mode] : "?";
}

int xlb_encap_parse(const char *s)
{
	for (int i = 0; i < XLB_ENCAP__MAX; i++)
		if (s && !strcmp(s, encap_names[i]))
			return i;
	return -EINVAL;
}

const char *xlb_encap_name(__u8 encap)
{
	return encap < XLB_ENCAP__MAX ? encap_names[encap] : "?";
}

static const char *const all_down_names[] = {
	[XLB_ALL_DOWN_FAIL_OPEN] = "fail_open",
	[XLB_ALL_DOWN_DROP] = "drop",
};

int xlb_all_down_parse(const char *s)
{
	for (int i = 0; i <= XLB_ALL_DOWN_DROP; i++)
		if (s && !strcmp(s, all_down_names[i]))
			return i;
	return -EINVAL;
}

const char *xlb_all_down_name(__u8 v)
{
	return v <= XLB_ALL_DOWN_DROP ? all_down_names[v] : "?";
}

/* A heap copy of spec (NULL stays NULL). 0 or -ENOMEM. */
static int spec_dup(struct xlb_health_spec **dst, const struct xlb_health_spec *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = calloc(1, sizeof(**dst));
	if (!*dst || xlb_health_spec__copy(*dst, src)) {
		free(*dst);
		*dst = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void spec_free(struct xlb_health_spec **s)
{
	if (*s) {
		xlb_health_spec__free(*s);
		free(*s);
		*s = NULL;
	}
}

static bool spec_equal(const struct xlb_health_spec *a, const struct xlb_health_spec *b)
{
	if (!a || !b)
		return a == b;
	return xlb_health_spec__equal(a, b);
}

int xlb_parse_u32(const char *s, __u32 *out)
{
	unsigned long long v = 0;

	if (!s || !*s || strlen(s) > 10)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v > 0xffffffffULL)
		return -EINVAL;
	*out = v;
	return 0;
}

void xlb_state__init(struct xlb_state *st)
{
	memset(st, 0, sizeof(*st));
	st->settings.gue_port = XLB_GUE_PORT_DEFAULT;
	st->settings.flow_table_size = XLB_MAX_FLOWS;
}

void xlb_vip_cfg__free(struct xlb_vip_cfg *v)
{
	for (size_t i = 0; v->reals && i < v->nreals; i++)
		spec_free(&v->reals[i].health);
	spec_free(&v->health);
	free(v->reals);
	v->reals = NULL;
	v->nreals = 0;
}

void xlb_state__free(struct xlb_state *st)
{
	for (size_t i = 0; i < st->nvips; i++)
		xlb_vip_cfg__free(&st->vips[i]);
	free(st->vips);
	st->vips = NULL;
	st->nvips = 0;
}

static int vip_cfg_copy(struct xlb_vip_cfg *dst, const struct xlb_vip_cfg *src)
{
	*dst = *src;
	dst->reals = NULL;
	dst->nreals = 0;
	if (spec_dup(&dst->health, src->health))
		return -ENOMEM;
	if (!src->nreals)
		return 0;
	dst->reals = calloc(src->nreals, sizeof(*src->reals));
	if (!dst->reals)
		goto err_out;
	memcpy(dst->reals, src->reals, src->nreals * sizeof(*src->reals));
	for (size_t i = 0; i < src->nreals; i++)
		dst->reals[i].health = NULL;
	dst->nreals = src->nreals;
	for (size_t i = 0; i < src->nreals; i++)
		if (spec_dup(&dst->reals[i].health, src->reals[i].health))
			goto err_out;
	return 0;
err_out:
	xlb_vip_cfg__free(dst);
	return -ENOMEM;
}

int xlb_state__copy(struct xlb_state *dst, const struct xlb_state *src)
{
	dst->settings = src->settings;
	dst->vips = NULL;
	dst->nvips = 0;
	if (!src->nvips)
		return 0;
	dst->vips = calloc(src->nvips, sizeof(*src->vips));
	if (!dst->vips)
		return -ENOMEM;
	for (size_t i = 0; i < src->nvips; i++) {
		if (vip_cfg_copy(&dst->vips[i], &src->vips[i])) {
			dst->nvips = i;
			xlb_state__free(dst);
			return -ENOMEM;
		}
	}
	dst->nvips = src->nvips;
	return 0;
}

int xlb_real_cfg__cmp(const void *a, const void *b)
{
	const struct xlb_real_cfg *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

int xlb_vip_key__cmp(const struct xlb_vip_key *x, const struct xlb_vip_key *y)
{
	if (x->family != y->family)
		return x->family - y->family;
	int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	if (c)
		return c;
	if (x->proto != y->proto)
		return x->proto - y->proto;
	return (int)ntohs(x->port) - (int)ntohs(y->port);
}

int xlb_vip_cfg__cmp(const void *a, const void *b)
{
	const struct xlb_vip_cfg *x = a, *y = b;

	return xlb_vip_key__cmp(&x->key, &y->key);
}

static bool settings_equal(const struct xlb_settings *a, const struct xlb_settings *b)
{
	return a->has_src_v4 == b->has_src_v4 && a->has_src_v6 == b->has_src_v6 &&
	       (!a->has_src_v4 || a->src_v4 == b->src_v4) &&
	       (!a->has_src_v6 || !memcmp(&a->src_v6, &b->src_v6, sizeof(a->src_v6))) &&
	       a->gue_port == b->gue_port && a->mtu == b->mtu && a->hash_seed == b->hash_seed &&
	       a->flow_table_size == b->flow_table_size;
}

bool xlb_state__equal(const struct xlb_state *a, const struct xlb_state *b)
{
	if (!settings_equal(&a->settings, &b->settings) || a->nvips != b->nvips)
		return false;
	for (size_t i = 0; i < a->nvips; i++) {
		const struct xlb_vip_cfg *x = &a->vips[i], *y = &b->vips[i];

		if (xlb_vip_key__cmp(&x->key, &y->key) || x->ring_size != y->ring_size ||
		    x->hash_mode != y->hash_mode || x->encap != y->encap || x->nreals != y->nreals ||
		    x->all_down != y->all_down || !spec_equal(x->health, y->health))
			return false;
		for (size_t j = 0; j < x->nreals; j++)
			if (xlb_real_cfg__cmp(&x->reals[j], &y->reals[j]) ||
			    x->reals[j].weight != y->reals[j].weight ||
			    !spec_equal(x->reals[j].health, y->reals[j].health))
				return false;
	}
	return true;
}

struct xlb_vip_cfg *xlb_state__find_vip(const struct xlb_state *st, const struct xlb_vip_key *key)
{
	for (size_t i = 0; i < st->nvips; i++)
		if (!xlb_vip_key__cmp(&st->vips[i].key, key))
			return &st->vips[i];
	return NULL;
}

struct xlb_real_cfg *xlb_vip_cfg__find_real(const struct xlb_vip_cfg *v, const union xlb_addr *addr,
					    __u8 family)
{
	for (size_t i = 0; i < v->nreals; i++)
		if (v->reals[i].family == family && !memcmp(&v->reals[i].addr, addr, sizeof(*addr)))
			return &v->reals[i];
	return NULL;
}

int xlb_vip_cfg__validate(const struct xlb_vip_cfg *v, char *err, size_t errlen)
{
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN], primes[512];

	xlb_vip_str(&v->key, vs);
	if (v->hash_mode >= XLB_HASH__MAX)
		return xlb_errf(err, errlen, -EINVAL,
				"VIP %s: unknown hash mode %u", vs, v->hash_mode);
	if (v->encap >= XLB_ENCAP__MAX)
		return xlb_errf(err, errlen, -EINVAL,
				"VIP %s: unknown encapsulation %u", vs, v->encap);
	if (!xlb_maglev__m_valid(v->ring_size))
		return xlb_errf(err, errlen, -EINVAL, "VIP %s: ring size %u is not one of %s", vs,
				v->ring_size, xlb_maglev__m_list(primes, sizeof(primes)));
	if (v->nreals >= XLB_MAX_REALS)
		return xlb_errf(err, errlen, -ENOSPC,
				"VIP %s: %zu reals, at most %u", vs, v->nreals,
				XLB_MAX_REALS - 1);
	for (size_t i = 0; i < v->nreals; i++) {
		const struct xlb_real_cfg *r = &v->reals[i];

		xlb_addr_str(&r->addr, r->family, as);
		if (r->family != XLB_AF_INET && r->family != XLB_AF_INET6)
			return xlb_errf(err, errlen, -EINVAL,
					"VIP %s: real %s has no address family",
					vs, as);
		if (r->weight > XLB_WEIGHT_MAX)
			return xlb_errf(err, errlen, -EINVAL,
					"VIP %s: real %s: weight %u out of range 0..%u", vs, as,
					r->weight, XLB_WEIGHT_MAX);
		for (size_t j = 0; j < i; j++)
			if (!xlb_real_cfg__cmp(r, &v->reals[j]))
				return xlb_errf(err, errlen, -EEXIST,
						"VIP %s: real %s listed twice",
						vs, as);
	}
	if (v->all_down > XLB_ALL_DOWN_DROP)
		return xlb_errf(err, errlen, -EINVAL, "VIP %s: unknown all_down policy %u", vs,
				v->all_down);
	/* Every real's effective check must resolve (port-less VIP: a port is needed). */
	for (size_t i = 0; i < v->nreals; i++) {
		struct xlb_health_target_cfg tc;
		char herr[256];
		int ret;

		if (!v->health && !v->reals[i].health)
			continue;
		ret = xlb_real_cfg__health_target(v, &v->reals[i], &tc, herr, sizeof(herr));
		if (ret)
			return xlb_errf(err, errlen, ret, "VIP %s: real %s: %s", vs,
					xlb_addr_str(&v->reals[i].addr, v->reals[i].family, as),
					herr);
	}
	return 0;
}

int xlb_real_cfg__health_target(const struct xlb_vip_cfg *v, const struct xlb_real_cfg *r,
				struct xlb_health_target_cfg *out, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {};

	if (r->family == XLB_AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, &r->addr, 16);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = r->addr.v4;
	}
	int ret = xlb_health_spec__resolve(v->health, r->health, &ss, ntohs(v->key.port), out, err,
					   errlen);

	if (ret || !out->through_vip)
		return ret;
	/* Through the VIP: a TCP SYN in IPIP over IPv4 (health.h). */
	if (out->kind != XLB_HEALTH_TCP || v->key.family != XLB_AF_INET ||
	    out->addr.ss_family != AF_INET) {
		snprintf(err, errlen, "health: \"through_vip\" needs a tcp check of an IPv4 VIP "
			 "on an IPv4 real");
		return -EINVAL;
	}
	{
		struct sockaddr_in *s4 = (void *)&out->vip;

		memset(&out->vip, 0, sizeof(out->vip));
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = v->key.addr.v4;
	}
	return 0;
}

/* ---- edits ---- */

int xlb_state__add_vip(struct xlb_state *st, const struct xlb_vip_cfg *v, char *err, size_t errlen)
{
	char vs[XLB_VIP_STRLEN];
	struct xlb_vip_cfg *nv;
	size_t total = 0;
	int ret;

	if (xlb_state__find_vip(st, &v->key))
		return xlb_errf(err, errlen, -EEXIST,
				"VIP %s already exists", xlb_vip_str(&v->key, vs));
	if (st->nvips >= XLB_MAX_VIPS)
		return xlb_errf(err, errlen, -ENOSPC, "too many VIPs: at most %u", XLB_MAX_VIPS);
	ret = xlb_vip_cfg__validate(v, err, errlen);
	if (ret)
		return ret;
	for (size_t i = 0; i < st->nvips; i++)
		total += st->vips[i].nreals;
	if (total + v->nreals >= XLB_MAX_REALS)
		return xlb_errf(err, errlen, -ENOSPC, "too many (VIP, real) pairs: at most %u",
				XLB_MAX_REALS - 1);
	nv = realloc(st->vips, (st->nvips + 1) * sizeof(*nv));
	if (!nv)
		return xlb_errf(err, errlen, -ENOMEM, "out of memory");
	st->vips = nv;
	if (vip_cfg_copy(&st->vips[st->nvips], v))
		return xlb_errf(err, errlen, -ENOMEM, "out of memory");
	st->nvips++;
	qsort(st->vips, st->nvips, sizeof(*st->vips), xlb_vip_cfg__cmp);
	return 0;
}

static struct xlb_vip_cfg *need_vip(const struct xlb_state *st, const struct xlb_vip_key *key,
				    char *err, size_t errlen)
{
	struct xlb_vip_cfg *v = xlb_state__find_vip(st, key);
	char vs[XLB_VIP_STRLEN];

	if (!v)
		xlb_errf(err, errlen, -ENOENT, "VIP %s does not exist", xlb_vip_str(key, vs));
	return v;
}

int xlb_state__del_vip(struct xlb_state *st, const struct xlb_vip_key *key, char *err,
		       size_t errlen)
{
	struct xlb_vip_cfg *v = need_vip(st, key, err, errlen);
	size_t i;

	if (!v)
		return -ENOENT;
	i = v - st->vips;
	xlb_vip_cfg__free(v);
	memmove(&st->vips[i], &st->vips[i + 1], (st->nvips - i - 1) * sizeof(*v));
	st->nvips--;
	return 0;
}

int xlb_state__add_real(struct xlb_state *st, const struct xlb_vip_key *key,
			const struct xlb_real_cfg *r, char *err, size_t errlen)
{
	struct xlb_vip_cfg *v = need_vip(st, key, err, errlen);
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];
	struct xlb_real_cfg *nr;
	size_t total = 0;

	if (!v)
		return -ENOENT;
	xlb_vip_str(key, vs);
	xlb_addr_str(&r->addr, r->family, as);
	if (r->family != XLB_AF_INET && r->family != XLB_AF_INET6)
		return xlb_errf(err, errlen, -EINVAL, "real %s: no address family", as);
	if (xlb_vip_cfg__find_real(v, &r->addr, r->family))
		return xlb_errf(err, errlen, -EEXIST, "VIP %s already has real %s", vs, as);
	if (r->weight > XLB_WEIGHT_MAX)
		return xlb_errf(err, errlen, -EINVAL, "weight %u out of range 0..%u", r->weight,
				XLB_WEIGHT_MAX);
	for (size_t i = 0; i < st->nvips; i++)
		total += st->vips[i].nreals;
	if (total + 1 >= XLB_MAX_REALS)
		return xlb_errf(err, errlen, -ENOSPC, "too many (VIP, real) pairs: at most %u",
				XLB_MAX_REALS - 1);
	nr = realloc(v->reals, (v->nreals + 1) * sizeof(*nr));
	if (!nr)
		return xlb_errf(err, errlen, -ENOMEM, "out of memory");
	v->reals = nr;
	v->reals[v->nreals] = *r;
	if (spec_dup(&v->reals[v->nreals].health, r->health))
		return xlb_errf(err, errlen, -ENOMEM, "out of memory");
	v->nreals++;
	qsort(v->reals, v->nreals, sizeof(*v->reals), xlb_real_cfg__cmp);
	return 0;
}

static struct xlb_real_cfg *need_real(struct xlb_vip_cfg *v, const union xlb_addr *addr,
				      __u8 family, char *err, size_t errlen)
{
	struct xlb_real_cfg *r = xlb_vip_cfg__find_real(v, addr, family);
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];

	if (!r)
		xlb_errf(err, errlen, -ENOENT, "VIP %s has no real %s", xlb_vip_str(&v->key, vs),
			 xlb_addr_str(addr, family, as));
	return r;
}

int xlb_state__del_real(struct xlb_state *st, const struct xlb_vip_key *key,
			const union xlb_addr *addr, __u8 family, char *err, size_t errlen)
{
	struct xlb_vip_cfg *v = need_vip(st, key, err, errlen);
	struct xlb_real_cfg *r;
	size_t i;

	if (!v)
		return -ENOENT;
	r = need_real(v, addr, family, err, errlen);
	if (!r)
		return -ENOENT;
	i = r - v->reals;
	spec_free(&r->health);
	memmove(&v->reals[i], &v->reals[i + 1], (v->nreals - i - 1) * sizeof(*r));
	v->nreals--;
	return 0;
}

int xlb_state__set_weight(struct xlb_state *st, const struct xlb_vip_key *key,
			  const union xlb_addr *addr, __u8 family, __u32 weight,
			  char *err, size_t errlen)
{
	struct xlb_vip_cfg *v = need_vip(st, key, err, errlen);
	struct xlb_real_cfg *r;

	if (!v)
		return -ENOENT;
	r = need_real(v, addr, family, err, errlen);
	if (!r)
		return -ENOENT;
	if (weight > XLB_WEIGHT_MAX)
		return xlb_errf(err, errlen, -EINVAL, "weight %u out of range 0..%u", weight,
				XLB_WEIGHT_MAX);
	r->weight = weight;
	return 0;
}

int xlb_state__set_health(struct xlb_state *st, const struct xlb_vip_key *key,
			  const union xlb_addr *real, __u8 family,
			  const struct xlb_health_spec *spec, int all_down, char *err,
			  size_t errlen)
{
	struct xlb_vip_cfg *v = need_vip(st, key, err, errlen), tmp;
	struct xlb_health_spec **slot;
	struct xlb_real_cfg *r = NULL;
	int ret;

	if (!v)
		return -ENOENT;
	if (real) {
		r = need_real(v, real, family, err, errlen);
		if (!r)
			return -ENOENT;
	}
	if (all_down > XLB_ALL_DOWN_DROP)
		return xlb_errf(err, errlen, -EINVAL, "unknown all_down policy %d", all_down);
	/* Edit a copy, validate it whole, then swap it in. */
	if (vip_cfg_copy(&tmp, v))
		return xlb_errf(err, errlen, -ENOMEM, "out of memory");
	slot = r ? &tmp.reals[r - v->reals].health : &tmp.health;
	spec_free(slot);
	if (spec_dup(slot, spec)) {
		xlb_vip_cfg__free(&tmp);
		return xlb_errf(err, errlen, -ENOMEM, "out of memory");
	}
	if (all_down >= 0)
		tmp.all_down = all_down;
	ret = xlb_vip_cfg__validate(&tmp, err, errlen);
	if (ret) {
		xlb_vip_cfg__free(&tmp);
		return ret;
	}
	xlb_vip_cfg__free(v);
	*v = tmp;
	return 0;
}

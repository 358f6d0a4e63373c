// SPDX-License-Identifier: GPL-2.0-only
/*
 * xlbd's control API server (framing in user/lib/api.c): accepts on the
 * Unix socket without blocking, refuses non-root peers, buffers each
 * connection's request inside the event loop (a silent client is dropped
 * after XLB_API_TIMEOUT_MS), and dispatches the verb.
 *
 * Every change is computed on a copy of the desired state, validated whole
 * (syntax, ranges, duplicates, outer source addresses, free indices) and
 * only then reconciled into the maps and persisted, so a bad request
 * changes nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "addr.h"
#include "api.h"
#include "health.h"
#include "metrics.h"
#include "log.h"
#include "xlbd.h"

struct conn {
	struct xlb_api_conn c;
	struct xlbd_watch *w;
	struct xlbd *d;
	unsigned int uid;		/* peer uid; non-root peers get an error only */
	bool refused;
	struct conn *next;
};

static struct conn *conns;
static struct xlbd_watch *listen_w, *sweep_w;

static void conn_close(struct conn *cn)
{
	struct conn **pp;

	for (pp = &conns; *pp; pp = &(*pp)->next) {
		if (*pp == cn) {
			*pp = cn->next;
			break;
		}
	}
	xlbd_loop_del(cn->d->loop, cn->w);
	close(cn->c.fd);
	xlb_api_conn__free(&cn->c);
	free(cn);
}

/* ---- request helpers ---- */

static int req_keys(json_t *req, const char *const *allowed, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	json_object_foreach(req, k, v) {
		const char *const *a;

		if (!strcmp(k, "verb"))
			continue;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, k))
				break;
		if (!*a) {
			snprintf(err, errlen, "unknown key \"%s\" in the request", k);
			return -EINVAL;
		}
	}
	return 0;
}

static int req_str(json_t *req, const char *key, bool required, const char **out, char *err,
		   size_t errlen)
{
	json_t *v = json_object_get(req, key);

	*out = NULL;
	if (!v) {
		if (!required)
			return 0;
		snprintf(err, errlen, "missing \"%s\"", key);
		return -EINVAL;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "\"%s\" must be a string", key);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

static int req_u32(json_t *req, const char *key, __u32 *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(req, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 0xffffffffLL) {
		snprintf(err, errlen, "\"%s\" must be a non-negative integer", key);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

static int req_vip(json_t *req, struct xlb_vip_key *key, char *err, size_t errlen)
{
	const char *s;
	int ret = req_str(req, "vip", true, &s, err, errlen);

	if (ret)
		return ret;
	return xlb_vip_parse(s, key, err, errlen);
}

static int req_real(json_t *req, union xlb_addr *addr, __u8 *family, char *err, size_t errlen)
{
	const char *s;
	int ret = req_str(req, "real", true, &s, err, errlen);

	if (ret)
		return ret;
	return xlb_addr_parse(s, XLB_AF_NONE, addr, family, err, errlen);
}

/* ---- apply ---- */

int xlbd_apply(struct xlbd *d, struct xlb_state *next, char *err, size_t errlen)
{
	long long t0 = xlb_now_us(), t1, t2;
	char serr[256];
	int ret;

	ret = xlbd_validate(d, next, err, errlen);
	if (ret)
		return ret;
	if (next->settings.flow_table_size != d->dp.flow_table_size)
		pr_warn("flow_table_size %u takes effect when the data plane is reloaded "
			"(xlbctl shutdown --detach, then start xlbd); now %u\n",
			next->settings.flow_table_size, d->dp.flow_table_size);
	t1 = xlb_now_us();
	ret = xlbd_reconcile(d, next, 0, err, errlen);
	if (ret)
		return ret;
	t2 = xlb_now_us();
	xlb_state__free(&d->want);
	d->want = *next;
	xlb_state__init(next);
	xlbd_health_sync(d);
	ret = xlb_state__save(&d->want, d->state_path, serr, sizeof(serr));
	xlbd_metrics_state_write(!ret);
	if (ret) {
		pr_warn("state file: %s\n", serr);
		snprintf(err, errlen, "applied, but the state file was not saved: %s", serr);
		return ret;
	}
	pr_debug("apply: validate %lld us, maps %lld us, state file %lld us\n", t1 - t0, t2 - t1,
		 xlb_now_us() - t2);
	return 0;
}

/* ---- verbs ---- */

typedef json_t *(*verb_fn)(struct xlbd *d, json_t *req, char *err, size_t errlen);

/* Runs edit on a copy of the desired state, then applies the copy. */
#define EDIT_BEGIN(d, next)						\
	struct xlb_state next;						\
	if (xlb_state__copy(&next, &(d)->want)) {			\
		snprintf(err, errlen, "out of memory");			\
		return NULL;						\
	}

static json_t *finish_edit(struct xlbd *d, struct xlb_state *next, int ret, char *err,
			   size_t errlen)
{
	if (!ret)
		ret = xlbd_apply(d, next, err, errlen);
	xlb_state__free(next);
	return ret ? NULL : xlb_api_ok(NULL);
}

static json_t *do_ping(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	static const char *const keys[] = { NULL };

	if (req_keys(req, keys, err, errlen))
		return NULL;
	return xlb_api_ok(json_pack("{s:s}", "iface", d->iface));
}

static json_t *do_add_vip(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	static const char *const keys[] = { "vip", "hash", "encap", "ring_size", "health",
					    "all_down", NULL };
	struct xlb_vip_cfg v = { .ring_size = XLB_RING_SIZE_DEFAULT };
	const char *hash, *encap;
	bool has_health;
	int ret, all_down;

	if ((ret = req_keys(req, keys, err, errlen)) || (ret = req_vip(req, &v.key, err, errlen)) ||
	    (ret = req_str(req, "hash", false, &hash, err, errlen)) ||
	    (ret = req_str(req, "encap", false, &encap, err, errlen)) ||
	    (ret = req_u32(req, "ring_size", &v.ring_size, err, errlen)))
		return NULL;
	if (hash) {
		ret = xlb_hash_mode_parse(hash);
		if (ret < 0) {
			snprintf(err, errlen, "unknown hash \"%s\": use 5tuple, src-ip or "
				 "src-ip-dport", hash);
			return NULL;
		}
		v.hash_mode = ret;
	}
	if (encap) {
		ret = xlb_encap_parse(encap);
		if (ret < 0) {
			snprintf(err, errlen, "unknown encap \"%s\": use ipip or gue", encap);
			return NULL;
		}
		v.encap = ret;
	}
	if (xlbd_health_req(req, &v.health, &has_health, &all_down, err, errlen))
		return NULL;
	v.all_down = all_down < 0 ? XLB_ALL_DOWN_FAIL_OPEN : all_down;
	EDIT_BEGIN(d, next);
	ret = xlb_state__add_vip(&next, &v, err, errlen);
	xlbd_health_spec_free(v.health);
	return finish_edit(d, &next, ret, err, errlen);
}

static json_t *do_del_vip(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	static const char *const keys[] = { "vip", NULL };
	struct xlb_vip_key key;

	if (req_keys(req, keys, err, errlen) || req_vip(req, &key, err, errlen))
		return NULL;
	EDIT_BEGIN(d, next);
	return finish_edit(d, &next, xlb_state__del_vip(&next, &key, err, errlen), err, errlen);
}

static json_t *do_add_real(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	static const char *const keys[] = { "vip", "real", "weight", NULL };
	struct xlb_real_cfg r = { .weight = 1 };
	struct xlb_vip_key key;

	if (req_keys(req, keys, err, errlen) || req_vip(req, &key, err, errlen) ||
	    req_real(req, &r.addr, &r.family, err, errlen) ||
	    req_u32(req, "weight", &r.weight, err, errlen))
		return NULL;
	EDIT_BEGIN(d, next);
	return finish_edit(d, &next, xlb_state__add_real(&next, &key, &r, err, errlen), err,
			   errlen);
}

static json_t *do_del_real(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	static const char *const keys[] = { "vip", "real", NULL };
	struct xlb_vip_key key;
	union xlb_addr a;
	__u8 fam;

	if (req_keys(req, keys, err, errlen) || req_vip(req, &key, err, errlen) ||
	    req_real(req, &a, &fam, err, errlen))
		return NULL;
	EDIT_BEGIN(d, next);
	return finish_edit(d, &next, xlb_state__del_real(&next, &key, &a, fam, err, errlen), err,
			   errlen);
}

static json_t *do_set_weight(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	static const char *const keys[] = { "vip", "real", "weight", NULL };
	struct xlb_vip_key key;
	__u32 weight = ~0U;
	union xlb_addr a;
	__u8 fam;

	if (req_keys(req, keys, err, errlen) || req_vip(req, &key, err, errlen) ||
	    req_real(req, &a, &fam, err, errlen) || req_u32(req, "weight", &weight, err, errlen))
		return NULL;
	if (weight == ~0U) {
		snprintf(err, errlen, "missing \"weight\"");
		return NULL;
	}
	EDIT_BEGIN(d, next);
	return finish_edit(d, &next,
			   xlb_state__set_weight(&next, &key, &a, fam, weight, err, errlen), err,
			   errlen);
}

static json_t *do_apply(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	static const char *const keys[] = { "state", NULL };
	struct xlb_state next;
	json_t *st = json_object_get(req, "state");
	int ret;

	if (req_keys(req, keys, err, errlen))
		return NULL;
	if (!st) {
		snprintf(err, errlen, "missing \"state\"");
		return NULL;
	}
	if (xlb_state__from_json(&next, st, err, errlen))
		return NULL;
	ret = xlbd_apply(d, &next, err, errlen);
	xlb_state__free(&next);
	return ret ? NULL : xlb_api_ok(NULL);
}

static json_t *do_dump(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	static const char *const keys[] = { NULL };

	if (req_keys(req, keys, err, errlen))
		return NULL;
	return xlb_api_ok(xlb_state__to_json(&d->want));
}

static void mac_str(const __u8 *m, char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static json_t *do_list(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	static const char *const keys[] = { NULL };
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN], ms[18];
	struct xlb_settings eff;
	json_t *res, *vips, *set;

	if (req_keys(req, keys, err, errlen))
		return NULL;
	xlbd_effective_settings(d, &d->want.settings, &eff);
	set = xlb_settings__to_json(&eff);
	json_object_set_new(set, "flow_table_size", json_integer(d->dp.flow_table_size));
	res = json_pack("{s:s, s:i, s:s, s:b, s:o}", "iface", d->iface, "prog_id",
			(int)d->dp.xdp.prog_id, "xdp_mode", xlb_xdp_mode_str(d->dp.xdp.mode),
			"dispatcher", d->dp.xdp.dispatcher, "settings", set);
	vips = json_array();
	for (size_t i = 0; i < d->want.nvips; i++) {
		const struct xlb_vip_cfg *wv = &d->want.vips[i];
		struct rt_vip *v = xlbd_find_vip(d, &wv->key);
		json_t *reals = json_array();

		for (size_t j = 0; j < wv->nreals; j++) {
			const struct xlb_real_cfg *wr = &wv->reals[j];
			struct rt_real *r = NULL;

			for (size_t k = 0; v && k < v->nreals && !r; k++)
				if (v->reals[k].family == wr->family &&
				    !memcmp(&v->reals[k].addr, &wr->addr, sizeof(wr->addr)))
					r = &v->reals[k];
			json_t *o = json_pack("{s:s, s:i}", "address",
					      xlb_addr_str(&wr->addr, wr->family, as), "weight",
					      (int)wr->weight);
			if (r) {
				mac_str(r->mac, ms);
				json_object_set_new(o, "index", json_integer(r->index));
				json_object_set_new(o, "state",
						    json_string(xlbd_real_state_name(r, wr->weight)));
				json_object_set_new(o, "next_hop_mac", json_string(ms));
			}
			xlbd_health_list_real(d, r, o);
			json_array_append_new(reals, o);
		}
		json_t *vo = json_pack("{s:s, s:i, s:s, s:s, s:i, s:o}",
			"vip", xlb_vip_str(&wv->key, vs), "id", v ? (int)v->id : -1,
			"hash", xlb_hash_mode_name(wv->hash_mode),
			"encap", xlb_encap_name(wv->encap), "ring_size", (int)wv->ring_size,
			"reals", reals);

		xlbd_health_list_vip(d, v, vo);
		json_array_append_new(vips, vo);
	}
	json_object_set_new(res, "vips", vips);
	return xlb_api_ok(res);
}

#define STAT_NAME(name, help) #name,
static const char *const stat_names[] = { XLB_STAT_LIST(STAT_NAME) };
#undef STAT_NAME

static json_t *do_stats(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	static const char *const keys[] = { NULL };
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN], name[64];
	__u64 g[XLB_STAT__MAX];
	json_t *glob, *vips;
	int ret;

	if (req_keys(req, keys, err, errlen))
		return NULL;
	ret = xlb_dp__read_stats(&d->dp, g);
	if (ret) {
		snprintf(err, errlen, "cannot read xlb_stats: %s", strerror(-ret));
		return NULL;
	}
	glob = json_object();
	for (int i = 0; i < XLB_STAT__MAX; i++) {
		size_t k;

		for (k = 0; stat_names[i][k] && k < sizeof(name) - 1; k++)
			name[k] = tolower((unsigned char)stat_names[i][k]);
		name[k] = 0;
		json_object_set_new(glob, name, json_integer(g[i]));
	}
	vips = json_array();
	for (size_t i = 0; i < d->nvips; i++) {
		struct rt_vip *v = &d->vips[i];
		struct xlb_vip_stats vst = {};
		json_t *reals = json_array();

		xlb_dp__read_vip_stats(&d->dp, v->id, &vst);
		for (size_t j = 0; j < v->nreals; j++) {
			struct xlb_real_stats rs = {};

			xlb_dp__read_real_stats(&d->dp, v->reals[j].index, &rs);
			json_array_append_new(reals, json_pack("{s:s, s:i, s:I, s:I}",
				"address", xlb_addr_str(&v->reals[j].addr, v->reals[j].family, as),
				"index", (int)v->reals[j].index, "packets", (json_int_t)rs.packets,
				"bytes", (json_int_t)rs.bytes));
		}
		json_array_append_new(vips, json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:o, s:o}",
			"vip", xlb_vip_str(&v->key, vs), "id", (int)v->id,
			"packets", (json_int_t)vst.packets, "bytes", (json_int_t)vst.bytes,
			"new_flows", (json_int_t)vst.new_flows, "drops", (json_int_t)vst.drops,
			"drop_reasons", json_pack("{s:I, s:I, s:I, s:I}",
				"no_real", (json_int_t)vst.drop_no_real,
				"fragment", (json_int_t)vst.drop_fragment,
				"too_big", (json_int_t)vst.drop_too_big,
				"encap", (json_int_t)vst.drop_encap),
			"reals", reals));
	}
	return xlb_api_ok(json_pack("{s:o, s:o}", "global", glob, "vips", vips));
}

static json_t *do_shutdown(struct xlbd *d, json_t *req, char *err, size_t errlen)
{
	static const char *const keys[] = { "detach", NULL };
	json_t *det = json_object_get(req, "detach");

	if (req_keys(req, keys, err, errlen))
		return NULL;
	if (det && !json_is_boolean(det)) {
		snprintf(err, errlen, "\"detach\" must be true or false");
		return NULL;
	}
	xlbd_request_exit(d, det && json_is_true(det));
	return xlb_api_ok(json_pack("{s:b}", "detach", det && json_is_true(det)));
}

static const struct {
	const char *name;
	verb_fn fn;
} verbs[] = {
	{ "ping", do_ping },
	{ "add-vip", do_add_vip },
	{ "del-vip", do_del_vip },
	{ "add-real", do_add_real },
	{ "del-real", do_del_real },
	{ "set-weight", do_set_weight },
	{ "list", do_list },
	{ "stats", do_stats },
	{ "apply", do_apply },
	{ "dump", do_dump },
	{ "shutdown", do_shutdown },
	{ "health", xlbd_health_verb },
	{ "set-health", xlbd_set_health_verb },
};

static json_t *dispatch(struct xlbd *d, const char *text, size_t len)
{
	char err[512] = "";
	json_error_t jerr;
	const char *verb = NULL;
	json_t *req, *resp = NULL;

	/* Metrics: verb "unknown" for anything that names no verb of ours (bounded labels). */
	req = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		xlbd_metrics_api("unknown", "malformed");
		return xlb_api_error("malformed request: %s (at byte %d)", jerr.text, jerr.position);
	}
	if (!json_is_object(req)) {
		json_decref(req);
		xlbd_metrics_api("unknown", "malformed");
		return xlb_api_error("malformed request: must be a JSON object");
	}
	if (req_str(req, "verb", true, &verb, err, sizeof(err))) {
		json_decref(req);
		xlbd_metrics_api("unknown", "malformed");
		return xlb_api_error("%s", err);
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(verbs[i].name, verb))
			continue;
		resp = verbs[i].fn(d, req, err, sizeof(err));
		if (!resp)
			resp = xlb_api_error("%s", err[0] ? err : "failed");
		pr_debug("api: %s -> %s\n", verb, json_is_true(json_object_get(resp, "ok")) ?
			 "ok" : json_string_value(json_object_get(resp, "error")));
		xlbd_metrics_api(verbs[i].name, json_is_true(json_object_get(resp, "ok")) ?
				 "ok" : "error");
		json_decref(req);
		return resp;
	}
	xlbd_metrics_api("unknown", "error");
	resp = xlb_api_error("unknown verb \"%s\"", verb);
	json_decref(req);
	return resp;
}

static void conn_ready(void *ctx, int fd, uint32_t events)
{
	struct conn *cn = ctx;
	json_t *resp = NULL;
	int ret = xlb_api_conn__read(&cn->c);

	if (ret == 0)
		return;
	if (ret == 1 && cn->refused) {
		xlbd_metrics_api("unknown", "denied");
		resp = xlb_api_error("permission denied: the xlbd API serves root only "
				     "(peer uid %u)", cn->uid);
	} else if (ret == 1)
		resp = dispatch(cn->d, cn->c.buf, cn->c.len);
	else if (ret == -E2BIG)
		resp = xlb_api_error("request larger than %u bytes", XLB_API_MAX_MSG);
	if (resp) {
		xlb_api_send(cn->c.fd, resp);
		json_decref(resp);
	}
	conn_close(cn);
}

static void accept_ready(void *ctx, int lfd, uint32_t events)
{
	struct xlbd *d = ctx;

	for (;;) {
		unsigned int uid = 0;
		struct conn *cn;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		cn = calloc(1, sizeof(*cn));
		if (!cn) {
			close(fd);
			continue;
		}
		/*
		 * A refused peer's request is still read (and ignored), so that
		 * closing does not reset the connection before it sees why.
		 */
		if (xlb_api_peer_check(fd, &uid)) {
			pr_info("api: refused a peer with uid %u\n", uid);
			cn->refused = true;
		}
		cn->uid = uid;
		cn->d = d;
		cn->c.fd = fd;
		cn->c.deadline_ms = xlb_now_ms() + XLB_API_TIMEOUT_MS;
		cn->w = xlbd_loop_add_fd(d->loop, fd, EPOLLIN | EPOLLRDHUP, conn_ready, cn);
		if (!cn->w) {
			close(fd);
			free(cn);
			continue;
		}
		cn->next = conns;
		conns = cn;
	}
}

/* Drops connections that did not send a whole request in time. */
static void sweep(void *ctx)
{
	long long now = xlb_now_ms();
	struct conn *cn, *next;

	for (cn = conns; cn; cn = next) {
		next = cn->next;
		if (cn->c.deadline_ms <= now) {
			json_t *e = xlb_api_error("request incomplete after %d ms",
						  XLB_API_TIMEOUT_MS);

			xlb_api_send(cn->c.fd, e);
			json_decref(e);
			conn_close(cn);
		}
	}
}

int xlbd_control_start(struct xlbd *d)
{
	char err[256];

	d->listen_fd = xlb_api_listen(d->socket_path, err, sizeof(err));
	if (d->listen_fd < 0) {
		pr_warn("control socket: %s\n", err);
		return d->listen_fd;
	}
	listen_w = xlbd_loop_add_fd(d->loop, d->listen_fd, EPOLLIN, accept_ready, d);
	sweep_w = xlbd_loop_add_timer(d->loop, 1000, true, sweep, d);
	if (!listen_w || !sweep_w)
		return -errno;
	pr_info("control API on %s\n", d->socket_path);
	return 0;
}

void xlbd_control_stop(struct xlbd *d)
{
	while (conns)
		conn_close(conns);
	xlbd_loop_del(d->loop, listen_w);
	xlbd_loop_del(d->loop, sweep_w);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->socket_path);
		d->listen_fd = -1;
	}
}

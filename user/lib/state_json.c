// SPDX-License-Identifier: GPL-2.0-only
/*
 * Desired state, JSON form: parsing with checks that name the bad key and
 * say what is accepted, rendering, and the state file (loaded with a size
 * limit, saved atomically: temporary file, fsync, rename, fsync of the
 * directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "state.h"
#include "addr.h"
#include "health_json.h"
#include "log.h"
#include "state_priv.h"

int xlb_state__save_inject_err;

/* ---- JSON in ---- */

/* Fails naming the first key of obj that is not in allowed (NULL-terminated). */
static int check_keys(const json_t *obj, const char *const *allowed, const char *where,
		      char *err, size_t errlen)
{
	const char *k;
	json_t *val;

	json_object_foreach((json_t *)obj, k, val) {
		const char *const *a;

		for (a = allowed; *a; a++)
			if (!strcmp(*a, k))
				break;
		if (!*a)
			return xlb_errf(err, errlen, -EINVAL, "%s: unknown key \"%s\"", where, k);
	}
	return 0;
}

static int get_uint(const json_t *obj, const char *key, const char *where, __u64 max,
		    __u64 *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (__u64)json_integer_value(v) > max)
		return xlb_errf(err, errlen, -EINVAL,
				"%s: \"%s\" must be an integer 0..%llu", where,
				key, (unsigned long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int get_str(const json_t *obj, const char *key, const char *where, const char **out,
		   char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return xlb_errf(err, errlen, -EINVAL, "%s: \"%s\" must be a string", where, key);
	*out = json_string_value(v);
	return 0;
}

static int settings_from_json(struct xlb_settings *s, const json_t *obj, char *err, size_t errlen)
{
	static const char *const keys[] = { "src_v4", "src_v6", "gue_port", "hash_seed", "mtu",
					    "flow_table_size", NULL };
	const char *v4 = NULL, *v6 = NULL;
	__u64 port = s->gue_port, seed = s->hash_seed, mtu = s->mtu, fts = s->flow_table_size;
	char aerr[XLB_ERR_LEN];
	union xlb_addr a;
	int err_;

	if (!json_is_object(obj))
		return xlb_errf(err, errlen, -EINVAL, "settings: must be an object");
	if ((err_ = check_keys(obj, keys, "settings", err, errlen)) ||
	    (err_ = get_str(obj, "src_v4", "settings", &v4, err, errlen)) ||
	    (err_ = get_str(obj, "src_v6", "settings", &v6, err, errlen)) ||
	    (err_ = get_uint(obj, "gue_port", "settings", 65535, &port, err, errlen)) ||
	    (err_ = get_uint(obj, "hash_seed", "settings", 0xffffffffULL, &seed, err, errlen)) ||
	    (err_ = get_uint(obj, "mtu", "settings", 65535, &mtu, err, errlen)) ||
	    (err_ = get_uint(obj, "flow_table_size", "settings", XLB_FLOW_TABLE_MAX, &fts, err,
			     errlen)))
		return err_;
	if (port == 0)
		return xlb_errf(err, errlen, -EINVAL, "settings: \"gue_port\" must be 1..65535");
	if (mtu && mtu < 576)
		return xlb_errf(err, errlen, -EINVAL,
				"settings: \"mtu\" %llu too small: 0 (interface MTU) or 576..65535",
				(unsigned long long)mtu);
	if (fts < XLB_FLOW_TABLE_MIN)
		return xlb_errf(err, errlen, -EINVAL,
				"settings: \"flow_table_size\" must be %u..%u",
				XLB_FLOW_TABLE_MIN, XLB_FLOW_TABLE_MAX);
	s->has_src_v4 = false;
	s->src_v4 = 0;
	if (v4 && *v4) {
		if (xlb_addr_parse(v4, XLB_AF_INET, &a, NULL, aerr, sizeof(aerr)))
			return xlb_errf(err, errlen, -EINVAL, "settings: src_v4: %s", aerr);
		s->src_v4 = a.v4;
		s->has_src_v4 = true;
	}
	s->has_src_v6 = false;
	memset(&s->src_v6, 0, sizeof(s->src_v6));
	if (v6 && *v6) {
		if (xlb_addr_parse(v6, XLB_AF_INET6, &a, NULL, aerr, sizeof(aerr)))
			return xlb_errf(err, errlen, -EINVAL, "settings: src_v6: %s", aerr);
		s->src_v6 = a;
		s->has_src_v6 = true;
	}
	s->gue_port = port;
	s->hash_seed = seed;
	s->mtu = mtu;
	s->flow_table_size = fts;
	return 0;
}

static int real_from_json(struct xlb_real_cfg *r, const json_t *obj, const char *vs, size_t i,
			  char *err, size_t errlen)
{
	static const char *const keys[] = { "address", "weight", "health", NULL };
	char where[XLB_VIP_STRLEN + 48], aerr[XLB_ERR_LEN], herr[256];
	json_t *h;
	const char *addr = NULL;
	__u64 weight = 1;
	int ret;

	snprintf(where, sizeof(where), "VIP %s: real #%zu", vs, i + 1);
	if (!json_is_object(obj))
		return xlb_errf(err, errlen, -EINVAL, "%s: must be an object", where);
	if ((ret = check_keys(obj, keys, where, err, errlen)) ||
	    (ret = get_str(obj, "address", where, &addr, err, errlen)))
		return ret;
	if (!addr)
		return xlb_errf(err, errlen, -EINVAL, "%s: missing \"address\"", where);
	if (xlb_addr_parse(addr, XLB_AF_NONE, &r->addr, &r->family, aerr, sizeof(aerr)))
		return xlb_errf(err, errlen, -EINVAL, "%s: %s", where, aerr);
	if ((ret = get_uint(obj, "weight", where, 0xffffffffULL, &weight, err, errlen)))
		return ret;
	if (weight > XLB_WEIGHT_MAX)
		return xlb_errf(err, errlen, -EINVAL,
				"VIP %s: real %s: weight %llu out of range 0..%u",
				vs, addr, (unsigned long long)weight, XLB_WEIGHT_MAX);
	r->weight = weight;
	h = json_object_get(obj, "health");
	if (h) {
		r->health = calloc(1, sizeof(*r->health));
		if (!r->health)
			return xlb_errf(err, errlen, -ENOMEM, "out of memory");
		ret = xlb_health_spec__from_json(r->health, h, herr, sizeof(herr));
		if (ret) {
			free(r->health);
			r->health = NULL;
			return xlb_errf(err, errlen, ret, "VIP %s: real %s: %s", vs, addr, herr);
		}
	}
	return 0;
}

static int vip_from_json(struct xlb_vip_cfg *v, const json_t *obj, size_t i, char *err,
			 size_t errlen)
{
	static const char *const keys[] = { "vip", "hash", "encap", "ring_size", "all_down",
					    "health", "reals", NULL };
	const char *vip = NULL, *hash = NULL, *encap = NULL, *all_down = NULL;
	char where[XLB_VIP_STRLEN + 8], vs[XLB_VIP_STRLEN], aerr[XLB_ERR_LEN], herr[256];
	__u64 ring = XLB_RING_SIZE_DEFAULT;
	json_t *reals, *r;
	size_t j;
	int ret;

	memset(v, 0, sizeof(*v));
	snprintf(where, sizeof(where), "vips[%zu]", i);
	if (!json_is_object(obj))
		return xlb_errf(err, errlen, -EINVAL, "%s: must be an object", where);
	if ((ret = get_str(obj, "vip", where, &vip, err, errlen)))
		return ret;
	if (!vip)
		return xlb_errf(err, errlen, -EINVAL, "%s: missing \"vip\"", where);
	if (xlb_vip_parse(vip, &v->key, aerr, sizeof(aerr)))
		return xlb_errf(err, errlen, -EINVAL, "%s: %s", where, aerr);
	xlb_vip_str(&v->key, vs);
	snprintf(where, sizeof(where), "VIP %s", vs);
	if ((ret = check_keys(obj, keys, where, err, errlen)) ||
	    (ret = get_str(obj, "hash", where, &hash, err, errlen)) ||
	    (ret = get_str(obj, "encap", where, &encap, err, errlen)) ||
	    (ret = get_str(obj, "all_down", where, &all_down, err, errlen)) ||
	    (ret = get_uint(obj, "ring_size", where, 0xffffffffULL, &ring, err, errlen)))
		return ret;
	v->ring_size = ring;
	if (all_down) {
		ret = xlb_all_down_parse(all_down);
		if (ret < 0)
			return xlb_errf(err, errlen, -EINVAL,
					"%s: unknown all_down \"%s\": use fail_open or drop", where,
					all_down);
		v->all_down = ret;
	}
	if (hash) {
		ret = xlb_hash_mode_parse(hash);
		if (ret < 0)
			return xlb_errf(err, errlen, -EINVAL,
					"%s: unknown hash \"%s\": use 5tuple, src-ip or src-ip-dport",
					where, hash);
		v->hash_mode = ret;
	}
	if (encap) {
		ret = xlb_encap_parse(encap);
		if (ret < 0)
			return xlb_errf(err, errlen, -EINVAL,
					"%s: unknown encap \"%s\": use ipip or gue",
					where, encap);
		v->encap = ret;
	}
	reals = json_object_get(obj, "reals");
	if (reals && !json_is_array(reals))
		return xlb_errf(err, errlen, -EINVAL, "%s: \"reals\" must be an array", where);
	if (json_object_get(obj, "health")) {
		v->health = calloc(1, sizeof(*v->health));
		if (!v->health)
			return xlb_errf(err, errlen, -ENOMEM, "out of memory");
		ret = xlb_health_spec__from_json(v->health, json_object_get(obj, "health"), herr,
						 sizeof(herr));
		if (ret) {
			free(v->health);
			v->health = NULL;
			return xlb_errf(err, errlen, ret, "%s: %s", where, herr);
		}
	}
	if (reals && json_array_size(reals)) {
		if (json_array_size(reals) >= XLB_MAX_REALS) {
			xlb_vip_cfg__free(v);
			return xlb_errf(err, errlen, -ENOSPC, "%s: %zu reals, at most %u", where,
					json_array_size(reals), XLB_MAX_REALS - 1);
		}
		v->reals = calloc(json_array_size(reals), sizeof(*v->reals));
		if (!v->reals) {
			xlb_vip_cfg__free(v);
			return xlb_errf(err, errlen, -ENOMEM, "out of memory");
		}
		json_array_foreach(reals, j, r) {
			ret = real_from_json(&v->reals[j], r, vs, j, err, errlen);
			v->nreals = j + 1;
			if (ret) {
				xlb_vip_cfg__free(v);
				return ret;
			}
		}
		qsort(v->reals, v->nreals, sizeof(*v->reals), xlb_real_cfg__cmp);
	}
	ret = xlb_vip_cfg__validate(v, err, errlen);
	if (ret)
		xlb_vip_cfg__free(v);
	return ret;
}

int xlb_state__from_json(struct xlb_state *st, const json_t *root, char *err, size_t errlen)
{
	static const char *const keys[] = { "settings", "vips", NULL };
	struct xlb_state n;
	json_t *vips, *v;
	size_t i, total = 0;
	int ret;

	if (!json_is_object(root))
		return xlb_errf(err, errlen, -EINVAL, "state: must be a JSON object");
	ret = check_keys(root, keys, "state", err, errlen);
	if (ret)
		return ret;
	xlb_state__init(&n);
	if (json_object_get(root, "settings")) {
		ret = settings_from_json(&n.settings, json_object_get(root, "settings"), err, errlen);
		if (ret)
			return ret;
	}
	vips = json_object_get(root, "vips");
	if (vips && !json_is_array(vips))
		return xlb_errf(err, errlen, -EINVAL, "state: \"vips\" must be an array");
	if (vips && json_array_size(vips)) {
		if (json_array_size(vips) > XLB_MAX_VIPS)
			return xlb_errf(err, errlen, -ENOSPC, "state: %zu VIPs, at most %u",
					json_array_size(vips), XLB_MAX_VIPS);
		n.vips = calloc(json_array_size(vips), sizeof(*n.vips));
		if (!n.vips)
			return xlb_errf(err, errlen, -ENOMEM, "out of memory");
		json_array_foreach(vips, i, v) {
			ret = vip_from_json(&n.vips[i], v, i, err, errlen);
			if (ret)
				goto err_out;
			n.nvips = i + 1;
			total += n.vips[i].nreals;
			for (size_t j = 0; j < i; j++) {
				if (!xlb_vip_key__cmp(&n.vips[j].key, &n.vips[i].key)) {
					char vs[XLB_VIP_STRLEN];

					ret = xlb_errf(err, errlen, -EEXIST,
						       "state: VIP %s listed twice",
						       xlb_vip_str(&n.vips[i].key, vs));
					goto err_out;
				}
			}
		}
		if (total >= XLB_MAX_REALS) {
			ret = xlb_errf(err, errlen, -ENOSPC,
				       "state: %zu (VIP, real) pairs, at most %u", total,
				       XLB_MAX_REALS - 1);
			goto err_out;
		}
		qsort(n.vips, n.nvips, sizeof(*n.vips), xlb_vip_cfg__cmp);
	}
	*st = n;
	return 0;
err_out:
	xlb_state__free(&n);
	return ret;
}

/* ---- JSON out ---- */

json_t *xlb_settings__to_json(const struct xlb_settings *s)
{
	char buf[XLB_ADDR_STRLEN];
	union xlb_addr a = {};
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (s->has_src_v4) {
		a.v4 = s->src_v4;
		json_object_set_new(o, "src_v4", json_string(xlb_addr_str(&a, XLB_AF_INET, buf)));
	}
	if (s->has_src_v6)
		json_object_set_new(o, "src_v6",
				    json_string(xlb_addr_str(&s->src_v6, XLB_AF_INET6, buf)));
	json_object_set_new(o, "gue_port", json_integer(s->gue_port));
	json_object_set_new(o, "hash_seed", json_integer(s->hash_seed));
	json_object_set_new(o, "mtu", json_integer(s->mtu));
	json_object_set_new(o, "flow_table_size", json_integer(s->flow_table_size));
	return o;
}

json_t *xlb_state__to_json(const struct xlb_state *st)
{
	char vs[XLB_VIP_STRLEN], as[XLB_ADDR_STRLEN];
	json_t *root = json_object(), *vips = json_array();

	if (!root || !vips)
		goto err_out;
	json_object_set_new(root, "settings", xlb_settings__to_json(&st->settings));
	for (size_t i = 0; i < st->nvips; i++) {
		const struct xlb_vip_cfg *v = &st->vips[i];
		json_t *o = json_object(), *reals = json_array();

		if (!o || !reals) {
			json_decref(o);
			json_decref(reals);
			goto err_out;
		}
		json_object_set_new(o, "vip", json_string(xlb_vip_str(&v->key, vs)));
		json_object_set_new(o, "hash", json_string(xlb_hash_mode_name(v->hash_mode)));
		json_object_set_new(o, "encap", json_string(xlb_encap_name(v->encap)));
		json_object_set_new(o, "ring_size", json_integer(v->ring_size));
		/* Written when not the default, so configs without health dump as before. */
		if (v->all_down != XLB_ALL_DOWN_FAIL_OPEN)
			json_object_set_new(o, "all_down",
					    json_string(xlb_all_down_name(v->all_down)));
		if (v->health)
			json_object_set_new(o, "health", xlb_health_spec__to_json(v->health));
		for (size_t j = 0; j < v->nreals; j++) {
			json_t *r = json_object();

			json_object_set_new(r, "address", json_string(xlb_addr_str(
				&v->reals[j].addr, v->reals[j].family, as)));
			json_object_set_new(r, "weight", json_integer(v->reals[j].weight));
			if (v->reals[j].health)
				json_object_set_new(r, "health",
						    xlb_health_spec__to_json(v->reals[j].health));
			json_array_append_new(reals, r);
		}
		json_object_set_new(o, "reals", reals);
		json_array_append_new(vips, o);
	}
	json_object_set_new(root, "vips", vips);
	return root;
err_out:
	json_decref(root);
	json_decref(vips);
	return NULL;
}

/* ---- files ---- */

int xlb_state__load(struct xlb_state *st, const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	struct stat sb;
	json_t *root;
	char msg[256];
	int ret;

	if (stat(path, &sb)) {
		ret = -errno;
		return xlb_errf(err, errlen, ret, "%s: %s", path, strerror(-ret));
	}
	if (sb.st_size > XLB_STATE_MAX_BYTES)
		return xlb_errf(err, errlen, -EFBIG, "%s: %lld bytes, at most %u", path,
				(long long)sb.st_size, XLB_STATE_MAX_BYTES);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return xlb_errf(err, errlen, -EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column,
				jerr.text);
	ret = xlb_state__from_json(st, root, msg, sizeof(msg));
	json_decref(root);
	if (ret)
		return xlb_errf(err, errlen, ret, "%s: %s", path, msg);
	return 0;
}

/* write(2) all of buf or fail. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

int xlb_state__save(const struct xlb_state *st, const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dirbuf[PATH_MAX];
	char *text = NULL;
	json_t *root;
	int fd = -1, dfd = -1, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return xlb_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", path);
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	root = xlb_state__to_json(st);
	if (root)
		text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return xlb_errf(err, errlen, -ENOMEM, "out of memory");

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		xlb_errf(err, errlen, ret, "create %s: %s", tmp, strerror(-ret));
		goto out;
	}
	ret = write_all(fd, text, strlen(text));
	if (!ret)
		ret = write_all(fd, "\n", 1);
	if (!ret && fsync(fd))
		ret = -errno;
	if (!ret && xlb_state__save_inject_err)
		ret = xlb_state__save_inject_err;
	if (ret) {
		xlb_errf(err, errlen, ret, "write %s: %s", tmp, strerror(-ret));
		goto err_unlink;
	}
	if (close(fd)) {
		fd = -1;
		ret = -errno;
		xlb_errf(err, errlen, ret, "close %s: %s", tmp, strerror(-ret));
		goto err_unlink;
	}
	fd = -1;
	if (rename(tmp, path)) {
		ret = -errno;
		xlb_errf(err, errlen, ret, "rename %s -> %s: %s", tmp, path, strerror(-ret));
		goto err_unlink;
	}
	/* The rename is durable only once the directory is. */
	dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	ret = 0;
	goto out;
err_unlink:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return ret;
}

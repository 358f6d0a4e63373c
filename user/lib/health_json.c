// SPDX-License-Identifier: GPL-2.0-only
/*
 * "health" objects of the state file <-> struct xlb_health_spec, and the
 * resolution of a VIP's spec plus a real's override into the engine's
 * target config. See health_json.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>

#include "health_json.h"
#include "log.h"

static int get_uint(const json_t *v, const char *key, long long lo, long long hi, long long *out,
		    char *err, size_t errlen)
{
	long long x;

	if (!json_is_integer(v))
		return xlb_errf(err, errlen, -EINVAL,
				"health: \"%s\" must be an integer (%lld..%lld)", key, lo, hi);
	x = json_integer_value(v);
	if (x < lo || x > hi)
		return xlb_errf(err, errlen, -EINVAL,
				"health: \"%s\" is %lld, accepted %lld..%lld", key, x, lo, hi);
	*out = x;
	return 0;
}

static int get_addr(const json_t *v, const char *key, struct sockaddr_storage *out, char *err,
		    size_t errlen)
{
	const char *s = json_string_value(v);
	struct sockaddr_in *s4 = (void *)out;
	struct sockaddr_in6 *s6 = (void *)out;

	memset(out, 0, sizeof(*out));
	if (s && inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 0;
	}
	if (s && inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 0;
	}
	return xlb_errf(err, errlen, -EINVAL,
			"health: \"%s\" must be an IPv4 or IPv6 address string", key);
}

static int get_str(const json_t *v, const char *key, char **out, char *err, size_t errlen)
{
	const char *s = json_string_value(v);

	if (!s || !*s || strlen(s) >= XLB_HEALTH_MAX_STR)
		return xlb_errf(err, errlen, -EINVAL,
				"health: \"%s\" must be a non-empty string under %d bytes",
				key, XLB_HEALTH_MAX_STR);
	free(*out);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "payload": text, or "payload_hex": hex digits (even count). */
static int get_bytes(const json_t *v, const char *key, bool hex, void **out, __u32 *len,
		     char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0, bytes = hex ? n / 2 : n;
	unsigned char *b;

	if (!s || (hex && n % 2) || bytes > XLB_HEALTH_MAX_UDP_PAYLOAD)
		return xlb_errf(err, errlen, -EINVAL,
				"health: \"%s\" must be a string of at most %d bytes%s",
				key, XLB_HEALTH_MAX_UDP_PAYLOAD,
				hex ? " as pairs of hex digits" : "");
	b = malloc(bytes ? bytes : 1);
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < bytes; i++) {
		if (hex) {
			int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

			if (hi < 0 || lo < 0) {
				free(b);
				return xlb_errf(err, errlen, -EINVAL,
						"health: \"%s\" has a non-hex digit", key);
			}
			b[i] = hi << 4 | lo;
		} else {
			b[i] = s[i];
		}
	}
	free(*out);
	*out = b;
	*len = bytes;
	return 0;
}

static int get_expect(const json_t *v, struct xlb_health_spec *s, char *err, size_t errlen)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || !json_array_size(v) ||
	    json_array_size(v) > XLB_HEALTH_MAX_EXPECT)
		return xlb_errf(err, errlen, -EINVAL,
				"health: \"expect\" must be a list of 1..%d status codes "
				"or \"lo-hi\" ranges, e.g. [200, \"300-399\"]",
				XLB_HEALTH_MAX_EXPECT);
	json_array_foreach(v, i, e) {
		struct xlb_health_range r;
		__u32 n;

		if (json_is_integer(e) && json_integer_value(e) >= 100 &&
		    json_integer_value(e) <= 599) {
			r.lo = r.hi = json_integer_value(e);
		} else if (!json_is_string(e) ||
			   xlb_health__parse_expect(json_string_value(e), &r, 1, &n)) {
			return xlb_errf(err, errlen, -EINVAL,
					"health: \"expect\" item %zu is not a status code "
					"(100..599) or a \"lo-hi\" range", i);
		}
		s->expect[i] = r;
	}
	s->n_expect = json_array_size(v);
	return 0;
}

static int parse_key(struct xlb_health_spec *s, const char *key, const json_t *v, char *err,
		     size_t errlen)
{
	long long x;
	int rc;

#define UINT_KEY(name, bit, field, lo, hi)						\
	if (!strcmp(key, name)) {							\
		rc = get_uint(v, key, lo, hi, &x, err, errlen);				\
		if (!rc) {								\
			s->field = x;							\
			s->set |= bit;							\
		}									\
		return rc;								\
	}
	UINT_KEY("port", XLB_HS_PORT, port, 1, 65535)
	UINT_KEY("interval_ms", XLB_HS_INTERVAL, interval_ms, XLB_HEALTH_MIN_INTERVAL_MS,
		 XLB_HEALTH_MAX_INTERVAL_MS)
	UINT_KEY("timeout_ms", XLB_HS_TIMEOUT, timeout_ms, 1, XLB_HEALTH_MAX_INTERVAL_MS)
	UINT_KEY("rise", XLB_HS_RISE, rise, 1, 1000)
	UINT_KEY("fall", XLB_HS_FALL, fall, 1, 1000)
	UINT_KEY("hold_down_ms", XLB_HS_HOLD_DOWN, hold_down_ms, 0, 86400000)
#undef UINT_KEY
	if (!strcmp(key, "kind")) {
		if (xlb_health__kind_parse(json_string_value(v), &s->kind))
			return xlb_errf(err, errlen, -EINVAL,
					"health: \"kind\" must be one of tcp, http, https, "
					"udp, none");
		s->set |= XLB_HS_KIND;
		return 0;
	}
	if (!strcmp(key, "init")) {
		const char *i = json_string_value(v);

		if (!i || (strcmp(i, "up") && strcmp(i, "down")))
			return xlb_errf(err, errlen, -EINVAL,
					"health: \"init\" must be \"up\" or \"down\"");
		s->init = strcmp(i, "up") ? XLB_HEALTH_INIT_DOWN : XLB_HEALTH_INIT_UP;
		s->set |= XLB_HS_INIT;
		return 0;
	}
	if (!strcmp(key, "address") || !strcmp(key, "source")) {
		bool src = key[0] == 's';

		rc = get_addr(v, key, src ? &s->source : &s->address, err, errlen);
		if (!rc)
			s->set |= src ? XLB_HS_SOURCE : XLB_HS_ADDRESS;
		return rc;
	}
	if (!strcmp(key, "path")) {
		if (!json_is_string(v) || json_string_value(v)[0] != '/')
			return xlb_errf(err, errlen, -EINVAL,
					"health: \"path\" must be a string starting with /");
		rc = get_str(v, key, &s->path, err, errlen);
		if (!rc)
			s->set |= XLB_HS_PATH;
		return rc;
	}
	if (!strcmp(key, "host")) {
		if (json_is_string(v) && strpbrk(json_string_value(v), "\r\n /"))
			return xlb_errf(err, errlen, -EINVAL,
					"health: \"host\" must be a host name (no spaces, "
					"slashes or line breaks)");
		rc = get_str(v, key, &s->host, err, errlen);
		if (!rc)
			s->set |= XLB_HS_HOST;
		return rc;
	}
	if (!strcmp(key, "ca_file")) {
		rc = get_str(v, key, &s->ca_file, err, errlen);
		if (!rc)
			s->set |= XLB_HS_CA_FILE;
		return rc;
	}
	if (!strcmp(key, "expect")) {
		rc = get_expect(v, s, err, errlen);
		if (!rc)
			s->set |= XLB_HS_EXPECT;
		return rc;
	}
	if (!strcmp(key, "through_vip")) {
		if (!json_is_boolean(v))
			return xlb_errf(err, errlen, -EINVAL,
					"health: \"%s\" must be true or false", key);
		s->through_vip = json_is_true(v);
		s->set |= XLB_HS_THROUGH_VIP;
		return 0;
	}
	if (!strcmp(key, "tls_verify") || !strcmp(key, "tcp_graceful_close")) {
		bool tls = key[0] == 't' && key[1] == 'l';

		if (!json_is_boolean(v))
			return xlb_errf(err, errlen, -EINVAL,
					"health: \"%s\" must be true or false", key);
		if (tls)
			s->tls_verify = json_is_true(v);
		else
			s->tcp_graceful_close = json_is_true(v);
		s->set |= tls ? XLB_HS_TLS_VERIFY : XLB_HS_GRACEFUL;
		return 0;
	}
	if (!strcmp(key, "payload") || !strcmp(key, "payload_hex")) {
		rc = get_bytes(v, key, key[7] == '_', &s->payload, &s->payload_len, err, errlen);
		if (!rc)
			s->set |= XLB_HS_PAYLOAD;
		return rc;
	}
	if (!strcmp(key, "reply") || !strcmp(key, "reply_hex")) {
		rc = get_bytes(v, key, key[5] == '_', &s->reply, &s->reply_len, err, errlen);
		if (!rc)
			s->set |= XLB_HS_REPLY;
		return rc;
	}
	return xlb_errf(err, errlen, -EINVAL,
			"health: unknown key \"%s\" (accepted: kind, port, address, "
			"source, interval_ms, timeout_ms, rise, fall, hold_down_ms, init, path, host, "
			"expect, tls_verify, ca_file, payload, payload_hex, reply, reply_hex, "
			"tcp_graceful_close, through_vip)", key);
}

int xlb_health_spec__from_json(struct xlb_health_spec *out, const json_t *obj, char *err,
			       size_t errlen)
{
	struct xlb_health_spec s = {};
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(obj))
		return xlb_errf(err, errlen, -EINVAL,
				"health: must be an object, e.g. {\"kind\": \"tcp\"}");
	json_object_foreach((json_t *)obj, key, v) {
		rc = parse_key(&s, key, v, err, errlen);
		if (rc) {
			xlb_health_spec__free(&s);
			return rc;
		}
	}
	if ((s.set & XLB_HS_ADDRESS) && (s.set & XLB_HS_SOURCE) &&
	    s.address.ss_family != s.source.ss_family) {
		xlb_health_spec__free(&s);
		return xlb_errf(err, errlen, -EINVAL,
				"health: \"address\" and \"source\" must be of one family");
	}
	*out = s;
	return 0;
}

static json_t *addr_json(const struct sockaddr_storage *a)
{
	char buf[INET6_ADDRSTRLEN];
	const void *p = a->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)a)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)a)->sin_addr;

	if (!inet_ntop(a->ss_family, p, buf, sizeof(buf)))
		return NULL;
	return json_string(buf);
}

/* Text when printable ASCII, otherwise hex. */
static int bytes_json(json_t *o, const char *key, const void *buf, __u32 len)
{
	const unsigned char *b = buf;
	char name[16], *hex;
	bool text = true;
	int rc;

	for (__u32 i = 0; i < len; i++)
		text &= b[i] >= 0x20 && b[i] < 0x7f;
	if (text)
		return json_object_set_new(o, key, json_stringn(buf, len));
	hex = malloc(2 * len + 1);
	if (!hex)
		return -1;
	for (__u32 i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", b[i]);
	hex[2 * len] = '\0';
	snprintf(name, sizeof(name), "%s_hex", key);
	rc = json_object_set_new(o, name, json_string(hex));
	free(hex);
	return rc;
}

json_t *xlb_health_spec__to_json(const struct xlb_health_spec *s)
{
	json_t *o = json_object(), *e;
	int rc = 0;

	if (!o)
		return NULL;
	if (s->set & XLB_HS_KIND)
		rc |= json_object_set_new(o, "kind", json_string(xlb_health__kind_str(s->kind)));
	if (s->set & XLB_HS_PORT)
		rc |= json_object_set_new(o, "port", json_integer(s->port));
	if (s->set & XLB_HS_ADDRESS)
		rc |= json_object_set_new(o, "address", addr_json(&s->address));
	if (s->set & XLB_HS_SOURCE)
		rc |= json_object_set_new(o, "source", addr_json(&s->source));
	if (s->set & XLB_HS_INTERVAL)
		rc |= json_object_set_new(o, "interval_ms", json_integer(s->interval_ms));
	if (s->set & XLB_HS_TIMEOUT)
		rc |= json_object_set_new(o, "timeout_ms", json_integer(s->timeout_ms));
	if (s->set & XLB_HS_RISE)
		rc |= json_object_set_new(o, "rise", json_integer(s->rise));
	if (s->set & XLB_HS_FALL)
		rc |= json_object_set_new(o, "fall", json_integer(s->fall));
	if (s->set & XLB_HS_HOLD_DOWN)
		rc |= json_object_set_new(o, "hold_down_ms", json_integer(s->hold_down_ms));
	if (s->set & XLB_HS_INIT)
		rc |= json_object_set_new(o, "init", json_string(s->init == XLB_HEALTH_INIT_DOWN ?
								 "down" : "up"));
	if (s->set & XLB_HS_PATH)
		rc |= json_object_set_new(o, "path", json_string(s->path));
	if (s->set & XLB_HS_HOST)
		rc |= json_object_set_new(o, "host", json_string(s->host));
	if (s->set & XLB_HS_EXPECT) {
		e = json_array();
		for (__u32 i = 0; e && i < s->n_expect; i++) {
			char r[16];

			if (s->expect[i].lo == s->expect[i].hi) {
				rc |= json_array_append_new(e, json_integer(s->expect[i].lo));
			} else {
				snprintf(r, sizeof(r), "%u-%u", s->expect[i].lo, s->expect[i].hi);
				rc |= json_array_append_new(e, json_string(r));
			}
		}
		rc |= json_object_set_new(o, "expect", e);
	}
	if (s->set & XLB_HS_TLS_VERIFY)
		rc |= json_object_set_new(o, "tls_verify", json_boolean(s->tls_verify));
	if (s->set & XLB_HS_CA_FILE)
		rc |= json_object_set_new(o, "ca_file", json_string(s->ca_file));
	if (s->set & XLB_HS_PAYLOAD)
		rc |= bytes_json(o, "payload", s->payload, s->payload_len);
	if (s->set & XLB_HS_REPLY)
		rc |= bytes_json(o, "reply", s->reply, s->reply_len);
	if (s->set & XLB_HS_GRACEFUL)
		rc |= json_object_set_new(o, "tcp_graceful_close",
					  json_boolean(s->tcp_graceful_close));
	if (s->set & XLB_HS_THROUGH_VIP)
		rc |= json_object_set_new(o, "through_vip", json_boolean(s->through_vip));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void xlb_health_spec__free(struct xlb_health_spec *s)
{
	if (!s)
		return;
	free(s->path);
	free(s->host);
	free(s->ca_file);
	free(s->payload);
	free(s->reply);
	memset(s, 0, sizeof(*s));
}

static int dup_mem(const void *src, size_t len, void **dst)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = malloc(len ? len : 1);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, len);
	return 0;
}

int xlb_health_spec__copy(struct xlb_health_spec *dst, const struct xlb_health_spec *src)
{
	struct xlb_health_spec s = *src;
	void *path, *host, *ca;

	s.path = s.host = s.ca_file = NULL;
	s.payload = s.reply = NULL;
	if (dup_mem(src->path, src->path ? strlen(src->path) + 1 : 0, &path) ||
	    (s.path = path, dup_mem(src->host, src->host ? strlen(src->host) + 1 : 0, &host)) ||
	    (s.host = host, dup_mem(src->ca_file, src->ca_file ? strlen(src->ca_file) + 1 : 0, &ca)) ||
	    (s.ca_file = ca, dup_mem(src->payload, src->payload_len, &s.payload)) ||
	    dup_mem(src->reply, src->reply_len, &s.reply)) {
		xlb_health_spec__free(&s);
		return -ENOMEM;
	}
	*dst = s;
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool mem_eq(const void *a, __u32 la, const void *b, __u32 lb)
{
	return la == lb && (!la || !memcmp(a, b, la)) && !a == !b;
}

bool xlb_health_spec__equal(const struct xlb_health_spec *a, const struct xlb_health_spec *b)
{
	json_t *ja = xlb_health_spec__to_json(a), *jb = xlb_health_spec__to_json(b);
	bool eq = ja && jb && json_equal(ja, jb);

	json_decref(ja);
	json_decref(jb);
	/* JSON covers every key; the byte buffers are compared exactly too. */
	return eq && mem_eq(a->payload, a->payload_len, b->payload, b->payload_len) &&
	       mem_eq(a->reply, a->reply_len, b->reply, b->reply_len) &&
	       str_eq(a->path, b->path) && str_eq(a->host, b->host);
}

/* Applies the keys set in s over *c; the address/port are handled by the caller. */
static void apply(struct xlb_health_target_cfg *c, const struct xlb_health_spec *s)
{
	if (!s)
		return;
	if (s->set & XLB_HS_KIND)
		c->kind = s->kind;
	if (s->set & XLB_HS_SOURCE)
		c->src = s->source;
	if (s->set & XLB_HS_INTERVAL)
		c->interval_ms = s->interval_ms;
	if (s->set & XLB_HS_TIMEOUT)
		c->timeout_ms = s->timeout_ms;
	if (s->set & XLB_HS_RISE)
		c->rise = s->rise;
	if (s->set & XLB_HS_FALL)
		c->fall = s->fall;
	if (s->set & XLB_HS_HOLD_DOWN)
		c->hold_down_ms = s->hold_down_ms;
	if (s->set & XLB_HS_INIT)
		c->init = s->init;
	if (s->set & XLB_HS_PATH)
		c->path = s->path;
	if (s->set & XLB_HS_HOST)
		c->host = s->host;
	if (s->set & XLB_HS_EXPECT) {
		c->expect = s->expect;
		c->n_expect = s->n_expect;
	}
	if (s->set & XLB_HS_TLS_VERIFY)
		c->tls_verify = s->tls_verify;
	if (s->set & XLB_HS_CA_FILE)
		c->ca_file = s->ca_file;
	if (s->set & XLB_HS_PAYLOAD) {
		c->payload = s->payload;
		c->payload_len = s->payload_len;
	}
	if (s->set & XLB_HS_REPLY) {
		c->reply = s->reply;
		c->reply_len = s->reply_len;
	}
	if (s->set & XLB_HS_GRACEFUL)
		c->tcp_graceful_close = s->tcp_graceful_close;
	if (s->set & XLB_HS_THROUGH_VIP)
		c->through_vip = s->through_vip;
}

int xlb_health_spec__resolve(const struct xlb_health_spec *vip, const struct xlb_health_spec *real,
			     const struct sockaddr_storage *real_addr, __u16 vip_port,
			     struct xlb_health_target_cfg *out, char *err, size_t errlen)
{
	struct xlb_health_target_cfg c = {};
	__u16 port = vip_port;

	apply(&c, vip);
	apply(&c, real);
	c.addr = *real_addr;
	if (real && (real->set & XLB_HS_ADDRESS))
		c.addr = real->address;
	else if (vip && (vip->set & XLB_HS_ADDRESS))
		c.addr = vip->address;
	if (vip && (vip->set & XLB_HS_PORT))
		port = vip->port;
	if (real && (real->set & XLB_HS_PORT))
		port = real->port;
	if (!port && c.kind != XLB_HEALTH_NONE)
		return xlb_errf(err, errlen, -EINVAL,
				"health: the VIP has no port: give \"port\" for a %s check",
				xlb_health__kind_str(c.kind));
	if (c.addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&c.addr)->sin6_port = htons(port);
	else if (c.addr.ss_family == AF_INET)
		((struct sockaddr_in *)&c.addr)->sin_port = htons(port);
	else
		return xlb_errf(err, errlen, -EINVAL, "health: the real has no IPv4/IPv6 address");
	if (c.src.ss_family && c.src.ss_family != c.addr.ss_family)
		return xlb_errf(err, errlen, -EINVAL,
				"health: \"source\" is not of the target address's family");
	*out = c;
	return 0;
}

json_t *xlb_health_status__to_json(const struct xlb_health_status *st, __u64 now_ns)
{
	time_t secs = st->last_change_real / 1000000000ULL;
	json_t *o = json_object();
	char when[40] = "";
	struct tm tm;
	int rc = 0;

	if (!o)
		return NULL;
	if (gmtime_r(&secs, &tm)) {
		size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

		snprintf(when + n, sizeof(when) - n, ".%03lluZ",
			 (unsigned long long)(st->last_change_real / 1000000ULL % 1000));
	}
	rc |= json_object_set_new(o, "kind", json_string(xlb_health__kind_str(st->kind)));
	rc |= json_object_set_new(o, "state", json_string(xlb_health__state_str(st->state)));
	rc |= json_object_set_new(o, "probed", json_boolean(st->probed));
	rc |= json_object_set_new(o, "last_ok", json_boolean(st->last_ok));
	rc |= json_object_set_new(o, "last_reason", json_string(st->last_reason));
	rc |= json_object_set_new(o, "last_change", json_string(when));
	rc |= json_object_set_new(o, "since_change_ms",
				  json_integer(now_ns > st->last_change_ns ?
					       (now_ns - st->last_change_ns) / 1000000ULL : 0));
	rc |= json_object_set_new(o, "latency_us", json_integer(st->last_latency_us));
	rc |= json_object_set_new(o, "successes", json_integer(st->successes));
	rc |= json_object_set_new(o, "failures", json_integer(st->failures));
	rc |= json_object_set_new(o, "transitions", json_integer(st->transitions));
	rc |= json_object_set_new(o, "probes", json_integer(st->probes));
	rc |= json_object_set_new(o, "skipped", json_integer(st->skipped));
	rc |= json_object_set_new(o, "local_errors", json_integer(st->local_errors));
	if (st->last_local_error[0])
		rc |= json_object_set_new(o, "last_local_error", json_string(st->last_local_error));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Health-check engine core (see health.h): targets in a slot table, the
 * up/down state machine with rise/fall/hold-down, and the dispatch loop
 * that routes epoll events to the tcp/udp probes (health_sock.c) and to
 * libcurl (health_http.c). Deadlines are in a binary min-heap behind one
 * timerfd (health_timer.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "health_int.h"
#include "log.h"

/* Events taken per epoll_wait, and batches per dispatch before yielding. */
#define HC_EVENTS	64
#define HC_ROUNDS	32
/* Probe starts and timeouts handled per pass over the deadline heap. */
#define HC_TIMER_BUDGET		1024

__u64 hc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static __u64 realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void hc_set_reason(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, XLB_HEALTH_REASON_LEN, fmt, ap);
	va_end(ap);
}

/* ---- names ---- */

static const char *const kind_names[] = {
	[XLB_HEALTH_TCP] = "tcp",
	[XLB_HEALTH_HTTP] = "http",
	[XLB_HEALTH_HTTPS] = "https",
	[XLB_HEALTH_UDP] = "udp",
	[XLB_HEALTH_NONE] = "none",
};

const char *xlb_health__kind_str(enum xlb_health_kind kind)
{
	if ((unsigned int)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "?";
	return kind_names[kind];
}

int xlb_health__kind_parse(const char *s, enum xlb_health_kind *kind)
{
	for (unsigned int i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (s && strcmp(s, kind_names[i]) == 0) {
			*kind = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *xlb_health__state_str(enum xlb_health_state state)
{
	return state == XLB_HEALTH_UP ? "up" : "down";
}

static int parse_code(const char **p, __u16 *out)
{
	char *end;
	long v;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(*p, &end, 10);
	if (errno || end - *p != 3 || v < 100 || v > 599)
		return -EINVAL;
	*out = v;
	*p = end;
	return 0;
}

int xlb_health__parse_expect(const char *s, struct xlb_health_range *out, __u32 max,
			     __u32 *n_out)
{
	const char *p = s;
	__u32 n = 0;

	if (!s || !*s)
		return -EINVAL;
	/* Bounded by the string: every turn consumes at least 3 digits. */
	for (;;) {
		struct xlb_health_range r;

		if (parse_code(&p, &r.lo))
			return -EINVAL;
		r.hi = r.lo;
		if (*p == '-') {
			p++;
			if (parse_code(&p, &r.hi) || r.hi < r.lo)
				return -EINVAL;
		}
		if (n == max)
			return -E2BIG;
		out[n++] = r;
		if (!*p)
			break;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
	*n_out = n;
	return 0;
}

/* ---- targets ---- */

static __u64 mix64(__u64 x)
{
	/* splitmix64's finaliser: cheap, and every input bit moves every output bit. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* First-probe phase in [0, interval): from the target's identity, not its id. */
static __u64 phase_ns(const struct xlb_health *h, const struct xlb_health_target_cfg *cfg)
{
	__u64 x = mix64(h->opts.seed ^ ((__u64)cfg->kind << 56));
	const unsigned char *b;
	size_t len;

	if (cfg->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&cfg->addr;

		b = (const void *)&s6->sin6_addr;
		len = sizeof(s6->sin6_addr);
		x = mix64(x ^ s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)&cfg->addr;

		b = (const void *)&s4->sin_addr;
		len = sizeof(s4->sin_addr);
		x = mix64(x ^ s4->sin_port);
	}
	for (size_t i = 0; i < len; i += 4) {
		__u32 w;

		memcpy(&w, b + i, 4);
		x = mix64(x ^ w);
	}
	return x % ((__u64)cfg->interval_ms * 1000000ULL);
}

static struct xlb_health_target *lookup(const struct xlb_health *h, __u64 id)
{
	__u32 slot = (__u32)id, gen = id >> 32;

	if (slot >= h->n_slots || !h->slots[slot].t || h->slots[slot].gen != gen)
		return NULL;
	return h->slots[slot].t;
}

static bool addr_ok(const struct sockaddr_storage *a, bool need_port)
{
	if (a->ss_family == AF_INET)
		return !need_port || ((const struct sockaddr_in *)a)->sin_port;
	if (a->ss_family == AF_INET6)
		return !need_port || ((const struct sockaddr_in6 *)a)->sin6_port;
	return false;
}

static bool str_ok(const char *s)
{
	return !s || strnlen(s, XLB_HEALTH_MAX_STR) < XLB_HEALTH_MAX_STR;
}

/* Checks cfg and fills in defaults into *out (pointers still the caller's). */
static int cfg_normalise(const struct xlb_health_target_cfg *cfg, struct xlb_health_target_cfg *out)
{
	*out = *cfg;
	if ((unsigned int)out->kind > XLB_HEALTH_NONE ||
	    (unsigned int)out->init > XLB_HEALTH_INIT_DOWN)
		return -EINVAL;
	if (!addr_ok(&out->addr, out->kind != XLB_HEALTH_NONE))
		return -EINVAL;
	if (out->src.ss_family && (!addr_ok(&out->src, false) ||
				   out->src.ss_family != out->addr.ss_family))
		return -EINVAL;
	if (!out->interval_ms)
		out->interval_ms = XLB_HEALTH_DEF_INTERVAL_MS;
	if (out->interval_ms < XLB_HEALTH_MIN_INTERVAL_MS ||
	    out->interval_ms > XLB_HEALTH_MAX_INTERVAL_MS)
		return -EINVAL;
	if (!out->timeout_ms)
		out->timeout_ms = XLB_HEALTH_DEF_TIMEOUT_MS;
	if (out->timeout_ms > out->interval_ms)
		out->timeout_ms = out->interval_ms;
	if (!out->rise)
		out->rise = XLB_HEALTH_DEF_RISE;
	if (!out->fall)
		out->fall = XLB_HEALTH_DEF_FALL;
	if (!str_ok(out->path) || !str_ok(out->host) || !str_ok(out->ca_file))
		return -EINVAL;
	if (out->path && out->path[0] != '/')
		return -EINVAL;
	/* Header injection through Host would be a config bug worth refusing. */
	if (out->host && (!*out->host || strpbrk(out->host, "\r\n /")))
		return -EINVAL;
	if (out->n_expect > XLB_HEALTH_MAX_EXPECT || (out->n_expect && !out->expect))
		return -EINVAL;
	for (__u32 i = 0; i < out->n_expect; i++)
		if (out->expect[i].lo > out->expect[i].hi)
			return -EINVAL;
	if (out->through_vip && (out->kind != XLB_HEALTH_TCP || out->addr.ss_family != AF_INET ||
				 out->vip.ss_family != AF_INET))
		return -EINVAL;
	if (out->payload_len > XLB_HEALTH_MAX_UDP_PAYLOAD ||
	    out->reply_len > XLB_HEALTH_MAX_UDP_PAYLOAD ||
	    (out->payload_len && !out->payload) || (out->reply_len && !out->reply))
		return -EINVAL;
	return 0;
}

static void target_strings_free(struct xlb_health_target *t)
{
	free(t->path);
	free(t->host);
	free(t->ca_file);
	free(t->payload);
	free(t->reply);
	t->path = t->host = t->ca_file = NULL;
	t->payload = t->reply = NULL;
}

static int dup_str(const char *s, char **out)
{
	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int dup_buf(const void *b, __u32 len, bool keep_empty, void **out)
{
	*out = NULL;
	if (!b && !keep_empty)
		return 0;
	*out = malloc(len ? len : 1);
	if (!*out)
		return -ENOMEM;
	if (len)
		memcpy(*out, b, len);
	return 0;
}

/* Copies the normalised cfg into t, owning every string and buffer. */
static int target_set_cfg(struct xlb_health_target *t, const struct xlb_health_target_cfg *n)
{
	struct xlb_health_target tmp = {};

	if (dup_str(n->path ? n->path : "/", &tmp.path) || dup_str(n->host, &tmp.host) ||
	    dup_str(n->ca_file, &tmp.ca_file) ||
	    dup_buf(n->payload, n->payload_len, true, &tmp.payload) ||
	    dup_buf(n->reply, n->reply_len, false, &tmp.reply)) {
		target_strings_free(&tmp);
		return -ENOMEM;
	}
	target_strings_free(t);
	t->cfg = *n;
	t->path = tmp.path;
	t->host = tmp.host;
	t->ca_file = tmp.ca_file;
	t->payload = tmp.payload;
	t->reply = tmp.reply;
	t->cfg.path = t->path;
	t->cfg.host = t->host;
	t->cfg.ca_file = t->ca_file;
	t->cfg.payload = t->payload;
	t->cfg.reply = t->reply;
	if (n->n_expect) {
		memcpy(t->expect, n->expect, n->n_expect * sizeof(t->expect[0]));
	} else {
		t->expect[0] = (struct xlb_health_range){ 200, 399 };
		t->cfg.n_expect = 1;
	}
	t->cfg.expect = t->expect;
	return 0;
}

static bool is_http(const struct xlb_health_target *t)
{
	return t->cfg.kind == XLB_HEALTH_HTTP || t->cfg.kind == XLB_HEALTH_HTTPS;
}

/* Drops a probe in flight without counting it. */
static void probe_abort(struct xlb_health *h, struct xlb_health_target *t)
{
	if (!t->inflight)
		return;
	if (is_http(t))
		hc_http_abort(h, t);
	else
		hc_sock_abort(h, t);
	t->inflight = false;
}

/* Schedules the first probe at the target's phase within one interval. */
static void schedule_first(struct xlb_health *h, struct xlb_health_target *t, __u64 now)
{
	t->sched_ns = now + phase_ns(h, &t->cfg);
	t->due_ns = t->sched_ns;
}

static int slot_alloc(struct xlb_health *h, __u32 *slot)
{
	if (h->n_free) {
		*slot = h->free_slots[--h->n_free];
		return 0;
	}
	if (h->n_slots == h->cap_slots) {
		__u32 cap = h->cap_slots ? h->cap_slots * 2 : 64;
		void *s, *f;

		if (cap > HC_SEQ_MASK)
			return -ENOSPC;
		s = realloc(h->slots, cap * sizeof(*h->slots));
		if (!s)
			return -ENOMEM;
		h->slots = s;
		f = realloc(h->free_slots, cap * sizeof(*h->free_slots));
		if (!f)
			return -ENOMEM;
		h->free_slots = f;
		h->cap_slots = cap;
	}
	h->slots[h->n_slots].t = NULL;
	h->slots[h->n_slots].gen = 1;	/* so that no id is 0 */
	*slot = h->n_slots++;
	return 0;
}

static void slot_release(struct xlb_health *h, __u32 slot)
{
	h->slots[slot].t = NULL;
	if (++h->slots[slot].gen == 0)
		h->slots[slot].gen = 1;
	h->free_slots[h->n_free++] = slot;
}

int xlb_health__add_target(struct xlb_health *h, const struct xlb_health_target_cfg *cfg,
			   void *user, __u64 *id_out)
{
	struct xlb_health_target_cfg n;
	struct xlb_health_target *t;
	__u64 now = hc_now_ns();
	__u32 slot;
	int err;

	if (!h || !cfg)
		return -EINVAL;
	err = cfg_normalise(cfg, &n);
	if (err)
		return err;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = -1;
	t->user = user;
	err = target_set_cfg(t, &n);
	if (err)
		goto err_free;
	if (is_http(t)) {
		err = hc_http_configure(h, t);
		if (err)
			goto err_free;
	}
	err = slot_alloc(h, &slot);
	if (err)
		goto err_http;
	t->slot = slot;
	t->id = (__u64)h->slots[slot].gen << 32 | slot;
	t->st.id = t->id;
	t->st.kind = n.kind;
	t->st.state = n.init == XLB_HEALTH_INIT_DOWN ? XLB_HEALTH_DOWN : XLB_HEALTH_UP;
	t->st.last_change_ns = now;
	t->st.last_change_real = realtime_ns();
	if (n.kind != XLB_HEALTH_NONE) {
		schedule_first(h, t, now);
		err = hc_heap_push(h, t);
		if (err)
			goto err_slot;
	} else {
		t->st.state = XLB_HEALTH_UP;
		t->heap_idx = UINT32_MAX;
	}
	h->slots[slot].t = t;
	h->count++;
	hc_arm_timer(h);
	if (id_out)
		*id_out = t->id;
	return 0;

err_slot:
	h->free_slots[h->n_free++] = slot;
err_http:
	hc_http_release(h, t);
err_free:
	target_strings_free(t);
	free(t);
	return err;
}

int xlb_health__update_target(struct xlb_health *h, __u64 id,
			      const struct xlb_health_target_cfg *cfg)
{
	struct xlb_health_target *t = h ? lookup(h, id) : NULL;
	struct xlb_health_target_cfg n;
	bool was_probed;
	int err;

	if (!t)
		return -ENOENT;
	if (!cfg)
		return -EINVAL;
	err = cfg_normalise(cfg, &n);
	if (err)
		return err;
	probe_abort(h, t);
	was_probed = t->cfg.kind != XLB_HEALTH_NONE;
	hc_http_release(h, t);
	err = target_set_cfg(t, &n);
	if (!err && is_http(t))
		err = hc_http_configure(h, t);
	if (err) {
		/* Keep the target, unprobed, rather than half-configured. */
		pr_warn("health: update of target %llu failed: %s\n",
			(unsigned long long)id, strerror(-err));
		n.kind = XLB_HEALTH_NONE;
		t->cfg.kind = XLB_HEALTH_NONE;
	}
	t->st.kind = t->cfg.kind;
	if (t->cfg.kind == XLB_HEALTH_NONE)
		t->st.state = XLB_HEALTH_UP;
	t->st.successes = 0;
	t->st.failures = 0;
	if (was_probed)
		hc_heap_del(h, t);
	if (t->cfg.kind != XLB_HEALTH_NONE) {
		schedule_first(h, t, hc_now_ns());
		if (hc_heap_push(h, t)) {
			err = -ENOMEM;
			t->cfg.kind = t->st.kind = XLB_HEALTH_NONE;
		}
	}
	hc_arm_timer(h);
	return err;
}

static void target_destroy(struct xlb_health *h, struct xlb_health_target *t)
{
	probe_abort(h, t);
	hc_http_release(h, t);
	target_strings_free(t);
	free(t);
}

int xlb_health__remove_target(struct xlb_health *h, __u64 id)
{
	struct xlb_health_target *t = h ? lookup(h, id) : NULL;

	if (!t)
		return -ENOENT;
	if (t->cfg.kind != XLB_HEALTH_NONE)
		hc_heap_del(h, t);
	slot_release(h, t->slot);
	h->count--;
	target_destroy(h, t);
	hc_arm_timer(h);
	return 0;
}

int xlb_health__get(const struct xlb_health *h, __u64 id, struct xlb_health_status *st)
{
	const struct xlb_health_target *t = h ? lookup(h, id) : NULL;

	if (!t)
		return -ENOENT;
	*st = t->st;
	return 0;
}

__u32 xlb_health__count(const struct xlb_health *h)
{
	return h ? h->count : 0;
}

/* ---- state machine ---- */

/*
 * Next probe at the next scheduled slot after now (fixed rate, the phase
 * kept), and at least half an interval after this probe's start, so that a
 * probe that ran late is not followed by another one right away.
 */
static void schedule_next(struct xlb_health *h, struct xlb_health_target *t, __u64 start,
			  __u64 now)
{
	__u64 iv = (__u64)t->cfg.interval_ms * 1000000ULL;
	__u64 next = t->sched_ns + iv, floor = start + iv / 2;

	if (floor < now)
		floor = now;
	if (next <= floor) {
		__u64 k = (floor - next) / iv + 1;

		t->st.skipped += k;
		next += k * iv;
	}
	t->sched_ns = next;
	t->due_ns = next;
	hc_heap_fix(h, t);
}

void hc_probe_local_error(struct xlb_health *h, struct xlb_health_target *t, const char *what)
{
	__u64 now;

	t->inflight = false;
	t->st.local_errors++;
	hc_set_reason(t->st.last_local_error, "%s", what);
	if (!t->local_err_logged) {
		char ip[INET6_ADDRSTRLEN] = "?";
		const void *a;
		__u16 port;

		if (t->cfg.addr.ss_family == AF_INET6) {
			a = &((const struct sockaddr_in6 *)&t->cfg.addr)->sin6_addr;
			port = ntohs(((const struct sockaddr_in6 *)&t->cfg.addr)->sin6_port);
		} else {
			a = &((const struct sockaddr_in *)&t->cfg.addr)->sin_addr;
			port = ntohs(((const struct sockaddr_in *)&t->cfg.addr)->sin_port);
		}
		inet_ntop(t->cfg.addr.ss_family, a, ip, sizeof(ip));
		t->local_err_logged = true;
		pr_warn("health: %s check of %s%s%s:%u not run: %s (not counted against the target)\n",
			xlb_health__kind_str(t->cfg.kind), t->cfg.addr.ss_family == AF_INET6 ? "[" : "",
			ip, t->cfg.addr.ss_family == AF_INET6 ? "]" : "", port, what);
	}
	now = hc_now_ns();
	schedule_next(h, t, now, now);
}

void hc_probe_done(struct xlb_health *h, struct xlb_health_target *t, bool ok,
		   const char *reason)
{
	struct xlb_health_status *st = &t->st;
	struct xlb_health_probe p;
	enum xlb_health_state to = st->state;
	__u64 now = hc_now_ns(), id = t->id;
	bool first = !st->probed, changed;
	char why[XLB_HEALTH_REASON_LEN];
	void *user = t->user;

	t->inflight = false;
	p.sched_ns = t->sched_ns;
	p.start_ns = t->start_ns;
	p.latency_us = (now - t->start_ns) / 1000;
	p.ok = ok;
	p.reason = NULL;

	st->probes++;
	st->probed = true;
	st->last_ok = ok;
	st->last_probe_ns = t->start_ns;
	st->last_latency_us = p.latency_us;
	if (ok) {
		st->successes_total++;
		st->successes++;
		st->failures = 0;
	} else {
		st->failures_total++;
		st->failures++;
		st->successes = 0;
		hc_set_reason(st->last_reason, "%s", reason ? reason : "failed");
		p.reason = st->last_reason;
	}

	if (st->state == XLB_HEALTH_UP) {
		/* Up until proven down: the first verdict counts on its own. */
		if (!ok && (st->failures >= t->cfg.fall || first))
			to = XLB_HEALTH_DOWN;
	} else if (ok && st->successes >= t->cfg.rise &&
		   now - st->last_change_ns >= (__u64)t->cfg.hold_down_ms * 1000000ULL) {
		to = XLB_HEALTH_UP;
	}
	changed = to != st->state;
	if (changed) {
		st->state = to;
		st->transitions++;
		st->last_change_ns = now;
		st->last_change_real = realtime_ns();
	}
	snprintf(why, sizeof(why), "%s", to == XLB_HEALTH_UP ? "rise" : st->last_reason);

	t->local_err_logged = false;
	schedule_next(h, t, t->start_ns, now);

	/* Callbacks last: they may remove t (the id check sees that). */
	if (h->opts.on_probe)
		h->opts.on_probe(h->opts.ctx, user, id, &p);
	if (changed && h->opts.on_change && lookup(h, id))
		h->opts.on_change(h->opts.ctx, user, id, to, why);
}

/* ---- engine ---- */

static void probe_start(struct xlb_health *h, struct xlb_health_target *t, __u64 now)
{
	t->seq = ++h->seq & HC_SEQ_MASK;
	t->start_ns = now;
	t->inflight = true;
	t->due_ns = now + (__u64)t->cfg.timeout_ms * 1000000ULL;
	hc_heap_fix(h, t);
	if (is_http(t))
		hc_http_start(h, t);
	else
		hc_sock_start(h, t);
}

static void run_timers(struct xlb_health *h)
{
	/*
	 * At most HC_TIMER_BUDGET starts/timeouts per pass: after a stall of
	 * the daemon, 10,000 overdue probes are started over several turns of
	 * its loop rather than in one block (the timerfd is re-armed in the
	 * past, so it stays readable).
	 */
	__u32 budget = HC_TIMER_BUDGET;
	__u64 now = hc_now_ns();

	while (h->heap_len && budget--) {
		struct xlb_health_target *t = h->heap[0];

		if (t->due_ns > now)
			break;
		if (t->inflight) {
			probe_abort(h, t);
			hc_probe_done(h, t, false, "timeout");
		} else {
			probe_start(h, t, now);
		}
		now = hc_now_ns();
	}
}

static void handle_probe_event(struct xlb_health *h, __u64 data, __u32 events)
{
	__u32 slot = (__u32)data, seq = (data >> 32) & HC_SEQ_MASK;
	struct xlb_health_target *t;

	if (slot >= h->n_slots)
		return;
	t = h->slots[slot].t;
	/* A stale event: the probe ended (timeout) or the slot was reused. */
	if (!t || !t->inflight || t->seq != seq || is_http(t))
		return;
	hc_sock_event(h, t, events);
}

int xlb_health__dispatch(struct xlb_health *h)
{
	struct epoll_event ev[HC_EVENTS];
	bool curl_work = false;
	__u64 buf;
	int n;

	if (!h)
		return -EINVAL;
	h->in_dispatch = true;
	for (int round = 0; round < HC_ROUNDS; round++) {
		n = epoll_wait(h->epfd, ev, HC_EVENTS, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			__u64 d = ev[i].data.u64;

			switch (d >> HC_TAG_SHIFT) {
			case HC_TAG_TIMER:
				if (read(h->tfd, &buf, sizeof(buf)) < 0 && errno != EAGAIN)
					pr_debug("health: timerfd read: %s\n", strerror(errno));
				h->armed_ns = 0;
				run_timers(h);
				break;
			case HC_TAG_CTIMER:
				if (read(h->ctfd, &buf, sizeof(buf)) < 0 && errno != EAGAIN)
					pr_debug("health: curl timerfd read: %s\n", strerror(errno));
				hc_http_timer(h);
				curl_work = true;
				break;
			case HC_TAG_CURL:
				hc_http_socket(h, (int)(__u32)d, ev[i].events);
				curl_work = true;
				break;
			case HC_TAG_PROBE:
				handle_probe_event(h, d & ~(0xfULL << HC_TAG_SHIFT), ev[i].events);
				break;
			}
		}
		if (curl_work || h->curl_kick) {
			hc_http_kick(h);
			hc_http_collect(h);
			curl_work = false;
		}
		/* Starts that fell due while a batch was handled don't wait for it all. */
		if (h->heap_len && h->heap[0]->due_ns <= hc_now_ns())
			run_timers(h);
		/*
		 * Go round again while there was work: probes just started on
		 * loopback or a LAN often complete before we look again, and
		 * handling them now saves a wakeup of the daemon's loop.
		 */
		if (n == 0)
			break;
	}
	/* Probes that ended right away may have made something due already. */
	if (h->heap_len && h->heap[0]->due_ns <= hc_now_ns())
		run_timers(h);
	/* Transfers added just now: let libcurl start them before we sleep. */
	if (h->curl_kick) {
		hc_http_kick(h);
		hc_http_collect(h);
	}
	h->in_dispatch = false;
	hc_http_arm(h);
	hc_arm_timer(h);
	return 0;
}

int xlb_health__fd(const struct xlb_health *h)
{
	return h ? h->epfd : -EINVAL;
}

static int epoll_add(int epfd, int fd, __u64 tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag << HC_TAG_SHIFT };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

struct xlb_health *xlb_health__new(const struct xlb_health_opts *opts)
{
	struct xlb_health *h;
	int err;

	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	if (opts)
		h->opts = *opts;
	h->tfd = h->ctfd = -1;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0) {
		err = -errno;
		goto err_free;
	}
	h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	h->ctfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (h->tfd < 0 || h->ctfd < 0) {
		err = -errno;
		goto err_fds;
	}
	err = epoll_add(h->epfd, h->tfd, HC_TAG_TIMER);
	if (!err)
		err = epoll_add(h->epfd, h->ctfd, HC_TAG_CTIMER);
	if (err)
		goto err_fds;
	err = hc_http_init(h);
	if (err)
		goto err_fds;
	return h;

err_fds:
	if (h->tfd >= 0)
		close(h->tfd);
	if (h->ctfd >= 0)
		close(h->ctfd);
	close(h->epfd);
err_free:
	free(h);
	pr_warn("health: cannot create the probe engine: %s\n", strerror(-err));
	errno = -err;
	return NULL;
}

void xlb_health__free(struct xlb_health *h)
{
	if (!h)
		return;
	for (__u32 i = 0; i < h->n_slots; i++) {
		struct xlb_health_target *t = h->slots[i].t;

		if (t)
			target_destroy(h, t);
	}
	hc_http_fini(h);
	free(h->slots);
	free(h->free_slots);
	free(h->heap);
	close(h->tfd);
	close(h->ctfd);
	close(h->epfd);
	free(h);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The /metrics and /healthz endpoint: libmicrohttpd with MHD_USE_EPOLL and
 * no thread of its own. MHD keeps its sockets in its own epoll set; the
 * daemon adds that one fd to its loop and calls __run when it is readable
 * or when __timeout_ms has passed, so a scrape is served in the daemon's
 * thread, between its other events, and the model callback needs no locks.
 *
 * Why not an internal thread: the model (VIPs, reals, health) lives in the
 * single-threaded daemon; a thread would need a lock or a copied snapshot
 * on every change, for a scrape every 15 s or so. A render of 512 VIPs x
 * 100 reals takes a few ms (bench_metrics), short enough to run inline.
 *
 * __run and __timeout_ms also pace the flow-table walk (metrics_flows.c),
 * so that the daemon needs no timer of its own for it.
 *
 * Bounds: MHD_OPTION_CONNECTION_LIMIT (connections), ..._MEMORY_LIMIT
 * (request head and line must fit: larger ones get 431/414 and the
 * connection closes), ..._TIMEOUT (idle and slowloris connections are
 * closed), GET/HEAD only, request bodies never read, and at most
 * max_bodies rendered scrapes held for slow readers (then 503).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics_priv.h"

#define HTTP_CONN_LIMIT 64		/* concurrent connections (Prometheus needs one each) */
#define HTTP_CONN_TIMEOUT_S 10		/* idle connection timeout, seconds */
#define HTTP_CONN_MEMORY (16 * 1024)	/* per-connection pool: request line + headers */
#define HTTP_MAX_BODIES 4		/* scrape bodies in flight (~23 MB each at 512 x 100) */

struct xlb_metrics_http {
	struct MHD_Daemon *mhd;
	struct xlb_metrics *m;
	struct xlb_metrics_http_ops ops;
	unsigned int bodies;		/* scrape bodies rendered and not yet freed by MHD */
	unsigned int max_bodies;
	int port;
};

/* A rendered scrape handed to MHD; freed (and uncounted) when MHD is done with it. */
struct body {
	struct xlb_metrics_http *h;
	char *text;
};

static void body_free(void *cls)
{
	struct body *b = cls;

	b->h->bodies--;
	free(b->text);
	free(b);
}

int xlb_metrics_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			     char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *p, *hs;
	unsigned long port = 0;
	size_t hl;

#define BAD(...) do {							\
		if (err && errlen)					\
			snprintf(err, errlen, __VA_ARGS__);		\
		return -EINVAL;						\
	} while (0)

	if (!s)
		s = XLB_METRICS_LISTEN_DEFAULT;
	if (!strcmp(s, "off"))
		return 1;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			BAD("invalid listen address \"%s\": expected [IPv6]:PORT, e.g. [::1]:9120", s);
		hs = s + 1;
		hl = rb - hs;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			BAD("invalid listen address \"%s\": expected ADDR:PORT (e.g. %s), [IPv6]:PORT or off",
			    s, XLB_METRICS_LISTEN_DEFAULT);
		hs = s;
		hl = colon - s;
	}
	if (!hl || hl >= sizeof(host))
		BAD("invalid listen address \"%s\": missing or overlong address", s);
	memcpy(host, hs, hl);
	host[hl] = '\0';
	p = colon + 1;
	if (!*p || strlen(p) > 5 || (p[0] == '0' && p[1]))
		BAD("invalid listen address \"%s\": port must be 0-65535", s);
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			BAD("invalid listen address \"%s\": port must be 0-65535", s);
		port = port * 10 + (*p - '0');
	}
	if (port > 65535)
		BAD("invalid listen address \"%s\": port must be 0-65535", s);
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			BAD("invalid listen address \"%s\": \"%s\" is not an IPv6 address", s, host);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			BAD("invalid listen address \"%s\": \"%s\" is not an IPv4 address (IPv6 goes in brackets)",
			    s, host);
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
	}
	return 0;
#undef BAD
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	pr_debug("metrics http: %s\n", buf);
}

static enum MHD_Result reply_static(struct MHD_Connection *c, unsigned int status,
				    const char *body, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve_metrics(struct xlb_metrics_http *h, struct MHD_Connection *c)
{
	struct xlb_metrics_model model = {};
	struct MHD_Response *r;
	struct xlb_prom out;
	enum MHD_Result ret;
	struct body *b;
	size_t len;
	int err = 0;

	/*
	 * Each body is a full render (tens of MB for big configs) held until
	 * the client has read it: slow or stalled readers must not pile them up.
	 */
	if (h->bodies >= h->max_bodies)
		return reply_static(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "too many scrapes in flight, retry\n", NULL);
	xlb_prom__init(&out);
	if (h->ops.model)
		err = h->ops.model(h->ops.ctx, &model);
	if (!err) {
		err = xlb_metrics__render(h->m, &model, &out);
		if (h->ops.model_done)
			h->ops.model_done(h->ops.ctx, &model);
	}
	/* a failing map read still leaves a useful scrape; only a lost buffer is fatal */
	if (out.err || !out.len) {
		xlb_prom__free(&out);
		pr_warn("metrics: scrape failed: %s\n", strerror(-(err ?: -EIO)));
		return reply_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "scrape failed\n", NULL);
	}
	b = malloc(sizeof(*b));
	if (b)
		b->text = xlb_prom__steal(&out, &len);
	if (!b || !b->text) {
		free(b);
		xlb_prom__free(&out);
		return reply_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	}
	b->h = h;
	h->bodies++;
	r = MHD_create_response_from_buffer_with_free_callback_cls(len, b->text, body_free, b);
	if (!r) {
		body_free(b);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, XLB_PROM_CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct xlb_metrics_http *h = cls;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);

	/*
	 * Everything is answered on the first call, before any body is read:
	 * MHD then discards the body (or closes the connection).
	 */
	if (strcmp(url, "/metrics") && strcmp(url, "/healthz"))
		return reply_static(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics or /healthz\n",
				    NULL);
	if (!get)
		return reply_static(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
				    "GET, HEAD");
	if (!strcmp(url, "/healthz")) {
		bool ok = !h->ops.healthy || h->ops.healthy(h->ops.ctx);

		return reply_static(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
				    ok ? "ok\n" : "not attached\n", NULL);
	}
	return serve_metrics(h, c);
}

int xlb_metrics_http__start(struct xlb_metrics_http **out, const char *listen,
			    struct xlb_metrics *m, const struct xlb_metrics_http_ops *ops,
			    const struct xlb_metrics_http_opts *opts)
{
	struct xlb_metrics_http_opts o = {};
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct xlb_metrics_http *h;
	char msg[160];
	socklen_t sl;
	unsigned int flags;
	int err;

	*out = NULL;
	err = xlb_metrics_parse_listen(listen, &ss, &sl, msg, sizeof(msg));
	if (err < 0) {
		pr_warn("metrics: %s\n", msg);
		return err;
	}
	if (err == 1) {
		pr_info("metrics: endpoint off\n");
		return 0;
	}
	if (opts)
		o = *opts;
	if (!o.conn_limit)
		o.conn_limit = HTTP_CONN_LIMIT;
	if (!o.conn_timeout_s)
		o.conn_timeout_s = HTTP_CONN_TIMEOUT_S;
	if (!o.conn_memory)
		o.conn_memory = HTTP_CONN_MEMORY;
	if (!o.max_bodies)
		o.max_bodies = HTTP_MAX_BODIES;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->m = m;
	h->max_bodies = o.max_bodies;
	if (ops)
		h->ops = *ops;

	flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * No MHD_OPTION_LISTENING_ADDRESS_REUSE: MHD's default is SO_REUSEADDR
	 * alone (a restart binds despite TIME_WAIT), while 1 adds SO_REUSEPORT,
	 * with which a second xlbd on the same address would bind too and take
	 * half of the scrapes instead of failing to start.
	 */
	errno = 0;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_CONNECTION_LIMIT, o.conn_limit,
				  MHD_OPTION_CONNECTION_TIMEOUT, o.conn_timeout_s,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, o.conn_memory,
				  MHD_OPTION_END);
	if (!h->mhd) {
		err = errno ? -errno : -EADDRNOTAVAIL;
		pr_warn("metrics: cannot listen on %s: %s\n", listen ? listen : XLB_METRICS_LISTEN_DEFAULT,
			strerror(-err));
		free(h);
		return err;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : -1;
	pr_info("metrics: serving /metrics on %s (port %d)\n",
		listen ? listen : XLB_METRICS_LISTEN_DEFAULT, h->port);
	*out = h;
	return 0;
}

int xlb_metrics_http__fd(const struct xlb_metrics_http *h)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	return info ? info->epoll_fd : -EINVAL;
}

int xlb_metrics_http__timeout_ms(struct xlb_metrics_http *h)
{
	int flows = xlb_metrics__flows_timeout_ms(h->m), web = -1;
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(h->mhd, &t) == MHD_YES)
		web = t > INT_MAX ? INT_MAX : (int)t;
	if (web < 0)
		return flows;
	if (flows < 0)
		return web;
	return web < flows ? web : flows;
}

int xlb_metrics_http__run(struct xlb_metrics_http *h)
{
	int err = MHD_run(h->mhd) == MHD_YES ? 0 : -EIO;

	/* a step of the flow-table walk when one is due (a few ms; logs its errors) */
	if (h->m->maps.flows_fd >= 0)
		xlb_metrics__flows_step(h->m);
	return err;
}

int xlb_metrics_http__port(const struct xlb_metrics_http *h)
{
	return h->port;
}

void xlb_metrics_http__stop(struct xlb_metrics_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);
	free(h);
}

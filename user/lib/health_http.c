// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP and HTTPS probes of the health engine through libcurl's multi
 * interface driven by the engine's epoll: libcurl tells us which sockets to
 * watch (CURLMOPT_SOCKETFUNCTION) and when to wake it up
 * (CURLMOPT_TIMERFUNCTION, a timerfd); we hand events back with
 * curl_multi_socket_action() and collect finished transfers. One easy handle
 * per target, configured once, re-added for every probe. Why libcurl and
 * which options: see health.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include <curl/curl.h>

#include "health_int.h"
#include "log.h"

/* curl_global_init is process-wide; the engine may be created more than once. */
static unsigned int curl_users;

static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct xlb_health *h = userp;
	struct epoll_event ev = { .data.u64 = HC_TAG_CURL << HC_TAG_SHIFT | (__u32)s };

	if (what == CURL_POLL_REMOVE) {
		/* May fail if the socket is already closed: it left the set then. */
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(h->multi, s, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev.events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(h->epfd, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) < 0) {
		int op = errno == EEXIST ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

		if (epoll_ctl(h->epfd, op, s, &ev) < 0) {
			pr_warn("health: epoll_ctl for a curl socket: %s\n", strerror(errno));
			return -1;
		}
	}
	if (!socketp)
		curl_multi_assign(h->multi, s, h);	/* any non-NULL marks "in the set" */
	return 0;
}

/*
 * libcurl's timer, kept cheap: a timeout of 0 asked for while we are in
 * dispatch is served at the end of the current round (no timer at all);
 * otherwise the timerfd is only moved earlier, never later (a too-early
 * expiry costs one empty wakeup, and is then re-armed to what curl wants).
 */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct xlb_health *h = userp;

	if (timeout_ms < 0) {
		h->curl_want_ns = 0;
		return 0;
	}
	h->curl_want_ns = hc_now_ns() + (__u64)timeout_ms * 1000000ULL;
	if (!timeout_ms && h->in_dispatch) {
		h->curl_kick = true;
		return 0;
	}
	hc_http_arm(h);
	return 0;
}

void hc_http_arm(struct xlb_health *h)
{
	__u64 at = h->curl_want_ns ? hc_grid(h->curl_want_ns) : 0;

	if (!at || (h->curl_armed_ns && h->curl_armed_ns <= at))
		return;
	if (!hc_timerfd_arm(h->ctfd, at))
		h->curl_armed_ns = at;
}

void hc_http_kick(struct xlb_health *h)
{
	int running;

	/* Bounded: each turn is libcurl asking again for "now". */
	for (int i = 0; i < 8 && h->curl_kick; i++) {
		h->curl_kick = false;
		h->curl_want_ns = 0;
		curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xlb_health_target *t = userdata;

	/* The status is known by now; the body does not matter: cut it short. */
	t->http_aborted = true;
	return 0;
}

int hc_http_init(struct xlb_health *h)
{
	CURLM *m;

	if (!curl_users && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	curl_users++;
	h->curl_inited = true;
	m = curl_multi_init();
	if (!m) {
		hc_http_fini(h);
		return -ENOMEM;
	}
	h->multi = m;
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(m, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(m, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
	return 0;
}

void hc_http_fini(struct xlb_health *h)
{
	if (h->multi) {
		curl_multi_cleanup(h->multi);
		h->multi = NULL;
	}
	if (h->curl_inited) {
		h->curl_inited = false;
		if (--curl_users == 0)
			curl_global_cleanup();
	}
}

static void addr_text(const struct sockaddr_storage *a, char *buf, size_t len, __u16 *port)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)a;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]", ip);
		*port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)a;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s", ip);
		*port = ntohs(s4->sin_port);
	}
}

int hc_http_configure(struct xlb_health *h, struct xlb_health_target *t)
{
	bool tls = t->cfg.kind == XLB_HEALTH_HTTPS;
	char ip[INET6_ADDRSTRLEN + 2], buf[XLB_HEALTH_MAX_STR * 2 + 128];
	long backstop = t->cfg.timeout_ms + 1000L;
	struct curl_slist *l;
	__u16 port;
	CURL *e;

	e = curl_easy_init();
	if (!e)
		return -ENOMEM;
	t->easy = e;
	addr_text(&t->cfg.addr, ip, sizeof(ip), &port);
	/*
	 * With a Host name, the URL carries it (Host header, SNI, the name TLS
	 * verifies) and CONNECT_TO sends the connection to the real's address,
	 * so nothing is ever resolved. Without one, the URL has the literal.
	 */
	snprintf(buf, sizeof(buf), "%s://%s:%u%s", tls ? "https" : "http",
		 t->cfg.host ? t->cfg.host : ip, port, t->cfg.path);
	if (curl_easy_setopt(e, CURLOPT_URL, buf) != CURLE_OK)
		goto err;
	if (t->cfg.host) {
		snprintf(buf, sizeof(buf), "::%s:%u", ip, port);
		l = curl_slist_append(NULL, buf);
		if (!l)
			goto err;
		t->http_connect_to = l;
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, l);
	}
	if (t->cfg.src.ss_family) {
		char src[INET6_ADDRSTRLEN + 8];
		__u16 unused;

		addr_text(&t->cfg.src, ip, sizeof(ip), &unused);
		/* "host!" = an address, never an interface name; no brackets for v6. */
		if (t->cfg.src.ss_family == AF_INET6) {
			ip[strlen(ip) - 1] = '\0';
			snprintf(src, sizeof(src), "host!%s", ip + 1);
		} else {
			snprintf(src, sizeof(src), "host!%s", ip);
		}
		curl_easy_setopt(e, CURLOPT_INTERFACE, src);
	}
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	/* The engine enforces timeout_ms itself; these are only a backstop. */
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, backstop);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, backstop);
	/*
	 * No DNS cache: our hosts are IP literals, and curl prunes its cache
	 * by walking all of it on every resolve, which at 10,000 targets (one
	 * entry each) made every probe cost milliseconds of CPU.
	 */
	curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "xlb-health/1");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, t->cfg.tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, t->cfg.tls_verify ? 2L : 0L);
	if (t->cfg.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, t->cfg.ca_file);
	return 0;
err:
	hc_http_release(h, t);
	return -ENOMEM;
}

void hc_http_abort(struct xlb_health *h, struct xlb_health_target *t)
{
	if (t->http_added) {
		curl_multi_remove_handle(h->multi, t->easy);
		t->http_added = false;
	}
}

void hc_http_release(struct xlb_health *h, struct xlb_health_target *t)
{
	hc_http_abort(h, t);
	if (t->easy) {
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
	}
	curl_slist_free_all(t->http_hdrs);
	curl_slist_free_all(t->http_connect_to);
	t->http_hdrs = t->http_connect_to = NULL;
}

int hc_http_start(struct xlb_health *h, struct xlb_health_target *t)
{
	CURLMcode rc;
	char why[XLB_HEALTH_REASON_LEN];

	t->http_aborted = false;
	rc = curl_multi_add_handle(h->multi, t->easy);
	if (rc != CURLM_OK) {
		hc_set_reason(why, "curl: %s", curl_multi_strerror(rc));
		hc_probe_local_error(h, t, why);
		return 0;
	}
	t->http_added = true;
	return 0;
}

void hc_http_timer(struct xlb_health *h)
{
	int running;

	h->curl_armed_ns = 0;
	if (h->curl_want_ns && h->curl_want_ns <= hc_now_ns()) {
		h->curl_want_ns = 0;
		curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	hc_http_arm(h);
}

void hc_http_socket(struct xlb_health *h, int fd, __u32 events)
{
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, fd, flags, &running);
}

static bool status_ok(const struct xlb_health_target *t, long code)
{
	for (__u32 i = 0; i < t->cfg.n_expect; i++)
		if (code >= t->cfg.expect[i].lo && code <= t->cfg.expect[i].hi)
			return true;
	return false;
}

/* Failures of the LB host rather than of the target (see health.h). */
static bool curl_local(CURL *e, CURLcode rc)
{
	long os_err = 0;

	switch (rc) {
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
	case CURLE_INTERFACE_FAILED:	/* cannot bind the source address */
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:	/* our ca_file, not their certificate */
		return true;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_err);
		return os_err == EMFILE || os_err == ENFILE || os_err == ENOBUFS ||
		       os_err == ENOMEM || os_err == EADDRNOTAVAIL;
	default:
		return false;
	}
}

static const char *curl_reason(CURL *e, CURLcode rc, char *buf)
{
	long os_err = 0;

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_err);
		if (os_err == ECONNREFUSED)
			return "connect refused";
		if (os_err == EHOSTUNREACH)
			return "host unreachable";
		if (os_err == ENETUNREACH)
			return "network unreachable";
		return "connect failed";
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_SSL_CONNECT_ERROR:
		return "tls handshake failed";
	case CURLE_PEER_FAILED_VERIFICATION:
		return "tls verify failed";
	case CURLE_GOT_NOTHING:
		return "http empty reply";
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return "connection reset";
	default:
		hc_set_reason(buf, "http error: %s", curl_easy_strerror(rc));
		return buf;
	}
}

void hc_http_collect(struct xlb_health *h)
{
	char buf[XLB_HEALTH_REASON_LEN];
	CURLMsg *msg;
	int left;

	/* Bounded: each message is a transfer that finished, removed below. */
	while ((msg = curl_multi_info_read(h->multi, &left))) {
		struct xlb_health_target *t = NULL;
		CURL *e = msg->easy_handle;
		CURLcode rc = msg->data.result;
		const char *reason = NULL;
		long code = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
		if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && t->http_aborted)) {
			if (!status_ok(t, code)) {
				hc_set_reason(buf, "http status %ld", code);
				reason = buf;
			}
		} else {
			reason = curl_reason(e, rc, buf);
		}
		curl_multi_remove_handle(h->multi, e);
		t->http_added = false;
		if (reason && rc != CURLE_OK && curl_local(e, rc)) {
			hc_set_reason(buf, "curl: %s", curl_easy_strerror(rc));
			hc_probe_local_error(h, t, buf);
			continue;
		}
		hc_probe_done(h, t, !reason, reason);
	}
}

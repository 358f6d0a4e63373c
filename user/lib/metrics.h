/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus metrics of xlb: counters read straight from the balancer's
 * per-CPU BPF maps at scrape time (summed over CPUs, no cache), plus the
 * state the daemon knows (VIPs, reals, health, weights, its own counters),
 * rendered in the text exposition format 0.0.4 and served over HTTP by a
 * libmicrohttpd server that runs inside the daemon's own epoll loop.
 * README.md ("Metrics") lists every metric.
 *
 * Integration into xlbd, in four steps:
 *
 * 1. Counters the daemon keeps. Embed one struct xlb_metrics_daemon
 *    (zeroed) and update it where things happen:
 *      health engine, xlb_health_opts.on_probe(ctx, user, id, p):
 *        xlb_metrics_daemon__probe(&d, xlb_metrics_probe_result(p->ok, p->reason),
 *                                  p->latency_us / 1e6);
 *      local errors (health status.local_errors: the probe could not be
 *      tried, not the real's fault; the engine reports them without
 *      on_probe): d.probes[XLB_PROBE_ERROR] += new ones (no duration, so
 *      not through __probe and not in the histogram).
 *      control API, once per request:
 *        xlb_metrics_daemon__api(&d, "add-vip", "ok");   (verb, result as the API names them)
 *      state file: d.state_writes++ after a good rename, d.state_write_errors++ on failure.
 *
 * 2. The maps, once attached or adopted:
 *      struct xlb_metrics_maps maps = {
 *              .stats_fd = bpf_map__fd(skel->maps.xlb_stats),
 *              .vip_stats_fd = ..., .real_stats_fd = ..., .flows_fd = ...,
 *      };                                    (-1 for a map that is absent)
 *      struct xlb_metrics *m = xlb_metrics__new(&maps, NULL);
 *    The fds are borrowed: keep them open while m lives, or call
 *    xlb_metrics__set_maps() after replacing them.
 *
 * 3. The model callback. At each scrape the server calls ops.model() to
 *    get a struct xlb_metrics_model: arrays of VIPs and their reals with
 *    labels and indices, health, weights, probe latency, transitions, the
 *    daemon counters, the attach mode and version. From the health engine's
 *    struct xlb_health_status st of a real: .up = st.state == XLB_HEALTH_UP,
 *    .probed = st.probed, .probe_latency_s = st.last_latency_us / 1e6,
 *    .transitions = st.transitions. Labels are the canonical text of
 *    xlb_vip_format / xlb_addr_format (addr.h), as xlbctl prints them. It is called from
 *    xlb_metrics_http__run(), i.e. in the daemon's thread, so it may point
 *    straight into the daemon's state without locks; everything it points
 *    to must stay valid until ops.model_done() (if set) is called, which
 *    happens right after the render, before __run returns.
 *
 * 4. The server in the event loop:
 *      struct xlb_metrics_http_ops ops = { .model = fill, .healthy = attached, .ctx = xlbd };
 *      err = xlb_metrics_http__start(&h, "127.0.0.1:9120", m, &ops, NULL);
 *      if (h) {                              (h is NULL when the address is "off")
 *              ev.events = EPOLLIN; ev.data.ptr = <tag>;
 *              epoll_ctl(ep, EPOLL_CTL_ADD, xlb_metrics_http__fd(h), &ev);
 *      }
 *      loop: timeout = min(own timeout, xlb_metrics_http__timeout_ms(h));
 *            n = epoll_wait(ep, evs, N, timeout);
 *            xlb_metrics_http__run(h);  (when its fd is ready AND after every
 *                                        epoll_wait that returned, even on timeout)
 *      exit: xlb_metrics_http__stop(h); xlb_metrics__free(m);
 *    __run never blocks: MHD's sockets are non-blocking and the fd above is
 *    MHD's own epoll fd. A scrape renders synchronously inside __run (see
 *    README for the figure: ~16 ms for 512 VIPs x 100 reals), then the
 *    body is written out over as many __run calls as the socket needs.
 *    __run also takes the flow-table sample in steps of a few ms (below).
 *
 * Everything here is single-threaded: one struct xlb_metrics and its server
 * belong to one thread.
 */
#ifndef XLB_METRICS_H
#define XLB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "prom.h"

#define XLB_METRICS_LISTEN_DEFAULT "127.0.0.1:9120"
#define XLB_METRICS_FLOW_WINDOW_S 60		/* a flow is active if used this recently */
#define XLB_METRICS_FLOW_INTERVAL_MS 10000	/* a flow-table walk starts this often */
#define XLB_METRICS_FLOW_STEP 16384		/* entries read per step of a walk (~4 ms) */
#define XLB_METRICS_FLOW_STEP_GAP_MS 10		/* pause between two steps of a walk */

/* ---- the model the daemon supplies at scrape time ---- */

struct xlb_metrics_real {
	const char *label;		/* label real="...": "198.18.1.1" or "198.18.1.1:8080" */
	__u32 index;			/* real index: its row in xlb_real_stats */
	__u32 weight;			/* admin weight; 0 = drained */
	bool up;			/* health state: true = up (in the ring) */
	bool probed;			/* a probe has completed: probe_latency_s is meaningful */
	double probe_latency_s;		/* duration of the last completed probe, seconds */
	__u64 transitions;		/* health state changes (up<->down) since xlbd started */
};

struct xlb_metrics_vip {
	const char *label;		/* label vip="...": "198.18.0.10:80/tcp", "[2001:db8::10]:443/udp" */
	__u32 index;			/* VIP index: its row in xlb_vip_stats, flows' vip field */
	__u32 n_reals;			/* entries in reals */
	const struct xlb_metrics_real *reals;
};

/* Outcome of one health probe (label result="..."). */
enum xlb_probe_result {
	XLB_PROBE_SUCCESS,		/* "success": connected / expected status */
	XLB_PROBE_FAILURE,		/* "failure": refused, reset, unexpected status or reply */
	XLB_PROBE_TIMEOUT,		/* "timeout": no answer within the timeout */
	XLB_PROBE_ERROR,		/* "error": local error (fds, memory, ports), not the real's fault */
	XLB_PROBE__MAX,
};

/* Upper bounds of xlb_health_probe_duration_seconds, seconds (+Inf implied). */
#define XLB_METRICS_PROBE_BOUNDS						\
	{ 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 }
#define XLB_METRICS_PROBE_NBOUNDS 13

#define XLB_METRICS_API_SLOTS 64	/* distinct (verb, result) pairs counted */
#define XLB_METRICS_API_VERB_LEN 24
#define XLB_METRICS_API_RESULT_LEN 16

struct xlb_metrics_api_count {
	__u64 count;			/* requests with this verb and result */
	char verb[XLB_METRICS_API_VERB_LEN];	/* "add-vip", "list", ... */
	char result[XLB_METRICS_API_RESULT_LEN];	/* "ok", "invalid", "error", ... */
};

/* Counters kept by the daemon itself; zero-initialise, update with the helpers. */
struct xlb_metrics_daemon {
	__u64 probe_buckets[XLB_METRICS_PROBE_NBOUNDS + 1];	/* per bucket, not cumulative */
	double probe_seconds_sum;	/* sum of probe durations, seconds */
	__u64 probes[XLB_PROBE__MAX];	/* probes by result */
	__u64 state_writes;		/* state file written (temp + fsync + rename) */
	__u64 state_write_errors;	/* state file writes that failed */
	__u32 n_api;			/* used entries of api */
	__u32 api_overflow;		/* requests not counted: api[] full */
	struct xlb_metrics_api_count api[XLB_METRICS_API_SLOTS];
};

/*
 * Result of a probe from the health engine's (ok, reason) pair: ok ->
 * success, a reason starting with "timeout" -> timeout, else failure.
 */
enum xlb_probe_result xlb_metrics_probe_result(bool ok, const char *reason);
/* Counts one probe of the given result and duration (in the histogram too). */
void xlb_metrics_daemon__probe(struct xlb_metrics_daemon *d, enum xlb_probe_result result,
			       double seconds);
/*
 * Counts one API request. verb and result are copied (truncated to the sizes
 * above); returns 0, or -ENOSPC once XLB_METRICS_API_SLOTS pairs exist (the
 * request is then counted in api_overflow only).
 */
int xlb_metrics_daemon__api(struct xlb_metrics_daemon *d, const char *verb, const char *result);

struct xlb_metrics_model {
	const struct xlb_metrics_vip *vips;	/* configured VIPs, in the order to print */
	__u32 n_vips;
	const struct xlb_metrics_daemon *daemon;	/* NULL: no daemon families */
	const char *attach_mode;	/* "native", "generic", "offload"; NULL = not attached */
	const char *ifname;		/* interface xlb is attached to (label), may be NULL */
	const char *version;		/* build version; NULL = "unknown" */
};

/* ---- rendering from the maps ---- */

/* The balancer's maps (fds borrowed, -1 = absent: its families are left out). */
struct xlb_metrics_maps {
	int stats_fd;			/* xlb_stats      PERCPU_ARRAY enum xlb_stat -> __u64 */
	int vip_stats_fd;		/* xlb_vip_stats  PERCPU_ARRAY -> struct xlb_vip_stats */
	int real_stats_fd;		/* xlb_real_stats PERCPU_ARRAY -> struct xlb_real_stats */
	int flows_fd;			/* xlb_flows      LRU_HASH -> struct xlb_flow */
};

/* How per-VIP / per-real rows are read. */
enum xlb_metrics_lookup {
	XLB_METRICS_LOOKUP_AUTO,	/* batch where it is faster (default) */
	XLB_METRICS_LOOKUP_BATCH,	/* BPF_MAP_LOOKUP_BATCH over the used index range */
	XLB_METRICS_LOOKUP_PER_KEY,	/* one BPF_MAP_LOOKUP_ELEM per used index */
};

struct xlb_metrics_opts {
	__u32 flow_window_s;		/* active-flow window; 0 = XLB_METRICS_FLOW_WINDOW_S */
	__u32 flow_interval_ms;		/* time between walk starts; 0 = default */
	__u32 flow_step;		/* entries per step; 0 = XLB_METRICS_FLOW_STEP */
	enum xlb_metrics_lookup lookup;	/* default AUTO */
};

struct xlb_metrics;

/* NULL + errno on failure. opts may be NULL. */
struct xlb_metrics *xlb_metrics__new(const struct xlb_metrics_maps *maps,
				     const struct xlb_metrics_opts *opts);
void xlb_metrics__free(struct xlb_metrics *m);
/* Swap in new map fds (after re-adoption); forgets the last flow sample. */
int xlb_metrics__set_maps(struct xlb_metrics *m, const struct xlb_metrics_maps *maps);
void xlb_metrics__set_lookup(struct xlb_metrics *m, enum xlb_metrics_lookup lookup);

/*
 * Appends a full scrape to out: map counters summed over CPUs now, the
 * model, and the last completed flow sample (render itself never walks the
 * flow table). On error (-ENOMEM, a map read failing) out holds a partial
 * text and the error is returned; a failing map read is logged.
 */
int xlb_metrics__render(struct xlb_metrics *m, const struct xlb_metrics_model *model,
			struct xlb_prom *out);

/*
 * Active flows per VIP: flows whose atime is within the window, counted by
 * walking xlb_flows with BPF_MAP_LOOKUP_BATCH. A full walk of 262144
 * entries costs ~70 ms of CPU (bench_metrics), so it is cut into steps of
 * flow_step entries (~4 ms each), one every XLB_METRICS_FLOW_STEP_GAP_MS,
 * and a new walk starts every flow_interval_ms. The result is published
 * when a walk completes.
 *
 * The HTTP server runs the steps from xlb_metrics_http__run() and folds
 * their deadline into xlb_metrics_http__timeout_ms(): a daemon using it
 * has nothing more to do. Without the server, call __flows_step() when
 * __flows_timeout_ms() says, or __sample_flows() for a blocking full walk.
 */
/* One full walk now (blocking); publishes the result. Returns 0 or -errno. */
int xlb_metrics__sample_flows(struct xlb_metrics *m);
/* One step if due: returns 1 when it completed a walk, 0 otherwise, or -errno. */
int xlb_metrics__flows_step(struct xlb_metrics *m);
/* Milliseconds until a step is due (0 = now); -1 = no flow table. */
int xlb_metrics__flows_timeout_ms(const struct xlb_metrics *m);
/* Result of the last completed walk: active flows of VIP index vip, entries seen. */
__u64 xlb_metrics__active_flows(const struct xlb_metrics *m, __u32 vip);
__u64 xlb_metrics__flow_entries(const struct xlb_metrics *m);
/* CPU time of the last completed walk (sum of its steps), of the last render, seconds. */
double xlb_metrics__flow_sample_seconds(const struct xlb_metrics *m);
double xlb_metrics__render_seconds(const struct xlb_metrics *m);

/*
 * Decap counters (xlb_dstats, on real servers): xlb_decap_rx_packets_total
 * and xlb_decap_packets_total{verdict,reason}. For a future exporter on the
 * reals; xlbd does not call it.
 */
int xlb_metrics__render_decap(int dstats_fd, struct xlb_prom *out);

/* ---- HTTP server (libmicrohttpd, external epoll) ---- */

struct xlb_metrics_http_ops {
	/* Fills *model for one scrape (daemon's thread); return 0 or -errno (-> 500). */
	int (*model)(void *ctx, struct xlb_metrics_model *model);
	/* Optional: called after the render; free what model() allocated. */
	void (*model_done)(void *ctx, struct xlb_metrics_model *model);
	/* /healthz: true = 200 "ok" (running and attached), false = 503. NULL = always 200. */
	bool (*healthy)(void *ctx);
	void *ctx;
};

struct xlb_metrics_http_opts {
	unsigned int conn_limit;	/* concurrent connections; 0 = 64 */
	unsigned int conn_timeout_s;	/* idle connection closed after; 0 = 10 s */
	size_t conn_memory;		/* per connection, bounds the request head; 0 = 16 KiB */
	unsigned int max_bodies;	/* rendered scrapes held for readers at once (more: 503); 0 = 4 */
};

struct xlb_metrics_http;

/*
 * Parses "ADDR:PORT" (IPv4), "[ADDR]:PORT" (IPv6) or "off". Port 0 asks the
 * kernel for a free port (tests). Returns 0 (address filled), 1 for "off",
 * or -EINVAL with a message in err (may be NULL).
 */
int xlb_metrics_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			     char *err, size_t errlen);

/*
 * Starts the server on listen (NULL = XLB_METRICS_LISTEN_DEFAULT). *out is
 * NULL when listen is "off". m and ops must outlive the server. opts may be
 * NULL. Returns 0 or -errno (bad address, bind failure).
 */
int xlb_metrics_http__start(struct xlb_metrics_http **out, const char *listen,
			    struct xlb_metrics *m, const struct xlb_metrics_http_ops *ops,
			    const struct xlb_metrics_http_opts *opts);
/* The fd to add to the daemon's epoll set for EPOLLIN (MHD's epoll fd). */
int xlb_metrics_http__fd(const struct xlb_metrics_http *h);
/* Milliseconds until __run must be called again even without events; -1 = none. */
int xlb_metrics_http__timeout_ms(struct xlb_metrics_http *h);
/* Does whatever is ready (accept, read, render, write, expire); never blocks. */
int xlb_metrics_http__run(struct xlb_metrics_http *h);
/* Bound port, host order (useful with port 0). */
int xlb_metrics_http__port(const struct xlb_metrics_http *h);
void xlb_metrics_http__stop(struct xlb_metrics_http *h);

#endif /* XLB_METRICS_H */

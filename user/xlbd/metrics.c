// SPDX-License-Identifier: GPL-2.0-only
/*
 * xlbd's Prometheus endpoint: see metrics.h here and the library's
 * user/lib/metrics.h (its four integration steps are done here).
 *
 * Everything runs in xlbd's one thread: the server's epoll fd is watched by
 * the event loop, and a loop hook caps every wait with the server's own
 * timeout and runs it after every wait, so a scrape is rendered between
 * two other events (~16 ms at 512 VIPs x 100 reals), slow readers are
 * written to as their sockets drain, and the flow-table walk advances in
 * steps of a few ms. The model points straight into the runtime model; the
 * labels are formatted into one block per scrape, freed right after it.
 *
 * The library's headers share their names with xlbd's (metrics.h,
 * health.h), hence the explicit ../lib/ paths.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "../lib/health.h"
#include "../lib/metrics.h"
#include "addr.h"
#include "api.h"
#include "log.h"
#include "health.h"
#include "metrics.h"
#include "xlbd.h"

#ifndef XLB_VERSION
#define XLB_VERSION "unknown"
#endif

#define ATTACH_CHECK_MS 1000	/* /healthz and the attach gauge re-query the kernel at most this often */

static struct {
	struct xlbd *d;
	struct xlb_metrics *m;
	struct xlb_metrics_http *h;
	struct xlbd_watch *w;
	struct xlb_metrics_daemon daemon;	/* API, state file, probes */
	__u64 local_errors_seen;	/* sum of the health targets' local_errors at the last scrape */
	/* one scrape's model, freed by model_done */
	struct xlb_metrics_vip *vips;
	struct xlb_metrics_real *reals;
	char *labels;
	/* attach state, re-checked at most every ATTACH_CHECK_MS */
	long long attach_checked_ms;
	bool attached;
} g;

void xlbd_metrics_api(const char *verb, const char *result)
{
	xlb_metrics_daemon__api(&g.daemon, verb, result);
}

void xlbd_metrics_state_write(bool ok)
{
	if (ok)
		g.daemon.state_writes++;
	else
		g.daemon.state_write_errors++;
}

/* The health checker's hook (health.h): every completed probe. */
void xlbd_metrics_on_probe(struct xlbd *d, const struct xlb_health_probe *p)
{
	xlb_metrics_daemon__probe(&g.daemon, xlb_metrics_probe_result(p->ok, p->reason),
				  p->latency_us / 1e6);
}

/*
 * Is our program still attached where we put it? One netlink query, made at
 * most once per ATTACH_CHECK_MS whatever the request rate.
 */
static bool attached(struct xlbd *d)
{
	long long now = xlb_now_ms();
	struct xlb_xdp_state st = {};

	if (g.attach_checked_ms && now - g.attach_checked_ms < ATTACH_CHECK_MS)
		return g.attached;
	g.attach_checked_ms = now;
	g.attached = d->dp.xdp.prog_id && !xlb_xdp_query(d->dp.ifindex, XLB_PROG_NAME, &st) &&
		     st.prog_id == d->dp.xdp.prog_id;
	return g.attached;
}

/* Label of xlb_xdp_attach_mode (the library's names, not libxdp's). */
static const char *mode_label(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "generic";
	case XDP_MODE_HW:
		return "offload";
	default:
		return "unknown";
	}
}

static bool healthy(void *ctx)
{
	return attached(ctx);
}

static void model_done(void *ctx, struct xlb_metrics_model *model)
{
	free(g.vips);
	free(g.reals);
	free(g.labels);
	g.vips = NULL;
	g.reals = NULL;
	g.labels = NULL;
}

static int model(void *ctx, struct xlb_metrics_model *mo)
{
	struct xlbd *d = ctx;
	size_t nreals = 0, k = 0;
	__u64 local_errors = 0;
	char *lab;

	for (size_t i = 0; i < d->nvips; i++)
		nreals += d->vips[i].nreals;
	g.vips = calloc(d->nvips + 1, sizeof(*g.vips));
	g.reals = calloc(nreals + 1, sizeof(*g.reals));
	g.labels = malloc(d->nvips * XLB_VIP_STRLEN + nreals * XLB_ADDR_STRLEN + 1);
	if (!g.vips || !g.reals || !g.labels) {
		model_done(ctx, mo);
		return -ENOMEM;
	}
	lab = g.labels;
	for (size_t i = 0; i < d->nvips; i++) {
		const struct rt_vip *v = &d->vips[i];
		struct xlb_metrics_vip *mv = &g.vips[i];

		mv->label = xlb_vip_str(&v->key, lab);
		lab += XLB_VIP_STRLEN;
		mv->index = v->id;
		mv->n_reals = v->nreals;
		mv->reals = &g.reals[k];
		for (size_t j = 0; j < v->nreals; j++, k++) {
			const struct rt_real *r = &v->reals[j];
			struct xlb_metrics_real *mr = &g.reals[k];
			struct xlb_health_status st;

			mr->label = xlb_addr_str(&r->addr, r->family, lab);
			lab += XLB_ADDR_STRLEN;
			mr->index = r->index;
			mr->weight = r->weight;
			/* A real without a check: up unless marked down, no probe series. */
			mr->up = !r->down;
			if (!xlbd_health_real_status(d, r, &st)) {
				mr->up = st.state == XLB_HEALTH_UP;
				mr->probed = st.probed;
				mr->probe_latency_s = st.last_latency_us / 1e6;
				mr->transitions = st.transitions;
				local_errors += st.local_errors;
			}
		}
	}
	/*
	 * Local probe errors are counted by the engine per target: fold what
	 * grew since the last scrape into the counter (targets removed in
	 * between take their count with them, so it only ever grows).
	 */
	if (local_errors >= g.local_errors_seen)
		g.daemon.probes[XLB_PROBE_ERROR] += local_errors - g.local_errors_seen;
	g.local_errors_seen = local_errors;

	mo->vips = g.vips;
	mo->n_vips = d->nvips;
	mo->daemon = &g.daemon;
	mo->attach_mode = attached(d) ? mode_label(d->dp.xdp.mode) : NULL;
	mo->ifname = d->iface;
	mo->version = XLB_VERSION;
	return 0;
}

static void on_fd(void *ctx, int fd, uint32_t events)
{
	/* Nothing here: run_hook() runs the server after every wait. */
}

static int timeout_hook(void *ctx)
{
	return g.h ? xlb_metrics_http__timeout_ms(g.h) : -1;
}

static void run_hook(void *ctx)
{
	if (g.h)
		xlb_metrics_http__run(g.h);
}

int xlbd_metrics_start(struct xlbd *d, const char *listen)
{
	struct xlb_metrics_maps maps = {
		.stats_fd = d->dp.fd[XLB_DP_STATS],
		.vip_stats_fd = d->dp.fd[XLB_DP_VIP_STATS],
		.real_stats_fd = d->dp.fd[XLB_DP_REAL_STATS],
		.flows_fd = d->dp.fd[XLB_DP_FLOWS],
	};
	static const struct xlb_metrics_http_ops ops_tmpl = {
		.model = model, .model_done = model_done, .healthy = healthy,
	};
	static struct xlb_metrics_http_ops ops;
	int err;

	g.d = d;
	ops = ops_tmpl;
	ops.ctx = d;
	if (!listen)
		listen = XLB_METRICS_LISTEN_DEFAULT;
	if (!strcmp(listen, "off")) {
		pr_info("metrics: off\n");
		return 0;
	}
	g.m = xlb_metrics__new(&maps, NULL);
	if (!g.m) {
		err = -errno;
		pr_warn("metrics: %s\n", strerror(-err));
		return err;
	}
	err = xlb_metrics_http__start(&g.h, listen, g.m, &ops, NULL);
	if (err) {
		pr_warn("metrics: cannot serve on %s: %s\n", listen, strerror(-err));
		goto err_free;
	}
	g.w = xlbd_loop_add_fd(d->loop, xlb_metrics_http__fd(g.h), EPOLLIN, on_fd, d);
	if (!g.w) {
		err = -errno;
		goto err_stop;
	}
	err = xlbd_loop_add_hook(d->loop, timeout_hook, run_hook, d);
	if (err)
		goto err_del;
	pr_info("metrics on http://%s/metrics (version %s)\n", listen, XLB_VERSION);
	return 0;
err_del:
	xlbd_loop_del(d->loop, g.w);
	g.w = NULL;
err_stop:
	pr_warn("metrics: event loop: %s\n", strerror(-err));
	xlb_metrics_http__stop(g.h);
	g.h = NULL;
err_free:
	xlb_metrics__free(g.m);
	g.m = NULL;
	return err;
}

void xlbd_metrics_stop(struct xlbd *d)
{
	if (g.w)
		xlbd_loop_del(d->loop, g.w);
	g.w = NULL;
	/* The hook stays registered; with g.h NULL it does nothing. */
	xlb_metrics_http__stop(g.h);
	g.h = NULL;
	xlb_metrics__free(g.m);
	g.m = NULL;
	model_done(d, NULL);
}

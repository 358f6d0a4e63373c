// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cost of a metrics scrape at the scale: 512 VIPs x 100 reals, on
 * per-CPU maps of the ABI's full size created here (xlb_stats, xlb_vip_stats
 * of 512 rows, xlb_real_stats of 65536 rows, every used row non-zero on every
 * possible CPU), and of the flow-table sample over a full xlb_flows
 * (262144 entries of an LRU hash with per-CPU LRU lists, filled from every
 * CPU in turn so that no CPU's share evicts another's).
 *
 * Figures, each the median of --runs runs (min beside it):
 *   reads only   51200 per-real rows: BPF_MAP_LOOKUP_BATCH vs one lookup each
 *   full scrape  xlb_metrics__render (reads + text) with batch, per key, auto
 *   flow sample  xlb_metrics__sample_flows by batch and by get_next_key+lookup,
 *                and the longest step of the walk as the server paces it
 *   over HTTP    GET /metrics on 127.0.0.1 from a client thread while this
 *                thread runs the epoll loop as xlbd would (render + transfer)
 *
 *   bench_metrics [--quick] [--runs N]
 *
 * --quick: 3 runs, per-key flow walk skipped: a smoke run for make check.
 * Machine-readable lines:
 *   XLB-BENCH metrics-reads rows=51200 batch_ms=... per_key_ms=... ratio=...
 *   XLB-BENCH metrics-scrape vips=512 reals=51200 bytes=... batch_ms=... per_key_ms=... auto_ms=... ratio=...
 *   XLB-BENCH metrics-flows entries=... batch_ms=... per_key_ms=... steps=... step_max_ms=...
 *   XLB-BENCH metrics-http bytes=... ms=...
 * Needs root (bpf_map_create); exits 2 when maps cannot be created.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlb/abi.h>

#include "log.h"
#include "metrics.h"

#define N_VIPS 512
#define N_REALS_PER_VIP 100
#define N_FLOWS XLB_MAX_FLOWS

static int ncpus;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct stat2 {
	double med, min;
};

static struct stat2 summarize(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return (struct stat2){ v[n / 2], v[0] };
}

/* Fills rows [lo, lo + n) of a per-CPU array with non-zero values on every CPU. */
static int fill_percpu(int fd, __u32 lo, __u32 n, size_t vsz)
{
	const __u32 chunk = 1024;
	__u32 *keys = calloc(chunk, sizeof(*keys));
	__u64 *vals = calloc((size_t)chunk * ncpus, vsz);
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 done = 0; done < n && !err; done += chunk) {
		__u32 cnt = n - done < chunk ? n - done : chunk;
		size_t words = vsz / 8;

		for (__u32 i = 0; i < cnt; i++) {
			keys[i] = lo + done + i;
			for (int c = 0; c < ncpus; c++)
				for (size_t w = 0; w < words; w++)
					vals[((size_t)i * ncpus + c) * words + w] =
						(__u64)keys[i] * 1000 + c * 10 + w + 1;
		}
		err = bpf_map_update_batch(fd, keys, vals, &cnt, NULL);
	}
out:
	free(keys);
	free(vals);
	return err;
}

/*
 * N_FLOWS flows, 1/ncpus of them inserted from each CPU (per-CPU LRU
 * lists hold max_entries/ncpus each); 3/4 active, 1/4 idle for 2 minutes.
 */
static int fill_flows(int fd, __u32 *inserted)
{
	const __u32 chunk = 4096;
	struct xlb_flow_key *keys = calloc(chunk, sizeof(*keys));
	struct xlb_flow *vals = calloc(chunk, sizeof(*vals));
	__u32 per_cpu = N_FLOWS / ncpus, n = 0;
	__u64 now = now_ns();
	cpu_set_t old, one;
	int err = 0;

	*inserted = 0;
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	sched_getaffinity(0, sizeof(old), &old);
	for (int c = 0; c < ncpus && !err; c++) {
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;	/* possible but offline CPU */
		for (__u32 done = 0; done < per_cpu && !err; done += chunk) {
			__u32 cnt = per_cpu - done < chunk ? per_cpu - done : chunk;

			for (__u32 i = 0; i < cnt; i++, n++) {
				memset(&keys[i], 0, sizeof(keys[i]));
				keys[i].family = XLB_AF_INET;
				keys[i].proto = 6;
				keys[i].src.v4 = htonl(0xc6120000u + (n >> 16));
				keys[i].sport = htons(n & 0xffff);
				keys[i].dst.v4 = htonl(0xc612000a);
				keys[i].dport = htons(80);
				vals[i].vip = n % N_VIPS;
				vals[i].real = 1 + n % (N_VIPS * N_REALS_PER_VIP);
				vals[i].atime_ns = (n % 4) ? now : now - 120000000000ULL;
			}
			err = bpf_map_update_batch(fd, keys, vals, &cnt, NULL);
			*inserted += cnt;
		}
	}
	sched_setaffinity(0, sizeof(old), &old);
out:
	free(keys);
	free(vals);
	return err;
}

/* The raw read cost: 51200 per-real rows by batch (range) and by key. */
static void bench_reads(int fd, int runs, struct stat2 *batch, struct stat2 *per_key)
{
	const __u32 n = N_VIPS * N_REALS_PER_VIP, chunk = 1024;
	size_t row = sizeof(struct xlb_real_stats) * ncpus;
	double *tb = calloc(runs, sizeof(double)), *tk = calloc(runs, sizeof(double));
	__u32 *keys = calloc(chunk, sizeof(*keys));
	char *vals = malloc(row * chunk);
	__u64 sink = 0;

	for (int r = 0; r < runs; r++) {
		double t0 = now_ms();
		__u32 prev = 0, next, got = 0;

		/* rows 1..n: start after key 0 */
		for (int i = 0; i < 1000 && got < n; i++) {
			__u32 cnt = n - got < chunk ? n - got : chunk;
			int err = bpf_map_lookup_batch(fd, &prev, &next, keys, vals, &cnt, NULL);

			if (err && err != -ENOENT)
				break;
			got += cnt;
			sink += ((__u64 *)vals)[0];
			if (!cnt || err)
				break;
			prev = keys[cnt - 1];
		}
		tb[r] = now_ms() - t0;
		t0 = now_ms();
		for (__u32 k = 1; k <= n; k++) {
			bpf_map_lookup_elem(fd, &k, vals);
			sink += ((__u64 *)vals)[0];
		}
		tk[r] = now_ms() - t0;
	}
	*batch = summarize(tb, runs);
	*per_key = summarize(tk, runs);
	if (!sink)
		printf("(no data read)\n");
	free(tb);
	free(tk);
	free(keys);
	free(vals);
}

static struct stat2 bench_render(struct xlb_metrics *m, const struct xlb_metrics_model *mo,
				 enum xlb_metrics_lookup lk, int runs, size_t *bytes)
{
	double *t = calloc(runs, sizeof(double));
	struct xlb_prom p;
	struct stat2 s;

	xlb_prom__init(&p);
	xlb_metrics__set_lookup(m, lk);
	for (int r = 0; r < runs; r++) {
		double t0;

		xlb_prom__reset(&p);
		t0 = now_ms();
		if (xlb_metrics__render(m, mo, &p))
			fprintf(stderr, "render failed\n");
		t[r] = now_ms() - t0;
	}
	*bytes = p.len;
	s = summarize(t, runs);
	xlb_prom__free(&p);
	free(t);
	return s;
}

static struct stat2 bench_flows(struct xlb_metrics *m, enum xlb_metrics_lookup lk, int runs)
{
	double *t = calloc(runs, sizeof(double));
	struct stat2 s;

	xlb_metrics__set_lookup(m, lk);
	for (int r = 0; r < runs; r++) {
		double t0 = now_ms();

		if (xlb_metrics__sample_flows(m))
			fprintf(stderr, "flow sample failed\n");
		t[r] = now_ms() - t0;
	}
	s = summarize(t, runs);
	free(t);
	return s;
}

/* One walk in steps, waiting out the gaps; the longest step is what the loop feels. */
static void bench_steps(struct xlb_metrics *m, const struct xlb_metrics_maps *maps, int *steps,
			double *max_ms)
{
	int r = 0;

	xlb_metrics__set_lookup(m, XLB_METRICS_LOOKUP_AUTO);
	*steps = 0;
	*max_ms = 0;
	/* re-adopting the maps forgets the last walk: the next one is due now */
	xlb_metrics__set_maps(m, maps);
	for (int i = 0; i < 10000 && r != 1; i++) {
		int t = xlb_metrics__flows_timeout_ms(m);
		double t0;

		if (t < 0)
			break;
		if (t > 0)
			usleep(t * 1000);
		t0 = now_ms();
		r = xlb_metrics__flows_step(m);
		if (r < 0)
			break;
		if (now_ms() - t0 > *max_ms)
			*max_ms = now_ms() - t0;
		(*steps)++;
	}
}

struct http_client {
	int port;
	size_t bytes;
	int status;
	double ms;
	atomic_bool done;
};

static void *http_client(void *arg)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(0) };
	struct http_client *c = arg;
	struct timeval tv = { .tv_sec = 10 };
	static char buf[1 << 16];
	double t0 = now_ms();
	int fd;

	a.sin_port = htons(c->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
		goto out_close;
	/* bounded by size (1 GiB) and by SO_RCVTIMEO */
	while (c->bytes < (1u << 30)) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		if (!c->bytes && n > 12)
			c->status = atoi(buf + 9);
		c->bytes += n;
	}
	c->ms = now_ms() - t0;
out_close:
	close(fd);
out:
	atomic_store(&c->done, true);
	return NULL;
}

static int http_model(void *ctx, struct xlb_metrics_model *mo)
{
	*mo = *(struct xlb_metrics_model *)ctx;
	return 0;
}

/* One scrape over loopback HTTP, served by the library's server in an epoll loop here. */
static int bench_http(struct xlb_metrics *m, struct xlb_metrics_model *mo, struct http_client *c)
{
	struct xlb_metrics_http_ops ops = { .model = http_model, .ctx = mo };
	struct epoll_event ev = { .events = EPOLLIN }, evs[4];
	struct xlb_metrics_http *h;
	pthread_t t;
	double end;
	int ep, err;

	err = xlb_metrics_http__start(&h, "127.0.0.1:0", m, &ops, NULL);
	if (err)
		return err;
	ep = epoll_create1(0);
	epoll_ctl(ep, EPOLL_CTL_ADD, xlb_metrics_http__fd(h), &ev);
	c->port = xlb_metrics_http__port(h);
	pthread_create(&t, NULL, http_client, c);
	end = now_ms() + 20000;
	while (!atomic_load(&c->done) && now_ms() < end) {
		int to = xlb_metrics_http__timeout_ms(h);

		epoll_wait(ep, evs, 4, to < 0 || to > 20 ? 20 : to);
		xlb_metrics_http__run(h);
	}
	pthread_join(t, NULL);
	close(ep);
	xlb_metrics_http__stop(h);
	return 0;
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_map_create_opts, lru_opts, .map_flags = BPF_F_NO_COMMON_LRU);
	struct xlb_metrics_maps maps = { -1, -1, -1, -1 };
	static struct xlb_metrics_vip vips[N_VIPS];
	struct xlb_metrics_real *reals;
	struct xlb_metrics_daemon d = {};
	struct xlb_metrics_model mo;
	struct xlb_metrics *m;
	struct stat2 rb, rk, sb, sk, sa, fb, fk = { 0, 0 };
	char (*vlabels)[32], (*rlabels)[24];
	int runs = 11, err;
	bool quick = false;
	size_t bytes;
	__u32 inserted;
	double step_max;
	int steps;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = true;
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
	}
	if (quick)
		runs = 3;
	if (runs < 1)
		runs = 1;
	xlb_log_hook_libbpf();
	xlb_log_set_level(XLB_LOG_WARN);
	ncpus = libbpf_num_possible_cpus();

	maps.stats_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "xlb_stats", 4, 8, XLB_STAT__MAX,
				       NULL);
	maps.vip_stats_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "xlb_vip_stats", 4,
					   sizeof(struct xlb_vip_stats), XLB_MAX_VIPS, NULL);
	maps.real_stats_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "xlb_real_stats", 4,
					    sizeof(struct xlb_real_stats), XLB_MAX_REALS, NULL);
	maps.flows_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "xlb_flows",
				       sizeof(struct xlb_flow_key), sizeof(struct xlb_flow), N_FLOWS,
				       &lru_opts);
	if (maps.stats_fd < 0 || maps.vip_stats_fd < 0 || maps.real_stats_fd < 0 ||
	    maps.flows_fd < 0) {
		fprintf(stderr, "bench_metrics: cannot create maps: %s (root needed)\n",
			strerror(errno));
		return 2;
	}
	err = fill_percpu(maps.stats_fd, 0, XLB_STAT__MAX, 8);
	err = err ?: fill_percpu(maps.vip_stats_fd, 0, N_VIPS, sizeof(struct xlb_vip_stats));
	err = err ?: fill_percpu(maps.real_stats_fd, 1, N_VIPS * N_REALS_PER_VIP,
				 sizeof(struct xlb_real_stats));
	err = err ?: fill_flows(maps.flows_fd, &inserted);
	if (err) {
		fprintf(stderr, "bench_metrics: filling maps: %s\n", strerror(-err));
		return 1;
	}

	/* the model: 512 VIPs x 100 reals, real indices 1..51200 */
	reals = calloc(N_VIPS * N_REALS_PER_VIP, sizeof(*reals));
	vlabels = calloc(N_VIPS, sizeof(*vlabels));
	rlabels = calloc(N_VIPS * N_REALS_PER_VIP, sizeof(*rlabels));
	if (!reals || !vlabels || !rlabels)
		return 1;
	for (int v = 0; v < N_VIPS; v++) {
		snprintf(vlabels[v], sizeof(vlabels[v]), "198.18.%d.%d:80/tcp", v / 250, 10 + v % 250);
		vips[v] = (struct xlb_metrics_vip){ .label = vlabels[v], .index = v,
			.n_reals = N_REALS_PER_VIP, .reals = &reals[v * N_REALS_PER_VIP] };
		for (int r = 0; r < N_REALS_PER_VIP; r++) {
			int k = v * N_REALS_PER_VIP + r;

			snprintf(rlabels[k], sizeof(rlabels[k]), "198.19.%d.%d", k / 250, 1 + k % 250);
			reals[k] = (struct xlb_metrics_real){ .label = rlabels[k], .index = k + 1,
				.weight = 100, .up = k % 17 != 0, .probed = true,
				.probe_latency_s = 0.000250 + (k % 1000) * 1e-6, .transitions = k % 5 };
		}
	}
	for (int i = 0; i < 1000; i++)
		xlb_metrics_daemon__probe(&d, i % 7 ? XLB_PROBE_SUCCESS : XLB_PROBE_TIMEOUT,
					  i * 0.0001);
	xlb_metrics_daemon__api(&d, "list", "ok");
	mo = (struct xlb_metrics_model){ .vips = vips, .n_vips = N_VIPS, .daemon = &d,
		.attach_mode = "native", .ifname = "eth0", .version = "bench" };

	/* render never walks the flow table: the walk is measured on its own below */
	m = xlb_metrics__new(&maps, NULL);
	if (!m) {
		fprintf(stderr, "bench_metrics: metrics new: %s\n", strerror(errno));
		return 1;
	}
	printf("%d possible CPUs; %d VIPs x %d reals; %d runs each (median, min)\n", ncpus, N_VIPS,
	       N_REALS_PER_VIP, runs);

	bench_reads(maps.real_stats_fd, runs, &rb, &rk);
	printf("reads only, %d per-real rows: batch %.2f ms (min %.2f), per key %.2f ms (min %.2f): batch %.1fx faster\n",
	       N_VIPS * N_REALS_PER_VIP, rb.med, rb.min, rk.med, rk.min, rk.med / rb.med);
	printf("XLB-BENCH metrics-reads rows=%d batch_ms=%.3f per_key_ms=%.3f ratio=%.2f\n",
	       N_VIPS * N_REALS_PER_VIP, rb.med, rk.med, rk.med / rb.med);

	sb = bench_render(m, &mo, XLB_METRICS_LOOKUP_BATCH, runs, &bytes);
	sk = bench_render(m, &mo, XLB_METRICS_LOOKUP_PER_KEY, runs, &bytes);
	sa = bench_render(m, &mo, XLB_METRICS_LOOKUP_AUTO, runs, &bytes);
	printf("full scrape (%zu bytes, %.1f MB): batch %.2f ms (min %.2f), per key %.2f ms (min %.2f), auto %.2f ms: ratio %.2fx\n",
	       bytes, bytes / 1e6, sb.med, sb.min, sk.med, sk.min, sa.med, sk.med / sb.med);
	printf("XLB-BENCH metrics-scrape vips=%d reals=%d bytes=%zu batch_ms=%.3f per_key_ms=%.3f auto_ms=%.3f ratio=%.2f\n",
	       N_VIPS, N_VIPS * N_REALS_PER_VIP, bytes, sb.med, sk.med, sa.med, sk.med / sb.med);

	fb = bench_flows(m, XLB_METRICS_LOOKUP_BATCH, runs);
	if (!quick)
		fk = bench_flows(m, XLB_METRICS_LOOKUP_PER_KEY, runs < 3 ? runs : 3);
	printf("flow walk, %llu entries (%u inserted, %llu active on VIP 1): batch %.2f ms (min %.2f)",
	       (unsigned long long)xlb_metrics__flow_entries(m), inserted,
	       (unsigned long long)xlb_metrics__active_flows(m, 1), fb.med, fb.min);
	if (!quick)
		printf(", get_next_key+lookup %.2f ms", fk.med);
	printf("\n");
	bench_steps(m, &maps, &steps, &step_max);
	printf("stepped walk (as the server runs it): %d steps of %d entries, longest %.2f ms\n",
	       steps, XLB_METRICS_FLOW_STEP, step_max);
	printf("XLB-BENCH metrics-flows entries=%llu batch_ms=%.3f per_key_ms=%.3f steps=%d step_max_ms=%.3f\n",
	       (unsigned long long)xlb_metrics__flow_entries(m), fb.med, fk.med, steps, step_max);

	{
		struct http_client c = {};

		if (!bench_http(m, &mo, &c) && c.status == 200) {
			printf("over HTTP (loopback, render + transfer): %zu bytes in %.2f ms\n", c.bytes,
			       c.ms);
			printf("XLB-BENCH metrics-http bytes=%zu ms=%.3f\n", c.bytes, c.ms);
		} else {
			printf("over HTTP: failed (status %d)\n", c.status);
		}
	}

	xlb_metrics__free(m);
	free(reals);
	free(vlabels);
	free(rlabels);
	close(maps.stats_fd);
	close(maps.vip_stats_fd);
	close(maps.real_stats_fd);
	close(maps.flows_fd);
	return 0;
}

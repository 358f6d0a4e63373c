// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of the metrics library (user/lib/metrics*.c, prom.c): the text
 * writer (escaping, numbers, histograms), rendering from per-CPU maps that
 * the test creates itself with bpf_map_create (sums over CPUs asserted
 * exactly, batch and per-key reads agreeing), the flow-table sample, the
 * exact text of a small model, `promtool check metrics` on a real scrape,
 * and the HTTP endpoint on 127.0.0.1 (ephemeral port) driven by an epoll
 * loop in this process while a client thread sends requests: status codes,
 * Content-Type, a 64 KiB header, idle (slowloris) connections and the
 * connection limit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlb/abi.h>

#include "log.h"
#include "metrics.h"
#include "prom.h"
#include "../lib/test.h"

static int ncpus;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* True when text contains line as a whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

#define ASSERT_LINE(text, line) ({						\
	bool _h = has_line((text), (line));					\
	if (!_h)								\
		xlbt_fail(__FILE__, __LINE__, "missing line: %s", (line));	\
	_h;									\
})

/* Copy of text without the lines starting with one of the prefixes. */
static char *strip_lines(const char *text, const char *const *prefixes, int n)
{
	char *out = malloc(strlen(text) + 1), *w = out;
	const char *p = text;

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p + 1) : strlen(p);
		bool drop = false;

		for (int i = 0; i < n; i++)
			if (!strncmp(p, prefixes[i], strlen(prefixes[i])))
				drop = true;
		if (!drop) {
			memcpy(w, p, len);
			w += len;
		}
		p += len;
	}
	*w = '\0';
	return out;
}

/* ---- writer ---- */

static void test_prom_writer(void)
{
	struct xlb_prom p;
	struct xlb_prom_label l[2] = { { "vip", "a\\b\"c\nd" }, { "real", "x" } };
	char num[40];

	xlb_prom__init(&p);
	xlb_prom__family(&p, "t_total", XLB_PROM_COUNTER, "help with \\ and\nnewline \"quoted\"");
	xlb_prom__sample_u64(&p, "t_total", l, 2, 18446744073709551615ULL);
	xlb_prom__sample_u64(&p, "t_total", NULL, 0, 0);
	xlb_prom__sample_f64(&p, "t_total", l + 1, 1, 0.25);
	ASSERT_OK(p.err, "writer error");
	ASSERT_STR_EQ(xlb_prom__cstr(&p),
		      "# HELP t_total help with \\\\ and\\nnewline \"quoted\"\n"
		      "# TYPE t_total counter\n"
		      "t_total{vip=\"a\\\\b\\\"c\\nd\",real=\"x\"} 18446744073709551615\n"
		      "t_total 0\n"
		      "t_total{real=\"x\"} 0.25\n", "escaped text");

	xlb_prom_fmt_f64(num, sizeof(num), 0.1);
	ASSERT_STR_EQ(num, "0.1", "0.1");
	xlb_prom_fmt_f64(num, sizeof(num), 1.0 / 3);
	ASSERT_TRUE(strtod(num, NULL) == 1.0 / 3, "1/3 round trip");
	xlb_prom_fmt_f64(num, sizeof(num), 0.0 / 0.0);
	ASSERT_STR_EQ(num, "NaN", "NaN");
	xlb_prom_fmt_f64(num, sizeof(num), 1e308 * 10);
	ASSERT_STR_EQ(num, "+Inf", "+Inf");
	xlb_prom_fmt_f64(num, sizeof(num), -42);
	ASSERT_STR_EQ(num, "-42", "integer");

	/* histogram: cumulative buckets, +Inf = count */
	{
		const double b[3] = { 0.001, 0.01, 0.1 };
		const __u64 c[4] = { 1, 2, 0, 3 };
		struct xlb_prom_label hl = { "k", "v" };

		xlb_prom__reset(&p);
		xlb_prom__histogram(&p, "h_seconds", &hl, 1, b, c, 3, 1.5);
		ASSERT_STR_EQ(xlb_prom__cstr(&p),
			      "h_seconds_bucket{k=\"v\",le=\"0.001\"} 1\n"
			      "h_seconds_bucket{k=\"v\",le=\"0.01\"} 3\n"
			      "h_seconds_bucket{k=\"v\",le=\"0.1\"} 3\n"
			      "h_seconds_bucket{k=\"v\",le=\"+Inf\"} 6\n"
			      "h_seconds_sum{k=\"v\"} 1.5\n"
			      "h_seconds_count{k=\"v\"} 6\n", "histogram");
	}
	/* growth across many pages keeps content */
	xlb_prom__reset(&p);
	for (int i = 0; i < 100000; i++)
		xlb_prom__sample_u64(&p, "g", NULL, 0, i);
	ASSERT_OK(p.err, "big buffer");
	ASSERT_TRUE(has_line(xlb_prom__cstr(&p), "g 99999"), "last line");
	xlb_prom__free(&p);
}

static void test_daemon_counters(void)
{
	struct xlb_metrics_daemon d = {};
	int i, err = 0;

	xlb_metrics_daemon__probe(&d, XLB_PROBE_SUCCESS, 0.0004);	/* bucket 0.0005 */
	xlb_metrics_daemon__probe(&d, XLB_PROBE_SUCCESS, 0.0005);	/* le is inclusive */
	xlb_metrics_daemon__probe(&d, XLB_PROBE_TIMEOUT, 7);		/* +Inf */
	xlb_metrics_daemon__probe(&d, XLB_PROBE_FAILURE, 0.02);		/* 0.025 */
	ASSERT_EQ(d.probe_buckets[0], 2, "bucket 0.0005");
	ASSERT_EQ(d.probe_buckets[5], 1, "bucket 0.025");
	ASSERT_EQ(d.probe_buckets[XLB_METRICS_PROBE_NBOUNDS], 1, "bucket +Inf");
	ASSERT_EQ(d.probes[XLB_PROBE_SUCCESS], 2, "success");
	ASSERT_EQ(d.probes[XLB_PROBE_TIMEOUT], 1, "timeout");

	ASSERT_EQ(xlb_metrics_probe_result(true, NULL), XLB_PROBE_SUCCESS, "ok");
	ASSERT_EQ(xlb_metrics_probe_result(false, "timeout"), XLB_PROBE_TIMEOUT, "timeout");
	ASSERT_EQ(xlb_metrics_probe_result(false, "connection refused"), XLB_PROBE_FAILURE, "refused");
	ASSERT_EQ(xlb_metrics_probe_result(false, NULL), XLB_PROBE_FAILURE, "no reason");

	xlb_metrics_daemon__api(&d, "add-vip", "ok");
	xlb_metrics_daemon__api(&d, "add-vip", "ok");
	xlb_metrics_daemon__api(&d, "add-vip", "invalid");
	ASSERT_EQ(d.n_api, 2, "api pairs");
	ASSERT_EQ(d.api[0].count, 2, "add-vip ok");
	for (i = 0; i < XLB_METRICS_API_SLOTS + 5; i++) {
		char v[16];

		snprintf(v, sizeof(v), "v%d", i);
		err = xlb_metrics_daemon__api(&d, v, "ok");
	}
	ASSERT_EQ(err, -ENOSPC, "api table full");
	ASSERT_EQ(d.n_api, XLB_METRICS_API_SLOTS, "api pairs capped");
	ASSERT_EQ(d.api_overflow, 7, "api overflow");
}

static void test_parse_listen(void)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[160];

	ASSERT_EQ(xlb_metrics_parse_listen("127.0.0.1:9120", &ss, &sl, err, sizeof(err)), 0, "v4");
	ASSERT_EQ(ss.ss_family, AF_INET, "v4 family");
	ASSERT_EQ(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9120, "v4 port");
	ASSERT_EQ(xlb_metrics_parse_listen(NULL, &ss, &sl, err, sizeof(err)), 0, "default");
	ASSERT_EQ(xlb_metrics_parse_listen("[::1]:0", &ss, &sl, err, sizeof(err)), 0, "v6");
	ASSERT_EQ(ss.ss_family, AF_INET6, "v6 family");
	ASSERT_EQ(xlb_metrics_parse_listen("off", &ss, &sl, err, sizeof(err)), 1, "off");
	ASSERT_EQ(xlb_metrics_parse_listen("127.0.0.1", &ss, &sl, err, sizeof(err)), -EINVAL, "no port");
	ASSERT_TRUE(strstr(err, "ADDR:PORT") != NULL, "message says what is accepted");
	ASSERT_EQ(xlb_metrics_parse_listen("::1:9120", &ss, &sl, err, sizeof(err)), -EINVAL, "v6 no brackets");
	ASSERT_EQ(xlb_metrics_parse_listen("198.18.0.1:65536", &ss, &sl, err, sizeof(err)), -EINVAL, "port range");
	ASSERT_EQ(xlb_metrics_parse_listen("198.18.0.1:09", &ss, &sl, err, sizeof(err)), -EINVAL, "leading zero");
	ASSERT_EQ(xlb_metrics_parse_listen("198.18.0.1:9x", &ss, &sl, err, sizeof(err)), -EINVAL, "junk");
	ASSERT_EQ(xlb_metrics_parse_listen("host:80", &ss, &sl, err, sizeof(err)), -EINVAL, "name");
}

/* ---- maps ---- */

#define T_VIPS 8
#define T_REALS 16
#define T_FLOWS 4096

struct fake_maps {
	int stats, vips, reals, flows;
};

static void close_maps(struct fake_maps *f)
{
	if (f->stats >= 0)
		close(f->stats);
	if (f->vips >= 0)
		close(f->vips);
	if (f->reals >= 0)
		close(f->reals);
	if (f->flows >= 0)
		close(f->flows);
}

/* Per-CPU value of counter k on cpu c, distinct everywhere. */
static __u64 pc(__u64 k, int c)
{
	return k * 1000 + c * 7 + 1;
}

static __u64 pc_sum(__u64 k)
{
	__u64 s = 0;

	for (int c = 0; c < ncpus; c++)
		s += pc(k, c);
	return s;
}

/* Creates the three counter maps and the flow table, filled per CPU. */
static int make_maps(struct fake_maps *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, lru_opts, .map_flags = BPF_F_NO_COMMON_LRU);
	__u64 *v64 = calloc(ncpus, sizeof(__u64));
	struct xlb_vip_stats *vs = calloc(ncpus, sizeof(*vs));
	struct xlb_real_stats *rs = calloc(ncpus, sizeof(*rs));
	int err = 0;
	__u32 k;

	f->stats = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "xlb_stats", 4, 8, XLB_STAT__MAX, NULL);
	f->vips = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "xlb_vip_stats", 4,
				 sizeof(struct xlb_vip_stats), T_VIPS, NULL);
	f->reals = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "xlb_real_stats", 4,
				  sizeof(struct xlb_real_stats), T_REALS, NULL);
	f->flows = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "xlb_flows", sizeof(struct xlb_flow_key),
				  sizeof(struct xlb_flow), T_FLOWS, &lru_opts);
	if (f->stats < 0 || f->vips < 0 || f->reals < 0 || f->flows < 0) {
		err = -errno;
		goto out;
	}
	for (k = 0; k < XLB_STAT__MAX && !err; k++) {
		for (int c = 0; c < ncpus; c++)
			v64[c] = pc(k, c);
		err = bpf_map_update_elem(f->stats, &k, v64, 0);
	}
	for (k = 0; k < T_VIPS && !err; k++) {
		for (int c = 0; c < ncpus; c++)
			vs[c] = (struct xlb_vip_stats){
				.packets = pc(k, c), .bytes = pc(k + 100, c),
				.new_flows = pc(k + 200, c), .drops = pc(k + 300, c),
				.drop_no_real = pc(k + 310, c), .drop_fragment = pc(k + 320, c),
				.drop_too_big = pc(k + 330, c), .drop_encap = pc(k + 340, c),
			};
		err = bpf_map_update_elem(f->vips, &k, vs, 0);
	}
	for (k = 0; k < T_REALS && !err; k++) {
		for (int c = 0; c < ncpus; c++)
			rs[c] = (struct xlb_real_stats){ pc(k + 400, c), pc(k + 500, c) };
		err = bpf_map_update_elem(f->reals, &k, rs, 0);
	}
out:
	free(v64);
	free(vs);
	free(rs);
	return err;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Flows: VIP v gets 10*(v+1) active flows and 5 idle ones (atime 120 s ago). */
static int fill_flows(int fd)
{
	__u64 now = mono_ns();
	__u32 n = 0;
	int err = 0;

	for (__u32 v = 0; v < 3 && !err; v++) {
		for (__u32 i = 0; i < 10 * (v + 1) + 5 && !err; i++, n++) {
			struct xlb_flow_key key = { .family = XLB_AF_INET, .proto = 6 };
			struct xlb_flow fl = { .vip = v, .real = 1 };

			key.src.v4 = htonl(0xc6120000 | n);
			key.sport = htons(1024 + n);
			fl.atime_ns = i < 10 * (v + 1) ? now - 5000000000ULL : now - 120000000000ULL;
			err = bpf_map_update_elem(fd, &key, &fl, 0);
		}
	}
	return err;
}

static const struct xlb_metrics_real t_reals0[] = {
	{ .label = "198.18.1.1", .index = 1, .weight = 100, .up = true, .probed = true,
	  .probe_latency_s = 0.000523, .transitions = 0 },
	{ .label = "198.18.1.2", .index = 2, .weight = 0, .up = false, .probed = true,
	  .probe_latency_s = 2, .transitions = 3 },
};
static const struct xlb_metrics_real t_reals1[] = {
	{ .label = "2001:db8::1", .index = 15, .weight = 7, .up = true, .probed = false },
};
static const struct xlb_metrics_vip t_vips[] = {
	{ .label = "198.18.0.10:80/tcp", .index = 0, .n_reals = 2, .reals = t_reals0 },
	{ .label = "[2001:db8::10]:443/udp", .index = 5, .n_reals = 1, .reals = t_reals1 },
	{ .label = "odd\"label\\\n", .index = 2, .n_reals = 0, .reals = NULL },
};

static struct xlb_metrics_daemon t_daemon;

static void fill_model(struct xlb_metrics_model *mo)
{
	memset(&t_daemon, 0, sizeof(t_daemon));
	xlb_metrics_daemon__probe(&t_daemon, XLB_PROBE_SUCCESS, 0.003);
	xlb_metrics_daemon__probe(&t_daemon, XLB_PROBE_TIMEOUT, 1.5);
	xlb_metrics_daemon__api(&t_daemon, "add-vip", "ok");
	t_daemon.state_writes = 4;
	t_daemon.state_write_errors = 1;
	*mo = (struct xlb_metrics_model){
		.vips = t_vips, .n_vips = 3, .daemon = &t_daemon,
		.attach_mode = "native", .ifname = "eth0", .version = "1.2.3-test",
	};
}

static const char *const volatile_lines[] = {
	"xlb_metrics_render_duration_seconds ", "xlb_flow_sample_duration_seconds ",
	"xlb_flow_sample_age_seconds ",
};

static void test_render_maps(void)
{
	struct fake_maps f = { -1, -1, -1, -1 };
	struct xlb_metrics_model mo;
	struct xlb_metrics *m = NULL;
	struct xlb_prom a, b;
	char line[256];
	int err;

	xlb_prom__init(&a);
	xlb_prom__init(&b);
	err = make_maps(&f);
	if (err == -EPERM) {
		xlbt_skip("bpf_map_create: EPERM (needs root)");
		goto out;
	}
	if (!ASSERT_OK(err, "create and fill maps"))
		goto out;
	if (!ASSERT_OK(fill_flows(f.flows), "fill flows"))
		goto out;
	m = xlb_metrics__new(&(struct xlb_metrics_maps){ f.stats, f.vips, f.reals, f.flows }, NULL);
	if (!ASSERT_TRUE(m != NULL, "metrics new"))
		goto out;
	fill_model(&mo);

	xlb_metrics__set_lookup(m, XLB_METRICS_LOOKUP_BATCH);
	/* render never walks the flow table: no active-flow family before a walk */
	ASSERT_OK(xlb_metrics__render(m, &mo, &a), "render before a walk");
	ASSERT_TRUE(strstr(xlb_prom__cstr(&a), "xlb_vip_active_flows") == NULL, "no sample yet");
	xlb_prom__reset(&a);
	ASSERT_OK(xlb_metrics__sample_flows(m), "batch flow walk");
	ASSERT_OK(xlb_metrics__render(m, &mo, &a), "render batch");
	xlb_prom__cstr(&a);

	/* globals: every stat, summed over CPUs */
	snprintf(line, sizeof(line), "xlb_rx_packets_total %llu",
		 (unsigned long long)pc_sum(XLB_STAT_RX));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line), "xlb_packets_total{verdict=\"tx\",reason=\"to_real\"} %llu",
		 (unsigned long long)pc_sum(XLB_STAT_TX));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line), "xlb_packets_total{verdict=\"drop\",reason=\"no_vip_port\"} %llu",
		 (unsigned long long)pc_sum(XLB_STAT_DROP_NO_VIP_PORT));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line), "xlb_packets_total{verdict=\"pass\",reason=\"not_vip\"} %llu",
		 (unsigned long long)pc_sum(XLB_STAT_PASS_NOT_VIP));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line), "xlb_datapath_events_total{event=\"lru_hit\"} %llu",
		 (unsigned long long)pc_sum(XLB_STAT_LRU_HIT));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line), "xlb_datapath_events_total{event=\"encap_gue\"} %llu",
		 (unsigned long long)pc_sum(XLB_STAT_ENCAP_GUE));
	ASSERT_LINE(a.buf, line);

	/* per VIP (index 0 and 5) */
	snprintf(line, sizeof(line), "xlb_vip_packets_total{vip=\"198.18.0.10:80/tcp\"} %llu",
		 (unsigned long long)pc_sum(0));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line), "xlb_vip_bytes_total{vip=\"[2001:db8::10]:443/udp\"} %llu",
		 (unsigned long long)pc_sum(5 + 100));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line), "xlb_vip_new_flows_total{vip=\"[2001:db8::10]:443/udp\"} %llu",
		 (unsigned long long)pc_sum(5 + 200));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line),
		 "xlb_vip_drops_total{vip=\"odd\\\"label\\\\\\n\",reason=\"no_real\"} %llu",
		 (unsigned long long)pc_sum(2 + 310));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line),
		 "xlb_vip_drops_total{vip=\"198.18.0.10:80/tcp\",reason=\"fragment\"} %llu",
		 (unsigned long long)pc_sum(320));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line),
		 "xlb_vip_drops_total{vip=\"198.18.0.10:80/tcp\",reason=\"too_big\"} %llu",
		 (unsigned long long)pc_sum(330));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line),
		 "xlb_vip_drops_total{vip=\"[2001:db8::10]:443/udp\",reason=\"encap\"} %llu",
		 (unsigned long long)pc_sum(5 + 340));
	ASSERT_LINE(a.buf, line);
	/* per real (index 1, 2, 15) */
	snprintf(line, sizeof(line),
		 "xlb_real_packets_total{vip=\"198.18.0.10:80/tcp\",real=\"198.18.1.2\"} %llu",
		 (unsigned long long)pc_sum(2 + 400));
	ASSERT_LINE(a.buf, line);
	snprintf(line, sizeof(line),
		 "xlb_real_bytes_total{vip=\"[2001:db8::10]:443/udp\",real=\"2001:db8::1\"} %llu",
		 (unsigned long long)pc_sum(15 + 500));
	ASSERT_LINE(a.buf, line);
	/* flows: 10, 20, 30 active; 15 idle ones not counted; 75 entries */
	ASSERT_LINE(a.buf, "xlb_vip_active_flows{vip=\"198.18.0.10:80/tcp\"} 10");
	ASSERT_LINE(a.buf, "xlb_vip_active_flows{vip=\"odd\\\"label\\\\\\n\"} 30");
	ASSERT_LINE(a.buf, "xlb_vip_active_flows{vip=\"[2001:db8::10]:443/udp\"} 0");
	ASSERT_LINE(a.buf, "xlb_map_entries{map=\"xlb_flows\"} 75");
	ASSERT_LINE(a.buf, "xlb_map_max_entries{map=\"xlb_real_stats\"} 16");
	ASSERT_LINE(a.buf, "xlb_map_max_entries{map=\"xlb_flows\"} 4096");

	/* the same scrape by per-key lookups, byte for byte (but the timings) */
	xlb_metrics__set_lookup(m, XLB_METRICS_LOOKUP_PER_KEY);
	ASSERT_OK(xlb_metrics__sample_flows(m), "per-key flow walk");
	ASSERT_EQ(xlb_metrics__active_flows(m, 1), 20, "per-key walk: VIP 1");
	ASSERT_EQ(xlb_metrics__flow_entries(m), 75, "per-key walk: entries");
	ASSERT_OK(xlb_metrics__render(m, &mo, &b), "render per key");
	xlb_prom__cstr(&b);
	{
		char *sa = strip_lines(a.buf, volatile_lines, 3);
		char *sb = strip_lines(b.buf, volatile_lines, 3);

		ASSERT_STR_EQ(sb, sa, "per-key scrape equals batch scrape");
		free(sa);
		free(sb);
	}
	/* auto, with a sparse index set (reads by key) gives the same too */
	xlb_metrics__set_lookup(m, XLB_METRICS_LOOKUP_AUTO);
	xlb_prom__reset(&b);
	ASSERT_OK(xlb_metrics__render(m, &mo, &b), "render auto");
	ASSERT_TRUE(strstr(xlb_prom__cstr(&b), "xlb_real_packets_total") != NULL, "auto renders");

	/* a real index beyond the map: left out, not invented */
	{
		struct xlb_metrics_real r = { .label = "198.18.9.9", .index = 9999, .up = true };
		struct xlb_metrics_vip v = { .label = "v", .index = 1, .n_reals = 1, .reals = &r };
		struct xlb_metrics_model m2 = { .vips = &v, .n_vips = 1 };

		xlb_prom__reset(&b);
		ASSERT_OK(xlb_metrics__render(m, &m2, &b), "render out-of-range index");
		xlb_prom__cstr(&b);
		ASSERT_TRUE(strstr(b.buf, "xlb_real_packets_total{") == NULL, "no packets sample");
		ASSERT_LINE(b.buf, "xlb_real_up{vip=\"v\",real=\"198.18.9.9\"} 1");
	}
out:
	xlb_metrics__free(m);
	xlb_prom__free(&a);
	xlb_prom__free(&b);
	close_maps(&f);
}

/*
 * The stepped walk that the server drives: steps of 8 entries 10 ms apart
 * publish the same counts as one full walk, only when the walk completes,
 * and the next walk waits for the interval.
 */
static void test_flow_steps(void)
{
	struct xlb_metrics_opts o = { .flow_step = 8, .flow_interval_ms = 60000 };
	struct fake_maps f = { -1, -1, -1, -1 };
	struct xlb_metrics *m = NULL;
	int steps = 0, r = 0;

	if (make_maps(&f)) {
		xlbt_skip("cannot create BPF maps");
		goto out;
	}
	fill_flows(f.flows);
	m = xlb_metrics__new(&(struct xlb_metrics_maps){ f.stats, f.vips, f.reals, f.flows }, &o);
	if (!ASSERT_TRUE(m != NULL, "metrics new"))
		goto out;
	ASSERT_EQ(xlb_metrics__flows_timeout_ms(m), 0, "first walk due at once");
	/* 75 entries in batches of up to 4096: a step may take one batch of all */
	for (int i = 0; i < 1000 && r != 1; i++) {
		int t = xlb_metrics__flows_timeout_ms(m);

		if (t > 0)
			usleep(t * 1000);
		r = xlb_metrics__flows_step(m);
		if (r < 0)
			break;
		steps++;
		if (r == 0)
			ASSERT_EQ(xlb_metrics__flow_entries(m), 0, "nothing published mid-walk");
	}
	ASSERT_EQ(r, 1, "walk completed");
	printf("  walk completed in %d step(s)\n", steps);
	ASSERT_EQ(xlb_metrics__active_flows(m, 0), 10, "VIP 0");
	ASSERT_EQ(xlb_metrics__active_flows(m, 1), 20, "VIP 1");
	ASSERT_EQ(xlb_metrics__active_flows(m, 2), 30, "VIP 2");
	ASSERT_EQ(xlb_metrics__flow_entries(m), 75, "entries");
	ASSERT_TRUE(xlb_metrics__flows_timeout_ms(m) > 50000, "next walk after the interval");
	ASSERT_EQ(xlb_metrics__flows_step(m), 0, "not due: no step");
out:
	xlb_metrics__free(m);
	close_maps(&f);
}

/* The exact text of a small model without maps (all fds -1). */
static void test_render_exact(void)
{
	struct xlb_metrics_maps none = { -1, -1, -1, -1 };
	struct xlb_metrics_model mo;
	struct xlb_metrics *m;
	struct xlb_prom p;
	char *got;

	m = xlb_metrics__new(&none, NULL);
	if (!ASSERT_TRUE(m != NULL, "metrics new"))
		return;
	fill_model(&mo);
	xlb_prom__init(&p);
	ASSERT_OK(xlb_metrics__render(m, &mo, &p), "render");
	got = strip_lines(xlb_prom__cstr(&p), volatile_lines, 3);
	ASSERT_STR_EQ(got,
"# HELP xlb_build_info Build of xlb; always 1\n"
"# TYPE xlb_build_info gauge\n"
"xlb_build_info{version=\"1.2.3-test\"} 1\n"
"# HELP xlb_xdp_attach_mode XDP attach mode of the balancer (native, generic, offload; none = detached); always 1\n"
"# TYPE xlb_xdp_attach_mode gauge\n"
"xlb_xdp_attach_mode{mode=\"native\",interface=\"eth0\"} 1\n"
"# HELP xlb_map_entries Entries in use: VIPs and (VIP, real) pairs as configured, flows as last sampled\n"
"# TYPE xlb_map_entries gauge\n"
"xlb_map_entries{map=\"xlb_vips\"} 3\n"
"xlb_map_entries{map=\"xlb_reals\"} 3\n"
"# HELP xlb_vip_packets_total Packets to the VIP forwarded to a real\n"
"# TYPE xlb_vip_packets_total counter\n"
"# HELP xlb_vip_bytes_total Bytes of the packets forwarded to a real, as received (before encapsulation)\n"
"# TYPE xlb_vip_bytes_total counter\n"
"# HELP xlb_vip_new_flows_total New flows (TCP SYNs and flow-table misses); its rate is connections per second\n"
"# TYPE xlb_vip_new_flows_total counter\n"
"# HELP xlb_vip_drops_total Packets to the VIP that were dropped, by reason\n"
"# TYPE xlb_vip_drops_total counter\n"
"# HELP xlb_vip_reals Reals configured on the VIP\n"
"# TYPE xlb_vip_reals gauge\n"
"xlb_vip_reals{vip=\"198.18.0.10:80/tcp\"} 2\n"
"xlb_vip_reals{vip=\"[2001:db8::10]:443/udp\"} 1\n"
"xlb_vip_reals{vip=\"odd\\\"label\\\\\\n\"} 0\n"
"# HELP xlb_vip_reals_up Reals of the VIP that are up (health)\n"
"# TYPE xlb_vip_reals_up gauge\n"
"xlb_vip_reals_up{vip=\"198.18.0.10:80/tcp\"} 1\n"
"xlb_vip_reals_up{vip=\"[2001:db8::10]:443/udp\"} 1\n"
"xlb_vip_reals_up{vip=\"odd\\\"label\\\\\\n\"} 0\n"
"# HELP xlb_real_packets_total Packets of the VIP sent to the real\n"
"# TYPE xlb_real_packets_total counter\n"
"# HELP xlb_real_bytes_total Bytes of the VIP's packets sent to the real, before encapsulation\n"
"# TYPE xlb_real_bytes_total counter\n"
"# HELP xlb_real_up Health state of the real: 1 up, 0 down\n"
"# TYPE xlb_real_up gauge\n"
"xlb_real_up{vip=\"198.18.0.10:80/tcp\",real=\"198.18.1.1\"} 1\n"
"xlb_real_up{vip=\"198.18.0.10:80/tcp\",real=\"198.18.1.2\"} 0\n"
"xlb_real_up{vip=\"[2001:db8::10]:443/udp\",real=\"2001:db8::1\"} 1\n"
"# HELP xlb_real_weight Admin weight of the real (0 = drained)\n"
"# TYPE xlb_real_weight gauge\n"
"xlb_real_weight{vip=\"198.18.0.10:80/tcp\",real=\"198.18.1.1\"} 100\n"
"xlb_real_weight{vip=\"198.18.0.10:80/tcp\",real=\"198.18.1.2\"} 0\n"
"xlb_real_weight{vip=\"[2001:db8::10]:443/udp\",real=\"2001:db8::1\"} 7\n"
"# HELP xlb_real_probe_latency_seconds Duration of the last completed health probe\n"
"# TYPE xlb_real_probe_latency_seconds gauge\n"
"xlb_real_probe_latency_seconds{vip=\"198.18.0.10:80/tcp\",real=\"198.18.1.1\"} 0.000523\n"
"xlb_real_probe_latency_seconds{vip=\"198.18.0.10:80/tcp\",real=\"198.18.1.2\"} 2\n"
"# HELP xlb_real_transitions_total Health state changes (up/down) since xlbd started\n"
"# TYPE xlb_real_transitions_total counter\n"
"xlb_real_transitions_total{vip=\"198.18.0.10:80/tcp\",real=\"198.18.1.1\"} 0\n"
"xlb_real_transitions_total{vip=\"198.18.0.10:80/tcp\",real=\"198.18.1.2\"} 3\n"
"xlb_real_transitions_total{vip=\"[2001:db8::10]:443/udp\",real=\"2001:db8::1\"} 0\n"
"# HELP xlb_health_probe_duration_seconds Duration of health probes, from start to result\n"
"# TYPE xlb_health_probe_duration_seconds histogram\n"
"xlb_health_probe_duration_seconds_bucket{le=\"0.0005\"} 0\n"
"xlb_health_probe_duration_seconds_bucket{le=\"0.001\"} 0\n"
"xlb_health_probe_duration_seconds_bucket{le=\"0.0025\"} 0\n"
"xlb_health_probe_duration_seconds_bucket{le=\"0.005\"} 1\n"
"xlb_health_probe_duration_seconds_bucket{le=\"0.01\"} 1\n"
"xlb_health_probe_duration_seconds_bucket{le=\"0.025\"} 1\n"
"xlb_health_probe_duration_seconds_bucket{le=\"0.05\"} 1\n"
"xlb_health_probe_duration_seconds_bucket{le=\"0.1\"} 1\n"
"xlb_health_probe_duration_seconds_bucket{le=\"0.25\"} 1\n"
"xlb_health_probe_duration_seconds_bucket{le=\"0.5\"} 1\n"
"xlb_health_probe_duration_seconds_bucket{le=\"1\"} 1\n"
"xlb_health_probe_duration_seconds_bucket{le=\"2.5\"} 2\n"
"xlb_health_probe_duration_seconds_bucket{le=\"5\"} 2\n"
"xlb_health_probe_duration_seconds_bucket{le=\"+Inf\"} 2\n"
"xlb_health_probe_duration_seconds_sum 1.503\n"
"xlb_health_probe_duration_seconds_count 2\n"
"# HELP xlb_health_probes_total Health probes by result\n"
"# TYPE xlb_health_probes_total counter\n"
"xlb_health_probes_total{result=\"success\"} 1\n"
"xlb_health_probes_total{result=\"failure\"} 0\n"
"xlb_health_probes_total{result=\"timeout\"} 1\n"
"xlb_health_probes_total{result=\"error\"} 0\n"
"# HELP xlb_api_requests_total Control API requests by verb and result\n"
"# TYPE xlb_api_requests_total counter\n"
"xlb_api_requests_total{verb=\"add-vip\",result=\"ok\"} 1\n"
"# HELP xlb_state_writes_total Writes of the state file (temp file, fsync, rename) by result\n"
"# TYPE xlb_state_writes_total counter\n"
"xlb_state_writes_total{result=\"success\"} 4\n"
"xlb_state_writes_total{result=\"error\"} 1\n"
"# HELP xlb_metrics_render_duration_seconds Time the previous scrape took to read the maps and render\n"
"# TYPE xlb_metrics_render_duration_seconds gauge\n",
		      "exact scrape of a small model");
	free(got);
	xlb_prom__free(&p);
	xlb_metrics__free(m);
}

/* promtool check metrics on a real rendered scrape (maps + model + daemon). */
static void test_promtool(void)
{
	struct fake_maps f = { -1, -1, -1, -1 };
	struct xlb_metrics_model mo;
	struct xlb_metrics *m = NULL;
	char path[] = "/tmp/xlb-metrics-XXXXXX", cmd[256], out[4096];
	struct xlb_prom p;
	size_t n = 0;
	FILE *fp;
	int fd, st;

	xlb_prom__init(&p);
	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		xlbt_skip("promtool not installed (Debian: prometheus)");
		return;
	}
	if (make_maps(&f)) {
		xlbt_skip("cannot create BPF maps");
		goto out;
	}
	fill_flows(f.flows);
	m = xlb_metrics__new(&(struct xlb_metrics_maps){ f.stats, f.vips, f.reals, f.flows }, NULL);
	if (!ASSERT_TRUE(m != NULL, "metrics new"))
		goto out;
	fill_model(&mo);
	xlb_metrics__sample_flows(m);
	ASSERT_OK(xlb_metrics__render(m, &mo, &p), "render");
	fd = mkstemp(path);
	if (!ASSERT_TRUE(fd >= 0, "mkstemp"))
		goto out;
	ASSERT_EQ(write(fd, p.buf, p.len), (long long)p.len, "write scrape");
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	fp = popen(cmd, "r");
	if (fp) {
		n = fread(out, 1, sizeof(out) - 1, fp);
		out[n] = '\0';
		st = pclose(fp);
		if (!ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "promtool exit status 0") ||
		    n)
			printf("  promtool said: %s\n", n ? out : "(nothing)");
		ASSERT_EQ(n, 0, "promtool reports no problem");
	}
	unlink(path);
out:
	xlb_metrics__free(m);
	xlb_prom__free(&p);
	close_maps(&f);
}

/* ---- HTTP ---- */

struct srv {
	struct xlb_metrics *m;
	struct xlb_metrics_http *h;
	int ep;
	bool healthy;
	int model_calls, done_calls;
	const struct xlb_metrics_model *fixed;	/* served instead of fill_model() */
};

static int srv_model(void *ctx, struct xlb_metrics_model *mo)
{
	struct srv *s = ctx;

	s->model_calls++;
	if (s->fixed)
		*mo = *s->fixed;
	else
		fill_model(mo);
	return 0;
}

static void srv_model_done(void *ctx, struct xlb_metrics_model *mo)
{
	((struct srv *)ctx)->done_calls++;
}

static bool srv_healthy(void *ctx)
{
	return ((struct srv *)ctx)->healthy;
}

static const struct xlb_metrics_http_ops srv_ops = {
	.model = srv_model, .model_done = srv_model_done, .healthy = srv_healthy,
};

static int srv_start_maps(struct srv *s, const struct xlb_metrics_http_opts *o,
			  const struct xlb_metrics_maps *maps)
{
	struct xlb_metrics_http_ops ops = srv_ops;
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	memset(s, 0, sizeof(*s));
	s->healthy = true;
	s->ep = -1;
	ops.ctx = s;
	s->m = xlb_metrics__new(maps, NULL);
	if (!s->m)
		return -errno;
	err = xlb_metrics_http__start(&s->h, "127.0.0.1:0", s->m, &ops, o);
	if (err)
		return err;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, xlb_metrics_http__fd(s->h), &ev))
		return -errno;
	return 0;
}

static int srv_start(struct srv *s, const struct xlb_metrics_http_opts *o)
{
	struct xlb_metrics_maps none = { -1, -1, -1, -1 };

	return srv_start_maps(s, o, &none);
}

static void srv_stop(struct srv *s)
{
	xlb_metrics_http__stop(s->h);
	xlb_metrics__free(s->m);
	if (s->ep >= 0)
		close(s->ep);
}

/* The daemon's loop as xlbd would run it, for at most secs or until *stop. */
static void srv_loop(struct srv *s, double secs, atomic_bool *stop)
{
	double end = now_s() + secs;
	struct epoll_event evs[4];

	while (now_s() < end && !(stop && atomic_load(stop))) {
		int t = xlb_metrics_http__timeout_ms(s->h);

		if (t < 0 || t > 20)
			t = 20;	/* also wakes to look at *stop */
		epoll_wait(s->ep, evs, 4, t);
		xlb_metrics_http__run(s->h);
	}
}

struct req {
	int port;
	const char *raw;		/* request bytes */
	size_t raw_len;
	const char *extra;		/* optional big header block inserted after line 1 */
	int status;			/* parsed status; 0 = none (closed) */
	char ctype[128];
	char *body;
	size_t body_len;
	double secs;			/* time to answer */
	atomic_bool done;
};

static int dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 8 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -errno;
	}
	return fd;
}

static void *req_thread(void *arg)
{
	struct req *r = arg;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap), *hdr_end, *ct;
	double t0 = now_s();
	int fd = dial(r->port);

	if (fd < 0 || !buf)
		goto out;
	if (r->extra) {
		const char *nl = strstr(r->raw, "\r\n") + 2;

		send(fd, r->raw, nl - r->raw, MSG_NOSIGNAL);
		send(fd, r->extra, strlen(r->extra), MSG_NOSIGNAL);
		send(fd, nl, strlen(nl), MSG_NOSIGNAL);
	} else {
		send(fd, r->raw, r->raw_len ? r->raw_len : strlen(r->raw), MSG_NOSIGNAL);
	}
	/* read to EOF (requests say Connection: close), bounded by size and SO_RCVTIMEO */
	for (int i = 0; i < 100000; i++) {
		ssize_t n;

		if (len + 4096 > cap) {
			if (cap >= (64u << 20))
				break;
			cap *= 2;
			buf = realloc(buf, cap);
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	r->secs = now_s() - t0;
	if (len > 12 && !strncmp(buf, "HTTP/1.", 7))
		r->status = atoi(buf + 9);
	hdr_end = strstr(buf, "\r\n\r\n");
	if (hdr_end) {
		*hdr_end = '\0';
		ct = strcasestr(buf, "\r\nContent-Type: ");
		if (ct)
			sscanf(ct + 16, "%127[^\r]", r->ctype);
		r->body = strdup(hdr_end + 4);
		r->body_len = len - (hdr_end + 4 - buf);
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	atomic_store(&r->done, true);
	return NULL;
}

/* Sends one request from a thread to port while this thread runs the daemon loop. */
static void do_req_port(struct srv *s, struct req *r, int port, double max_s)
{
	pthread_t t;

	r->port = port;
	atomic_store(&r->done, false);
	if (pthread_create(&t, NULL, req_thread, r)) {
		xlbt_fail(__FILE__, __LINE__, "pthread_create");
		return;
	}
	srv_loop(s, max_s, &r->done);
	/* the client has SO_RCVTIMEO: join returns within its bound */
	pthread_join(t, NULL);
}

static void do_req(struct srv *s, struct req *r, double max_s)
{
	do_req_port(s, r, xlb_metrics_http__port(s->h), max_s);
}

static void req_free(struct req *r)
{
	free(r->body);
	r->body = NULL;
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

static void test_http_endpoints(void)
{
	struct srv s;
	struct req r = {};

	if (!ASSERT_OK(srv_start(&s, NULL), "start server"))
		goto out;
	ASSERT_TRUE(xlb_metrics_http__port(s.h) > 0, "ephemeral port");

	r = (struct req){ .raw = GET("/metrics") };
	do_req(&s, &r, 10);
	ASSERT_EQ(r.status, 200, "GET /metrics");
	ASSERT_STR_EQ(r.ctype, "text/plain; version=0.0.4; charset=utf-8", "Content-Type");
	ASSERT_TRUE(r.body && has_line(r.body, "xlb_build_info{version=\"1.2.3-test\"} 1"),
		    "body is a scrape");
	ASSERT_EQ(s.model_calls, 1, "model called once");
	ASSERT_EQ(s.done_calls, 1, "model_done called once");
	req_free(&r);

	r = (struct req){ .raw = GET("/healthz") };
	do_req(&s, &r, 10);
	ASSERT_EQ(r.status, 200, "GET /healthz attached");
	ASSERT_STR_EQ(r.body, "ok\n", "healthz body");
	req_free(&r);

	s.healthy = false;
	r = (struct req){ .raw = GET("/healthz") };
	do_req(&s, &r, 10);
	ASSERT_EQ(r.status, 503, "GET /healthz detached");
	req_free(&r);

	r = (struct req){ .raw = GET("/nope") };
	do_req(&s, &r, 10);
	ASSERT_EQ(r.status, 404, "unknown path");
	req_free(&r);

	r = (struct req){ .raw = "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
				 "Content-Length: 5\r\n\r\nhello" };
	do_req(&s, &r, 10);
	ASSERT_EQ(r.status, 405, "POST /metrics");
	req_free(&r);

	r = (struct req){ .raw = "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" };
	do_req(&s, &r, 10);
	ASSERT_EQ(r.status, 200, "HEAD /metrics");
	ASSERT_EQ(r.body_len, 0, "HEAD has no body");
	req_free(&r);
out:
	srv_stop(&s);
}

static void test_http_huge_header(void)
{
	size_t big = 64 * 1024;
	char *extra = malloc(big + 32);
	struct srv s;
	struct req r;

	if (!ASSERT_OK(srv_start(&s, NULL), "start server"))
		goto out;
	strcpy(extra, "X-Big: ");
	memset(extra + 7, 'a', big);
	strcpy(extra + 7 + big, "\r\n");

	r = (struct req){ .raw = GET("/metrics"), .extra = extra };
	do_req(&s, &r, 10);
	printf("  64 KiB header: status %d\n", r.status);
	ASSERT_TRUE(r.status != 200, "huge header not served");
	ASSERT_EQ(s.model_calls, 0, "no render for it");
	req_free(&r);

	r = (struct req){ .raw = GET("/metrics") };
	do_req(&s, &r, 10);
	ASSERT_EQ(r.status, 200, "normal scrape after the huge header");
	req_free(&r);
out:
	srv_stop(&s);
	free(extra);
}

#define N_IDLE 48

static void test_http_slowloris(void)
{
	int idle[N_IDLE], n = 0;
	struct srv s;
	struct req r;

	for (int i = 0; i < N_IDLE; i++)
		idle[i] = -1;
	if (!ASSERT_OK(srv_start(&s, NULL), "start server"))
		goto out;
	/* idle connections, one with half a request line: never completed */
	for (int i = 0; i < N_IDLE; i++) {
		idle[i] = dial(xlb_metrics_http__port(s.h));
		if (idle[i] >= 0)
			n++;
	}
	if (idle[0] >= 0)
		send(idle[0], "GET /metr", 9, MSG_NOSIGNAL);
	ASSERT_EQ(n, N_IDLE, "idle connections opened");
	srv_loop(&s, 0.2, NULL);	/* let the server accept them */

	r = (struct req){ .raw = GET("/metrics") };
	do_req(&s, &r, 10);
	printf("  scrape beside %d idle connections: status %d in %.1f ms\n", n, r.status,
	       r.secs * 1e3);
	ASSERT_EQ(r.status, 200, "scrape beside idle connections");
	ASSERT_TRUE(r.secs < 1.0, "not delayed by them");
	req_free(&r);
out:
	for (int i = 0; i < N_IDLE; i++)
		if (idle[i] >= 0)
			close(idle[i]);
	srv_stop(&s);
}

/*
 * The bound: with conn_limit 4 and a 1 s timeout, 4 idle connections fill
 * the server; a scrape waits (in the listen backlog) until the timeout has
 * closed them, then is served.
 */
static void test_http_conn_limit(void)
{
	struct xlb_metrics_http_opts o = { .conn_limit = 4, .conn_timeout_s = 1 };
	int idle[4] = { -1, -1, -1, -1 };
	struct srv s;
	struct req r;

	if (!ASSERT_OK(srv_start(&s, &o), "start server"))
		goto out;
	for (int i = 0; i < 4; i++)
		idle[i] = dial(xlb_metrics_http__port(s.h));
	srv_loop(&s, 0.2, NULL);

	r = (struct req){ .raw = GET("/metrics") };
	do_req(&s, &r, 10);
	printf("  scrape with the server full of idle connections: status %d after %.2f s\n",
	       r.status, r.secs);
	ASSERT_EQ(r.status, 200, "served once the idle ones timed out");
	ASSERT_TRUE(r.secs >= 0.5, "had to wait for a free slot");
	ASSERT_TRUE(r.secs < 5, "idle connections reaped by the timeout");
	/* the idle ones were closed by the server: reading gives EOF */
	if (idle[1] >= 0) {
		char c;
		struct pollfd pfd = { .fd = idle[1], .events = POLLIN };

		ASSERT_EQ(poll(&pfd, 1, 1000), 1, "idle socket readable");
		ASSERT_EQ(recv(idle[1], &c, 1, MSG_DONTWAIT), 0, "closed by the server");
	}
	req_free(&r);
out:
	for (int i = 0; i < 4; i++)
		if (idle[i] >= 0)
			close(idle[i]);
	srv_stop(&s);
}

/* A free loopback TCP port (bind to 0, read it, release it). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/*
 * A real Prometheus server (Debian's package), on 127.0.0.1 with a scratch
 * TSDB, scrapes the endpoint every second while this thread runs the loop;
 * its query API must return the per-CPU sums exactly and the health gauge.
 */
static void test_prometheus_scrape(void)
{
	struct fake_maps f = { -1, -1, -1, -1 };
	char dir[] = "/tmp/xlb-prom-XXXXXX", cfg[256], arg_cfg[300], arg_db[300], arg_web[64];
	char want_pkts[64], query[512];
	bool got_pkts = false, got_up = false;
	pid_t pid = -1;
	struct srv s = { .ep = -1 };
	double end;
	int pport;
	FILE *fp;

	if (system("command -v prometheus >/dev/null 2>&1") != 0) {
		xlbt_skip("prometheus not installed (Debian: prometheus)");
		return;
	}
	if (make_maps(&f)) {
		xlbt_skip("cannot create BPF maps");
		goto out;
	}
	if (!ASSERT_OK(srv_start_maps(&s, NULL, &(struct xlb_metrics_maps){ f.stats, f.vips,
				      f.reals, f.flows }), "start server"))
		goto out;
	pport = free_port();
	if (!ASSERT_TRUE(mkdtemp(dir) != NULL && pport > 0, "scratch dir and port"))
		goto out;
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
	fp = fopen(cfg, "w");
	if (!ASSERT_TRUE(fp != NULL, "write config"))
		goto out;
	fprintf(fp, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		"scrape_configs:\n  - job_name: xlb\n    static_configs:\n"
		"      - targets: ['127.0.0.1:%d']\n", xlb_metrics_http__port(s.h));
	fclose(fp);
	snprintf(arg_cfg, sizeof(arg_cfg), "--config.file=%s", cfg);
	snprintf(arg_db, sizeof(arg_db), "--storage.tsdb.path=%s/data", dir);
	snprintf(arg_web, sizeof(arg_web), "--web.listen-address=127.0.0.1:%d", pport);
	pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("prometheus", "prometheus", arg_cfg, arg_db, arg_web, "--log.level=error",
		       (char *)NULL);
		_exit(127);
	}
	if (!ASSERT_TRUE(pid > 0, "fork prometheus"))
		goto out;

	snprintf(want_pkts, sizeof(want_pkts), "\"%llu\"]", (unsigned long long)pc_sum(5 + 100));
	end = now_s() + 40;
	while (now_s() < end && !(got_pkts && got_up)) {
		struct req r;

		srv_loop(&s, 0.5, NULL);
		snprintf(query, sizeof(query),
			 "GET /api/v1/query?query=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
			 got_pkts ? "xlb_real_up%7Breal%3D%22198.18.1.2%22%7D" :
				    "xlb_vip_bytes_total%7Bvip%3D%22%5B2001%3Adb8%3A%3A10%5D%3A443%2Fudp%22%7D");
		r = (struct req){ .raw = query };
		/* the query goes to Prometheus; our server keeps being driven meanwhile */
		do_req_port(&s, &r, pport, 5);
		if (r.status == 200 && r.body && !got_pkts && strstr(r.body, want_pkts))
			got_pkts = true;
		else if (r.status == 200 && r.body && got_pkts && strstr(r.body, "\"0\"]"))
			got_up = true;
		req_free(&r);
	}
	printf("  Prometheus stored xlb_vip_bytes_total = %s: %s; xlb_real_up 0: %s\n", want_pkts,
	       got_pkts ? "yes" : "no", got_up ? "yes" : "no");
	ASSERT_TRUE(got_pkts, "Prometheus stored the per-CPU sum");
	ASSERT_TRUE(got_up, "Prometheus stored the health gauge");
	ASSERT_TRUE(s.model_calls > 0, "scraped through the model callback");
out:
	if (pid > 0) {
		int st;

		kill(pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(pid, &st, WNOHANG) == 0; i++)
			usleep(50000);
		if (waitpid(pid, &st, WNOHANG) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
	}
	if (dir[strlen(dir) - 1] != 'X') {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			printf("  could not remove %s\n", dir);
	}
	if (s.m)
		srv_stop(&s);
	close_maps(&f);
}

/*
 * The server paces the flow-table walk by itself: the daemon loop only calls
 * __timeout_ms / __run, and the active-flow gauges appear in a scrape.
 */
static void test_http_flows(void)
{
	struct fake_maps f = { -1, -1, -1, -1 };
	struct srv s = { .ep = -1 };
	struct req r;

	if (make_maps(&f) || fill_flows(f.flows)) {
		xlbt_skip("cannot create BPF maps");
		goto out;
	}
	if (!ASSERT_OK(srv_start_maps(&s, NULL, &(struct xlb_metrics_maps){ f.stats, f.vips,
				      f.reals, f.flows }), "start server"))
		goto out;
	ASSERT_EQ(xlb_metrics_http__timeout_ms(s.h), 0, "first walk step due at once");
	srv_loop(&s, 0.3, NULL);
	ASSERT_TRUE(xlb_metrics_http__timeout_ms(s.h) > 1000, "next walk in ~10 s");
	r = (struct req){ .raw = GET("/metrics") };
	do_req(&s, &r, 10);
	ASSERT_EQ(r.status, 200, "GET /metrics");
	ASSERT_TRUE(r.body && has_line(r.body, "xlb_vip_active_flows{vip=\"[2001:db8::10]:443/udp\"} 0"),
		    "active flows of VIP 5");
	ASSERT_TRUE(r.body && has_line(r.body, "xlb_vip_active_flows{vip=\"198.18.0.10:80/tcp\"} 10"),
		    "active flows of VIP 0");
	ASSERT_TRUE(r.body && has_line(r.body, "xlb_map_entries{map=\"xlb_flows\"} 75"),
		    "flow-table occupancy");
	req_free(&r);
out:
	if (s.m)
		srv_stop(&s);
	close_maps(&f);
}

/*
 * Rendered bodies held for slow readers are bounded: with max_bodies 1, a
 * client that asked for a ~30 MB scrape and reads nothing makes the next
 * scrape get 503; once it is gone, scrapes are served again.
 */
#define BIG_REALS 30000

static void test_http_bodies_in_flight(void)
{
	struct xlb_metrics_http_opts o = { .max_bodies = 1 };
	struct xlb_metrics_real *reals = calloc(BIG_REALS, sizeof(*reals));
	char (*labels)[200] = calloc(BIG_REALS, sizeof(*labels));
	struct xlb_metrics_vip vip = { .label = "198.18.0.10:80/tcp", .n_reals = BIG_REALS };
	struct xlb_metrics_model mo = { .vips = &vip, .n_vips = 1 };
	struct srv s = { .ep = -1 };
	int stalled = -1;
	struct req r;

	if (!ASSERT_TRUE(reals && labels, "alloc"))
		goto out;
	for (int i = 0; i < BIG_REALS; i++) {
		snprintf(labels[i], sizeof(labels[i]), "198.19.%d.%d:%0150d", i / 250, i % 250, i);
		reals[i] = (struct xlb_metrics_real){ .label = labels[i], .index = i + 1, .up = true,
			.weight = 1, .probed = true, .probe_latency_s = 0.001 };
	}
	vip.reals = reals;
	if (!ASSERT_OK(srv_start(&s, &o), "start server"))
		goto out;
	s.fixed = &mo;
	stalled = dial(xlb_metrics_http__port(s.h));
	send(stalled, GET("/metrics"), strlen(GET("/metrics")), MSG_NOSIGNAL);
	srv_loop(&s, 0.5, NULL);	/* rendered, partly sent, then stuck on a full socket */
	ASSERT_EQ(s.model_calls, 1, "stalled scrape rendered");

	r = (struct req){ .raw = GET("/metrics") };
	do_req(&s, &r, 10);
	ASSERT_EQ(r.status, 503, "second scrape refused while one body is held");
	req_free(&r);

	close(stalled);
	stalled = -1;
	srv_loop(&s, 0.3, NULL);	/* MHD notices the reset and frees the body */
	r = (struct req){ .raw = GET("/metrics") };
	do_req(&s, &r, 20);
	printf("  after the stalled reader left: status %d, %zu bytes in %.1f ms\n", r.status,
	       r.body_len, r.secs * 1e3);
	ASSERT_EQ(r.status, 200, "served again");
	ASSERT_TRUE(r.body_len > 20000000, "the whole big body");
	req_free(&r);
out:
	if (stalled >= 0)
		close(stalled);
	if (s.m)
		srv_stop(&s);
	free(reals);
	free(labels);
}

static void test_http_off(void)
{
	struct xlb_metrics_maps none = { -1, -1, -1, -1 };
	struct xlb_metrics *m = xlb_metrics__new(&none, NULL);
	struct xlb_metrics_http *h = (void *)1;

	ASSERT_OK(xlb_metrics_http__start(&h, "off", m, &srv_ops, NULL), "off");
	ASSERT_TRUE(h == NULL, "no server when off");
	ASSERT_EQ(xlb_metrics_http__start(&h, "127.0.0.1", m, &srv_ops, NULL), -EINVAL, "bad address");
	xlb_metrics__free(m);
}

int main(void)
{
	xlb_log_hook_libbpf();
	xlb_log_set_level(XLB_LOG_WARN);
	ncpus = libbpf_num_possible_cpus();

	XLBT_RUN(test_prom_writer);
	XLBT_RUN(test_daemon_counters);
	XLBT_RUN(test_parse_listen);
	XLBT_RUN(test_render_maps);
	XLBT_RUN(test_flow_steps);
	XLBT_RUN(test_render_exact);
	XLBT_RUN(test_promtool);
	XLBT_RUN(test_http_endpoints);
	XLBT_RUN(test_http_huge_header);
	XLBT_RUN(test_http_slowloris);
	XLBT_RUN(test_http_conn_limit);
	XLBT_RUN(test_http_flows);
	XLBT_RUN(test_http_bodies_in_flight);
	XLBT_RUN(test_http_off);
	XLBT_RUN(test_prometheus_scrape);
	return xlbt_finish("unit/metrics");
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Health-engine benchmark: N TCP targets (198.18.0.0/15 addresses) probed at
 * a fixed interval by one engine on one core, driven like xlbd drives it
 * (poll on xlb_health__fd, then dispatch). Reports the prober's CPU use
 * (getrusage over the measured window) and probe-interval jitter (how far
 * each target's actual interval between two probe starts is from the
 * configured one, p50/p99), with a baseline of fewer targets in the same run
 * and a naive blocking prober for comparison of the cost per probe.
 *
 * Isolation: the process first moves itself into a network namespace of its
 * own (unshare(CLONE_NEWNET)), brings its lo up and routes 198.18.0.0/16 as
 * local there, so every target address is served by one listener on
 * 0.0.0.0 inside that namespace. Nothing touches the host's interfaces and
 * the namespace disappears with the process on every exit path. The
 * listener runs in a child process (on another CPU when there is one) so
 * that its accept() work is not billed to the prober; the kernel's loopback
 * handshake work is still partly billed to the prober (softirq runs in the
 * sender's context), so the CPU figure is an upper bound.
 *
 *   bench_health [-n targets] [-b baseline] [-d seconds] [-i interval_ms] [-k tcp|http]
 *
 * (-k http: GET / through libcurl, the listener reads the request and
 * answers 200; default tcp connect.)
 *
 * Prints a human summary and one line "XLB-BENCH health key=value ...".
 * Exits 2 (and says why) when it cannot set up its namespace.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "health.h"
#include "log.h"

#define PORT		8080
#define MAX_TARGETS	65000

struct run {
	__u32 n;
	__u32 interval_ms;
	__u64 measure_from, measure_to;	/* CLOCK_MONOTONIC ns */
	__u64 *prev_start;		/* per target */
	__u64 *ids;
	__u32 *dev_us;			/* |actual interval - interval| samples */
	__u32 *lag_us;			/* start - scheduled samples */
	size_t n_dev, n_lag, cap;
	__u64 probes, ok, fail, skipped;
};

static struct run *cur;
static enum xlb_health_kind kind = XLB_HEALTH_TCP;

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void cpu_split(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void on_probe(void *ctx, void *user, __u64 id, const struct xlb_health_probe *p)
{
	struct run *r = cur;
	long idx = (long)user - 1;
	__u64 iv = (__u64)r->interval_ms * 1000000ULL;

	if (idx < 0 || idx >= (long)r->n)
		return;
	if (p->start_ns >= r->measure_from && p->start_ns < r->measure_to) {
		r->probes++;
		if (p->ok)
			r->ok++;
		else
			r->fail++;
		if (r->n_lag < r->cap)
			r->lag_us[r->n_lag++] = (p->start_ns - p->sched_ns) / 1000;
		if (r->prev_start[idx] && r->n_dev < r->cap) {
			__u64 d = p->start_ns - r->prev_start[idx];

			r->dev_us[r->n_dev++] = (d > iv ? d - iv : iv - d) / 1000;
		}
	}
	r->prev_start[idx] = p->start_ns;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static __u32 pct(__u32 *v, size_t n, double p)
{
	if (!n)
		return 0;
	return v[(size_t)((n - 1) * p)];
}

static struct sockaddr_in target_addr(__u32 i)
{
	/* 198.18.0.0/15 minus .0 and .255 of each /24: 198.18.0.1 onwards. */
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	__u32 host = (i / 254) << 8 | (i % 254 + 1);

	s.sin_addr.s_addr = htonl(0xc6120000 | host);
	return s;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "bench_health: \"%s\" failed (%d)\n", cmd, rc);
	return rc == 0 ? 0 : -1;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * The listener: accept and close, forever (until SIGKILL / parent death);
 * for http, read the request first and answer 200.
 */
static pid_t start_server(int cpu)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int fd, one = 1;
	pid_t pid;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* 0.0.0.0 inside our own namespace only: the host never sees it. */
	if (bind(fd, (void *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0) {
		close(fd);
		return -1;
	}
	pid = fork();
	if (pid != 0) {
		close(fd);
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(0);
	if (cpu >= 0)
		pin(cpu);
	for (;;) {
		static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
					   "Connection: close\r\n\r\n";
		struct timeval tv = { 0, 100000 };
		char req[1024];
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		if (kind == XLB_HEALTH_HTTP) {
			setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (read(c, req, sizeof(req)) > 0 && write(c, resp, sizeof(resp) - 1) < 0) {
				/* the prober gave up */
			}
		}
		close(c);
	}
}

static void pump(struct xlb_health *h, __u64 until)
{
	struct pollfd pfd = { .fd = xlb_health__fd(h), .events = POLLIN };

	/* Bounded by the clock; one iteration per wakeup. */
	for (__u64 now = now_ns(); now < until; now = now_ns()) {
		int ms = (until - now) / 1000000 + 1;

		if (poll(&pfd, 1, ms) > 0)
			xlb_health__dispatch(h);
	}
}

struct result {
	__u32 n;
	double cpu_pct, user_s, sys_s, wall_s;
	__u32 dev_p50, dev_p99, dev_max, lag_p50, lag_p99;
	__u64 probes, ok, fail, skipped;
};

static int run_engine(__u32 n, __u32 interval_ms, __u32 seconds, struct result *res)
{
	struct xlb_health_opts o = { .on_probe = on_probe };
	__u64 iv = (__u64)interval_ms * 1000000ULL, start;
	struct run r = { .n = n, .interval_ms = interval_ms };
	double u0, s0, u1, s1;
	struct xlb_health *h;
	int err = 0;

	r.cap = (size_t)n * (seconds + 2) + 16;
	r.prev_start = calloc(n, sizeof(*r.prev_start));
	r.dev_us = calloc(r.cap, sizeof(*r.dev_us));
	r.lag_us = calloc(r.cap, sizeof(*r.lag_us));
	r.ids = calloc(n, sizeof(*r.ids));
	h = xlb_health__new(&o);
	if (!r.prev_start || !r.dev_us || !r.lag_us || !r.ids || !h) {
		err = -ENOMEM;
		goto out;
	}
	cur = &r;
	start = now_ns();
	/* Warm-up: the first interval holds every target's first probe. */
	r.measure_from = start + iv + iv / 2;
	r.measure_to = r.measure_from + (__u64)seconds * 1000000000ULL;
	for (__u32 i = 0; i < n; i++) {
		struct xlb_health_target_cfg c = {
			.kind = kind,
			.interval_ms = interval_ms,
			.timeout_ms = interval_ms / 2,
		};
		struct sockaddr_in a = target_addr(i);

		memcpy(&c.addr, &a, sizeof(a));
		err = xlb_health__add_target(h, &c, (void *)(long)(i + 1), &r.ids[i]);
		if (err)
			goto out;
	}
	pump(h, r.measure_from);
	cpu_split(&u0, &s0);
	pump(h, r.measure_to);
	cpu_split(&u1, &s1);

	qsort(r.dev_us, r.n_dev, sizeof(__u32), cmp_u32);
	qsort(r.lag_us, r.n_lag, sizeof(__u32), cmp_u32);
	res->n = n;
	res->user_s = u1 - u0;
	res->sys_s = s1 - s0;
	res->wall_s = (r.measure_to - r.measure_from) / 1e9;
	res->cpu_pct = 100.0 * (res->user_s + res->sys_s) / res->wall_s;
	res->dev_p50 = pct(r.dev_us, r.n_dev, 0.50);
	res->dev_p99 = pct(r.dev_us, r.n_dev, 0.99);
	res->dev_max = r.n_dev ? r.dev_us[r.n_dev - 1] : 0;
	res->lag_p50 = pct(r.lag_us, r.n_lag, 0.50);
	res->lag_p99 = pct(r.lag_us, r.n_lag, 0.99);
	res->probes = r.probes;
	res->ok = r.ok;
	res->fail = r.fail;
	for (__u32 i = 0; i < n; i++) {
		struct xlb_health_status st;

		if (!xlb_health__get(h, r.ids[i], &st))
			res->skipped += st.skipped;
	}
out:
	xlb_health__free(h);
	cur = NULL;
	free(r.prev_start);
	free(r.dev_us);
	free(r.lag_us);
	free(r.ids);
	return err;
}

/*
 * The machine's own timer noise, for context: how late 1 ms sleeps on the
 * prober's CPU wake up (a VM or a busy host shows in the p99 of any prober).
 */
static void timer_noise(__u32 samples, __u32 *p50, __u32 *p99)
{
	__u32 *v = calloc(samples, sizeof(*v));

	*p50 = *p99 = 0;
	if (!v)
		return;
	for (__u32 i = 0; i < samples; i++) {
		__u64 want = now_ns() + 1000000ULL, got;
		struct timespec ts = { .tv_sec = want / 1000000000ULL,
				       .tv_nsec = want % 1000000000ULL };

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		got = now_ns();
		v[i] = got > want ? (got - want) / 1000 : 0;
	}
	qsort(v, samples, sizeof(*v), cmp_u32);
	*p50 = pct(v, samples, 0.50);
	*p99 = pct(v, samples, 0.99);
	free(v);
}

/* The naive way: one blocking connect after another. */
static int run_blocking(__u32 n, double *per_probe_cpu_us, double *per_probe_wall_us)
{
	double c0 = cpu_s(), c1;
	__u64 t0 = now_ns(), t1;
	__u32 ok = 0;

	for (__u32 i = 0; i < n; i++) {
		struct sockaddr_in a = target_addr(i);
		struct linger lg = { 1, 0 };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (connect(fd, (void *)&a, sizeof(a)) == 0)
			ok++;
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	t1 = now_ns();
	c1 = cpu_s();
	*per_probe_cpu_us = (c1 - c0) * 1e6 / n;
	*per_probe_wall_us = (t1 - t0) / 1e3 / n;
	return ok == n ? 0 : -EIO;
}

static void print_result(const char *what, const struct result *r, __u32 interval_ms)
{
	printf("%-9s %6u targets @ %u ms: cpu %.1f%% of one core (user %.2f s, sys %.2f s over %.1f s), "
	       "%llu probes (%llu ok, %llu failed, %llu skipped)\n",
	       what, r->n, interval_ms, r->cpu_pct, r->user_s, r->sys_s, r->wall_s,
	       (unsigned long long)r->probes, (unsigned long long)r->ok,
	       (unsigned long long)r->fail, (unsigned long long)r->skipped);
	printf("%-9s   interval jitter |actual - %u ms|: p50 %u us, p99 %u us, max %u us; "
	       "start lag p50 %u us, p99 %u us\n",
	       "", interval_ms, r->dev_p50, r->dev_p99, r->dev_max, r->lag_p50, r->lag_p99);
}

int main(int argc, char **argv)
{
	__u32 n = 10000, base = 1000, seconds = 10, interval_ms = 1000;
	struct rlimit rl = { 65536, 65536 };
	struct result big = {}, small = {};
	double blk_cpu_us = 0, blk_wall_us = 0, eng_cpu_us;
	__u32 noise_p50, noise_p99;
	int opt, ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t server;
	int err;

	while ((opt = getopt(argc, argv, "n:b:d:i:k:")) != -1) {
		switch (opt) {
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'b': base = strtoul(optarg, NULL, 10); break;
		case 'd': seconds = strtoul(optarg, NULL, 10); break;
		case 'i': interval_ms = strtoul(optarg, NULL, 10); break;
		case 'k':
			if (xlb_health__kind_parse(optarg, &kind) ||
			    (kind != XLB_HEALTH_TCP && kind != XLB_HEALTH_HTTP)) {
				fprintf(stderr, "bench_health: -k tcp or -k http\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: %s [-n targets] [-b baseline] [-d seconds] [-i interval_ms] [-k tcp|http]\n",
				argv[0]);
			return 2;
		}
	}
	if (!n || n > MAX_TARGETS || !base || base > n || !seconds || seconds > 600 ||
	    interval_ms < 10 || interval_ms > 60000) {
		fprintf(stderr, "bench_health: targets 1..%d, baseline 1..targets, 1..600 s, 10..60000 ms\n",
			MAX_TARGETS);
		return 2;
	}
	xlb_log_set_level(XLB_LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	setrlimit(RLIMIT_NOFILE, &rl);

	/* Our own network namespace: gone with this process, whatever happens. */
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "bench_health: unshare(CLONE_NEWNET): %s (needs root)\n",
			strerror(errno));
		return 2;
	}
	if (sh("ip link set lo up") || sh("ip route add local 198.18.0.0/16 dev lo"))
		return 2;
	/* Prober on CPU 0, listener elsewhere when possible. */
	pin(0);
	server = start_server(ncpu > 1 ? 1 : -1);
	if (server < 0) {
		fprintf(stderr, "bench_health: cannot start the listener\n");
		return 2;
	}

	printf("bench_health: %u targets vs %u baseline, %s checks, interval %u ms, %u s measured each, "
	       "prober pinned to CPU 0, listener on %s, own netns\n",
	       n, base, xlb_health__kind_str(kind), interval_ms, seconds,
	       ncpu > 1 ? "CPU 1" : "CPU 0 too");
	timer_noise(1000, &noise_p50, &noise_p99);
	printf("machine   1 ms sleeps on CPU 0 wake late by p50 %u us, p99 %u us (timer noise, no prober)\n",
	       noise_p50, noise_p99);
	err = run_blocking(base, &blk_cpu_us, &blk_wall_us);
	if (err) {
		fprintf(stderr, "bench_health: blocking baseline failed: %s\n", strerror(-err));
		goto out;
	}
	err = run_engine(base, interval_ms, seconds, &small);
	if (!err)
		err = run_engine(n, interval_ms, seconds, &big);
	if (err) {
		fprintf(stderr, "bench_health: engine run failed: %s\n", strerror(-err));
		goto out;
	}
	print_result("baseline", &small, interval_ms);
	print_result("engine", &big, interval_ms);
	eng_cpu_us = big.probes ? (big.user_s + big.sys_s) * 1e6 / big.probes : 0;
	printf("ratio     cpu %u/%u targets = %.2fx for %.0fx the targets; cost per probe %.1f us "
	       "(engine) vs %.1f us cpu / %.1f us wall (naive blocking connect, %u probes)\n",
	       n, base, small.cpu_pct > 0 ? big.cpu_pct / small.cpu_pct : 0,
	       (double)n / base, eng_cpu_us, blk_cpu_us, blk_wall_us, base);
	printf("XLB-BENCH health kind=%s targets=%u interval_ms=%u cpu_pct=%.2f jitter_p50_us=%u "
	       "jitter_p99_us=%u lag_p99_us=%u probes=%llu failed=%llu baseline_targets=%u "
	       "baseline_cpu_pct=%.2f cpu_ratio=%.2f probe_cpu_us=%.2f blocking_probe_cpu_us=%.2f "
	       "timer_noise_p99_us=%u\n",
	       xlb_health__kind_str(kind), n, interval_ms, big.cpu_pct, big.dev_p50, big.dev_p99, big.lag_p99,
	       (unsigned long long)big.probes, (unsigned long long)big.fail, base,
	       small.cpu_pct, small.cpu_pct > 0 ? big.cpu_pct / small.cpu_pct : 0,
	       eng_cpu_us, blk_cpu_us, noise_p99);
out:
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	return err ? 1 : 0;
}

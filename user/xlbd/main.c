// SPDX-License-Identifier: GPL-2.0-only
/*
 * xlbd: the xlb daemon. Command line, startup (desired state from the state
 * file or the config file, adopt or load the data plane, reconcile), the
 * event loop with its signal and housekeeping handlers, and shutdown.
 *
 *   xlbd --iface IFACE [--config FILE] [--state-dir DIR] [--socket PATH]
 *        [--foreground] [--xdp-mode native|generic|auto] [--detach-on-exit]
 *        [--pid-file PATH] [-v]
 *
 * Startup restores the state file when there is one (it holds every change
 * made through the API); the config file is used when there is no state
 * file yet, and again on SIGHUP. SIGTERM/SIGINT stop the daemon and leave
 * the program attached and the maps pinned (forwarding goes on) unless
 * --detach-on-exit or `xlbctl shutdown --detach` asked for removal.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "api.h"
#include "bpffs.h"
#include "health.h"
#include "metrics.h"
#include "log.h"
#include "xlbd.h"

#define DEFAULT_STATE_DIR "/var/lib/xlb"
#define DEFAULT_PID_FILE "/run/xlb/xlbd.pid"

static struct xlbd xlbd;
static bool exit_detach;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlbd --iface IFACE [options]\n"
		"  -i, --iface IFACE         interface to attach the balancer to (required)\n"
		"  -c, --config FILE         config file: used when there is no state file yet,\n"
		"                            and reloaded on SIGHUP\n"
		"  -s, --state-dir DIR       where state.json lives (default %s)\n"
		"  -S, --socket PATH         control socket (default %s)\n"
		"  -f, --foreground          do not daemonize; log to stderr\n"
		"  -m, --xdp-mode MODE       native, generic or auto (default auto)\n"
		"      --detach-on-exit      detach the program and remove the pins on exit\n"
		"  -p, --pid-file PATH       pid file when daemonized (default %s)\n"
		"      --quarantine SECONDS  before a removed real's index is reused (default 60)\n"
		"      --metrics ADDR:PORT   Prometheus endpoint (default 127.0.0.1:9120; off)\n"
		"  -v, --verbose             debug logging\n"
		"  -h, --help\n", DEFAULT_STATE_DIR, XLB_API_SOCKET, DEFAULT_PID_FILE);
}

void xlbd_request_exit(struct xlbd *d, bool detach)
{
	exit_detach = exit_detach || detach;
	xlbd_loop_stop(d->loop);
}

static void reload(struct xlbd *d)
{
	char err[512];
	int ret;

	if (d->config_path) {
		struct xlb_state next;

		ret = xlb_state__load(&next, d->config_path, err, sizeof(err));
		if (ret) {
			pr_warn("SIGHUP: config not reloaded: %s\n", err);
		} else {
			ret = xlbd_apply(d, &next, err, sizeof(err));
			xlb_state__free(&next);
			if (ret)
				pr_warn("SIGHUP: config %s not applied: %s\n", d->config_path, err);
			else
				pr_info("SIGHUP: applied %s\n", d->config_path);
		}
	}
	/* Also re-read and repair every map entry and ring. */
	if (xlbd_reconcile(d, &d->want, XLBD_RC_FULL, err, sizeof(err)))
		pr_warn("SIGHUP: repair pass: %s\n", err);
}

static void on_signal(void *ctx, int fd, uint32_t events)
{
	struct xlbd *d = ctx;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload(d);
			break;
		case SIGTERM:
		case SIGINT:
			pr_info("signal %d: stopping\n", si.ssi_signo);
			xlbd_request_exit(d, false);
			break;
		}
	}
}

static void on_neigh(void *ctx, int fd, uint32_t events)
{
	struct xlbd *d = ctx;
	int ret = xlb_nh__read_events(&d->nh, xlbd_neigh_event, d);

	if (ret == -ENOBUFS)
		pr_info("neighbour updates overflowed: next hops are re-checked by the timer\n");
}

static void on_tick(void *ctx)
{
	xlbd_tick(ctx);
}

static void on_verify(void *ctx)
{
	struct xlbd *d = ctx;
	char err[512];

	/* Entries only: rings are read back one per tick (xlbd_tick). */
	if (xlbd_reconcile(d, &d->want, XLBD_RC_ENTRIES, err, sizeof(err)))
		pr_warn("repair pass: %s\n", err);
}

/* systemd Type=notify: tell the manager we are ready (no libsystemd needed). */
static void sd_notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa,
	       offsetof(struct sockaddr_un, sun_path) + strlen(path));
	close(fd);
}

static int write_pid_file(const char *path)
{
	char dir[512], *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	return 0;
}

/* Desired state at startup: state file, else config file, else empty. */
static int load_desired(struct xlbd *d)
{
	char err[512];
	int ret;

	ret = xlb_state__load(&d->want, d->state_path, err, sizeof(err));
	if (!ret) {
		pr_info("restored desired state from %s (%zu VIPs)\n", d->state_path,
			d->want.nvips);
		return 0;
	}
	if (ret != -ENOENT) {
		pr_warn("state file: %s\n", err);
		return ret;
	}
	if (d->config_path) {
		ret = xlb_state__load(&d->want, d->config_path, err, sizeof(err));
		if (ret) {
			pr_warn("config: %s\n", err);
			return ret;
		}
		pr_info("no state file yet: using config %s (%zu VIPs)\n", d->config_path,
			d->want.nvips);
		return 0;
	}
	xlb_state__init(&d->want);
	pr_info("no state file and no config: starting empty\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "xdp-mode", required_argument, NULL, 'm' },
		{ "detach-on-exit", no_argument, NULL, 'D' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "quarantine", required_argument, NULL, 'Q' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct xlbd *d = &xlbd;
	const char *pid_file = DEFAULT_PID_FILE, *metrics_listen = NULL;
	bool foreground = false, pid_written = false;
	int verbose = 0, sfd = -1, ret = 1, err, c;
	char errbuf[512];
	sigset_t mask;

	d->state_dir = DEFAULT_STATE_DIR;
	d->socket_path = XLB_API_SOCKET;
	d->mode = XDP_MODE_UNSPEC;
	d->listen_fd = -1;
	d->quarantine_ms = XLBD_QUARANTINE_MS;
	d->nh.fd = d->nh.ev_fd = -1;
	d->dp.lock_fd = -1;
	for (int i = 0; i < XLB_DP__MAX; i++)
		d->dp.fd[i] = -1;
	xlb_log_set_ident("xlbd");
	while ((c = getopt_long(argc, argv, "i:c:s:S:fm:p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			d->iface = optarg;
			break;
		case 'c':
			d->config_path = optarg;
			break;
		case 's':
			d->state_dir = optarg;
			break;
		case 'S':
			d->socket_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'm':
			if (xlb_xdp_mode_parse(optarg, &d->mode)) {
				fprintf(stderr, "xlbd: --xdp-mode %s: use native, generic or auto\n",
					optarg);
				return 2;
			}
			break;
		case 'D':
			d->detach_on_exit = true;
			break;
		case 'p':
			pid_file = optarg;
			break;
		case 'Q': {
			__u32 secs;

			if (xlb_parse_u32(optarg, &secs) || secs > 86400) {
				fprintf(stderr, "xlbd: --quarantine %s: seconds 0..86400\n", optarg);
				return 2;
			}
			d->quarantine_ms = secs * 1000LL;
			break;
		}
		case 'M':
			metrics_listen = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!d->iface || optind != argc) {
		fprintf(stderr, "xlbd: %s\n", d->iface ? "unexpected argument" :
			"--iface IFACE is required");
		usage(stderr);
		return 2;
	}
	xlb_log_set_level(verbose ? XLB_LOG_DEBUG : XLB_LOG_INFO);
	xlb_log_hook_libbpf();
	if (snprintf(d->state_path, sizeof(d->state_path), "%s/state.json", d->state_dir) >=
	    (int)sizeof(d->state_path)) {
		fprintf(stderr, "xlbd: --state-dir too long\n");
		return 2;
	}
	err = xlb_mkdir_p(d->state_dir);
	if (err) {
		pr_warn("state dir %s: %s\n", d->state_dir, strerror(-err));
		return 1;
	}
	if (load_desired(d))
		return 1;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	d->loop = xlbd_loop_new();
	d->scratch = xlb_maglev_scratch__new();
	if (!d->loop || !d->scratch) {
		pr_warn("out of memory\n");
		goto out;
	}
	err = xlb_nh__open(&d->nh);
	if (err) {
		pr_warn("netlink: %s\n", strerror(-err));
		goto out;
	}
	err = xlb_dp__open(&d->dp, d->iface, d->mode, d->want.settings.flow_table_size);
	if (err)
		goto out;
	err = xlbd_adopt(d);
	if (err) {
		pr_warn("cannot read the pinned maps: %s\n", strerror(-err));
		goto out;
	}
	err = xlbd_validate(d, &d->want, errbuf, sizeof(errbuf));
	if (err) {
		pr_warn("desired state cannot be applied: %s\n", errbuf);
		goto out;
	}
	/* Rings were just read by the adoption: entries are what remains to check. */
	err = xlbd_reconcile(d, &d->want, XLBD_RC_ENTRIES, errbuf, sizeof(errbuf));
	if (err) {
		pr_warn("reconcile: %s\n", errbuf);
		goto out;
	}
	err = xlb_state__save(&d->want, d->state_path, errbuf, sizeof(errbuf));
	xlbd_metrics_state_write(!err);
	if (err)
		pr_warn("state file: %s\n", errbuf);

	if (!xlbd_loop_add_fd(d->loop, d->nh.ev_fd, EPOLLIN, on_neigh, d) ||
	    !xlbd_loop_add_timer(d->loop, XLBD_TICK_MS, true, on_tick, d) ||
	    !xlbd_loop_add_timer(d->loop, XLBD_VERIFY_MS, true, on_verify, d)) {
		pr_warn("event loop setup: %s\n", strerror(errno));
		goto out;
	}
	/* Targets start per their init policy: health state is not persisted. */
	if (xlbd_health_start(d))
		goto out;
	xlbd_health_sync(d);
	if (xlbd_control_start(d) || xlbd_metrics_start(d, metrics_listen))
		goto out;
	if (!foreground) {
		if (daemon(0, 0)) {
			pr_warn("daemon: %s\n", strerror(errno));
			goto out;
		}
		pid_written = !write_pid_file(pid_file);
	}
	/*
	 * After daemon(): a signalfd watched by epoll wakes the process that
	 * registered it, so the daemon must register its own. Signals are
	 * blocked since before the fork: none is lost meanwhile.
	 */
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || !xlbd_loop_add_fd(d->loop, sfd, EPOLLIN, on_signal, d)) {
		pr_warn("signalfd: %s\n", strerror(errno));
		goto out;
	}
	sd_notify_ready();
	pr_info("ready: %s, %zu VIPs\n", d->iface, d->want.nvips);
	err = xlbd_loop_run(d->loop);
	if (err)
		pr_warn("event loop: %s\n", strerror(-err));
	ret = err ? 1 : 0;
out:
	xlbd_metrics_stop(d);
	xlbd_control_stop(d);
	xlbd_health_stop(d);
	if (d->dp.ifindex) {
		if (exit_detach || d->detach_on_exit) {
			if (xlb_dp__detach(&d->dp))
				ret = 1;
		} else {
			if (ret == 0)
				pr_info("exiting: %s stays attached, maps stay pinned in %s\n",
					XLB_PROG_NAME, d->dp.pin_dir);
			xlb_dp__close(&d->dp);
		}
	}
	if (pid_written)
		unlink(pid_file);
	if (sfd >= 0)
		close(sfd);
	xlb_nh__close(&d->nh);
	xlb_maglev_scratch__free(d->scratch);
	xlb_state__free(&d->want);
	for (size_t i = 0; i < d->nvips; i++) {
		free(d->vips[i].reals);
		free(d->vips[i].ring);
	}
	free(d->vips);
	xlbd_loop_free(d->loop);
	return ret;
}

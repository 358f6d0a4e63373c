/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Health-check probe engine: an event-driven, single-threaded, non-blocking
 * prober for thousands of real servers, meant to be driven from xlbd's epoll
 * loop. It decides up/down per target and tells the caller on transitions;
 * it does not touch BPF maps or Maglev tables itself.
 *
 * Integration (xlbd):
 *
 *	struct xlb_health_opts o = { .on_change = real_changed, .ctx = d };
 *	struct xlb_health *h = xlb_health__new(&o);	// NULL + errno
 *	epoll_ctl(d->epfd, EPOLL_CTL_ADD, xlb_health__fd(h),
 *		  &(struct epoll_event){ .events = EPOLLIN, .data.ptr = ... });
 *	...
 *	// in the loop, when xlb_health__fd(h) is readable:
 *	xlb_health__dispatch(h);
 *
 *   - xlb_health__fd() is an epoll fd owned by the engine (probe sockets,
 *     libcurl's sockets and two timerfds live in it). Add it level-triggered
 *     (plain EPOLLIN): one dispatch handles a bounded batch and leaves the
 *     rest readable for the next turn of the loop, so the daemon's other
 *     work is never starved.
 *   - Every callback runs inside xlb_health__dispatch() (never inside add /
 *     update / remove), on the caller's thread. A callback may call add,
 *     update, remove and get, including remove on the target it is called
 *     for; it must not call xlb_health__free() or xlb_health__dispatch().
 *   - on_change(ctx, user, id, state, reason) fires on every transition and
 *     only then. That is where xlbd marks the real down/up in xlb_reals,
 *     rebuilds the VIP's Maglev ring (minimal disruption: the table is a pure
 *     function of the live set) and logs "real X down: <reason>". Admin state
 *     beats health: a drained real stays out whatever the engine says, so
 *     xlbd combines (weight > 0 && state == UP) itself. Fail-open when every
 *     real of a VIP is down is xlbd's policy too.
 *   - The initial state (cfg.init) is not announced by a callback: after
 *     add, the state is UP (init up, the default) or DOWN (init down); read
 *     it with xlb_health__get() if in doubt.
 *   - xlb_health__get() fills a snapshot for `xlbctl health` (state, last
 *     result, last change, latency, last failure reason, counters).
 *   - One target per (real, check) pair: xlbd keeps the returned id beside
 *     its real and passes its own pointer as `user`.
 *
 *   - File descriptors: one per probe in flight (plus libcurl's for
 *     http/https), i.e. up to about targets x timeout / interval, and a
 *     catch-up pass after a stall may start 1,024 at once. The default soft
 *     RLIMIT_NOFILE of 1024 is too low past a few thousand targets: raise
 *     it at startup (setrlimit to the hard limit). Running out is safe (a
 *     local error, see below), but those targets go unprobed meanwhile.
 *
 * In today's xlbd (user/xlbd/) that is, roughly:
 *   - xlbd_loop_add_fd(loop, xlb_health__fd(h), EPOLLIN, cb, d) with
 *     cb = xlb_health__dispatch(h);
 *   - per struct rt_real, a __u64 health id; add_target when the real is
 *     applied, update_target when its VIP's or its own "health" object
 *     changes (user/lib/health_json.h resolves both into a target config),
 *     remove_target when it is deleted;
 *   - on_change: rt_real.down = (state == XLB_HEALTH_DOWN), mark the VIP
 *     dirty so reconcile recomputes eff_weight and the ring, log
 *     "real <addr> of <vip> down: <reason>" / "up".
 *
 * State machine, per target:
 *   - Initial state (cfg.init): XLB_HEALTH_INIT_UP (default) = the target is
 *     up until proven down, and the very first probe decides on its own: one
 *     failure takes it down at once, later it takes `fall` failures. This is
 *     keepalived's default and HAProxy's `init-state up`: a restarted or
 *     reconfigured xlbd keeps forwarding to the reals it had instead of
 *     black-holing a whole VIP for rise x interval, and a dead real is still
 *     out within one interval + timeout of the start (the first probe of a
 *     target runs within its first interval). XLB_HEALTH_INIT_DOWN = down
 *     until `rise` consecutive successes (for a real added to a VIP that is
 *     already serving, when an operator prefers not to send it traffic
 *     before it has proven itself).
 *   - Up -> down after `fall` consecutive failures; down -> up after `rise`
 *     consecutive successes.
 *   - Hold-down (flap damping): a target that went down stays down for at
 *     least hold_down_ms after that transition, whatever it answers; the
 *     successes still count, and it goes up at the first probe after the
 *     hold-down at which `rise` consecutive successes are met. Going down is
 *     never delayed: failing fast is safe for an L4 balancer (Maglev moves
 *     only the dead real's slots) while coming back early is what flaps.
 *     Every up follows a down by >= hold_down_ms, so in any window of T ms a
 *     target makes at most 2 * (T / hold_down_ms + 1) transitions.
 *
 * Scheduling: each target is probed every interval_ms at a fixed rate (the
 * next start is the previous scheduled start + interval, not completion +
 * interval). The first probe of a target runs at a phase within its first
 * interval taken from a hash of (address, port, kind, opts.seed), so 10,000
 * targets added at once are spread evenly instead of firing together, and a
 * target keeps its phase across restarts. Set opts.seed differently per LB
 * host to keep several LB hosts from probing one real in step. Deadlines
 * live in one binary min-heap (start time, or timeout when a probe is in
 * flight) and one timerfd is armed to the earliest. A probe that is still
 * running when its timeout expires is abandoned and counted as "timeout";
 * timeout_ms is clamped to interval_ms so probes of one target never
 * overlap. If the engine falls behind (a stalled daemon), missed probes
 * are skipped (counted in status.skipped), not replayed in a burst: each
 * target runs one late probe, then goes back to its phase, no sooner than
 * half an interval later.
 *
 * Probe kinds:
 *   - tcp: non-blocking connect; up when the socket turns writable with
 *     SO_ERROR 0. The socket is then closed with SO_LINGER {1, 0} (a RST):
 *     at 10,000 targets a second, graceful closes would leave ~600,000
 *     sockets in TIME_WAIT on the LB (60 s each), beyond the kernel's
 *     tcp_max_tw_buckets; set tcp_graceful_close for servers that log a
 *     reset as an error. With a source address, the socket is bound with
 *     IP_BIND_ADDRESS_NO_PORT so the port is chosen at connect time per
 *     destination (no ephemeral port exhaustion with 28k+ targets).
 *   - http / https: GET through libcurl's multi interface, bound to the
 *     engine's epoll (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION,
 *     curl_multi_socket_action). libcurl because HTTP and TLS parsing by hand
 *     is where probers go wrong (chunked bodies, TLS alerts, SNI, status line
 *     edge cases), and libcurl is packaged everywhere, well kept, and has a
 *     socket-action API made for exactly this kind of loop. Each probe is a
 *     fresh connection (no keep-alive, which would hide a listener that no
 *     longer accepts); the body is not read beyond its first bytes; proxies
 *     from the environment are ignored; no redirects are followed. Connects
 *     go to the configured address (an IP literal, never resolved); `host`
 *     sets the Host header and the TLS SNI/verified name. TLS certificate
 *     verification is off unless tls_verify is set (reals commonly have
 *     certificates for the service name, not their own address).
 *   - udp: a connected non-blocking UDP socket sends `payload` and waits for
 *     a datagram: any reply is success, or, with `reply` set, only an exact
 *     one ("udp reply mismatch" otherwise). An ICMP port unreachable comes
 *     back as ECONNREFUSED: "udp port unreachable". No reply: "timeout".
 *   - tcp with through_vip (IPv4): the probe goes the way client traffic
 *     does: a SYN from the LB's address to vip:port, encapsulated in IPIP
 *     to the real's address (addr), sent on a raw socket; the real's decap
 *     delivers it and the service answers directly (DSR), so a real that
 *     lost its VIP on lo or its decap program fails ("timeout") although it
 *     still answers on its own address. SYN-ACK = up (an encapsulated RST
 *     then closes the half-open connection on the real), RST = "connect
 *     refused". Replies are read on a raw TCP socket per probe whose
 *     classic BPF filter passes only vip:port -> our address:port. Needs
 *     CAP_NET_RAW; the inner source is `src` or the route's source.
 *   - none: always up; never probed, no sockets.
 *
 * Local errors: a probe that cannot even be tried for a reason on the LB
 * itself (out of file descriptors or memory, ephemeral ports exhausted, a
 * source address the host does not have) is not counted as the real's
 * failure: marking every real down because the prober ran out of fds would
 * be the worst possible outcome. It counts in status.local_errors, its
 * message is in status.last_local_error, it is logged (pr_warn, once per
 * target until a probe runs again) and the next probe is tried on schedule.
 *
 * Failure reasons are short stable strings: "connect refused", "timeout",
 * "host unreachable", "network unreachable", "http status 500",
 * "http empty reply", "tls handshake failed", "tls verify failed",
 * "udp reply mismatch", "udp port unreachable", "<kind> error: <detail>".
 *
 * All functions return 0 or a negative errno; pointers come back NULL with
 * errno set.
 */
#ifndef XLB_HEALTH_H
#define XLB_HEALTH_H

#include <stdbool.h>
#include <sys/socket.h>
#include <linux/types.h>

/* Defaults for zero fields of struct xlb_health_target_cfg. */
#define XLB_HEALTH_DEF_INTERVAL_MS	1000
#define XLB_HEALTH_DEF_TIMEOUT_MS	500
#define XLB_HEALTH_DEF_RISE		2
#define XLB_HEALTH_DEF_FALL		3
/* Limits checked by add/update (-EINVAL past them). */
#define XLB_HEALTH_MIN_INTERVAL_MS	10
#define XLB_HEALTH_MAX_INTERVAL_MS	3600000
#define XLB_HEALTH_MAX_EXPECT		16	/* status ranges per http check */
#define XLB_HEALTH_MAX_UDP_PAYLOAD	1400	/* bytes sent / expected back */
#define XLB_HEALTH_MAX_STR		1024	/* path, host, ca_file */
#define XLB_HEALTH_REASON_LEN		64	/* reason buffer incl. NUL */

enum xlb_health_kind {
	XLB_HEALTH_TCP = 0,	/* default */
	XLB_HEALTH_HTTP,
	XLB_HEALTH_HTTPS,
	XLB_HEALTH_UDP,
	XLB_HEALTH_NONE,	/* always up */
};

enum xlb_health_state {
	XLB_HEALTH_DOWN = 0,
	XLB_HEALTH_UP = 1,
};

enum xlb_health_init {
	XLB_HEALTH_INIT_UP = 0,	/* default: up until proven down (first probe decides) */
	XLB_HEALTH_INIT_DOWN,	/* down until `rise` successes */
};

/* Inclusive range of accepted HTTP status codes; {200, 200} for one code. */
struct xlb_health_range {
	__u16 lo;
	__u16 hi;
};

/*
 * One target. A zeroed struct with `addr` filled in is a valid TCP check
 * with the defaults above. Strings and buffers are copied by the engine.
 */
struct xlb_health_target_cfg {
	struct sockaddr_storage addr;	/* AF_INET / AF_INET6 address and port to probe */
	struct sockaddr_storage src;	/* source address to bind (port ignored); family 0 = none */
	enum xlb_health_kind kind;
	enum xlb_health_init init;
	__u32 interval_ms;		/* 0 = 1000 */
	__u32 timeout_ms;		/* 0 = min(500, interval); clamped to interval */
	__u32 hold_down_ms;		/* min time down before going up again; 0 = off */
	__u16 rise;			/* consecutive successes to go up; 0 = 2 */
	__u16 fall;			/* consecutive failures to go down; 0 = 3 */
	bool tcp_graceful_close;	/* tcp: FIN instead of RST after connect */
	/* http / https */
	const char *path;		/* NULL = "/" ; must start with '/' */
	const char *host;		/* Host header, TLS SNI and name; NULL = the address */
	const struct xlb_health_range *expect; /* accepted codes; NULL = 200-399 */
	__u32 n_expect;			/* entries in expect, <= XLB_HEALTH_MAX_EXPECT */
	bool tls_verify;		/* https: verify the certificate (off by default) */
	const char *ca_file;		/* https: CA bundle for tls_verify; NULL = system's */
	/* udp */
	const void *payload;		/* datagram to send; may be empty */
	__u32 payload_len;
	const void *reply;		/* exact reply expected; NULL = any reply */
	__u32 reply_len;
	/* tcp through the VIP (IPv4 only; see "Probe kinds") */
	bool through_vip;		/* SYN encapsulated (IPIP) to addr, addressed to vip */
	struct sockaddr_storage vip;	/* through_vip: the VIP (AF_INET; port: addr's) */
};

/* Snapshot of one target, from xlb_health__get(). Times are CLOCK_MONOTONIC ns
 * (last_change_real is CLOCK_REALTIME ns, for display).
 */
struct xlb_health_status {
	__u64 id;
	__u64 probes;			/* completed probes */
	__u64 successes_total;
	__u64 failures_total;
	__u64 transitions;		/* up<->down changes since added */
	__u64 skipped;			/* probes skipped because the engine fell behind */
	__u64 local_errors;		/* probes not run for a local reason (see below) */
	__u64 last_probe_ns;		/* start of the last completed probe; 0 = none yet */
	__u64 last_change_ns;		/* last transition (or when added) */
	__u64 last_change_real;
	__u32 last_latency_us;		/* duration of the last completed probe */
	__u32 successes;		/* consecutive */
	__u32 failures;			/* consecutive */
	enum xlb_health_state state;
	enum xlb_health_kind kind;
	bool probed;			/* at least one probe completed */
	bool last_ok;			/* result of the last completed probe */
	char last_reason[XLB_HEALTH_REASON_LEN]; /* last failure's reason; "" = none yet */
	char last_local_error[XLB_HEALTH_REASON_LEN]; /* last local error; "" = none */
};

/* Result of one probe, for opts.on_probe (metrics, benchmarks). */
struct xlb_health_probe {
	__u64 sched_ns;			/* when it was due (CLOCK_MONOTONIC) */
	__u64 start_ns;			/* when it started */
	__u32 latency_us;
	bool ok;
	const char *reason;		/* failure reason; NULL on success */
};

struct xlb_health_opts {
	void *ctx;			/* passed back to every callback */
	/* A transition; reason is the failure reason going down, "rise" going up. */
	void (*on_change)(void *ctx, void *user, __u64 id, enum xlb_health_state state,
			  const char *reason);
	/* Every completed probe (optional). */
	void (*on_probe)(void *ctx, void *user, __u64 id, const struct xlb_health_probe *p);
	__u64 seed;			/* mixed into the first-probe phase hash */
};

struct xlb_health;

struct xlb_health *xlb_health__new(const struct xlb_health_opts *opts);
/* Closes every socket, frees everything; no callback runs. NULL is fine. */
void xlb_health__free(struct xlb_health *h);
/* The epoll fd to watch for EPOLLIN (level-triggered). */
int xlb_health__fd(const struct xlb_health *h);
/* Runs due probes, handles socket events and timeouts, fires callbacks. */
int xlb_health__dispatch(struct xlb_health *h);

/*
 * Adds a target; its first probe runs within one interval (see Scheduling).
 * -EINVAL for a bad config, -ENOMEM. `user` is handed back to callbacks.
 * Ids are never 0 and not reused soon (a slot index plus a generation).
 */
int xlb_health__add_target(struct xlb_health *h, const struct xlb_health_target_cfg *cfg,
			   void *user, __u64 *id_out);
/*
 * Replaces a target's config. Its up/down state, counters and user pointer
 * are kept, consecutive counts restart from 0, a probe in flight is dropped
 * (not counted) and the next probe gets a new phase within the new interval.
 * No callback fires; a target changed to kind none is up from then on.
 * -ENOENT for an unknown id.
 */
int xlb_health__update_target(struct xlb_health *h, __u64 id,
			      const struct xlb_health_target_cfg *cfg);
/* Stops and forgets a target (no callback). -ENOENT for an unknown id. */
int xlb_health__remove_target(struct xlb_health *h, __u64 id);
int xlb_health__get(const struct xlb_health *h, __u64 id, struct xlb_health_status *st);
/* Number of targets. */
__u32 xlb_health__count(const struct xlb_health *h);

/* Names for logs, JSON and the CLI: "tcp", "http", "https", "udp", "none";
 * "up", "down". kind_parse returns -EINVAL for an unknown name.
 */
const char *xlb_health__kind_str(enum xlb_health_kind kind);
int xlb_health__kind_parse(const char *s, enum xlb_health_kind *kind);
const char *xlb_health__state_str(enum xlb_health_state state);
/*
 * Parses an expected-status list such as "200", "200-299,302" into ranges
 * (100..599). -EINVAL on a bad list, -E2BIG past max entries.
 */
int xlb_health__parse_expect(const char *s, struct xlb_health_range *out, __u32 max,
			     __u32 *n_out);

#endif /* XLB_HEALTH_H */

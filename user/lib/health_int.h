/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the health-check engine shared by health.c (engine, targets,
 * scheduler, state machine), health_sock.c (tcp and udp probes) and
 * health_http.c (http/https through libcurl multi). Not for other users.
 */
#ifndef XLB_HEALTH_INT_H
#define XLB_HEALTH_INT_H

#include "health.h"

/*
 * epoll_data.u64 of everything in the engine's epoll: a tag in the top
 * bits; for probe sockets the probe's sequence number and the target's slot,
 * so an event that was queued for a probe which has since finished (or for
 * a slot reused by another target) is recognised and dropped.
 */
#define HC_TAG_SHIFT	60
#define HC_TAG_TIMER	1ULL	/* the engine's deadline timerfd */
#define HC_TAG_CTIMER	2ULL	/* libcurl's timer */
#define HC_TAG_CURL	3ULL	/* a libcurl socket; low 32 bits = fd */
#define HC_TAG_PROBE	4ULL	/* a tcp/udp probe socket: seq << 32 | slot */
#define HC_SEQ_MASK	0x0fffffffU

struct xlb_health_target {
	struct xlb_health_target_cfg cfg;	/* pointers below point into this target */
	char *path;
	char *host;
	char *ca_file;
	void *payload;
	void *reply;
	struct xlb_health_range expect[XLB_HEALTH_MAX_EXPECT];
	void *user;
	void *easy;			/* CURL * for http/https, kept across probes */
	void *http_hdrs;		/* struct curl_slist *: Host header */
	void *http_connect_to;		/* struct curl_slist *: CURLOPT_CONNECT_TO */
	__u64 id;
	__u64 due_ns;			/* heap key: next start, or timeout when in flight */
	__u64 sched_ns;			/* when the current/next probe is scheduled */
	__u64 start_ns;			/* start of the probe in flight */
	__u32 slot;
	__u32 heap_idx;
	__u32 seq;			/* sequence of the probe in flight */
	int fd;				/* tcp/udp probe socket, -1 when none */
	bool inflight;
	bool http_aborted;		/* we cut the body short on purpose */
	bool http_added;		/* easy handle is in the multi */
	bool local_err_logged;		/* a local error was logged since the last probe */
	struct xlb_health_status st;
};

struct xlb_health_slot {
	struct xlb_health_target *t;
	__u32 gen;
};

struct xlb_health {
	struct xlb_health_opts opts;
	int epfd;
	int tfd;			/* deadline timerfd (CLOCK_MONOTONIC, absolute) */
	int ctfd;			/* libcurl's timer */
	__u64 armed_ns;			/* what tfd is armed to; 0 = disarmed */
	struct xlb_health_slot *slots;
	__u32 n_slots, cap_slots;
	__u32 *free_slots;
	__u32 n_free;
	struct xlb_health_target **heap;
	__u32 heap_len, heap_cap;
	__u32 count;
	__u32 seq;
	void *multi;			/* CURLM * */
	__u64 curl_want_ns;		/* libcurl's next timeout; 0 = none */
	__u64 curl_armed_ns;		/* what ctfd is armed to; 0 = disarmed */
	bool curl_inited;
	bool curl_kick;			/* libcurl asked for a timeout of 0 in dispatch */
	bool in_dispatch;
};

__u64 hc_now_ns(void);
/* health_timer.c: the deadline heap and its timerfd. */
/* ns rounded up to the timer grid (1 ms); arms a timerfd to an absolute time. */
__u64 hc_grid(__u64 ns);
int hc_timerfd_arm(int fd, __u64 at_ns);
int hc_heap_push(struct xlb_health *h, struct xlb_health_target *t);
void hc_heap_del(struct xlb_health *h, struct xlb_health_target *t);
/* After t->due_ns changed. */
void hc_heap_fix(struct xlb_health *h, struct xlb_health_target *t);
/* Arms the timerfd to the earliest deadline when that is earlier than it is armed to. */
void hc_arm_timer(struct xlb_health *h);
/* Reports the end of a probe: updates state, fires callbacks. May free t
 * (through a callback removing it): the caller must not touch t afterwards.
 */
void hc_probe_done(struct xlb_health *h, struct xlb_health_target *t, bool ok,
		   const char *reason);
/* The probe could not be tried for a local reason: not the target's failure. */
void hc_probe_local_error(struct xlb_health *h, struct xlb_health_target *t, const char *what);
void hc_set_reason(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* health_sock.c: 0 = in flight (or already reported through hc_probe_done). */
int hc_sock_start(struct xlb_health *h, struct xlb_health_target *t);
void hc_sock_event(struct xlb_health *h, struct xlb_health_target *t, __u32 events);
void hc_sock_abort(struct xlb_health *h, struct xlb_health_target *t);

/* health_http.c */
int hc_http_init(struct xlb_health *h);
void hc_http_fini(struct xlb_health *h);
int hc_http_configure(struct xlb_health *h, struct xlb_health_target *t);
void hc_http_release(struct xlb_health *h, struct xlb_health_target *t);
int hc_http_start(struct xlb_health *h, struct xlb_health_target *t);
void hc_http_abort(struct xlb_health *h, struct xlb_health_target *t);
void hc_http_timer(struct xlb_health *h);
void hc_http_kick(struct xlb_health *h);
void hc_http_arm(struct xlb_health *h);
void hc_http_socket(struct xlb_health *h, int fd, __u32 events);
void hc_http_collect(struct xlb_health *h);

#endif /* XLB_HEALTH_INT_H */

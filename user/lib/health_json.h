/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The "health" objects of xlb's state file (README, "Health checks"): one
 * per VIP, optionally one per real whose keys replace the VIP's. Parsing
 * checks every key (unknown keys and bad values are errors that name the
 * key), remembers which keys were given so that a dump writes back exactly
 * what the operator wrote, and resolve() turns a VIP's spec, a real's
 * override, the real's address and the VIP's port into the engine's
 * struct xlb_health_target_cfg.
 *
 *   {"kind": "http", "port": 80, "path": "/", "expect": [200, "300-399"],
 *    "interval_ms": 1000, "timeout_ms": 500, "rise": 2, "fall": 3,
 *    "hold_down_ms": 0, "init": "up", "host": "www.example.com",
 *    "tls_verify": false, "ca_file": "/etc/ssl/certs/ca.pem",
 *    "address": "198.18.3.1", "source": "198.18.0.1",
 *    "payload": "text" | "payload_hex": "0a0b", "reply": ... | "reply_hex": ...,
 *    "tcp_graceful_close": false, "through_vip": false}
 */
#ifndef XLB_HEALTH_JSON_H
#define XLB_HEALTH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "health.h"

/* Which keys a spec carries (bit per key). */
enum {
	XLB_HS_KIND = 1U << 0,
	XLB_HS_PORT = 1U << 1,
	XLB_HS_ADDRESS = 1U << 2,
	XLB_HS_SOURCE = 1U << 3,
	XLB_HS_INTERVAL = 1U << 4,
	XLB_HS_TIMEOUT = 1U << 5,
	XLB_HS_RISE = 1U << 6,
	XLB_HS_FALL = 1U << 7,
	XLB_HS_HOLD_DOWN = 1U << 8,
	XLB_HS_INIT = 1U << 9,
	XLB_HS_PATH = 1U << 10,
	XLB_HS_HOST = 1U << 11,
	XLB_HS_EXPECT = 1U << 12,
	XLB_HS_TLS_VERIFY = 1U << 13,
	XLB_HS_CA_FILE = 1U << 14,
	XLB_HS_PAYLOAD = 1U << 15,
	XLB_HS_REPLY = 1U << 16,
	XLB_HS_GRACEFUL = 1U << 17,
	XLB_HS_THROUGH_VIP = 1U << 18,
};

/* A parsed "health" object; owns its strings and buffers. */
struct xlb_health_spec {
	struct sockaddr_storage address;	/* port 0; valid with XLB_HS_ADDRESS */
	struct sockaddr_storage source;		/* port 0; valid with XLB_HS_SOURCE */
	struct xlb_health_range expect[XLB_HEALTH_MAX_EXPECT];
	char *path, *host, *ca_file;
	void *payload, *reply;
	__u32 payload_len, reply_len;
	__u32 n_expect;
	__u32 set;				/* XLB_HS_* */
	__u32 interval_ms, timeout_ms, hold_down_ms;
	enum xlb_health_kind kind;
	enum xlb_health_init init;
	__u16 port;				/* host order */
	__u16 rise, fall;
	bool tls_verify, tcp_graceful_close, through_vip;
};

/* 0, or -EINVAL with err naming the key and what is accepted, or -ENOMEM. */
int xlb_health_spec__from_json(struct xlb_health_spec *s, const json_t *obj, char *err,
			       size_t errlen);
/* The keys that were given, as an object (NULL on ENOMEM). */
json_t *xlb_health_spec__to_json(const struct xlb_health_spec *s);
void xlb_health_spec__free(struct xlb_health_spec *s);
int xlb_health_spec__copy(struct xlb_health_spec *dst, const struct xlb_health_spec *src);
bool xlb_health_spec__equal(const struct xlb_health_spec *a, const struct xlb_health_spec *b);

/*
 * The effective check of one real: engine defaults, then the VIP's spec,
 * then the real's (either may be NULL). Target address = the spec's
 * "address" or real_addr; port = the spec's "port" or vip_port (host
 * order). -EINVAL (with err) when no port results (port-less VIP without
 * "port", for any kind but none) or families differ. Pointers in *out point
 * into the specs: call xlb_health__add_target (which copies) while they live.
 */
int xlb_health_spec__resolve(const struct xlb_health_spec *vip, const struct xlb_health_spec *real,
			     const struct sockaddr_storage *real_addr, __u16 vip_port,
			     struct xlb_health_target_cfg *out, char *err, size_t errlen);

/*
 * A target's status for the control API / `xlbctl health -j`:
 *   {"kind": "http", "state": "down", "probed": true, "last_ok": false,
 *    "last_reason": "http status 500", "last_change": "2026-11-30T22:41:07.123Z",
 *    "since_change_ms": 5021, "latency_us": 412, "successes": 0, "failures": 7,
 *    "transitions": 1, "probes": 12, "skipped": 0, "local_errors": 0}
 * ("last_local_error" only when there was one). now_ns is CLOCK_MONOTONIC
 * (for since_change_ms). NULL on ENOMEM.
 */
json_t *xlb_health_status__to_json(const struct xlb_health_status *st, __u64 now_ns);

#endif /* XLB_HEALTH_JSON_H */

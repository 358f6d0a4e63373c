/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A loaded balancer (bpf/xlb.bpf.c, through its skeleton) for fixture
 * tests: small maps, helpers that write VIPs, rings, reals and the config
 * exactly as the ABI in include/xlb/abi.h lays them out, one-packet runs
 * through BPF_PROG_TEST_RUN, and counters summed over CPUs for deltas.
 *
 * Only files that include this header need xlb.skel.h; the fixture looks
 * maps and the program up by name, so it does not depend on the skeleton's
 * member list.
 */
#ifndef XLB_TEST_FIXTURE_H
#define XLB_TEST_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "xlb/abi.h"
#include "pkt.h"

#define XLBF_FLOWS 4096		/* xlb_flows max_entries in tests (at least 256 per CPU) */
#define XLBF_MAX_RINGS 64	/* VIP ids a test may use (< XLB_MAX_VIPS) */

struct xlb;

struct xlbf {
	struct xlb *skel;
	int prog_fd;
	int vips_fd, vip_addrs_fd, reals_fd, rings_fd, flows_fd, config_fd;
	int stats_fd, vip_stats_fd, real_stats_fd;
	int ncpu;			/* possible CPUs: per-CPU value rows */
	struct xlb_config cfg;		/* what xlbf_set_config last wrote */
};

/* Global, per-VIP and per-real counters summed over CPUs. */
struct xlbf_counters {
	uint64_t stat[XLB_STAT__MAX];
};

/* Names of enum xlb_stat, for messages. */
extern const char *const xlbf_stat_names[XLB_STAT__MAX];

/* Opens, shrinks the flow table to XLBF_FLOWS and loads. 0 or -errno. */
int xlbf_open(struct xlbf *f);
void xlbf_close(struct xlbf *f);
/* Verified instruction count of xlb_ingress (0 if the kernel does not say). */
uint32_t xlbf_verified_insns(const struct xlbf *f);

/*
 * Config: outer sources as text (NULL or "" = unset), GUE port (host order,
 * 0 = XLB_GUE_PORT_DEFAULT), hash seed, MTU (0 = no check).
 */
int xlbf_set_config(struct xlbf *f, const char *src_v4, const char *src_v6, uint16_t gue_port,
		    uint32_t seed, uint16_t mtu);

/* A VIP: addr text, port (host order, 0 = port-less), IPPROTO_TCP/UDP. */
struct xlbf_vip {
	const char *addr;
	uint16_t port;
	uint8_t proto;
	uint32_t id;			/* ring index and stats row */
	uint32_t ring_size;		/* 0 = XLB_RING_SIZE_DEFAULT */
	uint8_t hash_mode;		/* enum xlb_hash_mode */
	uint8_t encap;			/* enum xlb_encap */
};

/* Adds the VIP to xlb_vips and bumps its address's count in xlb_vip_addrs. */
int xlbf_add_vip(struct xlbf *f, const struct xlbf_vip *v);
/* Removes it again (and the address when it was the last VIP on it). */
int xlbf_del_vip(struct xlbf *f, const struct xlbf_vip *v);
/* The xlb_vips key of a VIP. */
struct xlb_vip_key xlbf_vip_key(const char *addr, uint16_t port, uint8_t proto);

/*
 * Installs a new ring for VIP id: an inner array of `size` slots holding
 * slots[i] (or, with slots == NULL, `fill` in every slot), replacing any
 * previous ring. The inner map is created with BPF_F_INNER_MAP.
 */
int xlbf_set_ring(struct xlbf *f, uint32_t id, uint32_t size, const uint32_t *slots,
		  uint32_t fill);
/* Drops VIP id's ring from xlb_rings. */
int xlbf_del_ring(struct xlbf *f, uint32_t id);

/* Real idx: address text, next-hop MAC, flags (XLB_REAL_F_*). */
int xlbf_set_real(struct xlbf *f, uint32_t idx, const char *addr, const uint8_t mac[6],
		  uint8_t flags);

/* Empties xlb_flows. */
int xlbf_clear_flows(struct xlbf *f);
/* Looks up a flow; 0 when found, -ENOENT when not. */
int xlbf_get_flow(struct xlbf *f, const struct xlb_flow_key *key, struct xlb_flow *out);
int xlbf_put_flow(struct xlbf *f, const struct xlb_flow_key *key, uint32_t real, uint32_t vip);
/* Flow key of a client packet (addresses and ports as text / host order). */
struct xlb_flow_key xlbf_flow_key(const char *src, const char *dst, uint16_t sport,
				  uint16_t dport, uint8_t proto);

/*
 * Runs one packet (repeat = 1) through xlb_ingress. Returns the XDP action
 * (>= 0) or -errno; *out receives the output frame (out may be NULL).
 */
int xlbf_run(struct xlbf *f, const struct pkt *in, struct pkt *out);
/* The same for any XDP program fd. */
int xlbf_run_prog(int prog_fd, const struct pkt *in, struct pkt *out);

int xlbf_read_stats(struct xlbf *f, struct xlbf_counters *c);
int xlbf_vip_stats(struct xlbf *f, uint32_t id, struct xlb_vip_stats *s);
int xlbf_real_stats(struct xlbf *f, uint32_t idx, struct xlb_real_stats *s);

/* Which real a flow lands on by the ring alone (the shared hash, as the program does). */
uint32_t xlbf_flow_hash(const struct xlbf *f, const struct xlb_flow_key *key, uint8_t mode);

/* Name of an XDP action for messages. */
const char *xlbf_action_name(int act);

#endif /* XLB_TEST_FIXTURE_H */

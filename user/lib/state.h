/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The desired state of one xlb host: LB-host settings and the VIPs with
 * their reals and weights. One JSON format serves as the config file, the
 * state file xlbd persists, the input of `xlbctl apply -f` and the output of
 * `xlbctl dump`:
 *
 *   {"settings": {"src_v4": "198.18.0.1", "src_v6": "2001:db8::1",
 *                 "gue_port": 6080, "hash_seed": 0, "mtu": 0,
 *                 "flow_table_size": 262144},
 *    "vips": [{"vip": "198.18.0.10:80/tcp", "hash": "5tuple", "encap": "ipip",
 *              "ring_size": 65537, "all_down": "fail_open",
 *              "health": {"kind": "http", "path": "/", "interval_ms": 1000},
 *              "reals": [{"address": "198.18.2.1", "weight": 1,
 *                         "health": {"port": 8080}}]}]}
 *
 * "health" objects are parsed by health_json.h; a VIP without one has no
 * health checks (its reals are always up), a real's object overrides keys of
 * its VIP's. Every real's effective check is resolved at parse time, so a
 * check that cannot work (a port-less VIP without "port") is refused whole.
 *
 * Every key is optional except "vip" and "address"; unknown keys are errors
 * that name the key. Parsing validates everything (syntax, ranges, duplicate
 * VIPs and reals) and fills a one-line message naming the offending item.
 * Saving is atomic: temp file in the same directory, fsync, rename, fsync of
 * the directory, so a crash leaves either the old or the new file.
 */
#ifndef XLB_STATE_H
#define XLB_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <xlb/abi.h>

#define XLB_WEIGHT_MAX 1000		/* real weights 0..1000; 0 drains */
#define XLB_FLOW_TABLE_MIN 1024		/* flow_table_size bounds */
#define XLB_FLOW_TABLE_MAX (1U << 24)
#define XLB_STATE_MAX_BYTES (64U << 20)	/* refuse bigger state/config files */

struct xlb_health_spec;

struct xlb_real_cfg {
	union xlb_addr addr;		/* real address, network order */
	struct xlb_health_spec *health;	/* "health" override of the VIP's; NULL = none (owned) */
	__u32 weight;			/* 0..XLB_WEIGHT_MAX */
	__u8 family;			/* enum xlb_family */
};

/* What a VIP does when every real with weight > 0 is down by health ("all_down"). */
enum xlb_all_down {
	XLB_ALL_DOWN_FAIL_OPEN = 0,	/* default: forward to all of them as if none were down */
	XLB_ALL_DOWN_DROP,		/* empty ring: the data plane drops (DROP_NO_REAL) */
};

struct xlb_vip_cfg {
	struct xlb_vip_key key;		/* as parsed from "vip" */
	__u32 ring_size;		/* Maglev M, one of xlb_maglev_primes */
	__u8 hash_mode;			/* enum xlb_hash_mode */
	__u8 encap;			/* enum xlb_encap */
	__u8 all_down;			/* enum xlb_all_down */
	struct xlb_health_spec *health;	/* "health" object; NULL = reals not checked (owned) */
	struct xlb_real_cfg *reals;	/* sorted by family, address */
	size_t nreals;
};

struct xlb_settings {
	union xlb_addr src_v6;		/* outer IPv6 source; valid when has_src_v6 */
	__be32 src_v4;			/* outer IPv4 source; valid when has_src_v4 */
	bool has_src_v4;		/* false: the interface's first global IPv4 address */
	bool has_src_v6;		/* false: the interface's first global IPv6 address */
	__u16 gue_port;			/* host order */
	__u16 mtu;			/* 0: the interface's MTU */
	__u32 hash_seed;		/* identical on every LB host of a deployment */
	__u32 flow_table_size;		/* max_entries of xlb_flows (applies at load) */
};

struct xlb_state {
	struct xlb_settings settings;
	struct xlb_vip_cfg *vips;	/* sorted by key */
	size_t nvips;
};

/* Empty state with default settings. */
void xlb_state__init(struct xlb_state *st);
void xlb_state__free(struct xlb_state *st);
/* Deep copy; dst is overwritten (not freed). 0 or -ENOMEM. */
int xlb_state__copy(struct xlb_state *dst, const struct xlb_state *src);
bool xlb_state__equal(const struct xlb_state *a, const struct xlb_state *b);

/* JSON <-> state. from_json returns 0 or -EINVAL/-ENOMEM with err filled; st untouched on error. */
int xlb_state__from_json(struct xlb_state *st, const json_t *root, char *err, size_t errlen);
json_t *xlb_state__to_json(const struct xlb_state *st);
/* A settings object alone, also used for the effective settings in `list`. */
json_t *xlb_settings__to_json(const struct xlb_settings *s);

/* Files. load: -ENOENT when missing (err filled too). save: atomic, 0 or -errno. */
int xlb_state__load(struct xlb_state *st, const char *path, char *err, size_t errlen);
int xlb_state__save(const struct xlb_state *st, const char *path, char *err, size_t errlen);
/* Test hook: when set, save fails with this -errno after writing the temp file. */
extern int xlb_state__save_inject_err;

/* Lookups: NULL when absent. */
struct xlb_vip_cfg *xlb_state__find_vip(const struct xlb_state *st, const struct xlb_vip_key *key);
struct xlb_real_cfg *xlb_vip_cfg__find_real(const struct xlb_vip_cfg *v, const union xlb_addr *addr,
					    __u8 family);

/*
 * Edits used by the control API. Each validates first and changes nothing
 * on error (err filled): -EEXIST duplicate, -ENOENT unknown VIP/real,
 * -EINVAL bad value, -ENOSPC too many VIPs/reals.
 */
int xlb_state__add_vip(struct xlb_state *st, const struct xlb_vip_cfg *v, char *err, size_t errlen);
int xlb_state__del_vip(struct xlb_state *st, const struct xlb_vip_key *key, char *err,
		       size_t errlen);
int xlb_state__add_real(struct xlb_state *st, const struct xlb_vip_key *key,
			const struct xlb_real_cfg *r, char *err, size_t errlen);
int xlb_state__del_real(struct xlb_state *st, const struct xlb_vip_key *key,
			const union xlb_addr *addr, __u8 family, char *err, size_t errlen);
int xlb_state__set_weight(struct xlb_state *st, const struct xlb_vip_key *key,
			  const union xlb_addr *addr, __u8 family, __u32 weight,
			  char *err, size_t errlen);

/*
 * Sets the health object of a VIP (real NULL) or of one of its reals (spec
 * NULL removes it; copied), and, when all_down >= 0, the VIP's policy.
 * Validates the VIP as a whole; nothing changes on error.
 */
int xlb_state__set_health(struct xlb_state *st, const struct xlb_vip_key *key,
			  const union xlb_addr *real, __u8 family,
			  const struct xlb_health_spec *spec, int all_down, char *err,
			  size_t errlen);

/* Names of enum values as written in JSON and on the command line. */
int xlb_all_down_parse(const char *s);		/* -> enum xlb_all_down or -EINVAL */
const char *xlb_all_down_name(__u8 v);
int xlb_hash_mode_parse(const char *s);		/* -> enum xlb_hash_mode or -EINVAL */
const char *xlb_hash_mode_name(__u8 mode);
int xlb_encap_parse(const char *s);		/* -> enum xlb_encap or -EINVAL */
const char *xlb_encap_name(__u8 encap);
/* Parses a weight/ring size text strictly ("12", no sign, no junk). 0 or -EINVAL. */
int xlb_parse_u32(const char *s, __u32 *out);

/*
 * Checks a VIP field by field (hash, encap, ring size, weights, duplicates,
 * every real's resolved health check) with "VIP x: ..." messages. Used by from_json and the edits.
 */
int xlb_vip_cfg__validate(const struct xlb_vip_cfg *v, char *err, size_t errlen);

/*
 * The effective health check of real r of VIP v (the VIP's "health", then
 * the real's override; see xlb_health_spec__resolve). Pointers in *out point
 * into the specs. 0, or -EINVAL with err.
 */
struct xlb_health_target_cfg;
int xlb_real_cfg__health_target(const struct xlb_vip_cfg *v, const struct xlb_real_cfg *r,
				struct xlb_health_target_cfg *out, char *err, size_t errlen);

#endif /* XLB_STATE_H */

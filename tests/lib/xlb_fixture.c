// SPDX-License-Identifier: GPL-2.0-only
/*
 * The balancer fixture behind tests/lib/xlb_fixture.h: loads xlb_ingress
 * from its skeleton with a small flow table, writes map entries the way
 * the control plane does, and runs single packets through
 * BPF_PROG_TEST_RUN.
 *
 * Every tests/lib/ source is linked into every test binary, and the skeleton only
 * exists once bpf/xlb.bpf.c does: without it this file still compiles and
 * xlbf_open() fails with -ENOENT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xlb/hash.h"
#include "xlb_fixture.h"

#if __has_include("xlb.skel.h")
#include "xlb.skel.h"
#define HAVE_XLB_SKEL 1
#endif

#define STAT_NAME(name, help) #name,
const char *const xlbf_stat_names[XLB_STAT__MAX] = { XLB_STAT_LIST(STAT_NAME) };
#undef STAT_NAME

#ifdef HAVE_XLB_SKEL
static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m) {
		fprintf(stderr, "fixture: map %s not found\n", name);
		return -ENOENT;
	}
	return bpf_map__fd(m);
}
#endif

int xlbf_open(struct xlbf *f)
{
#ifdef HAVE_XLB_SKEL
	struct bpf_program *prog;
	struct bpf_map *flows;
	struct xlb *skel;
	int err;

	memset(f, 0, sizeof(*f));
	f->ncpu = libbpf_num_possible_cpus();
	if (f->ncpu <= 0)
		return f->ncpu ? f->ncpu : -EINVAL;
	skel = xlb__open();
	if (!skel)
		return -errno;
	flows = bpf_object__find_map_by_name(skel->obj, "xlb_flows");
	if (flows) {
		/*
		 * BPF_F_NO_COMMON_LRU splits the entries between the CPUs' free
		 * lists: keep a few hundred per CPU on many-core machines.
		 */
		err = bpf_map__set_max_entries(flows, XLBF_FLOWS > 256 * f->ncpu ?
						      XLBF_FLOWS : 256 * f->ncpu);
		if (err)
			goto err_destroy;
	}
	err = xlb__load(skel);
	if (err)
		goto err_destroy;
	f->skel = skel;
	prog = bpf_object__find_program_by_name(skel->obj, "xlb_ingress");
	if (!prog) {
		err = -ENOENT;
		goto err_destroy;
	}
	f->prog_fd = bpf_program__fd(prog);
	f->vips_fd = map_fd(skel->obj, "xlb_vips");
	f->vip_addrs_fd = map_fd(skel->obj, "xlb_vip_addrs");
	f->reals_fd = map_fd(skel->obj, "xlb_reals");
	f->rings_fd = map_fd(skel->obj, "xlb_rings");
	f->flows_fd = map_fd(skel->obj, "xlb_flows");
	f->config_fd = map_fd(skel->obj, "xlb_config");
	f->stats_fd = map_fd(skel->obj, "xlb_stats");
	f->vip_stats_fd = map_fd(skel->obj, "xlb_vipstats_v2");
	f->real_stats_fd = map_fd(skel->obj, "xlb_real_stats");
	if (f->vips_fd < 0 || f->vip_addrs_fd < 0 || f->reals_fd < 0 || f->rings_fd < 0 ||
	    f->flows_fd < 0 || f->config_fd < 0 || f->stats_fd < 0 || f->vip_stats_fd < 0 ||
	    f->real_stats_fd < 0) {
		err = -ENOENT;
		goto err_destroy;
	}
	return 0;

err_destroy:
	xlb__destroy(skel);
	f->skel = NULL;
	return err;
#else
	memset(f, 0, sizeof(*f));
	fprintf(stderr, "fixture: built without xlb.skel.h (no bpf/xlb.bpf.c)\n");
	return -ENOENT;
#endif
}

void xlbf_close(struct xlbf *f)
{
#ifdef HAVE_XLB_SKEL
	if (f->skel)
		xlb__destroy(f->skel);
#endif
	f->skel = NULL;
}

uint32_t xlbf_verified_insns(const struct xlbf *f)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(f->prog_fd, &info, &len))
		return 0;
	return info.verified_insns;
}

static int set_addr(const char *text, union xlb_addr *a, __u8 *family)
{
	uint8_t b[16];
	int fam = pkt_parse_addr(text, b);

	memset(a, 0, sizeof(*a));
	if (!fam)
		return -EINVAL;
	memcpy(a->bytes, b, fam == 4 ? 4 : 16);
	if (family)
		*family = fam == 4 ? XLB_AF_INET : XLB_AF_INET6;
	return 0;
}

int xlbf_set_config(struct xlbf *f, const char *src_v4, const char *src_v6, uint16_t gue_port,
		    uint32_t seed, uint16_t mtu)
{
	struct xlb_config c;
	union xlb_addr a;
	__u32 zero = 0;

	memset(&c, 0, sizeof(c));
	if (src_v4 && *src_v4) {
		if (set_addr(src_v4, &a, NULL))
			return -EINVAL;
		c.src_v4 = a.v4;
	}
	if (src_v6 && *src_v6 && set_addr(src_v6, &c.src_v6, NULL))
		return -EINVAL;
	c.gue_port = htons(gue_port ? gue_port : XLB_GUE_PORT_DEFAULT);
	c.hash_seed = seed;
	c.mtu = mtu;
	f->cfg = c;
	return bpf_map_update_elem(f->config_fd, &zero, &c, BPF_ANY) ? -errno : 0;
}

struct xlb_vip_key xlbf_vip_key(const char *addr, uint16_t port, uint8_t proto)
{
	struct xlb_vip_key k;

	memset(&k, 0, sizeof(k));
	if (set_addr(addr, &k.addr, &k.family)) {
		fprintf(stderr, "fixture: bad address %s\n", addr);
		abort();
	}
	k.port = htons(port);
	k.proto = proto;
	return k;
}

int xlbf_add_vip(struct xlbf *f, const struct xlbf_vip *v)
{
	struct xlb_vip_key key = xlbf_vip_key(v->addr, v->port, v->proto);
	struct xlb_vip_key akey = xlbf_vip_key(v->addr, 0, 0);
	struct xlb_vip val;
	__u32 count = 0;

	memset(&val, 0, sizeof(val));
	val.id = v->id;
	val.ring_size = v->ring_size ? v->ring_size : XLB_RING_SIZE_DEFAULT;
	val.hash_mode = v->hash_mode;
	val.encap = v->encap;
	if (bpf_map_update_elem(f->vips_fd, &key, &val, BPF_ANY))
		return -errno;
	bpf_map_lookup_elem(f->vip_addrs_fd, &akey, &count);
	count++;
	if (bpf_map_update_elem(f->vip_addrs_fd, &akey, &count, BPF_ANY))
		return -errno;
	return 0;
}

int xlbf_del_vip(struct xlbf *f, const struct xlbf_vip *v)
{
	struct xlb_vip_key key = xlbf_vip_key(v->addr, v->port, v->proto);
	struct xlb_vip_key akey = xlbf_vip_key(v->addr, 0, 0);
	__u32 count = 0;

	if (bpf_map_delete_elem(f->vips_fd, &key))
		return -errno;
	if (bpf_map_lookup_elem(f->vip_addrs_fd, &akey, &count))
		return 0;
	if (count <= 1)
		return bpf_map_delete_elem(f->vip_addrs_fd, &akey) ? -errno : 0;
	count--;
	return bpf_map_update_elem(f->vip_addrs_fd, &akey, &count, BPF_ANY) ? -errno : 0;
}

int xlbf_set_ring(struct xlbf *f, uint32_t id, uint32_t size, const uint32_t *slots,
		  uint32_t fill)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	int fd, err = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_ring_test", 4, 4, size, &opts);
	if (fd < 0)
		return -errno;
	for (uint32_t i = 0; i < size; i++) {
		__u32 val = slots ? slots[i] : fill;

		if (bpf_map_update_elem(fd, &i, &val, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	if (bpf_map_update_elem(f->rings_fd, &id, &fd, BPF_ANY))
		err = -errno;
out:
	/* xlb_rings holds its own reference to the inner map. */
	close(fd);
	return err;
}

int xlbf_del_ring(struct xlbf *f, uint32_t id)
{
	return bpf_map_delete_elem(f->rings_fd, &id) ? -errno : 0;
}

int xlbf_set_real(struct xlbf *f, uint32_t idx, const char *addr, const uint8_t mac[6],
		  uint8_t flags)
{
	struct xlb_real r;

	memset(&r, 0, sizeof(r));
	if (set_addr(addr, &r.addr, &r.family))
		return -EINVAL;
	memcpy(r.next_hop_mac, mac, 6);
	r.flags = flags;
	return bpf_map_update_elem(f->reals_fd, &idx, &r, BPF_ANY) ? -errno : 0;
}

int xlbf_clear_flows(struct xlbf *f)
{
	struct xlb_flow_key key, next;
	int n = 0;

	/* Delete the first key until none is left: deleting while walking skips keys. */
	while (!bpf_map_get_next_key(f->flows_fd, NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(f->flows_fd, &key))
			return -errno;
		if (++n > 10 * XLBF_FLOWS)
			return -EBUSY;
	}
	return 0;
}

int xlbf_get_flow(struct xlbf *f, const struct xlb_flow_key *key, struct xlb_flow *out)
{
	return bpf_map_lookup_elem(f->flows_fd, key, out) ? -errno : 0;
}

int xlbf_put_flow(struct xlbf *f, const struct xlb_flow_key *key, uint32_t real, uint32_t vip)
{
	struct xlb_flow v = { .real = real, .vip = vip };

	return bpf_map_update_elem(f->flows_fd, key, &v, BPF_ANY) ? -errno : 0;
}

struct xlb_flow_key xlbf_flow_key(const char *src, const char *dst, uint16_t sport,
				  uint16_t dport, uint8_t proto)
{
	struct xlb_flow_key k;

	memset(&k, 0, sizeof(k));
	if (set_addr(src, &k.src, &k.family) || set_addr(dst, &k.dst, NULL)) {
		fprintf(stderr, "fixture: bad flow address %s / %s\n", src, dst);
		abort();
	}
	k.sport = htons(sport);
	k.dport = htons(dport);
	k.proto = proto;
	return k;
}

uint32_t xlbf_flow_hash(const struct xlbf *f, const struct xlb_flow_key *key, uint8_t mode)
{
	return xlb_flow_hash(key, mode, f->cfg.hash_seed);
}

int xlbf_run_prog(int prog_fd, const struct pkt *in, struct pkt *out)
{
	static uint8_t scratch[PKT_MAX_LEN];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in->buf,
		.data_size_in = in->len,
		.data_out = out ? out->buf : scratch,
		.data_size_out = PKT_MAX_LEN,
		/* Never more: from the second repetition the program would see its own output. */
		.repeat = 1,
	);
	int err;

	if (out)
		pkt_init(out);
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return -errno;
	if (out)
		out->len = opts.data_size_out;
	return opts.retval;
}

int xlbf_run(struct xlbf *f, const struct pkt *in, struct pkt *out)
{
	return xlbf_run_prog(f->prog_fd, in, out);
}

/* Sums the per-CPU rows of a value made of n_u64 counters. */
static int read_percpu(int fd, __u32 key, int ncpu, uint64_t *sum, size_t n_u64)
{
	uint64_t *rows;
	int err = 0;

	rows = calloc((size_t)ncpu, n_u64 * sizeof(uint64_t));
	if (!rows)
		return -ENOMEM;
	memset(sum, 0, n_u64 * sizeof(uint64_t));
	if (bpf_map_lookup_elem(fd, &key, rows)) {
		err = -errno;
		goto out;
	}
	for (int c = 0; c < ncpu; c++)
		for (size_t i = 0; i < n_u64; i++)
			sum[i] += rows[c * n_u64 + i];
out:
	free(rows);
	return err;
}

int xlbf_read_stats(struct xlbf *f, struct xlbf_counters *c)
{
	int err;

	for (__u32 i = 0; i < XLB_STAT__MAX; i++) {
		err = read_percpu(f->stats_fd, i, f->ncpu, &c->stat[i], 1);
		if (err)
			return err;
	}
	return 0;
}

int xlbf_vip_stats(struct xlbf *f, uint32_t id, struct xlb_vip_stats *s)
{
	return read_percpu(f->vip_stats_fd, id, f->ncpu, (uint64_t *)s, sizeof(*s) / 8);
}

int xlbf_real_stats(struct xlbf *f, uint32_t idx, struct xlb_real_stats *s)
{
	return read_percpu(f->real_stats_fd, idx, f->ncpu, (uint64_t *)s, sizeof(*s) / 8);
}

const char *xlbf_action_name(int act)
{
	switch (act) {
	case 0: return "XDP_ABORTED";
	case 1: return "XDP_DROP";
	case 2: return "XDP_PASS";
	case 3: return "XDP_TX";
	case 4: return "XDP_REDIRECT";
	default: return act < 0 ? "error" : "unknown";
	}
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading, adopting and driving the balancer's maps: see dataplane.h.
 *
 * Every map fd comes from its pin, whether the maps were adopted or just
 * created, so the rest of xlbd has one code path. The skeleton is only used
 * to load (and is closed right after: an attached XDP program stays attached
 * without its fd). Until bpf/xlb.bpf.c exists the skeleton header does not
 * either, and xlb_dp__open fails with -EOPNOTSUPP.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/file.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpffs.h"
#include "dataplane.h"
#include "log.h"

#if __has_include("xlb.skel.h")
#include "xlb.skel.h"
#define HAVE_XLB_SKEL 1
#endif

const char *const xlb_dp_map_names[XLB_DP__MAX] = {
	[XLB_DP_VIPS] = "xlb_vips",
	[XLB_DP_VIP_ADDRS] = "xlb_vip_addrs",
	[XLB_DP_REALS] = "xlb_reals",
	[XLB_DP_RINGS] = "xlb_rings",
	[XLB_DP_FLOWS] = "xlb_flows",
	[XLB_DP_CONFIG] = "xlb_config",
	[XLB_DP_STATS] = "xlb_stats",
	[XLB_DP_VIP_STATS] = "xlb_vipstats_v2",
	[XLB_DP_REAL_STATS] = "xlb_real_stats",
};

static int pin_path(const struct xlb_dp *dp, int i, char *buf, size_t len)
{
	if (snprintf(buf, len, "%s/%s", dp->pin_dir, xlb_dp_map_names[i]) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static void close_fds(struct xlb_dp *dp)
{
	for (int i = 0; i < XLB_DP__MAX; i++) {
		if (dp->fd[i] >= 0)
			close(dp->fd[i]);
		dp->fd[i] = -1;
	}
}

/* Opens every pin; returns how many exist. */
static int open_pins(struct xlb_dp *dp)
{
	char path[512];
	int n = 0;

	for (int i = 0; i < XLB_DP__MAX; i++) {
		if (pin_path(dp, i, path, sizeof(path)))
			continue;
		dp->fd[i] = bpf_obj_get(path);
		if (dp->fd[i] >= 0)
			n++;
	}
	return n;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static __u32 map_max_entries(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.max_entries;
}

/* True when program prog_id uses one of the pinned maps (so the pins are its maps). */
static bool prog_uses_pins(struct xlb_dp *dp, __u32 prog_id)
{
	__u32 ids[64], pinned[XLB_DP__MAX];
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bool found = false;
	int fd;

	for (int i = 0; i < XLB_DP__MAX; i++)
		pinned[i] = map_id(dp->fd[i]);
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	info.nr_map_ids = 64;
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		for (__u32 i = 0; i < info.nr_map_ids && i < 64; i++)
			for (int j = 0; j < XLB_DP__MAX; j++)
				if (pinned[j] && ids[i] == pinned[j])
					found = true;
	}
	close(fd);
	return found;
}

#ifdef HAVE_XLB_SKEL
static struct bpf_map *skel_map(struct xlb *skel, int i)
{
	return bpf_object__find_map_by_name(skel->obj, xlb_dp_map_names[i]);
}

/* Loads the skeleton (reusing pinned maps), pins new maps, attaches. */
static int load_and_attach(struct xlb_dp *dp, enum xdp_attach_mode mode, __u32 flow_table_size)
{
	struct xlb *skel;
	char path[512];
	__u32 pinned_flows;
	int err, i;

	skel = xlb__open();
	if (!skel) {
		err = -errno;
		pr_warn("cannot open the balancer skeleton: %s\n", strerror(-err));
		return err;
	}
	/* A pinned flow table keeps its size: libbpf reuses only identical maps. */
	pinned_flows = map_max_entries(dp->fd[XLB_DP_FLOWS]);
	if (pinned_flows && pinned_flows != flow_table_size) {
		pr_warn("pinned xlb_flows has %u entries, settings ask %u: keeping %u until "
			"the data plane is detached (xlbctl shutdown --detach)\n", pinned_flows,
			flow_table_size, pinned_flows);
		flow_table_size = pinned_flows;
	}
	for (i = 0; i < XLB_DP__MAX; i++) {
		struct bpf_map *m = skel_map(skel, i);

		if (!m) {
			pr_warn("the balancer object has no map %s\n", xlb_dp_map_names[i]);
			err = -ENOENT;
			goto out;
		}
		err = pin_path(dp, i, path, sizeof(path));
		if (!err)
			err = bpf_map__set_pin_path(m, path);
		if (err) {
			pr_warn("cannot set the pin path of %s: %s\n", xlb_dp_map_names[i],
				strerror(-err));
			goto out;
		}
	}
	err = bpf_map__set_max_entries(skel_map(skel, XLB_DP_FLOWS), flow_table_size);
	if (err) {
		pr_warn("cannot size xlb_flows to %u: %s\n", flow_table_size, strerror(-err));
		goto out;
	}
	/* Pins from a previous run are reopened after the load. */
	close_fds(dp);
	err = xlb_xdp_attach(skel->obj, XLB_PROG_NAME, dp->ifindex, mode, &dp->xdp);
	if (err)
		goto out;
	if (open_pins(dp) != XLB_DP__MAX) {
		pr_warn("maps are not pinned under %s after loading\n", dp->pin_dir);
		err = -ENOENT;
	}
out:
	xlb__destroy(skel);
	return err;
}
#else
static int load_and_attach(struct xlb_dp *dp, enum xdp_attach_mode mode, __u32 flow_table_size)
{
	pr_warn("built without the balancer program (bpf/xlb.bpf.c): cannot load it\n");
	return -EOPNOTSUPP;
}
#endif

int xlb_dp__open(struct xlb_dp *dp, const char *ifname, enum xdp_attach_mode mode,
		 __u32 flow_table_size)
{
	int err, npins;

	memset(dp, 0, sizeof(*dp));
	dp->lock_fd = -1;
	for (int i = 0; i < XLB_DP__MAX; i++)
		dp->fd[i] = -1;
	snprintf(dp->ifname, sizeof(dp->ifname), "%s", ifname);
	dp->ifindex = if_nametoindex(ifname);
	if (!dp->ifindex) {
		err = -errno;
		pr_warn("interface %s: %s\n", ifname, strerror(-err));
		return err;
	}
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		pr_warn("cannot count possible CPUs\n");
		return -EINVAL;
	}
	err = xlb_bpffs_ensure();
	if (!err)
		err = xlb_pin_dir(dp->pin_dir, sizeof(dp->pin_dir), NULL, ifname);
	if (!err)
		err = xlb_mkdir_p(dp->pin_dir);
	if (err) {
		pr_warn("cannot prepare the pin directory for %s: %s\n", ifname, strerror(-err));
		return err;
	}
	/* One owner per interface: two daemons writing the same maps would fight. */
	dp->lock_fd = open(dp->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dp->lock_fd < 0 || flock(dp->lock_fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		pr_warn("%s: %s\n", dp->pin_dir, err == -EBUSY ?
			"another process (xlbd?) manages this interface" : strerror(-err));
		goto err_unlock;
	}
	err = xlb_xdp_query(dp->ifindex, XLB_PROG_NAME, &dp->xdp);
	if (err)
		goto err_unlock;
	npins = open_pins(dp);
	if (npins == XLB_DP__MAX && dp->xdp.prog_id && prog_uses_pins(dp, dp->xdp.prog_id)) {
		dp->adopted = true;
		pr_info("%s: adopted attached %s id %u (%s mode, %s) and its maps pinned in %s\n",
			ifname, XLB_PROG_NAME, dp->xdp.prog_id, xlb_xdp_mode_str(dp->xdp.mode),
			dp->xdp.dispatcher ? "in libxdp's dispatcher" : "alone", dp->pin_dir);
		if (mode != XDP_MODE_UNSPEC && mode != dp->xdp.mode)
			pr_warn("%s: kept the attached program in %s mode although %s was asked: "
				"detach first to change the mode\n", ifname,
				xlb_xdp_mode_str(dp->xdp.mode), xlb_xdp_mode_str(mode));
	} else {
		if (dp->xdp.prog_id)
			pr_info("%s: %s id %u is attached but its maps are not (all) pinned: "
				"replacing it\n", ifname, XLB_PROG_NAME, dp->xdp.prog_id);
		if (npins)
			pr_info("%s: reusing %d pinned maps from %s\n", ifname, npins, dp->pin_dir);
		err = load_and_attach(dp, mode, flow_table_size);
		if (err) {
			close_fds(dp);
			goto err_unlock;
		}
	}
	dp->flow_table_size = map_max_entries(dp->fd[XLB_DP_FLOWS]);
	return 0;
err_unlock:
	if (dp->lock_fd >= 0)
		close(dp->lock_fd);
	dp->lock_fd = -1;
	return err;
}

static void unlock(struct xlb_dp *dp)
{
	if (dp->lock_fd >= 0)
		close(dp->lock_fd);
	dp->lock_fd = -1;
}

void xlb_dp__close(struct xlb_dp *dp)
{
	close_fds(dp);
	unlock(dp);
}

int xlb_dp__detach(struct xlb_dp *dp)
{
	int err;

	err = xlb_xdp_detach(dp->ifindex, XLB_PROG_NAME);
	if (err == -ENOENT)
		err = 0;
	close_fds(dp);
	unlock(dp);
	if (!err) {
		err = xlb_pin_dir_remove(dp->pin_dir);
		if (err)
			pr_warn("cannot remove %s: %s\n", dp->pin_dir, strerror(-err));
		else
			pr_info("%s: detached %s and removed %s\n", dp->ifname, XLB_PROG_NAME,
				dp->pin_dir);
	}
	return err;
}

/* ---- rings ---- */

int xlb_dp__ring_create(struct xlb_dp *dp, __u32 size, const __u32 *table)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	__u32 *keys;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_ring", sizeof(__u32), sizeof(__u32), size,
			    &opts);
	if (fd < 0) {
		err = -errno;
		pr_warn("cannot create a ring of %u slots: %s\n", size, strerror(-err));
		return err;
	}
	keys = malloc(size * sizeof(*keys));
	if (!keys) {
		close(fd);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < size; i++)
		keys[i] = i;
	__u32 count = size;

	err = bpf_map_update_batch(fd, keys, table, &count, NULL);
	if (err) {
		/* Older kernels: one slot at a time. */
		err = 0;
		for (__u32 i = 0; i < size && !err; i++)
			if (bpf_map_update_elem(fd, &i, &table[i], BPF_ANY))
				err = -errno;
	}
	free(keys);
	if (err) {
		pr_warn("cannot fill a ring of %u slots: %s\n", size, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int xlb_dp__ring_get(struct xlb_dp *dp, __u32 id, __u32 *size)
{
	__u32 inner_id;
	int fd;

	if (bpf_map_lookup_elem(dp->fd[XLB_DP_RINGS], &id, &inner_id))
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	if (size)
		*size = map_max_entries(fd);
	return fd;
}

int xlb_dp__ring_read(int fd, __u32 size, __u32 *table)
{
	__u32 *keys, count = size, out_batch = 0;
	int err;

	keys = malloc(size * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	err = bpf_map_lookup_batch(fd, NULL, &out_batch, keys, table, &count, NULL);
	if (err && errno != ENOENT)
		err = -errno;
	else if (count == size)
		err = 0;
	else
		err = -EIO;
	if (err) {
		err = 0;
		for (__u32 i = 0; i < size && !err; i++)
			if (bpf_map_lookup_elem(fd, &i, &table[i]))
				err = -errno;
	} else {
		/* Batches return keys in order for arrays; be safe anyway. */
		for (__u32 i = 0; i < size; i++)
			if (keys[i] != i) {
				for (__u32 j = 0; j < size && !err; j++)
					if (bpf_map_lookup_elem(fd, &j, &table[j]))
						err = -errno;
				break;
			}
	}
	free(keys);
	return err;
}

int xlb_dp__ring_write(int fd, const __u32 *table, const __u32 *slots, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_EXIST);
	__u32 *vals, count = n;
	int err = 0;

	if (!n)
		return 0;
	/* One syscall for the lot: a real added to a big VIP moves thousands of slots. */
	vals = malloc(n * sizeof(*vals));
	if (vals) {
		for (size_t i = 0; i < n; i++)
			vals[i] = table[slots[i]];
		err = bpf_map_update_batch(fd, slots, vals, &count, &opts);
		free(vals);
		if (!err && count == n)
			return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &slots[i], &table[slots[i]], BPF_EXIST))
			return -errno;
	return 0;
}

/* ---- stats ---- */

/* Sums nwords __u64 of every CPU's value of map[key] into out. */
static int sum_percpu(struct xlb_dp *dp, int map, __u32 key, __u64 *out, size_t nwords)
{
	__u64 *vals;
	int err = 0;

	vals = calloc((size_t)dp->ncpus, nwords * sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp->fd[map], &key, vals)) {
		err = -errno;
		goto out;
	}
	memset(out, 0, nwords * sizeof(__u64));
	for (int c = 0; c < dp->ncpus; c++)
		for (size_t w = 0; w < nwords; w++)
			out[w] += vals[c * nwords + w];
out:
	free(vals);
	return err;
}

int xlb_dp__read_stats(struct xlb_dp *dp, __u64 out[XLB_STAT__MAX])
{
	for (__u32 i = 0; i < XLB_STAT__MAX; i++) {
		int err = sum_percpu(dp, XLB_DP_STATS, i, &out[i], 1);

		if (err)
			return err;
	}
	return 0;
}

int xlb_dp__read_vip_stats(struct xlb_dp *dp, __u32 id, struct xlb_vip_stats *out)
{
	return sum_percpu(dp, XLB_DP_VIP_STATS, id, (__u64 *)out, sizeof(*out) / 8);
}

int xlb_dp__read_real_stats(struct xlb_dp *dp, __u32 index, struct xlb_real_stats *out)
{
	return sum_percpu(dp, XLB_DP_REAL_STATS, index, (__u64 *)out, sizeof(*out) / 8);
}

int xlb_dp__zero_stats(struct xlb_dp *dp, enum xlb_dp_map map, __u32 index)
{
	size_t vsize = map == XLB_DP_VIP_STATS ? sizeof(struct xlb_vip_stats) :
		       map == XLB_DP_REAL_STATS ? sizeof(struct xlb_real_stats) : sizeof(__u64);
	void *zero = calloc((size_t)dp->ncpus, vsize);
	int err = 0;

	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(dp->fd[map], &index, zero, BPF_ANY))
		err = -errno;
	free(zero);
	return err;
}

/* ---- flows ---- */

long xlb_dp__purge_flows(struct xlb_dp *dp, const bool *dead)
{
	struct xlb_flow_key key, next, *del = NULL;
	size_t ndel = 0, cap = 0;
	struct xlb_flow val;
	void *prev = NULL;
	long n = 0;
	int fd = dp->fd[XLB_DP_FLOWS];

	/* Collect first: deleting while walking restarts get_next_key. */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &val))
			continue;
		if (val.real >= XLB_MAX_REALS || !dead[val.real])
			continue;
		if (ndel == cap) {
			struct xlb_flow_key *nd = realloc(del, (cap ? cap * 2 : 256) * sizeof(*nd));

			if (!nd) {
				free(del);
				return -ENOMEM;
			}
			del = nd;
			cap = cap ? cap * 2 : 256;
		}
		del[ndel++] = key;
	}
	for (size_t i = 0; i < ndel; i++)
		if (!bpf_map_delete_elem(fd, &del[i]))
			n++;
	free(del);
	return n;
}

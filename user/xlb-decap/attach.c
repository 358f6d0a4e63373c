// SPDX-License-Identifier: GPL-2.0-only
/*
 * xlb-decap attach and detach: loads the decap program with its rodata set,
 * reuses or creates the maps pinned under XLB_PIN_ROOT/decap/IFACE/ (so the
 * counters survive a re-attach), attaches through libxdp, and undoes it all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "bpffs.h"
#include "decap.h"
#include "log.h"
#include "xdp_attach.h"
#include "decap.skel.h"

static int map_is_like(int fd, const struct bpf_map *want)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.type == bpf_map__type(want) && info.key_size == bpf_map__key_size(want) &&
	       info.value_size == bpf_map__value_size(want) &&
	       info.max_entries == bpf_map__max_entries(want);
}

/*
 * Before load: keep the counters of a previous attach (its pinned xlb_dstats)
 * and give the program an allow list that is already filled, so the new
 * program never runs with an empty list.
 */
static int prepare_maps(struct decap *skel, const struct attach_opts *o, const char *pin_dir,
			int *vips_fd)
{
	struct bpf_map *vips = skel->maps.xlb_decap_vips;
	char path[320];
	__u8 one = 1;
	int fd, i, err;

	snprintf(path, sizeof(path), "%s/xlb_dstats", pin_dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (map_is_like(fd, skel->maps.xlb_dstats) &&
		    !bpf_map__reuse_fd(skel->maps.xlb_dstats, fd))
			pr_info("keeping the counters of the previous attach (%s)\n", path);
		close(fd);
	}

	fd = bpf_map_create(bpf_map__type(vips), bpf_map__name(vips), bpf_map__key_size(vips),
			    bpf_map__value_size(vips), bpf_map__max_entries(vips), NULL);
	if (fd < 0) {
		err = -errno;
		pr_warn("cannot create the VIP allow list: %s\n", strerror(-err));
		return err;
	}
	for (i = 0; i < o->n_vips; i++) {
		if (bpf_map_update_elem(fd, &o->vips[i], &one, BPF_ANY)) {
			err = -errno;
			pr_warn("cannot write VIP %d to the allow list: %s\n", i, strerror(-err));
			goto err_close;
		}
	}
	err = bpf_map__reuse_fd(vips, fd);
	if (err) {
		pr_warn("cannot hand the allow list to the program: %s\n", strerror(-err));
		goto err_close;
	}
	*vips_fd = fd;
	return 0;

err_close:
	close(fd);
	return err;
}

static int pin_maps(struct decap *skel, const char *pin_dir)
{
	struct bpf_map *maps[] = { skel->maps.xlb_dstats, skel->maps.xlb_decap_vips };
	char path[320];
	unsigned int i;
	int err;

	err = xlb_mkdir_p(pin_dir);
	if (err)
		return err;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(maps[i]));
		if (unlink(path) && errno != ENOENT) {
			err = -errno;
			pr_warn("cannot replace pin %s: %s\n", path, strerror(-err));
			return err;
		}
		err = bpf_map__pin(maps[i], path);
		if (err) {
			pr_warn("cannot pin %s: %s\n", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * An fd for map `name` of the attached program: the pinned one when it
 * belongs to that program, else the program's own (pins can be missing, e.g.
 * in another mount namespace). Matches "*.rodata" for the rodata map.
 */
int open_prog_map(__u32 prog_id, const char *pin_dir, const char *name)
{
	struct bpf_prog_info pinfo = {};
	__u32 ids[16], n, i, len;
	int prog_fd, fd = -ENOENT;
	char path[320];

	prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (prog_fd < 0)
		return -errno;
	pinfo.nr_map_ids = 16;
	pinfo.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(pinfo);
	if (bpf_obj_get_info_by_fd(prog_fd, &pinfo, &len)) {
		fd = -errno;
		goto out;
	}
	n = pinfo.nr_map_ids < 16 ? pinfo.nr_map_ids : 16;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		struct bpf_map_info minfo = {};

		len = sizeof(minfo);
		if (!bpf_obj_get_info_by_fd(fd, &minfo, &len))
			for (i = 0; i < n; i++)
				if (ids[i] == minfo.id)
					goto out;
		close(fd);
		fd = -ENOENT;
	}
	for (i = 0; i < n; i++) {
		struct bpf_map_info minfo = {};
		size_t nl = strlen(name), ml;
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		len = sizeof(minfo);
		if (!bpf_obj_get_info_by_fd(mfd, &minfo, &len)) {
			ml = strlen(minfo.name);
			if (!strcmp(minfo.name, name) ||
			    (name[0] == '.' && ml >= nl && !strcmp(minfo.name + ml - nl, name))) {
				fd = mfd;
				goto out;
			}
		}
		close(mfd);
	}
out:
	close(prog_fd);
	return fd;
}

/* ---- attach ---- */

int do_attach(int argc, char **argv)
{
	struct attach_opts *o;
	struct xlb_xdp_state st;
	char pin_dir[256];
	struct decap *skel = NULL;
	bool json = false;
	int vips_fd = -1;
	int err;

	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->gue_port = XLB_GUE_PORT_DEFAULT;
	o->mode = XDP_MODE_UNSPEC;
	err = parse_common(argc, argv, "gam", o, &json);
	if (err)
		goto out_free;
	if (optind != argc - 1) {
		pr_warn("attach needs exactly one interface: xlb-decap attach IFACE [options]\n");
		err = -EINVAL;
		goto out_free;
	}
	err = parse_ifname(argv[optind], &o->ifname, &o->ifindex);
	if (err)
		goto out_free;
	err = xlb_pin_dir(pin_dir, sizeof(pin_dir), PIN_SUB, o->ifname);
	if (err)
		goto out_free;
	err = xlb_bpffs_ensure();
	if (err)
		goto out_free;

	skel = decap__open();
	if (!skel) {
		err = -errno;
		pr_warn("cannot open the decap program: %s\n", strerror(-err));
		goto out_free;
	}
	skel->rodata->gue_port = htons(o->gue_port);
	skel->rodata->restrict_vips = o->n_vips > 0;

	err = prepare_maps(skel, o, pin_dir, &vips_fd);
	if (err)
		goto out_skel;
	err = xlb_xdp_attach(skel->obj, PROG_NAME, o->ifindex, o->mode, &st);
	if (err) {
		if (err != -EBUSY)
			pr_warn("cannot attach xlb-decap to %s: %s\n", o->ifname, strerror(-err));
		goto out_skel;
	}
	err = pin_maps(skel, pin_dir);
	if (err) {
		pr_warn("detaching again: the maps of %s could not be pinned\n", o->ifname);
		xlb_xdp_detach(o->ifindex, PROG_NAME);
		goto out_skel;
	}
	printf("xlb-decap attached to %s: prog id %u, %s mode, %s, GUE port %u, %s\n", o->ifname,
	       st.prog_id, xlb_xdp_mode_str(st.mode),
	       st.dispatcher ? "libxdp dispatcher" : "alone (no dispatcher)", o->gue_port,
	       o->n_vips ? "VIP allow list" : "any VIP");

out_skel:
	if (vips_fd >= 0)
		close(vips_fd);
	decap__destroy(skel);
out_free:
	free(o);
	return err;
}

/* ---- detach ---- */

int do_detach(int argc, char **argv)
{
	struct attach_opts o = { .mode = XDP_MODE_UNSPEC };
	char pin_dir[256];
	bool json = false;
	int err, ifindex;

	err = parse_common(argc, argv, "", &o, &json);
	if (err)
		return err;
	if (optind != argc - 1) {
		pr_warn("detach needs exactly one interface: xlb-decap detach IFACE\n");
		return -EINVAL;
	}
	err = xlb_pin_dir(pin_dir, sizeof(pin_dir), PIN_SUB, argv[optind]);
	if (err) {
		pr_warn("unknown interface '%s'\n", argv[optind]);
		return -ENODEV;
	}
	ifindex = if_nametoindex(argv[optind]);
	if (!ifindex) {
		/* The interface is gone (and its program with it): clean up stale pins. */
		if (!access(pin_dir, F_OK) && !xlb_pin_dir_remove(pin_dir)) {
			printf("%s no longer exists; removed its stale pins %s\n", argv[optind],
			       pin_dir);
			return 0;
		}
		pr_warn("unknown interface '%s'\n", argv[optind]);
		return -ENODEV;
	}

	err = xlb_xdp_detach(ifindex, PROG_NAME);
	if (err == -ENOENT)
		pr_warn("xlb-decap is not attached to %s\n", argv[optind]);
	if (!access(pin_dir, F_OK)) {
		int e = xlb_pin_dir_remove(pin_dir);

		if (!err)
			err = e;
	}
	if (!err)
		printf("xlb-decap detached from %s\n", argv[optind]);
	return err;
}

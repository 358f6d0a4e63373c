// SPDX-License-Identifier: GPL-2.0-only
/* Attach / find / detach one named XDP program through libxdp: see xdp_attach.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"
#include "xdp_attach.h"

int xlb_xdp_mode_parse(const char *s, enum xdp_attach_mode *mode)
{
	if (!strcmp(s, "native") || !strcmp(s, "drv"))
		*mode = XDP_MODE_NATIVE;
	else if (!strcmp(s, "generic") || !strcmp(s, "skb"))
		*mode = XDP_MODE_SKB;
	else if (!strcmp(s, "auto"))
		*mode = XDP_MODE_UNSPEC;
	else
		return -EINVAL;
	return 0;
}

const char *xlb_xdp_mode_str(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "generic";
	case XDP_MODE_HW:
		return "hw";
	default:
		return "auto";
	}
}

static __u32 mode_flags(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return XDP_FLAGS_DRV_MODE;
	case XDP_MODE_SKB:
		return XDP_FLAGS_SKB_MODE;
	case XDP_MODE_HW:
		return XDP_FLAGS_HW_MODE;
	default:
		return 0;
	}
}

static const char *ifname_of(int ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

/* The multiprog view of ifindex, or NULL (with *errp 0) when nothing is attached. */
static struct xdp_multiprog *get_mp(int ifindex, int *errp)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	int err = libxdp_get_error(mp);

	*errp = 0;
	if (err == -ENOENT || (!err && !mp))
		return NULL;
	if (err) {
		char ifn[IF_NAMESIZE];

		pr_warn("cannot read the XDP programs of %s: %s\n", ifname_of(ifindex, ifn),
			strerror(-err));
		*errp = err;
		return NULL;
	}
	return mp;
}

/* Finds prog_name in mp (alone or in the dispatcher) and describes it in *st. */
static struct xdp_program *find_in(const struct xdp_multiprog *mp, const char *prog_name,
				   struct xlb_xdp_state *st)
{
	struct xdp_program *main_prog = xdp_multiprog__main_prog(mp), *p;

	memset(st, 0, sizeof(*st));
	st->mode = xdp_multiprog__attach_mode(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		if (main_prog && !strcmp(xdp_program__name(main_prog), prog_name)) {
			st->prog_id = xdp_program__id(main_prog);
			return main_prog;
		}
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
			if (!strcmp(xdp_program__name(p), prog_name)) {
				st->prog_id = xdp_program__id(p);
				st->dispatcher = true;
				return p;
			}
		}
	}
	if (main_prog) {
		st->other_id = xdp_program__id(main_prog);
		snprintf(st->other_name, sizeof(st->other_name), "%s", xdp_program__name(main_prog));
	}
	return NULL;
}

int xlb_xdp_query(int ifindex, const char *prog_name, struct xlb_xdp_state *st)
{
	struct xdp_multiprog *mp;
	int err;

	memset(st, 0, sizeof(*st));
	mp = get_mp(ifindex, &err);
	if (!mp)
		return err;
	find_in(mp, prog_name, st);
	xdp_multiprog__close(mp);
	return 0;
}

/* Swaps old (attached alone) for the program of obj in one step: no gap, no overlap. */
static int replace_alone(struct bpf_object *obj, struct bpf_program *bprog, int ifindex,
			 struct xdp_program *old, enum xdp_attach_mode mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = xdp_program__fd(old));
	char ifn[IF_NAMESIZE];
	int err;

	err = bpf_object__load(obj);
	if (err) {
		pr_warn("cannot load %s: %s\n", bpf_program__name(bprog), strerror(-err));
		return err;
	}
	err = bpf_xdp_attach(ifindex, bpf_program__fd(bprog), XDP_FLAGS_REPLACE | mode_flags(mode),
			     &opts);
	if (err) {
		pr_warn("cannot replace %s (id %u) on %s: %s\n", xdp_program__name(old),
			xdp_program__id(old), ifname_of(ifindex, ifn), strerror(-err));
		return err;
	}
	pr_info("replaced %s id %u on %s in one step (XDP_FLAGS_REPLACE)\n",
		xdp_program__name(old), xdp_program__id(old), ifname_of(ifindex, ifn));
	return 0;
}

int xlb_xdp_attach(struct bpf_object *obj, const char *prog_name, int ifindex,
		   enum xdp_attach_mode mode, struct xlb_xdp_state *st)
{
	struct xdp_program *xp = NULL, *old = NULL;
	struct xlb_xdp_state old_st = {};
	struct xdp_multiprog *old_mp;
	struct bpf_program *bprog;
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	const char *how = "through libxdp's dispatcher";
	char ifn[IF_NAMESIZE];
	int err;

	memset(st, 0, sizeof(*st));
	bprog = bpf_object__find_program_by_name(obj, prog_name);
	if (!bprog) {
		pr_warn("no program %s in %s\n", prog_name, bpf_object__name(obj));
		return -ENOENT;
	}

	old_mp = get_mp(ifindex, &err);
	if (err)
		return err;
	if (old_mp)
		old = find_in(old_mp, prog_name, &old_st);

	if (old_mp && xdp_multiprog__is_legacy(old_mp)) {
		if (!old) {
			pr_warn("%s already has XDP program %s (id %u) attached without libxdp's "
				"dispatcher; detach it first\n", ifname_of(ifindex, ifn),
				old_st.other_name, old_st.other_id);
			err = -EBUSY;
			goto out;
		}
		if (mode == XDP_MODE_UNSPEC || mode == old_st.mode) {
			err = replace_alone(obj, bprog, ifindex, old, old_st.mode);
			how = "alone, replacing the old one in place";
			goto query;
		}
		/* The kernel cannot swap programs across modes: remove, then attach. */
		err = xdp_multiprog__detach(old_mp);
		if (err) {
			pr_warn("cannot detach %s (id %u) from %s: %s\n", prog_name, old_st.prog_id,
				ifname_of(ifindex, ifn), strerror(-err));
			goto out;
		}
		pr_info("detached %s id %u (%s mode) from %s to attach in %s mode\n", prog_name,
			old_st.prog_id, xlb_xdp_mode_str(old_st.mode), ifname_of(ifindex, ifn),
			xlb_xdp_mode_str(mode));
		old = NULL;
	}

	xp = xdp_program__from_bpf_obj(obj, bpf_program__section_name(bprog));
	err = libxdp_get_error(xp);
	if (err) {
		xp = NULL;
		pr_warn("libxdp cannot use %s: %s\n", prog_name, strerror(-err));
		goto out;
	}
	err = xdp_program__attach(xp, ifindex, mode, 0);
	if (err) {
		pr_warn("cannot attach %s to %s in %s mode: %s\n", prog_name, ifname_of(ifindex, ifn),
			xlb_xdp_mode_str(mode), strerror(-err));
		goto out;
	}
	/* An old copy inside the dispatcher: the new one runs already, drop the old. */
	if (old) {
		err = xdp_program__detach(old, ifindex, XDP_MODE_UNSPEC, 0);
		if (err) {
			pr_warn("attached the new %s, but cannot remove the old one (id %u): %s\n",
				prog_name, old_st.prog_id, strerror(-err));
			goto out;
		}
	}

query:
	if (err)
		goto out;
	err = xlb_xdp_query(ifindex, prog_name, st);
	if (err)
		goto out;
	/* The program we loaded, whatever the query found first. */
	if (!bpf_obj_get_info_by_fd(bpf_program__fd(bprog), &info, &info_len))
		st->prog_id = info.id;
	if (!st->dispatcher && xp)
		how = "alone: libxdp's dispatcher is unavailable here, it fell back to a legacy attach";
	pr_info("%s: attached %s id %u in %s mode, %s\n", ifname_of(ifindex, ifn), prog_name,
		st->prog_id, xlb_xdp_mode_str(st->mode), how);
out:
	xdp_program__close(xp);
	xdp_multiprog__close(old_mp);
	return err;
}

int xlb_xdp_detach(int ifindex, const char *prog_name)
{
	struct xlb_xdp_state st;
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	char ifn[IF_NAMESIZE];
	int err;

	mp = get_mp(ifindex, &err);
	if (!mp)
		return err ? err : -ENOENT;
	p = find_in(mp, prog_name, &st);
	if (!p)
		err = -ENOENT;
	else if (st.dispatcher)
		err = xdp_program__detach(p, ifindex, XDP_MODE_UNSPEC, 0);
	else
		err = xdp_multiprog__detach(mp);
	if (err && err != -ENOENT)
		pr_warn("cannot detach %s (id %u) from %s: %s\n", prog_name, st.prog_id,
			ifname_of(ifindex, ifn), strerror(-err));
	xdp_multiprog__close(mp);
	return err;
}

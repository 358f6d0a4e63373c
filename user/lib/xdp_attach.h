/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Attaching, finding and detaching one named XDP program on an interface
 * through libxdp, shared by xlbd and xlb-decap.
 *
 * libxdp attaches through its multi-program dispatcher when the kernel allows
 * it (so xlb can share an interface with other XDP programs) and otherwise
 * falls back to attaching the program alone ("legacy"). Which path was taken
 * is logged and reported. Attaching a program whose name is already attached
 * replaces it: atomically (XDP_FLAGS_REPLACE) when the old one is attached
 * alone in the same mode, else by adding the new one and removing the old.
 */
#ifndef XLB_XDP_ATTACH_H
#define XLB_XDP_ATTACH_H

#include <stdbool.h>
#include <linux/types.h>
#include <xdp/libxdp.h>

struct bpf_object;

struct xlb_xdp_state {
	__u32 prog_id;			/* our program's id; 0 = not attached */
	enum xdp_attach_mode mode;	/* XDP_MODE_NATIVE / SKB / HW */
	bool dispatcher;		/* runs inside libxdp's dispatcher (else alone) */
	__u32 other_id;			/* when not attached: id of what is there, 0 = nothing */
	char other_name[16];		/* ... and its name */
};

/* "native", "generic", "auto" (XDP_MODE_UNSPEC: the kernel picks). 0 or -EINVAL. */
int xlb_xdp_mode_parse(const char *s, enum xdp_attach_mode *mode);
const char *xlb_xdp_mode_str(enum xdp_attach_mode mode);

/* Looks for the program called prog_name on ifindex. 0 (st->prog_id 0 if absent) or -errno. */
int xlb_xdp_query(int ifindex, const char *prog_name, struct xlb_xdp_state *st);

/*
 * Attaches program prog_name of obj (opened, not yet loaded: libxdp loads it,
 * as an freplace extension when its dispatcher works) to ifindex, replacing
 * a program of the same name. Fills *st with the result. 0 or -errno; -EBUSY
 * when another program is attached alone (it must be detached first).
 */
int xlb_xdp_attach(struct bpf_object *obj, const char *prog_name, int ifindex,
		   enum xdp_attach_mode mode, struct xlb_xdp_state *st);

/* Detaches the program called prog_name from ifindex. 0, -ENOENT if absent, or -errno. */
int xlb_xdp_detach(int ifindex, const char *prog_name);

#endif /* XLB_XDP_ATTACH_H */

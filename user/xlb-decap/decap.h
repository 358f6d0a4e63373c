/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the parts of xlb-decap share: main.c (command line), attach.c
 * (attach, detach and the pinned maps) and status.c (state and counters).
 */
#ifndef XLB_DECAP_H
#define XLB_DECAP_H

#include <linux/types.h>
#include <xdp/libxdp.h>

#include "xlb/abi.h"

#define PROG_NAME "xlb_decap"
#define PIN_SUB "decap"

struct attach_opts {
	const char *ifname;
	int ifindex;
	__u16 gue_port;				/* host order */
	enum xdp_attach_mode mode;
	int n_vips;
	struct xlb_vip_key vips[XLB_MAX_VIPS];
};

/* main.c */
int parse_ifname(const char *s, const char **ifname, int *ifindex);
int parse_common(int argc, char **argv, const char *allowed, struct attach_opts *o,
		 bool *json);

/* attach.c */
int open_prog_map(__u32 prog_id, const char *pin_dir, const char *name);
int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);

/* status.c */
int do_status(int argc, char **argv);

#endif /* XLB_DECAP_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bpffs helpers shared by xlbd and the tools: make sure bpffs is mounted,
 * build the pin directory of an interface, create it, and remove it with
 * the pins it holds.
 *
 * Pins live under XLB_PIN_ROOT (/sys/fs/bpf/xlb): the balancer's maps in
 * XLB_PIN_ROOT/<ifname>/, decap's in XLB_PIN_ROOT/decap/<ifname>/.
 */
#ifndef XLB_BPFFS_H
#define XLB_BPFFS_H

#include <stddef.h>

#define XLB_BPFFS_MOUNT "/sys/fs/bpf"

/* Mounts bpffs at XLB_BPFFS_MOUNT unless a bpffs is already there. 0 or -errno. */
int xlb_bpffs_ensure(void);

/*
 * Writes XLB_PIN_ROOT[/sub]/<ifname> into buf (sub may be NULL).
 * -ENAMETOOLONG when it does not fit, -EINVAL for an empty or odd ifname.
 */
int xlb_pin_dir(char *buf, size_t len, const char *sub, const char *ifname);

/* mkdir -p with mode 0700 for every missing component. 0 or -errno. */
int xlb_mkdir_p(const char *path);

/*
 * Unlinks every regular entry (pins) of dir and removes dir. A missing dir
 * is not an error. Subdirectories are left alone (and make rmdir fail).
 */
int xlb_pin_dir_remove(const char *dir);

#endif /* XLB_BPFFS_H */

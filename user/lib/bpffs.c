// SPDX-License-Identifier: GPL-2.0-only
/* bpffs mount and pin directory helpers: see bpffs.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <net/if.h>

#include "xlb/abi.h"
#include "bpffs.h"
#include "log.h"

int xlb_bpffs_ensure(void)
{
	struct statfs st;
	int err;

	if (statfs(XLB_BPFFS_MOUNT, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;

	err = xlb_mkdir_p(XLB_BPFFS_MOUNT);
	if (err)
		return err;
	if (mount("bpf", XLB_BPFFS_MOUNT, "bpf", 0, "mode=0700")) {
		err = -errno;
		pr_warn("cannot mount bpffs at %s: %s\n", XLB_BPFFS_MOUNT, strerror(-err));
		return err;
	}
	pr_info("mounted bpffs at %s\n", XLB_BPFFS_MOUNT);
	return 0;
}

int xlb_pin_dir(char *buf, size_t len, const char *sub, const char *ifname)
{
	int n;

	/* An interface name is one path component: no '/', not "." or "..". */
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/') ||
	    !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return -EINVAL;
	if (sub)
		n = snprintf(buf, len, "%s/%s/%s", XLB_PIN_ROOT, sub, ifname);
	else
		n = snprintf(buf, len, "%s/%s", XLB_PIN_ROOT, ifname);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int xlb_mkdir_p(const char *path)
{
	char tmp[4096];
	size_t len = strlen(path);
	char *p;

	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (p = tmp + 1; ; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST) {
			int err = -errno;

			pr_warn("cannot create %s: %s\n", tmp, strerror(-err));
			return err;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

int xlb_pin_dir_remove(const char *dir)
{
	char path[4096];
	struct dirent *de;
	int err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_type == DT_DIR)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) {
			err = -ENAMETOOLONG;
			continue;
		}
		if (unlink(path) && errno != ENOENT) {
			err = -errno;
			pr_warn("cannot remove pin %s: %s\n", path, strerror(-err));
		}
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT) {
		if (!err)
			err = -errno;
		pr_warn("cannot remove %s: %s\n", dir, strerror(errno));
	}
	return err;
}

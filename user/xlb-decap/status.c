// SPDX-License-Identifier: GPL-2.0-only
/*
 * xlb-decap status: what is attached to an interface (or to every interface
 * with pinned decap maps), its rodata (GUE port, VIP allow list) and its
 * counters, as text or JSON (-j).
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
#include <jansson.h>

#include "addr.h"
#include "bpffs.h"
#include "decap.h"
#include "log.h"
#include "xdp_attach.h"
#include "decap.skel.h"

/* Counter names and help, from the one list in abi.h. */
#define DSTAT_ROW(name, help) { #name, help },
static const struct {
	const char *name;
	const char *help;
} dstat_rows[XLB_DECAP_STAT__MAX] = { XLB_DECAP_STAT_LIST(DSTAT_ROW) };
#undef DSTAT_ROW

struct decap_status {
	char ifname[IF_NAMESIZE];
	char pin_dir[256];
	struct xlb_xdp_state st;
	bool have_rodata;
	__u16 gue_port;				/* host order */
	bool restrict_vips;
	int n_vips;
	struct xlb_vip_key *vips;		/* malloc'd, n_vips of them */
	bool have_stats;
	__u64 stats[XLB_DECAP_STAT__MAX];
};

static int read_rodata(struct decap_status *s)
{
	struct decap *skel_shape = NULL;
	__typeof__(*skel_shape->rodata) ro;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), key = 0;
	__u8 buf[256];
	int fd, err = 0;

	fd = open_prog_map(s->st.prog_id, s->pin_dir, ".rodata");
	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.value_size < sizeof(ro) ||
	    info.value_size > sizeof(buf) || bpf_map_lookup_elem(fd, &key, buf)) {
		err = -EIO;
		goto out;
	}
	memcpy(&ro, buf, sizeof(ro));
	s->gue_port = ntohs(ro.gue_port);
	s->restrict_vips = ro.restrict_vips;
	s->have_rodata = true;
out:
	close(fd);
	return err;
}

/* IPv4 before IPv6, then by address: a stable order for people and scripts. */
static int cmp_vip(const void *a, const void *b)
{
	const struct xlb_vip_key *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr.bytes, y->addr.bytes, sizeof(x->addr.bytes));
}

static int read_vips(struct decap_status *s)
{
	struct xlb_vip_key key, next, *cur = NULL;
	int fd, cap = 0;

	fd = open_prog_map(s->st.prog_id, s->pin_dir, "xlb_decap_vips");
	if (fd < 0)
		return fd;
	while (!bpf_map_get_next_key(fd, cur, &next)) {
		if (s->n_vips == cap) {
			struct xlb_vip_key *v;

			cap = cap ? cap * 2 : 16;
			v = realloc(s->vips, cap * sizeof(*v));
			if (!v) {
				close(fd);
				return -ENOMEM;
			}
			s->vips = v;
		}
		s->vips[s->n_vips++] = next;
		key = next;
		cur = &key;
	}
	close(fd);
	if (s->n_vips > 1)
		qsort(s->vips, s->n_vips, sizeof(*s->vips), cmp_vip);
	return 0;
}

static int read_stats(struct decap_status *s)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	__u32 k;
	int fd, c, err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	fd = open_prog_map(s->st.prog_id, s->pin_dir, "xlb_dstats");
	if (fd < 0)
		return fd;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals) {
		err = -ENOMEM;
		goto out;
	}
	for (k = 0; k < XLB_DECAP_STAT__MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals)) {
			err = -errno;
			goto out;
		}
		for (c = 0; c < ncpu; c++)
			s->stats[k] += vals[c];
	}
	s->have_stats = true;
out:
	free(vals);
	close(fd);
	return err;
}

static int status_collect(const char *ifname, int ifindex, struct decap_status *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	err = xlb_pin_dir(s->pin_dir, sizeof(s->pin_dir), PIN_SUB, ifname);
	if (err)
		return err;
	err = xlb_xdp_query(ifindex, PROG_NAME, &s->st);
	if (err || !s->st.prog_id)
		return err;
	/* Each part is optional: show what can be read, say what cannot. */
	if (read_rodata(s))
		pr_info("%s: cannot read the program's settings\n", ifname);
	if (read_vips(s))
		pr_info("%s: cannot read the VIP allow list\n", ifname);
	if (read_stats(s))
		pr_info("%s: cannot read the counters\n", ifname);
	return 0;
}

static void lower(char *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && src[i]; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? src[i] - 'A' + 'a' : src[i];
	dst[i] = '\0';
}

static void status_print(const struct decap_status *s)
{
	char name[32], abuf[XLB_ADDR_STRLEN];
	int i;

	if (!s->st.prog_id) {
		if (s->st.other_id)
			printf("%s: xlb-decap not attached (XDP program %s, id %u, is)\n", s->ifname,
			       s->st.other_name, s->st.other_id);
		else
			printf("%s: xlb-decap not attached\n", s->ifname);
		return;
	}
	printf("%s: xlb-decap attached\n", s->ifname);
	printf("  prog id     %u\n", s->st.prog_id);
	printf("  mode        %s, %s\n", xlb_xdp_mode_str(s->st.mode),
	       s->st.dispatcher ? "in libxdp's dispatcher" : "alone (no dispatcher)");
	if (s->have_rodata) {
		printf("  GUE port    %u\n", s->gue_port);
		printf("  VIPs        %s", s->restrict_vips ? "" : "any (no allow list)");
		for (i = 0; s->restrict_vips && i < s->n_vips; i++)
			printf("%s%s", i ? ", " : "",
			       xlb_addr_str(&s->vips[i].addr, s->vips[i].family, abuf));
		if (s->restrict_vips && !s->n_vips)
			printf("none (everything is dropped)");
		printf("\n");
	}
	printf("  pins        %s%s\n", s->pin_dir, access(s->pin_dir, F_OK) ? " (missing)" : "");
	if (!s->have_stats)
		return;
	printf("  counters\n");
	for (i = 0; i < XLB_DECAP_STAT__MAX; i++) {
		lower(name, dstat_rows[i].name, sizeof(name));
		printf("    %-18s %12llu  %s\n", name, (unsigned long long)s->stats[i],
		       dstat_rows[i].help);
	}
}

static json_t *status_json(const struct decap_status *s)
{
	char name[32], abuf[XLB_ADDR_STRLEN];
	json_t *o = json_object(), *vips, *stats;
	int i;

	json_object_set_new(o, "interface", json_string(s->ifname));
	json_object_set_new(o, "attached", json_boolean(s->st.prog_id != 0));
	if (!s->st.prog_id)
		return o;
	json_object_set_new(o, "prog_id", json_integer(s->st.prog_id));
	json_object_set_new(o, "mode", json_string(xlb_xdp_mode_str(s->st.mode)));
	json_object_set_new(o, "dispatcher", json_boolean(s->st.dispatcher));
	json_object_set_new(o, "pin_dir", json_string(s->pin_dir));
	if (s->have_rodata) {
		json_object_set_new(o, "gue_port", json_integer(s->gue_port));
		json_object_set_new(o, "restrict_vips", json_boolean(s->restrict_vips));
		vips = json_array();
		for (i = 0; i < s->n_vips; i++)
			json_array_append_new(vips, json_string(xlb_addr_str(&s->vips[i].addr,
									      s->vips[i].family,
									      abuf)));
		json_object_set_new(o, "vips", vips);
	}
	if (s->have_stats) {
		stats = json_object();
		for (i = 0; i < XLB_DECAP_STAT__MAX; i++) {
			lower(name, dstat_rows[i].name, sizeof(name));
			json_object_set_new(stats, name, json_integer(s->stats[i]));
		}
		json_object_set_new(o, "counters", stats);
	}
	return o;
}

int do_status(int argc, char **argv)
{
	struct attach_opts o = { .mode = XDP_MODE_UNSPEC };
	struct if_nameindex *ifs = NULL, *it;
	struct decap_status s;
	json_t *arr = NULL;
	bool json = false;
	int err, ifindex, shown = 0;
	const char *ifname;

	err = parse_common(argc, argv, "j", &o, &json);
	if (err)
		return err;
	if (argc - optind > 1) {
		pr_warn("status takes at most one interface: xlb-decap status [IFACE] [-j]\n");
		return -EINVAL;
	}
	if (json)
		arr = json_array();

	if (optind < argc) {
		err = parse_ifname(argv[optind], &ifname, &ifindex);
		if (err)
			goto out;
		err = status_collect(ifname, ifindex, &s);
		if (!err) {
			if (json)
				json_array_append_new(arr, status_json(&s));
			else
				status_print(&s);
		}
		free(s.vips);
		goto out;
	}

	/* Every interface that has xlb-decap attached. */
	ifs = if_nameindex();
	if (!ifs) {
		err = -errno;
		pr_warn("cannot list interfaces: %s\n", strerror(-err));
		goto out;
	}
	for (it = ifs; it->if_index; it++) {
		if (status_collect(it->if_name, it->if_index, &s) || !s.st.prog_id) {
			free(s.vips);
			continue;
		}
		if (json) {
			json_array_append_new(arr, status_json(&s));
		} else {
			if (shown)
				printf("\n");
			status_print(&s);
		}
		shown++;
		free(s.vips);
	}
	if (!json && !shown)
		printf("xlb-decap is not attached to any interface\n");
	if_freenameindex(ifs);
out:
	if (json && !err) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		printf("\n");
	}
	json_decref(arr);
	return err;
}

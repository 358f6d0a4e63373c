// SPDX-License-Identifier: GPL-2.0-only
/*
 * xlb-decap: attaches xlb's decap program (bpf/decap.bpf.c) to a real
 * server's interface, detaches it, and shows its state and counters.
 *
 *   xlb-decap attach IFACE [--gue-port N] [--vip ADDR]... [--mode native|generic|auto] [-v]
 *   xlb-decap detach IFACE [-v]
 *   xlb-decap status [IFACE] [-j] [-v]
 *
 * attach loads the program with its rodata set, attaches it through libxdp
 * (replacing an xlb-decap already there), pins its maps under
 * XLB_PIN_ROOT/decap/IFACE/ and exits: the program stays attached. The
 * counters (xlb_dstats) are kept across a re-attach; the VIP allow list is
 * replaced by the one given.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "xlb/abi.h"
#include "addr.h"
#include "bpffs.h"
#include "log.h"
#include "xdp_attach.h"
#include "decap.skel.h"

#define PROG_NAME "xlb_decap"
#define PIN_SUB "decap"

/* Counter names and help, from the one list in abi.h. */
#define DSTAT_ROW(name, help) { #name, help },
static const struct {
	const char *name;
	const char *help;
} dstat_rows[XLB_DECAP_STAT__MAX] = { XLB_DECAP_STAT_LIST(DSTAT_ROW) };
#undef DSTAT_ROW

struct attach_opts {
	const char *ifname;
	int ifindex;
	__u16 gue_port;				/* host order */
	enum xdp_attach_mode mode;
	int n_vips;
	struct xlb_vip_key vips[XLB_MAX_VIPS];
};

static const struct option long_opts[] = {
	{ "gue-port", required_argument, NULL, 'g' },
	{ "vip", required_argument, NULL, 'a' },
	{ "mode", required_argument, NULL, 'm' },
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlb-decap attach IFACE [--gue-port N] [--vip ADDR]... [--mode native|generic|auto] [-v]\n"
		"       xlb-decap detach IFACE [-v]\n"
		"       xlb-decap status [IFACE] [-j] [-v]\n"
		"       xlb-decap help\n"
		"\n"
		"Decapsulates xlb's IPIP and GUE traffic on a real server (XDP) and passes the\n"
		"client's packet to the stack. Verbs may be abbreviated (att, det, st).\n"
		"  --gue-port N   UDP destination port of GUE (1-65535, default %d)\n"
		"  --vip ADDR     decapsulate only packets to this VIP address (IPv4 or IPv6,\n"
		"                 repeatable, up to %d); without it, every VIP is accepted\n"
		"  --mode M       native (driver), generic (skb) or auto (default)\n"
		"  -j, --json     status as JSON\n"
		"  -v             more detail (twice: libbpf/libxdp debug)\n",
		XLB_GUE_PORT_DEFAULT, XLB_MAX_VIPS);
}

static int parse_ifname(const char *s, const char **ifname, int *ifindex)
{
	unsigned int idx;

	if (strlen(s) >= IF_NAMESIZE || !(idx = if_nametoindex(s))) {
		pr_warn("unknown interface '%s'\n", s);
		return -ENODEV;
	}
	*ifname = s;
	*ifindex = idx;
	return 0;
}

static int parse_port(const char *s, __u16 *port)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v < 1 || v > 65535 || s[0] == '-' || s[0] == '+') {
		pr_warn("bad --gue-port '%s': expected a port number 1-65535\n", s);
		return -EINVAL;
	}
	*port = v;
	return 0;
}

static int parse_vip(const char *s, struct attach_opts *o)
{
	struct xlb_vip_key *k;
	char err[XLB_ERR_LEN];
	int i;

	if (o->n_vips >= XLB_MAX_VIPS) {
		pr_warn("too many --vip: at most %d\n", XLB_MAX_VIPS);
		return -E2BIG;
	}
	k = &o->vips[o->n_vips];
	memset(k, 0, sizeof(*k));	/* port 0, proto 0, padding zero: the BPF key */
	if (xlb_addr_parse(s, XLB_AF_NONE, &k->addr, &k->family, err, sizeof(err))) {
		pr_warn("bad --vip: %s\n", err);
		return -EINVAL;
	}
	for (i = 0; i < o->n_vips; i++)
		if (!memcmp(&o->vips[i], k, sizeof(*k)))
			return 0;	/* given twice: once is enough */
	o->n_vips++;
	return 0;
}

/* getopt over argv (argv[0] is the verb); the positional arguments stay in argv[optind..]. */
static int parse_common(int argc, char **argv, const char *allowed, struct attach_opts *o,
			bool *json)
{
	int opt, err, verbose = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "jvh", long_opts, NULL)) != -1) {
		if (opt != '?' && opt != 'h' && opt != 'v' && !strchr(allowed, opt)) {
			pr_warn("option %s does not apply to '%s' (see xlb-decap -h)\n",
				argv[optind - 1], argv[0]);
			return -EINVAL;
		}
		switch (opt) {
		case 'g':
			err = parse_port(optarg, &o->gue_port);
			if (err)
				return err;
			break;
		case 'a':
			err = parse_vip(optarg, o);
			if (err)
				return err;
			break;
		case 'm':
			if (xlb_xdp_mode_parse(optarg, &o->mode)) {
				pr_warn("bad --mode '%s': expected native, generic or auto\n", optarg);
				return -EINVAL;
			}
			break;
		case 'j':
			*json = true;
			break;
		case 'v':
			verbose++;
			xlb_log_set_level(verbose > 1 ? XLB_LOG_DEBUG : XLB_LOG_INFO);
			if (verbose > 1)
				xlb_log_hook_libbpf();
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			pr_warn("unknown or incomplete option '%s' (see xlb-decap -h)\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- maps ---- */

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
static int open_prog_map(__u32 prog_id, const char *pin_dir, const char *name)
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

static int do_attach(int argc, char **argv)
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

static int do_detach(int argc, char **argv)
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

/* ---- status ---- */

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

static int do_status(int argc, char **argv)
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

/* ---- main ---- */

static int do_help(int argc, char **argv)
{
	usage(stdout);
	return 0;
}

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "attach", do_attach },
	{ "detach", do_detach },
	{ "status", do_status },
	{ "help", do_help },
};

/* Exact name, or a prefix that only one verb has. */
static const struct cmd *find_cmd(const char *verb)
{
	const struct cmd *found = NULL;
	size_t i, n = strlen(verb);

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(cmds[i].name, verb))
			return &cmds[i];
		if (n && !strncmp(cmds[i].name, verb, n)) {
			if (found)
				return NULL;
			found = &cmds[i];
		}
	}
	return found;
}

int main(int argc, char **argv)
{
	const struct cmd *cmd;

	xlb_log_set_ident("xlb-decap");
	xlb_log_set_level(XLB_LOG_WARN);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = find_cmd(argv[1]);
	if (!cmd) {
		pr_warn("unknown or ambiguous command '%s': expected attach, detach, status or help\n",
			argv[1]);
		return 2;
	}
	/* Quiet libbpf/libxdp unless -v -v: their messages are noise for an operator. */
	libbpf_set_print(NULL);
	libxdp_set_print(NULL);
	return cmd->fn(argc - 1, argv + 1) ? 1 : 0;
}

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
 *
 * This file holds the command line: options, parsing, help and the verb
 * table; the verbs are in attach.c and status.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <net/if.h>

#include "addr.h"
#include "decap.h"
#include "log.h"
#include "xdp_attach.h"

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

int parse_ifname(const char *s, const char **ifname, int *ifindex)
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
int parse_common(int argc, char **argv, const char *allowed, struct attach_opts *o,
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

// SPDX-License-Identifier: GPL-2.0-only
/*
 * xlbctl: the operator's CLI. Each verb builds one control API request
 * (user/lib/api.h), sends it to xlbd and prints the answer: a table for
 * people, or JSON with -j. Verbs are matched by unique prefix
 * ("xlbctl l" = list) and the help is generated from the verb table.
 * Exit status: 0 on success, 1 when xlbd refused or failed (its one-line
 * error on stderr), 2 for a command line that cannot be sent.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "api.h"
#include "state.h"

enum {
	O_HASH = 1 << 0,
	O_ENCAP = 1 << 1,
	O_RING = 1 << 2,
	O_WEIGHT = 1 << 3,
	O_WATCH = 1 << 4,
	O_FILE = 1 << 5,
	O_DETACH = 1 << 6,
	O_JSON = 1 << 7,
};

struct args {
	const char *socket;
	bool json;
	const char *hash, *encap, *ring, *weight, *file;
	bool watch, detach;
	unsigned int seen;		/* O_* given */
	const char *pos[8];
	int npos;
};

struct verb {
	const char *name;
	int (*fn)(struct args *a);
	int npos;			/* positional arguments */
	unsigned int opts;		/* O_* accepted */
	const char *usage;
	const char *help;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xlbctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (xlbctl help for usage)\n");
	return 2;
}

/* Sends req (consumed) and returns the result (borrowed from *resp) or NULL after printing. */
static json_t *call(struct args *a, json_t *req, json_t **resp)
{
	char err[512];
	json_t *r;

	*resp = NULL;
	if (xlb_api_call(a->socket, req, resp, err, sizeof(err))) {
		json_decref(req);
		fprintf(stderr, "xlbctl: %s\n", err);
		return NULL;
	}
	json_decref(req);
	if (!json_is_true(json_object_get(*resp, "ok"))) {
		const char *e = json_string_value(json_object_get(*resp, "error"));

		fprintf(stderr, "xlbctl: %s\n", e ? e : "xlbd failed without a reason");
		json_decref(*resp);
		*resp = NULL;
		return NULL;
	}
	r = json_object_get(*resp, "result");
	return r ? r : json_null();
}

static int simple(struct args *a, json_t *req)
{
	json_t *resp, *res = call(a, req, &resp);

	if (!res)
		return 1;
	if (a->json)
		printf("%s\n", "{\"ok\":true}");
	json_decref(resp);
	return 0;
}

static int parse_u32_opt(const char *what, const char *s, __u32 *out)
{
	if (xlb_parse_u32(s, out))
		return usage_error("%s \"%s\" is not a number", what, s);
	return 0;
}

static int check_vip(const char *s)
{
	struct xlb_vip_key k;
	char err[XLB_ERR_LEN];

	if (xlb_vip_parse(s, &k, err, sizeof(err)))
		return usage_error("%s", err);
	return 0;
}

static int check_real(const char *s)
{
	union xlb_addr a;
	char err[XLB_ERR_LEN];

	if (xlb_addr_parse(s, XLB_AF_NONE, &a, NULL, err, sizeof(err)))
		return usage_error("%s", err);
	return 0;
}

static int do_add_vip(struct args *a)
{
	json_t *req;
	__u32 ring;

	if (check_vip(a->pos[0]))
		return 2;
	req = json_pack("{s:s, s:s}", "verb", "add-vip", "vip", a->pos[0]);
	if (a->hash)
		json_object_set_new(req, "hash", json_string(a->hash));
	if (a->encap)
		json_object_set_new(req, "encap", json_string(a->encap));
	if (a->ring) {
		if (parse_u32_opt("--ring-size", a->ring, &ring)) {
			json_decref(req);
			return 2;
		}
		json_object_set_new(req, "ring_size", json_integer(ring));
	}
	return simple(a, req);
}

static int do_del_vip(struct args *a)
{
	if (check_vip(a->pos[0]))
		return 2;
	return simple(a, json_pack("{s:s, s:s}", "verb", "del-vip", "vip", a->pos[0]));
}

static int do_add_real(struct args *a)
{
	json_t *req;
	__u32 w = 1;

	if (check_vip(a->pos[0]) || check_real(a->pos[1]))
		return 2;
	if (a->weight && parse_u32_opt("--weight", a->weight, &w))
		return 2;
	req = json_pack("{s:s, s:s, s:s, s:i}", "verb", "add-real", "vip", a->pos[0], "real",
			a->pos[1], "weight", (int)w);
	return simple(a, req);
}

static int do_del_real(struct args *a)
{
	if (check_vip(a->pos[0]) || check_real(a->pos[1]))
		return 2;
	return simple(a, json_pack("{s:s, s:s, s:s}", "verb", "del-real", "vip", a->pos[0],
				   "real", a->pos[1]));
}

static int do_set_weight(struct args *a)
{
	__u32 w;

	if (check_vip(a->pos[0]) || check_real(a->pos[1]) ||
	    parse_u32_opt("weight", a->pos[2], &w))
		return 2;
	return simple(a, json_pack("{s:s, s:s, s:s, s:I}", "verb", "set-weight", "vip",
				   a->pos[0], "real", a->pos[1], "weight", (json_int_t)w));
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	if (s)
		printf("%s\n", s);
	free(s);
}

static int do_list(struct args *a)
{
	json_t *resp, *res = call(a, json_pack("{s:s}", "verb", "list"), &resp), *v, *r;
	size_t i, j;

	if (!res)
		return 1;
	if (a->json) {
		print_json(res);
		json_decref(resp);
		return 0;
	}
	printf("xlb on %s, program id %lld (%s mode%s)\n",
	       json_string_value(json_object_get(res, "iface")),
	       json_integer_value(json_object_get(res, "prog_id")),
	       json_string_value(json_object_get(res, "xdp_mode")),
	       json_is_true(json_object_get(res, "dispatcher")) ? ", libxdp dispatcher" : "");
	printf("%-40s %-13s %-6s %s\n", "VIP", "HASH", "ENCAP", "RING");
	printf("  -> %-35s %-7s %-11s %-6s %s\n", "REAL", "WEIGHT", "STATE", "INDEX", "NEXT-HOP");
	json_array_foreach(json_object_get(res, "vips"), i, v) {
		printf("%-40s %-13s %-6s %lld\n", json_string_value(json_object_get(v, "vip")),
		       json_string_value(json_object_get(v, "hash")),
		       json_string_value(json_object_get(v, "encap")),
		       json_integer_value(json_object_get(v, "ring_size")));
		json_array_foreach(json_object_get(v, "reals"), j, r) {
			const char *st = json_string_value(json_object_get(r, "state"));
			const char *mac = json_string_value(json_object_get(r, "next_hop_mac"));

			printf("  -> %-35s %-7lld %-11s %-6lld %s\n",
			       json_string_value(json_object_get(r, "address")),
			       json_integer_value(json_object_get(r, "weight")), st ? st : "-",
			       json_integer_value(json_object_get(r, "index")), mac ? mac : "-");
		}
	}
	json_decref(resp);
	return 0;
}

static void print_stats(json_t *res)
{
	const char *k;
	json_t *val, *v, *r;
	size_t i, j;

	printf("%-40s %14s %16s %12s %10s\n", "VIP", "PACKETS", "BYTES", "NEW-FLOWS", "DROPS");
	printf("  -> %-35s %14s %16s\n", "REAL", "PACKETS", "BYTES");
	json_array_foreach(json_object_get(res, "vips"), i, v) {
		printf("%-40s %14lld %16lld %12lld %10lld\n",
		       json_string_value(json_object_get(v, "vip")),
		       json_integer_value(json_object_get(v, "packets")),
		       json_integer_value(json_object_get(v, "bytes")),
		       json_integer_value(json_object_get(v, "new_flows")),
		       json_integer_value(json_object_get(v, "drops")));
		if (json_integer_value(json_object_get(v, "drops"))) {
			const char *sep = "     drops:";

			json_object_foreach(json_object_get(v, "drop_reasons"), k, val) {
				printf("%s %s %lld", sep, k, json_integer_value(val));
				sep = ",";
			}
			printf("\n");
		}
		json_array_foreach(json_object_get(v, "reals"), j, r)
			printf("  -> %-35s %14lld %16lld\n",
			       json_string_value(json_object_get(r, "address")),
			       json_integer_value(json_object_get(r, "packets")),
			       json_integer_value(json_object_get(r, "bytes")));
	}
	printf("\nGLOBAL COUNTERS\n");
	json_object_foreach(json_object_get(res, "global"), k, val)
		printf("  %-20s %16lld\n", k, json_integer_value(val));
}

static volatile sig_atomic_t stop_watch;

static void on_sigint(int sig)
{
	stop_watch = 1;
}

static int do_stats(struct args *a)
{
	signal(SIGINT, on_sigint);
	do {
		json_t *resp, *res = call(a, json_pack("{s:s}", "verb", "stats"), &resp);

		if (!res)
			return 1;
		if (a->watch && !a->json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		if (a->watch) {
			time_t t = time(NULL);

			printf("%s", a->json ? "" : ctime(&t));
		}
		if (a->json) {
			char *s = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);

			printf("%s\n", s ? s : "null");
			free(s);
		} else {
			print_stats(res);
		}
		fflush(stdout);
		json_decref(resp);
		if (a->watch && !stop_watch)
			sleep(1);
	} while (a->watch && !stop_watch);
	return 0;
}

static int do_apply(struct args *a)
{
	json_error_t jerr;
	json_t *st;

	if (!a->file)
		return usage_error("apply needs -f FILE");
	st = !strcmp(a->file, "-") ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr) :
				     json_load_file(a->file, JSON_REJECT_DUPLICATES, &jerr);
	if (!st) {
		fprintf(stderr, "xlbctl: %s:%d:%d: %s\n", a->file, jerr.line, jerr.column,
			jerr.text);
		return 1;
	}
	return simple(a, json_pack("{s:s, s:o}", "verb", "apply", "state", st));
}

static int do_dump(struct args *a)
{
	json_t *resp, *res = call(a, json_pack("{s:s}", "verb", "dump"), &resp);

	if (!res)
		return 1;
	print_json(res);
	json_decref(resp);
	return 0;
}

static int do_shutdown(struct args *a)
{
	return simple(a, json_pack("{s:s, s:b}", "verb", "shutdown", "detach", a->detach));
}

static int do_ping(struct args *a)
{
	return simple(a, json_pack("{s:s}", "verb", "ping"));
}

static int do_help(struct args *a);

static const struct verb verbs[] = {
	{ "add-vip", do_add_vip, 1, O_HASH | O_ENCAP | O_RING,
	  "add-vip VIP [--hash 5tuple|src-ip|src-ip-dport] [--encap ipip|gue] [--ring-size M]",
	  "add a VIP (ADDR:PORT/PROTO or [V6ADDR]:PORT/PROTO; port 0 = every port)" },
	{ "del-vip", do_del_vip, 1, 0, "del-vip VIP", "remove a VIP and its reals" },
	{ "add-real", do_add_real, 2, O_WEIGHT, "add-real VIP REAL [--weight W]",
	  "add a real server (IPv4 or IPv6 address), weight 0..1000, default 1" },
	{ "del-real", do_del_real, 2, 0, "del-real VIP REAL", "remove a real server" },
	{ "set-weight", do_set_weight, 3, 0, "set-weight VIP REAL W",
	  "change a weight; 0 drains (no new flows, existing flows stay)" },
	{ "list", do_list, 0, O_JSON, "list [-j]", "VIPs, their reals, weights and state" },
	{ "stats", do_stats, 0, O_JSON | O_WATCH, "stats [-j] [--watch]",
	  "packets, bytes, new flows per VIP and real; global counters" },
	{ "apply", do_apply, 0, O_FILE, "apply -f FILE",
	  "replace the whole desired state with FILE (- for stdin)" },
	{ "dump", do_dump, 0, O_JSON, "dump", "print the desired state (the apply format)" },
	{ "shutdown", do_shutdown, 0, O_DETACH, "shutdown [--detach]",
	  "stop xlbd; --detach also removes the program and the maps" },
	{ "ping", do_ping, 0, 0, "ping", "check that xlbd answers" },
	{ "help", do_help, 0, 0, "help", "this text" },
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static int do_help(struct args *a)
{
	printf("Usage: xlbctl [--socket PATH] [-j] VERB [ARGS]\n\nVerbs (any unique prefix):\n");
	for (size_t i = 0; i < NVERBS; i++)
		printf("  %s\n      %s\n", verbs[i].usage, verbs[i].help);
	printf("\nOptions:\n  --socket PATH  xlbd's control socket (default %s)\n"
	       "  -j, --json     JSON output\n", XLB_API_SOCKET);
	return 0;
}

static const struct verb *find_verb(const char *name)
{
	const struct verb *found = NULL;
	size_t len = strlen(name);
	int n = 0;

	for (size_t i = 0; i < NVERBS; i++) {
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
		if (!strncmp(verbs[i].name, name, len)) {
			found = &verbs[i];
			n++;
		}
	}
	return n == 1 ? found : NULL;
}

int main(int argc, char **argv)
{
	struct args a = { .socket = XLB_API_SOCKET };
	const struct verb *v = NULL;
	const char *verb_name = NULL;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char **val = NULL;
		unsigned int o = 0;

		if (!strcmp(s, "--socket") || !strcmp(s, "--hash") || !strcmp(s, "--encap") ||
		    !strcmp(s, "--ring-size") || !strcmp(s, "--weight") || !strcmp(s, "-f") ||
		    !strcmp(s, "--file")) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", s);
			if (!strcmp(s, "--socket"))
				val = &a.socket;
			else if (!strcmp(s, "--hash"))
				val = &a.hash, o = O_HASH;
			else if (!strcmp(s, "--encap"))
				val = &a.encap, o = O_ENCAP;
			else if (!strcmp(s, "--ring-size"))
				val = &a.ring, o = O_RING;
			else if (!strcmp(s, "--weight"))
				val = &a.weight, o = O_WEIGHT;
			else
				val = &a.file, o = O_FILE;
			*val = argv[++i];
			a.seen |= o;
		} else if (!strcmp(s, "-j") || !strcmp(s, "--json")) {
			a.json = true;
			a.seen |= O_JSON;
		} else if (!strcmp(s, "--watch")) {
			a.watch = true;
			a.seen |= O_WATCH;
		} else if (!strcmp(s, "--detach")) {
			a.detach = true;
			a.seen |= O_DETACH;
		} else if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			return do_help(&a);
		} else if (s[0] == '-' && s[1] && !(verb_name && s[1] >= '0' && s[1] <= '9')) {
			return usage_error("unknown option %s", s);
		} else if (!verb_name) {
			verb_name = s;
		} else if (a.npos < 8) {
			a.pos[a.npos++] = s;
		} else {
			return usage_error("too many arguments");
		}
	}
	if (!verb_name)
		return do_help(&a), 2;
	v = find_verb(verb_name);
	if (!v)
		return usage_error("unknown or ambiguous verb \"%s\"", verb_name);
	if (a.seen & ~(v->opts | O_JSON))
		return usage_error("option not accepted by %s: usage: xlbctl %s", v->name, v->usage);
	if (a.npos != v->npos)
		return usage_error("%s takes %d argument%s: usage: xlbctl %s", v->name, v->npos,
				   v->npos == 1 ? "" : "s", v->usage);
	return v->fn(&a);
}

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
#include <stddef.h>
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
	O_HEALTH = 1 << 8,	/* --health and the check's options */
	O_ALL_DOWN = 1 << 9,
	O_CLEAR = 1 << 10,
};

/* Health-check options: flag -> key of the "health" object, and how to read the value. */
enum hopt_type { H_STR, H_U32, H_EXPECT };
static const struct hopt {
	const char *flag, *key;
	enum hopt_type type;
} hopts[] = {
	{ "--health", "kind", H_STR },
	{ "--health-port", "port", H_U32 },
	{ "--health-path", "path", H_STR },
	{ "--health-host", "host", H_STR },
	{ "--health-expect", "expect", H_EXPECT },
	{ "--health-address", "address", H_STR },
	{ "--health-source", "source", H_STR },
	{ "--interval-ms", "interval_ms", H_U32 },
	{ "--timeout-ms", "timeout_ms", H_U32 },
	{ "--rise", "rise", H_U32 },
	{ "--fall", "fall", H_U32 },
	{ "--hold-down-ms", "hold_down_ms", H_U32 },
	{ "--init", "init", H_STR },
	{ "--health-payload", "payload", H_STR },
	{ "--health-reply", "reply", H_STR },
};
#define NHOPTS (sizeof(hopts) / sizeof(hopts[0]))

struct args {
	const char *socket;
	bool json;
	const char *hash, *encap, *ring, *weight, *file;
	bool watch, detach, clear, through_vip;
	const char *all_down;
	const char *hval[NHOPTS];	/* health options given */
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
	int npos_opt;			/* optional positional arguments after npos */
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

/*
 * The "health" object from the options (NULL + message when one is bad):
 * numbers as numbers, --health-expect "200-299,302" as [ "200-299", 302 ].
 */
static json_t *health_obj(struct args *a, int *ret)
{
	json_t *o = json_object();

	*ret = 0;
	for (size_t i = 0; i < NHOPTS; i++) {
		const char *v = a->hval[i];
		__u32 n;

		if (!v)
			continue;
		if (hopts[i].type == H_U32) {
			if (parse_u32_opt(hopts[i].flag, v, &n)) {
				*ret = 2;
				json_decref(o);
				return NULL;
			}
			json_object_set_new(o, hopts[i].key, json_integer(n));
		} else if (hopts[i].type == H_EXPECT) {
			json_t *arr = json_array();
			char *dup = strdup(v), *save = NULL;

			for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
				json_array_append_new(arr, xlb_parse_u32(t, &n) ? json_string(t) :
							   json_integer(n));
			free(dup);
			json_object_set_new(o, hopts[i].key, arr);
		} else {
			json_object_set_new(o, hopts[i].key, json_string(v));
		}
	}
	if (a->through_vip)
		json_object_set_new(o, "through_vip", json_true());
	return o;
}

/* Adds "health" / "all_down" to req from the options. 0, or 2 after a message. */
static int add_health(struct args *a, json_t *req)
{
	int ret;

	if (a->all_down)
		json_object_set_new(req, "all_down", json_string(a->all_down));
	if (a->clear) {
		if (a->seen & O_HEALTH)
			return usage_error("--clear removes the check: give no check option with it");
		json_object_set_new(req, "health", json_null());
	} else if (a->seen & O_HEALTH) {
		json_t *h = health_obj(a, &ret);

		if (!h)
			return ret;
		json_object_set_new(req, "health", h);
	}
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
	if (add_health(a, req)) {
		json_decref(req);
		return 2;
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

static int do_set_health(struct args *a)
{
	json_t *req;

	if (check_vip(a->pos[0]) || (a->npos > 1 && check_real(a->pos[1])))
		return 2;
	if (!(a->seen & (O_HEALTH | O_ALL_DOWN | O_CLEAR)))
		return usage_error("set-health: give check options, --clear or --all-down");
	req = json_pack("{s:s, s:s}", "verb", "set-health", "vip", a->pos[0]);
	if (a->npos > 1)
		json_object_set_new(req, "real", json_string(a->pos[1]));
	if (add_health(a, req)) {
		json_decref(req);
		return 2;
	}
	return simple(a, req);
}

static void print_json(json_t *o);

/* "3.2 s ago" style age of a change, from since_change_ms. */
static const char *age_str(long long ms, char *buf, size_t len)
{
	if (ms < 10000)
		snprintf(buf, len, "%lld ms", ms);
	else if (ms < 3600 * 1000LL)
		snprintf(buf, len, "%lld s", ms / 1000);
	else
		snprintf(buf, len, "%lld h", ms / 3600000);
	return buf;
}

static int do_health(struct args *a)
{
	json_t *req = json_pack("{s:s}", "verb", "health"), *resp, *res, *v, *r;
	size_t i, j;

	if (a->npos > 0) {
		if (check_vip(a->pos[0])) {
			json_decref(req);
			return 2;
		}
		json_object_set_new(req, "vip", json_string(a->pos[0]));
	}
	res = call(a, req, &resp);
	if (!res)
		return 1;
	if (a->json) {
		print_json(res);
		json_decref(resp);
		return 0;
	}
	json_array_foreach(json_object_get(res, "vips"), i, v) {
		json_t *chk = json_object_get(v, "check");

		printf("%s  check %s, all down: %s%s (%lld times)\n",
		       json_string_value(json_object_get(v, "vip")),
		       chk ? (json_string_value(json_object_get(chk, "kind")) ?: "tcp") : "none",
		       json_string_value(json_object_get(v, "all_down")) ?: "-",
		       json_is_true(json_object_get(v, "all_reals_down")) ? ", NOW" : "",
		       json_integer_value(json_object_get(v, "all_down_events")));
		printf("  -> %-30s %-6s %-5s %-7s %-5s %-12s %-10s %s\n", "REAL", "WEIGHT", "RING",
		       "HEALTH", "LAST", "LAST-CHANGE", "LATENCY", "LAST-FAILURE");
		json_array_foreach(json_object_get(v, "reals"), j, r) {
			json_t *h = json_object_get(r, "health");
			char age[32], lat[32];

			if (!json_is_object(h)) {
				printf("  -> %-30s %-6lld %-5s %-7s\n",
				       json_string_value(json_object_get(r, "address")),
				       json_integer_value(json_object_get(r, "weight")),
				       json_is_true(json_object_get(r, "in_ring")) ? "yes" : "no",
				       "-");
				continue;
			}
			snprintf(lat, sizeof(lat), "%.3f ms",
				 json_integer_value(json_object_get(h, "latency_us")) / 1000.0);
			printf("  -> %-30s %-6lld %-5s %-7s %-5s %-12s %-10s %s\n",
			       json_string_value(json_object_get(r, "address")),
			       json_integer_value(json_object_get(r, "weight")),
			       json_is_true(json_object_get(r, "in_ring")) ? "yes" : "no",
			       json_string_value(json_object_get(h, "state")),
			       !json_is_true(json_object_get(h, "probed")) ? "-" :
			       json_is_true(json_object_get(h, "last_ok")) ? "ok" : "fail",
			       age_str(json_integer_value(json_object_get(h, "since_change_ms")),
				       age, sizeof(age)),
			       json_is_true(json_object_get(h, "probed")) ? lat : "-",
			       *(json_string_value(json_object_get(h, "last_reason")) ?: "") ?
			       json_string_value(json_object_get(h, "last_reason")) : "-");
		}
	}
	json_decref(resp);
	return 0;
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
	printf("  -> %-35s %-7s %-11s %-6s %-18s %s\n", "REAL", "WEIGHT", "STATE", "INDEX",
	       "NEXT-HOP", "HEALTH");
	json_array_foreach(json_object_get(res, "vips"), i, v) {
		printf("%-40s %-13s %-6s %lld\n", json_string_value(json_object_get(v, "vip")),
		       json_string_value(json_object_get(v, "hash")),
		       json_string_value(json_object_get(v, "encap")),
		       json_integer_value(json_object_get(v, "ring_size")));
		json_array_foreach(json_object_get(v, "reals"), j, r) {
			const char *st = json_string_value(json_object_get(r, "state"));
			const char *mac = json_string_value(json_object_get(r, "next_hop_mac"));

			const char *hs = json_string_value(json_object_get(r, "health"));

			printf("  -> %-35s %-7lld %-11s %-6lld %-18s %s\n",
			       json_string_value(json_object_get(r, "address")),
			       json_integer_value(json_object_get(r, "weight")), st ? st : "-",
			       json_integer_value(json_object_get(r, "index")), mac ? mac : "-",
			       hs ? hs : "-");
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
	{ "add-vip", do_add_vip, 1, O_HASH | O_ENCAP | O_RING | O_HEALTH | O_ALL_DOWN,
	  "add-vip VIP [--hash 5tuple|src-ip|src-ip-dport] [--encap ipip|gue] [--ring-size M]\n"
	  "          [CHECK] [--all-down fail_open|drop]",
	  "add a VIP (ADDR:PORT/PROTO or [V6ADDR]:PORT/PROTO; port 0 = every port)" },
	{ "del-vip", do_del_vip, 1, 0, "del-vip VIP", "remove a VIP and its reals" },
	{ "add-real", do_add_real, 2, O_WEIGHT, "add-real VIP REAL [--weight W]",
	  "add a real server (IPv4 or IPv6 address), weight 0..1000, default 1" },
	{ "del-real", do_del_real, 2, 0, "del-real VIP REAL", "remove a real server" },
	{ "set-weight", do_set_weight, 3, 0, "set-weight VIP REAL W",
	  "change a weight; 0 drains (no new flows, existing flows stay)" },
	{ "set-health", do_set_health, 1, O_HEALTH | O_ALL_DOWN | O_CLEAR,
	  "set-health VIP [REAL] [CHECK | --clear] [--all-down fail_open|drop]",
	  "set (replace) or --clear the health check of a VIP, or a real's override of it;\n"
	  "      --all-down: what the VIP does when every real is down", 1 },
	{ "health", do_health, 0, O_JSON, "health [-j] [VIP]",
	  "each real's health: state, last result, last change, latency, last failure", 1 },
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
	printf("\nCHECK (health check options; README \"Health checks\"):\n"
	       "  --health tcp|http|https|udp|none  kind (a VIP without a check is not probed)\n"
	       "  --health-port N       port to probe (default: the VIP's; required for port 0)\n"
	       "  --health-path P       HTTP(S) path (default /)\n"
	       "  --health-host H       HTTP Host header / TLS name\n"
	       "  --health-expect L     accepted HTTP statuses, e.g. 200-299,302 (default 200-399)\n"
	       "  --health-address A    probe this address instead of the real's\n"
	       "  --health-source A     source address of probes\n"
	       "  --health-payload S, --health-reply S   UDP datagram, exact reply expected\n"
	       "  --interval-ms N --timeout-ms N --rise N --fall N --hold-down-ms N\n"
	       "  --init up|down        state before the first probes (default up)\n"
	       "  --through-vip         tcp: probe through the VIP (SYN in IPIP, IPv4) instead of\n"
	       "                        straight to the real\n");
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

/*
 * Options other than the health check's: the field of struct args they fill
 * (a string when they take a value, else a bool set to true) and the O_* bit
 * that verbs accept them by (0: every verb).
 */
static const struct opt {
	const char *flag, *alias;
	size_t field;
	bool has_value;
	unsigned int bit;
} opts[] = {
	{ "--socket", NULL, offsetof(struct args, socket), true, 0 },
	{ "--hash", NULL, offsetof(struct args, hash), true, O_HASH },
	{ "--encap", NULL, offsetof(struct args, encap), true, O_ENCAP },
	{ "--ring-size", NULL, offsetof(struct args, ring), true, O_RING },
	{ "--weight", NULL, offsetof(struct args, weight), true, O_WEIGHT },
	{ "-f", "--file", offsetof(struct args, file), true, O_FILE },
	{ "--all-down", NULL, offsetof(struct args, all_down), true, O_ALL_DOWN },
	{ "--through-vip", NULL, offsetof(struct args, through_vip), false, O_HEALTH },
	{ "--clear", NULL, offsetof(struct args, clear), false, O_CLEAR },
	{ "-j", "--json", offsetof(struct args, json), false, O_JSON },
	{ "--watch", NULL, offsetof(struct args, watch), false, O_WATCH },
	{ "--detach", NULL, offsetof(struct args, detach), false, O_DETACH },
};

static const struct opt *find_opt(const char *s)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strcmp(opts[i].flag, s) || (opts[i].alias && !strcmp(opts[i].alias, s)))
			return &opts[i];
	return NULL;
}

/* Index of s in hopts, NHOPTS when it is not a health option. */
static size_t find_hopt(const char *s)
{
	size_t h = 0;

	while (h < NHOPTS && strcmp(hopts[h].flag, s))
		h++;
	return h;
}

int main(int argc, char **argv)
{
	struct args a = { .socket = XLB_API_SOCKET };
	const struct verb *v = NULL;
	const char *verb_name = NULL;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const struct opt *o = find_opt(s);
		size_t h = find_hopt(s);

		if (o) {
			if (o->has_value && i + 1 >= argc)
				return usage_error("%s needs a value", s);
			if (o->has_value)
				*(const char **)((char *)&a + o->field) = argv[++i];
			else
				*(bool *)((char *)&a + o->field) = true;
			a.seen |= o->bit;
		} else if (h < NHOPTS) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", s);
			a.hval[h] = argv[++i];
			a.seen |= O_HEALTH;
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
	if (a.npos < v->npos || a.npos > v->npos + v->npos_opt) {
		if (v->npos_opt)
			return usage_error("%s takes %d to %d arguments: usage: xlbctl %s", v->name,
					   v->npos, v->npos + v->npos_opt, v->usage);
		return usage_error("%s takes %d argument%s: usage: xlbctl %s", v->name, v->npos,
				   v->npos == 1 ? "" : "s", v->usage);
	}
	return v->fn(&a);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the desired-state model (user/lib/state.c): the JSON format
 * round trip, one case per validation error (each message must name the
 * offending key or value), the edits used by the control API, and the
 * atomicity of saving (a failed save leaves the old file intact and no
 * temp file behind).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>

#include "addr.h"
#include "health_json.h"
#include "state.h"
#include "../lib/test.h"

static const char *full_json =
	"{\"settings\":{\"src_v4\":\"198.18.1.1\",\"src_v6\":\"2001:db8::1:1\",\"gue_port\":6081,"
	"\"hash_seed\":7,\"mtu\":1600,\"flow_table_size\":4096},"
	"\"vips\":[{\"vip\":\"198.18.10.1:80/tcp\",\"hash\":\"src-ip\",\"encap\":\"gue\","
	"\"ring_size\":251,\"reals\":[{\"address\":\"198.18.2.2\",\"weight\":5},"
	"{\"address\":\"198.18.2.1\",\"weight\":0},{\"address\":\"2001:db8::2:1\"}]},"
	"{\"vip\":\"[2001:db8:10::1]:0/udp\"}]}";

static int parse(struct xlb_state *st, const char *text, char *err, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);
	int ret;

	if (!root) {
		snprintf(err, len, "json: %s", jerr.text);
		return -EBADMSG;
	}
	ret = xlb_state__from_json(st, root, err, len);
	json_decref(root);
	return ret;
}

static void test_round_trip(void)
{
	struct xlb_state a, b;
	char err[256] = "", *t1, *t2;
	json_t *j;

	if (!ASSERT_OK(parse(&a, full_json, err, sizeof(err)), err))
		return;
	ASSERT_EQ(a.nvips, 2, "nvips");
	ASSERT_EQ(a.settings.gue_port, 6081, "gue_port");
	ASSERT_EQ(a.settings.hash_seed, 7, "hash_seed");
	ASSERT_EQ(a.settings.flow_table_size, 4096, "flow_table_size");
	ASSERT_TRUE(a.settings.has_src_v4 && a.settings.has_src_v6, "sources set");
	/* Sorted: IPv4 VIP first; reals by address, so 198.18.2.1 first. */
	ASSERT_EQ(a.vips[0].nreals, 3, "reals");
	ASSERT_EQ(a.vips[0].reals[0].weight, 0, "sorted reals, drained first");
	ASSERT_EQ(a.vips[0].reals[2].weight, 1, "default weight");
	ASSERT_EQ(a.vips[0].hash_mode, XLB_HASH_SRC_IP, "hash");
	ASSERT_EQ(a.vips[0].encap, XLB_ENCAP_GUE, "encap");
	ASSERT_EQ(a.vips[1].ring_size, XLB_RING_SIZE_DEFAULT, "default ring size");

	j = xlb_state__to_json(&a);
	t1 = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ASSERT_OK(xlb_state__from_json(&b, j, err, sizeof(err)), err);
	json_decref(j);
	ASSERT_TRUE(xlb_state__equal(&a, &b), "parse(dump(x)) == x");
	j = xlb_state__to_json(&b);
	t2 = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	ASSERT_STR_EQ(t2, t1, "dump is stable");
	free(t1);
	free(t2);
	xlb_state__free(&a);
	xlb_state__free(&b);
}

static void test_empty_defaults(void)
{
	struct xlb_state st;
	char err[256] = "";

	if (!ASSERT_OK(parse(&st, "{}", err, sizeof(err)), err))
		return;
	ASSERT_EQ(st.nvips, 0, "no VIPs");
	ASSERT_EQ(st.settings.gue_port, XLB_GUE_PORT_DEFAULT, "default gue_port");
	ASSERT_EQ(st.settings.flow_table_size, XLB_MAX_FLOWS, "default flow table");
	ASSERT_TRUE(!st.settings.has_src_v4 && !st.settings.has_src_v6, "sources from iface");
	xlb_state__free(&st);
}

/* Each input must fail, and the message must contain the given words. */
static const struct {
	const char *name, *json, *expect;
} bad[] = {
	{ "not an object", "[]", "must be a JSON object" },
	{ "unknown top key", "{\"vip\":[]}", "unknown key \"vip\"" },
	{ "unknown settings key", "{\"settings\":{\"mtuu\":1}}", "unknown key \"mtuu\"" },
	{ "settings not object", "{\"settings\":3}", "settings: must be an object" },
	{ "bad src_v4", "{\"settings\":{\"src_v4\":\"2001:db8::1\"}}", "src_v4" },
	{ "bad src_v6", "{\"settings\":{\"src_v6\":\"198.18.0.1\"}}", "src_v6" },
	{ "src_v4 not string", "{\"settings\":{\"src_v4\":1}}", "\"src_v4\" must be a string" },
	{ "gue_port 0", "{\"settings\":{\"gue_port\":0}}", "gue_port" },
	{ "gue_port big", "{\"settings\":{\"gue_port\":70000}}", "gue_port" },
	{ "hash_seed negative", "{\"settings\":{\"hash_seed\":-1}}", "hash_seed" },
	{ "mtu small", "{\"settings\":{\"mtu\":100}}", "mtu" },
	{ "flow table small", "{\"settings\":{\"flow_table_size\":10}}", "flow_table_size" },
	{ "flow table big", "{\"settings\":{\"flow_table_size\":999999999}}", "flow_table_size" },
	{ "vips not array", "{\"vips\":{}}", "\"vips\" must be an array" },
	{ "vip not object", "{\"vips\":[1]}", "vips[0]: must be an object" },
	{ "vip missing", "{\"vips\":[{}]}", "missing \"vip\"" },
	{ "vip malformed", "{\"vips\":[{\"vip\":\"198.18.0.1:80\"}]}", "198.18.0.1:80" },
	{ "vip v6 no brackets", "{\"vips\":[{\"vip\":\"2001:db8::1:80/tcp\"}]}", "brackets" },
	{ "vip bad proto", "{\"vips\":[{\"vip\":\"198.18.0.1:80/sctp\"}]}", "sctp" },
	{ "vip unknown key", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"weight\":1}]}",
	  "VIP 198.18.0.1:80/tcp: unknown key \"weight\"" },
	{ "bad hash", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"hash\":\"rr\"}]}",
	  "unknown hash \"rr\"" },
	{ "bad encap", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"encap\":\"gre\"}]}",
	  "unknown encap \"gre\"" },
	{ "ring not prime", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"ring_size\":1000}]}",
	  "ring size 1000 is not one of" },
	{ "ring not number", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"ring_size\":\"x\"}]}",
	  "ring_size" },
	{ "duplicate VIP", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\"},{\"vip\":\"198.18.0.1:80/tcp\"}]}",
	  "VIP 198.18.0.1:80/tcp listed twice" },
	{ "reals not array", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"reals\":{}}]}",
	  "\"reals\" must be an array" },
	{ "real missing address", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"reals\":[{}]}]}",
	  "real #1: missing \"address\"" },
	{ "real bad address", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"reals\":[{\"address\":\"198.18.300.1\"}]}]}",
	  "198.18.300.1" },
	{ "real unknown key", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"reals\":[{\"address\":\"198.18.2.1\",\"port\":80}]}]}",
	  "unknown key \"port\"" },
	{ "weight too big", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"reals\":[{\"address\":\"198.18.2.1\",\"weight\":1001}]}]}",
	  "weight 1001 out of range 0..1000" },
	{ "weight negative", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"reals\":[{\"address\":\"198.18.2.1\",\"weight\":-1}]}]}",
	  "weight" },
	{ "duplicate real", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"reals\":[{\"address\":\"198.18.2.1\"},{\"address\":\"198.18.2.1\"}]}]}",
	  "real 198.18.2.1 listed twice" },
	{ "health unknown key", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"health\":{\"knd\":\"tcp\"}}]}",
	  "VIP 198.18.0.1:80/tcp: health: unknown key \"knd\"" },
	{ "real health bad value", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"reals\":[{\"address\":\"198.18.2.1\",\"health\":{\"rise\":0}}]}]}",
	  "real 198.18.2.1: health: \"rise\"" },
	{ "health on port-less VIP without port", "{\"vips\":[{\"vip\":\"198.18.0.1:0/tcp\",\"health\":{\"kind\":\"tcp\"},\"reals\":[{\"address\":\"198.18.2.1\"}]}]}",
	  "real 198.18.2.1: health: the VIP has no port" },
	{ "through_vip on an IPv6 VIP", "{\"vips\":[{\"vip\":\"[2001:db8:10::1]:80/tcp\",\"health\":{\"through_vip\":true},\"reals\":[{\"address\":\"2001:db8::2:1\"}]}]}",
	  "\"through_vip\" needs a tcp check of an IPv4 VIP on an IPv4 real" },
	{ "through_vip with http", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"health\":{\"kind\":\"http\",\"through_vip\":true},\"reals\":[{\"address\":\"198.18.2.1\"}]}]}",
	  "\"through_vip\" needs a tcp check" },
	{ "all_down unknown", "{\"vips\":[{\"vip\":\"198.18.0.1:80/tcp\",\"all_down\":\"open\"}]}",
	  "unknown all_down \"open\": use fail_open or drop" },
};

static void test_validation_errors(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xlb_state st;
		char err[256] = "";
		int ret;

		xlbt_case_begin("invalid: %s", bad[i].name);
		ret = parse(&st, bad[i].json, err, sizeof(err));
		if (!ASSERT_NEQ(ret, 0, bad[i].name)) {
			xlb_state__free(&st);
			continue;
		}
		if (!strstr(err, bad[i].expect))
			xlbt_fail(__FILE__, __LINE__, "%s: message \"%s\" lacks \"%s\"", bad[i].name,
				  err, bad[i].expect);
		ASSERT_TRUE(!strchr(err, '\n'), "one line");
	}
}

static struct xlb_vip_key vip(const char *s)
{
	struct xlb_vip_key k;

	xlb_vip_parse(s, &k, NULL, 0);
	return k;
}

static void test_edits(void)
{
	struct xlb_vip_cfg v = { .ring_size = 251 };
	struct xlb_real_cfg r = { .weight = 3 };
	struct xlb_state st;
	struct xlb_vip_key k = vip("198.18.10.1:80/tcp");
	char err[256];

	xlb_state__init(&st);
	v.key = k;
	ASSERT_OK(xlb_state__add_vip(&st, &v, err, sizeof(err)), "add-vip");
	ASSERT_EQ(xlb_state__add_vip(&st, &v, err, sizeof(err)), -EEXIST, "duplicate VIP");
	ASSERT_TRUE(strstr(err, "already exists") != NULL, err);
	v.key = vip("198.18.10.2:80/tcp");
	v.ring_size = 1000;
	ASSERT_EQ(xlb_state__add_vip(&st, &v, err, sizeof(err)), -EINVAL, "bad ring size");
	ASSERT_EQ(st.nvips, 1, "nothing added");

	xlb_addr_parse("198.18.2.1", XLB_AF_NONE, &r.addr, &r.family, NULL, 0);
	ASSERT_OK(xlb_state__add_real(&st, &k, &r, err, sizeof(err)), "add-real");
	ASSERT_EQ(xlb_state__add_real(&st, &k, &r, err, sizeof(err)), -EEXIST, "duplicate real");
	ASSERT_TRUE(strstr(err, "already has real 198.18.2.1") != NULL, err);
	r.weight = 1001;
	xlb_addr_parse("198.18.2.2", XLB_AF_NONE, &r.addr, &r.family, NULL, 0);
	ASSERT_EQ(xlb_state__add_real(&st, &k, &r, err, sizeof(err)), -EINVAL, "weight range");
	ASSERT_EQ(st.vips[0].nreals, 1, "nothing added");
	v.key = vip("198.18.10.9:80/tcp");
	ASSERT_EQ(xlb_state__add_real(&st, &v.key, &r, err, sizeof(err)), -ENOENT, "unknown VIP");
	ASSERT_TRUE(strstr(err, "198.18.10.9:80/tcp does not exist") != NULL, err);

	xlb_addr_parse("198.18.2.1", XLB_AF_NONE, &r.addr, &r.family, NULL, 0);
	ASSERT_OK(xlb_state__set_weight(&st, &k, &r.addr, r.family, 0, err, sizeof(err)), "drain");
	ASSERT_EQ(st.vips[0].reals[0].weight, 0, "drained");
	ASSERT_EQ(xlb_state__set_weight(&st, &k, &r.addr, r.family, 1001, err, sizeof(err)),
		  -EINVAL, "set-weight range");
	ASSERT_EQ(st.vips[0].reals[0].weight, 0, "unchanged");
	xlb_addr_parse("198.18.2.7", XLB_AF_NONE, &r.addr, &r.family, NULL, 0);
	ASSERT_EQ(xlb_state__del_real(&st, &k, &r.addr, r.family, err, sizeof(err)), -ENOENT,
		  "unknown real");
	ASSERT_TRUE(strstr(err, "has no real 198.18.2.7") != NULL, err);
	xlb_addr_parse("198.18.2.1", XLB_AF_NONE, &r.addr, &r.family, NULL, 0);
	ASSERT_OK(xlb_state__del_real(&st, &k, &r.addr, r.family, err, sizeof(err)), "del-real");
	ASSERT_OK(xlb_state__del_vip(&st, &k, err, sizeof(err)), "del-vip");
	ASSERT_EQ(xlb_state__del_vip(&st, &k, err, sizeof(err)), -ENOENT, "del-vip twice");
	ASSERT_EQ(st.nvips, 0, "empty again");
	xlb_state__free(&st);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_atomic_save(void)
{
	char dir[] = "/tmp/xlbt-state.XXXXXX", path[128], err[256] = "";
	struct xlb_state a, b, c;
	char *before, *after;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/state.json", dir);
	ASSERT_OK(parse(&a, full_json, err, sizeof(err)), err);
	ASSERT_OK(xlb_state__save(&a, path, err, sizeof(err)), err);
	ASSERT_OK(xlb_state__load(&b, path, err, sizeof(err)), err);
	ASSERT_TRUE(xlb_state__equal(&a, &b), "load(save(x)) == x");
	before = slurp(path);

	/* A failure after the temp file was written: old file intact, no temp left. */
	xlb_state__init(&c);
	xlb_state__save_inject_err = -EIO;
	ASSERT_EQ(xlb_state__save(&c, path, err, sizeof(err)), -EIO, "injected failure");
	xlb_state__save_inject_err = 0;
	after = slurp(path);
	ASSERT_STR_EQ(after, before, "old file intact after a failed save");
	ASSERT_EQ(count_entries(dir), 1, "no temp file left");
	free(after);

	/*
	 * A read-only directory. Root bypasses modes, so the save runs in a
	 * child that drops to uid 65534 first.
	 */
	chmod(dir, 0555);
	{
		pid_t pid = fork();
		int status = 0;

		if (pid == 0) {
			if (geteuid() == 0 && setresuid(65534, 65534, 65534))
				_exit(3);
			_exit(xlb_state__save(&c, path, err, sizeof(err)) == -EACCES ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			    "save into a read-only dir fails with -EACCES");
		after = slurp(path);
		ASSERT_STR_EQ(after, before, "old file intact in a read-only dir");
		ASSERT_EQ(count_entries(dir), 1, "no temp file left");
		free(after);
	}
	chmod(dir, 0755);

	/* A missing file is -ENOENT; a corrupt one names file, line and column. */
	ASSERT_EQ(xlb_state__load(&b, "/nonexistent/xlb/state.json", err, sizeof(err)),
		  -ENOENT, "missing file");
	{
		FILE *f = fopen(path, "w");

		fputs("{\"vips\": [\n  {\"vip\": }\n]}\n", f);
		fclose(f);
	}
	xlb_state__free(&b);
	ASSERT_EQ(xlb_state__load(&b, path, err, sizeof(err)), -EINVAL, "corrupt file");
	ASSERT_TRUE(strstr(err, "state.json:2:") != NULL, err);

	free(before);
	xlb_state__free(&a);
	xlb_state__free(&c);
	unlink(path);
	rmdir(dir);
}

static void test_parse_u32(void)
{
	__u32 v;

	ASSERT_OK(xlb_parse_u32("65537", &v), "65537");
	ASSERT_EQ(v, 65537, "value");
	ASSERT_EQ(xlb_parse_u32("", &v), -EINVAL, "empty");
	ASSERT_EQ(xlb_parse_u32("-1", &v), -EINVAL, "sign");
	ASSERT_EQ(xlb_parse_u32("12x", &v), -EINVAL, "junk");
	ASSERT_EQ(xlb_parse_u32("4294967296", &v), -EINVAL, "overflow");
}

/* "health" and "all_down": parsed, dumped back as given, copied, compared, edited. */
static void test_health(void)
{
	static const char *text =
		"{\"vips\":[{\"vip\":\"198.18.10.1:0/tcp\",\"all_down\":\"drop\","
		"\"health\":{\"kind\":\"http\",\"port\":80,\"path\":\"/h\",\"interval_ms\":200},"
		"\"reals\":[{\"address\":\"198.18.2.1\"},{\"address\":\"198.18.2.2\","
		"\"health\":{\"kind\":\"tcp\",\"port\":8080}}]}]}";
	struct xlb_state a, b, c;
	struct xlb_health_target_cfg tc;
	struct xlb_vip_key k = vip("198.18.10.1:0/tcp");
	char err[256] = "", *t1;
	union xlb_addr ra;
	__u8 fam;
	json_t *j;

	if (!ASSERT_OK(parse(&a, text, err, sizeof(err)), err))
		return;
	ASSERT_EQ(a.vips[0].all_down, XLB_ALL_DOWN_DROP, "all_down");
	ASSERT_TRUE(a.vips[0].health && !a.vips[0].reals[0].health && a.vips[0].reals[1].health,
		    "specs where given");
	ASSERT_OK(xlb_real_cfg__health_target(&a.vips[0], &a.vips[0].reals[1], &tc, err,
					      sizeof(err)), err);
	ASSERT_EQ(tc.kind, XLB_HEALTH_TCP, "override kind");
	ASSERT_EQ(ntohs(((struct sockaddr_in *)&tc.addr)->sin_port), 8080, "override port");
	ASSERT_EQ(tc.interval_ms, 200, "VIP's interval kept");
	ASSERT_TRUE(!tc.through_vip, "direct by default");
	{
		static const char *tv = "{\"vips\":[{\"vip\":\"198.18.10.2:80/tcp\","
			"\"health\":{\"through_vip\":true},\"reals\":[{\"address\":\"198.18.2.1\"}]}]}";
		struct xlb_state t;

		if (ASSERT_OK(parse(&t, tv, err, sizeof(err)), err)) {
			ASSERT_OK(xlb_real_cfg__health_target(&t.vips[0], &t.vips[0].reals[0], &tc,
							      err, sizeof(err)), err);
			ASSERT_TRUE(tc.through_vip && tc.vip.ss_family == AF_INET &&
				    ((struct sockaddr_in *)&tc.vip)->sin_addr.s_addr ==
				    t.vips[0].key.addr.v4, "through_vip: the VIP's address filled in");
			xlb_state__free(&t);
		}
	}
	j = xlb_state__to_json(&a);
	t1 = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	ASSERT_TRUE(strstr(t1, "\"all_down\":\"drop\"") && strstr(t1, "\"port\":8080") &&
		    !strstr(t1, "\"rise\""), "dump has what was given, no more");
	if (ASSERT_OK(parse(&b, t1, err, sizeof(err)), err)) {
		ASSERT_TRUE(xlb_state__equal(&a, &b), "parse(dump(x)) == x");
		xlb_state__free(&b);
	}
	ASSERT_OK(xlb_state__copy(&c, &a), "copy");
	ASSERT_TRUE(xlb_state__equal(&a, &c), "copy equal");
	/* Remove the real's override; the VIP's http check then applies to it. */
	xlb_addr_parse("198.18.2.2", XLB_AF_NONE, &ra, &fam, NULL, 0);
	ASSERT_OK(xlb_state__set_health(&c, &k, &ra, fam, NULL, -1, err, sizeof(err)), err);
	ASSERT_TRUE(!c.vips[0].reals[1].health && !xlb_state__equal(&a, &c), "override removed");
	/* Removing the VIP's spec of a port-less VIP is fine; a bad one is refused whole. */
	ASSERT_OK(xlb_state__set_health(&c, &k, NULL, 0, NULL, XLB_ALL_DOWN_FAIL_OPEN, err,
					sizeof(err)), err);
	ASSERT_TRUE(!c.vips[0].health && c.vips[0].all_down == XLB_ALL_DOWN_FAIL_OPEN,
		    "VIP spec removed, policy set");
	{
		struct xlb_health_spec sp = {};
		json_t *o = json_loads("{\"kind\":\"udp\"}", 0, NULL);

		ASSERT_OK(xlb_health_spec__from_json(&sp, o, err, sizeof(err)), err);
		ASSERT_EQ(xlb_state__set_health(&c, &k, NULL, 0, &sp, -1, err, sizeof(err)),
			  -EINVAL, "port-less VIP, no port: refused");
		ASSERT_TRUE(strstr(err, "no port") != NULL, "message says why");
		ASSERT_TRUE(!c.vips[0].health, "nothing changed");
		xlb_health_spec__free(&sp);
		json_decref(o);
	}
	free(t1);
	xlb_state__free(&a);
	xlb_state__free(&c);
}

int main(void)
{
	XLBT_RUN(test_round_trip);
	XLBT_RUN(test_empty_defaults);
	test_validation_errors();
	XLBT_RUN(test_edits);
	XLBT_RUN(test_atomic_save);
	XLBT_RUN(test_parse_u32);
	XLBT_RUN(test_health);
	return xlbt_finish("unit/state");
}

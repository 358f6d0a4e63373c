// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of user/lib/addr.c: tables of good inputs (parsed fields, exact
 * canonical text after a round trip) and bad inputs (-EINVAL, *out left
 * untouched, and the part of the message that names the mistake).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "../lib/test.h"

/* The input as a case name: at most 40 characters, control characters as '?'. */
static const char *show(const char *s)
{
	static char buf[41];
	size_t i;

	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/* ---- VIPs ---- */

static const struct {
	const char *in;
	const char *canon;		/* formatted back; NULL = same as in */
	__u8 family;
	__u16 port;			/* host order */
	__u8 proto;
	const char *addr;		/* address as inet_pton input */
} vip_good[] = {
	{ "198.18.0.10:80/tcp", NULL, 4, 80, IPPROTO_TCP, "198.18.0.10" },
	{ "198.18.0.10:53/udp", NULL, 4, 53, IPPROTO_UDP, "198.18.0.10" },
	{ "198.18.0.10:0/tcp", NULL, 4, 0, IPPROTO_TCP, "198.18.0.10" },
	{ "198.19.255.255:65535/udp", NULL, 4, 65535, IPPROTO_UDP, "198.19.255.255" },
	{ "0.0.0.0:1/tcp", NULL, 4, 1, IPPROTO_TCP, "0.0.0.0" },
	{ "[2001:db8::10]:443/udp", NULL, 6, 443, IPPROTO_UDP, "2001:db8::10" },
	{ "[2001:db8::10]:0/tcp", NULL, 6, 0, IPPROTO_TCP, "2001:db8::10" },
	{ "[::1]:8080/tcp", NULL, 6, 8080, IPPROTO_TCP, "::1" },
	{ "[2001:db8:1:2:3:4:5:6]:80/tcp", NULL, 6, 80, IPPROTO_TCP, "2001:db8:1:2:3:4:5:6" },
	{ "[::ffff:198.18.0.1]:80/tcp", NULL, 6, 80, IPPROTO_TCP, "::ffff:198.18.0.1" },
	/* accepted, printed in the canonical form (RFC 5952) */
	{ "[2001:DB8:0:0:0:0:0:10]:443/udp", "[2001:db8::10]:443/udp", 6, 443, IPPROTO_UDP,
	  "2001:db8::10" },
	{ "[2001:0db8::0010]:80/tcp", "[2001:db8::10]:80/tcp", 6, 80, IPPROTO_TCP,
	  "2001:db8::10" },
};

static const struct {
	const char *in;
	const char *msg;		/* must appear in the error message */
} vip_bad[] = {
	{ "", "empty" },
	{ "198.18.0.10", "missing \":PORT\"" },
	{ "198.18.0.10/tcp", "missing \":PORT\"" },
	{ "198.18.0.10:/tcp", "missing port number" },
	{ "198.18.0.10:80", "missing \"/PROTO\"" },
	{ "198.18.0.10:80/", "missing protocol" },
	{ "198.18.0.10:65536/tcp", "port 65536 out of range" },
	{ "198.18.0.10:99999/tcp", "port 99999 out of range" },
	{ "198.18.0.10:1000000/tcp", "out of range" },
	{ "198.18.0.10:080/tcp", "leading zero" },
	{ "198.18.0.10:-1/tcp", "missing port number" },
	{ "198.18.0.10:+80/tcp", "missing port number" },
	{ "198.18.0.10:0x50/tcp", "unexpected 'x'" },
	{ "198.18.0.10:80/sctp", "unknown protocol \"sctp\"" },
	{ "198.18.0.10:80/TCP", "unknown protocol \"TCP\"" },
	{ "198.18.0.10:80/icmp", "accepted: tcp, udp" },
	{ "198.18.0.10:80/tcpx", "trailing characters \"x\"" },
	{ "198.18.0.10:80/tcp/", "trailing characters \"/\"" },
	{ "198.18.0.10:80:81/tcp", "unexpected ':'" },
	{ "198.18.0.10:80/tcp ", "blank or control character at position 19" },
	{ " 198.18.0.10:80/tcp", "blank or control character at position 1" },
	{ "198.18.0.10:80/tcp\n", "blank or control" },
	{ "198.18.0.256:80/tcp", "\"198.18.0.256\" is not an IPv4 address" },
	{ "198.18.0:80/tcp", "is not an IPv4 address" },
	{ "198.018.0.10:80/tcp", "is not an IPv4 address" },
	{ "example.com:80/tcp", "\"example.com\" is not an IPv4 address" },
	{ "garbage", "\"garbage\" is not an IPv4 address" },
	{ ":80/tcp", "missing address" },
	{ "2001:db8::10:443/udp", "needs brackets: [2001:db8::10]:443/udp" },
	{ "2001:db8::10", "needs brackets" },
	{ "::1", "needs brackets" },
	{ "[2001:db8::10:443/udp", "missing ']'" },
	{ "[]:80/tcp", "empty address in brackets" },
	{ "[198.18.0.10]:80/tcp", "brackets are for IPv6 addresses only" },
	{ "[2001:db8::g]:80/tcp", "\"2001:db8::g\" is not an IPv6 address" },
	{ "[fe80::1%eth0]:80/tcp", "is not an IPv6 address" },
	{ "[2001:db8::10]443/udp", "missing \":PORT\"" },
	{ "[2001:db8::10]", "missing \":PORT\"" },
	{ "[2001:db8::10]:443", "missing \"/PROTO\"" },
	{ "[2001:db8::10]:70000/udp", "port 70000 out of range" },
	{ "198.18.0.10:80/tcp198.18.0.10:80/tcp198.18.0.10:80/tcp198.18.0.10:80/tcp",
	  "too long (at most 63 characters" },
};

static void test_vip_good(void)
{
	char err[XLB_ERR_LEN], out[XLB_VIP_STRLEN];

	for (size_t i = 0; i < sizeof(vip_good) / sizeof(vip_good[0]); i++) {
		struct xlb_vip_key k, want;
		int ret;

		xlbt_case_begin("vip good \"%s\"", vip_good[i].in);
		memset(&k, 0xee, sizeof(k));
		memset(&want, 0, sizeof(want));
		inet_pton(vip_good[i].family == 4 ? AF_INET : AF_INET6, vip_good[i].addr,
			  want.addr.bytes);
		want.port = htons(vip_good[i].port);
		want.proto = vip_good[i].proto;
		want.family = vip_good[i].family;

		err[0] = '\0';
		ret = xlb_vip_parse(vip_good[i].in, &k, err, sizeof(err));
		if (!ASSERT_OK(ret, "parse")) {
			printf("    message: %s\n", err);
			continue;
		}
		/* every byte, padding included: the key goes to a BPF hash map */
		ASSERT_MEM_EQ(&k, sizeof(k), &want, sizeof(want), "key bytes");
		ASSERT_OK(xlb_vip_format(&k, out, sizeof(out)), "format");
		ASSERT_STR_EQ(out, vip_good[i].canon ? vip_good[i].canon : vip_good[i].in,
			      "formatted");
		ASSERT_STR_EQ(xlb_vip_str(&k, out), vip_good[i].canon ? vip_good[i].canon :
			      vip_good[i].in, "xlb_vip_str");
	}
}

static void test_vip_bad(void)
{
	char err[XLB_ERR_LEN];

	for (size_t i = 0; i < sizeof(vip_bad) / sizeof(vip_bad[0]); i++) {
		struct xlb_vip_key k, orig;
		int ret;

		xlbt_case_begin("vip bad \"%s\"", show(vip_bad[i].in));
		memset(&k, 0xee, sizeof(k));
		orig = k;
		strcpy(err, "unset");
		ret = xlb_vip_parse(vip_bad[i].in, &k, err, sizeof(err));
		ASSERT_EQ(ret, -EINVAL, "parse result");
		ASSERT_MEM_EQ(&k, sizeof(k), &orig, sizeof(orig), "out untouched");
		if (!ASSERT_TRUE(strstr(err, vip_bad[i].msg) != NULL, "message names the mistake"))
			printf("    message: %s\n    wanted:  ...%s...\n", err, vip_bad[i].msg);
		ASSERT_TRUE(!strncmp(err, "invalid VIP \"", 13), "message names the input");
		ASSERT_TRUE(strchr(err, '\n') == NULL, "one line");
	}
	xlbt_case_begin("vip bad: messages");
	xlb_vip_parse("198.18.0.10:80/sctp", NULL, err, sizeof(err));
	printf("    e.g. %s\n", err);
	xlb_vip_parse("2001:db8::10:443/udp", NULL, err, sizeof(err));
	printf("    e.g. %s\n", err);
	xlb_vip_parse("198.18.0.10", NULL, err, sizeof(err));
	printf("    e.g. %s\n", err);
	/* NULL input and NULL/short error buffers are fine */
	ASSERT_EQ(xlb_vip_parse(NULL, NULL, err, sizeof(err)), -EINVAL, "NULL input");
	ASSERT_EQ(xlb_vip_parse("x", NULL, NULL, 0), -EINVAL, "NULL err");
	ASSERT_EQ(xlb_vip_parse("198.18.0.10:80", NULL, err, 8), -EINVAL, "short err");
	ASSERT_EQ(strlen(err), 7, "message truncated to the buffer");
}

/* ---- bare addresses ---- */

static const struct {
	const char *in;
	__u8 want_family;		/* restriction passed in */
	const char *canon;		/* NULL = same as in */
	__u8 family;
} addr_good[] = {
	{ "198.18.0.10", 0, NULL, 4 },
	{ "198.18.0.10", 4, NULL, 4 },
	{ "255.255.255.255", 0, NULL, 4 },
	{ "2001:db8::10", 0, NULL, 6 },
	{ "2001:db8::10", 6, NULL, 6 },
	{ "::", 0, NULL, 6 },
	{ "::ffff:198.18.0.1", 6, NULL, 6 },
	{ "2001:DB8::A", 0, "2001:db8::a", 6 },
	{ "2001:db8:0:0:1:0:0:1", 0, "2001:db8::1:0:0:1", 6 },
};

static const struct {
	const char *in;
	__u8 want_family;
	const char *msg;
} addr_bad[] = {
	{ "", 0, "empty" },
	{ "198.18.0.10", 6, "is an IPv4 address; expected an IPv6 address" },
	{ "2001:db8::10", 4, "is an IPv6 address; expected an IPv4 address" },
	{ "198.18.0.10:80", 0, "expected a bare address" },
	{ "198.18.0.10:80/tcp", 0, "expected a bare address" },
	{ "198.18.0.0/15", 0, "expected a bare address" },
	{ "[2001:db8::10]", 0, "expected a bare address" },
	{ "198.18.0.1.2", 0, "not an IPv4 or IPv6 address" },
	{ "198.18.0.010", 0, "not an IPv4 or IPv6 address" },
	{ "1.2.3", 0, "not an IPv4 or IPv6 address" },
	{ "2001:db8:::1", 0, "not an IPv4 or IPv6 address" },
	{ "fe80::1%eth0", 6, "not an IPv6 address" },
	{ "localhost", 4, "not an IPv4 address" },
	{ "198.18.0.10 ", 0, "blank or control character" },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd", 0, "too long" },
};

static void test_addr_good(void)
{
	char err[XLB_ERR_LEN], out[XLB_ADDR_STRLEN];

	for (size_t i = 0; i < sizeof(addr_good) / sizeof(addr_good[0]); i++) {
		union xlb_addr a, want;
		__u8 fam = 0xee;

		xlbt_case_begin("addr good \"%s\" (family %u)", addr_good[i].in,
				addr_good[i].want_family);
		memset(&a, 0xee, sizeof(a));
		memset(&want, 0, sizeof(want));
		inet_pton(addr_good[i].family == 4 ? AF_INET : AF_INET6, addr_good[i].in,
			  want.bytes);
		if (!ASSERT_OK(xlb_addr_parse(addr_good[i].in, addr_good[i].want_family, &a, &fam,
					      err, sizeof(err)), "parse")) {
			printf("    message: %s\n", err);
			continue;
		}
		ASSERT_EQ(fam, addr_good[i].family, "family");
		ASSERT_MEM_EQ(&a, sizeof(a), &want, sizeof(want), "address bytes (zero-filled)");
		ASSERT_OK(xlb_addr_format(&a, fam, out, sizeof(out)), "format");
		ASSERT_STR_EQ(out, addr_good[i].canon ? addr_good[i].canon : addr_good[i].in,
			      "formatted");
		ASSERT_OK(xlb_addr_parse(out, 0, &a, NULL, err, sizeof(err)),
			  "reparse, NULL family_out");
		ASSERT_MEM_EQ(&a, sizeof(a), &want, sizeof(want), "round trip");
	}
}

static void test_addr_bad(void)
{
	char err[XLB_ERR_LEN];

	for (size_t i = 0; i < sizeof(addr_bad) / sizeof(addr_bad[0]); i++) {
		union xlb_addr a, orig;
		__u8 fam = 0xee;

		xlbt_case_begin("addr bad \"%s\" (family %u)", show(addr_bad[i].in),
				addr_bad[i].want_family);
		memset(&a, 0xee, sizeof(a));
		orig = a;
		strcpy(err, "unset");
		ASSERT_EQ(xlb_addr_parse(addr_bad[i].in, addr_bad[i].want_family, &a, &fam, err,
					 sizeof(err)), -EINVAL, "parse result");
		ASSERT_MEM_EQ(&a, sizeof(a), &orig, sizeof(orig), "out untouched");
		ASSERT_EQ(fam, 0xee, "family untouched");
		if (!ASSERT_TRUE(strstr(err, addr_bad[i].msg) != NULL, "message names the mistake"))
			printf("    message: %s\n    wanted:  ...%s...\n", err, addr_bad[i].msg);
		ASSERT_TRUE(!strncmp(err, "invalid address \"", 17), "message names the input");
	}
	xlbt_case_begin("addr bad: messages");
	xlb_addr_parse("198.18.0.10:80", 0, NULL, NULL, err, sizeof(err));
	printf("    e.g. %s\n", err);
	xlb_addr_parse("2001:db8::10", XLB_AF_INET, NULL, NULL, err, sizeof(err));
	printf("    e.g. %s\n", err);
	ASSERT_EQ(xlb_addr_parse("198.18.0.10", 5, NULL, NULL, err, sizeof(err)), -EINVAL,
		  "bad family restriction");
}

static void test_format_errors(void)
{
	struct xlb_vip_key k;
	union xlb_addr a;
	char buf[XLB_VIP_STRLEN];

	memset(&k, 0, sizeof(k));
	memset(&a, 0, sizeof(a));
	k.family = XLB_AF_INET;
	k.proto = IPPROTO_ICMP;
	ASSERT_EQ(xlb_vip_format(&k, buf, sizeof(buf)), -EINVAL, "unknown proto");
	ASSERT_STR_EQ(xlb_vip_str(&k, buf), "?", "vip_str of a bad key");
	k.proto = IPPROTO_TCP;
	k.family = 0;
	ASSERT_EQ(xlb_vip_format(&k, buf, sizeof(buf)), -EINVAL, "no family");
	ASSERT_EQ(xlb_addr_format(&a, 5, buf, sizeof(buf)), -EINVAL, "bad family");
	ASSERT_STR_EQ(xlb_addr_str(&a, 5, buf), "?", "addr_str of a bad family");

	/* the longest VIP fits XLB_VIP_STRLEN; a short buffer gives -ENOSPC */
	ASSERT_OK(xlb_vip_parse("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535/udp", &k, NULL,
				0), "parse longest");
	ASSERT_OK(xlb_vip_format(&k, buf, sizeof(buf)), "format longest");
	ASSERT_EQ(xlb_vip_format(&k, buf, 20), -ENOSPC, "short buffer");
	ASSERT_EQ(xlb_addr_format(&k.addr, XLB_AF_INET6, buf, 10), -ENOSPC, "short addr buffer");

	ASSERT_EQ(xlb_proto_parse("tcp"), IPPROTO_TCP, "tcp");
	ASSERT_EQ(xlb_proto_parse("udp"), IPPROTO_UDP, "udp");
	ASSERT_EQ(xlb_proto_parse("sctp"), -EINVAL, "sctp");
	ASSERT_EQ(xlb_proto_parse(NULL), -EINVAL, "NULL");
	ASSERT_STR_EQ(xlb_proto_name(IPPROTO_UDP), "udp", "name udp");
	ASSERT_TRUE(xlb_proto_name(0) == NULL, "name 0");
}

int main(void)
{
	test_vip_good();
	test_vip_bad();
	test_addr_good();
	test_addr_bad();
	XLBT_RUN(test_format_errors);
	return xlbt_finish("unit/addr");
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parsing and formatting of addresses and VIPs, see addr.h. The address
 * itself goes through inet_pton (which refuses IPv4 octets with leading
 * zeros, zone ids and anything non-numeric); the rest (brackets, port,
 * protocol) is parsed here by hand so that each mistake gets its own message.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

#define VIP_FORMS "ADDR:PORT/PROTO or [IPV6]:PORT/PROTO, e.g. 198.18.0.10:80/tcp or " \
		  "[2001:db8::10]:443/udp"

/* Writes 'invalid WHAT "INPUT": MESSAGE' into err, the input made printable and cut short. */
static int __attribute__((format(printf, 5, 6)))
fail(char *err, size_t errlen, const char *what, const char *s, const char *fmt, ...)
{
	char shown[48 + 4];
	size_t i, o = 0;
	va_list ap;
	int n;

	if (!err || !errlen)
		return -EINVAL;
	for (i = 0; s[i] && o < 48; i++)
		shown[o++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i])
		o += (size_t)snprintf(shown + o, sizeof(shown) - o, "...");
	shown[o] = '\0';

	n = snprintf(err, errlen, "invalid %s \"%s\": ", what, shown);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Common checks: present, not empty, not overlong, only printable non-blank characters. */
static int check_text(const char *s, const char *what, const char *forms, char *err,
		      size_t errlen)
{
	size_t len;

	if (!s)
		return fail(err, errlen, what, "", "no input (expected %s)", forms);
	len = strnlen(s, XLB_ADDR_INPUT_MAX + 1);
	if (!len)
		return fail(err, errlen, what, s, "empty (expected %s)", forms);
	if (len > XLB_ADDR_INPUT_MAX)
		return fail(err, errlen, what, s, "too long (at most %d characters; expected %s)",
			    XLB_ADDR_INPUT_MAX, forms);
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)s[i]))
			return fail(err, errlen, what, s,
				    "contains a blank or control character at position %zu "
				    "(expected %s)", i + 1, forms);
	return 0;
}

static int pton(const char *s, size_t len, int af, union xlb_addr *out)
{
	char buf[XLB_ADDR_INPUT_MAX + 1];

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	return inet_pton(af, buf, af == AF_INET ? (void *)&out->v4 : (void *)out->bytes) == 1;
}

int xlb_addr_parse(const char *s, __u8 family, union xlb_addr *out, __u8 *family_out,
		   char *err, size_t errlen)
{
	const char *forms = family == XLB_AF_INET ? "an IPv4 address, e.g. 198.18.0.10" :
			    family == XLB_AF_INET6 ? "an IPv6 address, e.g. 2001:db8::10" :
			    "an IPv4 or IPv6 address, e.g. 198.18.0.10 or 2001:db8::10";
	union xlb_addr a;
	__u8 got;
	int err_;

	if (family != XLB_AF_NONE && family != XLB_AF_INET && family != XLB_AF_INET6)
		return fail(err, errlen, "address", s ? s : "", "internal: bad family %u", family);
	err_ = check_text(s, "address", forms, err, errlen);
	if (err_)
		return err_;

	if (pton(s, strlen(s), AF_INET, &a)) {
		got = XLB_AF_INET;
	} else if (pton(s, strlen(s), AF_INET6, &a)) {
		got = XLB_AF_INET6;
	} else if (s[0] == '[' || strchr(s, '/') ||
		   (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':') && strchr(s, '.'))) {
		return fail(err, errlen, "address", s,
			    "expected a bare address, without brackets, port, protocol or "
			    "prefix length: %s", forms);
	} else {
		return fail(err, errlen, "address", s, "not %s", forms);
	}

	if (family != XLB_AF_NONE && got != family)
		return fail(err, errlen, "address", s, "is an IPv%u address; expected %s",
			    got, forms);
	*out = a;
	if (family_out)
		*family_out = got;
	return 0;
}

int xlb_addr_format(const union xlb_addr *addr, __u8 family, char *buf, size_t len)
{
	char tmp[XLB_ADDR_STRLEN];
	const char *r;

	if (!addr || !buf)
		return -EINVAL;
	if (family == XLB_AF_INET)
		r = inet_ntop(AF_INET, &addr->v4, tmp, sizeof(tmp));
	else if (family == XLB_AF_INET6)
		r = inet_ntop(AF_INET6, addr->bytes, tmp, sizeof(tmp));
	else
		return -EINVAL;
	if (!r)
		return -EINVAL;
	if (strlen(tmp) >= len)
		return -ENOSPC;
	memcpy(buf, tmp, strlen(tmp) + 1);
	return 0;
}

const char *xlb_addr_str(const union xlb_addr *addr, __u8 family, char buf[XLB_ADDR_STRLEN])
{
	if (xlb_addr_format(addr, family, buf, XLB_ADDR_STRLEN))
		return "?";
	return buf;
}

int xlb_proto_parse(const char *s)
{
	if (s && !strcmp(s, "tcp"))
		return IPPROTO_TCP;
	if (s && !strcmp(s, "udp"))
		return IPPROTO_UDP;
	return -EINVAL;
}

const char *xlb_proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	default:
		return NULL;
	}
}

/* ":PORT/PROTO" at p (after the address) -> port (host order) and proto. */
static int parse_port_proto(const char *s, const char *p, __u16 *port, __u8 *proto,
			    char *err, size_t errlen)
{
	const char *q;
	unsigned long v = 0;
	size_t nd;
	char pbuf[8];
	int pr;

	if (*p != ':')
		return fail(err, errlen, "VIP", s, "missing \":PORT\" after the address "
			    "(PORT 0-65535, 0 = every port; expected %s)", VIP_FORMS);
	p++;
	for (q = p; isdigit((unsigned char)*q); q++)
		;
	nd = (size_t)(q - p);
	if (!nd)
		return fail(err, errlen, "VIP", s, "missing port number after ':' "
			    "(a decimal number 0-65535, 0 = every port; expected %s)", VIP_FORMS);
	if (nd > 1 && *p == '0')
		return fail(err, errlen, "VIP", s, "port has a leading zero "
			    "(write it in decimal without leading zeros, 0-65535)");
	if (nd > 5)
		return fail(err, errlen, "VIP", s, "port out of range (0-65535, 0 = every port)");
	for (const char *d = p; d < q; d++)
		v = v * 10 + (unsigned long)(*d - '0');
	if (v > 65535)
		return fail(err, errlen, "VIP", s,
			    "port %lu out of range (0-65535, 0 = every port)", v);

	if (*q != '/') {
		if (!*q)
			return fail(err, errlen, "VIP", s, "missing \"/PROTO\" after the port "
				    "(PROTO is tcp or udp; expected %s)", VIP_FORMS);
		return fail(err, errlen, "VIP", s, "unexpected '%c' after the port "
			    "(expected /tcp or /udp; expected %s)", *q, VIP_FORMS);
	}
	q++;
	if (!*q)
		return fail(err, errlen, "VIP", s, "missing protocol after '/' (tcp or udp)");
	if (strlen(q) >= sizeof(pbuf) || (pr = xlb_proto_parse(q)) < 0) {
		if (!strncmp(q, "tcp", 3) || !strncmp(q, "udp", 3))
			return fail(err, errlen, "VIP", s, "trailing characters \"%s\" after the "
				    "protocol (expected %s)", q + 3, VIP_FORMS);
		return fail(err, errlen, "VIP", s, "unknown protocol \"%.16s\" "
			    "(accepted: tcp, udp, in lower case)", q);
	}
	*port = (__u16)v;
	*proto = (__u8)pr;
	return 0;
}

int xlb_vip_parse(const char *s, struct xlb_vip_key *out, char *err, size_t errlen)
{
	struct xlb_vip_key k;
	const char *end, *p;
	__u16 port = 0;
	__u8 proto = 0;
	int ret;

	ret = check_text(s, "VIP", VIP_FORMS, err, errlen);
	if (ret)
		return ret;
	memset(&k, 0, sizeof(k));

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end)
			return fail(err, errlen, "VIP", s, "missing ']' after the IPv6 address "
				    "(expected %s)", VIP_FORMS);
		if (end == s + 1)
			return fail(err, errlen, "VIP", s, "empty address in brackets "
				    "(expected %s)", VIP_FORMS);
		if (!pton(s + 1, (size_t)(end - s - 1), AF_INET6, &k.addr)) {
			if (pton(s + 1, (size_t)(end - s - 1), AF_INET, &k.addr))
				return fail(err, errlen, "VIP", s,
					    "brackets are for IPv6 addresses only; write an IPv4 "
					    "VIP as ADDR:PORT/PROTO, e.g. 198.18.0.10:80/tcp");
			return fail(err, errlen, "VIP", s, "\"%.*s\" is not an IPv6 address "
				    "(expected %s)", (int)(end - s - 1), s + 1, VIP_FORMS);
		}
		k.family = XLB_AF_INET6;
		p = end + 1;
	} else {
		size_t colons = 0;

		/*
		 * The address ends at the first ':' or '/'; two ':' after
		 * something that is not an IPv4 address mean unbracketed IPv6.
		 */
		end = s + strcspn(s, ":/");
		for (p = s; *p && *p != '/'; p++)
			colons += *p == ':';
		if (colons >= 2 && !pton(s, (size_t)(end - s), AF_INET, &k.addr)) {
			const char *last = s, *slash = strchr(s, '/');
			size_t alen;

			for (p = s; *p && p != slash; p++)
				if (*p == ':')
					last = p;
			/* Suggest the bracketed form of what they probably meant. */
			alen = (size_t)(last - s);
			if (pton(s, alen, AF_INET6, &k.addr) && slash)
				return fail(err, errlen, "VIP", s,
					    "an IPv6 address needs brackets: [%.*s]%s",
					    (int)alen, s, last);
			return fail(err, errlen, "VIP", s, "an IPv6 address needs brackets "
				    "(expected %s)", VIP_FORMS);
		}
		if (end == s)
			return fail(err, errlen, "VIP", s, "missing address (expected %s)",
				    VIP_FORMS);
		if (!pton(s, (size_t)(end - s), AF_INET, &k.addr))
			return fail(err, errlen, "VIP", s, "\"%.*s\" is not an IPv4 address "
				    "(expected %s)", (int)(end - s), s, VIP_FORMS);
		k.family = XLB_AF_INET;
		p = end;
	}

	ret = parse_port_proto(s, p, &port, &proto, err, errlen);
	if (ret)
		return ret;
	k.port = htons(port);
	k.proto = proto;
	*out = k;
	return 0;
}

int xlb_vip_format(const struct xlb_vip_key *key, char *buf, size_t len)
{
	char a[XLB_ADDR_STRLEN];
	const char *proto;
	int n, ret;

	if (!key || !buf)
		return -EINVAL;
	proto = xlb_proto_name(key->proto);
	if (!proto)
		return -EINVAL;
	ret = xlb_addr_format(&key->addr, key->family, a, sizeof(a));
	if (ret)
		return ret;
	n = snprintf(buf, len, key->family == XLB_AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s",
		     a, ntohs(key->port), proto);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}

const char *xlb_vip_str(const struct xlb_vip_key *key, char buf[XLB_VIP_STRLEN])
{
	if (xlb_vip_format(key, buf, XLB_VIP_STRLEN))
		return "?";
	return buf;
}

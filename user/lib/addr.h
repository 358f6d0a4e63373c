/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Addresses and VIPs as operators write them (CLI, config and state files)
 * and as xlb prints them:
 *   address  198.18.0.10             2001:db8::10
 *   VIP      198.18.0.10:80/tcp      [2001:db8::10]:443/udp    (port 0 = every port)
 *
 * Parsers are strict: no whitespace, no trailing characters, IPv6 in VIPs
 * only inside brackets, decimal ports 0-65535 without leading zeros,
 * protocols "tcp" or "udp" in lower case, at most XLB_ADDR_INPUT_MAX
 * characters. Formatting gives the canonical form (RFC 5952 for IPv6), so a
 * canonical string survives parse + format unchanged.
 *
 * Parsers return 0 or -EINVAL; on -EINVAL they write a one-line message into
 * err (when err is not NULL and errlen > 0) naming the input, what was wrong
 * and what is accepted, e.g.
 *   invalid VIP "2001:db8::1:80/tcp": an IPv6 address needs brackets: [2001:db8::1]:80/tcp
 * and leave *out untouched.
 */
#ifndef XLB_ADDR_H
#define XLB_ADDR_H

#include <stddef.h>
#include <xlb/abi.h>

#define XLB_ADDR_STRLEN 46		/* buffer for a formatted address, NUL included */
#define XLB_VIP_STRLEN 64		/* buffer for a formatted VIP, NUL included */
#define XLB_ADDR_INPUT_MAX 63		/* longer inputs are rejected without parsing */
#define XLB_ERR_LEN 192			/* a comfortable size for err buffers */

/*
 * "198.18.0.10" or "2001:db8::10" -> *out (zero-filled, network order) and
 * *family_out (may be NULL). family is XLB_AF_NONE to accept either, or
 * XLB_AF_INET / XLB_AF_INET6 to accept only that one.
 */
int xlb_addr_parse(const char *s, __u8 family, union xlb_addr *out, __u8 *family_out,
		   char *err, size_t errlen);

/* Canonical text of an address. Returns 0, -EINVAL (bad family) or -ENOSPC. */
int xlb_addr_format(const union xlb_addr *addr, __u8 family, char *buf, size_t len);

/*
 * "198.18.0.10:80/tcp" or "[2001:db8::10]:443/udp" -> *out with padding
 * zeroed, port in network order, proto IPPROTO_TCP/IPPROTO_UDP and family.
 */
int xlb_vip_parse(const char *s, struct xlb_vip_key *out, char *err, size_t errlen);

/* Canonical text of a VIP. Returns 0, -EINVAL (bad family/proto) or -ENOSPC. */
int xlb_vip_format(const struct xlb_vip_key *key, char *buf, size_t len);

/* For printf: the formatted text in buf, or "?" when it cannot be formatted. */
const char *xlb_addr_str(const union xlb_addr *addr, __u8 family, char buf[XLB_ADDR_STRLEN]);
const char *xlb_vip_str(const struct xlb_vip_key *key, char buf[XLB_VIP_STRLEN]);

/* "tcp" -> IPPROTO_TCP, "udp" -> IPPROTO_UDP, else -EINVAL. */
int xlb_proto_parse(const char *s);
/* IPPROTO_TCP -> "tcp", IPPROTO_UDP -> "udp", else NULL. */
const char *xlb_proto_name(__u8 proto);

#endif /* XLB_ADDR_H */

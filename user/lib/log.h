/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging for every xlb tool: pr_warn / pr_info / pr_debug, to stderr, with
 * the level raised by -v. libbpf's own messages are forwarded one level
 * lower than they come (libbpf's warnings are our info), so -v shows them.
 */
#ifndef XLB_LOG_H
#define XLB_LOG_H

#include <stddef.h>

enum xlb_log_level {
	XLB_LOG_WARN = 0,
	XLB_LOG_INFO = 1,
	XLB_LOG_DEBUG = 2,
};

void xlb_log_set_level(enum xlb_log_level level);
enum xlb_log_level xlb_log_get_level(void);
/* Prefix each line with the program name (default "xlb"). */
void xlb_log_set_ident(const char *ident);
/* Route libbpf's (and libxdp's) messages through xlb's log. */
void xlb_log_hook_libbpf(void);
void xlb_log(enum xlb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Format an error for a caller's (err, errlen) buffer and return ret, so a
 * check reads "return xlb_errf(err, errlen, -EINVAL, ...)". err may be NULL.
 */
int xlb_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define pr_warn(fmt, ...) xlb_log(XLB_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) xlb_log(XLB_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) xlb_log(XLB_LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif /* XLB_LOG_H */

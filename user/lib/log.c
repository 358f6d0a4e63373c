// SPDX-License-Identifier: GPL-2.0-only
/* Logging: see log.h. */
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static enum xlb_log_level log_level = XLB_LOG_INFO;
static const char *log_ident = "xlb";

void xlb_log_set_level(enum xlb_log_level level)
{
	log_level = level;
}

enum xlb_log_level xlb_log_get_level(void)
{
	return log_level;
}

void xlb_log_set_ident(const char *ident)
{
	log_ident = ident;
}

static void vlog(enum xlb_log_level level, const char *fmt, va_list ap)
{
	static const char *const tag[] = { "warning: ", "", "debug: " };

	if (level > log_level)
		return;
	fprintf(stderr, "%s: %s", log_ident, tag[level]);
	vfprintf(stderr, fmt, ap);
}

void xlb_log(enum xlb_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/* libbpf warnings -> info, info -> debug, debug -> dropped. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	vlog(level == LIBBPF_WARN ? XLB_LOG_INFO : XLB_LOG_DEBUG, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBXDP_DEBUG)
		return 0;
	vlog(level == LIBXDP_WARN ? XLB_LOG_INFO : XLB_LOG_DEBUG, fmt, ap);
	return 0;
}

void xlb_log_hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

int xlb_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

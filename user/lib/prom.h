/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A writer for the Prometheus text exposition format, version 0.0.4, into a
 * growable buffer. One family is opened with its HELP and TYPE lines, then
 * its samples follow:
 *
 *   struct xlb_prom p;
 *   xlb_prom__init(&p);
 *   xlb_prom__family(&p, "xlb_vip_packets_total", XLB_PROM_COUNTER, "packets forwarded");
 *   struct xlb_prom_label l[] = { { "vip", "198.18.0.10:80/tcp" } };
 *   xlb_prom__sample_u64(&p, "xlb_vip_packets_total", l, 1, 42);
 *   if (p.err) ...; use p.buf / p.len; xlb_prom__free(&p);
 *
 * Errors are sticky (p.err, -ENOMEM): writing goes on as a no-op after the
 * first failure and the caller checks once at the end, as seq_file does.
 * Every writer also returns p.err so that either style reads naturally.
 *
 * Label values are escaped as the format asks (backslash, double quote and
 * line feed become \\, \" and \n); HELP text escapes backslash and line
 * feed. Metric and label names are the caller's: they must match
 * [a-zA-Z_:][a-zA-Z0-9_:]* (xlb only passes constants).
 *
 * For big families (one sample per real) the label set can be escaped once
 * into a string (xlb_prom__labels_fmt) and reused with xlb_prom__sample_raw,
 * which then costs two memcpy and one integer conversion per line.
 */
#ifndef XLB_PROM_H
#define XLB_PROM_H

#include <stddef.h>
#include <linux/types.h>

/* Content-Type of a scrape in this format. */
#define XLB_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum xlb_prom_type {
	XLB_PROM_COUNTER,
	XLB_PROM_GAUGE,
	XLB_PROM_HISTOGRAM,
	XLB_PROM_UNTYPED,
};

struct xlb_prom {
	char *buf;			/* text, not NUL-terminated beyond len (see __cstr) */
	size_t len;			/* bytes written */
	size_t cap;			/* bytes allocated */
	int err;			/* first error (-ENOMEM), sticky; 0 = fine */
};

struct xlb_prom_label {
	const char *name;		/* label name, not escaped */
	const char *value;		/* label value, escaped by the writer */
};

void xlb_prom__init(struct xlb_prom *p);
/* Forget the text and the error, keep the memory. */
void xlb_prom__reset(struct xlb_prom *p);
void xlb_prom__free(struct xlb_prom *p);
/* Makes room for extra more bytes; returns p->err. */
int xlb_prom__reserve(struct xlb_prom *p, size_t extra);
/* NUL-terminates the text (not counted in len) and returns it; NULL on error. */
const char *xlb_prom__cstr(struct xlb_prom *p);
/* Hands the buffer to the caller (free() it) and leaves p empty; NULL on error. */
char *xlb_prom__steal(struct xlb_prom *p, size_t *len);

/* Raw appends. */
int xlb_prom__put(struct xlb_prom *p, const char *s, size_t n);
int xlb_prom__puts(struct xlb_prom *p, const char *s);
int xlb_prom__printf(struct xlb_prom *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends v escaped for a label value (\\, \", \n). */
int xlb_prom__escape_label(struct xlb_prom *p, const char *v);

/* "# HELP name help\n# TYPE name type\n". */
int xlb_prom__family(struct xlb_prom *p, const char *name, enum xlb_prom_type type,
		     const char *help);

/* name{l1="v1",...} value\n; no braces when n == 0. */
int xlb_prom__sample_u64(struct xlb_prom *p, const char *name, const struct xlb_prom_label *labels,
			 unsigned int n, __u64 v);
int xlb_prom__sample_f64(struct xlb_prom *p, const char *name, const struct xlb_prom_label *labels,
			 unsigned int n, double v);

/*
 * Pre-escaped label sets. xlb_prom__labels_fmt writes `l1="v1",l2="v2"`
 * (escaped, no braces) into scratch p (reset first) so that the string can be
 * kept; xlb_prom__sample_raw writes name{labels} v\n (labels may be empty).
 */
int xlb_prom__labels_fmt(struct xlb_prom *scratch, const struct xlb_prom_label *labels,
			 unsigned int n);
int xlb_prom__sample_raw(struct xlb_prom *p, const char *name, size_t name_len,
			 const char *labels, size_t labels_len, __u64 v);
int xlb_prom__sample_raw_f64(struct xlb_prom *p, const char *name, size_t name_len,
			     const char *labels, size_t labels_len, double v);

/*
 * A histogram's samples (the family line is the caller's): name_bucket with
 * an le label per bound, cumulative, then le="+Inf", name_sum, name_count.
 * counts[i] is the number of observations in (bounds[i-1], bounds[i]]
 * (not cumulative); counts[nb] holds those above the last bound.
 */
int xlb_prom__histogram(struct xlb_prom *p, const char *name, const struct xlb_prom_label *labels,
			unsigned int n, const double *bounds, const __u64 *counts, unsigned int nb,
			double sum);

/* Formats a float the way Prometheus reads it back exactly (NaN, +Inf, shortest %g). */
int xlb_prom_fmt_f64(char *buf, size_t len, double v);
/* Decimal digits of v into buf (at least 21 bytes); returns the length, no NUL. */
size_t xlb_prom_fmt_u64(char *buf, __u64 v);

#endif /* XLB_PROM_H */

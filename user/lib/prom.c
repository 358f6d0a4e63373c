// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prometheus text exposition format 0.0.4 writer: see prom.h. The hot path
 * (one line per real and family, hundreds of thousands per scrape) avoids
 * stdio: labels are escaped once, integers are converted by hand.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

void xlb_prom__init(struct xlb_prom *p)
{
	p->buf = NULL;
	p->len = 0;
	p->cap = 0;
	p->err = 0;
}

void xlb_prom__reset(struct xlb_prom *p)
{
	p->len = 0;
	p->err = 0;
}

void xlb_prom__free(struct xlb_prom *p)
{
	free(p->buf);
	xlb_prom__init(p);
}

int xlb_prom__reserve(struct xlb_prom *p, size_t extra)
{
	size_t want, cap;
	char *nb;

	if (p->err)
		return p->err;
	/* + 1 keeps room for the NUL of __cstr */
	want = p->len + extra + 1;
	if (want <= p->cap)
		return 0;
	cap = p->cap ? p->cap : 4096;
	while (cap < want)
		cap *= 2;
	nb = realloc(p->buf, cap);
	if (!nb) {
		p->err = -ENOMEM;
		return p->err;
	}
	p->buf = nb;
	p->cap = cap;
	return 0;
}

const char *xlb_prom__cstr(struct xlb_prom *p)
{
	if (xlb_prom__reserve(p, 0))
		return NULL;
	p->buf[p->len] = '\0';
	return p->buf;
}

char *xlb_prom__steal(struct xlb_prom *p, size_t *len)
{
	char *b;

	if (!xlb_prom__cstr(p))
		return NULL;
	b = p->buf;
	*len = p->len;
	xlb_prom__init(p);
	return b;
}

int xlb_prom__put(struct xlb_prom *p, const char *s, size_t n)
{
	if (xlb_prom__reserve(p, n))
		return p->err;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	return 0;
}

int xlb_prom__puts(struct xlb_prom *p, const char *s)
{
	return xlb_prom__put(p, s, strlen(s));
}

int xlb_prom__printf(struct xlb_prom *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err)
		return p->err;
	va_start(ap, fmt);
	n = vsnprintf(p->buf ? p->buf + p->len : NULL, p->buf ? p->cap - p->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return p->err = -EINVAL;
	if (!p->buf || (size_t)n >= p->cap - p->len) {
		if (xlb_prom__reserve(p, n))
			return p->err;
		va_start(ap, fmt);
		vsnprintf(p->buf + p->len, p->cap - p->len, fmt, ap);
		va_end(ap);
	}
	p->len += n;
	return 0;
}

/* Escapes v; quote says whether '"' is escaped too (label values, not HELP). */
static int put_escaped(struct xlb_prom *p, const char *v, int quote)
{
	const char *s = v;

	for (; *s; s++) {
		const char *rep = NULL;

		if (*s == '\\')
			rep = "\\\\";
		else if (*s == '\n')
			rep = "\\n";
		else if (quote && *s == '"')
			rep = "\\\"";
		if (!rep)
			continue;
		xlb_prom__put(p, v, s - v);
		xlb_prom__put(p, rep, 2);
		v = s + 1;
	}
	return xlb_prom__put(p, v, s - v);
}

int xlb_prom__escape_label(struct xlb_prom *p, const char *v)
{
	return put_escaped(p, v ? v : "", 1);
}

static const char *type_name(enum xlb_prom_type type)
{
	switch (type) {
	case XLB_PROM_COUNTER:
		return "counter";
	case XLB_PROM_GAUGE:
		return "gauge";
	case XLB_PROM_HISTOGRAM:
		return "histogram";
	default:
		return "untyped";
	}
}

int xlb_prom__family(struct xlb_prom *p, const char *name, enum xlb_prom_type type,
		     const char *help)
{
	xlb_prom__puts(p, "# HELP ");
	xlb_prom__puts(p, name);
	xlb_prom__put(p, " ", 1);
	put_escaped(p, help ? help : "", 0);
	xlb_prom__puts(p, "\n# TYPE ");
	xlb_prom__puts(p, name);
	xlb_prom__put(p, " ", 1);
	xlb_prom__puts(p, type_name(type));
	return xlb_prom__put(p, "\n", 1);
}

size_t xlb_prom_fmt_u64(char *buf, __u64 v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

int xlb_prom_fmt_f64(char *buf, size_t len, double v)
{
	int prec;

	if (isnan(v))
		return snprintf(buf, len, "NaN");
	if (isinf(v))
		return snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	/* integers print as integers; else the shortest text that reads back exactly */
	if (v == (double)(long long)v && fabs(v) < 9007199254740992.0)
		return snprintf(buf, len, "%lld", (long long)v);
	for (prec = 9; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return snprintf(buf, len, "%.*g", prec, v);
}

static void put_labels(struct xlb_prom *p, const struct xlb_prom_label *labels, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (i)
			xlb_prom__put(p, ",", 1);
		xlb_prom__puts(p, labels[i].name);
		xlb_prom__put(p, "=\"", 2);
		xlb_prom__escape_label(p, labels[i].value);
		xlb_prom__put(p, "\"", 1);
	}
}

static int put_value_line(struct xlb_prom *p, const char *v, size_t n)
{
	xlb_prom__put(p, " ", 1);
	xlb_prom__put(p, v, n);
	return xlb_prom__put(p, "\n", 1);
}

static void put_head(struct xlb_prom *p, const char *name, const struct xlb_prom_label *labels,
		     unsigned int n)
{
	xlb_prom__puts(p, name);
	if (n) {
		xlb_prom__put(p, "{", 1);
		put_labels(p, labels, n);
		xlb_prom__put(p, "}", 1);
	}
}

int xlb_prom__sample_u64(struct xlb_prom *p, const char *name, const struct xlb_prom_label *labels,
			 unsigned int n, __u64 v)
{
	char num[24];

	put_head(p, name, labels, n);
	return put_value_line(p, num, xlb_prom_fmt_u64(num, v));
}

int xlb_prom__sample_f64(struct xlb_prom *p, const char *name, const struct xlb_prom_label *labels,
			 unsigned int n, double v)
{
	char num[40];
	int len;

	put_head(p, name, labels, n);
	len = xlb_prom_fmt_f64(num, sizeof(num), v);
	return put_value_line(p, num, len);
}

int xlb_prom__labels_fmt(struct xlb_prom *scratch, const struct xlb_prom_label *labels,
			 unsigned int n)
{
	xlb_prom__reset(scratch);
	put_labels(scratch, labels, n);
	return xlb_prom__cstr(scratch) ? 0 : scratch->err;
}

int xlb_prom__sample_raw(struct xlb_prom *p, const char *name, size_t name_len,
			 const char *labels, size_t labels_len, __u64 v)
{
	char *w;

	/* name + {labels} + ' ' + 20 digits + '\n' */
	if (xlb_prom__reserve(p, name_len + labels_len + 24))
		return p->err;
	w = p->buf + p->len;
	memcpy(w, name, name_len);
	w += name_len;
	if (labels_len) {
		*w++ = '{';
		memcpy(w, labels, labels_len);
		w += labels_len;
		*w++ = '}';
	}
	*w++ = ' ';
	w += xlb_prom_fmt_u64(w, v);
	*w++ = '\n';
	p->len = w - p->buf;
	return 0;
}

int xlb_prom__sample_raw_f64(struct xlb_prom *p, const char *name, size_t name_len,
			     const char *labels, size_t labels_len, double v)
{
	char num[40];
	int len;

	xlb_prom__put(p, name, name_len);
	if (labels_len) {
		xlb_prom__put(p, "{", 1);
		xlb_prom__put(p, labels, labels_len);
		xlb_prom__put(p, "}", 1);
	}
	len = xlb_prom_fmt_f64(num, sizeof(num), v);
	return put_value_line(p, num, len);
}

int xlb_prom__histogram(struct xlb_prom *p, const char *name, const struct xlb_prom_label *labels,
			unsigned int n, const double *bounds, const __u64 *counts, unsigned int nb,
			double sum)
{
	char num[40];
	__u64 cum = 0;
	unsigned int i;
	int len;

	for (i = 0; i <= nb; i++) {
		cum += counts[i];
		xlb_prom__puts(p, name);
		xlb_prom__puts(p, "_bucket{");
		put_labels(p, labels, n);
		xlb_prom__puts(p, n ? ",le=\"" : "le=\"");
		if (i < nb) {
			len = xlb_prom_fmt_f64(num, sizeof(num), bounds[i]);
			xlb_prom__put(p, num, len);
		} else {
			xlb_prom__puts(p, "+Inf");
		}
		xlb_prom__put(p, "\"}", 2);
		put_value_line(p, num, xlb_prom_fmt_u64(num, cum));
	}
	xlb_prom__puts(p, name);
	xlb_prom__puts(p, "_sum");
	if (n) {
		xlb_prom__put(p, "{", 1);
		put_labels(p, labels, n);
		xlb_prom__put(p, "}", 1);
	}
	len = xlb_prom_fmt_f64(num, sizeof(num), sum);
	put_value_line(p, num, len);
	xlb_prom__puts(p, name);
	xlb_prom__puts(p, "_count");
	if (n) {
		xlb_prom__put(p, "{", 1);
		put_labels(p, labels, n);
		xlb_prom__put(p, "}", 1);
	}
	return put_value_line(p, num, xlb_prom_fmt_u64(num, cum));
}

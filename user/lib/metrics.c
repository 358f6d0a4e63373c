// SPDX-License-Identifier: GPL-2.0-only
/*
 * Metrics rendering: reads the balancer's per-CPU counter maps at scrape
 * time, sums them over the possible CPUs and writes every family in the
 * text format, with the daemon's model (VIPs, reals, health, its counters).
 *
 * The counter rows are read by metrics_read.c (batch or per key).
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xlb/abi.h>

#include "log.h"
#include "metrics_priv.h"

#define STAT_NAME(name, help) #name,
#define STAT_HELP(name, help) help,
static const char *const stat_names[] = { XLB_STAT_LIST(STAT_NAME) };
static const char *const stat_help[] = { XLB_STAT_LIST(STAT_HELP) };
static const char *const dstat_names[] = { XLB_DECAP_STAT_LIST(STAT_NAME) };
static const char *const dstat_help[] = { XLB_DECAP_STAT_LIST(STAT_HELP) };
#undef STAT_NAME
#undef STAT_HELP

static const char *const probe_result_names[XLB_PROBE__MAX] = {
	[XLB_PROBE_SUCCESS] = "success",
	[XLB_PROBE_FAILURE] = "failure",
	[XLB_PROBE_TIMEOUT] = "timeout",
	[XLB_PROBE_ERROR] = "error",
};

static const double probe_bounds[XLB_METRICS_PROBE_NBOUNDS] = XLB_METRICS_PROBE_BOUNDS;

/* ---- daemon counters ---- */

enum xlb_probe_result xlb_metrics_probe_result(bool ok, const char *reason)
{
	if (ok)
		return XLB_PROBE_SUCCESS;
	if (reason && !strncmp(reason, "timeout", 7))
		return XLB_PROBE_TIMEOUT;
	return XLB_PROBE_FAILURE;
}

void xlb_metrics_daemon__probe(struct xlb_metrics_daemon *d, enum xlb_probe_result result,
			       double seconds)
{
	unsigned int b;

	if ((unsigned int)result >= XLB_PROBE__MAX)
		result = XLB_PROBE_ERROR;
	d->probes[result]++;
	if (!(seconds >= 0))	/* NaN or negative: clock trouble, count as 0 */
		seconds = 0;
	for (b = 0; b < XLB_METRICS_PROBE_NBOUNDS; b++)
		if (seconds <= probe_bounds[b])
			break;
	d->probe_buckets[b]++;
	d->probe_seconds_sum += seconds;
}

int xlb_metrics_daemon__api(struct xlb_metrics_daemon *d, const char *verb, const char *result)
{
	struct xlb_metrics_api_count *c;
	__u32 i;

	verb = verb ? verb : "";
	result = result ? result : "";
	for (i = 0; i < d->n_api && i < XLB_METRICS_API_SLOTS; i++) {
		c = &d->api[i];
		if (!strncmp(c->verb, verb, sizeof(c->verb) - 1) &&
		    !strncmp(c->result, result, sizeof(c->result) - 1)) {
			c->count++;
			return 0;
		}
	}
	if (d->n_api >= XLB_METRICS_API_SLOTS) {
		d->api_overflow++;
		return -ENOSPC;
	}
	c = &d->api[d->n_api++];
	snprintf(c->verb, sizeof(c->verb), "%s", verb);
	snprintf(c->result, sizeof(c->result), "%s", result);
	c->count = 1;
	return 0;
}

/* ---- setup ---- */

static int map_info(int fd, __u32 *max, char *name, size_t name_len)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err;

	*max = 0;
	name[0] = '\0';
	if (fd < 0)
		return 0;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err) {
		pr_warn("metrics: map fd %d: cannot get info: %s\n", fd, strerror(-err));
		return err;
	}
	*max = info.max_entries;
	snprintf(name, name_len, "%s", info.name);
	return 0;
}

static void free_tables(struct xlb_metrics *m)
{
	free_null(m->stat_sum);
	free_null(m->stat_ok);
	free_null(m->vip_sum);
	free_null(m->vip_ok);
	free_null(m->real_sum);
	free_null(m->real_ok);
	free_null(m->vals);
	free_null(m->keys);
	xlb_metrics_flows_free(m);
}

int xlb_metrics__set_maps(struct xlb_metrics *m, const struct xlb_metrics_maps *maps)
{
	size_t vsz;
	int err;

	free_tables(m);
	m->maps = *maps;
	err = map_info(maps->stats_fd, &m->stats_max, m->stats_name, sizeof(m->stats_name));
	err = err ?: map_info(maps->vip_stats_fd, &m->vip_max, m->vip_name, sizeof(m->vip_name));
	err = err ?: map_info(maps->real_stats_fd, &m->real_max, m->real_name, sizeof(m->real_name));
	err = err ?: map_info(maps->flows_fd, &m->flows_max, m->flows_name, sizeof(m->flows_name));
	if (err)
		return err;

	/* per-CPU values of one chunk, of the largest row (struct xlb_vip_stats) */
	vsz = (size_t)BATCH_CHUNK * m->ncpus * sizeof(struct xlb_vip_stats);
	m->stat_sum = calloc(m->stats_max + 1, sizeof(*m->stat_sum));
	m->stat_ok = calloc(m->stats_max + 1, sizeof(*m->stat_ok));
	m->vip_sum = calloc(m->vip_max + 1, sizeof(*m->vip_sum));
	m->vip_ok = calloc(m->vip_max + 1, sizeof(*m->vip_ok));
	m->real_sum = calloc(m->real_max + 1, sizeof(*m->real_sum));
	m->real_ok = calloc(m->real_max + 1, sizeof(*m->real_ok));
	m->vals = malloc(vsz);
	m->vals_sz = vsz;
	m->keys = calloc(BATCH_CHUNK, sizeof(*m->keys));
	if (!m->stat_sum || !m->stat_ok || !m->vip_sum || !m->vip_ok || !m->real_sum ||
	    !m->real_ok || !m->vals || !m->keys)
		return -ENOMEM;
	return xlb_metrics_flows_init(m);
}

struct xlb_metrics *xlb_metrics__new(const struct xlb_metrics_maps *maps,
				     const struct xlb_metrics_opts *opts)
{
	struct xlb_metrics *m;
	int err;

	m = calloc(1, sizeof(*m));
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	if (opts)
		m->opts = *opts;
	if (!m->opts.flow_window_s)
		m->opts.flow_window_s = XLB_METRICS_FLOW_WINDOW_S;
	if (!m->opts.flow_interval_ms)
		m->opts.flow_interval_ms = XLB_METRICS_FLOW_INTERVAL_MS;
	if (!m->opts.flow_step)
		m->opts.flow_step = XLB_METRICS_FLOW_STEP;
	xlb_prom__init(&m->scratch);
	xlb_prom__init(&m->labels);
	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus <= 0) {
		err = m->ncpus ? m->ncpus : -EINVAL;
		pr_warn("metrics: cannot count possible CPUs: %s\n", strerror(-err));
		goto err_free;
	}
	err = xlb_metrics__set_maps(m, maps);
	if (err)
		goto err_free;
	return m;

err_free:
	xlb_metrics__free(m);
	errno = -err;
	return NULL;
}

void xlb_metrics__free(struct xlb_metrics *m)
{
	if (!m)
		return;
	free_tables(m);
	free(m->idx);
	xlb_prom__free(&m->scratch);
	xlb_prom__free(&m->labels);
	free(m);
}

void xlb_metrics__set_lookup(struct xlb_metrics *m, enum xlb_metrics_lookup lookup)
{
	m->opts.lookup = lookup;
}

double xlb_metrics__render_seconds(const struct xlb_metrics *m)
{
	return m->render_s;
}

/* ---- families ---- */

static void lower(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < len && src[i]; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? src[i] - 'A' + 'a' : src[i];
	dst[i] = '\0';
}

/*
 * Splits a stat name into its verdict family: "DROP_NO_REAL" -> verdict
 * "drop", reason "no_real". Returns false for names that are not a verdict
 * (events such as LRU_HIT). A bare verdict ("TX", decap's "PASS") gets the
 * reason its help text gives.
 */
static bool stat_verdict(const char *name, char *verdict, size_t vlen, char *reason, size_t rlen)
{
	static const char *const verdicts[] = { "TX", "PASS", "DROP", "DECAP" };
	unsigned int i;

	for (i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		size_t l = strlen(verdicts[i]);

		if (strncmp(name, verdicts[i], l) || (name[l] && name[l] != '_'))
			continue;
		lower(verdict, vlen, verdicts[i]);
		if (name[l])
			lower(reason, rlen, name + l + 1);
		else if (!strcmp(name, "TX"))
			snprintf(reason, rlen, "to_real");
		else if (!strcmp(name, "PASS"))
			snprintf(reason, rlen, "not_encap");
		else
			snprintf(reason, rlen, "other");
		return true;
	}
	return false;
}

/*
 * The global counters of one program: <prefix>_rx_packets_total,
 * <prefix>_packets_total{verdict,reason} and
 * <prefix>_datapath_events_total{event}. The mapping is derived from the
 * ABI's names, so a counter added to the list shows up without an edit here.
 */
static void render_stat_list(struct xlb_prom *out, const char *prefix,
			     const char *const *names, const char *const *help, unsigned int n,
			     const __u64 *vals, const bool *ok)
{
	char fam[64], verdict[16], reason[48];
	unsigned int i, pass;

	for (i = 0; i < n; i++) {
		if (!ok[i] || strcmp(names[i], "RX"))
			continue;
		snprintf(fam, sizeof(fam), "%s_rx_packets_total", prefix);
		xlb_prom__family(out, fam, XLB_PROM_COUNTER, help[i]);
		xlb_prom__sample_u64(out, fam, NULL, 0, vals[i]);
	}
	/* pass 0: verdicts, pass 1: events */
	for (pass = 0; pass < 2; pass++) {
		bool opened = false;

		snprintf(fam, sizeof(fam), pass ? "%s_datapath_events_total" : "%s_packets_total",
			 prefix);
		for (i = 0; i < n; i++) {
			struct xlb_prom_label l[2];
			bool is_verdict;

			if (!ok[i] || !strcmp(names[i], "RX"))
				continue;
			is_verdict = stat_verdict(names[i], verdict, sizeof(verdict), reason,
						  sizeof(reason));
			if (is_verdict == !!pass)
				continue;
			if (!opened) {
				xlb_prom__family(out, fam, XLB_PROM_COUNTER, pass ?
						 "Data-path events by kind (flow table, ICMP, encapsulation)" :
						 "Packets by verdict (tx, pass, drop, decap) and reason");
				opened = true;
			}
			if (is_verdict) {
				l[0] = (struct xlb_prom_label){ "verdict", verdict };
				l[1] = (struct xlb_prom_label){ "reason", reason };
				xlb_prom__sample_u64(out, fam, l, 2, vals[i]);
			} else {
				lower(reason, sizeof(reason), names[i]);
				l[0] = (struct xlb_prom_label){ "event", reason };
				xlb_prom__sample_u64(out, fam, l, 1, vals[i]);
			}
		}
	}
}

static int render_globals(struct xlb_metrics *m, struct xlb_prom *out)
{
	unsigned int n = m->stats_max < XLB_STAT__MAX ? m->stats_max : XLB_STAT__MAX;
	unsigned int i;
	int err;

	if (m->maps.stats_fd < 0 || !n)
		return 0;
	err = xlb_metrics_want_idx(m, n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		m->idx[i] = i;
	err = xlb_metrics_read_rows(m, m->maps.stats_fd, 1, m->stats_max, m->idx, n, m->stat_sum,
				    m->stat_ok);
	if (err) {
		pr_warn("metrics: reading %s: %s\n", m->stats_name, strerror(-err));
		return err;
	}
	render_stat_list(out, "xlb", stat_names, stat_help, n, m->stat_sum, m->stat_ok);
	return 0;
}

int xlb_metrics__render_decap(int dstats_fd, struct xlb_prom *out)
{
	__u64 vals[XLB_DECAP_STAT__MAX] = {};
	bool ok[XLB_DECAP_STAT__MAX] = {};
	int ncpus = libbpf_num_possible_cpus();
	__u64 *percpu;
	__u32 k;
	int err = 0;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	percpu = calloc(ncpus, sizeof(__u64));
	if (!percpu)
		return -ENOMEM;
	for (k = 0; k < XLB_DECAP_STAT__MAX; k++) {
		err = bpf_map_lookup_elem(dstats_fd, &k, percpu);
		if (err == -ENOENT) {
			err = 0;
			continue;
		}
		if (err)
			break;
		xlb_metrics_sum_row(&vals[k], percpu, 1, ncpus);
		ok[k] = true;
	}
	free(percpu);
	if (err)
		return err;
	render_stat_list(out, "xlb_decap", dstat_names, dstat_help, XLB_DECAP_STAT__MAX, vals, ok);
	return out->err;
}

/* Prints seconds with nanosecond resolution, no stdio (one line per real). */
static size_t fmt_seconds_ns(char *buf, double s)
{
	__u64 ns, ip, frac;
	size_t n;
	int d;

	if (!(s >= 0) || s > 1e9)
		return xlb_prom_fmt_f64(buf, 40, s);
	ns = (__u64)llround(s * 1e9);
	ip = ns / 1000000000ULL;
	frac = ns % 1000000000ULL;
	n = xlb_prom_fmt_u64(buf, ip);
	if (!frac)
		return n;
	buf[n++] = '.';
	for (d = 8; d >= 0; d--) {
		buf[n + d] = '0' + frac % 10;
		frac /= 10;
	}
	n += 9;
	while (buf[n - 1] == '0')
		n--;
	return n;
}

/* One per-VIP family from the summed rows. */
static void vip_family(struct xlb_metrics *m, struct xlb_prom *out,
		       const struct xlb_metrics_model *model, const size_t *lab, const char *name,
		       enum xlb_prom_type type, const char *help, int field)
{
	size_t nl = strlen(name);
	__u32 i;

	xlb_prom__family(out, name, type, help);
	for (i = 0; i < model->n_vips; i++) {
		const struct xlb_metrics_vip *v = &model->vips[i];
		const char *ls = m->labels.buf + lab[i];
		size_t ll = lab[i + 1] - lab[i];
		__u64 val;

		if (field < 4 && (v->index >= m->vip_max || !m->vip_ok[v->index]))
			continue;
		switch (field) {
		case 0:
			val = m->vip_sum[v->index].packets;
			break;
		case 1:
			val = m->vip_sum[v->index].bytes;
			break;
		case 2:
			val = m->vip_sum[v->index].new_flows;
			break;
		case 4:
			if (!m->flow_sample_ns || v->index >= m->vip_max)
				continue;
			val = m->active[v->index];
			break;
		case 5:
			val = v->n_reals;
			break;
		default: {
			__u32 r, up = 0;

			for (r = 0; r < v->n_reals; r++)
				up += v->reals[r].up;
			val = up;
			break;
		}
		}
		xlb_prom__sample_raw(out, name, nl, ls, ll, val);
	}
}

/*
 * xlb_vip_drops_total{vip,reason}: one sample per reason field of struct
 * xlb_vip_stats (their sum is its drops).
 */
static void vip_drops_family(struct xlb_metrics *m, struct xlb_prom *out,
			     const struct xlb_metrics_model *model, const size_t *lab)
{
	static const struct {
		const char *label;	/* ,reason="..."} */
		size_t off;
	} reasons[] = {
		{ ",reason=\"no_real\"} ", offsetof(struct xlb_vip_stats, drop_no_real) },
		{ ",reason=\"fragment\"} ", offsetof(struct xlb_vip_stats, drop_fragment) },
		{ ",reason=\"too_big\"} ", offsetof(struct xlb_vip_stats, drop_too_big) },
		{ ",reason=\"encap\"} ", offsetof(struct xlb_vip_stats, drop_encap) },
	};
	static const char name[] = "xlb_vip_drops_total{";
	char num[24];
	__u32 i;

	xlb_prom__family(out, "xlb_vip_drops_total", XLB_PROM_COUNTER,
			 "Packets to the VIP that were dropped, by reason");
	for (i = 0; i < model->n_vips; i++) {
		const struct xlb_metrics_vip *v = &model->vips[i];
		const char *ls = m->labels.buf + lab[i];
		size_t ll = lab[i + 1] - lab[i];

		if (v->index >= m->vip_max || !m->vip_ok[v->index])
			continue;
		for (size_t r = 0; r < sizeof(reasons) / sizeof(reasons[0]); r++) {
			const char *row = (const char *)&m->vip_sum[v->index];
			__u64 val;
			size_t n;

			memcpy(&val, row + reasons[r].off, sizeof(val));
			n = xlb_prom_fmt_u64(num, val);
			xlb_prom__put(out, name, sizeof(name) - 1);
			xlb_prom__put(out, ls, ll);
			xlb_prom__puts(out, reasons[r].label);
			xlb_prom__put(out, num, n);
			xlb_prom__put(out, "\n", 1);
		}
	}
}

enum real_field {
	RF_PACKETS, RF_BYTES, RF_UP, RF_WEIGHT, RF_LATENCY, RF_TRANSITIONS,
};

static void real_family(struct xlb_metrics *m, struct xlb_prom *out,
			const struct xlb_metrics_model *model, const size_t *lab, const char *name,
			enum xlb_prom_type type, const char *help, enum real_field field)
{
	size_t nl = strlen(name), k = 0;
	char num[48];
	__u32 i, r;

	xlb_prom__family(out, name, type, help);
	for (i = 0; i < model->n_vips; i++) {
		const struct xlb_metrics_vip *v = &model->vips[i];

		for (r = 0; r < v->n_reals; r++, k++) {
			const struct xlb_metrics_real *re = &v->reals[r];
			const char *ls = m->labels.buf + lab[k];
			size_t ll = lab[k + 1] - lab[k];
			bool have = re->index < m->real_max && m->real_ok[re->index];
			__u64 val;

			switch (field) {
			case RF_PACKETS:
				if (!have)
					continue;
				val = m->real_sum[re->index].packets;
				break;
			case RF_BYTES:
				if (!have)
					continue;
				val = m->real_sum[re->index].bytes;
				break;
			case RF_UP:
				val = re->up;
				break;
			case RF_WEIGHT:
				val = re->weight;
				break;
			case RF_TRANSITIONS:
				val = re->transitions;
				break;
			case RF_LATENCY:
			default: {
				size_t n;

				if (!re->probed)
					continue;
				n = fmt_seconds_ns(num, re->probe_latency_s);
				xlb_prom__put(out, name, nl);
				xlb_prom__put(out, "{", 1);
				xlb_prom__put(out, ls, ll);
				xlb_prom__put(out, "} ", 2);
				xlb_prom__put(out, num, n);
				xlb_prom__put(out, "\n", 1);
				continue;
			}
			}
			xlb_prom__sample_raw(out, name, nl, ls, ll, val);
		}
	}
}

/* Appends the escaped label set to m->labels and records its end in *end. */
static void add_labels(struct xlb_metrics *m, const struct xlb_prom_label *l, unsigned int n,
		       size_t *end)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (i)
			xlb_prom__put(&m->labels, ",", 1);
		xlb_prom__puts(&m->labels, l[i].name);
		xlb_prom__put(&m->labels, "=\"", 2);
		xlb_prom__escape_label(&m->labels, l[i].value);
		xlb_prom__put(&m->labels, "\"", 1);
	}
	*end = m->labels.len;
}

static int render_model(struct xlb_metrics *m, const struct xlb_metrics_model *model,
			struct xlb_prom *out)
{
	size_t n_reals = 0, k = 0, *vlab = NULL, *rlab = NULL;
	__u32 i, r;
	int err = 0, rerr;

	for (i = 0; i < model->n_vips; i++)
		n_reals += model->vips[i].n_reals;

	/* label sets, escaped once: vlab[i]..vlab[i+1] and rlab[k]..rlab[k+1] */
	vlab = calloc(model->n_vips + 1, sizeof(*vlab));
	rlab = calloc(n_reals + 1, sizeof(*rlab));
	if (!vlab || !rlab) {
		err = -ENOMEM;
		goto out;
	}
	xlb_prom__reset(&m->labels);
	for (i = 0; i < model->n_vips; i++) {
		struct xlb_prom_label l = { "vip", model->vips[i].label };

		add_labels(m, &l, 1, &vlab[i + 1]);
	}
	rlab[0] = m->labels.len;
	for (i = 0; i < model->n_vips; i++) {
		const struct xlb_metrics_vip *v = &model->vips[i];

		for (r = 0; r < v->n_reals; r++, k++) {
			struct xlb_prom_label l[2] = {
				{ "vip", v->label }, { "real", v->reals[r].label },
			};

			add_labels(m, l, 2, &rlab[k + 1]);
		}
	}
	if (m->labels.err) {
		err = m->labels.err;
		goto out;
	}

	/* per-VIP rows */
	if (m->maps.vip_stats_fd >= 0 && model->n_vips) {
		size_t n = 0;

		err = xlb_metrics_want_idx(m, model->n_vips);
		if (err)
			goto out;
		for (i = 0; i < model->n_vips; i++)
			if (model->vips[i].index < m->vip_max)
				m->idx[n++] = model->vips[i].index;
		rerr = xlb_metrics_read_rows(m, m->maps.vip_stats_fd,
					     sizeof(struct xlb_vip_stats) / 8, m->vip_max, m->idx,
					     n, (__u64 *)m->vip_sum, m->vip_ok);
		if (rerr) {
			pr_warn("metrics: reading %s: %s\n", m->vip_name, strerror(-rerr));
			memset(m->vip_ok, 0, m->vip_max * sizeof(*m->vip_ok));
			err = rerr;
		}
	}
	/* per-real rows */
	if (m->maps.real_stats_fd >= 0 && n_reals) {
		size_t n = 0;

		rerr = xlb_metrics_want_idx(m, n_reals);
		if (rerr) {
			err = rerr;
			goto out;
		}
		for (i = 0; i < model->n_vips; i++)
			for (r = 0; r < model->vips[i].n_reals; r++)
				if (model->vips[i].reals[r].index < m->real_max)
					m->idx[n++] = model->vips[i].reals[r].index;
		rerr = xlb_metrics_read_rows(m, m->maps.real_stats_fd, 2, m->real_max, m->idx, n,
					     (__u64 *)m->real_sum, m->real_ok);
		if (rerr) {
			pr_warn("metrics: reading %s: %s\n", m->real_name, strerror(-rerr));
			memset(m->real_ok, 0, m->real_max * sizeof(*m->real_ok));
			err = rerr;
		}
	}

	if (model->n_vips) {
		/* rough size of what follows, to grow the buffer once */
		xlb_prom__reserve(out, (m->labels.len + (n_reals + model->n_vips) * 40) * 6);
		vip_family(m, out, model, vlab, "xlb_vip_packets_total", XLB_PROM_COUNTER,
			   "Packets to the VIP forwarded to a real", 0);
		vip_family(m, out, model, vlab, "xlb_vip_bytes_total", XLB_PROM_COUNTER,
			   "Bytes of the packets forwarded to a real, as received (before encapsulation)", 1);
		vip_family(m, out, model, vlab, "xlb_vip_new_flows_total", XLB_PROM_COUNTER,
			   "New flows (TCP SYNs and flow-table misses); its rate is connections per second", 2);
		vip_drops_family(m, out, model, vlab);
		if (m->flow_sample_ns)
			vip_family(m, out, model, vlab, "xlb_vip_active_flows", XLB_PROM_GAUGE,
				   "Flows of the VIP used within the active window (flow-table sample)", 4);
		vip_family(m, out, model, vlab, "xlb_vip_reals", XLB_PROM_GAUGE,
			   "Reals configured on the VIP", 5);
		vip_family(m, out, model, vlab, "xlb_vip_reals_up", XLB_PROM_GAUGE,
			   "Reals of the VIP that are up (health)", 6);
	}
	if (n_reals) {
		real_family(m, out, model, rlab, "xlb_real_packets_total", XLB_PROM_COUNTER,
			    "Packets of the VIP sent to the real", RF_PACKETS);
		real_family(m, out, model, rlab, "xlb_real_bytes_total", XLB_PROM_COUNTER,
			    "Bytes of the VIP's packets sent to the real, before encapsulation", RF_BYTES);
		real_family(m, out, model, rlab, "xlb_real_up", XLB_PROM_GAUGE,
			    "Health state of the real: 1 up, 0 down", RF_UP);
		real_family(m, out, model, rlab, "xlb_real_weight", XLB_PROM_GAUGE,
			    "Admin weight of the real (0 = drained)", RF_WEIGHT);
		real_family(m, out, model, rlab, "xlb_real_probe_latency_seconds", XLB_PROM_GAUGE,
			    "Duration of the last completed health probe", RF_LATENCY);
		real_family(m, out, model, rlab, "xlb_real_transitions_total", XLB_PROM_COUNTER,
			    "Health state changes (up/down) since xlbd started", RF_TRANSITIONS);
	}
out:
	free(vlab);
	free(rlab);
	return err;
}

static void render_daemon(const struct xlb_metrics_daemon *d, struct xlb_prom *out)
{
	static const char *const fam_probes = "xlb_health_probes_total";
	__u32 i;

	xlb_prom__family(out, "xlb_health_probe_duration_seconds", XLB_PROM_HISTOGRAM,
			 "Duration of health probes, from start to result");
	xlb_prom__histogram(out, "xlb_health_probe_duration_seconds", NULL, 0, probe_bounds,
			    d->probe_buckets, XLB_METRICS_PROBE_NBOUNDS, d->probe_seconds_sum);
	xlb_prom__family(out, fam_probes, XLB_PROM_COUNTER, "Health probes by result");
	for (i = 0; i < XLB_PROBE__MAX; i++) {
		struct xlb_prom_label l = { "result", probe_result_names[i] };

		xlb_prom__sample_u64(out, fam_probes, &l, 1, d->probes[i]);
	}
	xlb_prom__family(out, "xlb_api_requests_total", XLB_PROM_COUNTER,
			 "Control API requests by verb and result");
	for (i = 0; i < d->n_api && i < XLB_METRICS_API_SLOTS; i++) {
		struct xlb_prom_label l[2] = {
			{ "verb", d->api[i].verb }, { "result", d->api[i].result },
		};

		xlb_prom__sample_u64(out, "xlb_api_requests_total", l, 2, d->api[i].count);
	}
	if (d->api_overflow) {
		struct xlb_prom_label l[2] = { { "verb", "other" }, { "result", "other" } };

		xlb_prom__sample_u64(out, "xlb_api_requests_total", l, 2, d->api_overflow);
	}
	xlb_prom__family(out, "xlb_state_writes_total", XLB_PROM_COUNTER,
			 "Writes of the state file (temp file, fsync, rename) by result");
	{
		struct xlb_prom_label ok = { "result", "success" }, ko = { "result", "error" };

		xlb_prom__sample_u64(out, "xlb_state_writes_total", &ok, 1, d->state_writes);
		xlb_prom__sample_u64(out, "xlb_state_writes_total", &ko, 1, d->state_write_errors);
	}
}

/* xlb_map_max_entries: the capacity of each map the metrics read. */
static void render_map_capacity(struct xlb_metrics *m, struct xlb_prom *out)
{
	const struct {
		int fd;
		const char *name;
		__u32 max;
	} caps[] = {
		{ m->maps.stats_fd, m->stats_name, m->stats_max },
		{ m->maps.vip_stats_fd, m->vip_name, m->vip_max },
		{ m->maps.real_stats_fd, m->real_name, m->real_max },
		{ m->maps.flows_fd, m->flows_name, m->flows_max },
	};
	struct xlb_prom_label l[1];
	bool any = false;

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		any |= caps[i].fd >= 0;
	if (any)
		xlb_prom__family(out, "xlb_map_max_entries", XLB_PROM_GAUGE,
				 "Capacity (max_entries) of the maps xlb reads");
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (caps[i].fd < 0)
			continue;
		l[0] = (struct xlb_prom_label){ "map", caps[i].name };
		xlb_prom__sample_u64(out, "xlb_map_max_entries", l, 1, caps[i].max);
	}
}

static void render_info(struct xlb_metrics *m, const struct xlb_metrics_model *model,
			struct xlb_prom *out)
{
	struct xlb_prom_label l[2];
	__u64 reals = 0;
	__u32 i;

	l[0] = (struct xlb_prom_label){ "version", model->version ? model->version : "unknown" };
	xlb_prom__family(out, "xlb_build_info", XLB_PROM_GAUGE, "Build of xlb; always 1");
	xlb_prom__sample_u64(out, "xlb_build_info", l, 1, 1);

	l[0] = (struct xlb_prom_label){ "mode", model->attach_mode ? model->attach_mode : "none" };
	l[1] = (struct xlb_prom_label){ "interface", model->ifname ? model->ifname : "" };
	xlb_prom__family(out, "xlb_xdp_attach_mode", XLB_PROM_GAUGE,
			 "XDP attach mode of the balancer (native, generic, offload; none = detached); always 1");
	xlb_prom__sample_u64(out, "xlb_xdp_attach_mode", l, 2, 1);

	/* occupancy: VIPs and reals from the model, flows from the last sample */
	for (i = 0; i < model->n_vips; i++)
		reals += model->vips[i].n_reals;
	xlb_prom__family(out, "xlb_map_entries", XLB_PROM_GAUGE,
			 "Entries in use: VIPs and (VIP, real) pairs as configured, flows as last sampled");
	l[0] = (struct xlb_prom_label){ "map", "xlb_vips" };
	xlb_prom__sample_u64(out, "xlb_map_entries", l, 1, model->n_vips);
	l[0] = (struct xlb_prom_label){ "map", "xlb_reals" };
	xlb_prom__sample_u64(out, "xlb_map_entries", l, 1, reals);
	if (m->flow_sample_ns) {
		l[0] = (struct xlb_prom_label){ "map", m->flows_name[0] ? m->flows_name : "xlb_flows" };
		xlb_prom__sample_u64(out, "xlb_map_entries", l, 1, m->flow_entries);
	}
	render_map_capacity(m, out);
}

static void render_self(struct xlb_metrics *m, struct xlb_prom *out, __u64 now)
{
	xlb_prom__family(out, "xlb_metrics_render_duration_seconds", XLB_PROM_GAUGE,
			 "Time the previous scrape took to read the maps and render");
	xlb_prom__sample_f64(out, "xlb_metrics_render_duration_seconds", NULL, 0, m->render_s);
	if (!m->flow_sample_ns)
		return;
	xlb_prom__family(out, "xlb_flow_sample_duration_seconds", XLB_PROM_GAUGE,
			 "CPU time of the last flow-table walk (sum of its steps)");
	xlb_prom__sample_f64(out, "xlb_flow_sample_duration_seconds", NULL, 0, m->flow_sample_s);
	xlb_prom__family(out, "xlb_flow_sample_age_seconds", XLB_PROM_GAUGE,
			 "Age of the flow-table sample behind xlb_vip_active_flows");
	xlb_prom__sample_f64(out, "xlb_flow_sample_age_seconds", NULL, 0,
			     (double)(now - m->flow_sample_ns) / 1e9);
}

int xlb_metrics__render(struct xlb_metrics *m, const struct xlb_metrics_model *model,
			struct xlb_prom *out)
{
	static const struct xlb_metrics_model empty = {};
	__u64 t0 = xlb_metrics_now_ns(), now;
	size_t start = out->len;
	int err = 0, e;

	if (!model)
		model = &empty;
	if (m->size_hint)
		xlb_prom__reserve(out, m->size_hint + m->size_hint / 8);

	render_info(m, model, out);
	e = render_globals(m, out);
	err = err ?: e;
	e = render_model(m, model, out);
	err = err ?: e;
	if (model->daemon)
		render_daemon(model->daemon, out);
	now = xlb_metrics_now_ns();
	render_self(m, out, now);
	m->render_s = (double)(xlb_metrics_now_ns() - t0) / 1e9;
	if (!out->err)
		m->size_hint = out->len - start;
	return out->err ?: err;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xlbd's Prometheus endpoint (issue 6): the glue between the daemon and the
 * metrics library (user/lib/metrics.h). It owns the library's objects, feeds
 * them the daemon's model at scrape time (VIPs and reals from the runtime
 * model, health from the health checker when it has a target), counts what
 * the daemon does (API requests, state-file writes, health probes) and runs
 * the HTTP server inside xlbd's event loop. One daemon per process: the state
 * is file-static, like the control API's.
 */
#ifndef XLBD_METRICS_H
#define XLBD_METRICS_H

#include <stdbool.h>

struct xlbd;

/*
 * Starts the endpoint on listen ("ADDR:PORT", "[V6]:PORT", "off"; NULL =
 * 127.0.0.1:9120) once the data plane is open: 0 (also for "off") or -errno
 * (bad address, bind failure), logged.
 */
int xlbd_metrics_start(struct xlbd *d, const char *listen);
void xlbd_metrics_stop(struct xlbd *d);

/* One control API request: verb (a known verb, else "unknown") and result. */
void xlbd_metrics_api(const char *verb, const char *result);
/* One state-file write: ok = renamed into place. */
void xlbd_metrics_state_write(bool ok);

#endif /* XLBD_METRICS_H */

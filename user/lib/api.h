/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control API between xlbctl and xlbd: a Unix stream socket, one
 * request per connection. The client writes one JSON object and "\n"
 * (at most XLB_API_MAX_MSG bytes); the daemon answers one JSON object and
 * "\n" and closes:
 *
 *   -> {"verb":"add-real","vip":"198.18.0.10:80/tcp","real":"198.18.2.1","weight":1}
 *   <- {"ok":true,"result":...}  or  {"ok":false,"error":"one line naming the problem"}
 *
 * Only peers with uid 0 are served (SO_PEERCRED). The server side reads
 * without blocking: xlbd's event loop feeds a per-connection buffer and
 * drops connections that stay incomplete past XLB_API_TIMEOUT_MS.
 */
#ifndef XLB_API_H
#define XLB_API_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define XLB_API_SOCKET "/run/xlb/xlbd.sock"
#define XLB_API_MAX_MSG (1U << 20)	/* request size limit, "\n" included */
#define XLB_API_TIMEOUT_MS 5000		/* a request must arrive within this */

/*
 * Client: sends req and returns the daemon's response object in *resp
 * (caller json_decref()s it). 0 or -errno with err filled (connect failed,
 * daemon closed without an answer, malformed answer).
 */
int xlb_api_call(const char *path, json_t *req, json_t **resp, char *err, size_t errlen);

/*
 * Server: creates the socket's directory (0755), refuses to steal a socket
 * a live daemon answers on (-EADDRINUSE), removes a stale one, binds with
 * mode 0600 and listens. Returns a non-blocking listening fd or -errno.
 */
int xlb_api_listen(const char *path, char *err, size_t errlen);

/* Server: 0 when the peer of fd is uid 0, else -EPERM (uid in *uid). */
int xlb_api_peer_check(int fd, unsigned int *uid);

/* Server-side reader of one request. */
struct xlb_api_conn {
	int fd;
	char *buf;
	size_t len, cap;
	long long deadline_ms;		/* CLOCK_MONOTONIC ms after which it is dropped */
};

/*
 * Reads what is available. Returns 1 when a full request ("\n" or EOF after
 * data) is in buf (NUL-terminated, newline stripped), 0 when more is
 * needed, -E2BIG past XLB_API_MAX_MSG, -ECONNRESET on EOF without data,
 * other -errno on read errors.
 */
int xlb_api_conn__read(struct xlb_api_conn *c);
void xlb_api_conn__free(struct xlb_api_conn *c);

/* Writes obj and "\n" to fd (blocking, bounded by a send timeout). 0 or -errno. */
int xlb_api_send(int fd, json_t *obj);
/* Convenience responses. */
json_t *xlb_api_ok(json_t *result);		/* steals result (may be NULL) */
json_t *xlb_api_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

long long xlb_now_ms(void);			/* CLOCK_MONOTONIC in ms */
long long xlb_now_us(void);			/* CLOCK_MONOTONIC in us */

#endif /* XLB_API_H */

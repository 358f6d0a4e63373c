/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xlbd's event loop: one epoll fd, callbacks per fd, periodic and one-shot
 * timers on timerfds. Everything the daemon does runs from here, in one
 * thread: control connections, neighbour updates, signals, timers, and later
 * health probes (issue 5) and the metrics server (issue 6), which only need
 * xlbd_loop_add_fd() for their own fds.
 */
#ifndef XLBD_LOOP_H
#define XLBD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct xlbd_loop;
struct xlbd_watch;

/* events: the epoll events that fired. */
typedef void (*xlbd_fd_fn)(void *ctx, int fd, uint32_t events);
typedef void (*xlbd_timer_fn)(void *ctx);

struct xlbd_loop *xlbd_loop_new(void);
void xlbd_loop_free(struct xlbd_loop *l);

/* Watches fd (not owned) for events. Returns a handle or NULL with errno set. */
struct xlbd_watch *xlbd_loop_add_fd(struct xlbd_loop *l, int fd, uint32_t events,
				    xlbd_fd_fn fn, void *ctx);
/* Stops watching (safe from inside a callback). */
void xlbd_loop_del(struct xlbd_loop *l, struct xlbd_watch *w);

/* Calls fn every interval_ms (repeat) or once after interval_ms. Handle or NULL + errno. */
struct xlbd_watch *xlbd_loop_add_timer(struct xlbd_loop *l, unsigned int interval_ms,
				       bool repeat, xlbd_timer_fn fn, void *ctx);

/*
 * For libraries that keep their own timeouts (libmicrohttpd for /metrics):
 * before each epoll_wait, timeout_ms(ctx) may cap the wait (return -1 for
 * no cap); after every wait, a timeout included, after(ctx) runs. Either
 * may be NULL. At most XLBD_LOOP_HOOKS hooks. 0 or -ENOSPC.
 */
#define XLBD_LOOP_HOOKS 8
int xlbd_loop_add_hook(struct xlbd_loop *l, int (*timeout_ms)(void *ctx),
		       void (*after)(void *ctx), void *ctx);

/* Runs until xlbd_loop_stop(). Returns 0 or -errno of epoll_wait. */
int xlbd_loop_run(struct xlbd_loop *l);
void xlbd_loop_stop(struct xlbd_loop *l);

#endif /* XLBD_LOOP_H */

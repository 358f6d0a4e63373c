// SPDX-License-Identifier: GPL-2.0-only
/* xlbd's epoll loop with timerfd timers: see loop.h. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "loop.h"

struct xlbd_watch {
	int fd;
	bool is_timer;			/* fd is our timerfd (closed on delete) */
	bool dead;			/* deleted: freed after the current dispatch */
	xlbd_fd_fn fd_fn;
	xlbd_timer_fn timer_fn;
	void *ctx;
	struct xlbd_watch *next_dead;
};

struct xlbd_loop {
	int epfd;
	bool stop;
	struct xlbd_watch *dead;	/* freed between dispatch rounds */
	struct {
		int (*timeout_ms)(void *ctx);
		void (*after)(void *ctx);
		void *ctx;
	} hooks[XLBD_LOOP_HOOKS];
	int nhooks;
};

int xlbd_loop_add_hook(struct xlbd_loop *l, int (*timeout_ms)(void *ctx),
		       void (*after)(void *ctx), void *ctx)
{
	if (l->nhooks == XLBD_LOOP_HOOKS)
		return -ENOSPC;
	l->hooks[l->nhooks].timeout_ms = timeout_ms;
	l->hooks[l->nhooks].after = after;
	l->hooks[l->nhooks++].ctx = ctx;
	return 0;
}

struct xlbd_loop *xlbd_loop_new(void)
{
	struct xlbd_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

static void reap(struct xlbd_loop *l)
{
	while (l->dead) {
		struct xlbd_watch *w = l->dead;

		l->dead = w->next_dead;
		free(w);
	}
}

void xlbd_loop_free(struct xlbd_loop *l)
{
	if (!l)
		return;
	reap(l);
	close(l->epfd);
	free(l);
}

static struct xlbd_watch *add(struct xlbd_loop *l, struct xlbd_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev)) {
		int err = errno;

		if (w->is_timer)
			close(w->fd);
		free(w);
		errno = err;
		return NULL;
	}
	return w;
}

struct xlbd_watch *xlbd_loop_add_fd(struct xlbd_loop *l, int fd, uint32_t events,
				    xlbd_fd_fn fn, void *ctx)
{
	struct xlbd_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = fd;
	w->fd_fn = fn;
	w->ctx = ctx;
	return add(l, w, events);
}

struct xlbd_watch *xlbd_loop_add_timer(struct xlbd_loop *l, unsigned int interval_ms,
				       bool repeat, xlbd_timer_fn fn, void *ctx)
{
	struct itimerspec its = {};
	struct xlbd_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->fd < 0) {
		free(w);
		return NULL;
	}
	w->is_timer = true;
	w->timer_fn = fn;
	w->ctx = ctx;
	its.it_value.tv_sec = interval_ms / 1000;
	its.it_value.tv_nsec = (interval_ms % 1000) * 1000000L;
	if (!interval_ms)
		its.it_value.tv_nsec = 1;
	if (repeat)
		its.it_interval = its.it_value;
	if (timerfd_settime(w->fd, 0, &its, NULL)) {
		int err = errno;

		close(w->fd);
		free(w);
		errno = err;
		return NULL;
	}
	return add(l, w, EPOLLIN);
}

void xlbd_loop_del(struct xlbd_loop *l, struct xlbd_watch *w)
{
	if (!w || w->dead)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	if (w->is_timer)
		close(w->fd);
	w->dead = true;
	w->next_dead = l->dead;
	l->dead = w;
}

int xlbd_loop_run(struct xlbd_loop *l)
{
	struct epoll_event evs[32];

	l->stop = false;
	while (!l->stop) {
		int n, timeout = -1;

		for (int h = 0; h < l->nhooks; h++) {
			int t = l->hooks[h].timeout_ms ? l->hooks[h].timeout_ms(l->hooks[h].ctx) : -1;

			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		n = epoll_wait(l->epfd, evs, 32, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			struct xlbd_watch *w = evs[i].data.ptr;

			if (w->dead)
				continue;
			if (w->is_timer) {
				uint64_t expirations;

				if (read(w->fd, &expirations, sizeof(expirations)) < 0)
					continue;
				w->timer_fn(w->ctx);
				/* A one-shot timer fires once: drop it unless re-armed by fn. */
			} else {
				w->fd_fn(w->ctx, w->fd, evs[i].events);
			}
		}
		for (int h = 0; h < l->nhooks && !l->stop; h++)
			if (l->hooks[h].after)
				l->hooks[h].after(l->hooks[h].ctx);
		reap(l);
	}
	return 0;
}

void xlbd_loop_stop(struct xlbd_loop *l)
{
	l->stop = true;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * Health-check deadlines: every target's next start (or timeout while a
 * probe is in flight) in a binary min-heap keyed by due_ns, and the one
 * timerfd armed to the earliest of them on a 1 ms grid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>

#include "health_int.h"
#include "log.h"

/*
 * The deadline timer fires on a 1 ms grid (deadlines rounded up): at 10,000
 * probes a second, the ~10 probes due in one millisecond start in one
 * wakeup instead of ten, for at most 1 ms of extra lateness.
 */
#define HC_TIMER_GRID_NS	1000000ULL

static bool heap_less(const struct xlb_health_target *a, const struct xlb_health_target *b)
{
	return a->due_ns < b->due_ns;
}

static void heap_set(struct xlb_health *h, __u32 i, struct xlb_health_target *t)
{
	h->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct xlb_health *h, __u32 i)
{
	struct xlb_health_target *t = h->heap[i];

	while (i > 0) {
		__u32 parent = (i - 1) / 2;

		if (!heap_less(t, h->heap[parent]))
			break;
		heap_set(h, i, h->heap[parent]);
		i = parent;
	}
	heap_set(h, i, t);
}

static void heap_down(struct xlb_health *h, __u32 i)
{
	struct xlb_health_target *t = h->heap[i];

	for (;;) {
		__u32 l = 2 * i + 1, r = l + 1, m = l;

		if (l >= h->heap_len)
			break;
		if (r < h->heap_len && heap_less(h->heap[r], h->heap[l]))
			m = r;
		if (!heap_less(h->heap[m], t))
			break;
		heap_set(h, i, h->heap[m]);
		i = m;
	}
	heap_set(h, i, t);
}

int hc_heap_push(struct xlb_health *h, struct xlb_health_target *t)
{
	if (h->heap_len == h->heap_cap) {
		__u32 cap = h->heap_cap ? h->heap_cap * 2 : 64;
		void *n = realloc(h->heap, cap * sizeof(*h->heap));

		if (!n)
			return -ENOMEM;
		h->heap = n;
		h->heap_cap = cap;
	}
	heap_set(h, h->heap_len++, t);
	heap_up(h, t->heap_idx);
	return 0;
}

void hc_heap_del(struct xlb_health *h, struct xlb_health_target *t)
{
	__u32 i = t->heap_idx;
	struct xlb_health_target *last = h->heap[--h->heap_len];

	if (i == h->heap_len)
		return;
	heap_set(h, i, last);
	heap_down(h, i);
	heap_up(h, last->heap_idx);
}

/* After t->due_ns changed. */
void hc_heap_fix(struct xlb_health *h, struct xlb_health_target *t)
{
	heap_up(h, t->heap_idx);
	heap_down(h, t->heap_idx);
}

__u64 hc_grid(__u64 ns)
{
	return (ns + HC_TIMER_GRID_NS - 1) / HC_TIMER_GRID_NS * HC_TIMER_GRID_NS;
}

int hc_timerfd_arm(int fd, __u64 at_ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = at_ns / 1000000000ULL, .tv_nsec = at_ns % 1000000000ULL },
	};

	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		pr_warn("health: timerfd_settime: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Arms the timerfd to the earliest deadline when that is earlier than what
 * it is armed to. A timer armed too early is left alone: it fires for
 * nothing once and is re-armed then. timerfd_settime is the most expensive
 * call of a probe in a VM (the hrtimer reprogramming exits to the host), so
 * it is made only when needed.
 */
void hc_arm_timer(struct xlb_health *h)
{
	__u64 due = h->heap_len ? hc_grid(h->heap[0]->due_ns) : 0;

	if (!due || (h->armed_ns && h->armed_ns <= due))
		return;
	if (!hc_timerfd_arm(h->tfd, due))
		h->armed_ns = due;
}

// SPDX-License-Identifier: GPL-2.0-only
/* The test harness behind tests/lib/test.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "test.h"

static int n_passed, n_failed, n_skipped;
static int case_failures;
static bool case_open, case_skipped;
static char case_name[256];

void xlbt_case_begin(const char *fmt, ...)
{
	va_list ap;

	if (case_open)
		xlbt_case_end();
	va_start(ap, fmt);
	vsnprintf(case_name, sizeof(case_name), fmt, ap);
	va_end(ap);
	case_open = true;
	case_failures = 0;
	case_skipped = false;
}

void xlbt_case_end(void)
{
	if (!case_open)
		return;
	case_open = false;
	if (case_failures) {
		n_failed++;
		printf("not ok - %s\n", case_name);
	} else if (case_skipped) {
		n_skipped++;
	} else {
		n_passed++;
		printf("ok - %s\n", case_name);
	}
	fflush(stdout);
}

void xlbt_skip(const char *fmt, ...)
{
	va_list ap;

	case_skipped = true;
	printf("skip - %s: ", case_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void xlbt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	case_failures++;
	printf("  FAIL %s:%d [%s] ", file, line, case_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

bool xlbt_case_failed(void)
{
	return case_failures > 0;
}

void xlbt_hexdiff(const void *actual, const void *expected, size_t len_a, size_t len_e)
{
	const unsigned char *a = actual, *e = expected;
	size_t n = len_a > len_e ? len_a : len_e;

	printf("  offset  actual                                           expected\n");
	for (size_t row = 0; row < n; row += 16) {
		char la[64] = "", le[64] = "";
		bool diff = false;

		for (size_t i = row; i < row + 16 && i < n; i++) {
			char ba[4] = "  ", be[4] = "  ";

			if (i < len_a)
				snprintf(ba, sizeof(ba), "%02x", a[i]);
			if (i < len_e)
				snprintf(be, sizeof(be), "%02x", e[i]);
			if (i >= len_a || i >= len_e || a[i] != e[i])
				diff = true;
			strcat(la, ba);
			strcat(la, " ");
			strcat(le, be);
			strcat(le, " ");
		}
		printf("  %c%04zx  %-48s %s\n", diff ? '*' : ' ', row, la, le);
	}
}

int xlbt_finish(const char *suite)
{
	if (case_open)
		xlbt_case_end();
	printf("# %s: %d passed, %d failed, %d skipped\n", suite, n_passed, n_failed, n_skipped);
	printf("XLBT-RESULT passed=%d failed=%d skipped=%d\n", n_passed, n_failed, n_skipped);
	return n_failed ? 1 : 0;
}

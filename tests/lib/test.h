/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small test harness in the style of the kernel's BPF selftests: named
 * cases, assertions that print what was wrong (name, actual, expected), and
 * one machine-readable result line per binary that tests/run.sh adds up.
 *
 *   int main(void) { XLBT_RUN(test_foo); return xlbt_finish("unit/foo"); }
 *
 * A case passes when none of its assertions failed. Cases can also be
 * opened by hand (xlbt_case_begin/xlbt_case_end) for table-driven tests.
 */
#ifndef XLB_TEST_H
#define XLB_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void xlbt_case_begin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xlbt_case_end(void);
void xlbt_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xlbt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool xlbt_case_failed(void);
/* Prints the summary and the result line; returns the exit status for main. */
int xlbt_finish(const char *suite);
/* Hex dump of a and b with differing bytes marked; used by ASSERT_MEM_EQ. */
void xlbt_hexdiff(const void *actual, const void *expected, size_t len_a, size_t len_e);

#define XLBT_RUN(fn)				\
	do {					\
		xlbt_case_begin("%s", #fn);	\
		fn();				\
		xlbt_case_end();		\
	} while (0)

#define ASSERT_EQ(actual, expected, name) ({					\
	long long _a = (long long)(actual), _e = (long long)(expected);		\
	if (_a != _e)								\
		xlbt_fail(__FILE__, __LINE__, "%s: actual %lld (0x%llx) expected %lld (0x%llx)", \
			  (name), _a, (unsigned long long)_a, _e, (unsigned long long)_e); \
	_a == _e;								\
})

#define ASSERT_NEQ(actual, unexpected, name) ({					\
	long long _a = (long long)(actual), _u = (long long)(unexpected);	\
	if (_a == _u)								\
		xlbt_fail(__FILE__, __LINE__, "%s: actual %lld, must differ", (name), _a); \
	_a != _u;								\
})

#define ASSERT_TRUE(cond, name) ({						\
	bool _c = (cond);							\
	if (!_c)								\
		xlbt_fail(__FILE__, __LINE__, "%s: expected true: %s", (name), #cond); \
	_c;									\
})

#define ASSERT_OK(err, name) ({							\
	long long _r = (long long)(err);					\
	if (_r != 0)								\
		xlbt_fail(__FILE__, __LINE__, "%s: expected 0, got %lld", (name), _r); \
	_r == 0;								\
})

#define ASSERT_STR_EQ(actual, expected, name) ({				\
	const char *_a = (actual), *_e = (expected);				\
	bool _ok = _a && _e && strcmp(_a, _e) == 0;				\
	if (!_ok)								\
		xlbt_fail(__FILE__, __LINE__, "%s: actual \"%s\" expected \"%s\"", \
			  (name), _a ? _a : "(null)", _e ? _e : "(null)");	\
	_ok;									\
})

/* Compares two buffers including their lengths; dumps both on mismatch. */
#define ASSERT_MEM_EQ(actual, len_a, expected, len_e, name) ({			\
	size_t _la = (len_a), _le = (len_e);					\
	bool _ok = _la == _le && memcmp((actual), (expected), _la) == 0;	\
	if (!_ok) {								\
		xlbt_fail(__FILE__, __LINE__, "%s: bytes differ (len %zu vs expected %zu)", \
			  (name), _la, _le);					\
		xlbt_hexdiff((actual), (expected), _la, _le);			\
	}									\
	_ok;									\
})

#endif /* XLB_TEST_H */

/*
 * util.h: allocation that cannot fail, growable strings, the error buffer
 * that every fallible function fills with a human message, and small string
 * checks (UTF-8, membership of a JSON array).
 *
 * Out of memory is one decision (fatal), made here, not at every call site.
 * All functions are thread-safe.
 */
#ifndef HB_UTIL_H
#define HB_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#include <jansson.h>

#include "log.h"

/* An error message for a person: "start: \"2026-13-01T18:00\" is not a date". */
struct err {
	char	msg[512];
	int	ref;		/* a reference error: err_set_ref() */
};

/* Set e->msg and clear its reference flag (e may be NULL); always returns -1 so callers can `return err_set(...)`. */
int	err_set(struct err *e, const char *fmt, ...) HB_PRINTF(2, 3);
/*
 * The error set last names an id nothing is stored under (a reference
 * error, which a record queued earlier may still settle), not a mistake in
 * the record's form: err_set_ref() after err_set() marks it, err_is_ref()
 * tells. err_set() clears the mark.
 */
void	err_set_ref(struct err *e);
int	err_is_ref(const struct err *e);
/* Prefix e->msg with "prefix: " (for field paths). */
void	err_prefix(struct err *e, const char *fmt, ...) HB_PRINTF(2, 3);

/* s in double quotes for a message, safe to log: at most max characters
 * (then "..."), every control (C0, DEL, C1) and invalid byte escaped,
 * never cut inside a character; fits in len (>= 16) bytes. */
const char *util_quote(char *buf, size_t len, const char *s, size_t max);
/* The same without the surrounding quotes (and quotes left as they are). */
const char *util_escape(char *buf, size_t len, const char *s, size_t max);

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) HB_PRINTF(1, 2);

/* A growable, always NUL-terminated byte buffer. */
struct buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

void	buf_init(struct buf *);
void	buf_free(struct buf *);
void	buf_add(struct buf *, const void *, size_t);
void	buf_adds(struct buf *, const char *);
void	buf_addc(struct buf *, char);
void	buf_printf(struct buf *, const char *, ...) HB_PRINTF(2, 3);
/* Hand the string to the caller (who frees it); the buf is empty after. */
char	*buf_take(struct buf *);

/* Read a whole file (at most max bytes); NULL with e set on failure. */
char	*util_readfile(const char *path, size_t max, size_t *lenp, struct err *e);

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
int	util_utf8_valid(const char *s, size_t len);

/* 1 if a member of array is a string equal to s (s not NULL), else 0: a
 * NULL or non-array array has no members, other members never match. */
int	util_json_has(const json_t *array, const char *s);

/* Wall-clock time in milliseconds since the epoch (plus the offset a test
 * may set through HEARBACK_TEST_CLOCK; see util.c). */
long long util_now_ms(void);

#endif

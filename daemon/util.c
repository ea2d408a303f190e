/*
 * util.c: allocation, growable strings, error messages, small file, string,
 * JSON and time helpers. Thread-safe; no global state.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* Bytes in the UTF-8 sequence led by c, or 0 if c cannot lead one. */
static size_t
util_utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* Cut a string that was truncated mid-character back to a whole one. */
static void
util_utf8_trim(char *s)
{
	size_t	len = strlen(s), i;

	if (len == 0)
		return;
	i = len - 1;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80 && len - i < 4)
		i--;
	if (i + util_utf8_len((unsigned char)s[i]) > len)
		s[i] = '\0';
}

int
err_set(struct err *e, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (e == NULL)
		return -1;
	e->ref = 0;
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof e->msg)
		util_utf8_trim(e->msg);
	return -1;
}

void
err_set_ref(struct err *e)
{
	if (e != NULL)
		e->ref = 1;
}

int
err_is_ref(const struct err *e)
{
	return e->ref;
}

/*
 * The code point of the c-byte sequence at p if it is invisible or turns
 * the direction of text (a message could otherwise hide or reorder what
 * it quotes: U+061C, U+200B-U+200F, U+202A-U+202E, U+2060-U+2064,
 * U+2066-U+2069, U+FEFF); else 0.
 */
static size_t
util_hidden(const unsigned char *p, size_t c)
{
	size_t	cp;

	if (c == 2)
		cp = ((size_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
	else if (c == 3)
		cp = ((size_t)(p[0] & 0x0f) << 12) | ((size_t)(p[1] & 0x3f) << 6) |
		    (p[2] & 0x3f);
	else
		return 0;
	if (cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff)
		return cp;
	return 0;
}

static const char *
util_escape1(char *buf, size_t len, const char *s, size_t max, int quotes)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 o = 0, n = 0, k, c, cp;

	if (len < 16) {
		buf[0] = '\0';
		return buf;
	}
	while (*p != '\0') {
		if (n >= max || o + 14 >= len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		n++;
		c = util_utf8_len(*p);
		for (k = 1; k < c; k++)
			if ((p[k] & 0xc0) != 0x80)
				c = 0;
		if (c == 0) {
			o += snprintf(buf + o, len - o, "\\x%02x", *p++);
			continue;
		}
		if (c == 1) {
			if (quotes && (*p == '"' || *p == '\\'))
				o += snprintf(buf + o, len - o, "\\%c", *p);
			else if (*p == '\n')
				o += snprintf(buf + o, len - o, "\\n");
			else if (*p == '\r')
				o += snprintf(buf + o, len - o, "\\r");
			else if (*p == '\t')
				o += snprintf(buf + o, len - o, "\\t");
			else if (*p < 0x20 || *p == 0x7f)
				o += snprintf(buf + o, len - o, "\\u%04x", *p);
			else
				buf[o++] = (char)*p;
		} else if (c == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			/* C1 controls, U+0080 to U+009F */
			o += snprintf(buf + o, len - o, "\\u%04x", p[1]);
		else if ((cp = util_hidden(p, c)) != 0)
			o += snprintf(buf + o, len - o, "\\u%04zx", cp);
		else {
			memcpy(buf + o, p, c);
			o += c;
		}
		p += c;
	}
	buf[o] = '\0';
	return buf;
}

const char *
util_escape(char *buf, size_t len, const char *s, size_t max)
{
	return util_escape1(buf, len, s, max, 0);
}

const char *
util_quote(char *buf, size_t len, const char *s, size_t max)
{
	if (len < 16) {
		snprintf(buf, len, "\"\"");
		return buf;
	}
	buf[0] = '"';
	util_escape1(buf + 1, len - 2, s, max, 1);
	strcat(buf, "\"");
	return buf;
}

void
err_prefix(struct err *e, const char *fmt, ...)
{
	char	pre[256], old[sizeof e->msg];
	va_list	ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	if (snprintf(e->msg, sizeof e->msg, "%.200s: %.300s", pre, old) < 0)
		e->msg[0] = '\0';
}

void *
xmalloc(size_t n)
{
	void	*p;

	if (n == 0)
		n = 1;
	if ((p = malloc(n)) == NULL)
		fatal("xmalloc: allocating %zu bytes", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		fatal("xcalloc: allocating %zu * %zu bytes", n, size);
	return p;
}

void *
xrealloc(void *old, size_t n)
{
	void	*p;

	if (n == 0)
		n = 1;
	if ((p = realloc(old, n)) == NULL)
		fatal("xrealloc: allocating %zu bytes", n);
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	char	*s;
	va_list	ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatal("xasprintf");
	va_end(ap);
	return s;
}

void
buf_init(struct buf *b)
{
	b->s = NULL;
	b->len = b->cap = 0;
}

void
buf_free(struct buf *b)
{
	free(b->s);
	buf_init(b);
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t	cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->s = xrealloc(b->s, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char	small[256], *big;
	int	n;
	va_list	ap;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("buf_printf: bad format");
	if ((size_t)n < sizeof small) {
		buf_add(b, small, n);
		return;
	}
	big = xmalloc(n + 1);
	va_start(ap, fmt);
	vsnprintf(big, n + 1, fmt, ap);
	va_end(ap);
	buf_add(b, big, n);
	free(big);
}

char *
buf_take(struct buf *b)
{
	char	*s = b->s ? b->s : xstrdup("");

	buf_init(b);
	return s;
}

char *
util_readfile(const char *path, size_t max, size_t *lenp, struct err *e)
{
	FILE	*f;
	struct buf b;
	char	 chunk[8192];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL) {
		err_set(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (b.len + n > max) {
			fclose(f);
			buf_free(&b);
			err_set(e, "%s: larger than %zu bytes", path, max);
			return NULL;
		}
		buf_add(&b, chunk, n);
	}
	if (ferror(f)) {
		err_set(e, "%s: %s", path, strerror(errno));
		fclose(f);
		buf_free(&b);
		return NULL;
	}
	fclose(f);
	if (lenp)
		*lenp = b.len;
	return buf_take(&b);
}

/* Strict UTF-8 check (no overlongs, no surrogates, nothing above U+10FFFF). */
int
util_utf8_valid(const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t		i = 0, k, n;
	unsigned int	c;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, c &= 0x07;
		else
			return 0;
		if (i + n >= len)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* A linear look: where a long list is asked about often, a JSON object
 * used as a set is the better shape. */
int
util_json_has(const json_t *array, const char *s)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(array, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/*
 * The clock that tests move. When HEARBACK_TEST_CLOCK names a file, the
 * whole number in it (milliseconds, may be negative) is added to the real
 * time, so a test can bring a reminder a day ahead to now without sleeping.
 * The file is read again at most every UTIL_CLOCK_REREAD_MS. Nothing but
 * the test harness sets the variable; without it the offset is 0 and no
 * file is ever read. Any thread: the offset is an atomic.
 */
#define UTIL_CLOCK_REREAD_MS	20

static pthread_once_t		 util_clock_once = PTHREAD_ONCE_INIT;
static const char		*util_clock_file;
static _Atomic long long	 util_clock_ms;		/* the offset */
static _Atomic long long	 util_clock_read;	/* monotonic ms, last read */

static void
util_clock_init(void)
{
	const char	*f = getenv("HEARBACK_TEST_CLOCK");

	if (f != NULL && *f != '\0')
		util_clock_file = f;
}

static long long
util_clock_offset(void)
{
	struct timespec	 mt;
	long long	 m, v;
	FILE		*f;

	pthread_once(&util_clock_once, util_clock_init);
	if (util_clock_file == NULL)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &mt);
	m = (long long)mt.tv_sec * 1000 + mt.tv_nsec / 1000000;
	if (m - atomic_load(&util_clock_read) >= UTIL_CLOCK_REREAD_MS) {
		atomic_store(&util_clock_read, m);
		if ((f = fopen(util_clock_file, "r")) != NULL) {
			if (fscanf(f, "%lld", &v) == 1)
				atomic_store(&util_clock_ms, v);
			fclose(f);
		}
	}
	return atomic_load(&util_clock_ms);
}

long long
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	    util_clock_offset();
}

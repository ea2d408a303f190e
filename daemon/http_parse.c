/*
 * http_parse.c: the request head, read for http.c's two servers (the
 * probes and metrics, and web.c's pages): where the head ends, the request
 * line, and the few header fields the servers act on (Content-Length,
 * Transfer-Encoding, Content-Type). Whatever it cannot accept it refuses
 * with the status to answer (see http.h). Pure: no I/O, no global state;
 * any thread (the servers call it on the main thread; fuzzed by
 * tests/fuzz/fuzz_http.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

size_t
http_parse_end(const char *buf, size_t len)
{
	size_t	i;

	/* The first "\n\n" or "\n\r\n": one blank line before the request
	 * line is no end (http_parse skips it), two are (400). */
	for (i = 1; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i - 1] == '\n')
			return i + 1;
		if (buf[i - 1] == '\r' && i >= 2 && buf[i - 2] == '\n')
			return i + 1;
	}
	return 0;
}

static int
http_tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* The next line of [*p, end): its start and length without the line end.
 * -1 for a bare CR or a NUL, or no line end. */
static int
http_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char	*s = *p, *q;

	for (q = s; q < end && *q != '\n'; q++)
		if (*q == '\0' || (*q == '\r' && (q + 1 >= end ||
		    q[1] != '\n')))
			return -1;
	if (q >= end)
		return -1;
	*line = s;
	*len = (q > s && q[-1] == '\r') ? (size_t)(q - 1 - s) : (size_t)(q - s);
	*p = q + 1;
	return 0;
}

static void
http_copy(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* The request line: METHOD SP target SP HTTP/1.x */
static int
http_parse_first(const char *s, size_t n, struct http_req *r)
{
	const char	*end = s + n, *m, *t, *path, *q;
	size_t		 k;

	for (m = s; m < end && http_tchar(*m); m++)
		;
	if (m == s || m >= end || *m != ' ')
		return 400;
	http_copy(r->method_name, sizeof r->method_name, s, m - s);
	if (m - s == 3 && memcmp(s, "GET", 3) == 0)
		r->method = HTTP_GET;
	else if (m - s == 4 && memcmp(s, "HEAD", 4) == 0)
		r->method = HTTP_HEAD;
	else if (m - s == 4 && memcmp(s, "POST", 4) == 0)
		r->method = HTTP_POST;
	else
		r->method = HTTP_OTHER;
	t = m + 1;
	for (q = t; q < end && *q > 0x20 && *q < 0x7f; q++)
		;
	if (q == t || q >= end || *q != ' ')
		return 400;
	http_copy(r->target, sizeof r->target, t, q - t);
	if (end - (q + 1) != 8 || memcmp(q + 1, "HTTP/", 5) != 0 ||
	    !isdigit((unsigned char)q[6]) || q[7] != '.' ||
	    !isdigit((unsigned char)q[8]))
		return 400;
	if (q[6] != '1')
		return 505;
	r->minor = q[8] - '0';

	/* origin-form "/p?q", or absolute-form "http://host/p?q" */
	path = t;
	if (q - t > 7 && strncasecmp(t, "http://", 7) == 0)
		k = 7;
	else if (q - t > 8 && strncasecmp(t, "https://", 8) == 0)
		k = 8;
	else
		k = 0;
	if (k > 0) {
		/* the path starts at the first '/' after the authority */
		for (path = t + k; path < q && *path != '/' && *path != '?';
		    path++)
			;
		if (path < q && *path == '?')
			path = q;	/* no path, a query: "/" */
	} else if (*t != '/')
		return 400;	/* not origin-form, nor absolute-form */
	for (k = 0; path + k < q && path[k] != '?'; k++)
		;
	if (path + k < q) {
		if ((size_t)(q - (path + k + 1)) >= sizeof r->query)
			r->query_long = 1;
		http_copy(r->query, sizeof r->query, path + k + 1,
		    q - (path + k + 1));
	}
	if (k == 0) {
		snprintf(r->path, sizeof r->path, "/");
	} else {
		if (k >= sizeof r->path)
			r->path_long = 1;
		http_copy(r->path, sizeof r->path, path, k);
	}
	return 0;
}

/* The head, whatever the method and body: 0, 400, 413 (absurd), 505. */
static int
http_parse_head(const char *buf, size_t len, struct http_req *r)
{
	const char	*p = buf, *end = buf + len, *line, *v, *ve, *c;
	size_t		 n, name;
	int		 te = 0, code;
	long long	 cl = -1, val;

	memset(r, 0, sizeof *r);
	r->content_length = -1;
	/* Blank lines before the request line are skipped (RFC 9112 2.2). */
	do {
		if (http_line(&p, end, &line, &n) == -1)
			return 400;
	} while (n == 0 && p < end);
	if (n == 0)
		return 400;
	if ((code = http_parse_first(line, n, r)) != 0)
		return code;

	for (;;) {
		if (http_line(&p, end, &line, &n) == -1)
			return 400;
		if (n == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return 400;	/* obsolete line folding */
		for (name = 0; name < n && http_tchar(line[name]); name++)
			;
		if (name == 0 || name >= n || line[name] != ':')
			return 400;
		v = line + name + 1;
		ve = line + n;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (c = v; c < ve; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') ||
			    *c == 0x7f)
				return 400;
		if (name == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
			if (v == ve)
				return 400;
			val = 0;
			for (c = v; c < ve; c++) {
				if (!isdigit((unsigned char)*c))
					return 400;
				if (val > 999999999999LL)
					return 413;	/* absurdly large */
				val = val * 10 + (*c - '0');
			}
			if (cl != -1 && cl != val)
				return 400;	/* two different lengths */
			cl = val;
		} else if (name == 17 &&
		    strncasecmp(line, "Transfer-Encoding", 17) == 0)
			te = 1;
		else if (name == 12 &&
		    strncasecmp(line, "Content-Type", 12) == 0)
			http_copy(r->content_type, sizeof r->content_type, v,
			    ve - v);
	}
	if (p != end)
		return 400;		/* len was not where the head ends */
	if (te && cl != -1)
		return 400;		/* both: a smuggling attempt */
	r->content_length = cl;
	r->chunked = te;
	return 0;
}

int
http_parse(const char *buf, size_t len, struct http_req *r)
{
	int	code;

	if ((code = http_parse_head(buf, len, r)) != 0)
		return code;
	if (r->method != HTTP_GET && r->method != HTTP_HEAD)
		return 405;
	if (r->chunked || r->content_length > 0)
		return 413;
	return 0;
}

int
http_parse_page(const char *buf, size_t len, struct http_req *r)
{
	int	code;

	if ((code = http_parse_head(buf, len, r)) != 0)
		return code;
	if (r->method == HTTP_OTHER)
		return 405;
	if (r->method != HTTP_POST)
		return r->chunked || r->content_length > 0 ? 413 : 0;
	if (r->chunked)
		return 411;		/* we read only Content-Length bodies */
	if (r->content_length < 0)
		return 411;
	if (r->content_length > HTTP_MAX_BODY)
		return 413;
	return 0;
}


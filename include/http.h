/*
 * http.h: GET /healthz and GET /metrics on [http] listen, on the main loop.
 * Main thread only.
 *
 * What one client can make the listener hold is bounded (hearbackd(8),
 * HTTP): a request head (request line and headers) of HTTP_MAX_HEAD bytes,
 * no body, HTTP_TIMEOUT seconds from connecting to the end of the answer,
 * HTTP_MAX_CONNS connections in all (one more closes the oldest).
 */
#ifndef HB_HTTP_H
#define HB_HTTP_H

#include <event2/event.h>

#include "util.h"

#define HTTP_MAX_HEAD	8192	/* request line and headers, bytes */
#define HTTP_MAX_CONNS	64	/* one more closes the oldest */
#define HTTP_TIMEOUT	10	/* seconds to send the request and take the answer */
#define HTTP_LINGER	2	/* seconds to wait for the client to close */
#define HTTP_LINGER_MAX	65536	/* bytes read and dropped meanwhile */
#define HTTP_MAX_BODY	4096	/* a POST body, pages server only */

struct metrics;
struct http;

/* Health: fills why and returns 1 when healthy. */
typedef int http_health_fn(void *arg, char *why, size_t len);

struct http	*http_start(struct event_base *, const char *host, int port,
		    const struct metrics *, http_health_fn *, void *arg,
		    struct err *e);
void		 http_free(struct http *);

/* The parts of http_start, for tests and fuzzing: a server without a
 * listener, and one connected socket handed to it (it takes the fd, also
 * on failure). */
struct http	*http_new(struct event_base *, const struct metrics *,
		    http_health_fn *, void *arg);
int		 http_listen(struct http *, const char *host, int port,
		    struct err *e);
int		 http_serve(struct http *, evutil_socket_t fd);
/* Connections open now. */
int		 http_nconns(const struct http *);

/* A parsed request head. */
enum http_method { HTTP_GET = 1, HTTP_HEAD, HTTP_POST, HTTP_OTHER };

struct http_req {
	enum http_method	 method;
	char			 method_name[16];	/* as sent, cut */
	char			 target[128];	/* as sent, cut: for logs */
	char			 path[64];	/* without the query */
	int			 path_long;	/* longer than path holds */
	char			 query[512];	/* after '?', "" if none */
	int			 query_long;	/* longer than query holds */
	int			 minor;		/* HTTP/1.minor */
	long long		 content_length;	/* -1: none given */
	int			 chunked;	/* Transfer-Encoding given */
	char			 content_type[64];	/* as sent, cut */
};

/*
 * The pages server ([web] listen, web.c): the same connection handling and
 * limits, but GET, HEAD and POST (a body of at most HTTP_MAX_BODY bytes,
 * with Content-Length) go to fn, which answers, now or later, with
 * http_reply() naming the connection by its serial (the connection may be
 * gone by then: http_reply says so, and nothing is sent). The target is
 * never logged: its query holds a token.
 */
typedef void http_page_fn(void *arg, struct http *, unsigned long long conn,
    const struct http_req *, const char *body, size_t len);

struct http	*http_pages_new(struct event_base *, http_page_fn *, void *arg);
/* -1 when the connection has gone (timed out, closed); extra: more header
 * lines, each ending in CRLF, or NULL. */
int		 http_reply(struct http *, unsigned long long conn, int code,
		    const char *type, const char *extra, const char *body);
/* The pages server's head check: 0, or 400, 405 (not GET, HEAD or POST),
 * 411 (a POST without Content-Length), 413 (a body too large, or on GET),
 * 505. */
int	http_parse_page(const char *buf, size_t len, struct http_req *r);

/* Where the head in buf ends: the offset just past its blank line (CRLF or
 * LF line ends), or 0 when it has not ended within len bytes. */
size_t	http_parse_end(const char *buf, size_t len);
/* Parse a head of len bytes (as http_parse_end measured it). Returns 0 when
 * it may be answered, or the status to refuse it with: 400 malformed, 505
 * not HTTP/1.x, 405 not GET or HEAD, 413 a body (Content-Length other than
 * 0, or Transfer-Encoding). r is filled as far as the head could be read. */
int	http_parse(const char *buf, size_t len, struct http_req *r);

#endif

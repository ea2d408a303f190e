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
enum http_method { HTTP_GET = 1, HTTP_HEAD, HTTP_OTHER };

struct http_req {
	enum http_method	 method;
	char			 method_name[16];	/* as sent, cut */
	char			 target[128];	/* as sent, cut: for logs */
	char			 path[64];	/* without the query */
	int			 path_long;	/* longer than path holds */
	int			 minor;		/* HTTP/1.minor */
};

/* Where the head in buf ends: the offset just past its blank line (CRLF or
 * LF line ends), or 0 when it has not ended within len bytes. */
size_t	http_head_end(const char *buf, size_t len);
/* Parse a head of len bytes (as http_head_end measured it). Returns 0 when
 * it may be answered, or the status to refuse it with: 400 malformed, 505
 * not HTTP/1.x, 405 not GET or HEAD, 413 a body (Content-Length other than
 * 0, or Transfer-Encoding). r is filled as far as the head could be read. */
int	http_parse(const char *buf, size_t len, struct http_req *r);

#endif

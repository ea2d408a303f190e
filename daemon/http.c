/*
 * http.c: the daemon's small HTTP face, for probes and Prometheus.
 * Main thread only (everything runs on the main event base).
 *
 *   GET /healthz  200 {"status":"ok"} or 503 {"status":"unavailable",
 *                 "reason":"..."}
 *   GET /metrics  text/plain; version=0.0.4, names start with hearback_
 *   HEAD          the same without the body; other methods 405; other
 *                 paths 404; every answer closes the connection
 *
 * Whoever can reach the listener can talk to it, so what one client can make
 * the daemon hold is bounded (the numbers are in http.h):
 *   - a request head of at most HTTP_MAX_HEAD bytes (431), no body (413:
 *     the body is never read), HTTP_TIMEOUT seconds from the connection to
 *     the end of the answer, however slowly the bytes trickle in;
 *   - at most HTTP_MAX_CONNS connections: one more closes the oldest, so
 *     slow clients cannot keep /healthz out; and a burst accepts at most
 *     that many before the loop turns (and closes what it freed);
 *   - an accept error (EMFILE: the daemon is out of descriptors) closes
 *     the oldest connection, or with none pauses the listener for a
 *     second, instead of spinning on it;
 *   - refusals are logged at most once a second; the lines left out are
 *     counted in the next one.
 * After its answer the server shuts its side and reads (and drops) what the
 * client still sends, for HTTP_LINGER seconds and HTTP_LINGER_MAX bytes at
 * most, so that closing with unread bytes does not reset the connection
 * before the client has read the answer.
 *
 * The same code serves the pages of [web] listen (http_pages_new, web.c):
 * there GET, HEAD and POST with a small body go to the page function,
 * which may answer later (after Redis) through http_reply(); a connection
 * waiting for that is HTTP_BUSY, still under the same deadline. Refusals
 * there never log the target (its query holds a token).
 *
 * libevent 2.1's evhttp has no connection limit, no hook when a connection
 * goes, answers 501 for a refused method and reads a refused body: hence
 * this small server on bufferevents. The request head is read by
 * http_parse.c, which is pure (fuzzed by tests/fuzz/fuzz_http.c, with
 * http_serve on a socketpair).
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>

#include "http.h"
#include "log.h"
#include "metrics.h"

enum http_state { HTTP_READING, HTTP_BUSY, HTTP_WRITING, HTTP_LINGERING };

struct http_conn {
	TAILQ_ENTRY(http_conn)	 entry;		/* oldest first */
	struct http		*h;
	struct bufferevent	*bev;
	struct event		*timer;		/* the deadline of the state */
	enum http_state		 state;
	size_t			 nread;		/* bytes read (in this state) */
	long long		 since_ms;	/* accepted at */
	unsigned long long	 serial;	/* names it for http_reply */
	int			 head_only;	/* a HEAD: answer without body */
	char			 peer[INET6_ADDRSTRLEN];
};

struct http {
	struct event_base	*base;
	struct evconnlistener	*lev;
	const struct metrics	*m;
	http_health_fn		*health;
	void			*arg;
	TAILQ_HEAD(, http_conn)	 conns;
	int			 nconns;
	int			 burst;		/* accepted in this turn */
	int			 paused;	/* listener off until resume */
	struct event		*resume;
	long long		 log_last_ms;	/* last refusal logged */
	unsigned		 log_left;	/* refusals not logged since */
	struct event		*log_ev;	/* logs the count of those */
	http_page_fn		*page;		/* the pages server's, or NULL */
	void			*page_arg;
	unsigned long long	 serial;	/* the last connection's */
};

static long long
http_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
http_timer_add(struct event *ev, long long ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/*
 * Refusals, logged at most once a second.
 */

static void HB_PRINTF(2, 3)
http_refused(struct http *h, const char *fmt, ...)
{
	char		 msg[400];
	va_list		 ap;
	long long	 now = http_mono_ms();

	if (h->log_last_ms != 0 && now - h->log_last_ms < 1000) {
		h->log_left++;
		if (!evtimer_pending(h->log_ev, NULL))
			http_timer_add(h->log_ev, 1000 - (now - h->log_last_ms));
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_warnx("http: %s", msg);
	h->log_last_ms = now;
}

static void
http_log_left(evutil_socket_t fd, short what, void *arg)
{
	struct http	*h = arg;

	if (h->log_left == 0)
		return;
	log_warnx("http: %u more refusals in the last second, not logged one "
	    "by one", h->log_left);
	h->log_left = 0;
	h->log_last_ms = http_mono_ms();
}

/*
 * Connections.
 */

static void
http_conn_free(struct http_conn *c)
{
	struct http	*h = c->h;

	TAILQ_REMOVE(&h->conns, c, entry);
	h->nconns--;
	event_free(c->timer);
	bufferevent_free(c->bev);	/* closes the socket */
	free(c);
}

static const char *
http_reason(int code)
{
	switch (code) {
	case 200:	return "OK";
	case 400:	return "Bad Request";
	case 404:	return "Not Found";
	case 403:	return "Forbidden";
	case 405:	return "Method Not Allowed";
	case 410:	return "Gone";
	case 411:	return "Length Required";
	case 413:	return "Content Too Large";
	case 431:	return "Request Header Fields Too Large";
	case 503:	return "Service Unavailable";
	case 505:	return "HTTP Version Not Supported";
	}
	return "Error";
}

/* Queue the answer; the connection closes once it is written. */
static void
http_answer(struct http_conn *c, int head_only, int code, const char *type,
    const char *extra, const char *body)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 len = strlen(body);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", code,
	    http_reason(code), type, len, extra ? extra : "");
	if (!head_only)
		evbuffer_add(out, body, len);
	c->state = HTTP_WRITING;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
}

static void
http_refuse(struct http_conn *c, int code, const struct http_req *r)
{
	char	 target[160];
	char	 body[128];

	if (r != NULL && r->method_name[0] != '\0' && c->h->page != NULL)
		http_refused(c->h, "refused %.15s %s from %s: %s (%d)",
		    r->method_name, util_quote(target, sizeof target,
		    r->path, 64), c->peer, http_reason(code), code);
	else if (r != NULL && r->method_name[0] != '\0')
		http_refused(c->h, "refused %.15s %s from %s: %s (%d)",
		    r->method_name, util_quote(target, sizeof target,
		    r->target, 64), c->peer, http_reason(code), code);
	else
		http_refused(c->h, "refused a request from %s: %s (%d)",
		    c->peer, http_reason(code), code);
	switch (code) {
	case 405:
		snprintf(body, sizeof body, c->h->page ? "only GET, HEAD and "
		    "POST\n" : "only GET and HEAD\n");
		break;
	case 411:
		snprintf(body, sizeof body, "a POST needs Content-Length\n");
		break;
	case 413:
		if (c->h->page != NULL)
			snprintf(body, sizeof body, "a request body is limited "
			    "to %d bytes, and only with POST\n", HTTP_MAX_BODY);
		else
			snprintf(body, sizeof body, "no request body is "
			    "taken\n");
		break;
	case 431:
		snprintf(body, sizeof body, "the request line and headers "
		    "are limited to %d bytes\n", HTTP_MAX_HEAD);
		break;
	default:
		snprintf(body, sizeof body, "%s\n", http_reason(code));
	}
	http_answer(c, r != NULL && r->method == HTTP_HEAD, code,
	    "text/plain; charset=utf-8", code != 405 ? NULL : c->h->page ?
	    "Allow: GET, HEAD, POST\r\n" : "Allow: GET, HEAD\r\n", body);
}

static void
http_healthz(struct http_conn *c, int head_only)
{
	struct http	*h = c->h;
	char		 why[256], body[512];
	int		 ok = h->health(h->arg, why, sizeof why);

	if (ok)
		snprintf(body, sizeof body, "{\"status\":\"ok\",\"in_flight\":%d,"
		    "\"scheduled\":%lld,\"inbox_backlog\":%lld}\n",
		    h->m->in_flight, h->m->scheduled, h->m->inbox_backlog);
	else {
		/* The reason may quote the relay: JSON-escaped. */
		json_t	*j = json_pack("{s:s, s:s}", "status", "unavailable",
		    "reason", why);
		char	*t = j ? json_dumps(j, JSON_COMPACT) : NULL;

		snprintf(body, sizeof body, "%s\n", t ? t :
		    "{\"status\":\"unavailable\"}");
		free(t);
		json_decref(j);
	}
	http_answer(c, head_only, ok ? 200 : 503, "application/json", NULL,
	    body);
}

static void
http_metrics(struct http_conn *c, int head_only)
{
	struct buf	b;

	buf_init(&b);
	metrics_render(c->h->m, &b);
	http_answer(c, head_only, 200, "text/plain; version=0.0.4; "
	    "charset=utf-8", NULL, b.s ? b.s : "");
	buf_free(&b);
}

static void
http_dispatch(struct http_conn *c, const char *head, size_t len)
{
	struct http_req	r;
	int		code = http_parse(head, len, &r);
	int		head_only = r.method == HTTP_HEAD;

	if (code != 0)
		http_refuse(c, code, &r);
	else if (!r.path_long && strcmp(r.path, "/healthz") == 0)
		http_healthz(c, head_only);
	else if (!r.path_long && strcmp(r.path, "/metrics") == 0)
		http_metrics(c, head_only);
	else
		http_answer(c, head_only, 404, "text/plain; charset=utf-8",
		    NULL, "not found: try /healthz or /metrics\n");
}

/* The pages server: a head (and its body, once all here) to the page
 * function. Returns 1 when the request went out, 0 to wait for more. */
static int
http_page_dispatch(struct http_conn *c, const char *head, size_t end,
    size_t have)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct http_req	 r;
	const char	*p;
	int		 code = http_parse_page(head, end, &r);
	size_t		 blen = 0;

	if (code != 0) {
		http_refuse(c, code, &r);
		return 1;
	}
	if (r.method == HTTP_POST) {
		blen = (size_t)r.content_length;
		if (have < end + blen)
			return 0;
	}
	if ((p = (const char *)evbuffer_pullup(in, end + blen)) == NULL)
		return 0;
	c->state = HTTP_BUSY;
	c->head_only = r.method == HTTP_HEAD;
	bufferevent_disable(c->bev, EV_READ);
	c->h->page(c->h->page_arg, c->h, c->serial, &r, p + end, blen);
	return 1;
}

static void
http_conn_read(struct bufferevent *bev, void *arg)
{
	struct http_conn	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	size_t			 n = evbuffer_get_length(in), end;
	const char		*p;

	if (c->state == HTTP_LINGERING) {
		evbuffer_drain(in, n);
		if ((c->nread += n) > HTTP_LINGER_MAX)
			http_conn_free(c);	/* enough: a reset it is */
		return;
	}
	if (c->state != HTTP_READING)
		return;
	c->nread = n;
	if (n > HTTP_MAX_HEAD)
		n = HTTP_MAX_HEAD;
	if ((p = (const char *)evbuffer_pullup(in, n)) == NULL)
		return;
	if ((end = http_parse_end(p, n)) != 0 && c->h->page != NULL)
		http_page_dispatch(c, p, end, c->nread);
	else if (end != 0)
		http_dispatch(c, p, end);
	else if (n >= HTTP_MAX_HEAD)
		http_refuse(c, 431, NULL);
}

/* The answer is written: shut our side, and wait a little for theirs. */
static void
http_conn_written(struct bufferevent *bev, void *arg)
{
	struct http_conn	*c = arg;

	if (c->state != HTTP_WRITING)
		return;
	c->state = HTTP_LINGERING;
	c->nread = 0;
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	evbuffer_drain(bufferevent_get_input(bev),
	    evbuffer_get_length(bufferevent_get_input(bev)));
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_enable(bev, EV_READ);
	http_timer_add(c->timer, HTTP_LINGER * 1000);
}

static void
http_conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn	*c = arg;

	/* The end of the stream or an error: nothing more to do with it. */
	http_conn_free(c);
}

static void
http_conn_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn	*c = arg;

	if (c->state == HTTP_READING)
		http_refused(c->h, "closed the connection from %s: no "
		    "complete request within %d s (%zu bytes)", c->peer,
		    HTTP_TIMEOUT, c->nread);
	else if (c->state == HTTP_BUSY)
		http_refused(c->h, "closed the connection from %s: no "
		    "answer ready within %d s", c->peer, HTTP_TIMEOUT);
	else if (c->state == HTTP_WRITING)
		http_refused(c->h, "closed the connection to %s: the answer "
		    "was not taken within %d s", c->peer, HTTP_TIMEOUT);
	http_conn_free(c);
}

static void
http_peer_name(evutil_socket_t fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof ss;

	snprintf(buf, len, "a local socket");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    buf, len);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    buf, len);
}

int
http_serve(struct http *h, evutil_socket_t fd)
{
	struct http_conn	*c, *old;

	if (h->nconns >= HTTP_MAX_CONNS &&
	    (old = TAILQ_FIRST(&h->conns)) != NULL) {
		http_refused(h, "at the limit of %d connections: closed the "
		    "oldest, from %s, %lld ms old", HTTP_MAX_CONNS, old->peer,
		    http_mono_ms() - old->since_ms);
		http_conn_free(old);
	}
	c = xcalloc(1, sizeof *c);
	c->h = h;
	c->since_ms = http_mono_ms();
	c->serial = ++h->serial;
	http_peer_name(fd, c->peer, sizeof c->peer);
	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    (c->bev = bufferevent_socket_new(h->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		evutil_closesocket(fd);
		free(c);
		return -1;
	}
	if ((c->timer = evtimer_new(h->base, http_conn_timeout, c)) == NULL) {
		bufferevent_free(c->bev);
		free(c);
		return -1;
	}
	TAILQ_INSERT_TAIL(&h->conns, c, entry);
	h->nconns++;
	bufferevent_setcb(c->bev, http_conn_read, http_conn_written,
	    http_conn_event, c);
	/* Reading stops at the limit of a head (and one byte more), or of a
	 * head and a body on the pages server. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_MAX_HEAD + 1 +
	    (h->page != NULL ? HTTP_MAX_BODY : 0));
	bufferevent_enable(c->bev, EV_READ);
	http_timer_add(c->timer, HTTP_TIMEOUT * 1000);
	return 0;
}

int
http_nconns(const struct http *h)
{
	return h->nconns;
}

/*
 * The listener.
 */

static void
http_resume(evutil_socket_t fd, short what, void *arg)
{
	struct http	*h = arg;

	h->burst = 0;
	if (h->paused && h->lev != NULL)
		evconnlistener_enable(h->lev);
	h->paused = 0;
}

static void
http_pause(struct http *h, long long ms)
{
	evconnlistener_disable(h->lev);
	h->paused = 1;
	http_timer_add(h->resume, ms);
}

static void
http_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct http	*h = arg;

	http_serve(h, fd);
	/* A burst: let the loop turn (closing what was freed) first. */
	if (++h->burst == 1)
		http_timer_add(h->resume, 0);
	else if (h->burst >= HTTP_MAX_CONNS && !h->paused)
		http_pause(h, 0);
}

/*
 * accept(2) failed, most likely EMFILE or ENFILE: out of descriptors. The
 * listener stays readable, so going on would spin. If we hold connections,
 * the oldest goes (its descriptor is free once the loop turns) and the
 * listener waits for that turn; else it waits a second.
 */
static void
http_accept_error(struct evconnlistener *lev, void *arg)
{
	struct http		*h = arg;
	struct http_conn	*old = TAILQ_FIRST(&h->conns);
	int			 err = EVUTIL_SOCKET_ERROR();

	if (old != NULL) {
		http_refused(h, "cannot accept a connection: %s; closed the "
		    "oldest, from %s, to make room", evutil_socket_error_to_string(
		    err), old->peer);
		http_conn_free(old);
		http_pause(h, 0);
		return;
	}
	http_pause(h, 1000);
	http_refused(h, "cannot accept a connection: %s; not accepting for "
	    "a second", evutil_socket_error_to_string(err));
}

struct http *
http_new(struct event_base *base, const struct metrics *m,
    http_health_fn *fn, void *arg)
{
	struct http	*h = xcalloc(1, sizeof *h);

	h->base = base;
	h->m = m;
	h->health = fn;
	h->arg = arg;
	TAILQ_INIT(&h->conns);
	if ((h->resume = evtimer_new(base, http_resume, h)) == NULL ||
	    (h->log_ev = evtimer_new(base, http_log_left, h)) == NULL) {
		http_free(h);
		return NULL;
	}
	return h;
}

struct http *
http_pages_new(struct event_base *base, http_page_fn *fn, void *arg)
{
	struct http	*h;

	if ((h = http_new(base, NULL, NULL, NULL)) == NULL)
		return NULL;
	h->page = fn;
	h->page_arg = arg;
	return h;
}

int
http_reply(struct http *h, unsigned long long conn, int code,
    const char *type, const char *extra, const char *body)
{
	struct http_conn	*c;

	TAILQ_FOREACH(c, &h->conns, entry)
		if (c->serial == conn)
			break;
	if (c == NULL || c->state != HTTP_BUSY)
		return -1;
	http_answer(c, c->head_only, code, type, extra, body);
	return 0;
}

int
http_listen(struct http *h, const char *host, int port, struct err *e)
{
	struct evutil_addrinfo	 hints, *ai = NULL;
	char			 serv[16];
	int			 rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
	snprintf(serv, sizeof serv, "%d", port);
	if ((rc = evutil_getaddrinfo(host, serv, &hints, &ai)) != 0)
		return err_set(e, "[%s] listen: cannot listen on %s:%d: %s",
		    h->page ? "web" : "http", host, port,
		    evutil_gai_strerror(rc));
	h->lev = evconnlistener_new_bind(h->base, http_accept, h,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (h->lev == NULL)
		return err_set(e, "[%s] listen: cannot listen on %s:%d",
		    h->page ? "web" : "http", host, port);
	evconnlistener_set_error_cb(h->lev, http_accept_error);
	return 0;
}

struct http *
http_start(struct event_base *base, const char *host, int port,
    const struct metrics *m, http_health_fn *fn, void *arg, struct err *e)
{
	struct http	*h;

	if ((h = http_new(base, m, fn, arg)) == NULL) {
		err_set(e, "cannot create the HTTP server");
		return NULL;
	}
	if (http_listen(h, host, port, e) == -1) {
		http_free(h);
		return NULL;
	}
	return h;
}

void
http_free(struct http *h)
{
	struct http_conn	*c;

	if (h == NULL)
		return;
	if (h->lev != NULL)
		evconnlistener_free(h->lev);
	while ((c = TAILQ_FIRST(&h->conns)) != NULL)
		http_conn_free(c);
	if (h->log_ev != NULL) {
		http_log_left(-1, 0, h);
		event_free(h->log_ev);
	}
	if (h->resume != NULL)
		event_free(h->resume);
	free(h);
}

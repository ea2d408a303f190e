/*
 * http.c: the daemon's small HTTP face, for probes and Prometheus.
 * Main thread only (evhttp runs on the main event base).
 *
 *   GET /healthz  200 {"status":"ok"} or 503 {"status":"unavailable",
 *                 "reason":"..."}
 *   GET /metrics  text/plain; version=0.0.4, names start with hearback_
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http.h"
#include "log.h"
#include "metrics.h"

struct http {
	struct evhttp		*h;
	const struct metrics	*m;
	http_health_fn		*health;
	void			*arg;
};

static void
http_reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, const char *body)
{
	struct evbuffer	*b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", type);
	evbuffer_add(b, body, strlen(body));
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void
http_healthz(struct evhttp_request *req, void *arg)
{
	struct http	*h = arg;
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
	http_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable",
	    "application/json", body);
}

static void
http_metrics(struct evhttp_request *req, void *arg)
{
	struct http	*h = arg;
	struct buf	 b;

	buf_init(&b);
	metrics_render(h->m, &b);
	http_reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
	    b.s ? b.s : "");
	buf_free(&b);
}

static void
http_other(struct evhttp_request *req, void *arg)
{
	http_reply(req, 404, "Not Found", "text/plain",
	    "not found: try /healthz or /metrics\n");
}

struct http *
http_start(struct event_base *base, const char *host, int port,
    const struct metrics *m, http_health_fn *fn, void *arg, struct err *e)
{
	struct http	*h = xcalloc(1, sizeof *h);

	h->m = m;
	h->health = fn;
	h->arg = arg;
	if ((h->h = evhttp_new(base)) == NULL) {
		free(h);
		err_set(e, "cannot create the HTTP server");
		return NULL;
	}
	evhttp_set_allowed_methods(h->h, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(h->h, 10);
	evhttp_set_cb(h->h, "/healthz", http_healthz, h);
	evhttp_set_cb(h->h, "/metrics", http_metrics, h);
	evhttp_set_gencb(h->h, http_other, h);
	if (evhttp_bind_socket(h->h, host, port) != 0) {
		evhttp_free(h->h);
		free(h);
		err_set(e, "[http] listen: cannot listen on %s:%d", host, port);
		return NULL;
	}
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	evhttp_free(h->h);
	free(h);
}

/*
 * http.h: GET /healthz and GET /metrics on [http] listen, with evhttp on
 * the main loop. Main thread only.
 */
#ifndef HB_HTTP_H
#define HB_HTTP_H

#include <event2/event.h>

#include "util.h"

struct metrics;
struct http;

/* Health: fills why and returns 1 when healthy. */
typedef int http_health_fn(void *arg, char *why, size_t len);

struct http	*http_start(struct event_base *, const char *host, int port,
		    const struct metrics *, http_health_fn *, void *arg,
		    struct err *e);
void		 http_free(struct http *);

#endif

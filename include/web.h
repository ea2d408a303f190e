/*
 * web.h: the pages collaborators answer on (SPEC section 9), served on
 * [web] listen by the daemon's own HTTP server (http.h). Main (libevent)
 * thread only: the pages read and write Redis over the daemon's ops
 * connection.
 *
 *   /answer?t=T&a=yes|no|maybe   GET shows the choice and a button; POST
 *                                (t and a in the query or the form) records
 *   /prefs?t=T                   GET the form; POST saves it
 *   /unsubscribe?t=T             GET a page with a button; POST (RFC 8058
 *                                one-click, or the button) stops that kind
 *
 * It also sends the coordinator notices these cause, and starts the
 * answers summary of each meeting whose first reminder fell due
 * (summary.h). The pages' words and markup are templates (page.h).
 */
#ifndef HB_WEB_H
#define HB_WEB_H

#include <event2/event.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "util.h"

struct config;
struct rconn;
struct tmplset;
struct web;

/* NULL with e set when the listener cannot start. The config and the
 * templates are referenced; web_set_config and web_set_templates swap
 * them (SIGHUP: the listener stays). The pages' words are the templates'
 * page_* (page.h). */
struct web	*web_start(struct event_base *, struct config *,
		    struct tmplset *, struct rconn *ops, struct err *e);
void		 web_set_config(struct web *, struct config *);
void		 web_set_templates(struct web *, struct tmplset *);
void		 web_free(struct web *);

/* For summary.c. Commit a notice (plan_notice) to to, over ops. */
void		 web_notice(struct config *, struct rconn *ops,
		    const char *did, const char *to, const char *title,
		    json_t *lines, const char *about);
/* The organiser's address of meeting m, else its coordinator's, else
 * ours. */
const char	*web_organiser(struct config *, json_t *m);
/* The record inside a stored wrapper ({"record": {...}}), or NULL. */
json_t		*web_record(const redisReply *);

/* URL-decode a form or query value named name from s ("a=1&b=2") into
 * out; 1 found, 0 not (pure, for tests). */
int		 web_param(const char *s, size_t len, const char *name,
		    char *out, size_t outlen);

#endif

/*
 * web.c: the pages of SPEC section 9 (web.h lists them): requests, tokens,
 * reading the person's state, recording answers and choices, and replies.
 * What a page says and how it looks is not here: page.c builds each
 * page's context as data and renders it from the templates (page_*.html),
 * which this file holds a reference to (web_set_templates: SIGHUP). The
 * answers summary is summary.c's; this file starts and frees it.
 *
 * Owns: the pages listener (http.c), a config and a tmplset reference, and
 * each request (struct web_rq) from its arrival to its reply. Main
 * (libevent) thread only: it reads and writes Redis over the daemon's ops
 * connection, which it borrows.
 *
 * A request comes from http.c (the pages server: same limits as the health
 * listener) with its token in the query or the form. The token (token.h)
 * says who and what; nothing else in a URL does. Each page first reads the
 * person's state (answer.lua "ctx": meeting, collaborator record, answer,
 * preferences) and answers in the person's format (their own choice, else
 * their record's; plain text shows as standard). A GET never changes
 * anything: mail scanners and link previews follow links. A POST records,
 * idempotently (the same answer twice changes nothing and tells no one
 * twice), needs no cookie, and never redirects.
 *
 * Status codes: 200; 400 no token or a garbled one, or a bad answer; 403 a
 * token that was changed or made for another page; 404 another path; 405
 * another method (http.c); 410 a token past its expiry, or a meeting that
 * has started or was cancelled; 500 a page whose template does not render;
 * 503 Redis not there.
 *
 * Notices to the organiser (else the coordinator): "can't come" at once.
 * Notices to the coordinator: each change of preferences. They are
 * deliveries of kind "notice" (plan_notice), committed here (web_notice,
 * which summary.c uses too). Logs name collaborators by id only.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "answer.h"
#include "clock.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "page.h"
#include "plan.h"
#include "rconn.h"
#include "store.h"
#include "summary.h"
#include "tmpl.h"
#include "token.h"
#include "web.h"

enum web_page { WEB_ANSWER, WEB_PREFS, WEB_UNSUB };

struct web {
	struct event_base	*base;
	struct config		*cf;
	struct rconn		*ops;
	struct tmplset		*tmpl;		/* the pages: held */
	struct http		*http;
	struct summary		*sum;		/* summaries */
};

/* One request, from the page function to the reply. */
struct web_rq {
	struct web		*w;
	unsigned long long	 conn;
	enum web_page		 page;
	int			 post;
	struct token		 t;
	char			 tok[512];
	char			 ans[8];	/* answer page: yes, no, maybe */
	char			*body;		/* a POST's form */
	size_t			 blen;
	json_t			*meeting;	/* record, or NULL */
	json_t			*collab;	/* record, or NULL */
	json_t			*answer;	/* {"a":...}, or NULL */
	json_t			*prefs;		/* field -> value */
	const char		*fmt;		/* standard, easy-read, large-print */
	long long		 start, end;	/* the meeting's, seconds */
	const char		*tz;
};

static void
web_rq_free(struct web_rq *q)
{
	free(q->body);
	json_decref(q->meeting);
	json_decref(q->collab);
	json_decref(q->answer);
	json_decref(q->prefs);
	free(q);
}

/*
 * Forms and queries.
 */

static int
web_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
web_param(const char *s, size_t len, const char *name, char *out,
    size_t outlen)
{
	const char	*p = s, *end = s + len, *amp, *eq;
	size_t		 nl = strlen(name), o;
	int		 h, l;

	while (p < end) {
		if ((amp = memchr(p, '&', end - p)) == NULL)
			amp = end;
		eq = memchr(p, '=', amp - p);
		if ((eq ? (size_t)(eq - p) : (size_t)(amp - p)) == nl &&
		    memcmp(p, name, nl) == 0) {
			o = 0;
			for (p = eq ? eq + 1 : amp; p < amp; p++) {
				int c = (unsigned char)*p;

				if (c == '+')
					c = ' ';
				else if (c == '%' && amp - p >= 3 &&
				    (h = web_hex(p[1])) >= 0 &&
				    (l = web_hex(p[2])) >= 0) {
					c = h * 16 + l;
					p += 2;
				}
				if (c == '\0' || o + 1 >= outlen)
					return 0;
				out[o++] = (char)c;
			}
			out[o] = '\0';
			return 1;
		}
		p = amp + 1;
	}
	return 0;
}

/*
 * Replies.
 */

static void
web_send(struct web_rq *q, int code, struct buf *b)
{
	if (http_reply(q->w->http, q->conn, code, "text/html; charset=utf-8",
	    "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Security-Policy: default-src 'none'; style-src "
	    "'unsafe-inline'; form-action 'self'; frame-ancestors 'none'\r\n",
	    b->s ? b->s : "") == -1)
		log_debug("web: the connection went before the answer");
	buf_free(b);
}

/* Render kind on ctx (taken) in the person's format and send it with
 * code. A template that does not render (a set without the pages: -t and
 * SIGHUP refuse one while the pages are on) is a 500 with no body. */
static void
web_page(struct web_rq *q, int code, const char *kind, json_t *ctx)
{
	struct buf	b;
	struct err	e;

	buf_init(&b);
	if (page_render(q->w->tmpl, kind, q->fmt, ctx, &b, &e) == -1) {
		log_warnx("web: %s: %s", kind, e.msg);
		buf_free(&b);
		buf_init(&b);
		code = 500;
	}
	json_decref(ctx);
	web_send(q, code, &b);
}

/* A page that only says something: why names it (page_message). */
static void
web_message(struct web_rq *q, int code, const char *why)
{
	web_page(q, code, "page_message", page_message_ctx(q->fmt, why));
}

static void
web_token_refused(struct web_rq *q, int status)
{
	int	code = token_http_status(status);

	q->fmt = "standard";
	web_message(q, code, code == 410 ? "link_expired" : code == 403 ?
	    "link_wrong" : "link_incomplete");
}

static const char *
web_str(json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/*
 * Notices (to the coordinator or organiser: worded as the other notices,
 * plan_notice's lines; not a page).
 */

static const char *
web_notice_class(const char *class)
{
	if (strcmp(class, "announcements") == 0)
		return "announcements";
	if (strcmp(class, "outcomes") == 0)
		return "\u201cyou said, we did\u201d emails";
	return "meeting invitations, updates and reminders";
}

static void
web_on_commit(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply	*x = r;
	char		*did = priv;

	if (x == NULL || x->type == REDIS_REPLY_ERROR)
		log_warnx("web: notice %s not stored: %s", did,
		    x ? x->str : "Redis went away");
	free(did);
}

void
web_notice(struct config *cf, struct rconn *ops_conn, const char *did,
    const char *to, const char *title, json_t *lines, const char *about)
{
	struct plan_ctx	 pc = { cf, util_now_ms(), "" };
	json_t		*ops = json_array();
	char		*d = xstrdup(did);

	plan_notice(ops, &pc, did, to, title, lines, about);
	if (store_commit(ops_conn, cf->prefix, "", "", ops, web_on_commit,
	    d) == -1) {
		log_warnx("web: notice %s not stored: Redis is not connected",
		    did);
		free(d);
	}
	json_decref(ops);
}

/* The organiser's address, else the meeting's coordinator, else ours. */
const char *
web_organiser(struct config *cf, json_t *m)
{
	const char	*s = web_str(json_object_get(m, "organiser"), "email");

	if (*s == '\0')
		s = web_str(m, "coordinator");
	return *s ? s : cf->coordinator;
}

/*
 * The answer page.
 */

static void
web_answer_page(struct web_rq *q, int saved)
{
	char	when[200];

	clock_format_range(q->start, q->end, q->tz, when, sizeof when);
	web_page(q, 200, "page_answer", page_answer_ctx(q->fmt, q->tok,
	    q->ans, saved, web_str(q->meeting, "title"), when, q->answer));
}

static void
web_on_set(redisAsyncContext *ac, void *r, void *priv)
{
	struct web_rq	*q = priv;
	redisReply	*x = r;
	const char	*st;
	json_t		*lines;
	char		*line, *did, at[32];

	if (x == NULL || x->type != REDIS_REPLY_ARRAY || x->elements != 2 ||
	    x->element[0]->type != REDIS_REPLY_STRING) {
		web_message(q, 503, "answer_not_saved");
		goto out;
	}
	st = x->element[0]->str;
	if (strcmp(st, "changed") == 0) {
		log_info("web: collaborator %s answered %s for meeting %s",
		    q->t.person, q->ans, q->t.subject);
		if (strcmp(q->ans, "no") == 0) {
			lines = json_array();
			line = xasprintf("Collaborator %s has said they cannot "
			    "come to meeting %s (\"%s\"). They will get no more "
			    "reminders for it.", q->t.person, q->t.subject,
			    web_str(q->meeting, "title"));
			json_array_append_new(lines, json_string(line));
			free(line);
			snprintf(at, sizeof at, "%lld", util_now_ms());
			did = store_did("notice", "answer", q->t.subject,
			    q->t.person, at, NULL);
			web_notice(q->w->cf, q->w->ops, did,
			    web_organiser(q->w->cf, q->meeting),
			    "Someone cannot come to a meeting", lines,
			    q->t.subject);
			free(did);
			json_decref(lines);
		}
	} else if (strcmp(st, "same") != 0) {
		web_message(q, 410, "meeting_gone");
		goto out;
	}
	web_answer_page(q, 1);
out:
	web_rq_free(q);
}

static void
web_answer(struct web_rq *q)
{
	long long	now = util_now_ms() / 1000;
	char		ms[32];
	struct err	e;

	if (q->meeting == NULL) {
		web_message(q, 410, "meeting_gone");
		goto done;
	}
	q->tz = json_string_value(json_object_get(q->meeting, "timezone"));
	if (q->tz == NULL)
		q->tz = q->w->cf->timezone;
	if (clock_parse_local(web_str(q->meeting, "start"), q->tz, &q->start,
	    &e) == -1 || clock_parse_local(web_str(q->meeting, "end"), q->tz,
	    &q->end, &e) == -1) {
		log_warnx("web: meeting %s: %s", q->t.subject, e.msg);
		web_message(q, 500, "meeting_broken");
		goto done;
	}
	if (strcmp(web_str(q->meeting, "status"), "cancelled") == 0) {
		web_message(q, 410, "meeting_cancelled");
		goto done;
	}
	if (now >= q->start) {
		web_message(q, 410, "meeting_started");
		goto done;
	}
	if (!answer_valid(q->ans)) {
		web_message(q, 400, "link_incomplete");
		goto done;
	}
	if (!q->post) {
		web_answer_page(q, 0);
		goto done;
	}
	snprintf(ms, sizeof ms, "%lld", util_now_ms());
	if (answer_call(q->w->ops, q->w->cf->prefix, web_on_set, q, "set",
	    q->t.subject, q->t.person, q->ans, ms, "web", NULL) == 0)
		return;
	web_message(q, 503, "answer_not_saved");
done:
	web_rq_free(q);
}

/*
 * Preferences and unsubscribing.
 */

static const char *const web_classes[] = ANSWER_CLASSES;
#define WEB_NCLASSES	(sizeof web_classes / sizeof web_classes[0])

static void
web_prefs_page(struct web_rq *q, int saved)
{
	web_page(q, 200, "page_prefs", page_prefs_ctx(q->fmt, q->tok, saved,
	    q->prefs, q->collab, q->w->cf->timezone));
}

static void
web_unsub_page(struct web_rq *q, int saved)
{
	web_page(q, 200, "page_unsub", page_unsub_ctx(q->fmt, q->tok,
	    q->t.subject, saved));
}

static void
web_on_pref(redisAsyncContext *ac, void *r, void *priv)
{
	struct web_rq	*q = priv;
	redisReply	*x = r;
	json_t		*lines;
	char		*line, *did, at[32];
	size_t		 i;

	if (x == NULL || x->type != REDIS_REPLY_ARRAY) {
		web_message(q, 503, "choice_not_saved");
		goto out;
	}
	if (x->elements > 0) {
		lines = json_array();
		for (i = 0; i + 2 < x->elements; i += 3) {
			const char *f = x->element[i]->str;
			const char *v = x->element[i + 2]->str;

			json_object_set_new(q->prefs, f, json_string(v));
			if (strncmp(f, "stop:", 5) == 0)
				line = xasprintf("%s %s.", *v ? "Stopped" :
				    "Wants again", web_notice_class(f + 5));
			else if (strcmp(f, "consent") == 0)
				line = xstrdup(*v ? "Stopped all emails." :
				    "Wants emails again.");
			else if (strcmp(f, "format") == 0)
				line = xasprintf("Format: %s.", v);
			else if (strcmp(f, "pause_until") == 0 && *v) {
				char d[64];

				clock_format_date(atoll(v) / 1000,
				    q->w->cf->timezone, d, sizeof d);
				line = xasprintf("Paused emails until %s.", d);
			} else if (strcmp(f, "pause_until") == 0)
				line = xstrdup("Ended the pause.");
			else
				continue;
			json_array_append_new(lines, json_string(line));
			free(line);
		}
		line = xasprintf("Collaborator %s changed their email choices "
		    "on the web page. What they chose wins over their "
		    "collaborator record until they change it:", q->t.person);
		json_array_insert_new(lines, 0, json_string(line));
		free(line);
		log_info("web: collaborator %s changed their email choices",
		    q->t.person);
		snprintf(at, sizeof at, "%lld", util_now_ms());
		did = store_did("notice", "prefs", q->t.person, at, NULL);
		web_notice(q->w->cf, q->w->ops, did, q->w->cf->coordinator,
		    "A collaborator "
		    "changed their email choices", lines, q->t.person);
		free(did);
		json_decref(lines);
	}
	if (q->page == WEB_UNSUB)
		web_unsub_page(q, 1);
	else
		web_prefs_page(q, 1);
out:
	web_rq_free(q);
}

/* A POST of the preferences form into field, value pairs. */
static int
web_prefs_args(struct web_rq *q, const char **args, char store[][32],
    int *n)
{
	char		v[32], name[40];
	long long	t;
	size_t		i;
	int		k = 0;

	if (web_param(q->body, q->blen, "format", v, sizeof v)) {
		if (strcmp(v, "standard") != 0 && strcmp(v, "easy-read") != 0 &&
		    strcmp(v, "large-print") != 0 &&
		    strcmp(v, "plain-text") != 0)
			return -1;
		snprintf(store[k], 32, "%s", v);
		args[*n] = "format";
		args[*n + 1] = store[k++];
		*n += 2;
	}
	args[*n] = "pause_until";
	args[*n + 1] = "";
	if (web_param(q->body, q->blen, "pause_until", v, sizeof v) && *v) {
		if (clock_parse_date(v, q->w->cf->timezone, &t, NULL) == -1)
			return -1;
		snprintf(store[k], 32, "%lld", t * 1000);
		args[*n + 1] = store[k++];
	}
	*n += 2;
	for (i = 0; i < WEB_NCLASSES; i++) {
		snprintf(name, sizeof name, "stop_%s", web_classes[i]);
		snprintf(store[k], 32, "stop:%s", web_classes[i]);
		args[*n] = store[k++];
		args[*n + 1] = web_param(q->body, q->blen, name, v, sizeof v) &&
		    strcmp(v, "1") == 0 ? "1" : "";
		*n += 2;
	}
	args[*n] = "consent";
	args[*n + 1] = web_param(q->body, q->blen, "everything", v, sizeof v) &&
	    strcmp(v, "1") == 0 ? "false" : "";
	*n += 2;
	return 0;
}

static void
web_prefs(struct web_rq *q)
{
	const char	*args[32];
	char		 store[8][32], ms[32], field[TOKEN_ID_MAX + 8];
	int		 n = 0, i;
	const char	*full[40];

	if (q->collab == NULL) {
		web_message(q, 410, "no_emails");
		goto done;
	}
	if (!q->post) {
		if (q->page == WEB_UNSUB)
			web_unsub_page(q, 0);
		else
			web_prefs_page(q, 0);
		goto done;
	}
	if (q->page == WEB_UNSUB) {
		if (answer_class_valid(q->t.subject) == 0) {
			web_message(q, 400, "unsub_incomplete");
			goto done;
		}
		snprintf(field, sizeof field, "stop:%s", q->t.subject);
		args[n++] = field;
		args[n++] = "1";
	} else if (web_prefs_args(q, args, store, &n) == -1) {
		web_message(q, 400, "choices_wrong");
		goto done;
	}
	snprintf(ms, sizeof ms, "%lld", util_now_ms());
	full[0] = q->t.person;
	full[1] = ms;
	for (i = 0; i < n; i++)
		full[i + 2] = args[i];
	if (answer_callv(q->w->ops, q->w->cf->prefix, web_on_pref, q, "pref",
	    n + 2, full) == 0)
		return;
	web_message(q, 503, "choice_not_saved");
done:
	web_rq_free(q);
}

/*
 * Requests.
 */

json_t *
web_record(const redisReply *r)
{
	json_t	*w, *rec;

	if (r == NULL || r->type != REDIS_REPLY_STRING || r->len == 0 ||
	    (w = json_loadb(r->str, r->len, 0, NULL)) == NULL)
		return NULL;
	rec = json_incref(json_object_get(w, "record"));
	json_decref(w);
	return json_is_object(rec) ? rec : (json_decref(rec), NULL);
}

static void
web_on_ctx(redisAsyncContext *ac, void *r, void *priv)
{
	struct web_rq	*q = priv;
	redisReply	*x = r;
	const char	*f;

	if (x == NULL || x->type != REDIS_REPLY_ARRAY || x->elements != 4) {
		web_message(q, 503, "unavailable");
		web_rq_free(q);
		return;
	}
	q->meeting = web_record(x->element[0]);
	q->collab = web_record(x->element[1]);
	if (x->element[2]->type == REDIS_REPLY_STRING && x->element[2]->len)
		q->answer = json_loadb(x->element[2]->str, x->element[2]->len,
		    0, NULL);
	q->prefs = answer_flat(x->element[3]);
	f = web_str(q->prefs, "format");
	if (*f == '\0')
		f = web_str(q->collab, "format");
	q->fmt = strcmp(f, "easy-read") == 0 ? "easy-read" :
	    strcmp(f, "large-print") == 0 ? "large-print" : "standard";
	if (q->page == WEB_ANSWER)
		web_answer(q);
	else
		web_prefs(q);
}

static void
web_on_page(void *arg, struct http *h, unsigned long long conn,
    const struct http_req *r, const char *body, size_t len)
{
	struct web	*w = arg;
	struct web_rq	*q = xcalloc(1, sizeof *q);
	enum token_purpose want;
	int		 st;

	q->w = w;
	q->conn = conn;
	q->fmt = "standard";
	q->post = r->method == HTTP_POST;
	if (q->post) {
		q->body = xstrndup(body, len);
		q->blen = len;
	}
	if (r->path_long)
		goto notfound;
	if (strcmp(r->path, "/answer") == 0) {
		q->page = WEB_ANSWER;
		want = TOKEN_ANSWER;
	} else if (strcmp(r->path, "/prefs") == 0) {
		q->page = WEB_PREFS;
		want = TOKEN_PREFS;
	} else if (strcmp(r->path, "/unsubscribe") == 0) {
		q->page = WEB_UNSUB;
		want = TOKEN_UNSUB;
	} else
		goto notfound;
	if (r->query_long || (!web_param(r->query, strlen(r->query), "t",
	    q->tok, sizeof q->tok) && !(q->post && web_param(q->body, q->blen,
	    "t", q->tok, sizeof q->tok)))) {
		web_token_refused(q, TOKEN_MALFORMED);
		goto out;
	}
	if (q->page == WEB_ANSWER && !(q->post && web_param(q->body, q->blen,
	    "a", q->ans, sizeof q->ans)))
		web_param(r->query, strlen(r->query), "a", q->ans,
		    sizeof q->ans);
	if ((st = token_open(w->cf->web_key, q->tok, want,
	    util_now_ms() / 1000, &q->t)) != TOKEN_OK) {
		web_token_refused(q, st);
		goto out;
	}
	if (answer_call(w->ops, w->cf->prefix, web_on_ctx, q, "ctx",
	    q->page == WEB_ANSWER ? q->t.subject : "", q->t.person,
	    NULL) == 0)
		return;
	web_message(q, 503, "unavailable");
	goto out;
notfound:
	web_message(q, 404, "not_found");
out:
	web_rq_free(q);
}

struct web *
web_start(struct event_base *base, struct config *cf, struct tmplset *t,
    struct rconn *ops, struct err *e)
{
	struct web	*w = xcalloc(1, sizeof *w);

	w->base = base;
	w->cf = config_ref(cf);
	w->tmpl = tmplset_ref(t);
	w->ops = ops;
	if ((w->sum = summary_start(base, cf, ops, e)) == NULL)
		goto err;
	if (cf->web_base_url == NULL || cf->web_host[0] == '\0')
		return w;	/* summaries only */
	if ((w->http = http_pages_new(base, web_on_page, w)) == NULL) {
		err_set(e, "web: cannot create the pages server");
		goto err;
	}
	if (http_listen(w->http, cf->web_host, cf->web_port, e) == -1)
		goto err;
	log_info("web: pages on %s:%d for %s", cf->web_host, cf->web_port,
	    cf->web_base_url);
	return w;
err:
	web_free(w);
	return NULL;
}

void
web_set_config(struct web *w, struct config *cf)
{
	struct config	*old = w->cf;

	/* The listener stays where it is; the key and base URL follow. */
	if (cf->web_key == NULL && old->web_key != NULL)
		return;
	w->cf = config_ref(cf);
	config_unref(old);
	summary_set_config(w->sum, cf);
}

void
web_set_templates(struct web *w, struct tmplset *t)
{
	struct tmplset	*old = w->tmpl;

	w->tmpl = tmplset_ref(t);
	tmplset_unref(old);
}

void
web_free(struct web *w)
{
	if (w == NULL)
		return;
	http_free(w->http);
	summary_free(w->sum);
	tmplset_unref(w->tmpl);
	config_unref(w->cf);
	free(w);
}

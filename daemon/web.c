/*
 * web.c: the pages of SPEC section 9 (web.h lists them). Main thread only.
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
 * has started or was cancelled.
 *
 * Notices to the organiser (else the coordinator): "can't come" at once;
 * the answers summary when a meeting's first reminder is due (gate.lua
 * marks it, a timer here sends it). Notices to the coordinator: each change
 * of preferences. They are deliveries of kind "notice" (plan_notice),
 * committed here. Logs name collaborators by id only.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "access.h"
#include "answer.h"
#include "clock.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "plan.h"
#include "rconn.h"
#include "store.h"
#include "token.h"
#include "web.h"

#define WEB_SUMMARY_EVERY	5	/* seconds between looks at sumdue */

enum web_page { WEB_ANSWER, WEB_PREFS, WEB_UNSUB };

struct web {
	struct event_base	*base;
	struct config		*cf;
	struct rconn		*ops;
	struct http		*http;
	struct event		*tick;		/* answers summaries */
	int			 busy;		/* a summary call in flight */
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
 * HTML.
 */

static void
web_esc(struct buf *b, const char *s)
{
	for (; s != NULL && *s; s++) {
		switch (*s) {
		case '&':	buf_adds(b, "&amp;"); break;
		case '<':	buf_adds(b, "&lt;"); break;
		case '>':	buf_adds(b, "&gt;"); break;
		case '"':	buf_adds(b, "&quot;"); break;
		case '\'':	buf_adds(b, "&#39;"); break;
		default:	buf_addc(b, *s);
		}
	}
}

static const char *
web_w(const char *fmt, const char *standard, const char *easy)
{
	return strcmp(fmt, "easy-read") == 0 ? easy : standard;
}

/* Large, high-contrast, no JavaScript; sizes by format. */
static void
web_head(struct buf *b, const char *fmt, const char *title)
{
	const char	*size = strcmp(fmt, "large-print") == 0 ? "1.75rem" :
			    strcmp(fmt, "easy-read") == 0 ? "1.4rem" : "1.15rem";

	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n"
	    "<meta name=\"robots\" content=\"noindex\">\n<title>");
	web_esc(b, title);
	buf_printf(b, "</title>\n<style>\n"
	    "body{margin:0;background:#fff;color:#1a1a1a;"
	    "font-family:Arial,Helvetica,sans-serif;font-size:%s;"
	    "line-height:%s}\n"
	    "main{max-width:40em;margin:0 auto;padding:1rem}\n"
	    "h1{font-size:1.6em;line-height:1.25}\n"
	    "a{color:#1d4f91}\n"
	    "a:focus,button:focus,input:focus{outline:3px solid #b35c00;"
	    "outline-offset:2px}\n"
	    "button{font:inherit;color:#fff;background:#1d4f91;border:2px "
	    "solid #1d4f91;border-radius:4px;padding:.6em 1.2em;"
	    "min-height:44px;cursor:pointer}\n"
	    "fieldset{border:1px solid #595959;margin:0 0 1.2em;"
	    "padding:.6em 1em;min-width:0}\nlegend{font-weight:bold}\n"
	    "p,li,label,legend{overflow-wrap:break-word}\n"
	    "label{display:inline-block;padding:.3em 0}\n"
	    ".opt{display:flex;align-items:flex-start;gap:.6em;"
	    "margin:.3em 0}\n"
	    ".opt input{flex:none;width:1.5em;height:1.5em;margin:.25em 0 0}"
	    "\n"
	    "input[type=date]{font:inherit;padding:.3em;max-width:100%%;"
	    "box-sizing:border-box}\n"
	    "ul.choices{list-style:none;padding:0}\n"
	    "ul.choices li{margin:.6em 0}\n"
	    ".box{border-left:6px solid #1d4f91;padding:.2em 1em;"
	    "margin:1em 0}\n"
	    "</style>\n</head>\n<body>\n<main>\n", size,
	    strcmp(fmt, "easy-read") == 0 ? "1.8" : "1.6");
}

static void
web_foot(struct buf *b)
{
	buf_adds(b, "</main>\n</body>\n</html>\n");
}

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

/* A page that only says something: errors and the like. */
static void
web_message(struct web_rq *q, int code, const char *fmt, const char *title,
    const char *text)
{
	struct buf	b;

	buf_init(&b);
	web_head(&b, fmt, title);
	buf_adds(&b, "<h1>");
	web_esc(&b, title);
	buf_adds(&b, "</h1>\n<p>");
	web_esc(&b, text);
	buf_adds(&b, "</p>\n");
	web_foot(&b);
	web_send(q, code, &b);
}

static void
web_token_refused(struct web_rq *q, int status)
{
	int	code = token_http_status(status);

	if (code == 410)
		web_message(q, 410, "standard", "This link has expired",
		    "This link no longer works. If you need to tell us "
		    "something, reply to one of our emails.");
	else if (code == 403)
		web_message(q, 403, "standard", "This link does not work",
		    "This link is not right for this page. Please use the "
		    "link in your email exactly as it is.");
	else
		web_message(q, 400, "standard", "This link is not complete",
		    "Part of this link is missing. Please use the whole "
		    "link from your email.");
}

/*
 * Words.
 */

static const char *
web_answer_words(const char *a, const char *fmt)
{
	if (strcmp(a, "yes") == 0)
		return "I can come";
	if (strcmp(a, "no") == 0)
		return web_w(fmt, "I can\u2019t come", "I cannot come");
	return "I am not sure yet";
}

static const char *
web_class_words(const char *class)
{
	if (strcmp(class, "announcements") == 0)
		return "announcements";
	if (strcmp(class, "outcomes") == 0)
		return "\u201cyou said, we did\u201d emails";
	return "meeting invitations, updates and reminders";
}

static const char *
web_str(json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/*
 * Notices.
 */

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

static void
web_notice(struct web *w, const char *did, const char *to, const char *title,
    json_t *lines, const char *about)
{
	struct plan_ctx	 pc = { w->cf, util_now_ms(), "" };
	json_t		*ops = json_array();
	char		*d = xstrdup(did);

	plan_notice(ops, &pc, did, to, title, lines, about);
	if (store_commit(w->ops, w->cf->prefix, "", "", ops, web_on_commit,
	    d) == -1) {
		log_warnx("web: notice %s not stored: Redis is not connected",
		    did);
		free(d);
	}
	json_decref(ops);
}

/* The organiser's address, else the meeting's coordinator, else ours. */
static const char *
web_organiser(struct web *w, json_t *m)
{
	const char	*s = web_str(json_object_get(m, "organiser"), "email");

	if (*s == '\0')
		s = web_str(m, "coordinator");
	return *s ? s : w->cf->coordinator;
}

/*
 * The answer page.
 */

static void
web_answer_links(struct buf *b, struct web_rq *q, const char *except)
{
	static const char *const all[] = { "yes", "no", "maybe" };
	size_t		i;

	buf_adds(b, "<ul class=\"choices\">\n");
	for (i = 0; i < 3; i++) {
		if (except != NULL && strcmp(all[i], except) == 0)
			continue;
		buf_printf(b, "<li><a href=\"answer?t=%s&amp;a=%s\">", q->tok,
		    all[i]);
		web_esc(b, web_answer_words(all[i], q->fmt));
		buf_adds(b, "</a></li>\n");
	}
	buf_adds(b, "</ul>\n");
}

static void
web_meeting_box(struct buf *b, struct web_rq *q)
{
	char	when[200];

	clock_format_range(q->start, q->end, q->tz, when, sizeof when);
	buf_adds(b, "<div class=\"box\">\n<p><strong>");
	web_esc(b, web_str(q->meeting, "title"));
	buf_adds(b, "</strong><br>\n");
	web_esc(b, when);
	buf_adds(b, "</p>\n</div>\n");
}

static void
web_answer_page(struct web_rq *q, int saved)
{
	struct buf	 b;
	const char	*now = q->answer ? web_str(q->answer, "a") : "";

	buf_init(&b);
	if (saved) {
		web_head(&b, q->fmt, "Thank you: we have your answer");
		buf_adds(&b, "<h1>Thank you</h1>\n");
		web_meeting_box(&b, q);
		buf_adds(&b, "<p>We have your answer: <strong>");
		web_esc(&b, web_answer_words(q->ans, q->fmt));
		buf_adds(&b, "</strong>.</p>\n");
		if (strcmp(q->ans, "no") == 0)
			buf_adds(&b, web_w(q->fmt, "<p>We will not send you "
			    "reminders for this meeting, and we have told the "
			    "organiser.</p>\n", "<p>We will not send you "
			    "reminders for this meeting.</p>\n<p>We have told "
			    "the organiser.</p>\n"));
		buf_adds(&b, web_w(q->fmt, "<p>You can change your answer "
		    "until the meeting starts:</p>\n", "<p>You can change "
		    "your answer. Do this before the meeting starts.</p>\n"));
		web_answer_links(&b, q, q->ans);
	} else {
		web_head(&b, q->fmt, "Your answer");
		buf_adds(&b, web_w(q->fmt, "<h1>Can you come?</h1>\n",
		    "<h1>Can you come to the meeting?</h1>\n"));
		web_meeting_box(&b, q);
		if (*now != '\0' && json_is_true(json_object_get(q->answer,
		    "stale"))) {
			buf_adds(&b, "<p>Before the meeting changed, you said: "
			    "<strong>");
			web_esc(&b, web_answer_words(now, q->fmt));
			buf_adds(&b, "</strong>. Please tell us again.</p>\n");
		} else if (*now != '\0') {
			buf_adds(&b, "<p>Your answer now: <strong>");
			web_esc(&b, web_answer_words(now, q->fmt));
			buf_adds(&b, "</strong>.</p>\n");
		}
		buf_printf(&b, "<form method=\"post\" action=\"answer?t=%s&amp;"
		    "a=%s\">\n<input type=\"hidden\" name=\"t\" value=\"%s\">\n"
		    "<input type=\"hidden\" name=\"a\" value=\"%s\">\n"
		    "<p><button type=\"submit\">Send my answer: ", q->tok,
		    q->ans, q->tok, q->ans);
		web_esc(&b, web_answer_words(q->ans, q->fmt));
		buf_adds(&b, "</button></p>\n</form>\n");
		buf_adds(&b, web_w(q->fmt, "<p>Or choose another answer:</p>\n",
		    "<p>Not right? Choose another answer:</p>\n"));
		web_answer_links(&b, q, q->ans);
	}
	web_foot(&b);
	web_send(q, 200, &b);
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
		web_message(q, 503, q->fmt, "Please try again later",
		    "We could not save your answer just now. Please try "
		    "again in a few minutes.");
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
			web_notice(q->w, did, web_organiser(q->w, q->meeting),
			    "Someone cannot come to a meeting", lines,
			    q->t.subject);
			free(did);
			json_decref(lines);
		}
	} else if (strcmp(st, "same") != 0) {
		web_message(q, 410, q->fmt, "This meeting is no longer there",
		    "We cannot find this meeting any more. It may have been "
		    "removed.");
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
		web_message(q, 410, q->fmt, "This meeting is no longer there",
		    "We cannot find this meeting any more. It may have been "
		    "removed.");
		goto done;
	}
	q->tz = json_string_value(json_object_get(q->meeting, "timezone"));
	if (q->tz == NULL)
		q->tz = q->w->cf->timezone;
	if (clock_parse_local(web_str(q->meeting, "start"), q->tz, &q->start,
	    &e) == -1 || clock_parse_local(web_str(q->meeting, "end"), q->tz,
	    &q->end, &e) == -1) {
		log_warnx("web: meeting %s: %s", q->t.subject, e.msg);
		web_message(q, 500, q->fmt, "Something went wrong",
		    "We could not show this meeting. Please contact us.");
		goto done;
	}
	if (strcmp(web_str(q->meeting, "status"), "cancelled") == 0) {
		web_message(q, 410, q->fmt, "This meeting was cancelled",
		    "This meeting is cancelled, so there is no need to "
		    "answer. We sent you an email about it.");
		goto done;
	}
	if (now >= q->start) {
		web_message(q, 410, q->fmt, "This meeting has started",
		    "Answers close when the meeting starts.");
		goto done;
	}
	if (!answer_valid(q->ans)) {
		web_message(q, 400, q->fmt, "This link is not complete",
		    "Part of this link is missing. Please use the whole link "
		    "from your email.");
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
	web_message(q, 503, q->fmt, "Please try again later", "We could not "
	    "save your answer just now. Please try again in a few minutes.");
done:
	web_rq_free(q);
}

/*
 * Preferences and unsubscribing.
 */

static const char *const web_classes[] = ANSWER_CLASSES;
#define WEB_NCLASSES	(sizeof web_classes / sizeof web_classes[0])

static void
web_prefs_form(struct buf *b, struct web_rq *q)
{
	static const char *const fmts[][2] = {
		{ "standard", "Standard" },
		{ "easy-read", "Easy read" },
		{ "large-print", "Large print" },
		{ "plain-text", "Plain text (no pictures or colours)" },
	};
	const char		*cur = web_str(q->prefs, "format");
	const char		*pause = web_str(q->prefs, "pause_until");
	struct clock_local	 cl;
	char			 date[16] = "", name[40];
	size_t			 i;

	if (*cur == '\0')
		cur = web_str(q->collab, "format");
	if (*cur == '\0')
		cur = "standard";
	if (*pause != '\0' && atoll(pause) > util_now_ms()) {
		clock_local(atoll(pause) / 1000, q->w->cf->timezone, &cl);
		snprintf(date, sizeof date, "%04d-%02d-%02d", cl.year, cl.month,
		    cl.day);
	}
	buf_printf(b, "<form method=\"post\" action=\"prefs?t=%s\">\n"
	    "<input type=\"hidden\" name=\"t\" value=\"%s\">\n"
	    "<input type=\"hidden\" name=\"form\" value=\"prefs\">\n",
	    q->tok, q->tok);
	buf_adds(b, "<fieldset>\n<legend>How your emails look</legend>\n");
	for (i = 0; i < 4; i++)
		buf_printf(b, "<div class=\"opt\"><input type=\"radio\" name=\"format\" "
		    "id=\"f-%s\" value=\"%s\"%s><label for=\"f-%s\">%s</label>"
		    "</div>\n", fmts[i][0], fmts[i][0], strcmp(cur, fmts[i][0])
		    == 0 ? " checked" : "", fmts[i][0], fmts[i][1]);
	buf_adds(b, "</fieldset>\n<fieldset>\n<legend>Pause emails</legend>\n"
	    "<p><label for=\"pause\">Send me no emails until this date "
	    "(leave empty to get emails now)</label><br>\n");
	buf_printf(b, "<input type=\"date\" id=\"pause\" name=\"pause_until\" "
	    "value=\"%s\"></p>\n</fieldset>\n", date);
	buf_adds(b, "<fieldset>\n<legend>Stop some emails</legend>\n");
	for (i = 0; i < WEB_NCLASSES; i++) {
		snprintf(name, sizeof name, "stop:%s", web_classes[i]);
		buf_printf(b, "<div class=\"opt\"><input type=\"checkbox\" name=\"stop_%s\" "
		    "id=\"s-%s\" value=\"1\"%s><label for=\"s-%s\">Stop ",
		    web_classes[i], web_classes[i], strcmp(web_str(q->prefs,
		    name), "1") == 0 ? " checked" : "", web_classes[i]);
		web_esc(b, web_class_words(web_classes[i]));
		buf_adds(b, "</label></div>\n");
	}
	buf_printf(b, "</fieldset>\n<fieldset>\n<legend>Stop everything"
	    "</legend>\n<div class=\"opt\"><input type=\"checkbox\" "
	    "name=\"everything\" "
	    "id=\"all\" value=\"1\"%s><label for=\"all\">Send me no more "
	    "emails at all</label></div>\n</fieldset>\n",
	    strcmp(web_str(q->prefs, "consent"), "false") == 0 ? " checked" :
	    "");
	buf_adds(b, "<p><button type=\"submit\">Save my choices</button></p>\n"
	    "</form>\n");
}

static void
web_prefs_page(struct web_rq *q, int saved)
{
	struct buf	b;

	buf_init(&b);
	web_head(&b, q->fmt, saved ? "Your choices are saved" :
	    "Your email choices");
	if (saved)
		buf_adds(&b, "<h1>Your choices are saved</h1>\n<p>Thank you. "
		    "We will follow them from now on. You can change them "
		    "again here at any time.</p>\n");
	else
		buf_adds(&b, web_w(q->fmt, "<h1>Your email choices</h1>\n"
		    "<p>Choose how our emails look, pause them, or stop "
		    "them.</p>\n", "<h1>Your email choices</h1>\n<p>You can "
		    "choose how our emails look.</p>\n<p>You can pause or "
		    "stop our emails.</p>\n"));
	web_prefs_form(&b, q);
	web_foot(&b);
	web_send(q, 200, &b);
}

static void
web_unsub_page(struct web_rq *q, int saved)
{
	struct buf	 b;
	const char	*what = web_class_words(q->t.subject);

	buf_init(&b);
	if (saved) {
		web_head(&b, q->fmt, "You will get no more of these emails");
		buf_adds(&b, "<h1>Done</h1>\n<p>We will send you no more ");
		web_esc(&b, what);
		buf_adds(&b, ".</p>\n");
	} else {
		web_head(&b, q->fmt, "Stop these emails");
		buf_adds(&b, "<h1>Stop these emails?</h1>\n<p>Press the button "
		    "and we will send you no more ");
		web_esc(&b, what);
		buf_printf(&b, ".</p>\n<form method=\"post\" action=\"unsubscribe"
		    "?t=%s\">\n<input type=\"hidden\" name=\"List-Unsubscribe\" "
		    "value=\"One-Click\">\n<p><button type=\"submit\">Stop ",
		    q->tok);
		web_esc(&b, what);
		buf_adds(&b, "</button></p>\n</form>\n");
	}
	buf_adds(&b, "<p>To change how our emails look, pause them, or get "
	    "these again, use the link to your email choices at the end of "
	    "any of our emails.</p>\n");
	web_foot(&b);
	web_send(q, 200, &b);
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
		web_message(q, 503, q->fmt, "Please try again later",
		    "We could not save your choice just now. Please try "
		    "again in a few minutes.");
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
				    "Wants again", web_class_words(f + 5));
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
		web_notice(q->w, did, q->w->cf->coordinator, "A collaborator "
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
		web_message(q, 410, q->fmt, "We have no emails for you",
		    "We do not have your details any more, so we send you no "
		    "emails.");
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
			web_message(q, 400, q->fmt, "This link is not complete",
			    "Please use the whole link from your email.");
			goto done;
		}
		snprintf(field, sizeof field, "stop:%s", q->t.subject);
		args[n++] = field;
		args[n++] = "1";
	} else if (web_prefs_args(q, args, store, &n) == -1) {
		web_message(q, 400, q->fmt, "Please check your choices",
		    "A date or a choice was not one we know. Please go back "
		    "and try again.");
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
	web_message(q, 503, q->fmt, "Please try again later", "We could not "
	    "save your choice just now. Please try again in a few minutes.");
done:
	web_rq_free(q);
}

/*
 * Requests.
 */

static json_t *
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
		web_message(q, 503, "standard", "Please try again later",
		    "This page is not working just now. Please try again in "
		    "a few minutes.");
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
	web_message(q, 503, "standard", "Please try again later", "This page "
	    "is not working just now. Please try again in a few minutes.");
	goto out;
notfound:
	web_message(q, 404, "standard", "Page not found", "There is no page "
	    "here. Please use the link in your email exactly as it is.");
out:
	web_rq_free(q);
}

/*
 * Answers summaries: gate.lua adds a meeting to sumdue when its first
 * reminder falls due; here each becomes a notice to the organiser.
 */

static int
web_need_rank(json_t *access, const char *word)
{
	switch (access_status(access, word, NULL)) {
	case ACCESS_NO:		return 0;
	case ACCESS_UNKNOWN:	return 1;
	default:		return 2;
	}
}

/* "not available", "not yet confirmed", "available" (+ ": details"), for
 * the coordinator's summary; a new string. */
static char *
web_need_words(json_t *access, const char *word)
{
	const char	*detail = NULL;

	switch (access_status(access, word, &detail)) {
	case ACCESS_NO:
		return xstrdup("not available");
	case ACCESS_UNKNOWN:
		return xstrdup("not yet confirmed");
	default:
		return detail ? xasprintf("available: %s", detail) :
		    xstrdup("available");
	}
}

static void
web_list_line(json_t *lines, const char *label, json_t *ids)
{
	struct buf	b;
	size_t		i;
	json_t		*v;

	buf_init(&b);
	buf_printf(&b, "%s (%zu): ", label, json_array_size(ids));
	if (json_array_size(ids) == 0)
		buf_adds(&b, "nobody");
	json_array_foreach(ids, i, v)
		buf_printf(&b, "%s%s", i ? ", " : "", json_string_value(v));
	json_array_append_new(lines, json_string(b.s));
	buf_free(&b);
}

static void
web_on_summary(redisAsyncContext *ac, void *r, void *priv)
{
	struct web	*w = priv;
	redisReply	*x = r, *e;
	json_t		*m, *lines, *yes, *no, *maybe, *none, *needs, *access;
	json_t		*c, *a, *venue_access = NULL;
	const char	*mid, *ans;
	char		*line, *did;
	size_t		 i, j;
	int		 rank;

	if (x == NULL || x->type != REDIS_REPLY_ARRAY || x->elements < 1 ||
	    (m = web_record(x->element[0])) == NULL)
		return;
	mid = web_str(m, "id");
	yes = json_array();
	no = json_array();
	maybe = json_array();
	none = json_array();
	needs = json_array();
	access = json_object();
	if (x->elements > 1 && x->element[x->elements - 1]->type ==
	    REDIS_REPLY_STRING)
		venue_access = web_record(x->element[x->elements - 1]);
	if (venue_access != NULL)
		json_object_update(access, json_object_get(venue_access,
		    "access"));
	json_object_update(access, json_object_get(m, "access"));
	for (i = 1; i < x->elements; i++) {
		e = x->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 3)
			continue;
		a = e->element[2]->len ? json_loadb(e->element[2]->str,
		    e->element[2]->len, 0, NULL) : NULL;
		ans = a ? web_str(a, "a") : "";
		if (json_is_true(json_object_get(a, "stale"))) {
			/* Answered before the meeting changed: shown as such. */
			line = xasprintf("%s (before the last change)",
			    e->element[0]->str);
			json_array_append_new(strcmp(ans, "yes") == 0 ? yes :
			    strcmp(ans, "no") == 0 ? no : maybe,
			    json_string(line));
			free(line);
		} else
			json_array_append_new(strcmp(ans, "yes") == 0 ? yes :
			    strcmp(ans, "no") == 0 ? no : strcmp(ans, "maybe") ==
			    0 ? maybe : none, json_string(e->element[0]->str));
		if (strcmp(ans, "yes") == 0 && (c = web_record(e->element[1])))
		{
			json_t *n;

			json_array_foreach(json_object_get(c, "access_needs"),
			    j, n) {
				const char *wd = json_string_value(n);

				if (wd == NULL)
					continue;
				json_array_append_new(needs, json_pack("{s:i,"
				    "s:s,s:s}", "rank", web_need_rank(access,
				    wd), "who", e->element[0]->str, "word",
				    wd));
			}
			json_decref(c);
		}
		json_decref(a);
	}
	lines = json_array();
	line = xasprintf("Answers so far for meeting %s (\"%s\"), as its first "
	    "reminder goes out:", mid, web_str(m, "title"));
	json_array_append_new(lines, json_string(line));
	free(line);
	web_list_line(lines, "Coming", yes);
	web_list_line(lines, "Cannot come", no);
	web_list_line(lines, "Not sure yet", maybe);
	web_list_line(lines, "No answer", none);
	json_array_append_new(lines, json_string(json_array_size(needs) ?
	    "Access needs of those coming, unmet ones first:" :
	    "Nobody coming has told us of an access need."));
	for (rank = 0; rank < 3; rank++) {
		json_t *n;

		json_array_foreach(needs, j, n) {
			char *d;

			if (json_integer_value(json_object_get(n, "rank")) !=
			    rank)
				continue;
			d = web_need_words(access, web_str(n, "word"));
			line = xasprintf("%s needs %s (%s): %s.", web_str(n,
			    "who"), access_label(web_str(n, "word")),
			    web_str(n, "word"), d);
			json_array_append_new(lines, json_string(line));
			free(line);
			free(d);
		}
	}
	did = store_did("notice", "summary", mid, NULL);
	web_notice(w, did, web_organiser(w, m), "Who is coming", lines, mid);
	log_info("web: answers summary for meeting %s: %zu coming, %zu "
	    "cannot, %zu not sure, %zu no answer", mid, json_array_size(yes),
	    json_array_size(no), json_array_size(maybe),
	    json_array_size(none));
	free(did);
	json_decref(lines);
	json_decref(yes);
	json_decref(no);
	json_decref(maybe);
	json_decref(none);
	json_decref(needs);
	json_decref(access);
	json_decref(venue_access);
	json_decref(m);
}

static void
web_on_sumdue(redisAsyncContext *ac, void *r, void *priv)
{
	struct web	*w = priv;
	redisReply	*x = r;
	size_t		 i;

	w->busy = 0;
	if (x == NULL || x->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < x->elements; i++)
		if (x->element[i]->type == REDIS_REPLY_STRING)
			answer_call(w->ops, w->cf->prefix, web_on_summary, w,
			    "summary", x->element[i]->str, NULL);
}

static void
web_tick(evutil_socket_t fd, short what, void *arg)
{
	struct web	*w = arg;
	struct timeval	 tv = { WEB_SUMMARY_EVERY, 0 };

	if (!w->busy && rconn_up(w->ops) && answer_call(w->ops,
	    w->cf->prefix, web_on_sumdue, w, "sumdue", "10", NULL) == 0)
		w->busy = 1;
	evtimer_add(w->tick, &tv);
}

struct web *
web_start(struct event_base *base, struct config *cf, struct rconn *ops,
    struct err *e)
{
	struct web	*w = xcalloc(1, sizeof *w);
	struct timeval	 tv = { 1, 0 };

	w->base = base;
	w->cf = config_ref(cf);
	w->ops = ops;
	if ((w->tick = evtimer_new(base, web_tick, w)) == NULL) {
		err_set(e, "web: cannot make a timer");
		goto err;
	}
	evtimer_add(w->tick, &tv);
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
}

void
web_free(struct web *w)
{
	if (w == NULL)
		return;
	http_free(w->http);
	if (w->tick != NULL)
		event_free(w->tick);
	config_unref(w->cf);
	free(w);
}

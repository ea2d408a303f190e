/*
 * report.c: `hearback report --meeting ID [--format text|html]`: the "you
 * said, we did" page for a meeting. Every item, never attributed to a
 * person; its outcome and status, with the reason when it was not possible;
 * and the items still waiting, with how long. The HTML is a complete page
 * (lang, headings, a list per item) to publish or print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"

struct report_item {
	json_t		*said;		/* record */
	json_t		*outcome;	/* latest outcome record, or NULL */
	long long	 said_at;	/* ms, for waiting items */
};

static json_t *
report_get(redisContext *c, const struct config *cf, const char *type,
    const char *id, json_t **meta)
{
	redisReply	*r;
	json_t		*w = NULL, *rec = NULL;

	r = redisCommand(c, "GET {%s}:rec:%s:%s", cf->prefix, type, id);
	if (r == NULL) {
		fprintf(stderr, "hearback: Redis: %s\n", c->errstr);
		exit(EX_NOREDIS);
	}
	if (r->type == REDIS_REPLY_STRING)
		w = json_loadb(r->str, r->len, 0, NULL);
	freeReplyObject(r);
	if (w != NULL) {
		rec = json_incref(json_object_get(w, "record"));
		if (meta)
			*meta = json_incref(json_object_get(w, "meta"));
		json_decref(w);
	}
	return rec;
}

static const char *
report_status(const char *st)
{
	if (st == NULL)
		return "Waiting for an answer";
	if (strcmp(st, "done") == 0)
		return "Done";
	if (strcmp(st, "in-progress") == 0)
		return "In progress";
	if (strcmp(st, "planned") == 0)
		return "Planned";
	return "Not possible";
}

static void
report_html_text(const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", stdout);
			break;
		case '<':
			fputs("&lt;", stdout);
			break;
		case '>':
			fputs("&gt;", stdout);
			break;
		case '"':
			fputs("&quot;", stdout);
			break;
		case '\n':
			fputs("<br>", stdout);
			break;
		default:
			putchar(*s);
		}
	}
}

static void
report_waited(long long at_ms, char *buf, size_t len)
{
	long long d = (util_now_ms() - at_ms) / 86400000;

	if (d < 1)
		snprintf(buf, len, "less than a day");
	else
		snprintf(buf, len, "%lld day%s", d, d == 1 ? "" : "s");
}

/* --meeting ID [--format text|html]; -1 on anything else. */
static int
report_args(int argc, char **argv, const char **mid, int *html)
{
	const char	*fmt = "text";
	int		 a;

	*mid = NULL;
	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--meeting") == 0 && a + 1 < argc)
			*mid = argv[++a];
		else if (strcmp(argv[a], "--format") == 0 && a + 1 < argc)
			fmt = argv[++a];
		else
			*mid = NULL, a = argc;
	}
	if (*mid == NULL || (strcmp(fmt, "text") && strcmp(fmt, "html")))
		return -1;
	*html = strcmp(fmt, "html") == 0;
	return 0;
}

/* The latest outcome (by its meta "at") for said item sid, or NULL. */
static json_t *
report_latest_outcome(redisContext *c, const struct config *cf,
    const char *sid)
{
	redisReply	*x;
	json_t		*best = NULL, *bmeta = NULL;
	long long	 bat = -1;
	size_t		 j;

	x = redisCommand(c, "SMEMBERS {%s}:so:%s", cf->prefix, sid);
	for (j = 0; x && x->type == REDIS_REPLY_ARRAY && j < x->elements;
	    j++) {
		json_t *meta = NULL, *o = report_get(c, cf, "outcome",
		    x->element[j]->str, &meta);
		long long at = json_integer_value(json_object_get(meta, "at"));

		if (o != NULL && at > bat) {
			json_decref(best);
			json_decref(bmeta);
			best = o;
			bmeta = meta;
			bat = at;
		} else {
			json_decref(o);
			json_decref(meta);
		}
	}
	freeReplyObject(x);
	json_decref(bmeta);
	return best;
}

/* When said item sid was said, in ms (its score in {P}:said:open); 0 if it
 * is not open. */
static long long
report_said_at(redisContext *c, const struct config *cf, const char *sid)
{
	redisReply	*x;
	long long	 at = 0;

	x = redisCommand(c, "ZSCORE {%s}:said:open %s", cf->prefix, sid);
	if (x && x->type == REDIS_REPLY_STRING)
		at = atoll(x->str);
	freeReplyObject(x);
	return at;
}

/* Every said item of meeting mid, with its latest outcome; *np of them. */
static struct report_item *
report_items(redisContext *c, const struct config *cf, const char *mid,
    size_t *np)
{
	redisReply		*r;
	struct report_item	*items = NULL;
	size_t			 n = 0, i;

	r = redisCommand(c, "SMEMBERS {%s}:said", cf->prefix);
	for (i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		const char *sid = r->element[i]->str;
		json_t *sd = report_get(c, cf, "said", sid, NULL);
		const char *sm = json_string_value(json_object_get(sd,
		    "meeting"));

		if (sd == NULL || sm == NULL || strcmp(sm, mid) != 0) {
			json_decref(sd);
			continue;
		}
		items = xrealloc(items, (n + 1) * sizeof *items);
		items[n].said = sd;
		items[n].outcome = report_latest_outcome(c, cf, sid);
		items[n].said_at = report_said_at(c, cf, sid);
		n++;
	}
	freeReplyObject(r);
	*np = n;
	return items;
}

/* The meeting's date and time, in its time zone; "" if it cannot tell. */
static void
report_when(const struct config *cf, json_t *m, char *when, size_t len)
{
	const char	*tz;
	long long	 s, e;

	tz = json_string_value(json_object_get(m, "timezone"));
	if (tz == NULL)
		tz = cf->timezone;
	when[0] = '\0';
	if (clock_parse_local(json_string_value(json_object_get(m, "start")),
	    tz, &s, NULL) == 0 && clock_parse_local(json_string_value(
	    json_object_get(m, "end")), tz, &e, NULL) == 0)
		clock_format_range(s, e, tz, when, len);
}

/* The top of the page: the title, the meeting, how many have an answer. */
static void
report_head(json_t *m, const char *when, size_t n, int answered, int html)
{
	if (html) {
		printf("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n"
		    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
		    "content=\"width=device-width, initial-scale=1\">\n<title>"
		    "You said, we did: ");
		report_html_text(json_string_value(json_object_get(m, "title")));
		printf("</title>\n<style>body{font-family:Arial,Helvetica,"
		    "sans-serif;font-size:18px;line-height:1.5;max-width:44em;"
		    "margin:0 auto;padding:1em;color:#1a1a1a}blockquote{margin:"
		    "0.5em 0;padding-left:1em;border-left:4px solid #555}"
		    "</style>\n</head>\n<body>\n<main>\n<h1>You said, we did</h1>\n"
		    "<p>");
		report_html_text(json_string_value(json_object_get(m, "title")));
		printf(", %s.</p>\n<p>People said %zu thing%s at this meeting. "
		    "%d %s an answer so far.</p>\n", when, n, n == 1 ? "" : "s",
		    answered, answered == 1 ? "has" : "have");
	} else {
		printf("You said, we did\n%s, %s\n\n",
		    json_string_value(json_object_get(m, "title")), when);
		printf("People said %zu thing%s at this meeting. %d %s an "
		    "answer so far.\n", n, n == 1 ? "" : "s", answered,
		    answered == 1 ? "has" : "have");
	}
}

/* One item as HTML; waited says how long it has waited (no outcome). */
static void
report_item_html(const struct report_item *it, const char *waited)
{
	json_t		*o = it->outcome;
	const char	*topic;

	topic = json_string_value(json_object_get(it->said, "topic"));
	printf("<li>\n");
	if (topic) {
		printf("<h3>");
		report_html_text(topic);
		printf("</h3>\n");
	}
	printf("<p>You said:</p>\n<blockquote><p>");
	report_html_text(json_string_value(json_object_get(it->said, "text")));
	printf("</p></blockquote>\n");
	if (o != NULL) {
		printf("<p><strong>Status: %s</strong></p>\n<p>We did: ",
		    report_status(json_string_value(json_object_get(o,
		    "status"))));
		report_html_text(json_string_value(json_object_get(o,
		    "we_did")));
		printf("</p>\n");
		if (json_object_get(o, "reason") &&
		    !json_is_null(json_object_get(o, "reason"))) {
			printf("<p><strong>Why: ");
			report_html_text(json_string_value(json_object_get(o,
			    "reason")));
			printf("</strong></p>\n");
		}
	} else
		printf("<p><strong>Status: waiting for an answer for %s"
		    "</strong></p>\n", waited);
	printf("</li>\n");
}

/* The same as plain text. */
static void
report_item_text(const struct report_item *it, const char *waited)
{
	json_t		*o = it->outcome;
	const char	*topic;

	topic = json_string_value(json_object_get(it->said, "topic"));
	printf("- You said: \"%s\"%s%s%s\n",
	    json_string_value(json_object_get(it->said, "text")),
	    topic ? " (" : "", topic ? topic : "", topic ? ")" : "");
	if (o != NULL) {
		printf("  Status: %s\n  We did: %s\n",
		    report_status(json_string_value(json_object_get(o,
		    "status"))),
		    json_string_value(json_object_get(o, "we_did")));
		if (json_string_value(json_object_get(o, "reason")))
			printf("  Why: %s\n", json_string_value(
			    json_object_get(o, "reason")));
	} else
		printf("  Status: waiting for an answer for %s\n", waited);
}

/*
 * One of the two lists: the items that have an answer (answered 1) or
 * those still waiting for one (answered 0), under its heading; nothing at
 * all when there are none.
 */
static void
report_list(const struct report_item *items, size_t n, int answered,
    int html)
{
	const struct report_item	*it;
	char				 waited[64];
	size_t				 i;
	int				 header = 0;

	for (i = 0; i < n; i++) {
		it = &items[i];
		if (answered != (it->outcome != NULL))
			continue;
		if (!header) {
			header = 1;
			if (html)
				printf("<h2>%s</h2>\n<ul>\n", answered ?
				    "What we did" :
				    "Still waiting for an answer");
			else
				printf("\n%s\n\n", answered ? "WHAT WE DID" :
				    "STILL WAITING FOR AN ANSWER");
		}
		waited[0] = '\0';
		if (!answered)
			report_waited(it->said_at ? it->said_at :
			    util_now_ms(), waited, sizeof waited);
		if (html)
			report_item_html(it, waited);
		else
			report_item_text(it, waited);
	}
	if (header && html)
		printf("</ul>\n");
}

int
cli_report(const struct config *cf, int argc, char **argv)
{
	const char		*mid;
	redisContext		*c;
	json_t			*m, *mmeta = NULL;
	struct report_item	*items;
	size_t			 n, i;
	int			 html, answered = 0;
	char			 when[160];

	if (report_args(argc, argv, &mid, &html) == -1) {
		fprintf(stderr, "usage: hearback report --meeting ID "
		    "[--format text|html]\n");
		return EX_USAGE_;
	}
	c = cli_connect(cf);
	if ((m = report_get(c, cf, "meeting", mid, &mmeta)) == NULL) {
		fprintf(stderr, "hearback: no meeting \"%s\"\n", mid);
		redisFree(c);
		return EX_INVALID;
	}
	items = report_items(c, cf, mid, &n);
	redisFree(c);

	report_when(cf, m, when, sizeof when);
	for (i = 0; i < n; i++)
		answered += items[i].outcome != NULL;
	report_head(m, when, n, answered, html);
	report_list(items, n, 1, html);
	report_list(items, n, 0, html);
	if (html)
		printf("</main>\n</body>\n</html>\n");

	for (i = 0; i < n; i++) {
		json_decref(items[i].said);
		json_decref(items[i].outcome);
	}
	free(items);
	json_decref(m);
	json_decref(mmeta);
	return EX_DONE;
}

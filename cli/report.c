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
#include "store.h"

struct report_item {
	json_t		*said;		/* record */
	json_t		*outcome;	/* latest outcome record, or NULL */
	long long	 said_at;	/* ms, for waiting items */
};

/* Fetch the keys in need (then empty) into snap. */
static void
report_fetch(redisContext *c, const struct config *cf, json_t *snap,
    json_t *need)
{
	struct err	e;

	if (json_array_size(need) > 0 && store_fetch_sync(c, cf->prefix, need,
	    snap, NULL, 0, &e) == -1)
		cli_redis_failed(&e);
	json_array_clear(need);
}

static void
report_need_rec(json_t *need, const char *type, const char *id)
{
	char	key[STORE_KEY_MAX];

	json_array_append_new(need, json_string(store_reckey(type, id, key,
	    sizeof key)));
}

static void
report_need_set(json_t *need, enum store_set set, const char *id)
{
	char	key[STORE_KEY_MAX];

	json_array_append_new(need, json_string(store_setkey(set, id, key,
	    sizeof key)));
}

/* A stored record in snap (a new reference), and its meta; or NULL. */
static json_t *
report_rec(json_t *snap, const char *type, const char *id, json_t **meta)
{
	char	 key[STORE_KEY_MAX];
	json_t	*w = json_object_get(snap, store_reckey(type, id, key,
	    sizeof key));

	if (!json_is_object(w))
		return NULL;
	if (meta)
		*meta = json_incref(json_object_get(w, "meta"));
	return json_incref(json_object_get(w, "record"));
}

/* A set's members in snap. */
static json_t *
report_set(json_t *snap, enum store_set set, const char *id)
{
	char	 key[STORE_KEY_MAX];

	return json_object_get(snap, store_setkey(set, id, key, sizeof key));
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

/* The latest outcome (by its meta "at") of said item sid in snap, or NULL. */
static json_t *
report_latest_outcome(json_t *snap, const char *sid)
{
	json_t		*best = NULL, *bmeta = NULL, *o;
	long long	 bat = -1;
	size_t		 j;

	json_array_foreach(report_set(snap, STORE_SAID_OUTCOMES, sid), j, o) {
		json_t *meta = NULL, *rec = report_rec(snap, "outcome",
		    json_string_value(o), &meta);
		long long at = json_integer_value(json_object_get(meta, "at"));

		if (rec != NULL && at > bat) {
			json_decref(best);
			json_decref(bmeta);
			best = rec;
			bmeta = meta;
			bat = at;
		} else {
			json_decref(rec);
			json_decref(meta);
		}
	}
	json_decref(bmeta);
	return best;
}

/*
 * Fetch the meeting, every said item and what answers it, through the
 * store's snapshot; -1 if there is no such meeting.
 */
static int
report_fetch_all(redisContext *c, const struct config *cf, const char *mid,
    json_t *snap, json_t **open)
{
	json_t		*need = json_array(), *m, *v, *o;
	struct err	 err;
	size_t		 i, j;

	report_need_rec(need, "meeting", mid);
	report_need_set(need, STORE_SAID, NULL);
	report_fetch(c, cf, snap, need);
	if ((m = report_rec(snap, "meeting", mid, NULL)) == NULL) {
		json_decref(need);
		return -1;
	}
	json_decref(m);
	json_array_foreach(report_set(snap, STORE_SAID, NULL), i, v) {
		report_need_rec(need, "said", json_string_value(v));
		report_need_set(need, STORE_SAID_OUTCOMES, json_string_value(v));
	}
	report_fetch(c, cf, snap, need);
	json_array_foreach(report_set(snap, STORE_SAID, NULL), i, v)
		json_array_foreach(report_set(snap, STORE_SAID_OUTCOMES,
		    json_string_value(v)), j, o)
			report_need_rec(need, "outcome", json_string_value(o));
	report_fetch(c, cf, snap, need);
	json_decref(need);
	if (store_said_open_sync(c, cf->prefix, open, &err) == -1)
		cli_redis_failed(&err);
	return 0;
}

/* The said items of meeting mid, each with its latest outcome. */
static struct report_item *
report_collect(json_t *snap, json_t *open, const char *mid, size_t *np)
{
	struct report_item	*items = NULL;
	size_t			 n = 0, i;
	json_t			*v;

	json_array_foreach(report_set(snap, STORE_SAID, NULL), i, v) {
		const char *sid = json_string_value(v);
		json_t *sd = report_rec(snap, "said", sid, NULL);
		const char *sm = json_string_value(json_object_get(sd,
		    "meeting"));

		if (sd == NULL || sm == NULL || strcmp(sm, mid) != 0) {
			json_decref(sd);
			continue;
		}
		items = xrealloc(items, (n + 1) * sizeof *items);
		items[n].said = sd;
		items[n].outcome = report_latest_outcome(snap, sid);
		items[n].said_at = json_integer_value(json_object_get(open,
		    sid));
		n++;
	}
	*np = n;
	return items;
}

/* "Tuesday 10 December 2026, 17:30 to 19:30" for the meeting m. */
static void
report_when(const struct config *cf, json_t *m, char *when, size_t len)
{
	const char	*tz = json_string_value(json_object_get(m, "timezone"));
	long long	 s, e;

	if (tz == NULL)
		tz = cf->timezone;
	when[0] = '\0';
	if (clock_parse_local(json_string_value(json_object_get(m, "start")),
	    tz, &s, NULL) == 0 && clock_parse_local(json_string_value(
	    json_object_get(m, "end")), tz, &e, NULL) == 0)
		clock_format_range(s, e, tz, when, len);
}

/* The title and the counts, and for HTML the start of the page. */
static void
report_head(json_t *m, const char *when, size_t n, int answered, int html)
{
	const char	*title = json_string_value(json_object_get(m, "title"));

	if (!html) {
		printf("You said, we did\n%s, %s\n\n", title, when);
		printf("People said %zu thing%s at this meeting. %d %s an "
		    "answer so far.\n", n, n == 1 ? "" : "s", answered,
		    answered == 1 ? "has" : "have");
		return;
	}
	printf("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n<title>"
	    "You said, we did: ");
	report_html_text(title);
	printf("</title>\n<style>body{font-family:Arial,Helvetica,"
	    "sans-serif;font-size:18px;line-height:1.5;max-width:44em;"
	    "margin:0 auto;padding:1em;color:#1a1a1a}blockquote{margin:"
	    "0.5em 0;padding-left:1em;border-left:4px solid #555}"
	    "</style>\n</head>\n<body>\n<main>\n<h1>You said, we did</h1>\n"
	    "<p>");
	report_html_text(title);
	printf(", %s.</p>\n<p>People said %zu thing%s at this meeting. "
	    "%d %s an answer so far.</p>\n", when, n, n == 1 ? "" : "s",
	    answered, answered == 1 ? "has" : "have");
}

/* One item as an HTML list entry; waited is for items with no outcome. */
static void
report_item_html(const struct report_item *it, const char *waited)
{
	json_t		*o = it->outcome, *reason = json_object_get(o, "reason");
	const char	*topic = json_string_value(json_object_get(it->said,
	    "topic"));

	printf("<li>\n");
	if (topic) {
		printf("<h3>");
		report_html_text(topic);
		printf("</h3>\n");
	}
	printf("<p>You said:</p>\n<blockquote><p>");
	report_html_text(json_string_value(json_object_get(it->said, "text")));
	printf("</p></blockquote>\n");
	if (o == NULL)
		printf("<p><strong>Status: waiting for an answer for %s"
		    "</strong></p>\n", waited);
	else {
		printf("<p><strong>Status: %s</strong></p>\n<p>We did: ",
		    report_status(json_string_value(json_object_get(o,
		    "status"))));
		report_html_text(json_string_value(json_object_get(o,
		    "we_did")));
		printf("</p>\n");
		if (reason != NULL && !json_is_null(reason)) {
			printf("<p><strong>Why: ");
			report_html_text(json_string_value(reason));
			printf("</strong></p>\n");
		}
	}
	printf("</li>\n");
}

/* One item as plain text. */
static void
report_item_text(const struct report_item *it, const char *waited)
{
	json_t		*o = it->outcome;
	const char	*topic = json_string_value(json_object_get(it->said,
	    "topic"));
	const char	*reason = json_string_value(json_object_get(o, "reason"));

	printf("- You said: \"%s\"%s%s%s\n", json_string_value(
	    json_object_get(it->said, "text")), topic ? " (" : "",
	    topic ? topic : "", topic ? ")" : "");
	if (o == NULL) {
		printf("  Status: waiting for an answer for %s\n", waited);
		return;
	}
	printf("  Status: %s\n  We did: %s\n", report_status(json_string_value(
	    json_object_get(o, "status"))), json_string_value(
	    json_object_get(o, "we_did")));
	if (reason != NULL)
		printf("  Why: %s\n", reason);
}

/* The answered items (done = 1) or those still waiting, under a heading. */
static void
report_list(const struct report_item *items, size_t n, int done, int html)
{
	char	waited[64];
	int	header = 0;
	size_t	i;

	for (i = 0; i < n; i++) {
		if (done != (items[i].outcome != NULL))
			continue;
		if (!header) {
			header = 1;
			if (html)
				printf("<h2>%s</h2>\n<ul>\n", done ?
				    "What we did" : "Still waiting for an "
				    "answer");
			else
				printf("\n%s\n\n", done ? "WHAT WE DID" :
				    "STILL WAITING FOR AN ANSWER");
		}
		waited[0] = '\0';
		if (!done)
			report_waited(items[i].said_at ? items[i].said_at :
			    util_now_ms(), waited, sizeof waited);
		if (html)
			report_item_html(&items[i], waited);
		else
			report_item_text(&items[i], waited);
	}
	if (header && html)
		printf("</ul>\n");
}

int
cli_report(const struct config *cf, int argc, char **argv)
{
	const char		*mid;
	redisContext		*c;
	json_t			*m, *mmeta = NULL, *snap, *open = NULL;
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
	snap = json_object();
	if (report_fetch_all(c, cf, mid, snap, &open) == -1) {
		fprintf(stderr, "hearback: no meeting \"%s\"\n", mid);
		json_decref(snap);
		redisFree(c);
		return EX_INVALID;
	}
	redisFree(c);
	m = report_rec(snap, "meeting", mid, &mmeta);
	items = report_collect(snap, open, mid, &n);
	json_decref(open);
	json_decref(snap);

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

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

int
cli_report(const struct config *cf, int argc, char **argv)
{
	const char		*mid = NULL, *fmt = "text";
	redisContext		*c;
	json_t			*m, *mmeta = NULL, *snap, *need, *open, *v, *o;
	struct report_item	*items = NULL;
	size_t			 n = 0, i, j;
	int			 html, a, answered = 0;
	char			 when[160], waited[64];
	const char		*tz;
	long long		 s, e;
	struct err		 err;

	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--meeting") == 0 && a + 1 < argc)
			mid = argv[++a];
		else if (strcmp(argv[a], "--format") == 0 && a + 1 < argc)
			fmt = argv[++a];
		else
			mid = NULL, a = argc;
	}
	if (mid == NULL || (strcmp(fmt, "text") && strcmp(fmt, "html"))) {
		fprintf(stderr, "usage: hearback report --meeting ID "
		    "[--format text|html]\n");
		return EX_USAGE_;
	}
	html = strcmp(fmt, "html") == 0;
	c = cli_connect(cf);
	snap = json_object();
	need = json_array();
	report_need_rec(need, "meeting", mid);
	report_need_set(need, STORE_SAID, NULL);
	report_fetch(c, cf, snap, need);
	if ((m = report_rec(snap, "meeting", mid, &mmeta)) == NULL) {
		fprintf(stderr, "hearback: no meeting \"%s\"\n", mid);
		json_decref(need);
		json_decref(snap);
		redisFree(c);
		return EX_INVALID;
	}
	/* Every said item and what answers it; then those outcomes. */
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
	if (store_said_open_sync(c, cf->prefix, &open, &err) == -1)
		cli_redis_failed(&err);
	redisFree(c);

	json_array_foreach(report_set(snap, STORE_SAID, NULL), i, v) {
		const char *sid = json_string_value(v);
		json_t *sd = report_rec(snap, "said", sid, NULL);
		const char *sm = json_string_value(json_object_get(sd,
		    "meeting"));
		json_t *best = NULL, *bmeta = NULL;
		long long bat = -1;

		if (sd == NULL || sm == NULL || strcmp(sm, mid) != 0) {
			json_decref(sd);
			continue;
		}
		items = xrealloc(items, (n + 1) * sizeof *items);
		items[n].said = sd;
		items[n].said_at = 0;
		json_array_foreach(report_set(snap, STORE_SAID_OUTCOMES, sid),
		    j, o) {
			json_t *meta = NULL, *rec = report_rec(snap, "outcome",
			    json_string_value(o), &meta);
			long long at = json_integer_value(json_object_get(meta,
			    "at"));

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
		items[n].outcome = best;
		items[n].said_at = json_integer_value(json_object_get(open,
		    sid));
		n++;
	}
	json_decref(open);
	json_decref(need);
	json_decref(snap);

	tz = json_string_value(json_object_get(m, "timezone"));
	if (tz == NULL)
		tz = cf->timezone;
	when[0] = '\0';
	if (clock_parse_local(json_string_value(json_object_get(m, "start")),
	    tz, &s, NULL) == 0 && clock_parse_local(json_string_value(
	    json_object_get(m, "end")), tz, &e, NULL) == 0)
		clock_format_range(s, e, tz, when, sizeof when);
	for (i = 0; i < n; i++)
		answered += items[i].outcome != NULL;

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
	for (a = 0; a < 2; a++) {
		int	header = 0;

		for (i = 0; i < n; i++) {
			json_t		*o = items[i].outcome;
			const char	*st, *topic;

			if ((a == 0) != (o != NULL))
				continue;
			if (!header) {
				header = 1;
				if (html)
					printf("<h2>%s</h2>\n<ul>\n", a == 0 ?
					    "What we did" :
					    "Still waiting for an answer");
				else
					printf("\n%s\n\n", a == 0 ?
					    "WHAT WE DID" :
					    "STILL WAITING FOR AN ANSWER");
			}
			st = json_string_value(json_object_get(o, "status"));
			topic = json_string_value(json_object_get(
			    items[i].said, "topic"));
			if (a == 1)
				report_waited(items[i].said_at ?
				    items[i].said_at : util_now_ms(), waited,
				    sizeof waited);
			if (html) {
				printf("<li>\n");
				if (topic) {
					printf("<h3>");
					report_html_text(topic);
					printf("</h3>\n");
				}
				printf("<p>You said:</p>\n<blockquote><p>");
				report_html_text(json_string_value(
				    json_object_get(items[i].said, "text")));
				printf("</p></blockquote>\n");
				if (o != NULL) {
					printf("<p><strong>Status: %s"
					    "</strong></p>\n<p>We did: ",
					    report_status(st));
					report_html_text(json_string_value(
					    json_object_get(o, "we_did")));
					printf("</p>\n");
					if (json_object_get(o, "reason") &&
					    !json_is_null(json_object_get(o,
					    "reason"))) {
						printf("<p><strong>Why: ");
						report_html_text(
						    json_string_value(
						    json_object_get(o,
						    "reason")));
						printf("</strong></p>\n");
					}
				} else
					printf("<p><strong>Status: waiting for "
					    "an answer for %s</strong></p>\n",
					    waited);
				printf("</li>\n");
			} else {
				printf("- You said: \"%s\"%s%s%s\n",
				    json_string_value(json_object_get(
				    items[i].said, "text")), topic ? " (" : "",
				    topic ? topic : "", topic ? ")" : "");
				if (o != NULL) {
					printf("  Status: %s\n  We did: %s\n",
					    report_status(st), json_string_value(
					    json_object_get(o, "we_did")));
					if (json_string_value(json_object_get(o,
					    "reason")))
						printf("  Why: %s\n",
						    json_string_value(
						    json_object_get(o,
						    "reason")));
				} else
					printf("  Status: waiting for an answer "
					    "for %s\n", waited);
			}
		}
		if (header && html)
			printf("</ul>\n");
	}
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

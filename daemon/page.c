/*
 * page.c: the context of each page of SPEC section 9, built as data, and
 * its rendering through the daemon's templates (page.h). The words and
 * the markup are the templates' (config/templates/page_*.html, _page_*);
 * this file only says which answer, class, format or message a page is
 * about, with an "is": {NAME: true} object next to each name so that a
 * template can word it.
 *
 * Main thread only: web.c calls it with the tmplset it holds (reference
 * counted; a SIGHUP gives web.c a new one between requests). Nothing here
 * keeps state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "answer.h"
#include "clock.h"
#include "page.h"
#include "tmpl.h"
#include "util.h"

static const char *const page_kinds[] = PAGE_KINDS;
static const char *const page_classes[] = ANSWER_CLASSES;
static const char *const page_answers[] = { "yes", "no", "maybe" };
static const char *const page_formats[] = {
	"standard", "easy-read", "large-print", "plain-text"
};

#define PAGE_N(a)	(sizeof (a) / sizeof (a)[0])

int
page_check(const struct tmplset *t, struct err *e)
{
	size_t	i;

	for (i = 0; i < PAGE_N(page_kinds); i++)
		if (tmplset_get(t, page_kinds[i], "standard", "html") == NULL)
			return err_set(e, "templates: no %s.standard.html (the "
			    "[web] pages need it)", page_kinds[i]);
	return 0;
}

int
page_render(const struct tmplset *t, const char *kind, const char *format,
    json_t *ctx, struct buf *out, struct err *e)
{
	return tmplset_render(t, kind, format, "html", ctx, out, e);
}

static const char *
page_str(json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* {"value": v, "is": {v: true}} */
static json_t *
page_item(const char *v)
{
	return json_pack("{s:s,s:{s:b}}", "value", v, "is", v, 1);
}

static json_t *
page_base(const char *format, const char *token)
{
	json_t	*c = json_object();

	json_object_set_new(c, "format", json_string(format));
	json_object_set_new(c, "is_format", json_pack("{s:b}", format, 1));
	if (token != NULL)
		json_object_set_new(c, "token", json_string(token));
	return c;
}

json_t *
page_answer_ctx(const char *format, const char *token, const char *ans,
    int saved, const char *title, const char *when, json_t *answer)
{
	json_t		*c = page_base(format, token), *others, *now;
	const char	*cur = page_str(answer, "a");
	size_t		 i;

	json_object_set_new(c, "saved", json_boolean(saved));
	json_object_set_new(c, "answer", page_item(ans));
	json_object_set_new(c, "meeting", json_pack("{s:s,s:s}", "title",
	    title, "when", when));
	if (answer_valid(cur)) {
		now = page_item(cur);
		json_object_set_new(now, "stale", json_boolean(json_is_true(
		    json_object_get(answer, "stale"))));
		json_object_set_new(c, "now", now);
	}
	others = json_array();
	for (i = 0; i < PAGE_N(page_answers); i++)
		if (strcmp(page_answers[i], ans) != 0)
			json_array_append_new(others, page_item(
			    page_answers[i]));
	json_object_set_new(c, "others", others);
	return c;
}

json_t *
page_prefs_ctx(const char *format, const char *token, int saved,
    json_t *prefs, json_t *collab, const char *tz)
{
	json_t			*c = page_base(format, token), *a, *it;
	const char		*cur = page_str(prefs, "format");
	const char		*pause = page_str(prefs, "pause_until");
	struct clock_local	 cl;
	char			 date[16] = "", name[40];
	size_t			 i;

	if (*cur == '\0')
		cur = page_str(collab, "format");
	if (*cur == '\0')
		cur = "standard";
	json_object_set_new(c, "saved", json_boolean(saved));
	a = json_array();
	for (i = 0; i < PAGE_N(page_formats); i++) {
		it = page_item(page_formats[i]);
		json_object_set_new(it, "checked", json_boolean(strcmp(cur,
		    page_formats[i]) == 0));
		json_array_append_new(a, it);
	}
	json_object_set_new(c, "formats", a);
	if (*pause != '\0' && atoll(pause) > util_now_ms()) {
		clock_local(atoll(pause) / 1000, tz, &cl);
		snprintf(date, sizeof date, "%04d-%02d-%02d", cl.year, cl.month,
		    cl.day);
	}
	json_object_set_new(c, "pause_until", json_string(date));
	a = json_array();
	for (i = 0; i < PAGE_N(page_classes); i++) {
		snprintf(name, sizeof name, "stop:%s", page_classes[i]);
		it = page_item(page_classes[i]);
		json_object_set_new(it, "checked", json_boolean(strcmp(
		    page_str(prefs, name), "1") == 0));
		json_array_append_new(a, it);
	}
	json_object_set_new(c, "classes", a);
	json_object_set_new(c, "everything", json_boolean(strcmp(page_str(
	    prefs, "consent"), "false") == 0));
	return c;
}

json_t *
page_unsub_ctx(const char *format, const char *token, const char *class,
    int saved)
{
	json_t	*c = page_base(format, token);

	json_object_set_new(c, "saved", json_boolean(saved));
	json_object_set_new(c, "class", page_item(class));
	return c;
}

json_t *
page_message_ctx(const char *format, const char *why)
{
	json_t	*c = page_base(format, NULL);

	json_object_set_new(c, "why", json_string(why));
	json_object_set_new(c, "is", json_pack("{s:b}", why, 1));
	return c;
}

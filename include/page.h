/*
 * page.h: the words and markup of the pages of SPEC section 9 come from
 * templates (config/templates/page_*.html and their _page_* partials, in
 * the person's format); daemon/page.c builds each page's context as data
 * and renders it. No words are in C. Main thread only (web.c calls it), on
 * the tmplset the daemon holds (a SIGHUP replaces it).
 */
#ifndef HB_PAGE_H
#define HB_PAGE_H

#include <jansson.h>

#include "util.h"

struct tmplset;

/* The page kinds: every one must have its standard html when the pages
 * are on (page_check: hearbackd -t, start-up and SIGHUP). */
#define PAGE_KINDS	{ "page_answer", "page_prefs", "page_unsub", \
			  "page_message" }

/* 0 when each of PAGE_KINDS renders (its standard html exists, and so
 * its partials resolve); -1 with e set naming the first that does not. */
int	 page_check(const struct tmplset *, struct err *e);

/* Render kind in format (standard, easy-read or large-print; the
 * template falls back to standard) into out. */
int	 page_render(const struct tmplset *, const char *kind,
	    const char *format, json_t *ctx, struct buf *out, struct err *e);

/*
 * Contexts (new references). token is the page's own token, as it came;
 * it goes into forms and links. Each is documented in
 * config/templates/README.
 */
/* The answer page: ans the answer of the link; answer {"a", "stale"}
 * the person's current one, or NULL; when in words (clock.h). */
json_t	*page_answer_ctx(const char *format, const char *token,
	    const char *ans, int saved, const char *title, const char *when,
	    json_t *answer);
/* The preferences page: prefs (field -> value), the collaborator record
 * (its format when prefs has none), tz for the pause date. */
json_t	*page_prefs_ctx(const char *format, const char *token, int saved,
	    json_t *prefs, json_t *collab, const char *tz);
/* The unsubscribe page of one class (ANSWER_CLASSES). */
json_t	*page_unsub_ctx(const char *format, const char *token,
	    const char *class, int saved);
/* A page that only says something; why names it (README lists them). */
json_t	*page_message_ctx(const char *format, const char *why);

#endif

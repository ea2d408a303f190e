/*
 * links.h: the answer, preferences and unsubscribe links of a collaborator
 * email (SPEC section 9). Pure; a worker thread, on the job it owns.
 *
 * When [web] base_url is set, every collaborator email's template context
 * gets prefs_url and unsubscribe_url, and invitations, updates and
 * reminders also answer_yes_url, answer_no_url and answer_maybe_url; the
 * unsubscribe URL is also the List-Unsubscribe header. Each carries a
 * fresh token (token.h): a meeting's until it ends, the others for a year.
 */
#ifndef HB_LINKS_H
#define HB_LINKS_H

#include <jansson.h>

#include "util.h"

struct config;

/* Add the links to ctx; *unsub gets the unsubscribe URL (malloc'd), or
 * NULL when there is none (no base_url, or not a collaborator's email). */
int	links_add(const struct config *, const char *kind, const char *cid,
	    json_t *data, json_t *ctx, char **unsub, struct err *e);

#endif

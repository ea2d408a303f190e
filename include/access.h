/*
 * access.h: the access vocabulary (SPEC section 3) as data: what a venue's
 * (or a meeting's) "access" object says about each word. The words people
 * read live in the templates (config/templates/_access_*), never here,
 * except the coordinators' labels. Pure; any thread.
 */
#ifndef HB_ACCESS_H
#define HB_ACCESS_H

#include <jansson.h>

enum access_status {
	ACCESS_UNKNOWN,		/* absent: "not yet confirmed" */
	ACCESS_YES,		/* true, details, or {"available": true} */
	ACCESS_NO		/* false, or {"available": false} */
};

/* "Step-free access" for "step-free", for coordinators' notices; the word
 * itself if unknown. Emails to collaborators take theirs from templates. */
const char		*access_label(const char *word);
/* What an "access" object says about a word; *detail gets the details
 * when there are some (else NULL). */
enum access_status	 access_status(json_t *access, const char *word,
			    const char **detail);
/*
 * The same as data, one form for every way of writing it: NULL when the
 * word is unknown, else a new {"available": BOOL, "details"?: TEXT,
 * "until"?: DATE}. Two states compare with json_equal.
 */
json_t			*access_state(json_t *access, const char *word);
/* A venue's access with a meeting's own arrangements over it (a new
 * reference; either may be NULL). */
json_t			*access_merged(json_t *venue_access,
			    json_t *meeting_access);
/* The access map as it stands on today ("YYYY-MM-DD"): a word whose
 * temporary state ("until") is over is left out, so it reads "not yet
 * confirmed" until someone says again (a new reference). */
json_t			*access_settled(json_t *access, const char *today);
/* A communication need in words, for the coordinator's copies and call
 * lists: "an interpreter (language pl)". */
char			*access_comm_describe(const char *need);

#endif

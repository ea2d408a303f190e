/*
 * access.h: the access vocabulary (SPEC section 3) for people: labels, and
 * what a venue says about each word. Pure; any thread.
 */
#ifndef HB_ACCESS_H
#define HB_ACCESS_H

#include <jansson.h>

enum access_status {
	ACCESS_UNKNOWN,		/* absent: "not yet confirmed" */
	ACCESS_YES,		/* true, a string of details, or
				 * {"available": true, ...} */
	ACCESS_NO		/* false, or {"available": false, ...} */
};

/* "Step-free access" for "step-free"; the word itself if unknown. */
const char		*access_label(const char *word);
/* What a venue's "access" object says about a word; *detail gets the
 * string when there is one (else NULL). */
enum access_status	 access_status(json_t *access, const char *word,
			    const char **detail);
/* "available", "not available", "not yet confirmed" (+ ": detail", +
 * " (until DATE)" for a temporary state). */
char			*access_describe(json_t *access, const char *word);
/* The "until" date of a word in its object form, or NULL. */
const char		*access_until(json_t *access, const char *word);
/* A venue's access with a meeting's own arrangements over it (a new
 * reference; either may be NULL). */
json_t			*access_merged(json_t *venue_access,
			    json_t *meeting_access);
/* The access map as it stands on today ("YYYY-MM-DD"): a word whose
 * temporary state ("until") is over is left out, so it reads "not yet
 * confirmed" until someone says again (a new reference). */
json_t			*access_settled(json_t *access, const char *today);
/* A communication need in words: "an interpreter (language pl)". */
char			*access_comm_describe(const char *need);

#endif

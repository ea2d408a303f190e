/*
 * access.h: the access vocabulary (SPEC section 3) for people: labels, and
 * what a venue says about each word. Pure; any thread.
 */
#ifndef HB_ACCESS_H
#define HB_ACCESS_H

#include <jansson.h>

enum access_status {
	ACCESS_UNKNOWN,		/* absent: "not yet confirmed" */
	ACCESS_YES,		/* true, or a string of details */
	ACCESS_NO		/* false */
};

/* "Step-free access" for "step-free"; the word itself if unknown. */
const char		*access_label(const char *word);
/* What a venue's "access" object says about a word; *detail gets the
 * string when there is one (else NULL). */
enum access_status	 access_status(json_t *access, const char *word,
			    const char **detail);
/* "available", "not available", "not yet confirmed" (+ ": detail"). */
char			*access_describe(json_t *access, const char *word);

#endif

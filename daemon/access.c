/*
 * access.c: the access vocabulary in words people read. The labels live
 * here, once, for the planner (what changed at a venue) and the views (the
 * access section of every invitation and reminder). Pure; any thread.
 */
#include <string.h>

#include "access.h"
#include "util.h"

static const struct {
	const char	*word;
	const char	*label;
} access_labels[] = {
	{ "step-free", "Step-free access" },
	{ "lift", "Lift" },
	{ "accessible-toilet", "Accessible toilet" },
	{ "changing-places", "Changing Places toilet" },
	{ "hearing-loop", "Hearing loop" },
	{ "bsl", "British Sign Language (BSL) interpreter" },
	{ "captions", "Captions" },
	{ "quiet-room", "Quiet room" },
	{ "seating", "Seating and rest places" },
	{ "parking", "Parking" },
	{ "public-transport", "Public transport nearby" },
	{ "assistance-dogs", "Assistance dogs welcome" },
	{ "lighting", "Good lighting" },
	{ "large-print", "Large print papers" },
	{ "easy-read", "Easy read papers" },
	{ "non-clinical", "Not on a hospital or ward site" },
};

const char *
access_label(const char *word)
{
	size_t	i;

	if (word == NULL)		/* not a string in a stored record */
		return "";
	for (i = 0; i < sizeof access_labels / sizeof access_labels[0]; i++)
		if (strcmp(access_labels[i].word, word) == 0)
			return access_labels[i].label;
	return word;
}

enum access_status
access_status(json_t *access, const char *word, const char **detail)
{
	json_t	*v = json_object_get(access, word);

	if (detail)
		*detail = NULL;
	if (v == NULL || json_is_null(v))
		return ACCESS_UNKNOWN;
	if (json_is_false(v))
		return ACCESS_NO;
	if (json_is_string(v) && detail)
		*detail = json_string_value(v);
	return ACCESS_YES;
}

char *
access_describe(json_t *access, const char *word)
{
	const char	*detail;

	switch (access_status(access, word, &detail)) {
	case ACCESS_YES:
		return detail ? xasprintf("available: %s", detail) :
		    xstrdup("available");
	case ACCESS_NO:
		return xstrdup("not available");
	default:
		return xstrdup("not yet confirmed");
	}
}

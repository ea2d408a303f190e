/*
 * access.c: the access vocabulary in words people read. The labels live
 * here, once, for the planner (what changed at a venue) and the views (the
 * access section of every invitation and reminder). Pure; any thread.
 */
#include <stdlib.h>
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
	if (json_is_object(v)) {
		/* {"available": BOOL, "details": TEXT, "until": DATE} */
		if (detail)
			*detail = json_string_value(json_object_get(v,
			    "details"));
		return json_is_true(json_object_get(v, "available")) ?
		    ACCESS_YES : ACCESS_NO;
	}
	if (json_is_false(v))
		return ACCESS_NO;
	if (json_is_string(v) && detail)
		*detail = json_string_value(v);
	return ACCESS_YES;
}

const char *
access_until(json_t *access, const char *word)
{
	return json_string_value(json_object_get(json_object_get(access, word),
	    "until"));
}

char *
access_describe(json_t *access, const char *word)
{
	const char	*detail, *until = access_until(access, word);
	char		*s, *t;

	switch (access_status(access, word, &detail)) {
	case ACCESS_YES:
		s = detail ? xasprintf("available: %s", detail) :
		    xstrdup("available");
		break;
	case ACCESS_NO:
		s = detail ? xasprintf("not available: %s", detail) :
		    xstrdup("not available");
		break;
	default:
		return xstrdup("not yet confirmed");
	}
	if (until == NULL)
		return s;
	t = xasprintf("%s (until %s)", s, until);
	free(s);
	return t;
}

json_t *
access_merged(json_t *venue_access, json_t *meeting_access)
{
	json_t		*out = json_is_object(venue_access) ?
			    json_copy(venue_access) : json_object(), *v;
	const char	*k;

	json_object_foreach(meeting_access, k, v)
		json_object_set(out, k, v);
	return out;
}

json_t *
access_settled(json_t *access, const char *today)
{
	json_t		*out = json_object(), *v;
	const char	*k, *until;

	json_object_foreach(access, k, v) {
		/* A temporary state that is over: nobody knows now. */
		if (json_is_object(v) && (until = json_string_value(
		    json_object_get(v, "until"))) != NULL &&
		    strcmp(until, today) < 0)
			continue;
		json_object_set(out, k, v);
	}
	return out;
}

char *
access_comm_describe(const char *need)
{
	if (strcmp(need, "bsl-video") == 0)
		return xstrdup("a British Sign Language (BSL) video");
	if (strcmp(need, "braille") == 0)
		return xstrdup("Braille");
	if (strcmp(need, "audio") == 0)
		return xstrdup("an audio version");
	if (strcmp(need, "phone-call") == 0)
		return xstrdup("a phone call");
	if (strncmp(need, "interpreter:", 12) == 0)
		return xasprintf("an interpreter (language %s)", need + 12);
	return xstrdup(need);
}

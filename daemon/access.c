/*
 * access.c: the access vocabulary as data. What a venue or meeting says
 * about a word, in its every form (true, false, details, or an object with
 * "available", "details" and "until"), becomes one state for the planner
 * (what changed at a venue) and the views. The words collaborators read are
 * in the templates; the labels here are for coordinators' notices only.
 * Pure; any thread.
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
	json_t	*v = json_object_get(access, word), *a;

	if (detail)
		*detail = NULL;
	if (v == NULL || json_is_null(v))
		return ACCESS_UNKNOWN;
	if (json_is_object(v)) {
		if (detail)
			*detail = json_string_value(json_object_get(v,
			    "details"));
		a = json_object_get(v, "available");
		if (a == NULL || json_is_null(a))
			return ACCESS_UNKNOWN;
		return json_is_false(a) ? ACCESS_NO : ACCESS_YES;
	}
	if (json_is_false(v))
		return ACCESS_NO;
	if (json_is_string(v) && detail)
		*detail = json_string_value(v);
	return ACCESS_YES;
}

json_t *
access_state(json_t *access, const char *word)
{
	const char	*detail, *until;
	json_t		*st;
	enum access_status a = access_status(access, word, &detail);

	if (a == ACCESS_UNKNOWN)
		return NULL;
	st = json_pack("{s:b}", "available", a == ACCESS_YES);
	if (detail != NULL && *detail != '\0')
		json_object_set_new(st, "details", json_string(detail));
	until = json_string_value(json_object_get(json_object_get(access,
	    word), "until"));
	if (until != NULL)
		json_object_set_new(st, "until", json_string(until));
	return st;
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

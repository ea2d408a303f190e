/*
 * meeting_change.c: what changed between the stored meeting and the new
 * version (meeting_impl.h), as the "changes" an update carries: each
 * {"field", "what", "was", "now"}, in the order people read them. Pure,
 * any thread.
 *
 * "field" names the change for the templates (time, place, online,
 * refreshments, agenda, payment, adjustments_by, access); "what" is for
 * people who read the raw record (coordinators' tools). An access change
 * lists its words as data ({word, was, now}); the templates word them.
 * Changes that do not touch what people read or act on are not an update.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "clock.h"
#include "meeting_impl.h"
#include "plan.h"
#include "record.h"

static char *
meeting_place(json_t *snap, json_t *m)
{
	const char	*vid = meeting_str(m, "venue");
	json_t		*v = vid ? plan_snaprec(snap, "venue", vid) : NULL;

	if (v == NULL)
		return xstrdup(json_object_get(m, "online") ? "Online only" :
		    "No place given");
	return xasprintf("%s, %s", meeting_str(v, "name"),
	    meeting_str(v, "address"));
}

static char *
meeting_online(json_t *m)
{
	json_t		*o = json_object_get(m, "online");
	const char	*d;

	if (o == NULL)
		return xstrdup("None");
	d = meeting_str(o, "dial_in");
	return xasprintf("%s%s%s%s", meeting_str(o, "url"),
	    json_is_true(json_object_get(o, "captions")) ? ", with captions" :
	    "", d ? ", dial in on " : "", d ? d : "");
}

static void
meeting_change(json_t *changes, const char *field, const char *what,
    char *was, char *now)
{
	json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:s}",
	    "field", field, "what", what, "was", was, "now", now));
	free(was);
	free(now);
}

/* A text field of the meeting that people act on: "" when absent. */
static void
meeting_text_change(json_t *changes, json_t *old, json_t *m,
    const char *field, const char *what)
{
	json_t	*a = json_object_get(old, field), *b = json_object_get(m, field);
	char	*sa, *sb;

	if (json_equal(a ? a : json_null(), b ? b : json_null()))
		return;
	sa = json_is_string(a) ? xstrdup(json_string_value(a)) : a ?
	    json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("");
	sb = json_is_string(b) ? xstrdup(json_string_value(b)) : b ?
	    json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("");
	meeting_change(changes, field, what, sa, sb);
}

/* The words that read differently over the venue's, as data. */
static json_t *
meeting_access_words(json_t *base, json_t *oa, json_t *na)
{
	json_t	*a = access_merged(base, oa), *b = access_merged(base, na);
	json_t	*words = json_array(), *sa, *sb;
	int	 k;

	for (k = 0; k < record_naccess_words; k++) {
		sa = access_state(a, record_access_words[k]);
		sb = access_state(b, record_access_words[k]);
		if (!json_equal(sa ? sa : json_null(), sb ? sb : json_null()))
			json_array_append_new(words, json_pack("{s:s, s:o, "
			    "s:o, s:b, s:b}", "word", record_access_words[k],
			    "was", sa ? sa : json_null(), "now", sb ? sb :
			    json_null(), "was_arranged", json_object_get(oa,
			    record_access_words[k]) != NULL, "now_arranged",
			    json_object_get(na, record_access_words[k]) !=
			    NULL));
		else {
			json_decref(sa);
			json_decref(sb);
		}
	}
	json_decref(a);
	json_decref(b);
	return words;
}

/*
 * The meeting's own access arrangements changed (an interpreter booked):
 * one change with field "access" when a word reads differently over the
 * venue's words, "words" listing each such word. Arrangements that change
 * nothing people read are not an update.
 */
static void
meeting_access_changes(struct meeting_plan *p, json_t *old, json_t *changes)
{
	json_t	*oa = json_object_get(old, "access"), *base, *words;
	json_t	*na = json_object_get(p->r->json, "access");
	char	*da, *db;

	if (json_equal(oa ? oa : json_null(), na ? na : json_null()))
		return;
	base = p->vid ? json_object_get(plan_snaprec(p->snap, "venue", p->vid),
	    "access") : NULL;
	words = meeting_access_words(base, oa, na);
	if (json_array_size(words) == 0) {
		json_decref(words);
		return;
	}
	da = oa ? json_dumps(oa, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("");
	db = na ? json_dumps(na, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("");
	meeting_change(changes, "access", "Access arranged for this meeting",
	    da, db);
	json_object_set_new(json_array_get(changes,
	    json_array_size(changes) - 1), "words", words);
}

/* Time, place and online details: what a calendar carries. */
static void
meeting_calendar_changes(struct meeting_plan *p, json_t *old, json_t *changes,
    int *time_changed)
{
	const char	*otz = meeting_str(old, "timezone") ?
	    meeting_str(old, "timezone") : p->pc->cf->timezone;
	const char	*ov = meeting_str(old, "venue");
	json_t		*oo = json_object_get(old, "online");
	json_t		*no = json_object_get(p->r->json, "online");
	long long	 ostart, oend;
	char		 a[160], b[160];

	if (clock_parse_local(meeting_str(old, "start"), otz, &ostart,
	    NULL) == -1 || clock_parse_local(meeting_str(old, "end"), otz,
	    &oend, NULL) == -1)
		ostart = oend = 0;
	*time_changed = ostart != p->start || oend != p->end;
	if (*time_changed) {
		clock_format_range(ostart, oend, otz, a, sizeof a);
		clock_format_range(p->start, p->end, p->r->tz, b, sizeof b);
		meeting_change(changes, "time", "Date and time", xstrdup(a),
		    xstrdup(b));
	}
	if ((ov == NULL) != (p->vid == NULL) ||
	    (ov && p->vid && strcmp(ov, p->vid) != 0))
		meeting_change(changes, "place", "Place",
		    meeting_place(p->snap, old), meeting_place(p->snap,
		    p->r->json));
	if (!json_equal(oo ? oo : json_null(), no ? no : json_null()))
		meeting_change(changes, "online", "Online joining details",
		    meeting_online(old), meeting_online(p->r->json));
}

json_t *
meeting_changes(struct meeting_plan *p, json_t *old, int *time_changed)
{
	json_t	*changes = json_array();

	meeting_calendar_changes(p, old, changes, time_changed);
	/* What else people act on: food, agenda, money, access. */
	meeting_text_change(changes, old, p->r->json, "refreshments",
	    "Food and drink");
	meeting_text_change(changes, old, p->r->json, "agenda", "Agenda");
	meeting_text_change(changes, old, p->r->json, "payment",
	    "Payment and expenses");
	meeting_text_change(changes, old, p->r->json, "adjustments_by",
	    "Date to ask for adjustments");
	meeting_access_changes(p, old, changes);
	return changes;
}

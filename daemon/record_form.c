/*
 * record_form.c: owns the form of each record type (SPEC sections 2 and 3):
 * which fields it has, which are required, the kind of each (a table per
 * type, walked by record_field.c), and the rules between fields (end after
 * start, somebody invited, a reason when not possible...).
 *
 * Pure: no I/O, no global state; any thread.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "record.h"
#include "record_field.h"
#include "record_form.h"

static const char *const formats[] = {
	"standard", "easy-read", "large-print", "plain-text", NULL
};
static const char *const meeting_statuses[] = {
	"scheduled", "cancelled", "held", NULL
};
static const char *const outcome_statuses[] = {
	"done", "in-progress", "planned", "not-possible", NULL
};

/* OPT("id", ID): an optional field of kind RECORD_FIELD_ID. */
#define OPT(n, k)	{ n, RECORD_FIELD_##k, 0, NULL, NULL }
#define REQ(n, k)	{ n, RECORD_FIELD_##k, 1, NULL, NULL }
#define END		{ NULL, RECORD_FIELD_TYPE, 0, NULL, NULL }
#define COMMON		REQ("type", TYPE), OPT("coordinator", EMAIL)

static const struct record_field supporter_fields[] = {
	REQ("name", HEADER),
	REQ("email", EMAIL),
	END
};

static const struct record_field collaborator_fields[] = {
	COMMON,
	REQ("id", ID),
	OPT("merge", BOOL),
	REQ("name", HEADER),
	OPT("email", EMAIL),	/* email or phone: check_collaborator */
	OPT("phone", PHONE),
	REQ("consent", BOOL),
	{ "supporter", RECORD_FIELD_OBJECT, 0, NULL, supporter_fields },
	OPT("communication", COMMS),
	{ "format", RECORD_FIELD_ENUM, 0, formats, NULL },
	OPT("access_needs", WORDS),
	OPT("reminders", DURATIONS),
	OPT("groups", GROUPS),
	END
};

static const struct record_field venue_fields[] = {
	COMMON,
	REQ("id", ID),
	OPT("merge", BOOL),
	REQ("name", HEADER),
	REQ("address", LINES),
	OPT("getting_there", TEXT),
	OPT("arrival", TEXT),
	OPT("access", ACCESS),
	OPT("on_the_day_contact", LINES),
	OPT("access_guide_url", URL),
	OPT("last_verified", DATE),
	END
};

static const struct record_field online_fields[] = {
	REQ("url", URL),
	OPT("captions", BOOL),
	OPT("dial_in", LINE),
	END
};

static const struct record_field organiser_fields[] = {
	REQ("name", HEADER),
	OPT("email", EMAIL),
	OPT("phone", LINE),
	END
};

static const struct record_field payment_fields[] = {
	OPT("travel", TEXT),
	OPT("fee", TEXT),
	OPT("benefits", TEXT),
	END
};

static const struct record_field meeting_fields[] = {
	COMMON,
	REQ("id", ID),
	OPT("merge", BOOL),
	REQ("title", HEADER),
	REQ("start", TIME),
	REQ("end", TIME),
	OPT("timezone", TZ),
	OPT("venue", ID),
	{ "online", RECORD_FIELD_OBJECT, 0, NULL, online_fields },
	OPT("agenda", TEXT),
	{ "organiser", RECORD_FIELD_OBJECT, 0, NULL, organiser_fields },
	OPT("invitees", IDS),
	OPT("groups", GROUPS),
	{ "payment", RECORD_FIELD_OBJECT, 0, NULL, payment_fields },
	OPT("refreshments", TEXT),
	OPT("adjustments_by", DATE),
	OPT("reminders", DURATIONS),
	OPT("access", ACCESS),
	{ "status", RECORD_FIELD_ENUM, 0, meeting_statuses, NULL },
	OPT("cancel_reason", TEXT),
	END
};

static const struct record_field to_fields[] = {
	OPT("groups", GROUPS),
	OPT("collaborators", IDS),
	OPT("all", BOOL),
	END
};

static const struct record_field announcement_fields[] = {
	COMMON,
	REQ("id", ID),
	REQ("subject", HEADER),
	REQ("body", TEXT),
	{ "to", RECORD_FIELD_OBJECT, 1, NULL, to_fields },
	OPT("send_at", TIME),
	OPT("timezone", TZ),
	END
};

static const struct record_field said_fields[] = {
	COMMON,
	REQ("id", ID),
	REQ("text", TEXT),
	OPT("meeting", ID),
	OPT("collaborator", ID),
	OPT("topic", HEADER),
	OPT("said_on", DATE),
	OPT("said_at", TIME),	/* the older form: said_on is the date */
	END
};

static const struct record_field outcome_fields[] = {
	COMMON,
	REQ("id", ID),
	REQ("said", IDS),
	REQ("we_did", TEXT),
	{ "status", RECORD_FIELD_ENUM, 1, outcome_statuses, NULL },
	OPT("reason", TEXT),
	END
};

static const struct record_field forget_fields[] = {
	COMMON,
	REQ("collaborator", ID),
	END
};

static const struct record_field *const form_fields[REC_TYPE_MAX] = {
	collaborator_fields, venue_fields, meeting_fields, announcement_fields,
	said_fields, outcome_fields, forget_fields
};

/* "YYYY-MM-DDTHH:MM:SS" of a valid time, for comparison. */
static void
form_time_norm(const char *s, char *buf, size_t len)
{
	struct tm	tm;

	if (record_time_parse(s, &tm) == -1) {
		snprintf(buf, len, "%s", s);
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

/* A non-empty array member. */
static int
nonempty(const json_t *obj, const char *key)
{
	json_t	*v;

	return (v = record_field_get(obj, key)) != NULL &&
	    json_array_size(v) > 0;
}

static int
check_meeting(const json_t *obj, struct err *e)
{
	const char	*start, *end, *by;
	char		 ns[80], ne[80];

	start = record_field_getstr(obj, "start");
	end = record_field_getstr(obj, "end");
	form_time_norm(start, ns, sizeof ns);
	form_time_norm(end, ne, sizeof ne);
	if (strcmp(ne, ns) <= 0)
		return err_set(e, "end: \"%s\" is not after the start (%s)",
		    end, start);
	if (record_field_get(obj, "venue") == NULL &&
	    record_field_get(obj, "online") == NULL)
		return err_set(e, "venue: missing (a meeting needs a venue, "
		    "online details, or both)");
	if (!nonempty(obj, "invitees") && !nonempty(obj, "groups"))
		return err_set(e, "invitees: nobody is invited (a meeting "
		    "needs invitees, groups, or both)");
	if ((by = record_field_getstr(obj, "adjustments_by")) != NULL &&
	    strncmp(by, ns, 10) > 0)
		return err_set(e, "adjustments_by: \"%s\" is after the start "
		    "date (%.10s)", by, ns);
	return 0;
}

static int
check_collaborator(const json_t *obj, struct err *e)
{
	if (record_field_get(obj, "email") == NULL &&
	    record_field_get(obj, "phone") == NULL)
		return err_set(e, "email: missing (give an email address, a "
		    "phone number as \"phone\", or both)");
	return 0;
}

static int
check_announcement(const json_t *obj, struct err *e)
{
	json_t	*to = record_field_get(obj, "to"), *all;

	if ((all = record_field_get(to, "all")) != NULL && json_is_true(all))
		return 0;
	if (nonempty(to, "groups") || nonempty(to, "collaborators"))
		return 0;
	return err_set(e, "to: names nobody (give groups, collaborators, "
	    "or \"all\": true)");
}

static int
check_outcome(const json_t *obj, struct err *e)
{
	const char	*status = record_field_getstr(obj, "status");

	if (strcmp(status, "not-possible") == 0 &&
	    record_field_get(obj, "reason") == NULL)
		return err_set(e, "reason: required when status is "
		    "\"not-possible\" (say honestly why)");
	return 0;
}

int
record_form_check(json_t *obj, enum record_type t, size_t max_bytes,
    int partial, json_t *errs, struct err *e)
{
	if (record_field_check(obj, form_fields[t], max_bytes, partial, errs,
	    e) == -1)
		return -1;
	if (partial)
		return 0;	/* the rules hold for the merged whole */
	switch (t) {
	case REC_COLLABORATOR:
		return check_collaborator(obj, e);
	case REC_MEETING:
		return check_meeting(obj, e);
	case REC_ANNOUNCEMENT:
		return check_announcement(obj, e);
	case REC_OUTCOME:
		return check_outcome(obj, e);
	default:
		return 0;
	}
}

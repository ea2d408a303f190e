/*
 * record.c: owns records as callers see them (SPEC sections 2 and 3): the
 * entry points that parse and check a record (record_parse, record_check),
 * the references it makes (record_refs: this file does not know what
 * exists in Redis, the caller looks the ids up), and the small vocabulary
 * other files share: record types, access words, ids, dates and times.
 *
 * What each type holds and the rules between its fields are
 * record_form.c's; what one field may hold is record_field.c's. The first
 * problem found is the one reported.
 *
 * Pure: no I/O, no global state; any thread (address checks need GMime to
 * have been initialised by main; time zones come from libical, whose
 * built-in zone cache is locked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "record.h"
#include "record_field.h"
#include "record_form.h"

const char *const record_access_words[] = {
	"step-free", "lift", "accessible-toilet", "changing-places",
	"hearing-loop", "bsl", "captions", "quiet-room", "seating", "parking",
	"public-transport", "assistance-dogs", "lighting", "large-print",
	"easy-read", "non-clinical", NULL
};
const int record_naccess_words = 16;

static const char *const record_type_names[REC_TYPE_MAX] = {
	"collaborator", "venue", "meeting", "announcement", "said", "outcome",
	"forget"
};

const char *
record_type_name(enum record_type t)
{
	if ((int)t < 0 || t >= REC_TYPE_MAX)
		return "unknown";
	return record_type_names[t];
}

int
record_type_from_name(const char *name, enum record_type *t)
{
	int	i;

	for (i = 0; i < REC_TYPE_MAX; i++) {
		if (strcmp(name, record_type_names[i]) == 0) {
			*t = (enum record_type)i;
			return 0;
		}
	}
	return -1;
}

int
record_access_word_valid(const char *s)
{
	int	i;

	for (i = 0; i < record_naccess_words; i++)
		if (strcmp(s, record_access_words[i]) == 0)
			return 1;
	return 0;
}

static int
record_alnum(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

int
record_id_valid(const char *s)
{
	size_t	i;

	if (!record_alnum((unsigned char)s[0]))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= RECORD_ID_MAX)
			return 0;
		if (!record_alnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != ':' && s[i] != '-')
			return 0;
	}
	return 1;
}

/* n digits at s, or -1. */
static int
record_digits(const char *s, int n)
{
	int	v = 0;

	while (n-- > 0) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

static int
record_mdays(int y, int m)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* The "YYYY-MM-DD" at the start of s. */
static int
record_date_prefix(const char *s, struct tm *tm)
{
	int	y, m, d;

	if ((y = record_digits(s, 4)) == -1 || s[4] != '-' ||
	    (m = record_digits(s + 5, 2)) == -1 || s[7] != '-' ||
	    (d = record_digits(s + 8, 2)) == -1)
		return -1;
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > record_mdays(y, m))
		return -1;
	memset(tm, 0, sizeof *tm);
	tm->tm_year = y - 1900;
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	tm->tm_isdst = -1;
	return 0;
}

int
record_date_parse(const char *s, struct tm *tm)
{
	struct tm	t;

	if (strlen(s) != 10 || record_date_prefix(s, &t) == -1)
		return -1;
	*tm = t;
	return 0;
}

int
record_time_parse(const char *s, struct tm *tm)
{
	struct tm	t;
	size_t		len = strlen(s);
	int		h, mi, sec = 0;

	if (len != 16 && len != 19)
		return -1;
	if (record_date_prefix(s, &t) == -1 || s[10] != 'T' ||
	    (h = record_digits(s + 11, 2)) == -1 || s[13] != ':' ||
	    (mi = record_digits(s + 14, 2)) == -1)
		return -1;
	if (len == 19 && (s[16] != ':' ||
	    (sec = record_digits(s + 17, 2)) == -1))
		return -1;
	if (h > 23 || mi > 59 || sec > 59)
		return -1;
	t.tm_hour = h;
	t.tm_min = mi;
	t.tm_sec = sec;
	*tm = t;
	return 0;
}

static int
record_check1(json_t *obj, const struct record_opts *o, int sizecheck,
    struct record *out, struct err *e)
{
	enum record_type t;
	json_t		*tv;
	const char	*tz;
	char		 q[RECORD_FIELD_QUOTE_MAX];
	size_t		 n, max;

	memset(out, 0, sizeof *out);
	max = (o != NULL && o->max_bytes > 0) ? o->max_bytes :
	    RECORD_DEFAULT_MAX;
	tz = (o != NULL && o->default_tz != NULL) ? o->default_tz :
	    RECORD_DEFAULT_TZ;

	if (!json_is_object(obj))
		return err_set(e, "not a JSON object");
	if (sizecheck && (n = json_dumpb(obj, NULL, 0, JSON_COMPACT)) > max)
		return err_set(e, "too large: %zu bytes, limit %zu", n, max);

	if ((tv = record_field_get(obj, "type")) == NULL)
		return err_set(e, "type: missing (required)");
	if (!json_is_string(tv))
		return err_set(e, "type: expected a string, got %s",
		    record_field_jtype(tv));
	if (record_type_from_name(json_string_value(tv), &t) == -1 ||
	    strlen(json_string_value(tv)) != json_string_length(tv))
		return err_set(e, "type: unknown record type %s",
		    util_quote(q, sizeof q, json_string_value(tv), 60));

	if (record_form_check(obj, t, max, e) == -1)
		return -1;

	out->type = t;
	out->id = record_field_getstr(obj,
	    t == REC_FORGET ? "collaborator" : "id");
	out->tz = record_field_getstr(obj, "timezone") != NULL ?
	    record_field_getstr(obj, "timezone") : tz;
	out->json = json_incref(obj);
	return 0;
}

int
record_check(json_t *obj, const struct record_opts *o, struct record *out,
    struct err *e)
{
	return record_check1(obj, o, 1, out, e);
}

/* jansson's message, made safe to print (it may quote raw input). */
static void
record_safe(char *dst, size_t len, const char *s)
{
	util_escape(dst, len, s, (size_t)-1);
}

int
record_parse(const char *text, size_t len, const struct record_opts *o,
    struct record *out, struct err *e)
{
	json_error_t	 je;
	json_t		*root;
	size_t		 max;
	char		 msg[sizeof je.text * 2];
	int		 rc;

	memset(out, 0, sizeof *out);
	max = (o != NULL && o->max_bytes > 0) ? o->max_bytes :
	    RECORD_DEFAULT_MAX;
	if (len > max)
		return err_set(e, "too large: %zu bytes, limit %zu", len, max);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
	    JSON_ALLOW_NUL,
	    &je);
	if (root == NULL) {
		record_safe(msg, sizeof msg, je.text);
		if (json_error_code(&je) == json_error_invalid_utf8)
			return err_set(e, "not JSON: line %d column %d: not "
			    "UTF-8 text (%s)", je.line, je.column, msg);
		return err_set(e, "not JSON: line %d column %d: %s", je.line,
		    je.column, msg);
	}
	rc = record_check1(root, o, 0, out, e);
	json_decref(root);
	return rc;
}

void
record_clear(struct record *r)
{
	if (r->json != NULL)
		json_decref(r->json);
	memset(r, 0, sizeof *r);
}

static void
refs_one(const json_t *obj, const char *key, const char *kind,
    const char *path, record_ref_fn *fn, void *arg)
{
	const char	*id;

	if ((id = record_field_getstr(obj, key)) != NULL)
		fn(kind, id, path, arg);
}

static void
refs_list(const json_t *obj, const char *key, const char *kind,
    const char *path, record_ref_fn *fn, void *arg)
{
	json_t	*a, *el;
	size_t	 i;
	char	 ep[RECORD_FIELD_PATH_MAX + 32];

	if ((a = record_field_get(obj, key)) == NULL || !json_is_array(a))
		return;
	json_array_foreach(a, i, el) {
		if (!json_is_string(el))
			continue;
		snprintf(ep, sizeof ep, "%s[%zu]", path, i);
		fn(kind, json_string_value(el), ep, arg);
	}
}

void
record_refs(const struct record *r, record_ref_fn *fn, void *arg)
{
	const json_t	*j = r->json;

	if (j == NULL)
		return;
	switch (r->type) {
	case REC_MEETING:
		refs_one(j, "venue", "venue", "venue", fn, arg);
		refs_list(j, "invitees", "collaborator", "invitees", fn, arg);
		refs_list(j, "groups", "group", "groups", fn, arg);
		break;
	case REC_ANNOUNCEMENT:
		refs_list(record_field_get(j, "to"), "groups", "group",
		    "to.groups", fn, arg);
		refs_list(record_field_get(j, "to"), "collaborators",
		    "collaborator", "to.collaborators", fn, arg);
		break;
	case REC_SAID:
		refs_one(j, "meeting", "meeting", "meeting", fn, arg);
		refs_one(j, "collaborator", "collaborator", "collaborator", fn,
		    arg);
		break;
	case REC_OUTCOME:
		refs_list(j, "said", "said", "said", fn, arg);
		break;
	case REC_FORGET:
		refs_one(j, "collaborator", "collaborator", "collaborator", fn,
		    arg);
		break;
	default:
		break;
	}
}

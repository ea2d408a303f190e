/*
 * record.c: owns the form of records (SPEC sections 2 and 3): which fields
 * each type has, what each may hold, and the rules between fields (end after
 * start, reason when not possible...). It does not know what exists in Redis;
 * record_refs() tells the caller which ids to look up.
 *
 * Each type is a table of fields; check_object() walks an object against a
 * table: unknown keys first (in the object's order), then each field in
 * table order, then the type's cross-field rules. The first problem found
 * is the one reported.
 *
 * Pure: no I/O, no global state; any thread (address checks need GMime to
 * have been initialised by main; time zones come from libical, whose
 * built-in zone cache is locked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <libical/ical.h>

#include "address.h"
#include "config.h"
#include "duration.h"
#include "record.h"

#define RECORD_PATH_MAX		200
#define RECORD_QUOTE_MAX	160
#define RECORD_KEY_MAX		40	/* unknown keys are cut in paths */

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

enum kind {
	K_TYPE,		/* "type": checked before the table */
	K_ID,
	K_IDS,		/* array of distinct ids */
	K_GROUPS,	/* array of distinct group names */
	K_HEADER,	/* one line that may go in a header */
	K_LINE,		/* one line */
	K_LINES,	/* short text, may hold \n */
	K_TEXT,		/* long text, may hold \n and \t */
	K_EMAIL,
	K_BOOL,
	K_TIME,
	K_DATE,
	K_TZ,
	K_URL,
	K_DURATIONS,
	K_WORDS,	/* array of distinct access words */
	K_ACCESS,	/* object: access word -> true, false or details */
	K_ENUM,
	K_OBJECT
};

struct field {
	const char		*name;
	enum kind		 kind;
	int			 required;
	const char *const	*values;	/* K_ENUM */
	const struct field	*sub;		/* K_OBJECT */
};

struct ctx {
	size_t	max_bytes;
};

static const char *const formats[] = {
	"standard", "easy-read", "large-print", "plain-text", NULL
};
static const char *const meeting_statuses[] = {
	"scheduled", "cancelled", NULL
};
static const char *const outcome_statuses[] = {
	"done", "in-progress", "planned", "not-possible", NULL
};

#define OPT(n, k)	{ n, k, 0, NULL, NULL }
#define REQ(n, k)	{ n, k, 1, NULL, NULL }
#define END		{ NULL, K_TYPE, 0, NULL, NULL }
#define COMMON		REQ("type", K_TYPE), OPT("coordinator", K_EMAIL)

static const struct field collaborator_fields[] = {
	COMMON,
	REQ("id", K_ID),
	REQ("name", K_HEADER),
	REQ("email", K_EMAIL),
	REQ("consent", K_BOOL),
	{ "format", K_ENUM, 0, formats, NULL },
	OPT("access_needs", K_WORDS),
	OPT("reminders", K_DURATIONS),
	OPT("groups", K_GROUPS),
	END
};

static const struct field venue_fields[] = {
	COMMON,
	REQ("id", K_ID),
	REQ("name", K_HEADER),
	REQ("address", K_LINES),
	OPT("getting_there", K_TEXT),
	OPT("arrival", K_TEXT),
	OPT("access", K_ACCESS),
	OPT("on_the_day_contact", K_LINES),
	OPT("access_guide_url", K_URL),
	OPT("last_verified", K_DATE),
	END
};

static const struct field online_fields[] = {
	REQ("url", K_URL),
	OPT("captions", K_BOOL),
	OPT("dial_in", K_LINE),
	END
};

static const struct field organiser_fields[] = {
	REQ("name", K_HEADER),
	OPT("email", K_EMAIL),
	OPT("phone", K_LINE),
	END
};

static const struct field payment_fields[] = {
	OPT("travel", K_TEXT),
	OPT("fee", K_TEXT),
	OPT("benefits", K_TEXT),
	END
};

static const struct field meeting_fields[] = {
	COMMON,
	REQ("id", K_ID),
	REQ("title", K_HEADER),
	REQ("start", K_TIME),
	REQ("end", K_TIME),
	OPT("timezone", K_TZ),
	OPT("venue", K_ID),
	{ "online", K_OBJECT, 0, NULL, online_fields },
	OPT("agenda", K_TEXT),
	{ "organiser", K_OBJECT, 0, NULL, organiser_fields },
	OPT("invitees", K_IDS),
	OPT("groups", K_GROUPS),
	{ "payment", K_OBJECT, 0, NULL, payment_fields },
	OPT("refreshments", K_TEXT),
	OPT("adjustments_by", K_DATE),
	OPT("reminders", K_DURATIONS),
	{ "status", K_ENUM, 0, meeting_statuses, NULL },
	END
};

static const struct field to_fields[] = {
	OPT("groups", K_GROUPS),
	OPT("collaborators", K_IDS),
	OPT("all", K_BOOL),
	END
};

static const struct field announcement_fields[] = {
	COMMON,
	REQ("id", K_ID),
	REQ("subject", K_HEADER),
	REQ("body", K_TEXT),
	{ "to", K_OBJECT, 1, NULL, to_fields },
	OPT("send_at", K_TIME),
	OPT("timezone", K_TZ),
	END
};

static const struct field said_fields[] = {
	COMMON,
	REQ("id", K_ID),
	REQ("text", K_TEXT),
	OPT("meeting", K_ID),
	OPT("collaborator", K_ID),
	OPT("topic", K_HEADER),
	OPT("said_at", K_TIME),
	END
};

static const struct field outcome_fields[] = {
	COMMON,
	REQ("id", K_ID),
	REQ("said", K_IDS),
	REQ("we_did", K_TEXT),
	{ "status", K_ENUM, 1, outcome_statuses, NULL },
	OPT("reason", K_TEXT),
	END
};

static const struct field forget_fields[] = {
	COMMON,
	REQ("collaborator", K_ID),
	END
};

static const struct field *const record_fields[REC_TYPE_MAX] = {
	collaborator_fields, venue_fields, meeting_fields, announcement_fields,
	said_fields, outcome_fields, forget_fields
};

static int	check_object(json_t *, const struct field *, const char *,
		    const struct ctx *, struct err *);

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

/* "YYYY-MM-DDTHH:MM:SS" of a valid time, for comparison. */
static void
record_time_norm(const char *s, char *buf, size_t len)
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

/* Quote s for a message (util_quote: safe to log, cut at max). */
static const char *
quote_n(char *buf, size_t len, const char *s, size_t max)
{
	return util_quote(buf, len, s, max);
}

static const char *
quote(char *buf, size_t len, const char *s)
{
	return quote_n(buf, len, s, 60);
}

/* A key as it appears in a path: bare when it is tame, else quoted. */
static void
path_join(char *buf, size_t len, const char *prefix, const char *key)
{
	char		 q[RECORD_QUOTE_MAX];
	const char	*k = key, *p;
	int		 tame = strlen(key) > 0 && strlen(key) <= RECORD_KEY_MAX;

	for (p = key; *p != '\0' && tame; p++)
		if (!record_alnum((unsigned char)*p) && *p != '_' &&
		    *p != '-')
			tame = 0;
	if (!tame)
		k = quote_n(q, sizeof q, key, RECORD_KEY_MAX);
	if (prefix[0] == '\0')
		snprintf(buf, len, "%s", k);
	else
		snprintf(buf, len, "%s.%s", prefix, k);
}

static const char *
jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	default:
		return "null";
	}
}

/* The member, or NULL when absent or null. */
static json_t *
get(const json_t *obj, const char *key)
{
	json_t	*v;

	if (obj == NULL || (v = json_object_get(obj, key)) == NULL ||
	    json_is_null(v))
		return NULL;
	return v;
}

static const char *
getstr(const json_t *obj, const char *key)
{
	json_t	*v;

	if ((v = get(obj, key)) == NULL || !json_is_string(v))
		return NULL;
	return json_string_value(v);
}

enum strclass {
	S_HEADER,	/* one line, no tabs; goes into a header */
	S_LINE,		/* one line, no tabs */
	S_LINES,	/* \n allowed */
	S_TEXT		/* \n and \t allowed */
};

/*
 * Text rules: no control characters (C0, DEL, C1), line breaks only where
 * the class allows, not empty or blank, not too long. The message does not
 * name the field; what names the header field (for "not allowed in a
 * subject").
 */
static int
check_text(const char *s, size_t len, enum strclass cls, size_t maxchars,
    const char *what, struct err *e)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, chars = 0;
	int			 blank = 1;

	for (i = 0; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			chars++;
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n')
			blank = 0;
		if (p[i] == '\n' || p[i] == '\r') {
			if (cls == S_HEADER)
				return err_set(e, "contains a line break "
				    "(not allowed in a %s)", what);
			if (cls == S_LINE)
				return err_set(e, "contains a line break "
				    "(this field is one line)");
			if (p[i] == '\r')
				return err_set(e, "contains a carriage return "
				    "(\\r); use \\n alone for a new line");
			continue;
		}
		if (p[i] == '\t' && cls == S_TEXT)
			continue;
		if (p[i] < 0x20 || p[i] == 0x7f)
			return err_set(e, "contains a control character "
			    "(U+%04X%s)", p[i], p[i] == '\t' ? ", a tab" : "");
		/* C1 controls U+0080-U+009F are C2 80 - C2 9F in UTF-8. */
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f)
			return err_set(e, "contains a control character "
			    "(U+%04X)", p[i + 1]);
		/* U+2028, U+2029: line and paragraph separators. */
		if (cls == S_HEADER && p[i] == 0xe2 && i + 2 < len &&
		    p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
			return err_set(e, "contains a line break "
			    "(not allowed in a %s)", what);
	}
	if (blank)
		return err_set(e, "is empty (leave the field out instead)");
	if (maxchars > 0 && chars > maxchars)
		return err_set(e, "is too long (%zu characters, at most %zu)",
		    chars, maxchars);
	return 0;
}

static int
url_valid(const char *s)
{
	const char	*p;

	if (strlen(s) > RECORD_URL_MAX)
		return 0;
	if (strncasecmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		p = s + 7;
	else
		return 0;
	if (*p == '\0' || *p == '/' || *p == '?' || *p == '#' || *p == '.' ||
	    *p == ':' || *p == '@')
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f ||
		    strchr("\"<>\\^`{|}", *p) != NULL)
			return 0;
	return 1;
}

static int
enum_valid(const char *s, const char *const *values, char *list, size_t len)
{
	size_t	o = 0;
	int	i, found = 0;

	list[0] = '\0';
	for (i = 0; values[i] != NULL; i++) {
		if (strcmp(s, values[i]) == 0)
			found = 1;
		if (o < len)
			o += snprintf(list + o, len - o, "%s%s",
			    i > 0 ? ", " : "", values[i]);
	}
	return found;
}

static int
expect_string(const json_t *v, struct err *e)
{
	if (!json_is_string(v))
		return err_set(e, "expected a string, got %s", jtype(v));
	return 0;
}

/* One string of a field: v is known to be a string. */
static int
check_string(const json_t *v, const struct field *f, const struct ctx *c,
    struct err *e)
{
	const char	*s = json_string_value(v);
	size_t		 len = json_string_length(v);
	char		 q[RECORD_QUOTE_MAX], list[256];
	struct tm	 tm;
	long long	 secs;

	/* \u0000 parses (JSON allows it) but is never a valid value. */
	if (memchr(s, '\0', len) != NULL)
		return err_set(e, "contains a control character (U+0000)");
	switch (f->kind) {
	case K_ID:
	case K_IDS:
		if (!record_id_valid(s) || strlen(s) != len)
			return err_set(e, "%s is not a valid id (letters, "
			    "digits, and . _ : - ; at most 128)",
			    quote(q, sizeof q, s));
		return 0;
	case K_GROUPS:
		if (!record_id_valid(s) || strlen(s) != len)
			return err_set(e, "%s is not a valid group name "
			    "(letters, digits, and . _ : - ; at most 128)",
			    quote(q, sizeof q, s));
		return 0;
	case K_HEADER:
		return check_text(s, len, S_HEADER, RECORD_HEADER_MAX,
		    f->name, e);
	case K_LINE:
		return check_text(s, len, S_LINE, RECORD_SHORT_MAX, f->name, e);
	case K_LINES:
		return check_text(s, len, S_LINES, RECORD_SHORT_MAX, f->name,
		    e);
	case K_TEXT:
	case K_ACCESS:
		if (check_text(s, len, S_TEXT, 0, f->name, e) == -1)
			return -1;
		if (len > c->max_bytes)
			return err_set(e, "is too long (%zu bytes, at most %zu)",
			    len, c->max_bytes);
		return 0;
	case K_EMAIL:
		return address_check(s, e);
	case K_TIME:
		if (record_time_parse(s, &tm) == -1)
			return err_set(e, "%s is not a date and time "
			    "(YYYY-MM-DDTHH:MM)", quote(q, sizeof q, s));
		return 0;
	case K_DATE:
		if (record_date_parse(s, &tm) == -1)
			return err_set(e, "%s is not a date",
			    quote(q, sizeof q, s));
		return 0;
	case K_TZ:
		if (*s == '\0' || strlen(s) != len ||
		    check_text(s, len, S_LINE, 100, f->name, NULL) == -1 ||
		    icaltimezone_get_builtin_timezone(s) == NULL)
			return err_set(e, "%s is not a known time zone",
			    quote(q, sizeof q, s));
		return 0;
	case K_URL:
		if (!url_valid(s))
			return err_set(e, "%s is not a web address (it must "
			    "start with https:// or http://)",
			    quote(q, sizeof q, s));
		return 0;
	case K_DURATIONS:
		if (duration_parse(s, &secs, e) == -1)
			return -1;
		if (secs <= 0)
			return err_set(e, "%s is not more than zero",
			    quote(q, sizeof q, s));
		return 0;
	case K_WORDS:
		if (!record_access_word_valid(s))
			return err_set(e, "%s is not an access word",
			    quote(q, sizeof q, s));
		return 0;
	case K_ENUM:
		if (!enum_valid(s, f->values, list, sizeof list))
			return err_set(e, "%s is not one of %s",
			    quote(q, sizeof q, s), list);
		return 0;
	default:
		return err_set(e, "internal error: no rule for this field");
	}
}

/* An array of distinct strings (ids, group names, durations, words). */
static int
check_array(const json_t *v, const struct field *f, const char *path,
    const struct ctx *c, struct err *e)
{
	json_t		*seen = NULL, *el, *prev;
	long long	 secs;
	size_t		 i;
	char		 ep[RECORD_PATH_MAX + 32], key[32], q[RECORD_QUOTE_MAX];
	const char	*k;

	if (!json_is_array(v))
		return err_set(e, "%s: expected an array, got %s", path,
		    jtype(v));
	if (f->required && json_array_size(v) == 0)
		return err_set(e, "%s: is empty (name at least one)", path);
	if (f->kind == K_DURATIONS && json_array_size(v) > CONFIG_MAX_LEADS)
		return err_set(e, "%s: more than %d reminders", path,
		    CONFIG_MAX_LEADS);
	seen = json_object();
	json_array_foreach(v, i, el) {
		snprintf(ep, sizeof ep, "%s[%zu]", path, i);
		if (expect_string(el, e) == -1 ||
		    check_string(el, f, c, e) == -1) {
			err_prefix(e, "%s", ep);
			goto err;
		}
		k = json_string_value(el);
		if (f->kind == K_DURATIONS) {
			duration_parse(k, &secs, NULL);
			snprintf(key, sizeof key, "%lld", secs);
			k = key;
		}
		if ((prev = json_object_get(seen, k)) != NULL) {
			err_set(e, "%s: %s is the same as %s[%lld]", ep,
			    quote(q, sizeof q, json_string_value(el)), path,
			    (long long)json_integer_value(prev));
			goto err;
		}
		json_object_set_new(seen, k, json_integer((json_int_t)i));
	}
	json_decref(seen);
	return 0;

err:
	json_decref(seen);
	return -1;
}

/* A venue's access map: word -> true, false or details. */
static int
check_access(const json_t *v, const struct field *f, const char *path,
    const struct ctx *c, struct err *e)
{
	const char	*word;
	json_t		*val;
	char		 ep[RECORD_PATH_MAX], q[RECORD_QUOTE_MAX];

	if (!json_is_object(v))
		return err_set(e, "%s: expected an object, got %s", path,
		    jtype(v));
	json_object_foreach((json_t *)v, word, val) {
		path_join(ep, sizeof ep, path, word);
		if (!record_access_word_valid(word))
			return err_set(e, "%s: %s is not an access word", ep,
			    quote(q, sizeof q, word));
		if (json_is_boolean(val))
			continue;
		if (!json_is_string(val))
			return err_set(e, "%s: expected true, false or a "
			    "description, got %s", ep, jtype(val));
		if (check_string(val, f, c, e) == -1) {
			err_prefix(e, "%s", ep);
			return -1;
		}
	}
	return 0;
}

static int
check_value(const json_t *v, const struct field *f, const char *path,
    const struct ctx *c, struct err *e)
{
	switch (f->kind) {
	case K_BOOL:
		if (!json_is_boolean(v))
			return err_set(e, "%s: expected true or false, got %s",
			    path, jtype(v));
		return 0;
	case K_OBJECT:
		if (!json_is_object(v))
			return err_set(e, "%s: expected an object, got %s",
			    path, jtype(v));
		return check_object((json_t *)v, f->sub, path, c, e);
	case K_ACCESS:
		return check_access(v, f, path, c, e);
	case K_IDS:
	case K_GROUPS:
	case K_DURATIONS:
	case K_WORDS:
		return check_array(v, f, path, c, e);
	default:
		if (expect_string(v, e) == -1 ||
		    check_string(v, f, c, e) == -1) {
			err_prefix(e, "%s", path);
			return -1;
		}
		return 0;
	}
}

static int
check_object(json_t *obj, const struct field *fields, const char *prefix,
    const struct ctx *c, struct err *e)
{
	const struct field	*f;
	const char		*key;
	json_t			*v;
	char			 path[RECORD_PATH_MAX];

	json_object_foreach(obj, key, v) {
		for (f = fields; f->name != NULL; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (f->name == NULL) {
			path_join(path, sizeof path, prefix, key);
			return err_set(e, "%s: unknown field", path);
		}
	}
	for (f = fields; f->name != NULL; f++) {
		if (f->kind == K_TYPE)
			continue;
		path_join(path, sizeof path, prefix, f->name);
		if ((v = json_object_get(obj, f->name)) == NULL)
			v = json_null();
		if (json_is_null(v)) {
			if (f->required)
				return err_set(e, "%s: missing (required)",
				    path);
			continue;
		}
		if (check_value(v, f, path, c, e) == -1)
			return -1;
	}
	return 0;
}

/* A non-empty array member. */
static int
nonempty(const json_t *obj, const char *key)
{
	json_t	*v;

	return (v = get(obj, key)) != NULL && json_array_size(v) > 0;
}

static int
check_meeting(const json_t *obj, struct err *e)
{
	const char	*start, *end, *by;
	char		 ns[80], ne[80];

	start = getstr(obj, "start");
	end = getstr(obj, "end");
	record_time_norm(start, ns, sizeof ns);
	record_time_norm(end, ne, sizeof ne);
	if (strcmp(ne, ns) <= 0)
		return err_set(e, "end: \"%s\" is not after the start (%s)",
		    end, start);
	if (get(obj, "venue") == NULL && get(obj, "online") == NULL)
		return err_set(e, "venue: missing (a meeting needs a venue, "
		    "online details, or both)");
	if (!nonempty(obj, "invitees") && !nonempty(obj, "groups"))
		return err_set(e, "invitees: nobody is invited (a meeting "
		    "needs invitees, groups, or both)");
	if ((by = getstr(obj, "adjustments_by")) != NULL &&
	    strncmp(by, ns, 10) > 0)
		return err_set(e, "adjustments_by: \"%s\" is after the start "
		    "date (%.10s)", by, ns);
	return 0;
}

static int
check_announcement(const json_t *obj, struct err *e)
{
	json_t	*to = get(obj, "to"), *all;

	if ((all = get(to, "all")) != NULL && json_is_true(all))
		return 0;
	if (nonempty(to, "groups") || nonempty(to, "collaborators"))
		return 0;
	return err_set(e, "to: names nobody (give groups, collaborators, "
	    "or \"all\": true)");
}

static int
check_outcome(const json_t *obj, struct err *e)
{
	const char	*status = getstr(obj, "status");

	if (strcmp(status, "not-possible") == 0 && get(obj, "reason") == NULL)
		return err_set(e, "reason: required when status is "
		    "\"not-possible\" (say honestly why)");
	return 0;
}

static int
record_check1(json_t *obj, const struct record_opts *o, int sizecheck,
    struct record *out, struct err *e)
{
	struct ctx	 c;
	enum record_type t;
	json_t		*tv;
	const char	*tz;
	char		 q[RECORD_QUOTE_MAX];
	size_t		 n;
	int		 rc = 0;

	memset(out, 0, sizeof *out);
	c.max_bytes = (o != NULL && o->max_bytes > 0) ? o->max_bytes :
	    RECORD_DEFAULT_MAX;
	tz = (o != NULL && o->default_tz != NULL) ? o->default_tz :
	    RECORD_DEFAULT_TZ;

	if (!json_is_object(obj))
		return err_set(e, "not a JSON object");
	if (sizecheck && (n = json_dumpb(obj, NULL, 0, JSON_COMPACT)) >
	    c.max_bytes)
		return err_set(e, "too large: %zu bytes, limit %zu", n,
		    c.max_bytes);

	if ((tv = get(obj, "type")) == NULL)
		return err_set(e, "type: missing (required)");
	if (!json_is_string(tv))
		return err_set(e, "type: expected a string, got %s", jtype(tv));
	if (record_type_from_name(json_string_value(tv), &t) == -1 ||
	    strlen(json_string_value(tv)) != json_string_length(tv))
		return err_set(e, "type: unknown record type %s",
		    quote(q, sizeof q, json_string_value(tv)));

	if (check_object(obj, record_fields[t], "", &c, e) == -1)
		return -1;
	switch (t) {
	case REC_MEETING:
		rc = check_meeting(obj, e);
		break;
	case REC_ANNOUNCEMENT:
		rc = check_announcement(obj, e);
		break;
	case REC_OUTCOME:
		rc = check_outcome(obj, e);
		break;
	default:
		break;
	}
	if (rc == -1)
		return -1;

	out->type = t;
	out->id = getstr(obj, t == REC_FORGET ? "collaborator" : "id");
	out->tz = getstr(obj, "timezone") != NULL ?
	    getstr(obj, "timezone") : tz;
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

	if ((id = getstr(obj, key)) != NULL)
		fn(kind, id, path, arg);
}

static void
refs_list(const json_t *obj, const char *key, const char *kind,
    const char *path, record_ref_fn *fn, void *arg)
{
	json_t	*a, *el;
	size_t	 i;
	char	 ep[RECORD_PATH_MAX + 32];

	if ((a = get(obj, key)) == NULL || !json_is_array(a))
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
		refs_list(get(j, "to"), "groups", "group", "to.groups", fn,
		    arg);
		refs_list(get(j, "to"), "collaborators", "collaborator",
		    "to.collaborators", fn, arg);
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

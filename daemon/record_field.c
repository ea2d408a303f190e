/*
 * record_field.c: owns what one field of a record may hold (an id, one line
 * of text, a date and time, a web address, a list of distinct ids, a
 * venue's access map...) and the walk of an object against a table of
 * fields. The table of each record type, and the rules between its fields,
 * are record_form.c's.
 *
 * check_object() walks an object against a table: unknown keys first (in
 * the object's order), then each field in table order. The first problem
 * found is the one reported, as "PATH: PROBLEM"; values quoted in messages
 * go through util_quote (escaped, cut short: safe to log).
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
#include "record_field.h"

#define FIELD_KEY_MAX	40	/* unknown keys are cut in paths */

struct ctx {
	size_t	 max_bytes;
	int	 partial;	/* a merge patch: nothing required */
	json_t	*errs;		/* every problem ("PATH: PROBLEM"), or NULL:
				 * stop at the first */
};

/* A venue's access word in its object form (SPEC section 2, venue). */
static const struct record_field access_obj_fields[] = {
	{ "available", RECORD_FIELD_BOOL, 1, NULL, NULL },
	{ "details", RECORD_FIELD_TEXT, 0, NULL, NULL },
	{ "until", RECORD_FIELD_DATE, 0, NULL, NULL },
	{ NULL, RECORD_FIELD_TYPE, 0, NULL, NULL }
};

static const char *const comm_words[] = {
	"bsl-video", "braille", "audio", "phone-call", "interpreter", NULL
};
#define COMM_LIST	"bsl-video, braille, audio, phone-call, " \
			"interpreter:LANG (LANG a language tag, for example " \
			"interpreter:pl for Polish)"

static int	check_object(json_t *, const struct record_field *,
		    const char *, const struct ctx *, struct err *);

static int
field_alnum(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
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

/* s lowercased, with spaces and underscores as hyphens, into buf. */
static void
suggest_norm(char *buf, size_t len, const char *s)
{
	size_t	i;

	for (i = 0; i + 1 < len && s[i] != '\0'; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			buf[i] = (char)(s[i] - 'A' + 'a');
		else if (s[i] == ' ' || s[i] == '_')
			buf[i] = '-';
		else
			buf[i] = s[i];
	}
	buf[i] = '\0';
}

/* Edit distance of two short strings, a swap of two neighbours counting
 * as one edit (at most 63 bytes; else large). */
static int
suggest_distance(const char *a, const char *b)
{
	int	 d[64][64], i, j, la = (int)strlen(a), lb = (int)strlen(b), c;

	if (la > 63 || lb > 63)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
				c = d[i - 2][j - 2] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

const char *
record_field_suggest(char *buf, size_t len, const char *s,
    const char *const *words)
{
	char		 n[64];
	const char	*best = NULL;
	int		 i, d, bestd = 99;
	size_t		 wl;

	buf[0] = '\0';
	if (strlen(s) >= sizeof n)
		return buf;
	suggest_norm(n, sizeof n, s);
	for (i = 0; words[i] != NULL; i++) {
		wl = strlen(words[i]);
		if (strcmp(n, words[i]) == 0)
			d = 0;
		else if (strncmp(n, words[i], wl) == 0 && n[wl] == '-')
			d = 1;	/* "bsl-interpreter" */
		else if (strlen(n) > 3 && (d = suggest_distance(n,
		    words[i])) > 2)
			continue;
		else if (strlen(n) <= 3)
			continue;
		if (d < bestd) {
			bestd = d;
			best = words[i];
		}
	}
	if (best != NULL)
		snprintf(buf, len, "; did you mean \"%s\"?", best);
	return buf;
}

/* "a, b, c" of a NULL-terminated list, into buf. */
static const char *
word_list(char *buf, size_t len, const char *const *words)
{
	size_t	o = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; words[i] != NULL && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%s", i > 0 ? ", " : "",
		    words[i]);
	return buf;
}

static int
ascii_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* A BCP 47 language tag, by its shape: a language of 2-3 letters, then
 * subtags of 1-8 letters or digits. */
static int
lang_tag_valid(const char *s)
{
	size_t	n, i;
	int	first = 1;

	if (*s == '\0' || strlen(s) > 35)
		return 0;
	while (*s != '\0') {
		n = strcspn(s, "-");
		if (n < 1 || n > 8)
			return 0;
		for (i = 0; i < n; i++)
			if (first ? !ascii_alpha(s[i]) :
			    !field_alnum((unsigned char)s[i]))
				return 0;
		/* The language: 2 or 3 letters ("pl", "bfi"), or the
		 * singletons of private and grandfathered tags. */
		if (first && !(n == 2 || n == 3 || (n == 1 && (s[0] == 'x' ||
		    s[0] == 'i'))))
			return 0;
		first = 0;
		s += n;
		if (*s == '-') {
			s++;
			if (*s == '\0')
				return 0;
		}
	}
	return 1;
}

int
record_field_comm_valid(const char *s)
{
	int	i;

	if (strncmp(s, "interpreter:", 12) == 0)
		return lang_tag_valid(s + 12);
	for (i = 0; comm_words[i] != NULL; i++)
		if (strcmp(s, comm_words[i]) == 0 &&
		    strcmp(s, "interpreter") != 0)
			return 1;
	return 0;
}

int
record_field_phone_valid(const char *s)
{
	const char	*p;
	int		 digits = 0, seen = 0;

	for (p = s; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9')
			digits++, seen = 1;
		else if (*p == '+') {
			if (seen)
				return 0;
			seen = 1;
		} else if (*p == ' ' || *p == '-' || *p == '(' || *p == ')' ||
		    *p == '.')
			seen = seen || *p != ' ';
		else
			return 0;
	}
	return digits >= 5 && digits <= 20 && strlen(s) <= 40;
}

/* A key as it appears in a path: bare when it is tame, else quoted. */
static void
path_join(char *buf, size_t len, const char *prefix, const char *key)
{
	char		 q[RECORD_FIELD_QUOTE_MAX];
	const char	*k = key, *p;
	int		 tame;

	tame = strlen(key) > 0 && strlen(key) <= FIELD_KEY_MAX;

	for (p = key; *p != '\0' && tame; p++)
		if (!field_alnum((unsigned char)*p) && *p != '_' &&
		    *p != '-')
			tame = 0;
	if (!tame)
		k = quote_n(q, sizeof q, key, FIELD_KEY_MAX);
	if (prefix[0] == '\0')
		snprintf(buf, len, "%s", k);
	else
		snprintf(buf, len, "%s.%s", prefix, k);
}

const char *
record_field_jtype(const json_t *v)
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

json_t *
record_field_get(const json_t *obj, const char *key)
{
	json_t	*v;

	if (obj == NULL || (v = json_object_get(obj, key)) == NULL ||
	    json_is_null(v))
		return NULL;
	return v;
}

const char *
record_field_getstr(const json_t *obj, const char *key)
{
	json_t	*v;

	if ((v = record_field_get(obj, key)) == NULL || !json_is_string(v))
		return NULL;
	return json_string_value(v);
}

/*
 * Characters that hide text or change the order it shows in: in a name, a
 * title or a subject they make an email look as if it said something else
 * ("Amara" and "Am\u200bara" look the same; U+202E shows what follows
 * backwards). The direction controls are the bidirectional embeddings,
 * overrides, isolates and marks; the invisible ones are the zero-width
 * characters and the byte order mark. ZWNJ and ZWJ are part of how some
 * scripts (Persian, Indic scripts) and emoji are written: they are allowed
 * between two characters that are not ASCII, refused anywhere else.
 */
static const struct {
	unsigned long	 lo, hi;
	int		 direction;	/* else invisible */
	const char	*name;
} hidden[] = {
	{ 0x061c, 0x061c, 1, "ARABIC LETTER MARK" },
	{ 0x200b, 0x200b, 0, "ZERO WIDTH SPACE" },
	{ 0x200c, 0x200c, 0, "ZERO WIDTH NON-JOINER" },
	{ 0x200d, 0x200d, 0, "ZERO WIDTH JOINER" },
	{ 0x200e, 0x200f, 1, "a left-to-right or right-to-left mark" },
	{ 0x202a, 0x202e, 1, "a direction embedding or override" },
	{ 0x2060, 0x2064, 0, "an invisible joiner or operator" },
	{ 0x2066, 0x2069, 1, "a direction isolate" },
	{ 0xfeff, 0xfeff, 0, "ZERO WIDTH NO-BREAK SPACE" },
};

/* The code point at p (valid UTF-8: jansson checked it) and its length. */
static unsigned long
utf8_at(const unsigned char *p, size_t *n)
{
	if (p[0] < 0x80) {
		*n = 1;
		return p[0];
	}
	if (p[0] < 0xe0) {
		*n = 2;
		return (p[0] & 0x1fUL) << 6 | (p[1] & 0x3f);
	}
	if (p[0] < 0xf0) {
		*n = 3;
		return (p[0] & 0x0fUL) << 12 | (p[1] & 0x3fUL) << 6 |
		    (p[2] & 0x3f);
	}
	*n = 4;
	return (p[0] & 0x07UL) << 18 | (p[1] & 0x3fUL) << 12 |
	    (p[2] & 0x3fUL) << 6 | (p[3] & 0x3f);
}

/*
 * What goes in a header is read by mail programs: no hidden characters
 * (above), and no RFC 2047 encoded word, "=?utf-8?b?SGFja2Vk?=", which
 * they would show decoded ("Hacked") instead of the text as written.
 */
static int
check_header_text(const char *s, size_t len, struct err *e)
{
	const unsigned char	*p = (const unsigned char *)s;
	const char		*ew, *end;
	char			 q[RECORD_FIELD_QUOTE_MAX];
	unsigned long		 cp;
	size_t			 i, n, k;

	for (i = 0; i < len && p[i] != '\0'; i += n) {
		cp = utf8_at(p + i, &n);
		if (i + n > len)
			break;
		for (k = 0; k < sizeof hidden / sizeof hidden[0]; k++)
			if (cp >= hidden[k].lo && cp <= hidden[k].hi)
				break;
		if (k == sizeof hidden / sizeof hidden[0])
			continue;
		if ((cp == 0x200c || cp == 0x200d) && i > 0 && i + n < len &&
		    p[i - 1] >= 0x80 && p[i + n] >= 0x80)
			continue;	/* inside a word of another script */
		if (hidden[k].direction)
			return err_set(e, "contains U+%04lX (%s), which "
			    "changes the order in which text is shown, so the "
			    "email would not show what was written; remove it",
			    cp, hidden[k].name);
		return err_set(e, "contains U+%04lX (%s), an invisible "
		    "character, which can hide what the email says; remove it",
		    cp, hidden[k].name);
	}
	/* "=?" ... "?=" with no blank between: an encoded word. */
	for (ew = s; (ew = memmem(ew, len - (ew - s), "=?", 2)) != NULL;
	    ew += 2) {
		for (end = ew + 2; end + 1 < s + len && *end != ' ' &&
		    *end != '\t'; end++)
			if (end[0] == '?' && end[1] == '=')
				break;
		if (end + 1 < s + len && end[0] == '?' && end[1] == '=') {
			char	word[RECORD_FIELD_QUOTE_MAX];

			snprintf(word, sizeof word, "%.*s",
			    (int)(end + 2 - ew) < 100 ? (int)(end + 2 - ew) :
			    100, ew);
			return err_set(e, "contains %s, which mail programs "
			    "would show as other text (an RFC 2047 encoded "
			    "word); write the words themselves",
			    quote_n(q, sizeof q, word, 60));
		}
	}
	return 0;
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
	if (cls == S_HEADER)
		return check_header_text(s, len, e);
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
		return err_set(e, "expected a string, got %s",
		    record_field_jtype(v));
	return 0;
}

/* An id or a group name. */
static int
check_id(const char *s, size_t len, const struct record_field *f,
    struct err *e)
{
	char	q[RECORD_FIELD_QUOTE_MAX];

	if (record_id_valid(s) && strlen(s) == len)
		return 0;
	if (f->kind == RECORD_FIELD_GROUPS)
		return err_set(e, "%s is not a valid group name (letters, "
		    "digits, and . _ : - ; at most 128)",
		    quote(q, sizeof q, s));
	return err_set(e, "%s is not a valid id (letters, digits, and "
	    ". _ : - ; at most 128)", quote(q, sizeof q, s));
}

/* Words people read: a header, one line, a few lines, or long text. */
static int
check_prose(const char *s, size_t len, const struct record_field *f,
    const struct ctx *c, struct err *e)
{
	switch (f->kind) {
	case RECORD_FIELD_HEADER:
		return check_text(s, len, S_HEADER, RECORD_HEADER_MAX,
		    f->name, e);
	case RECORD_FIELD_LINE:
		return check_text(s, len, S_LINE, RECORD_SHORT_MAX, f->name, e);
	case RECORD_FIELD_LINES:
		return check_text(s, len, S_LINES, RECORD_SHORT_MAX, f->name,
		    e);
	default:	/* TEXT, and the details of an ACCESS word */
		if (check_text(s, len, S_TEXT, 0, f->name, e) == -1)
			return -1;
		if (len > c->max_bytes)
			return err_set(e, "is too long (%zu bytes, at most "
			    "%zu)", len, c->max_bytes);
		return 0;
	}
}

/*
 * A value of a fixed form: an address, a date and time, a date, a time
 * zone, a web address, a duration, an access word, one of a list.
 */
static int
check_form(const char *s, size_t len, const struct record_field *f,
    struct err *e)
{
	char		 q[RECORD_FIELD_QUOTE_MAX], list[256], sg[64];
	struct tm	 tm;
	long long	 secs;

	switch (f->kind) {
	case RECORD_FIELD_EMAIL:
		if (address_check(s, e) == 0)
			return 0;
		/* Say what to write instead. */
		{
			static const char	 tail[] = "is not an email address";
			static const char	 hint[] = " (write just the "
						    "address, like "
						    "name@example.org)";
			size_t			 n;

			if (e == NULL)
				return -1;
			n = strlen(e->msg);
			if (n >= sizeof tail - 1 && strcmp(e->msg + n -
			    (sizeof tail - 1), tail) == 0 &&
			    n + sizeof hint <= sizeof e->msg)
				memcpy(e->msg + n, hint, sizeof hint);
		}
		return -1;
	case RECORD_FIELD_TIME:
		if (record_time_parse(s, &tm) == -1)
			return err_set(e, "%s is not a date and time "
			    "(YYYY-MM-DDTHH:MM)", quote(q, sizeof q, s));
		return 0;
	case RECORD_FIELD_DATE:
		if (record_date_parse(s, &tm) == -1)
			return err_set(e, "%s is not a date (YYYY-MM-DD, for "
			    "example 2026-12-20)", quote(q, sizeof q, s));
		return 0;
	case RECORD_FIELD_TZ:
		if (*s == '\0' || strlen(s) != len ||
		    check_text(s, len, S_LINE, 100, f->name, NULL) == -1 ||
		    icaltimezone_get_builtin_timezone(s) == NULL)
			return err_set(e, "%s is not a known time zone",
			    quote(q, sizeof q, s));
		return 0;
	case RECORD_FIELD_URL:
		if (!url_valid(s))
			return err_set(e, "%s is not a web address (it must "
			    "start with https:// or http://)",
			    quote(q, sizeof q, s));
		return 0;
	case RECORD_FIELD_DURATIONS:
		if (duration_parse(s, &secs, e) == -1)
			return -1;
		if (secs <= 0)
			return err_set(e, "%s is not more than zero",
			    quote(q, sizeof q, s));
		return 0;
	case RECORD_FIELD_WORDS:
		if (!record_access_word_valid(s))
			return err_set(e, "%s is not an access word%s The "
			    "access words are: %s.", quote(q, sizeof q, s),
			    record_field_suggest(sg, sizeof sg, s,
			    record_access_words)[0] ? sg : ".",
			    word_list(list, sizeof list, record_access_words));
		return 0;
	case RECORD_FIELD_ENUM:
		if (!enum_valid(s, f->values, list, sizeof list))
			return err_set(e, "%s is not one of %s%s",
			    quote(q, sizeof q, s), list,
			    record_field_suggest(sg, sizeof sg, s, f->values));
		return 0;
	case RECORD_FIELD_PHONE:
		if (!record_field_phone_valid(s))
			return err_set(e, "%s is not a phone number (digits, "
			    "spaces and + - ( ), for example \"020 7946 "
			    "0000\" or \"+44 20 7946 0000\")",
			    quote(q, sizeof q, s));
		return 0;
	case RECORD_FIELD_COMMS:
		if (strncmp(s, "interpreter:", 12) == 0 &&
		    !record_field_comm_valid(s))
			return err_set(e, "%s: after \"interpreter:\" comes a "
			    "language tag (BCP 47), for example interpreter:pl "
			    "(Polish), interpreter:pt-BR or interpreter:bfi "
			    "(British Sign Language)", quote(q, sizeof q, s));
		if (!record_field_comm_valid(s))
			return err_set(e, "%s is not a communication need%s "
			    "The communication needs are: %s.",
			    quote(q, sizeof q, s), record_field_suggest(sg,
			    sizeof sg, s, comm_words)[0] ? sg : ".", COMM_LIST);
		return 0;
	default:
		return err_set(e, "internal error: no rule for this field");
	}
}

/* One string of a field: v is known to be a string. */
static int
check_string(const json_t *v, const struct record_field *f,
    const struct ctx *c, struct err *e)
{
	const char	*s = json_string_value(v);
	size_t		 len = json_string_length(v);

	/* \u0000 parses (JSON allows it) but is never a valid value. */
	if (memchr(s, '\0', len) != NULL)
		return err_set(e, "contains a control character (U+0000)");
	switch (f->kind) {
	case RECORD_FIELD_ID:
	case RECORD_FIELD_IDS:
	case RECORD_FIELD_GROUPS:
		return check_id(s, len, f, e);
	case RECORD_FIELD_HEADER:
	case RECORD_FIELD_LINE:
	case RECORD_FIELD_LINES:
	case RECORD_FIELD_TEXT:
	case RECORD_FIELD_ACCESS:
		return check_prose(s, len, f, c, e);
	default:
		return check_form(s, len, f, e);
	}
}

/* An array of distinct strings (ids, group names, durations, words). */
static int
check_array(const json_t *v, const struct record_field *f, const char *path,
    const struct ctx *c, struct err *e)
{
	json_t		*seen = NULL, *el, *prev;
	long long	 secs;
	size_t		 i;
	char		 ep[RECORD_FIELD_PATH_MAX + 32], key[32];
	char		 q[RECORD_FIELD_QUOTE_MAX];
	const char	*k;

	if (!json_is_array(v))
		return err_set(e, "%s: expected an array, got %s", path,
		    record_field_jtype(v));
	if (f->required && json_array_size(v) == 0)
		return err_set(e, "%s: is empty (name at least one)", path);
	if (f->kind == RECORD_FIELD_DURATIONS &&
	    json_array_size(v) > CONFIG_MAX_LEADS)
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
		if (f->kind == RECORD_FIELD_DURATIONS) {
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

/* A venue's (or a meeting's) access map: word -> true, false, details,
 * or {"available": BOOL, "details": TEXT, "until": DATE}. */
static int
check_access(const json_t *v, const struct record_field *f, const char *path,
    const struct ctx *c, struct err *e)
{
	const char	*word;
	json_t		*val;
	char		 ep[RECORD_FIELD_PATH_MAX];
	char		 q[RECORD_FIELD_QUOTE_MAX], sg[64], list[256];

	if (!json_is_object(v))
		return err_set(e, "%s: expected an object, got %s", path,
		    record_field_jtype(v));
	json_object_foreach((json_t *)v, word, val) {
		path_join(ep, sizeof ep, path, word);
		if (!record_access_word_valid(word))
			return err_set(e, "%s: %s is not an access word%s The "
			    "access words are: %s.", ep, quote(q, sizeof q,
			    word), record_field_suggest(sg, sizeof sg, word,
			    record_access_words)[0] ? sg : ".",
			    word_list(list, sizeof list, record_access_words));
		if (json_is_boolean(val) || (c->partial && json_is_null(val)))
			continue;
		if (json_is_object(val)) {
			if (check_object(val, access_obj_fields, ep, c, e) ==
			    -1)
				return -1;
			continue;
		}
		if (!json_is_string(val))
			return err_set(e, "%s: expected true, false, a "
			    "description, or {\"available\": true or false, "
			    "\"details\": ..., \"until\": DATE}, got %s", ep,
			    record_field_jtype(val));
		if (check_string(val, f, c, e) == -1) {
			err_prefix(e, "%s", ep);
			return -1;
		}
	}
	return 0;
}

static int
check_value(const json_t *v, const struct record_field *f, const char *path,
    const struct ctx *c, struct err *e)
{
	switch (f->kind) {
	case RECORD_FIELD_BOOL:
		if (!json_is_boolean(v))
			return err_set(e, "%s: expected true or false, got %s",
			    path, record_field_jtype(v));
		return 0;
	case RECORD_FIELD_OBJECT:
		if (!json_is_object(v))
			return err_set(e, "%s: expected an object, got %s",
			    path, record_field_jtype(v));
		return check_object((json_t *)v, f->sub, path, c, e);
	case RECORD_FIELD_ACCESS:
		return check_access(v, f, path, c, e);
	case RECORD_FIELD_IDS:
	case RECORD_FIELD_GROUPS:
	case RECORD_FIELD_DURATIONS:
	case RECORD_FIELD_WORDS:
	case RECORD_FIELD_COMMS:
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

/* A problem found (in e): with every problem wanted, note it (unless a
 * nested check noted its own since `before`) and go on. */
static int
field_problem(const struct ctx *c, size_t before, struct err *e)
{
	json_t	*s;

	if (c->errs == NULL)
		return -1;
	if (json_array_size(c->errs) == before) {
		if ((s = json_string(e->msg)) == NULL)
			s = json_string("(a problem whose message cannot be "
			    "shown)");
		json_array_append_new(c->errs, s);
	}
	return 0;
}

/* "; did you mean \"access\"?" for a misspelt field name. */
static const char *
field_suggest(char *buf, size_t len, const char *key,
    const struct record_field *fields)
{
	const char	*names[64];
	char		 k[64];
	size_t		 n = 0, i;

	for (; fields->name != NULL && n + 1 < 64; fields++)
		if (fields->kind != RECORD_FIELD_TYPE)
			names[n++] = fields->name;
	names[n] = NULL;
	/* Field names are written with "_": compare them so. */
	snprintf(k, sizeof k, "%s", key);
	for (i = 0; k[i] != '\0'; i++)
		if (k[i] == ' ' || k[i] == '-')
			k[i] = '_';
	buf[0] = '\0';
	if (strlen(key) < sizeof k) {
		const char	*best = NULL;
		int		 d, bestd = 3;

		for (i = 0; i < n; i++) {
			if (strcasecmp(k, names[i]) == 0)
				d = 0;
			else if (strlen(k) <= 3 ||
			    (d = suggest_distance(k, names[i])) > 2)
				continue;
			if (d < bestd) {
				bestd = d;
				best = names[i];
			}
		}
		if (best != NULL)
			snprintf(buf, len, "; did you mean \"%s\"?", best);
	}
	return buf;
}

static int
check_object(json_t *obj, const struct record_field *fields, const char *prefix,
    const struct ctx *c, struct err *e)
{
	const struct record_field	*f;
	const char		*key;
	json_t			*v;
	char			 path[RECORD_FIELD_PATH_MAX], sg[80];
	size_t			 start = c->errs ? json_array_size(c->errs) : 0;
	size_t			 before;

	json_object_foreach(obj, key, v) {
		for (f = fields; f->name != NULL; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (f->name == NULL) {
			path_join(path, sizeof path, prefix, key);
			err_set(e, "%s: unknown field%s", path,
			    field_suggest(sg, sizeof sg, key, fields));
			if (field_problem(c, c->errs ? json_array_size(c->errs) :
			    0, e) == -1)
				return -1;
		}
	}
	for (f = fields; f->name != NULL; f++) {
		if (f->kind == RECORD_FIELD_TYPE)
			continue;
		before = c->errs ? json_array_size(c->errs) : 0;
		path_join(path, sizeof path, prefix, f->name);
		if ((v = json_object_get(obj, f->name)) == NULL)
			v = json_null();
		if (json_is_null(v)) {
			if (f->required && !c->partial) {
				err_set(e, "%s: missing (required)", path);
				if (field_problem(c, before, e) == -1)
					return -1;
			}
			continue;
		}
		if (check_value(v, f, path, c, e) == -1 &&
		    field_problem(c, before, e) == -1)
			return -1;
	}
	if (c->errs != NULL && json_array_size(c->errs) > start) {
		/* e holds the first of them. */
		err_set(e, "%s", json_string_value(json_array_get(c->errs,
		    start)));
		return -1;
	}
	return 0;
}

int
record_field_check(json_t *obj, const struct record_field *fields,
    size_t max_bytes, int partial, json_t *errs, struct err *e)
{
	struct ctx	c;

	c.max_bytes = max_bytes;
	c.partial = partial;
	c.errs = errs;
	return check_object(obj, fields, "", &c, e);
}

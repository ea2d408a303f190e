/*
 * record_value.c: owns what one string value of a record may hold, by the
 * kind of its field (see record_value.h): ids and group names, text people
 * read (the rules are record_text.c's), email addresses (address.c), dates
 * and times, time zones, web addresses, durations, access words,
 * communication needs, phone numbers, one of a list; and the "did you mean"
 * that goes with a word that is nearly right. The walk of a record and the
 * path in front of each message are record_field.c's.
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
#include "duration.h"
#include "record.h"
#include "record_field.h"
#include "record_text.h"
#include "record_value.h"

static const char *const comm_words[] = {
	"bsl-video", "braille", "audio", "phone-call", "interpreter", NULL
};
#define COMM_LIST	"bsl-video, braille, audio, phone-call, " \
			"interpreter:LANG (LANG a language tag, for example " \
			"interpreter:pl for Polish)"

static int
field_alnum(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

/* Quote s for a message (util_quote: safe to log, cut short). */
static const char *
quote(char *buf, size_t len, const char *s)
{
	return util_quote(buf, len, s, 60);
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

int
record_value_distance(const char *a, const char *b)
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
record_value_suggest(char *buf, size_t len, const char *s,
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
		else if (strlen(n) > 3 && (d = record_value_distance(n,
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

const char *
record_value_words(char *buf, size_t len, const char *const *words)
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
record_value_comm_valid(const char *s)
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
record_value_phone_valid(const char *s)
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
    size_t max_bytes, struct err *e)
{
	switch (f->kind) {
	case RECORD_FIELD_HEADER:
		return record_text_check(s, len, RECORD_TEXT_HEADER,
		    RECORD_HEADER_MAX, f->name, e);
	case RECORD_FIELD_LINE:
		return record_text_check(s, len, RECORD_TEXT_LINE,
		    RECORD_SHORT_MAX, f->name, e);
	case RECORD_FIELD_LINES:
		return record_text_check(s, len, RECORD_TEXT_LINES,
		    RECORD_SHORT_MAX, f->name, e);
	default:	/* TEXT, and the details of an ACCESS word */
		if (record_text_check(s, len, RECORD_TEXT_TEXT, 0, f->name,
		    e) == -1)
			return -1;
		if (len > max_bytes)
			return err_set(e, "is too long (%zu bytes, at most "
			    "%zu)", len, max_bytes);
		return 0;
	}
}

/* An email address; what address.c says, with what to write instead. */
static int
check_email(const char *s, struct err *e)
{
	static const char	 tail[] = "is not an email address";
	static const char	 hint[] = " (write just the address, like "
				    "name@example.org)";
	size_t			 n;

	if (address_check(s, e) == 0)
		return 0;
	if (e == NULL)
		return -1;
	n = strlen(e->msg);
	if (n >= sizeof tail - 1 && strcmp(e->msg + n - (sizeof tail - 1),
	    tail) == 0 && n + sizeof hint <= sizeof e->msg)
		memcpy(e->msg + n, hint, sizeof hint);
	return -1;
}

/* One of a vocabulary: an access word, one of a field's list, a
 * communication need; with a "did you mean" when it is nearly right. */
static int
check_word(const char *s, const struct record_field *f, struct err *e)
{
	char	q[RECORD_FIELD_QUOTE_MAX], list[256], sg[64];

	switch (f->kind) {
	case RECORD_FIELD_WORDS:
		if (record_access_word_valid(s))
			return 0;
		return err_set(e, "%s is not an access word%s The access "
		    "words are: %s.", quote(q, sizeof q, s),
		    record_value_suggest(sg, sizeof sg, s,
		    record_access_words)[0] ? sg : ".",
		    record_value_words(list, sizeof list,
		    record_access_words));
	case RECORD_FIELD_ENUM:
		if (enum_valid(s, f->values, list, sizeof list))
			return 0;
		return err_set(e, "%s is not one of %s%s", quote(q, sizeof q,
		    s), list, record_value_suggest(sg, sizeof sg, s,
		    f->values));
	default:	/* COMMS */
		if (record_value_comm_valid(s))
			return 0;
		if (strncmp(s, "interpreter:", 12) == 0)
			return err_set(e, "%s: after \"interpreter:\" comes a "
			    "language tag (BCP 47), for example interpreter:pl "
			    "(Polish), interpreter:pt-BR or interpreter:bfi "
			    "(British Sign Language)", quote(q, sizeof q, s));
		return err_set(e, "%s is not a communication need%s The "
		    "communication needs are: %s.", quote(q, sizeof q, s),
		    record_value_suggest(sg, sizeof sg, s, comm_words)[0] ?
		    sg : ".", COMM_LIST);
	}
}

/*
 * A value of a fixed form: an address, a date and time, a date, a time
 * zone, a web address, a duration, a phone number, a word of a list.
 */
static int
check_form(const char *s, size_t len, const struct record_field *f,
    struct err *e)
{
	char		 q[RECORD_FIELD_QUOTE_MAX];
	struct tm	 tm;
	long long	 secs;

	switch (f->kind) {
	case RECORD_FIELD_EMAIL:
		return check_email(s, e);
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
		if (*s == '\0' || strlen(s) != len || record_text_check(s,
		    len, RECORD_TEXT_LINE, 100, f->name, NULL) == -1 ||
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
	case RECORD_FIELD_PHONE:
		if (!record_value_phone_valid(s))
			return err_set(e, "%s is not a phone number (digits, "
			    "spaces and + - ( ), for example \"020 7946 "
			    "0000\" or \"+44 20 7946 0000\")",
			    quote(q, sizeof q, s));
		return 0;
	case RECORD_FIELD_WORDS:
	case RECORD_FIELD_ENUM:
	case RECORD_FIELD_COMMS:
		return check_word(s, f, e);
	default:
		return err_set(e, "internal error: no rule for this field");
	}
}

int
record_value_check(const json_t *v, const struct record_field *f,
    size_t max_bytes, struct err *e)
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
		return check_prose(s, len, f, max_bytes, e);
	default:
		return check_form(s, len, f, e);
	}
}

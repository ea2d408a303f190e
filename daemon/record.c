/*
 * record.c: owns records as callers see them (SPEC sections 2 and 3): the
 * entry points that parse and check a record (record_parse, record_check),
 * the references it makes (record_refs: this file does not know what
 * exists in Redis, the caller looks the ids up), and the small vocabulary
 * other files share: record types, access words, ids, dates and times.
 *
 * What each type holds and the rules between its fields are
 * record_form.c's; what one field may hold is record_field.c's. The first
 * problem found is the one reported (record_check_all: every one).
 *
 * Also here, for the coordinator's side of issue 14: JSON text read the
 * way people save it (record_json_load: a byte order mark skipped, syntax
 * errors said in plain words with what to do), and merge records ("merge":
 * true, RFC 7386) applied to a stored record and checked whole
 * (record_merge). Which stored record is the caller's to fetch.
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
    int allow_merge, json_t *errs, struct record *out, struct err *e)
{
	enum record_type t;
	json_t		*tv, *mv, *body;
	const char	*tz;
	char		 q[RECORD_FIELD_QUOTE_MAX];
	size_t		 n, max;
	int		 merge = 0;

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

	if ((mv = json_object_get(obj, "merge")) != NULL) {
		if (t != REC_COLLABORATOR && t != REC_VENUE &&
		    t != REC_MEETING)
			return err_set(e, "merge: only collaborator, venue and "
			    "meeting records can be partial; send the whole "
			    "%s record", record_type_name(t));
		if (!json_is_boolean(mv))
			return err_set(e, "merge: expected true or false, got "
			    "%s", record_field_jtype(mv));
		merge = json_is_true(mv);
		if (merge && !allow_merge)
			return err_set(e, "merge: a stored record cannot be a "
			    "merge");
		if (merge && record_field_get(obj, "id") == NULL)
			return err_set(e, "id: missing (a merge record needs "
			    "type, id and the fields that change)");
	}
	if (record_form_check(obj, t, max, merge, errs, e) == -1)
		return -1;

	/* What is kept never holds "merge": a whole record is the same
	 * with or without "merge": false. */
	if (mv != NULL) {
		body = json_copy(obj);
		json_object_del(body, "merge");
	} else
		body = json_incref(obj);
	out->type = t;
	out->merge = merge;
	out->json = body;
	out->id = record_field_getstr(body,
	    t == REC_FORGET ? "collaborator" : "id");
	out->tz = record_field_getstr(body, "timezone") != NULL ?
	    record_field_getstr(body, "timezone") : tz;
	return 0;
}

int
record_check(json_t *obj, const struct record_opts *o, struct record *out,
    struct err *e)
{
	return record_check1(obj, o, 1, 1, NULL, out, e);
}

int
record_check_all(json_t *obj, const struct record_opts *o,
    struct record *out, json_t *errors)
{
	struct err	 e;
	size_t		 n = json_array_size(errors);
	json_t		*s;

	if (record_check1(obj, o, 1, 1, errors, out, &e) == 0)
		return 0;
	/* A whole-record problem, or a rule: not in the list yet. */
	if (json_array_size(errors) == n) {
		if ((s = json_string(e.msg)) == NULL)
			s = json_string("(a problem whose message cannot be "
			    "shown)");
		json_array_append_new(errors, s);
	}
	return -1;
}

json_t *
record_merge_patch(const json_t *target, const json_t *patch)
{
	json_t		*out, *v, *cur;
	const char	*k;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	out = json_is_object(target) ? json_deep_copy(target) : json_object();
	json_object_foreach((json_t *)patch, k, v) {
		if (json_is_null(v)) {
			json_object_del(out, k);
			continue;
		}
		cur = json_object_get(out, k);
		json_object_set_new(out, k, record_merge_patch(cur, v));
	}
	return out;
}

int
record_merge(const json_t *stored, const struct record *r,
    const struct record_opts *o, struct record *out, struct err *e)
{
	json_t	*whole;
	int	 rc;

	memset(out, 0, sizeof *out);
	if (!r->merge)
		return record_check1(r->json, o, 1, 0, NULL, out, e);
	if (stored == NULL) {
		err_set(e, "id: no %s \"%s\" to change (\"merge\": true "
		    "changes a stored record: check the id, or send the whole "
		    "record without \"merge\")", record_type_name(r->type),
		    r->id);
		err_set_ref(e);	/* the record it changes may come */
		return -1;
	}
	whole = record_merge_patch(stored, r->json);
	rc = record_check1(whole, o, 1, 0, NULL, out, e);
	json_decref(whole);
	return rc;
}

/* jansson's message, made safe to print (it may quote raw input). */
static void
record_safe(char *dst, size_t len, const char *s)
{
	util_escape(dst, len, s, (size_t)-1);
}

/* Line and column (in characters) of byte offset off in text. */
static void
record_where(const char *text, size_t off, int *line, int *col)
{
	size_t	i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

/* The offset of the first byte that is not UTF-8, or len. */
static size_t
record_bad_utf8(const char *text, size_t len)
{
	const unsigned char	*p = (const unsigned char *)text;
	size_t			 i = 0, n, k;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 1;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			n = 2;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			n = 3;
		else
			return i;
		for (k = 1; k <= n; k++)
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				return i;
		i += n + 1;
	}
	return len;
}

/* What a byte that is not UTF-8 most likely was: Windows-1252. */
static const char *
record_cp1252(unsigned char b)
{
	static const struct {
		unsigned char	 b;
		const char	*s;
	} t[] = {
		{ 0x80, "\xe2\x82\xac" }, { 0x91, "\xe2\x80\x98" },
		{ 0x92, "\xe2\x80\x99" }, { 0x93, "\xe2\x80\x9c" },
		{ 0x94, "\xe2\x80\x9d" }, { 0x96, "\xe2\x80\x93" },
		{ 0x97, "\xe2\x80\x94" }, { 0xa3, "\xc2\xa3" },
		{ 0xe9, "\xc3\xa9" }, { 0xe8, "\xc3\xa8" },
		{ 0xe0, "\xc3\xa0" }, { 0xe7, "\xc3\xa7" },
		{ 0xf1, "\xc3\xb1" }, { 0xf6, "\xc3\xb6" },
		{ 0xfc, "\xc3\xbc" }, { 0xe4, "\xc3\xa4" },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].b == b)
			return t[i].s;
	return NULL;
}

#define RECORD_SAVE_UTF8 "save the file as UTF-8 (in a spreadsheet: " \
	"\"CSV UTF-8\"; in a text editor: the encoding \"UTF-8\") and try " \
	"again"

/* The text is not UTF-8: where, and what the byte probably was. */
static int
record_utf8_error(const char *text, size_t len, const json_error_t *je,
    struct err *e)
{
	const char	*w;
	size_t		 off;
	int		 line, col;

	off = record_bad_utf8(text, len);
	if (off >= len)
		off = je->position < 0 ? 0 : (size_t)je->position;
	record_where(text, off, &line, &col);
	w = off < len ? record_cp1252((unsigned char)text[off]) : NULL;
	if (w != NULL)
		return err_set(e, "not JSON: line %d column %d: the text is not "
		    "UTF-8 (byte 0x%02X, probably \"%s\" saved in another "
		    "encoding); " RECORD_SAVE_UTF8, line, col,
		    (unsigned char)text[off], w);
	return err_set(e, "not JSON: line %d column %d: the text is not "
	    "UTF-8 (byte 0x%02X); " RECORD_SAVE_UTF8, line, col,
	    off < len ? (unsigned char)text[off] : 0);
}

/* The token jansson stopped at ("... near 'TOKEN'") into tok, and the
 * byte offset where it starts. */
static size_t
record_json_token(size_t len, const json_error_t *je, char *tok,
    size_t toklen)
{
	const char	*near;
	size_t		 tl, off;

	tok[0] = '\0';
	if ((near = strstr(je->text, " near '")) != NULL) {
		tl = strlen(near + 7);
		if (tl > 0 && near[7 + tl - 1] == '\'')
			tl--;
		if (tl < toklen) {
			memcpy(tok, near + 7, tl);
			tok[tl] = '\0';
		}
	}
	tl = strlen(tok);
	off = je->position >= 0 && (size_t)je->position >= tl ?
	    (size_t)je->position - tl : 0;
	return off > len ? len : off;
}

/* The mistakes people make by hand, said by the token at off: curly or
 * single quotes, a trailing comma, a repeated field, a missing comma,
 * True/NULL. -1 if one was recognised (and e set), else 0. */
static int
record_json_typo(const char *text, size_t off, const char *tok,
    const char *stok, const json_error_t *je, struct err *e)
{
	size_t	i;
	int	line, col, code = json_error_code(je);

	record_where(text, off, &line, &col);
	if ((unsigned char)tok[0] == 0xe2 && (unsigned char)tok[1] == 0x80 &&
	    ((unsigned char)tok[2] == 0x9c || (unsigned char)tok[2] == 0x9d ||
	    (unsigned char)tok[2] == 0x98 || (unsigned char)tok[2] == 0x99))
		return err_set(e, "not JSON: line %d column %d: curly quotes "
		    "(\xe2\x80\x9c \xe2\x80\x9d) are not JSON quotes; use "
		    "straight double quotes (\") around names and text (turn "
		    "off \"smart quotes\" in your editor)", line, col);
	if (tok[0] == '\'')
		return err_set(e, "not JSON: line %d column %d: single quotes "
		    "(') are not JSON quotes; use straight double quotes (\") "
		    "around names and text", line, col);
	if (strcmp(tok, "}") == 0 || strcmp(tok, "]") == 0) {
		for (i = off; i > 0 && strchr(" \t\r\n", text[i - 1]) != NULL;
		    i--)
			;
		if (i > 0 && text[i - 1] == ',') {
			record_where(text, i - 1, &line, &col);
			return err_set(e, "not JSON: line %d column %d: a comma "
			    "before \"%s\" with nothing after it (a trailing "
			    "comma); remove that comma", line, col, stok);
		}
	}
	if (code == json_error_duplicate_key)
		return err_set(e, "not JSON: line %d column %d: the field %s "
		    "appears twice in the same object (a duplicate key); keep "
		    "one", line, col, stok);
	if (strncmp(je->text, "'}' expected", 12) == 0 ||
	    strncmp(je->text, "']' expected", 12) == 0)
		return err_set(e, "not JSON: line %d column %d: a comma is "
		    "missing before %s (items of a list or record are "
		    "separated by commas)", line, col, stok);
	if (strcasecmp(tok, "true") == 0 || strcasecmp(tok, "false") == 0 ||
	    strcasecmp(tok, "null") == 0)
		return err_set(e, "not JSON: line %d column %d: write true, "
		    "false and null in small letters, without quotes", line,
		    col);
	if (code == json_error_end_of_input_expected)
		return err_set(e, "not JSON: line %d column %d: there is more "
		    "after the end of the record; several records go in one "
		    "list: [{...}, {...}]", line, col);
	return 0;
}

/* jansson's error, in words a coordinator can act on. */
static int
record_json_error(const char *text, size_t len, const json_error_t *je,
    struct err *e)
{
	char	 msg[sizeof je->text * 2], tok[64], stok[256];
	size_t	 off, i;
	int	 code = json_error_code(je);

	if (code == json_error_invalid_utf8 ||
	    record_bad_utf8(text, len) < len)
		return record_utf8_error(text, len, je, e);
	off = record_json_token(len, je, tok, sizeof tok);
	/* What is quoted back is escaped: the token may hold any byte. */
	record_safe(stok, sizeof stok, tok);
	if (record_json_typo(text, off, tok, stok, je, e) == -1)
		return -1;
	for (i = 0; i < len && strchr(" \t\r\n", text[i]) != NULL; i++)
		;
	if (i == len)
		return err_set(e, "not JSON: line %d column %d: the text is "
		    "empty; a record is one JSON object, {\"type\": ...}",
		    je->line, je->column);
	if (code == json_error_premature_end_of_input)
		return err_set(e, "not JSON: line %d column %d: the text ends "
		    "too soon (a closing \", } or ] is missing)", je->line,
		    je->column);
	if (strstr(je->text, "control character") != NULL)
		return err_set(e, "not JSON: line %d column %d: a line break or "
		    "tab inside quotes; write \\n for a new line", je->line,
		    je->column);
	record_safe(msg, sizeof msg, je->text);
	return err_set(e, "not JSON: line %d column %d: %s", je->line,
	    je->column, msg);
}

json_t *
record_json_load(const char *text, size_t len, int any, struct err *e)
{
	json_error_t	 je;
	json_t		*root;

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if (len >= 2 && (memcmp(text, "\xff\xfe", 2) == 0 ||
	    memcmp(text, "\xfe\xff", 2) == 0)) {
		err_set(e, "not JSON: line 1 column 1: the text is UTF-16 "
		    "(\"Unicode text\"), not UTF-8; " RECORD_SAVE_UTF8);
		return NULL;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
	    (any ? JSON_DECODE_ANY : 0), &je);
	if (root == NULL)
		record_json_error(text, len, &je, e);
	return root;
}

int
record_parse(const char *text, size_t len, const struct record_opts *o,
    struct record *out, struct err *e)
{
	json_t		*root;
	size_t		 max;
	int		 rc;

	memset(out, 0, sizeof *out);
	max = (o != NULL && o->max_bytes > 0) ? o->max_bytes :
	    RECORD_DEFAULT_MAX;
	if (len > max)
		return err_set(e, "too large: %zu bytes, limit %zu", len, max);
	if ((root = record_json_load(text, len, 1, e)) == NULL)
		return -1;
	rc = record_check1(root, o, 0, 1, NULL, out, e);
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

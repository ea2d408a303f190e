/*
 * import_row.c: a spreadsheet row turned into a record (SPEC section 8).
 *
 * Single-threaded, like the rest of the command; called by import_sheet.c
 * for each data row, with the row's fields and the header's columns in
 * struct import (import_impl.h). Values are read loosely (yes/no, UK
 * dates, lists split on ';' or ','), words are matched to the vocabulary
 * with a "did you mean" for near misses, and the record is checked exactly
 * as `enqueue` checks one (record_check_all, then the compact text read
 * back with record_parse, as cli_check_one does). A good row's record joins
 * im->recs; each problem is reported as FILE:ROW: COLUMN: what is wrong.
 *
 * Ids: a row without an id gets a stable one. For a collaborator, "c-"
 * and 12 hex digits of the SHA-256 of the lower-case email address (else
 * of the phone number's digits): never the address itself, as ids go to
 * logs. Two rows that get the same id are an error. A said row's id is
 * "s-MEETING-ROW".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "import_impl.h"

/* The record field each column fills ("name" for first and last). */
static const char *const import_json[F_MAX] = {
	"id", "name", "name", "name", "email", "phone", "consent", "format",
	"access_needs", "groups", "reminders", "communication", "coordinator",
	"text", "collaborator", "topic", "said_on"
};

static const char *const import_formats[] = {
	"standard", "easy-read", "large-print", "plain-text", NULL
};

/* Edit distance, for "did you mean". */
static size_t
import_distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, *d, v;

	d = xcalloc((la + 1) * (lb + 1), sizeof *d);
	for (i = 0; i <= la; i++)
		d[i * (lb + 1)] = i;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t del = d[(i - 1) * (lb + 1) + j] + 1;
			size_t ins = d[i * (lb + 1) + j - 1] + 1;
			size_t sub = d[(i - 1) * (lb + 1) + j - 1] +
			    (a[i - 1] != b[j - 1]);

			v = del < ins ? del : ins;
			d[i * (lb + 1) + j] = v < sub ? v : sub;
		}
	v = d[la * (lb + 1) + lb];
	free(d);
	return v;
}

/* Words people write for an access need, and the vocabulary's word. */
static const struct {
	const char	*said;		/* normalised */
	const char	*word;
} import_access_hints[] = {
	{ "wheelchair", "step-free" }, { "wheelchairaccess", "step-free" },
	{ "ramp", "step-free" }, { "stepfreeaccess", "step-free" },
	{ "elevator", "lift" }, { "toilet", "accessible-toilet" },
	{ "disabledtoilet", "accessible-toilet" },
	{ "signlanguage", "bsl" }, { "britishsignlanguage", "bsl" },
	{ "bslinterpreter", "bsl" }, { "interpreter", "bsl" },
	{ "loop", "hearing-loop" }, { "inductionloop", "hearing-loop" },
	{ "subtitles", "captions" }, { "quietspace", "quiet-room" },
	{ "quiet", "quiet-room" }, { "chair", "seating" },
	{ "guidedog", "assistance-dogs" }, { "dog", "assistance-dogs" },
	{ "largeprint", "large-print" }, { "easyread", "easy-read" },
};

/* The nearest of words[] to the normalised s, or NULL if none is near. */
static const char *
import_nearest(const char *s, const char *const *words)
{
	const char	*best = NULL;
	size_t		 bestd = (size_t)-1, d, i;
	char		*n;

	for (i = 0; words[i] != NULL; i++) {
		n = import_norm(words[i]);
		d = import_distance(s, n);
		if (strstr(n, s) != NULL && strlen(s) >= 3)
			d = d < 2 ? d : 2;
		free(n);
		if (d < bestd) {
			bestd = d;
			best = words[i];
		}
	}
	return bestd <= 2 || (strlen(s) >= 8 && bestd <= 3) ? best : NULL;
}

/* The vocabulary word a cell's value names (ignoring case, spaces and
 * hyphens), or NULL. */
static const char *
import_match(const char *norm, const char *const *words)
{
	size_t	i;
	char	*n;

	for (i = 0; words[i] != NULL; i++) {
		n = import_norm(words[i]);
		if (strcmp(n, norm) == 0) {
			free(n);
			return words[i];
		}
		free(n);
	}
	return NULL;
}

static char *
import_list(const char *const *words)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; words[i] != NULL; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", words[i]);
	return buf_take(&b);
}

/* Split a cell on ';' or ',' into trimmed, non-empty values. */
static json_t *
import_split(const char *cell)
{
	json_t		*a = json_array();
	const char	*p = cell, *q;
	char		*one, *t;

	while (*p) {
		q = p + strcspn(p, ";,");
		one = xstrndup(p, q - p);
		t = import_trim(one);
		if (*t)
			json_array_append_new(a, json_string(t));
		free(t);
		free(one);
		p = *q ? q + 1 : q;
	}
	return a;
}

/* The column heading of a field (or the field's own name). */
static const char *
import_head(struct import *im, enum import_field f)
{
	return im->has[f] ? im->heads[im->has[f] - 1] : import_json[f];
}

/* The trimmed cell of a field in this row, "" if none. */
static char *
import_cell(struct import *im, enum import_field f)
{
	int	c = im->has[f] - 1;

	if (c < 0 || c >= im->nfields)
		return xstrdup("");
	return import_trim(im->fields[c]);
}

/* "c-" and 12 hex digits of SHA-256 of s. */
static char *
import_hash_id(const char *prefix, const char *s)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n, i;
	char		hex[13];

	if (EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) != 1)
		fatalx("import: cannot compute a SHA-256");
	for (i = 0; i < 6; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return xasprintf("%s%s", prefix, hex);
}

/* yes/no and the like -> 1/0, or -1. */
static int
import_yesno(const char *v)
{
	static const char *const yes[] = { "yes", "y", "true", "1", NULL };
	static const char *const no[] = { "no", "n", "false", "0", NULL };
	char	*n = import_norm(v);
	int	 i, r = -1;

	for (i = 0; yes[i]; i++)
		if (strcmp(n, yes[i]) == 0)
			r = 1;
	for (i = 0; no[i]; i++)
		if (strcmp(n, no[i]) == 0)
			r = 0;
	free(n);
	return r;
}

/* "2026-11-03", or a UK spreadsheet's "3/11/2026", as YYYY-MM-DD (a new
 * string); NULL if it is neither. */
static char *
import_date(const char *v)
{
	int	d, m, y, n = 0;

	if (sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 &&
	    v[n] == '\0')
		return xasprintf("%04d-%02d-%02d", y, m, d);
	if (sscanf(v, "%2d/%2d/%4d%n", &d, &m, &y, &n) == 3 &&
	    v[n] == '\0' && y >= 1000)
		return xasprintf("%04d-%02d-%02d", y, m, d);
	return NULL;
}

/* Set a string field from a cell, unless it is empty. */
static void
import_set_cell(struct import *im, json_t *o, enum import_field f)
{
	char	*v = import_cell(im, f);

	if (*v)
		json_object_set_new(o, import_json[f], json_string(v));
	free(v);
}

/* A list field from a cell (split on ; or ,), unless it is empty. */
static json_t *
import_set_list(struct import *im, json_t *o, enum import_field f)
{
	char	*v = import_cell(im, f);
	json_t	*a = NULL;

	if (*v) {
		a = import_split(v);
		json_object_set_new(o, import_json[f], a);
	}
	free(v);
	return a;
}

/* A collaborator's name, whole or in two parts (first, last). */
static void
import_name(struct import *im, json_t *o)
{
	char	*v, *first, *last;

	if (im->has[F_NAME]) {
		import_set_cell(im, o, F_NAME);
		return;
	}
	first = import_cell(im, F_FIRST);
	last = import_cell(im, F_LAST);
	v = xasprintf("%s%s%s", first, *first && *last ? " " : "", last);
	if (*v)
		json_object_set_new(o, "name", json_string(v));
	free(v);
	free(first);
	free(last);
}

/* A collaborator's id (a new string): the cell, or one made from the
 * address (or phone) already in o; NULL if there is nothing to make one
 * from. Sets im->derived. */
static char *
import_collaborator_id(struct import *im, json_t *o)
{
	const char	*email, *phone, *w;
	char		*v, *id = NULL;

	v = import_cell(im, F_ID);
	im->derived = !*v;
	if (*v) {
		id = xstrdup(v);
		free(v);
		return id;
	}
	free(v);
	email = json_string_value(json_object_get(o, "email"));
	phone = json_string_value(json_object_get(o, "phone"));
	if (email != NULL) {
		char *k = xstrdup(email), *p;

		for (p = k; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		id = import_hash_id("c-", k);
		free(k);
	} else if (phone != NULL) {
		char	digits[64];
		size_t	n = 0;

		for (w = phone; *w && n < sizeof digits - 1; w++)
			if (isdigit((unsigned char)*w))
				digits[n++] = *w;
		digits[n] = '\0';
		id = import_hash_id("c-", digits);
	}
	return id;
}

/* Consent: yes or no; an empty cell is a problem only under a heading. */
static void
import_consent(struct import *im, json_t *o, json_t *bad)
{
	char	*v = import_cell(im, F_CONSENT);

	if (!*v) {
		if (im->has[F_CONSENT]) {
			import_problem(im, im->row, import_head(im, F_CONSENT),
			    "empty: write yes if this person agreed to get "
			    "emails, else no");
			json_object_set_new(bad, "consent", json_true());
		}
	} else if (import_yesno(v) == -1) {
		import_problem(im, im->row, import_head(im, F_CONSENT),
		    "\"%s\" is not yes or no (yes/no, y/n, true/false, 1/0)",
		    v);
		json_object_set_new(bad, "consent", json_true());
	} else
		json_object_set_new(o, "consent",
		    json_boolean(import_yesno(v)));
	free(v);
}

/* Format: "Large print" is large-print. */
static void
import_format(struct import *im, json_t *o, json_t *bad)
{
	char		*v = import_cell(im, F_FORMAT), *n, *vocab;
	const char	*w, *near;

	if (*v) {
		n = import_norm(v);
		if ((w = import_match(n, import_formats)) != NULL)
			json_object_set_new(o, "format", json_string(w));
		else {
			vocab = import_list(import_formats);
			near = import_nearest(n, import_formats);
			import_problem(im, im->row, import_head(im, F_FORMAT),
			    "\"%s\" is not a format%s%s%s The formats are: %s",
			    v, near ? ": did you mean " : "", near ? near : "",
			    near ? "?" : ".", vocab);
			free(vocab);
			json_object_set_new(bad, "format", json_true());
		}
		free(n);
	}
	free(v);
}

/* Access needs, matched to the vocabulary (with hints for the words
 * people write instead). */
static void
import_access(struct import *im, json_t *o, json_t *bad)
{
	const char	*w, *near;
	char		*vocab;
	json_t		*a, *x;
	size_t		 i;

	if ((a = import_set_list(im, o, F_ACCESS)) == NULL)
		return;
	json_array_foreach(a, i, x) {
		char *n = import_norm(json_string_value(x));
		size_t h;

		if ((w = import_match(n, record_access_words)) != NULL) {
			json_array_set_new(a, i, json_string(w));
			free(n);
			continue;
		}
		near = NULL;
		for (h = 0; h < sizeof import_access_hints /
		    sizeof import_access_hints[0]; h++)
			if (strcmp(n, import_access_hints[h].said) == 0)
				near = import_access_hints[h].word;
		if (near == NULL)
			near = import_nearest(n, record_access_words);
		vocab = import_list(record_access_words);
		import_problem(im, im->row, import_head(im, F_ACCESS),
		    "\"%s\" is not an access word%s%s%s The words "
		    "are: %s", json_string_value(x),
		    near ? ": did you mean " : "", near ? near : "",
		    near ? "?" : ".", vocab);
		free(vocab);
		free(n);
		json_object_set_new(bad, "access_needs", json_true());
	}
}

/* Groups: names, each checked here so that all are reported. */
static void
import_groups(struct import *im, json_t *o, json_t *bad)
{
	json_t	*a, *x;
	size_t	 i;

	if ((a = import_set_list(im, o, F_GROUPS)) == NULL)
		return;
	json_array_foreach(a, i, x) {
		if (record_id_valid(json_string_value(x)))
			continue;
		import_problem(im, im->row, import_head(im, F_GROUPS),
		    "\"%s\" is not a group name: use letters, digits, "
		    "'.', '_', ':' and '-', no spaces (carers-forum)",
		    json_string_value(x));
		json_object_set_new(bad, "groups", json_true());
	}
}

/* A collaborator row; bad: the fields already reported (json names). */
static void
import_collaborator(struct import *im, json_t *o, json_t *bad)
{
	char	*id;

	json_object_set_new(o, "type", json_string("collaborator"));
	import_name(im, o);
	import_set_cell(im, o, F_EMAIL);
	import_set_cell(im, o, F_PHONE);
	import_set_cell(im, o, F_COORDINATOR);
	if ((id = import_collaborator_id(im, o)) != NULL)
		json_object_set_new(o, "id", json_string(id));
	else {
		import_problem(im, im->row, import_head(im, F_ID), "empty, and "
		    "there is no email address or phone number to make an id "
		    "from: give one (letters, digits, '-')");
		json_object_set_new(bad, "id", json_true());
	}
	free(id);
	import_consent(im, o, bad);
	import_format(im, o, bad);
	import_access(im, o, bad);
	import_groups(im, o, bad);
	import_set_list(im, o, F_REMINDERS);
	import_set_list(im, o, F_COMMUNICATION);
}

/* A said row. */
static void
import_said(struct import *im, json_t *o, json_t *bad)
{
	char	*v, *d;

	json_object_set_new(o, "type", json_string("said"));
	v = import_cell(im, F_ID);
	im->derived = !*v;
	if (*v)
		json_object_set_new(o, "id", json_string(v));
	else if (im->meeting != NULL) {
		char *id = xasprintf("s-%s-%ld", im->meeting, im->row);

		json_object_set_new(o, "id", json_string(id));
		free(id);
	} else {
		import_problem(im, im->row, import_head(im, F_ID), "empty: "
		    "give an id, or --meeting ID to make ids from");
		json_object_set_new(bad, "id", json_true());
	}
	free(v);
	if (im->meeting != NULL)
		json_object_set_new(o, "meeting", json_string(im->meeting));
	import_set_cell(im, o, F_TEXT);
	/* A person's email address stands for the id import made from it. */
	v = import_cell(im, F_COLLABORATOR);
	if (strchr(v, '@') != NULL) {
		char *k = xstrdup(v), *p, *id;

		for (p = k; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		id = import_hash_id("c-", k);
		json_object_set_new(o, "collaborator", json_string(id));
		free(id);
		free(k);
	} else if (*v)
		json_object_set_new(o, "collaborator", json_string(v));
	free(v);
	import_set_cell(im, o, F_TOPIC);
	import_set_cell(im, o, F_COORDINATOR);
	v = import_cell(im, F_SAID_ON);
	if (*v) {
		if ((d = import_date(v)) != NULL)
			json_object_set_new(o, "said_on", json_string(d));
		else {
			import_problem(im, im->row, import_head(im, F_SAID_ON),
			    "\"%s\" is not a date: write 2026-11-03 or "
			    "3/11/2026 (day first)", v);
			json_object_set_new(bad, "said_on", json_true());
		}
		free(d);
	}
	free(v);
}

/* The column a record error's path names: "access_needs[1]: ..." ->
 * the field, the rest of the message. */
static void
import_record_error(struct import *im, const char *msg, json_t *bad)
{
	char		 field[64];
	size_t		 n = strcspn(msg, ".[:");
	const char	*rest = strchr(msg, ':'), *head = NULL;
	int		 f;

	if (n >= sizeof field || rest == NULL || strncmp(msg, "too large",
	    9) == 0) {
		import_problem(im, im->row, NULL, "%s", msg);
		return;
	}
	memcpy(field, msg, n);
	field[n] = '\0';
	if (json_object_get(bad, field) != NULL)
		return;		/* said already, in the row's own words */
	for (f = 0; f < F_MAX; f++)
		if (strcmp(import_json[f], field) == 0 && im->has[f]) {
			head = import_head(im, f);
			break;
		}
	if (head == NULL && strcmp(field, "name") == 0 && im->has[F_FIRST])
		head = import_head(im, F_FIRST);
	rest++;
	while (*rest == ' ')
		rest++;
	if (head == NULL) {
		/* A field with no column: say which column to add. */
		import_problem(im, im->row, field, "%s%s", rest,
		    strstr(rest, "missing") ? " (add the column, or fill it "
		    "in)" : "");
		return;
	}
	/* The path beyond the field ("[1]") as an item number. */
	if (msg[n] == '[') {
		long i = strtol(msg + n + 1, NULL, 10);

		import_problem(im, im->row, head, "item %ld: %s", i + 1, rest);
	} else
		import_problem(im, im->row, head, "%s", rest);
}

static void
import_add(struct import *im, struct cli_rec *r)
{
	if (im->nrecs == im->caprecs) {
		im->caprecs = im->caprecs ? im->caprecs * 2 : 256;
		im->recs = xrealloc(im->recs, im->caprecs * sizeof *im->recs);
	}
	im->recs[im->nrecs++] = *r;
}

/* 1 if every cell of the row is blank. */
static int
import_row_blank(struct import *im)
{
	int	i;

	for (i = 0; i < im->nfields; i++)
		if (strspn(im->fields[i], " \t\r\n") != strlen(im->fields[i]))
			return 0;
	return 1;
}

/* A value under no heading is a problem (the first one only). */
static void
import_row_unheaded(struct import *im)
{
	int	i;

	for (i = 0; i < im->nfields; i++)
		if ((i >= im->ncols || im->heads[i][0] == '\0') &&
		    strspn(im->fields[i], " \t\r\n") !=
		    strlen(im->fields[i])) {
			import_problem(im, im->row, NULL, "a value in column "
			    "%d, which has no heading", i + 1);
			break;
		}
}

/* The row's id, if valid, against every id seen so far in every file: a
 * second use is a problem; a first is remembered (file, row, name). */
static void
import_row_unique(struct import *im, json_t *o, json_t *bad)
{
	const char	*id, *prev = NULL;
	char		 where[1100];
	json_t		*seen;

	id = json_string_value(json_object_get(o, "id"));
	if (id == NULL || !record_id_valid(id))
		return;
	seen = json_object_get(im->ids, id);
	if (seen != NULL && json_integer_value(json_array_get(seen,
	    0)) == im->fileno) {
		snprintf(where, sizeof where, "row %lld",
		    json_integer_value(json_array_get(seen, 1)));
		prev = where;
	} else if (seen != NULL) {
		snprintf(where, sizeof where, "%s:%lld (file %lld)",
		    json_string_value(json_array_get(seen, 2)),
		    json_integer_value(json_array_get(seen, 1)),
		    json_integer_value(json_array_get(seen, 0)) + 1);
		prev = where;
	}
	if (prev == NULL) {
		json_object_set_new(im->ids, id, json_pack("[I,I,s]",
		    (json_int_t)im->fileno, (json_int_t)im->row, im->file));
		return;
	}
	if (!im->derived)
		import_problem(im, im->row, import_head(im, F_ID), "\"%s\" is "
		    "also the id of %s: each row needs its own", id, prev);
	else
		import_problem(im, im->row, NULL, "the same %s as %s, so the "
		    "same id (%s): one row per person", json_object_get(o,
		    "email") ? "email address" : "phone number", prev, id);
	json_object_set_new(bad, "id", json_true());
}

/*
 * The daemon's own checks (record_check_all: every problem of the row at
 * once), then the text that would be queued read back as the daemon reads
 * it (as cli_check_one does for enqueue). A row with no problems since
 * `before` joins im->recs.
 */
static void
import_row_check(struct import *im, json_t *o, json_t *bad, int before)
{
	struct record_opts ro = { im->cf->timezone, im->cf->max_record_bytes };
	struct cli_rec	 r;
	struct record	 rec;
	struct err	 e;
	json_t		*errs, *x;
	char		*text, where[1100];
	size_t		 k;

	text = json_dumps(o, JSON_COMPACT);
	errs = json_array();
	memset(&rec, 0, sizeof rec);
	if (record_check_all(o, &ro, &rec, errs) == -1) {
		json_array_foreach(errs, k, x)
			import_record_error(im, json_string_value(x), bad);
		record_clear(&rec);
		free(text);
	} else if (record_clear(&rec), record_parse(text, strlen(text), &ro,
	    &rec, &e) == -1) {
		import_record_error(im, e.msg, bad);
		free(text);
	} else if (im->problems != before) {
		record_clear(&rec);
		free(text);
	} else {
		snprintf(where, sizeof where, "%s:%ld", im->file, im->row);
		r.where = xstrdup(where);
		r.rec = rec;
		r.text = text;
		import_add(im, &r);
	}
	json_decref(errs);
}

/* A data row: a record, checked. */
void
import_row_take(struct import *im)
{
	json_t		*o = json_object(), *bad = json_object();
	int		 before = im->problems;

	if (import_row_blank(im))
		goto out;		/* a blank row */
	im->rows++;
	import_row_unheaded(im);
	if (im->said)
		import_said(im, o, bad);
	else
		import_collaborator(im, o, bad);
	import_row_unique(im, o, bad);
	import_row_check(im, o, bad, before);
	if (im->tty && im->rows % IMPORT_PROGRESS == 0)
		fprintf(stderr, "\r\033[Khearback: %s: %ld rows read",
		    im->file, im->rows);
out:
	json_decref(o);
	json_decref(bad);
}

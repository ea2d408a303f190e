/*
 * import.c: `hearback import`, spreadsheets to records (SPEC section 8).
 *
 *   hearback import [--type collaborator|said] [--meeting ID] [--dry-run]
 *                   [--ignore COLUMN]... FILE...
 *
 * Reads CSV (RFC 4180) or, for a .tsv file or a header with tabs and no
 * commas, tab-separated values, with Debian's libcsv. The text must be
 * UTF-8 (a byte-order mark is dropped); anything else is refused with how
 * to save the file as "CSV UTF-8".
 *
 * Each row becomes one record, built here from the loosely named columns
 * and then checked exactly as `enqueue` checks a record (cli_check_one:
 * the daemon's record_parse over the compact text that is queued); then
 * every record of every file goes through cli_queue(), the same reference
 * checks and the same all-or-nothing queueing as `enqueue`, with the same
 * output. A re-import queues the same records again, which the daemon
 * finds unchanged and acts on no further.
 *
 * Every problem is reported (up to IMPORT_MAX_SHOWN), one line each, as
 * FILE:ROW: COLUMN: what is wrong, and what to do where we can say it.
 * Rows are the spreadsheet's: the header is row 1.
 *
 * Ids: a row without an id gets a stable one. For a collaborator, "c-"
 * and 12 hex digits of the SHA-256 of the lower-case email address (else
 * of the phone number's digits): never the address itself, as ids go to
 * logs. Two rows that get the same id are an error. A said row's id is
 * "s-MEETING-ROW".
 *
 * Single-threaded, like the rest of the command.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <csv.h>
#include <glib.h>
#include <openssl/evp.h>

#include "cli.h"

#define IMPORT_MAX_SHOWN	50
#define IMPORT_MAX_BYTES	(512UL * 1024 * 1024)
#define IMPORT_PROGRESS		5000	/* rows between progress lines */

enum import_field {
	F_ID, F_NAME, F_FIRST, F_LAST, F_EMAIL, F_PHONE, F_CONSENT, F_FORMAT,
	F_ACCESS, F_GROUPS, F_REMINDERS, F_COMMUNICATION, F_COORDINATOR,
	F_TEXT, F_COLLABORATOR, F_TOPIC, F_SAID_ON, F_MAX
};

/* The record field each column fills ("name" for first and last). */
static const char *const import_json[F_MAX] = {
	"id", "name", "name", "name", "email", "phone", "consent", "format",
	"access_needs", "groups", "reminders", "communication", "coordinator",
	"text", "collaborator", "topic", "said_on"
};

/* Column names, as matched (lower case, no spaces, '_' or '-'). */
static const struct {
	const char		*norm;
	enum import_field	 f;
	int			 said;	/* 0 collaborator, 1 said, 2 both */
} import_columns[] = {
	{ "id", F_ID, 2 },
	{ "coordinator", F_COORDINATOR, 2 },
	{ "name", F_NAME, 0 }, { "fullname", F_NAME, 0 },
	{ "firstname", F_FIRST, 0 }, { "forename", F_FIRST, 0 },
	{ "givenname", F_FIRST, 0 },
	{ "lastname", F_LAST, 0 }, { "surname", F_LAST, 0 },
	{ "familyname", F_LAST, 0 },
	{ "email", F_EMAIL, 0 }, { "emailaddress", F_EMAIL, 0 },
	{ "phone", F_PHONE, 0 }, { "phonenumber", F_PHONE, 0 },
	{ "telephone", F_PHONE, 0 }, { "mobile", F_PHONE, 0 },
	{ "consent", F_CONSENT, 0 },
	{ "format", F_FORMAT, 0 },
	{ "accessneeds", F_ACCESS, 0 }, { "access", F_ACCESS, 0 },
	{ "groups", F_GROUPS, 0 }, { "group", F_GROUPS, 0 },
	{ "reminders", F_REMINDERS, 0 },
	{ "communication", F_COMMUNICATION, 0 },
	{ "text", F_TEXT, 1 }, { "said", F_TEXT, 1 },
	{ "collaborator", F_COLLABORATOR, 1 },
	{ "topic", F_TOPIC, 1 },
	{ "saidon", F_SAID_ON, 1 }, { "date", F_SAID_ON, 1 },
};

static const char *const import_formats[] = {
	"standard", "easy-read", "large-print", "plain-text", NULL
};

struct import {
	const struct config	*cf;
	int			 said;		/* --type said */
	const char		*meeting;	/* --meeting */
	char			**ignore;	/* --ignore, normalised */
	int			 nignore;
	int			 tty;		/* progress on stderr */

	/* the file being read */
	const char		*file;
	int			 fileno;	/* its place on the command line */
	char			**fields;	/* the row being read */
	int			 nfields, capfields;
	long			 row;		/* its spreadsheet row */
	int			 header_done;
	int			 stop;		/* header unusable: skip rows */
	int			 ncols;
	int			*col;		/* column -> field, -1 ignored */
	char			**heads;	/* column headings, as written */
	int			 has[F_MAX];	/* field -> column + 1, or 0 */
	int			 derived;	/* this row's id was made here */

	/* every file */
	int			 problems;
	struct cli_rec		*recs;
	int			 nrecs, caprecs;
	json_t			*ids;		/* id -> [fileno, row, file] */
	long			 rows;		/* data rows read */
};

/* One problem: FILE:ROW: COLUMN: what (only the first 50 shown). */
static void __attribute__((format(printf, 4, 5)))
import_problem(struct import *im, long row, const char *column,
    const char *fmt, ...)
{
	va_list	ap;

	if (im->problems++ >= IMPORT_MAX_SHOWN)
		return;
	if (im->tty)
		fputs("\r\033[K", stderr);
	if (column != NULL)
		fprintf(stderr, "%s:%ld: %s: ", im->file, row, column);
	else
		fprintf(stderr, "%s:%ld: ", im->file, row);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Lower case, without spaces, '_' and '-': how names and words match. */
static char *
import_norm(const char *s)
{
	char	*n = xmalloc(strlen(s) + 1), *p = n;

	for (; *s; s++) {
		if (*s == ' ' || *s == '_' || *s == '-' || *s == '\t')
			continue;
		*p++ = (char)tolower((unsigned char)*s);
	}
	*p = '\0';
	return n;
}

/* s without surrounding white space, as a new string. */
static char *
import_trim(const char *s)
{
	size_t	n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return xstrndup(s, n);
}

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

/* A collaborator row; bad: the fields already reported (json names). */
static void
import_collaborator(struct import *im, json_t *o, json_t *bad)
{
	char		*v, *first, *last, *id = NULL, *vocab;
	const char	*w, *near;
	json_t		*a, *x;
	size_t		 i;

	json_object_set_new(o, "type", json_string("collaborator"));
	/* The name, whole or in two parts. */
	if (im->has[F_NAME])
		import_set_cell(im, o, F_NAME);
	else {
		first = import_cell(im, F_FIRST);
		last = import_cell(im, F_LAST);
		v = xasprintf("%s%s%s", first, *first && *last ? " " : "",
		    last);
		if (*v)
			json_object_set_new(o, "name", json_string(v));
		free(v);
		free(first);
		free(last);
	}
	import_set_cell(im, o, F_EMAIL);
	import_set_cell(im, o, F_PHONE);
	import_set_cell(im, o, F_COORDINATOR);
	/* The id, or one made from the address (or phone). */
	v = import_cell(im, F_ID);
	im->derived = !*v;
	if (*v)
		id = xstrdup(v);
	else {
		const char *email = json_string_value(json_object_get(o,
		    "email"));
		const char *phone = json_string_value(json_object_get(o,
		    "phone"));

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
	}
	free(v);
	if (id != NULL)
		json_object_set_new(o, "id", json_string(id));
	else {
		import_problem(im, im->row, import_head(im, F_ID), "empty, and "
		    "there is no email address or phone number to make an id "
		    "from: give one (letters, digits, '-')");
		json_object_set_new(bad, "id", json_true());
	}
	free(id);
	/* Consent. */
	v = import_cell(im, F_CONSENT);
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
	/* Format: "Large print" is large-print. */
	v = import_cell(im, F_FORMAT);
	if (*v) {
		char *n = import_norm(v);

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
	/* Access needs, matched to the vocabulary. */
	if ((a = import_set_list(im, o, F_ACCESS)) != NULL) {
		json_array_foreach(a, i, x) {
			char *n = import_norm(json_string_value(x));
			size_t h;

			if ((w = import_match(n, record_access_words)) !=
			    NULL) {
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
	if ((a = import_set_list(im, o, F_GROUPS)) != NULL) {
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

/* The header row: which column is which. */
static void
import_header(struct import *im)
{
	int		 c, k, i, ok;
	char		*n, *allowed;
	struct buf	 b;

	im->ncols = im->nfields;
	im->col = xcalloc(im->ncols, sizeof *im->col);
	im->heads = xcalloc(im->ncols, sizeof *im->heads);
	memset(im->has, 0, sizeof im->has);
	buf_init(&b);
	for (k = 0; k < (int)(sizeof import_columns /
	    sizeof import_columns[0]); k++)
		if (import_columns[k].said == 2 ||
		    import_columns[k].said == im->said)
			buf_printf(&b, "%s%s", b.len ? ", " : "",
			    import_columns[k].norm);
	allowed = buf_take(&b);
	for (c = 0; c < im->ncols; c++) {
		im->heads[c] = import_trim(im->fields[c]);
		im->col[c] = -1;
		n = import_norm(im->heads[c]);
		ok = 0;
		for (i = 0; i < im->nignore; i++)
			if (strcmp(n, im->ignore[i]) == 0)
				ok = 1;
		if (ok || *n == '\0') {
			free(n);
			continue;
		}
		for (k = 0; k < (int)(sizeof import_columns /
		    sizeof import_columns[0]); k++) {
			if (strcmp(n, import_columns[k].norm) != 0 ||
			    (import_columns[k].said != 2 &&
			    import_columns[k].said != im->said))
				continue;
			ok = 1;
			if (im->has[import_columns[k].f]) {
				import_problem(im, 1, im->heads[c], "a second "
				    "\"%s\" column (also column %d)",
				    import_columns[k].norm,
				    im->has[import_columns[k].f]);
				im->stop = 1;
			} else {
				im->has[import_columns[k].f] = c + 1;
				im->col[c] = import_columns[k].f;
			}
		}
		if (!ok) {
			import_problem(im, 1, im->heads[c], "not a column "
			    "hearback knows (for --type %s: %s; matched "
			    "ignoring case, spaces, '_' and '-'); to leave it "
			    "out, add --ignore \"%s\"", im->said ? "said" :
			    "collaborator", allowed, im->heads[c]);
			im->stop = 1;
		}
		free(n);
	}
	free(allowed);
	if (!im->said) {
		if (!im->has[F_NAME] && !im->has[F_FIRST] && !im->has[F_LAST]) {
			import_problem(im, 1, NULL, "no \"name\" column (or "
			    "\"first name\" and \"last name\")");
			im->stop = 1;
		}
		if (im->has[F_NAME] && (im->has[F_FIRST] || im->has[F_LAST])) {
			import_problem(im, 1, NULL, "both \"name\" and \"first "
			    "name\"/\"last name\": keep one or the other");
			im->stop = 1;
		}
		if (!im->has[F_CONSENT]) {
			import_problem(im, 1, NULL, "no \"consent\" column "
			    "(yes if the person agreed to get emails)");
			im->stop = 1;
		}
		if (!im->has[F_EMAIL] && !im->has[F_PHONE]) {
			import_problem(im, 1, NULL, "no \"email\" or \"phone\" "
			    "column");
			im->stop = 1;
		}
	} else if (!im->has[F_TEXT]) {
		import_problem(im, 1, NULL, "no \"text\" column (what was "
		    "said)");
		im->stop = 1;
	}
}

/* A data row: a record, checked. */
static void
import_row(struct import *im)
{
	json_t		*o = json_object(), *bad = json_object(), *errs = NULL;
	json_t		*x;
	struct cli_rec	 r;
	struct record_opts ro = { im->cf->timezone, im->cf->max_record_bytes };
	struct record	 rec;
	struct err	 e;
	const char	*id, *prev;
	char		*text, where[1100];
	int		 i, empty = 1, before = im->problems;
	size_t		 k;

	for (i = 0; i < im->nfields; i++)
		if (strspn(im->fields[i], " \t\r\n") != strlen(im->fields[i]))
			empty = 0;
	if (empty)
		goto out;		/* a blank row */
	im->rows++;
	for (i = 0; i < im->nfields; i++)
		if ((i >= im->ncols || im->heads[i][0] == '\0') &&
		    strspn(im->fields[i], " \t\r\n") !=
		    strlen(im->fields[i])) {
			import_problem(im, im->row, NULL, "a value in column "
			    "%d, which has no heading", i + 1);
			break;
		}
	if (im->said)
		import_said(im, o, bad);
	else
		import_collaborator(im, o, bad);
	id = json_string_value(json_object_get(o, "id"));
	if (id != NULL && record_id_valid(id)) {
		json_t *seen = json_object_get(im->ids, id);

		prev = NULL;
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
		if (prev != NULL) {
			if (!im->derived)
				import_problem(im, im->row,
				    import_head(im, F_ID), "\"%s\" is also the "
				    "id of %s: each row needs its own", id,
				    prev);
			else
				import_problem(im, im->row, NULL, "the same %s "
				    "as %s, so the same id (%s): one row per "
				    "person", json_object_get(o, "email") ?
				    "email address" : "phone number", prev,
				    id);
			json_object_set_new(bad, "id", json_true());
		} else {
			json_object_set_new(im->ids, id, json_pack("[I,I,s]",
			    (json_int_t)im->fileno, (json_int_t)im->row,
			    im->file));
		}
	}
	/* The daemon's own checks (record_check_all: every problem of the
	 * row at once), then the text that would be queued read back as the
	 * daemon reads it (as cli_check_one does for enqueue). */
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
	if (im->tty && im->rows % IMPORT_PROGRESS == 0)
		fprintf(stderr, "\r\033[Khearback: %s: %ld rows read",
		    im->file, im->rows);
out:
	json_decref(errs);
	json_decref(o);
	json_decref(bad);
}

/* libcsv: one field. */
static void
import_on_field(void *s, size_t len, void *data)
{
	struct import	*im = data;

	if (im->nfields == im->capfields) {
		im->capfields = im->capfields ? im->capfields * 2 : 16;
		im->fields = xrealloc(im->fields, im->capfields *
		    sizeof *im->fields);
	}
	im->fields[im->nfields++] = xstrndup(s ? s : "", s ? len : 0);
}

/* libcsv: the end of a row. */
static void
import_on_row(int c, void *data)
{
	struct import	*im = data;
	int		 i;

	im->row++;
	if (!im->header_done) {
		import_header(im);
		im->header_done = 1;
	} else if (!im->stop)
		import_row(im);
	for (i = 0; i < im->nfields; i++)
		free(im->fields[i]);
	im->nfields = 0;
}

/* Not UTF-8: say where and how to mend it. */
static void
import_not_utf8(struct import *im, const char *text, size_t len,
    const char *end)
{
	long		 line = 1;
	const char	*p;

	if (len >= 2 && ((unsigned char)text[0] == 0xff &&
	    (unsigned char)text[1] == 0xfe)) {
		import_problem(im, 1, NULL, "this file is UTF-16 (\"Unicode "
		    "text\"), not UTF-8: save it as \"CSV UTF-8 (Comma "
		    "delimited)\" and import that");
		return;
	}
	for (p = text; p < end; p++)
		if (*p == '\n')
			line++;
	import_problem(im, line, NULL, "this file is not UTF-8 (byte 0x%02X, "
	    "perhaps a \302\243 or an accent saved as Windows text): in Excel "
	    "use File, Save As, \"CSV UTF-8 (Comma delimited)\"; in "
	    "LibreOffice, Save As CSV with \"Edit filter settings\" and "
	    "Character set \"Unicode (UTF-8)\"; then import that file",
	    (unsigned char)*end);
}

/* One file: every row, every problem. */
static void
import_file(struct import *im, const char *file)
{
	struct csv_parser	 p;
	struct err		 e;
	char			*text, *body;
	const char		*end, *dot, *nl;
	size_t			 len;
	int			 i;

	im->file = file;
	im->row = 0;
	im->header_done = 0;
	im->stop = 0;
	if ((text = cli_slurp(file, IMPORT_MAX_BYTES, &len, &e)) == NULL) {
		im->problems++;
		fprintf(stderr, "%s\n", e.msg);
		return;
	}
	body = text;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		body += 3;
		len -= 3;
	}
	if (!g_utf8_validate(body, len, &end)) {
		import_not_utf8(im, text, len + (body - text), end);
		free(text);
		return;
	}
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		fatalx("import: libcsv: cannot start");
	/* Tabs: a .tsv, or a header with tabs and no commas. */
	dot = strrchr(file, '.');
	nl = memchr(body, '\n', len);
	if ((dot && strcasecmp(dot, ".tsv") == 0) || ((nl ? memchr(body,
	    '\t', nl - body) != NULL && memchr(body, ',', nl - body) == NULL :
	    0)))
		csv_set_delim(&p, CSV_TAB);
	if (csv_parse(&p, body, len, import_on_field, import_on_row, im) !=
	    len)
		import_problem(im, im->row + 1, NULL, "a '\"' inside a quoted "
		    "value must be written twice (\"\"); save the file from "
		    "the spreadsheet again, or mend that value");
	else if (csv_fini(&p, import_on_field, import_on_row, im) != 0)
		import_problem(im, im->row + 1, NULL, "a quoted value has no "
		    "closing '\"' (the rest of the file would be one value)");
	csv_free(&p);
	for (i = 0; i < im->nfields; i++)
		free(im->fields[i]);
	im->nfields = 0;
	if (!im->header_done)
		import_problem(im, 1, NULL, "the file is empty: the first "
		    "row must name the columns");
	for (i = 0; i < im->ncols; i++)
		free(im->heads[i]);
	free(im->heads);
	free(im->col);
	im->heads = NULL;
	im->col = NULL;
	im->ncols = 0;
	free(text);
}

static void
import_usage(void)
{
	fprintf(stderr, "usage: hearback import [--type collaborator|said] "
	    "[--meeting ID] [--dry-run] [--ignore COLUMN]... FILE...\n");
	exit(EX_USAGE_);
}

int
cli_import(const struct config *cf, int argc, char **argv)
{
	struct import	 im;
	int		 ch, dry = 0, rv, i;

	static const struct option longopts[] = {
		{ "type",	required_argument,	NULL,	't' },
		{ "meeting",	required_argument,	NULL,	'm' },
		{ "dry-run",	no_argument,		NULL,	'n' },
		{ "ignore",	required_argument,	NULL,	'i' },
		{ NULL,		0,			NULL,	0 }
	};

	memset(&im, 0, sizeof im);
	im.cf = cf;
	optind = 0;	/* glibc: start afresh (permuting, unlike main) */
	argc++;
	argv--;		/* getopt skips argv[0]: the command's name */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (strcmp(optarg, "collaborator") == 0)
				im.said = 0;
			else if (strcmp(optarg, "said") == 0)
				im.said = 1;
			else {
				fprintf(stderr, "hearback: import: --type is "
				    "collaborator or said, not \"%s\"\n",
				    optarg);
				import_usage();
			}
			break;
		case 'm':
			im.meeting = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'i':
			im.ignore = xrealloc(im.ignore, (im.nignore + 1) *
			    sizeof *im.ignore);
			im.ignore[im.nignore++] = import_norm(optarg);
			break;
		default:
			import_usage();
		}
	}
	if (optind >= argc)
		import_usage();
	if (im.meeting != NULL && !im.said) {
		fprintf(stderr, "hearback: import: --meeting is for --type "
		    "said\n");
		import_usage();
	}
	if (im.meeting != NULL && !record_id_valid(im.meeting)) {
		fprintf(stderr, "hearback: import: --meeting \"%s\" is not a "
		    "meeting id\n", im.meeting);
		return EX_INVALID;
	}
	im.tty = isatty(STDERR_FILENO);
	im.ids = json_object();
	for (i = optind; i < argc; i++) {
		im.fileno = i - optind;
		import_file(&im, argv[i]);
	}
	if (im.tty && im.rows >= IMPORT_PROGRESS)
		fprintf(stderr, "\r\033[Khearback: %ld rows read, checking\n",
		    im.rows);
	if (im.problems > IMPORT_MAX_SHOWN)
		fprintf(stderr, "hearback: %d more problems not shown\n",
		    im.problems - IMPORT_MAX_SHOWN);
	if (im.problems > 0) {
		fprintf(stderr, "hearback: nothing queued\n");
		rv = EX_INVALID;
	} else if (im.nrecs == 0) {
		fprintf(stderr, "hearback: no rows to import: nothing "
		    "queued\n");
		rv = EX_INVALID;
	} else
		rv = cli_queue(cf, im.recs, im.nrecs, dry);
	cli_free_records(im.recs, im.nrecs);
	json_decref(im.ids);
	for (i = 0; i < im.nignore; i++)
		free(im.ignore[i]);
	free(im.ignore);
	free(im.fields);
	return rv;
}

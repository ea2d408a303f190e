/*
 * record_field.c: owns the walk of a record against a table of fields
 * (record_field.h): unknown keys first (in the object's order), then each
 * field in table order, required ones present, objects walked in turn,
 * arrays element by element (distinct, where a list must be), a venue's
 * access map word by word. The first problem found is the one reported, as
 * "PATH: PROBLEM" (or, for a spreadsheet row, every one). The table of each
 * record type and the rules between its fields are record_form.c's; what
 * one string may hold is record_value.c's; values quoted in messages go
 * through util_quote (escaped, cut short: safe to log).
 *
 * A record is walked for every entry intake reads: a path is made only for
 * a field that is there (or missing and required), and short lists are
 * checked for repeats without building a set.
 *
 * Pure: no I/O, no global state; any thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "config.h"
#include "duration.h"
#include "record.h"
#include "record_field.h"
#include "record_value.h"

#define FIELD_KEY_MAX	40	/* unknown keys are cut in paths */
#define FIELD_SCAN_MAX	16	/* longer lists: repeats found by a set */

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

static int	check_object(json_t *, const struct record_field *,
		    const char *, const struct ctx *, struct err *);

static int
field_alnum(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

/* A key as it appears in a path: bare when it is tame, else quoted. */
static void
path_join(char *buf, size_t len, const char *prefix, const char *key)
{
	char		 q[RECORD_FIELD_QUOTE_MAX];
	const char	*p;
	size_t		 pl = strlen(prefix), kl;

	for (p = key; *p != '\0'; p++)
		if (!field_alnum((unsigned char)*p) && *p != '_' &&
		    *p != '-')
			break;
	kl = p - key;
	if (*p != '\0' || kl == 0 || kl > FIELD_KEY_MAX) {
		key = util_quote(q, sizeof q, key, FIELD_KEY_MAX);
		kl = strlen(key);
	}
	if (pl + 1 + kl + 1 > len) {	/* not with the tables we have */
		snprintf(buf, len, "%s%s%s", prefix, pl ? "." : "", key);
		return;
	}
	if (pl > 0) {
		memcpy(buf, prefix, pl);
		buf[pl++] = '.';
	}
	memcpy(buf + pl, key, kl);
	buf[pl + kl] = '\0';
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

static int
expect_string(const json_t *v, struct err *e)
{
	if (!json_is_string(v))
		return err_set(e, "expected a string, got %s",
		    record_field_jtype(v));
	return 0;
}

/* What makes two elements of a list the same: the text, or for durations
 * the length of time ("1d" and "24h"). */
static const char *
array_key(const json_t *el, const struct record_field *f, char *buf,
    size_t len)
{
	long long	secs;

	if (f->kind != RECORD_FIELD_DURATIONS)
		return json_string_value(el);
	duration_parse(json_string_value(el), &secs, NULL);
	snprintf(buf, len, "%lld", secs);
	return buf;
}

/* An earlier element of a short list that is the same as element i, or
 * -1. */
static long long
array_repeat(const json_t *a, size_t i, const struct record_field *f)
{
	char		 k[32], kj[32];
	const char	*s = array_key(json_array_get(a, i), f, k, sizeof k);
	size_t		 j;

	for (j = 0; j < i; j++)
		if (strcmp(array_key(json_array_get(a, j), f, kj, sizeof kj),
		    s) == 0)
			return (long long)j;
	return -1;
}

/* An array of distinct strings (ids, group names, durations, words). */
static int
check_array(const json_t *v, const struct record_field *f, const char *path,
    const struct ctx *c, struct err *e)
{
	json_t		*seen = NULL, *el, *prev;
	long long	 rep;
	size_t		 i;
	char		 key[32], q[RECORD_FIELD_QUOTE_MAX];
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
	if (json_array_size(v) > FIELD_SCAN_MAX)
		seen = json_object();
	json_array_foreach(v, i, el) {
		if (expect_string(el, e) == -1 ||
		    record_value_check(el, f, c->max_bytes, e) == -1) {
			err_prefix(e, "%s[%zu]", path, i);
			goto err;
		}
		if (seen == NULL)
			rep = array_repeat(v, i, f);
		else {
			k = array_key(el, f, key, sizeof key);
			prev = json_object_get(seen, k);
			rep = prev ? (long long)json_integer_value(prev) : -1;
			json_object_set_new(seen, k, json_integer((json_int_t)i));
		}
		if (rep >= 0) {
			err_set(e, "%.200s[%zu]: %s is the same as %s[%lld]",
			    path, i, util_quote(q, sizeof q,
			    json_string_value(el), 60), path, rep);
			goto err;
		}
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
			    "access words are: %s.", ep, util_quote(q,
			    sizeof q, word, 60), record_value_suggest(sg,
			    sizeof sg, word, record_access_words)[0] ? sg : ".",
			    record_value_words(list, sizeof list,
			    record_access_words));
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
		if (record_value_check(val, f, c->max_bytes, e) == -1) {
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
		    record_value_check(v, f, c->max_bytes, e) == -1) {
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
			    (d = record_value_distance(k, names[i])) > 2)
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
check_object(json_t *obj, const struct record_field *fields,
    const char *prefix, const struct ctx *c, struct err *e)
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
		if ((v = json_object_get(obj, f->name)) == NULL ||
		    json_is_null(v)) {
			if (f->required && !c->partial) {
				path_join(path, sizeof path, prefix, f->name);
				err_set(e, "%s: missing (required)", path);
				if (field_problem(c, before, e) == -1)
					return -1;
			}
			continue;
		}
		path_join(path, sizeof path, prefix, f->name);
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

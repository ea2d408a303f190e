/*
 * record_field.h: the kinds of field a record has, and the check of a JSON
 * object against a table of fields (daemon/record_field.c). Internal to
 * the record checks: record_form.c holds the tables, record.c the entry
 * points, record_value.c what one value of each kind may hold,
 * record_text.c the rules for text; everything else uses record.h.
 *
 * Pure: no I/O, no global state; any thread (GMime must have been
 * initialised by main, for the address checks).
 */
#ifndef HB_RECORD_FIELD_H
#define HB_RECORD_FIELD_H

#include <stddef.h>

#include <jansson.h>

#include "util.h"

#define RECORD_FIELD_PATH_MAX	200	/* path of a field, in messages */
#define RECORD_FIELD_QUOTE_MAX	160	/* value quoted in messages */

enum record_field_kind {
	RECORD_FIELD_TYPE,	/* "type": checked before the table */
	RECORD_FIELD_ID,
	RECORD_FIELD_IDS,	/* array of distinct ids */
	RECORD_FIELD_GROUPS,	/* array of distinct group names */
	RECORD_FIELD_HEADER,	/* one line that may go in a header */
	RECORD_FIELD_LINE,	/* one line */
	RECORD_FIELD_LINES,	/* short text, may hold \n */
	RECORD_FIELD_TEXT,	/* long text, may hold \n and \t */
	RECORD_FIELD_EMAIL,
	RECORD_FIELD_BOOL,
	RECORD_FIELD_TIME,
	RECORD_FIELD_DATE,
	RECORD_FIELD_TZ,
	RECORD_FIELD_URL,
	RECORD_FIELD_DURATIONS,
	RECORD_FIELD_WORDS,	/* array of distinct access words */
	RECORD_FIELD_ACCESS,	/* object: access word -> true/false/text, or
				 * {"available", "details", "until"} */
	RECORD_FIELD_ENUM,
	RECORD_FIELD_OBJECT,
	RECORD_FIELD_PHONE,	/* a telephone number */
	RECORD_FIELD_COMMS	/* array of distinct communication needs */
};

struct record_field {
	const char			*name;
	enum record_field_kind		 kind;
	int				 required;
	const char *const		*values;	/* ENUM */
	const struct record_field	*sub;		/* OBJECT */
};

/*
 * Check obj against fields (ended by a NULL name): unknown keys first, in
 * the object's order, then each field in table order (required ones
 * present, every value of its kind); RECORD_FIELD_TYPE entries are skipped
 * (the caller checks "type"). Long text may be at most max_bytes bytes.
 * The first problem found is the one reported, as "PATH: PROBLEM".
 * partial: a merge patch (RFC 7386): nothing is required, at any depth,
 * and null (remove the field) is allowed anywhere. errs (may be NULL): an
 * array that gets every problem, one string each, the walk going on past
 * them (e still says the first).
 */
int		 record_field_check(json_t *obj,
		    const struct record_field *fields, size_t max_bytes,
		    int partial, json_t *errs, struct err *e);

/* The member, or NULL when obj is NULL or the member is absent or null. */
json_t		*record_field_get(const json_t *obj, const char *key);
/* The member's string, or NULL when it is not a string. */
const char	*record_field_getstr(const json_t *obj, const char *key);
/* "an object", "a string", "true"...: what v is, for a message. */
const char	*record_field_jtype(const json_t *v);

#endif

/*
 * record.h: the form of every record (SPEC sections 2 and 3).
 *
 * Shared by the daemon and `hearback validate/enqueue`, so it is pure: no
 * Redis, no I/O, no global state; any thread (GMime must have been
 * initialised by main, for the address checks). Whether the ids a record
 * names exist is the caller's question: record_refs() lists them.
 *
 * Error messages name the field path, then the problem:
 *	start: "2026-13-01T18:00" is not a date and time (YYYY-MM-DDTHH:MM)
 *	to.collaborators[0]: "c amara" is not a valid id (...)
 * except for the whole-record errors "too large: ...", "not JSON: ..." and
 * "not a JSON object". A field error has the form "PATH: PROBLEM" (a
 * field name that is not a plain word is quoted in the path), so the CLI
 * can write "m.json[2].start: ..." for it. Values quoted in messages are
 * escaped (\r, \n, \", \uXXXX) and cut short: messages are safe to log.
 */
#ifndef HB_RECORD_H
#define HB_RECORD_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "util.h"

enum record_type {
	REC_COLLABORATOR,
	REC_VENUE,
	REC_MEETING,
	REC_ANNOUNCEMENT,
	REC_SAID,
	REC_OUTCOME,
	REC_FORGET,
	REC_TYPE_MAX
};

#define RECORD_DEFAULT_TZ	"Europe/London"
#define RECORD_DEFAULT_MAX	65536
#define RECORD_ID_MAX		128
#define RECORD_HEADER_MAX	200	/* characters: name, title, subject, topic */
#define RECORD_SHORT_MAX	1000	/* characters: other short strings */
#define RECORD_URL_MAX		2000

struct record_opts {
	const char	*default_tz;	/* [delivery] timezone; NULL: Europe/London */
	size_t		 max_bytes;	/* [daemon] max_record_bytes; 0: 65536 */
};

struct record {
	enum record_type type;
	const char	*id;	/* borrowed from json; for forget, the collaborator id */
	json_t		*json;	/* owned reference to the checked object */
	const char	*tz;	/* the record's "timezone" (meeting, announcement)
				 * or else the default; set for every type (said_at
				 * is read in it). Borrowed from json or the opts. */
	int		 merge;	/* "merge": true: json is a merge patch (RFC
				 * 7386) to apply to the stored record with
				 * record_merge(); only its fields' form is
				 * checked. json never holds the "merge" key. */
};

/* "collaborator", "venue", ...; "unknown" out of range. */
const char	*record_type_name(enum record_type);
/* The reverse; -1 if name is not a record type. */
int		 record_type_from_name(const char *name, enum record_type *);

/*
 * Parse bytes and check form. Errors (e->msg), exactly in these shapes:
 *   too large: 70000 bytes, limit 65536	(checked BEFORE parsing)
 *   not JSON: line 3 column 7: <jansson's text>
 *   not a JSON object			(the text is an array or scalar)
 *   type: missing (required)
 *   type: unknown record type "meet"
 *   acess: unknown field
 *   PATH: PROBLEM			(see the top of this file)
 * Duplicate keys are a "not JSON" error. On failure *out is zeroed (so
 * record_clear on it is harmless).
 */
int	record_parse(const char *text, size_t len, const struct record_opts *,
	    struct record *out, struct err *e);
/*
 * Check an already-parsed object (takes its own reference on success), for
 * instance one element of an array file. Also refuses, as "too large: ...",
 * an object whose compact form (json_dumps JSON_COMPACT) exceeds max_bytes:
 * queue that compact form, and the daemon will accept its size.
 */
int	record_check(json_t *obj, const struct record_opts *,
	    struct record *out, struct err *e);
/*
 * A merge record (r->merge) applied to the stored record of its type and
 * id (the "record" object as stored, not changed): RFC 7386, a member set
 * to null is removed, objects merge member by member. The result is
 * checked whole, as record_check does (so "title: missing (required)"
 * means the merged record lacks it), into *out (out->merge is 0). A
 * record that is not a merge is checked whole as it is. stored NULL: an
 * error naming the id ("id: no meeting \"m-1\" to change: ...").
 */
int	record_merge(const json_t *stored, const struct record *r,
	    const struct record_opts *, struct record *out, struct err *e);
/* The RFC 7386 merge of patch into a copy of target (either may be
 * NULL): a new reference. */
json_t	*record_merge_patch(const json_t *target, const json_t *patch);

/*
 * Parse JSON text as a coordinator wrote it: a byte order mark at the
 * start is skipped; an object or an array (any value with any_value).
 * On a syntax error e says where and what to do in plain words:
 *   not JSON: line 3 column 14: a comma before "}" (remove the last comma
 *   in the list)
 * and for text that is not UTF-8, which byte and to save it as UTF-8.
 */
json_t	*record_json_load(const char *text, size_t len, int any_value,
	    struct err *e);

/*
 * record_check() that reports every problem, not only the first: each
 * "PATH: PROBLEM" string is appended to errors (an array), in field order
 * (unknown fields first). The rules between fields (end after start...)
 * are checked only once every field is right. For a spreadsheet row: all
 * of its mistakes at once.
 */
int	record_check_all(json_t *obj, const struct record_opts *,
	    struct record *out, json_t *errors);

/* Drop the reference; *r is zeroed. Safe on a zeroed record. */
void	record_clear(struct record *);

/*
 * The references a record makes, for reference checks by the caller: fn is
 * called once per reference, in field order. kind is one of "collaborator",
 * "venue", "meeting", "said", "group"; path is the field holding it:
 *	meeting:	"venue", "invitees[1]" (collaborator), "groups[0]" (group)
 *	announcement:	"to.groups[0]" (group), "to.collaborators[0]" (collaborator)
 *	said:		"meeting", "collaborator"
 *	outcome:	"said[2]"
 *	forget:		"collaborator" (the caller may choose to allow an
 *			unknown one: forgetting twice is harmless)
 * Groups are reported (kind "group") although an unknown group is not an
 * error. A collaborator's own "groups" define membership and are NOT
 * reported; a collaborator or venue record makes no references.
 * The strings are borrowed from r->json (path is only valid during the call).
 */
typedef void record_ref_fn(const char *kind, const char *id, const char *path,
    void *arg);
void	record_refs(const struct record *, record_ref_fn *fn, void *arg);

/* Access vocabulary (SPEC section 3), in SPEC order; NULL-terminated too. */
extern const char *const record_access_words[];
extern const int record_naccess_words;
int	record_access_word_valid(const char *);

/* ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$ (ids and group names). */
int	record_id_valid(const char *);

/*
 * "YYYY-MM-DDTHH:MM" or "YYYY-MM-DDTHH:MM:SS", a real calendar date and time
 * (years 1900 to 9999). Fills tm as mktime would read it (tm_year is the year
 * minus 1900, tm_mon 0-11, tm_isdst -1; no time zone applied). -1 if invalid.
 */
int	record_time_parse(const char *s, struct tm *tm);
/* "YYYY-MM-DD"; the time fields of tm are zero. -1 if invalid. */
int	record_date_parse(const char *s, struct tm *tm);

#endif

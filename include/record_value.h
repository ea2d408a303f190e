/*
 * record_value.h: what one string value of a record may hold, by the kind
 * of its field (daemon/record_value.c): an id, a group name, text people
 * read, an email address, a date and time, a time zone, a web address, a
 * duration, an access word, a communication need, a phone number, one of
 * a list. Internal to the record checks (record_field.c walks a record and
 * calls it for each string); everything else uses record.h.
 *
 * Pure: no I/O, no global state; any thread (GMime must have been
 * initialised by main, for the address checks; time zones come from
 * libical, whose built-in zone cache is locked).
 */
#ifndef HB_RECORD_VALUE_H
#define HB_RECORD_VALUE_H

#include <stddef.h>

#include <jansson.h>

#include "record_field.h"
#include "util.h"

/*
 * The string v (known to be a string) as a value of field f; long text at
 * most max_bytes bytes. The message names no field ("\"x@\" is not an
 * email address (...)"): the caller puts the path in front.
 */
int		 record_value_check(const json_t *v,
		    const struct record_field *f, size_t max_bytes,
		    struct err *e);

/*
 * "; did you mean \"bsl\"?" when s is close to one of words (case,
 * spaces for hyphens, a letter or two wrong), else "". Into buf.
 */
const char	*record_value_suggest(char *buf, size_t len, const char *s,
		    const char *const *words);
/* Edit distance of two short strings, a swap of two neighbours counting
 * as one edit (at most 63 bytes each; else 99). */
int		 record_value_distance(const char *, const char *);
/* "a, b, c" of a NULL-terminated list, into buf. */
const char	*record_value_words(char *buf, size_t len,
		    const char *const *words);
/* A communication need: bsl-video, braille, audio, phone-call,
 * interpreter:LANG (a BCP 47 tag). 1 if valid. */
int		 record_value_comm_valid(const char *s);
/* A telephone number: 1 if it reads as one. */
int		 record_value_phone_valid(const char *s);

#endif

/*
 * record_text.h: the rules for text people read in a record: a name, a
 * title, one line, a few lines, long text (daemon/record_text.c). Internal
 * to the record checks (record_value.c calls it); everything else uses
 * record.h.
 *
 * Pure: no I/O, no global state; any thread.
 */
#ifndef HB_RECORD_TEXT_H
#define HB_RECORD_TEXT_H

#include <stddef.h>

#include "util.h"

enum record_text_class {
	RECORD_TEXT_HEADER,	/* one line, no tabs; goes into a header */
	RECORD_TEXT_LINE,	/* one line, no tabs */
	RECORD_TEXT_LINES,	/* \n allowed */
	RECORD_TEXT_TEXT	/* \n and \t allowed */
};

/*
 * s (len bytes, valid UTF-8) as text of class cls: no control characters
 * (C0, DEL, C1), line breaks only where the class allows, not empty or
 * blank, at most maxchars characters (0: no limit); in a header, no hidden
 * characters (direction controls, invisible ones) and no RFC 2047 encoded
 * word. The message names no field; what names the header field, for
 * "not allowed in a subject". e may be NULL.
 */
int	record_text_check(const char *s, size_t len, enum record_text_class cls,
	    size_t maxchars, const char *what, struct err *e);

#endif

/*
 * record_form.h: the fields of each record type and the rules between them
 * (daemon/record_form.c). Internal to record.c; everything else uses
 * record.h.
 *
 * Pure: no I/O, no global state; any thread.
 */
#ifndef HB_RECORD_FORM_H
#define HB_RECORD_FORM_H

#include <stddef.h>

#include <jansson.h>

#include "record.h"
#include "util.h"

/*
 * Check obj, whose "type" is t, against the form of t: its fields (see
 * record_field_check; long text at most max_bytes bytes), then the rules
 * between them (end after start, a reason when not possible...). The first
 * problem found is the one reported. partial: a merge patch, whose fields
 * are checked but none required, and no rule between them (they hold for
 * the merged whole). errs (may be NULL): every field problem goes there
 * (see record_field_check); the rules are checked only when the fields
 * are right.
 */
int	record_form_check(json_t *obj, enum record_type t, size_t max_bytes,
	    int partial, json_t *errs, struct err *e);

#endif

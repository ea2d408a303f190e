/*
 * record_fixture.h: what the planner tests share: records and JSON written
 * with single quotes in C literals ('x' for "x"), parsed as the daemon
 * does. The includer defines `opts` (struct record_opts) first.
 */
#ifndef HB_RECORD_FIXTURE_H
#define HB_RECORD_FIXTURE_H

#include <string.h>

#include <jansson.h>

#include "record.h"
#include "util.h"

/* s with every ' turned into " (the caller frees it). */
static char *
J(const char *s)
{
	char	*t = xstrdup(s), *p;

	for (p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static json_t *
JSON(const char *s)
{
	char		*t = J(s);
	json_error_t	 je;
	json_t		*j;

	if ((j = json_loads(t, 0, &je)) == NULL)
		fail_msg("bad test JSON: %s: %s", je.text, t);
	free(t);
	return j;
}

static void
rec(const char *json, struct record *r)
{
	char		*t = J(json);
	struct err	 e;

	memset(&e, 0, sizeof e);
	if (record_parse(t, strlen(t), &opts, r, &e) != 0)
		fail_msg("record_parse: %s\nfor %s", e.msg, t);
	free(t);
}

#endif

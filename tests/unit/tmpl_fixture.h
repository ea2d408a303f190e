/*
 * tmpl_fixture.h: what the template tests share: the real template set
 * (config/templates, tests run from the repository root) as cmocka group
 * state, and JSON contexts from literals.
 */
#ifndef HB_TMPL_FIXTURE_H
#define HB_TMPL_FIXTURE_H

#include <stdio.h>

#include <jansson.h>

#include "tmpl.h"
#include "util.h"

static int
tmpl_fixture_setup(void **state)
{
	struct err	 e;
	struct tmplset	*s;

	if ((s = tmplset_load("config/templates", &e)) == NULL) {
		fprintf(stderr, "config/templates: %s\n", e.msg);
		return -1;
	}
	*state = s;
	return 0;
}

static int
tmpl_fixture_teardown(void **state)
{
	tmplset_unref(*state);
	return 0;
}

/* A context from a JSON literal; the test fails on bad JSON. */
static inline json_t *
tmpl_fixture_json(const char *text)
{
	json_error_t	 je;
	json_t		*j = json_loads(text, 0, &je);

	if (j == NULL)
		fail_msg("test JSON: %s", je.text);
	return j;
}

/*
 * The text part with its wrapping undone (render.c wraps at 72): a line
 * break and the indent after it become one space; blank lines stay. Free
 * it.
 */
static inline char *
tmpl_fixture_flat(const char *text)
{
	char	*out = xstrdup(text), *w = out;
	const char *p;

	for (p = text; *p != '\0'; p++) {
		if (*p == '\n' && p[1] != '\n' && p[1] != '\0' &&
		    (p == text || p[-1] != '\n')) {
			*w++ = ' ';
			while (p[1] == ' ')
				p++;
		} else
			*w++ = *p;
	}
	*w = '\0';
	return out;
}

#endif

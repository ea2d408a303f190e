/*
 * render.h: one email's words (subject, text part, HTML part) from the
 * template set, for a kind ("announcement", "notice", ...) and a format.
 *
 * Any thread; reads only the (immutable) template set and the context.
 */
#ifndef HB_RENDER_H
#define HB_RENDER_H

#include <jansson.h>

#include "util.h"

struct tmplset;

struct rendered {
	char	*subject;	/* one line, trimmed, no CR/LF */
	char	*text;		/* LF line ends, exactly one final newline */
	char	*html;		/* NULL for format plain-text */
	char	*calendar;	/* the calendar description, or NULL */
};

/*
 * Render <kind>.<format>.subject, .txt and (unless format is plain-text)
 * .html, each falling back to the standard format, with ctx as the context.
 * On error nothing is left in out (it is cleared) and e says which template
 * and line.
 */
int	render_email(const struct tmplset *, const char *kind,
	    const char *format, json_t *ctx, struct rendered *out,
	    struct err *e);
/* Free the strings and set them to NULL; safe on a zeroed struct. */
void	rendered_clear(struct rendered *);

#endif

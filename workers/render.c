/*
 * render.c: turns a template set, a kind, a format and a context into the
 * words of one email: a one-line subject, a text part and (except for the
 * plain-text format) an HTML part.
 *
 * It also tidies what templates leave behind: line ends become LF; in the
 * text part, lines of only blanks become empty, runs of empty lines shrink to
 * one and the part ends with exactly one newline. Lines of the text part
 * are wrapped at RENDER_WRAP characters at spaces, a list item's lines
 * indented under its text; a word longer than that (a URL) is never
 * broken, it gets a line of its own.
 *
 * When the context has "calendar", the _calendar partial's text (in the
 * format) becomes the calendar description: view_calendar puts it in the
 * calendar part, so its words are the templates', like the email's.
 *
 * Threads: any thread; reads only the immutable template set and the context
 * it is given, and writes only `out`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define RENDER_WRAP	72
#include "tmpl.h"
#include "util.h"

/* CRLF and lone CR become LF. In place. */
static void
render_lf(char *s)
{
	char	*w = s;

	for (; *s != '\0'; s++) {
		if (*s == '\r') {
			*w++ = '\n';
			if (s[1] == '\n')
				s++;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

/*
 * The text part: blank-only lines emptied, at most one empty line in a row,
 * none at the start or the end, and exactly one final newline.
 */
static char *
render_tidy_text(const char *s)
{
	struct buf	 b;
	const char	*line, *eol, *p;
	int		 empties = 0, any = 0;

	buf_init(&b);
	for (line = s; *line != '\0'; line = *eol ? eol + 1 : eol) {
		if ((eol = strchr(line, '\n')) == NULL)
			eol = line + strlen(line);
		for (p = line; p < eol && (*p == ' ' || *p == '\t'); p++)
			;
		if (p == eol) {		/* empty or only blanks */
			empties++;
			continue;
		}
		if (any && empties > 0)
			buf_addc(&b, '\n');
		empties = 0;
		any = 1;
		buf_add(&b, line, eol - line);
		buf_addc(&b, '\n');
	}
	if (!any)
		buf_addc(&b, '\n');
	return buf_take(&b);
}

/* Characters (not bytes) in s[0..n). */
static size_t
render_width(const char *s, size_t n)
{
	size_t	i, w = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* How far a line's hanging indent goes: blanks, then "- ", "* ", "1. ". */
static size_t
render_hang(const char *line, size_t n)
{
	size_t	i = 0, j;

	while (i < n && line[i] == ' ')
		i++;
	if (i + 1 < n && (line[i] == '-' || line[i] == '*') &&
	    line[i + 1] == ' ')
		return i + 2;
	for (j = i; j < n && line[j] >= '0' && line[j] <= '9'; j++)
		;
	if (j > i && j + 1 < n && (line[j] == '.' || line[j] == ')') &&
	    line[j + 1] == ' ')
		return j + 2;
	return i;
}

/* One line, wrapped at spaces into b; long words stay whole. */
static void
render_wrap_line(struct buf *b, const char *line, size_t n)
{
	size_t	hang, col, wl, i = 0, start;
	int	first = 1;

	if (render_width(line, n) <= RENDER_WRAP ||
	    (n == 3 && strncmp(line, "-- ", 3) == 0)) {
		buf_add(b, line, n);
		buf_addc(b, '\n');
		return;
	}
	hang = render_hang(line, n);
	if (hang > RENDER_WRAP / 2)
		hang = 0;
	buf_add(b, line, hang);
	col = hang;
	i = hang;
	while (i < n) {
		while (i < n && line[i] == ' ')
			i++;
		if (i == n)
			break;
		for (start = i; i < n && line[i] != ' '; i++)
			;
		wl = render_width(line + start, i - start);
		if (!first && col + 1 + wl > RENDER_WRAP) {
			buf_addc(b, '\n');
			for (col = 0; col < hang; col++)
				buf_addc(b, ' ');
			first = 1;
		}
		if (!first) {
			buf_addc(b, ' ');
			col++;
		}
		buf_add(b, line + start, i - start);
		col += wl;
		first = 0;
	}
	buf_addc(b, '\n');
}

static char *
render_wrap(const char *s)
{
	struct buf	 b;
	const char	*line, *eol;

	buf_init(&b);
	for (line = s; *line != '\0'; line = *eol ? eol + 1 : eol) {
		if ((eol = strchr(line, '\n')) == NULL)
			eol = line + strlen(line);
		render_wrap_line(&b, line, eol - line);
	}
	return buf_take(&b);
}

/* HTML: trailing white space replaced by exactly one newline. */
static char *
render_tidy_html(const char *s)
{
	size_t	len = strlen(s);

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' ||
	    s[len - 1] == '\t'))
		len--;
	return xasprintf("%.*s\n", (int)len, s);
}

static int
render_subject(const char *s, char **out, const char *name, struct err *e)
{
	const char	*end;
	size_t		 i;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (end == s)
		return err_set(e, "%s: the subject is empty", name);
	for (i = 0; s + i < end; i++) {
		unsigned char c = s[i];

		if (c == '\r' || c == '\n')
			return err_set(e, "%s: the subject is more than one "
			    "line", name);
		if (c < 0x20 && c != '\t')
			return err_set(e, "%s: the subject holds control "
			    "character 0x%02x", name, c);
	}
	*out = xstrndup(s, end - s);
	return 0;
}

int
render_email(const struct tmplset *set, const char *kind, const char *format,
    json_t *ctx, struct rendered *out, struct err *e)
{
	struct buf	b;
	char		name[256], *tidy;

	memset(out, 0, sizeof *out);
	buf_init(&b);
	if (!tmplset_format_valid(format)) {
		err_set(e, "unknown format \"%s\"", format);
		goto err;
	}

	if (tmplset_render(set, kind, format, "subject", ctx, &b, e) == -1)
		goto err;
	snprintf(name, sizeof name, "%s",
	    tmpl_name(tmplset_get(set, kind, format, "subject")));
	if (render_subject(b.s, &out->subject, name, e) == -1)
		goto err;
	buf_free(&b);

	if (tmplset_render(set, kind, format, "txt", ctx, &b, e) == -1)
		goto err;
	render_lf(b.s);
	tidy = render_tidy_text(b.s);
	out->text = render_wrap(tidy);
	free(tidy);
	buf_free(&b);

	if (json_is_true(json_object_get(ctx, "calendar")) &&
	    tmplset_get(set, "_calendar", format, "txt") != NULL) {
		if (tmplset_render(set, "_calendar", format, "txt", ctx, &b,
		    e) == -1)
			goto err;
		render_lf(b.s);
		out->calendar = render_tidy_text(b.s);
		buf_free(&b);
	}

	if (strcmp(format, "plain-text") != 0) {
		if (tmplset_render(set, kind, format, "html", ctx, &b, e) == -1)
			goto err;
		render_lf(b.s);
		out->html = render_tidy_html(b.s);
		buf_free(&b);
	}
	return 0;

err:
	buf_free(&b);
	rendered_clear(out);
	return -1;
}

void
rendered_clear(struct rendered *r)
{
	free(r->subject);
	free(r->text);
	free(r->html);
	free(r->calendar);
	r->subject = r->text = r->html = r->calendar = NULL;
}

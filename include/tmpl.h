/*
 * tmpl.h: a small logic-less (mustache subset) template engine over jansson
 * values (workers/tmpl.c), and the set of templates of one directory
 * (workers/tmplset.c).
 *
 * A struct tmpl is compiled once and is immutable afterwards: any number of
 * threads may render the same tmpl at the same time. A struct tmplset is
 * loaded by the main thread (at start and on SIGHUP); jobs carry a reference
 * to it into worker threads, which only read it. The last tmplset_unref()
 * may happen in any thread.
 *
 * Supported tags: {{name}} {{a.b}} {{.}} {{{raw}}} {{&raw}} {{#section}}
 * {{^inverted}} {{/section}} {{! comment}} {{> partial}}. No set-delimiter,
 * no lambdas. Standalone section/comment/partial lines vanish entirely.
 */
#ifndef HB_TMPL_H
#define HB_TMPL_H

#include <jansson.h>

#include "util.h"

struct tmpl;
struct tmplset;

/* Find partial `name` (as written after '>'); NULL when there is none. */
typedef const struct tmpl *tmpl_partial_fn(void *arg, const char *name);

/*
 * Compile text. `name` is used in messages ("invitation.standard.html: line
 * 12: unclosed section \"venue\""). html: 1 to HTML-escape {{x}} (& < > " '),
 * 0 for text mode where every tag prints raw. NULL with e set on error.
 */
struct tmpl	*tmpl_compile(const char *name, const char *text, int html,
		    struct err *e);
void		 tmpl_free(struct tmpl *);
const char	*tmpl_name(const struct tmpl *);
int		 tmpl_is_html(const struct tmpl *);

/*
 * Render with ctx as the bottom of the context stack, appending to out.
 * Partials are looked up through lookup(arg, name); a missing partial is an
 * error. lookup may be NULL when the template uses no partials.
 */
int		 tmpl_render(const struct tmpl *, json_t *ctx,
		    tmpl_partial_fn *lookup, void *arg, struct buf *out,
		    struct err *e);

/* Check that every {{> partial}} in the template resolves through lookup. */
int		 tmpl_check_partials(const struct tmpl *, tmpl_partial_fn *lookup,
		    void *arg, struct err *e);

/* 1 if c may appear in a tag name (and so in a template kind): a letter, a
 * digit, '_' or '-'. */
int		 tmpl_namechar(int c);

/*
 * The set (workers/tmplset.c): every file "<kind>.<format>.<part>" of a
 * directory, where format is standard | easy-read | large-print |
 * plain-text and part is subject (text mode, one line), txt (text mode) or
 * html (HTML mode). Partials are "_<name>.<format>.<part>". Other files are
 * ignored (with a debug log).
 *
 * tmplset_load fails (NULL, e set) on any compile error, an unknown format
 * in a file name, a partial that does not resolve, or a kind that lacks its
 * standard subject, txt or html: so a SIGHUP reload with a broken template
 * keeps the old set. The new set has one reference.
 */
struct tmplset	*tmplset_load(const char *dir, struct err *e);
/* The operator's dir over the shipped one: a file in dir replaces the
 * shipped file of the same name; either may be missing (not both).
 * shipped NULL or "": dir alone, as tmplset_load. */
struct tmplset	*tmplset_load_over(const char *dir, const char *shipped,
		    struct err *e);
struct tmplset	*tmplset_ref(struct tmplset *);
void		 tmplset_unref(struct tmplset *);
/* Number of templates loaded (partials included). */
size_t		 tmplset_count(const struct tmplset *);

/* 1 if s is one of the four format names. */
int		 tmplset_format_valid(const char *s);

/*
 * The template for kind (or "_name" for a partial), format and part; falls
 * back to the "standard" format. NULL if neither exists.
 */
const struct tmpl *tmplset_get(const struct tmplset *, const char *kind,
		    const char *format, const char *part);

/*
 * Render tmplset_get(kind, format, part) with partials resolved in the same
 * format (with the same fallback) and part. err if there is no template.
 */
int		 tmplset_render(const struct tmplset *, const char *kind,
		    const char *format, const char *part, json_t *ctx,
		    struct buf *out, struct err *e);

#endif

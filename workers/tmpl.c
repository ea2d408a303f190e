/*
 * tmpl.c: a logic-less template engine (a subset of mustache) over jansson
 * values: one template compiled into a node tree, and its rendering. The
 * set of templates loaded from one directory is tmplset.c's.
 *
 * Why our own: Debian 12 packages no C mustache library, and the subset we
 * need (variables, dotted names, sections, inverted sections, comments,
 * partials, standalone-line removal, HTML escaping chosen by the template's
 * mode) is a few hundred lines. Templates are compiled once into a node tree
 * so that a worker renders without parsing.
 *
 * Threads: tmpl_compile runs in the main thread (start-up and SIGHUP, from
 * tmplset_load). A compiled tmpl is never written again, so any thread may
 * render from it at the same time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"
#include "util.h"

#define TMPL_MAX_NEST		32		/* sections open at once, per template */
#define TMPL_MAX_STACK		64		/* context stack while rendering */
#define TMPL_MAX_PARTIALS	16		/* partial inside partial ... */
#define TMPL_MAX_OUTPUT		(4 * 1024 * 1024)
#define TMPL_MAX_VISITS		(1000 * 1000)	/* nodes rendered per call */

enum tnode_type {
	TN_TEXT,
	TN_VAR,
	TN_SECTION,
	TN_INVERTED,
	TN_PARTIAL
};

struct tnode;

struct tnodes {
	struct tnode	*v;
	size_t		 n;
	size_t		 cap;
};

struct tnode {
	enum tnode_type	 type;
	int		 raw;		/* TN_VAR: never escape */
	int		 line;
	char		*str;		/* TN_TEXT: the bytes; else the name */
	size_t		 len;		/* TN_TEXT: length of str */
	char		**path;		/* name split at '.'; npath 0 is "." */
	int		 npath;
	struct tnodes	 kids;		/* TN_SECTION, TN_INVERTED */
};

struct tmpl {
	char		*name;
	int		 html;
	struct tnodes	 top;
};

/* Rendering state: one per tmpl_render call, on the caller's stack. */
struct rstate {
	json_t		*stack[TMPL_MAX_STACK];
	int		 depth;
	int		 partials;
	tmpl_partial_fn	*lookup;
	void		*arg;
	struct buf	*out;
	size_t		 start;
	struct err	*e;
	long		 visits;	/* nested sections multiply: bounded */
};

/*
 * Compiling.
 */

static struct tnode *
tmpl_add(struct tnodes *l, enum tnode_type type, int line)
{
	struct tnode	*n;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	n = &l->v[l->n++];
	memset(n, 0, sizeof *n);
	n->type = type;
	n->line = line;
	return n;
}

static void
tmpl_free_nodes(struct tnodes *l)
{
	size_t	i;
	int	j;

	for (i = 0; i < l->n; i++) {
		struct tnode *n = &l->v[i];

		free(n->str);
		for (j = 0; j < n->npath; j++)
			free(n->path[j]);
		free(n->path);
		tmpl_free_nodes(&n->kids);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int
tmpl_lineof(const char *text, const char *p)
{
	int	line = 1;

	for (; text < p; text++)
		if (*text == '\n')
			line++;
	return line;
}

int
tmpl_namechar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Split a tag name at dots into n->path; "." is the current item. */
static int
tmpl_setname(struct tnode *n, const char *s, size_t len, int dots)
{
	const char	*p, *end = s + len, *q;
	size_t		 i;

	n->str = xstrndup(s, len);
	if (len == 0)
		return -1;
	if (len == 1 && s[0] == '.')
		return dots ? 0 : -1;
	for (i = 0; i < len; i++) {
		if (s[i] == '.' && dots)
			continue;
		if (!tmpl_namechar((unsigned char)s[i]))
			return -1;
	}
	for (p = s; p <= end; p = q + 1) {
		for (q = p; q < end && *q != '.'; q++)
			;
		if (q == p)
			return -1;	/* empty component: "a..b", ".a", "a." */
		n->path = xrealloc(n->path, (n->npath + 1) * sizeof *n->path);
		n->path[n->npath++] = xstrndup(p, q - p);
	}
	return 0;
}

/*
 * What the compiler knows while it reads one template: the list that new
 * nodes go to is stack[depth].list, the top level's or the innermost open
 * section's (stack[depth].sect).
 */
struct compiler {
	const char	*name;		/* for messages */
	const char	*text;		/* the whole template */
	struct {
		struct tnodes	*list;
		struct tnode	*sect;
	}		 stack[TMPL_MAX_NEST + 1];
	int		 depth;		/* sections open */
};

/*
 * One tag, as read from the text. sigil is one of # ^ / ! > & = {, or 0
 * for a variable; inner to innerend is its name, blanks trimmed; the text
 * before the tag ends at textend, the text after it starts at next.
 */
struct tag {
	int		 line;
	char		 sigil;
	const char	*inner;
	const char	*innerend;
	const char	*textend;
	const char	*next;
};

/* Read the tag that opens at open ("{{"): its sigil, its name, its end. */
static int
tmpl_read_tag(const struct compiler *c, const char *open, struct tag *tag,
    struct err *e)
{
	const char	*close;

	memset(tag, 0, sizeof *tag);
	tag->line = tmpl_lineof(c->text, open);
	tag->sigil = open[2];
	if (tag->sigil == '{') {
		if ((close = strstr(open + 3, "}}}")) == NULL)
			return err_set(e, "%s: line %d: unclosed tag \"{{{\"",
			    c->name, tag->line);
		tag->inner = open + 3;
		tag->next = close + 3;
	} else {
		if ((close = strstr(open + 2, "}}")) == NULL)
			return err_set(e, "%s: line %d: unclosed tag \"{{\"",
			    c->name, tag->line);
		tag->inner = open + 2;
		if (tag->sigil != '\0' && strchr("#^/!>&=", tag->sigil) != NULL)
			tag->inner++;
		else
			tag->sigil = 0;
		tag->next = close + 2;
	}
	tag->innerend = close;
	while (tag->inner < tag->innerend &&
	    (*tag->inner == ' ' || *tag->inner == '\t'))
		tag->inner++;
	while (tag->innerend > tag->inner &&
	    (tag->innerend[-1] == ' ' || tag->innerend[-1] == '\t'))
		tag->innerend--;
	tag->textend = open;
	return 0;
}

/*
 * A standalone tag (a section, comment or partial tag alone on its line,
 * blanks aside) takes its whole line with it: the text before it ends at
 * the start of the line, the text after it starts on the next line.
 */
static void
tmpl_standalone(const struct compiler *c, const char *textstart,
    struct tag *tag)
{
	const char	*ls, *le;

	if (tag->sigil == 0 || strchr("#^/!>", tag->sigil) == NULL)
		return;
	ls = tag->textend;
	while (ls > textstart && (ls[-1] == ' ' || ls[-1] == '\t'))
		ls--;
	le = tag->next;
	while (*le == ' ' || *le == '\t')
		le++;
	if ((ls == c->text || ls[-1] == '\n') &&
	    (*le == '\n' || *le == '\0' || (le[0] == '\r' && le[1] == '\n'))) {
		tag->textend = ls;
		if (*le == '\r')
			le++;
		if (*le == '\n')
			le++;
		tag->next = le;
	}
}

/* Literal text (nothing when len is 0). */
static void
tmpl_add_text(struct tnodes *l, const char *s, size_t len)
{
	struct tnode	*n;

	if (len == 0)
		return;
	n = tmpl_add(l, TN_TEXT, 0);
	n->str = xstrndup(s, len);
	n->len = len;
}

static int
tmpl_badname(const struct compiler *c, const struct tnode *n, struct err *e)
{
	return err_set(e, "%s: line %d: bad tag name \"%s\"", c->name, n->line,
	    n->str);
}

/* {{#name}} or {{^name}}: a node whose kids the next tags fill. */
static int
tmpl_open_section(struct compiler *c, const struct tag *tag, struct err *e)
{
	struct tnode	*n;

	if (c->depth == TMPL_MAX_NEST)
		return err_set(e, "%s: line %d: sections nested more than %d "
		    "deep", c->name, tag->line, TMPL_MAX_NEST);
	n = tmpl_add(c->stack[c->depth].list,
	    tag->sigil == '#' ? TN_SECTION : TN_INVERTED, tag->line);
	if (tmpl_setname(n, tag->inner, tag->innerend - tag->inner, 1) == -1)
		return tmpl_badname(c, n, e);
	c->depth++;
	c->stack[c->depth].list = &n->kids;
	c->stack[c->depth].sect = n;
	return 0;
}

/* {{/name}}: closes the innermost open section, of the same name. */
static int
tmpl_close_section(struct compiler *c, const struct tag *tag, struct err *e)
{
	const struct tnode	*n;
	int			 len = (int)(tag->innerend - tag->inner);

	if (c->depth == 0)
		return err_set(e, "%s: line %d: \"{{/%.*s}}\" closes no open "
		    "section", c->name, tag->line, len, tag->inner);
	n = c->stack[c->depth].sect;
	if (strlen(n->str) != (size_t)len ||
	    strncmp(n->str, tag->inner, len) != 0)
		return err_set(e, "%s: line %d: section \"%s\" (opened on line "
		    "%d) closed by \"%.*s\"", c->name, tag->line, n->str,
		    n->line, len, tag->inner);
	c->depth--;
	return 0;
}

/* What one tag adds to the innermost open list (a comment: nothing). */
static int
tmpl_add_tag(struct compiler *c, const struct tag *tag, struct err *e)
{
	struct tnodes	*l = c->stack[c->depth].list;
	struct tnode	*n;
	size_t		 len = tag->innerend - tag->inner;

	switch (tag->sigil) {
	case '!':
		return 0;
	case '=':
		return err_set(e, "%s: line %d: changing delimiters is not "
		    "supported", c->name, tag->line);
	case '#':
	case '^':
		return tmpl_open_section(c, tag, e);
	case '/':
		return tmpl_close_section(c, tag, e);
	case '>':
		n = tmpl_add(l, TN_PARTIAL, tag->line);
		if (tmpl_setname(n, tag->inner, len, 0) == -1)
			return tmpl_badname(c, n, e);
		return 0;
	default:	/* variable: sigil 0, '&' or '{' */
		n = tmpl_add(l, TN_VAR, tag->line);
		n->raw = tag->sigil == '&' || tag->sigil == '{';
		if (tmpl_setname(n, tag->inner, len, 1) == -1)
			return tmpl_badname(c, n, e);
		return 0;
	}
}

struct tmpl *
tmpl_compile(const char *name, const char *text, int html, struct err *e)
{
	struct tmpl		*t;
	struct compiler		 c;
	struct tag		 tag;
	const char		*open, *textstart;
	const struct tnode	*n;

	t = xcalloc(1, sizeof *t);
	t->name = xstrdup(name);
	t->html = html ? 1 : 0;
	memset(&c, 0, sizeof c);
	c.name = name;
	c.text = text;
	c.stack[0].list = &t->top;

	textstart = text;
	while ((open = strstr(textstart, "{{")) != NULL) {
		if (tmpl_read_tag(&c, open, &tag, e) == -1)
			goto err;
		tmpl_standalone(&c, textstart, &tag);
		tmpl_add_text(c.stack[c.depth].list, textstart,
		    tag.textend - textstart);
		if (tmpl_add_tag(&c, &tag, e) == -1)
			goto err;
		textstart = tag.next;
	}
	tmpl_add_text(c.stack[c.depth].list, textstart, strlen(textstart));
	if (c.depth > 0) {
		n = c.stack[c.depth].sect;
		err_set(e, "%s: line %d: unclosed section \"%s\"", name,
		    n->line, n->str);
		goto err;
	}
	return t;

err:
	tmpl_free(t);
	return NULL;
}

void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	tmpl_free_nodes(&t->top);
	free(t->name);
	free(t);
}

const char *
tmpl_name(const struct tmpl *t)
{
	return t->name;
}

int
tmpl_is_html(const struct tmpl *t)
{
	return t->html;
}

/*
 * Rendering.
 */

static json_t *
tmpl_lookup(struct rstate *rs, const struct tnode *n)
{
	json_t	*v = NULL;
	int	 i;

	if (n->npath == 0)
		return rs->depth > 0 ? rs->stack[rs->depth - 1] : NULL;
	for (i = rs->depth - 1; i >= 0; i--) {
		if (json_is_object(rs->stack[i]) &&
		    (v = json_object_get(rs->stack[i], n->path[0])) != NULL)
			break;
	}
	for (i = 1; v != NULL && i < n->npath; i++)
		v = json_is_object(v) ? json_object_get(v, n->path[i]) : NULL;
	return v;
}

static int
tmpl_truthy(json_t *v)
{
	if (v == NULL)
		return 0;
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_FALSE:
		return 0;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0.0;
	default:
		return 1;
	}
}

static void
tmpl_escape(struct buf *out, const char *s, size_t len)
{
	const char	*run = s, *end = s + len;

	for (; s < end; s++) {
		const char *rep;

		switch (*s) {
		case '&':	rep = "&amp;"; break;
		case '<':	rep = "&lt;"; break;
		case '>':	rep = "&gt;"; break;
		case '"':	rep = "&quot;"; break;
		case '\'':	rep = "&#39;"; break;
		default:	continue;
		}
		buf_add(out, run, s - run);
		buf_adds(out, rep);
		run = s + 1;
	}
	buf_add(out, run, end - run);
}

static void
tmpl_value(struct buf *out, json_t *v, int escape)
{
	char	 num[64];
	const char *s = NULL;
	size_t	 len = 0;

	if (v == NULL)
		return;
	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		len = json_string_length(v);
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		s = num;
		break;
	case JSON_REAL:
		snprintf(num, sizeof num, "%.15g", json_real_value(v));
		s = num;
		break;
	case JSON_TRUE:
		s = "true";
		break;
	case JSON_FALSE:
		s = "false";
		break;
	default:	/* null, object, array: nothing */
		return;
	}
	if (len == 0)
		len = strlen(s);
	if (escape)
		tmpl_escape(out, s, len);
	else
		buf_add(out, s, len);
}

static int tmpl_render_nodes(struct rstate *, const struct tmpl *,
    const struct tnodes *);

static int
tmpl_push(struct rstate *rs, const struct tmpl *t, const struct tnode *n,
    json_t *v)
{
	if (rs->depth == TMPL_MAX_STACK)
		return err_set(rs->e, "%s: line %d: context deeper than %d",
		    t->name, n->line, TMPL_MAX_STACK);
	rs->stack[rs->depth++] = v;
	return 0;
}

static int
tmpl_section(struct rstate *rs, const struct tmpl *t, const struct tnode *n)
{
	json_t	*v = tmpl_lookup(rs, n);
	size_t	 i;
	int	 rc;

	if (n->type == TN_INVERTED) {
		if (tmpl_truthy(v))
			return 0;
		return tmpl_render_nodes(rs, t, &n->kids);
	}
	if (!tmpl_truthy(v))
		return 0;
	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			if (tmpl_push(rs, t, n, json_array_get(v, i)) == -1)
				return -1;
			rc = tmpl_render_nodes(rs, t, &n->kids);
			rs->depth--;
			if (rc == -1)
				return -1;
		}
		return 0;
	}
	if (tmpl_push(rs, t, n, v) == -1)
		return -1;
	rc = tmpl_render_nodes(rs, t, &n->kids);
	rs->depth--;
	return rc;
}

static int
tmpl_partial(struct rstate *rs, const struct tmpl *t, const struct tnode *n)
{
	const struct tmpl *p = NULL;
	int		 rc;

	if (rs->lookup != NULL)
		p = rs->lookup(rs->arg, n->str);
	if (p == NULL)
		return err_set(rs->e, "%s: line %d: no partial \"%s\"",
		    t->name, n->line, n->str);
	if (rs->partials == TMPL_MAX_PARTIALS)
		return err_set(rs->e, "%s: line %d: partials nested more than "
		    "%d deep (a partial including itself?)", t->name, n->line,
		    TMPL_MAX_PARTIALS);
	rs->partials++;
	rc = tmpl_render_nodes(rs, p, &p->top);
	rs->partials--;
	return rc;
}

static int
tmpl_render_nodes(struct rstate *rs, const struct tmpl *t,
    const struct tnodes *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		const struct tnode *n = &l->v[i];

		if (++rs->visits > TMPL_MAX_VISITS)
			return err_set(rs->e, "%s: line %d: too much work "
			    "(sections nested over long lists?)", t->name,
			    n->line);
		switch (n->type) {
		case TN_TEXT:
			buf_add(rs->out, n->str, n->len);
			break;
		case TN_VAR:
			tmpl_value(rs->out, tmpl_lookup(rs, n),
			    t->html && !n->raw);
			break;
		case TN_SECTION:
		case TN_INVERTED:
			if (tmpl_section(rs, t, n) == -1)
				return -1;
			break;
		case TN_PARTIAL:
			if (tmpl_partial(rs, t, n) == -1)
				return -1;
			break;
		}
		if (rs->out->len - rs->start > TMPL_MAX_OUTPUT)
			return err_set(rs->e, "%s: output larger than %d bytes",
			    t->name, TMPL_MAX_OUTPUT);
	}
	return 0;
}

int
tmpl_render(const struct tmpl *t, json_t *ctx, tmpl_partial_fn *lookup,
    void *arg, struct buf *out, struct err *e)
{
	struct rstate	rs;

	memset(&rs, 0, sizeof rs);
	rs.lookup = lookup;
	rs.arg = arg;
	rs.out = out;
	rs.start = out->len;
	rs.e = e;
	if (ctx != NULL)
		rs.stack[rs.depth++] = ctx;
	/* Make sure out->s is a string even when nothing is rendered. */
	buf_add(out, "", 0);
	return tmpl_render_nodes(&rs, t, &t->top);
}

static int
tmpl_check_nodes(const struct tmpl *t, const struct tnodes *l,
    tmpl_partial_fn *lookup, void *arg, struct err *e)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		const struct tnode *n = &l->v[i];

		if (n->type == TN_PARTIAL &&
		    (lookup == NULL || lookup(arg, n->str) == NULL))
			return err_set(e, "%s: line %d: no partial \"%s\"",
			    t->name, n->line, n->str);
		if (tmpl_check_nodes(t, &n->kids, lookup, arg, e) == -1)
			return -1;
	}
	return 0;
}

int
tmpl_check_partials(const struct tmpl *t, tmpl_partial_fn *lookup, void *arg,
    struct err *e)
{
	return tmpl_check_nodes(t, &t->top, lookup, arg, e);
}

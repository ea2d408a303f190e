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

struct tmpl *
tmpl_compile(const char *name, const char *text, int html, struct err *e)
{
	struct tmpl	*t;
	struct {
		struct tnodes	*list;
		struct tnode	*sect;
	}		 stack[TMPL_MAX_NEST + 1];
	int		 depth = 0, line;
	const char	*p, *open, *close, *inner, *innerend, *ls, *le;
	const char	*textstart, *textend, *next;
	struct tnode	*n;
	char		 sigil;

	t = xcalloc(1, sizeof *t);
	t->name = xstrdup(name);
	t->html = html ? 1 : 0;
	stack[0].list = &t->top;
	stack[0].sect = NULL;

	p = textstart = text;
	while ((open = strstr(p, "{{")) != NULL) {
		line = tmpl_lineof(text, open);
		sigil = open[2];
		if (sigil == '{') {
			if ((close = strstr(open + 3, "}}}")) == NULL) {
				err_set(e, "%s: line %d: unclosed tag \"{{{\"",
				    name, line);
				goto err;
			}
			inner = open + 3;
			next = close + 3;
		} else {
			if ((close = strstr(open + 2, "}}")) == NULL) {
				err_set(e, "%s: line %d: unclosed tag \"{{\"",
				    name, line);
				goto err;
			}
			inner = open + 2;
			if (sigil != '\0' && strchr("#^/!>&=", sigil) != NULL)
				inner++;
			else
				sigil = 0;
			next = close + 2;
		}
		innerend = close;
		while (inner < innerend && (*inner == ' ' || *inner == '\t'))
			inner++;
		while (innerend > inner &&
		    (innerend[-1] == ' ' || innerend[-1] == '\t'))
			innerend--;

		/* A standalone tag takes its whole line with it. */
		textend = open;
		if (sigil != 0 && strchr("#^/!>", sigil) != NULL) {
			ls = open;
			while (ls > textstart && (ls[-1] == ' ' || ls[-1] == '\t'))
				ls--;
			le = next;
			while (*le == ' ' || *le == '\t')
				le++;
			if ((ls == text || ls[-1] == '\n') &&
			    (*le == '\n' || *le == '\0' ||
			    (le[0] == '\r' && le[1] == '\n'))) {
				textend = ls;
				if (*le == '\r')
					le++;
				if (*le == '\n')
					le++;
				next = le;
			}
		}
		if (textend > textstart) {
			n = tmpl_add(stack[depth].list, TN_TEXT, 0);
			n->str = xstrndup(textstart, textend - textstart);
			n->len = textend - textstart;
		}

		switch (sigil) {
		case '!':
			break;
		case '=':
			err_set(e, "%s: line %d: changing delimiters is not "
			    "supported", name, line);
			goto err;
		case '#':
		case '^':
			if (depth == TMPL_MAX_NEST) {
				err_set(e, "%s: line %d: sections nested more "
				    "than %d deep", name, line, TMPL_MAX_NEST);
				goto err;
			}
			n = tmpl_add(stack[depth].list,
			    sigil == '#' ? TN_SECTION : TN_INVERTED, line);
			if (tmpl_setname(n, inner, innerend - inner, 1) == -1)
				goto badname;
			depth++;
			stack[depth].list = &n->kids;
			stack[depth].sect = n;
			break;
		case '/':
			if (depth == 0) {
				err_set(e, "%s: line %d: \"{{/%.*s}}\" closes no "
				    "open section", name, line,
				    (int)(innerend - inner), inner);
				goto err;
			}
			n = stack[depth].sect;
			if (strlen(n->str) != (size_t)(innerend - inner) ||
			    strncmp(n->str, inner, innerend - inner) != 0) {
				err_set(e, "%s: line %d: section \"%s\" (opened on "
				    "line %d) closed by \"%.*s\"", name, line,
				    n->str, n->line, (int)(innerend - inner),
				    inner);
				goto err;
			}
			depth--;
			break;
		case '>':
			n = tmpl_add(stack[depth].list, TN_PARTIAL, line);
			if (tmpl_setname(n, inner, innerend - inner, 0) == -1)
				goto badname;
			break;
		default:	/* variable: sigil 0, '&' or '{' */
			n = tmpl_add(stack[depth].list, TN_VAR, line);
			n->raw = sigil == '&' || sigil == '{';
			if (tmpl_setname(n, inner, innerend - inner, 1) == -1)
				goto badname;
			break;
		}
		p = textstart = next;
	}
	if (*textstart != '\0') {
		n = tmpl_add(stack[depth].list, TN_TEXT, 0);
		n->len = strlen(textstart);
		n->str = xstrndup(textstart, n->len);
	}
	if (depth > 0) {
		n = stack[depth].sect;
		err_set(e, "%s: line %d: unclosed section \"%s\"", name,
		    n->line, n->str);
		goto err;
	}
	return t;

badname:
	err_set(e, "%s: line %d: bad tag name \"%s\"", name, n->line, n->str);
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

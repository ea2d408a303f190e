/*
 * tmplset.c: owns the set of templates loaded from one directory: which
 * files are templates ("<kind>.<format>.<part>", partials "_<name>..."),
 * loading and checking them all (a broken set is refused whole, so a
 * SIGHUP reload keeps the old one), and finding the template of a kind,
 * format and part, with the fallback to the standard format.
 *
 * Threads: tmplset_load runs in the main thread (start-up and SIGHUP). A
 * loaded set is never written again, so any thread may render from it at
 * the same time. The refcount is atomic; the last tmplset_unref frees the
 * set, in whichever thread that is.
 *
 * Two directories make one set (tmplset_load_over): the operator's
 * ([templates] dir, /etc/hearback/templates) and the shipped ones
 * ([templates] shipped, $(PREFIX)/share/hearback/templates). A file in the
 * operator's replaces the shipped file of the same name, one by one, so
 * `make install` can replace the shipped set without touching an edited
 * template, and an operator copies only the files they change.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tmpl.h"
#include "util.h"

#define TMPLSET_MAX_FILE	(1024 * 1024)

static const char *tmplset_formats[] = {
	"standard", "easy-read", "large-print", "plain-text"
};
#define TMPLSET_NFORMATS \
	(sizeof tmplset_formats / sizeof tmplset_formats[0])

static const char *tmplset_parts[] = { "subject", "txt", "html" };
#define TMPLSET_NPARTS	(sizeof tmplset_parts / sizeof tmplset_parts[0])

struct tmplent {
	char		*kind;
	int		 format;	/* index in tmplset_formats */
	int		 part;		/* index in tmplset_parts */
	struct tmpl	*t;
};

struct tmplset {
	int		 refs;
	char		*dir;
	struct tmplent	*v;
	size_t		 n;
};

static int
tmplset_index(const char **tab, size_t n, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strlen(tab[i]) == len && strncmp(tab[i], s, len) == 0)
			return (int)i;
	return -1;
}

int
tmplset_format_valid(const char *s)
{
	return s != NULL && tmplset_index(tmplset_formats, TMPLSET_NFORMATS, s,
	    strlen(s)) != -1;
}


static int
tmplset_cmpname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
tmplset_free(struct tmplset *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].kind);
		tmpl_free(s->v[i].t);
	}
	free(s->v);
	free(s->dir);
	free(s);
}

static const struct tmplent *
tmplset_find(const struct tmplset *s, const char *kind, int format, int part)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].format == format && s->v[i].part == part &&
		    strcmp(s->v[i].kind, kind) == 0)
			return &s->v[i];
	return NULL;
}

static const struct tmpl *
tmplset_get_idx(const struct tmplset *s, const char *kind, int format,
    int part)
{
	const struct tmplent *te;

	if ((te = tmplset_find(s, kind, format, part)) == NULL && format != 0)
		te = tmplset_find(s, kind, 0, part);
	return te ? te->t : NULL;
}

const struct tmpl *
tmplset_get(const struct tmplset *s, const char *kind, const char *format,
    const char *part)
{
	int	f, p;

	if ((f = tmplset_index(tmplset_formats, TMPLSET_NFORMATS, format,
	    strlen(format))) == -1)
		return NULL;
	if ((p = tmplset_index(tmplset_parts, TMPLSET_NPARTS, part,
	    strlen(part))) == -1)
		return NULL;
	return tmplset_get_idx(s, kind, f, p);
}

struct tmplset_arg {
	const struct tmplset	*set;
	int			 format;
	int			 part;
};

static const struct tmpl *
tmplset_partial(void *arg, const char *name)
{
	struct tmplset_arg	*a = arg;
	char			 kind[160];

	if ((size_t)snprintf(kind, sizeof kind, "_%s", name) >= sizeof kind)
		return NULL;
	return tmplset_get_idx(a->set, kind, a->format, a->part);
}

int
tmplset_render(const struct tmplset *s, const char *kind, const char *format,
    const char *part, json_t *ctx, struct buf *out, struct err *e)
{
	struct tmplset_arg	 a;
	const struct tmpl	*t;

	a.set = s;
	if ((a.format = tmplset_index(tmplset_formats, TMPLSET_NFORMATS, format,
	    strlen(format))) == -1)
		return err_set(e, "unknown format \"%s\"", format);
	if ((a.part = tmplset_index(tmplset_parts, TMPLSET_NPARTS, part,
	    strlen(part))) == -1)
		return err_set(e, "unknown template part \"%s\"", part);
	if ((t = tmplset_get_idx(s, kind, a.format, a.part)) == NULL)
		return err_set(e, "no template %s.%s.%s (nor %s.standard.%s)",
		    kind, format, part, kind, part);
	return tmpl_render(t, ctx, tmplset_partial, &a, out, e);
}

/*
 * Parse "<kind>.<format>.<part>". Returns 1 for a template name, 0 for a
 * file that is not ours (ignored), -1 for a name that looks like a template
 * but is wrong (an error: most likely a typo the operator wants to hear of).
 */
static int
tmplset_parsename(const char *name, char **kind, int *format, int *part,
    struct err *e)
{
	const char	*d1, *d2, *s;

	if (name[0] == '.')
		return 0;
	if ((d2 = strrchr(name, '.')) == NULL ||
	    (*part = tmplset_index(tmplset_parts, TMPLSET_NPARTS, d2 + 1,
	    strlen(d2 + 1))) == -1)
		return 0;
	if ((d1 = memchr(name, '.', d2 - name)) == NULL)
		return 0;	/* "README.txt" */
	if (memchr(d1 + 1, '.', d2 - d1 - 1) != NULL)
		return 0;	/* "notes.2024.old.txt" */
	if ((*format = tmplset_index(tmplset_formats, TMPLSET_NFORMATS, d1 + 1,
	    d2 - d1 - 1)) == -1)
		return err_set(e, "%s: unknown format \"%.*s\" (standard, "
		    "easy-read, large-print or plain-text)", name,
		    (int)(d2 - d1 - 1), d1 + 1);
	if (d1 == name || (name[0] == '_' && d1 == name + 1))
		return err_set(e, "%s: no template kind before the format",
		    name);
	for (s = name; s < d1; s++)
		if (!tmpl_namechar((unsigned char)*s))
			return err_set(e, "%s: the kind may hold only letters, "
			    "digits, '_' and '-'", name);
	*kind = xstrndup(name, d1 - name);
	return 1;
}

/* The names in dir but dot files, sorted: the load order is stable. With
 * missing_ok, a directory that is not there has no names. */
static int
tmplset_names(const char *dir, int missing_ok, char ***namesp, size_t *np,
    struct err *e)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL;
	size_t		 n = 0;

	*namesp = NULL;
	*np = 0;
	if ((d = opendir(dir)) == NULL) {
		if (missing_ok && errno == ENOENT)
			return 0;
		return err_set(e, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, tmplset_cmpname);
	*namesp = names;
	*np = n;
	return 0;
}

static void
tmplset_free_names(char **names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * The file name of dir, compiled into s when the name is a template's
 * (in HTML mode for an html part). Files that are not ours, and names that
 * are not regular files, are left out (with a debug log).
 */
static int
tmplset_add_file(struct tmplset *s, const char *dir, const char *name,
    struct err *e)
{
	struct stat	 st;
	char		*path = NULL, *text = NULL, *kind = NULL;
	size_t		 len;
	int		 format, part, rc;

	if ((rc = tmplset_parsename(name, &kind, &format, &part, e)) == -1)
		return -1;
	if (rc == 0) {
		log_debug("templates %s: ignoring %s", dir, name);
		return 0;
	}
	path = xasprintf("%s/%s", dir, name);
	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_debug("templates %s: ignoring %s (not a file)", dir, name);
		free(path);
		free(kind);
		return 0;
	}
	if ((text = util_readfile(path, TMPLSET_MAX_FILE, &len, e)) == NULL)
		goto err;
	if (strlen(text) != len) {
		err_set(e, "%s: holds a NUL byte", name);
		goto err;
	}
	if (!util_utf8_valid(text, len)) {
		err_set(e, "%s: not valid UTF-8", name);
		goto err;
	}
	s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	s->v[s->n].kind = kind;
	s->v[s->n].format = format;
	s->v[s->n].part = part;
	s->v[s->n].t = tmpl_compile(name, text,
	    strcmp(tmplset_parts[part], "html") == 0, e);
	kind = NULL;
	if (s->v[s->n++].t == NULL)
		goto err;
	free(text);
	free(path);
	return 0;

err:
	free(path);
	free(text);
	free(kind);
	return -1;
}

/* Every kind renders in every format; every partial resolves. A kind
 * named page_<name> is a web page (daemon/page.c): it has only an html
 * part. */
static int
tmplset_complete(const struct tmplset *s, struct err *e)
{
	struct tmplset_arg	 a;
	size_t			 i;
	int			 p, page;

	for (i = 0; i < s->n; i++) {
		const struct tmplent *te = &s->v[i];

		page = strncmp(te->kind, "page_", 5) == 0;
		for (p = 0; te->kind[0] != '_' && p < (int)TMPLSET_NPARTS; p++)
			if ((!page || strcmp(tmplset_parts[p], "html") == 0) &&
			    tmplset_find(s, te->kind, 0, p) == NULL)
				return err_set(e, "%s: no %s.standard.%s",
				    tmpl_name(te->t), te->kind,
				    tmplset_parts[p]);
		a.set = s;
		a.format = te->format;
		a.part = te->part;
		if (tmpl_check_partials(te->t, tmplset_partial, &a, e) == -1)
			return -1;
	}
	return 0;
}

struct tmplset *
tmplset_load(const char *dir, struct err *e)
{
	return tmplset_load_over(dir, NULL, e);
}

struct tmplset *
tmplset_load_over(const char *dir, const char *shipped, struct err *e)
{
	struct tmplset	*s;
	char		**own = NULL, **base = NULL;
	size_t		 nown = 0, nbase = 0, i = 0, j = 0;
	int		 c, layered = shipped != NULL && *shipped != '\0';

	s = xcalloc(1, sizeof *s);
	s->refs = 1;
	s->dir = xstrdup(dir);

	/* Layered, either directory may be missing, not both. */
	if (tmplset_names(dir, layered, &own, &nown, e) == -1)
		goto err;
	if (layered && tmplset_names(shipped, 1, &base, &nbase, e) == -1)
		goto err;
	/* Both sorted: a name in both comes from dir. */
	while (i < nown || j < nbase) {
		c = i == nown ? 1 : j == nbase ? -1 :
		    strcmp(own[i], base[j]);
		if (c <= 0) {
			if (tmplset_add_file(s, dir, own[i], e) == -1)
				goto err;
			i++;
			j += c == 0;
		} else if (tmplset_add_file(s, shipped, base[j++], e) == -1)
			goto err;
	}
	if (s->n == 0) {
		if (layered)
			err_set(e, "%s, %s: no templates (files named "
			    "<kind>.<format>.<subject|txt|html>)", dir,
			    shipped);
		else
			err_set(e, "%s: no templates (files named "
			    "<kind>.<format>.<subject|txt|html>)", dir);
		goto err;
	}
	if (tmplset_complete(s, e) == -1)
		goto err;
	tmplset_free_names(own, nown);
	tmplset_free_names(base, nbase);
	return s;

err:
	tmplset_free_names(own, nown);
	tmplset_free_names(base, nbase);
	tmplset_free(s);
	return NULL;
}

struct tmplset *
tmplset_ref(struct tmplset *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void
tmplset_unref(struct tmplset *s)
{
	if (s == NULL)
		return;
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		tmplset_free(s);
}

size_t
tmplset_count(const struct tmplset *s)
{
	return s->n;
}

/*
 * fuzz_render.c: libFuzzer target for the template engine (workers/tmpl.c)
 * and render_email (workers/render.c).
 *
 * The first input byte chooses a mode:
 *  - even: the rest is a template. It is compiled in HTML and in text mode
 *    and rendered with a fixed context (strings, numbers, arrays, nested
 *    objects); {{> self}} is the template itself, {{> p}} a small partial.
 *    Properties: compile either succeeds or fails with a message that names
 *    the template; no crash, no leak, no undefined behaviour, no hang.
 *  - odd: the rest is split at NUL bytes into the strings of an announcement
 *    context (subject, body, recipient name, reply-to name, team name), and
 *    the real "announcement" templates of config/templates (or
 *    $FUZZ_TEMPLATES) are rendered in the format the byte chooses. Every
 *    input string is wrapped in markers; properties: the HTML part holds no
 *    raw '<', '>' or '"' between a pair of markers (the input was escaped),
 *    the subject is one trimmed line, the text part has LF line ends and
 *    exactly one final newline, plain-text has no HTML part.
 *
 * FUZZ_VERBOSE=1 prints what an announcement input rendered to.
 *
 * Strings put into contexts are made valid UTF-8 first (records are, by the
 * time they reach rendering). Single-threaded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "render.h"
#include "tmpl.h"
#include "util.h"

#include "fuzz.h"

#define FUZZ_OPEN	"[[FZ"
#define FUZZ_CLOSE	"ZF]]"

static struct tmplset	*fuzz_set;
static json_t		*fuzz_ctx;
static struct tmpl	*fuzz_partial;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err	 e;
	json_error_t	 je;
	const char	*dir;

	log_setverbose(-1);
	json_object_seed(1);
	if ((dir = getenv("FUZZ_TEMPLATES")) == NULL)
		dir = "config/templates";
	if ((fuzz_set = tmplset_load(dir, &e)) == NULL) {
		fprintf(stderr, "fuzz_render: %s (run from the top of the "
		    "tree, or set FUZZ_TEMPLATES)\n", e.msg);
		exit(1);
	}
	fuzz_ctx = json_loads("{\"name\": \"Amara <b>&\", \"n\": 42, "
	    "\"r\": 1.5, \"t\": true, \"f\": false, \"z\": null, \"e\": \"\", "
	    "\"list\": [\"a\", \"<i>\", 3], "
	    "\"people\": [{\"name\": \"Ben\", \"needs\": [\"lift\"]}, "
	    "{\"name\": \"Dee\", \"needs\": []}], "
	    "\"venue\": {\"name\": \"Lyric\", \"access\": {\"lift\": true, "
	    "\"bsl\": \"ask\"}}}", 0, &je);
	if (fuzz_ctx == NULL) {
		fprintf(stderr, "fuzz_render: context: %s\n", je.text);
		exit(1);
	}
	if ((fuzz_partial = tmpl_compile("_p", "({{name}}{{#t}}!{{/t}})",
	    1, &e)) == NULL) {
		fprintf(stderr, "fuzz_render: partial: %s\n", e.msg);
		exit(1);
	}
	return 0;
}

static const struct tmpl *
fuzz_lookup(void *arg, const char *name)
{
	if (strcmp(name, "self") == 0)
		return arg;
	if (strcmp(name, "p") == 0)
		return fuzz_partial;
	return NULL;
}

static void
fuzz_template(const char *text)
{
	struct tmpl	*t;
	struct buf	 out;
	struct err	 e;
	int		 html;

	for (html = 0; html <= 1; html++) {
		memset(&e, 0, sizeof e);
		if ((t = tmpl_compile("fuzz.standard.html", text, html,
		    &e)) == NULL) {
			if (strncmp(e.msg, "fuzz.standard.html", 18) != 0)
				FUZZ_FAIL("compile message does not name the "
				    "template: %s", e.msg);
			continue;
		}
		if (tmpl_is_html(t) != html)
			FUZZ_FAIL("tmpl_is_html %d, want %d", tmpl_is_html(t),
			    html);
		buf_init(&out);
		memset(&e, 0, sizeof e);
		if (tmpl_render(t, fuzz_ctx, fuzz_lookup, t, &out, &e) == -1 &&
		    e.msg[0] == '\0')
			FUZZ_FAIL("render failed without a message");
		if (out.s == NULL || strlen(out.s) > out.len)
			FUZZ_FAIL("render left a broken buffer");
		buf_free(&out);
		tmpl_free(t);
	}
}

/* A valid UTF-8 copy of s, between markers. */
static char *
fuzz_marked(const char *s)
{
	gchar	*valid = g_utf8_make_valid(s, -1);
	char	*m = xasprintf(FUZZ_OPEN "%s" FUZZ_CLOSE, valid);

	g_free(valid);
	return m;
}

static void
fuzz_set_marked(json_t *obj, const char *key, const char *s)
{
	char	*m = fuzz_marked(s);

	if (json_object_set_new(obj, key, json_string(m)) == -1)
		FUZZ_FAIL("json_string refused \"%s\"", m);
	free(m);
}

/* Between each pair of markers in html, no raw < > ". */
static void
fuzz_check_escaped(const char *html)
{
	const char	*p = html, *open, *close, *q;

	while ((open = strstr(p, FUZZ_OPEN)) != NULL) {
		if ((close = strstr(open + 4, FUZZ_CLOSE)) == NULL)
			FUZZ_FAIL("an opening marker without its close");
		for (q = open + 4; q < close; q++)
			if (*q == '<' || *q == '>' || *q == '"')
				FUZZ_FAIL("unescaped '%c' from the input "
				    "reached the HTML: %.*s", *q,
				    (int)(close - open + 4), open);
		p = close + 4;
	}
}

static void
fuzz_check_rendered(const struct rendered *r, const char *format)
{
	size_t	n;

	if (r->subject == NULL || r->text == NULL)
		FUZZ_FAIL("success without subject or text");
	n = strlen(r->subject);
	if (n == 0 || strpbrk(r->subject, "\r\n") != NULL ||
	    strchr(" \t", r->subject[0]) != NULL ||
	    strchr(" \t", r->subject[n - 1]) != NULL)
		FUZZ_FAIL("subject not one trimmed line: \"%s\"", r->subject);
	n = strlen(r->text);
	if (strchr(r->text, '\r') != NULL)
		FUZZ_FAIL("CR in the text part");
	if (n == 0 || r->text[n - 1] != '\n' ||
	    (n >= 2 && r->text[n - 2] == '\n'))
		FUZZ_FAIL("text part does not end in exactly one newline");
	if (strcmp(format, "plain-text") == 0) {
		if (r->html != NULL)
			FUZZ_FAIL("an HTML part for plain-text");
		return;
	}
	if (r->html == NULL)
		FUZZ_FAIL("no HTML part for %s", format);
	if (strchr(r->html, '\r') != NULL)
		FUZZ_FAIL("CR in the HTML part");
	fuzz_check_escaped(r->html);
}

static void
fuzz_announcement(uint8_t sel, const uint8_t *data, size_t size)
{
	static const char *const formats[] = {
		"standard", "easy-read", "large-print", "plain-text"
	};
	const char	*format = formats[(sel >> 1) & 3];
	char		*f[5], *block, *p, *q;
	json_t		*ctx, *an, *paras, *o;
	struct rendered	 r;
	struct err	 e;

	block = fuzz_fields(data, size, f, 5);
	for (p = block; p < block + size; p++)
		if (strncmp(p, FUZZ_OPEN, 4) == 0 ||
		    strncmp(p, FUZZ_CLOSE, 4) == 0)
			goto out;	/* the input would fake a marker */

	ctx = json_object();
	json_object_set_new(ctx, "lang", json_string("en-GB"));
	json_object_set_new(ctx, "format", json_string(format));
	an = json_object();
	fuzz_set_marked(an, "subject", f[0]);
	/* Paragraphs as view.c makes them: the body split at blank lines. */
	paras = json_array();
	for (p = f[1]; *p != '\0'; p = q) {
		if ((q = strstr(p, "\n\n")) != NULL)
			*q = '\0';
		if (*p != '\0') {
			char *m = fuzz_marked(p);

			json_array_append_new(paras, json_string(m));
			free(m);
		}
		if (q == NULL)
			break;
		q += 2;
	}
	json_object_set_new(an, "paragraphs", paras);
	json_object_set_new(ctx, "announcement", an);
	o = json_object();
	if (f[2][0] != '\0')
		fuzz_set_marked(o, "name", f[2]);
	json_object_set_new(o, "id", json_string("c-amara"));
	json_object_set_new(ctx, "recipient", o);
	o = json_object();
	if (f[3][0] != '\0')
		fuzz_set_marked(o, "name", f[3]);
	json_object_set_new(o, "email", json_string("jo@example.org"));
	json_object_set_new(ctx, "reply_to", o);
	o = json_object();
	fuzz_set_marked(o, "name", f[4]);
	json_object_set_new(o, "email", json_string("forum@example.org"));
	json_object_set_new(ctx, "team", o);

	memset(&e, 0, sizeof e);
	if (render_email(fuzz_set, "announcement", format, ctx, &r, &e) == 0) {
		if (getenv("FUZZ_VERBOSE") != NULL)
			fprintf(stderr, "subject: %s\n--- text\n%s--- html\n%s",
			    r.subject, r.text, r.html ? r.html : "(none)\n");
		fuzz_check_rendered(&r, format);
	} else {
		if (getenv("FUZZ_VERBOSE") != NULL)
			fprintf(stderr, "render_email: %s\n", e.msg);
		if (e.msg[0] == '\0')
			FUZZ_FAIL("render_email failed without a message");
		if (r.subject != NULL || r.text != NULL || r.html != NULL)
			FUZZ_FAIL("render_email failed but left output");
	}
	rendered_clear(&r);
	json_decref(ctx);
out:
	free(block);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text;

	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		text = xstrndup((const char *)data + 1, size - 1);
		fuzz_template(text);
		free(text);
	} else
		fuzz_announcement(data[0], data + 1, size - 1);
	return 0;
}

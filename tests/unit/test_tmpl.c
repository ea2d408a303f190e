/*
 * test_tmpl.c: the template engine (compile, render, errors) and the
 * template set of a directory (loading, fallback, refusing broken sets).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tmpl.h"
#include "util.h"

/* Partials for the tests: a small name -> tmpl table. */
struct ptab {
	const char		*name[4];
	const struct tmpl	*t[4];
};

static const struct tmpl *
ptab_lookup(void *arg, const char *name)
{
	struct ptab	*p = arg;
	int		 i;

	for (i = 0; i < 4 && p->name[i] != NULL; i++)
		if (strcmp(p->name[i], name) == 0)
			return p->t[i];
	return NULL;
}

/* Compile and render; returns a malloc'd string, or NULL with e set. */
static char *
run(const char *text, int html, const char *json, struct ptab *pt,
    struct err *e)
{
	struct tmpl	*t;
	struct buf	 b;
	json_t		*ctx;
	json_error_t	 je;
	int		 rc;

	ctx = json_loads(json, 0, &je);
	assert_non_null(ctx);
	if ((t = tmpl_compile("t", text, html, e)) == NULL) {
		json_decref(ctx);
		return NULL;
	}
	buf_init(&b);
	rc = tmpl_render(t, ctx, pt ? ptab_lookup : NULL, pt, &b, e);
	tmpl_free(t);
	json_decref(ctx);
	if (rc == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

static void
expect(const char *text, int html, const char *json, const char *want)
{
	struct err	 e = { .msg = "" };
	char		*got;

	got = run(text, html, json, NULL, &e);
	if (got == NULL)
		fail_msg("%s: %s", text, e.msg);
	assert_string_equal(got, want);
	free(got);
}

static void
expect_compile_error(const char *text, const char *want)
{
	struct err	 e = { .msg = "" };
	struct tmpl	*t;

	t = tmpl_compile("invitation.standard.html", text, 1, &e);
	assert_null(t);
	if (strstr(e.msg, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", e.msg, want);
}

static void
test_escaping(void **state)
{
	const char *ctx = "{\"x\": \"<b>Tom & Jerry's \\\"show\\\"</b>\"}";

	expect("{{x}}", 1, ctx,
	    "&lt;b&gt;Tom &amp; Jerry&#39;s &quot;show&quot;&lt;/b&gt;");
	expect("{{{x}}}", 1, ctx, "<b>Tom & Jerry's \"show\"</b>");
	expect("{{&x}}", 1, ctx, "<b>Tom & Jerry's \"show\"</b>");
	expect("{{ x }}", 0, ctx, "<b>Tom & Jerry's \"show\"</b>");
	expect("{{{x}}}", 0, ctx, "<b>Tom & Jerry's \"show\"</b>");
	/* Template text itself is never escaped. */
	expect("<p>{{x}}</p>", 1, "{\"x\": \"a<b\"}", "<p>a&lt;b</p>");
}

static void
test_values(void **state)
{
	const char *ctx = "{\"i\": 42, \"neg\": -7, \"r\": 1.5, \"t\": true, "
	    "\"f\": false, \"n\": null, \"o\": {\"a\": 1}, \"a\": [1, 2], "
	    "\"u\": \"Zo\\u00eb\"}";

	expect("[{{i}}][{{neg}}][{{r}}][{{t}}][{{f}}][{{n}}][{{o}}][{{a}}]"
	    "[{{missing}}][{{u}}]", 1, ctx,
	    "[42][-7][1.5][true][false][][][][][Zo\xc3\xab]");
}

static void
test_dotted_and_stack(void **state)
{
	const char *ctx = "{\"a\": {\"b\": {\"c\": \"deep\"}}, \"name\": \"outer\", "
	    "\"items\": [{\"name\": \"i1\"}, {\"x\": 1}], "
	    "\"recipient\": {\"name\": \"Amara\"}}";

	expect("{{a.b.c}}", 1, ctx, "deep");
	expect("[{{a.x.c}}][{{a.b.c.d}}][{{nope.b}}]", 1, ctx, "[][][]");
	/* Lookup walks outwards: the second item has no name. */
	expect("{{#items}}[{{name}}]{{/items}}", 1, ctx, "[i1][outer]");
	/* A dotted name inside a section starts from the whole stack. */
	expect("{{#items}}{{recipient.name}};{{/items}}", 1, ctx,
	    "Amara;Amara;");
	expect("{{#a}}{{#b}}{{c}}{{/b}}{{/a}}", 1, ctx, "deep");
	expect("{{#a.b}}{{c}}{{/a.b}}", 1, ctx, "deep");
}

static void
test_sections(void **state)
{
	const char *ctx = "{\"list\": [\"x\", \"y<\"], \"empty\": [], "
	    "\"obj\": {\"k\": \"v\"}, \"yes\": true, \"no\": false, "
	    "\"s\": \"str\", \"es\": \"\", \"zero\": 0, \"one\": 1, "
	    "\"n\": null, \"eo\": {}}";

	expect("{{#list}}<{{.}}>{{/list}}", 1, ctx, "<x><y&lt;>");
	expect("{{#list}}<{{.}}>{{/list}}", 0, ctx, "<x><y<>");
	expect("{{#empty}}X{{/empty}}", 1, ctx, "");
	expect("{{#obj}}{{k}}{{/obj}}", 1, ctx, "v");
	expect("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}", 1, ctx, "Y");
	expect("{{#s}}[{{.}}]{{/s}}{{#es}}E{{/es}}", 1, ctx, "[str]");
	expect("{{#zero}}Z{{/zero}}{{#one}}O{{/one}}", 1, ctx, "O");
	expect("{{#n}}N{{/n}}{{#missing}}M{{/missing}}", 1, ctx, "");
	expect("{{#eo}}E{{/eo}}", 1, ctx, "E");
	/* Nested sections over the same array. */
	expect("{{#list}}{{#list}}{{.}}{{/list}};{{/list}}", 0, ctx,
	    "xy<;xy<;");
}

static void
test_inverted_and_comments(void **state)
{
	const char *ctx = "{\"yes\": true, \"no\": false, \"empty\": [], "
	    "\"list\": [1], \"es\": \"\"}";

	expect("{{^no}}a{{/no}}{{^missing}}b{{/missing}}{{^empty}}c{{/empty}}"
	    "{{^es}}d{{/es}}", 1, ctx, "abcd");
	expect("{{^yes}}a{{/yes}}{{^list}}b{{/list}}", 1, ctx, "");
	expect("a{{! a comment with {braces} and \"quotes\" }}b", 1, ctx, "ab");
	expect("a{{!\n multi-line\n comment }}b", 1, ctx, "ab");
}

static void
test_standalone(void **state)
{
	const char *ctx = "{\"s\": true, \"list\": [\"one\", \"two\"]}";

	expect("a\n  {{#s}}\n  x\n  {{/s}}\nb\n", 0, ctx, "a\n  x\nb\n");
	expect("a\n{{#list}}\n- {{.}}\n{{/list}}\nb\n", 0, ctx,
	    "a\n- one\n- two\nb\n");
	expect("a\n\t{{! comment }}  \nb\n", 0, ctx, "a\nb\n");
	expect("a\r\n{{#s}}\r\nx\r\n{{/s}}\r\nb", 0, ctx, "a\r\nx\r\nb");
	/* At the very start and the very end. */
	expect("{{#s}}\nx\n{{/s}}", 0, ctx, "x\n");
	expect("{{^s}}\nx\n{{/s}}\n", 0, ctx, "");
	/* Not standalone: other text on the line, or a variable tag. */
	expect("a {{#s}}x{{/s}} b\n", 0, ctx, "a x b\n");
	expect(" {{#s}}x\n{{/s}}\n", 0, ctx, " x\n");
	expect("a\n  {{x}}\nb", 0, ctx, "a\n  \nb");
	expect("{{#s}} {{/s}} \n", 0, ctx, "  \n");
}

static void
test_partials(void **state)
{
	struct err	 e = { .msg = "" };
	struct tmpl	*hdr, *loop;
	struct ptab	 pt;
	char		*got;

	hdr = tmpl_compile("_header", "<h1>{{title}}</h1>\n", 1, &e);
	assert_non_null(hdr);
	loop = tmpl_compile("_loop", "{{> loop}}", 1, &e);
	assert_non_null(loop);
	memset(&pt, 0, sizeof pt);
	pt.name[0] = "header";
	pt.t[0] = hdr;
	pt.name[1] = "loop";
	pt.t[1] = loop;

	got = run("{{> header}}\n{{#items}}{{>header}}{{/items}}", 1,
	    "{\"title\": \"T&\", \"items\": [{\"title\": \"I\"}]}", &pt, &e);
	if (got == NULL)
		fail_msg("%s", e.msg);
	assert_string_equal(got, "<h1>T&amp;</h1>\n<h1>I</h1>\n");
	free(got);

	/* A missing partial is an error naming it. */
	got = run("x\n{{> nope}}", 1, "{}", &pt, &e);
	assert_null(got);
	assert_non_null(strstr(e.msg, "line 2: no partial \"nope\""));

	/* A partial including itself stops, with an error. */
	got = run("{{> loop}}", 1, "{}", &pt, &e);
	assert_null(got);
	assert_non_null(strstr(e.msg, "nested"));

	/* tmpl_check_partials finds a dangling reference without rendering. */
	{
		struct tmpl *t = tmpl_compile("x.standard.html",
		    "{{#a}}\n{{> header}}\n{{> gone}}\n{{/a}}", 1, &e);

		assert_non_null(t);
		assert_int_equal(tmpl_check_partials(t, ptab_lookup, &pt, &e),
		    -1);
		assert_string_equal(e.msg,
		    "x.standard.html: line 3: no partial \"gone\"");
		tmpl_free(t);
	}
	tmpl_free(hdr);
	tmpl_free(loop);
}

static void
test_compile_errors(void **state)
{
	expect_compile_error("<p>\n{{#venue}}\n<p>{{name}}\n\n",
	    "invitation.standard.html: line 2: unclosed section \"venue\"");
	expect_compile_error("{{#a}}\n{{#b}}\n{{/a}}\n",
	    "line 3: section \"b\" (opened on line 2) closed by \"a\"");
	expect_compile_error("x\n\n{{/a}}", "line 3: \"{{/a}}\" closes no open");
	expect_compile_error("a\n{{name", "line 2: unclosed tag");
	expect_compile_error("a {{{name}} b", "line 1: unclosed tag \"{{{\"");
	expect_compile_error("{{}}", "bad tag name \"\"");
	expect_compile_error("{{a..b}}", "bad tag name \"a..b\"");
	expect_compile_error("{{#.x}}{{/.x}}", "bad tag name \".x\"");
	expect_compile_error("{{a b}}", "bad tag name \"a b\"");
	expect_compile_error("{{> a.b}}", "bad tag name \"a.b\"");
	expect_compile_error("{{=<% %>=}}", "delimiters");
}

/* Write a file into dir. */
static void
put(const char *dir, const char *name, const char *text)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
rmdir_all(const char *dir, const char **names)
{
	char	path[512];

	for (; *names != NULL; names++) {
		snprintf(path, sizeof path, "%s/%s", dir, *names);
		unlink(path);
	}
	rmdir(dir);
}

static void
test_set_real_templates(void **state)
{
	struct err		 e = { .msg = "" };
	struct tmplset		*s;
	const struct tmpl	*std, *t;

	s = tmplset_load("config/templates", &e);
	if (s == NULL)
		fail_msg("%s", e.msg);
	assert_true(tmplset_count(s) > 5);
	std = tmplset_get(s, "announcement", "standard", "txt");
	assert_non_null(std);
	/* large-print has no own txt: falls back to standard. */
	assert_ptr_equal(tmplset_get(s, "announcement", "large-print", "txt"),
	    std);
	/* easy-read has its own. */
	t = tmplset_get(s, "announcement", "easy-read", "txt");
	assert_non_null(t);
	assert_ptr_not_equal(t, std);
	assert_string_equal(tmpl_name(t), "announcement.easy-read.txt");
	assert_true(tmpl_is_html(tmplset_get(s, "announcement", "standard",
	    "html")));
	assert_false(tmpl_is_html(tmplset_get(s, "announcement", "standard",
	    "subject")));
	assert_null(tmplset_get(s, "announcement", "braille", "txt"));
	assert_null(tmplset_get(s, "announcement", "standard", "pdf"));
	assert_null(tmplset_get(s, "no-such-kind", "standard", "txt"));
	assert_true(tmplset_format_valid("plain-text"));
	assert_false(tmplset_format_valid("plaintext"));

	/* Refcount: two references, two unrefs (ASan would see a leak or a
	 * double free). */
	assert_ptr_equal(tmplset_ref(s), s);
	tmplset_unref(s);
	tmplset_unref(s);
}

static void
test_set_broken(void **state)
{
	char		 dir[] = "/tmp/test_tmpl.XXXXXX";
	const char	*names[] = { "k.standard.subject", "k.standard.txt",
	    "k.standard.html", "k.easy-read.html", "k.easyread.html",
	    "_p.standard.html", "README.txt", NULL };
	struct err	 e = { .msg = "" };
	struct tmplset	*s;
	struct buf	 b;
	json_t		*ctx;

	assert_non_null(mkdtemp(dir));

	/* Empty directory. */
	assert_null(tmplset_load(dir, &e));
	assert_non_null(strstr(e.msg, "no templates"));

	put(dir, "k.standard.subject", "S {{x}}\n");
	put(dir, "k.standard.txt", "T {{x}}\n");
	/* A kind without its standard html is refused. */
	assert_null(tmplset_load(dir, &e));
	assert_non_null(strstr(e.msg, "no k.standard.html"));

	put(dir, "k.standard.html", "<p>{{x}}</p>\n{{> p}}");
	put(dir, "README.txt", "not a template {{#\n");
	/* A partial that does not exist is refused at load time. */
	assert_null(tmplset_load(dir, &e));
	assert_string_equal(e.msg, "k.standard.html: line 2: no partial \"p\"");

	put(dir, "_p.standard.html", "<i>{{x}}</i>");
	s = tmplset_load(dir, &e);
	if (s == NULL)
		fail_msg("%s", e.msg);

	/* Render through the set: the partial, escaping, fallback. */
	ctx = json_pack("{s:s}", "x", "a<b");
	buf_init(&b);
	assert_int_equal(tmplset_render(s, "k", "large-print", "html", ctx,
	    &b, &e), 0);
	assert_string_equal(b.s, "<p>a&lt;b</p>\n<i>a&lt;b</i>");
	buf_free(&b);
	assert_int_equal(tmplset_render(s, "k", "standard", "subject", ctx,
	    &b, &e), 0);
	assert_string_equal(b.s, "S a<b\n");
	buf_free(&b);
	assert_int_equal(tmplset_render(s, "nope", "standard", "txt", ctx,
	    &b, &e), -1);
	assert_non_null(strstr(e.msg, "no template nope.standard.txt"));
	buf_free(&b);
	json_decref(ctx);

	/* A compile error anywhere refuses the whole set (old set kept). */
	put(dir, "k.easy-read.html", "<p>\n\n{{#venue}}\n");
	assert_null(tmplset_load(dir, &e));
	assert_string_equal(e.msg,
	    "k.easy-read.html: line 3: unclosed section \"venue\"");
	/* The old set still works. */
	assert_non_null(tmplset_get(s, "k", "easy-read", "html"));
	tmplset_unref(s);

	/* A misspelt format is an error, not silently ignored. */
	put(dir, "k.easy-read.html", "ok\n");
	put(dir, "k.easyread.html", "ok\n");
	assert_null(tmplset_load(dir, &e));
	assert_non_null(strstr(e.msg, "k.easyread.html: unknown format"));

	rmdir_all(dir, names);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_dotted_and_stack),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_inverted_and_comments),
		cmocka_unit_test(test_standalone),
		cmocka_unit_test(test_partials),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_set_real_templates),
		cmocka_unit_test(test_set_broken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

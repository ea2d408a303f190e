/*
 * test_compose.c: compose_message builds what libESMTP needs (CRLF only,
 * 7-bit, short lines), encodes non-ASCII headers, refuses header injection,
 * and GMime's own parser reads back exactly what went in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>

#include <cmocka.h>
#include <gmime/gmime.h>

#include "compose.h"
#include "util.h"

static const char *text_in =
    "Hello Zo\xc3\xab,\n"
    "\n"
    ".starts with a dot\n"
    ".\n"
    "From the forum: a line with = and trailing space \n"
    "-- \n"
    "Forum team\n";

static const char *html_in =
    "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<body>\n"
    "<p>Hello Zo\xc3\xab,</p>\n</body>\n</html>\n";

static const char *ics_in =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n"
    "PRODID:-//hearback//EN\r\nBEGIN:VEVENT\r\nUID:m-1@example.org\r\n"
    "SUMMARY:Caf\xc3\xa9 forum\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

static void
mail_init(struct mail *m)
{
	memset(m, 0, sizeof *m);
	m->from_name = "Forum team";
	m->from_addr = "forum@example.org";
	m->to_name = "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m";
	m->to_addr = "zoe@example.org";
	m->reply_to_name = "Jo Patel";
	m->reply_to_addr = "jo@example.org";
	m->subject = "Caf\xc3\xa9 f\xc3\xbcr Zo\xc3\xab";
	m->message_id = "ann.a-1.c-amara@example.org";
	m->date = 1796900400;	/* 2026-12-10 11:00:00 UTC */
	m->text = text_in;
	m->html = html_in;
}

static char *
must_compose(const struct mail *m, size_t *lenp)
{
	struct err	 e = { .msg = "" };
	char		*out;
	size_t		 len;

	if (compose_message(m, &out, &len, &e) == -1)
		fail_msg("compose: %s", e.msg);
	assert_int_equal(strlen(out), len);
	if (lenp)
		*lenp = len;
	return out;
}

/* One header line (unfolded not needed for the short ones we check). */
static const char *
header(const char *msg, const char *name)
{
	static char	line[1024];
	const char	*p = msg, *eol;
	size_t		 n = strlen(name);

	while (*p != '\0' && !(p[0] == '\r' && p[1] == '\n')) {
		eol = strstr(p, "\r\n");
		assert_non_null(eol);
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			snprintf(line, sizeof line, "%.*s", (int)(eol - p), p);
			return line;
		}
		p = eol + 2;
	}
	return NULL;
}

static void
check_wire(const char *msg, size_t len)
{
	struct err	e = { .msg = "" };
	size_t		i, col = 0;

	for (i = 0; i < len; i++) {
		if (msg[i] == '\n') {
			assert_true(i > 0 && msg[i - 1] == '\r');
			col = 0;
		} else if (msg[i] == '\r') {
			assert_true(i + 1 < len && msg[i + 1] == '\n');
		} else {
			assert_true((unsigned char)msg[i] < 0x80);
			assert_true(++col <= 998);
		}
	}
	assert_int_equal(compose_check(msg, len, &e), 0);
}

static GMimeMessage *
parse(const char *msg, size_t len)
{
	GMimeStream	*st;
	GMimeParser	*p;
	GMimeMessage	*m;

	st = g_mime_stream_mem_new_with_buffer(msg, len);
	p = g_mime_parser_new_with_stream(st);
	m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(st);
	assert_non_null(m);
	return m;
}

/* The decoded text of a part, line ends made LF. */
static char *
part_text(GMimeObject *o)
{
	char	*s, *r, *w;

	assert_true(GMIME_IS_TEXT_PART(o));
	s = g_mime_text_part_get_text(GMIME_TEXT_PART(o));
	assert_non_null(s);
	for (r = w = s; *r != '\0'; r++)
		if (!(r[0] == '\r' && r[1] == '\n'))
			*w++ = *r;
	*w = '\0';
	return s;
}

static void
assert_type(GMimeObject *o, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);

	if (!g_mime_content_type_is_type(ct, type, subtype))
		fail_msg("part is %s/%s, not %s/%s",
		    g_mime_content_type_get_media_type(ct),
		    g_mime_content_type_get_media_subtype(ct), type, subtype);
}

static void
test_alternative(void **state)
{
	struct mail	 m;
	char		*out, *s;
	const char	*h, *tp, *hp;
	size_t		 len;
	GMimeMessage	*msg;
	GMimeObject	*top;
	InternetAddressList *l;
	InternetAddress	*ia;

	mail_init(&m);
	out = must_compose(&m, &len);
	check_wire(out, len);

	/* Headers. */
	assert_non_null(h = header(out, "Subject"));
	assert_non_null(strcasestr(h, "=?utf-8?"));
	assert_null(strstr(h, "Caf"));		/* not raw */
	assert_non_null(h = header(out, "To"));
	assert_non_null(strcasestr(h, "=?utf-8?"));
	assert_non_null(strstr(h, "<zoe@example.org>"));
	assert_non_null(h = header(out, "From"));
	assert_string_equal(h, "From: Forum team <forum@example.org>");
	assert_non_null(h = header(out, "Reply-To"));
	assert_string_equal(h, "Reply-To: Jo Patel <jo@example.org>");
	assert_non_null(h = header(out, "Message-ID"));
	assert_non_null(strstr(h, "<ann.a-1.c-amara@example.org>"));
	assert_non_null(h = header(out, "Date"));
	assert_non_null(strstr(h, "10 Dec 2026 11:00:00 +0000"));
	assert_non_null(h = header(out, "MIME-Version"));
	assert_non_null(h = header(out, "Auto-Submitted"));
	assert_string_equal(h, "Auto-Submitted: auto-generated");
	assert_non_null(h = header(out, "Content-Type"));
	assert_non_null(strstr(h, "multipart/alternative"));

	/* Text before HTML, both quoted-printable. */
	assert_non_null(tp = strstr(out, "Content-Type: text/plain"));
	assert_non_null(hp = strstr(out, "Content-Type: text/html"));
	assert_true(tp < hp);
	assert_null(strstr(out, "text/calendar"));
	/* The dot line is still there on the wire, whole. */
	assert_true(strstr(out, "\r\n.starts with a dot\r\n") != NULL ||
	    strstr(out, "\r\n=2Estarts with a dot\r\n") != NULL);

	/* Read it back with GMime's parser. */
	msg = parse(out, len);
	assert_string_equal(g_mime_message_get_subject(msg),
	    "Caf\xc3\xa9 f\xc3\xbcr Zo\xc3\xab");
	l = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO);
	assert_int_equal(internet_address_list_length(l), 1);
	ia = internet_address_list_get_address(l, 0);
	assert_string_equal(internet_address_get_name(ia),
	    "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m");
	assert_string_equal(internet_address_mailbox_get_addr(
	    INTERNET_ADDRESS_MAILBOX(ia)), "zoe@example.org");
	assert_string_equal(g_mime_message_get_message_id(msg),
	    "ann.a-1.c-amara@example.org");
	top = g_mime_message_get_mime_part(msg);
	assert_type(top, "multipart", "alternative");
	assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(top)), 2);
	assert_type(g_mime_multipart_get_part(GMIME_MULTIPART(top), 0),
	    "text", "plain");
	s = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(top), 0));
	assert_string_equal(s, text_in);
	g_free(s);
	s = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(top), 1));
	assert_string_equal(s, html_in);
	g_free(s);
	g_object_unref(msg);
	free(out);
}

static void
test_plain_text_only(void **state)
{
	struct mail	 m;
	char		*out, *s;
	size_t		 len;
	GMimeMessage	*msg;
	GMimeObject	*top;

	mail_init(&m);
	m.html = NULL;
	m.reply_to_addr = m.reply_to_name = NULL;
	out = must_compose(&m, &len);
	check_wire(out, len);
	assert_null(strstr(out, "multipart"));
	assert_null(strstr(out, "text/html"));
	assert_null(header(out, "Reply-To"));
	msg = parse(out, len);
	top = g_mime_message_get_mime_part(msg);
	assert_type(top, "text", "plain");
	s = part_text(top);
	assert_string_equal(s, text_in);
	g_free(s);
	g_object_unref(msg);
	free(out);
}

static void
test_calendar(void **state)
{
	struct mail	 m;
	char		*out, *s;
	size_t		 len;
	GMimeMessage	*msg;
	GMimeObject	*top, *alt, *cal, *att;
	GMimeDataWrapper *dw;
	GMimeStream	*mem;
	GByteArray	*ba;

	mail_init(&m);
	m.ics = ics_in;
	m.ics_method = "REQUEST";
	out = must_compose(&m, &len);
	check_wire(out, len);
	assert_non_null(strstr(out, "multipart/mixed"));
	assert_non_null(strstr(out, "text/calendar"));
	assert_non_null(strstr(out, "method=REQUEST"));
	assert_non_null(strstr(out, "invite.ics"));

	msg = parse(out, len);
	top = g_mime_message_get_mime_part(msg);
	assert_type(top, "multipart", "mixed");
	assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(top)), 2);
	alt = g_mime_multipart_get_part(GMIME_MULTIPART(top), 0);
	assert_type(alt, "multipart", "alternative");
	assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(alt)), 3);
	assert_type(g_mime_multipart_get_part(GMIME_MULTIPART(alt), 0),
	    "text", "plain");
	assert_type(g_mime_multipart_get_part(GMIME_MULTIPART(alt), 1),
	    "text", "html");
	cal = g_mime_multipart_get_part(GMIME_MULTIPART(alt), 2);
	assert_type(cal, "text", "calendar");
	assert_string_equal(g_mime_object_get_content_type_parameter(cal,
	    "method"), "REQUEST");
	s = part_text(cal);
	assert_non_null(strstr(s, "SUMMARY:Caf\xc3\xa9 forum\n"));
	g_free(s);

	/* The attachment holds the calendar byte for byte (CRLF kept). */
	att = g_mime_multipart_get_part(GMIME_MULTIPART(top), 1);
	assert_type(att, "application", "ics");
	assert_string_equal(g_mime_part_get_filename(GMIME_PART(att)),
	    "invite.ics");
	assert_true(g_mime_part_is_attachment(GMIME_PART(att)));
	dw = g_mime_part_get_content(GMIME_PART(att));
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(dw, mem);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	assert_int_equal(ba->len, strlen(ics_in));
	assert_memory_equal(ba->data, ics_in, ba->len);
	g_object_unref(mem);
	g_object_unref(msg);
	free(out);

	/* CANCEL, and a calendar with no HTML (plain-text person). */
	m.ics_method = "CANCEL";
	m.html = NULL;
	out = must_compose(&m, &len);
	check_wire(out, len);
	assert_non_null(strstr(out, "method=CANCEL"));
	assert_null(strstr(out, "text/html"));
	free(out);
}

static void
test_long_lines(void **state)
{
	struct mail	 m;
	char		*out, *s, *big, *html;
	size_t		 len;
	GMimeMessage	*msg;
	GMimeObject	*top;

	/* A 3000-character paragraph and an HTML line just as long. */
	big = xmalloc(3002);
	memset(big, 'a', 3000);
	big[1000] = ' ';
	big[3000] = '\n';
	big[3001] = '\0';
	html = xasprintf("<p>%s</p>\n", big);
	mail_init(&m);
	m.text = big;
	m.html = html;
	m.subject = "A long subject that needs folding because it goes on, "
	    "and on, and on, well past seventy-eight characters and beyond";
	out = must_compose(&m, &len);
	check_wire(out, len);
	msg = parse(out, len);
	assert_string_equal(g_mime_message_get_subject(msg), m.subject);
	top = g_mime_message_get_mime_part(msg);
	s = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(top), 0));
	assert_string_equal(s, big);
	g_free(s);
	g_object_unref(msg);
	free(out);
	free(big);
	free(html);
}

static void
test_crlf_input(void **state)
{
	struct mail	 m;
	char		*out, *s;
	size_t		 len;
	GMimeMessage	*msg;
	GMimeObject	*top;

	/* CRLF and a lone CR in the body become line ends, never bare. */
	mail_init(&m);
	m.text = "one\r\ntwo\rthree\n";
	out = must_compose(&m, &len);
	check_wire(out, len);
	msg = parse(out, len);
	top = g_mime_message_get_mime_part(msg);
	s = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(top), 0));
	assert_string_equal(s, "one\ntwo\nthree\n");
	g_free(s);
	g_object_unref(msg);
	free(out);
}

static void
refuse(const struct mail *m, const char *want)
{
	struct err	 e = { .msg = "" };
	char		*out = (char *)"untouched";
	size_t		 len = 99;

	assert_int_equal(compose_message(m, &out, &len, &e), -1);
	assert_null(out);
	if (strstr(e.msg, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", e.msg, want);
}

static void
test_refusals(void **state)
{
	struct mail	m;

	mail_init(&m);
	m.subject = "Hello\r\nBcc: everyone@example.org";
	refuse(&m, "Subject holds a line break");
	mail_init(&m);
	m.subject = "Hello\nthere";
	refuse(&m, "Subject holds a line break");
	mail_init(&m);
	m.subject = "";
	refuse(&m, "no subject");
	mail_init(&m);
	m.to_name = "Amara\r\nBcc: x@example.org";
	refuse(&m, "To name holds a line break");
	mail_init(&m);
	m.from_name = "Forum\nteam";
	refuse(&m, "From name holds a line break");
	mail_init(&m);
	m.reply_to_name = "Jo\r";
	refuse(&m, "Reply-To name holds a line break");
	mail_init(&m);
	m.to_addr = "zoe@example.org\r\nRCPT TO:<x@example.org>";
	refuse(&m, "To");
	mail_init(&m);
	m.to_addr = "zoe@example.org, eve@example.org";
	refuse(&m, "To address holds");
	mail_init(&m);
	m.to_addr = "Zoe <zoe@example.org>";
	refuse(&m, "To address holds");
	mail_init(&m);
	m.to_addr = "zoe.example.org";
	refuse(&m, "not local@domain");
	mail_init(&m);
	m.from_addr = NULL;
	refuse(&m, "From address is empty");
	mail_init(&m);
	m.reply_to_addr = "jo@@example.org";
	refuse(&m, "Reply-To address is not local@domain");
	mail_init(&m);
	m.message_id = "ann.a-1@example.org\r\nBcc: x@example.org";
	refuse(&m, "Message-ID holds a line break");
	mail_init(&m);
	m.message_id = "<ann.a-1@example.org>";
	refuse(&m, "Message-ID holds '<'");
	mail_init(&m);
	m.message_id = "no-at-sign";
	refuse(&m, "Message-ID must be");
	mail_init(&m);
	m.ics = ics_in;
	m.ics_method = "PUBLISH\r\nX: y";
	refuse(&m, "REQUEST or CANCEL");
	mail_init(&m);
	m.text = NULL;
	refuse(&m, "no text part");
}

static void
test_check(void **state)
{
	struct err	 e = { .msg = "" };
	char		 long_line[1100];

	assert_int_equal(compose_check("a\r\nb\r\n", 6, &e), 0);
	assert_int_equal(compose_check("a\nb\r\n", 5, &e), -1);
	assert_string_equal(e.msg, "line 1: bare LF");
	assert_int_equal(compose_check("a\r\nb\rc\r\n", 8, &e), -1);
	assert_string_equal(e.msg, "line 2: bare CR");
	assert_int_equal(compose_check("a\r", 2, &e), -1);
	assert_int_equal(compose_check("caf\xc3\xa9\r\n", 7, &e), -1);
	assert_non_null(strstr(e.msg, "8-bit"));
	assert_int_equal(compose_check("a\0b\r\n", 5, &e), -1);
	memset(long_line, 'x', 998);
	memcpy(long_line + 998, "\r\n", 2);
	assert_int_equal(compose_check(long_line, 1000, &e), 0);
	memset(long_line, 'x', 999);
	memcpy(long_line + 999, "\r\n", 2);
	assert_int_equal(compose_check(long_line, 1001, &e), -1);
	assert_non_null(strstr(e.msg, "longer than 998"));
}

/* Workers compose at the same time: each message is its own. */
static void *
compose_thread(void *arg)
{
	struct mail	 m;
	struct err	 e;
	char		*out;
	size_t		 len;
	int		 i, *bad = arg;

	mail_init(&m);
	m.ics = ics_in;
	m.ics_method = "REQUEST";
	for (i = 0; i < 100; i++) {
		if (compose_message(&m, &out, &len, &e) == -1 ||
		    compose_check(out, len, &e) == -1 ||
		    strstr(out, "method=REQUEST") == NULL)
			(*bad)++;
		free(out);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t	t[4];
	int		bad[4] = { 0 }, i;

	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, compose_thread,
		    &bad[i]), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(bad[i], 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alternative),
		cmocka_unit_test(test_plain_text_only),
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_crlf_input),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_threads),
	};
	int	rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}

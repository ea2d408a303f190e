/*
 * fuzz_compose.c: libFuzzer target for compose_message (workers/compose.c,
 * GMime 3).
 *
 * The first input byte holds flags (bit 0: an HTML part, bit 1: a calendar
 * part, bit 2: a Reply-To, bit 3: METHOD CANCEL); the rest is split at NUL
 * bytes into subject, to name, from name, reply-to name, text, html, ics.
 * Strings are made valid UTF-8 and the header strings are cut to the record
 * limit (RECORD_HEADER_MAX characters, 200), as they are when they come from
 * a checked record; addresses and the Message-ID are fixed and valid.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - on success: compose_check passes on the output (CRLF only, no bare CR
 *    or LF, 7-bit, no NUL, no line over 998 octets), the output is
 *    NUL-terminated at len, and GMime parses it back with the same To
 *    address and Message-ID;
 *  - inputs that pass compose's own input checks (header strings without
 *    control characters) never fail with "composed message: ...", which
 *    would mean GMime wrote a message libESMTP must not send;
 *  - on failure: *out is NULL and e.msg is non-empty.
 *
 * Single-threaded; g_mime_init() once in LLVMFuzzerInitialize.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "compose.h"
#include "util.h"

#include "fuzz.h"

#define FUZZ_HEADER_MAX	200	/* characters, as RECORD_HEADER_MAX */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	g_mime_init();
	log_setverbose(-1);
	return 0;
}

/* Valid UTF-8, at most max characters (0: no limit); g_free the result. */
static char *
fuzz_text(const char *s, long max)
{
	gchar	*v = g_utf8_make_valid(s, -1), *end;

	if (max > 0 && g_utf8_strlen(v, -1) > max) {
		end = g_utf8_offset_to_pointer(v, max);
		*end = '\0';
	}
	return v;
}

static int
fuzz_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Parse the output back: the same To address and Message-ID. */
static void
fuzz_reparse(const char *msg, size_t len, const struct mail *m)
{
	GMimeStream		*stream;
	GMimeParser		*parser;
	GMimeMessage		*pm;
	InternetAddressList	*to;
	InternetAddress		*a;
	const char		*mid;

	stream = g_mime_stream_mem_new_with_buffer(msg, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	pm = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (pm == NULL)
		FUZZ_FAIL("GMime cannot parse the composed message");
	to = g_mime_message_get_to(pm);
	if (to == NULL || internet_address_list_length(to) != 1)
		FUZZ_FAIL("To: %d addresses after a round trip",
		    to ? internet_address_list_length(to) : -1);
	a = internet_address_list_get_address(to, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(a) || strcmp(
	    internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)),
	    m->to_addr) != 0)
		FUZZ_FAIL("To address changed in a round trip (name \"%s\")",
		    m->to_name ? m->to_name : "");
	mid = g_mime_message_get_message_id(pm);
	if (mid == NULL || strcmp(mid, m->message_id) != 0)
		FUZZ_FAIL("Message-ID changed in a round trip: %s",
		    mid ? mid : "(none)");
	g_object_unref(pm);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail	 m;
	struct err	 e;
	char		*f[7], *block, *out = NULL;
	char		*subject, *to_name, *from_name, *reply_name;
	char		*text, *html, *ics;
	size_t		 len = 12345;
	uint8_t		 flags;
	int		 rc, clean;

	if (size == 0)
		return 0;
	flags = data[0];
	block = fuzz_fields(data + 1, size - 1, f, 7);
	subject = fuzz_text(f[0], FUZZ_HEADER_MAX);
	to_name = fuzz_text(f[1], FUZZ_HEADER_MAX);
	from_name = fuzz_text(f[2], FUZZ_HEADER_MAX);
	reply_name = fuzz_text(f[3], FUZZ_HEADER_MAX);
	text = fuzz_text(f[4], 0);
	html = fuzz_text(f[5], 0);
	ics = fuzz_text(f[6], 0);

	memset(&m, 0, sizeof m);
	m.from_name = from_name;
	m.from_addr = "forum@example.org";
	m.to_name = to_name;
	m.to_addr = "amara.okafor@example.org";
	if (flags & 4) {
		m.reply_to_name = reply_name;
		m.reply_to_addr = "jo@example.org";
	}
	m.subject = subject;
	m.message_id = "ann.a-2026-11-survey.c-amara@example.org";
	m.date = 1795000000LL + (flags >> 4) * 86400LL;
	m.text = text;
	m.html = (flags & 1) ? html : NULL;
	if (flags & 2) {
		m.ics = ics;
		m.ics_method = (flags & 8) ? "CANCEL" : "REQUEST";
	}
	clean = subject[0] != '\0' && !fuzz_has_control(subject) &&
	    !fuzz_has_control(to_name) && !fuzz_has_control(from_name) &&
	    ((flags & 4) == 0 || !fuzz_has_control(reply_name));

	memset(&e, 0, sizeof e);
	rc = compose_message(&m, &out, &len, &e);
	if (rc == 0) {
		if (!clean)
			FUZZ_FAIL("a header with a control character was "
			    "accepted");
		if (out == NULL || strlen(out) != len)
			FUZZ_FAIL("output not NUL-terminated at len %zu", len);
		memset(&e, 0, sizeof e);
		if (compose_check(out, len, &e) == -1)
			FUZZ_FAIL("compose_check refuses the output: %s",
			    e.msg);
		fuzz_reparse(out, len, &m);
	} else {
		if (rc != -1)
			FUZZ_FAIL("compose_message returned %d", rc);
		if (out != NULL || len != 0)
			FUZZ_FAIL("failure left output");
		if (e.msg[0] == '\0')
			FUZZ_FAIL("failure without a message");
		if (clean)
			FUZZ_FAIL("clean input refused: %s", e.msg);
	}
	free(out);
	g_free(subject);
	g_free(to_name);
	g_free(from_name);
	g_free(reply_name);
	g_free(text);
	g_free(html);
	g_free(ics);
	free(block);
	return 0;
}

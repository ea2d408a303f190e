/*
 * compose.c: builds one RFC 5322 / MIME message with GMime 3 from the words
 * render.c produced (and an iCalendar text when there is one), and checks the
 * result is what libESMTP needs: CRLF line ends only, 7-bit, no line over 998
 * octets, NUL-terminated.
 *
 * Headers are never built as text here: addresses go through GMime's
 * internet address objects and the subject through g_mime_message_set_subject,
 * so GMime does the quoting, RFC 2047 encoding and folding. Header inputs are
 * checked first: CR, LF or other control characters are refused (defence in
 * depth: records are validated before they get here).
 *
 * Threads: any thread. Every GObject is created and released inside
 * compose_message; nothing is shared. g_mime_init() is called once by main.
 */
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "compose.h"
#include "util.h"

#define COMPOSE_MAX_LINE	998

/* A header value: no control characters at all (CR and LF named). */
static int
compose_header_ok(const char *what, const char *s, struct err *e)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			return err_set(e, "%s holds a line break", what);
		if (*p < 0x20 || *p == 0x7f)
			return err_set(e, "%s holds control character 0x%02x",
			    what, *p);
	}
	return 0;
}

/* An addr-spec, kept simple: ASCII local@domain, nothing that ends it early. */
static int
compose_addr_ok(const char *what, const char *s, struct err *e)
{
	const char	*at, *p;

	if (s == NULL || *s == '\0')
		return err_set(e, "%s address is empty", what);
	if (compose_header_ok(what, s, e) == -1)
		return -1;
	if (strlen(s) > 254)
		return err_set(e, "%s address is longer than 254 characters",
		    what);
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			return err_set(e, "%s address is not ASCII", what);
		if (strchr(" <>()[],;:\"\\", *p) != NULL)
			return err_set(e, "%s address holds '%c'", what, *p);
	}
	if ((at = strchr(s, '@')) == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return err_set(e, "%s address is not local@domain", what);
	return 0;
}

/* A copy with CRLF and lone CR turned into LF (crlf 0) or every line end
 * made CRLF (crlf 1). */
static char *
compose_newlines(const char *s, int crlf)
{
	struct buf	b;

	buf_init(&b);
	for (; *s != '\0'; s++) {
		if (*s == '\r' || *s == '\n') {
			if (*s == '\r' && s[1] == '\n')
				s++;
			buf_adds(&b, crlf ? "\r\n" : "\n");
		} else
			buf_addc(&b, *s);
	}
	return buf_take(&b);
}

/* A part holding text (UTF-8, LF), with its own encoding. */
static GMimePart *
compose_part(const char *type, const char *subtype, const char *text,
    int crlf, GMimeContentEncoding enc)
{
	GMimePart		*part;
	GMimeStream		*stream;
	GMimeDataWrapper	*content;
	char			*canon;

	if (strcmp(type, "text") == 0) {
		part = GMIME_PART(g_mime_text_part_new_with_subtype(subtype));
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(part),
		    "charset", "utf-8");
	} else
		part = g_mime_part_new_with_type(type, subtype);
	canon = compose_newlines(text, crlf);
	stream = g_mime_stream_mem_new_with_buffer(canon, strlen(canon));
	free(canon);
	content = g_mime_data_wrapper_new_with_stream(stream,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(stream);
	g_mime_part_set_content(part, content);
	g_object_unref(content);
	g_mime_part_set_content_encoding(part, enc);
	return part;
}

/* "Name" <addr>, the name RFC 2047-encoded as UTF-8 by GMime if need be. */
static void
compose_mailbox(GMimeMessage *msg, GMimeAddressType type, const char *name,
    const char *addr)
{
	InternetAddress	*ia;

	ia = internet_address_mailbox_new(name && *name ? name : NULL, addr);
	internet_address_set_charset(ia, "utf-8");
	internet_address_list_add(g_mime_message_get_addresses(msg, type), ia);
	g_object_unref(ia);
}

static void
compose_add(GMimeMultipart *mp, GMimeObject *o)
{
	g_mime_multipart_add(mp, o);	/* takes its own reference */
	g_object_unref(o);
}

/*
 * A multipart whose boundary is "=_hb-" and its subtype. Every part inside
 * is quoted-printable or base64, and neither can write "=_" (quoted-
 * printable writes '=' as "=3D"; base64 has no '_'), so no part can hold
 * the boundary; the two multiparts of a message have different subtypes.
 * Set as the multipart is made, so GMime never makes a random one.
 */
static GMimeMultipart *
compose_multipart(const char *subtype)
{
	GMimeMultipart		*mp;
	GMimeContentType	*ct;
	char			 b[32];

	/* What g_mime_multipart_new_with_subtype() does, less the random
	 * boundary it makes first: that opens and reads /dev/urandom, once
	 * for each multipart of each email. */
	mp = g_object_new(GMIME_TYPE_MULTIPART, NULL);
	ct = g_mime_content_type_new("multipart", subtype);
	g_mime_object_set_content_type(GMIME_OBJECT(mp), ct);
	g_object_unref(ct);
	snprintf(b, sizeof b, "=_hb-%s", subtype);
	g_mime_multipart_set_boundary(mp, b);
	return mp;
}

int
compose_check(const char *msg, size_t len, struct err *e)
{
	size_t	i, col = 0, line = 1;

	for (i = 0; i < len; i++) {
		unsigned char c = msg[i];

		if (c == '\r') {
			if (i + 1 >= len || msg[i + 1] != '\n')
				return err_set(e, "line %zu: bare CR", line);
			continue;
		}
		if (c == '\n') {
			if (i == 0 || msg[i - 1] != '\r')
				return err_set(e, "line %zu: bare LF", line);
			line++;
			col = 0;
			continue;
		}
		if (c == '\0')
			return err_set(e, "line %zu: NUL byte", line);
		if (c >= 0x80)
			return err_set(e, "line %zu: 8-bit byte", line);
		if (++col > COMPOSE_MAX_LINE)
			return err_set(e, "line %zu: longer than %d octets",
			    line, COMPOSE_MAX_LINE);
	}
	return 0;
}

/*
 * Every input, before anything is built: the addresses, the texts that go
 * into headers, the Message-ID, the parts a message must have.
 */
static int
compose_inputs_ok(const struct mail *m, struct err *e)
{
	const char	*p;

	if (compose_addr_ok("From", m->from_addr, e) == -1 ||
	    compose_addr_ok("To", m->to_addr, e) == -1 ||
	    (m->reply_to_addr != NULL &&
	    compose_addr_ok("Reply-To", m->reply_to_addr, e) == -1))
		return -1;
	if ((m->from_name != NULL &&
	    compose_header_ok("From name", m->from_name, e) == -1) ||
	    (m->to_name != NULL &&
	    compose_header_ok("To name", m->to_name, e) == -1) ||
	    (m->reply_to_name != NULL &&
	    compose_header_ok("Reply-To name", m->reply_to_name, e) == -1))
		return -1;
	if (m->subject == NULL || *m->subject == '\0')
		return err_set(e, "no subject");
	if (compose_header_ok("Subject", m->subject, e) == -1)
		return -1;
	if (m->message_id == NULL || strchr(m->message_id, '@') == NULL ||
	    strlen(m->message_id) > 250)
		return err_set(e, "Message-ID must be id@domain (at most 250 "
		    "characters)");
	if (compose_header_ok("Message-ID", m->message_id, e) == -1)
		return -1;
	for (p = m->message_id; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80 || strchr(" <>()[],;:\"\\", *p))
			return err_set(e, "Message-ID holds '%c'", *p);
	if (m->text == NULL)
		return err_set(e, "no text part");
	if (m->list_unsubscribe != NULL) {
		if (strncmp(m->list_unsubscribe, "https://", 8) != 0 &&
		    strncmp(m->list_unsubscribe, "http://", 7) != 0)
			return err_set(e, "List-Unsubscribe must be a web "
			    "address");
		for (p = m->list_unsubscribe; *p != '\0'; p++)
			if ((unsigned char)*p <= ' ' ||
			    (unsigned char)*p >= 0x7f || *p == '<' || *p == '>')
				return err_set(e, "List-Unsubscribe holds a "
				    "character a URL may not");
	}
	if (m->ics != NULL && (m->ics_method == NULL ||
	    (strcmp(m->ics_method, "REQUEST") != 0 &&
	    strcmp(m->ics_method, "CANCEL") != 0)))
		return err_set(e, "calendar method must be REQUEST or CANCEL");
	return 0;
}

/* A new message with every header and no body yet. */
static GMimeMessage *
compose_headers(const struct mail *m)
{
	GMimeMessage	*msg;
	GDateTime	*dt;

	msg = g_mime_message_new(TRUE);
	compose_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, m->from_name,
	    m->from_addr);
	compose_mailbox(msg, GMIME_ADDRESS_TYPE_TO, m->to_name, m->to_addr);
	if (m->reply_to_addr != NULL)
		compose_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO,
		    m->reply_to_name, m->reply_to_addr);
	g_mime_message_set_subject(msg, m->subject, "utf-8");
	dt = g_date_time_new_from_unix_utc(m->date);
	g_mime_message_set_date(msg, dt);
	g_date_time_unref(dt);
	g_mime_message_set_message_id(msg, m->message_id);
	g_mime_object_set_header(GMIME_OBJECT(msg), "MIME-Version", "1.0",
	    NULL);
	g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted",
	    "auto-generated", NULL);
	if (m->list_unsubscribe != NULL) {
		char	*v = xasprintf("<%s>", m->list_unsubscribe);

		g_mime_object_set_header(GMIME_OBJECT(msg), "List-Unsubscribe",
		    v, NULL);
		g_mime_object_set_header(GMIME_OBJECT(msg),
		    "List-Unsubscribe-Post", "List-Unsubscribe=One-Click", NULL);
		free(v);
	}
	return msg;
}

/*
 * The calendar, twice: as the text/calendar alternative (with its METHOD)
 * added to alt, and as a file beside alt. Returns the multipart/mixed that
 * holds both (alt's reference passes to it).
 */
static GMimeObject *
compose_calendar(const struct mail *m, GMimeMultipart *alt)
{
	GMimeMultipart	*mixed;
	GMimePart	*part;

	part = compose_part("text", "calendar", m->ics, 0,
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "method",
	    m->ics_method);
	compose_add(alt, GMIME_OBJECT(part));

	/* The same calendar as a file, for clients that only look at
	 * attachments. Base64 keeps its CRLFs exactly as RFC 5545 wants
	 * them. */
	part = compose_part("application", "ics", m->ics, 1,
	    GMIME_CONTENT_ENCODING_BASE64);
	g_mime_object_set_disposition(GMIME_OBJECT(part), "attachment");
	g_mime_part_set_filename(part, "invite.ics");

	mixed = compose_multipart("mixed");
	compose_add(mixed, GMIME_OBJECT(alt));
	compose_add(mixed, GMIME_OBJECT(part));
	return GMIME_OBJECT(mixed);
}

/*
 * The body: the text part alone, or a multipart/alternative of text, HTML
 * and calendar (inside a multipart/mixed with the calendar file, when there
 * is a calendar). The caller owns the reference returned.
 */
static GMimeObject *
compose_body(const struct mail *m)
{
	GMimeMultipart	*alt;
	GMimePart	*text;

	text = compose_part("text", "plain", m->text, 0,
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	if (m->html == NULL && m->ics == NULL)
		return GMIME_OBJECT(text);
	alt = compose_multipart("alternative");
	compose_add(alt, GMIME_OBJECT(text));
	if (m->html != NULL)
		compose_add(alt, GMIME_OBJECT(compose_part("text", "html",
		    m->html, 0, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)));
	if (m->ics == NULL)
		return GMIME_OBJECT(alt);
	return compose_calendar(m, alt);
}

/* msg as text with CRLF line ends, checked, into a malloc'd copy. */
static int
compose_write(GMimeMessage *msg, char **out, size_t *len, struct err *e)
{
	GMimeFormatOptions	*fo;
	GMimeStream		*mem;
	GByteArray		*ba;

	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	mem = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, mem) == -1) {
		err_set(e, "GMime could not write the message");
		goto err;
	}
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	if (compose_check((const char *)ba->data, ba->len, e) == -1) {
		err_prefix(e, "composed message");
		goto err;
	}
	*out = xmalloc(ba->len + 1);
	memcpy(*out, ba->data, ba->len);
	(*out)[ba->len] = '\0';
	*len = ba->len;

	g_object_unref(mem);
	g_mime_format_options_free(fo);
	return 0;

err:
	g_object_unref(mem);
	g_mime_format_options_free(fo);
	return -1;
}

int
compose_message(const struct mail *m, char **out, size_t *len,
    struct err *e)
{
	GMimeMessage	*msg;
	GMimeObject	*body;
	int		 rc;

	*out = NULL;
	*len = 0;
	if (compose_inputs_ok(m, e) == -1)
		return -1;
	msg = compose_headers(m);
	body = compose_body(m);
	g_mime_message_set_mime_part(msg, body);
	g_object_unref(body);

	/* Parts above already have 7-bit encodings; this is the safety net. */
	g_mime_object_encode(GMIME_OBJECT(msg), GMIME_ENCODING_CONSTRAINT_7BIT);

	rc = compose_write(msg, out, len, e);
	g_object_unref(msg);
	return rc;
}

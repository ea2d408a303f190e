/*
 * compose.c: builds one RFC 5322 / MIME message from the words render.c
 * produced (and an iCalendar text when there is one), and checks the result
 * is what libESMTP needs: CRLF line ends only, 7-bit, no line over 998
 * octets, NUL-terminated.
 *
 * The message is written as text in one pass (a fan-out composes one per
 * person, and GMime's object model cost more than everything else in
 * building an email). What needs care is kept narrow:
 *   - header inputs are checked first: CR, LF or other control characters
 *     are refused (defence in depth: records are validated before they get
 *     here); addresses must be plain ASCII local@domain;
 *   - a name or subject that is not plain ASCII is RFC 2047-encoded by
 *     GMime's own encoder (g_mime_utils_header_encode_phrase / _text); an
 *     ASCII name with specials is a quoted-string; long headers are folded
 *     at spaces;
 *   - bodies are quoted-printable (RFC 2045, lines of at most 76), the
 *     calendar file base64; the boundaries begin with "=_", which neither
 *     encoding can produce, so no part can end early.
 * test_compose.c reads every shape back with GMime's parser.
 *
 * Threads: any thread; nothing is shared. g_mime_init() is called once by
 * main (for the header encoder).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "compose.h"
#include "util.h"

#define COMPOSE_MAX_LINE	998
#define COMPOSE_FOLD		78	/* fold headers longer than this */
#define COMPOSE_QP_LINE		76	/* quoted-printable, with its '=' */

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


/* Characters of an RFC 5322 atom, and space: a name made of them needs no
 * quotes. */
static int
compose_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == ' ' ||
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
compose_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/*
 * "Field: value" folded at spaces so that lines stay within COMPOSE_FOLD
 * where a space allows (a longer word stays whole: compose_check then
 * bounds it at 998).
 */
static void
compose_fold(struct buf *b, const char *field, const char *v)
{
	size_t	col, w;
	const char *sp;

	buf_adds(b, field);
	buf_adds(b, ": ");
	col = strlen(field) + 2;
	while (*v != '\0') {
		sp = strchr(v + 1, ' ');
		w = sp ? (size_t)(sp - v) : strlen(v);
		if (*v == ' ' && col + w > COMPOSE_FOLD && col > 1) {
			buf_adds(b, "\r\n");
			col = 0;
		}
		buf_add(b, v, w);
		col += w;
		v += w;
	}
	buf_adds(b, "\r\n");
}

/* "Field: name <addr>", the name encoded or quoted as it needs. */
static void
compose_mailbox(struct buf *b, const char *field, const char *name,
    const char *addr)
{
	struct buf	 v;
	char		*enc;
	const char	*p;

	buf_init(&v);
	if (name != NULL && *name != '\0') {
		if (!compose_ascii(name)) {
			enc = g_mime_utils_header_encode_phrase(NULL, name,
			    "utf-8");
			buf_adds(&v, enc);
			g_free(enc);
		} else {
			for (p = name; *p != '\0' && compose_atext(*p); p++)
				;
			if (*p == '\0' && name[0] != ' ')
				buf_adds(&v, name);
			else {
				buf_addc(&v, '"');
				for (p = name; *p != '\0'; p++) {
					if (*p == '"' || *p == '\\')
						buf_addc(&v, '\\');
					buf_addc(&v, *p);
				}
				buf_addc(&v, '"');
			}
		}
		buf_adds(&v, " <");
		buf_adds(&v, addr);
		buf_addc(&v, '>');
	} else
		buf_adds(&v, addr);
	compose_fold(b, field, v.s);
	buf_free(&v);
}

static void
compose_subject(struct buf *b, const char *subject)
{
	char	*enc;

	if (compose_ascii(subject)) {
		compose_fold(b, "Subject", subject);
		return;
	}
	enc = g_mime_utils_header_encode_text(NULL, subject, "utf-8");
	compose_fold(b, "Subject", enc);
	g_free(enc);
}

/* RFC 5322 date in UTC, English names whatever the locale. */
static void
compose_date(struct buf *b, long long when)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t		t = (time_t)when;
	struct tm	tm;

	gmtime_r(&t, &tm);
	buf_printf(b, "Date: %s, %d %s %d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* One line of text (no line end in it) as quoted-printable, CRLF after. */
static void
compose_qp_line(struct buf *b, const char *s, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 out[COMPOSE_QP_LINE + 8];
	size_t			 i, k = 0;
	unsigned char		 c;
	int			 lit;

	for (i = 0; i < n; i++) {
		c = s[i];
		lit = (c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && i + 1 < n);
		/* "From " at a line's start is mangled by some mailboxes. */
		if (k == 0 && c == 'F' && n - i >= 5 &&
		    memcmp(s + i, "From ", 5) == 0)
			lit = 0;
		if (k + (lit ? 1 : 3) > COMPOSE_QP_LINE - 1) {
			out[k++] = '=';
			buf_add(b, out, k);
			buf_add(b, "\r\n", 2);
			k = 0;
		}
		if (lit)
			out[k++] = c;
		else {
			out[k++] = '=';
			out[k++] = hex[c >> 4];
			out[k++] = hex[c & 15];
		}
	}
	buf_add(b, out, k);
	buf_add(b, "\r\n", 2);
}

/* Text (UTF-8; LF, CRLF or CR line ends) as quoted-printable lines. */
static void
compose_qp(struct buf *b, const char *s)
{
	const char	*e;

	while (*s != '\0') {
		e = s + strcspn(s, "\r\n");
		compose_qp_line(b, s, e - s);
		if (*e == '\0')
			break;
		s = e + (e[0] == '\r' && e[1] == '\n' ? 2 : 1);
	}
}

/* Bytes as base64, 76 characters a line. */
static void
compose_base64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char			 out[80];
	size_t			 i, k = 0;
	uint32_t		 v;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[k++] = b64[(v >> 18) & 63];
		out[k++] = b64[(v >> 12) & 63];
		out[k++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[k++] = i + 2 < n ? b64[v & 63] : '=';
		if (k == 76 || i + 3 >= n) {
			buf_add(b, out, k);
			buf_add(b, "\r\n", 2);
			k = 0;
		}
	}
}

/* The calendar with every line end CRLF, as RFC 5545 wants it. */
static char *
compose_crlf(const char *s)
{
	struct buf	 b;
	const char	*e;

	buf_init(&b);
	while (*s != '\0') {
		e = s + strcspn(s, "\r\n");
		buf_add(&b, s, e - s);
		buf_add(&b, "\r\n", 2);
		if (*e == '\0')
			break;
		s = e + (e[0] == '\r' && e[1] == '\n' ? 2 : 1);
	}
	return buf_take(&b);
}

/* A boundary: "=_" (never in quoted-printable or base64) and 24 random
 * characters. */
static void
compose_boundary(char *out, size_t len)
{
	static _Thread_local uint64_t	 x;
	static const char		 c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	struct timespec			 ts;
	size_t				 i;

	if (x == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
		    (uint64_t)(uintptr_t)&x;
		x |= 1;
	}
	out[0] = '=';
	out[1] = '_';
	for (i = 2; i + 1 < len; i++) {
		x ^= x << 13;	/* xorshift64 */
		x ^= x >> 7;
		x ^= x << 17;
		out[i] = c[x % (sizeof c - 1)];
	}
	out[i] = '\0';
}

/* A text part's headers and body. */
static void
compose_text_part(struct buf *b, const char *subtype, const char *text,
    const char *method)
{
	buf_printf(b, "Content-Type: text/%s; charset=utf-8%s%s\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", subtype,
	    method ? "; method=" : "", method ? method : "");
	compose_qp(b, text);
}

/* The calendar file beside the alternatives. */
static void
compose_ics_file(struct buf *b, const char *ics)
{
	char	*crlf = compose_crlf(ics);

	buf_adds(b, "Content-Type: application/ics; name=invite.ics\r\n"
	    "Content-Disposition: attachment; filename=invite.ics\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	compose_base64(b, (const unsigned char *)crlf, strlen(crlf));
	free(crlf);
}

/* multipart/alternative: text, HTML (if any), calendar (if any). */
static void
compose_alternative(struct buf *b, const struct mail *m)
{
	char	bd[27];

	compose_boundary(bd, sizeof bd);
	buf_printf(b, "Content-Type: multipart/alternative; boundary=\"%s\""
	    "\r\n\r\n--%s\r\n", bd, bd);
	compose_text_part(b, "plain", m->text, NULL);
	if (m->html != NULL) {
		buf_printf(b, "\r\n--%s\r\n", bd);
		compose_text_part(b, "html", m->html, NULL);
	}
	if (m->ics != NULL) {
		buf_printf(b, "\r\n--%s\r\n", bd);
		compose_text_part(b, "calendar", m->ics, m->ics_method);
	}
	buf_printf(b, "\r\n--%s--\r\n", bd);
}

/*
 * The body: the text part alone, or a multipart/alternative of text, HTML
 * and calendar (inside a multipart/mixed with the calendar file, when there
 * is a calendar).
 */
static void
compose_body(struct buf *b, const struct mail *m)
{
	char	bd[27];

	if (m->html == NULL && m->ics == NULL) {
		compose_text_part(b, "plain", m->text, NULL);
		return;
	}
	if (m->ics == NULL) {
		compose_alternative(b, m);
		return;
	}
	compose_boundary(bd, sizeof bd);
	buf_printf(b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
	    "--%s\r\n", bd, bd);
	compose_alternative(b, m);
	buf_printf(b, "\r\n--%s\r\n", bd);
	compose_ics_file(b, m->ics);
	buf_printf(b, "\r\n--%s--\r\n", bd);
}

int
compose_message(const struct mail *m, char **out, size_t *len,
    struct err *e)
{
	struct buf	b;

	*out = NULL;
	*len = 0;
	if (compose_inputs_ok(m, e) == -1)
		return -1;
	buf_init(&b);
	compose_mailbox(&b, "From", m->from_name, m->from_addr);
	compose_mailbox(&b, "To", m->to_name, m->to_addr);
	if (m->reply_to_addr != NULL)
		compose_mailbox(&b, "Reply-To", m->reply_to_name,
		    m->reply_to_addr);
	compose_subject(&b, m->subject);
	compose_date(&b, m->date);
	buf_printf(&b, "Message-Id: <%s>\r\nMIME-Version: 1.0\r\n"
	    "Auto-Submitted: auto-generated\r\n", m->message_id);
	if (m->list_unsubscribe != NULL)
		buf_printf(&b, "List-Unsubscribe: <%s>\r\n"
		    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
		    m->list_unsubscribe);
	compose_body(&b, m);
	if (compose_check(b.s, b.len, e) == -1) {
		err_prefix(e, "composed message");
		buf_free(&b);
		return -1;
	}
	*len = b.len;
	*out = buf_take(&b);
	return 0;
}

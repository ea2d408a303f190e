/*
 * record_text.c: owns the rules for text people read in a record (see
 * record_text.h): which characters may appear in a name, a title, one
 * line, a few lines or long text, how long it may be, and what may not go
 * into an email header (characters that hide text or turn it around, RFC
 * 2047 encoded words). What each field holds is record_value.c's; the walk
 * of a record is record_field.c's.
 *
 * Pure: no I/O, no global state; any thread.
 */
#include <stdio.h>
#include <string.h>

#include "record_field.h"
#include "record_text.h"

/*
 * Characters that hide text or change the order it shows in: in a name, a
 * title or a subject they make an email look as if it said something else
 * ("Amara" and "Am\u200bara" look the same; U+202E shows what follows
 * backwards). The direction controls are the bidirectional embeddings,
 * overrides, isolates and marks; the invisible ones are the zero-width
 * characters and the byte order mark. ZWNJ and ZWJ are part of how some
 * scripts (Persian, Indic scripts) and emoji are written: they are allowed
 * between two characters that are not ASCII, refused anywhere else.
 */
static const struct {
	unsigned long	 lo, hi;
	int		 direction;	/* else invisible */
	const char	*name;
} hidden[] = {
	{ 0x061c, 0x061c, 1, "ARABIC LETTER MARK" },
	{ 0x200b, 0x200b, 0, "ZERO WIDTH SPACE" },
	{ 0x200c, 0x200c, 0, "ZERO WIDTH NON-JOINER" },
	{ 0x200d, 0x200d, 0, "ZERO WIDTH JOINER" },
	{ 0x200e, 0x200f, 1, "a left-to-right or right-to-left mark" },
	{ 0x202a, 0x202e, 1, "a direction embedding or override" },
	{ 0x2060, 0x2064, 0, "an invisible joiner or operator" },
	{ 0x2066, 0x2069, 1, "a direction isolate" },
	{ 0xfeff, 0xfeff, 0, "ZERO WIDTH NO-BREAK SPACE" },
};

/* The code point at p (valid UTF-8: jansson checked it) and its length. */
static unsigned long
utf8_at(const unsigned char *p, size_t *n)
{
	if (p[0] < 0x80) {
		*n = 1;
		return p[0];
	}
	if (p[0] < 0xe0) {
		*n = 2;
		return (p[0] & 0x1fUL) << 6 | (p[1] & 0x3f);
	}
	if (p[0] < 0xf0) {
		*n = 3;
		return (p[0] & 0x0fUL) << 12 | (p[1] & 0x3fUL) << 6 |
		    (p[2] & 0x3f);
	}
	*n = 4;
	return (p[0] & 0x07UL) << 18 | (p[1] & 0x3fUL) << 12 |
	    (p[2] & 0x3fUL) << 6 | (p[3] & 0x3f);
}

/*
 * What goes in a header is read by mail programs: no hidden characters
 * (above), and no RFC 2047 encoded word, "=?utf-8?b?SGFja2Vk?=", which
 * they would show decoded ("Hacked") instead of the text as written.
 */
static int
check_header_text(const char *s, size_t len, struct err *e)
{
	const unsigned char	*p = (const unsigned char *)s;
	const char		*ew, *end;
	char			 q[RECORD_FIELD_QUOTE_MAX];
	unsigned long		 cp;
	size_t			 i, n, k;

	for (i = 0; i < len && p[i] != '\0'; i += n) {
		cp = utf8_at(p + i, &n);
		if (i + n > len)
			break;
		for (k = 0; k < sizeof hidden / sizeof hidden[0]; k++)
			if (cp >= hidden[k].lo && cp <= hidden[k].hi)
				break;
		if (k == sizeof hidden / sizeof hidden[0])
			continue;
		if ((cp == 0x200c || cp == 0x200d) && i > 0 && i + n < len &&
		    p[i - 1] >= 0x80 && p[i + n] >= 0x80)
			continue;	/* inside a word of another script */
		if (hidden[k].direction)
			return err_set(e, "contains U+%04lX (%s), which "
			    "changes the order in which text is shown, so the "
			    "email would not show what was written; remove it",
			    cp, hidden[k].name);
		return err_set(e, "contains U+%04lX (%s), an invisible "
		    "character, which can hide what the email says; remove it",
		    cp, hidden[k].name);
	}
	/* "=?" ... "?=" with no blank between: an encoded word. */
	for (ew = s; (ew = memmem(ew, len - (ew - s), "=?", 2)) != NULL;
	    ew += 2) {
		for (end = ew + 2; end + 1 < s + len && *end != ' ' &&
		    *end != '\t'; end++)
			if (end[0] == '?' && end[1] == '=')
				break;
		if (end + 1 < s + len && end[0] == '?' && end[1] == '=') {
			char	word[RECORD_FIELD_QUOTE_MAX];

			snprintf(word, sizeof word, "%.*s",
			    (int)(end + 2 - ew) < 100 ? (int)(end + 2 - ew) :
			    100, ew);
			return err_set(e, "contains %s, which mail programs "
			    "would show as other text (an RFC 2047 encoded "
			    "word); write the words themselves",
			    util_quote(q, sizeof q, word, 60));
		}
	}
	return 0;
}

/*
 * Text rules: no control characters (C0, DEL, C1), line breaks only where
 * the class allows, not empty or blank, not too long. The message does not
 * name the field; what names the header field (for "not allowed in a
 * subject").
 */
int
record_text_check(const char *s, size_t len, enum record_text_class cls,
    size_t maxchars, const char *what, struct err *e)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, chars = 0;
	int			 blank = 1;

	for (i = 0; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			chars++;
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n')
			blank = 0;
		if (p[i] == '\n' || p[i] == '\r') {
			if (cls == RECORD_TEXT_HEADER)
				return err_set(e, "contains a line break "
				    "(not allowed in a %s)", what);
			if (cls == RECORD_TEXT_LINE)
				return err_set(e, "contains a line break "
				    "(this field is one line)");
			if (p[i] == '\r')
				return err_set(e, "contains a carriage return "
				    "(\\r); use \\n alone for a new line");
			continue;
		}
		if (p[i] == '\t' && cls == RECORD_TEXT_TEXT)
			continue;
		if (p[i] < 0x20 || p[i] == 0x7f)
			return err_set(e, "contains a control character "
			    "(U+%04X%s)", p[i], p[i] == '\t' ? ", a tab" : "");
		/* C1 controls U+0080-U+009F are C2 80 - C2 9F in UTF-8. */
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f)
			return err_set(e, "contains a control character "
			    "(U+%04X)", p[i + 1]);
		/* U+2028, U+2029: line and paragraph separators. */
		if (cls == RECORD_TEXT_HEADER && p[i] == 0xe2 && i + 2 < len &&
		    p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
			return err_set(e, "contains a line break "
			    "(not allowed in a %s)", what);
	}
	if (blank)
		return err_set(e, "is empty (leave the field out instead)");
	if (maxchars > 0 && chars > maxchars)
		return err_set(e, "is too long (%zu characters, at most %zu)",
		    chars, maxchars);
	if (cls == RECORD_TEXT_HEADER)
		return check_header_text(s, len, e);
	return 0;
}

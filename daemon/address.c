/*
 * address.c: owns the question "is this an email address we can send to?".
 *
 * An address must pass our own reading of the RFC 5322 addr-spec grammar
 * (deliberately narrower than the RFC: dot-atom local parts only, no quoted
 * strings, no domain literals, no comments, ASCII only: without SMTPUTF8 a
 * relay takes no other) and then GMime's parser in strict mode must read
 * exactly one mailbox with the same address. The second check guards
 * against the two readings disagreeing.
 *
 * Any thread, after main has called g_mime_init(): each call makes its own
 * GMime parser options and address list and frees them before returning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "address.h"

#define ADDRESS_LABEL_MAX	63

/* Quote s for a message (util_quote: controls escaped, cut at 80). */
static const char *
address_quote(char *buf, size_t len, const char *s)
{
	return util_quote(buf, len, s, 80);
}

static int
address_atext(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

/* Dot-atom: atoms of atext separated by single dots. */
static int
address_local_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > ADDRESS_LOCAL_MAX)
		return 0;
	if (s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
			continue;
		}
		if (!address_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* An ASCII domain: at least two labels of letters, digits and inner hyphens;
 * the last label is not all digits (no bare IP addresses). */
static int
address_ascii_domain_ok(const char *s)
{
	const char	*label = s, *p;
	size_t		 len;
	int		 nlabels = 0, alldigits;
	unsigned char	 ch;

	if (*s == '\0' || strlen(s) > ADDRESS_MAX)
		return 0;
	for (;;) {
		p = label;
		alldigits = 1;
		while (*p != '\0' && *p != '.') {
			ch = (unsigned char)*p;
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-'))
				return 0;
			if (ch < '0' || ch > '9')
				alldigits = 0;
			p++;
		}
		len = p - label;
		if (len == 0 || len > ADDRESS_LABEL_MAX)
			return 0;
		if (label[0] == '-' || label[len - 1] == '-')
			return 0;
		nlabels++;
		if (*p == '\0')
			break;
		label = p + 1;
	}
	return nlabels >= 2 && !alldigits;
}

/*
 * The domain as the relay must see it: ASCII. A domain written in another
 * script ("ex\u00e4mple.org") is refused even when it is valid, because
 * sending to it would need SMTPUTF8, which neither libESMTP nor most relays
 * speak: the message would fail at the relay, days later, instead of here.
 * When it converts to IDNA, *ascii (if ascii is not NULL) is its ASCII form
 * ("xn--exmple-cua.org"), for the message; the caller g_free()s it.
 * Returns 1 for a good ASCII domain, 0 for a bad one, -1 for a non-ASCII one.
 */
static int
address_domain_ok(const char *s, char **ascii)
{
	const char	*p;
	char		*a;

	if (ascii != NULL)
		*ascii = NULL;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			break;
	if (*p == '\0')
		return address_ascii_domain_ok(s);
	if (!g_utf8_validate(s, -1, NULL) || (a = g_hostname_to_ascii(s)) == NULL)
		return -1;
	if (address_ascii_domain_ok(a) && ascii != NULL)
		*ascii = a;
	else
		g_free(a);
	return -1;
}

/* GMime must read exactly one mailbox; its address and name are returned. */
static InternetAddressList *
address_gmime_parse(const char *text, InternetAddressMailbox **mbp)
{
	GMimeParserOptions	*po;
	InternetAddressList	*l;
	InternetAddress		*a;

	*mbp = NULL;
	po = g_mime_parser_options_new();
	g_mime_parser_options_set_address_compliance_mode(po,
	    GMIME_RFC_COMPLIANCE_STRICT);
	l = internet_address_list_parse(po, text);
	g_mime_parser_options_free(po);
	if (l == NULL)
		return NULL;
	if (internet_address_list_length(l) != 1)
		return l;
	a = internet_address_list_get_address(l, 0);
	if (INTERNET_ADDRESS_IS_MAILBOX(a))
		*mbp = INTERNET_ADDRESS_MAILBOX(a);
	return l;
}

int
address_check(const char *addr, struct err *e)
{
	InternetAddressList	*l = NULL;
	InternetAddressMailbox	*mb;
	const char		*at, *p;
	char			 q[128], q2[128], alt[ADDRESS_MAX * 2];
	char			*ascii = NULL;
	size_t			 len;

	len = strlen(addr);
	if (len == 0 || len > ADDRESS_MAX)
		goto err;
	for (p = addr; *p != '\0'; p++) {
		/* No controls, spaces or specials anywhere. */
		if ((unsigned char)*p <= 0x20 || *p == 0x7f ||
		    strchr("<>,;:\"()[]\\", *p) != NULL)
			goto err;
	}
	if ((at = strchr(addr, '@')) == NULL || strchr(at + 1, '@') != NULL)
		goto err;
	if (!address_local_ok(addr, at - addr))
		goto err;
	switch (address_domain_ok(at + 1, &ascii)) {
	case 1:
		break;
	case -1:
		if (ascii == NULL)
			return err_set(e, "%s is not an email address we can "
			    "send to: its domain is not in ASCII letters (mail "
			    "relays take only ASCII domains); write the "
			    "domain's ASCII form (xn--...)",
			    address_quote(q, sizeof q, addr));
		snprintf(alt, sizeof alt, "%.*s@%s", (int)(at - addr), addr,
		    ascii);
		g_free(ascii);
		return err_set(e, "%s is not an email address we can send to: "
		    "its domain is not in ASCII letters (mail relays take "
		    "only ASCII domains); write its ASCII form instead: %s",
		    address_quote(q, sizeof q, addr),
		    address_quote(q2, sizeof q2, alt));
	default:
		goto err;
	}

	if ((l = address_gmime_parse(addr, &mb)) == NULL || mb == NULL)
		goto err;
	/* GMime shows a punycode domain decoded; either form may match. */
	if (strcmp(internet_address_mailbox_get_addr(mb), addr) != 0 &&
	    strcmp(internet_address_mailbox_get_idn_addr(mb), addr) != 0)
		goto err;
	g_object_unref(l);
	return 0;

err:
	if (l != NULL)
		g_object_unref(l);
	return err_set(e, "%s is not an email address",
	    address_quote(q, sizeof q, addr));
}

int
address_parse_mailbox(const char *text, char **name, char **addr,
    struct err *e)
{
	InternetAddressList	*l = NULL;
	InternetAddressMailbox	*mb;
	const char		*a, *n, *p, *lt;
	char			 q[128];
	size_t			 len;

	*name = *addr = NULL;
	for (p = text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			goto bad;
	if ((l = address_gmime_parse(text, &mb)) == NULL || mb == NULL)
		goto bad;
	a = internet_address_mailbox_get_addr(mb);
	if (address_check(a, e) == -1)
		goto err;

	/* The text must end with the address itself, bare or in <>. */
	while (*text == ' ' || *text == '\t')
		text++;
	len = strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len == strlen(a) && strncmp(text, a, len) == 0)
		n = "";
	else {
		if (len < 2 || text[len - 1] != '>' ||
		    (lt = memrchr(text, '<', len)) == NULL ||
		    (size_t)(text + len - 1 - (lt + 1)) != strlen(a) ||
		    strncmp(lt + 1, a, strlen(a)) != 0)
			goto bad;
		if ((n = internet_address_get_name(INTERNET_ADDRESS(mb))) == NULL)
			n = "";
	}
	for (p = n; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			goto bad;
	*name = xstrdup(n);
	*addr = xstrdup(a);
	g_object_unref(l);
	return 0;

bad:
	err_set(e, "%s is not a mailbox (write Name <address@example.org> "
	    "or just the address)", address_quote(q, sizeof q, text));
err:
	if (l != NULL)
		g_object_unref(l);
	return -1;
}

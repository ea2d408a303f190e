/*
 * test_address.c: an address must be one the relay can take (address.c).
 * Without SMTPUTF8 (libESMTP does not speak it) a domain must be ASCII: one
 * in another script, "user@ex\u00e4mple.org", used to pass and then fail at
 * the relay. It is refused with a message that says so and gives the ASCII
 * form to write instead; the record check and the config name the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gmime/gmime.h>

#include "address.h"
#include "config.h"
#include "record.h"
#include "util.h"

static const struct record_opts opts = { "Europe/London", 65536 };

static void
want(const char *msg, const char *part)
{
	if (strstr(msg, part) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", msg, part);
}

static void
test_ascii_domains_pass(void **state)
{
	static const char *const good[] = {
		"amara@example.org", "x@xn--exmple-cua.org",
		"ben@xn--bcher-kva.example", "A.B@Example.ORG", NULL
	};
	struct err	e;
	int		i;

	for (i = 0; good[i] != NULL; i++)
		if (address_check(good[i], &e) != 0)
			fail_msg("refused %s: %s", good[i], e.msg);
}

static void
test_idn_domain_refused_with_ascii_form(void **state)
{
	struct err	e;

	memset(&e, 0, sizeof e);
	assert_int_equal(address_check("user@ex\xc3\xa4mple.org", &e), -1);
	assert_string_equal(e.msg, "\"user@ex\xc3\xa4mple.org\" is not an "
	    "email address we can send to: its domain is not in ASCII "
	    "letters (mail relays take only ASCII domains); write its ASCII "
	    "form instead: \"user@xn--exmple-cua.org\"");

	/* Another script, and a subdomain. */
	assert_int_equal(address_check("amara@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc"
	    "\xd0\xb5\xd1\x80.example", &e), -1);
	want(e.msg, "write its ASCII form instead: \"amara@xn--");
	assert_int_equal(address_check("b@mail.b\xc3\xbc" "cher.example", &e),
	    -1);
	want(e.msg, "\"b@mail.xn--bcher-kva.example\"");
}

static void
test_idn_domain_without_ascii_form(void **state)
{
	struct err	e;

	/* Not a valid domain once converted (a label over 63 letters): no
	 * form to offer, but the same reason. */
	char	addr[200];

	snprintf(addr, sizeof addr, "a@\xc3\xa4%s.org",
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	assert_int_equal(address_check(addr, &e), -1);
	want(e.msg, "its domain is not in ASCII letters");
	want(e.msg, "write the domain's ASCII form (xn--...)");
	/* Not UTF-8 at all: simply not an address. */
	assert_int_equal(address_check("a@ex\xe4mple.org", &e), -1);
	want(e.msg, "is not an email address");
}

static void
test_record_names_the_field(void **state)
{
	const char	*t = "{\"type\": \"collaborator\", \"id\": \"c-u\", "
	    "\"name\": \"U\", \"email\": \"user@ex\xc3\xa4mple.org\", "
	    "\"consent\": true}";
	const char	*m = "{\"type\": \"meeting\", \"id\": \"m-1\", "
	    "\"title\": \"T\", \"start\": \"2026-12-01T18:00\", "
	    "\"end\": \"2026-12-01T19:00\", \"organiser\": {\"name\": \"O\", "
	    "\"email\": \"o@\xc3\xa4.example\"}}";
	struct record	r;
	struct err	e;

	memset(&e, 0, sizeof e);
	assert_int_equal(record_parse(t, strlen(t), &opts, &r, &e), -1);
	want(e.msg, "email: \"user@ex\xc3\xa4mple.org\" is not an email "
	    "address we can send to");
	want(e.msg, "\"user@xn--exmple-cua.org\"");
	assert_int_equal(record_parse(m, strlen(m), &opts, &r, &e), -1);
	want(e.msg, "organiser.email: ");
	want(e.msg, "\"o@xn--4ca.example\"");
}

static void
test_config_names_the_key(void **state)
{
	char		 path[] = "/tmp/hb-test-address-XXXXXX";
	const char	*text = "[redis]\nhost = 127.0.0.1\n[smtp]\n"
	    "host = 127.0.0.1\nfrom = Forum <forum@ex\xc3\xa4mple.org>\n";
	struct config	*cf;
	struct err	 e;
	int		 fd;

	if ((fd = mkstemp(path)) == -1)
		fail_msg("mkstemp");
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	memset(&e, 0, sizeof e);
	cf = config_load(path, &e);
	unlink(path);
	if (cf != NULL) {
		config_unref(cf);
		fail_msg("a from address with a non-ASCII domain was taken");
	}
	want(e.msg, "from");
	want(e.msg, "not in ASCII letters");
	want(e.msg, "forum@xn--exmple-cua.org");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_domains_pass),
		cmocka_unit_test(test_idn_domain_refused_with_ascii_form),
		cmocka_unit_test(test_idn_domain_without_ascii_form),
		cmocka_unit_test(test_record_names_the_field),
		cmocka_unit_test(test_config_names_the_key),
	};
	int	rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}

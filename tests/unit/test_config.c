/*
 * test_config.c: the INI file of SPEC section 7 (config.c): the example
 * loads with every value as written, an empty file gives the defaults, and
 * every bad value fails the whole load with a message naming the file, the
 * line and the key ("FILE: line N: [section] key: problem"), so that
 * hearbackd and hearback can exit 78 with something an operator can act on.
 *
 * Files are written with mkstemp under /tmp and removed after each test.
 */
#include <sys/stat.h>

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

#include "clock.h"
#include "config.h"
#include "util.h"

/* SPEC section 7, verbatim. */
static const char spec_example[] =
"[redis]\n"
"host = 127.0.0.1\n"
"port = 6379\n"
"password_file =            ; or a systemd credential\n"
"prefix = hearback\n"
"\n"
"[smtp]\n"
"host = 127.0.0.1\n"
"port = 587\n"
"tls = starttls             ; starttls | tls | none (none only for loopback)\n"
"ca_file =\n"
"user =\n"
"password_file =\n"
"from = Forum team <forum@example.org>\n"
"workers = 4\n"
"\n"
"[delivery]\n"
"timezone = Europe/London\n"
"reminders = 7d, 1d, 2h\n"
"min_notice = 14d\n"
"quiet_hours = 21:00-08:00\n"
"retry_min = 1m\n"
"retry_max = 1h\n"
"max_age = 5d\n"
"lease = 60s\n"
"feedback_due = 28d\n"
"\n"
"[notify]\n"
"coordinator = coordinator@example.org\n"
"digest_every = 1d         ; overdue \"you said\" digest, at most this often\n"
"\n"
"[templates]\n"
"dir = /etc/hearback/templates\n"
"\n"
"[http]\n"
"listen = 127.0.0.1:9187\n"
"\n"
"[daemon]\n"
"shutdown_timeout = 30s\n"
"max_record_bytes = 65536\n"
"\n"
"[web]                      ; section 9; off while base_url is empty\n"
"listen = 127.0.0.1:9188\n"
"base_url =                 ; the public https address a reverse proxy serves\n"
"                           ; (http is accepted for a loopback address, for tests)\n"
"key_file =                 ; secret for signed links, or the credential web-key\n"
"\n"
"[inbound]\n"
"address =                  ; section 9: envelope sender and calendar ORGANIZER\n";

/* Temporary files made by a test, removed by the teardown. */
static char	*tmpfiles[128];
static int	 ntmp;

static char *
tmpfile_with(const char *text)
{
	char	*path = xstrdup("/tmp/hb-test-config-XXXXXX");
	int	 fd;
	size_t	 len = strlen(text);

	if ((fd = mkstemp(path)) == -1)
		fail_msg("mkstemp: %m");
	if (write(fd, text, len) != (ssize_t)len)
		fail_msg("write: %m");
	close(fd);
	assert_true(ntmp < 128);
	tmpfiles[ntmp++] = path;
	return path;
}

static int
teardown(void **state)
{
	while (ntmp > 0) {
		ntmp--;
		unlink(tmpfiles[ntmp]);
		free(tmpfiles[ntmp]);
	}
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

static int
setup(void **state)
{
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

static struct config *
load_ok(const char *text)
{
	struct config	*cf;
	struct err	 e;
	char		*path = tmpfile_with(text);

	memset(&e, 0, sizeof e);
	if ((cf = config_load(path, &e)) == NULL)
		fail_msg("unexpected error: %s\nfor:\n%s", e.msg, text);
	assert_string_equal(cf->path, path);
	return cf;
}

/*
 * The load fails; the message starts with the file name and holds every
 * string in want (a NULL-terminated list).
 */
static void
load_bad(const char *text, ...)
{
	struct config	*cf;
	struct err	 e;
	char		*path = tmpfile_with(text);
	const char	*w;
	va_list		 ap;

	memset(&e, 0, sizeof e);
	if ((cf = config_load(path, &e)) != NULL) {
		config_unref(cf);
		fail_msg("accepted:\n%s", text);
	}
	if (strncmp(e.msg, path, strlen(path)) != 0 ||
	    strncmp(e.msg + strlen(path), ": ", 2) != 0)
		fail_msg("message \"%s\" does not start with \"%s: \"", e.msg,
		    path);
	va_start(ap, text);
	while ((w = va_arg(ap, const char *)) != NULL)
		if (strstr(e.msg, w) == NULL)
			fail_msg("message \"%s\" lacks \"%s\"\nfor:\n%s", e.msg,
			    w, text);
	va_end(ap);
}

static void
test_spec_example(void **state)
{
	struct config	*cf = load_ok(spec_example);

	assert_string_equal(cf->redis_host, "127.0.0.1");
	assert_int_equal(cf->redis_port, 6379);
	assert_null(cf->redis_password);
	assert_string_equal(cf->prefix, "hearback");

	assert_string_equal(cf->smtp_host, "127.0.0.1");
	assert_int_equal(cf->smtp_port, 587);
	assert_int_equal(cf->smtp_tls, CONFIG_TLS_STARTTLS);
	assert_null(cf->smtp_ca_file);
	assert_null(cf->smtp_user);
	assert_null(cf->smtp_password);
	assert_string_equal(cf->from, "Forum team <forum@example.org>");
	assert_string_equal(cf->from_name, "Forum team");
	assert_string_equal(cf->from_addr, "forum@example.org");
	assert_string_equal(cf->from_domain, "example.org");
	assert_int_equal(cf->workers, 4);

	assert_string_equal(cf->timezone, "Europe/London");
	assert_int_equal(cf->nreminders, 3);
	assert_int_equal(cf->reminders[0], 7 * 86400);
	assert_int_equal(cf->reminders[1], 86400);
	assert_int_equal(cf->reminders[2], 2 * 3600);
	assert_int_equal(cf->min_notice, 14 * 86400);
	assert_int_equal(cf->quiet_start, 1260);
	assert_int_equal(cf->quiet_end, 480);
	assert_int_equal(cf->retry_min, 60);
	assert_int_equal(cf->retry_max, 3600);
	assert_int_equal(cf->max_age, 5 * 86400);
	assert_int_equal(cf->lease, 60);
	assert_int_equal(cf->feedback_due, 28 * 86400);

	assert_string_equal(cf->coordinator, "coordinator@example.org");
	assert_int_equal(cf->digest_every, 86400);
	assert_string_equal(cf->templates_dir, "/etc/hearback/templates");
	assert_string_equal(cf->http_host, "127.0.0.1");
	assert_int_equal(cf->http_port, 9187);
	assert_int_equal(cf->shutdown_timeout, 30);
	assert_int_equal(cf->max_record_bytes, 65536);
	assert_int_equal(cf->refs, 1);
	config_unref(cf);
}

/* Every value different from the defaults, so each key is seen to land. */
static void
test_other_values(void **state)
{
	struct config	*cf;
	char		*pw = tmpfile_with("r3dis-secret\n");
	char		*spw = tmpfile_with("smtp-secret\r\n");
	char		*text;

	text = xasprintf(
	    "# a comment\n"
	    "; another\n"
	    "[redis]\n"
	    "host = redis.internal\n"
	    "port = 6380\n"
	    "password_file = %s\n"
	    "prefix = hb-test_1.x\n"
	    "[smtp]\n"
	    "host = mail.example.net\n"
	    "port = 465\n"
	    "tls = starttls\n"
	    "ca_file = /etc/ssl/ca.pem\n"
	    "user = forum\n"
	    "password_file = %s\n"
	    "from = forum@example.net\n"
	    "workers = 16\n"
	    "[delivery]\n"
	    "timezone = America/New_York\n"
	    "reminders = 40s, 20s\n"
	    "min_notice = 0s\n"
	    "quiet_hours = 22:30-07:15\n"
	    "retry_min = 5s\n"
	    "retry_max = 5s\n"
	    "max_age = 2h\n"
	    "lease = 5s\n"
	    "feedback_due = 3d\n"
	    "[notify]\n"
	    "coordinator = jo.patel@example.net\n"
	    "digest_every = 12h\n"
	    "[templates]\n"
	    "dir = /srv/templates\n"
	    "[http]\n"
	    "listen = [::1]:19187\n"
	    "[daemon]\n"
	    "shutdown_timeout = 2m\n"
	    "max_record_bytes = 1024\n", pw, spw);
	cf = load_ok(text);
	free(text);
	assert_string_equal(cf->redis_host, "redis.internal");
	assert_int_equal(cf->redis_port, 6380);
	assert_string_equal(cf->redis_password, "r3dis-secret");
	assert_string_equal(cf->prefix, "hb-test_1.x");
	assert_string_equal(cf->smtp_host, "mail.example.net");
	assert_int_equal(cf->smtp_port, 465);
	assert_int_equal(cf->smtp_tls, CONFIG_TLS_STARTTLS);
	assert_string_equal(cf->smtp_ca_file, "/etc/ssl/ca.pem");
	assert_string_equal(cf->smtp_user, "forum");
	assert_string_equal(cf->smtp_password, "smtp-secret");
	assert_string_equal(cf->from, "forum@example.net");
	assert_string_equal(cf->from_name, "");
	assert_string_equal(cf->from_addr, "forum@example.net");
	assert_string_equal(cf->from_domain, "example.net");
	assert_int_equal(cf->workers, 16);
	assert_string_equal(cf->timezone, "America/New_York");
	assert_int_equal(cf->nreminders, 2);
	assert_int_equal(cf->reminders[0], 40);
	assert_int_equal(cf->reminders[1], 20);
	assert_int_equal(cf->min_notice, 0);
	assert_int_equal(cf->quiet_start, 22 * 60 + 30);
	assert_int_equal(cf->quiet_end, 7 * 60 + 15);
	assert_int_equal(cf->retry_min, 5);
	assert_int_equal(cf->retry_max, 5);
	assert_int_equal(cf->max_age, 7200);
	assert_int_equal(cf->lease, 5);
	assert_int_equal(cf->feedback_due, 3 * 86400);
	assert_string_equal(cf->coordinator, "jo.patel@example.net");
	assert_int_equal(cf->digest_every, 12 * 3600);
	assert_string_equal(cf->templates_dir, "/srv/templates");
	assert_string_equal(cf->http_host, "::1");
	assert_int_equal(cf->http_port, 19187);
	assert_int_equal(cf->shutdown_timeout, 120);
	assert_int_equal(cf->max_record_bytes, 1024);
	config_unref(cf);

	/* Empty values that mean "none". */
	cf = load_ok("[delivery]\nreminders =\nquiet_hours = none\n"
	    "[http]\nlisten =\n");
	assert_int_equal(cf->nreminders, 0);
	assert_int_equal(cf->quiet_start, -1);
	assert_int_equal(cf->quiet_end, -1);
	assert_string_equal(cf->http_host, "");
	config_unref(cf);
}

static void
assert_defaults(const struct config *cf)
{
	assert_string_equal(cf->redis_host, "127.0.0.1");
	assert_int_equal(cf->redis_port, 6379);
	assert_null(cf->redis_password);
	assert_string_equal(cf->prefix, "hearback");
	assert_string_equal(cf->smtp_host, "127.0.0.1");
	assert_int_equal(cf->smtp_port, 587);
	assert_int_equal(cf->smtp_tls, CONFIG_TLS_STARTTLS);
	assert_null(cf->smtp_user);
	assert_null(cf->smtp_password);
	assert_non_null(cf->from_addr);
	assert_non_null(cf->from_domain);
	assert_int_equal(cf->workers, 4);
	assert_string_equal(cf->timezone, "Europe/London");
	assert_int_equal(cf->nreminders, 3);
	assert_int_equal(cf->reminders[0], 604800);
	assert_int_equal(cf->reminders[1], 86400);
	assert_int_equal(cf->reminders[2], 7200);
	assert_int_equal(cf->min_notice, 14 * 86400);
	assert_int_equal(cf->quiet_start, 1260);
	assert_int_equal(cf->quiet_end, 480);
	assert_int_equal(cf->retry_min, 60);
	assert_int_equal(cf->retry_max, 3600);
	assert_int_equal(cf->max_age, 5 * 86400);
	assert_int_equal(cf->lease, 60);
	assert_int_equal(cf->feedback_due, 28 * 86400);
	assert_int_equal(cf->digest_every, 86400);
	assert_string_equal(cf->http_host, "127.0.0.1");
	assert_int_equal(cf->http_port, 9187);
	assert_int_equal(cf->shutdown_timeout, 30);
	assert_int_equal(cf->max_record_bytes, 65536);
}

static void
test_defaults(void **state)
{
	struct config	*cf;

	cf = load_ok("");
	assert_defaults(cf);
	config_unref(cf);

	cf = load_ok("; only comments\n\n[redis]\n");
	assert_defaults(cf);
	config_unref(cf);

	cf = config_default();
	assert_defaults(cf);
	assert_int_equal(cf->refs, 1);
	config_unref(cf);
}

static void
test_errors(void **state)
{
	load_bad("[redis]\nhost = 127.0.0.1\nhots = x\n",
	    ": line 3: ", "[redis] hots", "unknown key", NULL);
	load_bad("[redis]\nport = 6379\n[smpt]\nhost = x\n",
	    ": line 4: ", "unknown section [smpt]", NULL);
	load_bad("[delivery]\n\nreminders = 7d, 1x\n",
	    ": line 3: ", "[delivery] reminders", "\"1x\"", NULL);
	load_bad("[delivery]\nreminders = 7d, 0s\n",
	    ": line 2: ", "[delivery] reminders", "more than 0", NULL);
	load_bad("[delivery]\nretry_min = 1.5m\n",
	    ": line 2: ", "[delivery] retry_min", "\"1.5m\"", NULL);
	load_bad("[delivery]\nmax_age = 0s\n",
	    ": line 2: ", "[delivery] max_age", "too short", NULL);
	load_bad("[delivery]\nlease = 1s\n",
	    ": line 2: ", "[delivery] lease", NULL);
	load_bad("[delivery]\nquiet_hours = 21:00\n",
	    ": line 2: ", "[delivery] quiet_hours", NULL);
	load_bad("[delivery]\nquiet_hours = 25:00-08:00\n",
	    ": line 2: ", "[delivery] quiet_hours", NULL);
	load_bad("[daemon]\nshutdown_timeout = forever\n",
	    ": line 2: ", "[daemon] shutdown_timeout", "\"forever\"", NULL);
	load_bad("[redis]\nport = 0\n", ": line 2: ", "[redis] port",
	    "\"0\"", NULL);
	load_bad("[redis]\nport = 65536\n", ": line 2: ", "[redis] port",
	    "\"65536\"", NULL);
	load_bad("[smtp]\nport = 25x\n", ": line 2: ", "[smtp] port",
	    "\"25x\"", NULL);
	load_bad("[smtp]\nport =\n", ": line 2: ", "[smtp] port", NULL);
	load_bad("[smtp]\nworkers = 0\n", ": line 2: ", "[smtp] workers", NULL);
	load_bad("[http]\nlisten = 127.0.0.1:99999\n", ": line 2: ",
	    "[http] listen", NULL);
	load_bad("[http]\nlisten = 9187\n", ": line 2: ", "[http] listen",
	    NULL);
	load_bad("[smtp]\ntls = ssl\n", ": line 2: ", "[smtp] tls", "\"ssl\"",
	    NULL);
	load_bad("[smtp]\ntls = STARTTLS\n", ": line 2: ", "[smtp] tls", NULL);
	load_bad("[smtp]\nfrom = Forum team\n", ": line 2: ", "[smtp] from",
	    NULL);
	load_bad("[smtp]\nfrom = Forum <forum@>\n", ": line 2: ", "[smtp] from",
	    NULL);
	load_bad("[notify]\ncoordinator = coordinator\n", ": line 2: ",
	    "[notify] coordinator", NULL);
	load_bad("[notify]\ncoordinator = Jo <jo@example.org>\n", ": line 2: ",
	    "[notify] coordinator", NULL);
	load_bad("[delivery]\ntimezone = Mars/Olympus_Mons\n", ": line 2: ",
	    "[delivery] timezone", "Mars/Olympus_Mons", NULL);
	load_bad("[redis]\nprefix = a{b}\n", ": line 2: ", "[redis] prefix",
	    NULL);
	load_bad("[redis]\nprefix =\n", ": line 2: ", "[redis] prefix", NULL);
	load_bad("[templates]\ndir =\n", ": line 2: ", "[templates] dir", NULL);
	load_bad("[daemon]\nmax_record_bytes = 10\n", ": line 2: ",
	    "[daemon] max_record_bytes", NULL);
	/* Not INI at all. */
	load_bad("[redis\n", ": line 1: ", NULL);
	load_bad("[redis]\njust words\n", ": line 2: ", NULL);
	/* The first error is the one reported. */
	load_bad("[redis]\nport = x\nhots = y\n", ": line 2: ", "[redis] port",
	    NULL);
}

/* A key before any section: the message names the key, not "[]". */
static void
test_no_section(void **state)
{
	load_bad("host = x\n", ": line 1: ", "host", NULL);
}

static void
test_cross_checks(void **state)
{
	struct config	*cf;

	load_bad("[delivery]\nretry_min = 2h\nretry_max = 1h\n",
	    "retry_max", "retry_min", NULL);
	/* Equal is fine. */
	cf = load_ok("[delivery]\nretry_min = 1h\nretry_max = 60m\n");
	assert_int_equal(cf->retry_min, 3600);
	assert_int_equal(cf->retry_max, 3600);
	config_unref(cf);

	/* tls = none only for loopback, wherever the host line is. */
	load_bad("[smtp]\nhost = mail.example.org\ntls = none\n",
	    "[smtp] tls", "mail.example.org", NULL);
	load_bad("[smtp]\ntls = none\nhost = 10.0.0.1\n",
	    "[smtp] tls", "10.0.0.1", NULL);
	load_bad("[smtp]\ntls = none\nhost = localhost.example.org\n",
	    "[smtp] tls", NULL);
	load_bad("[smtp]\ntls = none\nhost = ::2\n", "[smtp] tls", NULL);

	cf = load_ok("[smtp]\nhost = 127.0.0.1\ntls = none\n");
	assert_int_equal(cf->smtp_tls, CONFIG_TLS_NONE);
	config_unref(cf);
	cf = load_ok("[smtp]\nhost = localhost\ntls = none\n");
	assert_int_equal(cf->smtp_tls, CONFIG_TLS_NONE);
	config_unref(cf);
	cf = load_ok("[smtp]\nhost = ::1\ntls = none\n");
	assert_int_equal(cf->smtp_tls, CONFIG_TLS_NONE);
	config_unref(cf);
	/* Implicit TLS (port 465), for any host. */
	cf = load_ok("[smtp]\nhost = mail.example.org\nport = 465\n"
	    "tls = tls\n");
	assert_int_equal(cf->smtp_tls, CONFIG_TLS_TLS);
	assert_int_equal(cf->smtp_port, 465);
	config_unref(cf);
	/* The default host is loopback. */
	cf = load_ok("[smtp]\ntls = none\nport = 2525\n");
	assert_int_equal(cf->smtp_tls, CONFIG_TLS_NONE);
	assert_int_equal(cf->smtp_port, 2525);
	config_unref(cf);
}

/* [redis] tunnel, and the warning for Redis reached in clear text. */
static void
test_redis_exposed(void **state)
{
	struct config	*cf;
	char		 buf[512];

	load_bad("[redis]\ntunnel = maybe\n", "[redis] tunnel", "maybe", NULL);
	cf = load_ok("[redis]\n");
	assert_false(cf->redis_tunnel);
	assert_null(config_redis_exposed(cf, buf, sizeof buf));
	config_unref(cf);
	cf = load_ok("[redis]\nhost = redis.example.org\nport = 6380\n");
	assert_non_null(config_redis_exposed(cf, buf, sizeof buf));
	assert_non_null(strstr(buf, "redis.example.org:6380"));
	assert_non_null(strstr(buf, "tunnel = yes"));
	config_unref(cf);
	/* A Unix socket, loopback, or a declared tunnel on loopback: fine. */
	cf = load_ok("[redis]\nhost = 10.0.0.1\nsocket = /run/r.sock\n");
	assert_null(config_redis_exposed(cf, buf, sizeof buf));
	config_unref(cf);
	cf = load_ok("[redis]\nhost = ::1\n");
	assert_null(config_redis_exposed(cf, buf, sizeof buf));
	config_unref(cf);
	cf = load_ok("[redis]\nhost = 127.0.0.1\ntunnel = yes\n");
	assert_true(cf->redis_tunnel);
	assert_null(config_redis_exposed(cf, buf, sizeof buf));
	config_unref(cf);
	/* A tunnel elsewhere: the way to it is clear text. */
	cf = load_ok("[redis]\nhost = 10.0.0.1\ntunnel = yes\n");
	assert_non_null(config_redis_exposed(cf, buf, sizeof buf));
	assert_non_null(strstr(buf, "not a loopback address"));
	config_unref(cf);
}

static void
test_unreadable(void **state)
{
	struct config	*cf;
	struct err	 e;
	char		 dir[] = "/tmp/hb-test-config-dir-XXXXXX";

	memset(&e, 0, sizeof e);
	cf = config_load("/nonexistent/hearback.conf", &e);
	assert_null(cf);
	assert_non_null(strstr(e.msg, "/nonexistent/hearback.conf"));
	assert_non_null(strstr(e.msg, "No such file"));

	/* A directory is not a config file (fopen succeeds, reading fails). */
	assert_non_null(mkdtemp(dir));
	memset(&e, 0, sizeof e);
	cf = config_load(dir, &e);
	rmdir(dir);
	if (cf != NULL) {
		config_unref(cf);
		fail_msg("config_load(\"%s\") of a directory succeeded", dir);
	}
	assert_non_null(strstr(e.msg, dir));
}

static void
test_secrets(void **state)
{
	struct config	*cf;
	char		*text, *pw;
	char		 dir[] = "/tmp/hb-test-config-cred-XXXXXX";
	char		*cred;
	FILE		*f;

	/* The password file holds the secret on its first line. */
	pw = tmpfile_with("hunter2\n");
	text = xasprintf("[redis]\npassword_file = %s\n", pw);
	cf = load_ok(text);
	free(text);
	assert_string_equal(cf->redis_password, "hunter2");
	config_unref(cf);

	/* Without a trailing newline too; spaces inside are kept. */
	pw = tmpfile_with("pass word");
	text = xasprintf("[redis]\npassword_file = %s\n", pw);
	cf = load_ok(text);
	free(text);
	assert_string_equal(cf->redis_password, "pass word");
	config_unref(cf);

	/* A file everyone may read is no secret: refused, saying what to do. */
	pw = tmpfile_with("hunter2\n");
	assert_int_equal(chmod(pw, 0644), 0);
	text = xasprintf("[redis]\npassword_file = %s\n", pw);
	load_bad(text, "[redis] password_file", pw, "chmod 600", NULL);
	free(text);
	assert_int_equal(chmod(pw, 0640), 0);	/* a group's: fine */
	text = xasprintf("[redis]\npassword_file = %s\n", pw);
	cf = load_ok(text);
	free(text);
	config_unref(cf);

	/* Missing and empty files are errors naming the key and file. */
	load_bad("[redis]\npassword_file = /nonexistent/redis.pw\n",
	    "[redis] password_file", "/nonexistent/redis.pw", NULL);
	pw = tmpfile_with("");
	text = xasprintf("[redis]\npassword_file = %s\n", pw);
	load_bad(text, "[redis] password_file", NULL);
	free(text);
	load_bad("[smtp]\nuser = forum\npassword_file = /nonexistent/smtp.pw\n",
	    "[smtp] password_file", "/nonexistent/smtp.pw", NULL);

	/* A user without a password is an error. */
	load_bad("[smtp]\nuser = forum\n", "[smtp] user", "password", NULL);

	/* systemd credentials, when password_file is empty. */
	assert_non_null(mkdtemp(dir));
	cred = xasprintf("%s/redis-password", dir);
	assert_non_null(f = fopen(cred, "w"));
	fputs("from-credential\n", f);
	fclose(f);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	cf = load_ok("[redis]\npassword_file =\n");
	assert_string_equal(cf->redis_password, "from-credential");
	assert_null(cf->smtp_password);
	config_unref(cf);
	/* An explicit file wins over the credential. */
	pw = tmpfile_with("from-file\n");
	text = xasprintf("[redis]\npassword_file = %s\n", pw);
	cf = load_ok(text);
	free(text);
	assert_string_equal(cf->redis_password, "from-file");
	config_unref(cf);
	/* The SMTP credential satisfies user =. */
	free(cred);
	cred = xasprintf("%s/smtp-password", dir);
	assert_non_null(f = fopen(cred, "w"));
	fputs("smtp-cred\n", f);
	fclose(f);
	cf = load_ok("[smtp]\nuser = forum\n");
	assert_string_equal(cf->smtp_user, "forum");
	assert_string_equal(cf->smtp_password, "smtp-cred");
	config_unref(cf);
	unlink(cred);
	free(cred);
	cred = xasprintf("%s/redis-password", dir);
	unlink(cred);
	free(cred);
	/* No credential files at all: no password, no error. */
	cf = load_ok("[redis]\nport = 6379\n");
	assert_null(cf->redis_password);
	config_unref(cf);
	rmdir(dir);
	unsetenv("CREDENTIALS_DIRECTORY");
}

/* [web] and [inbound] (SPEC sections 7 and 9). */
static void
test_web(void **state)
{
	struct config	*cf;
	char		*text, *key;
	char		 dir[] = "/tmp/hb-test-config-cred-XXXXXX";
	char		*cred;
	FILE		*f;

	/* Off by default: no base URL, no key needed. */
	cf = load_ok("[web]\nlisten = 127.0.0.1:9300\n");
	assert_null(cf->web_base_url);
	assert_null(cf->web_key);
	assert_string_equal(cf->web_host, "127.0.0.1");
	assert_int_equal(cf->web_port, 9300);
	assert_null(cf->inbound_address);
	config_unref(cf);

	key = tmpfile_with("0123456789abcdef0123456789abcdef\n");
	text = xasprintf("[web]\nbase_url = https://forum.example.org/hb/\n"
	    "key_file = %s\n[inbound]\naddress = replies@example.org\n",
	    key);
	cf = load_ok(text);
	free(text);
	assert_string_equal(cf->web_base_url, "https://forum.example.org/hb");
	assert_string_equal(cf->web_key, "0123456789abcdef0123456789abcdef");
	assert_string_equal(cf->inbound_address, "replies@example.org");
	config_unref(cf);

	/* http only for loopback; no query; a key is needed. */
	text = xasprintf("[web]\nbase_url = http://127.0.0.1:9188\n"
	    "key_file = %s\n", key);
	cf = load_ok(text);
	free(text);
	config_unref(cf);
	text = xasprintf("[web]\nbase_url = http://forum.example.org\n"
	    "key_file = %s\n", key);
	load_bad(text, "line 2", "[web] base_url", "loopback", NULL);
	free(text);
	load_bad("[web]\nbase_url = ftp://x.example.org\n", "[web] base_url",
	    "https", NULL);
	load_bad("[web]\nbase_url = https://x.example.org/?a=b\n",
	    "[web] base_url", NULL);
	load_bad("[web]\nbase_url = https://x.example.org\n", "[web]",
	    "no key", "web-key", NULL);
	load_bad("[web]\nlisten = nowhere\n", "[web] listen", NULL);
	load_bad("[web]\ncolour = blue\n", "[web] colour", "unknown key",
	    NULL);
	load_bad("[inbound]\naddress = not an address\n", "[inbound] address",
	    NULL);

	/* A key others can read is refused, like password_file. */
	assert_int_equal(chmod(key, 0644), 0);
	text = xasprintf("[web]\nbase_url = https://x.example.org\n"
	    "key_file = %s\n", key);
	load_bad(text, "[web] key_file", "chmod 600", NULL);
	free(text);
	/* Too short a key. */
	key = tmpfile_with("short\n");
	text = xasprintf("[web]\nbase_url = https://x.example.org\n"
	    "key_file = %s\n", key);
	load_bad(text, "[web] key_file", "too short", NULL);
	free(text);

	/* The web-key credential. */
	assert_non_null(mkdtemp(dir));
	cred = xasprintf("%s/web-key", dir);
	assert_non_null(f = fopen(cred, "w"));
	fputs("credential-key-0123456789\n", f);
	fclose(f);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	cf = load_ok("[web]\nbase_url = https://x.example.org\n");
	assert_string_equal(cf->web_key, "credential-key-0123456789");
	config_unref(cf);
	unlink(cred);
	free(cred);
	rmdir(dir);
	unsetenv("CREDENTIALS_DIRECTORY");
}

/* The key prefix (store.h builds the names from it), and references. */
static void
test_prefix_and_refs(void **state)
{
	struct config	*cf;

	cf = load_ok("[redis]\nprefix = hb-test\n");
	assert_string_equal(cf->prefix, "hb-test");

	assert_ptr_equal(config_ref(cf), cf);
	assert_int_equal(cf->refs, 2);
	config_unref(cf);
	assert_int_equal(cf->refs, 1);
	config_unref(cf);
	config_unref(NULL);

	cf = config_default();
	assert_string_equal(cf->prefix, "hearback");
	config_unref(cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spec_example, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_values, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cross_checks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_redis_exposed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_web, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_and_refs, setup,
		    teardown),
	};
	int	rc;

	g_mime_init();
	clock_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}

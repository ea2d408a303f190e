/*
 * test_sender.c: the sender (relay.c, tunnel.c, libESMTP) against a real
 * SMTP server (tests/smtp_sink.py, TLS 1.3 unless a test caps it), and
 * against scripted relays in threads where a test needs a server to
 * misbehave on purpose.
 *
 * Each test starts the sink on a kernel-chosen port with its own directory
 * and stops it in the teardown, which cmocka runs on failure too. Run from
 * the repository root (or set SMTP_SINK to the script's path); the sink
 * needs only Debian's /usr/bin/python3.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>
#include <pthread.h>

#include "config.h"
#include "sender.h"
#include "util.h"

struct sink {
	pid_t	 pid;
	int	 port;
	char	 dir[64];
	char	 certdir[64];	/* test_starttls's certificate, if any */
};

static const char MSG1[] =
    "Date: Tue, 10 Nov 2026 10:00:00 +0000\r\n"
    "From: Forum team <forum@example.org>\r\n"
    "To: \"Amara\" <amara@example.net>\r\n"
    "Subject: Invitation one\r\n"
    "Message-ID: <inv.1@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Hello.\r\n"
    ".A line that starts with a dot.\r\n"
    "..and two dots.\r\n"
    "\r\n"
    "Bye.\r\n";

static const char MSG2[] =
    "Date: Tue, 10 Nov 2026 10:00:01 +0000\r\n"
    "From: Forum team <forum@example.org>\r\n"
    "To: \"Ben\" <nobody@example.net>\r\n"
    "Subject: Invitation two\r\n"
    "Message-ID: <inv.2@example.org>\r\n"
    "\r\n"
    "This one is refused at RCPT.\r\n";

static const char MSG3[] =
    "Date: Tue, 10 Nov 2026 10:00:02 +0000\r\n"
    "From: Forum team <forum@example.org>\r\n"
    "To: \"Cleo\" <cleo@example.net>\r\n"
    "Subject: Invitation three\r\n"
    "Message-ID: <inv.3@example.org>\r\n"
    "\r\n"
    "Third message, same connection.\r\n";

/* Start the sink with extra arguments (NULL-terminated); wait for "ready". */
static void
sink_start(struct sink *k, const char *const *extra)
{
	const char	*script = getenv("SMTP_SINK");
	const char	*argv[32];
	char		 line[1024], buf[1024];
	struct pollfd	 pfd;
	size_t		 have = 0;
	ssize_t		 r;
	int		 p[2], argc = 0, ready = 0, waited = 0;
	char		*nl;

	if (script == NULL)
		script = "tests/smtp_sink.py";
	snprintf(k->dir, sizeof k->dir, "/tmp/hb-sender-XXXXXX");
	assert_non_null(mkdtemp(k->dir));

	argv[argc++] = "/usr/bin/python3";
	argv[argc++] = script;
	argv[argc++] = "--port";
	argv[argc++] = "0";
	argv[argc++] = "--dir";
	argv[argc++] = k->dir;
	while (extra != NULL && *extra != NULL && argc < 30)
		argv[argc++] = *extra++;
	argv[argc] = NULL;

	assert_int_equal(pipe(p), 0);
	k->pid = fork();
	assert_true(k->pid >= 0);
	if (k->pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);

	/* Read "port N" and "ready", 15 s at most. */
	pfd.fd = p[0];
	pfd.events = POLLIN;
	while (!ready && waited < 15000) {
		if (poll(&pfd, 1, 100) <= 0) {
			waited += 100;
			continue;
		}
		r = read(p[0], buf + have, sizeof buf - 1 - have);
		if (r <= 0)
			break;
		have += r;
		buf[have] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			snprintf(line, sizeof line, "%s", buf);
			memmove(buf, nl + 1, have - (nl + 1 - buf) + 1);
			have = strlen(buf);
			if (sscanf(line, "port %d", &k->port) == 1)
				continue;
			if (strcmp(line, "ready") == 0)
				ready = 1;
		}
	}
	close(p[0]);
	assert_true(ready);
	assert_true(k->port > 0);
}

/* Remove a flat directory and empty the name. */
static void
rmdir_flat(char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[512];

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
	dir[0] = '\0';
}

/* Stop the sink (if running) and remove its directories. */
static void
sink_stop(struct sink *k)
{
	if (k->pid > 0) {
		kill(k->pid, SIGTERM);
		waitpid(k->pid, NULL, 0);
		k->pid = 0;
	}
	rmdir_flat(k->dir);
	rmdir_flat(k->certdir);
}

/* Count the .eml files the sink stored. */
static int
sink_count(struct sink *k)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 l;
	int		 n = 0;

	assert_non_null(d = opendir(k->dir));
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".eml") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* The bytes of stored message number i (1-based); caller frees. */
static char *
sink_read(struct sink *k, int i, size_t *len)
{
	char		 path[512];
	struct err	 e;
	char		*s;

	snprintf(path, sizeof path, "%s/%06d.eml", k->dir, i);
	s = util_readfile(path, 1 << 20, len, &e);
	if (s == NULL)
		fail_msg("%s", e.msg);
	return s;
}

/* A config built by hand: config_default() is not ours to call. */
static void
mkconfig(struct config *cf, int port)
{
	memset(cf, 0, sizeof *cf);
	cf->smtp_host = "127.0.0.1";
	cf->smtp_port = port;
	cf->smtp_tls = CONFIG_TLS_NONE;
	cf->from_addr = "forum@example.org";
}

static void
mkmsg(struct outmsg *m, const char *rcpt, const char *text)
{
	memset(m, 0, sizeof *m);
	m->rcpt = rcpt;
	m->text = text;
	m->verdict = VERDICT_PERM;	/* sender_send must overwrite */
	m->code = -1;
	snprintf(m->reply, sizeof m->reply, "unset");
}

static int
setup(void **state)
{
	*state = xcalloc(1, sizeof(struct sink));
	return 0;
}

static int
teardown(void **state)
{
	sink_stop(*state);
	free(*state);
	return 0;
}

static void
test_verdict_classes(void **state)
{
	assert_int_equal(sender_verdict(250), VERDICT_OK);
	assert_int_equal(sender_verdict(221), VERDICT_OK);
	assert_int_equal(sender_verdict(451), VERDICT_TEMP);
	assert_int_equal(sender_verdict(421), VERDICT_TEMP);
	assert_int_equal(sender_verdict(550), VERDICT_PERM);
	assert_int_equal(sender_verdict(554), VERDICT_PERM);
	assert_int_equal(sender_verdict(0), VERDICT_TEMP);
	assert_int_equal(sender_verdict(354), VERDICT_TEMP);
	assert_int_equal(sender_verdict(-1), VERDICT_TEMP);
	assert_int_equal(sender_verdict(600), VERDICT_TEMP);
}

/* Three messages, one session; the middle one is refused at RCPT with 550. */
static void
test_batch_with_reject(void **state)
{
	struct sink		*k = *state;
	static const char *const args[] = { "--reject", "nobody@example.net",
	    NULL };
	struct config		 cf;
	struct outmsg		 m[3];
	size_t			 len;
	char			*s;

	sink_start(k, args);
	mkconfig(&cf, k->port);
	mkmsg(&m[0], "amara@example.net", MSG1);
	mkmsg(&m[1], "nobody@example.net", MSG2);
	mkmsg(&m[2], "cleo@example.net", MSG3);
	sender_send(&cf, m, 3);

	assert_int_equal(m[0].verdict, VERDICT_OK);
	assert_int_equal(m[0].code, 250);
	assert_int_equal(m[1].verdict, VERDICT_PERM);
	assert_int_equal(m[1].code, 550);
	assert_int_equal(m[2].verdict, VERDICT_OK);
	assert_int_equal(m[2].code, 250);
	/* The server's text named the address; the reply must not. */
	assert_non_null(strstr(m[1].reply, "550"));
	assert_null(strchr(m[1].reply, '@'));
	assert_non_null(strstr(m[1].reply, "[address]"));

	/* Stored byte for byte as given, in order. */
	assert_int_equal(sink_count(k), 2);
	s = sink_read(k, 1, &len);
	assert_int_equal(len, strlen(MSG1));
	assert_memory_equal(s, MSG1, len);
	free(s);
	s = sink_read(k, 2, &len);
	assert_int_equal(len, strlen(MSG3));
	assert_memory_equal(s, MSG3, len);
	free(s);
}

static void
test_tempfail(void **state)
{
	struct sink		*k = *state;
	static const char *const args[] = { "--tempfail-every", "1", NULL };
	struct config		 cf;
	struct outmsg		 m[2];

	sink_start(k, args);
	mkconfig(&cf, k->port);
	mkmsg(&m[0], "amara@example.net", MSG1);
	mkmsg(&m[1], "cleo@example.net", MSG3);
	sender_send(&cf, m, 2);
	assert_int_equal(m[0].verdict, VERDICT_TEMP);
	assert_int_equal(m[0].code, 451);
	assert_int_equal(m[1].verdict, VERDICT_TEMP);
	assert_int_equal(m[1].code, 451);
	assert_non_null(strstr(m[0].reply, "451"));
	assert_int_equal(sink_count(k), 0);
}

static int	sink_log_count(const char *, const char *);

/* A feed for sender_session: groups handed out in turn, and the order in
 * which they come back. */
struct feedt {
	struct outmsg	 g[3][2];
	int		 size[3];
	int		 next, ngroups;
	int		 asked;		/* more() calls */
	int		 last_max;	/* the max more() was given last */
	long		 done[8];	/* tags, in the order done */
	int		 ndone;
	int		 unset;		/* a message done without a verdict */
};

static int
feedt_more(void *arg, int max, struct outmsg **m, void **tag)
{
	struct feedt	*f = arg;
	int		 n;

	f->asked++;
	f->last_max = max;
	if (f->next == f->ngroups)
		return 0;
	n = f->size[f->next] < max ? f->size[f->next] : max;
	*m = f->g[f->next];
	*tag = (void *)(long)(f->next + 1);
	f->next++;
	return n;
}

static void
feedt_done(void *arg, struct outmsg *m, int n, void *tag)
{
	struct feedt	*f = arg;
	int		 i;

	for (i = 0; i < n; i++)
		if (m[i].code == -1 || strcmp(m[i].reply, "unset") == 0)
			f->unset++;
	if (f->ndone < 8)
		f->done[f->ndone++] = (long)tag;
}

/*
 * One connection for the first group and the groups the feed gives after
 * it (the first holding a recipient refused at RCPT), each group handed
 * back once, in order, with every message's own verdict.
 */
static void
test_feed_one_connection(void **state)
{
	struct sink		*k = *state;
	static const char	*args[] = { "--reject", "nobody@example.net",
	    "--log", NULL, NULL };
	char			 log[96];
	struct config		 cf;
	struct outmsg		 first[2];
	struct feedt		 f;
	struct sender_feed	 feed = { feedt_more, feedt_done, &f, 10 };

	snprintf(log, sizeof log, "/tmp/hb-sender-feed-%d.log", (int)getpid());
	unlink(log);
	args[3] = log;
	sink_start(k, args);
	mkconfig(&cf, k->port);
	memset(&f, 0, sizeof f);
	mkmsg(&first[0], "nobody@example.net", MSG2);
	mkmsg(&first[1], "amara@example.net", MSG1);
	mkmsg(&f.g[0][0], "cleo@example.net", MSG3);
	f.size[0] = 1;
	mkmsg(&f.g[1][0], "ben@example.net", MSG1);
	mkmsg(&f.g[1][1], "dan@example.net", MSG3);
	f.size[1] = 2;
	f.ngroups = 2;
	sender_session(&cf, first, 2, (void *)100L, &feed);

	assert_int_equal(f.ndone, 3);
	assert_int_equal(f.done[0], 100);
	assert_int_equal(f.done[1], 1);
	assert_int_equal(f.done[2], 2);
	assert_int_equal(f.unset, 0);
	assert_int_equal(first[0].verdict, VERDICT_PERM);
	assert_int_equal(first[0].code, 550);
	assert_int_equal(first[1].verdict, VERDICT_OK);
	assert_int_equal(f.g[0][0].verdict, VERDICT_OK);
	assert_int_equal(f.g[1][0].verdict, VERDICT_OK);
	assert_int_equal(f.g[1][1].verdict, VERDICT_OK);
	assert_int_equal(f.g[1][1].code, 250);
	assert_int_equal(f.asked, 3);		/* the third said no more */
	assert_int_equal(sink_count(k), 4);
	assert_int_equal(sink_log_count(log, " open "), 1);

	/* At most feed.max messages on the connection: with 3, the feed is
	 * asked for 1 after the first group of 2, and then not again. */
	memset(&f, 0, sizeof f);
	feed.max = 3;
	mkmsg(&first[0], "amara@example.net", MSG1);
	mkmsg(&first[1], "cleo@example.net", MSG3);
	mkmsg(&f.g[0][0], "ben@example.net", MSG1);
	mkmsg(&f.g[0][1], "dan@example.net", MSG3);
	f.size[0] = 2;
	f.ngroups = 1;
	sender_session(&cf, first, 2, (void *)100L, &feed);
	assert_int_equal(f.asked, 1);
	assert_int_equal(f.last_max, 1);
	assert_int_equal(f.ndone, 2);
	assert_int_equal(f.unset, 0);
	assert_string_equal(f.g[0][1].reply, "unset");	/* never handed in */
	assert_int_equal(f.g[0][0].verdict, VERDICT_OK);
	assert_int_equal(sink_count(k), 7);
	assert_int_equal(sink_log_count(log, " open "), 2);
	unlink(log);
}

/* Per-message verdicts across groups on one connection: 451 for every
 * second message, whichever group it is in; a group whose last message
 * is refused takes no more. */
static void
test_feed_tempfail(void **state)
{
	struct sink		*k = *state;
	static const char *const args[] = { "--tempfail-every", "2", NULL };
	struct config		 cf;
	struct outmsg		 first[1];
	struct feedt		 f;
	struct sender_feed	 feed = { feedt_more, feedt_done, &f, 100 };

	sink_start(k, args);
	mkconfig(&cf, k->port);
	memset(&f, 0, sizeof f);
	mkmsg(&first[0], "amara@example.net", MSG1);
	mkmsg(&f.g[0][0], "cleo@example.net", MSG3);
	mkmsg(&f.g[0][1], "ben@example.net", MSG1);
	f.size[0] = 2;
	mkmsg(&f.g[1][0], "dan@example.net", MSG3);
	f.size[1] = 1;
	f.ngroups = 2;
	sender_session(&cf, first, 1, (void *)100L, &feed);
	assert_int_equal(f.ndone, 3);
	assert_int_equal(f.unset, 0);
	assert_int_equal(first[0].verdict, VERDICT_OK);
	assert_int_equal(f.g[0][0].verdict, VERDICT_TEMP);
	assert_int_equal(f.g[0][0].code, 451);
	assert_int_equal(f.g[0][1].verdict, VERDICT_OK);
	assert_int_equal(f.g[1][0].verdict, VERDICT_TEMP);
	assert_int_equal(f.asked, 2);		/* not after dan's 451 */
	assert_int_equal(sink_count(k), 2);
}

/* A port nobody listens on: TEMP quickly, and libESMTP never called. */
static void
test_closed_port(void **state)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof sin;
	struct config		 cf;
	struct outmsg		 m[2];
	struct timespec		 t0, t1;
	int			 fd, port;

	/* Bind a port, then close it: nothing listens there now. */
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	close(fd);

	mkconfig(&cf, port);
	mkmsg(&m[0], "amara@example.net", MSG1);
	mkmsg(&m[1], "cleo@example.net", MSG3);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sender_send(&cf, m, 2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	assert_int_equal(m[0].verdict, VERDICT_TEMP);
	assert_int_equal(m[0].code, 0);
	assert_int_equal(m[1].verdict, VERDICT_TEMP);
	assert_non_null(strstr(m[0].reply, "connect to smtp 127.0.0.1:"));
	assert_non_null(strstr(m[1].reply, "failed"));
}

/* An unresolvable host: TEMP, no hang. */
static void
test_bad_host(void **state)
{
	struct config	cf;
	struct outmsg	m;

	mkconfig(&cf, 25);
	cf.smtp_host = "no-such-host.invalid";
	mkmsg(&m, "amara@example.net", MSG1);
	sender_send(&cf, &m, 1);
	assert_int_equal(m.verdict, VERDICT_TEMP);
	assert_non_null(strstr(m.reply, "connect to smtp no-such-host.invalid"));
}

/* STARTTLS required, server without it: TEMP with the reason, nothing stored. */
static void
test_starttls_not_offered(void **state)
{
	struct sink	*k = *state;
	struct config	 cf;
	struct outmsg	 m;

	sink_start(k, NULL);
	mkconfig(&cf, k->port);
	cf.smtp_tls = CONFIG_TLS_STARTTLS;
	mkmsg(&m, "amara@example.net", MSG1);
	sender_send(&cf, &m, 1);
	assert_int_equal(m.verdict, VERDICT_TEMP);
	assert_non_null(strstr(m.reply, "STARTTLS"));
	assert_int_equal(sink_count(k), 0);
}

/* A bad ca_file is reported, not crashed on. */
static void
test_bad_ca_file(void **state)
{
	struct sink	*k = *state;
	struct config	 cf;
	struct outmsg	 m;

	sink_start(k, NULL);
	mkconfig(&cf, k->port);
	cf.smtp_tls = CONFIG_TLS_STARTTLS;
	cf.smtp_ca_file = "/nonexistent/ca.pem";
	mkmsg(&m, "amara@example.net", MSG1);
	sender_send(&cf, &m, 1);
	assert_int_equal(m.verdict, VERDICT_TEMP);
	assert_non_null(strstr(m.reply, "/nonexistent/ca.pem"));
}

/* AUTH PLAIN with the right password delivers; a wrong one is TEMP, not PERM. */
static void
test_auth(void **state)
{
	struct sink		*k = *state;
	static const char *const args[] = { "--auth", "hb:s3cret", NULL };
	struct config		 cf;
	struct outmsg		 m;

	sink_start(k, args);
	mkconfig(&cf, k->port);
	cf.smtp_user = "hb";
	cf.smtp_password = "s3cret";
	mkmsg(&m, "amara@example.net", MSG1);
	sender_send(&cf, &m, 1);
	assert_int_equal(m.verdict, VERDICT_OK);
	assert_int_equal(sink_count(k), 1);

	cf.smtp_password = "wrong";
	mkmsg(&m, "amara@example.net", MSG1);
	sender_send(&cf, &m, 1);
	assert_int_equal(m.verdict, VERDICT_TEMP);
	assert_int_equal(m.code / 100, 5);
	assert_int_equal(sink_count(k), 1);
}

/* Bad input: an empty recipient or text is PERM and does not spoil the batch. */
static void
test_bad_message(void **state)
{
	struct sink	*k = *state;
	struct config	 cf;
	struct outmsg	 m[3];

	sink_start(k, NULL);
	mkconfig(&cf, k->port);
	mkmsg(&m[0], "", MSG1);
	mkmsg(&m[1], "cleo@example.net", MSG3);
	mkmsg(&m[2], "amara@example.net", "");
	sender_send(&cf, m, 3);
	assert_int_equal(m[0].verdict, VERDICT_PERM);
	assert_int_equal(m[1].verdict, VERDICT_OK);
	assert_int_equal(m[2].verdict, VERDICT_PERM);
	assert_int_equal(sink_count(k), 1);
}

/*
 * A self-signed certificate for name (an IP address or a DNS name) in dir,
 * as dir/cert.pem and dir/key.pem; 0 if openssl made one. The tests use the
 * address 127.0.0.1, not "localhost": a minimal machine may have no
 * /etc/hosts.
 */
static int
mkcert(const char *dir, const char *name, int is_ip)
{
	char	cmd[1024];

	snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey rsa:2048 -nodes "
	    "-keyout %s/key.pem -out %s/cert.pem -days 2 -subj /CN=%s "
	    "-addext subjectAltName=%s:%s >/dev/null 2>&1", dir, dir, name,
	    is_ip ? "IP" : "DNS", name);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * Make a certificate for name in k->certdir and start a sink that offers
 * STARTTLS with it, or speaks implicit TLS if more holds "--implicit-tls";
 * more (NULL-terminated, may be NULL) is passed on.
 */
static void
tls_sink_start(struct sink *k, const char *name, int is_ip, char *cert,
    size_t certlen, const char *const *more)
{
	char		 key[128];
	const char	*args[16];
	int		 argc = 4;

	snprintf(k->certdir, sizeof k->certdir, "/tmp/hb-sender-tls-XXXXXX");
	assert_non_null(mkdtemp(k->certdir));
	snprintf(cert, certlen, "%s/cert.pem", k->certdir);
	snprintf(key, sizeof key, "%s/key.pem", k->certdir);
	if (mkcert(k->certdir, name, is_ip) == -1)
		skip();		/* no openssl command: teardown cleans up */
	args[0] = "--tls-cert";
	args[1] = cert;
	args[2] = "--tls-key";
	args[3] = key;
	while (more != NULL && *more != NULL && argc < 15)
		args[argc++] = *more++;
	args[argc] = NULL;
	sink_start(k, args);
}

/*
 * STARTTLS with our own SSL_CTX trusting ca_file: delivered; twice, so a
 * second TLS session in the same process is exercised too. Without the CA
 * the server's certificate is refused: TEMP, nothing stored.
 */
static void
test_starttls(void **state)
{
	struct sink	*k = *state;
	char		 cert[128];
	struct config	 cf;
	struct outmsg	 m[2];
	int		 round;

	tls_sink_start(k, "127.0.0.1", 1, cert, sizeof cert, NULL);
	mkconfig(&cf, k->port);
	cf.smtp_tls = CONFIG_TLS_STARTTLS;
	cf.smtp_ca_file = cert;
	for (round = 0; round < 2; round++) {
		mkmsg(&m[0], "amara@example.net", MSG1);
		mkmsg(&m[1], "cleo@example.net", MSG3);
		sender_send(&cf, m, 2);
		assert_int_equal(m[0].verdict, VERDICT_OK);
		assert_int_equal(m[1].verdict, VERDICT_OK);
	}
	assert_int_equal(sink_count(k), 4);

	cf.smtp_ca_file = NULL;		/* system store: self-signed refused */
	mkmsg(&m[0], "amara@example.net", MSG1);
	sender_send(&cf, m, 1);
	assert_int_equal(m[0].verdict, VERDICT_TEMP);
	assert_int_equal(m[0].code, 0);
	assert_int_equal(sink_count(k), 4);
}

/* How many lines of the sink's --log file contain what. */
static int
sink_log_count(const char *path, const char *what)
{
	FILE	*f = fopen(path, "r");
	char	 line[2048];
	int	 n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, what) != NULL)
			n++;
	fclose(f);
	return n;
}

/*
 * STARTTLS with AUTH at the TLS version the sink allows (1.3 unless
 * tls_max caps it): three messages in one session, over one connection
 * (no probe before it), the version really negotiated, no command sent
 * before the reply it waits on (the sink logs a VIOLATION and hangs up),
 * and the password never in clear. Then a wrong password: 535, refused,
 * nothing tried.
 */
static void
starttls_auth_round(struct sink *k, const char *tls_max, const char *want)
{
	char			 cert[128], ldir[64], log[96];
	const char		*more[7];
	struct config		 cf;
	struct outmsg		 m[3];
	int			 i;

	snprintf(ldir, sizeof ldir, "/tmp/hb-sender-log-XXXXXX");
	assert_non_null(mkdtemp(ldir));
	snprintf(log, sizeof log, "%s/smtp.log", ldir);
	more[0] = "--auth";
	more[1] = "hb:s3cret";
	more[2] = "--tls-max";
	more[3] = tls_max;
	more[4] = "--log";
	more[5] = log;
	more[6] = NULL;
	tls_sink_start(k, "127.0.0.1", 1, cert, sizeof cert, more);
	mkconfig(&cf, k->port);
	cf.smtp_tls = CONFIG_TLS_STARTTLS;
	cf.smtp_ca_file = cert;
	cf.smtp_user = "hb";
	cf.smtp_password = "s3cret";
	mkmsg(&m[0], "amara@example.net", MSG1);
	mkmsg(&m[1], "cleo@example.net", MSG3);
	mkmsg(&m[2], "ben@example.net", MSG1);
	sender_send(&cf, m, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(m[i].verdict, VERDICT_OK);
	assert_int_equal(sink_count(k), 3);
	assert_int_equal(sink_log_count(log, " open "), 1);
	assert_int_equal(sink_log_count(log, want), 1);
	assert_int_equal(sink_log_count(log, "VIOLATION"), 0);
	assert_int_equal(sink_log_count(log, "s3cret"), 0);

	cf.smtp_password = "wrong";
	mkmsg(&m[0], "amara@example.net", MSG1);
	sender_send(&cf, m, 1);
	assert_int_equal(m[0].verdict, VERDICT_TEMP);
	assert_int_equal(m[0].code, 535);
	assert_int_equal(m[0].refused, 1);
	assert_int_equal(sink_count(k), 3);
	assert_int_equal(sink_log_count(log, " open "), 2);
	unlink(log);
	rmdir(ldir);
}

static void
test_starttls_auth_tls13(void **state)
{
	starttls_auth_round(*state, "1.3", "TLS TLSv1.3");
}

static void
test_starttls_auth_tls12(void **state)
{
	starttls_auth_round(*state, "1.2", "TLS TLSv1.2");
}

/*
 * A STARTTLS sink (certificate for certname; more passed on) that the
 * sender must refuse, reached as host (NULL: 127.0.0.1) with AUTH set:
 * TEMP, `refused`, the reply saying why, nothing stored.
 */
static void
starttls_refused(struct sink *k, const char *certname, int is_ip,
    const char *const *more, const char *host, const char *why)
{
	struct config	 cf;
	struct outmsg	 m;
	char		 cert[128];

	tls_sink_start(k, certname, is_ip, cert, sizeof cert, more);
	mkconfig(&cf, k->port);
	if (host != NULL)
		cf.smtp_host = (char *)host;
	cf.smtp_tls = CONFIG_TLS_STARTTLS;
	cf.smtp_ca_file = cert;
	cf.smtp_user = "hb";
	cf.smtp_password = "s3cret";
	mkmsg(&m, "amara@example.net", MSG1);
	sender_send(&cf, &m, 1);
	assert_int_equal(m.verdict, VERDICT_TEMP);
	assert_int_equal(m.refused, 1);
	assert_non_null(strstr(m.reply, why));
	assert_int_equal(sink_count(k), 0);
}

/*
 * The same man in the middle as test_starttls_injection_refused, played by
 * the sink: it answers STARTTLS with its 220 and a forged reply in one
 * write. Refused, nothing delivered, and the sink saw no command after
 * STARTTLS.
 */
static void
test_starttls_injection_sink(void **state)
{
	static const char *const more[] = { "--inject-after-starttls",
	    "250-forged\\r\\n250 ok\\r\\n", NULL };

	starttls_refused(*state, "127.0.0.1", 1, more, NULL, "tampering");
}

/*
 * A trusted certificate for another name is refused: TEMP, refused (only
 * the operator can mend it), nothing stored.
 */
static void
test_starttls_wrong_name(void **state)
{
	starttls_refused(*state, "relay.example.org", 0, NULL, NULL,
	    "does not name the smtp host");
}

/*
 * A message of about 300 KB in CRLF lines, some starting with a dot: bigger
 * than any buffer between libESMTP and the relay, so the TLS pump's partial
 * writes are exercised. Caller frees.
 */
static char *
bigmsg(void)
{
	struct buf	b;
	int		i;

	buf_init(&b);
	buf_adds(&b, "Date: Tue, 10 Nov 2026 10:00:03 +0000\r\n"
	    "From: Forum team <forum@example.org>\r\n"
	    "To: \"Dee\" <dee@example.net>\r\n"
	    "Subject: A long agenda\r\n"
	    "Message-ID: <big.1@example.org>\r\n\r\n");
	for (i = 0; i < 4000; i++)
		buf_printf(&b, "%sLine %05d of the agenda, long enough to "
		    "matter over TLS.\r\n", i % 7 == 0 ? "." : "", i);
	return buf_take(&b);
}

/*
 * Implicit TLS (port 465): three messages over one connection, the middle
 * one refused at RCPT; then a 300 KB message; the rest stored byte for
 * byte, twice over so a second tunnel in the same process is exercised.
 * Without the CA the certificate is refused before any SMTP: TEMP, nothing
 * more stored.
 */
static void
test_tls_implicit(void **state)
{
	struct sink		*k = *state;
	static const char *const more[] = { "--implicit-tls", "--reject",
	    "nobody@example.net", NULL };
	struct config		 cf;
	struct outmsg		 m[3];
	char			 cert[128], *big, *s;
	size_t			 len;
	int			 round, base;

	tls_sink_start(k, "127.0.0.1", 1, cert, sizeof cert, more);
	mkconfig(&cf, k->port);
	cf.smtp_tls = CONFIG_TLS_TLS;
	cf.smtp_ca_file = cert;
	big = bigmsg();
	for (round = 0; round < 2; round++) {
		base = sink_count(k);
		mkmsg(&m[0], "amara@example.net", MSG1);
		mkmsg(&m[1], "nobody@example.net", MSG2);
		mkmsg(&m[2], "cleo@example.net", MSG3);
		sender_send(&cf, m, 3);
		assert_int_equal(m[0].verdict, VERDICT_OK);
		assert_int_equal(m[0].code, 250);
		assert_int_equal(m[1].verdict, VERDICT_PERM);
		assert_int_equal(m[1].code, 550);
		assert_null(strchr(m[1].reply, '@'));
		assert_int_equal(m[2].verdict, VERDICT_OK);

		mkmsg(&m[0], "dee@example.net", big);
		sender_send(&cf, m, 1);
		assert_int_equal(m[0].verdict, VERDICT_OK);

		assert_int_equal(sink_count(k), base + 3);
		s = sink_read(k, base + 1, &len);
		assert_int_equal(len, strlen(MSG1));
		assert_memory_equal(s, MSG1, len);
		free(s);
		s = sink_read(k, base + 2, &len);
		assert_int_equal(len, strlen(MSG3));
		assert_memory_equal(s, MSG3, len);
		free(s);
		s = sink_read(k, base + 3, &len);
		assert_int_equal(len, strlen(big));
		assert_memory_equal(s, big, len);
		free(s);
	}
	free(big);

	cf.smtp_ca_file = NULL;		/* system store: self-signed refused */
	mkmsg(&m[0], "amara@example.net", MSG1);
	sender_send(&cf, m, 1);
	assert_int_equal(m[0].verdict, VERDICT_TEMP);
	assert_int_equal(m[0].code, 0);
	assert_non_null(strstr(m[0].reply, "certificate is not trusted"));
	assert_int_equal(m[0].refused, 1);
	assert_int_equal(sink_count(k), 6);
}

/* Implicit TLS: a trusted certificate for another name is refused. */
static void
test_tls_implicit_wrong_name(void **state)
{
	struct sink		*k = *state;
	static const char *const more[] = { "--implicit-tls", NULL };
	struct config		 cf;
	struct outmsg		 m;
	char			 cert[128];

	tls_sink_start(k, "relay.example.org", 0, cert, sizeof cert, more);
	mkconfig(&cf, k->port);
	cf.smtp_tls = CONFIG_TLS_TLS;
	cf.smtp_ca_file = cert;
	mkmsg(&m, "amara@example.net", MSG1);
	sender_send(&cf, &m, 1);
	assert_int_equal(m.verdict, VERDICT_TEMP);
	assert_int_equal(m.code, 0);
	assert_non_null(strstr(m.reply, "does not name the smtp host"));
	assert_int_equal(sink_count(k), 0);
}

/*
 * Implicit TLS to a server that speaks plain SMTP (a port 587 set up by
 * mistake): TEMP at once, saying so, nothing stored.
 */
static void
test_tls_implicit_plain_server(void **state)
{
	struct sink	*k = *state;
	struct config	 cf;
	struct outmsg	 m;
	struct timespec	 t0, t1;

	sink_start(k, NULL);
	mkconfig(&cf, k->port);
	cf.smtp_tls = CONFIG_TLS_TLS;
	mkmsg(&m, "amara@example.net", MSG1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sender_send(&cf, &m, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	assert_int_equal(m.verdict, VERDICT_TEMP);
	assert_int_equal(m.code, 0);
	assert_non_null(strstr(m.reply, "did not answer in TLS"));
	assert_int_equal(sink_count(k), 0);
}

/* AUTH over implicit TLS: the right password delivers, a wrong one is TEMP. */
static void
test_tls_implicit_auth(void **state)
{
	struct sink		*k = *state;
	static const char *const more[] = { "--implicit-tls", "--auth",
	    "hb:s3cret", NULL };
	struct config		 cf;
	struct outmsg		 m;
	char			 cert[128];

	tls_sink_start(k, "127.0.0.1", 1, cert, sizeof cert, more);
	mkconfig(&cf, k->port);
	cf.smtp_tls = CONFIG_TLS_TLS;
	cf.smtp_ca_file = cert;
	cf.smtp_user = "hb";
	cf.smtp_password = "s3cret";
	mkmsg(&m, "amara@example.net", MSG1);
	sender_send(&cf, &m, 1);
	assert_int_equal(m.verdict, VERDICT_OK);
	assert_int_equal(sink_count(k), 1);

	/* A wrong password: the login is refused (535), clearly, and nothing
	 * was tried: the operator must act, the email must not be used up. */
	cf.smtp_password = "wrong";
	mkmsg(&m, "amara@example.net", MSG1);
	sender_send(&cf, &m, 1);
	assert_int_equal(m.verdict, VERDICT_TEMP);
	assert_int_equal(m.code, 535);
	assert_int_equal(m.refused, 1);
	assert_non_null(strstr(m.reply, "refused the login: 535"));
	assert_int_equal(sink_count(k), 1);
}

/*
 * "two.test" resolves to 127.0.0.1 and then 127.0.0.2, like a relay with two
 * A records; every other name resolves as usual. libESMTP and sender.c call
 * getaddrinfo() through the dynamic linker, so they get this one.
 */
static int (*real_getaddrinfo)(const char *, const char *,
    const struct addrinfo *, struct addrinfo **);
static pthread_once_t real_getaddrinfo_once = PTHREAD_ONCE_INIT;

static void
find_getaddrinfo(void)
{
	real_getaddrinfo = (int (*)(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **))dlsym(RTLD_NEXT,
	    "getaddrinfo");
}

/* One address; one block, as glibc's freeaddrinfo() frees it. */
static struct addrinfo *
fake_ai(const char *ip, int port, struct addrinfo *next)
{
	struct addrinfo		*ai;
	struct sockaddr_in	*sin;

	ai = xcalloc(1, sizeof *ai + sizeof *sin);
	sin = (struct sockaddr_in *)(ai + 1);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
	ai->ai_family = AF_INET;
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_protocol = IPPROTO_TCP;
	ai->ai_addrlen = sizeof *sin;
	ai->ai_addr = (struct sockaddr *)sin;
	ai->ai_next = next;
	return ai;
}

int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	int	port;

	if (node != NULL && strcmp(node, "two.test") == 0) {
		port = service != NULL ? atoi(service) : 0;
		*res = fake_ai("127.0.0.1", port,
		    fake_ai("127.0.0.2", port, NULL));
		return 0;
	}
	/* An alias (a CNAME) for relay.example.org. */
	if (node != NULL && strcmp(node, "alias.test") == 0) {
		port = service != NULL ? atoi(service) : 0;
		*res = fake_ai("127.0.0.1", port, NULL);
		(*res)->ai_canonname = xstrdup("relay.example.org");
		return 0;
	}
	pthread_once(&real_getaddrinfo_once, find_getaddrinfo);
	if (real_getaddrinfo == NULL)
		return EAI_SYSTEM;
	return real_getaddrinfo(node, service, hints, res);
}

/*
 * Implicit TLS to a relay with two addresses whose first answers EHLO with
 * 421. libESMTP then tries the next address; that connection would carry
 * our password and the mail in plain text to an unchecked server. It must
 * never be made: TEMP, nothing stored, nobody knocked on 127.0.0.2.
 */
static void
test_tls_implicit_no_plain_fallback(void **state)
{
	struct sink		*k = *state;
	static const char *const more[] = { "--implicit-tls", "--busy", NULL };
	struct sockaddr_in	 sin;
	struct config		 cf;
	struct outmsg		 m;
	char			 cert[128];
	int			 lurk, one = 1, c;

	tls_sink_start(k, "two.test", 0, cert, sizeof cert, more);

	/* The second address: a listener that only counts who comes. */
	assert_true((lurk = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0))
	    >= 0);
	setsockopt(lurk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(k->port);
	inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
	if (bind(lurk, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(lurk);
		skip();		/* no 127.0.0.2 here */
	}
	assert_int_equal(listen(lurk, 4), 0);

	mkconfig(&cf, k->port);
	cf.smtp_host = "two.test";
	cf.smtp_tls = CONFIG_TLS_TLS;
	cf.smtp_ca_file = cert;
	cf.smtp_user = "hb";
	cf.smtp_password = "s3cret";
	mkmsg(&m, "amara@example.net", MSG1);
	sender_send(&cf, &m, 1);
	assert_int_equal(m.verdict, VERDICT_TEMP);
	assert_int_equal(sink_count(k), 0);
	c = accept(lurk, NULL, NULL);
	if (c != -1)
		close(c);
	close(lurk);
	assert_int_equal(c, -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

/*
 * [smtp] host is "alias.test", a DNS alias (CNAME) of relay.example.org,
 * whose certificate the relay shows and the CA vouches for. The name to
 * check is the one in the config, never what DNS says it stands for
 * (libESMTP checked the canonical name: one forged CNAME gave away the
 * password and the mail). Refused, nothing sent.
 */
static void
test_starttls_alias_not_trusted(void **state)
{
	starttls_refused(*state, "relay.example.org", 0, NULL, "alias.test",
	    "does not name the smtp host");
}

/*
 * A relay that completes the TLS handshake, then says goodbye (close_notify)
 * and hangs up without a greeting. The session must end at once, not after
 * libESMTP's 30 s greeting timeout.
 */
struct hangup {
	int	 fd;
	SSL_CTX	*ctx;
	int	 handshakes;
};

static void *
hangup_serve(void *v)
{
	struct hangup	*h = v;
	struct pollfd	 pfd = { h->fd, POLLIN, 0 };
	SSL		*ssl;
	int		 c;

	if (poll(&pfd, 1, 10000) != 1 || (c = accept(h->fd, NULL, NULL)) == -1)
		return NULL;
	if ((ssl = SSL_new(h->ctx)) != NULL && SSL_set_fd(ssl, c) == 1 &&
	    SSL_accept(ssl) == 1) {
		h->handshakes++;
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	close(c);
	return NULL;
}

static void
test_tls_implicit_relay_hangs_up(void **state)
{
	struct sink		*k = *state;
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof sin;
	struct hangup		 h = { -1, NULL, 0 };
	struct config		 cf;
	struct outmsg		 m;
	struct timespec		 t0, t1;
	pthread_t		 t;
	char			 cert[128], key[128];

	snprintf(k->certdir, sizeof k->certdir, "/tmp/hb-sender-tls-XXXXXX");
	assert_non_null(mkdtemp(k->certdir));
	if (mkcert(k->certdir, "127.0.0.1", 1) == -1)
		skip();
	snprintf(cert, sizeof cert, "%s/cert.pem", k->certdir);
	snprintf(key, sizeof key, "%s/key.pem", k->certdir);
	assert_non_null(h.ctx = SSL_CTX_new(TLS_server_method()));
	assert_int_equal(SSL_CTX_use_certificate_chain_file(h.ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(h.ctx, key,
	    SSL_FILETYPE_PEM), 1);

	assert_true((h.fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(h.fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(h.fd, 4), 0);
	assert_int_equal(getsockname(h.fd, (struct sockaddr *)&sin, &sl), 0);
	assert_int_equal(pthread_create(&t, NULL, hangup_serve, &h), 0);

	mkconfig(&cf, ntohs(sin.sin_port));
	cf.smtp_tls = CONFIG_TLS_TLS;
	cf.smtp_ca_file = cert;
	mkmsg(&m, "amara@example.net", MSG1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sender_send(&cf, &m, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(t, NULL);
	close(h.fd);
	SSL_CTX_free(h.ctx);

	assert_int_equal(h.handshakes, 1);
	assert_int_equal(m.verdict, VERDICT_TEMP);
	assert_non_null(strstr(m.reply, "the relay closed the connection"));
	assert_true(t1.tv_sec - t0.tv_sec < 10);
}

/* A server that greets and hangs up: every message TEMP with the reason. */
struct rude {
	int	fd;
	int	accepted;
};

/*
 * A man in the middle answers STARTTLS with "220" and, in the same write,
 * a forged "250" meant to be read as the relay's answer to what comes next
 * (RFC 3207 section 6). The client must refuse at once: TEMP, `refused`,
 * and not one byte sent after STARTTLS (no TLS ClientHello either).
 */
struct injector {
	int	fd;
	int	after;		/* bytes the client sent after STARTTLS */
	int	saw_starttls;
};

/* Read one line (up to LF) from c into buf; its length, or -1. */
static int
inj_line(int c, char *buf, size_t len)
{
	size_t	n = 0;
	char	ch;

	while (n + 1 < len && read(c, &ch, 1) == 1) {
		buf[n++] = ch;
		if (ch == '\n') {
			buf[n] = '\0';
			return (int)n;
		}
	}
	return -1;
}

static void *
inj_serve(void *v)
{
	struct injector	*j = v;
	struct pollfd	 pfd = { j->fd, POLLIN, 0 };
	char		 line[512], rest[512];
	ssize_t		 r;
	int		 c;
	static const char ehlo[] = "250-relay.test\r\n250-PIPELINING\r\n"
	    "250 STARTTLS\r\n";
	static const char evil[] = "220 2.0.0 Ready to start TLS\r\n"
	    "250 2.0.0 forged by a man in the middle\r\n";

	if (poll(&pfd, 1, 5000) != 1 || (c = accept(j->fd, NULL, NULL)) == -1)
		return NULL;
	if (write(c, "220 relay.test ESMTP\r\n", 22) < 0 ||
	    inj_line(c, line, sizeof line) < 0 ||
	    write(c, ehlo, sizeof ehlo - 1) < 0 ||
	    inj_line(c, line, sizeof line) < 0)
		goto out;
	j->saw_starttls = strncasecmp(line, "STARTTLS", 8) == 0;
	if (write(c, evil, sizeof evil - 1) < 0)
		goto out;
	/* Whatever comes now, until the client hangs up (5 s at most). */
	pfd.fd = c;
	while (poll(&pfd, 1, 5000) == 1 &&
	    (r = read(c, rest, sizeof rest)) > 0) {
		/* A polite QUIT in clear is fine; anything else is not. */
		if (!(r == 6 && memcmp(rest, "QUIT\r\n", 6) == 0))
			j->after += (int)r;
	}
out:
	close(c);
	return NULL;
}

static void
test_starttls_injection_refused(void **state)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof sin;
	struct injector		 j = { -1, 0, 0 };
	struct config		 cf;
	struct outmsg		 m;
	pthread_t		 t;

	assert_true((j.fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(j.fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(j.fd, 4), 0);
	assert_int_equal(getsockname(j.fd, (struct sockaddr *)&sin, &sl), 0);
	assert_int_equal(pthread_create(&t, NULL, inj_serve, &j), 0);

	mkconfig(&cf, ntohs(sin.sin_port));
	cf.smtp_tls = CONFIG_TLS_STARTTLS;
	cf.smtp_user = "hb";
	cf.smtp_password = "s3cret";
	mkmsg(&m, "amara@example.net", MSG1);
	sender_send(&cf, &m, 1);
	pthread_join(t, NULL);
	close(j.fd);

	assert_true(j.saw_starttls);
	assert_int_equal(m.verdict, VERDICT_TEMP);
	assert_int_equal(m.refused, 1);
	assert_non_null(strstr(m.reply, "tampering"));
	assert_int_equal(j.after, 0);
}

static void *
rude_serve(void *v)
{
	struct rude	*r = v;
	struct pollfd	 pfd = { r->fd, POLLIN, 0 };
	int		 c;

	/*
	 * One connection per session, no probe before it: count every one
	 * that comes, waiting a second for a second one.
	 */
	while (r->accepted < 3 &&
	    poll(&pfd, 1, r->accepted ? 1000 : 5000) == 1) {
		if ((c = accept(r->fd, NULL, NULL)) == -1)
			break;
		r->accepted++;
		if (write(c, "220 rude\r\n", 10) < 0)
			(void)0;
		close(c);
	}
	return NULL;
}

static void
test_dropped(void **state)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof sin;
	struct rude		 r = { -1, 0 };
	struct config		 cf;
	struct outmsg		 m[2];
	pthread_t		 t;

	assert_true((r.fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r.fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(r.fd, 4), 0);
	assert_int_equal(getsockname(r.fd, (struct sockaddr *)&sin, &sl), 0);
	assert_int_equal(pthread_create(&t, NULL, rude_serve, &r), 0);

	mkconfig(&cf, ntohs(sin.sin_port));
	mkmsg(&m[0], "amara@example.net", MSG1);
	mkmsg(&m[1], "cleo@example.net", MSG3);
	sender_send(&cf, m, 2);
	pthread_join(t, NULL);
	close(r.fd);

	assert_int_equal(r.accepted, 1);
	assert_int_equal(m[0].verdict, VERDICT_TEMP);
	assert_int_equal(m[0].code, 0);
	assert_int_equal(m[1].verdict, VERDICT_TEMP);
	assert_non_null(strstr(m[0].reply, "smtp session failed"));
}

/* Four worker threads, one session each, at the same time: all delivered. */
struct par {
	struct config	*cf;
	struct outmsg	 m[5];
};

static void *
par_send(void *v)
{
	struct par	*p = v;

	sender_send(p->cf, p->m, 5);
	return NULL;
}

static void
par_run(struct sink *k, struct config *cf)
{
	struct par	 p[4];
	pthread_t	 t[4];
	int		 i, j;

	for (i = 0; i < 4; i++) {
		p[i].cf = cf;
		for (j = 0; j < 5; j++)
			mkmsg(&p[i].m[j], "cleo@example.net", MSG3);
		assert_int_equal(pthread_create(&t[i], NULL, par_send, &p[i]),
		    0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 4; i++)
		for (j = 0; j < 5; j++)
			assert_int_equal(p[i].m[j].verdict, VERDICT_OK);
	assert_int_equal(sink_count(k), 20);
}

static void
test_parallel(void **state)
{
	struct sink	*k = *state;
	struct config	 cf;

	sink_start(k, NULL);
	mkconfig(&cf, k->port);
	par_run(k, &cf);
}

/* The same with implicit TLS: four tunnels, four pump threads at once. */
static void
test_parallel_tls_implicit(void **state)
{
	struct sink		*k = *state;
	static const char *const more[] = { "--implicit-tls", NULL };
	struct config		 cf;
	char			 cert[128];

	tls_sink_start(k, "127.0.0.1", 1, cert, sizeof cert, more);
	mkconfig(&cf, k->port);
	cf.smtp_tls = CONFIG_TLS_TLS;
	cf.smtp_ca_file = cert;
	par_run(k, &cf);
}

static int
group_setup(void **state)
{
	sender_init();
	return 0;
}

static int
group_teardown(void **state)
{
	sender_exit();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_classes),
		cmocka_unit_test_setup_teardown(test_feed_one_connection, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_feed_tempfail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_batch_with_reject, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tempfail, setup, teardown),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_bad_host),
		cmocka_unit_test_setup_teardown(test_starttls_not_offered,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ca_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_message, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_starttls, setup, teardown),
		cmocka_unit_test(test_starttls_injection_refused),
		cmocka_unit_test_setup_teardown(test_starttls_injection_sink,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_starttls_alias_not_trusted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_starttls_auth_tls13, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_starttls_auth_tls12, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_starttls_wrong_name, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tls_implicit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tls_implicit_wrong_name,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_implicit_plain_server,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_implicit_auth, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_tls_implicit_no_plain_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tls_implicit_relay_hangs_up, setup, teardown),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test_setup_teardown(test_parallel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_tls_implicit,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

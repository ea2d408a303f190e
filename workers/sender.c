/*
 * sender.c: every libESMTP call in hearback, and nothing else.
 *
 * DESIGN
 * ------
 *
 * A worker hands sender_session() a group of finished messages (one
 * recipient each), and a feed for more. We open ONE SMTP connection for the
 * session: libESMTP sends every message added to a session within one
 * smtp_start_session() call, which connects, runs MAIL/RCPT/DATA for each
 * message (RCPT and DATA pipelined when the server offers PIPELINING) and
 * disconnects before returning. The session, its messages, the auth
 * context and the SSL_CTX are created, used and destroyed inside that one
 * call, in that one thread: libESMTP's rule is that no session object is
 * touched by two threads, and smtp_errno() and status pointers are per
 * thread. The only process-wide libESMTP state is the auth plugin list
 * (auth_client_init() in sender_init(), main thread, before the workers
 * start).
 *
 * Long sessions. libESMTP walks its list of messages one by one, and the
 * event it raises at a message's final reply (SMTP_EV_MESSAGESENT) comes
 * before it looks for the next one. There (sender_event), at the last
 * message added, every group is finished: their verdicts are read and
 * they go back through feed->done at once (so a crash can send again only
 * what is in flight, never a whole session). Then, if that message was
 * accepted, feed->more adds the next group to the list, and libESMTP goes
 * on to it on the same connection, up to feed->max messages (the relay's
 * limit, [smtp] per_connection). A last message refused, at any step,
 * takes no more: the session ends with what it has.
 *
 * Verdicts. Each message gets exactly one: the first non-2xx of MAIL FROM,
 * RCPT TO, then the reply after DATA decides (2xx ok, 4xx temp, 5xx perm); a
 * message the session never reached (connection lost, TLS refused, ...) is
 * temp with the session's error. A 550 for one recipient fails only that
 * message: libESMTP resets and carries on with the next. One exception: a
 * MAIL FROM refused with an authentication or security code (530, 535, 538,
 * or enhanced 5.7.x) is temp, not perm, because it says our account or
 * password is wrong, not the message: the operator fixes the config and the
 * retry goes through. Status pointers are valid only until the next libESMTP
 * call, so code and text are copied at once.
 *
 * Connections. One TCP connection per session, dialled with a 10 s limit
 * (libESMTP's own connect() has none) and handed to libESMTP for the whole
 * of smtp_start_session() (dial.c: its connect() takes that connection
 * instead of dialling, and refuses any other).
 *
 * TLS (tls = starttls, tls = tls). libESMTP never does TLS or AUTH here:
 * relay.c opens the session (greeting, EHLO, STARTTLS or implicit TLS, the
 * certificate checked against [smtp] host, AUTH) and libESMTP gets the plain
 * end of a tunnel (tunnel.c). A relay that refuses us in a way only the
 * operator can mend (the login, the certificate) gives every message of the
 * batch TEMP with `refused` set: none was tried.
 *
 * Plain SMTP (tls = none, loopback only): libESMTP gets the TCP connection
 * as it is and does EHLO and AUTH itself.
 *
 * libESMTP cannot take an IPv6 literal as host (it splits host:port at the
 * first colon); such a host is refused at once.
 *
 * Replies never hold an address: any word of the server's text containing
 * '@' becomes "[address]". Nothing here logs a recipient.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <auth-client.h>
#include <libesmtp.h>

#include "config.h"
#include "dial.h"
#include "log.h"
#include "relay.h"
#include "sender.h"
#include "tunnel.h"
#include "util.h"

#define SENDER_CONNECT_MS	10000	/* TCP connect, and a TLS handshake */
#define SENDER_STEP_MS		30000	/* every libESMTP protocol timeout */

/* What one session needs that libESMTP calls back into; on the stack. */
struct sender_session {
	char	*user;		/* credentials for the interact callback */
	char	*pass;
};

/* One message body for the read callback. */
struct sender_body {
	const char	*text;
	int		 len;
	int		 done;
};

/* A group of messages handed in together (sender_send, or feed->more). */
struct sender_group {
	struct outmsg		*m;
	int			 n;
	void			*tag;
	smtp_message_t		*msgs;		/* NULL: not sendable */
	smtp_recipient_t	*rcpts;
	struct sender_body	*bodies;
	int			 decided;	/* verdicts set already */
	int			 done;		/* verdicts given, handed back */
};

/* One connection on its way through libESMTP, and the groups it carries. */
struct sender_batch {
	const struct config	*cf;
	const struct sender_feed *feed;	/* NULL: the first group only */
	smtp_session_t		 s;
	auth_context_t		 auth;
	struct sender_session	 ss;
	struct sender_group	*g;
	int			 ng, gcap;
	int			 first_open;	/* groups before it are done */
	int			 added;		/* messages added to the session */
	smtp_message_t		 last;		/* the last one added */
};

void
sender_init(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sender: sigaction SIGPIPE");
	OPENSSL_init_ssl(0, NULL);
	auth_client_init();
}

void
sender_exit(void)
{
	auth_client_exit();
}

enum verdict
sender_verdict(int code)
{
	if (code >= 200 && code < 300)
		return VERDICT_OK;
	if (code >= 500 && code < 600)
		return VERDICT_PERM;
	return VERDICT_TEMP;
}

/*
 * Copy src into dst for a reply: one line, printable ASCII, and any word
 * holding '@' replaced by "[address]".
 */
static void
sender_scrub(char *dst, size_t len, const char *src)
{
	const char	*w, *e;
	size_t		 n = 0, k;

	dst[0] = '\0';
	if (src == NULL)
		return;
	for (w = src; *w != '\0'; w = e) {
		while (*w != '\0' && (unsigned char)*w <= ' ')
			w++;
		if (*w == '\0')
			break;
		for (e = w; *e != '\0' && (unsigned char)*e > ' '; e++)
			;
		if (n > 0 && n + 1 < len)
			dst[n++] = ' ';
		if (memchr(w, '@', e - w) != NULL) {
			k = snprintf(dst + n, len - n, "[address]");
			n = k >= len - n ? len - 1 : n + k;
			continue;
		}
		for (; w < e && n + 1 < len; w++)
			dst[n++] = (unsigned char)*w < 0x7f ? *w : '?';
	}
	dst[n] = '\0';
}

/* Set one message's outcome. */
static void
sender_set(struct outmsg *m, enum verdict v, int code, const char *fmt, ...)
    HB_PRINTF(4, 5);

static void
sender_set(struct outmsg *m, enum verdict v, int code, const char *fmt, ...)
{
	va_list	ap;

	m->verdict = v;
	m->code = code;
	va_start(ap, fmt);
	vsnprintf(m->reply, sizeof m->reply, fmt, ap);
	va_end(ap);
}

/* Give every message in the batch the same outcome. */
static void
sender_set_all(struct outmsg *m, int n, enum verdict v, const char *why)
{
	int	i;

	for (i = 0; i < n; i++)
		sender_set(&m[i], v, 0, "%s", why);
}

/*
 * Copy a libESMTP status into m if it is definitive (a code was received
 * and, unless ok_final, it is not 2xx). Returns 1 if m is now decided.
 * Called straight after the call that returned st: the pointer dies at the
 * next libESMTP call.
 */
static int
sender_take(struct outmsg *m, const smtp_status_t *st, int ok_final,
    int is_mail)
{
	char		 text[200];
	enum verdict	 v;

	if (st == NULL || st->code == 0)
		return 0;
	v = sender_verdict(st->code);
	if (v == VERDICT_OK && !ok_final)
		return 0;
	if (v == VERDICT_PERM && is_mail && (st->code == 530 ||
	    st->code == 535 || st->code == 538 ||
	    (st->enh_class == 5 && st->enh_subject == 7)))
		v = VERDICT_TEMP;	/* our account, not the message */
	sender_scrub(text, sizeof text, st->text);
	if (st->enh_class > 0)
		sender_set(m, v, st->code, "%d %d.%d.%d %s", st->code,
		    st->enh_class, st->enh_subject, st->enh_detail, text);
	else
		sender_set(m, v, st->code, "%d %s", st->code, text);
	return 1;
}

/* libESMTP message read callback: the whole text at once, rewindable. */
static const char *
sender_body_cb(void **ctx, int *len, void *arg)
{
	struct sender_body	*b = arg;

	if (len == NULL) {		/* rewind */
		b->done = 0;
		return NULL;
	}
	if (b->text == NULL) {		/* handed back: never read again */
		*len = 0;
		return NULL;
	}
	*len = b->done ? 0 : b->len;
	b->done = 1;
	return b->text;
}

/* AUTH interact callback: credentials from this session only. */
static int
sender_interact(auth_client_request_t req, char **result, int fields,
    void *arg)
{
	struct sender_session	*ss = arg;
	int			 i;

	for (i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = ss->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = ss->pass;
		else
			return 0;	/* realm or other: we have none */
	}
	return 1;
}

/* Configuration libESMTP cannot honour: -1 with every message TEMP. */
static int
sender_check_config(const struct config *cf, struct outmsg *m, int n)
{
	if (cf->smtp_host == NULL || cf->smtp_host[0] == '\0' ||
	    cf->from_addr == NULL || cf->from_addr[0] == '\0') {
		sender_set_all(m, n, VERDICT_TEMP,
		    "smtp host or from address not configured");
		return -1;
	}
	if (strchr(cf->smtp_host, ':') != NULL) {
		sender_set_all(m, n, VERDICT_TEMP, "smtp host must be a name or "
		    "an IPv4 address (libESMTP cannot take an IPv6 literal)");
		return -1;
	}
	return 0;
}

/*
 * The one connection of this session, ready for libESMTP: the TCP socket
 * itself for plain SMTP, else the plain end of a tunnel whose session
 * relay.c has opened. -1 with every message TEMP (and `refused` if the
 * relay refused us) on failure.
 */
static int
sender_connect(const struct config *cf, struct outmsg *m, int n,
    struct tunnel **tun)
{
	struct relay_fail	 f;
	SSL_CTX			*ctx = NULL;
	char			 why[256], msg[sizeof m->reply];
	int			 fd, plain = -1, i;

	*tun = NULL;
	if (cf->smtp_tls != CONFIG_TLS_NONE &&
	    (ctx = dial_tls_ctx(cf, why, sizeof why)) == NULL) {
		sender_set_all(m, n, VERDICT_TEMP, why);
		return -1;
	}
	if ((fd = dial_relay(cf->smtp_host, cf->smtp_port, SENDER_CONNECT_MS,
	    why, sizeof why)) == -1) {
		snprintf(msg, sizeof msg, "connect to smtp %s:%d failed: %.160s",
		    cf->smtp_host, cf->smtp_port, why);
		log_warnx("sender: %s", msg);
		sender_set_all(m, n, VERDICT_TEMP, msg);
		SSL_CTX_free(ctx);
		return -1;
	}
	if (ctx == NULL)
		return fd;
	*tun = relay_open(cf, ctx, fd, SENDER_STEP_MS, &plain, &f);
	SSL_CTX_free(ctx);	/* each SSL holds its own reference */
	if (*tun != NULL)
		return plain;
	sender_scrub(why, sizeof why, f.why);
	log_warnx("sender: smtp %s:%d: %s", cf->smtp_host, cf->smtp_port, why);
	for (i = 0; i < n; i++) {
		sender_set(&m[i], VERDICT_TEMP, f.code, "%s", why);
		m[i].refused = f.refused;
	}
	return -1;
}

static void sender_event(smtp_session_t, int, void *, ...);

/* A libESMTP session for the batch: timeouts, no TLS, AUTH if plain. */
static int
sender_session_new(const struct config *cf, struct sender_batch *b)
{
	char			 hostport[300];
	int			 i;
	static const int	 steps[] = { Timeout_GREETING, Timeout_ENVELOPE,
	    Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2 };

	if ((b->s = smtp_create_session()) == NULL)
		return -1;
	snprintf(hostport, sizeof hostport, "%s:%d", cf->smtp_host,
	    cf->smtp_port);
	if (!smtp_set_server(b->s, hostport))
		return -1;
	for (i = 0; i < (int)(sizeof steps / sizeof steps[0]); i++)
		smtp_set_timeout(b->s, steps[i] |
		    Timeout_OVERRIDE_RFC2822_MINIMUM, SENDER_STEP_MS);
	/* TLS, if any, is underneath already (relay.c). */
	if (!smtp_starttls_enable(b->s, Starttls_DISABLED))
		return -1;
	if (b->feed != NULL && !smtp_set_eventcb(b->s, sender_event, b))
		return -1;
	if (cf->smtp_tls == CONFIG_TLS_NONE && cf->smtp_user != NULL &&
	    cf->smtp_user[0] != '\0') {
		b->ss.user = cf->smtp_user;
		b->ss.pass = cf->smtp_password ? cf->smtp_password : "";
		if ((b->auth = auth_create_context()) == NULL)
			return -1;
		auth_set_mechanism_flags(b->auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(b->auth, sender_interact, &b->ss);
		if (!smtp_auth_set_context(b->s, b->auth))
			return -1;
	}
	return 0;
}

/* A new group of n messages (m stays the caller's until it is done). */
static struct sender_group *
sender_group_add(struct sender_batch *b, struct outmsg *m, int n, void *tag)
{
	struct sender_group	*g;

	if (b->ng == b->gcap) {
		b->gcap = b->gcap ? 2 * b->gcap : 4;
		b->g = xrealloc(b->g, b->gcap * sizeof *b->g);
	}
	g = &b->g[b->ng++];
	memset(g, 0, sizeof *g);
	g->m = m;
	g->n = n;
	g->tag = tag;
	sender_set_all(m, n, VERDICT_TEMP, "not sent");
	return g;
}

/* One libESMTP message per outmsg of g worth sending. */
static int
sender_add_messages(struct sender_batch *b, struct sender_group *g)
{
	const struct config	*cf = b->cf;
	size_t			 tlen;
	int			 i;

	g->msgs = xcalloc(g->n, sizeof *g->msgs);
	g->rcpts = xcalloc(g->n, sizeof *g->rcpts);
	g->bodies = xcalloc(g->n, sizeof *g->bodies);
	for (i = 0; i < g->n; i++) {
		struct outmsg	*m = &g->m[i];

		tlen = m->text ? strlen(m->text) : 0;
		if (m->rcpt == NULL || m->rcpt[0] == '\0' || tlen == 0 ||
		    tlen > 0x7fffffff) {
			/* Not worth a session slot: it can never be sent. */
			sender_set(m, VERDICT_PERM, 0,
			    "empty recipient or message");
			continue;
		}
		g->bodies[i].text = m->text;
		g->bodies[i].len = (int)tlen;
		if ((g->msgs[i] = smtp_add_message(b->s)) == NULL ||
		    !smtp_set_reverse_path(g->msgs[i], cf->inbound_address ?
		    cf->inbound_address : cf->from_addr) ||
		    !smtp_set_messagecb(g->msgs[i], sender_body_cb,
		    &g->bodies[i]) || (g->rcpts[i] =
		    smtp_add_recipient(g->msgs[i], m->rcpt)) == NULL)
			return -1;
		b->added++;
		b->last = g->msgs[i];
	}
	return 0;
}

/*
 * Give each message of group gi its verdict (the first non-2xx of MAIL
 * FROM, RCPT TO, then the reply after DATA; fallback if it has none) and
 * hand the group back through the feed.
 */
static void
sender_group_done(struct sender_batch *b, int gi, const char *fallback)
{
	struct sender_group	*g = &b->g[gi];
	int			 i;

	for (i = 0; !g->decided && g->msgs != NULL && i < g->n; i++) {
		if (g->msgs[i] == NULL)
			continue;
		if (sender_take(&g->m[i],
		    smtp_reverse_path_status(g->msgs[i]), 0, 1))
			continue;
		if (sender_take(&g->m[i], smtp_recipient_status(g->rcpts[i]),
		    0, 0))
			continue;
		if (sender_take(&g->m[i],
		    smtp_message_transfer_status(g->msgs[i]), 1, 0))
			continue;
		sender_set(&g->m[i], VERDICT_TEMP, 0, "%s", fallback);
	}
	g->done = 1;
	/* The texts are the feed's again: libESMTP reads them no more. */
	for (i = 0; g->bodies != NULL && i < g->n; i++)
		g->bodies[i].text = NULL;
	if (b->feed != NULL)
		b->feed->done(b->feed->arg, g->m, g->n, g->tag);
}

/* Every group not done yet gets its verdicts, the same error for all. */
static void
sender_fail_open(struct sender_batch *b, enum verdict v, const char *why,
    int code, int refused)
{
	int	gi, i;

	for (gi = b->first_open; gi < b->ng; gi++) {
		if (b->g[gi].done)
			continue;
		for (i = 0; i < b->g[gi].n; i++) {
			sender_set(&b->g[gi].m[i], v, code, "%s", why);
			b->g[gi].m[i].refused = refused;
		}
		b->g[gi].decided = 1;
		sender_group_done(b, gi, why);
	}
	b->first_open = b->ng;
}

/*
 * More groups from the feed, until one has a message to send, the feed
 * has none, or the connection has carried feed->max.
 */
static void
sender_feed_more(struct sender_batch *b)
{
	struct sender_group	*g;
	struct outmsg		*m;
	void			*tag;
	int			 n, before;

	while (b->added < b->feed->max && (n = b->feed->more(b->feed->arg,
	    b->feed->max - b->added, &m, &tag)) > 0) {
		before = b->added;
		g = sender_group_add(b, m, n, tag);
		if (sender_add_messages(b, g) == -1) {
			/* Out of memory in libESMTP: what was added goes on;
			 * the rest of the group gets the fallback. */
			log_warnx("sender: libESMTP cannot take more messages");
			return;
		}
		if (b->added > before)
			return;
		/* Nothing in it could be sent: back at once. */
		sender_group_done(b, b->ng - 1, "not sent");
	}
}

/*
 * libESMTP's events, with a feed. When the last message added has its
 * final reply (SMTP_EV_MESSAGESENT, raised before libESMTP looks for the
 * next message), every message added so far is finished: their groups go
 * back through feed->done. If that reply accepted it, more are taken from
 * the feed, and libESMTP goes on to them on the same connection.
 */
static void
sender_event(smtp_session_t s, int ev, void *arg, ...)
{
	struct sender_batch	*b = arg;
	const smtp_status_t	*st;
	smtp_message_t		 msg;
	va_list			 ap;
	int			 gi;

	if (ev != SMTP_EV_MESSAGESENT)
		return;
	va_start(ap, arg);
	msg = va_arg(ap, smtp_message_t);
	va_end(ap);
	if (msg != b->last)
		return;
	for (gi = b->first_open; gi < b->ng; gi++)
		if (!b->g[gi].done)
			sender_group_done(b, gi, "no reply from server");
	b->first_open = b->ng;
	st = smtp_message_transfer_status(msg);
	if (st != NULL && st->code >= 200 && st->code < 300)
		sender_feed_more(b);
}

/*
 * Run the session on fd (taken) and give each message still open its
 * verdict: the first non-2xx of MAIL FROM, RCPT TO, then the reply after
 * DATA.
 */
static void
sender_run(struct sender_batch *b, int fd)
{
	const struct config	*cf = b->cf;
	char			 why[256], ebuf[128];
	const char		*fallback, *p;
	int			 gi, ok, e;

	/*
	 * smtp_errno() is never cleared, and smtp_start_session() may return 1
	 * after the server dropped the connection. Plant a known value (a
	 * refused call sets SMTP_ERR_INVAL) so that anything else afterwards
	 * comes from this session.
	 */
	(void)smtp_set_server(NULL, NULL);
	dial_hand_over(fd);
	ok = smtp_start_session(b->s);
	e = smtp_errno();
	dial_hand_over_end();
	fallback = "no reply from server";
	if (!ok || e != SMTP_ERR_INVAL) {
		p = e != SMTP_ERR_INVAL ? smtp_strerror(e, ebuf, sizeof ebuf) :
		    NULL;
		snprintf(why, sizeof why, "smtp session failed: %s",
		    p ? p : "unknown error");
		fallback = why;
		log_warnx("sender: %s:%d: %s", cf->smtp_host, cf->smtp_port,
		    why);
	}
	for (gi = b->first_open; gi < b->ng; gi++)
		if (!b->g[gi].done)
			sender_group_done(b, gi, fallback);
	b->first_open = b->ng;
	log_debug("sender: %d emails in %d batches on one connection",
	    b->added, b->ng);
}

void
sender_session(const struct config *cf, struct outmsg *m, int n, void *tag,
    const struct sender_feed *feed)
{
	struct sender_batch	 b;
	struct tunnel		*tun = NULL;
	char			 why[256], ebuf[128];
	const char		*p;
	int			 fd = -1, gi;

	if (n <= 0)
		return;
	memset(&b, 0, sizeof b);
	b.cf = cf;
	b.feed = feed;
	sender_group_add(&b, m, n, tag);
	if (sender_check_config(cf, m, n) == -1 ||
	    (fd = sender_connect(cf, m, n, &tun)) == -1) {
		/* m holds the why (and refused) already. */
		b.g[0].decided = 1;
		sender_group_done(&b, 0, "not sent");
		goto done;
	}
	if (sender_session_new(cf, &b) == -1 ||
	    sender_add_messages(&b, &b.g[0]) == -1) {
		/* A libESMTP call refused its arguments or ran out of memory. */
		p = smtp_strerror(smtp_errno(), ebuf, sizeof ebuf);
		snprintf(why, sizeof why, "libESMTP set-up failed: %s",
		    p ? p : "unknown error");
		log_warnx("sender: %s", why);
		sender_fail_open(&b, VERDICT_TEMP, why, 0, 0);
		close(fd);
		goto done;
	}
	sender_run(&b, fd);
done:
	/* libESMTP closed its end when the session ended: the pump ends. */
	tunnel_close(tun);
	if (b.s != NULL)
		smtp_destroy_session(b.s);
	if (b.auth != NULL)
		auth_destroy_context(b.auth);
	for (gi = 0; gi < b.ng; gi++) {
		free(b.g[gi].bodies);
		free(b.g[gi].msgs);
		free(b.g[gi].rcpts);
	}
	free(b.g);
}

void
sender_send(const struct config *cf, struct outmsg *m, int n)
{
	sender_session(cf, m, n, NULL, NULL);
}

/*
 * sender.c: every libESMTP call in hearback, and nothing else.
 *
 * DESIGN
 * ------
 *
 * A worker hands sender_send() a batch of finished messages (one recipient
 * each). We open ONE SMTP connection for the whole batch: libESMTP sends every
 * message added to a session within one smtp_start_session() call, which
 * connects, runs MAIL/RCPT/DATA for each message (pipelined when the server
 * offers PIPELINING) and disconnects before returning. The session, its
 * messages, the auth context and the SSL_CTX are created, used and destroyed
 * inside that one call, in that one thread: libESMTP's rule is that no
 * session object is touched by two threads, and smtp_errno() and status
 * pointers are per thread. The only process-wide libESMTP state is the auth
 * plugin list (auth_client_init() in sender_init(), main thread, before the
 * workers start).
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
 * Limits, admitted:
 * - libESMTP's connect() has no timeout. Before starting a session we make
 *   our own non-blocking connect to the server with a 10 s limit; if it fails,
 *   libESMTP is not called. A server that dies between the probe and
 *   libESMTP's own connect still costs the kernel's SYN timeout. The probe
 *   shows in the server's log as a connection closed without a command.
 * - libESMTP 1.1 has STARTTLS only. For `tls = tls` (implicit TLS, port
 *   465) we make the connection, run the TLS handshake ourselves (tunnel.c:
 *   certificate and host name checked as for STARTTLS) and give libESMTP the
 *   plain end of a socket pair that a pump thread carries over TLS. libESMTP
 *   has no way to take a socket, so the hand-over happens in our connect()
 *   below: while `sender_handoff` holds an fd in this thread, libESMTP's
 *   connect() to the relay does not dial but makes its socket that fd.
 *   For the whole of smtp_start_session() `sender_tls_only` is set too, and
 *   then any other TCP connect() in this thread is refused: libESMTP tries
 *   the host's next address when a relay answers EHLO with 4xx or hangs up,
 *   and that connection would be plain text, with our password and the
 *   mail in it.
 * - libESMTP cannot take an IPv6 literal as host (it splits host:port at the
 *   first colon); such a host is refused the same way.
 * - With STARTTLS we always give libESMTP our own SSL_CTX (smtp_ca_file if
 *   set, else the system store; SSL_VERIFY_PEER). libESMTP 1.1.0 frees the
 *   session's SSL_CTX in smtp_destroy_session() even when it is its own
 *   shared default one, so a second STARTTLS session would use a freed
 *   context; smtp_starttls_set_ctx() takes a reference, so our own context is
 *   safe. libESMTP checks the certificate's name against smtp_host, so the
 *   host must be a name the certificate carries (not an IP address).
 *
 * Replies never hold an address: any word of the server's text containing
 * '@' becomes "[address]". Nothing here logs a recipient.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <auth-client.h>
#include <libesmtp.h>

#include "config.h"
#include "log.h"
#include "sender.h"
#include "tunnel.h"
#include "util.h"

#define SENDER_CONNECT_MS	10000	/* our connect probe */
#define SENDER_STEP_MS		30000	/* every libESMTP protocol timeout */

/* What one session needs that libESMTP calls back into; on the stack. */
struct sender_session {
	char	*user;		/* credentials for the interact callback */
	char	*pass;
	char	 why[200];	/* session-level failure from the event callback */
};

/* One message body for the read callback. */
struct sender_body {
	const char	*text;
	int		 len;
	int		 done;
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

/*
 * Connect to host:port without blocking for more than ms milliseconds.
 * Returns the connected socket (non-blocking) if some address accepted, else
 * -1 with why filled.
 */
static int
sender_dial(const char *host, int port, int ms, char *why, size_t len)
{
	struct addrinfo		 hints, *res = NULL, *ai;
	struct pollfd		 pfd;
	struct timespec		 t0, t;
	char			 serv[16];
	socklen_t		 sl;
	int			 fd, rc, left, soerr;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(serv, sizeof serv, "%d", port);
	if ((rc = getaddrinfo(host, serv, &hints, &res)) != 0) {
		snprintf(why, len, "%s", rc == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(rc));
		return -1;
	}
	snprintf(why, len, "no address");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			snprintf(why, len, "timed out after %d s", ms / 1000);
			break;
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			snprintf(why, len, "socket: %s", strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			freeaddrinfo(res);
			return fd;
		}
		if (errno != EINPROGRESS) {
			snprintf(why, len, "%s", strerror(errno));
			close(fd);
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do
			rc = poll(&pfd, 1, left);
		while (rc == -1 && errno == EINTR);
		if (rc == 0) {
			snprintf(why, len, "timed out after %d s", ms / 1000);
			close(fd);
			continue;
		}
		soerr = 0;
		sl = sizeof soerr;
		if (rc == -1)
			soerr = errno;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		if (soerr == 0) {
			freeaddrinfo(res);
			return fd;
		}
		close(fd);
		snprintf(why, len, "%s", strerror(soerr));
	}
	freeaddrinfo(res);
	return -1;
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

/*
 * Nagle's algorithm off for every TCP connection this program makes.
 * libESMTP writes a message in 2 KB pieces and the last piece, which ends
 * the message, is small: with Nagle on it waits for the server's delayed
 * ACK (~40 ms) of the piece before, so every email over 2 KB stalls (76
 * emails/s per worker instead of ~500). libESMTP 1.1 has no hook on its
 * socket, so we interpose connect(): the thread that connects sets the
 * option on its own new socket, before connecting. hiredis sets the same
 * option itself; for a socket that is not TCP the call fails, harmlessly.
 */
static int (*sender_real_connect)(int, const struct sockaddr *, socklen_t);
static pthread_once_t sender_connect_once = PTHREAD_ONCE_INIT;
/* The plain end of this thread's TLS tunnel, waiting for libESMTP's connect(). */
static _Thread_local int sender_handoff = -1;
/* Set while libESMTP runs an implicit-TLS session in this thread. */
static _Thread_local int sender_tls_only;

static void
sender_find_connect(void)
{
	sender_real_connect = (int (*)(int, const struct sockaddr *,
	    socklen_t))dlsym(RTLD_NEXT, "connect");
}

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int	one = 1, h, e;

	if (sender_tls_only && sa != NULL &&
	    (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
		/* libESMTP dialling the relay for an implicit-TLS session. */
		if ((h = sender_handoff) == -1) {
			errno = ECONNREFUSED;	/* a second try: not in clear */
			return -1;
		}
		sender_handoff = -1;
		if (dup3(h, fd, O_CLOEXEC) == -1) {
			e = errno;
			close(h);
			errno = e;
			return -1;
		}
		close(h);
		return 0;
	}
	pthread_once(&sender_connect_once, sender_find_connect);
	if (sender_real_connect == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (sa != NULL && (sa->sa_family == AF_INET ||
	    sa->sa_family == AF_INET6))
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof one);
	return sender_real_connect(fd, sa, len);
}

/* libESMTP event callback: remember why a session-level failure happened. */
static void
sender_event(smtp_session_t s, int event, void *arg, ...)
{
	struct sender_session	*ss = arg;
	va_list			 ap;
	long			 vfy;

	switch (event) {
	case SMTP_EV_EXTNA_STARTTLS:
		snprintf(ss->why, sizeof ss->why,
		    "STARTTLS required but not offered by the server");
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		va_start(ap, arg);
		vfy = va_arg(ap, long);
		va_end(ap);
		snprintf(ss->why, sizeof ss->why, "TLS: invalid server "
		    "certificate: %s", X509_verify_cert_error_string(vfy));
		break;		/* *ok stays 0: refuse */
	case SMTP_EV_NO_PEER_CERTIFICATE:
		snprintf(ss->why, sizeof ss->why, "TLS: no server certificate");
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		snprintf(ss->why, sizeof ss->why,
		    "TLS: server certificate does not name the smtp host");
		break;
	case SMTP_EV_WEAK_CIPHER:
		snprintf(ss->why, sizeof ss->why, "TLS: cipher too weak");
		break;
	case SMTP_EV_UNUSABLE_CA_LIST:
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
	case SMTP_EV_NO_CLIENT_CERTIFICATE:
		snprintf(ss->why, sizeof ss->why, "TLS: unusable certificates");
		break;
	default:
		break;
	}
}

/*
 * An SSL_CTX for STARTTLS or implicit TLS: verify the peer against ca_file
 * or the system store.
 */
static SSL_CTX *
sender_tls_ctx(const struct config *cf, char *why, size_t len)
{
	SSL_CTX		*ctx;
	unsigned long	 e;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto err;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cf->smtp_ca_file != NULL && cf->smtp_ca_file[0] != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, cf->smtp_ca_file,
		    NULL) != 1)
			goto err;
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		goto err;
	return ctx;
err:
	e = ERR_get_error();
	snprintf(why, len, "TLS set-up failed%s%s: %s",
	    cf->smtp_ca_file && cf->smtp_ca_file[0] ? " loading ca_file " : "",
	    cf->smtp_ca_file && cf->smtp_ca_file[0] ? cf->smtp_ca_file : "",
	    e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) :
	    "unknown error" : "unknown error");
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

void
sender_send(const struct config *cf, struct outmsg *m, int n)
{
	struct sender_session	 ss;
	struct sender_body	*bodies = NULL;
	smtp_session_t		 s = NULL;
	smtp_message_t		*msgs = NULL;
	smtp_recipient_t	*rcpts = NULL;
	auth_context_t		 auth = NULL;
	SSL_CTX			*ctx = NULL;
	struct tunnel		*tun = NULL;
	char			 why[256], hostport[300], ebuf[128];
	char			 msg[sizeof m->reply];
	const char		*fallback, *p;
	size_t			 tlen;
	int			 i, ok, e, fd, plain = -1;
	static const int	 steps[] = { Timeout_GREETING, Timeout_ENVELOPE,
	    Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2 };

	if (n <= 0)
		return;
	memset(&ss, 0, sizeof ss);
	sender_set_all(m, n, VERDICT_TEMP, "not sent");

	/* Configuration libESMTP cannot honour: temporary, fix and reload. */
	if (cf->smtp_host == NULL || cf->smtp_host[0] == '\0' ||
	    cf->from_addr == NULL || cf->from_addr[0] == '\0') {
		sender_set_all(m, n, VERDICT_TEMP,
		    "smtp host or from address not configured");
		return;
	}
	if (strchr(cf->smtp_host, ':') != NULL) {
		sender_set_all(m, n, VERDICT_TEMP, "smtp host must be a name or "
		    "an IPv4 address (libESMTP cannot take an IPv6 literal)");
		return;
	}
	if (cf->smtp_tls != CONFIG_TLS_NONE &&
	    (ctx = sender_tls_ctx(cf, why, sizeof why)) == NULL) {
		sender_set_all(m, n, VERDICT_TEMP, why);
		return;
	}

	/*
	 * libESMTP's connect() cannot time out: dial first. For STARTTLS and
	 * plain SMTP this is only a probe; for implicit TLS it is the
	 * connection, and the TLS handshake is ours.
	 */
	if ((fd = sender_dial(cf->smtp_host, cf->smtp_port, SENDER_CONNECT_MS,
	    why, sizeof why)) == -1) {
		snprintf(msg, sizeof msg, "connect to smtp %s:%d failed: %.160s",
		    cf->smtp_host, cf->smtp_port, why);
		log_warnx("sender: %s", msg);
		sender_set_all(m, n, VERDICT_TEMP, msg);
		goto done;
	}
	if (cf->smtp_tls != CONFIG_TLS_TLS)
		close(fd);
	else if ((tun = tunnel_open(ctx, fd, cf->smtp_host, SENDER_CONNECT_MS,
	    SENDER_STEP_MS + 5000, &plain, why, sizeof why)) == NULL) {
		snprintf(msg, sizeof msg, "smtp %s:%d: %.180s", cf->smtp_host,
		    cf->smtp_port, why);
		log_warnx("sender: %s", msg);
		sender_set_all(m, n, VERDICT_TEMP, msg);
		goto done;
	}

	if ((s = smtp_create_session()) == NULL)
		goto lib_err;
	snprintf(hostport, sizeof hostport, "%s:%d", cf->smtp_host,
	    cf->smtp_port);
	if (!smtp_set_server(s, hostport) ||
	    !smtp_set_eventcb(s, sender_event, &ss))
		goto lib_err;
	for (i = 0; i < (int)(sizeof steps / sizeof steps[0]); i++)
		smtp_set_timeout(s, steps[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
		    SENDER_STEP_MS);

	if (cf->smtp_tls == CONFIG_TLS_STARTTLS) {
		/* libESMTP takes its own reference. */
		if (!smtp_starttls_set_ctx(s, ctx) ||
		    !smtp_starttls_enable(s, Starttls_REQUIRED))
			goto lib_err;
	} else if (!smtp_starttls_enable(s, Starttls_DISABLED))
		goto lib_err;	/* plain, or already TLS underneath */

	if (cf->smtp_user != NULL && cf->smtp_user[0] != '\0') {
		ss.user = cf->smtp_user;
		ss.pass = cf->smtp_password ? cf->smtp_password : "";
		if ((auth = auth_create_context()) == NULL)
			goto lib_err;
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, sender_interact, &ss);
		if (!smtp_auth_set_context(s, auth))
			goto lib_err;
	}

	msgs = xcalloc(n, sizeof *msgs);
	rcpts = xcalloc(n, sizeof *rcpts);
	bodies = xcalloc(n, sizeof *bodies);
	for (i = 0; i < n; i++) {
		tlen = m[i].text ? strlen(m[i].text) : 0;
		if (m[i].rcpt == NULL || m[i].rcpt[0] == '\0' || tlen == 0 ||
		    tlen > 0x7fffffff) {
			/* Not worth a session slot: it can never be sent. */
			sender_set(&m[i], VERDICT_PERM, 0,
			    "empty recipient or message");
			continue;
		}
		bodies[i].text = m[i].text;
		bodies[i].len = (int)tlen;
		if ((msgs[i] = smtp_add_message(s)) == NULL ||
		    !smtp_set_reverse_path(msgs[i], cf->from_addr) ||
		    !smtp_set_messagecb(msgs[i], sender_body_cb, &bodies[i]) ||
		    (rcpts[i] = smtp_add_recipient(msgs[i], m[i].rcpt)) == NULL)
			goto lib_err;
	}

	/*
	 * smtp_errno() is never cleared, and smtp_start_session() may return 1
	 * after the server dropped the connection. Plant a known value (a
	 * refused call sets SMTP_ERR_INVAL) so that anything else afterwards
	 * comes from this session.
	 */
	(void)smtp_set_server(NULL, NULL);
	sender_tls_only = tun != NULL;	/* implicit TLS: see connect() */
	sender_handoff = plain;
	plain = -1;
	ok = smtp_start_session(s);
	e = smtp_errno();
	sender_tls_only = 0;
	if (sender_handoff != -1) {	/* libESMTP never dialled */
		close(sender_handoff);
		sender_handoff = -1;
	}
	fallback = "no reply from server";
	if (!ok || e != SMTP_ERR_INVAL || ss.why[0] != '\0') {
		p = e != SMTP_ERR_INVAL ? smtp_strerror(e, ebuf, sizeof ebuf) :
		    NULL;
		snprintf(why, sizeof why, "smtp session failed: %s%s%s",
		    ss.why[0] ? ss.why : (p ? p : "unknown error"),
		    ss.why[0] && p ? ": " : "", ss.why[0] && p ? p : "");
		fallback = why;
		log_warnx("sender: %s:%d: %s", cf->smtp_host, cf->smtp_port,
		    why);
	}

	for (i = 0; i < n; i++) {
		if (msgs[i] == NULL)
			continue;
		if (sender_take(&m[i], smtp_reverse_path_status(msgs[i]), 0, 1))
			continue;
		if (sender_take(&m[i], smtp_recipient_status(rcpts[i]), 0, 0))
			continue;
		if (sender_take(&m[i], smtp_message_transfer_status(msgs[i]), 1,
		    0))
			continue;
		sender_set(&m[i], VERDICT_TEMP, 0, "%s", fallback);
	}
	goto done;

lib_err:
	/* A libESMTP call refused its arguments or ran out of memory. */
	e = smtp_errno();
	p = smtp_strerror(e, ebuf, sizeof ebuf);
	snprintf(why, sizeof why, "libESMTP set-up failed: %s",
	    p ? p : "unknown error");
	log_warnx("sender: %s", why);
	sender_set_all(m, n, VERDICT_TEMP, why);
done:
	if (plain != -1)
		close(plain);
	/* libESMTP closed its end when the session ended: the pump ends. */
	tunnel_close(tun);
	if (s != NULL)
		smtp_destroy_session(s);
	if (auth != NULL)
		auth_destroy_context(auth);
	SSL_CTX_free(ctx);
	free(bodies);
	free(msgs);
	free(rcpts);
}

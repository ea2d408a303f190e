/*
 * relay.c: the opening of every TLS session with the relay, done by us
 * rather than by libESMTP.
 *
 * DESIGN
 * ------
 *
 * libESMTP 1.1 cannot be trusted with the start of a session:
 * - its STARTTLS waits for replies with poll() on the raw socket, asking
 *   OpenSSL only SSL_pending(), which counts the decrypted bytes of the
 *   current record. After a TLS 1.3 handshake the relay's session tickets
 *   and its EHLO reply can be read together; the reply then sits in
 *   OpenSSL's buffer, poll() sees nothing, and the session stalls until
 *   libESMTP's 30 s timeout (seen with Postfix, every third session);
 * - it keeps plaintext that arrives after the 220 to STARTTLS and reads it
 *   as if it had come over TLS (response injection, RFC 3207 section 6);
 * - it checks the certificate against the DNS canonical name of the host,
 *   not the name in our config, so one forged CNAME would do;
 * - when the relay refuses the login it carries on without it, so a wrong
 *   password shows up as a 5xx for each recipient;
 * - it has no implicit TLS (port 465).
 *
 * So for tls = starttls and tls = tls the worker opens the session itself,
 * on the one TCP connection sender.c dialled, blocking with a deadline per
 * step:
 *
 *   tls = tls:        TLS handshake, greeting, EHLO
 *   tls = starttls:   greeting, EHLO, STARTTLS, 220 and not one byte
 *                     more, TLS handshake, EHLO
 *   with [smtp] user: AUTH PLAIN (or LOGIN): 235, or a clear refusal
 *
 * and then hands libESMTP a tunnel (tunnel.c) that answers libESMTP's EHLO
 * with the relay's own reply less STARTTLS and AUTH: libESMTP goes straight
 * to MAIL FROM on a session that is already encrypted and logged in. We
 * never send a command before the reply it waits on (Postfix disconnects
 * clients that pipeline where RFC 2920 does not allow it).
 *
 * Plain SMTP (tls = none, loopback only) needs none of this: sender.c gives
 * libESMTP the connection as it is.
 *
 * Threads: any worker; nothing here is shared.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "config.h"
#include "relay.h"
#include "tunnel.h"
#include "util.h"

#define RELAY_BUF	8192	/* the longest reply we take (EHLO's) */

/* One direction-agnostic connection: plain before TLS, then SSL. */
struct relay_io {
	int		 fd;
	SSL		*ssl;		/* NULL before the handshake */
	char		 buf[RELAY_BUF];
	size_t		 len;		/* unread bytes in buf */
	int		 step_ms;
	struct relay_fail *f;
};

/* A reply: its code, its last line's text, and all its lines. */
struct relay_reply {
	int		 code;
	char		 text[200];	/* the last line, after the code */
	struct buf	 lines;		/* every line, CRLF-terminated */
};

static int
relay_fail(struct relay_io *io, int code, int refused, const char *fmt, ...)
    HB_PRINTF(4, 5);

static int
relay_fail(struct relay_io *io, int code, int refused, const char *fmt, ...)
{
	va_list	ap;

	io->f->code = code;
	io->f->refused = refused;
	va_start(ap, fmt);
	vsnprintf(io->f->why, sizeof io->f->why, fmt, ap);
	va_end(ap);
	return -1;
}

static long
relay_left(const struct timespec *t0, int ms)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ms - ((t.tv_sec - t0->tv_sec) * 1000L +
	    (t.tv_nsec - t0->tv_nsec) / 1000000L);
}

/* Wait for events on io's socket until the step's deadline; -1 on timeout. */
static int
relay_wait(struct relay_io *io, short events, const struct timespec *t0)
{
	struct pollfd	pfd;
	long		left;
	int		n;

	pfd.fd = io->fd;
	pfd.events = events;
	do {
		if ((left = relay_left(t0, io->step_ms)) <= 0)
			return -1;
		n = poll(&pfd, 1, (int)left);
	} while (n == -1 && errno == EINTR);
	return n > 0 ? 0 : -1;
}

/*
 * Read more into io->buf. With TLS, SSL_read is asked first and the socket
 * polled only when OpenSSL says it wants more: a record may already be
 * waiting inside OpenSSL where poll() cannot see it.
 */
static int
relay_fill(struct relay_io *io, const struct timespec *t0)
{
	size_t	 room = sizeof io->buf - io->len;
	ssize_t	 r;
	int	 n, e;

	for (;;) {
		if (io->ssl != NULL) {
			ERR_clear_error();
			n = SSL_read(io->ssl, io->buf + io->len, (int)room);
			if (n > 0) {
				io->len += (size_t)n;
				return 0;
			}
			e = SSL_get_error(io->ssl, n);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				if (relay_wait(io, e == SSL_ERROR_WANT_READ ?
				    POLLIN : POLLOUT, t0) == -1)
					goto timeout;
				continue;
			}
			ERR_clear_error();
			return relay_fail(io, 0, 0,
			    "the relay closed the connection");
		}
		r = recv(io->fd, io->buf + io->len, room, 0);
		if (r > 0) {
			io->len += (size_t)r;
			return 0;
		}
		if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (relay_wait(io, POLLIN, t0) == -1)
				goto timeout;
			continue;
		}
		return relay_fail(io, 0, 0, "the relay closed the connection%s%s",
		    r == -1 ? ": " : "", r == -1 ? strerror(errno) : "");
	}
timeout:
	return relay_fail(io, 0, 0, "no reply from the relay within %d s",
	    io->step_ms / 1000);
}

/* Write all of s; -1 with f set if the relay is gone or too slow. */
static int
relay_send(struct relay_io *io, const char *s)
{
	struct timespec	 t0;
	size_t		 n = strlen(s);
	ssize_t		 w;
	int		 r, e;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n > 0) {
		if (io->ssl != NULL) {
			ERR_clear_error();
			if ((r = SSL_write(io->ssl, s, (int)n)) > 0) {
				s += r;
				n -= (size_t)r;
				continue;
			}
			e = SSL_get_error(io->ssl, r);
			ERR_clear_error();
			if ((e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE) || relay_wait(io,
			    e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			    &t0) == -1)
				break;
			continue;
		}
		w = send(io->fd, s, n, MSG_NOSIGNAL);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		} else if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (relay_wait(io, POLLOUT, &t0) == -1)
				break;
		} else
			break;
	}
	if (n == 0)
		return 0;
	return relay_fail(io, 0, 0, "the relay stopped taking what we sent");
}

/*
 * Read one complete reply (RFC 5321 4.2: "NNN-text" lines, then
 * "NNN text"). Returns its code, or -1 with f set.
 */
static int
relay_reply(struct relay_io *io, struct relay_reply *rp)
{
	struct timespec	 t0;
	char		*nl, *line;
	size_t		 n, ll;
	int		 code, last;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rp->code = 0;
	rp->text[0] = '\0';
	rp->lines.len = 0;
	if (rp->lines.s != NULL)
		rp->lines.s[0] = '\0';
	for (;;) {
		while ((nl = memchr(io->buf, '\n', io->len)) == NULL) {
			if (io->len == sizeof io->buf)
				return relay_fail(io, 0, 0,
				    "the relay's reply is too long");
			if (relay_fill(io, &t0) == -1)
				return -1;
		}
		line = io->buf;
		ll = (size_t)(nl - line);
		/* A NUL is no part of SMTP, and would end our strings early. */
		if (memchr(line, '\0', ll) != NULL)
			return relay_fail(io, 0, 0,
			    "the relay does not speak SMTP");
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' ||
		    line[2] > '9' || (ll > 3 && line[3] != '-' &&
		    line[3] != ' '))
			return relay_fail(io, 0, 0,
			    "the relay does not speak SMTP");
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (rp->code != 0 && code != rp->code)
			return relay_fail(io, 0, 0,
			    "the relay does not speak SMTP");
		rp->code = code;
		buf_add(&rp->lines, line, ll);
		buf_adds(&rp->lines, "\r\n");
		n = ll > 4 ? ll - 4 : 0;
		if (n >= sizeof rp->text)
			n = sizeof rp->text - 1;
		memcpy(rp->text, line + (ll > 4 ? 4 : ll), n);
		rp->text[n] = '\0';
		last = ll == 3 || line[3] == ' ';
		n = (size_t)(nl + 1 - io->buf);
		memmove(io->buf, nl + 1, io->len - n);
		io->len -= n;
		if (last)
			return code;
	}
}

/*
 * A polite goodbye after a refusal, so that the relay logs a QUIT rather
 * than a lost connection; one try, and what it says is not read.
 */
static void
relay_quit(struct relay_io *io)
{
	struct relay_fail	 keep = *io->f;

	(void)relay_send(io, "QUIT\r\n");
	*io->f = keep;
}

/* Send cmd (may be NULL: only read) and read the reply. */
static int
relay_cmd(struct relay_io *io, const char *cmd, struct relay_reply *rp)
{
	if (cmd != NULL && relay_send(io, cmd) == -1)
		return -1;
	return relay_reply(io, rp);
}

/* Anything but code: a failure naming the step and quoting the relay. */
static int
relay_expect(struct relay_io *io, const struct relay_reply *rp, int code,
    const char *step)
{
	if (rp->code == code)
		return 0;
	return relay_fail(io, rp->code, rp->code >= 500,
	    "the relay refused %s: %d %s", step, rp->code, rp->text);
}

/*
 * 1 if the EHLO reply names the extension kw (as its first word), with the
 * rest of its line (its parameters) in args.
 */
static int
relay_ext(const struct relay_reply *ehlo, const char *kw, char *args,
    size_t len)
{
	const char	*l = ehlo->lines.s, *e;
	size_t		 k = strlen(kw), n;

	for (; l != NULL && *l != '\0'; l = e + 2) {
		if ((e = strstr(l, "\r\n")) == NULL)
			break;
		if ((size_t)(e - l) >= 4 + k &&
		    strncasecmp(l + 4, kw, k) == 0 &&
		    (l[4 + k] == ' ' || l[4 + k] == '=' || l + 4 + k == e)) {
			n = (size_t)(e - (l + 4 + k));
			if (n >= len)
				n = len - 1;
			memcpy(args, l + 4 + k, n);
			args[n] = '\0';
			return 1;
		}
	}
	return 0;
}

/*
 * The EHLO reply libESMTP gets from the tunnel: the relay's, less
 * STARTTLS and AUTH (done already), the last line marked as last.
 */
static char *
relay_ehlo_for_libesmtp(const struct relay_reply *ehlo)
{
	struct buf	 b;
	const char	*l, *e;
	size_t		 last = 0;

	buf_init(&b);
	for (l = ehlo->lines.s; *l != '\0'; l = e + 2) {
		e = strstr(l, "\r\n");	/* relay_reply ends every line so */
		if (e - l < 4) {		/* "250" alone */
			last = b.len;
			buf_adds(&b, "250-\r\n");
			continue;
		}
		if (l != ehlo->lines.s && (strncasecmp(l + 4, "STARTTLS", 8) ==
		    0 || strncasecmp(l + 4, "AUTH", 4) == 0))
			continue;
		last = b.len;
		buf_adds(&b, "250-");
		buf_add(&b, l + 4, (size_t)(e + 2 - (l + 4)));
	}
	b.s[last + 3] = ' ';
	return buf_take(&b);
}

/* base64 of n bytes, NUL-terminated, for AUTH. */
static char *
relay_b64(const void *p, size_t n)
{
	char	*out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* AUTH PLAIN if offered, else AUTH LOGIN (RFC 4954, 4616). */
static int
relay_auth(struct relay_io *io, const struct config *cf,
    const struct relay_reply *ehlo, struct relay_reply *rp)
{
	char		 mechs[256];
	const char	*pass = cf->smtp_password ? cf->smtp_password : "";
	char		*raw = NULL, *b64 = NULL, *cmd = NULL;
	size_t		 ul = strlen(cf->smtp_user), pl = strlen(pass);
	int		 rv = -1;

	if (!relay_ext(ehlo, "AUTH", mechs, sizeof mechs))
		return relay_fail(io, 0, 1, "[smtp] user is set but the relay "
		    "does not offer AUTH (does it need TLS, or another port?)");
	if (strcasestr(mechs, "PLAIN") != NULL) {
		raw = xmalloc(ul + pl + 2);
		raw[0] = '\0';
		memcpy(raw + 1, cf->smtp_user, ul);
		raw[1 + ul] = '\0';
		memcpy(raw + 2 + ul, pass, pl);
		b64 = relay_b64(raw, ul + pl + 2);
		cmd = xasprintf("AUTH PLAIN %s\r\n", b64);
		if (relay_cmd(io, cmd, rp) == -1)
			goto out;
	} else if (strcasestr(mechs, "LOGIN") != NULL) {
		if (relay_cmd(io, "AUTH LOGIN\r\n", rp) == -1)
			goto out;
		if (rp->code == 334) {
			b64 = relay_b64(cf->smtp_user, ul);
			cmd = xasprintf("%s\r\n", b64);
			if (relay_cmd(io, cmd, rp) == -1)
				goto out;
		}
		if (rp->code == 334) {
			free(b64);
			free(cmd);
			b64 = relay_b64(pass, pl);
			cmd = xasprintf("%s\r\n", b64);
			if (relay_cmd(io, cmd, rp) == -1)
				goto out;
		}
	} else {
		relay_fail(io, 0, 1, "the relay offers no login we can use "
		    "(only PLAIN and LOGIN, over TLS)");
		goto out;
	}
	if (rp->code == 235)
		rv = 0;
	else
		relay_fail(io, rp->code, rp->code >= 500,
		    "the relay refused the login: %d %s", rp->code, rp->text);
out:
	if (cmd != NULL)
		explicit_bzero(cmd, strlen(cmd));
	if (raw != NULL)
		explicit_bzero(raw, ul + pl + 2);
	free(raw);
	free(b64);
	free(cmd);
	return rv;
}

/* The TLS handshake on io's socket; io speaks TLS afterwards. */
static int
relay_tls(struct relay_io *io, SSL_CTX *ctx, const char *host)
{
	int	cert_bad;

	io->ssl = tunnel_handshake(ctx, io->fd, host, io->step_ms, &cert_bad,
	    io->f->why, sizeof io->f->why);
	if (io->ssl != NULL)
		return 0;
	io->f->code = 0;
	io->f->refused = cert_bad;
	return -1;
}

/*
 * STARTTLS: the 220, then nothing. Bytes already here, or arriving before
 * we start the handshake, did not come over TLS: whoever sent them would
 * have them read as the relay's answers (RFC 3207 section 6).
 */
static int
relay_starttls(struct relay_io *io, SSL_CTX *ctx, const char *host,
    const struct relay_reply *ehlo, struct relay_reply *rp)
{
	char	c, args[64];

	if (!relay_ext(ehlo, "STARTTLS", args, sizeof args))
		return relay_fail(io, 0, 1, "the relay does not offer "
		    "STARTTLS (tls = starttls needs it; port 465 wants "
		    "tls = tls)");
	if (relay_cmd(io, "STARTTLS\r\n", rp) == -1 ||
	    relay_expect(io, rp, 220, "STARTTLS") == -1)
		return -1;
	if (io->len > 0 || recv(io->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
		return relay_fail(io, 0, 1, "the relay sent data after agreeing "
		    "to STARTTLS, before TLS began: refused, as someone may be "
		    "tampering with the connection");
	return relay_tls(io, ctx, host);
}

/*
 * From the connection to the last EHLO: TLS first (tls = tls), the
 * greeting, EHLO, and for tls = starttls STARTTLS and EHLO again. rp holds
 * the EHLO reply that counts.
 */
static int
relay_hello(struct relay_io *io, const struct config *cf, SSL_CTX *ctx,
    struct relay_reply *rp)
{
	char	name[256], ehlo[300];

	if (gethostname(name, sizeof name) == -1 || name[0] == '\0')
		snprintf(name, sizeof name, "localhost");
	name[sizeof name - 1] = '\0';
	snprintf(ehlo, sizeof ehlo, "EHLO %s\r\n", name);

	if (cf->smtp_tls == CONFIG_TLS_TLS && relay_tls(io, ctx,
	    cf->smtp_host) == -1)
		return -1;
	if (relay_cmd(io, NULL, rp) == -1 ||
	    relay_expect(io, rp, 220, "us at its greeting") == -1 ||
	    relay_cmd(io, ehlo, rp) == -1 ||
	    relay_expect(io, rp, 250, "EHLO") == -1)
		return -1;
	if (cf->smtp_tls == CONFIG_TLS_STARTTLS) {
		struct relay_reply	 st;

		memset(&st, 0, sizeof st);
		buf_init(&st.lines);
		if (relay_starttls(io, ctx, cf->smtp_host, rp, &st) == -1) {
			buf_free(&st.lines);
			return -1;
		}
		buf_free(&st.lines);
		if (relay_cmd(io, ehlo, rp) == -1 ||
		    relay_expect(io, rp, 250, "EHLO") == -1)
			return -1;
	}
	return 0;
}

struct tunnel *
relay_open(const struct config *cf, SSL_CTX *ctx, int tcp, int step_ms,
    int *plain, struct relay_fail *f)
{
	struct relay_io		*io = xcalloc(1, sizeof *io);
	struct relay_reply	 rp;
	struct tunnel		*t = NULL;
	char			*libehlo = NULL;

	memset(f, 0, sizeof *f);
	memset(&rp, 0, sizeof rp);
	buf_init(&rp.lines);
	io->fd = tcp;
	io->step_ms = step_ms;
	io->f = f;
	*plain = -1;
	if (relay_hello(io, cf, ctx, &rp) == -1)
		goto err;
	libehlo = relay_ehlo_for_libesmtp(&rp);
	if (cf->smtp_user != NULL && cf->smtp_user[0] != '\0') {
		struct relay_reply	 au;

		memset(&au, 0, sizeof au);
		buf_init(&au.lines);
		if (relay_auth(io, cf, &rp, &au) == -1) {
			buf_free(&au.lines);
			goto err;
		}
		buf_free(&au.lines);
	}
	if (io->len > 0) {
		relay_fail(io, 0, 0, "the relay said more than it was asked");
		goto err;
	}
	t = tunnel_start(io->ssl, tcp, libehlo, step_ms + 5000, plain,
	    f->why, sizeof f->why);
	io->ssl = NULL;
	tcp = -1;
	if (t == NULL)
		goto err;
	free(libehlo);
	buf_free(&rp.lines);
	free(io);
	return t;
err:
	if (f->code != 0)
		relay_quit(io);
	if (io->ssl != NULL) {
		(void)SSL_shutdown(io->ssl);	/* one try, never waits */
		SSL_free(io->ssl);
	}
	ERR_clear_error();
	if (tcp != -1)
		close(tcp);
	free(libehlo);
	buf_free(&rp.lines);
	free(io);
	return NULL;
}

/*
 * tunnel.c: TLS under libESMTP, for both `tls = tls` and `tls = starttls`.
 *
 * DESIGN
 * ------
 *
 * libESMTP 1.1 is not trusted with TLS (relay.c says why). The worker makes
 * the connection and the TLS handshake itself, opens the SMTP session on it
 * (relay.c: greeting, EHLO, STARTTLS, AUTH), and then gives libESMTP a
 * tunnel: the plain end of a socket pair that a pump thread carries over
 * TLS.
 *
 *   worker thread                     pump thread (one per SMTP session)
 *   -------------                     -----------
 *   connect (bounded, sender.c)
 *   tunnel_handshake: certificate
 *     and name checked
 *   relay.c: the session up to AUTH
 *   tunnel_start: socket pair,
 *     a greeting already in it -->    answers libESMTP's EHLO with the
 *                                       relay's own reply (less STARTTLS
 *                                       and AUTH), then
 *   libESMTP speaks SMTP on the       its end <==> SSL <==> TCP to the relay
 *     plain end (sender.c hands it
 *     over in libESMTP's connect())
 *   close the plain end ----------->  EOF: close_notify to the relay, done
 *   tunnel_close: wait, join
 *
 * No listening socket is involved, so no other local process can step into
 * the connection. The TCP socket is non-blocking and the pump never blocks
 * on it: it polls both sides, handles OpenSSL's WANT_READ/WANT_WRITE for
 * either direction, and reads from OpenSSL until it says WANT_READ before it
 * polls the socket again: after a TLS 1.3 handshake, a reply can sit whole
 * in OpenSSL's buffer behind the session tickets, where poll() cannot see
 * it. It quits after idle_ms with no traffic either way (longer than
 * libESMTP's own step timeout, so that one fires first and says what it was
 * waiting for).
 *
 * Ownership: the SSL object and both sockets belong to the worker until
 * pthread_create(), to the pump until it sets `done`, and to the worker again
 * after pthread_join(). `done` is the only shared field, under `lock`. The
 * pump inherits the worker's signal mask (all blocked) and writes to the
 * plain end with MSG_NOSIGNAL.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tunnel.h"
#include "util.h"

#define TUNNEL_CLOSE_WAIT_S	2	/* tunnel_close() waits this for the pump */

struct tunnel {
	SSL		*ssl;
	int		 tcp;		/* non-blocking, under ssl */
	int		 end;		/* the pump's end of the socket pair */
	int		 idle_ms;
	char		*ehlo;		/* the answer to libESMTP's EHLO */
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 done;		/* under lock: the pump has returned */
};

/* Milliseconds since t0 on the monotonic clock. */
static long
tunnel_since(const struct timespec *t0)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L +
	    (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

/*
 * Why the handshake failed, in words for an operator; *cert_bad set when it
 * was the relay's certificate (only the operator can fix that).
 */
static void
tunnel_why(SSL *ssl, int rc, int *cert_bad, char *why, size_t len)
{
	long		 vr = SSL_get_verify_result(ssl);
	unsigned long	 e = ERR_peek_last_error();
	const char	*r;

	*cert_bad = vr != X509_V_OK;
	if (vr == X509_V_ERR_HOSTNAME_MISMATCH ||
	    vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
		snprintf(why, len, "the relay's certificate is not trusted: "
		    "it does not name the smtp host");
	else if (vr != X509_V_OK)
		snprintf(why, len, "the relay's certificate is not trusted: %s",
		    X509_verify_cert_error_string(vr));
	else if (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER)
		snprintf(why, len, "TLS handshake failed: the server did not "
		    "answer in TLS (port 587 and 25 want tls = starttls)");
	else if (e != 0 && (r = ERR_reason_error_string(e)) != NULL)
		snprintf(why, len, "TLS handshake failed: %s", r);
	else if (SSL_get_error(ssl, rc) == SSL_ERROR_SYSCALL && errno != 0)
		snprintf(why, len, "TLS handshake failed: %s", strerror(errno));
	else
		snprintf(why, len,
		    "TLS handshake failed: the server closed the connection");
	ERR_clear_error();
}

/* The handshake on a non-blocking socket, within ms. */
static int
tunnel_connect(SSL *ssl, int tcp, int ms, int *cert_bad, char *why,
    size_t len)
{
	struct timespec	 t0;
	struct pollfd	 pfd;
	long		 left;
	int		 rc, e;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		errno = 0;
		if ((rc = SSL_connect(ssl)) == 1)
			return 0;
		e = SSL_get_error(ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			tunnel_why(ssl, rc, cert_bad, why, len);
			return -1;
		}
		if ((left = ms - tunnel_since(&t0)) <= 0)
			break;
		pfd.fd = tcp;
		pfd.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		do
			rc = poll(&pfd, 1, (int)left);
		while (rc == -1 && errno == EINTR);
		if (rc == 0)
			break;
		if (rc == -1) {
			snprintf(why, len, "TLS handshake failed: poll: %s",
			    strerror(errno));
			return -1;
		}
	}
	snprintf(why, len, "TLS handshake timed out after %d s", ms / 1000);
	return -1;
}

/* Write all of buf to the plain end; -1 if the client has gone. */
static int
tunnel_write_all(int fd, const char *buf, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * After an SSL call returned n <= 0: the poll events it waits for, or 0 if
 * the connection is over (*bye set if the relay closed it cleanly).
 */
static int
tunnel_wants(SSL *ssl, int n, int *bye)
{
	switch (SSL_get_error(ssl, n)) {
	case SSL_ERROR_WANT_READ:
		return POLLIN;
	case SSL_ERROR_WANT_WRITE:
		return POLLOUT;
	case SSL_ERROR_ZERO_RETURN:
		*bye = 1;
		return 0;
	default:
		return 0;
	}
}

/*
 * libESMTP's first command, EHLO, answered here: the relay already heard
 * ours. What libESMTP sends after the line (nothing, unless it pipelines)
 * is left in up for the relay. Returns -1 if libESMTP went away or said
 * something else.
 */
static int
tunnel_answer_ehlo(struct tunnel *t, char *up, size_t cap, size_t *uplen)
{
	struct pollfd	 pfd;
	char		*nl;
	ssize_t		 r;
	size_t		 have = 0, rest;
	int		 n;

	for (;;) {
		pfd.fd = t->end;
		pfd.events = POLLIN;
		do
			n = poll(&pfd, 1, t->idle_ms);
		while (n == -1 && errno == EINTR);
		if (n <= 0)
			return -1;
		if ((r = read(t->end, up + have, cap - have)) <= 0)
			return -1;
		have += (size_t)r;
		if ((nl = memchr(up, '\n', have)) != NULL)
			break;
		if (have == cap)
			return -1;
	}
	if (strncasecmp(up, "EHLO ", 5) != 0)
		return -1;
	if (tunnel_write_all(t->end, t->ehlo, strlen(t->ehlo)) == -1)
		return -1;
	rest = have - (size_t)(nl + 1 - up);
	memmove(up, nl + 1, rest);
	*uplen = rest;
	return 0;
}

/*
 * Relay to client: all that OpenSSL can give now. -1 if the client has gone,
 * the relay said goodbye (*bye) or the link broke; else the poll events
 * OpenSSL waits for are added to *tev.
 */
static int
tunnel_down(struct tunnel *t, int *tev, int *bye)
{
	char	down[16384];
	int	n, e;

	for (;;) {
		n = SSL_read(t->ssl, down, sizeof down);
		if (n > 0) {
			if (tunnel_write_all(t->end, down, n) == -1)
				return -1;	/* client gone */
			continue;
		}
		/* The relay said goodbye, or the link broke. */
		if ((e = tunnel_wants(t->ssl, n, bye)) == 0)
			return -1;
		*tev |= e;
		return 0;
	}
}

/*
 * Client to relay: what we hold in up (*uplen bytes from *upoff), as far as
 * it goes. -1 if the connection is over (*bye if cleanly); else the poll
 * events OpenSSL waits for, if any, are added to *tev.
 */
static int
tunnel_up(struct tunnel *t, char *up, size_t *upoff, size_t *uplen,
    int *tev, int *bye)
{
	int	n, e;

	while (*uplen > 0) {
		n = SSL_write(t->ssl, up + *upoff, *uplen);
		if (n > 0) {
			*upoff += (size_t)n;
			*uplen -= (size_t)n;
			continue;
		}
		if ((e = tunnel_wants(t->ssl, n, bye)) == 0)
			return -1;
		*tev |= e;
		break;
	}
	return 0;
}

static void *
tunnel_pump(void *arg)
{
	struct tunnel	*t = arg;
	struct pollfd	 pfd[2];
	char		 up[16384];
	size_t		 uplen = 0, upoff = 0;
	ssize_t		 r;
	int		 n, tev, open = 1, bye = 0;

	if (tunnel_answer_ehlo(t, up, sizeof up, &uplen) == -1)
		goto out;
	for (;;) {
		tev = 0;
		if (tunnel_down(t, &tev, &bye) == -1 ||
		    tunnel_up(t, up, &upoff, &uplen, &tev, &bye) == -1)
			goto out;
		if (uplen == 0) {
			upoff = 0;
			if (!open) {
				bye = 1;	/* client done, all forwarded */
				goto out;
			}
		}

		/*
		 * Read from the client only when all it sent before has gone
		 * on: OpenSSL wants a retried SSL_write with the same bytes,
		 * and poll reports a hang-up even for events = 0.
		 */
		pfd[0].fd = uplen == 0 ? t->end : -1;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = t->tcp;
		pfd[1].events = (short)tev;
		pfd[1].revents = 0;
		do
			n = poll(pfd, 2, t->idle_ms);
		while (n == -1 && errno == EINTR);
		if (n <= 0)
			goto out;		/* idle too long, or poll broke */
		if (uplen == 0 && pfd[0].revents != 0) {
			r = read(t->end, up, sizeof up);
			if (r > 0)
				uplen = (size_t)r;
			else if (r == 0 || (errno != EINTR && errno != EAGAIN))
				open = 0;
		}
	}
out:
	if (bye)
		(void)SSL_shutdown(t->ssl);	/* close_notify, one try */
	ERR_clear_error();
	/*
	 * Tell the client at once: it reads what the relay said (already in
	 * the pair), then end of file, and its writes fail, instead of
	 * waiting for its own timeout.
	 */
	(void)shutdown(t->end, SHUT_RDWR);
	pthread_mutex_lock(&t->lock);
	t->done = 1;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

SSL *
tunnel_handshake(SSL_CTX *ctx, int tcp, const char *host, int ms,
    int *cert_bad, char *why, size_t len)
{
	struct in_addr	 a4;
	SSL		*ssl = NULL;
	unsigned long	 e;
	int		 fl;

	*cert_bad = 0;
	ERR_clear_error();
	if ((fl = fcntl(tcp, F_GETFL)) == -1 ||
	    fcntl(tcp, F_SETFL, fl | O_NONBLOCK) == -1) {
		snprintf(why, len, "TLS set-up failed: %s", strerror(errno));
		goto err;
	}
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, tcp) != 1)
		goto ssl_err;
	/*
	 * The name to check is [smtp] host as written, never what DNS says
	 * it stands for: an IPv4 address, or a DNS name (also sent as SNI).
	 */
	if (inet_pton(AF_INET, host, &a4) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) != 1)
			goto ssl_err;
	} else if (SSL_set1_host(ssl, host) != 1 ||
	    SSL_set_tlsext_host_name(ssl, host) != 1)
		goto ssl_err;
	if (tunnel_connect(ssl, tcp, ms, cert_bad, why, len) == -1)
		goto err;
	return ssl;

ssl_err:
	e = ERR_get_error();
	snprintf(why, len, "TLS set-up failed: %s",
	    e != 0 && ERR_reason_error_string(e) != NULL ?
	    ERR_reason_error_string(e) : "unknown error");
	ERR_clear_error();
err:
	SSL_free(ssl);
	return NULL;
}

struct tunnel *
tunnel_start(SSL *ssl, int tcp, const char *ehlo, int idle_ms, int *plain,
    char *why, size_t len)
{
	static const char	 hello[] = "220 relay ready (hearback tunnel)\r\n";
	struct tunnel		*t = NULL;
	pthread_condattr_t	 ca;
	int			 sv[2] = { -1, -1 };

	*plain = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(why, len, "TLS set-up failed: socketpair: %s",
		    strerror(errno));
		goto err;
	}
	/* libESMTP reads a greeting first; the relay's came long ago. */
	if (tunnel_write_all(sv[1], hello, sizeof hello - 1) == -1) {
		snprintf(why, len, "TLS set-up failed: %s", strerror(errno));
		goto err;
	}
	t = xcalloc(1, sizeof *t);
	t->ssl = ssl;
	t->tcp = tcp;
	t->end = sv[1];
	t->idle_ms = idle_ms;
	t->ehlo = xstrdup(ehlo);
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&t->thread, NULL, tunnel_pump, t)) != 0) {
		snprintf(why, len, "TLS set-up failed: pthread_create: %s",
		    strerror(errno));
		pthread_mutex_destroy(&t->lock);
		pthread_cond_destroy(&t->cond);
		free(t->ehlo);
		free(t);
		goto err;
	}
	*plain = sv[0];
	return t;

err:
	SSL_free(ssl);
	close(tcp);
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	return NULL;
}

void
tunnel_close(struct tunnel *t)
{
	struct timespec	dl;
	int		done;

	if (t == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += TUNNEL_CLOSE_WAIT_S;
	pthread_mutex_lock(&t->lock);
	while (!t->done &&
	    pthread_cond_timedwait(&t->cond, &t->lock, &dl) != ETIMEDOUT)
		;
	done = t->done;
	pthread_mutex_unlock(&t->lock);
	if (!done) {
		/* A relay that will not take what the pump holds: cut it. */
		(void)shutdown(t->tcp, SHUT_RDWR);
		(void)shutdown(t->end, SHUT_RDWR);
	}
	pthread_join(t->thread, NULL);
	SSL_free(t->ssl);
	close(t->tcp);
	close(t->end);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t->ehlo);
	free(t);
}

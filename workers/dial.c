/*
 * dial.c: the one TCP connection a worker's SMTP session runs on, before
 * libESMTP gets it.
 *
 * dial_relay() connects with a time limit (libESMTP's own connect() has
 * none); dial_tls_ctx() makes the SSL_CTX relay.c opens TLS with. Then the
 * connection is handed to libESMTP through our connect(), below: between
 * dial_hand_over(fd) and dial_hand_over_end() in a thread, libESMTP's
 * connect() to the relay does not dial but makes its socket that fd, and
 * any other TCP connect() in that thread is refused: libESMTP tries the
 * host's next address when a relay answers EHLO with 4xx or hangs up, and
 * that would be a second connection (in clear text, under TLS).
 *
 * Threads: any; the hand-over is per thread (thread-local), so workers
 * never see each other's connection.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config.h"
#include "dial.h"

/*
 * Connect to host:port without blocking for more than ms milliseconds.
 * Returns the connected socket (non-blocking) if some address accepted, else
 * -1 with why filled.
 */
int
dial_relay(const char *host, int port, int ms, char *why, size_t len)
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
static int (*dial_real_connect)(int, const struct sockaddr *, socklen_t);
static pthread_once_t dial_connect_once = PTHREAD_ONCE_INIT;
/* The connection (or tunnel end) waiting for libESMTP's connect(). */
static _Thread_local int dial_handoff = -1;
/* Set while libESMTP runs a session in this thread. */
static _Thread_local int dial_in_session;

static void
dial_find_connect(void)
{
	dial_real_connect = (int (*)(int, const struct sockaddr *,
	    socklen_t))dlsym(RTLD_NEXT, "connect");
}

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int	one = 1, h, e;

	if (dial_in_session && sa != NULL &&
	    (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
		/* libESMTP dialling the relay: the connection is ours. */
		if ((h = dial_handoff) == -1) {
			errno = ECONNREFUSED;	/* a second connection: never */
			return -1;
		}
		dial_handoff = -1;
		if (dup3(h, fd, O_CLOEXEC) == -1) {
			e = errno;
			close(h);
			errno = e;
			return -1;
		}
		close(h);
		return 0;
	}
	pthread_once(&dial_connect_once, dial_find_connect);
	if (dial_real_connect == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (sa != NULL && (sa->sa_family == AF_INET ||
	    sa->sa_family == AF_INET6))
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof one);
	return dial_real_connect(fd, sa, len);
}

/*
 * An SSL_CTX for STARTTLS or implicit TLS: verify the peer against ca_file
 * or the system store.
 */
SSL_CTX *
dial_tls_ctx(const struct config *cf, char *why, size_t len)
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
dial_hand_over(int fd)
{
	dial_in_session = 1;
	dial_handoff = fd;
}

void
dial_hand_over_end(void)
{
	dial_in_session = 0;
	if (dial_handoff != -1) {	/* libESMTP never dialled */
		close(dial_handoff);
		dial_handoff = -1;
	}
}

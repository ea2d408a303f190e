/*
 * tunnel.h: TLS under libESMTP (SMTP submission with STARTTLS, RFC 3207, or
 * implicit TLS on port 465, RFC 8314); libESMTP itself speaks plain SMTP
 * over the tunnel. relay.c opens the session between the two calls.
 *
 * The worker that calls tunnel_handshake() and tunnel_start() owns the tunnel
 * and is the only thread that may call tunnel_close() on it; the pump thread
 * it starts owns the TLS connection in between and touches nothing else.
 */
#ifndef HB_TUNNEL_H
#define HB_TUNNEL_H

#include <stddef.h>

#include <openssl/ssl.h>

struct tunnel;

/*
 * Run the TLS handshake on tcp (a connected socket, made non-blocking here;
 * the caller still owns it) within ms milliseconds, verifying the server's
 * certificate with ctx (which must have SSL_VERIFY_PEER and its trust store
 * set) and against host as written (a DNS name or an IPv4 address). Returns
 * the SSL object, or NULL with why filled (never an address) and *cert_bad
 * set if the certificate was the reason.
 */
SSL		*tunnel_handshake(SSL_CTX *ctx, int tcp, const char *host,
		    int ms, int *cert_bad, char *why, size_t len);
/*
 * Take ssl and tcp (closed on failure too), put an SMTP greeting in a new
 * socket pair and start the pump, which answers the client's first command
 * (EHLO) with ehlo (a complete reply, CRLF-terminated lines) and then carries
 * everything both ways. *plain is the client end: the caller owns it and
 * closes it (or hands it on); the pump ends when every holder has closed it,
 * when the server closes, or after idle_ms with no traffic either way. NULL
 * with why filled on failure.
 */
struct tunnel	*tunnel_start(SSL *ssl, int tcp, const char *ehlo, int idle_ms,
		    int *plain, char *why, size_t len);
/*
 * After the client end is closed: wait for the pump to finish (it says a TLS
 * goodbye to the server), at most about 2 s, then cut the connection, join
 * the thread and free everything.
 */
void		 tunnel_close(struct tunnel *);

#endif

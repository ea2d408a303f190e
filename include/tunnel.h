/*
 * tunnel.h: implicit TLS (SMTP submission on port 465, RFC 8314) under
 * libESMTP, which speaks only plain SMTP and STARTTLS.
 *
 * The worker that calls tunnel_open() owns the tunnel and is the only thread
 * that may call tunnel_close() on it; the pump thread it starts owns the TLS
 * connection in between and touches nothing else.
 */
#ifndef HB_TUNNEL_H
#define HB_TUNNEL_H

#include <stddef.h>

#include <openssl/ssl.h>

struct tunnel;

/*
 * Run the TLS handshake on tcp (a connected socket; taken, and closed on
 * failure too) within ms milliseconds, verifying the server's certificate
 * with ctx (which must have SSL_VERIFY_PEER and its trust store set) and
 * against host (a DNS name or an IPv4 address). On success, start the pump
 * and return the tunnel, with *plain the client end of a socket pair: what is
 * written there reaches the server over TLS, and what the server sends can be
 * read there. The caller owns *plain and closes it (or hands it on); the pump
 * ends when every holder has closed it, when the server closes, or after
 * idle_ms with no traffic either way. On failure, NULL with why filled
 * ("TLS: ...", never an address).
 */
struct tunnel	*tunnel_open(SSL_CTX *ctx, int tcp, const char *host, int ms,
		    int idle_ms, int *plain, char *why, size_t len);
/*
 * After the client end is closed: wait for the pump to finish (it says a TLS
 * goodbye to the server), at most about 2 s, then cut the connection, join
 * the thread and free everything.
 */
void		 tunnel_close(struct tunnel *);

#endif

/*
 * relay.h: opening an SMTP session with the relay ourselves, from the
 * greeting through TLS and AUTH, then handing it to libESMTP over a tunnel.
 * For worker threads; each call owns everything it makes.
 */
#ifndef HB_RELAY_H
#define HB_RELAY_H

#include <stddef.h>

#include <openssl/ssl.h>

struct config;
struct tunnel;

/* Why a session could not be opened. */
struct relay_fail {
	int	code;		/* the relay's reply code, 0 if none */
	/*
	 * 1 when the relay refused us in a way only the operator can mend:
	 * the login, the certificate, no STARTTLS, a 5xx greeting, bytes
	 * injected before TLS. No message was tried.
	 */
	int	refused;
	char	why[256];	/* for an operator; may quote the relay */
};

/*
 * On tcp (connected to cf's relay; taken, and closed on failure too): for
 * tls = tls the TLS handshake, then greeting and EHLO; for tls = starttls
 * greeting, EHLO, STARTTLS (refusing any byte that follows its 220), the
 * handshake and EHLO again; then AUTH if cf has a user. The certificate is
 * checked with ctx against [smtp] host. On success, returns the tunnel and
 * the plain end *plain for libESMTP, which must neither STARTTLS nor AUTH.
 * Each step waits at most step_ms. On failure, NULL and f filled.
 */
struct tunnel	*relay_open(const struct config *cf, SSL_CTX *ctx, int tcp,
		    int step_ms, int *plain, struct relay_fail *f);

#endif

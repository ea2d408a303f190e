/*
 * dial.h: the TCP connection to the relay, dialled with a time limit and
 * handed to libESMTP (see workers/dial.c). Worker threads; the hand-over is
 * per thread.
 */
#ifndef HB_DIAL_H
#define HB_DIAL_H

#include <stddef.h>

#include <openssl/ssl.h>

struct config;

/* Connect to host:port within ms milliseconds: the connected socket
 * (non-blocking), or -1 with why filled. */
int	 dial_relay(const char *host, int port, int ms, char *why, size_t len);
/* An SSL_CTX that verifies the relay against [smtp] ca_file or the
 * system's store (TLS 1.2 at least), or NULL with why filled. */
SSL_CTX	*dial_tls_ctx(const struct config *, char *why, size_t len);
/* From here until dial_hand_over_end(), this thread's next TCP connect()
 * takes fd (ours no more) instead of dialling, and any other is refused. */
void	 dial_hand_over(int fd);
/* The hand-over is over; fd is closed if nobody took it. */
void	 dial_hand_over_end(void);

#endif

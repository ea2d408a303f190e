/*
 * sender.h: SMTP submission with libESMTP, one connection per batch.
 *
 * sender_init() and sender_exit() are for the main thread (before the
 * workers start, after they stop). sender_send() is for worker threads: each
 * call builds, runs and destroys its own libESMTP session, so calls in
 * different threads never share anything.
 */
#ifndef HB_SENDER_H
#define HB_SENDER_H

#include "job.h"

struct config;

struct outmsg {
	const char	*rcpt;		/* envelope recipient (addr-spec) */
	const char	*text;		/* complete RFC 5322 message, CRLF, NUL-terminated */
	/* set by sender_send */
	enum verdict	 verdict;
	int		 code;		/* SMTP code, 0 if none */
	char		 reply[256];	/* server text or error text, no addresses */
	int		 refused;	/* the relay refused us (login,
					   certificate): not tried at all */
};

/* Main thread, before workers: auth_client_init(), ignore SIGPIPE. */
void		sender_init(void);
/* Main thread, after the workers are joined: auth_client_exit(). */
void		sender_exit(void);
/*
 * Worker thread: send m[0..n-1] over one SMTP connection to cf's server and
 * set the verdict, code and reply of every one (never leaves one unset).
 * Blocks up to about 10 s (connect), 10 s more for a TLS handshake, plus
 * 30 s per SMTP step.
 */
void		sender_send(const struct config *cf, struct outmsg *m, int n);
/* 2xx ok, 4xx temp, 5xx perm, 0 or anything else temp. */
enum verdict	sender_verdict(int code);

#endif

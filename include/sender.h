/*
 * sender.h: SMTP submission with libESMTP, one connection per session.
 *
 * sender_init() and sender_exit() are for the main thread (before the
 * workers start, after they stop). sender_session() and sender_send() are
 * for worker threads: each call builds, runs and destroys its own libESMTP
 * session, so calls in different threads never share anything.
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

/*
 * What keeps one connection going (sender_session): more messages for the
 * same relay while it carries fewer than max, and each group's verdicts
 * as soon as they are all known. Both are called in the sender's thread,
 * from inside the session.
 */
struct sender_feed {
	/* Up to max more messages (*m, the caller's until done is called
	 * with tag), or 0: no more for this connection. */
	int	(*more)(void *arg, int max, struct outmsg **m, void **tag);
	/* Every message of a group (handed in together) has its verdict. */
	void	(*done)(void *arg, struct outmsg *m, int n, void *tag);
	void	*arg;
	int	 max;		/* messages one connection carries, at most */
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
/*
 * Worker thread: the same for m[0..n-1] (a group: feed->done is called
 * for it with tag), and then, on the same connection, for what feed->more
 * gives, group by group. When the last message added so far has its final
 * reply, every group is done; if that reply accepted it, the feed is asked
 * for more. Every group is done exactly once before this returns.
 */
void		sender_session(const struct config *cf, struct outmsg *m,
		    int n, void *tag, const struct sender_feed *feed);
/* 2xx ok, 4xx temp, 5xx perm, 0 or anything else temp. */
enum verdict	sender_verdict(int code);

#endif

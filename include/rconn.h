/*
 * rconn.h: one asynchronous Redis connection that comes back by itself.
 *
 * Main (libevent) thread only, like the hiredis context it wraps. When the
 * connection fails or drops, pending callbacks get a NULL reply (hiredis'
 * rule), the owner's down callback runs, and a timer reconnects with backoff
 * (100 ms doubling to 5 s). The up callback runs once Redis has accepted
 * the handshake: AUTH (if any), PING, and a probe of the ACL for the
 * commands the daemon runs. While Redis refuses us (WRONGPASS, NOAUTH,
 * NOPERM), the connection is down, rconn_why() says why, and it is tried
 * again. The daemon keeps two: one for the blocking XREADGROUP and intake's
 * commits, one for everything else.
 */
#ifndef HB_RCONN_H
#define HB_RCONN_H

#include <stddef.h>

#include <event2/event.h>
#include <hiredis/async.h>

struct config;
struct rconn;

typedef void rconn_state_fn(struct rconn *, int up, void *arg);

struct rconn	*rconn_new(struct event_base *, const struct config *,
		    const char *name, rconn_state_fn *, void *arg);
/* Send a command; -1 when not connected (fn is then not called). */
int		 rconn_cmd(struct rconn *, redisCallbackFn *fn, void *priv,
		    int argc, const char **argv, const size_t *lens);
int		 rconn_cmdf(struct rconn *, redisCallbackFn *fn, void *priv,
		    const char *fmt, ...);
int		 rconn_up(const struct rconn *);
/* Why it is not up ("at 127.0.0.1:6379 refused us: WRONGPASS ...", "at
 * ... unreachable: Connection refused"); "" when up. */
const char	*rconn_why(const struct rconn *);
/* The reason of the first connection that is down, of all; "" if none. */
const char	*rconn_down_why(void);
/* Replace the config used for the next connect (SIGHUP). */
void		 rconn_set_config(struct rconn *, const struct config *);
void		 rconn_free(struct rconn *);

#endif

/*
 * rconn.h: one asynchronous Redis connection that comes back by itself.
 *
 * Main (libevent) thread only, like the hiredis context it wraps. When the
 * connection fails or drops, pending callbacks get a NULL reply (hiredis'
 * rule), the owner's down callback runs, and a timer reconnects with backoff
 * (100 ms doubling to 5 s). The up callback runs once AUTH (if any) is sent
 * and the socket is connected. The daemon keeps two: one for the blocking
 * XREADGROUP and intake's commits, one for everything else.
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
/* Replace the config used for the next connect (SIGHUP). */
void		 rconn_set_config(struct rconn *, const struct config *);
void		 rconn_free(struct rconn *);

#endif

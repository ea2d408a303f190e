/*
 * feedback.h: closing the loop on "you said". Main thread only.
 *
 * A timer asks Redis (one Lua script, digest.lua) for said items open
 * longer than feedback_due; each coordinator with such items gets at most
 * one digest every digest_every. The script makes the digest delivery
 * itself, so with several daemons only one makes it.
 */
#ifndef HB_FEEDBACK_H
#define HB_FEEDBACK_H

#include <event2/event.h>

struct config;
struct feedback;
struct rconn;

typedef void feedback_fn(void *arg);	/* a digest was scheduled */

struct feedback	*feedback_start(struct event_base *, struct config *,
		    struct rconn *, feedback_fn *, void *arg);
void		 feedback_set_config(struct feedback *, struct config *);
void		 feedback_stop(struct feedback *);
void		 feedback_free(struct feedback *);

#endif

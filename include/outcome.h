/*
 * outcome.h: what happened to an email, written to Redis. Main thread only.
 *
 * Sent: off the schedule, audit. Temporary failure: back on the schedule at
 * the next try (retry.c), audit. Permanent failure or expired: {P}:dead, a
 * notice to the coordinator, audit. Not tried (shutdown): the lease is given
 * back. Each outcome is one atomic commit; commits that could not reach Redis
 * are kept in order and sent again when the connection returns, so an email
 * that was sent is never forgotten (which would send it again).
 */
#ifndef HB_OUTCOME_H
#define HB_OUTCOME_H

#include <event2/event.h>

struct config;
struct job;
struct metrics;
struct outcome;
struct rconn;

typedef void outcome_fn(void *arg);	/* an outcome was stored */

struct outcome	*outcome_new(struct event_base *, struct config *,
		    struct rconn *, struct metrics *, outcome_fn *, void *arg);
void		 outcome_set_config(struct outcome *, struct config *);
/* Record a finished job (verdict set by a worker) and free it. */
void		 outcome_job(struct outcome *, struct job *);
/* Record a job that was never sent: expired (dead) or skipped (dropped, e.g.
 * the person withdrew consent), or not tried (lease given back). */
void		 outcome_expired(struct outcome *, struct job *, const char *why);
void		 outcome_skipped(struct outcome *, struct job *, const char *why);
void		 outcome_untried(struct outcome *, struct job *);
/* The connection is back: send what is queued. */
void		 outcome_flush(struct outcome *);
/* Commits not yet acknowledged by Redis. */
int		 outcome_pending(const struct outcome *);
void		 outcome_free(struct outcome *);

#endif

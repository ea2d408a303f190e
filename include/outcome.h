/*
 * outcome.h: what happened to an email, written to Redis. Main thread only.
 *
 * Sent: off the schedule, audit. Temporary failure: back on the schedule at
 * the next try (retry.c), audit. Permanent failure or expired: {P}:dead, a
 * notice to the coordinator, audit. Skipped (consent withdrawn, person gone):
 * off the schedule, audit. Not tried (shutdown, relay refused us): the lease
 * is given back. The outcomes of one turn of the event loop go in one atomic
 * commit (up to 16 jobs); commits that could not reach Redis are kept in
 * order and sent again when the connection returns, so an email that was
 * sent is never forgotten (which would send it again).
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
/* Record what happened to a job, by its verdict (job_set_verdict: set by a
 * worker, or by the scheduler for a job never handed to one), and free it.
 * The one way a job ends. */
void		 outcome_settle(struct outcome *, struct job *);
/* The connection is back: send what is queued. */
void		 outcome_flush(struct outcome *);
/* Commits not yet acknowledged by Redis. */
int		 outcome_pending(const struct outcome *);
void		 outcome_free(struct outcome *);

#endif

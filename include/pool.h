/*
 * pool.h: the worker threads that send email, and the hand-off to them and
 * back (memcached / Redis bio style).
 *
 * Every function here is for the libevent (main) thread only. The work
 * function runs in a worker thread; the done function runs in the libevent
 * thread. See workers/pool.c for the design.
 */
#ifndef HB_POOL_H
#define HB_POOL_H

#include "job.h"

struct event_base;
struct pool;

/* Runs in a worker thread on 1..batch jobs; must give every job its verdict
 * (job_set_verdict), fill its reply fields and give it back
 * (pool_give_back) before it returns, and so for every job it takes with
 * pool_more. */
typedef void pool_work_fn(struct pool *, struct job **jobs, int n,
		    void *arg);
/* Runs in the libevent thread, once per finished job; the job is the callee's. */
typedef void pool_done_fn(struct job *job, void *arg);

/* Start nthreads workers, each taking up to batch jobs at a time. Fatal on failure (start-up only). */
struct pool	*pool_new(struct event_base *base, int nthreads, int batch,
		    pool_work_fn *work, pool_done_fn *done, void *arg);
/* Hand a job to the workers; state -> JOB_QUEUED. */
void		 pool_push(struct pool *, struct job *);
/* Jobs pushed and not yet handed back through done (nor reclaimed). */
int		 pool_pending(const struct pool *);
/* nthreads * batch: how many jobs it is sensible to have pending. */
int		 pool_capacity(const struct pool *);
/* The batch size: lease at least this many at a time. */
int		 pool_batch(const struct pool *);
/*
 * Worker thread, inside the work function. pool_more takes up to max
 * more queued jobs whose config is cf (the same relay and login: they
 * may go on the same connection), waiting up to wait_ms for one if none
 * is queued: 0 if none came, the next is for another config, or the pool
 * is stopping. pool_give_back hands jobs that have their
 * verdicts to the main thread (JOB_DONE): they are not the worker's any
 * more.
 */
int		 pool_more(struct pool *, struct job **jobs, int max,
		    const void *cf, int wait_ms);
void		 pool_give_back(struct pool *, struct job **jobs, int n);
/*
 * Take back the jobs no worker has started (done is NOT called for them):
 * they are appended to q (which the caller has initialised), in push order,
 * with state JOB_NEW.
 */
void		 pool_reclaim(struct pool *, struct jobq *q);
/*
 * Stop: wait for the workers to finish their current batch, join them,
 * deliver the remaining done callbacks synchronously, free. Reclaim is the
 * caller's business: a job still queued here is finished without being sent
 * (VERDICT_TEMP, tried 0, "not sent: shutting down") and goes through done.
 * Blocks as long as a batch in progress takes (SMTP timeouts).
 */
void		 pool_free(struct pool *);

#endif

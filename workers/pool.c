/*
 * pool.c: the worker threads, the queue into them and the queue back.
 *
 * DESIGN
 * ------
 *
 * The design follows Redis bio.c on the way in and memcached's
 * return_io_pending on the way back.
 *
 *   main thread                         worker threads (nthreads)
 *   -----------                         --------------------------
 *   pool_push(job) --> in (STAILQ) --> pop up to `batch` jobs at once
 *     [lock, signal cond]                 [lock, cond_wait while empty]
 *                                        work(jobs, n)  (one SMTP session;
 *                                          pool_more: more batches for it)
 *   efd readable <-- ret (STAILQ)  <-- pool_give_back: append under
 *   splice ret out under ret_lock        ret_lock; write the eventfd only
 *   done(job) for each                   if ret was empty before
 *
 * Who owns a job when: the main thread until pool_push(); then the input
 * queue (touched only under `lock`) until a worker pops it (or pool_more
 * takes it); then that worker alone (JOB_SENDING) until it gives it back
 * (pool_give_back: each batch as soon as its verdicts are known, while
 * the session goes on); then the return queue (under `ret_lock`) until the
 * main thread splices it out and passes it to done(), which owns it from
 * then on. pool_reclaim() takes jobs back from the input queue; done() is
 * never called for those.
 *
 * The capacity (what the scheduler leases up to) is a batch per worker: a
 * session gives its batch back before it asks for the next (pool_more
 * waits while the main thread leases it), so that a job is leased no
 * longer than its own batch takes, well within [delivery] lease.
 *
 * Workers never touch the event_base: the only wake-up is one eventfd write,
 * and only when the return queue goes from empty to non-empty (the main
 * thread reads the eventfd before splicing, so a job appended after the
 * splice finds the queue empty and writes again). Nothing busy-waits: workers
 * sleep on the condition variable, the main thread in its event loop.
 *
 * Workers block every signal (the mask is set while creating them, so they
 * are born with it): signals go to the main thread only.
 *
 * Shutdown: pool_free() sets `stopping` and wakes all workers. A worker
 * finishes the batches it holds, hands them back, and exits without taking
 * another job (pool_more gives nothing once stopping is set). pool_free() joins them all (so it blocks as long as an SMTP
 * session in progress takes; a caller with a deadline should wait for
 * pool_pending() to fall in its event loop first), finishes any job still in
 * the input queue without sending it, and calls done() for everything left in
 * the return queue, synchronously.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "pool.h"
#include "util.h"

struct pool {
	struct event_base	*base;
	int			 nthreads;
	int			 batch;
	pool_work_fn		*work;
	pool_done_fn		*done;
	void			*arg;
	pthread_t		*threads;

	pthread_mutex_t		 lock;		/* guards in, stopping */
	pthread_cond_t		 cond;		/* in got a job, or stopping */
	struct jobq		 in;
	int			 stopping;

	pthread_mutex_t		 ret_lock;	/* guards ret */
	struct jobq		 ret;
	int			 efd;		/* eventfd: ret became non-empty */
	struct event		*ev;

	int			 pending;	/* main thread only */
};

void
pool_give_back(struct pool *p, struct job **jobs, int n)
{
	uint64_t	one = 1;
	int		i, notify;

	if (n <= 0)
		return;
	for (i = 0; i < n; i++)
		job_set_state(jobs[i], JOB_DONE);
	pthread_mutex_lock(&p->ret_lock);
	notify = STAILQ_EMPTY(&p->ret);
	for (i = 0; i < n; i++)
		STAILQ_INSERT_TAIL(&p->ret, jobs[i], entry);
	pthread_mutex_unlock(&p->ret_lock);

	if (notify && write(p->efd, &one, sizeof one) != sizeof one)
		/* Only EAGAIN (counter full) is possible: then it is readable anyway. */
		log_warn("pool: eventfd write");
}

int
pool_more(struct pool *p, struct job **jobs, int max, const void *cf,
    int wait_ms)
{
	struct timespec	 until;
	struct job	*job;
	int		 i, n = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->lock);
	while (!p->stopping && STAILQ_EMPTY(&p->in) &&
	    pthread_cond_timedwait(&p->cond, &p->lock, &until) == 0)
		;
	while (!p->stopping && n < max && (job = STAILQ_FIRST(&p->in)) !=
	    NULL && (const void *)job->cf == cf) {
		STAILQ_REMOVE_HEAD(&p->in, entry);
		jobs[n++] = job;
	}
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < n; i++)
		job_set_state(jobs[i], JOB_SENDING);
	return n;
}

/* A worker: pop up to batch jobs and run them (work gives them back),
 * until stopping. */
static void *
pool_worker(void *v)
{
	struct pool	*p = v;
	struct job	**jobs, *job;
	int		 i, n;

	jobs = xcalloc(p->batch, sizeof *jobs);
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (STAILQ_EMPTY(&p->in) && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stopping) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		n = 0;
		while (n < p->batch && (job = STAILQ_FIRST(&p->in)) != NULL) {
			STAILQ_REMOVE_HEAD(&p->in, entry);
			jobs[n++] = job;
		}
		pthread_mutex_unlock(&p->lock);

		/* From here until pool_give_back() these jobs are ours alone. */
		for (i = 0; i < n; i++)
			job_set_state(jobs[i], JOB_SENDING);
		p->work(p, jobs, n, p->arg);
	}
	free(jobs);
	return NULL;
}

/* Splice the whole return queue out and call done() for each job. Main thread. */
static void
pool_drain(struct pool *p)
{
	struct jobq	 q = STAILQ_HEAD_INITIALIZER(q);
	struct job	*job;

	pthread_mutex_lock(&p->ret_lock);
	STAILQ_CONCAT(&q, &p->ret);
	pthread_mutex_unlock(&p->ret_lock);

	while ((job = STAILQ_FIRST(&q)) != NULL) {
		STAILQ_REMOVE_HEAD(&q, entry);
		p->pending--;
		p->done(job, p->arg);
	}
}

/* libevent callback: the eventfd is readable. Read it first, then splice. */
static void
pool_notify(evutil_socket_t fd, short what, void *v)
{
	struct pool	*p = v;
	uint64_t	 cnt;

	if (read(fd, &cnt, sizeof cnt) < 0 && errno != EAGAIN)
		log_warn("pool: eventfd read");
	pool_drain(p);
}

struct pool *
pool_new(struct event_base *base, int nthreads, int batch, pool_work_fn *work,
    pool_done_fn *done, void *arg)
{
	struct pool	*p;
	sigset_t	 all, old;
	int		 i, rc;

	if (nthreads < 1 || batch < 1 || work == NULL || done == NULL)
		fatalx("pool_new: bad arguments (%d threads, batch %d)",
		    nthreads, batch);

	p = xcalloc(1, sizeof *p);
	p->base = base;
	p->nthreads = nthreads;
	p->batch = batch;
	p->work = work;
	p->done = done;
	p->arg = arg;
	STAILQ_INIT(&p->in);
	STAILQ_INIT(&p->ret);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_mutex_init(&p->ret_lock, NULL);

	if ((p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("pool: eventfd");
	p->ev = event_new(base, p->efd, EV_READ | EV_PERSIST, pool_notify, p);
	if (p->ev == NULL || event_add(p->ev, NULL) == -1)
		fatalx("pool: cannot add the hand-back event");

	/* Workers inherit the mask: born with every signal blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	p->threads = xcalloc(nthreads, sizeof *p->threads);
	for (i = 0; i < nthreads; i++) {
		if ((rc = pthread_create(&p->threads[i], NULL, pool_worker,
		    p)) != 0) {
			errno = rc;
			fatal("pool: pthread_create");
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return p;
}

void
pool_push(struct pool *p, struct job *job)
{
	job_set_state(job, JOB_QUEUED);
	p->pending++;
	pthread_mutex_lock(&p->lock);
	STAILQ_INSERT_TAIL(&p->in, job, entry);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int
pool_pending(const struct pool *p)
{
	return p->pending;
}

int
pool_capacity(const struct pool *p)
{
	return p->nthreads * p->batch;
}

int
pool_batch(const struct pool *p)
{
	return p->batch;
}

void
pool_reclaim(struct pool *p, struct jobq *q)
{
	struct jobq	 got = STAILQ_HEAD_INITIALIZER(got);
	struct job	*job;

	pthread_mutex_lock(&p->lock);
	STAILQ_CONCAT(&got, &p->in);
	pthread_mutex_unlock(&p->lock);

	while ((job = STAILQ_FIRST(&got)) != NULL) {
		STAILQ_REMOVE_HEAD(&got, entry);
		job_set_state(job, JOB_NEW);
		p->pending--;
		STAILQ_INSERT_TAIL(q, job, entry);
	}
}

void
pool_free(struct pool *p)
{
	struct jobq	 left = STAILQ_HEAD_INITIALIZER(left);
	struct job	*job;
	int		 i;

	if (p == NULL)
		return;

	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);

	/* The workers are gone: no lock needed from here, but be tidy. */
	event_free(p->ev);
	close(p->efd);
	pool_drain(p);

	/* Jobs the caller did not reclaim: finished unsent, through done. */
	pthread_mutex_lock(&p->lock);
	STAILQ_CONCAT(&left, &p->in);
	pthread_mutex_unlock(&p->lock);
	while ((job = STAILQ_FIRST(&left)) != NULL) {
		STAILQ_REMOVE_HEAD(&left, entry);
		job->tried = 0;
		job_set_verdict(job, JOB_UNTRIED, NULL);
		job->smtp_code = 0;
		snprintf(job->reply, sizeof job->reply,
		    "not sent: shutting down");
		job_set_state(job, JOB_DONE);
		p->pending--;
		p->done(job, p->arg);
	}

	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->ret_lock);
	free(p->threads);
	free(p);
}

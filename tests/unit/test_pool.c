/*
 * test_pool.c: the worker pool's hand-off and hand-back.
 *
 * Pushes jobs through real threads with a fake work function and checks that
 * every job comes back exactly once, in the main thread, with its verdict;
 * that pool_reclaim() returns only the jobs no worker started; and that
 * pool_free() joins cleanly and finishes what it was left. Meant to be run
 * under -fsanitize=thread as well as address,undefined.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "job.h"
#include "pool.h"
#include "util.h"

#define NJOBS	1000

struct fixture {
	struct event_base	*base;
	pthread_t		 main;
	int			 ndone;		/* main thread only */
	int			 target;	/* loopbreak when ndone reaches it */
	int			 wrong_thread;
	int			 seen[NJOBS];	/* done calls per job index */
	int			 verdict_bad;

	pthread_mutex_t		 lock;		/* guards the fields below */
	int			 maxn;		/* largest batch seen by work */
	int			 badn;		/* batches outside 1..batch */
	int			 batch;
	int			 started;	/* gate: jobs work() has begun */
	int			 gate_open;
	pthread_cond_t		 cond;
};

static struct job *
mkjob(int i)
{
	struct job	*job = xcalloc(1, sizeof *job);

	job->did = xasprintf("test:%d", i);
	job->kind = xstrdup("test");
	job->collab_id = xstrdup("c-test");
	job->attempt = i;	/* the test's index for the job */
	job_set_verdict(job, JOB_PERMANENT, NULL);	/* work must overwrite it */
	return job;
}

/* Fake work: verdict by index, sometimes a short sleep. */
static void
work_fake(struct pool *p, struct job **jobs, int n, void *arg)
{
	struct fixture	*f = arg;
	int		 i;

	pthread_mutex_lock(&f->lock);
	if (n > f->maxn)
		f->maxn = n;
	if (n < 1 || n > f->batch)
		f->badn++;
	pthread_mutex_unlock(&f->lock);

	for (i = 0; i < n; i++) {
		if (jobs[i]->state != JOB_SENDING)
			abort();
		jobs[i]->tried = 1;
		job_set_verdict(jobs[i], jobs[i]->attempt % 3 == 0 ? JOB_SENT :
		    jobs[i]->attempt % 3 == 1 ? JOB_TEMPORARY : JOB_PERMANENT,
		    NULL);
		jobs[i]->smtp_code = 250;
		snprintf(jobs[i]->reply, sizeof jobs[i]->reply, "ok %d",
		    jobs[i]->attempt);
		if (jobs[i]->attempt % 97 == 0)
			usleep(2000);
	}
	pool_give_back(p, jobs, n);
}

/* Work that waits at a gate the test opens, after saying it has started. */
static void
work_gated(struct pool *p, struct job **jobs, int n, void *arg)
{
	struct fixture	*f = arg;
	int		 i;

	pthread_mutex_lock(&f->lock);
	f->started += n;
	pthread_cond_broadcast(&f->cond);
	while (!f->gate_open)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
	for (i = 0; i < n; i++) {
		jobs[i]->tried = 1;
		job_set_verdict(jobs[i], JOB_SENT, NULL);
	}
	pool_give_back(p, jobs, n);
}

static void
done_count(struct job *job, void *arg)
{
	struct fixture	*f = arg;
	int		 i = job->attempt;

	if (!pthread_equal(pthread_self(), f->main))
		f->wrong_thread++;
	if (job->state != JOB_DONE)
		f->verdict_bad++;
	if (i >= 0 && i < NJOBS)
		f->seen[i]++;
	if (job->verdict != (i % 3 == 0 ? JOB_SENT : i % 3 == 1 ?
	    JOB_TEMPORARY : JOB_PERMANENT))
		f->verdict_bad++;
	job_free(job);
	if (++f->ndone == f->target)
		event_base_loopbreak(f->base);
}

/* Done for the gated tests: every verdict is sent, or untried if never
 * started. */
static void
done_gated(struct job *job, void *arg)
{
	struct fixture	*f = arg;

	if (!pthread_equal(pthread_self(), f->main))
		f->wrong_thread++;
	if (job->attempt >= 0 && job->attempt < NJOBS)
		f->seen[job->attempt]++;
	if (job->tried ? job->verdict != JOB_SENT :
	    job->verdict != JOB_UNTRIED)
		f->verdict_bad++;
	job_free(job);
	if (++f->ndone == f->target)
		event_base_loopbreak(f->base);
}

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof *f);

	f->base = event_base_new();
	f->main = pthread_self();
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	*state = f;
	return f->base == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	event_base_free(f->base);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f);
	return 0;
}

/* Run the loop until target done calls, or fail after 20 s. */
static void
run_until(struct fixture *f, int target)
{
	struct timeval	 tv = { 20, 0 };

	f->target = target;
	if (f->ndone >= target)
		return;
	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
	assert_int_equal(f->ndone, target);
}

/* Wait (on the condvar, no spinning) until work has started at least n jobs. */
static void
wait_started(struct fixture *f, int n)
{
	pthread_mutex_lock(&f->lock);
	while (f->started < n)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
}

static void
open_gate(struct fixture *f)
{
	pthread_mutex_lock(&f->lock);
	f->gate_open = 1;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static void
test_thousand_jobs(void **state)
{
	struct fixture	*f = *state;
	struct pool	*p;
	int		 i;

	f->batch = 8;
	p = pool_new(f->base, 4, f->batch, work_fake, done_count, f);
	assert_int_equal(pool_capacity(p), 32);
	assert_int_equal(pool_batch(p), 8);
	assert_int_equal(pool_pending(p), 0);
	for (i = 0; i < NJOBS; i++)
		pool_push(p, mkjob(i));
	assert_true(pool_pending(p) > 0);
	run_until(f, NJOBS);
	assert_int_equal(pool_pending(p), 0);
	pool_free(p);

	assert_int_equal(f->wrong_thread, 0);
	assert_int_equal(f->verdict_bad, 0);
	for (i = 0; i < NJOBS; i++)
		assert_int_equal(f->seen[i], 1);
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->badn, 0);
	/* 1000 jobs queued at once: workers must have taken real batches. */
	assert_true(f->maxn > 1);
	assert_true(f->maxn <= f->batch);
	pthread_mutex_unlock(&f->lock);
}

/* Pushed in two waves with the loop running in between: nothing is lost. */
static void
test_waves(void **state)
{
	struct fixture	*f = *state;
	struct pool	*p;
	int		 i;

	f->batch = 3;
	p = pool_new(f->base, 2, f->batch, work_fake, done_count, f);
	for (i = 0; i < 10; i++)
		pool_push(p, mkjob(i));
	run_until(f, 10);
	for (i = 10; i < 500; i++)
		pool_push(p, mkjob(i));
	run_until(f, 500);
	pool_free(p);
	for (i = 0; i < 500; i++)
		assert_int_equal(f->seen[i], 1);
	assert_int_equal(f->wrong_thread, 0);
	assert_int_equal(f->verdict_bad, 0);
}

static void
test_reclaim(void **state)
{
	struct fixture	*f = *state;
	struct jobq	 q = STAILQ_HEAD_INITIALIZER(q);
	struct pool	*p;
	struct job	*job;
	int		 i, n, nq, order_bad, pending;

	f->batch = 2;
	p = pool_new(f->base, 1, f->batch, work_gated, done_gated, f);
	for (i = 0; i < 10; i++)
		pool_push(p, mkjob(i));
	wait_started(f, 1);	/* the worker holds its batch (1 or 2 jobs) */

	pool_reclaim(p, &q);
	pthread_mutex_lock(&f->lock);
	n = f->started;
	pthread_mutex_unlock(&f->lock);
	pending = pool_pending(p);

	/* The unstarted ones come back in push order, state JOB_NEW. */
	nq = order_bad = 0;
	STAILQ_FOREACH(job, &q, entry) {
		if (job->attempt != n + nq || job->state != JOB_NEW)
			order_bad++;
		nq++;
	}

	/* Let the worker go before asserting, so a failure cannot hang it. */
	open_gate(f);
	run_until(f, n);
	assert_int_equal(pool_pending(p), 0);
	pool_free(p);

	assert_true(n == 1 || n == 2);
	assert_int_equal(nq, 10 - n);
	assert_int_equal(order_bad, 0);
	assert_int_equal(pending, n);
	for (i = 0; i < 10; i++)
		assert_int_equal(f->seen[i], i < n ? 1 : 0);
	assert_int_equal(f->wrong_thread, 0);
	assert_int_equal(f->verdict_bad, 0);
	while ((job = STAILQ_FIRST(&q)) != NULL) {
		STAILQ_REMOVE_HEAD(&q, entry);
		job_free(job);
	}
}

/* pool_free with a batch in progress and jobs left queued: all come back once. */
static void
test_free_unreclaimed(void **state)
{
	struct fixture	*f = *state;
	struct pool	*p;
	int		 i;

	f->batch = 1;
	p = pool_new(f->base, 1, f->batch, work_gated, done_gated, f);
	for (i = 0; i < 5; i++)
		pool_push(p, mkjob(i));
	wait_started(f, 1);
	open_gate(f);		/* the worker may take more before it sees stop */
	pool_free(p);		/* joins, then done for everything, synchronously */
	assert_int_equal(f->ndone, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(f->seen[i], 1);
	assert_int_equal(f->verdict_bad, 0);
	assert_int_equal(f->wrong_thread, 0);
}

/* An idle pool starts and stops without work. */
static void
test_idle(void **state)
{
	struct fixture	*f = *state;
	struct pool	*p;
	struct jobq	 q = STAILQ_HEAD_INITIALIZER(q);

	p = pool_new(f->base, 3, 4, work_fake, done_count, f);
	pool_reclaim(p, &q);
	assert_true(STAILQ_EMPTY(&q));
	assert_int_equal(pool_pending(p), 0);
	pool_free(p);
	assert_int_equal(f->ndone, 0);
}

/* Every verdict has its own name; the setter writes the verdict and why. */
static void
test_verdicts(void **state)
{
	struct job	*job = mkjob(0);
	int		 v, w;

	for (v = 0; v < JOB_VERDICT_MAX; v++) {
		assert_string_not_equal(job_verdict_name(v), "?");
		for (w = 0; w < v; w++)
			assert_string_not_equal(job_verdict_name(v),
			    job_verdict_name(w));
	}
	assert_string_equal(job_verdict_name(JOB_VERDICT_MAX), "?");
	job_set_verdict(job, JOB_SKIPPED, "no consent");
	assert_int_equal(job->verdict, JOB_SKIPPED);
	assert_string_equal(job->why, "no consent");
	job_set_verdict(job, JOB_SENT, NULL);
	assert_int_equal(job->verdict, JOB_SENT);
	assert_null(job->why);
	job_free(job);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_thousand_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_unreclaimed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test(test_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

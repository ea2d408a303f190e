/*
 * job.c: the job's state and verdict names, their one setter each, and
 * freeing a job.
 *
 * A job is owned by exactly one thread at a time (see job.h and pool.c), so
 * nothing here locks: job_set_state() is called by whichever thread owns the
 * job at that moment. job_free() is for the main thread, once the job has come
 * back from the pool (or was never pushed).
 */
#include <assert.h>
#include <stdlib.h>

#include "job.h"
#include "log.h"

static const char *const job_state_names[JOB_STATE_MAX] = {
	[JOB_NEW] = "new",
	[JOB_QUEUED] = "queued",
	[JOB_SENDING] = "sending",
	[JOB_DONE] = "done",
};

/* The name of a state, for logs; "?" for a value out of range. */
const char *
job_state_name(enum job_state s)
{
	if ((int)s < 0 || s >= JOB_STATE_MAX)
		return "?";
	return job_state_names[s];
}

static const char *const job_verdict_names[JOB_VERDICT_MAX] = {
	[JOB_UNSETTLED] = "unsettled",
	[JOB_SENT] = "sent",
	[JOB_TEMPORARY] = "temporary",
	[JOB_PERMANENT] = "permanent",
	[JOB_EXPIRED] = "expired",
	[JOB_SKIPPED] = "skipped",
	[JOB_UNTRIED] = "untried",
};

/* The name of a verdict, for logs; "?" for a value out of range. */
const char *
job_verdict_name(enum job_verdict v)
{
	if ((int)v < 0 || v >= JOB_VERDICT_MAX)
		return "?";
	return job_verdict_names[v];
}

/*
 * The only writer of job->state. Asserts the range and traces every
 * transition at debug level, naming the delivery by its id only.
 */
void
job_set_state(struct job *job, enum job_state s)
{
	assert(job != NULL);
	assert((int)s >= 0 && s < JOB_STATE_MAX);

	if (job->state != s)
		log_debug("job %s: %s -> %s", job->did ? job->did : "-",
		    job_state_name(job->state), job_state_name(s));
	job->state = s;
}

/*
 * The only writer of job->verdict (and job->why). Asserts the range and
 * traces the verdict at debug level, naming the delivery by its id only.
 */
void
job_set_verdict(struct job *job, enum job_verdict v, const char *why)
{
	assert(job != NULL);
	assert((int)v >= 0 && v < JOB_VERDICT_MAX);

	log_debug("job %s: verdict %s", job->did ? job->did : "-",
	    job_verdict_name(v));
	job->verdict = v;
	job->why = why;
}

/*
 * Free a job and what it owns. The config and template set references
 * (job->cf, job->tmpl) are NOT released here: the main thread releases
 * those (config_unref/tmplset_unref) before calling job_free(), so that
 * this file need not know about either.
 */
void
job_free(struct job *job)
{
	if (job == NULL)
		return;
	free(job->did);
	free(job->kind);
	free(job->collab_id);
	json_decref(job->data);
	free(job);
}

/*
 * job.h: the one struct that crosses threads.
 *
 * The main (libevent) thread builds a job from a promoted delivery, takes
 * references on the config and the template set, and hands it to the pool
 * (pool_push). From then on only the worker that popped it touches it: it
 * renders, composes and sends, sets the verdict (job_set_verdict) from the
 * SMTP reply class, and hands it back (pool's return queue). The main thread
 * then settles it (outcome_settle: one switch on the verdict) and frees it.
 * A job the scheduler does not hand to the pool (expired, skipped, or leased
 * while shutting down) gets its verdict there and is settled the same way.
 * Never shared; always owned by exactly one thread.
 */
#ifndef HB_JOB_H
#define HB_JOB_H

#include <sys/queue.h>

#include <jansson.h>

struct config;
struct tmplset;

enum job_state {
	JOB_NEW,	/* built by the main thread */
	JOB_QUEUED,	/* in the pool's input queue */
	JOB_SENDING,	/* owned by a worker */
	JOB_DONE,	/* back with the main thread, verdict set */
	JOB_STATE_MAX
};

/* The three-way SMTP verdict, from the reply class: the workers' own
 * (sender.c); deliver.c turns it into the job's verdict below. */
enum verdict {
	VERDICT_OK,	/* 2xx: accepted */
	VERDICT_TEMP,	/* 4xx, connection error, timeout: retry */
	VERDICT_PERM	/* 5xx, or an email that cannot be built: never retry */
};

/*
 * How a job ends: the one verdict every job is settled by (outcome.c). Set
 * only by job_set_verdict(), by whichever thread owns the job.
 */
enum job_verdict {
	JOB_UNSETTLED,	/* none yet (a job settled so is given back, warned) */
	JOB_SENT,	/* the relay accepted it */
	JOB_TEMPORARY,	/* tried, failed for now: retry (or expired, if the
			   deadline leaves no retry) */
	JOB_PERMANENT,	/* refused for good, or cannot be built: dead */
	JOB_EXPIRED,	/* its deadline passed before it could be sent: dead */
	JOB_SKIPPED,	/* not to be sent (consent withdrawn, person gone) */
	JOB_UNTRIED,	/* not tried (shutdown, relay refused us): the lease is
			   given back, the attempt not used up */
	JOB_VERDICT_MAX
};

struct job {
	STAILQ_ENTRY(job) entry;
	enum job_state	 state;		/* only job_set_state() writes it */

	/* Set by the main thread before hand-off; read-only to the worker. */
	char		*did;		/* delivery id, e.g. "ann:a-1:c-amara" */
	char		*kind;		/* "announcement", "invitation", ... */
	char		*collab_id;	/* recipient id, for logs ("" for a coordinator) */
	json_t		*data;		/* everything the email needs (see view.h) */
	long long	 deadline_ms;	/* do not send after this */
	int		 attempt;	/* 1 for the first try */
	struct config	*cf;		/* reference held */
	struct tmplset	*tmpl;		/* reference held */

	/* Set by the worker. */
	int		 tried;		/* 1 once an SMTP session was attempted */
	int		 refused;	/* the relay refused the session (login,
					   certificate): not tried, reply says why */
	enum job_verdict verdict;	/* only job_set_verdict() writes it */
	const char	*why;		/* a static phrase for expired and
					   skipped; NULL otherwise */
	int		 smtp_code;	/* 250, 451, 550, or 0 when no reply */
	char		 reply[256];	/* SMTP reply or error; never an address */
};

const char	*job_state_name(enum job_state);
const char	*job_verdict_name(enum job_verdict);
/* The only writer of job->state; logs transitions at debug level. */
void		 job_set_state(struct job *, enum job_state);
/* The only writer of job->verdict; why (static, or NULL) says why a job
 * expired or was skipped, for the dead entry, the notice and the audit. */
void		 job_set_verdict(struct job *, enum job_verdict,
		    const char *why);
void		 job_free(struct job *);

STAILQ_HEAD(jobq, job);

#endif

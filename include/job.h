/*
 * job.h: the one struct that crosses threads.
 *
 * The main (libevent) thread builds a job from a promoted delivery, takes
 * references on the config and the template set, and hands it to the pool
 * (pool_push). From then on only the worker that popped it touches it: it
 * renders, composes and sends, fills the verdict fields, and hands it back
 * (pool's return queue). The main thread then records the outcome and frees it.
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

/* The three-way SMTP verdict, from the reply class. */
enum verdict {
	VERDICT_OK,	/* 2xx: accepted */
	VERDICT_TEMP,	/* 4xx, connection error, timeout: retry */
	VERDICT_PERM	/* 5xx, or an email that cannot be built: never retry */
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
	enum verdict	 verdict;
	int		 smtp_code;	/* 250, 451, 550, or 0 when no reply */
	char		 reply[256];	/* SMTP reply or error; never an address */
};

const char	*job_state_name(enum job_state);
const char	*job_verdict_name(enum verdict);
/* The only writer of job->state; logs transitions at debug level. */
void		 job_set_state(struct job *, enum job_state);
void		 job_free(struct job *);

STAILQ_HEAD(jobq, job);

#endif

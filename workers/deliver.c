/*
 * deliver.c: batches of jobs become emails on the wire.
 *
 * Runs in a worker thread, on jobs that thread owns until it gives them back
 * (pool.c). Each job is built independently (view.c, render.c, compose.c);
 * one that cannot be built is failed for good (a broken template or record
 * will not mend itself by retrying; the coordinator is told). The rest go
 * over one SMTP session (sender.c), and each gets its own verdict. When a
 * batch is done it is given back at once, and the session takes the next
 * batch for the same config (pool_more, waiting while the main thread
 * leases it) and goes on with it on the same connection, up to [smtp]
 * per_connection emails.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compose.h"
#include "config.h"
#include "deliver.h"
#include "job.h"
#include "links.h"
#include "log.h"
#include "pool.h"
#include "render.h"
#include "sender.h"
#include "tmpl.h"
#include "view.h"

int
deliver_build(const char *did, const char *kind, const char *cid,
    json_t *data, const struct config *cf, const struct tmplset *ts,
    char **msg, size_t *len, char **rcpt, struct err *e)
{
	struct view	 v;
	struct rendered	 rd;
	struct mail	 m;
	char		*unsub = NULL;
	int		 rv = -1;

	memset(&rd, 0, sizeof rd);
	if (view_build(did, kind, cid, data, cf, &v, e) == -1) {
		view_clear(&v);
		return -1;
	}
	if (links_add(cf, kind, cid, data, v.ctx, &unsub, e) == -1)
		goto err;
	if (render_email(ts, v.kind, v.format, v.ctx, &rd, e) == -1 ||
	    view_calendar(&v, rd.calendar, e) == -1)
		goto err;
	memset(&m, 0, sizeof m);
	m.from_name = cf->from_name;
	m.from_addr = cf->from_addr;
	m.to_name = v.to_name;
	m.to_addr = v.to_addr;
	m.reply_to_name = v.reply_addr ? v.reply_name : NULL;
	m.reply_to_addr = v.reply_addr;
	m.subject = rd.subject;
	m.message_id = v.message_id;
	m.date = util_now_ms() / 1000;
	m.text = rd.text;
	m.html = rd.html;
	m.ics = v.ics;
	m.ics_method = v.ics_method;
	m.list_unsubscribe = unsub;
	if (compose_message(&m, msg, len, e) == -1)
		goto err;
	*rcpt = xstrdup(v.to_addr);
	rv = 0;
err:
	free(unsub);
	rendered_clear(&rd);
	view_clear(&v);
	return rv;
}

/* The job's verdict from the message's SMTP verdict. */
static enum job_verdict
deliver_verdict(const struct outmsg *m)
{
	if (m->refused)
		return JOB_UNTRIED;
	switch (m->verdict) {
	case VERDICT_OK:
		return JOB_SENT;
	case VERDICT_PERM:
		return JOB_PERMANENT;
	case VERDICT_TEMP:
		break;
	}
	return JOB_TEMPORARY;
}

/* How long a session waits for the next batch before it ends: the main
 * thread settles the batch just given back and leases the next from Redis
 * meanwhile. */
#define DELIVER_WAIT_MS	200

/* One batch of jobs and the messages built from them. */
struct deliver_batch {
	struct job	**jobs;
	int		 n;
	struct outmsg	*m;		/* k of them: the jobs that built */
	int		*which;		/* m[i] is jobs[which[i]]'s */
	char		**texts;
	char		**rcpts;
	int		 k;
};

/* What one session needs to take more batches and give them back. */
struct deliver_feed {
	struct pool	*p;
	const void	*cf;
	int		 batch;
};

/* Build every job of a batch (taken: jobs is the batch's now). */
static struct deliver_batch *
deliver_batch_new(struct job **jobs, int n)
{
	struct deliver_batch	*b = xcalloc(1, sizeof *b);
	struct err		 e;
	size_t			 len;
	int			 i;

	b->jobs = jobs;
	b->n = n;
	b->m = xcalloc(n, sizeof *b->m);
	b->which = xcalloc(n, sizeof *b->which);
	b->texts = xcalloc(n, sizeof *b->texts);
	b->rcpts = xcalloc(n, sizeof *b->rcpts);
	for (i = 0; i < n; i++) {
		struct job *job = jobs[i];

		job->tried = 0;
		job->refused = 0;
		job->smtp_code = 0;
		job->reply[0] = '\0';
		if (deliver_build(job->did, job->kind, job->collab_id,
		    job->data, job->cf, job->tmpl, &b->texts[i], &len,
		    &b->rcpts[i], &e) == -1) {
			job->tried = 1;
			job_set_verdict(job, JOB_PERMANENT, NULL);
			snprintf(job->reply, sizeof job->reply,
			    "cannot build the email: %.200s", e.msg);
			log_warnx("delivery %s: %s", job->did, job->reply);
			continue;
		}
		b->m[b->k].rcpt = b->rcpts[i];
		b->m[b->k].text = b->texts[i];
		b->which[b->k++] = i;
	}
	return b;
}

/* The verdicts into the jobs; the jobs back to the main thread. */
static void
deliver_batch_done(struct pool *p, struct deliver_batch *b)
{
	int	i;

	for (i = 0; i < b->k; i++) {
		struct job *job = b->jobs[b->which[i]];

		/* A relay that refused us (login, certificate) tried nothing:
		 * the attempt is not used up (sched.c holds sends). */
		job->tried = !b->m[i].refused;
		job->refused = b->m[i].refused;
		job_set_verdict(job, deliver_verdict(&b->m[i]), NULL);
		job->smtp_code = b->m[i].code;
		snprintf(job->reply, sizeof job->reply, "%s", b->m[i].reply);
	}
	pool_give_back(p, b->jobs, b->n);
	for (i = 0; i < b->n; i++) {
		free(b->texts[i]);
		free(b->rcpts[i]);
	}
	free(b->jobs);
	free(b->texts);
	free(b->rcpts);
	free(b->which);
	free(b->m);
	free(b);
}

/* sender_feed's more: the next queued batch for the same config. */
static int
deliver_more(void *arg, int max, struct outmsg **m, void **tag)
{
	struct deliver_feed	*f = arg;
	struct deliver_batch	*b;
	struct job		**jobs;
	int			 n;

	for (;;) {
		jobs = xcalloc(f->batch, sizeof *jobs);
		n = pool_more(f->p, jobs, max < f->batch ? max : f->batch,
		    f->cf, DELIVER_WAIT_MS);
		if (n == 0) {
			free(jobs);
			return 0;
		}
		b = deliver_batch_new(jobs, n);
		if (b->k > 0)
			break;
		deliver_batch_done(f->p, b);	/* none built */
	}
	*m = b->m;
	*tag = b;
	return b->k;
}

/* sender_feed's done: a batch has its verdicts. */
static void
deliver_done(void *arg, struct outmsg *m, int n, void *tag)
{
	struct deliver_feed	*f = arg;

	deliver_batch_done(f->p, tag);
}

void
deliver_work(struct pool *p, struct job **jobs, int n, void *arg)
{
	struct deliver_batch	*b;
	struct deliver_feed	 f;
	struct sender_feed	 feed;
	struct job		**mine;

	/* The pool's array is reused for its next batch: ours is a copy. */
	mine = xcalloc(n, sizeof *mine);
	memcpy(mine, jobs, n * sizeof *mine);
	b = deliver_batch_new(mine, n);
	if (b->k == 0) {
		deliver_batch_done(p, b);
		return;
	}
	f.p = p;
	f.cf = jobs[0]->cf;
	f.batch = pool_batch(p);
	feed.more = deliver_more;
	feed.done = deliver_done;
	feed.arg = &f;
	feed.max = jobs[0]->cf->smtp_per_connection;
	sender_session(jobs[0]->cf, b->m, b->k, b, &feed);
}

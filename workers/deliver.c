/*
 * deliver.c: a batch of jobs becomes emails on the wire.
 *
 * Runs in a worker thread, on jobs that thread owns until it hands them back
 * (pool.c). Each job is built independently (view.c, render.c, compose.c);
 * one that cannot be built is failed for good (a broken template or record
 * will not mend itself by retrying; the coordinator is told). The rest go
 * over one SMTP session (sender.c), and each gets its own verdict.
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

void
deliver_work(struct job **jobs, int n, void *arg)
{
	struct outmsg	*m = xcalloc(n, sizeof *m);
	char		**texts = xcalloc(n, sizeof *texts);
	char		**rcpts = xcalloc(n, sizeof *rcpts);
	int		*which = xcalloc(n, sizeof *which);
	int		 i, k = 0;
	size_t		 len;
	struct err	 e;

	for (i = 0; i < n; i++) {
		struct job *job = jobs[i];

		job->tried = 0;
		job->refused = 0;
		job->smtp_code = 0;
		job->reply[0] = '\0';
		if (deliver_build(job->did, job->kind, job->collab_id,
		    job->data, job->cf, job->tmpl, &texts[i], &len, &rcpts[i],
		    &e) == -1) {
			job->tried = 1;
			job_set_verdict(job, JOB_PERMANENT, NULL);
			snprintf(job->reply, sizeof job->reply,
			    "cannot build the email: %.200s", e.msg);
			log_warnx("delivery %s: %s", job->did, job->reply);
			continue;
		}
		m[k].rcpt = rcpts[i];
		m[k].text = texts[i];
		which[k++] = i;
	}
	if (k > 0)
		sender_send(jobs[which[0]]->cf, m, k);
	for (i = 0; i < k; i++) {
		struct job *job = jobs[which[i]];

		/* A relay that refused us (login, certificate) tried nothing:
		 * the attempt is not used up (sched.c holds sends). */
		job->tried = !m[i].refused;
		job->refused = m[i].refused;
		job_set_verdict(job, deliver_verdict(&m[i]), NULL);
		job->smtp_code = m[i].code;
		snprintf(job->reply, sizeof job->reply, "%s", m[i].reply);
	}
	for (i = 0; i < n; i++) {
		free(texts[i]);
		free(rcpts[i]);
	}
	free(texts);
	free(rcpts);
	free(which);
	free(m);
}

/*
 * metrics.c: counters and their Prometheus text form (version 0.0.4).
 * Main thread only.
 */
#include <string.h>

#include "metrics.h"

void
metrics_kind(struct metrics *m, const char *kind, int what)
{
	int	i;

	for (i = 0; i < m->nkinds; i++)
		if (strcmp(m->kinds[i].kind, kind) == 0)
			break;
	if (i == m->nkinds) {
		if (m->nkinds == METRICS_MAX_KINDS)
			i = METRICS_MAX_KINDS - 1;	/* lump the rest */
		else {
			m->nkinds++;
			snprintf(m->kinds[i].kind, sizeof m->kinds[i].kind,
			    "%s", kind);
		}
	}
	switch (what) {
	case METRICS_SENT:
		m->kinds[i].sent++;
		break;
	case METRICS_RETRIED:
		m->kinds[i].retried++;
		break;
	case METRICS_FAILED:
		m->kinds[i].failed++;
		break;
	case METRICS_EXPIRED:
		m->kinds[i].expired++;
		break;
	default:
		m->kinds[i].skipped++;
		break;
	}
}

static const char *const metrics_answers[] = METRICS_ANSWERS;
static const char *const metrics_unsubs[] = METRICS_UNSUBS;
static const char *const metrics_suppressed[] = METRICS_SUPPRESSED;

void
metrics_said_back(struct metrics *m, const char *name, long long v)
{
	int	i;

	if (strncmp(name, "answer:", 7) == 0) {
		for (i = 0; i < METRICS_NANSWERS; i++)
			if (strcmp(name + 7, metrics_answers[i]) == 0)
				m->answers[i] = v;
	} else if (strncmp(name, "unsubscribe:", 12) == 0) {
		for (i = 0; i < METRICS_NUNSUBS; i++)
			if (strcmp(name + 12, metrics_unsubs[i]) == 0)
				m->unsubscribes[i] = v;
	} else if (strncmp(name, "suppressed:", 11) == 0) {
		for (i = 0; i < METRICS_NSUPPRESSED; i++)
			if (strcmp(name + 11, metrics_suppressed[i]) == 0)
				m->suppressed[i] = v;
	} else if (strcmp(name, "bounce") == 0)
		m->bounces = v;
}

static void
metrics_render_said_back(const struct metrics *m, struct buf *b)
{
	int	i;

	buf_adds(b, "# HELP hearback_answers_total Answers to invitations, "
	    "on the web page or by calendar.\n"
	    "# TYPE hearback_answers_total counter\n");
	for (i = 0; i < METRICS_NANSWERS; i++)
		buf_printf(b, "hearback_answers_total{answer=\"%s\"} %lld\n",
		    metrics_answers[i], m->answers[i]);
	buf_adds(b, "# HELP hearback_unsubscribes_total Kinds of email "
	    "collaborators stopped (everything: all of them).\n"
	    "# TYPE hearback_unsubscribes_total counter\n");
	for (i = 0; i < METRICS_NUNSUBS; i++)
		buf_printf(b, "hearback_unsubscribes_total{kind=\"%s\"} %lld\n",
		    metrics_unsubs[i], m->unsubscribes[i]);
	buf_printf(b, "# HELP hearback_bounces_total Collaborator addresses "
	    "marked as bouncing.\n# TYPE hearback_bounces_total counter\n"
	    "hearback_bounces_total %lld\n", m->bounces);
	buf_adds(b, "# HELP hearback_suppressed_total Emails not sent because "
	    "of a person's choice, answer or bouncing address.\n"
	    "# TYPE hearback_suppressed_total counter\n");
	for (i = 0; i < METRICS_NSUPPRESSED; i++)
		buf_printf(b, "hearback_suppressed_total{reason=\"%s\"} %lld\n",
		    metrics_suppressed[i], m->suppressed[i]);
}

void
metrics_render(const struct metrics *m, struct buf *b)
{
	int	i;

	buf_adds(b, "# HELP hearback_records_accepted_total Records taken from "
	    "the inbox and stored.\n# TYPE hearback_records_accepted_total "
	    "counter\n");
	for (i = 0; i < REC_TYPE_MAX; i++)
		buf_printf(b, "hearback_records_accepted_total{type=\"%s\"} "
		    "%llu\n", record_type_name(i), m->accepted[i]);
	buf_adds(b, "# HELP hearback_records_rejected_total Records sent to "
	    "the dead stream.\n# TYPE hearback_records_rejected_total "
	    "counter\n");
	for (i = 0; i <= REC_TYPE_MAX; i++)
		buf_printf(b, "hearback_records_rejected_total{type=\"%s\"} "
		    "%llu\n", i == REC_TYPE_MAX ? "unknown" :
		    record_type_name(i), m->rejected[i]);
	buf_adds(b, "# HELP hearback_emails_total Emails by kind and "
	    "outcome.\n# TYPE hearback_emails_total counter\n");
	for (i = 0; i < m->nkinds; i++) {
		const char *k = m->kinds[i].kind;

		buf_printf(b, "hearback_emails_total{kind=\"%s\",outcome=\"sent\"} %llu\n",
		    k, m->kinds[i].sent);
		buf_printf(b, "hearback_emails_total{kind=\"%s\",outcome=\"retried\"} %llu\n",
		    k, m->kinds[i].retried);
		buf_printf(b, "hearback_emails_total{kind=\"%s\",outcome=\"failed\"} %llu\n",
		    k, m->kinds[i].failed);
		buf_printf(b, "hearback_emails_total{kind=\"%s\",outcome=\"expired\"} %llu\n",
		    k, m->kinds[i].expired);
		buf_printf(b, "hearback_emails_total{kind=\"%s\",outcome=\"skipped\"} %llu\n",
		    k, m->kinds[i].skipped);
	}
	buf_printf(b, "# HELP hearback_inbox_backlog Records waiting in the "
	    "inbox.\n# TYPE hearback_inbox_backlog gauge\n"
	    "hearback_inbox_backlog %lld\n", m->inbox_backlog);
	buf_printf(b, "# HELP hearback_scheduled Emails scheduled or in "
	    "flight.\n# TYPE hearback_scheduled gauge\n"
	    "hearback_scheduled %lld\n", m->scheduled);
	buf_printf(b, "# HELP hearback_next_due_seconds When the next email "
	    "is due (Unix time, 0 if none).\n# TYPE hearback_next_due_seconds "
	    "gauge\nhearback_next_due_seconds %lld\n", m->next_due_ms / 1000);
	buf_printf(b, "# HELP hearback_dead_entries Entries in the dead "
	    "stream.\n# TYPE hearback_dead_entries gauge\n"
	    "hearback_dead_entries %lld\n", m->dead);
	buf_printf(b, "# HELP hearback_said_open \"You said\" items with no "
	    "outcome yet.\n# TYPE hearback_said_open gauge\n"
	    "hearback_said_open %lld\n", m->said_open);
	buf_printf(b, "# HELP hearback_said_overdue \"You said\" items with no "
	    "outcome after feedback_due.\n# TYPE hearback_said_overdue gauge\n"
	    "hearback_said_overdue %lld\n", m->said_overdue);
	buf_printf(b, "# HELP hearback_in_flight Emails handed to workers.\n"
	    "# TYPE hearback_in_flight gauge\nhearback_in_flight %d\n",
	    m->in_flight);
	buf_printf(b, "# HELP hearback_smtp_up 0 while the relay refuses the "
	    "login or its certificate is not trusted.\n# TYPE hearback_smtp_up "
	    "gauge\nhearback_smtp_up %d\n", m->smtp_up);
	buf_printf(b, "# HELP hearback_redis_up 1 when both Redis connections "
	    "are up.\n# TYPE hearback_redis_up gauge\nhearback_redis_up %d\n",
	    m->redis_up);
	metrics_render_said_back(m, b);
}

/*
 * metrics.c: counters and their Prometheus text form (version 0.0.4).
 * Main thread only.
 */
#include <stddef.h>
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

/*
 * The section 9 counters, as the stats hash names them ("answer:yes",
 * "unsubscribe:announcements", "suppressed:paused", "bounce"): one family
 * per prefix, its label values, and where the figures live.
 */
struct metrics_family {
	const char		*stat;		/* the stats field's prefix */
	const char		*name;		/* the metric, a counter */
	const char		*label;		/* NULL: one unlabelled figure */
	const char		*help;
	const char *const	*values;
	int			 n;
	size_t			 off;		/* of the first figure */
};

static const struct metrics_family metrics_families[] = {
	{ "answer:", "hearback_answers_total", "answer",
	    "Answers to invitations, on the web page or by calendar.",
	    metrics_answers, METRICS_NANSWERS,
	    offsetof(struct metrics, answers) },
	{ "unsubscribe:", "hearback_unsubscribes_total", "kind",
	    "Kinds of email collaborators stopped (everything: all of them).",
	    metrics_unsubs, METRICS_NUNSUBS,
	    offsetof(struct metrics, unsubscribes) },
	{ "bounce", "hearback_bounces_total", NULL,
	    "Collaborator addresses marked as bouncing.", NULL, 1,
	    offsetof(struct metrics, bounces) },
	{ "suppressed:", "hearback_suppressed_total", "reason",
	    "Emails not sent because of a person's choice, answer or bouncing "
	    "address.", metrics_suppressed, METRICS_NSUPPRESSED,
	    offsetof(struct metrics, suppressed) },
};

static long long *
metrics_figure(const struct metrics *m, const struct metrics_family *f,
    int i)
{
	return (long long *)((char *)m + f->off) + i;
}

void
metrics_said_back(struct metrics *m, const char *name, long long v)
{
	const struct metrics_family	*f;
	size_t				 k, len;
	int				 i;

	for (k = 0; k < sizeof metrics_families / sizeof *f; k++) {
		f = &metrics_families[k];
		len = strlen(f->stat);
		if (f->values == NULL) {
			if (strcmp(name, f->stat) == 0)
				*metrics_figure(m, f, 0) = v;
			continue;
		}
		if (strncmp(name, f->stat, len) != 0)
			continue;
		for (i = 0; i < f->n; i++)
			if (strcmp(name + len, f->values[i]) == 0)
				*metrics_figure(m, f, i) = v;
	}
}

static void
metrics_render_said_back(const struct metrics *m, struct buf *b)
{
	const struct metrics_family	*f;
	size_t				 k;
	int				 i;

	for (k = 0; k < sizeof metrics_families / sizeof *f; k++) {
		f = &metrics_families[k];
		buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", f->name,
		    f->help, f->name);
		if (f->values == NULL) {
			buf_printf(b, "%s %lld\n", f->name,
			    *metrics_figure(m, f, 0));
			continue;
		}
		for (i = 0; i < f->n; i++)
			buf_printf(b, "%s{%s=\"%s\"} %lld\n", f->name, f->label,
			    f->values[i], *metrics_figure(m, f, i));
	}
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

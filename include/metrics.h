/*
 * metrics.h: the daemon's counters, owned by the main thread (workers never
 * touch them: outcomes are counted when jobs come back). Served as
 * Prometheus text by http.c.
 */
#ifndef HB_METRICS_H
#define HB_METRICS_H

#include "record.h"
#include "util.h"

#define METRICS_MAX_KINDS	16
#define METRICS_NANSWERS	3
#define METRICS_NUNSUBS		4
#define METRICS_NSUPPRESSED	5

struct metrics {
	unsigned long long	accepted[REC_TYPE_MAX];
	unsigned long long	rejected[REC_TYPE_MAX + 1];	/* last: unknown type */
	struct {
		char			kind[32];
		unsigned long long	sent, retried, failed, expired, skipped;
	}			kinds[METRICS_MAX_KINDS];
	int			nkinds;
	/* Gauges refreshed from Redis every few seconds. */
	long long		inbox_backlog;
	long long		scheduled;
	long long		dead;
	long long		next_due_ms;	/* 0: none */
	long long		said_open;
	long long		said_overdue;
	int			redis_up;
	int			smtp_up;	/* 0 while the relay refuses us */
	char			smtp_why[256];	/* why, for /healthz */
	int			in_flight;
	long long		started_ms;
	/* What collaborators said back (SPEC 9): Redis's counters (stats
	 * "answer:*", "unsubscribe:*", "bounce", "suppressed:*"), shared by
	 * every daemon and `hearback inbound`; refreshed with the gauges. */
	long long		answers[METRICS_NANSWERS];
	long long		unsubscribes[METRICS_NUNSUBS];
	long long		bounces;
	long long		suppressed[METRICS_NSUPPRESSED];
};

/* The labels of those, in order. */
#define METRICS_ANSWERS		{ "yes", "no", "maybe" }
#define METRICS_UNSUBS		{ "announcements", "outcomes", "meetings", \
				  "everything" }
#define METRICS_SUPPRESSED	{ "stopped", "unsubscribed", "paused", \
				  "bouncing", "cannot-come" }
/* One counter of the stats hash (name, value) into m, if it is one. */
void	metrics_said_back(struct metrics *, const char *name, long long v);

/* The slot for a delivery kind (created on first use). */
void	metrics_kind(struct metrics *, const char *kind, int what);
enum { METRICS_SENT, METRICS_RETRIED, METRICS_FAILED, METRICS_EXPIRED,
	METRICS_SKIPPED };
void	metrics_render(const struct metrics *, struct buf *out);

#endif

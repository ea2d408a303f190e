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
};

/* The slot for a delivery kind (created on first use). */
void	metrics_kind(struct metrics *, const char *kind, int what);
enum { METRICS_SENT, METRICS_RETRIED, METRICS_FAILED, METRICS_EXPIRED,
	METRICS_SKIPPED };
void	metrics_render(const struct metrics *, struct buf *out);

#endif

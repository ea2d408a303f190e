/*
 * sched.h: the scheduler. Main thread only.
 *
 * Deliveries wait in the {P}:schedule sorted set, scored by due time. One
 * timer is armed for the earliest (at most a second away, so deliveries
 * planned by another daemon are noticed); when it fires, the lease script
 * leases as many due deliveries as the worker pool has room for, returning
 * each with the records it is rendered from. Each becomes a job for the pool.
 * A lease that is not settled (the daemon died) expires and the delivery is
 * due again: that is the crash-safety of the whole design.
 */
#ifndef HB_SCHED_H
#define HB_SCHED_H

#include <event2/event.h>

#include "job.h"

struct config;
struct metrics;
struct outcome;
struct pool;
struct rconn;
struct sched;
struct tmplset;

struct sched	*sched_start(struct event_base *, struct config *,
		    struct rconn *, struct pool *, struct outcome *,
		    struct metrics *);
void		 sched_set_config(struct sched *, struct config *);
void		 sched_set_templates(struct sched *, struct tmplset *);
/* Something may be due now (new deliveries, or room in the pool). */
void		 sched_kick(struct sched *);
/* Tell the scheduler how the relay answered: 421, 451 and 452 ("slow
 * down", "try later", "too much") and no answer at all (connection failed)
 * pause new sends for a while, doubling
 * from SCHED_HOLD_MIN_MS to SCHED_HOLD_MAX_MS; a 2xx ends the slow-down.
 * Emails already handed to workers go on. */
void		 sched_relay(struct sched *, enum job_verdict, int code);
/*
 * The relay refused the session in a way only the operator can mend (the
 * login, its certificate; why says so): hold every send for
 * SCHED_REFUSED_MS, or until the config is reloaded, and report the relay
 * down (hearback_smtp_up 0, /healthz 503). Logged once per change. A 2xx
 * ends it. A refusal met under a config that has since been reloaded
 * (job_cf is not the current one) is old news and changes nothing.
 */
void		 sched_refused(struct sched *, const struct config *job_cf,
		    const char *why);
/* No more promotion. */
void		 sched_stop(struct sched *);
/* 1 while a lease is on the wire. */
int		 sched_busy(const struct sched *);
void		 sched_free(struct sched *);

#define SCHED_MAX_WAIT_MS	1000
#define SCHED_HOLD_MIN_MS	1000
#define SCHED_HOLD_MAX_MS	60000
#define SCHED_REFUSED_MS	60000

#endif

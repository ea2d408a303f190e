/*
 * intake.h: the inbox reader. Main thread only.
 *
 * Reads {P}:inbox as consumer group "hearbackd" on its own Redis connection
 * (the blocking XREADGROUP must not hold up anything else), in order: parse
 * and check (record.c), fetch what the planner needs, plan (plan.c), and
 * commit everything a record causes together with the XACK and XDEL of its
 * entry in one atomic script (store.h). A run of independent records (up to
 * 64 collaborators with distinct ids) is fetched, planned and committed
 * together, the next run's fetch going out behind the commit. An
 * announcement fans out in pages (fanout.h): its entry is acknowledged with
 * the last page, and read again after a crash it finishes the fan-out. A
 * record that cannot be accepted goes to {P}:dead with the reason, its
 * coordinator gets a notice, and intake goes on. Entries left pending by a
 * consumer that died are claimed with XAUTOCLAIM after the lease; one
 * delivered too many times is treated as poison and sent to {P}:dead.
 */
#ifndef HB_INTAKE_H
#define HB_INTAKE_H

#include <event2/event.h>

struct config;
struct intake;
struct metrics;

typedef void intake_commit_fn(void *arg);	/* something was stored */

struct intake	*intake_start(struct event_base *, struct config *,
		    struct metrics *, intake_commit_fn *, void *arg);
void		 intake_set_config(struct intake *, struct config *);
/* Stop taking new entries; what was read is finished (a fan-out in hand
 * too, or, if the daemon is stopped first, resumed by whoever reads its
 * entry next). */
void		 intake_stop(struct intake *);
/* 1 once stopped and nothing is in hand. */
int		 intake_idle(const struct intake *);
int		 intake_redis_up(const struct intake *);
void		 intake_free(struct intake *);

#define INTAKE_MAX_DELIVERIES	5	/* then an entry is poison */

#endif

/*
 * intake_impl.h: what intake.c, intake_run.c and intake_fanout.c share.
 * Not for anyone else: the rest of the daemon uses intake.h.
 *
 * Main thread only. intake.c owns the state, the queue of entries read and
 * the entry or entries in hand (it->hand), and decides what each entry is:
 * rejected, a batch (intake_run.c, which owns it->ahead*) or a fan-out
 * (intake_fanout.c, which owns it->fo*). Those two call back into intake.c
 * to finish (intake_done), to let go (intake_later, intake_lost) or to
 * reject (intake_reject); one Redis call is in flight at a time, except the
 * run ahead's fetch behind a batch's commit.
 */
#ifndef HB_INTAKE_IMPL_H
#define HB_INTAKE_IMPL_H

#include <sys/queue.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "intake.h"
#include "record.h"

#define INTAKE_BATCH		128	/* entries read at once */
/* Records planned and committed together: a commit stays far below 10 ms. */
#define INTAKE_RUN_MAX		64
#define INTAKE_BLOCK_MS		2000
#define INTAKE_CLAIM_EVERY_MS	10000
#define INTAKE_MAX_TRIES	50	/* version conflicts for one record */
#define INTAKE_WAIT_MS		1000	/* between looks while an entry waits */

enum intake_state {
	INTAKE_IDLE,
	INTAKE_GROUP,
	INTAKE_READ,
	INTAKE_WORK,
	INTAKE_STOPPED
};

struct intake_entry {
	STAILQ_ENTRY(intake_entry) next;
	char		*id;
	char		*text;		/* NULL: entry has no "record" field */
	size_t		 len;
	long long	 deliveries;	/* from XPENDING for claimed entries */
	int		 parsed;	/* 1: in rec; -1: why says why not */
	struct record	 rec;
	char		*why;
	int		 alone;		/* plan it in a batch of its own */
};

STAILQ_HEAD(intake_entries, intake_entry);

struct intake {
	struct event_base	*base;
	struct config		*cf;
	struct metrics		*m;
	struct rconn		*rc;
	enum intake_state	 state;
	int			 stopping;
	int			 own_pending;	/* read "0" before ">" */
	int			 reading;	/* a read or claim on the wire */
	char			 consumer[128];
	long long		 last_claim_ms;
	/* An entry naming an unknown id while an older one was pending (held
	 * by any consumer): it waits, pending, until nothing older is. */
	char			 wait_id[64];
	struct intake_entries	 q;
	struct event		*kick;		/* run the loop from the top */
	intake_commit_fn	*commit_fn;
	void			*arg;

	/* What is in hand: a batch of entries (hand), or the fan-out of the
	 * one entry in hand (fo). */
	struct intake_entries	 hand;
	int			 nhand;
	struct fanout		*fo;
	int			 fo_headed;	/* its head step is done */
	int			 fo_tail;	/* last commit in flight */
	/* The next run of collaborators, whose fetch goes out right behind
	 * the commit of the batch in hand (the same connection: Redis runs
	 * it after the commit, so it reads what the commit stored). */
	struct intake_entries	 ahead;
	int			 nahead;
	json_t			*ahead_snap;
	json_t			*ahead_need;
	char			 ahead_version[32];
	enum {
		AHEAD_NONE,
		AHEAD_FETCHING,		/* its fetch is on the wire */
		AHEAD_READY,		/* fetched, waiting for the commit */
		AHEAD_PROMOTED		/* in hand, its fetch on the wire */
	}			 ahead_state;
	int			 ahead_ignore;	/* drop the next ahead reply */
	json_t			*snap;
	json_t			*need;		/* the keys being fetched */
	char			 version[32];
	int			 rounds;
	int			 tries;
};

/* intake.c */
void	 intake_clear_snap(struct intake *);
void	 intake_clear_cur(struct intake *);
struct intake_entry *intake_cur(struct intake *);
int	 intake_parse(struct intake *, struct intake_entry *);
void	 intake_next(struct intake *);
void	 intake_done(struct intake *);
void	 intake_accepted(struct intake *, struct intake_entry *);
void	 intake_reject(struct intake *, const char *why);
void	 intake_reject_err(struct intake *, const struct err *);
int	 intake_refused(struct intake *, const redisReply *, const char *what);
void	 intake_later(struct intake *);
void	 intake_lost(struct intake *);

/* intake_run.c */
void	 intake_run_start(struct intake *);
void	 intake_run_unahead(struct intake *);

/* intake_fanout.c */
void	 intake_fanout_start(struct intake *);

#endif

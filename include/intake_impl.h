/*
 * intake_impl.h: what the intake files share (intake.c, intake_read.c,
 * intake_reject.c, intake_record.c, intake_run.c, intake_fanout.c,
 * intake_meeting.c). Not for anyone else: the rest of the daemon uses
 * intake.h.
 *
 * Main thread only. intake.c owns the state and the entry in hand
 * (it->hand), and decides what each entry is: rejected or waiting
 * (intake_reject.c), a record planned on its own (intake_record.c, which
 * uses it->snap, need, version, rounds and tries), a run of collaborators
 * (intake_run.c, which owns the pipeline of runs, it->runs, and it->done
 * and it->prep), or a fan-out (intake_fanout.c, which owns it->fo*).
 * intake_read.c owns the reads and the queue of entries read (it->q, and
 * the read ahead, it->ra_*). They call back into intake.c to finish
 * (intake_done), to let go (intake_later, intake_lost) or to reject
 * (intake_reject). Only the pipeline of runs has more than one call on the
 * wire (with the read ahead); whatever else is in hand waits until the
 * pipeline is empty, and the pipeline starts only when nothing else is in
 * hand.
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
/* Read ahead when fewer than this many entries are left in the queue. */
#define INTAKE_READ_AHEAD	128
/* Records planned and committed together: a commit stays far below 10 ms. */
#define INTAKE_RUN_MAX		64
/* Runs in the pipeline: two commits on the wire and the next fetch. */
#define INTAKE_RUNS_MAX		3
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
	char		*id;		/* id and text live in the entry's own */
	char		*text;		/* allocation; text NULL: the entry has
					 * no "record" field */
	size_t		 len;
	long long	 deliveries;	/* from XPENDING for claimed entries */
	int		 parsed;	/* 1: in rec; -1: why says why not */
	struct record	 rec;
	char		*why;
	int		 alone;		/* plan it on its own, not in a run */
	unsigned	 idhash;	/* of rec.id, once in a run */
};

STAILQ_HEAD(intake_entries, intake_entry);
struct intake_run;		/* intake_run.c */
STAILQ_HEAD(intake_runs, intake_run);

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
	int			 more;		/* the last read was full: more
						 * entries may be waiting */
	/* The read ahead: new entries read, without waiting, while the
	 * pipeline works, before the queue runs dry. */
	int			 ra_flight;	/* on the wire */
	int			 ra_ignore;	/* drop that many replies */
	int			 ra_wait;	/* nothing in hand: wait for it */
	struct event		*kick;		/* run the loop from the top */
	intake_commit_fn	*commit_fn;
	void			*arg;

	/* What is in hand: one entry (a record planned on its own, or a
	 * fan-out, fo), or the pipeline of runs. */
	struct intake_entries	 hand;
	int			 nhand;
	struct fanout		*fo;
	int			 fo_headed;	/* its head step is done */
	int			 fo_tail;	/* last commit in flight */
	json_t			*snap;
	json_t			*need;		/* the keys being fetched */
	char			 version[32];
	int			 rounds;
	int			 tries;
	/* The pipeline: runs of collaborators, oldest first, each fetching,
	 * fetched, or with its commit on the wire. */
	struct intake_runs	 runs;
	int			 nruns;
	unsigned long long	 run_seq;	/* the chain's tokens */
	int			 run_tries;	/* conflicts in a row */
	int			 run_apart;	/* a plan read more than its
						 * record: said once */
	/* Entries whose commit was answered, logged (and freed) by the
	 * deferred step, it->prep, which runs once what was sent is written
	 * out: Redis runs the commit while this thread reads on. */
	struct intake_entries	 done;
	struct event		*prep;
};

/* intake.c */
void	 intake_set_state(struct intake *, enum intake_state);
void	 intake_kick(struct intake *, int delay_ms);
void	 intake_loop(struct intake *);
void	 intake_entry_free(struct intake_entry *);
void	 intake_clear_snap(struct intake *);
void	 intake_clear_cur(struct intake *);
struct intake_entry *intake_cur(struct intake *);
int	 intake_parse(struct intake *, struct intake_entry *);
void	 intake_next(struct intake *);
void	 intake_done(struct intake *);
void	 intake_accepted(struct intake *, struct intake_entry *);
/* Every reply to a call for what is in hand goes through these. */
int	 intake_reply(struct intake *, const redisReply *, const char *what);
int	 intake_parsed(struct intake *, int n, const struct err *);
void	 intake_conflict(const char *id, int *tries);
void	 intake_later(struct intake *);
void	 intake_lost(struct intake *);

/* intake_read.c */
int	 intake_read(struct intake *, long long now_ms);
void	 intake_read_group(struct intake *);
void	 intake_read_ahead(struct intake *);
void	 intake_read_drop(struct intake *);
int	 intake_read_idcmp(const char *, const char *);

/* intake_reject.c */
void	 intake_reject(struct intake *, const char *why);
void	 intake_reject_err(struct intake *, const struct err *);

/* intake_record.c */
void	 intake_record_start(struct intake *);

/* intake_run.c */
int	 intake_run_wants(struct intake *, struct intake_entry *);
void	 intake_run_start(struct intake *);
int	 intake_run_more(struct intake *);
void	 intake_run_unahead(struct intake *);
void	 intake_run_log_done(struct intake *);
void	 intake_run_prep_cb(evutil_socket_t, short, void *);

/* intake_fanout.c */
void	 intake_fanout_start(struct intake *);

#endif

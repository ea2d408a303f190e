/*
 * plan_impl.h: what the planner's files (plan*.c) share, for nobody else;
 * the rest of the program uses plan.h. Pure, like the planner: no I/O, any
 * thread.
 *
 * plan.c's plan_apply() hands each record type to the file that owns it;
 * these are those entry points, and the few helpers two files need.
 */
#ifndef HB_PLAN_IMPL_H
#define HB_PLAN_IMPL_H

#include <jansson.h>

#include "plan.h"
#include "record.h"

/* plan.c: the options a merged whole is checked with (the record's own
 * default time zone; max_bytes 0: the default limit). */
void	plan_merge_opts(const struct record *, size_t max_bytes,
	    struct record_opts *);

/* plan_audience.c: announcements, and who a "to" object reaches. */
int	plan_consents(json_t *snap, const char *cid);
void	plan_announcement_needs(const struct record *, json_t *snap,
	    json_t *need);
int	plan_announcement(const struct record *, json_t *snap,
	    const struct plan_ctx *, json_t *ops, struct err *e);

/* plan_person.c: a collaborator's record, and forgetting them. */
int	plan_collaborator(const struct record *, json_t *snap,
	    const struct plan_ctx *, json_t *ops);
void	plan_forget_needs(const struct record *, json_t *snap, json_t *need);
int	plan_forget(const struct record *, json_t *snap,
	    const struct plan_ctx *, json_t *ops);

/* plan_said.c: what someone said, and what was done about it. */
int	plan_said(const struct record *, json_t *snap,
	    const struct plan_ctx *, json_t *ops);
void	plan_outcome_needs(const struct record *, json_t *snap, json_t *need);
int	plan_outcome(const struct record *, json_t *snap,
	    const struct plan_ctx *, json_t *ops);

#endif

/*
 * summary.h: the answers summary each organiser (else coordinator) gets
 * when a meeting's first reminder falls due (SPEC section 9;
 * daemon/summary.c). Main (libevent) thread only; web.c owns it.
 */
#ifndef HB_SUMMARY_H
#define HB_SUMMARY_H

#include <event2/event.h>

#include "util.h"

struct config;
struct rconn;
struct summary;

/* Starts its timer; NULL with e set when it cannot. The config is
 * referenced; ops is borrowed (it outlives the summary). */
struct summary	*summary_start(struct event_base *, struct config *,
		    struct rconn *ops, struct err *e);
void		 summary_set_config(struct summary *, struct config *);
void		 summary_free(struct summary *);

#endif

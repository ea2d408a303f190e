/*
 * retention.h: [retention]: the audit and dead streams keep entries for a
 * while, not for ever (dead entries hold whole records, with names,
 * addresses and access needs), and forget's scrub walks every key for a
 * person being forgotten. Main thread only; uses the "ops" Redis
 * connection.
 */
#ifndef HB_RETENTION_H
#define HB_RETENTION_H

#include <event2/event.h>

struct config;
struct rconn;
struct retention;

struct retention	*retention_start(struct event_base *, struct config *,
			    struct rconn *);
void			 retention_set_config(struct retention *,
			    struct config *);
void			 retention_stop(struct retention *);
void			 retention_free(struct retention *);

#define RETENTION_EVERY_MS	5000	/* look this often */
#define RETENTION_BATCH		500	/* entries of each stream per call */
#define RETENTION_SCRUB_EVERY_MS 1000	/* look for a forget this often */
#define RETENTION_SCRUB_BUDGET	1000	/* work per scrub call */

#endif

/*
 * answer.h: the Redis state of what collaborators say back (SPEC section
 * 9), owned by daemon/store/answer.c and its scripts (answer.lua, and
 * gate.lua, which the lease runs before handing out an email).
 *
 * Keys (under "{P}:", besides those in store.h):
 *   ans:<meeting>   hash: collaborator id -> {"a": "yes"|"no"|"maybe",
 *                   "at": ms, "via": "web"|"calendar", "who": id,
 *                   "stale": true after an update asked again}
 *   pref:<collab>   hash the person sets on the preferences page: id, at,
 *                   format, pause_until (ms), stop:announcements,
 *                   stop:outcomes, stop:meetings ("1"), consent ("false");
 *                   and bouncing (the address that bounced), set by
 *                   `hearback inbound`. It wins over later collaborator
 *                   records until the person changes it.
 *   sum:<meeting>   ms when its answers summary fell due; sumdue: the set
 *                   of meeting ids whose summary the daemon is to send
 * A due email that a preference or an answer rules out is settled as
 * "suppressed" by the lease (audit event "suppressed", count
 * suppressed:<reason>), never sent.
 *
 * The daemon's calls (main thread, async) and the command's (_sync) run
 * the same script; pure helpers are any thread.
 */
#ifndef HB_ANSWER_H
#define HB_ANSWER_H

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <jansson.h>

#include "util.h"

struct rconn;

/* The unsubscribe classes: which kinds of email each covers. */
#define ANSWER_CLASSES	{ "announcements", "outcomes", "meetings" }
/* The class of a kind of email ("reminder" -> "meetings"); NULL for a
 * coordinator's (notice, digest). */
const char	*answer_class(const char *kind);
/* 1 if class is one of ANSWER_CLASSES. */
int		 answer_class_valid(const char *class);
/* "yes", "no", "maybe": 1 if a is one of them. */
int		 answer_valid(const char *a);

/* The script with op and its arguments (strings, NULL-terminated). The
 * async call returns -1 when not connected (fn is then not called). */
int		 answer_call(struct rconn *, const char *prefix,
		    redisCallbackFn *fn, void *priv, const char *op, ...)
		    __attribute__((sentinel));
/* The same, blocking; NULL with e set ("Redis: ..."). */
redisReply	*answer_call_sync(redisContext *, const char *prefix,
		    struct err *e, const char *op, ...)
		    __attribute__((sentinel));
/* The same with an argument vector (for "pref": field, value pairs). */
int		 answer_callv(struct rconn *, const char *prefix,
		    redisCallbackFn *fn, void *priv, const char *op, int n,
		    const char **args);

/*
 * For `hearback show meeting`: the answers to a meeting, as
 * {collaborator id: {"answer": "yes"|"no"|"maybe", "at": ms, "via":
 * "web"|"calendar", "stale": bool}} (a new object; {} when none).
 */
int		 answer_meeting_sync(redisContext *, const char *prefix,
		    const char *mid, json_t **answers, struct err *e);
/* A flat [field, value, ...] reply as an object of strings (a new one). */
json_t		*answer_flat(const redisReply *);

#endif

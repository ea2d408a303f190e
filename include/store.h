/*
 * store.h: hearback's Redis data model, in one place: daemon/store/.
 *
 * The model is a few Lua scripts (daemon/store/NAME.lua, embedded at build
 * time by scripts.S) and the C that speaks to them. A script is sent with
 * EVALSHA; on NOSCRIPT (a Redis that has not seen it, or flushed it) it is
 * sent once whole with EVAL, which also loads it. The argv builders and
 * helpers here are pure, any thread. store_send() runs a script over the
 * daemon's async connections (main thread only); store_call_sync() over
 * the command's blocking context. Both send the same bytes.
 *
 * Keys (all under "{P}:", one cluster slot):
 *   inbox, dead, audit          streams
 *   version                     counter, raised by every record commit
 *   rec:<type>:<id>             a stored record: {"record":{...},"meta":{...}}
 *   collaborators               set of collaborator ids
 *   group:<name>                set of collaborator ids
 *   cs:<collab>                 set of said ids attributed to a collaborator
 *   vm:<venue>                  set of meeting ids at a venue
 *   d:<delivery>                hash: one email to one person (see plan.c)
 *   schedule                    zset: delivery id by due time (ms); a leased
 *                               delivery is pushed lease ms into the future
 *   cd:<collab>, md:<meeting>   sets of pending delivery ids, for forget and
 *                               for meeting changes
 *   stats                       hash of counters for `hearback status`
 *   said, said:open             all said ids; open ones scored by when said
 *   notices                     ids of coordinator notices (forget scrubs)
 *   forgotten                   ids of collaborators who were forgotten
 *   so:<said>                   outcome ids that answer a said item
 *   digest:<coordinator>        last overdue digest time (ms)
 *
 * The snapshot ("snap") is a JSON object from relative key name to value:
 * a stored record (parsed), an array (a set's members), or null (absent).
 * An op list is a JSON array of arrays of strings, applied atomically by the
 * commit script, which also checks the version the snapshot was taken at and
 * acknowledges and deletes the inbox entry: a record leaves the inbox only
 * when everything it causes is stored, in the same atomic step.
 */
#ifndef HB_STORE_H
#define HB_STORE_H

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <jansson.h>

#include "util.h"

struct rconn;

/* One script call: EVALSHA sha 0 P args...; script is the text to fall
 * back to. Free with store_argv_free(). */
struct store_argv {
	int		 argc;
	char		**argv;
	size_t		*lens;
	const char	*script;
};

void	store_argv_free(struct store_argv *);
/* fetch: P key...  -> [version, value-or-members-or-nil, ...] */
void	store_fetch_argv(const char *prefix, json_t *keys, struct store_argv *);
/* commit: P version group entry ops... (version "" = no check, entry "" =
 * no inbox entry to acknowledge) -> 1 applied, 0 version changed */
void	store_commit_argv(const char *prefix, const char *version,
	    const char *entry, json_t *ops, struct store_argv *);
/* lease: P now_ms lease_ms max
 *   -> [next-due-ms-or-"", [did, [hash...], [key, value, ...]], ...] */
void	store_lease_argv(const char *prefix, long long now_ms,
	    long long lease_ms, int max, struct store_argv *);
/* digest: P now due every coordinator max_age -> digests made */
void	store_digest_argv(const char *prefix, long long now_ms, long long due_ms,
	    long long every_ms, const char *coordinator, long long max_age_ms,
	    struct store_argv *);

/* Run a script over an async connection (main thread). Takes a (it is
 * empty after). fn gets the script's reply, after a NOSCRIPT fallback if
 * one was needed, or NULL when the connection went away. -1: not
 * connected (fn is not called). */
int	store_send(struct rconn *, struct store_argv *a, redisCallbackFn *fn,
	    void *priv);
/* The same over a blocking context; frees a. NULL with e set ("Redis:
 * ...") on a lost connection or an error reply. */
redisReply *store_call_sync(redisContext *, struct store_argv *a,
	    struct err *e);

/* Merge a fetched value into snap; value is a JSON text (string keys), an
 * array of members (set keys), or NULL (absent). */
int	store_snap_put_string(json_t *snap, const char *key, const char *v,
	    size_t len, struct err *e);
void	store_snap_put_set(json_t *snap, const char *key, json_t *members);
void	store_snap_put_null(json_t *snap, const char *key);

/* Op builders: append one op to ops. */
void	store_op(json_t *ops, const char *op, ...) __attribute__((sentinel));
/* Pack a JSON value as a compact string (sorted keys: stable bytes). */
char	*store_dump(json_t *v);

/* The stream group every daemon joins. */
#define STORE_GROUP	"hearbackd"

#endif

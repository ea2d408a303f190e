/*
 * store.h: hearback's Redis data model, as three Lua scripts and the pure
 * helpers that speak to them. No connection is owned here: the daemon sends
 * the scripts over hiredis async (main thread), the command over a blocking
 * context. Both get the same bytes from store_*_argv().
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

#include <jansson.h>

#include "util.h"

extern const char store_lua_fetch[];
extern const char store_lua_commit[];
extern const char store_lua_promote[];
extern const char store_lua_digest[];

/* An argv for EVAL; free with store_argv_free(). */
struct store_argv {
	int	 argc;
	char	**argv;
	size_t	*lens;
};

void	store_argv_free(struct store_argv *);
/* EVAL fetch 0 P key...  -> [version, value-or-members-or-nil, ...] */
void	store_fetch_argv(const char *prefix, json_t *keys, struct store_argv *);
/* EVAL commit 0 P version stream group entry ops... (version "" = no check,
 * entry "" = no inbox entry to acknowledge) -> 1 applied, 0 version changed */
void	store_commit_argv(const char *prefix, const char *version,
	    const char *group, const char *entry, json_t *ops,
	    struct store_argv *);
/* EVAL promote 0 P now_ms lease_ms max
 *   -> [next-due-ms-or-"", [did, [hash...], [key, value, ...]], ...] */
void	store_promote_argv(const char *prefix, long long now_ms,
	    long long lease_ms, int max, struct store_argv *);

/* EVAL digest 0 P now due every coordinator max_age -> digests made */
void	store_digest_argv(const char *prefix, long long now_ms, long long due_ms,
	    long long every_ms, const char *coordinator, long long max_age_ms,
	    struct store_argv *);

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

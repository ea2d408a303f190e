/*
 * cli.h: what the parts of the `hearback` command share. Single-threaded;
 * uses a blocking hiredis context and the store's _sync operations (the
 * daemon uses the same scripts and planner over its async connections).
 */
#ifndef HB_CLI_H
#define HB_CLI_H

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "config.h"
#include "record.h"

/* sysexits, as SPEC section 1 says */
#define EX_DONE		0
#define EX_USAGE_	64
#define EX_INVALID	65
#define EX_NOREDIS	69
#define EX_BADCONFIG	78

/* A record read from a file, checked for form. */
struct cli_rec {
	char		*where;		/* "m.json" or "m.json[2]" */
	struct record	 rec;
	char		*text;		/* compact JSON, as queued */
};

/* Read FILE... ("-" is stdin); every record checked; messages to stderr.
 * Returns 0 when all are valid. */
int	cli_read_records(const struct config *, int nfiles, char **files,
	    struct cli_rec **recs, int *nrecs);
void	cli_free_records(struct cli_rec *, int);
/* Check one object as record_parse() would its compact text; on success
 * out holds it (text, where: a copy of where). Messages to stderr. */
int	cli_check_one(const struct config *, json_t *obj, const char *where,
	    struct cli_rec *out);
/* A whole file ("-": standard input), at most max bytes, or NULL (e). */
char	*cli_slurp(const char *file, size_t max, size_t *len, struct err *e);
/* Check references, warn of one address under two ids, then queue all in
 * one step (or, dry_run, nothing); prints TYPE ID ENTRY-ID lines. Returns
 * an exit status. */
int	cli_queue(const struct config *, struct cli_rec *, int n, int dry_run);

/* Connect or exit 69 with a message. */
redisContext *cli_connect(const struct config *);
/* Fill snap with what the planner needs for r (fetch rounds). */
int	cli_snapshot(redisContext *, const struct config *,
	    const struct record *, json_t *snap, char *version, size_t vlen);
/* Redis failed us (e says how): the message, then exit 69. */
void	cli_redis_failed(const struct err *) __attribute__((noreturn));

int	cli_status(const struct config *, int argc, char **argv);
int	cli_dead(const struct config *, int argc, char **argv);
int	cli_preview(const struct config *, int argc, char **argv);
int	cli_report(const struct config *, int argc, char **argv);
int	cli_import(const struct config *, int argc, char **argv);
int	cli_list(const struct config *, int argc, char **argv);
int	cli_show(const struct config *, int argc, char **argv);
int	cli_scheduled(const struct config *, int argc, char **argv);
int	cli_cancel(const struct config *, int argc, char **argv);
int	cli_announce(const struct config *, int argc, char **argv);
int	cli_forget(const struct config *, int argc, char **argv);
int	cli_inbound(const struct config *, int argc, char **argv);

#endif

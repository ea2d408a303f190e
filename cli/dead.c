/*
 * dead.c: `hearback dead list | show ID | retry ID | drop ID`.
 *
 * A dead entry holds either a rejected record (retry queues its text again,
 * through the normal checks) or an email that failed for good or expired
 * (retry puts the same delivery back on the schedule: same id, same
 * Message-ID, so the once-per-delivery rule still holds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"

static redisReply *
dead_cmd(redisContext *c, redisReply *r)
{
	if (r == NULL) {
		fprintf(stderr, "hearback: Redis: %s\n", c->errstr);
		exit(EX_NOREDIS);
	}
	return r;
}

static const char *
dead_field(redisReply *fields, const char *name)
{
	size_t	i;

	for (i = 0; fields->type == REDIS_REPLY_ARRAY && i + 1 <
	    fields->elements; i += 2)
		if (strcmp(fields->element[i]->str, name) == 0)
			return fields->element[i + 1]->str;
	return NULL;
}

/* The entry's fields, or NULL (message printed). Free the reply. */
static redisReply *
dead_get(redisContext *c, const char *key, const char *id, redisReply **fields)
{
	redisReply	*r = dead_cmd(c, redisCommand(c, "XRANGE %s %s %s", key,
	    id, id));

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 1) {
		fprintf(stderr, "hearback: no dead entry \"%s\" (see hearback "
		    "dead list)\n", id);
		freeReplyObject(r);
		return NULL;
	}
	*fields = r->element[0]->element[1];
	return r;
}

static int
dead_list(redisContext *c, const char *key)
{
	redisReply	*r = dead_cmd(c, redisCommand(c, "XRANGE %s - +", key));
	size_t		 i;

	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
		printf("no dead entries\n");
		freeReplyObject(r);
		return EX_DONE;
	}
	for (i = 0; i < r->elements; i++) {
		redisReply	*f = r->element[i]->element[1];
		const char	*d = dead_field(f, "delivery");
		const char	*what;
		char		 buf[300];

		if (d != NULL) {
			snprintf(buf, sizeof buf, "email %s", d);
			what = buf;
		} else {
			const char *t = dead_field(f, "type");
			const char *id = dead_field(f, "id");

			snprintf(buf, sizeof buf, "record %s %s",
			    t && *t ? t : "?", id && *id ? id : "?");
			what = buf;
		}
		printf("%s  %s  %s\n    %s\n", r->element[i]->element[0]->str,
		    dead_field(f, "at") ? dead_field(f, "at") : "",
		    what, dead_field(f, "error") ? dead_field(f, "error") : "");
	}
	freeReplyObject(r);
	return EX_DONE;
}

static int
dead_show(redisContext *c, const char *key, const char *id)
{
	redisReply	*f, *r = dead_get(c, key, id, &f);
	size_t		 i;

	if (r == NULL)
		return EX_INVALID;
	printf("id: %s\n", id);
	for (i = 0; i + 1 < f->elements; i += 2)
		printf("%s: %s\n", f->element[i]->str, f->element[i + 1]->str);
	freeReplyObject(r);
	return EX_DONE;
}

static int
dead_retry(const struct config *cf, redisContext *c, const char *key,
    const char *id)
{
	redisReply	*f, *r = dead_get(c, key, id, &f), *x;
	const char	*rec, *did;
	char		*inbox, *dk, *sk, now[32], dl[32];
	int		 rv = EX_DONE;

	if (r == NULL)
		return EX_INVALID;
	rec = dead_field(f, "record");
	did = dead_field(f, "delivery");
	if (did != NULL) {
		const char *cid = NULL;

		dk = xasprintf("{%s}:d:%s", cf->prefix, did);
		x = dead_cmd(c, redisCommand(c, "HGET %s cid", dk));
		if (x->type != REDIS_REPLY_STRING) {
			fprintf(stderr, "hearback: delivery %s is no longer "
			    "stored; queue its record again instead\n", did);
			freeReplyObject(x);
			free(dk);
			freeReplyObject(r);
			return EX_INVALID;
		}
		cid = x->str;
		snprintf(now, sizeof now, "%lld", util_now_ms());
		snprintf(dl, sizeof dl, "%lld", util_now_ms() +
		    cf->max_age * 1000);
		sk = cli_key(cf, "schedule");
		freeReplyObject(dead_cmd(c, redisCommand(c, "MULTI")));
		freeReplyObject(dead_cmd(c, redisCommand(c, "HSET %s state "
		    "scheduled attempts 0 first_try 0 due %s deadline %s", dk,
		    now, dl)));
		freeReplyObject(dead_cmd(c, redisCommand(c, "ZADD %s %s %s", sk,
		    now, did)));
		if (*cid) {
			char *ck = xasprintf("{%s}:cd:%s", cf->prefix, cid);

			freeReplyObject(dead_cmd(c, redisCommand(c,
			    "SADD %s %s", ck, did)));
			free(ck);
		}
		freeReplyObject(dead_cmd(c, redisCommand(c, "XDEL %s %s", key,
		    id)));
		freeReplyObject(dead_cmd(c, redisCommand(c, "EXEC")));
		printf("delivery %s scheduled again\n", did);
		freeReplyObject(x);
		free(sk);
		free(dk);
	} else if (rec != NULL && *rec) {
		inbox = cli_key(cf, "inbox");
		freeReplyObject(dead_cmd(c, redisCommand(c, "MULTI")));
		freeReplyObject(dead_cmd(c, redisCommand(c,
		    "XADD %s * record %s", inbox, rec)));
		freeReplyObject(dead_cmd(c, redisCommand(c, "XDEL %s %s", key,
		    id)));
		x = dead_cmd(c, redisCommand(c, "EXEC"));
		if (x->type == REDIS_REPLY_ARRAY && x->elements == 2)
			printf("record queued again as %s\n",
			    x->element[0]->str);
		freeReplyObject(x);
		free(inbox);
	} else {
		fprintf(stderr, "hearback: dead entry %s has nothing to retry\n",
		    id);
		rv = EX_INVALID;
	}
	freeReplyObject(r);
	return rv;
}

int
cli_dead(const struct config *cf, int argc, char **argv)
{
	redisContext	*c;
	char		*key;
	int		 rv;

	if (argc < 1 || (strcmp(argv[0], "list") == 0 && argc != 1) ||
	    (strcmp(argv[0], "list") != 0 && argc != 2)) {
		fprintf(stderr, "usage: hearback dead list | show ID | retry ID "
		    "| drop ID\n");
		return EX_USAGE_;
	}
	c = cli_connect(cf);
	key = cli_key(cf, "dead");
	if (strcmp(argv[0], "list") == 0)
		rv = dead_list(c, key);
	else if (strcmp(argv[0], "show") == 0)
		rv = dead_show(c, key, argv[1]);
	else if (strcmp(argv[0], "retry") == 0)
		rv = dead_retry(cf, c, key, argv[1]);
	else if (strcmp(argv[0], "drop") == 0) {
		redisReply *r = dead_cmd(c, redisCommand(c, "XDEL %s %s", key,
		    argv[1]));

		rv = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ?
		    EX_DONE : EX_INVALID;
		if (rv == EX_DONE)
			printf("dropped %s\n", argv[1]);
		else
			fprintf(stderr, "hearback: no dead entry \"%s\"\n",
			    argv[1]);
		freeReplyObject(r);
	} else {
		fprintf(stderr, "hearback: dead: unknown command \"%s\"\n",
		    argv[0]);
		rv = EX_USAGE_;
	}
	free(key);
	redisFree(c);
	return rv;
}

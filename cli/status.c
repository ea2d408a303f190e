/*
 * status.c: `hearback status [--json]`: what is waiting, what is due, what
 * failed, which "you said" items have no answer, and what was sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"

static long long
status_int(redisContext *c, const char *fmt, const char *key, const char *arg)
{
	redisReply	*r = arg ? redisCommand(c, fmt, key, arg) :
	    redisCommand(c, fmt, key);
	long long	 v = 0;

	if (r == NULL) {
		fprintf(stderr, "hearback: Redis: %s\n", c->errstr);
		exit(EX_NOREDIS);
	}
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	freeReplyObject(r);
	return v;
}

int
cli_status(const struct config *cf, int argc, char **argv)
{
	redisContext	*c;
	redisReply	*r;
	int		 json = 0;
	long long	 backlog, sched, dead, open, overdue, next = 0;
	char		*k, cut[32], when[128];
	json_t		*o, *sent;
	size_t		 i;

	if (argc == 1 && strcmp(argv[0], "--json") == 0)
		json = 1;
	else if (argc != 0) {
		fprintf(stderr, "usage: hearback status [--json]\n");
		return EX_USAGE_;
	}
	c = cli_connect(cf);
	k = cli_key(cf, "inbox");
	backlog = status_int(c, "XLEN %s", k, NULL);
	free(k);
	k = cli_key(cf, "schedule");
	sched = status_int(c, "ZCARD %s", k, NULL);
	r = redisCommand(c, "ZRANGE %s 0 0 WITHSCORES", k);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
		next = atoll(r->element[1]->str);
	freeReplyObject(r);
	free(k);
	k = cli_key(cf, "dead");
	dead = status_int(c, "XLEN %s", k, NULL);
	free(k);
	k = cli_key(cf, "said:open");
	open = status_int(c, "ZCARD %s", k, NULL);
	snprintf(cut, sizeof cut, "%lld", util_now_ms() -
	    cf->feedback_due * 1000);
	overdue = status_int(c, "ZCOUNT %s -inf %s", k, cut);
	free(k);
	sent = json_object();
	k = cli_key(cf, "stats");
	r = redisCommand(c, "HGETALL %s", k);
	for (i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements;
	    i += 2)
		if (strncmp(r->element[i]->str, "sent:", 5) == 0)
			json_object_set_new(sent, r->element[i]->str + 5,
			    json_integer(atoll(r->element[i + 1]->str)));
	freeReplyObject(r);
	free(k);
	redisFree(c);

	if (next > 0)
		clock_format_human(next / 1000, cf->timezone, when, sizeof when);
	if (json) {
		char iso[64];

		o = json_object();
		json_object_set_new(o, "inbox_backlog", json_integer(backlog));
		json_object_set_new(o, "scheduled", json_integer(sched));
		if (next > 0) {
			clock_format_iso_utc(next / 1000, iso, sizeof iso);
			json_object_set_new(o, "next_due", json_string(iso));
		} else
			json_object_set_new(o, "next_due", json_null());
		json_object_set_new(o, "dead", json_integer(dead));
		json_object_set_new(o, "said_open", json_integer(open));
		json_object_set_new(o, "said_overdue", json_integer(overdue));
		json_object_set(o, "sent", sent);
		k = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", k);
		free(k);
		json_decref(o);
	} else {
		const char	*kind;
		json_t		*v;

		printf("inbox backlog:    %lld record(s) waiting\n", backlog);
		printf("scheduled emails: %lld", sched);
		if (next > 0)
			printf(" (next due %s)", when);
		printf("\ndead entries:     %lld%s\n", dead, dead ?
		    " (hearback dead list)" : "");
		printf("you said:         %lld open, %lld overdue\n", open,
		    overdue);
		printf("sent:            ");
		if (json_object_size(sent) == 0)
			printf(" nothing yet");
		json_object_foreach(sent, kind, v)
			printf(" %s %lld", kind, (long long)json_integer_value(v));
		printf("\n");
	}
	json_decref(sent);
	return EX_DONE;
}

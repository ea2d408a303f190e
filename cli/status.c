/*
 * status.c: `hearback status [--json]`: what is waiting, what is due, what
 * failed, which "you said" items have no answer, and what was sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "store.h"

int
cli_status(const struct config *cf, int argc, char **argv)
{
	redisContext		*c;
	struct store_gauges	 g;
	int			 json = 0;
	long long		 backlog, sched, dead, open, overdue, next;
	char			*k, when[128];
	json_t			*o, *sent;
	struct err		 e;

	if (argc == 1 && strcmp(argv[0], "--json") == 0)
		json = 1;
	else if (argc != 0) {
		fprintf(stderr, "usage: hearback status [--json]\n");
		return EX_USAGE_;
	}
	c = cli_connect(cf);
	if (store_gauges_sync(c, cf->prefix, util_now_ms() -
	    cf->feedback_due * 1000, &g, &e) == -1)
		cli_redis_failed(&e);
	redisFree(c);
	backlog = g.inbox_backlog;
	sched = g.scheduled;
	next = g.next_due_ms;
	dead = g.dead;
	open = g.said_open;
	overdue = g.said_overdue;
	sent = json_incref(g.sent);
	store_gauges_clear(&g);

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

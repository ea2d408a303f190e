/*
 * dead.c: `hearback dead list | show ID | retry ID | drop ID`.
 *
 * A dead entry holds either a rejected record (retry queues its text again,
 * through the normal checks) or an email that failed for good or expired
 * (retry puts the same delivery back on the schedule: same id, same
 * Message-ID, so the once-per-delivery rule still holds). Each is one
 * store operation (store.h); this file only prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "store.h"

static const char *
dead_field(json_t *entry, const char *name)
{
	return json_string_value(json_object_get(json_object_get(entry,
	    "fields"), name));
}

static int
dead_list(redisContext *c, const struct config *cf)
{
	json_t		*entries, *en;
	size_t		 i;
	struct err	 e;

	if (store_dead_entries_sync(c, cf->prefix, NULL, &entries, &e) == -1)
		cli_redis_failed(&e);
	if (json_array_size(entries) == 0)
		printf("no dead entries\n");
	json_array_foreach(entries, i, en) {
		const char	*d = dead_field(en, "delivery");
		char		 what[300];

		if (d != NULL)
			snprintf(what, sizeof what, "email %s", d);
		else {
			const char *t = dead_field(en, "type");
			const char *id = dead_field(en, "id");

			snprintf(what, sizeof what, "record %s %s",
			    t && *t ? t : "?", id && *id ? id : "?");
		}
		printf("%s  %s  %s\n    %s\n", json_string_value(
		    json_object_get(en, "id")), dead_field(en, "at") ?
		    dead_field(en, "at") : "", what, dead_field(en, "error") ?
		    dead_field(en, "error") : "");
	}
	json_decref(entries);
	return EX_DONE;
}

static int
dead_show(redisContext *c, const struct config *cf, const char *id)
{
	json_t		*entries, *v;
	const char	*f;
	struct err	 e;

	if (store_dead_entries_sync(c, cf->prefix, id, &entries, &e) == -1)
		cli_redis_failed(&e);
	if (json_array_size(entries) != 1) {
		fprintf(stderr, "hearback: no dead entry \"%s\" (see hearback "
		    "dead list)\n", id);
		json_decref(entries);
		return EX_INVALID;
	}
	printf("id: %s\n", id);
	json_object_foreach(json_object_get(json_array_get(entries, 0),
	    "fields"), f, v)
		printf("%s: %s\n", f, json_string_value(v));
	json_decref(entries);
	return EX_DONE;
}

static int
dead_retry(redisContext *c, const struct config *cf, const char *id)
{
	struct store_retry	r;
	long long		now = util_now_ms();
	struct err		e;

	if (store_dead_retry_sync(c, cf->prefix, id, now, now +
	    cf->max_age * 1000, &r, &e) == -1)
		cli_redis_failed(&e);
	switch (r.what) {
	case STORE_RETRIED_DELIVERY:
		printf("delivery %s scheduled again\n", r.id);
		return EX_DONE;
	case STORE_RETRIED_RECORD:
		printf("record queued again as %s\n", r.id);
		return EX_DONE;
	case STORE_RETRIED_NONE:
		fprintf(stderr, "hearback: no dead entry \"%s\" (see hearback "
		    "dead list)\n", id);
		break;
	case STORE_RETRIED_GONE:
		fprintf(stderr, "hearback: delivery %s is no longer stored; "
		    "queue its record again instead\n", r.id);
		break;
	case STORE_RETRIED_SENT:
		fprintf(stderr, "hearback: delivery %s was sent since; it is "
		    "not sent twice (drop the entry with hearback dead drop "
		    "%s)\n", r.id, id);
		break;
	case STORE_RETRIED_WITHDRAWN:
		fprintf(stderr, "hearback: delivery %s is not sent again: its "
		    "meeting was cancelled, or its person taken off it, since "
		    "(drop the entry with hearback dead drop %s)\n", r.id, id);
		break;
	case STORE_RETRIED_EMPTY:
		fprintf(stderr, "hearback: dead entry %s has nothing to retry\n",
		    id);
		break;
	}
	return EX_INVALID;
}

static int
dead_drop(redisContext *c, const struct config *cf, const char *id)
{
	struct err	e;

	switch (store_dead_drop_sync(c, cf->prefix, id, &e)) {
	case -1:
		cli_redis_failed(&e);
	case 0:
		fprintf(stderr, "hearback: no dead entry \"%s\"\n", id);
		return EX_INVALID;
	default:
		printf("dropped %s\n", id);
		return EX_DONE;
	}
}

int
cli_dead(const struct config *cf, int argc, char **argv)
{
	redisContext	*c;
	int		 rv;

	if (argc < 1 || (strcmp(argv[0], "list") == 0 && argc != 1) ||
	    (strcmp(argv[0], "list") != 0 && argc != 2)) {
		fprintf(stderr, "usage: hearback dead list | show ID | retry ID "
		    "| drop ID\n");
		return EX_USAGE_;
	}
	if (strcmp(argv[0], "list") != 0 && strcmp(argv[0], "show") != 0 &&
	    strcmp(argv[0], "retry") != 0 && strcmp(argv[0], "drop") != 0) {
		fprintf(stderr, "hearback: dead: unknown command \"%s\"\n",
		    argv[0]);
		return EX_USAGE_;
	}
	c = cli_connect(cf);
	if (strcmp(argv[0], "list") == 0)
		rv = dead_list(c, cf);
	else if (strcmp(argv[0], "show") == 0)
		rv = dead_show(c, cf, argv[1]);
	else if (strcmp(argv[0], "retry") == 0)
		rv = dead_retry(c, cf, argv[1]);
	else
		rv = dead_drop(c, cf, argv[1]);
	redisFree(c);
	return rv;
}

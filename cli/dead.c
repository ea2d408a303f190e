/*
 * dead.c: `hearback dead list | show ID | retry ID | drop ID`.
 *
 * A dead entry holds either a rejected record (retry queues its text again,
 * through the normal checks) or an email that failed for good or expired
 * (retry puts the same delivery back on the schedule: same id, same
 * Message-ID, so the once-per-delivery rule still holds). Each is one
 * store operation (store.h); this file only prints.
 *
 * What it prints from a dead entry came from a record or a relay, not from
 * the operator: it goes to the terminal escaped (dead_put), so that a record
 * holding ESC [2J, an OSC title or a C1 CSI cannot clear the screen, retitle
 * the window or hide a line, and an invisible or right-to-left character
 * shows as what it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "store.h"

/* The invisible and direction-changing characters record_field.c refuses
 * in names, titles and subjects. */
static int
dead_hidden(unsigned long cp)
{
	return cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/*
 * s on fp with every control escaped: C0 (but the tab, and the line feed
 * when lines is set) and DEL as \u00XX, C1 and the hidden characters as
 * \uXXXX, a byte that is not UTF-8 as \xXX. NULL prints nothing.
 */
static void
dead_put(FILE *fp, const char *s, int lines)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned long		 cp;
	size_t			 n, k;

	if (s == NULL)
		return;
	while (*p != '\0') {
		if (*p < 0x80) {
			if ((*p < 0x20 && *p != '\t' && (*p != '\n' || !lines)) ||
			    *p == 0x7f)
				fprintf(fp, "\\u%04x", *p);
			else
				putc(*p, fp);
			p++;
			continue;
		}
		n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
		for (k = 1; k < n; k++)
			if ((p[k] & 0xc0) != 0x80)
				break;
		if (n == 1 || k < n || !util_utf8_valid((const char *)p, n)) {
			fprintf(fp, "\\x%02x", *p);
			p++;
			continue;
		}
		cp = n == 2 ? (p[0] & 0x1fUL) << 6 | (p[1] & 0x3f) :
		    n == 3 ? (p[0] & 0x0fUL) << 12 | (p[1] & 0x3fUL) << 6 |
		    (p[2] & 0x3f) : (p[0] & 0x07UL) << 18 |
		    (p[1] & 0x3fUL) << 12 | (p[2] & 0x3fUL) << 6 | (p[3] & 0x3f);
		if ((cp >= 0x80 && cp <= 0x9f) || dead_hidden(cp))
			fprintf(fp, "\\u%04lx", cp);
		else
			fwrite(p, 1, n, fp);
		p += n;
	}
}

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
		const char	*t = dead_field(en, "type");
		const char	*id = dead_field(en, "id");

		dead_put(stdout, json_string_value(json_object_get(en, "id")),
		    0);
		printf("  ");
		dead_put(stdout, dead_field(en, "at"), 0);
		if (d != NULL) {
			printf("  email ");
			dead_put(stdout, d, 0);
		} else {
			printf("  record ");
			dead_put(stdout, t && *t ? t : "?", 0);
			printf(" ");
			dead_put(stdout, id && *id ? id : "?", 0);
		}
		printf("\n    ");
		dead_put(stdout, dead_field(en, "error"), 0);
		printf("\n");
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
		fprintf(stderr, "hearback: no dead entry \"");
		dead_put(stderr, id, 0);
		fprintf(stderr, "\" (see hearback dead list)\n");
		json_decref(entries);
		return EX_INVALID;
	}
	printf("id: ");
	dead_put(stdout, id, 0);
	printf("\n");
	json_object_foreach(json_object_get(json_array_get(entries, 0),
	    "fields"), f, v) {
		/* The record keeps its lines; everything else is one line. */
		dead_put(stdout, f, 0);
		printf(": ");
		dead_put(stdout, json_string_value(v), strcmp(f, "record") == 0);
		printf("\n");
	}
	json_decref(entries);
	return EX_DONE;
}

static int
dead_retry(redisContext *c, const struct config *cf, const char *id)
{
	struct store_retry	r;
	long long		now = util_now_ms();
	struct err		e;
	char			rid[8192], did[300];

	if (store_dead_retry_sync(c, cf->prefix, id, now, now +
	    cf->max_age * 1000, &r, &e) == -1)
		cli_redis_failed(&e);
	/* Ids from the store, and the one typed: escaped all the same. */
	util_escape(rid, sizeof rid, r.id, sizeof r.id);
	util_escape(did, sizeof did, id, 200);
	id = did;
	switch (r.what) {
	case STORE_RETRIED_DELIVERY:
		printf("delivery %s scheduled again\n", rid);
		return EX_DONE;
	case STORE_RETRIED_RECORD:
		printf("record queued again as %s\n", rid);
		return EX_DONE;
	case STORE_RETRIED_NONE:
		fprintf(stderr, "hearback: no dead entry \"%s\" (see hearback "
		    "dead list)\n", id);
		break;
	case STORE_RETRIED_GONE:
		fprintf(stderr, "hearback: delivery %s is no longer stored; "
		    "queue its record again instead\n", rid);
		break;
	case STORE_RETRIED_SENT:
		fprintf(stderr, "hearback: delivery %s was sent since; it is "
		    "not sent twice (drop the entry with hearback dead drop "
		    "%s)\n", rid, id);
		break;
	case STORE_RETRIED_WITHDRAWN:
		fprintf(stderr, "hearback: delivery %s is not sent again: its "
		    "meeting was cancelled, or its person taken off it, since "
		    "(drop the entry with hearback dead drop %s)\n", rid, id);
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
	char		did[300];

	util_escape(did, sizeof did, id, 200);
	switch (store_dead_drop_sync(c, cf->prefix, id, &e)) {
	case -1:
		cli_redis_failed(&e);
	case 0:
		fprintf(stderr, "hearback: no dead entry \"%s\"\n", did);
		return EX_INVALID;
	default:
		printf("dropped %s\n", did);
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

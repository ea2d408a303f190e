/*
 * show.c: what is stored, read-only (SPEC section 6).
 *
 *   hearback list collaborators|venues|meetings|groups [--json]
 *   hearback show TYPE ID [--json]
 *   hearback scheduled [--meeting ID] [--json]
 *
 * Reads only: record ids and groups through read.c (SCAN, never KEYS),
 * records through store_fetch_sync() as the planner fetches them, and the
 * schedule through store_schedule_sync(). Nothing here writes to Redis.
 *
 * `show meeting` lists who is invited (invitees and the members of its
 * groups who consent, as the daemon counts them), each with their format
 * and access needs judged against the venue and the meeting's own access
 * arrangements (which override the venue's for that meeting): people with
 * a need that is not met come first, then those with one not yet
 * confirmed. Each person's answer (SPEC section 9) comes from
 * show_answer(), the hook the answers work fills in.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "access.h"
#include "answer.h"
#include "cli.h"
#include "clock.h"
#include "plan.h"
#include "store.h"

/* A table: rows of strings, printed in aligned columns. */
struct show_table {
	json_t	*rows;		/* array of arrays of strings */
};

static void
show_row(struct show_table *t, ...)
{
	va_list		 ap;
	const char	*s;
	json_t		*row = json_array();

	va_start(ap, t);
	while ((s = va_arg(ap, const char *)) != NULL)
		json_array_append_new(row, json_string(s));
	va_end(ap);
	json_array_append_new(t->rows, row);
}

static void
show_print(struct show_table *t)
{
	size_t	 w[16] = { 0 }, i, j, n;
	json_t	*row, *v;

	json_array_foreach(t->rows, i, row)
		json_array_foreach(row, j, v)
			if (j < 16 && (n = g_utf8_strlen(json_string_value(v),
			    -1)) > w[j])
				w[j] = n;
	json_array_foreach(t->rows, i, row) {
		json_array_foreach(row, j, v) {
			const char *s = json_string_value(v);

			if (j + 1 == json_array_size(row))
				printf("%s\n", s);
			else
				printf("%s%*s", s, (int)(w[j] -
				    g_utf8_strlen(s, -1) + 2), "");
		}
	}
}

static const char *
show_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* An array of strings, joined. */
static char *
show_join(json_t *a, const char *sep)
{
	struct buf	 b;
	size_t		 i;
	json_t		*v;

	buf_init(&b);
	json_array_foreach(a, i, v)
		buf_printf(&b, "%s%s", i ? sep : "", json_string_value(v));
	return buf_take(&b);
}

/* Fetch the stored records of these ids (type) into snap. */
static void
show_fetch(redisContext *c, const struct config *cf, const char *type,
    json_t *ids, json_t *snap)
{
	json_t		*need = json_array(), *v;
	size_t		 i;
	char		 key[STORE_KEY_MAX];
	struct err	 e;

	json_array_foreach(ids, i, v) {
		json_array_append_new(need, json_string(store_reckey(type,
		    json_string_value(v), key, sizeof key)));
		if (json_array_size(need) == 2000 || i + 1 ==
		    json_array_size(ids)) {
			if (store_fetch_sync(c, cf->prefix, need, snap, NULL,
			    0, &e) == -1)
				cli_redis_failed(&e);
			json_array_clear(need);
		}
	}
	json_decref(need);
}

/* The answer a person gave about a meeting (SPEC section 9), or NULL:
 * "coming", "not coming" or "not sure" (a new string), "(before the last
 * change)" added when an update has asked again. The meeting's answers
 * are read once (answer_meeting_sync) and kept in snap as "ans:<mid>". */
static char *
show_answer(redisContext *c, const struct config *cf, const char *mid,
    const char *cid, json_t *snap)
{
	char		 key[STORE_KEY_MAX];
	json_t		*all, *a;
	const char	*s;
	struct err	 e;

	snprintf(key, sizeof key, "ans:%s", mid);
	if ((all = json_object_get(snap, key)) == NULL) {
		if (answer_meeting_sync(c, cf->prefix, mid, &all, &e) == -1)
			cli_redis_failed(&e);
		json_object_set_new(snap, key, all);
	}
	a = json_object_get(all, cid);
	if ((s = json_string_value(json_object_get(a, "answer"))) == NULL)
		return NULL;
	return xasprintf("%s%s", strcmp(s, "yes") == 0 ? "coming" :
	    strcmp(s, "no") == 0 ? "not coming" : "not sure",
	    json_is_true(json_object_get(a, "stale")) ?
	    " (before the last change)" : "");
}

static void
show_usage(void)
{
	fprintf(stderr,
	    "usage: hearback list collaborators|venues|meetings|groups "
	    "[--json]\n"
	    "       hearback show collaborator|venue|meeting|announcement|"
	    "said|outcome ID [--json]\n"
	    "       hearback scheduled [--meeting ID] [--json]\n");
	exit(EX_USAGE_);
}

/* argv minus a trailing --json (anywhere): *json set. */
static int
show_json_flag(int *argc, char **argv)
{
	int	i, j, json = 0;

	for (i = j = 0; i < *argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			argv[j++] = argv[i];
	*argc = j;
	return json;
}

static void
show_dump(json_t *v)
{
	char	*s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);

	printf("%s\n", s);
	free(s);
}

/* `list groups`: each group and how many are in it. */
static void
show_list_groups(redisContext *c, const struct config *cf, int json,
    struct show_table *t)
{
	json_t		*out, *v;
	struct err	 e;
	const char	*k;

	if (store_groups_sync(c, cf->prefix, &out, &e) == -1)
		cli_redis_failed(&e);
	if (json)
		show_dump(out);
	else {
		show_row(t, "GROUP", "MEMBERS", NULL);
		json_object_foreach(out, k, v) {
			char num[32];

			snprintf(num, sizeof num, "%lld",
			    (long long)json_integer_value(v));
			show_row(t, k, num, NULL);
		}
		if (json_object_size(out) == 0)
			printf("no groups: no collaborator is in one\n");
		else
			show_print(t);
	}
	json_decref(out);
}

/* `list` as text: one row per stored record of type. */
static void
show_list_records(struct show_table *t, const char *type, json_t *out)
{
	json_t	*r;
	size_t	 i;

	if (strcmp(type, "collaborator") == 0)
		show_row(t, "ID", "NAME", "CONSENT", "FORMAT",
		    "GROUPS", NULL);
	else if (strcmp(type, "venue") == 0)
		show_row(t, "ID", "NAME", "ADDRESS", NULL);
	else
		show_row(t, "ID", "START", "STATUS", "VENUE",
		    "TITLE", NULL);
	json_array_foreach(out, i, r) {
		if (strcmp(type, "collaborator") == 0) {
			char *g = show_join(json_object_get(r,
			    "groups"), ",");
			const char *fmt = show_str(r, "format");

			show_row(t, show_str(r, "id"),
			    show_str(r, "name"),
			    json_is_true(json_object_get(r,
			    "consent")) ? "yes" : "no",
			    *fmt ? fmt : "standard", *g ? g : "-",
			    NULL);
			free(g);
		} else if (strcmp(type, "venue") == 0)
			show_row(t, show_str(r, "id"),
			    show_str(r, "name"), show_str(r,
			    "address"), NULL);
		else {
			const char *st = show_str(r, "status");
			const char *ven = show_str(r, "venue");

			show_row(t, show_str(r, "id"),
			    show_str(r, "start"), *st ? st :
			    "scheduled", *ven ? ven : "(online)",
			    show_str(r, "title"), NULL);
		}
	}
	show_print(t);
}

int
cli_list(const struct config *cf, int argc, char **argv)
{
	static const struct {
		const char	*what;
		const char	*type;
	} kinds[] = {
		{ "collaborators", "collaborator" }, { "venues", "venue" },
		{ "meetings", "meeting" }, { "groups", NULL },
	};
	redisContext		*c;
	json_t			*ids, *snap, *out, *r, *v;
	struct show_table	 t = { json_array() };
	struct err		 e;
	const char		*type = NULL;
	size_t			 i, n;
	int			 json;

	json = show_json_flag(&argc, argv);
	if (argc != 1)
		show_usage();
	for (n = 0; n < sizeof kinds / sizeof kinds[0]; n++)
		if (strcmp(argv[0], kinds[n].what) == 0 ||
		    (kinds[n].type && strcmp(argv[0], kinds[n].type) == 0))
			break;
	if (n == sizeof kinds / sizeof kinds[0]) {
		fprintf(stderr, "hearback: list: \"%s\": say collaborators, "
		    "venues, meetings or groups\n", argv[0]);
		show_usage();
	}
	type = kinds[n].type;
	c = cli_connect(cf);
	if (type == NULL) {
		show_list_groups(c, cf, json, &t);
		json_decref(t.rows);
		redisFree(c);
		return EX_DONE;
	}
	if (store_record_ids_sync(c, cf->prefix, type, &ids, &e) == -1)
		cli_redis_failed(&e);
	snap = json_object();
	show_fetch(c, cf, type, ids, snap);
	redisFree(c);
	out = json_array();
	json_array_foreach(ids, i, v)
		if ((r = plan_snaprec(snap, type, json_string_value(v))) !=
		    NULL)
			json_array_append(out, r);
	if (json)
		show_dump(out);
	else if (json_array_size(out) == 0)
		printf("no %s stored\n", kinds[n].what);
	else
		show_list_records(&t, type, out);
	json_decref(t.rows);
	json_decref(out);
	json_decref(ids);
	json_decref(snap);
	return EX_DONE;
}

/* One invitee's access needs against the meeting: *worst is 2 for one
 * not met, 1 for one not yet confirmed, else 0. */
static json_t *
show_needs(json_t *person, json_t *venue_access, json_t *meeting_access,
    int *worst)
{
	json_t		*out = json_array(), *v, *acc;
	size_t		 i;
	const char	*word, *detail;
	enum access_status st;

	*worst = 0;
	json_array_foreach(json_object_get(person, "access_needs"), i, v) {
		json_t *one = json_object();

		word = json_string_value(v);
		acc = json_object_get(meeting_access, word) ? meeting_access :
		    venue_access;
		st = access_status(acc, word, &detail);
		json_object_set_new(one, "need", json_string(word));
		json_object_set_new(one, "status", json_string(
		    st == ACCESS_YES ? "available" : st == ACCESS_NO ?
		    "not available" : "not yet confirmed"));
		if (detail != NULL)
			json_object_set_new(one, "details", json_string(detail));
		if (acc == meeting_access)
			json_object_set_new(one, "for_this_meeting",
			    json_true());
		if (st == ACCESS_NO && *worst < 2)
			*worst = 2;
		else if (st == ACCESS_UNKNOWN && *worst < 1)
			*worst = 1;
		json_array_append_new(out, one);
	}
	return out;
}

static int
show_by_worst(const void *a, const void *b)
{
	json_t		*x = *(json_t *const *)a, *y = *(json_t *const *)b;
	long long	 wx = json_integer_value(json_object_get(x, "worst"));
	long long	 wy = json_integer_value(json_object_get(y, "worst"));

	if (wx != wy)
		return wx > wy ? -1 : 1;
	return strcmp(show_str(x, "id"), show_str(y, "id"));
}

/* A meeting's invitees, unmet needs first: [{id, name, format, needs,
 * worst, answer}]. */
static json_t *
show_invited(redisContext *c, const struct config *cf, json_t *m,
    json_t *snap)
{
	json_t		*ids = json_array(), *seen = json_object(), *v, *p;
	json_t		*venue = NULL, *out, **arr, *fg, *forgotten;
	size_t		 i, n = 0, j;
	const char	*vid = show_str(m, "venue");
	int		 worst;

	json_array_foreach(json_object_get(m, "invitees"), i, v)
		json_array_append(ids, v);
	json_array_foreach(json_object_get(m, "groups"), i, v)
		plan_add_group(snap, ids, json_string_value(v));
	if (*vid)
		venue = plan_snaprec(snap, "venue", vid);
	forgotten = json_object();
	fg = plan_set(snap, STORE_FORGOTTEN, NULL);
	json_array_foreach(fg, i, v)
		json_object_set_new(forgotten, json_string_value(v),
		    json_true());
	arr = xcalloc(json_array_size(ids) + 1, sizeof *arr);
	json_array_foreach(ids, i, v) {
		const char *cid = json_string_value(v);
		char *answer, *fmt;

		if (json_object_get(seen, cid) != NULL ||
		    json_object_get(forgotten, cid) != NULL)
			continue;
		json_object_set_new(seen, cid, json_true());
		p = plan_snaprec(snap, "collaborator", cid);
		if (p == NULL || !json_is_true(json_object_get(p, "consent")))
			continue;
		arr[n] = json_object();
		json_object_set_new(arr[n], "id", json_string(cid));
		json_object_set(arr[n], "name", json_object_get(p, "name"));
		fmt = xstrdup(*show_str(p, "format") ? show_str(p, "format") :
		    "standard");
		json_object_set_new(arr[n], "format", json_string(fmt));
		free(fmt);
		json_object_set_new(arr[n], "access_needs", show_needs(p,
		    venue ? json_object_get(venue, "access") : NULL,
		    json_object_get(m, "access"), &worst));
		json_object_set_new(arr[n], "worst", json_integer(worst));
		/* Needs an email alone does not meet (SPEC section 2). */
		json_object_set_new(arr[n], "communication", json_is_array(
		    json_object_get(p, "communication")) ? json_deep_copy(
		    json_object_get(p, "communication")) : json_array());
		answer = show_answer(c, cf, show_str(m, "id"), cid, snap);
		json_object_set_new(arr[n], "answer", answer ?
		    json_string(answer) : json_null());
		free(answer);
		n++;
	}
	qsort(arr, n, sizeof *arr, show_by_worst);
	out = json_array();
	for (j = 0; j < n; j++)
		json_array_append_new(out, arr[j]);
	free(arr);
	json_decref(ids);
	json_decref(seen);
	json_decref(forgotten);
	return out;
}

/* `show meeting`: fetch what the planner would read for it (its groups,
 * invitees and venue, and who is forgotten) into snap, and judge who is
 * invited. */
static json_t *
show_meeting_invited(redisContext *c, const struct config *cf, json_t *r,
    json_t *snap)
{
	struct record_opts ro = { cf->timezone, 0 };
	struct record	 rec;
	struct err	 e;
	json_t		*nd;

	if (record_check(r, &ro, &rec, &e) == 0) {
		cli_snapshot(c, cf, &rec, snap, NULL, 0);
		record_clear(&rec);
	}
	nd = json_object();
	plan_need_set(snap, nd, STORE_FORGOTTEN, NULL);
	if (json_object_size(nd)) {
		json_t *a = json_pack("[s]", "forgotten");

		if (store_fetch_sync(c, cf->prefix, a, snap, NULL, 0,
		    &e) == -1)
			cli_redis_failed(&e);
		json_decref(a);
	}
	json_decref(nd);
	return show_invited(c, cf, r, snap);
}

/* `show meeting` as text: who is invited, each with their needs. */
static void
show_print_invited(json_t *invited)
{
	json_t	*p, *nd;
	size_t	 i, j;

	printf("\ninvited: %zu (consenting; unmet access needs "
	    "first)\n", json_array_size(invited));
	json_array_foreach(invited, i, p) {
		json_t *a = json_object_get(p, "access_needs");
		const char *ans = show_str(p, "answer");

		printf("  %s  %s  %s%s%s\n", show_str(p, "id"),
		    show_str(p, "name"), show_str(p, "format"),
		    *ans ? "  answer: " : "", ans);
		json_array_foreach(a, j, nd)
			printf("      %s: %s%s%s%s\n",
			    show_str(nd, "need"),
			    show_str(nd, "status"),
			    json_object_get(nd,
			    "for_this_meeting") ?
			    " (for this meeting)" : "",
			    *show_str(nd, "details") ? ": " :
			    "", show_str(nd, "details"));
		json_array_foreach(json_object_get(p,
		    "communication"), j, nd) {
			char *d = access_comm_describe(
			    json_string_value(nd));

			printf("      besides email: %s\n", d);
			free(d);
		}
	}
}

int
cli_show(const struct config *cf, int argc, char **argv)
{
	redisContext	*c;
	json_t		*snap, *r, *invited = NULL, *p, *nd;
	enum record_type t;
	struct err	 e;
	char		 key[STORE_KEY_MAX];
	size_t		 i;
	int		 json;

	json = show_json_flag(&argc, argv);
	if (argc != 2)
		show_usage();
	if (record_type_from_name(argv[0], &t) == -1 || t == REC_FORGET) {
		fprintf(stderr, "hearback: show: \"%s\" is not a record type "
		    "(collaborator, venue, meeting, announcement, said, "
		    "outcome)\n", argv[0]);
		show_usage();
	}
	c = cli_connect(cf);
	snap = json_object();
	nd = json_pack("[s]", store_reckey(argv[0], argv[1], key,
	    sizeof key));
	if (store_fetch_sync(c, cf->prefix, nd, snap, NULL, 0, &e) == -1)
		cli_redis_failed(&e);
	json_decref(nd);
	if ((r = plan_snaprec(snap, argv[0], argv[1])) == NULL) {
		fprintf(stderr, "hearback: no %s \"%s\" is stored (hearback "
		    "list %ss shows them)\n", argv[0], argv[1], argv[0]);
		json_decref(snap);
		redisFree(c);
		return EX_INVALID;
	}
	json_incref(r);
	if (t == REC_MEETING)
		invited = show_meeting_invited(c, cf, r, snap);
	redisFree(c);
	if (json) {
		json_t *o = json_pack("{s:O}", "record", r);

		if (invited != NULL) {
			json_array_foreach(invited, i, p)
				json_object_del(p, "worst");
			json_object_set(o, "invited", invited);
		}
		show_dump(o);
		json_decref(o);
	} else {
		show_dump(r);
		if (invited != NULL)
			show_print_invited(invited);
	}
	json_decref(invited);
	json_decref(r);
	json_decref(snap);
	return EX_DONE;
}

int
cli_scheduled(const struct config *cf, int argc, char **argv)
{
	redisContext		*c;
	json_t			*out, *d, *snap, *nd;
	struct show_table	 t = { json_array() };
	struct err		 e;
	const char		*mid = NULL;
	char			 when[128], key[STORE_KEY_MAX];
	size_t			 i;
	int			 json;

	json = show_json_flag(&argc, argv);
	if (argc == 2 && strcmp(argv[0], "--meeting") == 0)
		mid = argv[1];
	else if (argc != 0)
		show_usage();
	c = cli_connect(cf);
	if (mid != NULL) {
		snap = json_object();
		nd = json_pack("[s]", store_reckey("meeting", mid, key,
		    sizeof key));
		if (store_fetch_sync(c, cf->prefix, nd, snap, NULL, 0, &e) ==
		    -1)
			cli_redis_failed(&e);
		json_decref(nd);
		if (plan_snaprec(snap, "meeting", mid) == NULL) {
			fprintf(stderr, "hearback: no meeting \"%s\" is stored "
			    "(hearback list meetings shows them)\n", mid);
			json_decref(snap);
			json_decref(t.rows);
			redisFree(c);
			return EX_INVALID;
		}
		json_decref(snap);
	}
	if (store_schedule_sync(c, cf->prefix, mid, &out, &e) == -1)
		cli_redis_failed(&e);
	redisFree(c);
	if (json) {
		json_array_foreach(out, i, d) {
			char iso[64];

			clock_format_iso_utc(json_integer_value(json_object_get(
			    d, "at_ms")) / 1000, iso, sizeof iso);
			json_object_set_new(d, "due", json_string(iso));
			json_object_del(d, "at_ms");
			json_object_del(d, "to");
		}
		show_dump(out);
	} else if (json_array_size(out) == 0) {
		printf("nothing scheduled%s%s\n", mid ? " for " : "",
		    mid ? mid : "");
	} else {
		show_row(&t, "DELIVERY", "KIND", "TO", "DUE", NULL);
		json_array_foreach(out, i, d) {
			const char *cid = show_str(d, "cid");

			clock_format_human(json_integer_value(json_object_get(
			    d, "at_ms")) / 1000, cf->timezone, when,
			    sizeof when);
			show_row(&t, show_str(d, "did"), show_str(d, "kind"),
			    *cid ? cid : "(coordinator)", when, NULL);
		}
		show_print(&t);
		printf("-- %zu email%s scheduled\n", json_array_size(out),
		    json_array_size(out) == 1 ? "" : "s");
	}
	json_decref(t.rows);
	json_decref(out);
	return EX_DONE;
}

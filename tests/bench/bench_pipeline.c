/*
 * bench_pipeline.c: how fast the pure stages of the pipeline run on this
 * machine, with no Redis and no SMTP: record_parse of each record type,
 * plan_apply of an announcement to 1000 people (snapshot built in memory)
 * and its cost per 1,000 people at 1,000, 5,000 and 20,000; the daemon's
 * paged fan-out of the same (fanout.c); and deliver_build (view,
 * templates, MIME, calendar) of an announcement and of an invitation for
 * one person.
 *
 * One thread. Each stage runs for about BENCH_SECONDS and prints one line.
 * The outputs are checked once before timing; the program exits 1 if any
 * stage is broken (an error, or an email without a Subject), never because
 * it is slow. Figures vary with the machine and its load.
 *
 * Run from the repository root (templates are read from config/templates,
 * or from $HB_TEMPLATES).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "clock.h"
#include "compose.h"
#include "config.h"
#include "deliver.h"
#include "fanout.h"
#include "plan.h"
#include "record.h"
#include "store.h"
#include "tmpl.h"
#include "util.h"

#define BENCH_SECONDS	1.0
#define BENCH_PEOPLE	1000

static const char bench_collaborator[] =
    "{\"type\": \"collaborator\", \"id\": \"c-amara\", "
    "\"name\": \"Amara Okafor\", \"email\": \"amara@example.org\", "
    "\"consent\": true, \"format\": \"easy-read\", "
    "\"access_needs\": [\"step-free\", \"quiet-room\"], "
    "\"reminders\": [\"7d\", \"1d\", \"2h\"], "
    "\"groups\": [\"carers-forum\"]}";

static const char bench_venue[] =
    "{\"type\": \"venue\", \"id\": \"v-lyric\", "
    "\"name\": \"Lyric Hammersmith, Studio 2\", "
    "\"address\": \"Lyric Square, King Street, London W6 0QL\", "
    "\"getting_there\": \"Hammersmith station (step-free, 3 min walk). "
    "Buses 27, 190.\", "
    "\"arrival\": \"Use the main glass doors. Sam from the forum meets you "
    "in the foyer.\", "
    "\"access\": {\"step-free\": \"Level entrance and lift to Studio 2.\", "
    "\"lift\": \"Lift from the foyer to every floor.\", "
    "\"hearing-loop\": true, \"changing-places\": false, "
    "\"quiet-room\": \"Green room on floor 1, ask at the front desk.\", "
    "\"non-clinical\": true}, "
    "\"on_the_day_contact\": \"Forum phone 020 7946 0000\", "
    "\"access_guide_url\": \"https://access.example.org/venues/lyric\", "
    "\"last_verified\": \"2026-10-01\"}";

static const char bench_meeting[] =
    "{\"type\": \"meeting\", \"id\": \"m-forum-2026-12\", "
    "\"title\": \"Community forum: leaving hospital\", "
    "\"start\": \"2026-12-10T17:30\", \"end\": \"2026-12-10T19:30\", "
    "\"timezone\": \"Europe/London\", \"venue\": \"v-lyric\", "
    "\"online\": {\"url\": \"https://meet.example.org/forum\", "
    "\"captions\": true, \"dial_in\": \"020 7946 0001\"}, "
    "\"agenda\": \"1. Welcome and introductions\\n2. What happens on the "
    "day you leave hospital\\n3. Your ideas for the new discharge "
    "letter\\n4. What happens next\", "
    "\"organiser\": {\"name\": \"Jo Patel\", \"email\": \"jo@example.org\", "
    "\"phone\": \"020 7946 0002\"}, "
    "\"invitees\": [\"c-amara\", \"c-ben\"], \"groups\": [\"carers-forum\"], "
    "\"payment\": {\"travel\": \"We pay travel, including a companion. "
    "Bring tickets or receipts.\", "
    "\"fee\": \"\xc2\xa3" "20 for your time, paid on the day.\", "
    "\"benefits\": \"If a payment could affect your benefits, talk to Jo "
    "first.\"}, "
    "\"refreshments\": \"Hot meal at 17:00. Vegetarian and halal options.\", "
    "\"adjustments_by\": \"2026-12-01\", \"reminders\": [\"7d\", \"1d\"], "
    "\"status\": \"scheduled\"}";

static const char bench_announcement[] =
    "{\"type\": \"announcement\", \"id\": \"a-2026-11-survey\", "
    "\"subject\": \"Help us rewrite the discharge letter\", "
    "\"body\": \"The hospital is rewriting the letter people get when they "
    "leave a ward, and they want carers to shape it.\\n\\nThere is a short "
    "survey, and a workshop in December for anyone who would like to come."
    "\\n\\nWe pay for your time and travel.\", "
    "\"to\": {\"groups\": [\"bench\"]}}";

static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
bench_fail(const char *stage, const char *msg)
{
	fprintf(stderr, "bench_pipeline: %s: BROKEN: %s\n", stage, msg);
	exit(1);
}

/* Parse a record; the program stops if it does not parse. */
static void
bench_parse_one(const char *stage, const char *text, struct record *r)
{
	struct err	e;

	if (record_parse(text, strlen(text), NULL, r, &e) == -1)
		bench_fail(stage, e.msg);
}

static void
bench_record_parse(const char *label, const char *text,
    enum record_type want)
{
	struct record	 r;
	struct err	 e;
	double		 t0, t;
	long		 n = 0;
	size_t		 len = strlen(text);

	bench_parse_one(label, text, &r);
	if (r.type != want)
		bench_fail(label, "parsed as the wrong record type");
	record_clear(&r);
	t0 = bench_now();
	do {
		if (record_parse(text, len, NULL, &r, &e) == -1)
			bench_fail(label, e.msg);
		record_clear(&r);
		n++;
	} while ((t = bench_now() - t0) < BENCH_SECONDS);
	printf("record_parse   %-13s %9.0f records/s  (%.1f us each, "
	    "%zu bytes, n=%ld)\n", label, n / t, t / n * 1e6, len, n);
}

/* A snapshot holding n consenting members of group "bench" (with
 * records 0: only the group's members, as after the first fetch round). */
static json_t *
bench_snapshot_n(int n, int records)
{
	json_t	*snap = json_object(), *members = json_array(), *w;
	char	 id[32], key[64];
	int	 i;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof id, "c-%05d", i);
		snprintf(key, sizeof key, "rec:collaborator:%s", id);
		w = json_pack("{s:{s:s, s:s, s:s, s:s, s:b, s:[s]}, s:{s:s, s:i}}",
		    "record", "type", "collaborator", "id", id, "name",
		    "Bench Person", "email", "person@example.org", "consent", 1,
		    "groups", "bench", "meta", "src", "", "at", 0);
		if (records)
			json_object_set_new(snap, key, w);
		else
			json_decref(w);
		json_array_append_new(members, json_string(id));
	}
	store_snap_put_set(snap, "group:bench", members);
	store_snap_put_set(snap, "collaborators", members);
	json_decref(members);
	members = json_pack("[s]", "bench");	/* the group names known */
	store_snap_put_set(snap, "groups", members);
	json_decref(members);
	members = json_array();
	store_snap_put_set(snap, "forgotten", members);
	json_decref(members);
	store_snap_put_null(snap, "rec:announcement:a-2026-11-survey");
	return snap;
}

static json_t *
bench_snapshot(void)
{
	return bench_snapshot_n(BENCH_PEOPLE, 1);
}

/* Number of ops named name in an op list. */
static int
bench_count_op(json_t *ops, const char *name)
{
	json_t	*op;
	size_t	 i;
	int	 n = 0;

	json_array_foreach(ops, i, op)
		if (strcmp(json_string_value(json_array_get(op, 0)),
		    name) == 0)
			n++;
	return n;
}

static int
bench_count_dnew(json_t *ops)
{
	return bench_count_op(ops, "DNEW");
}

static void
bench_plan(const struct config *cf)
{
	struct record	 r;
	struct plan_ctx	 pc;
	struct err	 e;
	json_t		*snap, *need, *ops;
	double		 t0, t;
	long		 n = 0;
	size_t		 nops;
	char		 msg[128];

	bench_parse_one("plan_apply", bench_announcement, &r);
	snap = bench_snapshot();
	need = json_array();
	if (plan_needs(&r, snap, need) != 0) {
		snprintf(msg, sizeof msg, "the snapshot lacks %s (and %zu more "
		    "keys)", json_string_value(json_array_get(need, 0)),
		    json_array_size(need) - 1);
		bench_fail("plan_apply", msg);
	}
	json_decref(need);
	memset(&pc, 0, sizeof pc);
	pc.cf = cf;
	pc.now_ms = util_now_ms();
	pc.entry_id = "";

	ops = json_array();
	if (plan_apply(&r, snap, &pc, ops, &e) == -1)
		bench_fail("plan_apply", e.msg);
	if (bench_count_dnew(ops) != BENCH_PEOPLE) {
		snprintf(msg, sizeof msg, "%d deliveries planned, want %d",
		    bench_count_dnew(ops), BENCH_PEOPLE);
		bench_fail("plan_apply", msg);
	}
	nops = json_array_size(ops);
	json_decref(ops);

	t0 = bench_now();
	do {
		ops = json_array();
		if (plan_apply(&r, snap, &pc, ops, &e) == -1)
			bench_fail("plan_apply", e.msg);
		json_decref(ops);
		n++;
	} while ((t = bench_now() - t0) < BENCH_SECONDS);
	printf("plan_apply     announcement  %9.0f ops/s      (%.2f ms per "
	    "record to %d people, %zu ops, n=%ld)\n", n * nops / t,
	    t / n * 1e3, BENCH_PEOPLE, nops, n);
	json_decref(snap);
	record_clear(&r);
}

/*
 * Planning cost by group size, the way intake plans a record that holds the
 * whole group: plan_needs on the snapshot after the first round (the
 * group's members, not their records), then plan_apply on the full one.
 * Linear planning costs the same per 1,000 people at every size.
 */
static void
bench_plan_scale(const struct config *cf, int n)
{
	struct record	 r;
	struct plan_ctx	 pc;
	struct err	 e;
	json_t		*part, *full, *need, *ops;
	double		 t0, t, tn = 0, ta = 0;
	long		 k = 0;
	char		 msg[128];

	bench_parse_one("plan_scale", bench_announcement, &r);
	part = bench_snapshot_n(n, 0);
	full = bench_snapshot_n(n, 1);
	memset(&pc, 0, sizeof pc);
	pc.cf = cf;
	pc.now_ms = util_now_ms();
	pc.entry_id = "";
	t0 = bench_now();
	do {
		double	a = bench_now();

		need = json_array();
		if (plan_needs(&r, part, need) != n) {
			snprintf(msg, sizeof msg, "%d people: plan_needs asked "
			    "for %zu keys, want %d", n, json_array_size(need), n);
			bench_fail("plan_scale", msg);
		}
		json_decref(need);
		tn += bench_now() - a;
		a = bench_now();
		ops = json_array();
		if (plan_apply(&r, full, &pc, ops, &e) == -1)
			bench_fail("plan_scale", e.msg);
		if (bench_count_dnew(ops) != n)
			bench_fail("plan_scale", "wrong number of deliveries");
		json_decref(ops);
		ta += bench_now() - a;
		k++;
	} while ((t = bench_now() - t0) < BENCH_SECONDS);
	printf("plan_scale     %6d people  %7.2f ms per 1,000 people "
	    "(plan_needs %.2f, plan_apply %.2f; n=%ld)\n", n,
	    (tn + ta) / k * 1e3 / (n / 1000.0), tn / k * 1e3 / (n / 1000.0),
	    ta / k * 1e3 / (n / 1000.0), k);
	json_decref(part);
	json_decref(full);
	record_clear(&r);
}

/*
 * The daemon's way (fanout.c): the same audience a page at a time, each
 * page's records parsed from the text Redis returns, as intake does. The
 * cost per 1,000 people, and the most one page holds in memory.
 */
static void
bench_fanout(const struct config *cf, int n)
{
	struct record		 r;
	struct plan_ctx		 pc;
	struct fanout		*fo;
	struct fanout_read	 rd;
	struct err		 e;
	json_t			*head, *full, *members, *ops, *page, *snap;
	double			 t0, t, tp = 0;
	long			 k = 0, dfan = 0;
	char			 key[64], **texts;
	size_t			 i, at;
	int			 j;

	bench_parse_one("fanout_page", bench_announcement, &r);
	full = bench_snapshot_n(n, 1);
	members = json_object_get(full, "group:bench");
	/* The records as stored: JSON texts. */
	texts = xcalloc(n, sizeof *texts);
	for (j = 0; j < n; j++) {
		snprintf(key, sizeof key, "rec:collaborator:%s",
		    json_string_value(json_array_get(members, j)));
		texts[j] = store_dump(json_object_get(full, key));
	}
	memset(&pc, 0, sizeof pc);
	pc.cf = cf;
	pc.now_ms = util_now_ms();
	pc.entry_id = "1-0";
	head = json_object();
	store_snap_put_null(head, "rec:announcement:a-2026-11-survey");
	t0 = bench_now();
	do {
		double a = bench_now();

		fo = fanout_new(&r, "1-0");
		ops = json_array();
		if (fanout_check_ids(fo) != NULL || fanout_head(fo, head, &pc,
		    ops, &e) != FANOUT_START)
			bench_fail("fanout_page", "no start");
		json_decref(ops);
		at = 0;
		while (fanout_next(fo, &rd)) {
			char next[32];

			page = json_array();
			snap = json_object();
			for (i = at; i < (size_t)n && i < at + FANOUT_PAGE;
			    i++) {
				json_t *v = json_array_get(members, i);

				json_array_append(page, v);
				snprintf(key, sizeof key, "rec:collaborator:%s",
				    json_string_value(v));
				store_snap_put_string(snap, key, texts[i],
				    strlen(texts[i]), NULL);
			}
			at = i;
			snprintf(next, sizeof next, "%s", at < (size_t)n ?
			    "7" : "0");
			ops = json_array();
			fanout_page(fo, next, page, snap, &pc, ops);
			if (k == 0)
				dfan += bench_count_op(ops, "DFAN");
			json_decref(ops);
			json_decref(page);
			json_decref(snap);
		}
		fanout_free(fo);
		tp += bench_now() - a;
		k++;
	} while ((t = bench_now() - t0) < BENCH_SECONDS);
	if (dfan != n)
		bench_fail("fanout_page", "wrong number of deliveries");
	printf("fanout_page    %6d people  %7.2f ms per 1,000 people (pages "
	    "of %d, records parsed from text; n=%ld)\n", n, tp / k * 1e3 /
	    (n / 1000.0), FANOUT_PAGE, k);
	for (j = 0; j < n; j++)
		free(texts[j]);
	free(texts);
	json_decref(head);
	json_decref(full);
	record_clear(&r);
}

/* rec:<type>:<id> -> {"record": ..., "meta": meta} in records. */
static void
bench_put(json_t *records, const char *text, json_t *meta)
{
	struct record	r;
	char		key[300];

	bench_parse_one("deliver_build", text, &r);
	json_object_set_new(records, store_reckey(record_type_name(r.type),
	    r.id, key, sizeof key), json_pack("{s:O, s:o}", "record", r.json,
	    "meta", meta));
	record_clear(&r);
}

/* Job data as sched.c builds it: the delivery hash and its records. */
static json_t *
bench_job(const char *kind, const char *src, const char *mid,
    const char *refs)
{
	json_t	*d, *recs, *data;

	d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "state", "scheduled", "cid", "c-amara", "mid", mid, "due", "0",
	    "kind", kind, "refs", refs, "to", "", "data", "{}", "src", src,
	    "attempts", "0");
	recs = json_object();
	bench_put(recs, bench_collaborator, json_pack("{s:s, s:i}", "src", "",
	    "at", 0));
	data = json_pack("{s:o, s:o}", "delivery", d, "records", recs);
	return data;
}

static void
bench_deliver(const char *label, const char *did, const char *kind,
    json_t *data, const struct config *cf, const struct tmplset *ts,
    const char *must)
{
	struct err	 e;
	char		*msg, *rcpt, what[300];
	size_t		 len, bytes = 0;
	double		 t0, t;
	long		 n = 0;

	if (deliver_build(did, kind, "c-amara", data, cf, ts, &msg, &len,
	    &rcpt, &e) == -1)
		bench_fail(label, e.msg);
	if (len == 0 || strlen(msg) != len)
		bench_fail(label, "empty message or length mismatch");
	if (strncmp(msg, "Subject:", 8) != 0 && strstr(msg, "\r\nSubject:") ==
	    NULL)
		bench_fail(label, "no Subject: header");
	if (strcmp(rcpt, "amara@example.org") != 0)
		bench_fail(label, "wrong envelope recipient");
	if (must != NULL && strstr(msg, must) == NULL) {
		snprintf(what, sizeof what, "no \"%s\" in the message", must);
		bench_fail(label, what);
	}
	if (compose_check(msg, len, &e) == -1)
		bench_fail(label, e.msg);
	free(msg);
	free(rcpt);

	t0 = bench_now();
	do {
		if (deliver_build(did, kind, "c-amara", data, cf, ts, &msg,
		    &len, &rcpt, &e) == -1)
			bench_fail(label, e.msg);
		bytes += len;
		free(msg);
		free(rcpt);
		n++;
	} while ((t = bench_now() - t0) < BENCH_SECONDS);
	printf("deliver_build  %-13s %9.0f emails/s   (%.1f us each, %zu "
	    "bytes per email, n=%ld)\n", label, n / t, t / n * 1e6, bytes / n,
	    n);
}

int
main(void)
{
	struct config	*cf;
	struct tmplset	*ts;
	struct err	 e;
	json_t		*ann, *inv, *recs;
	const char	*dir = getenv("HB_TEMPLATES");

	g_mime_init();
	clock_init();
	json_object_seed(0);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (dir == NULL || *dir == '\0')
		dir = "config/templates";
	if ((ts = tmplset_load(dir, &e)) == NULL)
		bench_fail("tmplset_load", e.msg);
	cf = config_default();

	printf("bench_pipeline: one thread, about %.0f s per stage; figures "
	    "vary with the machine and its load\n", BENCH_SECONDS);
	bench_record_parse("collaborator", bench_collaborator,
	    REC_COLLABORATOR);
	bench_record_parse("meeting", bench_meeting, REC_MEETING);
	bench_record_parse("announcement", bench_announcement,
	    REC_ANNOUNCEMENT);

	bench_plan(cf);
	bench_plan_scale(cf, 1000);
	bench_plan_scale(cf, 5000);
	bench_plan_scale(cf, 20000);
	bench_fanout(cf, 1000);
	bench_fanout(cf, 20000);

	ann = bench_job("announcement", "a-2026-11-survey", "",
	    "rec:announcement:a-2026-11-survey rec:collaborator:c-amara");
	recs = json_object_get(ann, "records");
	bench_put(recs, bench_announcement, json_pack("{s:s, s:i}", "src", "",
	    "at", 0));
	bench_deliver("announcement", "ann:a-2026-11-survey:c-amara",
	    "announcement", ann, cf, ts, "discharge letter");

	inv = bench_job("invitation", "m-forum-2026-12", "m-forum-2026-12",
	    "rec:meeting:m-forum-2026-12 rec:venue:v-lyric "
	    "rec:collaborator:c-amara");
	recs = json_object_get(inv, "records");
	bench_put(recs, bench_meeting, json_pack("{s:s, s:i, s:i}", "src", "",
	    "at", 0, "seq", 1));
	bench_put(recs, bench_venue, json_pack("{s:s, s:i}", "src", "", "at",
	    0));
	bench_deliver("invitation", "inv:m-forum-2026-12:c-amara:1",
	    "invitation", inv, cf, ts, "BEGIN:VCALENDAR");

	json_decref(ann);
	json_decref(inv);
	config_unref(cf);
	tmplset_unref(ts);
	return 0;
}

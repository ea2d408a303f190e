/*
 * meeting_notice.c: what a meeting version tells its coordinator
 * (meeting_impl.h): short notice, the people whose access needs the venue
 * does not meet (or has not confirmed), and the call list of the people
 * with no email address. Pure, any thread.
 *
 * The last two are gathered over everyone the version concerns: each
 * person planned adds their part to p->part ("a:<cid>": their lines;
 * "c:0:<cid>", "c:1:<cid>": their call list entry, meeting_email.c), and
 * meeting_gathered() makes one notice of each from all of it, in the order
 * of the keys: people sorted by id, those taken off first on a call list.
 * Each notice's id holds a hash of what it says, so the same notice made
 * again (a version planned twice, a paged meeting resumed) is sent once,
 * and a notice that says something new is a new one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "clock.h"
#include "duration.h"
#include "meeting_impl.h"
#include "plan.h"
#include "store.h"

/* FNV-1a of a JSON value's stable text: short ids for content. */
void
meeting_hash(json_t *v, char *buf, size_t len)
{
	char		*s = store_dump(v);
	unsigned long long h = 1469598103934665603ULL;
	const unsigned char *c;

	for (c = (const unsigned char *)s; *c; c++) {
		h ^= *c;
		h *= 1099511628211ULL;
	}
	free(s);
	snprintf(buf, len, "%012llx", h & 0xffffffffffffULL);
}

static const char *
meeting_coordinator(struct meeting_plan *p)
{
	const char	*coord = meeting_str(p->r->json, "coordinator");

	return coord != NULL ? coord : p->pc->cf->coordinator;
}

static const char *
meeting_organiser(struct meeting_plan *p)
{
	return meeting_str(json_object_get(p->r->json, "organiser"), "email");
}

void
meeting_short_notice(struct meeting_plan *p)
{
	const struct config	*cf = p->pc->cf;
	json_t			*lines;
	char			 h[32], when[128], d[32], *did, *line;

	if ((p->start * 1000 - p->pc->now_ms) >= cf->min_notice * 1000)
		return;
	duration_words(cf->min_notice, d, sizeof d);
	clock_format_human(p->start, p->r->tz, when, sizeof when);
	lines = json_array();
	line = xasprintf("Meeting %s (\"%s\") starts %s: less than the "
	    "%s notice people need to arrange travel, support and "
	    "adjustments.", p->mid, meeting_str(p->r->json, "title"), when, d);
	json_array_append_new(lines, json_string(line));
	free(line);
	json_array_append_new(lines, json_string("Invitations have "
	    "gone out. Please check with each person that they can "
	    "still come, and whether they need anything arranged."));
	snprintf(h, sizeof h, "%lld", p->start);
	did = store_did("notice", "short", p->mid, h, NULL);
	plan_notice_also(p->ops, p->pc, did, meeting_coordinator(p),
	    meeting_organiser(p), "Short notice for a meeting", lines, p->mid);
	free(did);
	json_decref(lines);
}

/* The meeting's own arrangements over the venue's, as they stand on the
 * version's day; NULL without a venue (or one not stored). */
static json_t *
meeting_access_now(struct meeting_plan *p)
{
	json_t	*venue, *m;

	if (p->access != NULL)
		return json_is_null(p->access) ? NULL : p->access;
	if (p->vid == NULL ||
	    (venue = plan_snaprec(p->snap, "venue", p->vid)) == NULL) {
		p->access = json_null();
		return NULL;
	}
	m = access_merged(json_object_get(venue, "access"),
	    json_object_get(p->r->json, "access"));
	p->access = access_settled(m, p->mv->today);
	json_decref(m);
	return p->access;
}

void
meeting_access_lines(struct meeting_plan *p, const char *cid)
{
	json_t			*access = meeting_access_now(p), *c, *lines, *n;
	enum access_status	 st;
	const char		*w;
	char			*who, *line, *key;
	size_t			 j;

	if (access == NULL)
		return;
	c = plan_snaprec(p->snap, "collaborator", cid);
	lines = json_array();
	json_array_foreach(json_object_get(c, "access_needs"), j, n) {
		w = json_string_value(n);
		if ((st = access_status(access, w, NULL)) == ACCESS_YES)
			continue;
		who = plan_person_words(c, cid);
		line = xasprintf("%s needs %s (%s): the venue %s %s.", who,
		    access_label(w), w, p->vid, st == ACCESS_NO ?
		    "says it is not available" : "has not confirmed it");
		json_array_append_new(lines, json_string(line));
		free(line);
		free(who);
	}
	if (json_array_size(lines) == 0) {
		json_decref(lines);
		return;
	}
	key = xasprintf("a:%s", cid);
	json_object_set_new(p->part, key, lines);
	free(key);
}

static int
meeting_cmpkey(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The values of p->part under keys starting with prefix, in key order. */
static json_t *
meeting_part(struct meeting_plan *p, const char *prefix)
{
	const char	**keys, *k;
	json_t		 *v, *out = json_array();
	size_t		  n = 0, i;

	keys = xcalloc(json_object_size(p->part) + 1, sizeof *keys);
	json_object_foreach(p->part, k, v)
		if (strncmp(k, prefix, strlen(prefix)) == 0)
			keys[n++] = k;
	qsort(keys, n, sizeof *keys, meeting_cmpkey);
	for (i = 0; i < n; i++)
		json_array_append(out, json_object_get(p->part, keys[i]));
	free(keys);
	return out;
}

static void
meeting_access_notice(struct meeting_plan *p)
{
	json_t	*each = meeting_part(p, "a:"), *lines = json_array(), *v;
	char	 h[32], *did, *title;
	size_t	 i;

	json_array_foreach(each, i, v)
		json_array_extend(lines, v);
	json_decref(each);
	if (json_array_size(lines) > 0) {
		json_array_append_new(lines, json_string("Please arrange it, "
		    "or talk with them about what would work, and update the "
		    "venue record when it is confirmed."));
		meeting_hash(lines, h, sizeof h);
		did = store_did("notice", "access", p->mid, h, NULL);
		title = xasprintf("Access needs not met for meeting %s",
		    p->mid);
		plan_notice_also(p->ops, p->pc, did, meeting_coordinator(p),
		    meeting_organiser(p), title, lines, p->mid);
		free(title);
		free(did);
	}
	json_decref(lines);
}

/*
 * The call list of this change: one email to the coordinator naming
 * everyone with no email address it concerns (their records are read when
 * it is sent, so it holds ids only).
 */
static void
meeting_calllist(struct meeting_plan *p)
{
	json_t		*calls = meeting_part(p, "c:"), *v, *data, *seen;
	char		 seq[16], h[32], key[STORE_KEY_MAX], *did;
	const char	*cid;
	struct buf	 refs;
	size_t		 i;

	if (json_array_size(calls) == 0) {
		json_decref(calls);
		return;
	}
	buf_init(&refs);
	plan_ref(&refs, "meeting", p->mid);
	if (p->vid != NULL)
		plan_ref(&refs, "venue", p->vid);
	/* Each person once; a set, not a search of refs: a call list may
	 * name thousands. */
	seen = json_object();
	json_array_foreach(calls, i, v) {
		cid = meeting_str(v, "cid");
		if (cid == NULL || json_object_get(seen, cid) != NULL)
			continue;
		json_object_set_new(seen, cid, json_true());
		buf_printf(&refs, " %s", store_reckey("collaborator", cid, key,
		    sizeof key));
	}
	json_decref(seen);
	snprintf(seq, sizeof seq, "%d", p->seq);
	data = json_pack("{s:o}", "calls", calls);
	meeting_hash(data, h, sizeof h);
	did = store_did("call", p->mid, seq, h, NULL);
	plan_delivery(p->ops, p->pc, did, "calllist", "", p->mid,
	    p->pc->now_ms, meeting_deadline(p), refs.s, meeting_coordinator(p),
	    data, p->mid);
	free(did);
	json_decref(data);
	buf_free(&refs);
}

void
meeting_gathered(struct meeting_plan *p)
{
	meeting_access_notice(p);
	meeting_calllist(p);
}

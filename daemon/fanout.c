/*
 * fanout.c: an announcement planned page by page (fanout.h). Pure: no I/O,
 * any thread; intake_fanout.c reads and commits what this decides. A
 * meeting is paged too, by meeting_page.c: its state rides here
 * (fanout_meeting), so that intake.c holds one fan-out either way.
 *
 * The version fanned out is the inbox entry id that brought the record.
 * Every email a page plans is tagged with it (DFAN), so that a later
 * version can tell its own from what an earlier one left pending, and a
 * resumed fan-out recognises what it made already. The audience is read
 * where it lives: the group sets (SSCAN, a page at a time), the
 * collaborators set for "all", and the record's own list of collaborators
 * in chunks; overlaps are harmless, a person's email is made once. After
 * the audience come the audiences of earlier versions (the marker's
 * "old"): their members' pending emails that this version did not make
 * its own are withdrawn (DDELOLD), which is what a correction that takes
 * people off the list must do, and nobody who already has the email gets
 * it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout.h"
#include "meeting_page.h"
#include "plan.h"
#include "store.h"
#include "util.h"

enum fanout_step {
	FANOUT_STEP_CHECK,
	FANOUT_STEP_HEAD,
	FANOUT_STEP_ADD,
	FANOUT_STEP_DROP,
	FANOUT_STEP_TAIL
};

struct fanout {
	const struct record	*r;
	char			*entry;
	char			*ver;		/* NULL until fanout_head */
	enum fanout_step	 step;
	json_t			*checks;	/* [{"ids": [], "at": []}] */
	size_t			 nchecked;
	json_t			*add;		/* [{"set": k} | {"ids": []}] */
	json_t			*drop;
	size_t			 at;		/* in add or drop */
	char			 cursor[64];	/* in the set at `at` */
	long long		 due_ms;
	long long		 deadline_ms;
	int			 pages;
	long long		 planned;
	struct mpage		*mp;		/* a meeting's */
};

int
fanout_wants(const struct record *r)
{
	return r->type == REC_ANNOUNCEMENT || mpage_wants(r);
}

struct mpage *
fanout_meeting(struct fanout *fo)
{
	return fo->mp;
}

/* The record's own list of collaborators, in chunks of a page. */
static json_t *
fanout_chunks(json_t *list, int with_at)
{
	json_t	*out = json_array(), *cur = NULL, *at = NULL, *v;
	size_t	 i;

	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			continue;
		if (cur == NULL || json_array_size(cur) >= FANOUT_PAGE) {
			cur = json_array();
			at = json_array();
			if (with_at)
				json_array_append_new(out, json_pack(
				    "{s:o, s:o}", "ids", cur, "at", at));
			else {
				json_array_append_new(out, json_pack("{s:o}",
				    "ids", cur));
				json_decref(at);
			}
		}
		json_array_append(cur, v);
		if (with_at)
			json_array_append_new(at, json_integer(i));
	}
	return out;
}

struct fanout *
fanout_new(const struct record *r, const char *entry)
{
	struct fanout	*fo = xcalloc(1, sizeof *fo);

	fo->r = r;
	fo->entry = xstrdup(entry);
	fo->step = FANOUT_STEP_CHECK;
	fo->checks = fanout_chunks(json_object_get(json_object_get(r->json,
	    "to"), "collaborators"), 1);
	fo->add = json_array();
	fo->drop = json_array();
	snprintf(fo->cursor, sizeof fo->cursor, "0");
	if (mpage_wants(r))
		fo->mp = mpage_new(r, entry);
	return fo;
}

void
fanout_free(struct fanout *fo)
{
	if (fo == NULL)
		return;
	free(fo->entry);
	free(fo->ver);
	json_decref(fo->checks);
	json_decref(fo->add);
	json_decref(fo->drop);
	mpage_free(fo->mp);
	free(fo);
}

json_t *
fanout_check_ids(struct fanout *fo)
{
	if (fo->step != FANOUT_STEP_CHECK)
		return NULL;
	if (fo->nchecked >= json_array_size(fo->checks)) {
		fo->step = FANOUT_STEP_HEAD;
		return NULL;
	}
	return json_object_get(json_array_get(fo->checks, fo->nchecked),
	    "ids");
}

int
fanout_check(struct fanout *fo, json_t *snap, struct err *e)
{
	json_t		*c = json_array_get(fo->checks, fo->nchecked), *v;
	const char	*cid;
	size_t		 i;

	json_array_foreach(json_object_get(c, "ids"), i, v) {
		cid = json_string_value(v);
		/* snap's "forgotten": this chunk's forgotten ids only. */
		if (plan_snaprec(snap, "collaborator", cid) != NULL ||
		    util_json_has(json_object_get(snap, "forgotten"), cid))
			continue;
		err_set(e, "to.collaborators[%lld]: no collaborator \"%s\"",
		    (long long)json_integer_value(json_array_get(
		    json_object_get(c, "at"), i)), cid);
		err_set_ref(e);
		return -1;
	}
	fo->nchecked++;
	return 0;
}

json_t *
fanout_head_keys(struct fanout *fo)
{
	char	key[STORE_KEY_MAX];
	json_t	*keys = json_array();

	json_array_append_new(keys, json_string(store_reckey("announcement",
	    fo->r->id, key, sizeof key)));
	json_array_append_new(keys, json_string(store_markkey("announcement",
	    fo->r->id, key, sizeof key)));
	/* Its groups' sizes, and the names of all groups: a group nobody
	 * belongs to is refused (issue 14), without reading its members. */
	if (json_array_size(json_object_get(json_object_get(fo->r->json, "to"),
	    "groups")) > 0) {
		json_t		*v;
		size_t		 i;
		char		 card[STORE_KEY_MAX + 8];

		json_array_append_new(keys, json_string(store_setkey(
		    STORE_GROUPS, NULL, key, sizeof key)));
		json_array_foreach(json_object_get(json_object_get(fo->r->json,
		    "to"), "groups"), i, v) {
			snprintf(card, sizeof card, "#card:%s", store_setkey(
			    STORE_GROUP, json_string_value(v), key,
			    sizeof key));
			json_array_append_new(keys, json_string(card));
		}
	}
	return keys;
}

/* Where a "to" object's people are: sets to scan, lists of ids. */
static void
fanout_sources(json_t *to, json_t *out)
{
	json_t		*v, *seen, *chunks;
	size_t		 i;
	char		 key[STORE_KEY_MAX];

	if (json_is_true(json_object_get(to, "all"))) {
		/* Everyone: the groups and the list add no one. */
		json_array_append_new(out, json_pack("{s:s}", "set",
		    store_setkey(STORE_COLLABORATORS, NULL, key, sizeof key)));
		return;
	}
	seen = json_object();
	json_array_foreach(json_object_get(to, "groups"), i, v) {
		if (!json_is_string(v) || json_object_get(seen,
		    json_string_value(v)) != NULL)
			continue;
		json_object_set_new(seen, json_string_value(v), json_true());
		json_array_append_new(out, json_pack("{s:s}", "set",
		    store_setkey(STORE_GROUP, json_string_value(v), key,
		    sizeof key)));
	}
	json_decref(seen);
	chunks = fanout_chunks(json_object_get(to, "collaborators"), 0);
	json_array_extend(out, chunks);
	json_decref(chunks);
}

/* Earlier audiences worth visiting: each once, and not this version's
 * own (its people have this version's emails; anyone else in it was
 * never sent one, or lost it when consent went). */
static json_t *
fanout_old(json_t *olds, json_t *to)
{
	json_t	*out = json_array(), *o, *w;
	size_t	 i, j;
	int	 dup;

	json_array_foreach(olds, i, o) {
		if (!json_is_object(o) || json_equal(o, to))
			continue;
		dup = 0;
		json_array_foreach(out, j, w)
			if (json_equal(w, o))
				dup = 1;
		if (!dup)
			json_array_append(out, o);
	}
	return out;
}

int
fanout_head(struct fanout *fo, json_t *snap, const struct plan_ctx *pc,
    json_t *ops, struct err *e)
{
	char		 key[STORE_KEY_MAX], *text;
	json_t		*stored, *mark, *to, *olds, *old, *o;
	size_t		 i;
	int		 what;

	free(fo->ver);
	fo->ver = NULL;
	to = json_object_get(fo->r->json, "to");
	if (plan_announcement_due(fo->r, pc, &fo->due_ms, &fo->deadline_ms,
	    e) == -1)
		return -1;
	stored = plan_snaprec(snap, "announcement", fo->r->id);
	if (plan_superseded(fo->r, snap, fo->entry))
		return FANOUT_STALE;
	mark = store_mark_parse(json_object_get(snap, store_markkey(
	    "announcement", fo->r->id, key, sizeof key)));
	if (stored != NULL && json_equal(stored, fo->r->json)) {
		if (mark == NULL)
			return FANOUT_NOTHING;
		/* Stored, and its fan-out never finished: finish it, as
		 * the version that began it. */
		fo->ver = xstrdup(json_string_value(json_object_get(mark,
		    "ver")));
		old = fanout_old(json_object_get(mark, "old"), to);
		what = FANOUT_RESUME;
	} else {
		/* A new version: what earlier ones reached may have to be
		 * withdrawn, including a version whose fan-out is cut short
		 * here (its marker's old ones, and itself). */
		olds = json_array();
		if (mark != NULL)
			json_array_extend(olds, json_object_get(mark, "old"));
		if (stored != NULL && (o = json_object_get(stored, "to")) !=
		    NULL)
			json_array_append(olds, o);
		old = fanout_old(olds, to);
		json_decref(olds);
		fo->ver = xstrdup(fo->entry);
		plan_store(ops, fo->r, pc, NULL);
		text = store_dump(old);
		store_op_mark(ops, "announcement", fo->r->id, fo->ver, text);
		free(text);
		what = FANOUT_START;
	}
	json_decref(mark);
	json_array_clear(fo->add);
	json_array_clear(fo->drop);
	fanout_sources(to, fo->add);
	json_array_foreach(old, i, o)
		fanout_sources(o, fo->drop);
	json_decref(old);
	fo->step = FANOUT_STEP_ADD;
	fo->at = 0;
	snprintf(fo->cursor, sizeof fo->cursor, "0");
	return what;
}

static json_t *
fanout_list(struct fanout *fo)
{
	if (fo->step == FANOUT_STEP_ADD)
		return fo->add;
	if (fo->step == FANOUT_STEP_DROP)
		return fo->drop;
	return NULL;
}

int
fanout_next(struct fanout *fo, struct fanout_read *rd)
{
	json_t	*list, *src;

	while ((list = fanout_list(fo)) != NULL) {
		if (fo->at < json_array_size(list)) {
			src = json_array_get(list, fo->at);
			rd->set = json_string_value(json_object_get(src,
			    "set"));
			rd->ids = json_object_get(src, "ids");
			rd->cursor = fo->cursor;
			rd->records = fo->step == FANOUT_STEP_ADD;
			return 1;
		}
		fo->step = fo->step == FANOUT_STEP_ADD ? FANOUT_STEP_DROP :
		    FANOUT_STEP_TAIL;
		fo->at = 0;
		snprintf(fo->cursor, sizeof fo->cursor, "0");
	}
	return 0;
}

int
fanout_page(struct fanout *fo, const char *cursor, json_t *ids,
    json_t *snap, const struct plan_ctx *pc, json_t *ops)
{
	const char	*aid = fo->r->id, *cid;
	json_t		*list = fanout_list(fo), *src, *c, *v;
	size_t		 i;
	int		 n = 0;
	char		*did;

	if (list == NULL || fo->ver == NULL)
		return 0;
	store_op_ifmark(ops, "announcement", aid, fo->ver);
	json_array_foreach(ids, i, v) {
		cid = json_string_value(v);
		if (fo->step == FANOUT_STEP_DROP) {
			plan_announcement_drop(ops, aid, cid, fo->ver);
			n++;
			continue;
		}
		c = plan_snaprec(snap, "collaborator", cid);
		/* No email (phone only): never emailed. */
		if (c == NULL || !json_is_true(json_object_get(c, "consent")) ||
		    json_object_get(c, "email") == NULL)
			continue;
		/* Made before ids were escaped (':' in an id): that one
		 * goes, so that the new one is the only one. */
		if (strchr(aid, ':') != NULL || strchr(cid, ':') != NULL) {
			did = xasprintf("ann:%s:%s", aid, cid);
			store_op_drop_stale(ops, did, fo->ver);
			free(did);
		}
		plan_announcement_email(ops, pc, aid, cid, fo->due_ms,
		    fo->deadline_ms, fo->ver);
		fo->planned++;
		n++;
	}
	src = json_array_get(list, fo->at);
	if (json_object_get(src, "set") != NULL && strcmp(cursor, "0") != 0)
		snprintf(fo->cursor, sizeof fo->cursor, "%s", cursor);
	else {
		fo->at++;
		snprintf(fo->cursor, sizeof fo->cursor, "0");
	}
	fo->pages++;
	return n;
}

void
fanout_tail(struct fanout *fo, json_t *ops)
{
	if (fo->ver != NULL)
		store_op_unmark(ops, "announcement", fo->r->id, fo->ver);
}

const char *
fanout_version(const struct fanout *fo)
{
	return fo->ver ? fo->ver : "";
}

int
fanout_pages(const struct fanout *fo)
{
	return fo->pages;
}

long long
fanout_planned(const struct fanout *fo)
{
	return fo->planned;
}

/*
 * view_said.c: "you said, we did" as template contexts (view.c has the
 * rest): an outcome to each person who said something it answers, the call
 * list of those with a phone and no email address, and the coordinator's
 * digest of what is overdue. Pure; worker threads, each on
 * its own job; called by view_build only.
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "clock.h"
#include "config.h"
#include "duration.h"
#include "invite.h"
#include "plan.h"
#include "record.h"
#include "store.h"
#include "view_impl.h"


/* A said item for people: their words, topic, meeting title and date. */
static json_t *
view_said_item(json_t *data, json_t *said, const struct config *cf)
{
	json_t		*it = json_object(), *m;
	const char	*mid = view_str(said, "meeting"), *tz;
	long long	 t;
	char		 buf[128];

	view_copy(it, said, "id");
	view_copy(it, said, "text");
	view_copy(it, said, "topic");
	if (mid != NULL) {
		json_object_set_new(it, "meeting", json_string(mid));
		if ((m = view_rec(data, "meeting", mid)) != NULL) {
			view_copy(it, m, "title");
			json_object_set(it, "meeting_title",
			    json_object_get(m, "title"));
			tz = view_str(m, "timezone") ? view_str(m, "timezone") :
			    cf->timezone;
			if (clock_parse_local(view_str(m, "start"), tz, &t,
			    NULL) == 0) {
				clock_format_date(t, tz, buf, sizeof buf);
				json_object_set_new(it, "meeting_date",
				    json_string(buf));
			}
			json_object_del(it, "title");
		}
	}
	return it;
}

/*
 * Whose words: "about" names the email (the first item's topic, else its
 * first words) so that two outcome emails differ; "others" counts the said
 * items the outcome also answers that are not this person's (their words
 * stay theirs: only the count is shown).
 */
static void
view_outcome_about(json_t *oc, json_t *items, size_t nsaid)
{
	json_t		*first = json_array_get(items, 0);
	const char	*t = view_str(first, "topic"), *p;
	size_t		 n = json_array_size(items), words = 0, len;
	char		*q;

	if (t == NULL || *t == '\0') {
		if ((t = view_str(first, "text")) == NULL)
			t = "";
		for (p = t; *p != '\0'; p++)
			if (*p == ' ' && ++words == 6)
				break;
		len = p - t;
		while (len > 0 && strchr(".,;:!? ", t[len - 1]) != NULL)
			len--;
		q = xasprintf("%.*s%s", (int)len, t, *p != '\0' ? "…" : "");
		json_object_set_new(oc, "about", json_string(q));
		free(q);
	} else
		json_object_set_new(oc, "about", json_string(t));
	json_object_set_new(oc, "yours_count", json_integer(n));
	if (n > 1)
		json_object_set_new(oc, "yours_many", json_true());
	if (nsaid > n) {
		json_object_set_new(oc, "others_count",
		    json_integer(nsaid - n));
		json_object_set_new(oc, nsaid - n == 1 ? "others_one" :
		    "others_many", json_true());
	}
}

/* The outcome as the templates read it (status words, what was done, the
 * reason), set as v->ctx's "outcome"; NULL with e set when it has no
 * status. */
static json_t *
view_said_oc(struct view *v, json_t *o, const char *src, struct err *e)
{
	json_t		*oc;
	const char	*st;

	if ((st = view_str(o, "status")) == NULL) {
		err_set(e, "outcome %s has no status", src);
		return NULL;
	}
	oc = json_object();
	json_object_set_new(oc, "id", json_string(src));
	view_copy(oc, o, "we_did");
	json_object_set_new(oc, "we_did_paragraphs",
	    view_paragraphs(view_str(o, "we_did")));
	json_object_set_new(oc, "status", json_string(st));
	json_object_set_new(oc, strcmp(st, "in-progress") == 0 ? "in_progress" :
	    strcmp(st, "not-possible") == 0 ? "not_possible" : st, json_true());
	if (view_str(o, "reason") != NULL) {
		view_copy(oc, o, "reason");
		json_object_set_new(oc, "reason_paragraphs",
		    view_paragraphs(view_str(o, "reason")));
	}
	json_object_set_new(v->ctx, "outcome", oc);
	return oc;
}

/* The said items with these ids that are still stored, for people. */
static json_t *
view_said_items(json_t *data, json_t *ids, const struct config *cf)
{
	json_t	*items = json_array(), *x, *sv;
	size_t	 i;

	json_array_foreach(ids, i, x)
		if ((sv = view_rec(data, "said", json_string_value(x))) != NULL)
			json_array_append_new(items, view_said_item(data, sv,
			    cf));
	return items;
}

int
view_said_outcome(const char *did, const char *cid, json_t *data,
    const struct config *cf, struct view *v, struct err *e)
{
	json_t		*c = view_rec(data, "collaborator", cid), *o, *d;
	json_t		*oc, *items;
	const char	*src = view_dfield(data, "src"), *coord;
	json_error_t	 je;

	if (c == NULL)
		return err_set(e, "collaborator %s is not stored", cid);
	if ((o = view_rec(data, "outcome", src)) == NULL)
		return err_set(e, "outcome %s is not stored", src);
	view_base(v, did, cf, "outcome", view_format(c));
	if (view_recipient(v, c, e) == -1)
		return -1;
	if ((oc = view_said_oc(v, o, src, e)) == NULL)
		return -1;
	d = json_loads(view_dfield(data, "data"), 0, &je);
	items = view_said_items(data, json_object_get(d, "said"), cf);
	json_decref(d);
	if (json_array_size(items) == 0) {
		json_decref(items);
		return err_set(e, "outcome %s: none of the said items is "
		    "stored", src);
	}
	json_object_set_new(v->ctx, "items", items);
	view_outcome_about(oc, items, json_array_size(json_object_get(o,
	    "said")));
	coord = view_str(o, "coordinator");
	view_reply_to(v, "", coord ? coord : cf->coordinator);
	return 0;
}

/* One person of an outcome's call list, or NULL when they are gone, no
 * longer consent, or none of their items is stored. */
static json_t *
view_said_call(json_t *data, json_t *call, const struct config *cf)
{
	json_t	*it, *items;

	items = view_said_items(data, json_object_get(call, "said"), cf);
	if (json_array_size(items) == 0 ||
	    (it = view_caller(data, view_str(call, "cid"))) == NULL) {
		json_decref(items);
		return NULL;
	}
	json_object_set_new(it, "items", items);
	return it;
}

/*
 * An outcome's call list, to the coordinator: the people it answers who
 * have a phone and no email address, what each said, and what was done,
 * so that someone phones them.
 */
int
view_said_calls(const char *did, json_t *data, const struct config *cf,
    struct view *v, struct err *e)
{
	json_t		*o, *oc, *d, *people, *all, *it, *call, *x;
	const char	*src = view_dfield(data, "src"), *to = view_dfield(data,
	    "to");
	json_error_t	 je;
	size_t		 i, j;

	if (*to == '\0')
		return err_set(e, "call list %s has no address", did);
	if ((o = view_rec(data, "outcome", src)) == NULL)
		return err_set(e, "outcome %s is not stored", src);
	if ((d = json_loads(view_dfield(data, "data"), 0, &je)) == NULL)
		return err_set(e, "call list %s: bad data: %s", did, je.text);
	view_base(v, did, cf, "outcome-calls", "standard");
	if ((oc = view_said_oc(v, o, src, e)) == NULL) {
		json_decref(d);
		return -1;
	}
	people = json_array();
	all = json_array();
	json_array_foreach(json_object_get(d, "calls"), i, call) {
		if ((it = view_said_call(data, call, cf)) == NULL)
			continue;
		json_array_foreach(json_object_get(it, "items"), j, x)
			json_array_append(all, x);
		json_array_append_new(people, it);
	}
	json_decref(d);
	if (json_array_size(people) == 0) {
		json_decref(people);
		json_decref(all);
		return err_set(e, "call list %s: nobody on it is known now",
		    did);
	}
	view_outcome_about(oc, all, json_array_size(all));
	json_decref(all);
	json_object_set_new(v->ctx, "calls", json_pack("{s:I, s:b, s:o}",
	    "count", (json_int_t)json_array_size(people), "one",
	    json_array_size(people) == 1, "people", people));
	json_object_set_new(v->ctx, "recipient", json_pack("{s:s}", "name",
	    "Coordinator"));
	v->to_name = xstrdup("Coordinator");
	v->to_addr = xstrdup(to);
	return 0;
}

int
view_said_digest(const char *did, json_t *data, const struct config *cf,
    struct view *v, struct err *e)
{
	json_t		*d, *items, *x, *sv, *it, *dg;
	json_error_t	 je;
	const char	*to = view_dfield(data, "to");
	size_t		 i;
	char		 buf[64];
	long long	 now = util_now_ms();

	if ((d = json_loads(view_dfield(data, "data"), 0, &je)) == NULL)
		return err_set(e, "digest %s: bad data: %s", did, je.text);
	view_base(v, did, cf, "digest", "standard");
	items = json_array();
	json_array_foreach(json_object_get(d, "items"), i, x) {
		long long at = json_integer_value(json_object_get(x, "at"));

		sv = view_rec(data, "said", view_str(x, "id"));
		if (sv == NULL)
			continue;
		it = view_said_item(data, sv, cf);
		json_object_set_new(it, "attributed", json_boolean(
		    json_object_get(sv, "collaborator") != NULL));
		if ((now - at) >= 86400000) {
			long long days = (now - at) / 86400000;

			snprintf(buf, sizeof buf, "%lld day%s", days,
			    days == 1 ? "" : "s");
		} else
			snprintf(buf, sizeof buf, "less than a day");
		json_object_set_new(it, "waited", json_string(buf));
		json_array_append_new(items, it);
	}
	json_decref(d);
	if (json_array_size(items) == 0) {
		json_decref(items);
		return err_set(e, "digest %s: every item has been answered",
		    did);
	}
	dg = json_object();
	json_object_set_new(dg, "count", json_integer(json_array_size(items)));
	if (json_array_size(items) == 1)
		json_object_set_new(dg, "one", json_true());
	duration_words(cf->feedback_due, buf, sizeof buf);
	json_object_set_new(dg, "feedback_due", json_string(buf));
	json_object_set_new(dg, "items", items);
	json_object_set_new(v->ctx, "digest", dg);
	json_object_set_new(v->ctx, "recipient", json_pack("{s:s}", "name",
	    "Coordinator"));
	v->to_name = xstrdup("Coordinator");
	v->to_addr = xstrdup(to);
	return 0;
}


/*
 * view_meeting.c: a meeting's emails as template contexts (view.c has the
 * rest): invitations, changes, cancellations and reminders, with the access
 * section in the person's order, the old and new of a change, the calendar
 * part (libical, invite.c), copies for supporters, and issue 14's call
 * lists (the people with no email address, for the coordinator to ring).
 * Pure; worker threads, each on its own job; called by view_build only.
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
#include "util.h"
#include "view_impl.h"


/* Lines of a long text, without empty ones. */
static json_t *
view_lines(const char *text)
{
	json_t		*a = json_array();
	const char	*p = text, *nl;

	while (p && *p) {
		nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p = nl ? nl + 1 : NULL;
	}
	return a;
}

/*
 * Access, as data for the templates (config/templates/_access_*): every
 * word is an item {word, is: {WORD: true}, detail?} with exactly one of
 * the states available, arranged (the meeting's own access says so),
 * unavailable, temporary (unavailable until a date: until, and
 * back_by_meeting when that date is before the meeting), unknown. The
 * labels and sentences are the templates', per format.
 */
struct view_when {
	const char	*tz;
	long long	 start;		/* the meeting's start, 0: none */
};

static json_t *
view_state_item(const char *word, json_t *st, int arranged,
    const struct view_when *w)
{
	json_t		*it = json_object(), *is = json_object();
	const char	*d = view_str(st, "details"), *until = view_str(st,
	    "until");
	const char	*state;
	long long	 t;
	char		 buf[64];

	json_object_set_new(it, "word", json_string(word));
	json_object_set_new(is, word, json_true());
	json_object_set_new(it, "is", is);
	if (d != NULL && *d != '\0')
		json_object_set_new(it, "detail", json_string(d));
	if (st == NULL)
		state = "unknown";
	else if (json_is_true(json_object_get(st, "available")))
		state = arranged ? "arranged" : "available";
	else if (until != NULL && clock_parse_date(until, w->tz, &t,
	    NULL) == 0) {
		state = "temporary";
		clock_format_date(t, w->tz, buf, sizeof buf);
		json_object_set_new(it, "until", json_string(buf));
		if (w->start > 0 && t + 86400 <= w->start)
			json_object_set_new(it, "back_by_meeting", json_true());
	} else
		state = "unavailable";
	json_object_set_new(it, state, json_true());
	json_object_set_new(it, "state", json_string(state));
	return it;
}

/* Issue 14: an access object as it stands today in the meeting's time
 * zone: a temporary state that is over is left out, so it reads "not yet
 * confirmed" (access_settled; a new reference). */
static json_t *
view_settled(json_t *access, const char *tz)
{
	char	today[64];

	clock_format_iso_local(util_now_ms() / 1000, tz, today, sizeof today);
	today[10] = '\0';
	return access_settled(access, today);
}

/* What applies to this meeting: its own access first, else the venue's. */
static json_t *
view_access_item(json_t *venue_access, json_t *meeting_access,
    const char *word, const struct view_when *w)
{
	json_t	*st;
	json_t	*it;
	int	 arranged = 0;

	if ((st = access_state(meeting_access, word)) != NULL)
		arranged = 1;
	else
		st = access_state(venue_access, word);
	it = view_state_item(word, st, arranged, w);
	json_decref(st);
	return it;
}

/* Marks the last item of a list, for "a, b and c" in templates. */
static json_t *
view_mark_last(json_t *a)
{
	size_t	n = json_array_size(a);

	if (n > 0)
		json_object_set_new(json_array_get(a, n - 1), "last",
		    json_true());
	if (n > 1)
		json_object_set_new(json_array_get(a, n - 2), "next_last",
		    json_true());
	return a;
}

/*
 * Every access word: the person's own needs first, each in full ("yours"),
 * then the rest ("others"), also grouped by state (others_available ...)
 * so a template can list them on one line each.
 */
static json_t *
view_access(json_t *venue, json_t *m, json_t *collab,
    const struct view_when *w)
{
	static const char *groups[] = { "available", "arranged", "temporary",
	    "unavailable", "unknown" };
	json_t	*va = view_settled(json_object_get(venue, "access"), w->tz);
	json_t	*ma = view_settled(json_object_get(m, "access"), w->tz);
	json_t	*needs = json_object_get(collab, "access_needs"), *v;
	json_t	*yours = json_array(), *others = json_array(), *a, *it, *g;
	size_t	 i, k, n;
	int	 problems = 0;
	char	 key[32];

	a = json_object();
	json_array_foreach(needs, i, v) {
		if (!json_is_string(v))
			continue;
		it = view_access_item(va, ma, json_string_value(v), w);
		if (!json_is_true(json_object_get(it, "available")) &&
		    !json_is_true(json_object_get(it, "arranged")))
			problems = 1;
		json_array_append_new(yours, it);
	}
	for (k = 0; k < sizeof groups / sizeof groups[0]; k++) {
		snprintf(key, sizeof key, "others_%s", groups[k]);
		json_object_set_new(a, key, json_array());
	}
	for (k = 0; k < (size_t)record_naccess_words; k++) {
		if (util_json_has(needs, record_access_words[k]))
			continue;
		it = view_access_item(va, ma, record_access_words[k], w);
		json_array_append(others, it);
		snprintf(key, sizeof key, "others_%s", view_str(it, "state"));
		json_array_append_new(json_object_get(a, key), it);
	}
	for (k = 0; k < sizeof groups / sizeof groups[0]; k++) {
		snprintf(key, sizeof key, "others_%s", groups[k]);
		g = json_object_get(a, key);
		n = json_array_size(g);
		/* Copies: "last" belongs to the group, not to "others". */
		json_object_set_new(a, key, view_mark_last(json_deep_copy(g)));
		snprintf(key, sizeof key, "has_%s", groups[k]);
		json_object_set_new(a, key, json_boolean(n > 0));
	}
	json_object_set_new(a, "has_others", json_boolean(
	    json_array_size(others) > 0));
	json_object_set_new(a, "has_yours", json_boolean(
	    json_array_size(yours) > 0));
	json_decref(va);
	json_decref(ma);
	json_object_set_new(a, "yours", yours);
	json_object_set_new(a, "others", others);
	json_object_set_new(a, "problems", json_boolean(problems));
	if (problems)
		json_object_set_new(a, "all_met", json_false());
	else if (json_array_size(yours) > 0)
		json_object_set_new(a, "all_met", json_true());
	return a;
}

/*
 * A venue's access change as the planner stored it ({word, was, now}, each
 * a state or null): the same items as above, so the same templates word
 * it. The person's own needs are marked "yours" and come first.
 */
static json_t *
view_access_changes(json_t *changes, json_t *collab,
    const struct view_when *w)
{
	json_t		*out = json_array(), *later = json_array(), *c, *x;
	json_t		*needs = json_object_get(collab, "access_needs");
	const char	*word;
	size_t		 i;
	int		 mine;

	json_array_foreach(changes, i, c) {
		if ((word = view_str(c, "word")) == NULL) {
			/* Queued before the change to data: as it was. */
			json_array_append(later, c);
			continue;
		}
		mine = util_json_has(needs, word);
		x = json_object();
		json_object_set_new(x, "word", json_string(word));
		json_object_set_new(x, "is", json_pack("{s:b}", word, 1));
		json_object_set_new(x, "was", view_state_item(word,
		    json_is_object(json_object_get(c, "was")) ?
		    json_object_get(c, "was") : NULL, 0, w));
		json_object_set_new(x, "now", view_state_item(word,
		    json_is_object(json_object_get(c, "now")) ?
		    json_object_get(c, "now") : NULL, 0, w));
		if (mine)
			json_object_set_new(x, "yours", json_true());
		json_array_append_new(mine ? out : later, x);
	}
	json_array_extend(out, later);
	json_decref(later);
	return out;
}

/* A meeting change ({field, what, was, now}): "is" names the field for
 * the templates' labels; the agenda also comes as lines. */
static json_t *
view_meeting_changes(json_t *changes, const struct view_when *w)
{
	json_t		*out = json_array(), *c, *x, *words, *y, *z;
	const char	*f, *word;
	size_t		 i, j;

	json_array_foreach(changes, i, c) {
		x = json_deep_copy(c);
		if ((f = view_str(c, "field")) != NULL) {
			json_object_set_new(x, "is", json_pack("{s:b}", f, 1));
			if (strcmp(f, "agenda") == 0) {
				json_object_set_new(x, "was_lines",
				    view_lines(view_str(c, "was")));
				json_object_set_new(x, "now_lines",
				    view_lines(view_str(c, "now")));
			}
			/* The meeting's own access: each word that reads
			 * differently, as items (issue 14). */
			words = json_array();
			json_array_foreach(json_object_get(c, "words"), j, y) {
				if ((word = view_str(y, "word")) == NULL)
					continue;
				z = json_pack("{s:s, s:{s:b}}", "word", word,
				    "is", word, 1);
				json_object_set_new(z, "was", view_state_item(
				    word, json_is_object(json_object_get(y,
				    "was")) ? json_object_get(y, "was") : NULL,
				    json_is_true(json_object_get(y,
				    "was_arranged")), w));
				json_object_set_new(z, "now", view_state_item(
				    word, json_is_object(json_object_get(y,
				    "now")) ? json_object_get(y, "now") : NULL,
				    json_is_true(json_object_get(y,
				    "now_arranged")), w));
				json_array_append_new(words, z);
			}
			json_object_set_new(x, "words", words);
		}
		json_array_append_new(out, x);
	}
	return out;
}

/*
 * The agenda as lines; when every line is numbered ("1. Welcome") the
 * numbers go (an <ol> numbers them) and "numbered" is set.
 */
static json_t *
view_agenda(const char *text)
{
	json_t		*lines = view_lines(text), *items = json_array(), *v;
	json_t		*a = json_object();
	const char	*s, *p;
	size_t		 i;
	int		 numbered = json_array_size(lines) > 0;

	json_array_foreach(lines, i, v) {
		s = json_string_value(v);
		for (p = s; *p >= '0' && *p <= '9'; p++)
			;
		if (p == s || (*p != '.' && *p != ')') || p[1] != ' ')
			numbered = 0;
	}
	json_array_foreach(lines, i, v) {
		s = json_string_value(v);
		if (numbered) {
			for (p = s; *p >= '0' && *p <= '9'; p++)
				;
			for (p++; *p == ' '; p++)
				;
			s = p;
		}
		json_array_append_new(items, json_pack("{s:s, s:I}", "text", s,
		    "n", (json_int_t)i + 1));
	}
	json_decref(lines);
	json_object_set_new(a, "items", items);
	json_object_set_new(a, "numbered", json_boolean(numbered));
	return a;
}

static int
view_meeting_ctx(struct view *v, json_t *m, json_t *venue,
    const struct config *cf, long long *start, long long *end,
    const char **tz, struct err *e)
{
	json_t		*mc, *o, *c;
	char		 buf[200];
	const char	*s;
	long long	 t;

	*tz = json_string_value(json_object_get(m, "timezone"));
	if (*tz == NULL)
		*tz = cf->timezone;
	if (clock_parse_local(view_str(m, "start"), *tz, start, e) == -1 ||
	    clock_parse_local(view_str(m, "end"), *tz, end, e) == -1)
		return -1;
	mc = json_object();
	json_object_set_new(mc, "id", json_string(view_str(m, "id")));
	json_object_set_new(mc, "title", json_string(view_str(m, "title")));
	clock_format_range(*start, *end, *tz, buf, sizeof buf);
	json_object_set_new(mc, "when", json_string(buf));
	clock_format_date(*start, *tz, buf, sizeof buf);
	json_object_set_new(mc, "date", json_string(buf));
	clock_format_human(*start, *tz, buf, sizeof buf);
	s = strrchr(buf, ' ');
	json_object_set_new(mc, "starts", json_string(s ? s + 1 : buf));
	clock_format_human(*end, *tz, buf, sizeof buf);
	s = strrchr(buf, ' ');
	json_object_set_new(mc, "ends", json_string(s ? s + 1 : buf));
	if (venue != NULL) {
		o = json_object();
		view_copy(o, venue, "name");
		view_copy(o, venue, "address");
		view_copy(o, venue, "getting_there");
		view_copy(o, venue, "arrival");
		view_copy(o, venue, "on_the_day_contact");
		if ((s = view_str(venue, "on_the_day_contact")) != NULL)
			json_object_set_new(o, "on_the_day", view_phone(s));
		view_copy(o, venue, "access_guide_url");
		if ((s = view_str(venue, "last_verified")) != NULL &&
		    clock_parse_date(s, *tz, &t, NULL) == 0) {
			clock_format_date(t, *tz, buf, sizeof buf);
			/* "1 October 2026": drop the weekday */
			s = strchr(buf, ' ');
			json_object_set_new(o, "last_verified",
			    json_string(s ? s + 1 : buf));
		}
		json_object_set_new(mc, "venue", o);
	}
	if ((o = json_object_get(m, "online")) != NULL) {
		o = json_deep_copy(o);
		view_tel(o, "dial_in");
		json_object_set_new(mc, "online", o);
	}
	if ((s = view_str(m, "agenda")) != NULL)
		json_object_set_new(mc, "agenda", view_agenda(s));
	view_copy(mc, m, "payment");
	view_copy(mc, m, "refreshments");
	if ((s = view_str(m, "adjustments_by")) != NULL &&
	    clock_parse_date(s, *tz, &t, NULL) == 0) {
		clock_format_date(t, *tz, buf, sizeof buf);
		json_object_set_new(mc, "adjustments_by", json_string(buf));
	}
	if ((o = json_object_get(m, "organiser")) != NULL) {
		c = json_deep_copy(o);
		if (json_object_get(c, "email") == NULL)
			json_object_set_new(c, "email",
			    json_string(cf->from_addr));
		view_tel(c, "phone");
		json_object_set_new(mc, "contact", c);
	} else
		json_object_set_new(mc, "contact", json_pack("{s:s, s:s}",
		    "name", cf->from_name[0] ? cf->from_name : cf->from_addr,
		    "email", cf->from_addr));
	json_object_set_new(v->ctx, "meeting", mc);
	return 0;
}

/* Issue 14: the coordinator's copy of a meeting email to a person with
 * communication needs, or of a reminder to someone with a phone and no
 * email address: "arrange_for" says who, what to arrange, and (call) the
 * number to ring. */
static int
view_arrange_recipient(struct view *v, json_t *c, json_t *m,
    const struct config *cf, struct err *e)
{
	const char	*to = view_str(m, "coordinator");
	struct buf	 b;
	json_t		*x, *af;
	size_t		 i, n;
	char		*s;

	if (to == NULL)
		to = cf->coordinator;
	if (to == NULL || *to == '\0')
		return err_set(e, "no coordinator to arrange for %s",
		    view_str(c, "id"));
	buf_init(&b);
	n = json_array_size(json_object_get(c, "communication"));
	json_array_foreach(json_object_get(c, "communication"), i, x) {
		if (!json_is_string(x))
			continue;
		s = access_comm_describe(json_string_value(x));
		if (i > 0)
			buf_adds(&b, i + 1 == n ? " and " : ", ");
		buf_adds(&b, s);
		free(s);
	}
	af = json_pack("{s:s, s:s, s:s}", "name", view_str(c, "name"), "id",
	    view_str(c, "id"), "needs", b.s ? b.s : "");
	/* No email address: the coordinator phones them with it. */
	if (view_str(c, "email") == NULL && view_str(c, "phone") != NULL) {
		json_object_set_new(af, "call", json_true());
		view_copy(af, c, "phone");
		view_tel(af, "phone");
	}
	json_object_set_new(v->ctx, "arrange_for", af);
	buf_free(&b);
	json_object_set_new(v->ctx, "recipient", json_pack("{s:s}", "name",
	    "Coordinator"));
	v->to_name = xstrdup("Coordinator");
	v->to_addr = xstrdup(to);
	return 0;
}

/*
 * Issue 14: who a meeting email goes to. A supporter's copy (the
 * delivery's data says "supporter") goes to the person's supporter, in the
 * person's format, and "copy_for" names whose copy it is; the
 * coordinator's copy ("arrange") says what to arrange.
 */
static int
view_meeting_recipient(struct view *v, json_t *c, json_t *m, json_t *data,
    const struct config *cf, struct err *e)
{
	json_t		*d, *s, *r;
	json_error_t	 je;
	int		 copy, arrange;

	d = json_loads(view_dfield(data, "data"), 0, &je);
	copy = json_is_true(json_object_get(d, "supporter"));
	arrange = json_is_true(json_object_get(d, "arrange"));
	json_decref(d);
	if (arrange)
		return view_arrange_recipient(v, c, m, cf, e);
	if (!copy)
		return view_recipient(v, c, e);
	s = json_object_get(c, "supporter");
	if (view_str(s, "name") == NULL || view_str(s, "email") == NULL)
		return err_set(e, "collaborator %s has no supporter now",
		    view_str(c, "id"));
	r = json_object();
	json_object_set_new(r, "name", json_string(view_str(s, "name")));
	json_object_set_new(v->ctx, "recipient", r);
	json_object_set_new(v->ctx, "copy_for", json_pack("{s:s, s:s}", "name",
	    view_str(c, "name"), "id", view_str(c, "id")));
	v->to_name = xstrdup(view_str(s, "name"));
	v->to_addr = xstrdup(view_str(s, "email"));
	return 0;
}

/* A meeting email's calendar part (invite.c), for the person it goes to. */
static int
view_meeting_calendar(struct view *v, const struct config *cf,
    const char *mid, json_t *mw, json_t *m, json_t *venue,
    const struct view_when *w, long long end, int cancel, struct err *e)
{
	const char	*org;
	struct invite	*inv;

	org = view_str(json_object_get(m, "organiser"), "email");
	inv = v->inv = xcalloc(1, sizeof *inv);
	v->inv_uid = xasprintf("%s@%s", mid, cf->from_domain);
	inv->uid = v->inv_uid;
	inv->sequence = (int)json_integer_value(json_object_get(
	    json_object_get(mw, "meta"), "seq"));
	inv->cancel = cancel;
	inv->start = w->start;
	inv->end = end;
	inv->tz = w->tz;
	inv->dtstamp = util_now_ms() / 1000;
	inv->summary = view_str(m, "title");
	if (venue != NULL)
		v->inv_loc = xasprintf("%s, %s", view_str(venue,
		    "name") ? view_str(venue, "name") : "",
		    view_str(venue, "address") ? view_str(venue,
		    "address") : "");
	else if (view_str(json_object_get(m, "online"), "url"))
		v->inv_loc = xstrdup(view_str(json_object_get(m,
		    "online"), "url"));
	inv->location = v->inv_loc;
	inv->url = json_object_get(m, "online") ? view_str(
	    json_object_get(m, "online"), "url") : NULL;
	inv->organizer_name = org ? view_str(json_object_get(m,
	    "organiser"), "name") : cf->from_name;
	inv->organizer_email = org ? org : cf->from_addr;
	if (cf->inbound_address != NULL) {
		/* Calendar answers come back to us (SPEC 9). */
		inv->organizer_email = cf->inbound_address;
		inv->rsvp = 1;
	}
	inv->attendee_name = v->to_name;
	inv->attendee_email = v->to_addr;
	/* The description comes from the templates: view_calendar. */
	if ((v->ics = invite_build(inv, e)) == NULL)
		return -1;
	v->ics_method = invite_method(inv);
	json_object_set_new(v->ctx, "calendar", json_true());
	return 0;
}

int
view_meeting(const char *did, const char *kind, const char *cid,
    json_t *data, const struct config *cf, struct view *v, struct err *e)
{
	json_t		*c = view_rec(data, "collaborator", cid), *m, *venue;
	json_t		*mw, *d = NULL, *x;
	const char	*mid = view_dfield(data, "mid"), *vid, *tz, *org;
	long long	 start, end;
	struct view_when w;
	char		 key[STORE_KEY_MAX];
	json_error_t	 je;
	int		 cancel = 0, rv = -1;

	mw = json_object_get(json_object_get(data, "records"), store_reckey(
	    "meeting", mid, key, sizeof key));
	if (c == NULL || (m = json_object_get(mw, "record")) == NULL)
		return err_set(e, "meeting %s or collaborator %s is not stored",
		    mid, cid);
	vid = view_str(m, "venue");
	venue = vid ? view_rec(data, "venue", vid) : NULL;
	/* A venue update names the venue in its own refs. */
	if (venue == NULL && strcmp(kind, "venue-update") == 0)
		venue = view_rec(data, "venue", view_dfield(data, "src"));
	view_base(v, did, cf, kind, view_format(c));
	if (view_meeting_recipient(v, c, m, data, cf, e) == -1)
		return -1;
	if (view_meeting_ctx(v, m, venue, cf, &start, &end, &tz, e) == -1)
		return -1;
	w.tz = tz;
	w.start = start;
	if (venue != NULL)
		json_object_set_new(v->ctx, "access", view_access(venue, m, c,
		    &w));
	if ((d = json_loads(view_dfield(data, "data"), 0, &je)) == NULL)
		d = json_object();
	if ((x = json_object_get(d, "changes")) != NULL)
		json_object_set_new(v->ctx, "changes",
		    strcmp(kind, "venue-update") == 0 ?
		    view_access_changes(x, c, &w) : view_meeting_changes(x, &w));
	/* A reminder says the day and the time, never "in N minutes":
	 * that is wrong by the time someone reads it. */
	if (strcmp(kind, "reminder") == 0)
		json_object_set_new(v->ctx, "reminder", json_object());
	if (strcmp(kind, "cancellation") == 0) {
		cancel = 1;
		json_object_set_new(v->ctx, "cancellation", json_pack("{s:b}",
		    "removed", json_is_true(json_object_get(d, "removed"))));
		if (!json_is_true(json_object_get(d, "removed")))
			view_copy(json_object_get(v->ctx, "cancellation"), m,
			    "cancel_reason");
	}
	org = view_str(json_object_get(m, "organiser"), "email");
	if (org != NULL)
		view_reply_to(v, view_str(json_object_get(m, "organiser"),
		    "name"), org);
	else
		view_reply_to(v, "", view_str(m, "coordinator") ?
		    view_str(m, "coordinator") : cf->coordinator);

	/* Invitations, updates and cancellations carry the calendar. */
	if ((strcmp(kind, "invitation") == 0 || strcmp(kind, "update") == 0 ||
	    cancel) && view_meeting_calendar(v, cf, mid, mw, m, venue, &w,
	    end, cancel, e) == -1)
		goto err;
	rv = 0;
err:
	json_decref(d);
	return rv;
}

/* Issue 14: one person of a call list, or NULL when they are gone. Their
 * access needs are items as in the emails (view_access_item), worded by
 * the templates; va and ma are the settled venue and meeting access. */
static json_t *
view_call_person(json_t *data, json_t *call, json_t *va, json_t *ma,
    const struct view_when *w)
{
	json_t		*c, *it, *needs, *x;
	const char	*cid = view_str(call, "cid"), *kind;
	size_t		 i;

	if ((it = view_caller(data, cid)) == NULL)
		return NULL;
	c = view_rec(data, "collaborator", cid);
	kind = view_str(call, "kind");
	if (kind != NULL)
		json_object_set_new(it, kind, json_true());
	if (json_is_true(json_object_get(call, "removed")))
		json_object_set_new(it, "removed", json_true());
	if (json_is_array(json_object_get(call, "changes")))
		json_object_set_new(it, "changes", view_meeting_changes(
		    json_object_get(call, "changes"), w));
	needs = json_array();
	json_array_foreach(json_object_get(c, "access_needs"), i, x)
		if (json_is_string(x))
			json_array_append_new(needs, view_access_item(va, ma,
			    json_string_value(x), w));
	if (json_array_size(needs) > 0)
		json_object_set_new(it, "needs", needs);
	else
		json_decref(needs);
	return it;
}

/*
 * Issue 14: the call list of one meeting change, to the coordinator: the
 * people with no email address, what to tell them (what they would have
 * been emailed) and their access needs.
 */
int
view_meeting_calllist(const char *did, json_t *data, const struct config *cf,
    struct view *v, struct err *e)
{
	json_t		*d, *m, *venue = NULL, *va, *ma, *people, *it, *call;
	json_t		*cl;
	struct view_when w;
	json_error_t	 je;
	const char	*to = view_dfield(data, "to"), *mid = view_dfield(data,
	    "mid"), *tz;
	long long	 start, end;
	size_t		 i;
	int		 cancelled = 0;

	if (*to == '\0')
		return err_set(e, "call list %s has no address", did);
	if ((m = view_rec(data, "meeting", mid)) == NULL)
		return err_set(e, "meeting %s is not stored", mid);
	if ((d = json_loads(view_dfield(data, "data"), 0, &je)) == NULL)
		return err_set(e, "call list %s: bad data: %s", did, je.text);
	if (view_str(m, "venue") != NULL)
		venue = view_rec(data, "venue", view_str(m, "venue"));
	view_base(v, did, cf, "calllist", "standard");
	if (view_meeting_ctx(v, m, venue, cf, &start, &end, &tz, e) == -1) {
		json_decref(d);
		return -1;
	}
	w.tz = tz;
	w.start = start;
	va = view_settled(json_object_get(venue, "access"), tz);
	ma = view_settled(json_object_get(m, "access"), tz);
	people = json_array();
	json_array_foreach(json_object_get(d, "calls"), i, call) {
		if ((it = view_call_person(data, call, va, ma, &w)) == NULL)
			continue;
		if (json_object_get(it, "cancellation") != NULL &&
		    json_object_get(it, "removed") == NULL)
			cancelled = 1;
		json_array_append_new(people, it);
	}
	json_decref(va);
	json_decref(ma);
	json_decref(d);
	if (json_array_size(people) == 0) {
		json_decref(people);
		return err_set(e, "call list %s: nobody on it is known now",
		    did);
	}
	cl = json_object();
	json_object_set_new(cl, "count", json_integer(json_array_size(people)));
	if (json_array_size(people) == 1)
		json_object_set_new(cl, "one", json_true());
	json_object_set_new(cl, "people", people);
	json_object_set_new(v->ctx, "calllist", cl);
	if (cancelled) {
		json_object_set_new(v->ctx, "cancellation", json_object());
		view_copy(json_object_get(v->ctx, "cancellation"), m,
		    "cancel_reason");
	}
	json_object_set_new(v->ctx, "recipient", json_pack("{s:s}", "name",
	    "Coordinator"));
	v->to_name = xstrdup("Coordinator");
	v->to_addr = xstrdup(to);
	return 0;
}


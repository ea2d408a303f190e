/*
 * view.c: deliveries become template contexts (see view.h). Pure; worker
 * threads, each on its own job.
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
#include "view.h"

static json_t *
view_rec(json_t *data, const char *type, const char *id)
{
	char	key[STORE_KEY_MAX];

	return json_object_get(json_object_get(json_object_get(data,
	    "records"), store_reckey(type, id, key, sizeof key)), "record");
}

static const char *
view_dfield(json_t *data, const char *name)
{
	const char *s = json_string_value(json_object_get(json_object_get(
	    data, "delivery"), name));

	return s ? s : "";
}

static const char *
view_str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Paragraphs: text split at blank lines, each trimmed. */
static json_t *
view_paragraphs(const char *text)
{
	json_t		*a = json_array();
	const char	*p = text, *q, *end;

	while (*p) {
		while (*p == '\n' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		q = strstr(p, "\n\n");
		end = q ? q : p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
		    end[-1] == '\n'))
			end--;
		json_array_append_new(a, json_stringn(p, end - p));
		p = q ? q + 2 : p + strlen(p);
	}
	return a;
}

/* The common part: recipient, team, language, Message-ID. */
static void
view_base(struct view *v, const char *did, const struct config *cf,
    const char *kind, const char *format)
{
	json_t	*team = json_object();

	v->ctx = json_object();
	v->kind = kind;
	v->format = format;
	json_object_set_new(v->ctx, "lang", json_string("en-GB"));
	json_object_set_new(v->ctx, "format", json_string(format));
	json_object_set_new(team, "name", json_string(cf->from_name[0] ?
	    cf->from_name : cf->from_addr));
	json_object_set_new(team, "email", json_string(cf->from_addr));
	json_object_set_new(v->ctx, "team", team);
	v->message_id = plan_message_id(did, cf->from_domain);
}

static int
view_recipient(struct view *v, json_t *c, struct err *e)
{
	json_t		*r = json_object();
	const char	*name = view_str(c, "name"), *email = view_str(c, "email");

	if (name == NULL || email == NULL)
		return err_set(e, "the collaborator record has no name or email");
	json_object_set_new(r, "name", json_string(name));
	json_object_set_new(r, "id", json_string(view_str(c, "id")));
	json_object_set_new(v->ctx, "recipient", r);
	v->to_name = xstrdup(name);
	v->to_addr = xstrdup(email);
	return 0;
}

static void
view_reply_to(struct view *v, const char *name, const char *addr)
{
	json_t	*r;

	if (addr == NULL || *addr == '\0')
		return;
	v->reply_name = xstrdup(name ? name : "");
	v->reply_addr = xstrdup(addr);
	r = json_object();
	json_object_set_new(r, "name", json_string(v->reply_name));
	json_object_set_new(r, "email", json_string(addr));
	json_object_set_new(v->ctx, "reply_to", r);
}

static const char *
view_format(json_t *c)
{
	const char *f = view_str(c, "format");

	return f ? f : "standard";
}

static int
view_announcement(const char *did, const char *cid, json_t *data,
    const struct config *cf, struct view *v, struct err *e)
{
	json_t		*c = view_rec(data, "collaborator", cid), *a, *an;
	const char	*src = view_dfield(data, "src"), *coord;

	if (c == NULL)
		return err_set(e, "collaborator %s is not stored", cid);
	if ((a = view_rec(data, "announcement", src)) == NULL)
		return err_set(e, "announcement %s is not stored", src);
	view_base(v, did, cf, "announcement", view_format(c));
	if (view_recipient(v, c, e) == -1)
		return -1;
	an = json_object();
	json_object_set_new(an, "subject", json_string(view_str(a, "subject")));
	json_object_set_new(an, "paragraphs", view_paragraphs(view_str(a,
	    "body")));
	json_object_set_new(v->ctx, "announcement", an);
	coord = view_str(a, "coordinator");
	view_reply_to(v, "", coord ? coord : cf->coordinator);
	return 0;
}

static int
view_notice(const char *did, json_t *data, const struct config *cf,
    struct view *v, struct err *e)
{
	json_t		*d, *n = json_object();
	json_error_t	 je;
	const char	*to = view_dfield(data, "to"), *dt = view_dfield(data,
	    "data");
	json_t		*r;

	if (*to == '\0')
		return err_set(e, "notice %s has no address", did);
	if ((d = json_loads(dt, 0, &je)) == NULL)
		return err_set(e, "notice %s: bad data: %s", did, je.text);
	view_base(v, did, cf, "notice", "standard");
	json_object_set(n, "title", json_object_get(d, "title"));
	json_object_set(n, "lines", json_object_get(d, "lines"));
	json_object_set(n, "record_id", json_object_get(d, "record_id"));
	json_object_set_new(v->ctx, "notice", n);
	json_decref(d);
	r = json_object();
	json_object_set_new(r, "name", json_string("Coordinator"));
	json_object_set_new(v->ctx, "recipient", r);
	v->to_name = xstrdup("Coordinator");
	v->to_addr = xstrdup(to);
	return 0;
}


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

static void
view_copy(json_t *dst, json_t *src, const char *key)
{
	json_t	*v = json_object_get(src, key);

	if (v != NULL && !json_is_null(v))
		json_object_set(dst, key, v);
}

static json_t *
view_access_item(json_t *access, const char *word)
{
	json_t		*it = json_object();
	const char	*detail;

	json_object_set_new(it, "word", json_string(word));
	json_object_set_new(it, "label", json_string(access_label(word)));
	switch (access_status(access, word, &detail)) {
	case ACCESS_YES:
		json_object_set_new(it, "available", json_true());
		if (detail)
			json_object_set_new(it, "detail", json_string(detail));
		break;
	case ACCESS_NO:
		json_object_set_new(it, "unavailable", json_true());
		if (detail)
			json_object_set_new(it, "detail", json_string(detail));
		break;
	default:
		json_object_set_new(it, "unknown", json_true());
		break;
	}
	/* A temporary state (issue 14): "until" a date. */
	if (access_until(access, word) != NULL)
		json_object_set_new(it, "until", json_string(access_until(
		    access, word)));
	return it;
}

/* Every access word: the person's own needs first, then the rest. */
static json_t *
view_access(json_t *venue, json_t *collab)
{
	json_t	*access = json_object_get(venue, "access");
	json_t	*needs = json_object_get(collab, "access_needs"), *v;
	json_t	*yours = json_array(), *others = json_array(), *a, *it;
	size_t	 i;
	int	 k, mine, problems = 0;

	json_array_foreach(needs, i, v) {
		it = view_access_item(access, json_string_value(v));
		if (!json_is_true(json_object_get(it, "available")))
			problems = 1;
		json_array_append_new(yours, it);
	}
	for (k = 0; k < record_naccess_words; k++) {
		mine = 0;
		json_array_foreach(needs, i, v)
			if (strcmp(json_string_value(v),
			    record_access_words[k]) == 0)
				mine = 1;
		if (!mine)
			json_array_append_new(others, view_access_item(access,
			    record_access_words[k]));
	}
	a = json_object();
	json_object_set_new(a, "has_yours", json_boolean(
	    json_array_size(yours) > 0));
	json_object_set_new(a, "yours", yours);
	json_object_set_new(a, "others", others);
	json_object_set_new(a, "problems", json_boolean(problems));
	return a;
}

static int
view_meeting_ctx(struct view *v, json_t *m, json_t *venue,
    const struct config *cf, long long *start, long long *end,
    const char **tz, struct err *e)
{
	json_t		*mc = json_object(), *o, *c;
	char		 buf[200];
	const char	*s;
	long long	 t;

	*tz = json_string_value(json_object_get(m, "timezone"));
	if (*tz == NULL)
		*tz = cf->timezone;
	if (clock_parse_local(view_str(m, "start"), *tz, start, e) == -1 ||
	    clock_parse_local(view_str(m, "end"), *tz, end, e) == -1)
		return -1;
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
	if ((o = json_object_get(m, "online")) != NULL)
		json_object_set(mc, "online", o);
	if ((s = view_str(m, "agenda")) != NULL)
		json_object_set_new(mc, "agenda", view_lines(s));
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
		json_object_set_new(mc, "contact", c);
	} else
		json_object_set_new(mc, "contact", json_pack("{s:s, s:s}",
		    "name", cf->from_name[0] ? cf->from_name : cf->from_addr,
		    "email", cf->from_addr));
	json_object_set_new(v->ctx, "meeting", mc);
	return 0;
}

/* A one-paragraph access summary for the calendar entry. */
static char *
view_ics_description(json_t *m, json_t *venue, json_t *collab)
{
	struct buf	 b;
	json_t		*o = json_object_get(m, "online"), *n;
	size_t		 i;
	const char	*s;

	buf_init(&b);
	if (venue != NULL) {
		buf_printf(&b, "Where: %s, %s\n", view_str(venue, "name"),
		    view_str(venue, "address"));
		if ((s = view_str(venue, "arrival")) != NULL)
			buf_printf(&b, "Getting in: %s\n", s);
		json_array_foreach(json_object_get(collab, "access_needs"), i,
		    n) {
			char *d = access_describe(json_object_get(venue,
			    "access"), json_string_value(n));

			buf_printf(&b, "%s: %s\n",
			    access_label(json_string_value(n)), d);
			free(d);
		}
		if ((s = view_str(venue, "on_the_day_contact")) != NULL)
			buf_printf(&b, "On the day: %s\n", s);
	}
	if (o != NULL)
		buf_printf(&b, "Join online: %s\n", view_str(o, "url"));
	return buf_take(&b);
}

/* Issue 14: why a meeting was cancelled (its "cancel_reason"), as
 * paragraphs in "cancel_reason"; not for someone only taken off the list. */
static void
view_cancel_reason(struct view *v, json_t *m, int removed)
{
	const char	*s = view_str(m, "cancel_reason");

	if (s != NULL && !removed)
		json_object_set_new(v->ctx, "cancel_reason",
		    view_paragraphs(s));
}

/* Issue 14: the access words of this meeting today: its own
 * arrangements over the venue's, temporary states that are over left out
 * (a new reference). */
static json_t *
view_meeting_access(json_t *venue, json_t *m, const struct config *cf)
{
	json_t		*a, *s;
	const char	*tz = view_str(m, "timezone");
	char		 today[64];

	clock_format_iso_local(util_now_ms() / 1000, tz ? tz : cf->timezone,
	    today, sizeof today);
	today[10] = '\0';
	a = access_merged(json_object_get(venue, "access"),
	    json_object_get(m, "access"));
	s = access_settled(a, today);
	json_decref(a);
	return s;
}

/* The venue as this meeting has it today (a new reference). */
static json_t *
view_venue_for_meeting(json_t *venue, json_t *m, const struct config *cf)
{
	json_t	*vm = json_copy(venue);

	json_object_set_new(vm, "access", view_meeting_access(venue, m, cf));
	return vm;
}

/* Issue 14: the coordinator's copy of a meeting email to a person with
 * communication needs: "arrange_for" says who, and what to arrange. */
static int
view_arrange_recipient(struct view *v, json_t *c, json_t *m,
    const struct config *cf, struct err *e)
{
	const char	*to = view_str(m, "coordinator");
	struct buf	 b;
	json_t		*x;
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
		s = access_comm_describe(json_string_value(x));
		if (i > 0)
			buf_adds(&b, i + 1 == n ? " and " : ", ");
		buf_adds(&b, s);
		free(s);
	}
	json_object_set_new(v->ctx, "arrange_for", json_pack("{s:s, s:s, s:s}",
	    "name", view_str(c, "name"), "id", view_str(c, "id"), "needs",
	    b.s ? b.s : ""));
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

static int
view_meeting(const char *did, const char *kind, const char *cid,
    json_t *data, const struct config *cf, struct view *v, struct err *e)
{
	json_t		*c = view_rec(data, "collaborator", cid), *m, *venue;
	json_t		*mw, *d = NULL, *x;
	const char	*mid = view_dfield(data, "mid"), *vid, *tz, *org;
	long long	 start, end;
	struct invite	 inv;
	char		 key[STORE_KEY_MAX], *loc = NULL, *desc = NULL;
	char		*uid = NULL;
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
	if (venue != NULL) {
		json_t *vm = view_venue_for_meeting(venue, m, cf);

		json_object_set_new(v->ctx, "access", view_access(vm, c));
		json_decref(vm);
	}
	if ((d = json_loads(view_dfield(data, "data"), 0, &je)) == NULL)
		d = json_object();
	if ((x = json_object_get(d, "changes")) != NULL)
		json_object_set(v->ctx, "changes", x);
	if (strcmp(kind, "reminder") == 0) {
		char lead[64];
		long long l = json_integer_value(json_object_get(d, "lead"));

		if (l % 86400 == 0)
			snprintf(lead, sizeof lead, "%lld day%s", l / 86400,
			    l == 86400 ? "" : "s");
		else if (l % 3600 == 0)
			snprintf(lead, sizeof lead, "%lld hour%s", l / 3600,
			    l == 3600 ? "" : "s");
		else if (l % 60 == 0)
			snprintf(lead, sizeof lead, "%lld minutes", l / 60);
		else
			snprintf(lead, sizeof lead, "%lld seconds", l);
		json_object_set_new(v->ctx, "reminder", json_pack("{s:s}",
		    "lead", lead));
	}
	if (strcmp(kind, "cancellation") == 0) {
		cancel = 1;
		json_object_set_new(v->ctx, "cancellation", json_pack("{s:b}",
		    "removed", json_is_true(json_object_get(d, "removed"))));
		view_cancel_reason(v, m, json_is_true(json_object_get(d,
		    "removed")));
	}
	org = view_str(json_object_get(m, "organiser"), "email");
	if (org != NULL)
		view_reply_to(v, view_str(json_object_get(m, "organiser"),
		    "name"), org);
	else
		view_reply_to(v, "", view_str(m, "coordinator") ?
		    view_str(m, "coordinator") : cf->coordinator);

	/* Invitations, updates and cancellations carry the calendar. */
	if (strcmp(kind, "invitation") == 0 || strcmp(kind, "update") == 0 ||
	    cancel) {
		memset(&inv, 0, sizeof inv);
		uid = xasprintf("%s@%s", mid, cf->from_domain);
		inv.uid = uid;
		inv.sequence = (int)json_integer_value(json_object_get(
		    json_object_get(mw, "meta"), "seq"));
		inv.cancel = cancel;
		inv.start = start;
		inv.end = end;
		inv.tz = tz;
		inv.dtstamp = util_now_ms() / 1000;
		inv.summary = view_str(m, "title");
		if (venue != NULL)
			loc = xasprintf("%s, %s", view_str(venue, "name"),
			    view_str(venue, "address"));
		else if (json_object_get(m, "online"))
			loc = xstrdup(view_str(json_object_get(m, "online"),
			    "url"));
		inv.location = loc;
		desc = view_ics_description(m, venue, c);
		inv.description = desc;
		inv.url = json_object_get(m, "online") ? view_str(
		    json_object_get(m, "online"), "url") : NULL;
		inv.organizer_name = org ? view_str(json_object_get(m,
		    "organiser"), "name") : cf->from_name;
		inv.organizer_email = org ? org : cf->from_addr;
		inv.attendee_name = v->to_name;
		inv.attendee_email = v->to_addr;
		if ((v->ics = invite_build(&inv, e)) == NULL)
			goto err;
		v->ics_method = invite_method(&inv);
		json_object_set_new(v->ctx, "calendar", json_true());
	}
	rv = 0;
err:
	free(uid);
	free(loc);
	free(desc);
	json_decref(d);
	return rv;
}

static const char *
view_status_text(const char *st)
{
	if (strcmp(st, "done") == 0)
		return "Done";
	if (strcmp(st, "in-progress") == 0)
		return "We are working on it";
	if (strcmp(st, "planned") == 0)
		return "Planned";
	return "Not possible";
}

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

static int
view_outcome(const char *did, const char *cid, json_t *data,
    const struct config *cf, struct view *v, struct err *e)
{
	json_t		*c = view_rec(data, "collaborator", cid), *o, *d, *x;
	json_t		*oc, *items, *sv;
	const char	*src = view_dfield(data, "src"), *st, *coord;
	json_error_t	 je;
	size_t		 i;

	if (c == NULL)
		return err_set(e, "collaborator %s is not stored", cid);
	if ((o = view_rec(data, "outcome", src)) == NULL)
		return err_set(e, "outcome %s is not stored", src);
	view_base(v, did, cf, "outcome", view_format(c));
	if (view_recipient(v, c, e) == -1)
		return -1;
	st = view_str(o, "status");
	oc = json_object();
	json_object_set_new(oc, "id", json_string(src));
	view_copy(oc, o, "we_did");
	json_object_set_new(oc, "we_did_paragraphs",
	    view_paragraphs(view_str(o, "we_did")));
	json_object_set_new(oc, "status", json_string(st));
	json_object_set_new(oc, "status_text", json_string(
	    view_status_text(st)));
	json_object_set_new(oc, strcmp(st, "in-progress") == 0 ? "in_progress" :
	    strcmp(st, "not-possible") == 0 ? "not_possible" : st, json_true());
	if (view_str(o, "reason") != NULL) {
		view_copy(oc, o, "reason");
		json_object_set_new(oc, "reason_paragraphs",
		    view_paragraphs(view_str(o, "reason")));
	}
	json_object_set_new(v->ctx, "outcome", oc);
	items = json_array();
	d = json_loads(view_dfield(data, "data"), 0, &je);
	json_array_foreach(json_object_get(d, "said"), i, x) {
		if ((sv = view_rec(data, "said", json_string_value(x))) != NULL)
			json_array_append_new(items, view_said_item(data, sv,
			    cf));
	}
	json_decref(d);
	if (json_array_size(items) == 0) {
		json_decref(items);
		return err_set(e, "outcome %s: none of the said items is "
		    "stored", src);
	}
	json_object_set_new(v->ctx, "items", items);
	coord = view_str(o, "coordinator");
	view_reply_to(v, "", coord ? coord : cf->coordinator);
	return 0;
}

static int
view_digest(const char *did, json_t *data, const struct config *cf,
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

/* Issue 14: one person of a call list, or NULL when they are gone. */
static json_t *
view_call_person(json_t *data, json_t *call, json_t *access)
{
	json_t		*c, *it, *needs, *comms, *x;
	const char	*cid = view_str(call, "cid"), *kind;
	size_t		 i;
	char		*s;

	c = view_rec(data, "collaborator", cid);
	if (c == NULL || !json_is_true(json_object_get(c, "consent")))
		return NULL;
	it = json_object();
	json_object_set_new(it, "id", json_string(cid));
	view_copy(it, c, "name");
	view_copy(it, c, "phone");
	kind = view_str(call, "kind");
	if (kind != NULL)
		json_object_set_new(it, kind, json_true());
	if (json_is_true(json_object_get(call, "removed")))
		json_object_set_new(it, "removed", json_true());
	view_copy(it, call, "changes");
	needs = json_array();
	json_array_foreach(json_object_get(c, "access_needs"), i, x) {
		s = access_describe(access, json_string_value(x));
		json_array_append_new(needs, json_pack("{s:s, s:s}", "label",
		    access_label(json_string_value(x)), "status", s));
		free(s);
	}
	if (json_array_size(needs) > 0)
		json_object_set_new(it, "needs", needs);
	else
		json_decref(needs);
	comms = json_array();
	json_array_foreach(json_object_get(c, "communication"), i, x) {
		s = access_comm_describe(json_string_value(x));
		json_array_append_new(comms, json_string(s));
		free(s);
	}
	if (json_array_size(comms) > 0)
		json_object_set_new(it, "communication", comms);
	else
		json_decref(comms);
	return it;
}

/*
 * Issue 14: the call list of one meeting change, to the coordinator: the
 * people with no email address, what to tell them (what they would have
 * been emailed) and their access needs.
 */
static int
view_calllist(const char *did, json_t *data, const struct config *cf,
    struct view *v, struct err *e)
{
	json_t		*d, *m, *venue = NULL, *access, *people, *it, *call, *cl;
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
	access = view_meeting_access(venue, m, cf);
	people = json_array();
	json_array_foreach(json_object_get(d, "calls"), i, call) {
		if ((it = view_call_person(data, call, access)) == NULL)
			continue;
		if (json_object_get(it, "cancellation") != NULL &&
		    json_object_get(it, "removed") == NULL)
			cancelled = 1;
		json_array_append_new(people, it);
	}
	json_decref(access);
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
	view_cancel_reason(v, m, !cancelled);
	json_object_set_new(v->ctx, "recipient", json_pack("{s:s}", "name",
	    "Coordinator"));
	v->to_name = xstrdup("Coordinator");
	v->to_addr = xstrdup(to);
	return 0;
}

int
view_build(const char *did, const char *kind, const char *cid, json_t *data,
    const struct config *cf, struct view *v, struct err *e)
{
	memset(v, 0, sizeof *v);
	if (strcmp(kind, "announcement") == 0)
		return view_announcement(did, cid, data, cf, v, e);
	if (strcmp(kind, "notice") == 0)
		return view_notice(did, data, cf, v, e);
	if (strcmp(kind, "outcome") == 0)
		return view_outcome(did, cid, data, cf, v, e);
	if (strcmp(kind, "digest") == 0)
		return view_digest(did, data, cf, v, e);
	if (strcmp(kind, "calllist") == 0)
		return view_calllist(did, data, cf, v, e);
	if (strcmp(kind, "invitation") == 0 || strcmp(kind, "update") == 0 ||
	    strcmp(kind, "cancellation") == 0 || strcmp(kind, "reminder") == 0 ||
	    strcmp(kind, "venue-update") == 0)
		return view_meeting(did, kind, cid, data, cf, v, e);
	return err_set(e, "no view for emails of kind \"%s\"", kind);
}

void
view_clear(struct view *v)
{
	json_decref(v->ctx);
	free(v->to_name);
	free(v->to_addr);
	free(v->reply_name);
	free(v->reply_addr);
	free(v->message_id);
	free(v->ics);
	memset(v, 0, sizeof *v);
}

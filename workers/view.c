/*
 * view.c: deliveries become template contexts (see view.h and the list of
 * variables in config/templates/README). Data only: every word a person
 * reads is the templates' (access states and labels, change names, status),
 * so an operator can reword each format. Dates are written for people
 * (clock.c). Pure; worker threads, each on its own job.
 *
 * This file: the parts every kind of email shares (view_impl.h: records
 * from the job's data, the recipient, Reply-To, format, Message-ID), the
 * announcement and the notice to a coordinator, the calendar part built
 * again by view_calendar with the description the templates made
 * (render.c), and view_build, which picks the kind. Meetings, their access
 * section and call lists are view_meeting.c's; "you said, we did"
 * (outcomes, their call lists and the overdue digest) view_said.c's.
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


json_t *
view_rec(json_t *data, const char *type, const char *id)
{
	char	key[STORE_KEY_MAX];

	return json_object_get(json_object_get(json_object_get(data,
	    "records"), store_reckey(type, id, key, sizeof key)), "record");
}

const char *
view_dfield(json_t *data, const char *name)
{
	const char *s = json_string_value(json_object_get(json_object_get(
	    data, "delivery"), name));

	return s ? s : "";
}

const char *
view_str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Paragraphs: text split at blank lines, each trimmed. */
json_t *
view_paragraphs(const char *text)
{
	json_t		*a = json_array();
	const char	*p = text, *q, *end;

	while (p != NULL && *p) {
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
void
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

int
view_recipient(struct view *v, json_t *c, struct err *e)
{
	json_t		*r;
	const char	*name = view_str(c, "name"), *email = view_str(c, "email");

	if (name == NULL || email == NULL)
		return err_set(e, "the collaborator record has no name or email");
	r = json_object();
	json_object_set_new(r, "name", json_string(name));
	json_object_set_new(r, "id", json_string(view_str(c, "id")));
	json_object_set_new(v->ctx, "recipient", r);
	v->to_name = xstrdup(name);
	v->to_addr = xstrdup(email);
	return 0;
}

void
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

const char *
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
	json_t		*d, *n;
	json_error_t	 je;
	const char	*to = view_dfield(data, "to"), *dt = view_dfield(data,
	    "data");
	json_t		*r;

	if (*to == '\0')
		return err_set(e, "notice %s has no address", did);
	if ((d = json_loads(dt, 0, &je)) == NULL)
		return err_set(e, "notice %s: bad data: %s", did, je.text);
	view_base(v, did, cf, "notice", "standard");
	n = json_object();
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


void
view_copy(json_t *dst, json_t *src, const char *key)
{
	json_t	*v = json_object_get(src, key);

	if (v != NULL && !json_is_null(v))
		json_object_set(dst, key, v);
}


int
view_calendar(struct view *v, const char *description, struct err *e)
{
	char	*ics;

	if (v->inv == NULL || description == NULL || *description == '\0')
		return 0;
	v->inv->description = description;
	ics = invite_build(v->inv, e);
	v->inv->description = NULL;
	if (ics == NULL)
		return -1;
	free(v->ics);
	v->ics = ics;
	return 0;
}


/*
 * A phone number in a line of text, for a tel: link: {text, before,
 * number, after, tel}, or just {text} when there is none. A number is a
 * run of digits, spaces, dashes and brackets (a leading +) holding 8 to 15
 * digits.
 */
json_t *
view_phone(const char *text)
{
	json_t		*o = json_pack("{s:s}", "text", text);
	const char	*p, *q, *end = NULL;
	char		 tel[32];
	size_t		 n;

	for (p = text; *p != '\0'; p++) {
		if (!(*p == '+' || (*p >= '0' && *p <= '9')))
			continue;
		n = 0;
		if (*p == '+')
			tel[n++] = '+';
		for (q = p; *q != '\0'; q++) {
			if (*q >= '0' && *q <= '9') {
				if (n < sizeof tel - 1)
					tel[n++] = *q;
				end = q + 1;
			} else if (!(*q == ' ' || *q == '-' || *q == '(' ||
			    *q == ')' || (*q == '+' && q == p)))
				break;
		}
		tel[n] = '\0';
		n = strlen(tel) - (tel[0] == '+');
		if (n >= 8 && n <= 15) {
			json_object_set_new(o, "before", json_stringn(text,
			    p - text));
			json_object_set_new(o, "number", json_stringn(p,
			    end - p));
			json_object_set_new(o, "after", json_string(end));
			json_object_set_new(o, "tel", json_string(tel));
			return o;
		}
		p = q > p ? q - 1 : p;
	}
	return o;
}

/* o's key holding a phone number: key_tel, its digits for a tel: link. */
void
view_tel(json_t *o, const char *key)
{
	const char	*s = view_str(o, key);
	json_t		*ph;
	char		 name[64];

	if (s == NULL)
		return;
	ph = view_phone(s);
	snprintf(name, sizeof name, "%s_tel", key);
	if (json_object_get(ph, "tel") != NULL)
		json_object_set(o, name, json_object_get(ph, "tel"));
	json_decref(ph);
}


/* A person of a call list as the templates read them: id, name, phone,
 * phone_tel, communication (their needs, in words); NULL when they are
 * gone or no longer consent. */
json_t *
view_caller(json_t *data, const char *cid)
{
	json_t	*c = view_rec(data, "collaborator", cid), *it, *comms, *x;
	size_t	 i;
	char	*s;

	if (c == NULL || !json_is_true(json_object_get(c, "consent")))
		return NULL;
	it = json_object();
	json_object_set_new(it, "id", json_string(cid));
	view_copy(it, c, "name");
	view_copy(it, c, "phone");
	view_tel(it, "phone");
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
		return view_said_outcome(did, cid, data, cf, v, e);
	if (strcmp(kind, "digest") == 0)
		return view_said_digest(did, data, cf, v, e);
	if (strcmp(kind, "outcome-calls") == 0)
		return view_said_calls(did, data, cf, v, e);
	if (strcmp(kind, "calllist") == 0)
		return view_meeting_calllist(did, data, cf, v, e);
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
	free(v->inv);
	free(v->inv_uid);
	free(v->inv_loc);
	memset(v, 0, sizeof *v);
}


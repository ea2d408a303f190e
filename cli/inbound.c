/*
 * inbound.c: `hearback inbound`: one email on standard input, from an
 * MTA's pipe or alias for [inbound] address (SPEC section 9).
 *
 *   - a calendar REPLY (RFC 5546; METHOD:REPLY, one ATTENDEE with PARTSTAT
 *     ACCEPTED, DECLINED or TENTATIVE) to one of our invitations (UID
 *     <meeting>@<our domain>) becomes that person's answer, as on the
 *     answer page, while the meeting has not started. Only a person's own
 *     reply counts (RFC 6047 section 3): the ATTENDEE must be the From of
 *     the email and a person the meeting invites; anything else is ignored;
 *   - a delivery status notification (RFC 3464: multipart/report;
 *     report-type=delivery-status) whose recipients failed marks each such
 *     collaborator address as bouncing (no more email to it until the
 *     collaborator record changes it) and tells the coordinator;
 *   - anything else changes nothing.
 *
 * Exit 0 (done, or nothing to do), 65 a message that cannot be parsed, 75
 * (EX_TEMPFAIL) when Redis cannot be reached or fails, so that the MTA
 * keeps the message and tries again (69, what the other commands use,
 * would make Postfix bounce it), 78 bad config. Messages to stderr name collaborators by id.
 * Parsing is GMime's and libical's; the state is answer.lua's.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <libical/ical.h>

#include "answer.h"
#include "cli.h"
#include "clock.h"
#include "plan.h"
#include "store.h"

#define INBOUND_MAX	(16 * 1024 * 1024)	/* bytes read from stdin */
#define EX_TEMPFAIL_	75

/*
 * cli_connect() and cli_redis_failed() exit 69 themselves; while Redis is
 * in use here, an exit handler turns any exit into 75 (after their
 * message), so the MTA defers instead of bouncing.
 */
static int	inbound_armed;

static void
inbound_atexit(void)
{
	if (inbound_armed)
		_exit(EX_TEMPFAIL_);
}

struct inbound {
	const struct config	*cf;
	redisContext		*c;
	char			*from;		/* the From address, lower case */
	int			 dsn;		/* a delivery status report */
	GPtrArray		*calendars;	/* text/calendar texts */
	GPtrArray		*status;	/* delivery-status texts */
};

static void
inbound_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A part's decoded content as a new string. */
static char *
inbound_content(GMimeObject *o)
{
	GMimeStream	*mem;
	GMimeDataWrapper *dw;
	GByteArray	*ba;
	char		*s;

	mem = g_mime_stream_mem_new();
	if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(o));

		if (m != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL,
			    mem);
	} else if (GMIME_IS_PART(o) &&
	    (dw = g_mime_part_get_content(GMIME_PART(o))) != NULL)
		g_mime_data_wrapper_write_to_stream(dw, mem);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	s = xstrndup((const char *)ba->data, ba->len);
	g_object_unref(mem);
	return s;
}

static void
inbound_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct inbound	*in = data;
	GMimeContentType *ct = g_mime_object_get_content_type(part);

	if (ct == NULL)
		return;
	if (g_mime_content_type_is_type(ct, "text", "calendar") ||
	    g_mime_content_type_is_type(ct, "application", "ics"))
		g_ptr_array_add(in->calendars, inbound_content(part));
	else if (in->dsn && (g_mime_content_type_is_type(ct, "message",
	    "delivery-status") || g_mime_content_type_is_type(ct, "message",
	    "global-delivery-status")))
		g_ptr_array_add(in->status, inbound_content(part));
}

/*
 * Notices.
 */

static void
inbound_notice(struct inbound *in, const char *did, const char *to,
    const char *title, const char *text, const char *about)
{
	struct plan_ctx		 pc = { in->cf, util_now_ms(), "" };
	struct store_argv	 a;
	json_t			*ops = json_array(), *lines = json_array();
	redisReply		*r;
	struct err		 e;

	json_array_append_new(lines, json_string(text));
	plan_notice(ops, &pc, did, to, title, lines, about);
	store_commit_argv(in->cf->prefix, "", "", ops, &a);
	json_decref(ops);
	json_decref(lines);
	if ((r = store_call_sync(in->c, &a, &e)) == NULL)
		cli_redis_failed(&e);
	freeReplyObject(r);
}

/*
 * Calendar replies.
 */

static const char *
inbound_partstat(icalproperty *p)
{
	icalparameter	*par = icalproperty_get_first_parameter(p,
			    ICAL_PARTSTAT_PARAMETER);

	if (par == NULL)
		return NULL;
	switch (icalparameter_get_partstat(par)) {
	case ICAL_PARTSTAT_ACCEPTED:	return "yes";
	case ICAL_PARTSTAT_DECLINED:	return "no";
	case ICAL_PARTSTAT_TENTATIVE:	return "maybe";
	default:			return NULL;
	}
}

/* 1 when the meeting stored for mid has not started (and is not
 * cancelled); its record into *m. */
static int
inbound_open(struct inbound *in, const char *mid, const char *cid,
    json_t **m)
{
	redisReply	*r;
	json_t		*w;
	const char	*tz;
	long long	 start;
	struct err	 e;

	*m = NULL;
	if ((r = answer_call_sync(in->c, in->cf->prefix, &e, "ctx", mid, cid,
	    NULL)) == NULL)
		cli_redis_failed(&e);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    (w = json_loadb(r->element[0]->str, r->element[0]->len, 0,
	    NULL)) == NULL) {
		freeReplyObject(r);
		return 0;
	}
	freeReplyObject(r);
	*m = json_incref(json_object_get(w, "record"));
	json_decref(w);
	tz = json_string_value(json_object_get(*m, "timezone"));
	if (clock_parse_local(json_string_value(json_object_get(*m, "start")),
	    tz ? tz : in->cf->timezone, &start, &e) == -1)
		return 0;
	if (json_string_value(json_object_get(*m, "status")) != NULL &&
	    strcmp(json_string_value(json_object_get(*m, "status")),
	    "scheduled") != 0)
		return 0;
	return util_now_ms() / 1000 < start;
}

/*
 * A calendar REPLY to one event with exactly one ATTENDEE, the sender of
 * the email, with an answer: that person's address (lower case, a new
 * string), the event's UID into *uid and the answer into *ans; else NULL.
 */
static char *
inbound_reply_sender(struct inbound *in, icalcomponent *cal,
    const char **uid, const char **ans)
{
	icalcomponent	*ev;
	icalproperty	*p;
	const char	*who;
	char		*addr;
	int		 n;

	if (icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT ||
	    icalcomponent_get_method(cal) != ICAL_METHOD_REPLY ||
	    (ev = icalcomponent_get_first_component(cal,
	    ICAL_VEVENT_COMPONENT)) == NULL || (*uid =
	    icalcomponent_get_uid(ev)) == NULL)
		return NULL;
	/* Exactly one ATTENDEE: the person replying, and no one else. */
	n = icalcomponent_count_properties(ev, ICAL_ATTENDEE_PROPERTY);
	p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	if (n != 1 || p == NULL || (who = icalproperty_get_attendee(p)) ==
	    NULL || strncasecmp(who, "mailto:", 7) != 0 ||
	    (*ans = inbound_partstat(p)) == NULL)
		return NULL;
	addr = xstrdup(who + 7);
	inbound_lower(addr);
	if (in->from == NULL || strcmp(addr, in->from) != 0) {
		fprintf(stderr, "hearback: inbound: a calendar reply for "
		    "someone other than its sender: ignored\n");
		free(addr);
		return NULL;
	}
	return addr;
}

/* cid's answer ans (at ms) to meeting mid (record m), as on the answer
 * page; a "no" that changes the answer tells the organiser. */
static void
inbound_reply_set(struct inbound *in, const char *mid, const char *cid,
    const char *ans, const char *ms, json_t *m)
{
	redisReply	*s;
	struct err	 e;
	const char	*to;
	char		*did, *line;

	if ((s = answer_call_sync(in->c, in->cf->prefix, &e, "set", mid, cid,
	    ans, ms, "calendar", NULL)) == NULL)
		cli_redis_failed(&e);
	if (s->type == REDIS_REPLY_ARRAY && s->elements == 2 &&
	    s->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(s->element[0]->str, "changed") == 0) {
		fprintf(stderr, "hearback: inbound: collaborator %s "
		    "answered %s for meeting %s\n", cid, ans, mid);
		if (strcmp(ans, "no") == 0) {
			to = json_string_value(json_object_get(
			    json_object_get(m, "organiser"), "email"));
			line = xasprintf("Collaborator %s has said "
			    "(in their calendar) they cannot come to "
			    "meeting %s (\"%s\"). They will get no more "
			    "reminders for it.", cid, mid,
			    json_string_value(json_object_get(m, "title")));
			did = store_did("notice", "answer", mid, cid, ms, NULL);
			inbound_notice(in, did, to && *to ? to :
			    in->cf->coordinator, "Someone cannot come "
			    "to a meeting", line, mid);
			free(did);
			free(line);
		}
	}
	freeReplyObject(s);
}

/* One calendar text: 1 when it was a reply we took, else 0. */
static int
inbound_reply(struct inbound *in, const char *text)
{
	icalcomponent	*cal;
	const char	*uid, *ans, *at;
	char		*addr = NULL, *mid = NULL, ms[32];
	const char	*cid;
	redisReply	*r = NULL;
	json_t		*m = NULL;
	struct err	 e;
	int		 took = 0;

	if ((cal = icalparser_parse_string(text)) == NULL)
		return 0;
	if ((addr = inbound_reply_sender(in, cal, &uid, &ans)) == NULL)
		goto out;
	/* Our UIDs are <meeting>@<[smtp] from's domain>. */
	at = strrchr(uid, '@');
	if (at == NULL || strcasecmp(at + 1, in->cf->from_domain) != 0)
		goto out;
	mid = xstrndup(uid, at - uid);
	if ((r = answer_call_sync(in->c, in->cf->prefix, &e, "who", mid, addr,
	    NULL)) == NULL)
		cli_redis_failed(&e);
	if (r->type != REDIS_REPLY_STRING || r->len == 0) {
		fprintf(stderr, "hearback: inbound: a calendar reply from "
		    "someone meeting %s does not invite: ignored\n", mid);
		goto out;
	}
	cid = r->str;
	if (!inbound_open(in, mid, cid, &m)) {
		fprintf(stderr, "hearback: inbound: meeting %s has started or "
		    "is not scheduled: the reply of %s is ignored\n", mid, cid);
		goto out;
	}
	snprintf(ms, sizeof ms, "%lld", util_now_ms());
	inbound_reply_set(in, mid, cid, ans, ms, m);
	took = 1;
out:
	json_decref(m);
	if (r != NULL)
		freeReplyObject(r);
	free(addr);
	free(mid);
	icalcomponent_free(cal);
	return took;
}

/*
 * Delivery status notifications.
 */

/* The value of a field in a block of "Name: value" lines (folded lines
 * joined), or NULL; a new string. */
static char *
inbound_field(const char *block, size_t len, const char *name)
{
	const char	*p = block, *end = block + len, *nl, *v;
	size_t		 nlen = strlen(name);
	struct buf	 b;

	while (p < end) {
		nl = memchr(p, '\n', end - p);
		if (nl == NULL)
			nl = end;
		if ((size_t)(nl - p) > nlen && strncasecmp(p, name, nlen) ==
		    0 && p[nlen] == ':') {
			buf_init(&b);
			v = p + nlen + 1;
			for (;;) {
				buf_add(&b, v, nl - v);
				if (nl + 1 >= end || (nl[1] != ' ' &&
				    nl[1] != '\t'))
					break;
				v = nl + 1;
				if ((nl = memchr(v, '\n', end - v)) == NULL)
					nl = end;
			}
			return buf_take(&b);
		}
		p = nl + 1;
	}
	return NULL;
}

static char *
inbound_trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Each recipient block whose Action is "failed": its address bounces. */
static int
inbound_dsn(struct inbound *in, const char *text)
{
	const char	*p = text, *q;
	size_t		 len;
	char		*action, *rcpt, *addr, *semi, *did, *line, ms[32];
	redisReply	*r;
	struct err	 e;
	size_t		 i;
	int		 n = 0;
	struct buf	 t;

	/* CRLF to LF. */
	buf_init(&t);
	for (q = text; *q; q++)
		if (*q != '\r')
			buf_addc(&t, *q);
	p = t.s ? t.s : "";
	while (*p) {
		q = strstr(p, "\n\n");
		len = q ? (size_t)(q - p) : strlen(p);
		action = inbound_field(p, len, "Action");
		rcpt = inbound_field(p, len, "Final-Recipient");
		if (rcpt == NULL)
			rcpt = inbound_field(p, len, "Original-Recipient");
		if (action != NULL && rcpt != NULL &&
		    strcasecmp(inbound_trim(action), "failed") == 0 &&
		    (semi = strchr(rcpt, ';')) != NULL) {
			addr = inbound_trim(semi + 1);
			inbound_lower(addr);
			snprintf(ms, sizeof ms, "%lld", util_now_ms());
			if ((r = answer_call_sync(in->c, in->cf->prefix, &e,
			    "bounce", addr, ms, NULL)) == NULL)
				cli_redis_failed(&e);
			for (i = 0; r->type == REDIS_REPLY_ARRAY &&
			    i < r->elements; i++) {
				const char *cid = r->element[i]->str;

				fprintf(stderr, "hearback: inbound: the address "
				    "of collaborator %s bounces\n", cid);
				line = xasprintf("Email to collaborator %s "
				    "cannot be delivered: their address bounces. "
				    "No more email goes to it until their "
				    "collaborator record gives another address.",
				    cid);
				did = store_did("notice", "bounce", cid, ms,
				    NULL);
				inbound_notice(in, did, in->cf->coordinator,
				    "An email address bounces", line, cid);
				free(did);
				free(line);
				n++;
			}
			freeReplyObject(r);
		}
		free(action);
		free(rcpt);
		p += len;
		while (*p == '\n')
			p++;
	}
	buf_free(&t);
	return n;
}

/* The email on standard input, parsed; NULL (message given) if there is
 * none, it is too large or it cannot be parsed. */
static GMimeMessage *
inbound_message(void)
{
	struct buf	 b;
	char		 chunk[65536];
	size_t		 n;
	GMimeStream	*st;
	GMimeParser	*parser;
	GMimeMessage	*msg;

	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		if (b.len + n > INBOUND_MAX) {
			fprintf(stderr, "hearback: inbound: the message is "
			    "larger than %d bytes\n", INBOUND_MAX);
			buf_free(&b);
			return NULL;
		}
		buf_add(&b, chunk, n);
	}
	if (b.len == 0 || memchr(b.s, ':', b.len) == NULL) {
		fprintf(stderr, "hearback: inbound: standard input holds no "
		    "email message\n");
		buf_free(&b);
		return NULL;
	}
	st = g_mime_stream_mem_new_with_buffer(b.s, b.len);
	parser = g_mime_parser_new_with_stream(st);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(st);
	buf_free(&b);
	if (msg == NULL || g_mime_message_get_mime_part(msg) == NULL) {
		fprintf(stderr, "hearback: inbound: cannot parse the message "
		    "on standard input\n");
		if (msg != NULL)
			g_object_unref(msg);
		return NULL;
	}
	return msg;
}

/* The message's one From address (lower case) and whether it is a
 * delivery status report, into in. */
static void
inbound_headers(struct inbound *in, GMimeMessage *msg)
{
	InternetAddressList	*from;
	InternetAddress		*ia;
	GMimeContentType	*ct;

	from = g_mime_message_get_from(msg);
	if (from != NULL && internet_address_list_length(from) == 1 &&
	    INTERNET_ADDRESS_IS_MAILBOX(ia = internet_address_list_get_address(
	    from, 0))) {
		in->from = xstrdup(internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(ia)));
		inbound_lower(in->from);
	}
	ct = g_mime_object_get_content_type(g_mime_message_get_mime_part(msg));
	if (ct != NULL && g_mime_content_type_is_type(ct, "multipart",
	    "report")) {
		const char *rt = g_mime_content_type_get_parameter(ct,
		    "report-type");

		in->dsn = rt != NULL && strcasecmp(rt, "delivery-status") == 0;
	}
}

/* The reports, then (unless it is a bounce) the first calendar reply
 * taken, with Redis; how many changed something. */
static int
inbound_act(struct inbound *in)
{
	guint	i;
	int	took = 0;

	fflush(stdout);
	inbound_armed = 1;
	atexit(inbound_atexit);
	in->c = cli_connect(in->cf);
	for (i = 0; i < in->status->len; i++)
		took += inbound_dsn(in, g_ptr_array_index(in->status, i));
	/* A bounce carries our own invitation back: not a reply. */
	for (i = 0; !in->dsn && i < in->calendars->len && !took; i++)
		took += inbound_reply(in, g_ptr_array_index(in->calendars, i));
	redisFree(in->c);
	inbound_armed = 0;
	return took;
}

int
cli_inbound(const struct config *cf, int argc, char **argv)
{
	struct inbound		 in;
	GMimeMessage		*msg;
	int			 took = 0;

	if (argc != 0) {
		fprintf(stderr, "usage: hearback inbound < message\n");
		return EX_USAGE_;
	}
	if ((msg = inbound_message()) == NULL)
		return EX_INVALID;
	memset(&in, 0, sizeof in);
	in.cf = cf;
	in.calendars = g_ptr_array_new_with_free_func(free);
	in.status = g_ptr_array_new_with_free_func(free);
	inbound_headers(&in, msg);
	g_mime_message_foreach(msg, inbound_part, &in);	/* the top part too */
	if (in.status->len > 0 || in.calendars->len > 0)
		took = inbound_act(&in);
	if (!took)
		fprintf(stderr, "hearback: inbound: nothing to do with this "
		    "message\n");
	g_ptr_array_free(in.calendars, TRUE);
	g_ptr_array_free(in.status, TRUE);
	free(in.from);
	g_object_unref(msg);
	return EX_DONE;
}

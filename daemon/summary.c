/*
 * summary.c: the answers summary of SPEC section 9. When a meeting's first
 * reminder falls due, gate.lua adds the meeting to sumdue; a timer here
 * (every SUMMARY_EVERY seconds) takes up to ten of them (answer.lua
 * "sumdue") and for each reads the answers and the records of those who
 * answered (answer.lua "summary"), then commits one notice to the
 * organiser (else the coordinator): who is coming, who cannot, who is not
 * sure, who has not answered, and the access needs of those coming, unmet
 * ones first. The notice goes through web_notice (plan_notice), like the
 * other notices the pages cause; its lines are a notice's (the coordinator
 * notice templates word the rest). Logs name collaborators by id only.
 *
 * Owns: its timer and a reference to the config. Main (libevent) thread
 * only: it reads Redis over the daemon's ops connection, which it does not
 * own. web.c starts and frees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "access.h"
#include "answer.h"
#include "config.h"
#include "log.h"
#include "plan.h"
#include "rconn.h"
#include "store.h"
#include "summary.h"
#include "web.h"

#define SUMMARY_EVERY	5	/* seconds between looks at sumdue */

struct summary {
	struct config		*cf;
	struct rconn		*ops;
	struct event		*tick;
	int			 busy;		/* sumdue in flight */
};

static const char *
summary_str(json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static int
summary_need_rank(json_t *access, const char *word)
{
	switch (access_status(access, word, NULL)) {
	case ACCESS_NO:		return 0;
	case ACCESS_UNKNOWN:	return 1;
	default:		return 2;
	}
}

/* "not available", "not yet confirmed", "available" (+ ": details"), for
 * the coordinator's summary; a new string. */
static char *
summary_need_words(json_t *access, const char *word)
{
	const char	*detail = NULL;

	switch (access_status(access, word, &detail)) {
	case ACCESS_NO:
		return xstrdup("not available");
	case ACCESS_UNKNOWN:
		return xstrdup("not yet confirmed");
	default:
		return detail ? xasprintf("available: %s", detail) :
		    xstrdup("available");
	}
}

static void
summary_list_line(json_t *lines, const char *label, json_t *ids)
{
	struct buf	b;
	size_t		i;
	json_t		*v;

	buf_init(&b);
	buf_printf(&b, "%s (%zu): ", label, json_array_size(ids));
	if (json_array_size(ids) == 0)
		buf_adds(&b, "nobody");
	json_array_foreach(ids, i, v)
		buf_printf(&b, "%s%s", i ? ", " : "", json_string_value(v));
	json_array_append_new(lines, json_string(b.s));
	buf_free(&b);
}

/* One meeting's answers, sorted: lists of people's words, needs as
 * {rank, who, word}, communication lines, and the access the meeting
 * (over its venue) offers. */
struct summary_tally {
	json_t		*yes, *no, *maybe, *none;
	json_t		*needs;
	json_t		*comm;
	json_t		*access;
};

/* The venue's access (the reply's last element, if a record), overlaid by
 * the meeting's own (m). */
static json_t *
summary_access(redisReply *x, json_t *m)
{
	json_t	*access = json_object(), *venue = NULL;

	if (x->elements > 1 && x->element[x->elements - 1]->type ==
	    REDIS_REPLY_STRING)
		venue = web_record(x->element[x->elements - 1]);
	if (venue != NULL)
		json_object_update(access, json_object_get(venue, "access"));
	json_object_update(access, json_object_get(m, "access"));
	json_decref(venue);
	return access;
}

/* The access needs and the communication needs of who, coming (record c). */
static void
summary_needs_of(struct summary_tally *t, json_t *c, const char *who)
{
	json_t	*n;
	size_t	 j;
	char	*d, *line;

	json_array_foreach(json_object_get(c, "access_needs"), j, n) {
		const char *wd = json_string_value(n);

		if (wd == NULL)
			continue;
		json_array_append_new(t->needs, json_pack("{s:i,s:s,s:s}",
		    "rank", summary_need_rank(t->access, wd), "who", who,
		    "word", wd));
	}
	/* What an email alone does not meet (AIS "flag"). */
	json_array_foreach(json_object_get(c, "communication"), j, n) {
		if (!json_is_string(n))
			continue;
		d = access_comm_describe(json_string_value(n));
		line = xasprintf("%s needs %s.", who, d);
		json_array_append_new(t->comm, json_string(line));
		free(line);
		free(d);
	}
}

/* One person's element of the reply: [cid, record, answer]. */
static void
summary_person(struct summary_tally *t, redisReply *e)
{
	json_t		*c, *a;
	const char	*ans;
	char		*who, *line;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 3)
		return;
	a = e->element[2]->len ? json_loadb(e->element[2]->str,
	    e->element[2]->len, 0, NULL) : NULL;
	ans = a ? summary_str(a, "a") : "";
	/* Notices name people by name and id (logs: id only). */
	c = web_record(e->element[1]);
	who = plan_person_words(c, e->element[0]->str);
	if (json_is_true(json_object_get(a, "stale"))) {
		/* Answered before the meeting changed: shown as such. */
		line = xasprintf("%s (before the last change)", who);
		json_array_append_new(strcmp(ans, "yes") == 0 ? t->yes :
		    strcmp(ans, "no") == 0 ? t->no : t->maybe,
		    json_string(line));
		free(line);
	} else
		json_array_append_new(strcmp(ans, "yes") == 0 ? t->yes :
		    strcmp(ans, "no") == 0 ? t->no : strcmp(ans, "maybe") ==
		    0 ? t->maybe : t->none, json_string(who));
	if (strcmp(ans, "yes") == 0 && c != NULL)
		summary_needs_of(t, c, who);
	free(who);
	json_decref(c);
	json_decref(a);
}

/* The access needs' lines, unmet ones first, then the communication. */
static void
summary_needs_lines(json_t *lines, struct summary_tally *t)
{
	json_t	*n;
	size_t	 j;
	char	*d, *line;
	int	 rank;

	json_array_append_new(lines, json_string(json_array_size(t->needs) ?
	    "Access needs of those coming, unmet ones first:" :
	    "Nobody coming has told us of an access need."));
	for (rank = 0; rank < 3; rank++) {
		json_array_foreach(t->needs, j, n) {
			if (json_integer_value(json_object_get(n, "rank")) !=
			    rank)
				continue;
			d = summary_need_words(t->access, summary_str(n,
			    "word"));
			line = xasprintf("%s needs %s (%s): %s.", summary_str(n,
			    "who"), access_label(summary_str(n, "word")),
			    summary_str(n, "word"), d);
			json_array_append_new(lines, json_string(line));
			free(line);
			free(d);
		}
	}
	if (json_array_size(t->comm) > 0) {
		json_array_append_new(lines, json_string("Besides email, "
		    "those coming need (please arrange):"));
		json_array_extend(lines, t->comm);
	}
}

/* The notice's lines for meeting m. */
static json_t *
summary_lines(struct summary_tally *t, json_t *m, const char *mid)
{
	json_t	*lines = json_array();
	char	*line;

	line = xasprintf("Answers so far for meeting %s (\"%s\"), as its first "
	    "reminder goes out:", mid, summary_str(m, "title"));
	json_array_append_new(lines, json_string(line));
	free(line);
	summary_list_line(lines, "Coming", t->yes);
	summary_list_line(lines, "Cannot come", t->no);
	summary_list_line(lines, "Not sure yet", t->maybe);
	summary_list_line(lines, "No answer", t->none);
	summary_needs_lines(lines, t);
	return lines;
}

static void
summary_on_summary(redisAsyncContext *ac, void *r, void *priv)
{
	struct summary	*w = priv;
	struct summary_tally t;
	redisReply	*x = r;
	json_t		*m, *lines;
	const char	*mid;
	char		*did;
	size_t		 i;

	if (x == NULL || x->type != REDIS_REPLY_ARRAY || x->elements < 1 ||
	    (m = web_record(x->element[0])) == NULL)
		return;
	mid = summary_str(m, "id");
	t.yes = json_array();
	t.no = json_array();
	t.maybe = json_array();
	t.none = json_array();
	t.needs = json_array();
	t.comm = json_array();
	t.access = summary_access(x, m);
	for (i = 1; i < x->elements; i++)
		summary_person(&t, x->element[i]);
	lines = summary_lines(&t, m, mid);
	did = store_did("notice", "summary", mid, NULL);
	web_notice(w->cf, w->ops, did, web_organiser(w->cf, m),
	    "Who is coming", lines, mid);
	log_info("summary: answers for meeting %s: %zu coming, %zu "
	    "cannot, %zu not sure, %zu no answer", mid, json_array_size(t.yes),
	    json_array_size(t.no), json_array_size(t.maybe),
	    json_array_size(t.none));
	free(did);
	json_decref(lines);
	json_decref(t.yes);
	json_decref(t.no);
	json_decref(t.maybe);
	json_decref(t.none);
	json_decref(t.needs);
	json_decref(t.comm);
	json_decref(t.access);
	json_decref(m);
}

static void
summary_on_sumdue(redisAsyncContext *ac, void *r, void *priv)
{
	struct summary	*w = priv;
	redisReply	*x = r;
	size_t		 i;

	w->busy = 0;
	if (x == NULL || x->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < x->elements; i++)
		if (x->element[i]->type == REDIS_REPLY_STRING)
			answer_call(w->ops, w->cf->prefix,
			    summary_on_summary, w, "summary",
			    x->element[i]->str, NULL);
}

static void
summary_tick(evutil_socket_t fd, short what, void *arg)
{
	struct summary	*w = arg;
	struct timeval	 tv = { SUMMARY_EVERY, 0 };

	if (!w->busy && rconn_up(w->ops) && answer_call(w->ops,
	    w->cf->prefix, summary_on_sumdue, w, "sumdue", "10", NULL) == 0)
		w->busy = 1;
	evtimer_add(w->tick, &tv);
}

struct summary *
summary_start(struct event_base *base, struct config *cf, struct rconn *ops,
    struct err *e)
{
	struct summary	*w = xcalloc(1, sizeof *w);
	struct timeval	 tv = { 1, 0 };

	w->cf = config_ref(cf);
	w->ops = ops;
	if ((w->tick = evtimer_new(base, summary_tick, w)) == NULL) {
		err_set(e, "summary: cannot make a timer");
		summary_free(w);
		return NULL;
	}
	evtimer_add(w->tick, &tv);
	return w;
}

void
summary_set_config(struct summary *w, struct config *cf)
{
	struct config	*old = w->cf;

	w->cf = config_ref(cf);
	config_unref(old);
}

void
summary_free(struct summary *w)
{
	if (w == NULL)
		return;
	if (w->tick != NULL)
		event_free(w->tick);
	config_unref(w->cf);
	free(w);
}

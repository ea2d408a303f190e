/*
 * preview.c: `hearback preview FILE --as ID` prints, as an mbox, the emails
 * the records in FILE would send that collaborator, built exactly as a
 * worker builds them (view, templates, MIME). Sends nothing, queues nothing,
 * writes nothing to Redis. Records earlier in the file count as stored for
 * later ones, so a file with a venue and a meeting previews the meeting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "clock.h"
#include "deliver.h"
#include "plan.h"
#include "store.h"
#include "tmpl.h"

static void
preview_print(const char *from, const char *msg, size_t len)
{
	const char	*p = msg, *end = msg + len, *nl;
	time_t		 now = time(NULL);
	char		 date[64];

	strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", gmtime(&now));
	printf("From %s %s\n", from, date);
	while (p < end) {
		size_t	n;

		nl = memchr(p, '\n', end - p);
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n >= 5 && strncmp(p, "From ", 5) == 0)
			putchar('>');
		fwrite(p, 1, n, stdout);
		putchar('\n');
		p = nl ? nl + 1 : end;
	}
	putchar('\n');
}

/* Records the deliveries refer to, from snap, the overlay, or Redis. */
static json_t *
preview_records(redisContext *c, const struct config *cf, json_t *snap,
    json_t *overlay, const char *refs)
{
	json_t		*recs = json_object(), *need = json_array(), *v;
	char		*copy = xstrdup(refs), *tok, *save = NULL;
	struct err	 e;

	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ",
	    &save)) {
		if ((v = json_object_get(overlay, tok)) != NULL ||
		    (v = json_object_get(snap, tok)) != NULL)
			json_object_set(recs, tok, v);
		else
			json_array_append_new(need, json_string(tok));
	}
	free(copy);
	if (json_array_size(need) > 0 && store_fetch_sync(c, cf->prefix, need,
	    recs, NULL, 0, &e) == -1)
		cli_redis_failed(&e);
	json_decref(need);
	return recs;
}

/* One run: what every stage needs, and what they found. */
struct preview {
	const struct config	*cf;
	redisContext		*c;
	struct tmplset		*ts;
	json_t			*overlay;	/* the file's records so far */
	const char		*as;		/* the collaborator's id */
	int			 count;		/* emails printed */
	int			 rv;		/* the exit code so far */
};

/* One planned delivery (item): printed if it is to pv->as. */
static void
preview_email(struct preview *pv, json_t *snap, json_t *item,
    const char *where)
{
	json_t		*d = json_object_get(item, "delivery"), *data;
	char		*msg, *rcpt;
	size_t		 len;
	struct err	 e;

	if (strcmp(json_string_value(json_object_get(d, "cid")), pv->as) != 0)
		return;
	data = json_object();
	json_object_set(data, "delivery", d);
	json_object_set_new(data, "records", preview_records(pv->c, pv->cf,
	    snap, pv->overlay, json_string_value(json_object_get(d, "refs"))));
	if (deliver_build(json_string_value(json_object_get(item, "did")),
	    json_string_value(json_object_get(d, "kind")), pv->as, data,
	    pv->cf, pv->ts, &msg, &len, &rcpt, &e) == -1) {
		fprintf(stderr, "%s: cannot build the %s email: %s\n", where,
		    json_string_value(json_object_get(d, "kind")), e.msg);
		pv->rv = EX_INVALID;
	} else {
		preview_print(pv->cf->from_addr, msg, len);
		free(msg);
		free(rcpt);
		pv->count++;
	}
	json_decref(data);
}

/* One record of the file: planned over what is stored and the records
 * before it, then each email it would send pv->as printed. -1 (message
 * given) if it cannot be planned. */
static int
preview_record(struct preview *pv, struct cli_rec *r)
{
	struct record	*rec = &r->rec;
	struct plan_ctx	 pc = { pv->cf, util_now_ms(), "preview" };
	json_t		*snap = json_object(), *ops = json_array(), *dl;
	json_t		*w, *item;
	const char	*key;
	char		 rk[STORE_KEY_MAX];
	size_t		 j;
	struct err	 e;
	int		 rv = -1;

	cli_snapshot(pv->c, pv->cf, rec, snap, NULL, 0);
	json_object_foreach(pv->overlay, key, w)
		json_object_set(snap, key, w);
	if (plan_apply(rec, snap, &pc, ops, &e) == -1) {
		fprintf(stderr, "%s: %s\n", r->where, e.msg);
		goto err;
	}
	w = json_pack("{s:O, s:{}}", "record", rec->json, "meta");
	json_object_set_new(pv->overlay, store_reckey(record_type_name(
	    rec->type), rec->id, rk, sizeof rk), w);
	dl = store_plan_deliveries(ops);
	json_array_foreach(dl, j, item)
		preview_email(pv, snap, item, r->where);
	json_decref(dl);
	rv = 0;
err:
	json_decref(snap);
	json_decref(ops);
	return rv;
}

int
cli_preview(const struct config *cf, int argc, char **argv)
{
	struct preview	 pv;
	struct cli_rec	*recs;
	const char	*file = NULL, *as = NULL;
	int		 n, i;
	struct err	 e;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--as") == 0 && i + 1 < argc)
			as = argv[++i];
		else if (file == NULL)
			file = argv[i];
		else
			file = NULL, i = argc;
	}
	if (file == NULL || as == NULL) {
		fprintf(stderr, "usage: hearback preview FILE --as "
		    "COLLABORATOR_ID\n");
		return EX_USAGE_;
	}
	memset(&pv, 0, sizeof pv);
	pv.cf = cf;
	pv.as = as;
	pv.rv = EX_DONE;
	if ((pv.ts = tmplset_load_over(cf->templates_dir,
	    cf->templates_shipped, &e)) == NULL) {
		fprintf(stderr, "hearback: %s\n", e.msg);
		return EX_BADCONFIG;
	}
	if (cli_read_records(cf, 1, (char **)&file, &recs, &n) == -1) {
		cli_free_records(recs, n);
		tmplset_unref(pv.ts);
		return EX_INVALID;
	}
	pv.overlay = json_object();
	pv.c = cli_connect(cf);
	for (i = 0; i < n; i++)
		if (preview_record(&pv, &recs[i]) == -1) {
			pv.rv = EX_INVALID;
			break;
		}
	if (pv.rv == EX_DONE && pv.count == 0)
		fprintf(stderr, "hearback: these records would send no email to "
		    "%s\n", as);
	json_decref(pv.overlay);
	redisFree(pv.c);
	cli_free_records(recs, n);
	tmplset_unref(pv.ts);
	return pv.rv;
}

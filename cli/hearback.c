/*
 * hearback.c: the command coordinators and operators use.
 *
 *   hearback [-c FILE] validate FILE...     form checks only, no Redis
 *   hearback [-c FILE] enqueue FILE...      all-or-nothing, to the inbox
 *   hearback [-c FILE] import [--type T] [--meeting ID] [--dry-run]
 *                             [--ignore COLUMN] FILE...   (import.c)
 *   hearback [-c FILE] forget ID                          (shortcut.c)
 *   hearback [-c FILE] cancel MEETING_ID [--reason TEXT]  (shortcut.c)
 *   hearback [-c FILE] announce --to GROUPS --subject TEXT FILE (shortcut.c)
 *   hearback [-c FILE] list WHAT | show TYPE ID | scheduled   (show.c)
 *   hearback [-c FILE] status [--json]
 *   hearback [-c FILE] dead list | show ID | retry ID | drop ID
 *   hearback [-c FILE] preview FILE --as ID
 *   hearback [-c FILE] report --meeting ID [--format text|html]
 *
 *   hearback --help | --version
 *
 * The checks are the daemon's own (record.c, plan.c), so a record that
 * passes here is accepted there, unless Redis changed in between (the daemon
 * checks references again). Redis is read and written only through the
 * store's operations (store.h), as the daemon does.
 *
 * Secrets: the command reads only the Redis password (never the SMTP one),
 * and `validate` none. A coordinator with their own Redis login puts it in
 * the [redis] section of ~/.config/hearback/hearback.conf (config.c). Any
 * failure to reach Redis, or a refusal (WRONGPASS, NOAUTH, NOPERM), is exit
 * 69 with Redis's reason; nothing is ever shown as empty that could not be
 * read.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "cli.h"
#include "clock.h"
#include "plan.h"
#include "store.h"
#include "util.h"
#include "version.h"

/* --help: on stdout, exit 0; a bad command line: on stderr, exit 64. */
static void
usage_to(FILE *f, int code)
{
	fprintf(f,
	    "usage: hearback [-c FILE] validate FILE...\n"
	    "       hearback [-c FILE] enqueue FILE...\n"
	    "       hearback [-c FILE] import [--type collaborator|said] "
	    "[--meeting ID]\n"
	    "                [--dry-run] [--ignore COLUMN] FILE...\n"
	    "       hearback [-c FILE] forget COLLABORATOR_ID\n"
	    "       hearback [-c FILE] list collaborators|venues|meetings|groups "
	    "[--json]\n"
	    "       hearback [-c FILE] show TYPE ID [--json]\n"
	    "       hearback [-c FILE] scheduled [--meeting ID] [--json]\n"
	    "       hearback [-c FILE] cancel MEETING_ID [--reason TEXT]\n"
	    "       hearback [-c FILE] announce --to GROUP[,GROUP] --subject "
	    "TEXT\n"
	    "                [--send-at TIME] [--id ID] FILE\n"
	    "       hearback [-c FILE] status [--json]\n"
	    "       hearback [-c FILE] dead list | show ID | retry ID | drop ID\n"
	    "       hearback [-c FILE] preview FILE --as COLLABORATOR_ID\n"
	    "       hearback [-c FILE] report --meeting ID [--format text|html]\n"
	    "       hearback [-c FILE] inbound < MESSAGE\n"
	    "       hearback --help | --version\n"
	    "FILE may be - for standard input. The config file defaults to "
	    CONFIG_DEFAULT_PATH ".\n"
	    "Exit status: 0 done, 64 usage, 65 invalid record, 69 Redis "
	    "unreachable,\n78 bad configuration. See hearback(1) and "
	    "hearback-records(5).\n");
	exit(code);
}

static void
usage(void)
{
	usage_to(stderr, EX_USAGE_);
}

void
cli_redis_failed(const struct err *e)
{
	fprintf(stderr, "hearback: %s\n", e->msg);
	exit(EX_NOREDIS);
}

char *
cli_slurp(const char *file, size_t max, size_t *len, struct err *e)
{
	struct buf	b;
	char		chunk[8192];
	size_t		n;

	if (strcmp(file, "-") != 0)
		return util_readfile(file, max, len, e);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		if (b.len + n > max) {
			buf_free(&b);
			err_set(e, "-: larger than %zu bytes", max);
			return NULL;
		}
		buf_add(&b, chunk, n);
	}
	*len = b.len;
	return buf_take(&b);
}

/*
 * SPEC section 1's shape: "m.json[2].start: ... is not a date" for a field of
 * a record in an array, "m.json: start: ..." for a file of one record.
 */
static void
cli_report_error(const char *where, const char *msg)
{
	size_t	n = strcspn(msg, ":");
	size_t	w = strlen(where);

	if (w > 0 && where[w - 1] == ']' && msg[n] == ':' && n > 0 &&
	    strspn(msg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.[]-") == n && strncmp(msg, "not JSON", 8) != 0 &&
	    strncmp(msg, "too large", 9) != 0)
		fprintf(stderr, "%s.%s\n", where, msg);
	else
		fprintf(stderr, "%s: %s\n", where, msg);
}

int
cli_check_one(const struct config *cf, json_t *obj, const char *where,
    struct cli_rec *out)
{
	struct record_opts	ro = { cf->timezone, cf->max_record_bytes };
	struct err		e;
	char			*text;
	size_t			 len;

	text = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
	len = strlen(text);
	if (record_parse(text, len, &ro, &out->rec, &e) == -1) {
		cli_report_error(where, e.msg);
		free(text);
		return -1;
	}
	out->text = text;
	out->where = xstrdup(where);
	return 0;
}

int
cli_read_records(const struct config *cf, int nfiles, char **files,
    struct cli_rec **recsp, int *nrecsp)
{
	struct cli_rec	*recs = NULL;
	int		 n = 0, bad = 0, f;
	struct err	 e;

	for (f = 0; f < nfiles; f++) {
		const char	*file = files[f];
		const char	*name = strcmp(file, "-") == 0 ? "-" : file;
		char		*text, where[1024];
		size_t		 len, i;
		json_t		*j, *v;

		if ((text = cli_slurp(file, 256 * 1024 * 1024, &len, &e)) ==
		    NULL) {
			fprintf(stderr, "%s\n", e.msg);
			bad++;
			continue;
		}
		/* As the daemon reads it (a byte order mark is no error) and
		 * with the same words for a syntax error. */
		j = record_json_load(text, len, 1, &e);
		if (j == NULL) {
			fprintf(stderr, "%s: %s\n", name, e.msg);
			free(text);
			bad++;
			continue;
		}
		free(text);
		if (json_is_object(j)) {
			recs = xrealloc(recs, (n + 1) * sizeof *recs);
			memset(&recs[n], 0, sizeof recs[n]);
			if (cli_check_one(cf, j, name, &recs[n]) == 0)
				n++;
			else
				bad++;
		} else if (json_is_array(j)) {
			json_array_foreach(j, i, v) {
				snprintf(where, sizeof where, "%s[%zu]", name, i);
				if (!json_is_object(v)) {
					fprintf(stderr, "%s: not a JSON object\n",
					    where);
					bad++;
					continue;
				}
				recs = xrealloc(recs, (n + 1) * sizeof *recs);
				memset(&recs[n], 0, sizeof recs[n]);
				if (cli_check_one(cf, v, where, &recs[n]) == 0)
					n++;
				else
					bad++;
			}
		} else {
			fprintf(stderr, "%s: not a JSON object or array of "
			    "objects\n", name);
			bad++;
		}
		json_decref(j);
	}
	*recsp = recs;
	*nrecsp = n;
	return bad ? -1 : 0;
}

void
cli_free_records(struct cli_rec *recs, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		record_clear(&recs[i].rec);
		free(recs[i].text);
		free(recs[i].where);
	}
	free(recs);
}

/* Redis said no, or did not answer: say which Redis and why, exit 69. */
static void
cli_refused(const struct config *cf, redisContext *c, redisReply *r,
    const char *what)
{
	char	where[300];

	config_redis_where(cf, where, sizeof where);
	if (r != NULL)
		fprintf(stderr, "hearback: Redis at %s refused %s: %s\n", where,
		    what, r->str);
	else
		fprintf(stderr, "hearback: Redis at %s did not answer %s: %s\n",
		    where, what, c->errstr);
	exit(EX_NOREDIS);
}

redisContext *
cli_connect(const struct config *cf)
{
	struct timeval	 tv = { 5, 0 };
	redisContext	*c;
	redisReply	*r;
	char		 where[300];

	if (cf->redis_socket != NULL)
		c = redisConnectUnixWithTimeout(cf->redis_socket, tv);
	else
		c = redisConnectWithTimeout(cf->redis_host, cf->redis_port, tv);
	if (c == NULL || c->err) {
		fprintf(stderr, "hearback: cannot reach Redis at %s: %s\n",
		    config_redis_where(cf, where, sizeof where), c ? c->errstr :
		    "out of memory");
		exit(EX_NOREDIS);
	}
	redisSetTimeout(c, tv);
	/* A user with no password: a nopass user takes any, "" too. */
	if (cf->redis_password != NULL || cf->redis_user != NULL) {
		if (cf->redis_user != NULL)
			r = redisCommand(c, "AUTH %s %s", cf->redis_user,
			    cf->redis_password ? cf->redis_password : "");
		else
			r = redisCommand(c, "AUTH %s", cf->redis_password);
		/* A password for a Redis that asks none is no refusal. */
		if (r == NULL || (r->type == REDIS_REPLY_ERROR &&
		    (cf->redis_user != NULL || strstr(r->str,
		    "without any password configured") == NULL)))
			cli_refused(cf, c, r, cf->redis_user ? "the login" :
			    "the password");
		freeReplyObject(r);
	}
	/* NOAUTH (a password is needed), NOPERM: said here, once, clearly. */
	r = redisCommand(c, "PING");
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		cli_refused(cf, c, r, "PING");
	freeReplyObject(r);
	return c;
}

int
cli_snapshot(redisContext *c, const struct config *cf,
    const struct record *rec, json_t *snap, char *version, size_t vlen)
{
	int		 round;
	json_t		*need;
	struct err	 e;

	for (round = 0; round < PLAN_MAX_ROUNDS; round++) {
		need = json_array();
		if (plan_needs(rec, snap, need) == 0) {
			json_decref(need);
			break;
		}
		if (store_fetch_sync(c, cf->prefix, need, snap,
		    version && round == 0 ? version : NULL, vlen, &e) == -1)
			cli_redis_failed(&e);
		json_decref(need);
	}
	return 0;
}

static int
cli_validate(const struct config *cf, int argc, char **argv)
{
	struct cli_rec	*recs;
	int		 n, i;

	if (argc < 1)
		usage();
	if (cli_read_records(cf, argc, argv, &recs, &n) == -1) {
		cli_free_records(recs, n);
		return EX_INVALID;
	}
	for (i = 0; i < n; i++)
		printf("%s: %s %s ok\n", recs[i].where,
		    record_type_name(recs[i].rec.type), recs[i].rec.id);
	cli_free_records(recs, n);
	return EX_DONE;
}

/* Fetch the keys named in need (an object used as a set) into snap, a
 * few thousand per call. */
static void
cli_fetch_set(redisContext *c, const struct config *cf, json_t *need,
    json_t *snap)
{
	json_t		*chunk = json_array(), *v;
	const char	*key;
	struct err	 e;

	json_object_foreach(need, key, v) {
		json_array_append_new(chunk, json_string(key));
		if (json_array_size(chunk) == 5000) {
			if (store_fetch_sync(c, cf->prefix, chunk, snap, NULL,
			    0, &e) == -1)
				cli_redis_failed(&e);
			json_array_clear(chunk);
		}
	}
	if (json_array_size(chunk) > 0 && store_fetch_sync(c, cf->prefix,
	    chunk, snap, NULL, 0, &e) == -1)
		cli_redis_failed(&e);
	json_decref(chunk);
}

/*
 * What every record needs from Redis, for all of them at once: one shared
 * snapshot, fetched in rounds (each round asks for what the last one made
 * needed), a few thousand keys per call. A hundred thousand records cost
 * a few calls, not a few hundred thousand.
 */
static json_t *
cli_snapshot_all(redisContext *c, const struct config *cf,
    struct cli_rec *recs, int n)
{
	json_t	*snap = json_object(), *need;
	int	 round, i;

	for (round = 0; round < PLAN_MAX_ROUNDS; round++) {
		need = json_object();
		for (i = 0; i < n; i++)
			plan_needs_set(&recs[i].rec, snap, need);
		if (json_object_size(need) == 0) {
			json_decref(need);
			break;
		}
		cli_fetch_set(c, cf, need, snap);
		json_decref(need);
	}
	return snap;
}

/* The lower-case form of an address, for comparing. */
static char *
cli_email_key(const char *s)
{
	char	*k = xstrdup(s), *p;

	for (p = k; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return k;
}

/*
 * The same email address under two ids (both queued now, or one stored):
 * that person would get every email twice. A warning naming both ids (not
 * the address: this goes where logs may go), exit status unchanged.
 */
static void
cli_warn_same_email(redisContext *c, const struct config *cf,
    struct cli_rec *recs, int n, json_t *snap)
{
	json_t		*seen = json_object(), *ours = json_object(), *need;
	json_t		*members, *v, *w;
	const char	*email, *other;
	char		*ek;
	size_t		 j;
	int		 i, any = 0;

	for (i = 0; i < n; i++) {
		if (recs[i].rec.type != REC_COLLABORATOR)
			continue;
		any = 1;
		json_object_set_new(ours, recs[i].rec.id, json_true());
		email = json_string_value(json_object_get(recs[i].rec.json,
		    "email"));
		if (email == NULL)
			continue;
		ek = cli_email_key(email);
		other = json_string_value(json_object_get(seen, ek));
		if (other != NULL && strcmp(other, recs[i].rec.id) != 0)
			fprintf(stderr, "hearback: warning: %s: %s and %s have "
			    "the same email address: that person would get "
			    "every email twice\n", recs[i].where, other,
			    recs[i].rec.id);
		else if (other == NULL)
			json_object_set_new(seen, ek, json_string(
			    recs[i].rec.id));
		free(ek);
	}
	if (!any)
		goto out;
	/* Everyone stored, but for those queued now (their new records
	 * replace the stored ones). */
	need = json_object();
	plan_need_set(snap, need, STORE_COLLABORATORS, NULL);
	cli_fetch_set(c, cf, need, snap);
	json_decref(need);
	members = plan_set(snap, STORE_COLLABORATORS, NULL);
	need = json_object();
	json_array_foreach(members, j, v)
		if (json_object_get(ours, json_string_value(v)) == NULL)
			plan_need_rec(snap, need, "collaborator",
			    json_string_value(v));
	cli_fetch_set(c, cf, need, snap);
	json_decref(need);
	json_array_foreach(members, j, v) {
		const char *id = json_string_value(v);

		if (json_object_get(ours, id) != NULL)
			continue;
		w = plan_snaprec(snap, "collaborator", id);
		email = json_string_value(json_object_get(w, "email"));
		if (email == NULL)
			continue;
		ek = cli_email_key(email);
		other = json_string_value(json_object_get(seen, ek));
		if (other != NULL)
			fprintf(stderr, "hearback: warning: %s and %s (stored) "
			    "have the same email address: that person would "
			    "get every email twice\n", other, id);
		free(ek);
	}
out:
	json_decref(seen);
	json_decref(ours);
}

/* The other unknown ids of a record plan_refcheck() refused (it says
 * the first): every one is reported. Its rules: a forgotten person is not
 * unknown, and neither is one forgotten by this very record. */
struct cli_refs_arg {
	json_t		*snap;
	json_t		*known;
	const char	*where;
	const char	*first;		/* the path already reported */
	size_t		 firstlen;
	int		 forget;
};

static void
cli_more_refs(const char *kind, const char *id, const char *path, void *arg)
{
	struct cli_refs_arg	*a = arg;
	char			 k[300];

	if (strcmp(kind, "group") == 0 || (strlen(path) == a->firstlen &&
	    strncmp(path, a->first, a->firstlen) == 0))
		return;
	if (plan_snaprec(a->snap, kind, id) != NULL)
		return;
	if (strcmp(kind, "collaborator") == 0) {
		if (a->forget)
			return;
		if (util_json_has(plan_set(a->snap, STORE_FORGOTTEN, NULL),
		    id))
			return;
	}
	snprintf(k, sizeof k, "%s:%s", kind, id);
	if (json_object_get(a->known, k) != NULL)
		return;
	fprintf(stderr, "%s: %s: no %s \"%s\"\n", a->where, path, kind, id);
}

/*
 * Check references, then queue all in one step, or nothing (SPEC section
 * 1). dry_run: the same checks, nothing queued; each record is printed
 * as "TYPE ID ok".
 */
int
cli_queue(const struct config *cf, struct cli_rec *recs, int n, int dry_run)
{
	redisContext	*c = cli_connect(cf);
	json_t		*known = json_object(), *texts, *ids, *snap, *v;
	char		 k[300];
	size_t		 j;
	int		 i, bad = 0;
	struct err	 e;

	snap = cli_snapshot_all(c, cf, recs, n);
	for (i = 0; i < n; i++) {
		if (plan_refcheck(&recs[i].rec, snap, known, &e) == -1) {
			struct cli_refs_arg a = { snap, known, recs[i].where,
			    e.msg, strcspn(e.msg, ":"),
			    recs[i].rec.type == REC_FORGET };

			fprintf(stderr, "%s: %s\n", recs[i].where, e.msg);
			record_refs(&recs[i].rec, cli_more_refs, &a);
			bad++;
		}
		snprintf(k, sizeof k, "%s:%s",
		    record_type_name(recs[i].rec.type), recs[i].rec.id);
		if (recs[i].rec.type != REC_FORGET)
			json_object_set_new(known, k, json_true());
		/* A group is not empty once a collaborator queued here
		 * joins it. */
		if (recs[i].rec.type == REC_COLLABORATOR)
			json_array_foreach(json_object_get(recs[i].rec.json,
			    "groups"), j, v) {
				snprintf(k, sizeof k, "group:%s",
				    json_string_value(v));
				json_object_set_new(known, k, json_true());
			}
	}
	json_decref(known);
	if (bad) {
		json_decref(snap);
		fprintf(stderr, "hearback: nothing queued (%d invalid)\n", bad);
		redisFree(c);
		return EX_INVALID;
	}
	cli_warn_same_email(c, cf, recs, n, snap);
	json_decref(snap);
	if (dry_run) {
		for (i = 0; i < n; i++)
			printf("%s %s ok\n", record_type_name(recs[i].rec.type),
			    recs[i].rec.id);
		fprintf(stderr, "hearback: dry run: %d record%s checked, "
		    "nothing queued\n", n, n == 1 ? "" : "s");
		redisFree(c);
		return EX_DONE;
	}
	texts = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(texts, json_stringn_nocheck(recs[i].text,
		    strlen(recs[i].text)));
	if (store_enqueue_sync(c, cf->prefix, texts, &ids, &e) == -1)
		cli_redis_failed(&e);
	for (i = 0; i < n; i++)
		printf("%s %s %s\n", record_type_name(recs[i].rec.type),
		    recs[i].rec.id, json_string_value(json_array_get(ids, i)));
	json_decref(texts);
	json_decref(ids);
	redisFree(c);
	return EX_DONE;
}

static int
cli_enqueue(const struct config *cf, int argc, char **argv)
{
	struct cli_rec	*recs;
	int		 n, rv;

	if (argc < 1)
		usage();
	if (cli_read_records(cf, argc, argv, &recs, &n) == -1) {
		fprintf(stderr, "hearback: nothing queued\n");
		cli_free_records(recs, n);
		return EX_INVALID;
	}
	rv = cli_queue(cf, recs, n, 0);
	cli_free_records(recs, n);
	return rv;
}

/* The subcommands; an unknown one is a usage error (64) before any config
 * is read. */
static const struct {
	const char	*name;
	int		(*fn)(const struct config *, int, char **);
} cli_commands[] = {
	{ "validate",	cli_validate },
	{ "enqueue",	cli_enqueue },
	{ "forget",	cli_forget },
	{ "status",	cli_status },
	{ "dead",	cli_dead },
	{ "preview",	cli_preview },
	{ "report",	cli_report },
	{ "import",	cli_import },
	{ "list",	cli_list },
	{ "show",	cli_show },
	{ "scheduled",	cli_scheduled },
	{ "cancel",	cli_cancel },
	{ "announce",	cli_announce },
	{ "inbound",	cli_inbound },
};

int
main(int argc, char *argv[])
{
	const char	*path = CONFIG_DEFAULT_PATH, *cmd;
	struct config	*cf;
	struct err	 e;
	int		 ch, rv;
	size_t		 i;

	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL,	'h' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL,		0,		NULL,	0 }
	};

	while ((ch = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage_to(stdout, EX_DONE);
			break;
		case 'V':
			printf("hearback %s\n", HB_VERSION);
			return EX_DONE;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];
	for (i = 0; i < sizeof cli_commands / sizeof cli_commands[0]; i++)
		if (strcmp(cmd, cli_commands[i].name) == 0)
			break;
	if (i == sizeof cli_commands / sizeof cli_commands[0]) {
		fprintf(stderr, "hearback: unknown command \"%s\"\n", cmd);
		usage();
	}
	log_init(1, -1, "hearback");
	g_mime_init();
	clock_init();
	/* validate needs no secret; the rest only Redis's, and may use the
	 * person's own Redis login. */
	if ((cf = config_load_for(path, strcmp(cmd, "validate") == 0 ? 0 :
	    CONFIG_NEED_REDIS | CONFIG_USER, &e)) == NULL) {
		/* validate needs no Redis, and no config if there is none */
		if (strcmp(cmd, "validate") == 0 && errno == ENOENT &&
		    strcmp(path, CONFIG_DEFAULT_PATH) == 0)
			cf = config_default();
		else {
			fprintf(stderr, "hearback: %s\n", e.msg);
			return EX_BADCONFIG;
		}
	}
	rv = cli_commands[i].fn(cf, argc - 1, argv + 1);
	config_unref(cf);
	return rv;
}

/*
 * shortcut.c: commands that build one record for the coordinator, so that
 * common tasks need no JSON (SPEC section 6):
 *
 *   hearback cancel MEETING_ID [--reason TEXT]
 *   hearback announce --to GROUP[,GROUP] --subject TEXT [--send-at TIME]
 *                     [--id ID] FILE
 *   hearback forget COLLABORATOR_ID           (the check of its id)
 *
 * Each record goes through cli_check_one() and cli_queue(), the path
 * `enqueue` takes, with the same output and exit codes. What they name is
 * looked up first (read-only), so that an unknown meeting, group or
 * person is exit 65 with a message that says what is known, not a record
 * the daemon would refuse later.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>

#include "cli.h"
#include "plan.h"
#include "store.h"

/* Is the record stored? (A fetch of its key, as the planner does.) */
static int
shortcut_stored(redisContext *c, const struct config *cf, const char *type,
    const char *id, json_t **rec)
{
	json_t		*snap = json_object(), *need, *r;
	char		 key[STORE_KEY_MAX];
	struct err	 e;

	need = json_pack("[s]", store_reckey(type, id, key, sizeof key));
	if (store_fetch_sync(c, cf->prefix, need, snap, NULL, 0, &e) == -1)
		cli_redis_failed(&e);
	json_decref(need);
	r = plan_snaprec(snap, type, id);
	if (rec != NULL)
		*rec = r ? json_incref(r) : NULL;
	json_decref(snap);
	return r != NULL;
}

/* Check one record object and queue it as enqueue would. */
static int
shortcut_queue(const struct config *cf, json_t *obj, const char *where)
{
	struct cli_rec	rec;
	int		rv;

	memset(&rec, 0, sizeof rec);
	if (cli_check_one(cf, obj, where, &rec) == -1) {
		fprintf(stderr, "hearback: nothing queued\n");
		return EX_INVALID;
	}
	rv = cli_queue(cf, &rec, 1, 0);
	record_clear(&rec.rec);
	free(rec.text);
	free(rec.where);
	return rv;
}

int
cli_cancel(const struct config *cf, int argc, char **argv)
{
	redisContext	*c;
	json_t		*m, *j;
	const char	*reason = NULL, *mid;
	int		 ch, rv;

	static const struct option longopts[] = {
		{ "reason",	required_argument,	NULL,	'r' },
		{ NULL,		0,			NULL,	0 }
	};

	optind = 0;	/* glibc: start afresh (permuting, unlike main) */
	argc++;
	argv--;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'r')
			reason = optarg;
		else
			goto usage;
	}
	if (argc - optind != 1)
		goto usage;
	mid = argv[optind];
	if (!record_id_valid(mid)) {
		fprintf(stderr, "hearback: cancel: \"%s\" is not a meeting "
		    "id\n", mid);
		return EX_INVALID;
	}
	c = cli_connect(cf);
	if (!shortcut_stored(c, cf, "meeting", mid, &m)) {
		fprintf(stderr, "hearback: cancel: no meeting \"%s\" is stored "
		    "(hearback list meetings shows them); nothing queued\n",
		    mid);
		redisFree(c);
		return EX_INVALID;
	}
	redisFree(c);
	if (strcmp(json_string_value(json_object_get(m, "status")) ?
	    json_string_value(json_object_get(m, "status")) : "",
	    "cancelled") == 0)
		fprintf(stderr, "hearback: cancel: meeting %s is cancelled "
		    "already; queued again, it changes nothing\n", mid);
	json_decref(m);
	/* A merge patch (SPEC section 2): only what changes. */
	j = json_pack("{s:s, s:s, s:b, s:s}", "type", "meeting", "id", mid,
	    "merge", 1, "status", "cancelled");
	if (reason != NULL)
		json_object_set_new(j, "cancel_reason", json_string(reason));
	if (json_object_get(j, "cancel_reason") == NULL && reason != NULL) {
		fprintf(stderr, "hearback: cancel: --reason is not UTF-8\n");
		json_decref(j);
		return EX_INVALID;
	}
	rv = shortcut_queue(cf, j, "cancel");
	json_decref(j);
	return rv;
usage:
	fprintf(stderr, "usage: hearback cancel MEETING_ID [--reason TEXT]\n");
	return EX_USAGE_;
}

/* "a-" and 12 hex digits of SHA-256 over what the announcement says and
 * to whom: the same announcement queued twice is the same record, which
 * the daemon sends once. */
static char *
shortcut_announce_id(json_t *groups, const char *subject, const char *body)
{
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n, i;
	char		*g = json_dumps(groups, JSON_COMPACT), hex[13];

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, g, strlen(g) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, subject, strlen(subject) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, body, strlen(body)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &n) != 1)
		fatalx("announce: cannot compute a SHA-256");
	EVP_MD_CTX_free(ctx);
	free(g);
	for (i = 0; i < 6; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return xasprintf("a-%s", hex);
}

/* What `announce` was told. */
struct shortcut_announce {
	const char	*to, *subject, *send_at, *id, *file;
};

/* The options and the FILE into an; -1 for the usage message. argv[0] is
 * the command's name. */
static int
shortcut_announce_options(int argc, char **argv,
    struct shortcut_announce *an)
{
	int	ch;

	static const struct option longopts[] = {
		{ "to",		required_argument,	NULL,	't' },
		{ "subject",	required_argument,	NULL,	's' },
		{ "send-at",	required_argument,	NULL,	'a' },
		{ "id",		required_argument,	NULL,	'i' },
		{ NULL,		0,			NULL,	0 }
	};

	memset(an, 0, sizeof *an);
	optind = 0;	/* glibc: start afresh (permuting, unlike main) */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			an->to = optarg;
			break;
		case 's':
			an->subject = optarg;
			break;
		case 'a':
			an->send_at = optarg;
			break;
		case 'i':
			an->id = optarg;
			break;
		default:
			return -1;
		}
	}
	if (argc - optind != 1 || an->to == NULL || an->subject == NULL)
		return -1;
	an->file = argv[optind];
	return 0;
}

/* --to's groups, split on ',' and trimmed, empty ones left out. */
static json_t *
shortcut_announce_groups(const char *to)
{
	json_t		*groups = json_array();
	const char	*p;
	char		*one;

	for (p = to; *p; ) {
		size_t n = strcspn(p, ",");

		one = g_strstrip(xstrndup(p, n));
		if (*one)
			json_array_append_new(groups, json_string(one));
		free(one);
		p += n;
		if (*p == ',')
			p++;
	}
	return groups;
}

/* FILE's text, without trailing white space; NULL (message given) if it
 * cannot be read or is not UTF-8. */
static char *
shortcut_announce_body(const char *file)
{
	char		*body;
	size_t		 len;
	struct err	 e;

	if ((body = cli_slurp(file, 1024 * 1024, &len, &e)) == NULL) {
		fprintf(stderr, "%s\nhearback: nothing queued\n", e.msg);
		return NULL;
	}
	if (strlen(body) != len || !g_utf8_validate(body, len, NULL)) {
		fprintf(stderr, "%s: not UTF-8 text: save it as plain text "
		    "(UTF-8)\nhearback: nothing queued\n", file);
		free(body);
		return NULL;
	}
	g_strchomp(body);
	return body;
}

/* Every group must have members (a misspelt one invites nobody): -1
 * (each unknown one named) if one has none. */
static int
shortcut_announce_known(const struct config *cf, json_t *groups)
{
	redisContext	*c;
	json_t		*known = NULL, *v, *kv;
	const char	*k;
	size_t		 i;
	struct err	 e;
	struct buf	 b;
	int		 bad = 0;

	c = cli_connect(cf);
	if (store_groups_sync(c, cf->prefix, &known, &e) == -1)
		cli_redis_failed(&e);
	redisFree(c);
	json_array_foreach(groups, i, v) {
		if (json_object_get(known, json_string_value(v)) != NULL)
			continue;
		buf_init(&b);
		json_object_foreach(known, k, kv)
			buf_printf(&b, "%s%s", b.len ? ", " : "", k);
		fprintf(stderr, "announce: --to: no collaborator is in group "
		    "\"%s\"; the groups are: %s\n", json_string_value(
		    json_array_get(groups, i)), b.len ? b.s : "(none)");
		buf_free(&b);
		bad = 1;
	}
	json_decref(known);
	if (bad) {
		fprintf(stderr, "hearback: nothing queued\n");
		return -1;
	}
	return 0;
}

int
cli_announce(const struct config *cf, int argc, char **argv)
{
	struct shortcut_announce an;
	json_t		*groups = NULL, *j = NULL;
	const char	*id;
	char		*body = NULL, *made = NULL;
	int		 rv = EX_INVALID;

	argc++;
	argv--;
	if (shortcut_announce_options(argc, argv, &an) == -1)
		goto usage;
	groups = shortcut_announce_groups(an.to);
	if (json_array_size(groups) == 0)
		goto usage;
	if ((body = shortcut_announce_body(an.file)) == NULL)
		goto out;
	if (shortcut_announce_known(cf, groups) == -1)
		goto out;
	if ((id = an.id) == NULL)
		id = made = shortcut_announce_id(groups, an.subject, body);
	j = json_pack("{s:s, s:s, s:s, s:s, s:{s:O}}", "type", "announcement",
	    "id", id, "subject", an.subject, "body", body, "to", "groups",
	    groups);
	if (j == NULL) {
		fprintf(stderr, "hearback: announce: --subject and --id must be "
		    "UTF-8 text\n");
		goto out;
	}
	if (an.send_at != NULL)
		json_object_set_new(j, "send_at", json_string(an.send_at));
	rv = shortcut_queue(cf, j, an.file);
out:
	json_decref(j);
	json_decref(groups);
	free(body);
	free(made);
	return rv;
usage:
	json_decref(groups);
	fprintf(stderr, "usage: hearback announce --to GROUP[,GROUP] --subject "
	    "TEXT [--send-at TIME] [--id ID] FILE\n");
	return EX_USAGE_;
}

int
cli_forget(const struct config *cf, int argc, char **argv)
{
	redisContext	*c;
	json_t		*j;
	int		 rv;

	if (argc != 1) {
		fprintf(stderr, "usage: hearback forget COLLABORATOR_ID\n");
		return EX_USAGE_;
	}
	if (record_id_valid(argv[0])) {
		c = cli_connect(cf);
		if (!shortcut_stored(c, cf, "collaborator", argv[0], NULL)) {
			fprintf(stderr, "hearback: forget: no collaborator "
			    "\"%s\" is stored (hearback list collaborators "
			    "shows them); nothing queued\n", argv[0]);
			redisFree(c);
			return EX_INVALID;
		}
		redisFree(c);
	}
	j = json_pack("{s:s, s:s}", "type", "forget", "collaborator", argv[0]);
	rv = shortcut_queue(cf, j, "forget");
	json_decref(j);
	return rv;
}

/*
 * links.c: tokens become links in a collaborator email (links.h). The
 * base URL is the operator's ([web] base_url, no trailing slash); the
 * pages are web.c's. Nothing about the person is in a link but the sealed
 * token.
 */
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "clock.h"
#include "config.h"
#include "links.h"
#include "store.h"
#include "token.h"

static char *
links_url(const struct config *cf, const char *page, enum token_purpose p,
    const char *cid, const char *subject, long long expires,
    const char *extra, struct err *e)
{
	struct token	 t;
	char		*tok, *url;

	memset(&t, 0, sizeof t);
	t.purpose = p;
	t.expires = expires;
	if (strlen(cid) > TOKEN_ID_MAX || strlen(subject) > TOKEN_ID_MAX) {
		err_set(e, "links: an id is too long for a link");
		return NULL;
	}
	memcpy(t.person, cid, strlen(cid) + 1);
	memcpy(t.subject, subject, strlen(subject) + 1);
	if ((tok = token_make(cf->web_key, &t, e)) == NULL)
		return NULL;
	url = xasprintf("%s/%s?t=%s%s", cf->web_base_url, page, tok,
	    extra ? extra : "");
	free(tok);
	return url;
}

/* When the meeting of a delivery ends (seconds), from its stored record. */
static int
links_meeting_end(const struct config *cf, json_t *data, const char *mid,
    long long *end, struct err *e)
{
	char		 key[STORE_KEY_MAX];
	json_t		*m;
	const char	*tz;

	m = json_object_get(json_object_get(json_object_get(data, "records"),
	    store_reckey("meeting", mid, key, sizeof key)), "record");
	if (m == NULL)
		return err_set(e, "links: meeting %s is not stored", mid);
	tz = json_string_value(json_object_get(m, "timezone"));
	return clock_parse_local(json_string_value(json_object_get(m, "end")),
	    tz ? tz : cf->timezone, end, e);
}

int
links_add(const struct config *cf, const char *kind, const char *cid,
    json_t *data, json_t *ctx, char **unsub, struct err *e)
{
	static const char *const answers[] = { "yes", "no", "maybe" };
	const char	*class = answer_class(kind), *mid;
	long long	 now = util_now_ms() / 1000, end;
	char		*url, name[32], extra[16];
	size_t		 i;

	*unsub = NULL;
	if (cf->web_base_url == NULL || cf->web_key == NULL || class == NULL ||
	    cid == NULL || *cid == '\0')
		return 0;
	if ((url = links_url(cf, "prefs", TOKEN_PREFS, cid, "", now +
	    TOKEN_YEAR, NULL, e)) == NULL)
		return -1;
	json_object_set_new(ctx, "prefs_url", json_string(url));
	free(url);
	if ((url = links_url(cf, "unsubscribe", TOKEN_UNSUB, cid, class, now +
	    TOKEN_YEAR, NULL, e)) == NULL)
		return -1;
	json_object_set_new(ctx, "unsubscribe_url", json_string(url));
	*unsub = url;
	if (strcmp(kind, "invitation") != 0 && strcmp(kind, "update") != 0 &&
	    strcmp(kind, "reminder") != 0)
		return 0;
	mid = json_string_value(json_object_get(json_object_get(data,
	    "delivery"), "mid"));
	if (mid == NULL || *mid == '\0')
		return 0;
	if (links_meeting_end(cf, data, mid, &end, e) == -1)
		goto err;
	for (i = 0; i < 3; i++) {
		snprintf(extra, sizeof extra, "&a=%s", answers[i]);
		if ((url = links_url(cf, "answer", TOKEN_ANSWER, cid, mid, end,
		    extra, e)) == NULL)
			goto err;
		snprintf(name, sizeof name, "answer_%s_url", answers[i]);
		json_object_set_new(ctx, name, json_string(url));
		free(url);
	}
	return 0;
err:
	free(*unsub);
	*unsub = NULL;
	return -1;
}

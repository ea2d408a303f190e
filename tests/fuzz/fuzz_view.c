/*
 * fuzz_view.c: libFuzzer target for building an email's view from stored
 * data (view_build in workers/view.c).
 *
 * A worker builds each email from what the lease script read from Redis:
 * the delivery's hash and the stored records it names, parsed. Redis is
 * shared with coordinators' own tools, and records stored by an older or
 * newer daemon may not have today's shape, so the worker must take any
 * stored data without crashing: a view it cannot build is an error with a
 * message (the email goes dead), never a crash.
 *
 * Input: the JSON text of one leased job, as store_lease_parse makes it:
 * {"did": ..., "delivery": {field: string...}, "records": {key: {"record":
 * ..., "meta": ...} or null}}. The kind and collaborator are the delivery's
 * "kind" and "cid" (as job.c takes them); a missing kind is tried as each
 * kind in turn (byte 0 of the input picks one), so that any data meets
 * every view.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - a failure has a message;
 *  - a view that was built has a context object, a kind, a format, a
 *    Message-ID and an address;
 *  - stored data is not trusted to be what intake let in: when a header
 *    field of the view (name, address, Reply-To, Message-ID) holds CR or
 *    LF, composing the message from it (workers/compose.c, with a fixed
 *    subject and body) is refused, and when composing succeeds the message
 *    passes compose_check.
 *
 * Single-threaded; g_mime_init() once in LLVMFuzzerInitialize; nothing
 * touches Redis.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "compose.h"
#include "config.h"
#include "log.h"
#include "util.h"
#include "view.h"

#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct config	*fuzz_cf;

static const char *const fuzz_kinds[] = {
	"announcement", "notice", "outcome", "digest", "invitation", "update",
	"cancellation", "reminder", "venue-update", "nonsense"
};
#define FUZZ_NKINDS	(sizeof fuzz_kinds / sizeof fuzz_kinds[0])

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_setverbose(-1);
	json_object_seed(1);
	g_mime_init();
	fuzz_cf = config_default();
	return 0;
}

/* Does s hold CR or LF? */
static int
fuzz_crlf(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* Compose what the view says: refused if a header field holds CR or LF. */
static void
fuzz_compose(const struct view *v)
{
	struct mail	 m;
	struct err	 e;
	char		*msg = NULL;
	size_t		 len;
	int		 bad, rv;

	memset(&m, 0, sizeof m);
	m.from_name = "Forum team";
	m.from_addr = "forum@example.org";
	m.to_name = v->to_name;
	m.to_addr = v->to_addr;
	m.reply_to_name = v->reply_addr ? v->reply_name : NULL;
	m.reply_to_addr = v->reply_addr;
	m.subject = "Subject";
	m.message_id = v->message_id;
	m.date = 1790000000;
	m.text = "Text.\n";
	m.ics = v->ics;
	m.ics_method = v->ics_method;
	bad = fuzz_crlf(m.to_name) || fuzz_crlf(m.to_addr) ||
	    fuzz_crlf(m.reply_to_addr) || (m.reply_to_addr &&
	    fuzz_crlf(m.reply_to_name)) || fuzz_crlf(m.message_id);
	memset(&e, 0, sizeof e);
	rv = compose_message(&m, &msg, &len, &e);
	if (rv == 0 && bad)
		FUZZ_FAIL("a header field with CR or LF was composed:\n%s",
		    msg);
	if (rv == 0 && compose_check(msg, len, &e) == -1)
		FUZZ_FAIL("composed message fails its check: %s", e.msg);
	if (rv == -1 && e.msg[0] == '\0')
		FUZZ_FAIL("compose failed without a message");
	free(msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t		*job, *d;
	struct view	 v;
	struct err	 e;
	const char	*did, *kind, *cid;

	if (size < 1)
		return 0;
	job = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY,
	    NULL);
	if (job == NULL)
		return 0;
	d = json_object_get(job, "delivery");
	did = json_string_value(json_object_get(job, "did"));
	kind = json_string_value(json_object_get(d, "kind"));
	cid = json_string_value(json_object_get(d, "cid"));
	if (kind == NULL)
		kind = fuzz_kinds[data[0] % FUZZ_NKINDS];
	memset(&e, 0, sizeof e);
	if (view_build(did ? did : "x", kind, cid ? cid : "", job, fuzz_cf,
	    &v, &e) == -1) {
		if (e.msg[0] == '\0')
			FUZZ_FAIL("view_build failed without a message");
	} else {
		if (!json_is_object(v.ctx))
			FUZZ_FAIL("a built view has no context");
		if (v.kind == NULL || v.format == NULL)
			FUZZ_FAIL("a built view has no kind or format");
		if (v.to_addr == NULL || v.message_id == NULL)
			FUZZ_FAIL("a built view has no address or Message-ID");
		fuzz_compose(&v);
	}
	view_clear(&v);
	json_decref(job);
	return 0;
}

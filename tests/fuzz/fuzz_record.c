/*
 * fuzz_record.c: libFuzzer target for record_parse (daemon/record.c), the
 * first code to touch bytes from the Redis inbox.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - on success: a known type, an id that passes record_id_valid, a time
 *    zone, the json held; every record_refs() call has a known kind, a
 *    valid id and a non-empty path;
 *  - on failure: *out is zeroed and e.msg is non-empty, strict UTF-8 and
 *    holds no control character (it goes to logs and to {P}:dead);
 *  - the verdict survives a round trip: the input decoded by jansson and
 *    re-encoded (compact) parses to the same verdict, with the same message
 *    on failure, and record_check on the decoded object agrees too.
 *
 * Single-threaded; GMime is initialised once in LLVMFuzzerInitialize (the
 * address checks use it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "record.h"
#include "util.h"

#include "fuzz.h"

static const struct record_opts fuzz_opts = {
	"Europe/London", RECORD_DEFAULT_MAX
};

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	g_mime_init();
	json_object_seed(1);
	log_setverbose(-1);
	return 0;
}

static void
fuzz_ref(const char *kind, const char *id, const char *path, void *arg)
{
	static const char *const kinds[] = {
		"collaborator", "venue", "meeting", "said", "group", NULL
	};
	int	i, *count = arg;

	(*count)++;
	for (i = 0; kinds[i] != NULL; i++)
		if (kind != NULL && strcmp(kind, kinds[i]) == 0)
			break;
	if (kinds[i] == NULL)
		FUZZ_FAIL("record_refs: unknown kind \"%s\"",
		    kind ? kind : "(null)");
	if (path == NULL || path[0] == '\0')
		FUZZ_FAIL("record_refs: empty path for %s", kind);
	if (id == NULL || !record_id_valid(id))
		FUZZ_FAIL("record_refs: %s: invalid id \"%s\"", path,
		    id ? id : "(null)");
}

static void
fuzz_check_ok(const struct record *r)
{
	int	refs = 0;

	if ((int)r->type < 0 || r->type >= REC_TYPE_MAX)
		FUZZ_FAIL("type %d out of range", (int)r->type);
	if (r->json == NULL || !json_is_object(r->json))
		FUZZ_FAIL("success without a json object");
	if (r->id == NULL || !record_id_valid(r->id))
		FUZZ_FAIL("success with an invalid id \"%s\"",
		    r->id ? r->id : "(null)");
	if (r->tz == NULL || r->tz[0] == '\0')
		FUZZ_FAIL("success without a time zone");
	record_refs(r, fuzz_ref, &refs);
	if (r->type == REC_FORGET && refs != 1)
		FUZZ_FAIL("forget: %d references, expected 1", refs);
}

static void
fuzz_check_err(const struct record *r, const struct err *e)
{
	static const struct record zero;
	size_t	len = strnlen(e->msg, sizeof e->msg);
	long	bad;

	if (memcmp(r, &zero, sizeof zero) != 0)
		FUZZ_FAIL("failure left *out non-zero");
	if (len == 0)
		FUZZ_FAIL("failure with an empty message");
	if (len == sizeof e->msg)
		FUZZ_FAIL("message not NUL-terminated");
	if (!util_utf8_valid(e->msg, len))
		FUZZ_FAIL("message is not valid UTF-8: %s", e->msg);
	if ((bad = fuzz_first_control(e->msg)) != -1)
		FUZZ_FAIL("message holds control byte 0x%02x at %ld: %s",
		    (unsigned char)e->msg[bad], bad, e->msg);
}

/* The second opinion: decode, re-encode, parse again; record_check too. */
static void
fuzz_roundtrip(const uint8_t *data, size_t size, int rc1,
    const struct err *e1)
{
	json_error_t	 je;
	json_t		*root;
	struct record	 r2, r3;
	struct err	 e2, e3;
	char		*text;
	size_t		 n;
	int		 rc2, rc3;

	if (size > fuzz_opts.max_bytes)
		return;
	/* A byte-order mark is accepted (record_json_load), jansson would
	 * refuse it: the second opinion reads what follows it. */
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		size -= 3;
	}
	root = json_loadb((const char *)data, size,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (root == NULL) {
		if (rc1 == 0)
			FUZZ_FAIL("record_parse accepted what jansson refuses");
		if (strncmp(e1->msg, "not JSON: ", 10) != 0)
			FUZZ_FAIL("undecodable input, message \"%s\"", e1->msg);
		return;
	}
	if (rc1 == -1 && strncmp(e1->msg, "not JSON: ", 10) == 0)
		FUZZ_FAIL("decodable input reported as \"%s\"", e1->msg);

	text = json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL)
		FUZZ_FAIL("json_dumps failed on a decoded value");
	n = strlen(text);
	if (n <= fuzz_opts.max_bytes) {
		memset(&e2, 0, sizeof e2);
		rc2 = record_parse(text, n, &fuzz_opts, &r2, &e2);
		if (rc2 != rc1)
			FUZZ_FAIL("verdict changed after re-encoding: %d then "
			    "%d (%s)", rc1, rc2, rc2 ? e2.msg : e1->msg);
		if (rc2 == -1 && strcmp(e1->msg, e2.msg) != 0)
			FUZZ_FAIL("message changed after re-encoding:\n  %s\n"
			    "  %s", e1->msg, e2.msg);
		if (rc2 == 0)
			fuzz_check_ok(&r2);
		else
			fuzz_check_err(&r2, &e2);
		record_clear(&r2);

		/* record_check on the same object: same verdict. */
		memset(&e3, 0, sizeof e3);
		rc3 = record_check(root, &fuzz_opts, &r3, &e3);
		if (rc3 != rc1)
			FUZZ_FAIL("record_check disagrees: parse %d, check %d "
			    "(%s)", rc1, rc3, rc3 ? e3.msg : e1->msg);
		if (rc3 == -1 && strcmp(e1->msg, e3.msg) != 0)
			FUZZ_FAIL("record_check message differs:\n  %s\n  %s",
			    e1->msg, e3.msg);
		if (rc3 == 0) {
			fuzz_check_ok(&r3);
			if (r3.json != root)
				FUZZ_FAIL("record_check holds another object");
		} else
			fuzz_check_err(&r3, &e3);
		record_clear(&r3);
	}
	free(text);
	json_decref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record	r;
	struct err	e;
	int		rc;

	memset(&e, 0, sizeof e);
	rc = record_parse((const char *)data, size, &fuzz_opts, &r, &e);
	if (rc != 0 && rc != -1)
		FUZZ_FAIL("record_parse returned %d", rc);
	if (rc == 0)
		fuzz_check_ok(&r);
	else
		fuzz_check_err(&r, &e);
	fuzz_roundtrip(data, size, rc, &e);
	record_clear(&r);
	return 0;
}

/*
 * fuzz_token.c: libFuzzer target for the tokens in links (daemon/token.c).
 * A token arrives in a URL from anyone, so token_open must take any bytes.
 *
 * Input: byte 0 picks a purpose; the rest is tried as a token text as it
 * is, then split at the first NUL into a person and a subject, made into a
 * token and opened again.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - arbitrary text never opens (nobody forges a token without the key:
 *    a 128-bit MAC is not found by a fuzzer);
 *  - a token made from ids that fit opens to the same ids, purpose and
 *    expiry, and to TOKEN_WRONG for another purpose;
 *  - the same token with its first character changed does not open.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"
#include "util.h"

#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char key[] = "fuzz-key-0123456789abcdef";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token	 t, o;
	char		*text, *tok;
	const char	*nul;
	size_t		 pl;
	int		 rc;

	if (size < 1)
		return 0;
	text = xstrndup((const char *)data + 1, size - 1);
	rc = token_open(key, text, (enum token_purpose)(data[0] % 4),
	    0, &o);
	if (rc == TOKEN_OK || rc == TOKEN_EXPIRED)
		FUZZ_FAIL("arbitrary text opened as a token: \"%s\"", text);
	free(text);

	memset(&t, 0, sizeof t);
	t.purpose = (enum token_purpose)(1 + data[0] % 3);
	t.expires = 1000 + data[0];
	nul = memchr(data + 1, '\0', size - 1);
	pl = nul ? (size_t)(nul - (const char *)(data + 1)) : size - 1;
	if (pl == 0 || pl > TOKEN_ID_MAX)
		return 0;
	memcpy(t.person, data + 1, pl);
	if (nul != NULL) {
		size_t sl = strnlen(nul + 1, size - 1 - pl - 1);

		if (sl > TOKEN_ID_MAX)
			return 0;
		memcpy(t.subject, nul + 1, sl);
	}
	if ((tok = token_make(key, &t, NULL)) == NULL)
		FUZZ_FAIL("token_make failed for ids that fit");
	if (token_open(key, tok, t.purpose, 999, &o) != TOKEN_OK ||
	    strcmp(o.person, t.person) != 0 ||
	    strcmp(o.subject, t.subject) != 0 || o.expires != t.expires ||
	    o.purpose != t.purpose)
		FUZZ_FAIL("a token did not open to what it was made from");
	if (token_open(key, tok, t.purpose % 3 + 1, 999, &o) != TOKEN_WRONG)
		FUZZ_FAIL("a token opened for another purpose");
	tok[0] = tok[0] == 'A' ? 'B' : 'A';
	rc = token_open(key, tok, t.purpose, 999, &o);
	if (rc == TOKEN_OK || rc == TOKEN_EXPIRED)
		FUZZ_FAIL("a changed token opened");
	free(tok);
	return 0;
}

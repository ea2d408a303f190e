/*
 * fuzz_did.c: libFuzzer target for delivery ids (store_did, store_did_parts
 * and store_did_about in daemon/store/store.c).
 *
 * A delivery id is the key of the once-per-delivery rule: two different
 * emails must never get the same id, or the second is taken for the first
 * and never sent. Ids may hold ':' (the separator) and '%' (the escape).
 *
 * Input: byte 0 and byte 1 give the number of parts of two lists A and B
 * (1 to 6 each, the kind first); the rest, split at NUL bytes, fills A then
 * B (missing parts are ""). With byte 0 bit 7 set, B is A with its last
 * part changed by one byte, so that near misses are tried often.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - store_did_parts(store_did(A)) is A again, part for part (a left
 *    inverse: store_did is injective);
 *  - store_did(A) == store_did(B) exactly when A == B, checked directly;
 *  - an id has no NUL and no ':' inside a part (each ':' is a separator);
 *  - store_did_about(k, w, store_did(P)) is store_did(k, w, P...), so the
 *    ids of notices about a delivery are ids of part lists too, and are
 *    covered by the same injectivity (as long as no other caller starts a
 *    list with the same kind and word: "notice", "failed").
 *
 * Single-threaded; nothing touches Redis.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util.h"

#include "fuzz.h"

#define FUZZ_DID_MAX	6

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* store_did of n parts (1 to FUZZ_DID_MAX + 2): it takes a NULL-ended list. */
static char *
fuzz_did(char **p, int n)
{
	switch (n) {
	case 1:	return store_did(p[0], NULL);
	case 2:	return store_did(p[0], p[1], NULL);
	case 3:	return store_did(p[0], p[1], p[2], NULL);
	case 4:	return store_did(p[0], p[1], p[2], p[3], NULL);
	case 5:	return store_did(p[0], p[1], p[2], p[3], p[4], NULL);
	case 6:	return store_did(p[0], p[1], p[2], p[3], p[4], p[5], NULL);
	case 7:	return store_did(p[0], p[1], p[2], p[3], p[4], p[5], p[6],
		    NULL);
	case 8:	return store_did(p[0], p[1], p[2], p[3], p[4], p[5], p[6],
		    p[7], NULL);
	}
	FUZZ_FAIL("fuzz_did: %d parts", n);
}

static int
fuzz_same(char **a, int na, char **b, int nb)
{
	int	i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

/* store_did_parts(did) must give back the n parts of p. */
static void
fuzz_round_trip(const char *did, char **p, int n)
{
	json_t	*parts = store_did_parts(did);
	size_t	 i;

	if (json_array_size(parts) != (size_t)n)
		FUZZ_FAIL("id \"%s\" reads as %zu parts, not %d", did,
		    json_array_size(parts), n);
	for (i = 0; i < (size_t)n; i++) {
		json_t	*v = json_array_get(parts, i);

		if (json_string_length(v) != strlen(p[i]) ||
		    memcmp(json_string_value(v), p[i], strlen(p[i])) != 0)
			FUZZ_FAIL("id \"%s\": part %zu reads \"%s\", not "
			    "\"%s\"", did, i, json_string_value(v), p[i]);
	}
	json_decref(parts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*fields[2 * FUZZ_DID_MAX], *a[FUZZ_DID_MAX + 2];
	char	*b[FUZZ_DID_MAX + 2], *block, *ida, *idb, *about, *whole;
	char	*changed = NULL;
	int	 na, nb, i, near;
	size_t	 len;

	if (size < 2 || size > 4096)
		return 0;
	na = data[0] % FUZZ_DID_MAX + 1;
	nb = data[1] % FUZZ_DID_MAX + 1;
	near = data[0] & 0x80;
	block = fuzz_fields(data + 2, size - 2, fields, 2 * FUZZ_DID_MAX);
	for (i = 0; i < na; i++)
		a[i] = fields[i];
	if (near) {
		/* B: A with one byte of its last part changed or added. */
		nb = na;
		for (i = 0; i < na; i++)
			b[i] = a[i];
		len = strlen(a[na - 1]);
		changed = xmalloc(len + 2);
		memcpy(changed, a[na - 1], len + 1);
		if (len > 0 && data[1] & 1)
			changed[data[1] % len] ^= (char)(data[1] | 1);
		else {
			changed[len] = (char)(data[1] ? data[1] : ':');
			changed[len + 1] = '\0';
		}
		if (memchr(changed, '\0', len) != NULL)	/* made a NUL */
			changed[strlen(changed)] = '%';
		b[nb - 1] = changed;
	} else
		for (i = 0; i < nb; i++)
			b[i] = fields[FUZZ_DID_MAX + i];

	ida = fuzz_did(a, na);
	idb = fuzz_did(b, nb);
	fuzz_round_trip(ida, a, na);
	fuzz_round_trip(idb, b, nb);
	if ((strcmp(ida, idb) == 0) != fuzz_same(a, na, b, nb))
		FUZZ_FAIL("ids \"%s\" and \"%s\" %s, but the part lists %s",
		    ida, idb, strcmp(ida, idb) == 0 ? "are equal" : "differ",
		    fuzz_same(a, na, b, nb) ? "are the same" : "differ");

	/* The id of a notice about B: the id of the list (a0, a1, B...). */
	if (na >= 2) {
		char	*cat[FUZZ_DID_MAX + 2];

		about = store_did_about(a[0], a[1], idb);
		cat[0] = a[0];
		cat[1] = a[1];
		for (i = 0; i < nb; i++)
			cat[2 + i] = b[i];
		whole = fuzz_did(cat, nb + 2);
		if (strcmp(about, whole) != 0)
			FUZZ_FAIL("store_did_about gives \"%s\", the list of "
			    "its parts \"%s\"", about, whole);
		fuzz_round_trip(about, cat, nb + 2);
		free(about);
		free(whole);
	}
	free(ida);
	free(idb);
	free(changed);
	free(block);
	return 0;
}

/*
 * token.h: the signed, sealed tokens in links to the answer pages
 * (SPEC section 9).
 *
 * A token names one person, one purpose and what it is about (a meeting id
 * for an answer, a kind of email for an unsubscribe) and when it stops
 * working. It is sealed (AES-256-CTR, fresh random IV) and signed
 * (HMAC-SHA256 over the version, IV and ciphertext, compared in constant
 * time), both with keys derived from the [web] key, then base64url coded:
 * nothing in a URL says who or what it is about. Pure functions; any
 * thread may call them.
 */
#ifndef HB_TOKEN_H
#define HB_TOKEN_H

#include "util.h"

#define TOKEN_ID_MAX	128		/* bytes of person or subject */
#define TOKEN_YEAR	(365LL * 86400)	/* life of a token not for a meeting */

enum token_purpose {
	TOKEN_ANSWER = 1,	/* answer for meeting `subject` */
	TOKEN_PREFS = 2,	/* the preferences page */
	TOKEN_UNSUB = 3		/* stop kind `subject` (one-click) */
};

/* What token_open found; the web page's status code follows from it. */
enum token_status {
	TOKEN_OK = 0,
	TOKEN_MALFORMED = -1,	/* not a token at all: 400 */
	TOKEN_FORGED = -2,	/* signature wrong (changed, other key): 403 */
	TOKEN_WRONG = -3,	/* a real token, for another purpose: 403 */
	TOKEN_EXPIRED = -4	/* a real token, too late: 410 */
};

struct token {
	enum token_purpose	 purpose;
	long long		 expires;	/* seconds since the epoch */
	char			 person[TOKEN_ID_MAX + 1];	/* collaborator id */
	char			 subject[TOKEN_ID_MAX + 1];	/* meeting id, kind, "" */
};

/* A new token (malloc'd base64url text) for t, keyed by secret; NULL with
 * e set if an id is too long. */
char	*token_make(const char *secret, const struct token *t, struct err *e);
/* Open text: TOKEN_OK with *t filled, or why not. `want` is the purpose
 * the page expects; now is seconds since the epoch. */
int	 token_open(const char *secret, const char *text, enum token_purpose want,
	    long long now, struct token *t);
/* The HTTP status for a token_open result (200 for TOKEN_OK). */
int	 token_http_status(int status);

#endif

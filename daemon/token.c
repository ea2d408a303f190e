/*
 * token.c: signed, sealed tokens for the links in collaborator emails
 * (SPEC section 9; token.h says what a token holds).
 *
 * Raw form, before base64url (RFC 4648 section 5, no padding):
 *
 *	version (1) | IV (16) | AES-256-CTR(payload) | HMAC-SHA256 (first 16)
 *
 * payload = purpose (1) | expiry (8, big-endian) | len (1) person |
 * len (1) subject. The HMAC covers version, IV and ciphertext
 * (encrypt-then-MAC) and is checked with CRYPTO_memcmp before anything is
 * decrypted. Both keys are HMAC-SHA256(secret, label), so the one secret
 * of [web] key_file serves both and changing it retires every link.
 * Stateless; any thread may call these.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "token.h"

#define TOKEN_VERSION	1
#define TOKEN_IV	16
#define TOKEN_MAC	16
#define TOKEN_PAYLOAD	(1 + 8 + 1 + TOKEN_ID_MAX + 1 + TOKEN_ID_MAX)
#define TOKEN_RAW_MAX	(1 + TOKEN_IV + TOKEN_PAYLOAD + TOKEN_MAC)

static const char token_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* A key for one use, derived from the secret. */
static void
token_key(const char *secret, const char *label, unsigned char key[32])
{
	unsigned int	len = 32;

	HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)label, strlen(label), key, &len);
}

static void
token_mac(const char *secret, const unsigned char *p, size_t n,
    unsigned char out[TOKEN_MAC])
{
	unsigned char	key[32], md[32];
	unsigned int	len = sizeof md;

	token_key(secret, "hearback token mac 1", key);
	HMAC(EVP_sha256(), key, sizeof key, p, n, md, &len);
	memcpy(out, md, TOKEN_MAC);
	OPENSSL_cleanse(key, sizeof key);
}

/* AES-256-CTR in place (the same for both directions); -1 on failure. */
static int
token_ctr(const char *secret, const unsigned char *iv, unsigned char *p,
    size_t n)
{
	unsigned char	 key[32], out[TOKEN_PAYLOAD];
	EVP_CIPHER_CTX	*ctx;
	int		 len = 0, fin = 0, rc = -1;

	if (n > sizeof out || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	token_key(secret, "hearback token seal 1", key);
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, key, iv) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &len, p, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + len, &fin) != 1 ||
	    (size_t)(len + fin) != n)
		goto err;
	memcpy(p, out, n);
	rc = 0;
err:
	OPENSSL_cleanse(key, sizeof key);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

static char *
token_b64encode(const unsigned char *p, size_t n)
{
	struct buf	b;
	uint32_t	v;
	size_t		i;

	buf_init(&b);
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		buf_addc(&b, token_b64[v >> 18 & 63]);
		buf_addc(&b, token_b64[v >> 12 & 63]);
		buf_addc(&b, token_b64[v >> 6 & 63]);
		buf_addc(&b, token_b64[v & 63]);
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		buf_addc(&b, token_b64[v >> 18 & 63]);
		buf_addc(&b, token_b64[v >> 12 & 63]);
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		buf_addc(&b, token_b64[v >> 18 & 63]);
		buf_addc(&b, token_b64[v >> 12 & 63]);
		buf_addc(&b, token_b64[v >> 6 & 63]);
	}
	return buf_take(&b);
}

static int
token_b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Strict base64url without padding into out; the length, or -1. */
static int
token_b64decode(const char *s, unsigned char *out, size_t max)
{
	size_t		n = strlen(s), i, o = 0;
	uint32_t	v = 0;
	int		bits = 0, d;

	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((d = token_b64val(s[i])) < 0)
			return -1;
		v = v << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= max)
				return -1;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	if (bits > 0 && (v & ((1u << bits) - 1)) != 0)
		return -1;	/* non-canonical trailing bits */
	return (int)o;
}

char *
token_make(const char *secret, const struct token *t, struct err *e)
{
	unsigned char	raw[TOKEN_RAW_MAX], *p;
	size_t		pl = strlen(t->person), sl = strlen(t->subject), n;
	uint64_t	exp = (uint64_t)t->expires;
	char		*out;
	int		i;

	if (pl == 0 || pl > TOKEN_ID_MAX || sl > TOKEN_ID_MAX) {
		err_set(e, "token: an id is empty or longer than %d bytes",
		    TOKEN_ID_MAX);
		return NULL;
	}
	raw[0] = TOKEN_VERSION;
	if (RAND_bytes(raw + 1, TOKEN_IV) != 1) {
		err_set(e, "token: no random bytes");
		return NULL;
	}
	p = raw + 1 + TOKEN_IV;
	*p++ = (unsigned char)t->purpose;
	for (i = 7; i >= 0; i--)
		*p++ = (unsigned char)(exp >> (i * 8));
	*p++ = (unsigned char)pl;
	memcpy(p, t->person, pl);
	p += pl;
	*p++ = (unsigned char)sl;
	memcpy(p, t->subject, sl);
	p += sl;
	n = p - (raw + 1 + TOKEN_IV);
	if (token_ctr(secret, raw + 1, raw + 1 + TOKEN_IV, n) == -1) {
		err_set(e, "token: cannot seal");
		return NULL;
	}
	token_mac(secret, raw, (size_t)(p - raw), p);
	p += TOKEN_MAC;
	out = token_b64encode(raw, (size_t)(p - raw));
	OPENSSL_cleanse(raw, sizeof raw);
	return out;
}

int
token_open(const char *secret, const char *text, enum token_purpose want,
    long long now, struct token *t)
{
	unsigned char	raw[TOKEN_RAW_MAX], mac[TOKEN_MAC], *p, *end;
	uint64_t	exp = 0;
	int		n, i, rc = TOKEN_MALFORMED;
	size_t		pl, sl;

	memset(t, 0, sizeof *t);
	if (text == NULL || strlen(text) > (TOKEN_RAW_MAX * 4 + 2) / 3 ||
	    (n = token_b64decode(text, raw, sizeof raw)) < 0)
		return TOKEN_MALFORMED;
	if (n < 1 + TOKEN_IV + 1 + 8 + 1 + 1 + 1 + TOKEN_MAC ||
	    raw[0] != TOKEN_VERSION)
		return TOKEN_MALFORMED;
	token_mac(secret, raw, (size_t)n - TOKEN_MAC, mac);
	if (CRYPTO_memcmp(mac, raw + n - TOKEN_MAC, TOKEN_MAC) != 0)
		return TOKEN_FORGED;
	p = raw + 1 + TOKEN_IV;
	end = raw + n - TOKEN_MAC;
	if (token_ctr(secret, raw + 1, p, (size_t)(end - p)) == -1)
		goto out;
	/* Signed by us, so well formed; checked all the same. */
	t->purpose = (enum token_purpose)*p++;
	for (i = 0; i < 8; i++)
		exp = exp << 8 | *p++;
	t->expires = (long long)exp;
	pl = *p++;
	if (pl == 0 || pl > TOKEN_ID_MAX || (size_t)(end - p) < pl + 1)
		goto out;
	memcpy(t->person, p, pl);
	p += pl;
	sl = *p++;
	if (sl > TOKEN_ID_MAX || (size_t)(end - p) != sl)
		goto out;
	memcpy(t->subject, p, sl);
	if (t->purpose != want)
		rc = TOKEN_WRONG;
	else if (now >= t->expires)
		rc = TOKEN_EXPIRED;
	else
		rc = TOKEN_OK;
out:
	OPENSSL_cleanse(raw, sizeof raw);
	if (rc != TOKEN_OK && rc != TOKEN_EXPIRED)
		memset(t, 0, sizeof *t);
	return rc;
}

int
token_http_status(int status)
{
	switch (status) {
	case TOKEN_OK:
		return 200;
	case TOKEN_FORGED:
	case TOKEN_WRONG:
		return 403;
	case TOKEN_EXPIRED:
		return 410;
	default:
		return 400;
	}
}

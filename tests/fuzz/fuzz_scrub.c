/*
 * fuzz_scrub.c: libFuzzer target for forget's matcher (daemon/store/
 * match.lua), run in a plain Lua 5.1, as Redis runs it.
 *
 * forget must leave no spelling of a person's name, address or phone in
 * any value under the prefix (store.h, Forget). The matcher is Lua because
 * it runs inside Redis; this target loads the very text that is embedded
 * in the daemon (store_lua_match, from scripts.S).
 *
 * Input: byte 0 and byte 1 are flags; the rest, split at NUL bytes, is a
 * name, an email address, a phone number, the text before and the text
 * after, and then a stream of choices. The name (or, by byte 0, the address
 * or the phone) is written the way some program might have stored it, each
 * character by a choice: as it is, in upper case, as a JSON \uXXXX escape
 * (surrogate pairs past U+FFFF), as %XX bytes, as an &#NN; or &#xHH;
 * entity; '/' as "\/"; a space as a tab, a newline, two spaces or '+'; a
 * phone's digits with separators, or with "+44 " for a leading 0. By
 * byte 1 the whole spelling is escaped once more as a JSON string (JSON in
 * JSON) or %-encoded again. The value is before + " " + spelling + " " +
 * after.
 *
 * Properties, beyond "no crash, no leak, no Lua error" (a Lua error in
 * Redis would fail the forget commit, and with it the forget):
 *  - hb_hits finds the person in the value (every spelling is caught);
 *  - hb_redact either gives nil (the caller deletes the value) or a
 *    changed value in which hb_hits finds no one.
 *
 * Names and addresses are cleaned first to what a person's name can hold
 * here: valid UTF-8 without control characters, '\', '%', '&', '+' or
 * '"' (with those the "same" name is ambiguous: "%41" is also "A"), at
 * most 40 bytes, at least 2 characters that are not spaces.
 *
 * Single-threaded; one Lua state for the whole run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "util.h"

#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

extern const char store_lua_match[];

static lua_State	*fuzz_L;
static int		 fuzz_api;	/* registry ref: the functions */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct buf	b;

	fuzz_L = luaL_newstate();
	luaL_openlibs(fuzz_L);
	buf_init(&b);
	buf_printf(&b, "%s\nreturn {needles = hb_needles, hits = hb_hits, "
	    "redact = hb_redact, norm = hb_norm}\n", store_lua_match);
	if (luaL_loadbuffer(fuzz_L, b.s, b.len, "match.lua") != 0 ||
	    lua_pcall(fuzz_L, 0, 1, 0) != 0) {
		fprintf(stderr, "fuzz_scrub: match.lua: %s\n",
		    lua_tostring(fuzz_L, -1));
		exit(1);
	}
	fuzz_api = luaL_ref(fuzz_L, LUA_REGISTRYINDEX);
	buf_free(&b);
	return 0;
}

/* Push api[name]. */
static void
fuzz_fn(const char *name)
{
	lua_rawgeti(fuzz_L, LUA_REGISTRYINDEX, fuzz_api);
	lua_getfield(fuzz_L, -1, name);
	lua_remove(fuzz_L, -2);
}

static void
fuzz_call(int nargs, int nres, const char *what)
{
	if (lua_pcall(fuzz_L, nargs, nres, 0) != 0)
		FUZZ_FAIL("Lua error in %s: %s", what,
		    lua_tostring(fuzz_L, -1));
}

/* The length of the UTF-8 character at s (0: not valid). */
static size_t
fuzz_u8len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t		l, i;
	uint32_t	c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		l = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		l = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		l = 4, c = s[0] & 0x07;
	else
		return 0;
	if (l > n)
		return 0;
	for (i = 1; i < l; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((l == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
	    (l == 4 && (c < 0x10000 || c > 0x10FFFF)))
		return 0;
	*cp = c;
	return l;
}

/* What a name can hold here (see the top): into buf; its length. */
static size_t
fuzz_clean(const char *in, char *buf, size_t cap)
{
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 n = strlen(in), i = 0, o = 0, l;
	uint32_t		 cp;

	while (i < n && o + 4 < cap && o < 40) {
		l = fuzz_u8len(s + i, n - i, &cp);
		if (l == 0) {
			i++;
			continue;
		}
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xA0) ||
		    strchr("\\%&+\"", (int)cp) != NULL) {
			i += l;
			continue;
		}
		memcpy(buf + o, s + i, l);
		o += l;
		i += l;
	}
	buf[o] = '\0';
	return o;
}

struct fuzz_choices {
	const unsigned char	*p;
	size_t			 n, i;
};

static unsigned
fuzz_next(struct fuzz_choices *c)
{
	if (c->n == 0)
		return 0;
	return c->p[c->i++ % c->n];
}

/* Upper case as a program would write it: ASCII and Latin-1. */
static uint32_t
fuzz_upper(uint32_t cp)
{
	if (cp >= 'a' && cp <= 'z')
		return cp - 0x20;
	if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7)
		return cp - 0x20;
	return cp;
}

static void
fuzz_utf8(struct buf *b, uint32_t cp)
{
	if (cp < 0x80)
		buf_addc(b, (char)cp);
	else if (cp < 0x800) {
		buf_addc(b, (char)(0xC0 | (cp >> 6)));
		buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		buf_addc(b, (char)(0xE0 | (cp >> 12)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	} else {
		buf_addc(b, (char)(0xF0 | (cp >> 18)));
		buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	}
}

/* One character, spelled by choice k. */
static void
fuzz_spell_char(struct buf *b, uint32_t cp, unsigned k)
{
	const char	*hex = (k & 0x80) ? "%04X" : "%04x";
	struct buf	 u;
	size_t		 i;

	if (k & 0x40)
		cp = fuzz_upper(cp);
	if (cp == ' ') {
		switch (k & 7) {
		case 1: buf_addc(b, '\t'); return;
		case 2: buf_addc(b, '\n'); return;
		case 3: buf_add(b, "  ", 2); return;
		case 4: buf_addc(b, '+'); return;
		case 5: buf_add(b, "\\n", 2); return;
		default: break;
		}
	}
	switch (k & 7) {
	case 1:					/* JSON \u */
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000;

			buf_printf(b, "\\u");
			buf_printf(b, hex, 0xD800 + (v >> 10));
			buf_printf(b, "\\u");
			buf_printf(b, hex, 0xDC00 + (v & 0x3FF));
		} else {
			buf_printf(b, "\\u");
			buf_printf(b, hex, cp);
		}
		return;
	case 2:					/* %XX of each byte */
		buf_init(&u);
		fuzz_utf8(&u, cp);
		for (i = 0; i < u.len; i++)
			buf_printf(b, (k & 0x80) ? "%%%02X" : "%%%02x",
			    (unsigned char)u.s[i]);
		buf_free(&u);
		return;
	case 3:
		buf_printf(b, "&#%u;", (unsigned)cp);
		return;
	case 4:
		buf_printf(b, (k & 0x80) ? "&#X%X;" : "&#x%x;", (unsigned)cp);
		return;
	case 5:
		if (cp == '/') {
			buf_add(b, "\\/", 2);
			return;
		}
		break;
	default:
		break;
	}
	fuzz_utf8(b, cp);
}

static void
fuzz_spell(struct buf *b, const char *s, struct fuzz_choices *c)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), i = 0, l;
	uint32_t		 cp;

	while (i < n) {
		l = fuzz_u8len(p + i, n - i, &cp);
		fuzz_spell_char(b, cp, fuzz_next(c));
		i += l;
	}
}

/* A phone's digits, with separators and maybe the country code. */
static void
fuzz_spell_phone(struct buf *b, const char *digits, struct fuzz_choices *c)
{
	static const char *const sep[] = { "", " ", "-", ".", " (", ") ", "/" };
	size_t	i;

	if (digits[0] == '0' && (fuzz_next(c) & 1)) {
		buf_add(b, "+44 ", 4);
		digits++;
	}
	for (i = 0; digits[i]; i++) {
		buf_addc(b, digits[i]);
		if (digits[i + 1] && fuzz_next(c) % 3 == 0)
			buf_printf(b, "%s", sep[fuzz_next(c) % 7]);
	}
}

/* Escape s once more as the inside of a JSON string, or as %XX. */
static void
fuzz_wrap(struct buf *b, const char *s, int how)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (how == 1 && (*p == '\\' || *p == '"'))
			buf_printf(b, "\\%c", *p);
		else if (how == 1 && *p < 0x20)
			buf_printf(b, "\\u%04x", *p);
		else if (how == 2 && (*p == '%' || *p == '\\' || *p >= 0x80 ||
		    *p < 0x20))
			buf_printf(b, "%%%02X", *p);
		else
			buf_addc(b, (char)*p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*part[6] = { "", "", "", "", "", "" };
	char			 name[64], email[64], phone[32], *copy;
	struct fuzz_choices	 ch;
	struct buf		 sp, wrapped, value;
	size_t			 i, np = 0, rn, nchars = 0;
	const char		*target, *r;
	int			 what, hit;

	if (size < 3 || size > 4096)
		return 0;
	copy = xcalloc(1, size - 1);
	memcpy(copy, data + 2, size - 2);
	part[np++] = copy;
	for (i = 0; i < size - 2 && np < 6; i++)
		if (copy[i] == '\0')
			part[np++] = copy + i + 1;
	ch.p = (const unsigned char *)part[5];
	ch.n = np == 6 ? (size_t)(copy + size - 2 - part[5]) : 0;
	ch.i = 0;

	fuzz_clean(part[0], name, sizeof name);
	fuzz_clean(part[1], email, sizeof email);
	for (i = 0, rn = 0; part[2][i] && rn < 15; i++)
		if (part[2][i] >= '0' && part[2][i] <= '9')
			phone[rn++] = part[2][i];
	phone[rn] = '\0';

	what = data[0] % 3;
	target = what == 0 ? name : what == 1 ? email : phone;
	/* Worth a needle: two characters not spaces (a name or address),
	 * six digits (a phone). */
	for (i = 0; target[i]; i++)
		if (target[i] != ' ')
			nchars++;
	/* (a phone's digits count without leading zeros) */
	if (what == 2)
		for (i = 0; phone[i] == '0'; i++)
			rn--;
	if ((what < 2 && nchars < 2) || (what == 2 && rn < 6)) {
		free(copy);
		return 0;
	}

	buf_init(&sp);
	if (what == 2)
		fuzz_spell_phone(&sp, phone, &ch);
	else
		fuzz_spell(&sp, target, &ch);
	buf_init(&wrapped);
	fuzz_wrap(&wrapped, sp.s, data[1] % 3);
	buf_init(&value);
	buf_printf(&value, "%s %s %s", part[3], wrapped.s, part[4]);

	/* needles = hb_needles(name, email, phone) */
	fuzz_fn("needles");
	lua_pushstring(fuzz_L, name);
	lua_pushstring(fuzz_L, email);
	lua_pushstring(fuzz_L, phone);
	fuzz_call(3, 1, "hb_needles");
	/* stack: nd */

	fuzz_fn("hits");
	lua_pushlstring(fuzz_L, value.s, value.len);
	lua_pushvalue(fuzz_L, -3);
	fuzz_call(2, 1, "hb_hits");
	hit = lua_toboolean(fuzz_L, -1);
	lua_pop(fuzz_L, 1);
	if (!hit)
		FUZZ_FAIL("not found: %s \"%s\" written \"%s\" in \"%s\"",
		    what == 0 ? "name" : what == 1 ? "email" : "phone", target,
		    wrapped.s, value.s);

	fuzz_fn("redact");
	lua_pushlstring(fuzz_L, value.s, value.len);
	lua_pushvalue(fuzz_L, -3);
	fuzz_call(2, 1, "hb_redact");
	if (!lua_isnil(fuzz_L, -1)) {
		r = lua_tolstring(fuzz_L, -1, &rn);
		if (rn == value.len && memcmp(r, value.s, rn) == 0)
			FUZZ_FAIL("redaction changed nothing: \"%s\"", r);
		fuzz_fn("hits");
		lua_pushvalue(fuzz_L, -2);
		lua_pushvalue(fuzz_L, -4);
		fuzz_call(2, 1, "hb_hits (redacted)");
		if (lua_toboolean(fuzz_L, -1))
			FUZZ_FAIL("redacted value still matches: \"%s\"", r);
		lua_pop(fuzz_L, 1);
	}
	lua_pop(fuzz_L, 2);		/* redact's result, nd */
	if (lua_gettop(fuzz_L) != 0)
		FUZZ_FAIL("Lua stack not empty: %d", lua_gettop(fuzz_L));
	buf_free(&sp);
	buf_free(&wrapped);
	buf_free(&value);
	free(copy);
	return 0;
}

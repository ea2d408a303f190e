/*
 * fuzz.h: small helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * A broken property is reported with FUZZ_FAIL, which prints what was seen
 * and aborts, so libFuzzer keeps the input as a crash file. Header-only
 * (static functions) so that each target builds from its own .c file alone.
 */
#ifndef HB_FUZZ_H
#define HB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_FAIL(...) do {						\
	fprintf(stderr, "\nFUZZ PROPERTY FAILED (%s:%d): ", __FILE__,	\
	    __LINE__);							\
	fprintf(stderr, __VA_ARGS__);					\
	fprintf(stderr, "\n");						\
	abort();							\
} while (0)


/*
 * Safe to log: no C0 control (CR and LF included), no DEL, no C1 control
 * (U+0080-U+009F, C2 80-C2 9F in UTF-8; build with -DFUZZ_ALLOW_C1 to
 * look past a known C1 finding). Returns the offset of the first bad byte,
 * or -1 when the string is clean.
 */
static inline long
fuzz_first_control(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return (long)i;
#ifndef FUZZ_ALLOW_C1
		if (s[i] == 0xc2 && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return (long)i;
#endif
	}
	return -1;
}

/* Split data at NUL bytes into at most max NUL-terminated fields (copies in
 * one block the caller frees); missing fields are "". Returns the block. */
static inline char *
fuzz_fields(const uint8_t *data, size_t size, char **fields, int max)
{
	char	*block = malloc(size + 1), *p;
	int	 i;

	if (block == NULL)
		abort();
	if (size > 0)
		memcpy(block, data, size);
	block[size] = '\0';
	p = block;
	for (i = 0; i < max; i++) {
		fields[i] = p;
		if (p < block + size) {
			p += strlen(p);
			if (p < block + size)
				p++;	/* past the NUL */
		}
	}
	return block;
}

#endif

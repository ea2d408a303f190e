/*
 * duration.h: "45s", "30m", "2h", "7d" to seconds and back. Pure; any thread.
 */
#ifndef HB_DURATION_H
#define HB_DURATION_H

#include "util.h"

/* Parse one duration: a whole number (1 to 9 digits) then s, m, h or d. */
int	duration_parse(const char *s, long long *secs, struct err *e);
/* Parse a comma-separated list ("7d, 1d, 2h"); empty string is an empty list.
 * At most max items; *n receives the count. */
int	duration_parse_list(const char *s, long long *out, int max, int *n,
	    struct err *e);
/* Format the largest exact unit: 172800 -> "2d", 90 -> "90s". */
void	duration_format(long long secs, char *buf, size_t len);
/* The same in words, for people: "2 days", "1 minute", "90 seconds". */
void	duration_words(long long secs, char *buf, size_t len);

#endif

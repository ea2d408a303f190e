/*
 * duration.c: the one place that reads and writes durations (SPEC: "a number
 * and a unit"). Pure functions; any thread.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

int
duration_parse(const char *s, long long *secs, struct err *e)
{
	long long	 v = 0;
	int		 digits = 0;
	const char	*p = s;
	char		 q[200];

	while (isdigit((unsigned char)*p)) {
		if (++digits > 9)
			return err_set(e, "%s is too long a duration",
			    util_quote(q, sizeof q, s, 40));
		v = v * 10 + (*p++ - '0');
	}
	if (digits == 0 || p[0] == '\0' || p[1] != '\0')
		return err_set(e, "%s is not a duration (use a number and "
		    "s, m, h or d, like 45s, 30m, 2h, 7d)",
		    util_quote(q, sizeof q, s, 40));
	switch (*p) {
	case 's':
		break;
	case 'm':
		v *= 60;
		break;
	case 'h':
		v *= 3600;
		break;
	case 'd':
		v *= 86400;
		break;
	default:
		return err_set(e, "%s is not a duration (use a number and "
		    "s, m, h or d, like 45s, 30m, 2h, 7d)",
		    util_quote(q, sizeof q, s, 40));
	}
	*secs = v;
	return 0;
}

int
duration_parse_list(const char *s, long long *out, int max, int *n,
    struct err *e)
{
	char		 item[64];
	const char	*p = s, *q;
	size_t		 len;

	*n = 0;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return 0;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		q = p;
		while (*q != '\0' && *q != ',')
			q++;
		len = q - p;
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (len == 0 || len >= sizeof item) {
			char q[200];

			return err_set(e, "%s is not a list of durations",
			    util_quote(q, sizeof q, s, 60));
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (*n >= max)
			return err_set(e, "more than %d durations", max);
		if (duration_parse(item, &out[*n], e) == -1)
			return -1;
		(*n)++;
		if (*q == '\0')
			return 0;
		p = q + 1;
	}
}

void
duration_format(long long secs, char *buf, size_t len)
{
	if (secs != 0 && secs % 86400 == 0)
		snprintf(buf, len, "%lldd", secs / 86400);
	else if (secs != 0 && secs % 3600 == 0)
		snprintf(buf, len, "%lldh", secs / 3600);
	else if (secs != 0 && secs % 60 == 0)
		snprintf(buf, len, "%lldm", secs / 60);
	else
		snprintf(buf, len, "%llds", secs);
}

void
duration_words(long long secs, char *buf, size_t len)
{
	long long	 n = secs;
	const char	*unit = "second";

	if (secs != 0 && secs % 86400 == 0)
		n = secs / 86400, unit = "day";
	else if (secs != 0 && secs % 3600 == 0)
		n = secs / 3600, unit = "hour";
	else if (secs != 0 && secs % 60 == 0)
		n = secs / 60, unit = "minute";
	snprintf(buf, len, "%lld %s%s", n, unit, n == 1 ? "" : "s");
}

/*
 * clock.h: wall-clock time in IANA time zones (libical's zones, never the
 * system TZ), for records, emails and reminders. Epochs are seconds.
 *
 * Pure functions; any thread. Zone look-ups and offset calculations are
 * serialised inside clock.c, so callers need no locking. clock_init() is
 * optional (it warms libical's zone table before threads start).
 * Functions that cannot fail (formatting, clock_local, clock_reminder_due)
 * use UTC when tz is not a valid zone: validate zones when records arrive.
 */
#ifndef HB_CLOCK_H
#define HB_CLOCK_H

#include <stddef.h>

#include "util.h"

/* Local date and time parts of an epoch in a zone. */
struct clock_local {
	int	year, month, day;	/* month 1-12, day 1-31 */
	int	hour, min, sec;
	int	wday;			/* 0 Sunday .. 6 Saturday */
	int	offset;			/* seconds east of UTC */
};

/* Call once in main before threads (optional; safe to call again). */
void	clock_init(void);

/* 1 if tz is an IANA zone name we can use ("Europe/London", "UTC"), else 0. */
int	clock_tz_valid(const char *tz);
/* 1 if tz is UTC itself (libical's UTC zone: "UTC", "GMT"), else 0. */
int	clock_tz_is_utc(const char *tz);

/*
 * "YYYY-MM-DDTHH:MM" or "...:SS" local time in tz -> epoch. A time in the
 * spring-forward gap is an error ("2026-03-29T01:30 does not exist in
 * Europe/London (the clocks go forward)"); an ambiguous autumn time takes the
 * first occurrence (summer time). Malformed: "... is not a date and time".
 */
int	clock_parse_local(const char *wall, const char *tz, long long *epoch,
	    struct err *e);
/* "YYYY-MM-DD" -> local midnight in tz (or the first moment of that day). */
int	clock_parse_date(const char *date, const char *tz, long long *epoch,
	    struct err *e);

/* Local parts of epoch in tz (UTC when tz is not valid). */
void	clock_local(long long epoch, const char *tz, struct clock_local *out);
/* Minutes after local midnight of epoch in tz. */
int	clock_local_minutes(long long epoch, const char *tz);

/* British English for people: "Thursday 10 December 2026, 5:30pm",
 * "..., 12 noon", "..., 12 midnight", "..., 10am". */
void	clock_format_human(long long epoch, const char *tz, char *buf,
	    size_t len);
/* "Thursday 10 December 2026, 5:30pm to 7:30pm"; across days:
 * "Thursday 10 December 2026, 11pm to Friday 11 December 2026, 1am". */
void	clock_format_range(long long start, long long end, const char *tz,
	    char *buf, size_t len);
/* "Tuesday 1 December 2026" */
void	clock_format_date(long long epoch, const char *tz, char *buf,
	    size_t len);
/* "2026-12-10T17:30:00Z" */
void	clock_format_iso_utc(long long epoch, char *buf, size_t len);
/* "2026-12-10T17:30:00+00:00" */
void	clock_format_iso_local(long long epoch, const char *tz, char *buf,
	    size_t len);

/*
 * When a reminder `lead` seconds before `start` is due (SPEC section 4).
 * Whole days are calendar days in tz (same wall-clock time, or the moment
 * just after a spring-forward gap); other leads are exact seconds. Quiet
 * hours [quiet_start, quiet_end) are minutes after local midnight and may
 * wrap midnight (quiet_start < 0: none): a reminder due in quiet hours moves
 * to their end if that is before start, else to their start. Returns -1 when
 * the result is not before start. Does not look at "now".
 */
long long clock_reminder_due(long long start, long long lead, const char *tz,
	    int quiet_start, int quiet_end);

/* "21:00-08:00" -> 1260, 480; "" or "none" -> -1, -1. */
int	clock_parse_quiet(const char *s, int *start, int *end, struct err *e);

#endif

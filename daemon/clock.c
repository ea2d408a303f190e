/*
 * clock.c: wall-clock time in IANA zones, the one place that turns "17:30 in
 * Europe/London" into an epoch and back, formats times for people, and works
 * out when a reminder is due (calendar days, clock changes, quiet hours).
 *
 * Zone data comes from libical (icaltimezone_get_builtin_timezone, which on
 * Debian reads the system tzdata files), never from TZ/localtime, so nothing
 * here depends on the process's zone. Date arithmetic is done on plain day
 * numbers (proleptic Gregorian); libical is asked only for a zone's UTC offset
 * at a UTC instant.
 *
 * Threads: every function may be called from any thread. libical 3.0 guards
 * its builtin zone table with a mutex, but a zone's table of changes is
 * expanded lazily on first use of a later year, so all our zone look-ups and
 * offset queries are serialised by clock_mtx (they take microseconds).
 *
 * Local time resolution: a local time L (seconds, as if it were UTC) maps to
 * the instants L - o for the offsets o in force around it; an instant is a
 * valid reading when the zone's offset at that instant is o. None valid: the
 * time is in a spring-forward gap. Two valid: an autumn repeat; we take the
 * first (summer time).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libical/ical.h>

#include "clock.h"

#define DAY	86400LL

enum {
	RES_OK,		/* one reading */
	RES_AMBIG,	/* two readings; the first was taken */
	RES_GAP		/* none; the end of the gap was taken */
};

static pthread_mutex_t clock_mtx = PTHREAD_MUTEX_INITIALIZER;

static const char *const clock_wdays[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"
};
static const char *const clock_months[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"
};

/* Floor division, for epochs before 1970. */
static long long
clock_fdiv(long long a, long long b)
{
	long long	q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long
clock_days(int y, int m, int d)
{
	long long	era, yoe, doy, doe;

	y -= m <= 2;
	era = clock_fdiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
clock_civil(long long z, int *y, int *m, int *d)
{
	long long	era, doe, yoe, doy, mp;

	z += 719468;
	era = clock_fdiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int
clock_mdays(int y, int m)
{
	static const int	 n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return n[m - 1];
}

/*
 * An IANA name is path-like components of letters, digits, '_', '-', '+',
 * each starting with a letter. libical opens zoneinfo/<name> as a file, so
 * this also keeps "../" and absolute paths out.
 */
static int
clock_name_ok(const char *tz)
{
	const char	*p;
	size_t		 len;

	if (tz == NULL || (len = strlen(tz)) == 0 || len > 64)
		return 0;
	if (strncmp(tz, "right/", 6) == 0 || strcmp(tz, "posixrules") == 0 ||
	    strcmp(tz, "localtime") == 0 || strcmp(tz, "Factory") == 0)
		return 0;
	for (p = tz; *p != '\0'; p++) {
		if (p == tz || p[-1] == '/') {
			if (!isalpha((unsigned char)*p))
				return 0;
		} else if (*p == '/') {
			if (p[1] == '\0')
				return 0;
		} else if (!isalnum((unsigned char)*p) && *p != '_' &&
		    *p != '-' && *p != '+')
			return 0;
	}
	return 1;
}

/*
 * Called with clock_mtx held. NULL if tz is not a usable zone. The last
 * zone found is kept (under clock_mtx too): libical looks a name up by
 * walking its table, and an email's times are all in one zone. A builtin
 * zone lives as long as the process.
 */
static icaltimezone *
clock_zone(const char *tz)
{
	static char		 last[64];
	static icaltimezone	*lastz;
	icaltimezone		*z;

	if (tz == NULL)
		return NULL;
	if (lastz != NULL && strcmp(tz, last) == 0)
		return lastz;
	if (!clock_name_ok(tz) ||
	    (z = icaltimezone_get_builtin_timezone(tz)) == NULL)
		return NULL;
	if (strlen(tz) < sizeof last) {
		memcpy(last, tz, strlen(tz) + 1);
		lastz = z;
	}
	return z;
}

/* Called with clock_mtx held: the zone's offset (seconds east) at instant u. */
static int
clock_offset(icaltimezone *z, long long u)
{
	struct icaltimetype	 t;
	int			 dst = 0;

	t = icaltime_from_timet_with_zone((time_t)u, 0, NULL);
	return icaltimezone_get_utc_offset_of_utc_time(z, &t, &dst);
}

/*
 * Called with clock_mtx held. Local seconds L (as if UTC) -> instant *u.
 * Gap: the first instant after the gap; ambiguous: the first reading.
 */
static int
clock_resolve(icaltimezone *z, long long L, long long *u)
{
	long long	 cand[3], valid[3], lo, hi, mid;
	int		 off[3], i, j, n = 0, nv = 0, olo;

	off[0] = clock_offset(z, L - DAY);
	off[1] = clock_offset(z, L);
	off[2] = clock_offset(z, L + DAY);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < i; j++)
			if (off[j] == off[i])
				break;
		if (j < i)
			continue;
		cand[n] = L - off[i];
		if (clock_offset(z, cand[n]) == off[i])
			valid[nv++] = cand[n];
		n++;
	}
	if (nv > 0) {
		*u = valid[0];
		for (i = 1; i < nv; i++)
			if (valid[i] < *u)
				*u = valid[i];
		return nv > 1 ? RES_AMBIG : RES_OK;
	}

	/* A gap: find the transition between the candidate readings. */
	lo = hi = cand[0];
	for (i = 1; i < n; i++) {
		if (cand[i] < lo)
			lo = cand[i];
		if (cand[i] > hi)
			hi = cand[i];
	}
	olo = clock_offset(z, lo);
	if (olo == clock_offset(z, hi)) {
		*u = L - off[1];	/* cannot happen with real zones */
		return RES_GAP;
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (clock_offset(z, mid) == olo)
			lo = mid;
		else
			hi = mid;
	}
	*u = hi;
	return RES_GAP;
}

/* Resolve a local day number and seconds into the day, in tz. */
static long long
clock_resolve_day(const char *tz, long long day, long long secs, int *res)
{
	icaltimezone	*z;
	long long	 u;
	int		 r;

	pthread_mutex_lock(&clock_mtx);
	if ((z = clock_zone(tz)) == NULL)
		z = icaltimezone_get_utc_timezone();
	r = clock_resolve(z, day * DAY + secs, &u);
	pthread_mutex_unlock(&clock_mtx);
	if (res != NULL)
		*res = r;
	return u;
}

void
clock_init(void)
{
	pthread_mutex_lock(&clock_mtx);
	(void)icaltimezone_get_utc_timezone();
	(void)icaltimezone_get_builtin_timezone("Europe/London");
	pthread_mutex_unlock(&clock_mtx);
}

int
clock_tz_valid(const char *tz)
{
	int	ok;

	pthread_mutex_lock(&clock_mtx);
	ok = clock_zone(tz) != NULL;
	pthread_mutex_unlock(&clock_mtx);
	return ok;
}

int
clock_tz_is_utc(const char *tz)
{
	int	utc;

	pthread_mutex_lock(&clock_mtx);
	utc = clock_name_ok(tz) &&
	    clock_zone(tz) == icaltimezone_get_utc_timezone();
	pthread_mutex_unlock(&clock_mtx);
	return utc;
}

void
clock_local(long long epoch, const char *tz, struct clock_local *out)
{
	icaltimezone	*z;
	long long	 l, day, sod;

	pthread_mutex_lock(&clock_mtx);
	if ((z = clock_zone(tz)) == NULL)
		z = icaltimezone_get_utc_timezone();
	out->offset = clock_offset(z, epoch);
	pthread_mutex_unlock(&clock_mtx);

	l = epoch + out->offset;
	day = clock_fdiv(l, DAY);
	sod = l - day * DAY;
	clock_civil(day, &out->year, &out->month, &out->day);
	out->hour = (int)(sod / 3600);
	out->min = (int)(sod / 60 % 60);
	out->sec = (int)(sod % 60);
	out->wday = (int)(((day % 7) + 11) % 7);	/* 1970-01-01: Thursday */
}

int
clock_local_minutes(long long epoch, const char *tz)
{
	struct clock_local	cl;

	clock_local(epoch, tz, &cl);
	return cl.hour * 60 + cl.min;
}

/* n digits at p into *v; 0 on success. */
static int
clock_digits(const char *p, int n, int *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

/* "YYYY-MM-DD" at s; 0 on success with *day the day number. */
static int
clock_scan_date(const char *s, long long *day)
{
	int	y, m, d;

	if (clock_digits(s, 4, &y) == -1 || s[4] != '-' ||
	    clock_digits(s + 5, 2, &m) == -1 || s[7] != '-' ||
	    clock_digits(s + 8, 2, &d) == -1)
		return -1;
	if (y < 1900 || y > 2500 || m < 1 || m > 12 || d < 1 ||
	    d > clock_mdays(y, m))
		return -1;
	*day = clock_days(y, m, d);
	return 0;
}

int
clock_parse_local(const char *wall, const char *tz, long long *epoch,
    struct err *e)
{
	long long	 day, u;
	size_t		 len;
	int		 h, mi, s = 0, r;

	if (!clock_tz_valid(tz))
		return err_set(e, "\"%.64s\" is not a time zone (use an IANA "
		    "name like Europe/London)", tz ? tz : "");
	/* A stored record read back may lack the field (fuzz_view). */
	if (wall == NULL)
		return err_set(e, "no date and time");
	len = strlen(wall);
	if ((len != 16 && len != 19) || clock_scan_date(wall, &day) == -1 ||
	    wall[10] != 'T' || clock_digits(wall + 11, 2, &h) == -1 ||
	    wall[13] != ':' || clock_digits(wall + 14, 2, &mi) == -1 ||
	    (len == 19 && (wall[16] != ':' ||
	    clock_digits(wall + 17, 2, &s) == -1)) ||
	    h > 23 || mi > 59 || s > 59)
		return err_set(e, "\"%.64s\" is not a date and time (use "
		    "YYYY-MM-DDTHH:MM)", wall);
	u = clock_resolve_day(tz, day, h * 3600LL + mi * 60 + s, &r);
	if (r == RES_GAP)
		return err_set(e, "%s does not exist in %s (the clocks go "
		    "forward)", wall, tz);
	*epoch = u;
	return 0;
}

int
clock_parse_date(const char *date, const char *tz, long long *epoch,
    struct err *e)
{
	long long	day;

	if (!clock_tz_valid(tz))
		return err_set(e, "\"%.64s\" is not a time zone (use an IANA "
		    "name like Europe/London)", tz ? tz : "");
	if (date == NULL)
		return err_set(e, "no date");
	if (strlen(date) != 10 || clock_scan_date(date, &day) == -1)
		return err_set(e, "\"%.64s\" is not a date (use YYYY-MM-DD)",
		    date);
	*epoch = clock_resolve_day(tz, day, 0, NULL);
	return 0;
}

static void
clock_time_words(const struct clock_local *cl, char *buf, size_t len)
{
	int	h12;

	if (cl->hour == 12 && cl->min == 0)
		snprintf(buf, len, "12 noon");
	else if (cl->hour == 0 && cl->min == 0)
		snprintf(buf, len, "12 midnight");
	else {
		h12 = cl->hour % 12 == 0 ? 12 : cl->hour % 12;
		if (cl->min == 0)
			snprintf(buf, len, "%d%s", h12,
			    cl->hour < 12 ? "am" : "pm");
		else
			snprintf(buf, len, "%d:%02d%s", h12, cl->min,
			    cl->hour < 12 ? "am" : "pm");
	}
}

static void
clock_date_words(const struct clock_local *cl, char *buf, size_t len)
{
	snprintf(buf, len, "%s %d %s %d", clock_wdays[cl->wday], cl->day,
	    clock_months[cl->month - 1], cl->year);
}

void
clock_format_date(long long epoch, const char *tz, char *buf, size_t len)
{
	struct clock_local	cl;

	clock_local(epoch, tz, &cl);
	clock_date_words(&cl, buf, len);
}

void
clock_format_human(long long epoch, const char *tz, char *buf, size_t len)
{
	struct clock_local	cl;
	char			d[64], t[32];

	clock_local(epoch, tz, &cl);
	clock_date_words(&cl, d, sizeof(d));
	clock_time_words(&cl, t, sizeof(t));
	snprintf(buf, len, "%s, %s", d, t);
}

void
clock_format_range(long long start, long long end, const char *tz, char *buf,
    size_t len)
{
	struct clock_local	a, b;
	char			da[64], ta[32], db[64], tb[32];

	clock_local(start, tz, &a);
	clock_local(end, tz, &b);
	clock_date_words(&a, da, sizeof(da));
	clock_time_words(&a, ta, sizeof(ta));
	clock_date_words(&b, db, sizeof(db));
	clock_time_words(&b, tb, sizeof(tb));
	if (a.year == b.year && a.month == b.month && a.day == b.day)
		snprintf(buf, len, "%s, %s to %s", da, ta, tb);
	else
		snprintf(buf, len, "%s, %s to %s, %s", da, ta, db, tb);
}

void
clock_format_iso_utc(long long epoch, char *buf, size_t len)
{
	struct clock_local	cl;

	clock_local(epoch, "UTC", &cl);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", cl.year, cl.month,
	    cl.day, cl.hour, cl.min, cl.sec);
}

void
clock_format_iso_local(long long epoch, const char *tz, char *buf, size_t len)
{
	struct clock_local	cl;
	int			off;

	clock_local(epoch, tz, &cl);
	off = cl.offset < 0 ? -cl.offset : cl.offset;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
	    cl.year, cl.month, cl.day, cl.hour, cl.min, cl.sec,
	    cl.offset < 0 ? '-' : '+', off / 3600, off / 60 % 60);
}

static int
clock_in_quiet(int m, int qs, int qe)
{
	if (qs < qe)
		return m >= qs && m < qe;
	return m >= qs || m < qe;
}

long long
clock_reminder_due(long long start, long long lead, const char *tz,
    int quiet_start, int quiet_end)
{
	struct clock_local	cl;
	long long		due, day, endu;
	int			m;

	if (lead <= 0)
		return -1;
	if (lead % DAY == 0) {
		clock_local(start, tz, &cl);
		day = clock_days(cl.year, cl.month, cl.day) - lead / DAY;
		due = clock_resolve_day(tz, day,
		    cl.hour * 3600LL + cl.min * 60 + cl.sec, NULL);
	} else
		due = start - lead;

	if (quiet_start >= 0 && quiet_end >= 0 && quiet_start != quiet_end) {
		clock_local(due, tz, &cl);
		m = cl.hour * 60 + cl.min;
		if (clock_in_quiet(m, quiet_start, quiet_end)) {
			day = clock_days(cl.year, cl.month, cl.day);
			endu = clock_resolve_day(tz,
			    (quiet_start > quiet_end && m >= quiet_start) ?
			    day + 1 : day, quiet_end * 60LL, NULL);
			if (endu < start)
				due = endu;
			else
				due = clock_resolve_day(tz,
				    (quiet_start > quiet_end &&
				    m < quiet_end) ? day - 1 : day,
				    quiet_start * 60LL, NULL);
		}
	}
	if (due >= start)
		return -1;
	return due;
}

/* "HH:MM" at p, exactly; minutes after midnight or -1. */
static int
clock_scan_hm(const char *p, size_t n)
{
	int	h, m;

	if (n != 5 || clock_digits(p, 2, &h) == -1 || p[2] != ':' ||
	    clock_digits(p + 3, 2, &m) == -1 || h > 23 || m > 59)
		return -1;
	return h * 60 + m;
}

int
clock_parse_quiet(const char *s, int *start, int *end, struct err *e)
{
	const char	*a, *dash, *b;
	size_t		 alen, blen;
	int		 qs, qe;

	a = s;
	while (isspace((unsigned char)*a))
		a++;
	blen = strlen(a);
	while (blen > 0 && isspace((unsigned char)a[blen - 1]))
		blen--;
	if (blen == 0 || (blen == 4 && strncasecmp(a, "none", 4) == 0)) {
		*start = *end = -1;
		return 0;
	}
	if ((dash = memchr(a, '-', blen)) == NULL)
		goto bad;
	alen = dash - a;
	while (alen > 0 && isspace((unsigned char)a[alen - 1]))
		alen--;
	b = dash + 1;
	while (isspace((unsigned char)*b))
		b++;
	blen -= b - a;
	if ((qs = clock_scan_hm(a, alen)) == -1 ||
	    (qe = clock_scan_hm(b, blen)) == -1)
		goto bad;
	if (qs == qe)
		return err_set(e, "\"%.64s\": quiet hours must start and end "
		    "at different times", s);
	*start = qs;
	*end = qe;
	return 0;
 bad:
	return err_set(e, "\"%.64s\" is not a time range (use HH:MM-HH:MM, "
	    "like 21:00-08:00, or none)", s);
}

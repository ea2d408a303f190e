/*
 * log.c: one line per event, to stderr (foreground) or syslog.
 *
 * On stderr each line starts with its time, RFC 3339 in UTC with
 * milliseconds ("2026-12-07T09:30:00.123Z hearbackd info: ..."), so a log
 * kept in a file can be read beside Redis's and the relay's; unless stderr
 * is the journal ($JOURNAL_STREAM names it: under systemd), which stamps
 * lines itself, so what journald shows is as before. Syslog lines carry no
 * time of their own either.
 *
 * Thread-safe: every function formats into a local buffer and emits it with a
 * single write(2) or syslog(3) call. The verbosity level is read without a lock;
 * it only changes at start-up or on SIGHUP in the main thread.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_fg = 1;
static int log_stamp = 1;	/* stderr is not the journal */
/* Read by every thread, changed by the main thread on SIGHUP. */
static _Atomic int log_level;
static const char *log_ident = "hearback";

void
log_init(int foreground, int verbose, const char *ident)
{
	const char	*js = getenv("JOURNAL_STREAM");
	struct stat	 st;
	unsigned long long dev, ino;

	log_fg = foreground;
	log_level = verbose;
	log_ident = ident;
	log_stamp = 1;
	if (js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino)
		log_stamp = 0;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setverbose(int verbose)
{
	log_level = verbose;
}

int
log_getverbose(void)
{
	return log_level;
}

static void
log_emit(int pri, const char *word, const char *fmt, va_list ap, int err)
{
	char	line[2048];
	int	n;

	n = vsnprintf(line, sizeof line - 2, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	if (err)
		n += snprintf(line + n, sizeof line - 2 - n, ": %s", strerror(err));
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	if (log_fg) {
		char		out[2200], stamp[40];
		struct timespec	ts;
		struct tm	tm;
		int		m;

		stamp[0] = '\0';
		if (log_stamp) {
			clock_gettime(CLOCK_REALTIME, &ts);
			gmtime_r(&ts.tv_sec, &tm);
			m = (int)strftime(stamp, sizeof stamp,
			    "%Y-%m-%dT%H:%M:%S", &tm);
			snprintf(stamp + m, sizeof stamp - m, ".%03ldZ ",
			    ts.tv_nsec / 1000000);
		}
		m = snprintf(out, sizeof out, "%s%s %s: %.*s\n", stamp,
		    log_ident, word, n, line);
		if (m > (int)sizeof out)
			m = sizeof out;
		if (write(STDERR_FILENO, out, m) < 0)
			(void)0;
	} else
		syslog(pri, "%.*s", n, line);
}

void
log_warn(const char *fmt, ...)
{
	int	e = errno;
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warn", fmt, ap, e);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warn", fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < 0)
		return;
	va_start(ap, fmt);
	log_emit(LOG_INFO, "info", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < 1)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, "debug", fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int	e = errno;
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal", fmt, ap, e);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal", fmt, ap, 0);
	va_end(ap);
	exit(1);
}

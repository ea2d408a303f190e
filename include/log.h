/*
 * log.h: the OpenBSD logging vocabulary.
 *
 * Any thread may log; each call writes one whole line with one write(2), so
 * lines from different threads never interleave. In the foreground (-f) lines
 * go to stderr with a level word; otherwise to syslog (journald).
 *
 * Logs name collaborators by id only: never a name, never an address.
 */
#ifndef HB_LOG_H
#define HB_LOG_H

#include <stdarg.h>

#define HB_PRINTF(f, a) __attribute__((format(printf, f, a)))

void	log_init(int foreground, int verbose, const char *ident);
void	log_setverbose(int verbose);
int	log_getverbose(void);
void	log_warn(const char *, ...) HB_PRINTF(1, 2);	/* appends strerror(errno) */
void	log_warnx(const char *, ...) HB_PRINTF(1, 2);
void	log_info(const char *, ...) HB_PRINTF(1, 2);
void	log_debug(const char *, ...) HB_PRINTF(1, 2);
__attribute__((noreturn)) void fatal(const char *, ...) HB_PRINTF(1, 2);
__attribute__((noreturn)) void fatalx(const char *, ...) HB_PRINTF(1, 2);

#endif

/*
 * import_impl.h: what import.c, import_sheet.c and import_row.c share.
 * Not for the rest of the command, which calls cli_import (cli.h).
 *
 * Single-threaded, like the rest of the command. One struct import lives
 * for one `hearback import`: import.c fills the options and owns the
 * records collected and the problem count; import_sheet.c owns the file
 * being read (the row's fields, the header's columns: fields, col, heads,
 * has); import_row.c reads those to turn each data row into a checked
 * record, and adds it to recs.
 */
#ifndef HB_IMPORT_IMPL_H
#define HB_IMPORT_IMPL_H

#include <jansson.h>

#include "cli.h"

#define IMPORT_MAX_SHOWN	50
#define IMPORT_MAX_BYTES	(512UL * 1024 * 1024)
#define IMPORT_PROGRESS		5000	/* rows between progress lines */

enum import_field {
	F_ID, F_NAME, F_FIRST, F_LAST, F_EMAIL, F_PHONE, F_CONSENT, F_FORMAT,
	F_ACCESS, F_GROUPS, F_REMINDERS, F_COMMUNICATION, F_COORDINATOR,
	F_TEXT, F_COLLABORATOR, F_TOPIC, F_SAID_ON, F_MAX
};

struct import {
	const struct config	*cf;
	int			 said;		/* --type said */
	const char		*meeting;	/* --meeting */
	char			**ignore;	/* --ignore, normalised */
	int			 nignore;
	int			 tty;		/* progress on stderr */

	/* the file being read */
	const char		*file;
	int			 fileno;	/* its place on the command line */
	char			**fields;	/* the row being read */
	int			 nfields, capfields;
	long			 row;		/* its spreadsheet row */
	int			 header_done;
	int			 stop;		/* header unusable: skip rows */
	int			 ncols;
	int			*col;		/* column -> field, -1 ignored */
	char			**heads;	/* column headings, as written */
	int			 has[F_MAX];	/* field -> column + 1, or 0 */
	int			 derived;	/* this row's id was made here */

	/* every file */
	int			 problems;
	struct cli_rec		*recs;
	int			 nrecs, caprecs;
	json_t			*ids;		/* id -> [fileno, row, file] */
	long			 rows;		/* data rows read */
};

/* import.c */
void	 import_problem(struct import *, long row, const char *column,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
char	*import_norm(const char *);
char	*import_trim(const char *);

/* import_sheet.c: one file, every row (the header's, then import_row_take
 * for each data row), every problem. */
void	 import_sheet_read(struct import *, const char *file);

/* import_row.c: the data row in im->fields as a record, checked. */
void	 import_row_take(struct import *);

#endif

/*
 * import.c: `hearback import`, spreadsheets to records (SPEC section 8).
 *
 *   hearback import [--type collaborator|said] [--meeting ID] [--dry-run]
 *                   [--ignore COLUMN]... FILE...
 *
 * The command: options, every file read (import_sheet.c) and every row
 * made a checked record (import_row.c); then every record of every file
 * goes through cli_queue(), the same reference checks and the same
 * all-or-nothing queueing as `enqueue`, with the same output. A re-import
 * queues the same records again, which the daemon finds unchanged and acts
 * on no further. Nothing is queued if any row has a problem.
 *
 * Every problem is reported (up to IMPORT_MAX_SHOWN), one line each, as
 * FILE:ROW: COLUMN: what is wrong, and what to do where we can say it
 * (import_problem, here, used by all three files).
 *
 * Single-threaded, like the rest of the command.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import_impl.h"

/* One problem: FILE:ROW: COLUMN: what (only the first 50 shown). */
void
import_problem(struct import *im, long row, const char *column,
    const char *fmt, ...)
{
	va_list	ap;

	if (im->problems++ >= IMPORT_MAX_SHOWN)
		return;
	if (im->tty)
		fputs("\r\033[K", stderr);
	if (column != NULL)
		fprintf(stderr, "%s:%ld: %s: ", im->file, row, column);
	else
		fprintf(stderr, "%s:%ld: ", im->file, row);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Lower case, without spaces, '_' and '-': how names and words match. */
char *
import_norm(const char *s)
{
	char	*n = xmalloc(strlen(s) + 1), *p = n;

	for (; *s; s++) {
		if (*s == ' ' || *s == '_' || *s == '-' || *s == '\t')
			continue;
		*p++ = (char)tolower((unsigned char)*s);
	}
	*p = '\0';
	return n;
}

/* s without surrounding white space, as a new string. */
char *
import_trim(const char *s)
{
	size_t	n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return xstrndup(s, n);
}

static void
import_usage(void)
{
	fprintf(stderr, "usage: hearback import [--type collaborator|said] "
	    "[--meeting ID] [--dry-run] [--ignore COLUMN]... FILE...\n");
	exit(EX_USAGE_);
}

/*
 * The options into im and *dry, checked: usage (exit 2) on a bad one; -1
 * (message given) if --meeting is not a meeting id. argv[0] is the
 * command's name; optind is the first FILE after.
 */
static int
import_options(struct import *im, int *dry, int argc, char **argv)
{
	int		 ch;

	static const struct option longopts[] = {
		{ "type",	required_argument,	NULL,	't' },
		{ "meeting",	required_argument,	NULL,	'm' },
		{ "dry-run",	no_argument,		NULL,	'n' },
		{ "ignore",	required_argument,	NULL,	'i' },
		{ NULL,		0,			NULL,	0 }
	};

	optind = 0;	/* glibc: start afresh (permuting, unlike main) */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (strcmp(optarg, "collaborator") == 0)
				im->said = 0;
			else if (strcmp(optarg, "said") == 0)
				im->said = 1;
			else {
				fprintf(stderr, "hearback: import: --type is "
				    "collaborator or said, not \"%s\"\n",
				    optarg);
				import_usage();
			}
			break;
		case 'm':
			im->meeting = optarg;
			break;
		case 'n':
			*dry = 1;
			break;
		case 'i':
			im->ignore = xrealloc(im->ignore, (im->nignore + 1) *
			    sizeof *im->ignore);
			im->ignore[im->nignore++] = import_norm(optarg);
			break;
		default:
			import_usage();
		}
	}
	if (optind >= argc)
		import_usage();
	if (im->meeting != NULL && !im->said) {
		fprintf(stderr, "hearback: import: --meeting is for --type "
		    "said\n");
		import_usage();
	}
	if (im->meeting != NULL && !record_id_valid(im->meeting)) {
		fprintf(stderr, "hearback: import: --meeting \"%s\" is not a "
		    "meeting id\n", im->meeting);
		return -1;
	}
	return 0;
}

/* After every file is read: the problems' tally, or every record queued. */
static int
import_queue(const struct config *cf, struct import *im, int dry)
{
	if (im->tty && im->rows >= IMPORT_PROGRESS)
		fprintf(stderr, "\r\033[Khearback: %ld rows read, checking\n",
		    im->rows);
	if (im->problems > IMPORT_MAX_SHOWN)
		fprintf(stderr, "hearback: %d more problems not shown\n",
		    im->problems - IMPORT_MAX_SHOWN);
	if (im->problems > 0) {
		fprintf(stderr, "hearback: nothing queued\n");
		return EX_INVALID;
	}
	if (im->nrecs == 0) {
		fprintf(stderr, "hearback: no rows to import: nothing "
		    "queued\n");
		return EX_INVALID;
	}
	return cli_queue(cf, im->recs, im->nrecs, dry);
}

int
cli_import(const struct config *cf, int argc, char **argv)
{
	struct import	 im;
	int		 dry = 0, rv, i;

	memset(&im, 0, sizeof im);
	im.cf = cf;
	argc++;
	argv--;		/* getopt skips argv[0]: the command's name */
	if (import_options(&im, &dry, argc, argv) == -1)
		return EX_INVALID;
	im.tty = isatty(STDERR_FILENO);
	im.ids = json_object();
	for (i = optind; i < argc; i++) {
		im.fileno = i - optind;
		import_sheet_read(&im, argv[i]);
	}
	rv = import_queue(cf, &im, dry);
	cli_free_records(im.recs, im.nrecs);
	json_decref(im.ids);
	for (i = 0; i < im.nignore; i++)
		free(im.ignore[i]);
	free(im.ignore);
	free(im.fields);
	return rv;
}

/*
 * import_sheet.c: reading a spreadsheet for `hearback import`.
 *
 * Single-threaded, like the rest of the command; called by import.c once
 * per file. Reads CSV (RFC 4180) or, for a .tsv file or a header with tabs
 * and no commas, tab-separated values, with Debian's libcsv. The text must
 * be UTF-8 (a byte-order mark is dropped); anything else is refused with
 * how to save the file as "CSV UTF-8". The header row says which column is
 * which (names matched loosely: case, spaces, '_' and '-' ignored); each
 * data row then goes to import_row.c. Owns the file's state in struct
 * import: the row's fields, the columns and their headings. Rows are the
 * spreadsheet's: the header is row 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>
#include <glib.h>

#include "import_impl.h"

/* Column names, as matched (lower case, no spaces, '_' or '-'). */
static const struct {
	const char		*norm;
	enum import_field	 f;
	int			 said;	/* 0 collaborator, 1 said, 2 both */
} import_columns[] = {
	{ "id", F_ID, 2 },
	{ "coordinator", F_COORDINATOR, 2 },
	{ "name", F_NAME, 0 }, { "fullname", F_NAME, 0 },
	{ "firstname", F_FIRST, 0 }, { "forename", F_FIRST, 0 },
	{ "givenname", F_FIRST, 0 },
	{ "lastname", F_LAST, 0 }, { "surname", F_LAST, 0 },
	{ "familyname", F_LAST, 0 },
	{ "email", F_EMAIL, 0 }, { "emailaddress", F_EMAIL, 0 },
	{ "phone", F_PHONE, 0 }, { "phonenumber", F_PHONE, 0 },
	{ "telephone", F_PHONE, 0 }, { "mobile", F_PHONE, 0 },
	{ "consent", F_CONSENT, 0 },
	{ "format", F_FORMAT, 0 },
	{ "accessneeds", F_ACCESS, 0 }, { "access", F_ACCESS, 0 },
	{ "groups", F_GROUPS, 0 }, { "group", F_GROUPS, 0 },
	{ "reminders", F_REMINDERS, 0 },
	{ "communication", F_COMMUNICATION, 0 },
	{ "text", F_TEXT, 1 }, { "said", F_TEXT, 1 },
	{ "collaborator", F_COLLABORATOR, 1 },
	{ "topic", F_TOPIC, 1 },
	{ "saidon", F_SAID_ON, 1 }, { "date", F_SAID_ON, 1 },
};

/* The column names --type allows, as one list for a message. */
static char *
import_header_allowed(struct import *im)
{
	struct buf	 b;
	int		 k;

	buf_init(&b);
	for (k = 0; k < (int)(sizeof import_columns /
	    sizeof import_columns[0]); k++)
		if (import_columns[k].said == 2 ||
		    import_columns[k].said == im->said)
			buf_printf(&b, "%s%s", b.len ? ", " : "",
			    import_columns[k].norm);
	return buf_take(&b);
}

/* Header column c: its heading, and which field it fills (if any). */
static void
import_header_column(struct import *im, int c, const char *allowed)
{
	int	 k, i, ok = 0;
	char	*n;

	im->heads[c] = import_trim(im->fields[c]);
	im->col[c] = -1;
	n = import_norm(im->heads[c]);
	for (i = 0; i < im->nignore; i++)
		if (strcmp(n, im->ignore[i]) == 0)
			ok = 1;
	if (ok || *n == '\0') {
		free(n);
		return;
	}
	for (k = 0; k < (int)(sizeof import_columns /
	    sizeof import_columns[0]); k++) {
		if (strcmp(n, import_columns[k].norm) != 0 ||
		    (import_columns[k].said != 2 &&
		    import_columns[k].said != im->said))
			continue;
		ok = 1;
		if (im->has[import_columns[k].f]) {
			import_problem(im, 1, im->heads[c], "a second "
			    "\"%s\" column (also column %d)",
			    import_columns[k].norm,
			    im->has[import_columns[k].f]);
			im->stop = 1;
		} else {
			im->has[import_columns[k].f] = c + 1;
			im->col[c] = import_columns[k].f;
		}
	}
	if (!ok) {
		import_problem(im, 1, im->heads[c], "not a column "
		    "hearback knows (for --type %s: %s; matched "
		    "ignoring case, spaces, '_' and '-'); to leave it "
		    "out, add --ignore \"%s\"", im->said ? "said" :
		    "collaborator", allowed, im->heads[c]);
		im->stop = 1;
	}
	free(n);
}

/* The columns a record of --type cannot do without. */
static void
import_header_required(struct import *im)
{
	if (im->said) {
		if (!im->has[F_TEXT]) {
			import_problem(im, 1, NULL, "no \"text\" column (what "
			    "was said)");
			im->stop = 1;
		}
		return;
	}
	if (!im->has[F_NAME] && !im->has[F_FIRST] && !im->has[F_LAST]) {
		import_problem(im, 1, NULL, "no \"name\" column (or "
		    "\"first name\" and \"last name\")");
		im->stop = 1;
	}
	if (im->has[F_NAME] && (im->has[F_FIRST] || im->has[F_LAST])) {
		import_problem(im, 1, NULL, "both \"name\" and \"first "
		    "name\"/\"last name\": keep one or the other");
		im->stop = 1;
	}
	if (!im->has[F_CONSENT]) {
		import_problem(im, 1, NULL, "no \"consent\" column "
		    "(yes if the person agreed to get emails)");
		im->stop = 1;
	}
	if (!im->has[F_EMAIL] && !im->has[F_PHONE]) {
		import_problem(im, 1, NULL, "no \"email\" or \"phone\" "
		    "column");
		im->stop = 1;
	}
}

/* The header row: which column is which. */
static void
import_header(struct import *im)
{
	char	*allowed;
	int	 c;

	im->ncols = im->nfields;
	im->col = xcalloc(im->ncols, sizeof *im->col);
	im->heads = xcalloc(im->ncols, sizeof *im->heads);
	memset(im->has, 0, sizeof im->has);
	allowed = import_header_allowed(im);
	for (c = 0; c < im->ncols; c++)
		import_header_column(im, c, allowed);
	free(allowed);
	import_header_required(im);
}

/* libcsv: one field. */
static void
import_on_field(void *s, size_t len, void *data)
{
	struct import	*im = data;

	if (im->nfields == im->capfields) {
		im->capfields = im->capfields ? im->capfields * 2 : 16;
		im->fields = xrealloc(im->fields, im->capfields *
		    sizeof *im->fields);
	}
	im->fields[im->nfields++] = xstrndup(s ? s : "", s ? len : 0);
}

/* libcsv: the end of a row. */
static void
import_on_row(int c, void *data)
{
	struct import	*im = data;
	int		 i;

	im->row++;
	if (!im->header_done) {
		import_header(im);
		im->header_done = 1;
	} else if (!im->stop)
		import_row_take(im);
	for (i = 0; i < im->nfields; i++)
		free(im->fields[i]);
	im->nfields = 0;
}

/* Not UTF-8: say where and how to mend it. */
static void
import_not_utf8(struct import *im, const char *text, size_t len,
    const char *end)
{
	long		 line = 1;
	const char	*p;

	if (len >= 2 && ((unsigned char)text[0] == 0xff &&
	    (unsigned char)text[1] == 0xfe)) {
		import_problem(im, 1, NULL, "this file is UTF-16 (\"Unicode "
		    "text\"), not UTF-8: save it as \"CSV UTF-8 (Comma "
		    "delimited)\" and import that");
		return;
	}
	for (p = text; p < end; p++)
		if (*p == '\n')
			line++;
	import_problem(im, line, NULL, "this file is not UTF-8 (byte 0x%02X, "
	    "perhaps a \302\243 or an accent saved as Windows text): in Excel "
	    "use File, Save As, \"CSV UTF-8 (Comma delimited)\"; in "
	    "LibreOffice, Save As CSV with \"Edit filter settings\" and "
	    "Character set \"Unicode (UTF-8)\"; then import that file",
	    (unsigned char)*end);
}

/* One file: every row, every problem. */
void
import_sheet_read(struct import *im, const char *file)
{
	struct csv_parser	 p;
	struct err		 e;
	char			*text, *body;
	const char		*end, *dot, *nl;
	size_t			 len;
	int			 i;

	im->file = file;
	im->row = 0;
	im->header_done = 0;
	im->stop = 0;
	if ((text = cli_slurp(file, IMPORT_MAX_BYTES, &len, &e)) == NULL) {
		im->problems++;
		fprintf(stderr, "%s\n", e.msg);
		return;
	}
	body = text;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		body += 3;
		len -= 3;
	}
	if (!g_utf8_validate(body, len, &end)) {
		import_not_utf8(im, text, len + (body - text), end);
		free(text);
		return;
	}
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		fatalx("import: libcsv: cannot start");
	/* Tabs: a .tsv, or a header with tabs and no commas. */
	dot = strrchr(file, '.');
	nl = memchr(body, '\n', len);
	if ((dot && strcasecmp(dot, ".tsv") == 0) || ((nl ? memchr(body,
	    '\t', nl - body) != NULL && memchr(body, ',', nl - body) == NULL :
	    0)))
		csv_set_delim(&p, CSV_TAB);
	if (csv_parse(&p, body, len, import_on_field, import_on_row, im) !=
	    len)
		import_problem(im, im->row + 1, NULL, "a '\"' inside a quoted "
		    "value must be written twice (\"\"); save the file from "
		    "the spreadsheet again, or mend that value");
	else if (csv_fini(&p, import_on_field, import_on_row, im) != 0)
		import_problem(im, im->row + 1, NULL, "a quoted value has no "
		    "closing '\"' (the rest of the file would be one value)");
	csv_free(&p);
	for (i = 0; i < im->nfields; i++)
		free(im->fields[i]);
	im->nfields = 0;
	if (!im->header_done)
		import_problem(im, 1, NULL, "the file is empty: the first "
		    "row must name the columns");
	for (i = 0; i < im->ncols; i++)
		free(im->heads[i]);
	free(im->heads);
	free(im->col);
	im->heads = NULL;
	im->col = NULL;
	im->ncols = 0;
	free(text);
}

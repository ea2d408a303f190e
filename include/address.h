/*
 * address.h: email addresses (RFC 5322 addr-specs), checked twice: by our
 * own strict reading of the grammar, then by GMime's parser in strict mode.
 *
 * Any thread, once main has called g_mime_init(). No global state.
 */
#ifndef HB_ADDRESS_H
#define HB_ADDRESS_H

#include "util.h"

#define ADDRESS_MAX		254	/* whole address, in bytes */
#define ADDRESS_LOCAL_MAX	64	/* the part before the @ */

/*
 * A bare addr-spec, "amara@example.org": a dot-atom local part (ASCII; no
 * quoted strings), exactly one @, an ASCII domain of at least two valid
 * labels ("xn--exmple-cua.org", not "ex\u00e4mple.org": the relay takes no
 * other without SMTPUTF8). No display name, no angle brackets, no spaces,
 * commas, semicolons, CR or LF.
 * On failure e says: "amara@" is not an email address; or, for a domain
 * that is not ASCII, that it cannot be sent to and its ASCII form.
 */
int	address_check(const char *addr, struct err *e);

/*
 * A mailbox with an optional display name, as in the config's
 * `from = Forum team <forum@example.org>` (or a bare address). On success
 * *name (possibly "", never NULL, RFC 2047 decoded) and *addr are new
 * strings the caller frees with free().
 */
int	address_parse_mailbox(const char *text, char **name, char **addr,
	    struct err *e);

#endif

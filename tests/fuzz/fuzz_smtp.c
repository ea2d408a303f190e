/*
 * fuzz_smtp.c: libFuzzer target for the opening of an SMTP session
 * (relay_open in workers/relay.c) against a scripted fake relay: the input
 * is everything the relay says.
 *
 * The script is written whole into one end of a socketpair (then shut for
 * writing); relay_open runs on the other end, reading replies and sending
 * commands. Byte 0 picks the mode:
 *   bit 0  tls = starttls (greeting, EHLO, STARTTLS and its 220, then a
 *          handshake that cannot start: no TLS context), else tls = none;
 *   bit 1  [smtp] user set: AUTH PLAIN or LOGIN after EHLO (tls = none).
 * With tls = none the script is followed by one byte without a line end:
 * relay_open reads it with the rest (a script is at most 4000 bytes, one
 * read), so it always ends with "the relay said more than it was asked"
 * at the latest and never hands a plain socket to tunnel_start (which
 * wants TLS). So no session ever opens: what is fuzzed is the reading of
 * replies (multi-line, codes, lengths), EHLO's extensions, STARTTLS and its
 * injection check, and the AUTH exchange. A test hook in relay.c to hand
 * over a plain session would let the tunnel be fuzzed too.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - relay_open fails (by construction) with a reason: f.why non-empty and
 *    NUL-terminated, f.code 0 or a reply code 200-599;
 *  - what we sent is only our own commands, each a CRLF-ended line: EHLO
 *    with our name, STARTTLS, AUTH PLAIN <base64>, AUTH LOGIN, a base64
 *    line (the user or the password), QUIT; never a byte of the script;
 *  - QUIT is sent, once and last, exactly when the relay gave a reply code
 *    that failed a step (f.code != 0);
 *  - bytes after STARTTLS's 220 are refused as injection (f.refused).
 *
 * relay_open blocks (poll with a deadline); the script is all there before
 * it starts and the end is shut, so it never waits.
 *
 * A NUL byte in a reply (it once crashed relay_ehlo_for_libesmtp, which
 * looks for the end of its lines with strstr) is now refused by
 * relay_reply; corpus/smtp/regress-smtp-nul-in-ehlo keeps it so.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "relay.h"
#include "tunnel.h"
#include "util.h"

#include "fuzz.h"

#define FUZZ_SCRIPT_MAX	4000

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fuzz_host[256];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_setverbose(-1);
	if (gethostname(fuzz_host, sizeof fuzz_host) == -1 ||
	    fuzz_host[0] == '\0')
		snprintf(fuzz_host, sizeof fuzz_host, "localhost");
	fuzz_host[sizeof fuzz_host - 1] = '\0';
	return 0;
}

static int
fuzz_b64_line(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n % 4 != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '+' || s[i] == '/' || s[i] == '='))
			return 0;
	return 1;
}

/* What relay_open sent: our commands only. Returns the number of QUITs,
 * and whether QUIT came last. */
static void
fuzz_check_sent(const char *s, size_t len, int *quits, int *quit_last)
{
	const char	*l = s, *e, *end = s + len;
	char		 ehlo[300];
	size_t		 n;

	snprintf(ehlo, sizeof ehlo, "EHLO %s", fuzz_host);
	*quits = 0;
	*quit_last = 0;
	for (; l < end; l = e + 2) {
		if ((e = memmem(l, end - l, "\r\n", 2)) == NULL)
			FUZZ_FAIL("we sent a line without CRLF: %.40s", l);
		n = (size_t)(e - l);
		*quit_last = 0;
		if (n == 4 && memcmp(l, "QUIT", 4) == 0) {
			(*quits)++;
			*quit_last = 1;
		} else if ((n == strlen(ehlo) && memcmp(l, ehlo, n) == 0) ||
		    (n == 8 && memcmp(l, "STARTTLS", 8) == 0) ||
		    (n == 10 && memcmp(l, "AUTH LOGIN", 10) == 0) ||
		    (n > 11 && memcmp(l, "AUTH PLAIN ", 11) == 0 &&
		    fuzz_b64_line(l + 11, n - 11)) || fuzz_b64_line(l, n))
			continue;
		else
			FUZZ_FAIL("we sent \"%.*s\"", (int)(n < 60 ? n : 60), l);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config		 cf;
	struct relay_fail	 f;
	struct tunnel		*t;
	struct buf		 sent;
	char			 b[4096];
	int			 sv[2], plain = -1, starttls, quits, quit_last;
	size_t			 off;
	ssize_t			 n;

	if (size < 1 || size > FUZZ_SCRIPT_MAX + 1)
		return 0;
	memset(&cf, 0, sizeof cf);
	starttls = data[0] & 1;
	cf.smtp_tls = starttls ? CONFIG_TLS_STARTTLS : CONFIG_TLS_NONE;
	cf.smtp_host = "relay.example.org";
	if (data[0] & 2) {
		cf.smtp_user = "hearback";
		cf.smtp_password = "s3cret password";
	}

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		FUZZ_FAIL("socketpair: %s", strerror(errno));
	for (off = 1; off < size; off += (size_t)n)
		if ((n = write(sv[1], data + off, size - off)) <= 0)
			FUZZ_FAIL("write: %s", strerror(errno));
	if (!starttls && write(sv[1], "X", 1) != 1)
		FUZZ_FAIL("write: %s", strerror(errno));
	shutdown(sv[1], SHUT_WR);

	memset(&f, 0, sizeof f);
	t = relay_open(&cf, NULL, sv[0], 2000, &plain, &f);
	if (t != NULL) {
		/* Cannot happen (see above); do not leave the pump running. */
		close(plain);
		tunnel_close(t);
		FUZZ_FAIL("a session opened on a scripted relay");
	}
	if (plain != -1)
		FUZZ_FAIL("no session, but a plain end %d", plain);
	if (strnlen(f.why, sizeof f.why) == sizeof f.why || f.why[0] == '\0')
		FUZZ_FAIL("no reason, or not NUL-terminated");
	if (f.code != 0 && (f.code < 200 || f.code > 599))
		FUZZ_FAIL("code %d: %s", f.code, f.why);
	if (strncmp(f.why, "the relay sent data after agreeing to STARTTLS",
	    46) == 0 && !f.refused)
		FUZZ_FAIL("injection after STARTTLS not refused: %s", f.why);
	/* The handshake began: the script's last bytes were the 220 line
	 * to STARTTLS, and not one byte came after it. */
	if (strncmp(f.why, "TLS set-up failed", 17) == 0) {
		const char	*sc = (const char *)data + 1, *last;
		size_t		 sl = size - 1;

		if (!starttls || sl < 4 || sc[sl - 1] != '\n')
			FUZZ_FAIL("a handshake after a script that does not "
			    "end with a line");
		for (last = sc + sl - 1; last > sc && last[-1] != '\n'; last--)
			;
		if (strncmp(last, "220", 3) != 0 || (last[3] != ' ' &&
		    last[3] != '\r' && last[3] != '\n'))
			FUZZ_FAIL("a handshake after \"%.*s\"",
			    (int)(sc + sl - last), last);
	}

	/* relay_open closed its end: read all it sent. */
	buf_init(&sent);
	while ((n = read(sv[1], b, sizeof b)) > 0)
		buf_add(&sent, b, (size_t)n);
	close(sv[1]);
	fuzz_check_sent(sent.s ? sent.s : "", sent.len, &quits, &quit_last);
	if (quits > 1 || (quits == 1 && !quit_last))
		FUZZ_FAIL("QUIT sent %d times, or not last", quits);
	if ((quits == 1) != (f.code != 0))
		FUZZ_FAIL("%s QUIT after \"%s\" (code %d)", quits ? "a" : "no",
		    f.why, f.code);
	buf_free(&sent);
	return 0;
}

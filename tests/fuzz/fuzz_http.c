/*
 * fuzz_http.c: libFuzzer target for the /healthz and /metrics listener
 * (daemon/http.c, http_parse.c): the input is the raw bytes a client sends.
 *
 * Each input goes down one end of a socketpair whose other end is handed to
 * the server (http_serve), then that end is shut for writing; the event
 * loop runs until the server has answered and closed, and every connection
 * is gone. Byte 0 holds flags: bit 0 the health the server reports; bit 1
 * pads the input with byte 1 * 64 copies of 'a' at offset byte 2 (so that
 * heads over the 8 KiB limit are tried from small seeds); the rest is the
 * request.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - the server closes within 3 s, and leaves no connection behind;
 *  - it sends nothing, or exactly one answer: "HTTP/1.1 NNN Reason", header
 *    lines of printable ASCII, "Connection: close", a blank line, then as
 *    many bytes as Content-Length says (none for HEAD);
 *  - nothing only when there is no complete head: no blank line, and
 *    fewer than 8192 bytes sent; 431 when 8192 or more were sent with no
 *    blank line in the first 8192;
 *  - the status is http_parse's refusal when it refuses; otherwise 200 (or
 *    503 when unhealthy) for /healthz, 200 for /metrics, 404 else; a 200
 *    or 503 only for GET and HEAD; 405 comes with "Allow: GET, HEAD";
 *  - http_parse_end points just past a blank line, and http_parse returns
 *    0, 400, 405, 413 or 505, with a path that starts with '/' when 0.
 *
 * Single-threaded: the server runs on this thread's event base.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <gmime/gmime.h>

#include "http.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include "fuzz.h"

static struct event_base	*fuzz_base;
static struct http		*fuzz_server;
static struct metrics		 fuzz_m;
static int			 fuzz_healthy;

struct fuzz_client {
	int		 fd;
	struct buf	 got;
	int		 eof;
	int		 timed_out;
};

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fuzz_health(void *arg, char *why, size_t len)
{
	snprintf(why, len, "redis unreachable at 127.0.0.1:6379");
	return fuzz_healthy;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	g_mime_init();
	log_setverbose(-1);
	if ((fuzz_base = event_base_new()) == NULL ||
	    (fuzz_server = http_new(fuzz_base, &fuzz_m, fuzz_health,
	    NULL)) == NULL) {
		fprintf(stderr, "fuzz_http: cannot set up\n");
		exit(1);
	}
	fuzz_m.scheduled = 3;
	return 0;
}

static void
fuzz_read(evutil_socket_t fd, short what, void *arg)
{
	struct fuzz_client	*c = arg;
	char			 b[4096];
	ssize_t			 n;

	for (;;) {
		n = read(fd, b, sizeof b);
		if (n > 0) {
			buf_add(&c->got, b, (size_t)n);
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = 1;	/* the end, or a reset */
			event_base_loopbreak(fuzz_base);
		}
		return;
	}
}

static void
fuzz_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct fuzz_client	*c = arg;

	c->timed_out = 1;
	event_base_loopbreak(fuzz_base);
}

/* The value of header name (case-insensitive) in head, or NULL. */
static const char *
fuzz_header(const char *head, const char *name, char *val, size_t len)
{
	const char	*l, *e;
	size_t		 k = strlen(name), n;

	for (l = strstr(head, "\r\n"); l != NULL; l = e) {
		l += 2;
		if ((e = strstr(l, "\r\n")) == NULL || e == l)
			return NULL;
		if ((size_t)(e - l) > k + 1 && strncasecmp(l, name, k) == 0 &&
		    l[k] == ':') {
			l += k + 1;
			while (*l == ' ')
				l++;
			n = (size_t)(e - l) < len ? (size_t)(e - l) : len - 1;
			memcpy(val, l, n);
			val[n] = '\0';
			return val;
		}
	}
	return NULL;
}

static void
fuzz_check_parser(const char *req, size_t len)
{
	struct http_req	 r;
	size_t		 end = http_parse_end(req, len);
	int		 code;

	if (end == 0)
		return;
	if (end > len || req[end - 1] != '\n' || end < 2 ||
	    !(req[end - 2] == '\n' || (end >= 3 && req[end - 2] == '\r' &&
	    req[end - 3] == '\n')))
		FUZZ_FAIL("http_parse_end %zu is not just past a blank line", end);
	code = http_parse(req, end, &r);
	if (code != 0 && code != 400 && code != 405 && code != 413 &&
	    code != 505)
		FUZZ_FAIL("http_parse returned %d", code);
	if (code == 0 && (r.path[0] != '/' || strchr(r.path, '?') != NULL ||
	    (r.method != HTTP_GET && r.method != HTTP_HEAD) ||
	    r.minor < 0 || r.minor > 9))
		FUZZ_FAIL("http_parse took \"%s\" for %s %s HTTP/1.%d",
		    r.target, r.method_name, r.path, r.minor);
	if (code == 405 && (r.method == HTTP_GET || r.method == HTTP_HEAD))
		FUZZ_FAIL("405 for %s", r.method_name);
}

/* The status the server must give for req, or 0 for none. */
static int
fuzz_expect(const char *req, size_t len, int *head)
{
	struct http_req	 r;
	size_t		 n = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	size_t		 end = http_parse_end(req, n);
	int		 code;

	*head = 0;
	if (end == 0)	/* 8192 bytes and no end: the head is longer */
		return len >= HTTP_MAX_HEAD ? 431 : 0;
	code = http_parse(req, end, &r);
	*head = r.method == HTTP_HEAD;
	if (code != 0)
		return code;
	if (!r.path_long && strcmp(r.path, "/healthz") == 0)
		return fuzz_healthy ? 200 : 503;
	if (!r.path_long && strcmp(r.path, "/metrics") == 0)
		return 200;
	return 404;
}

static void
fuzz_check_answer(const char *req, size_t len, const struct buf *got)
{
	const char	*s = got->s ? got->s : "", *eoh, *p;
	char		 val[64];
	int		 want, head, code;
	size_t		 hlen, blen;
	long		 cl;

	want = fuzz_expect(req, len, &head);
	if (got->len == 0) {
		if (want != 0)
			FUZZ_FAIL("no answer, %d expected", want);
		return;
	}
	if (want == 0)
		FUZZ_FAIL("an answer to an incomplete head: %.40s", s);
	if (got->len < 15 || strncmp(s, "HTTP/1.1 ", 9) != 0 ||
	    sscanf(s + 9, "%3d", &code) != 1)
		FUZZ_FAIL("not a status line: %.40s", s);
	if (code != want)
		FUZZ_FAIL("status %d, %d expected", code, want);
	if ((eoh = strstr(s, "\r\n\r\n")) == NULL)
		FUZZ_FAIL("no end of the answer's head");
	hlen = (size_t)(eoh + 4 - s);
	for (p = s; p < eoh; p++)
		if ((*p < 0x20 || *p > 0x7e) && !(p[0] == '\r' && p[1] == '\n')
		    && !(p[0] == '\n' && p > s && p[-1] == '\r'))
			FUZZ_FAIL("a control or 8-bit byte in the answer's head");
	if (fuzz_header(s, "Connection", val, sizeof val) == NULL ||
	    strcmp(val, "close") != 0)
		FUZZ_FAIL("no Connection: close");
	if (fuzz_header(s, "Content-Length", val, sizeof val) == NULL)
		FUZZ_FAIL("no Content-Length");
	cl = strtol(val, NULL, 10);
	blen = got->len - hlen;
	if (head ? blen != 0 : (long)blen != cl)
		FUZZ_FAIL("%zu bytes of body, Content-Length %ld%s", blen, cl,
		    head ? " (HEAD)" : "");
	if (code == 405 && (fuzz_header(s, "Allow", val, sizeof val) == NULL ||
	    strcmp(val, "GET, HEAD") != 0))
		FUZZ_FAIL("405 without Allow: GET, HEAD");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_client	 c;
	struct event		*rev, *tev;
	struct timeval		 tv = { 3, 0 };
	struct buf		 req;
	int			 sv[2];
	size_t			 off, pad, i;
	ssize_t			 n;

	if (size < 1 || size > 65536)
		return 0;
	fuzz_healthy = data[0] & 1;
	buf_init(&req);
	if ((data[0] & 2) && size >= 3) {
		pad = (size_t)data[1] * 64;
		off = size > 3 ? data[2] % (size - 3 + 1) : 0;
		buf_add(&req, data + 3, off);
		for (i = 0; i < pad; i++)
			buf_addc(&req, 'a');
		buf_add(&req, data + 3 + off, size - 3 - off);
	} else
		buf_add(&req, data + 1, size - 1);
	fuzz_check_parser(req.s ? req.s : "", req.len);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		FUZZ_FAIL("socketpair: %s", strerror(errno));
	memset(&c, 0, sizeof c);
	c.fd = sv[1];
	buf_init(&c.got);
	for (off = 0; off < req.len; off += (size_t)n)
		if ((n = write(sv[1], req.s + off, req.len - off)) <= 0)
			FUZZ_FAIL("write: %s", strerror(errno));
	shutdown(sv[1], SHUT_WR);
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
	if (http_serve(fuzz_server, sv[0]) == -1)
		FUZZ_FAIL("http_serve failed");

	rev = event_new(fuzz_base, sv[1], EV_READ | EV_PERSIST, fuzz_read, &c);
	tev = evtimer_new(fuzz_base, fuzz_timeout, &c);
	event_add(rev, NULL);
	evtimer_add(tev, &tv);
	while (!c.eof && !c.timed_out)
		event_base_loop(fuzz_base, EVLOOP_ONCE);
	event_del(rev);
	close(sv[1]);
	/* The server sees the close, and lets its connection go. */
	while (http_nconns(fuzz_server) > 0 && !c.timed_out)
		event_base_loop(fuzz_base, EVLOOP_ONCE);
	if (c.timed_out)
		FUZZ_FAIL("the server did not %s within 3 s", c.eof ?
		    "let the connection go" : "answer and close");
	evtimer_del(tev);
	event_free(rev);
	event_free(tev);

	fuzz_check_answer(req.s ? req.s : "", req.len, &c.got);
	buf_free(&c.got);
	buf_free(&req);
	return 0;
}

#!/usr/bin/python3
"""smtp_sink.py: a small SMTP server for tests and the demo (standard library).

    /usr/bin/python3 tests/smtp_sink.py --port N --dir DIR
        [--host 127.0.0.1] [--tempfail-every K] [--tempfail-all]
        [--reject ADDR ...] [--envelope] [--auth USER:PASS] [--busy]
        [--tls-cert PEM --tls-key PEM [--implicit-tls] [--tls-max 1.2|1.3]
         [--inject-after-starttls TEXT]] [--log FILE]

Every accepted message is stored as DIR/NNNNNN.eml, exactly the bytes the
client sent after dot-unstuffing (no header is added), written atomically
(temporary file .NNNNNN.eml.tmp, fsync, then rename). Numbering continues
after the highest number already in DIR. With --envelope a DIR/NNNNNN.json
sidecar holds the envelope ({"mail_from": ..., "rcpt_tos": [...]}); it is
written before the .eml, so a reader that sees the .eml also sees its
envelope.

--busy answers every EHLO (and HELO) with 421 and hangs up (a relay that is
overloaded). --tempfail-every K answers 451 at the end of every K-th DATA
(counting all DATA commands whose message arrived), --tempfail-all to every
DATA; --reject answers 550 5.1.1 at RCPT for the listed addresses
(case-insensitive), naming the address as real servers do. --auth requires
AUTH PLAIN or LOGIN (with or without an initial response) with those
credentials before MAIL (530 5.7.0 until then, 535 5.7.8 for wrong ones);
allowed without TLS, for tests. --tls-cert/--tls-key offer STARTTLS; with
--implicit-tls the sink speaks TLS from the first byte instead (submission on
port 465, RFC 8314) and does not offer STARTTLS. --tls-max caps the TLS
version (default: none, so TLS 1.3 with Debian's OpenSSL).

--inject-after-starttls TEXT simulates a man in the middle: the 220 to
STARTTLS is followed, in the same send(), by TEXT ("\\r\\n" in it becomes
CRLF); then the handshake goes on as usual. A correct client must not read
those bytes as a reply after the handshake (CVE-2011-0411 and its kin).

STARTTLS is strict (RFC 3207): a client that sends anything after STARTTLS
before the handshake is logged and disconnected, never silently skipped; after
the handshake the client must EHLO again.

--log FILE appends, per connection number N, "N open ADDR", "N C: LINE" for
each command line as it arrives (AUTH payloads as ***, a message's data as
"[message K bytes]"), "N S: LINE" for each reply line just before it is sent,
"N TLS TLSv1.3" after a handshake, "N VIOLATION ..." when a command that must
end a pipelined group (RFC 2920, 3207, 4954) had more bytes after it before
its reply or plain text followed STARTTLS, and "N close (REASON)". Arrivals are read before each reply, so a
command that the client sent before the reply it depends on usually shows
before that reply.

With --port 0 the kernel picks the port. The sink prints "port N" and then
"ready" on stdout once it is listening, and stops cleanly on SIGTERM or SIGINT.
One thread per connection, blocking sockets; what connections share (counters,
the message files, the log) is under Sink.lock.
"""

import argparse
import base64
import binascii
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading

HOSTNAME = "sink.test"
SIZE_LIMIT = 32 * 1024 * 1024  # advertised in EHLO; bigger messages get 552
MAX_LINE = 1024 * 1024  # bytes without a newline before we hang up
TIMEOUT = 300  # seconds of client silence before we hang up
# The client must wait for the reply to these before sending anything more
# (RFC 2920 3.1, RFC 3207 4.2, RFC 4954 4).
LAST_IN_GROUP = {"EHLO", "HELO", "DATA", "NOOP", "QUIT", "STARTTLS", "AUTH"}


class Closed(Exception):
    """The session is over; the argument says why (for the log)."""


def show(line):
    """A received line, printable, without its line end."""
    s = line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else "\\x%02x" % ord(c) for c in s)


def parse_path(arg, keyword):
    """("addr", [params]) from "FROM:<addr> P=V ..."; (None, None) if bad."""
    if arg[: len(keyword)].upper() != keyword:
        return None, None
    rest = arg[len(keyword) :].lstrip()
    if rest.startswith("<"):
        end = rest.find(">")
        if end < 0:
            return None, None
        return rest[1:end], rest[end + 1 :].split()
    addr, _, params = rest.partition(" ")
    return (addr, params.split()) if addr else (None, None)


class Sink:
    """Options and what all connections share."""

    def __init__(self, args):
        self.dir = args.dir
        self.tempfail_every = args.tempfail_every
        self.tempfail_all = args.tempfail_all
        self.reject = {a.lower() for a in (args.reject or [])}
        self.envelope = args.envelope
        self.busy = args.busy
        self.auth = None
        if args.auth:
            user, _, password = args.auth.partition(":")
            self.auth = (user.encode(), password.encode())
        self.ctx = None
        if args.tls_cert:
            self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ctx.load_cert_chain(args.tls_cert, args.tls_key)
            if args.tls_max:
                self.ctx.maximum_version = getattr(
                    ssl.TLSVersion, "TLSv" + args.tls_max.replace(".", "_")
                )
        self.implicit = args.implicit_tls
        self.inject = b""
        if args.inject_after_starttls is not None:
            text = args.inject_after_starttls
            self.inject = text.replace("\\r", "\r").replace("\\n", "\n").encode()
        self.lock = threading.Lock()
        self.nconn = 0
        self.ndata = 0
        self.seq = self._highest() + 1
        self.logf = None
        if args.log:
            self.logf = open(args.log, "a", encoding="utf-8", buffering=1)

    def _highest(self):
        n = 0
        for name in os.listdir(self.dir):
            m = re.fullmatch(r"(\d{6,})\.eml", name)
            if m:
                n = max(n, int(m.group(1)))
        return n

    def log(self, conn, text):
        if self.logf is not None:
            with self.lock:
                self.logf.write("%d %s\n" % (conn, text))

    def new_conn(self):
        with self.lock:
            self.nconn += 1
            return self.nconn

    def tempfail(self):
        """Count a DATA; True if this one is to be answered 451."""
        with self.lock:
            self.ndata += 1
            k = self.tempfail_every
            return self.tempfail_all or (k > 0 and self.ndata % k == 0)

    def store(self, mail_from, rcpt_tos, data):
        """Write the message (and its envelope); its number."""
        with self.lock:
            n = self.seq
            self.seq += 1
            base = os.path.join(self.dir, "%06d" % n)
            if self.envelope:
                env = {"mail_from": mail_from, "rcpt_tos": rcpt_tos}
                self._write(base + ".json", json.dumps(env).encode())
            self._write(base + ".eml", data)
        return n

    def _write(self, path, data):
        d, name = os.path.split(path)
        tmp = os.path.join(d, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


class Session(socketserver.BaseRequestHandler):
    """One connection, in its own thread.

    self.buf holds the bytes received and not yet read as lines. Received
    lines are logged as they arrive (arrived()), replies as they are sent
    (reply()); data_mode and secret are the log's view of what is arriving.
    """

    def handle(self):
        self.sink = self.server.sink
        self.n = self.sink.new_conn()
        self.sock = self.request
        self.sock.settimeout(TIMEOUT)
        # Each reply goes in one send(); do not hold one back until the
        # client acknowledges the last (TLS 1.3 session tickets).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.partial = bytearray()  # arrived, not yet a whole line for the log
        self.eof = False
        self.data_mode = False  # message lines are arriving: count, don't log
        self.data_bytes = 0
        self.secret = 0  # lines still to arrive that carry AUTH secrets
        self.tls = False
        self.reset_session()
        why = "client closed"
        self.log("open %s:%d" % self.client_address[:2])
        try:
            if self.sink.implicit:
                self.start_tls()
            self.reply("220 %s ESMTP hearback smtp_sink" % HOSTNAME)
            while self.command():
                pass
        except Closed as e:
            why = str(e)
        except OSError as e:
            why = "error: %s" % e
        finally:
            self.log("close (%s)" % why)
            self.hang_up()

    def log(self, text):
        self.sink.log(self.n, text)

    def hang_up(self):
        """Close so that the client gets all we sent: closing a socket with
        unread input would send a reset, which can destroy the last reply."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(1)
            left = MAX_LINE
            while not self.eof and left > 0:
                data = self.sock.recv(65536)
                self.eof, left = not data, left - len(data)
        except OSError:
            pass
        self.sock.close()

    def reset_session(self):
        self.helo = None
        self.esmtp = False
        self.authed = False
        self.reset_transaction()

    def reset_transaction(self):
        self.mail_from = None
        self.rcpt_tos = []

    # Input and output.

    def arrived(self, data):
        self.buf += data
        self.partial += data
        while True:
            i = self.partial.find(b"\n")
            if i < 0:
                return
            line = bytes(self.partial[: i + 1])
            del self.partial[: i + 1]
            self.log_arrival(line)

    def log_arrival(self, line):
        if self.data_mode:
            if line == b".\r\n":
                self.data_mode = False
                self.log("C: [message %d bytes]" % self.data_bytes)
            else:
                self.data_bytes += len(line)
            return
        if self.secret > 0:
            self.secret -= 1
            self.log("C: ***")
            return
        text = show(line)
        verb, _, rest = text.partition(" ")
        if verb.upper() == "AUTH":
            mech, _, ir = rest.strip().partition(" ")
            mech, ir = mech.upper(), bool(ir.strip())
            if mech in ("PLAIN", "LOGIN"):
                text = "AUTH %s%s" % (mech, " ***" if ir else "")
            else:
                text = "AUTH ***"
            self.secret = {("PLAIN", False): 1, ("LOGIN", False): 2,
                           ("LOGIN", True): 1}.get((mech, ir), 0)
        self.log("C: " + text)

    def drain(self):
        """Take in, without waiting, what has already arrived."""
        if self.eof:
            return
        self.sock.settimeout(0)
        try:
            data = self.sock.recv(65536)
            if data:
                self.arrived(data)
            else:
                self.eof = True
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        finally:
            self.sock.settimeout(TIMEOUT)

    def read_line(self):
        """The next line, with its line end; None at the end of input."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[: i + 1])
                del self.buf[: i + 1]
                return line
            if self.eof:
                return None
            if len(self.buf) > MAX_LINE:
                raise Closed("line too long")
            data = self.sock.recv(65536)
            if data:
                self.arrived(data)
            else:
                self.eof = True

    def reply(self, *lines, extra=b""):
        """Send one reply (its lines given whole) and, after it, extra."""
        self.drain()
        if lines[0].startswith("354") and not self.buf:
            self.data_mode, self.data_bytes = True, 0
        for line in lines:
            self.log("S: " + line)
        for line in extra.splitlines():
            self.log("S: (injected) " + show(line))
        self.sock.sendall("".join(l + "\r\n" for l in lines).encode() + extra)

    def start_tls(self):
        try:
            self.sock = self.sink.ctx.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            raise Closed("TLS handshake failed: %s" % e)
        self.tls = True
        self.log("TLS %s" % self.sock.version())

    # Commands.

    def command(self):
        """Read and answer one command; False once the client has gone."""
        line = self.read_line()
        if line is None:
            return False
        text = line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
        verb, _, arg = text.partition(" ")
        verb, arg = verb.upper(), arg.strip()
        if verb.isalpha() and (verb in LAST_IN_GROUP or not self.esmtp):
            self.drain()
            if self.buf:
                self.log("VIOLATION %s was not the last command of its group:"
                         " %d more bytes came before its reply"
                         % (verb, len(self.buf)))
        handler = getattr(self, "smtp_" + verb, None) if verb.isalpha() else None
        if handler is None:
            self.reply("500 5.5.2 Error: command not recognized")
        else:
            handler(arg)
        return True

    def need_auth(self):
        if self.sink.auth and not self.authed:
            self.reply("530 5.7.0 Authentication required")
            return True
        return False

    def smtp_EHLO(self, arg):
        if not arg:
            return self.reply("501 5.5.4 Syntax: EHLO hostname")
        if self.sink.busy:
            self.reply("421 4.3.2 Too busy, try again later")
            raise Closed("busy")
        self.reset_transaction()  # authentication stays (RFC 4954)
        self.helo, self.esmtp = arg, True
        ext = ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES",
               "SIZE %d" % SIZE_LIMIT]
        if self.sink.ctx and not self.sink.implicit and not self.tls:
            ext.append("STARTTLS")
        if self.sink.auth:
            ext.append("AUTH PLAIN LOGIN")
        lines = [HOSTNAME] + ext
        self.reply(*["250%s%s" % ("-" if i < len(lines) - 1 else " ", l)
                     for i, l in enumerate(lines)])

    def smtp_HELO(self, arg):
        if not arg:
            return self.reply("501 5.5.4 Syntax: HELO hostname")
        if self.sink.busy:
            self.reply("421 4.3.2 Too busy, try again later")
            raise Closed("busy")
        self.reset_transaction()
        self.helo, self.esmtp = arg, False
        self.reply("250 " + HOSTNAME)

    def smtp_STARTTLS(self, arg):
        if arg:
            return self.reply("501 5.5.4 Syntax: STARTTLS")
        if self.tls:
            return self.reply("503 5.5.1 TLS already active")
        if self.sink.ctx is None or self.sink.implicit:
            return self.reply("502 5.5.1 STARTTLS not offered")
        self.reply("220 2.0.0 Ready to start TLS", extra=self.sink.inject)
        # Whatever came after STARTTLS before the handshake is either taken
        # in already, or waiting in the socket: the first byte of a TLS
        # ClientHello is 0x16, never a letter.
        early = bytes(self.buf[:80])
        if not early:
            early = self.sock.recv(80, socket.MSG_PEEK)
            if not early:
                raise Closed("client closed before TLS")
            if early[0] == 0x16:
                early = b""
        if early:
            self.log("VIOLATION plain text after STARTTLS before TLS: %s"
                     % show(early))
            raise Closed("protocol violation")
        self.start_tls()
        self.reset_session()

    def smtp_AUTH(self, arg):
        try:
            self.auth(arg)
        finally:
            self.secret = 0  # the exchange is over, whatever came of it

    def auth(self, arg):
        if self.sink.auth is None:
            return self.reply("503 5.5.1 Error: authentication not enabled")
        if self.helo is None:
            return self.reply("503 5.5.1 Error: send EHLO first")
        if self.authed:
            return self.reply("503 5.5.1 Already authenticated")
        if self.mail_from is not None:
            return self.reply("503 5.5.1 Error: MAIL transaction in progress")
        mech, _, ir = arg.partition(" ")
        mech, ir = mech.upper(), ir.strip()
        if mech == "PLAIN":
            resp = self.auth_response(ir, "")
            if resp is None:
                return
            parts = resp.split(b"\0")
            creds = (parts[1], parts[2]) if len(parts) == 3 else None
        elif mech == "LOGIN":
            user = self.auth_response(ir, "VXNlcm5hbWU6")  # "Username:"
            if user is None:
                return
            password = self.auth_response("", "UGFzc3dvcmQ6")  # "Password:"
            if password is None:
                return
            creds = (user, password)
        else:
            return self.reply("504 5.5.4 Unrecognized authentication type")
        if creds != self.sink.auth:
            return self.reply("535 5.7.8 Authentication credentials invalid")
        self.authed = True
        self.reply("235 2.7.0 Authentication successful")

    def auth_response(self, initial, challenge):
        """The client's decoded answer (initial, or to a 334); None if not."""
        if not initial:
            self.reply("334 " + challenge)
            line = self.read_line()
            if line is None:
                raise Closed("client closed during AUTH")
            initial = line.rstrip(b"\r\n").decode("ascii", "replace")
            if initial == "*":
                self.reply("501 5.7.0 Authentication cancelled")
                return None
        if initial == "=":  # RFC 4954: an empty initial response
            return b""
        try:
            return base64.b64decode(initial, validate=True)
        except (binascii.Error, ValueError):
            self.reply("501 5.5.2 Cannot decode the response")
            return None

    def smtp_MAIL(self, arg):
        if self.helo is None:
            return self.reply("503 5.5.1 Error: send HELO first")
        if self.need_auth():
            return
        if self.mail_from is not None:
            return self.reply("503 5.5.1 Error: nested MAIL command")
        addr, params = parse_path(arg, "FROM:")
        if addr is None:
            return self.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
        for p in params:
            name, _, value = p.upper().partition("=")
            if name == "SIZE" and value.isdigit():
                if int(value) > SIZE_LIMIT:
                    return self.reply("552 5.3.4 Message size exceeds limit")
            elif not (name == "BODY" and value in ("7BIT", "8BITMIME")) \
                    and name != "AUTH":
                return self.reply("555 5.5.4 MAIL parameter not supported")
        self.mail_from = addr
        self.reply("250 2.1.0 OK")

    def smtp_RCPT(self, arg):
        if self.need_auth():
            return
        if self.mail_from is None:
            return self.reply("503 5.5.1 Error: need MAIL command")
        addr, params = parse_path(arg, "TO:")
        if not addr:
            return self.reply("501 5.5.4 Syntax: RCPT TO:<address>")
        if params:
            return self.reply("555 5.5.4 RCPT parameter not supported")
        if addr.lower() in self.sink.reject:
            # Like real servers, the reply names the address: the client must
            # not copy it into its logs.
            return self.reply("550 5.1.1 <%s>: Recipient address rejected"
                              % addr)
        self.rcpt_tos.append(addr)
        self.reply("250 2.1.5 OK")

    def smtp_DATA(self, arg):
        if arg:
            return self.reply("501 5.5.4 Syntax: DATA")
        if self.need_auth():
            return
        if self.mail_from is None:
            return self.reply("503 5.5.1 Error: need MAIL command")
        if not self.rcpt_tos:
            return self.reply("503 5.5.1 Error: need RCPT command")
        self.reply("354 End data with <CR><LF>.<CR><LF>")
        parts, size = [], 0
        while True:
            line = self.read_line()
            if line is None:
                raise Closed("client closed during DATA")
            if line == b".\r\n":
                break
            if line.startswith(b"."):
                line = line[1:]
            size += len(line)
            if size <= SIZE_LIMIT:
                parts.append(line)
        mail_from, rcpt_tos = self.mail_from, self.rcpt_tos
        self.reset_transaction()
        if size > SIZE_LIMIT:
            return self.reply("552 5.3.4 Message too big")
        if self.sink.tempfail():
            return self.reply("451 4.3.0 Temporary failure, try again later")
        n = self.sink.store(mail_from, rcpt_tos, b"".join(parts))
        self.reply("250 2.0.0 OK queued as %06d" % n)

    def smtp_RSET(self, arg):
        self.reset_transaction()
        self.reply("250 2.0.0 OK")

    def smtp_NOOP(self, arg):
        self.reply("250 2.0.0 OK")

    def smtp_QUIT(self, arg):
        self.reply("221 2.0.0 Bye")
        raise Closed("QUIT")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True  # a stuck client does not hold up the exit
    allow_reuse_address = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser(description="SMTP sink for hearback tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tempfail-every", type=int, default=0, metavar="K")
    ap.add_argument("--tempfail-all", action="store_true")
    ap.add_argument("--reject", nargs="+", metavar="ADDR")
    ap.add_argument("--envelope", action="store_true")
    ap.add_argument("--busy", action="store_true")
    ap.add_argument("--auth", metavar="USER:PASS")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--tls-max", choices=["1.2", "1.3"])
    ap.add_argument("--inject-after-starttls", metavar="TEXT")
    ap.add_argument("--log", metavar="FILE")
    args = ap.parse_args()
    if args.tempfail_every < 0:
        ap.error("--tempfail-every must be 0 or more")
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if (args.implicit_tls or args.tls_max) and not args.tls_cert:
        ap.error("--implicit-tls and --tls-max need --tls-cert and --tls-key")
    if args.inject_after_starttls is not None and (
        not args.tls_cert or args.implicit_tls
    ):
        ap.error("--inject-after-starttls needs STARTTLS (--tls-cert, "
                 "--tls-key, no --implicit-tls)")
    # Signals go to the main thread's sigwait(), not to a connection thread.
    stops = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        os.makedirs(args.dir, exist_ok=True)
        sink = Sink(args)
        if ":" in args.host:
            Server.address_family = socket.AF_INET6
        server = Server((args.host, args.port), Session)
    except OSError as e:  # ssl.SSLError included
        print("smtp_sink: %s" % e, file=sys.stderr)
        return 1
    server.sink = sink
    t = threading.Thread(target=server.serve_forever, args=(0.1,))
    t.start()
    print("port %d" % server.server_address[1])
    print("ready", flush=True)
    signal.sigwait(stops)
    server.shutdown()
    server.server_close()
    t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())

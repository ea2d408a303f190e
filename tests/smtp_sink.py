#!/usr/bin/python3
"""smtp_sink.py: a small SMTP server for tests and the demo (aiosmtpd).

    /usr/bin/python3 tests/smtp_sink.py --port N --dir DIR
        [--host 127.0.0.1] [--tempfail-every K] [--tempfail-all]
        [--reject ADDR ...] [--envelope] [--auth USER:PASS] [--busy]
        [--tls-cert PEM --tls-key PEM [--implicit-tls]]

Every accepted message is stored as DIR/NNNNNN.eml, exactly the bytes the
client sent after dot-unstuffing (no header is added), written atomically
(temporary file, then rename). Numbering continues after the highest number
already in DIR. With --envelope a DIR/NNNNNN.json sidecar holds the envelope
({"mail_from": ..., "rcpt_tos": [...]}); it is written before the .eml, so a
reader that sees the .eml also sees its envelope.

--busy answers every EHLO with 421 (a relay that is overloaded).
--tempfail-every K answers 451 to every K-th DATA (counting all DATA
commands), --tempfail-all to every DATA; --reject answers 550 at RCPT for the
listed addresses (case-insensitive). --auth requires AUTH PLAIN/LOGIN with
those credentials (allowed without TLS, for tests). --tls-cert/--tls-key offer
STARTTLS; with --implicit-tls the sink speaks TLS from the first byte instead
(submission on port 465, RFC 8314) and does not offer STARTTLS.

With --port 0 the kernel picks the port. The sink prints "port N" and then
"ready" on stdout once it is listening, and stops cleanly on SIGTERM or SIGINT.
Run it with /usr/bin/python3 (Debian's aiosmtpd).
"""

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, args):
        self.dir = args.dir
        self.tempfail_every = args.tempfail_every
        self.tempfail_all = args.tempfail_all
        self.reject = {a.lower() for a in (args.reject or [])}
        self.envelope = args.envelope
        self.busy = args.busy
        self.ndata = 0
        self.seq = self._highest() + 1

    def _highest(self):
        n = 0
        for name in os.listdir(self.dir):
            m = re.fullmatch(r"(\d{6,})\.eml", name)
            if m:
                n = max(n, int(m.group(1)))
        return n

    def _write(self, path, data):
        tmp = os.path.join(self.dir, ".tmp-" + os.path.basename(path))
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if self.busy:
            return ["421 4.3.2 Too busy, try again later"]
        session.host_name = hostname  # this hook's job in aiosmtpd 1.4
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            # Like real servers, the reply names the address: the client must
            # not copy it into its logs.
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.ndata += 1
        if self.tempfail_all or (
            self.tempfail_every and self.ndata % self.tempfail_every == 0
        ):
            return "451 4.3.0 Temporary failure, try again later"
        n = self.seq
        self.seq += 1
        base = os.path.join(self.dir, "%06d" % n)
        if self.envelope:
            env = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
            self._write(base + ".json", json.dumps(env).encode())
        self._write(base + ".eml", envelope.original_content or envelope.content)
        return "250 2.0.0 OK queued as %06d" % n


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: aiosmtpd itself answers 535 on failure.
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return authenticator


async def serve(args):
    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(args)
    kw = {"hostname": "sink.test", "ident": "hearback smtp_sink"}
    if args.auth:
        user, _, password = args.auth.partition(":")
        kw.update(
            auth_required=True,
            auth_require_tls=False,
            authenticator=make_authenticator(user, password),
        )
    implicit = None
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.implicit_tls:
            implicit = ctx
        else:
            # Python 3.11's asyncio TLS leaves application data that comes
            # in the same read as the end of the handshake in its buffer
            # until more data arrives. With TLS 1.3 a STARTTLS client's
            # Finished and its EHLO come together, so the EHLO would wait
            # for the client's timeout. With TLS 1.2 the server speaks last
            # in the handshake, and the EHLO comes on its own.
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            kw["tls_context"] = ctx
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, **kw), host=args.host, port=args.port, ssl=implicit
    )
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("port %d" % port)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


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
    args = ap.parse_args()
    # AUTH without TLS is deliberate here (tests); keep stderr for real errors.
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    if args.tempfail_every < 0:
        ap.error("--tempfail-every must be 0 or more")
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if args.implicit_tls and not args.tls_cert:
        ap.error("--implicit-tls needs --tls-cert and --tls-key")
    try:
        asyncio.run(serve(args))
    except OSError as e:
        print("smtp_sink: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

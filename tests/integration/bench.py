#!/usr/bin/python3
"""
bench.py: end-to-end throughput of hearbackd with a real redis-server and
the harness's SMTP sink (aiosmtpd, in this process), all on loopback.

    HB_BUILD=build /usr/bin/python3 tests/integration/bench.py

(a) intake: K collaborator records queued at once (one pipelined batch of
    XADDs); time until the inbox is empty -> records/s.
(b) fan-out: one announcement to a group of N consenting people, with
    [smtp] workers 1, 2 and 4, each in a fresh Env; time from the XADD to
    the N-th message at the sink -> emails/s.
(c) fan-out through a real Postfix (tests/integration/postfix.py: Debian's
    Postfix, private, queue on disk, discard transport): one announcement
    to M people with STARTTLS, and the same without TLS (tls = none), each
    in a fresh Env and a fresh Postfix; time from the XADD to the M-th
    message accepted (queued) and delivered (discarded) by Postfix ->
    emails/s for both, and their ratio, the cost of TLS. Needs root (the
    Postfix master does); skipped otherwise.
Then the memory each run left: redis-server used_memory and the daemon's
peak RSS (VmHWM).

It prints figures and never fails because something is slow. It exits 1
only when something is broken: a record dead-lettered, a wrong count, a
duplicate or missing email, a run that makes no progress for STALL seconds,
or a daemon that does not exit cleanly. A run that is merely slow is cut at
its time cap and reported as partial, so (a) and (b) stay within about
three minutes. (c) at its full size, 20,000 emails twice, takes longer:
loading the people and sending to them, several minutes in all.

HB_BENCH_K, HB_BENCH_N and HB_BENCH_WORKERS ("1,2,4") override the sizes;
HB_BENCH_RELAY_N (20000; 0 skips (c)), HB_BENCH_RELAY_WORKERS (4, SPEC's
default) and HB_BENCH_RELAY_HOST (127.0.0.1) those of (c).
Only the standard library and what harness.py uses: run with /usr/bin/python3.
"""

import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
import postfix  # noqa: E402

K = int(os.environ.get("HB_BENCH_K", "5000"))
N = int(os.environ.get("HB_BENCH_N", "2000"))
WORKERS = [int(w) for w in
    os.environ.get("HB_BENCH_WORKERS", "1,2,4").split(",") if w.strip()]
FORMATS = ("standard", "easy-read", "large-print", "plain-text")
SUBJECT = "Help us rewrite the discharge letter"
STALL = 20.0		# no progress for this long: broken
CAP_INTAKE = 40.0	# a slow stage is cut here and reported as partial
CAP_FANOUT = 40.0
CAP_RELAY = 600.0	# (c): loading 20,000 people, and each fan-out
RELAY_N = int(os.environ.get("HB_BENCH_RELAY_N", "20000"))
RELAY_WORKERS = int(os.environ.get("HB_BENCH_RELAY_WORKERS", "4"))
RELAY_HOST = os.environ.get("HB_BENCH_RELAY_HOST", "127.0.0.1")
TICK = 0.005		# polling interval

# Settings a production daemon would have that matter here: a lease as
# long as SPEC's default, so a slow batch is not leased twice.
CONFIG = {"delivery": {"lease": "60s"}, "daemon": {"shutdown_timeout": "30s"}}


class Broken(Exception):
	pass


def collaborator(i, group):
	return {"type": "collaborator", "id": "c-%05d" % i,
	    "name": "Bench Person %d" % i, "email": "p%05d@example.org" % i,
	    "consent": True, "format": FORMATS[i % len(FORMATS)],
	    "access_needs": ["step-free"] if i % 3 == 0 else [],
	    "groups": [group]}


def announcement(group):
	return {"type": "announcement", "id": "a-bench",
	    "subject": SUBJECT,
	    "body": "The hospital is rewriting the letter people get when "
	    "they leave a ward, and they want carers to shape it.\n\n"
	    "There is a short survey, and a workshop in December.\n\n"
	    "We pay for your time and travel.",
	    "to": {"groups": [group]}}


def queue_many(env, records):
	"""XADD every record in one pipelined round trip."""
	p = env.r.pipeline(transaction=False)
	key = env.key("inbox")
	for rec in records:
		p.xadd(key, {"record": json.dumps(rec)})
	p.execute()


def progress_wait(env, count, target, cap, what):
	"""Poll count() until target(count()) holds. Returns (when, last
	count, partial): when is the time.monotonic() it was first seen to
	hold (or the cap ran out: partial). Raises Broken if the count does
	not change for STALL seconds, DaemonDied if the daemon exits."""
	start = time.monotonic()
	last, last_change = None, start
	while True:
		env.check_daemon()
		n = count()
		now = time.monotonic()
		if n != last:
			last, last_change = n, now
		if target(n):
			return now, n, False
		if now - last_change > STALL:
			raise Broken("%s: no progress for %gs (at %r)" %
			    (what, STALL, n))
		if now - start > cap:
			return now, n, True
		time.sleep(TICK)


def check_no_dead(env, what):
	dead = env.dead_entries()
	if dead:
		raise Broken("%s: %d dead entr%s, first: %s" % (what, len(dead),
		    "y" if len(dead) == 1 else "ies", dead[0].get("error")))


def memory(env):
	"""(redis used_memory bytes, daemon VmHWM kB or None)."""
	used = int(env.r.info("memory")["used_memory"])
	hwm = None
	try:
		with open("/proc/%d/status" % env.daemon.pid) as f:
			for line in f:
				if line.startswith("VmHWM:"):
					hwm = int(line.split()[1])
	except OSError:
		pass
	return used, hwm


def load_people(env, k, group, what, cap=CAP_INTAKE):
	"""Queue k collaborators, wait for the inbox to drain. Returns
	(seconds, done, partial)."""
	recs = [collaborator(i, group) for i in range(k)]
	inbox = env.key("inbox")
	t0 = time.monotonic()
	queue_many(env, recs)
	t1, left, partial = progress_wait(env, lambda: env.r.xlen(inbox),
	    lambda n: n == 0, cap, what)
	check_no_dead(env, what)
	done = k - left
	if not partial:
		have = env.r.scard(env.key("group:%s" % group))
		if have != k:
			raise Broken("%s: group has %d members, want %d" %
			    (what, have, k))
	return t1 - t0, done, partial


def bench_intake():
	with harness.Env("bench-intake", config=CONFIG, daemon=True) as env:
		secs, done, partial = load_people(env, K, "intake", "intake")
		mem = memory(env)
	return secs, done, partial, mem


def bench_fanout(workers):
	cfg = {"delivery": dict(CONFIG["delivery"]),
	    "daemon": dict(CONFIG["daemon"]),
	    "smtp": {"workers": str(workers)}}
	what = "fan-out (workers %d)" % workers
	with harness.Env("bench-fanout-w%d" % workers, config=cfg,
	    daemon=True) as env:
		load_people(env, N, "bench", what + ", loading people")
		h = env.smtp.handler

		def count():
			with h.lock:
				return len(h.messages)

		t0 = time.monotonic()
		env.xadd(announcement("bench"))
		first, _, _ = progress_wait(env, count, lambda n: n >= 1,
		    CAP_FANOUT, what + ", first email")
		t1, got, partial = progress_wait(env, count, lambda n: n >= N,
		    CAP_FANOUT - (first - t0), what)
		if not partial:
			time.sleep(0.5)		# would a duplicate follow?
		msgs = env.mails
		check_no_dead(env, what)
		rcpts = [r.lower() for m in msgs for r in m.rcpt_tos]
		if len(set(rcpts)) != len(rcpts):
			raise Broken("%s: %d emails but %d distinct recipients"
			    " (sent twice?)" % (what, len(rcpts),
			    len(set(rcpts))))
		if not partial and len(msgs) != N:
			raise Broken("%s: %d emails, want %d" % (what, len(msgs),
			    N))
		bad = [m for m in msgs if m.subject != SUBJECT]
		if bad:
			raise Broken("%s: wrong subject %r" % (what,
			    bad[0].subject))
		size = sum(len(m.raw) for m in msgs) // max(len(msgs), 1)
		mem = memory(env)
	return t1 - t0, first - t0, got, partial, size, mem


class MaillogCounter:
	"""Postfix's accepted (qmgr "from=") and delivered (discard
	"status=sent") messages, counted as the log grows: each poll reads
	only what is new, so polling a log of 20,000 deliveries stays cheap
	beside the run it measures."""

	def __init__(self, path):
		self.path = path
		self.pos = 0
		self.rest = b""
		self.accepted = 0
		self.delivered = 0

	def poll(self):
		try:
			with open(self.path, "rb") as f:
				f.seek(self.pos)
				data = f.read()
		except FileNotFoundError:
			return
		self.pos += len(data)
		lines = (self.rest + data).split(b"\n")
		self.rest = lines.pop()
		for line in lines:
			if b"/qmgr[" in line and b": from=<" in line:
				self.accepted += 1
			elif b"/discard[" in line and b" status=sent " in line:
				self.delivered += 1


def relay_available():
	"""None if (c) can run, else why not."""
	if RELAY_N <= 0:
		return "HB_BENCH_RELAY_N=0"
	if os.geteuid() != 0:
		return "needs root (the Postfix master does)"
	for exe in (postfix.POSTFIX, postfix.MASTER):
		if not os.access(exe, os.X_OK):
			return "no %s (install postfix: ./hb deps)" % exe
	return None


def bench_relay(tls):
	"""One fan-out of RELAY_N emails through a private Postfix, with
	STARTTLS or without TLS. Returns a dict of figures."""
	label = "STARTTLS" if tls else "plain"
	what = "relay fan-out (%s)" % label
	cfg = {"delivery": dict(CONFIG["delivery"]),
	    "daemon": dict(CONFIG["daemon"])}
	with harness.Env("bench-relay-%s" % label.lower(), config=cfg) as env, \
	    postfix.Postfix(parent=env.tmp, tls=tls) as pf:
		smtp = pf.smtp_config()
		smtp["smtp"].update(host=RELAY_HOST, workers=RELAY_WORKERS)
		env.write_config(smtp)
		env.start_daemon()
		load_people(env, RELAY_N, "bench", what + ", loading people",
		    CAP_RELAY)
		c = MaillogCounter(pf.maillog)
		c.poll()
		if c.accepted or c.delivered:
			raise Broken("%s: Postfix had mail before the announcement"
			    % what)
		seen = {}

		def count():
			c.poll()
			now = time.monotonic()
			if c.accepted >= 1:
				seen.setdefault("first", now)
			if c.accepted >= RELAY_N:
				seen.setdefault("accepted", now)
			return c.delivered

		t0 = time.monotonic()
		env.xadd(announcement("bench"))
		t1, got, partial = progress_wait(env, count,
		    lambda n: n >= RELAY_N, CAP_RELAY, what)
		t_acc = seen.get("accepted", t1)
		if not partial:
			time.sleep(0.5)		# would a duplicate follow?
		check_no_dead(env, what)
		rcpts = pf.delivered()
		if len(set(rcpts)) != len(rcpts):
			raise Broken("%s: %d deliveries but %d distinct recipients"
			    " (sent twice?)" % (what, len(rcpts), len(set(rcpts))))
		if not partial and len(rcpts) != RELAY_N:
			raise Broken("%s: %d delivered, want %d" % (what,
			    len(rcpts), RELAY_N))
		return {"label": label, "got": got, "accepted": c.accepted,
		    "partial": partial, "acc_s": t_acc - t0, "del_s": t1 - t0,
		    "first_ms": (seen.get("first", t1) - t0) * 1000,
		    # Connections that carried SMTP; the probes on top.
		    "sessions": pf.count(postfix.CONNECT) -
		    pf.count(postfix.LOST_AFTER_CONNECT),
		    "probes": pf.count(postfix.LOST_AFTER_CONNECT),
		    "tls": sorted(set(pf.tls_protocols()))}


def print_relay():
	why = relay_available()
	print()
	print("(c) fan-out through a real Postfix: one announcement to %d "
	    "people, [smtp] workers %d, host %s; XADD to the %d-th message "
	    "accepted (queued) and delivered (discarded) by Postfix" %
	    (RELAY_N, RELAY_WORKERS, RELAY_HOST, RELAY_N))
	if why:
		print("    skipped: %s" % why)
		return
	# Postfix queues every message on disk (cleanup fsyncs each queue
	# file) before it answers 250, then qmgr hands it to discard. If
	# "accepted" and "delivered" finish together, Postfix keeps up and
	# the rate is hearbackd's; if delivered lags far behind, Postfix's
	# queue is the bottleneck (and smtpd's in_flow_delay, 1 s, then
	# slows the sender down too).
	print("    %-22s %7s %9s %9s %10s %9s %9s %8s" % ("run", "emails",
	    "accepted", "emails/s", "delivered", "emails/s", "first",
	    "sessions"))
	sys.stdout.flush()
	res = []
	for tls in (False, True):
		r = bench_relay(tls)
		res.append(r)
		label = r["label"] + (" (%s)" % ",".join(r["tls"])
		    if r["tls"] else "")
		print("    %-22s %7d %8.2fs %9.0f %9.2fs %9.0f %6.0f ms %8d%s%s" %
		    (label, r["got"], r["acc_s"], r["accepted"] / r["acc_s"],
		    r["del_s"], r["got"] / r["del_s"], r["first_ms"],
		    r["sessions"], "  (%d probe connections)" % r["probes"]
		    if r["probes"] else "", "  (PARTIAL: cut at the time cap)"
		    if r["partial"] else ""))
		sys.stdout.flush()
	plain, tls = res
	print("    TLS/plain: %.2f (delivered emails/s with STARTTLS over "
	    "emails/s without TLS)" % ((tls["got"] / tls["del_s"]) /
	    (plain["got"] / plain["del_s"])))


def mb(n):
	return "%.1f MB" % (n / 1048576.0)


def main():
	if not os.access(harness.build_dir() / "hearbackd", os.X_OK):
		print("bench.py: no %s/hearbackd (run make)" %
		    harness.build_dir(), file=sys.stderr)
		return 1
	ncpu = os.cpu_count()
	try:
		avail = len(os.sched_getaffinity(0))
	except AttributeError:
		avail = ncpu
	print("bench.py: end to end on %s, %s, nproc %d (%d CPUs online); "
	    "redis-server, SMTP sink and hearbackd share these CPUs. Figures "
	    "vary with the machine and its load." % (platform.node(),
	    platform.machine(), avail, ncpu))
	print("redis without persistence; the SMTP sink is Python "
	    "(aiosmtpd) in this process and parses every message, so it can "
	    "be the bottleneck.")
	sys.stdout.flush()
	mems = []
	t_all = time.monotonic()

	secs, done, partial, mem = bench_intake()
	mems.append(("intake", mem))
	print()
	print("(a) intake: %d collaborator records queued at once" % K)
	print("    %d records in %.2f s: %.0f records/s%s" % (done, secs,
	    done / secs, "  (PARTIAL: cut at the time cap)" if partial else ""))
	sys.stdout.flush()

	print()
	print("(b) fan-out: one announcement to %d consenting people "
	    "(formats mixed), XADD to the last email at the sink" % N)
	print("    %-8s %8s %10s %12s %13s" % ("workers", "emails", "seconds",
	    "emails/s", "first email"))
	sys.stdout.flush()
	for w in WORKERS:
		secs, first, got, partial, size, mem = bench_fanout(w)
		mems.append(("fan-out w%d" % w, mem))
		print("    %-8d %8d %10.2f %12.0f %10.0f ms%s" % (w, got, secs,
		    got / secs, first * 1000, "  (PARTIAL)" if partial else ""))
		sys.stdout.flush()
	print("    (%d bytes per email on average)" % size)

	print_relay()

	print()
	print("memory at the end of each run:")
	print("    %-12s %16s %18s" % ("run", "redis used_memory",
	    "hearbackd VmHWM"))
	for name, (used, hwm) in mems:
		print("    %-12s %16s %18s" % (name, mb(used),
		    mb(hwm * 1024) if hwm is not None else "?"))
	print()
	print("bench.py: done in %.0f s" % (time.monotonic() - t_all))
	return 0


if __name__ == "__main__":
	try:
		sys.exit(main())
	except (Broken, harness.WaitTimeout, harness.DaemonDied,
	    AssertionError) as exc:
		print("bench.py: BROKEN: %s" % exc, file=sys.stderr)
		sys.exit(1)

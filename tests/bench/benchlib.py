"""
benchlib.py: what the scripts in tests/bench/ share.

  - Postfix's smtp-sink (C; accepts and discards) on a free port;
  - the emails hearbackd really sends for an announcement, one per format,
    captured through the harness's Python sink, so that Postfix's
    smtp-source can send the same bytes (-F) as the anchor;
  - smtp-source at a fixed shape (SESSIONS parallel sessions, PER_SESSION
    messages each, again until N are sent) -> seconds;
  - the daemon's peak RSS, CPU time, and the machine's load average;
  - for fanout.py and meeting.py: an Env whose daemon sends into
    smtp-sink, collaborators queued before it starts, polling until
    something is done, the SLOWLOG and its anchor (a fixed script sent
    every TICKER_S while the daemon works).

Nothing here fails on speed: Broken means something does not work.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import harness  # noqa: E402

SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
SOURCE = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
FORMATS = ("standard", "easy-read", "large-print", "plain-text")
SUBJECT = "Bench"
BODY = "Hello.\n\nThank you."
SESSIONS = 4		# smtp-source: parallel sessions
PER_SESSION = 100	# messages per session
CLK_TCK = os.sysconf("SC_CLK_TCK")
TICK = 0.01		# seconds between polls


class Broken(Exception):
	pass


def loadavg():
	with open("/proc/loadavg") as f:
		return " ".join(f.read().split()[:3])


def machine():
	model = "?"
	try:
		with open("/proc/cpuinfo") as f:
			for line in f:
				if line.startswith("model name"):
					model = line.split(":", 1)[1].strip()
					break
	except OSError:
		pass
	return "%s, nproc %d" % (model, os.cpu_count())


def have_postfix_tools():
	for exe in (SINK, SOURCE):
		if not os.access(exe, os.X_OK):
			print("%s: no %s (apt-get install postfix)" % (
			    Path(sys.argv[0]).name, exe), file=sys.stderr)
			return False
	return True


def start_sink(env):
	"""smtp-sink on a free port; (process, port)."""
	port = harness.free_port()
	argv = [SINK]
	if os.geteuid() == 0:
		argv += ["-u", "postfix"]
	argv += ["127.0.0.1:%d" % port, "256"]
	p = harness.spawn(argv, env.tmp / "smtp-sink.log")
	harness.wait_for(lambda: harness.port_open(port), 10, "smtp-sink")
	return p, port


@contextlib.contextmanager
def sink_env(name, config, stop_timeout=harness.WAIT):
	"""A fresh harness.Env (its daemon not started) that sends into
	smtp-sink, with redis-server at nice -20 where allowed (as root) so
	that command durations are their sizes, not the machine's load.
	Yields (env, sink process, sink port); at the end stops the daemon
	(waiting up to stop_timeout s) and the sink."""
	with harness.Env(name, config=config) as env:
		sink, port = start_sink(env)
		try:
			os.setpriority(os.PRIO_PROCESS, env.redis_proc.pid, -20)
		except OSError:
			pass
		try:
			env.write_config({"smtp": {"port": str(port)}})
			yield env, sink, port
		finally:
			env.stop_daemon(timeout=stop_timeout)
			harness.stop_process(sink)


def queue_records(env, records):
	"""XADD each record (a dict) to the inbox, 10,000 to a pipeline."""
	p = env.r.pipeline(transaction=False)
	for i, rec in enumerate(records):
		p.xadd(env.key("inbox"), {"record": json.dumps(rec)})
		if i % 10000 == 9999:
			p.execute()
	p.execute()


def wait_until(env, get, done, what, stall):
	"""Poll get() until done(value); returns the monotonic time then.
	Broken if the value does not change for stall seconds."""
	last, changed = None, time.monotonic()
	while True:
		env.check_daemon()
		v = get()
		now = time.monotonic()
		if v != last:
			last, changed = v, now
		if done(v):
			return now
		if now - changed > stall:
			raise Broken("%s: no progress for %gs (at %r)" % (what,
			    stall, v))
		time.sleep(TICK)


def taken_in(env, n, group, stall):
	"""Wait until the daemon has taken in the inbox: n collaborators in
	group, none dead. Returns the monotonic time the inbox was empty."""
	t = wait_until(env, lambda: env.r.xlen(env.key("inbox")),
	    lambda v: v == 0, "intake", stall)
	if env.dead_entries():
		raise Broken("intake: dead entries")
	have = env.r.scard(env.key("group:" + group))
	if have != n:
		raise Broken("intake: %d in the group, want %d" % (have, n))
	return t


def sent(env, kind):
	"""How many emails of kind the daemon says it sent."""
	return int(env.r.hget(env.key("stats"), "sent:" + kind) or 0)


def slowlog_reset(env, slower_us, max_len):
	"""From now on the SLOWLOG keeps every command of slower_us or more
	(0: all), up to max_len of them."""
	env.r.config_set("slowlog-log-slower-than", slower_us)
	env.r.config_set("slowlog-max-len", max_len)
	env.r.slowlog_reset()


# The anchor for Redis command times: a fixed script (pure Lua, about 1.2
# ms on the 2-core build machine) that a bench sends every TICKER_S while
# the daemon works. Its own runs in the SLOWLOG are what the machine's load
# alone does to a command of fixed work.
TICKER_SCRIPT = ("-- hb-bench-anchor\n"
    "local x = 0 for i = 1, 100000 do x = x + i end return x")
TICKER_S = 0.02


def is_ticker(entry):
	"""Is this SLOWLOG entry the anchor's?"""
	return "hb-bench-anchor" in str(entry["command"])


class Ticker(threading.Thread):
	"""Sends the anchor every TICKER_S until stop is set; sent counts."""

	def __init__(self, env):
		super().__init__(daemon=True)
		self.r = env.r
		self.stop = threading.Event()
		self.sent = 0

	def run(self):
		while not self.stop.wait(TICKER_S):
			self.r.eval(TICKER_SCRIPT, 0)
			self.sent += 1


def collaborator(i, group, fmt=None, **extra):
	c = {"type": "collaborator", "id": "c-%06d" % i,
	    "name": "Bench Person %d" % i, "email": "p%06d@example.org" % i,
	    "consent": True, "format": fmt or FORMATS[i % len(FORMATS)],
	    "groups": [group], "reminders": []}
	c.update(extra)
	return c


def announcement(aid, to):
	return {"type": "announcement", "id": aid, "subject": SUBJECT,
	    "body": BODY, "to": to}


def sample_emails(dest):
	"""The announcement email of fanout.py in each format, as the daemon
	sends it, written to dest/shape-FORMAT.eml with LF line ends (the
	form smtp-source -F reads; it adds the CRs). Returns [(path, size on
	the wire)], in FORMATS order."""
	dest = Path(dest)
	with harness.Env("bench-shape", config={"smtp": {"workers": "1"}}) \
	    as env:
		env.start_daemon()
		for i, fmt in enumerate(FORMATS):
			env.xadd(collaborator(i, "shape", fmt))
		env.wait_for(lambda: env.r.scard(env.key("group:shape")) ==
		    len(FORMATS), 30, "the shape group")
		env.xadd(announcement("a-shape", {"groups": ["shape"]}))
		env.wait_mails(len(FORMATS), timeout=60)
		by_to = {m.rcpt_tos[0]: m.raw for m in env.mails}
	out = []
	for i, fmt in enumerate(FORMATS):
		raw = by_to.get("p%06d@example.org" % i)
		if raw is None:
			raise Broken("shape: no %s email" % fmt)
		path = dest / ("shape-%s.eml" % fmt)
		path.write_bytes(raw.replace(b"\r\n", b"\n"))
		out.append((path, len(raw)))
	return out


def smtp_source(port, shapes, n, log):
	"""Send n messages into 127.0.0.1:port with smtp-source, SESSIONS
	sessions x PER_SESSION messages per run, rotating through the shape
	files as the fan-out rotates through formats. Returns seconds."""
	batch = SESSIONS * PER_SESSION
	sent, k = 0, 0
	t0 = time.monotonic()
	with open(log, "ab") as lf:
		while sent < n:
			m = min(batch, n - sent)
			path = shapes[k % len(shapes)][0]
			rc = subprocess.call([SOURCE, "-d", "-s", str(SESSIONS),
			    "-m", str(m), "-F", str(path), "-f", "forum@example.org",
			    "-t", "p@example.org", "127.0.0.1:%d" % port],
			    stdout=lf, stderr=lf)
			if rc != 0:
				raise Broken("smtp-source exited %d (see %s)" % (rc,
				    log))
			sent += m
			k += 1
	return time.monotonic() - t0


def vmhwm(pid):
	"""Peak RSS in MB, or None."""
	try:
		with open("/proc/%d/status" % pid) as f:
			for line in f:
				if line.startswith("VmHWM:"):
					return int(line.split()[1]) / 1024.0
	except OSError:
		pass
	return None


def _stat_seconds(path):
	"""utime + stime from a /proc .../stat file, in seconds."""
	with open(path) as f:
		s = f.read()
	fields = s[s.rindex(")") + 2:].split()
	return (int(fields[11]) + int(fields[12])) / CLK_TCK


def main_thread_seconds(pid):
	"""The CPU of pid's main thread alone (its task of the same id), in
	seconds: the daemon's event loop, where the workers are the other
	tasks."""
	return _stat_seconds("/proc/%d/task/%d/stat" % (pid, pid))


def cpu_seconds(pid):
	"""utime + stime of pid (all its threads), in seconds."""
	return _stat_seconds("/proc/%d/stat" % pid)


def mark(ok):
	return "met" if ok else "NOT met"


def _scripts():
	"""sha1 -> script name, for the scripts hearbackd loads: each symbol
	of daemon/store/scripts.S is its .incbin files in order (lib.lua
	first), named here by its last one."""
	import hashlib
	import re
	d = HERE.parent.parent / "daemon" / "store"
	out = {}
	try:
		text = (d / "scripts.S").read_text()
		for block in re.split(r"\n\s*\.global\s+", text)[1:]:
			files = re.findall(r'\.incbin\s+"daemon/store/([^"]+)"',
			    block)
			if not files:
				continue
			body = b"".join((d / f).read_bytes() for f in files)
			out[hashlib.sha1(body).hexdigest()] = files[-1]
	except OSError:
		pass
	return out


SCRIPTS = _scripts()


def command_words(cmd, n=3):
	"""The first n words of a SLOWLOG command, an EVALSHA named by its
	script file."""
	if isinstance(cmd, bytes):
		cmd = cmd.decode("utf-8", "replace")
	w = cmd.split()[:n]
	if len(w) >= 2 and w[0].upper() == "EVALSHA" and w[1] in SCRIPTS:
		w[1] = SCRIPTS[w[1]]
	return " ".join(w)[:60]

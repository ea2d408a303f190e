"""
harness.py: what the integration tests stand on.

Each test gets an Env: a temporary directory with its own redis-server
(127.0.0.1, a free port), an in-process SMTP server (aiosmtpd) that records
every message it accepts and can be told to fail, a config file in the
format of SPEC section 7 pointing at both, and helpers to start and stop
hearbackd and to run the hearback command.

    def test_something(env):
        env.start_daemon()
        env.xadd({"type": "collaborator", ...})
        env.wait_for(lambda: env.mails_to("amara@example.org"), what="...")

Options for a test's Env go on the function with @env_options(...):
aof=True (Redis with appendonly yes, appendfsync always), config={...}
overrides, daemon=True (start hearbackd before the test runs).

Everything started here is stopped when the Env closes, also when the test
fails, when the runner is interrupted (atexit) and, for child processes,
when the runner dies (PR_SET_PDEATHSIG).

Only the standard library, redis (python3-redis) and aiosmtpd
(python3-aiosmtpd): run with /usr/bin/python3.
"""

import atexit
import configparser
import ctypes
import email
import email.policy
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import redis
from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = REPO / "config" / "templates"

POLL = 0.05		# wait_for polls this often
WAIT = 30		# default timeout of wait_for, seconds


def build_dir():
	"""Where the binaries are: $HB_BUILD (default build/), from the repo."""
	b = Path(os.environ.get("HB_BUILD", "build"))
	return b if b.is_absolute() else REPO / b


class WaitTimeout(AssertionError):
	pass


class DaemonDied(AssertionError):
	pass


# ---------------------------------------------------------------------------
# Ports, processes, waiting

_ports_lock = threading.Lock()
_ports_given = set()


def _ephemeral_low():
	"""The lowest port the kernel gives to outgoing connections."""
	try:
		with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
			return int(f.read().split()[0])
	except (OSError, ValueError, IndexError):
		return 32768


def free_port():
	"""A TCP port on 127.0.0.1 that nothing listens on now, and that this
	process has not handed out before. Chosen below the ephemeral range,
	so that an outgoing connection made before the port is bound (the
	daemon binds its HTTP port again on every restart) cannot take it."""
	low = _ephemeral_low()
	lo, hi = 10000, low - 1000
	# tests/run-all runs two test processes at once: each takes its own
	# slice of the range (HB_PORT_SLICE, 0 to 3), so that neither hands
	# out a port the other has handed out but not yet bound.
	k = os.environ.get("HB_PORT_SLICE", "")
	if k in ("0", "1", "2", "3") and hi - lo > 4000:
		step = (hi - lo) // 4
		lo, hi = lo + int(k) * step, lo + (int(k) + 1) * step
	with _ports_lock:
		for _ in range(200):
			if low > 11000:
				port = random.randrange(lo, hi)
			else:
				port = 0	# an odd range: let the kernel choose
			with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
				try:
					s.bind(("127.0.0.1", port))
				except OSError:
					continue
				port = s.getsockname()[1]
			if port not in _ports_given:
				_ports_given.add(port)
				return port
	raise RuntimeError("no free port")


def port_open(port, host="127.0.0.1"):
	try:
		with socket.create_connection((host, port), timeout=0.5):
			return True
	except OSError:
		return False


try:
	_prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
	_prctl = None


def _die_with_parent():
	# In the child, before exec: SIGKILL it if the test runner dies.
	if _prctl is not None:
		_prctl(1, signal.SIGKILL, 0, 0, 0)	# PR_SET_PDEATHSIG


def spawn(argv, log_path, env=None, cwd=None):
	"""Start a process with stdout and stderr appended to log_path."""
	log = open(log_path, "ab")
	try:
		return subprocess.Popen([str(a) for a in argv], stdout=log,
		    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
		    env=env, cwd=cwd, preexec_fn=_die_with_parent)
	finally:
		log.close()


def stop_process(p, sig=signal.SIGTERM, timeout=15):
	"""Signal p, wait up to timeout, then SIGKILL. Returns the exit code
	(negative: killed by that signal)."""
	if p is None:
		return None
	if p.poll() is None:
		try:
			p.send_signal(sig)
			return p.wait(timeout=timeout)
		except subprocess.TimeoutExpired:
			p.kill()
	return p.wait()


def wait_for(predicate, timeout=WAIT, what=None, check=None):
	"""Poll predicate every 50 ms until it returns something truthy, and
	return that. On timeout raise WaitTimeout naming `what` (and the last
	value seen). `check` is called on every round and may raise (the Env
	uses it to fail at once when the daemon has died)."""
	deadline = time.monotonic() + timeout
	last = None
	while True:
		if check is not None:
			check()
		last = predicate()
		if last:
			return last
		if time.monotonic() >= deadline:
			break
		time.sleep(POLL)
	desc = what or getattr(predicate, "__name__", "a condition")
	raise WaitTimeout("timed out after %gs waiting for %s (last value: %r)" %
	    (timeout, desc, last))


def tail(path, lines=60):
	try:
		with open(path, "rb") as f:
			data = f.read()
	except OSError:
		return ""
	text = data.decode("utf-8", "replace")
	return "\n".join(text.splitlines()[-lines:])


SANITIZER_RE = re.compile(r"^(==\d+==ERROR: \w+Sanitizer|WARNING: ThreadSanitizer"
    r"|SUMMARY: \w+Sanitizer|.*: runtime error: )", re.M)


def sanitizer_report(path):
	"""The first sanitizer report line in a log file, or None."""
	m = SANITIZER_RE.search(tail(path, 100000))
	return m.group(0).strip() if m else None


# ---------------------------------------------------------------------------
# SMTP server

class Mail:
	"""One message the SMTP server accepted."""

	def __init__(self, mail_from, rcpt_tos, raw):
		self.mail_from = mail_from
		self.rcpt_tos = list(rcpt_tos)
		self.raw = raw
		# Parsed with LF line ends, so text parts read naturally.
		self.msg = email.message_from_bytes(raw.replace(b"\r\n", b"\n"),
		    policy=email.policy.default)

	def __getitem__(self, header):
		return self.msg[header]

	@property
	def subject(self):
		return str(self.msg["Subject"] or "")

	def part(self, content_type):
		"""The decoded content of the first part of that type, or None
		(text with LF line ends)."""
		for p in self.msg.walk():
			if p.get_content_type() == content_type:
				c = p.get_content()
				if isinstance(c, str):
					c = c.replace("\r\n", "\n")
				return c
		return None

	@property
	def text(self):
		return self.part("text/plain")

	@property
	def html(self):
		return self.part("text/html")

	@property
	def calendar(self):
		return self.part("text/calendar")

	def __repr__(self):
		return "<Mail to=%r subject=%r>" % (self.rcpt_tos, self.subject)


class SinkHandler:
	"""aiosmtpd handler: records messages, fails when told to."""

	def __init__(self):
		self.lock = threading.Lock()
		self.messages = []	# Mail, in order accepted
		self.attempts = 0	# DATA commands seen
		self.tempfailed = 0	# DATA answered 451
		self.rejected = []	# recipients answered 550
		self.tempfail_every = 0	# 451 every k-th DATA (0: never)
		self.tempfail_until = 0.0	# 451 every DATA until this time
		self.reject = set()	# lower-case addresses: 550 at RCPT

	async def handle_RCPT(self, server, session, envelope, address,
	    rcpt_options):
		with self.lock:
			if address.lower() in self.reject:
				self.rejected.append(address)
				return "550 5.1.1 <%s>: recipient rejected" % address
		envelope.rcpt_tos.append(address)
		return "250 2.1.5 OK"

	async def handle_DATA(self, server, session, envelope):
		with self.lock:
			self.attempts += 1
			n = self.attempts
			if time.monotonic() < self.tempfail_until or \
			    (self.tempfail_every and n % self.tempfail_every == 0):
				self.tempfailed += 1
				return "451 4.3.0 temporary failure, try again"
			raw = envelope.original_content or envelope.content
			if isinstance(raw, str):
				raw = raw.encode("utf-8", "surrogateescape")
			self.messages.append(Mail(envelope.mail_from,
			    envelope.rcpt_tos, raw))
			return "250 2.0.0 OK: queued as %d" % len(self.messages)


class SmtpSink:
	"""An SMTP server on 127.0.0.1 in a thread of this process."""

	def __init__(self, port=None):
		self.port = port or free_port()
		self.handler = SinkHandler()
		self.controller = None
		self.ssl_context = None	# set, then restart: implicit TLS
		self.start()

	def start(self):
		if self.controller is not None:
			return
		# No per-session command limit: one connection carries many
		# messages (aiosmtpd's default would answer 421 after 20).
		deadline = time.monotonic() + 10
		while True:
			c = Controller(self.handler, hostname="127.0.0.1",
			    port=self.port, enable_SMTPUTF8=True,
			    command_call_limit=None, ready_timeout=10,
			    server_hostname="sink.example.net",
			    ssl_context=self.ssl_context)
			try:
				c.start()
				break
			except (OSError, RuntimeError):
				# The old socket may linger briefly after stop().
				if time.monotonic() > deadline:
					raise
				time.sleep(0.1)
		self.controller = c

	def stop(self):
		"""Go down: connections are refused until start()."""
		if self.controller is not None:
			c, self.controller = self.controller, None
			c.stop()

	@property
	def up(self):
		return self.controller is not None

	# What to fail. All take effect at once, for new messages.
	def tempfail_every(self, k):
		"""451 at DATA for every k-th message (0: stop)."""
		with self.handler.lock:
			self.handler.tempfail_every = k

	def tempfail_all(self, seconds):
		"""451 at DATA for everything during the next `seconds` (0: stop)."""
		with self.handler.lock:
			self.handler.tempfail_until = time.monotonic() + seconds

	def reject(self, *addresses):
		"""550 at RCPT for these recipients."""
		with self.handler.lock:
			self.handler.reject.update(a.lower() for a in addresses)

	def unreject(self, *addresses):
		with self.handler.lock:
			if addresses:
				self.handler.reject.difference_update(
				    a.lower() for a in addresses)
			else:
				self.handler.reject.clear()

	@property
	def messages(self):
		with self.handler.lock:
			return list(self.handler.messages)

	@property
	def attempts(self):
		with self.handler.lock:
			return self.handler.attempts

	@property
	def tempfailed(self):
		with self.handler.lock:
			return self.handler.tempfailed

	@property
	def rejected(self):
		with self.handler.lock:
			return list(self.handler.rejected)

	def clear(self):
		with self.handler.lock:
			self.handler.messages.clear()


# ---------------------------------------------------------------------------
# Config

def default_config(redis_port, smtp_port, http_port, prefix):
	"""SPEC section 7, pointed at the test's servers, with short durations.
	Quiet hours are off so that a test's outcome does not depend on the
	time of day it runs; tests of quiet hours set them."""
	return {
		"redis": {
			"host": "127.0.0.1",
			"port": str(redis_port),
			"password_file": "",
			"prefix": prefix,
		},
		"smtp": {
			"host": "127.0.0.1",
			"port": str(smtp_port),
			"tls": "none",
			"ca_file": "",
			"user": "",
			"password_file": "",
			"from": "Forum team <forum@example.org>",
			"workers": "2",
		},
		"delivery": {
			"timezone": "Europe/London",
			"reminders": "7d, 1d, 2h",
			"min_notice": "14d",
			"quiet_hours": "none",
			"retry_min": "1s",
			"retry_max": "2s",
			"max_age": "5d",
			"lease": "5s",
			"feedback_due": "28d",
		},
		"notify": {
			"coordinator": "coordinator@example.org",
			"digest_every": "1d",
		},
		"templates": {
			"dir": str(TEMPLATES_DIR),
		},
		"http": {
			"listen": "127.0.0.1:%d" % http_port,
		},
		"daemon": {
			"shutdown_timeout": "10s",
			"max_record_bytes": "65536",
		},
	}


def merge_config(base, overrides):
	"""overrides: {section: {key: value}}; a value of None deletes the key,
	a section of None deletes the section."""
	for section, keys in (overrides or {}).items():
		if keys is None:
			base.pop(section, None)
			continue
		sec = base.setdefault(section, {})
		for k, v in keys.items():
			if v is None:
				sec.pop(k, None)
			else:
				sec[k] = str(v)
	return base


def write_config(path, cfg):
	lines = ["# written by tests/integration/harness.py"]
	for section, keys in cfg.items():
		lines.append("")
		lines.append("[%s]" % section)
		for k, v in keys.items():
			v = str(v)
			if "\n" in v or "\r" in v:
				raise ValueError("config value with a newline: %s.%s"
				    % (section, k))
			lines.append(("%s = %s" % (k, v)).rstrip())
	Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_config(path):
	"""The file back as {section: {key: value}} (for tests)."""
	cp = configparser.RawConfigParser(inline_comment_prefixes=(";",),
	    comment_prefixes=("#", ";"), strict=True)
	cp.optionxform = str
	with open(path, encoding="utf-8") as f:
		cp.read_file(f)
	return {s: dict(cp.items(s)) for s in cp.sections()}


# ---------------------------------------------------------------------------
# The test environment

_live_envs = set()


@atexit.register
def _close_all():
	for e in list(_live_envs):
		try:
			e.close()
		except Exception:
			pass


def env_options(**kw):
	"""Decorator: options for the Env the runner makes for this test."""
	def deco(fn):
		fn.env_options = kw
		return fn
	return deco


class CliResult(tuple):
	"""(rc, out, err) that also has .rc, .out, .err."""

	def __new__(cls, rc, out, err):
		return super().__new__(cls, (rc, out, err))

	rc = property(lambda self: self[0])
	out = property(lambda self: self[1])
	err = property(lambda self: self[2])

	def __repr__(self):
		return "CliResult(rc=%r, out=%r, err=%r)" % self


class Env:
	"""One test's world. Use as a context manager, or call close()."""

	def __init__(self, name="test", aof=False, config=None, daemon=False,
	    keep=False):
		self.name = name
		self.keep = keep or bool(os.environ.get("HB_KEEP_TMP"))
		self.tmp = Path(tempfile.mkdtemp(prefix="hb-%s-" %
		    re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40]))
		self.build = build_dir()
		self.prefix = "t%s-%s" % (re.sub(r"[^a-z0-9]+", "-",
		    name.lower()).strip("-")[:40], secrets.token_hex(3))
		self.aof = aof
		self.redis_proc = None
		self.daemon = None
		self.daemon_expected = False	# running, and meant to be
		self.daemon_rcs = []		# exit codes of stopped daemons
		self.daemon_log = self.tmp / "hearbackd.log"
		# The clock hearbackd and hearback read (HEARBACK_TEST_CLOCK):
		# an offset in ms that advance() moves, so that timed tests
		# need not sleep.
		self.clock = self.tmp / "clock"
		self.clock_ms = 0
		self.clock.write_text("0\n")
		self.redis_log = self.tmp / "redis.log"
		self.redis_dir = self.tmp / "redis"
		self.redis_dir.mkdir()
		self.smtp = None
		self.r = None
		self.rb = None
		self.closed = False
		_live_envs.add(self)
		try:
			self.redis_port = free_port()
			self.http_port = free_port()
			self.start_redis()
			self.smtp = SmtpSink()
			self.config = default_config(self.redis_port,
			    self.smtp.port, self.http_port, self.prefix)
			merge_config(self.config, config)
			self.conf = self.tmp / "hearback.conf"
			self.write_config()
			if daemon:
				self.start_daemon()
		except BaseException:
			self.close()
			raise

	def __enter__(self):
		return self

	def __exit__(self, et, ev, tb):
		self.close(failed=et is not None)
		return False

	def __repr__(self):
		return "<Env %s in %s>" % (self.name, self.tmp)

	# -- redis -------------------------------------------------------------

	def start_redis(self):
		"""Start (or restart, on the same port and data dir) redis-server."""
		if self.redis_proc is not None and self.redis_proc.poll() is None:
			return
		argv = ["redis-server", "--port", self.redis_port,
		    "--bind", "127.0.0.1", "--dir", self.redis_dir,
		    "--save", "", "--daemonize", "no",
		    "--protected-mode", "no"]
		if self.aof:
			argv += ["--appendonly", "yes", "--appendfsync", "always"]
		else:
			argv += ["--appendonly", "no"]
		self.redis_proc = spawn(argv, self.redis_log)
		self.r = redis.Redis(host="127.0.0.1", port=self.redis_port,
		    decode_responses=True, socket_timeout=10)
		self.rb = redis.Redis(host="127.0.0.1", port=self.redis_port,
		    decode_responses=False, socket_timeout=10)

		def up():
			if self.redis_proc.poll() is not None:
				raise RuntimeError("redis-server exited (%s):\n%s" %
				    (self.redis_proc.returncode,
				    tail(self.redis_log)))
			try:
				return self.r.ping()
			except redis.exceptions.RedisError:
				return False
		wait_for(up, 15, "redis-server on port %d" % self.redis_port)

	def stop_redis(self, sig=signal.SIGTERM):
		"""Stop redis-server (SIGKILL to simulate a crash). With aof=True
		the data survives a restart; without it, SIGTERM saves nothing
		(--save "") so the restarted server is empty."""
		if self.r is not None:
			self.r.close()
			self.rb.close()
		rc = stop_process(self.redis_proc, sig)
		self.redis_proc = None
		return rc

	def restart_redis(self, sig=signal.SIGTERM, down_for=0):
		self.stop_redis(sig)
		if down_for:
			time.sleep(down_for)
		self.start_redis()

	def key(self, name):
		"""'{prefix}:name'"""
		return "{%s}:%s" % (self.prefix, name)

	def xadd(self, record, stream="inbox"):
		"""Queue a record the way any Redis client may: field `record`,
		value a JSON text (dict/list are encoded, str/bytes go as they
		are). Returns the entry id."""
		if isinstance(record, (dict, list)):
			record = json.dumps(record, ensure_ascii=False)
		return self.r.xadd(self.key(stream), {"record": record})

	def stream(self, name):
		"""Entries of {prefix}:name as dicts of str (with 'id' added)."""
		out = []
		for eid, fields in self.rb.xrange(self.key(name), "-", "+"):
			d = {k.decode("utf-8", "replace"):
			    v.decode("utf-8", "replace") for k, v in fields.items()}
			d["id"] = eid.decode()
			out.append(d)
		return out

	def dead_entries(self):
		return self.stream("dead")

	def audit_entries(self):
		return self.stream("audit")

	def inbox_len(self):
		return self.r.xlen(self.key("inbox"))

	def keys(self, pattern="*"):
		"""Every key under this test's prefix."""
		return sorted(k.decode("utf-8", "replace") for k in
		    self.rb.scan_iter(match="{%s}:%s" % (self.prefix, pattern),
		    count=1000))

	# -- smtp --------------------------------------------------------------

	@property
	def mails(self):
		return self.smtp.messages

	def mails_to(self, address):
		a = address.lower()
		return [m for m in self.smtp.messages
		    if any(r.lower() == a for r in m.rcpt_tos)]

	# -- config ------------------------------------------------------------

	def write_config(self, overrides=None):
		"""Apply overrides ({section: {key: value}}) and rewrite the file.
		A running daemon sees it after reload() or restart()."""
		merge_config(self.config, overrides)
		write_config(self.conf, self.config)
		return self.conf

	def write_file(self, name, content, mode=None):
		"""A file in the temp dir: dict/list as JSON, str, or bytes; mode
		(e.g. 0o600 for a password file) if given."""
		p = self.tmp / name
		p.parent.mkdir(parents=True, exist_ok=True)
		if isinstance(content, (dict, list)):
			content = json.dumps(content, ensure_ascii=False, indent=1)
		if isinstance(content, str):
			content = content.encode("utf-8")
		p.write_bytes(content)
		if mode is not None:
			os.chmod(p, mode)
		return p

	# -- daemon ------------------------------------------------------------

	def start_daemon(self, wait=True, extra_args=()):
		"""Start `hearbackd -c conf -f`. With wait, return once its HTTP
		listener accepts connections (or, when [http] listen is empty,
		after a short grace), failing at once if it exits."""
		if self.daemon is not None and self.daemon.poll() is None:
			raise RuntimeError("hearbackd is already running")
		exe = self.build / "hearbackd"
		if not os.access(exe, os.X_OK):
			raise RuntimeError("no daemon binary at %s (run make)" % exe)
		with open(self.daemon_log, "ab") as f:
			f.write(("--- harness: starting hearbackd at %s\n" %
			    time.strftime("%H:%M:%S")).encode())
		env = dict(os.environ)
		env.pop("NOTIFY_SOCKET", None)
		env.pop("WATCHDOG_USEC", None)
		env.pop("WATCHDOG_PID", None)
		env.pop("CREDENTIALS_DIRECTORY", None)
		env["HEARBACK_TEST_CLOCK"] = str(self.clock)
		self.daemon = spawn([exe, "-c", self.conf, "-f", *extra_args],
		    self.daemon_log, env=env, cwd=self.tmp)
		self.daemon_expected = True
		if wait:
			if self.config.get("http", {}).get("listen", ""):
				wait_for(lambda: port_open(self.http_port), 20,
				    "hearbackd's HTTP listener on port %d" %
				    self.http_port, check=self.check_daemon)
			else:
				t = time.monotonic() + 0.5
				while time.monotonic() < t:
					self.check_daemon()
					time.sleep(POLL)
		return self.daemon

	def check_daemon(self):
		"""Raise DaemonDied if the daemon should be running and is not."""
		if self.daemon_expected and self.daemon is not None and \
		    self.daemon.poll() is not None:
			self.daemon_expected = False
			self.daemon_rcs.append(self.daemon.returncode)
			raise DaemonDied("hearbackd exited unexpectedly with %s;"
			    " log tail:\n%s" % (self.daemon.returncode,
			    self.daemon_tail()))

	def send_signal(self, sig):
		"""Send sig to the daemon. TERM, INT, QUIT and KILL mean it is
		expected to exit: wait for that with wait_daemon_exit()."""
		if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT,
		    signal.SIGKILL):
			self.daemon_expected = False
		self.daemon.send_signal(sig)

	def wait_daemon_exit(self, timeout=WAIT):
		"""Wait for the daemon to exit; returns its exit code."""
		self.daemon_expected = False
		try:
			rc = self.daemon.wait(timeout=timeout)
		except subprocess.TimeoutExpired:
			raise WaitTimeout("hearbackd did not exit within %gs" %
			    timeout)
		self.daemon_rcs.append(rc)
		return rc

	def stop_daemon(self, sig=signal.SIGTERM, timeout=WAIT):
		"""Stop the daemon; returns its exit code (negative: killed by
		that signal; SIGKILL after timeout)."""
		if self.daemon is None:
			return None
		self.daemon_expected = False
		if self.daemon.poll() is not None:
			rc = self.daemon.returncode
		else:
			rc = stop_process(self.daemon, sig, timeout)
			self.daemon_rcs.append(rc)
		return rc

	def kill_daemon(self):
		"""A crash: SIGKILL, nothing flushed."""
		return self.stop_daemon(signal.SIGKILL)

	def restart(self, sig=signal.SIGTERM, **kw):
		"""Stop the daemon (sig) and start it again with the same config.
		Returns the old process's exit code."""
		rc = self.stop_daemon(sig)
		self.start_daemon(**kw)
		return rc

	def reload(self):
		"""SIGHUP: the daemon rereads templates and config."""
		self.send_signal(signal.SIGHUP)

	def daemon_tail(self, lines=60):
		return tail(self.daemon_log, lines)

	def now(self):
		"""The time hearbackd sees (seconds since the epoch)."""
		return time.time() + self.clock_ms / 1000.0

	def advance(self, seconds):
		"""Move hearbackd's (and hearback's) clock forward: what falls due
		is sent within about a second (the scheduler looks at least once
		a second), as if the time had passed."""
		self.clock_ms += int(seconds * 1000)
		tmp = self.tmp / "clock.tmp"
		tmp.write_text("%d\n" % self.clock_ms)
		os.replace(tmp, self.clock)
		time.sleep(0.05)	# re-read within 20 ms

	def healthz(self):
		"""(status, body) of GET /healthz; body as JSON when it parses."""
		return self.http_get("/healthz", json_body=True)

	def http_get(self, path, json_body=False, timeout=10):
		url = "http://127.0.0.1:%d%s" % (self.http_port, path)
		try:
			with urllib.request.urlopen(url, timeout=timeout) as resp:
				status, body = resp.status, resp.read()
				headers = resp.headers
		except urllib.error.HTTPError as e:
			status, body, headers = e.code, e.read(), e.headers
		text = body.decode("utf-8", "replace")
		if json_body:
			try:
				return status, json.loads(text)
			except ValueError:
				return status, text
		self.last_http_headers = headers
		return status, text

	# -- CLI ---------------------------------------------------------------

	def cli(self, *args, input=None, timeout=60, config=True):
		"""Run `hearback -c conf ARGS...`; returns CliResult(rc, out, err)
		(unpacks as a tuple). input: str or bytes for standard input."""
		exe = self.build / "hearback"
		argv = [str(exe)]
		if config:
			argv += ["-c", str(self.conf)]
		argv += [str(a) for a in args]
		if isinstance(input, str):
			input = input.encode("utf-8")
		env = dict(os.environ)
		env.pop("CREDENTIALS_DIRECTORY", None)
		env["HEARBACK_TEST_CLOCK"] = str(self.clock)
		p = subprocess.run(argv, input=input if input is not None else b"",
		    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
		    timeout=timeout, cwd=self.tmp, env=env)
		return CliResult(p.returncode, p.stdout.decode("utf-8", "replace"),
		    p.stderr.decode("utf-8", "replace"))

	# -- waiting -----------------------------------------------------------

	def wait_for(self, predicate, timeout=WAIT, what=None):
		"""wait_for() that also fails at once if the daemon has died."""
		return wait_for(predicate, timeout, what, check=self.check_daemon)

	def wait_mails(self, n, to=None, timeout=WAIT):
		"""Wait until at least n messages arrived (to that address)."""
		get = (lambda: self.mails_to(to)) if to else (lambda: self.mails)
		return self.wait_for(lambda: len(get()) >= n and get(), timeout,
		    "%d email(s)%s (have %d)" % (n, " to " + to if to else "",
		    len(get())))

	# -- teardown ----------------------------------------------------------

	def close(self, failed=False):
		"""Stop everything. After a passing test, a daemon that was still
		running must exit 0 on SIGTERM (a sanitizer report or a crash on
		the way out fails the test): raises AssertionError then."""
		if self.closed:
			return
		self.closed = True
		_live_envs.discard(self)
		problem = None
		try:
			if self.daemon is not None:
				was_expected = self.daemon_expected
				if self.daemon.poll() is None:
					rc = self.stop_daemon(signal.SIGTERM, 40)
					if was_expected and rc != 0:
						problem = ("hearbackd exited with %s on "
						    "SIGTERM at the end of the test" % rc)
				elif was_expected:
					problem = ("hearbackd died during the test "
					    "(exit %s)" % self.daemon.returncode)
				report = sanitizer_report(self.daemon_log)
				if problem is None and report:
					problem = "hearbackd: %s" % report
				if problem:
					problem += "; log tail:\n" + self.daemon_tail()
		finally:
			try:
				if self.smtp is not None:
					self.smtp.stop()
			finally:
				if self.r is not None:
					self.r.close()
					self.rb.close()
				stop_process(self.redis_proc, signal.SIGKILL)
				if not self.keep and not failed and problem is None:
					shutil.rmtree(self.tmp, ignore_errors=True)
		if problem and not failed:
			raise AssertionError(problem)

"""
postfix.py: a real Postfix (Debian's, 3.7) as the relay of a test or a
benchmark, run privately.

    with postfix.Postfix(parent=env.tmp, auth=("hb", "secret")) as pf:
        env.write_config(pf.smtp_config())
        ...
        pf.wait_delivered(5)
        assert pf.count(postfix.LOST_AFTER_CONNECT) == 0, pf.log()

Everything lives in one directory of its own: main.cf and master.cf
(generated; nothing in /etc/postfix is read but the install's
postfix-files and dynamicmaps.cf, nothing there is written), the queue, the
data directory, the log (maillog_file, through the postlog service), a
self-signed certificate for localhost and 127.0.0.1, and the Cyrus SASL
config and sasldb. smtpd listens on 127.0.0.1 at a free port only, under a
syslog_name of its own, so several instances run side by side, beside a
system Postfix or none (a host configured with "No configuration" has no
main.cf and no Postfix running: it stays that way).

Mail is accepted, queued, and delivered by the discard transport: nothing
leaves the machine, and each delivery is a "status=sent" line in the log.

How it runs. Postfix's master must start as root (it binds, then runs its
daemons as the postfix user). The queue directories are made as the
install's postfix-files says (what `postfix check` does, in two seconds of
postconf calls); then the master is started as a child of this process
without -w, so it stays in the foreground of its own session: its pid is
ours, stop() is SIGTERM to it (SIGKILL if it lingers), and it gets SIGKILL
if the test runner dies (PR_SET_PDEATHSIG, harness.spawn). Postfix's
daemons exit when their master goes, so nothing is left behind. (`postfix
start` would detach the master, and a runner killed with SIGKILL would
leave it running; `postfix stop` is not needed.) An atexit hook and the
context manager stop it when a test fails or the runner is interrupted.

Readiness is the master holding the socket that listens on the port (from
/proc/net/tcp and /proc/PID/fd), not a connection: a connection made to
check would be logged as "lost connection after CONNECT", which is what
the tests look for. The master tells why it failed only to syslog (absent
on a test host): the error then carries `postfix check` run under
script(1), since Postfix commands write to stderr only on a terminal.
Postfix reads a config file written less than a second ago again and
again until it is older: the generated files are dated in the past.

Only the standard library and the openssl and saslpasswd2 commands.
"""

import atexit
import grp
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import harness

POSTFIX = "/usr/sbin/postfix"
MASTER = "/usr/lib/postfix/sbin/master"
SASLPASSWD2 = "/usr/sbin/saslpasswd2"
POSTFIX_FILES = "/etc/postfix/postfix-files"	# in meta_directory

HOSTNAME = "relay.test"		# myhostname, and the SASL realm

# Log patterns (re.M), for count() and lines().
CONNECT = r"/smtpd\[\d+\]: connect from "
DISCONNECT = r"/smtpd\[\d+\]: disconnect from "
LOST_AFTER_CONNECT = r"lost connection after CONNECT from "
IMPROPER_PIPELINING = r"improper command pipelining after "
TLS_ESTABLISHED = r"TLS connection established from [^:]*: (TLSv[\d.]+) "
AUTH_FAILED = r"SASL \S+ authentication failed"
RELAY_DENIED = r"Relay access denied"
DELIVERED = r"/discard\[\d+\]: \w+: to=<([^>]*)>.* status=sent "
FATAL_OR_PANIC = r"/\w+\[\d+\]: (fatal|panic): "

_live = set()


@atexit.register
def _stop_all():
	for pf in list(_live):
		try:
			pf.stop()
		except Exception:
			pass


class PostfixError(RuntimeError):
	pass


def _listener(port):
	"""The inode of the socket listening on 127.0.0.1:port (from
	/proc/net/tcp, without connecting), or None."""
	want = "0100007F:%04X" % port
	try:
		with open("/proc/net/tcp") as f:
			for line in f:
				p = line.split()
				if len(p) > 9 and p[1] == want and p[3] == "0A":
					return p[9]
	except OSError:
		pass
	return None


def _holds(pid, inode):
	"""Whether process pid has the socket with that inode open."""
	link = "socket:[%s]" % inode
	try:
		for fd in os.listdir("/proc/%d/fd" % pid):
			try:
				if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == link:
					return True
			except OSError:
				pass
	except OSError:
		pass
	return False


class Postfix:
	"""One private Postfix. Started at once (start=False to start it
	later); a context manager that stops it.

	tls: offer STARTTLS (smtpd_tls_security_level = may) with a
	    self-signed certificate for localhost and 127.0.0.1 (self.cert,
	    also the CA file a client needs). False: plain SMTP only.
	tls_max: "TLSv1.2" caps the protocol (default: up to TLS 1.3).
	auth: (user, password): Cyrus SASL (PLAIN, LOGIN) from a private
	    sasldb, offered only after STARTTLS when tls is on, and relaying
	    allowed to authenticated clients only (mynetworks is empty).
	    Without auth, 127.0.0.0/8 may relay.
	forbid_unauth_pipelining: smtpd_forbid_unauth_pipelining = yes (the
	    default from Postfix 3.9): a client that sends before the
	    server's reply, where that is not allowed, is disconnected.
	main: more main.cf settings {name: value}, last (they win).
	parent: make the directory inside this one (kept or removed with
	    it; made traversable by the postfix user). Default: a new
	    temporary directory, removed by close() unless the test failed
	    or HB_KEEP_TMP is set.
	"""

	def __init__(self, tls=True, tls_max=None, auth=None,
	    forbid_unauth_pipelining=False, main=None, parent=None,
	    name="relay", start=True):
		if os.geteuid() != 0:
			raise PostfixError("a private Postfix needs root (its "
			    "master binds and then runs its daemons as the "
			    "postfix user); run the tests as root")
		for exe in (POSTFIX, MASTER):
			if not os.access(exe, os.X_OK):
				raise PostfixError("%s not found: install the "
				    "Debian package postfix (./hb deps)" % exe)
		self.tls = tls
		self.tls_max = tls_max
		self.user, self.password = auth if auth else (None, None)
		self.forbid_unauth_pipelining = forbid_unauth_pipelining
		self.main_extra = dict(main or {})
		self.token = secrets.token_hex(3)
		self.syslog_name = "hb-pf-%s" % self.token
		self.own_dir = parent is None
		if parent is None:
			self.dir = Path(tempfile.mkdtemp(prefix="hb-postfix-"))
		else:
			parent = Path(parent)
			# The postfix user opens files under the data directory
			# by their full path: it must traverse every parent.
			os.chmod(parent, os.stat(parent).st_mode | 0o111)
			self.dir = parent / ("postfix-%s-%s" % (name,
			    self.token))
			self.dir.mkdir()
		os.chmod(self.dir, 0o755)
		self.conf_dir = self.dir / "conf"
		self.queue_dir = self.dir / "queue"
		self.data_dir = self.dir / "data"
		# Debian's smtpd looks in config_directory/sasl whatever
		# cyrus_sasl_config_path says: the two agree.
		self.sasl_dir = self.conf_dir / "sasl"
		self.maillog = self.dir / "maillog"
		self.output = self.dir / "master.out"	# the master's stdout/err
		self.cert = self.dir / "tls" / "cert.pem"
		self.key = self.dir / "tls" / "key.pem"
		self.host = "127.0.0.1"
		self.port = None
		self.proc = None
		self.closed = False
		_live.add(self)
		try:
			self._prepare()
			if start:
				self.start()
		except BaseException:
			self.close(failed=True)
			raise

	def __enter__(self):
		return self

	def __exit__(self, et, ev, tb):
		self.close(failed=et is not None)
		return False

	def __repr__(self):
		return "<Postfix %s:%s in %s>" % (self.host, self.port, self.dir)

	# -- set-up ------------------------------------------------------------

	def _prepare(self):
		pw = pwd.getpwnam("postfix")
		for d in (self.conf_dir, self.queue_dir, self.data_dir):
			d.mkdir()
		os.chmod(self.conf_dir, 0o755)
		self._queue_dirs()
		if self.tls:
			self.cert.parent.mkdir()
			self._make_cert()
		if self.user is not None:
			self.sasl_dir.mkdir()
			self._make_sasldb(pw)

	def _make_cert(self):
		r = subprocess.run(["openssl", "req", "-x509", "-newkey",
		    "rsa:2048", "-nodes", "-keyout", str(self.key), "-out",
		    str(self.cert), "-days", "2", "-subj", "/CN=localhost",
		    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
		    capture_output=True, text=True)
		if r.returncode != 0:
			raise PostfixError("openssl req failed: %s" % r.stderr)
		os.chmod(self.key, 0o600)

	def _make_sasldb(self, pw):
		db = self.sasl_dir / "sasldb2"
		r = subprocess.run([SASLPASSWD2, "-f", str(db), "-p", "-c",
		    "-u", HOSTNAME, self.user], input=self.password,
		    capture_output=True, text=True)
		if r.returncode != 0:
			raise PostfixError("saslpasswd2 failed (install "
			    "sasl2-bin and libsasl2-modules): %s" % r.stderr)
		# smtpd reads it as the postfix user (group postfix); `postfix
		# check` wants files in the config directory owned by root.
		os.chown(db, 0, pw.pw_gid)
		os.chmod(db, 0o640)
		(self.sasl_dir / "smtpd.conf").write_text(
		    "pwcheck_method: auxprop\n"
		    "auxprop_plugin: sasldb\n"
		    "sasldb_path: %s\n"
		    "mech_list: PLAIN LOGIN\n" % db)

	def _main_cf(self):
		m = {
			"compatibility_level": "3.6",
			"queue_directory": self.queue_dir,
			"data_directory": self.data_dir,
			"syslog_name": self.syslog_name,
			"maillog_file": self.maillog,
			"maillog_file_prefixes": self.dir,
			"myhostname": HOSTNAME,
			"mydestination": "",
			"relay_domains": "",
			"local_recipient_maps": "",
			"alias_maps": "",
			"alias_database": "",
			"inet_interfaces": "loopback-only",
			"inet_protocols": "ipv4",
			# Everything is accepted for relaying, then discarded.
			"default_transport": "discard",
			"relay_transport": "discard",
			"local_transport": "discard",
			# No DNS: a minimal host may have no resolver, and a
			# reverse lookup per connection would cost seconds.
			"smtpd_peername_lookup": "no",
			"smtpd_relay_restrictions": "permit_mynetworks, "
			    "permit_sasl_authenticated, "
			    "reject_unauth_destination",
			"smtpd_forbid_unauth_pipelining":
			    "yes" if self.forbid_unauth_pipelining else "no",
			"biff": "no",
		}
		if self.user is not None:
			m["mynetworks"] = ""	# only SASL clients may relay
		else:
			m["mynetworks"] = "127.0.0.0/8"
		if self.tls:
			m.update({
				"smtpd_tls_security_level": "may",
				"smtpd_tls_cert_file": self.cert,
				"smtpd_tls_key_file": self.key,
				"smtpd_tls_loglevel": "1",
			})
			if self.tls_max:
				p = ">=TLSv1, <=%s" % self.tls_max
				m["smtpd_tls_protocols"] = p
				m["smtpd_tls_mandatory_protocols"] = p
		else:
			m["smtpd_tls_security_level"] = "none"
		if self.user is not None:
			m.update({
				"smtpd_sasl_auth_enable": "yes",
				"smtpd_sasl_type": "cyrus",
				"smtpd_sasl_path": "smtpd",
				"cyrus_sasl_config_path": self.sasl_dir,
				"smtpd_sasl_local_domain": HOSTNAME,
				"smtpd_sasl_security_options": "noanonymous",
				"broken_sasl_auth_clients": "no",
				# The password never crosses in clear text.
				"smtpd_tls_auth_only":
				    "yes" if self.tls else "no",
			})
		m.update(self.main_extra)
		return "".join("%s = %s\n" % (k, v) for k, v in m.items())

	def _master_cf(self):
		# Debian's master.cf, shortened: no chroot anywhere (the private
		# queue directory has no copy of /etc or the libraries), smtpd
		# on our port only, and postlog for maillog_file.
		rows = [
		    ("%s:%d" % (self.host, self.port), "inet", "n", "-", "n",
		     "-", "-", "smtpd"),
		    ("pickup", "unix", "n", "-", "n", "60", "1", "pickup"),
		    ("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
		    ("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
		    ("tlsmgr", "unix", "-", "-", "n", "1000?", "1", "tlsmgr"),
		    ("rewrite", "unix", "-", "-", "n", "-", "-",
		     "trivial-rewrite"),
		    ("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
		    ("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
		    ("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
		    ("verify", "unix", "-", "-", "n", "-", "1", "verify"),
		    ("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
		    ("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
		    ("showq", "unix", "n", "-", "n", "-", "-", "showq"),
		    ("error", "unix", "-", "-", "n", "-", "-", "error"),
		    ("retry", "unix", "-", "-", "n", "-", "-", "error"),
		    ("discard", "unix", "-", "-", "n", "-", "-", "discard"),
		    ("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
		    ("scache", "unix", "-", "-", "n", "-", "1", "scache"),
		    ("postlog", "unix-dgram", "n", "-", "n", "-", "1",
		     "postlogd"),
		]
		return "".join("%-18s %-10s %-3s %-3s %-3s %-5s %-3s %s\n" %
		    r for r in rows)

	# -- start and stop ----------------------------------------------------

	def start(self, timeout=20):
		"""Write the config for a free port, start the master, and wait
		until smtpd's port listens. A port taken meanwhile: another."""
		if self.proc is not None and self.proc.poll() is None:
			return
		last = None
		for _ in range(3):
			self.port = harness.free_port()
			self._write_conf()
			self.proc = harness.spawn([MASTER, "-c", self.conf_dir],
			    self.output)
			try:
				harness.wait_for(lambda: self._up(), timeout,
				    "postfix master listening on %s:%d" %
				    (self.host, self.port))
				return
			except PostfixError as e:
				last = e
				if "in use" not in str(e):
					raise
		raise last

	def _write_conf(self):
		# Postfix reads a config file again and again (300 ms apart)
		# until it is at least a second old, in case an editor is still
		# writing it: dated in the past, it is read at once.
		then = time.time() - 10
		for name, text in (("main.cf", self._main_cf()),
		    ("master.cf", self._master_cf())):
			p = self.conf_dir / name
			p.write_text(text)
			os.utime(p, (then, then))

	def _queue_dirs(self):
		"""What `postfix check` would create (post-install
		create-missing, from the install's postfix-files), without its
		two seconds of postconf calls."""
		try:
			spec = Path(POSTFIX_FILES).read_text()
		except OSError:
			r = subprocess.run([POSTFIX, "-c", str(self.conf_dir),
			    "check"], capture_output=True, text=True,
			    stdin=subprocess.DEVNULL)
			if r.returncode != 0:
				raise PostfixError("postfix check failed: %s" %
				    (r.stdout + r.stderr))
			return
		ids = {"root": 0, "-": 0, "$mail_owner": pwd.getpwnam(
		    "postfix").pw_uid, "$setgid_group": grp.getgrnam(
		    "postdrop").gr_gid}
		base = {"$queue_directory": self.queue_dir,
		    "$data_directory": self.data_dir}
		for line in spec.splitlines():
			f = line.split(":")
			if len(f) < 5 or f[1] != "d":
				continue
			top, _, rest = f[0].partition("/")
			if top not in base:
				continue
			d = base[top] / rest if rest else base[top]
			d.mkdir(exist_ok=True)
			os.chown(d, ids.get(f[2], 0), ids.get(f[3], 0))
			os.chmod(d, int(f[4], 8))

	def _up(self):
		"""Whether the master listens on our port; raises if it exited
		(PostfixError saying "in use" when another process has the
		port: start() then tries another)."""
		if self.proc.poll() is not None:
			rc = self.proc.returncode
			self.proc = None
			if _listener(self.port) is not None:
				raise PostfixError("port %d in use by another "
				    "process" % self.port)
			raise PostfixError("postfix master exited (%s); postfix "
			    "check: %s; log tail:\n%s" % (rc, self._check(),
			    self.log_tail()))
		if not os.path.exists("/proc/net/tcp"):
			# No /proc (a bare chroot): the master logs this once
			# its listeners are bound.
			return "daemon started" in self.log()
		inode = _listener(self.port)
		# Someone else's listener: the master's bind fails, and it
		# exits (seen on a later round).
		return inode is not None and _holds(self.proc.pid, inode)

	def _check(self):
		"""What `postfix check` says about the config. Postfix commands
		write to stderr only when it is a terminal (else to syslog,
		which a test host may not have): run it under script(1)."""
		cmd = [POSTFIX, "-c", str(self.conf_dir), "check"]
		if shutil.which("script"):
			cmd = ["script", "-qec", " ".join(shlex.quote(a)
			    for a in cmd), "/dev/null"]
		try:
			r = subprocess.run(cmd, capture_output=True, text=True,
			    stdin=subprocess.DEVNULL, timeout=30)
		except (OSError, subprocess.TimeoutExpired) as e:
			return "could not run: %s" % e
		out = (r.stdout + r.stderr).replace("\r", "").strip()
		return out or ("ok" if r.returncode == 0 else "exit %d" %
		    r.returncode)

	def stop(self, timeout=10):
		"""Stop the master (and with it every Postfix daemon of this
		instance). Returns its exit code."""
		p, self.proc = self.proc, None
		if p is None:
			return None
		rc = harness.stop_process(p, signal.SIGTERM, timeout)
		# Its daemons notice at once; wait until the port is free.
		deadline = time.monotonic() + timeout
		while self.port and _listener(self.port) is not None and \
		    time.monotonic() < deadline:
			time.sleep(0.05)
		return rc

	def close(self, failed=False):
		if self.closed:
			return
		self.closed = True
		_live.discard(self)
		self.stop()
		keep = failed or bool(os.environ.get("HB_KEEP_TMP"))
		if self.own_dir and not keep:
			shutil.rmtree(self.dir, ignore_errors=True)

	@property
	def running(self):
		return self.proc is not None and self.proc.poll() is None

	# -- what hearbackd needs ----------------------------------------------

	def smtp_config(self, password_file=None):
		"""[smtp] settings for hearbackd pointing here (host 127.0.0.1:
		a minimal host may not resolve localhost). With auth, pass the
		path of a file holding the password."""
		c = {"host": self.host, "port": self.port,
		    "tls": "starttls" if self.tls else "none",
		    "ca_file": str(self.cert) if self.tls else ""}
		if self.user is not None:
			c["user"] = self.user
			c["password_file"] = str(password_file or "")
		return {"smtp": c}

	# -- the log -----------------------------------------------------------

	def log(self):
		"""The whole maillog as text ('' before anything is logged)."""
		try:
			return self.maillog.read_text(encoding="utf-8",
			    errors="replace")
		except FileNotFoundError:
			return ""

	def log_tail(self, lines=40):
		return "\n".join(self.log().splitlines()[-lines:])

	def lines(self, pattern):
		"""The log lines that match pattern (a regex)."""
		rx = re.compile(pattern)
		return [l for l in self.log().splitlines() if rx.search(l)]

	def count(self, pattern):
		return len(self.lines(pattern))

	def delivered(self):
		"""Recipient addresses of every message discarded as delivered,
		in log order (an address twice: delivered twice)."""
		return re.findall(DELIVERED, self.log(), re.M)

	def accepted(self):
		"""Messages accepted into the queue (qmgr's "from=" lines)."""
		return len(re.findall(r"/qmgr\[\d+\]: \w+: from=<", self.log()))

	def tls_protocols(self):
		"""The protocol of every TLS session, in log order."""
		return re.findall(TLS_ESTABLISHED, self.log())

	def sessions(self):
		"""One dict per finished smtpd session, from its disconnect
		line: {'ehlo': '2', 'starttls': '1', 'auth': '0/1', ...}."""
		out = []
		for l in self.lines(DISCONNECT):
			tail = l.split("]: disconnect from ", 1)[1]
			out.append(dict(kv.split("=", 1) for kv in
			    tail.split()[1:] if "=" in kv))
		return out

	def auth_attempts(self):
		"""AUTH commands in finished sessions (from the disconnect
		lines' "auth=ok/tried"), or the failures logged so far, whichever
		is larger (a session still open has no disconnect line yet)."""
		tried = 0
		for s in self.sessions():
			a = s.get("auth")
			if a:
				tried += int(a.split("/")[-1])
		return max(tried, self.count(AUTH_FAILED))

	def wait_delivered(self, n, timeout=harness.WAIT, check=None):
		"""Wait until at least n messages were delivered; returns the
		recipients. check: called every round and may raise (pass
		env.check_daemon)."""
		def enough():
			d = self.delivered()
			return d if len(d) >= n else None
		try:
			return harness.wait_for(enough, timeout, None, check)
		except harness.WaitTimeout:
			pass
		raise harness.WaitTimeout("timed out after %gs waiting for %d "
		    "deliveries through Postfix (have %d); Postfix log tail:\n%s"
		    % (timeout, n, len(self.delivered()), self.log_tail()))

"""
test_ops.py: what an operator does and sees, with real parts.

- `make install` honours DESTDIR, PREFIX, SYSCONFDIR (and UNITDIR), leaves
  the operator's config and edited templates alone on a reinstall, and
  `make uninstall` keeps them;
- the installed unit passes `systemd-analyze verify` and scores 1.5 or
  less in `systemd-analyze security --offline=true` (no systemd running);
- the installed daemon, run as a fresh unprivileged uid (setpriv, no
  groups) as DynamicUser= would, reads the 0644 config, its secrets as
  systemd credentials (a Redis password, an SMTP login), the shipped
  templates with one edited in /etc/.../templates, and sends; a config it
  cannot read is exit 78, which the unit does not restart;
- the ACLs documented in hearback.conf(5), taken from the page itself,
  against a real redis-server: the daemon's works; a coordinator's
  `hearback enqueue` and `status` work with their own login from
  ~/.config/hearback/hearback.conf (over a Unix socket too), without the
  daemon's SMTP password, and that login cannot flush or delete;
- health tells the truth about Redis: a wrong password (WRONGPASS), none
  (NOAUTH), a user without permission (NOPERM), an ACL taken away while
  running, and no Redis at all: /healthz 503 with the reason and
  hearback_redis_up 0 within 15 s, no READY=1 but STATUS= saying why, the
  daemon running on and coming back by itself once it is mended;
  `hearback` exits 69 with the reason and prints no numbers;
- foreground logs carry RFC 3339 times; not when stderr is the journal.

Each test starts its own redis-server (with --requirepass) and SMTP sink
(tests/smtp_sink.py, with AUTH) on free loopback ports.
"""

import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import redis

import harness

REPO = harness.REPO
PY = "/usr/bin/python3"
MAN_CONF = REPO / "man" / "hearback.conf.5"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) ")
HEALTH_WAIT = 15	# SPEC section 6: within 15 s


# ---------------------------------------------------------------------------
# Parts

class Tmp:
	"""A temporary directory that others may traverse (a fresh uid must
	reach the installed tree), removed unless the test failed."""

	def __init__(self, name):
		self.path = Path(tempfile.mkdtemp(prefix="hb-ops-%s-" % name))
		os.chmod(self.path, 0o755)
		self.procs = []

	def __truediv__(self, other):
		return self.path / other

	def spawn(self, argv, log, **kw):
		p = harness.spawn(argv, self.path / log, **kw)
		self.procs.append(p)
		return p

	def close(self, failed):
		for p in reversed(self.procs):
			harness.stop_process(p, signal.SIGTERM, 20)
		if not failed and not os.environ.get("HB_KEEP_TMP"):
			shutil.rmtree(self.path, ignore_errors=True)


def run_with(name, fn):
	tmp = Tmp(name)
	failed = True
	try:
		fn(tmp)
		failed = False
	finally:
		tmp.close(failed)


class RedisServer:
	"""redis-server on a free port (and a Unix socket), with a password
	for the default user; `admin` is a client logged in with it."""

	def __init__(self, tmp, password="admin-secret"):
		self.port = harness.free_port()
		self.socket = str(tmp / ("redis-%d.sock" % self.port))
		self.password = password
		d = tmp / ("redis-%d" % self.port)
		d.mkdir()
		self.proc = tmp.spawn(["redis-server", "--port", self.port,
		    "--bind", "127.0.0.1", "--dir", d, "--save", "",
		    "--appendonly", "no", "--daemonize", "no",
		    "--unixsocket", self.socket, "--unixsocketperm", "777",
		    "--requirepass", password], "redis-%d.log" % self.port)
		self.admin = redis.Redis(host="127.0.0.1", port=self.port,
		    password=password, decode_responses=True, socket_timeout=10)

		def up():
			if self.proc.poll() is not None:
				raise AssertionError("redis-server exited: %s" %
				    harness.tail(tmp / ("redis-%d.log" % self.port)))
			try:
				return self.admin.ping()
			except redis.exceptions.RedisError:
				return False
		harness.wait_for(up, 15, "redis-server on %d" % self.port)

	def acl(self, line):
		"""One documented `ACL SETUSER ...` line, as redis-cli would send
		it (split on spaces)."""
		return self.admin.execute_command(*line.split())

	def client(self, user, password):
		return redis.Redis(host="127.0.0.1", port=self.port, username=user,
		    password=password, decode_responses=True, socket_timeout=10)

	def xadd(self, record, prefix="hearback"):
		return self.admin.xadd("{%s}:inbox" % prefix,
		    {"record": json.dumps(record)})


class Sink:
	"""tests/smtp_sink.py (with AUTH, unless auth is None), writing each
	email to a directory."""

	def __init__(self, tmp, auth="forum:smtp-secret"):
		self.port = harness.free_port()
		self.dir = tmp / ("mail-%d" % self.port)
		self.dir.mkdir()
		log = "sink-%d.log" % self.port
		tmp.spawn([PY, REPO / "tests" / "smtp_sink.py", "--port", self.port,
		    "--dir", self.dir] + (["--auth", auth] if auth else []), log)
		harness.wait_for(lambda: "ready" in harness.tail(tmp / log),
		    15, "the SMTP sink")

	def subjects(self):
		out = []
		for f in sorted(self.dir.glob("*.eml")):
			m = re.search(rb"^Subject: (.*)$", f.read_bytes(), re.M)
			out.append(m.group(1).decode().strip() if m else "")
		return out


class Notify:
	"""A NOTIFY_SOCKET, as systemd gives a Type=notify service."""

	def __init__(self, tmp):
		self.path = str(tmp / "notify.sock")
		self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		self.sock.bind(self.path)
		os.chmod(self.path, 0o777)
		self.sock.setblocking(False)
		self.messages = []

	def drain(self):
		while True:
			try:
				self.messages.append(self.sock.recv(4096).decode())
			except BlockingIOError:
				return self.messages

	def saw(self, word):
		return any(word in m.split("\n") for m in self.drain())

	def last_status(self):
		st = [line for m in self.drain() for line in m.split("\n")
		    if line.startswith("STATUS=")]
		return st[-1] if st else ""


def http_get(port, path):
	try:
		with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
		    timeout=5) as r:
			return r.status, r.read().decode()
	except urllib.error.HTTPError as e:
		return e.code, e.read().decode()
	except OSError:
		return None, ""


def healthz(port):
	status, body = http_get(port, "/healthz")
	try:
		return status, json.loads(body)
	except ValueError:
		return status, {}


def redis_up_metric(port):
	_, body = http_get(port, "/metrics")
	m = re.search(r"^hearback_redis_up (\d+)$", body, re.M)
	return int(m.group(1)) if m else None


def write_conf(path, sections):
	lines = []
	for sec, keys in sections.items():
		lines.append("[%s]" % sec)
		lines += ["%s = %s" % (k, v) for k, v in keys.items()]
		lines.append("")
	Path(path).write_text("\n".join(lines))


def conf(redis_port, smtp_port, http_port, **redis_keys):
	"""A whole config for a test's Redis and sink."""
	r = {"host": "127.0.0.1", "port": redis_port, "password_file": ""}
	r.update(redis_keys)
	return {
		"redis": r,
		"smtp": {"host": "127.0.0.1", "port": smtp_port, "tls": "none",
		    "user": "", "password_file": "", "workers": "1"},
		"delivery": {"quiet_hours": "none", "retry_min": "1s",
		    "retry_max": "2s", "lease": "5s"},
		"templates": {"dir": str(harness.TEMPLATES_DIR)},
		"http": {"listen": "127.0.0.1:%d" % http_port},
		"daemon": {"shutdown_timeout": "5s"},
	}


def set_keys(path, changes):
	"""Edit an INI file in place as an operator would: KEY in [SECTION]
	set to a value (added to the section when absent)."""
	out, sec, done = [], None, set()
	lines = Path(path).read_text().splitlines()

	def flush(s):
		for k, v in changes.get(s, {}).items():
			if (s, k) not in done:
				out.append("%s = %s" % (k, v))
				done.add((s, k))
	for line in lines:
		m = re.match(r"^\[(\w+)\]", line)
		if m:
			flush(sec)
			sec = m.group(1)
		else:
			m = re.match(r"^(\w+)\s*=", line)
			if m and m.group(1) in changes.get(sec, {}):
				k = m.group(1)
				out.append("%s = %s" % (k, changes[sec][k]))
				done.add((sec, k))
				continue
		out.append(line)
	flush(sec)
	Path(path).write_text("\n".join(out) + "\n")


def start_daemon(tmp, exe, conf_path, log, env_extra=None, as_uid=None):
	env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET",
	    "WATCHDOG_USEC", "WATCHDOG_PID", "CREDENTIALS_DIRECTORY",
	    "INVOCATION_ID", "JOURNAL_STREAM")}
	env.update(env_extra or {})
	argv = [exe, "-c", conf_path, "-f"]
	if as_uid is not None:
		argv = ["setpriv", "--reuid", as_uid, "--regid", as_uid,
		    "--clear-groups", "--", *argv]
	return tmp.spawn(argv, log, env=env, cwd=tmp.path)


def cli(conf_path, *args, home, timeout=30):
	env = {k: v for k, v in os.environ.items() if k not in (
	    "CREDENTIALS_DIRECTORY", "XDG_CONFIG_HOME")}
	env["HOME"] = str(home)
	p = subprocess.run([str(harness.build_dir() / "hearback"), "-c",
	    str(conf_path), *[str(a) for a in args]], stdout=subprocess.PIPE,
	    stderr=subprocess.PIPE, timeout=timeout, env=env)
	return harness.CliResult(p.returncode, p.stdout.decode(),
	    p.stderr.decode())


def make(*args):
	"""make ARGS with the binaries under test: HB_BUILD's build, made the
	way it was made (a sanitizer build through SAN=, so that nothing in it
	is rebuilt without its flags)."""
	b = harness.build_dir()
	try:
		b = b.relative_to(REPO)
	except ValueError:
		pass
	how = {"build-asan": "SAN=asan", "build-tsan": "SAN=tsan"}.get(str(b),
	    "B=%s" % b)
	p = subprocess.run(["make", "-s", "--no-print-directory", how, *args],
	    cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
	    timeout=900)
	assert p.returncode == 0, "make %s failed:\n%s" % (" ".join(args),
	    p.stdout.decode())
	return p.stdout.decode()


def documented_acl(user, prefix="hearback"):
	"""The `ACL SETUSER USER ...` line of hearback.conf(5), for a test
	password PASSWORD-OF-USER, on keys under prefix."""
	text = MAN_CONF.read_text()
	m = re.search(r"^ACL SETUSER %s .*$" % re.escape(user), text, re.M)
	assert m, "hearback.conf(5) documents no ACL for %s" % user
	line = m.group(0).replace("\\e", "\\")
	line = re.sub(r">[A-Z-]*PASSWORD", ">password-of-" + user, line)
	return line.replace("{hearback}", "{%s}" % prefix)


def fresh_uid():
	"""A uid no account and no process has: what DynamicUser= gives."""
	used = {int(d) for d in os.listdir("/proc") if d.isdigit() and
	    os.path.exists("/proc/" + d)}
	owners = set()
	for d in used:
		try:
			owners.add(os.stat("/proc/%d" % d).st_uid)
		except OSError:
			pass
	for _ in range(1000):
		uid = random.randrange(61184, 65519)	# systemd's dynamic range
		try:
			pwd.getpwuid(uid)
			continue
		except KeyError:
			pass
		if uid not in owners:
			return uid
	raise AssertionError("no free uid")


COLLAB = {"type": "collaborator", "id": "c-ops", "name": "Olu Park",
    "email": "olu@example.org", "consent": True}


def announcement(aid, subject):
	return {"type": "announcement", "id": aid, "subject": subject,
	    "body": "A test from test_ops.", "to": {"collaborators": ["c-ops"]}}


# ---------------------------------------------------------------------------
# make install

def test_install_honours_destdir_prefix_sysconfdir_and_keeps_edits():
	def body(tmp):
		d = tmp / "root"
		make("install", "DESTDIR=%s" % d)
		conf_path = d / "etc/hearback/hearback.conf"
		unit = d / "usr/local/lib/systemd/system/hearback.service"
		shipped = d / "usr/local/share/hearback/templates"
		for p in ("usr/local/sbin/hearbackd", "usr/local/bin/hearback"):
			assert os.access(d / p, os.X_OK), p
		assert unit.is_file(), "unit not under $(PREFIX)/lib/systemd/system"
		assert not (d / "lib").exists(), "something went to /lib"
		assert stat.S_IMODE(conf_path.stat().st_mode) == 0o644
		text = conf_path.read_text()
		assert "\ndir = /etc/hearback/templates\n" in text
		assert "\nshipped = /usr/local/share/hearback/templates\n" in text
		assert (shipped / "invitation.standard.html").is_file()
		assert (d / "etc/hearback/templates").is_dir()
		assert list((d / "etc/hearback/templates").iterdir()) == [], \
		    "install wrote into the operator's templates"
		u = unit.read_text()
		assert "\nExecStart=/usr/local/sbin/hearbackd -c " \
		    "/etc/hearback/hearback.conf\n" in u
		assert "\nRestartPreventExitStatus=78\n" in u
		assert "\nDynamicUser=yes\n" in u
		assert "@" not in "".join(l for l in u.splitlines()
		    if l.startswith("Exec")), "a placeholder left in the unit"

		# The operator edits the config and one template; a reinstall
		# (a new version) keeps both and replaces the shipped set.
		set_keys(conf_path, {"notify": {"coordinator": "ops@example.org"}})
		edited = d / "etc/hearback/templates/announcement.standard.subject"
		edited.write_text("EDITED {{announcement.subject}}\n")
		(shipped / "stale.standard.subject").write_text("old\n")
		make("install", "DESTDIR=%s" % d)
		assert "coordinator = ops@example.org" in conf_path.read_text()
		assert edited.read_text() == "EDITED {{announcement.subject}}\n"
		assert not (shipped / "stale.standard.subject").exists(), \
		    "the shipped templates were not replaced"

		# Other places, all honoured.
		d2 = tmp / "root2"
		make("install", "DESTDIR=%s" % d2, "PREFIX=/opt/hb",
		    "SYSCONFDIR=/opt/hb/etc")
		u = (d2 / "opt/hb/lib/systemd/system/hearback.service").read_text()
		assert "\nExecStart=/opt/hb/sbin/hearbackd -c " \
		    "/opt/hb/etc/hearback/hearback.conf\n" in u
		c = (d2 / "opt/hb/etc/hearback/hearback.conf").read_text()
		assert "\ndir = /opt/hb/etc/hearback/templates\n" in c
		assert "\nshipped = /opt/hb/share/hearback/templates\n" in c
		assert (d2 / "opt/hb/share/man/man8/hearbackd.8").is_file()
		make("install", "DESTDIR=%s" % d2, "UNITDIR=/usr/lib/systemd/system",
		    "PREFIX=/opt/hb", "SYSCONFDIR=/opt/hb/etc")
		assert (d2 / "usr/lib/systemd/system/hearback.service").is_file()

		# uninstall: what install put there, never the operator's.
		make("uninstall", "DESTDIR=%s" % d)
		assert not (d / "usr/local/sbin/hearbackd").exists()
		assert not shipped.exists()
		assert not unit.exists()
		assert conf_path.is_file() and edited.is_file()
	run_with("install", body)


def test_installed_unit_verifies_and_is_hardened():
	def body(tmp):
		# No DESTDIR: the unit's ExecStart names a program that exists,
		# as verify wants; no systemd needs to be running.
		p = tmp / "inst"
		make("install", "PREFIX=%s/usr" % p, "SYSCONFDIR=%s/etc" % p)
		unit = p / "usr/lib/systemd/system/hearback.service"

		def verify(path):
			r = subprocess.run(["systemd-analyze", "verify", "--man=no",
			    str(path)], stdout=subprocess.PIPE,
			    stderr=subprocess.STDOUT, timeout=60)
			return r.returncode, r.stdout.decode()

		def exposure(path):
			r = subprocess.run(["systemd-analyze", "security",
			    "--offline=true", "--no-pager", str(path)],
			    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
			    timeout=60)
			m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)",
			    r.stdout.decode())
			assert m, r.stdout.decode()[-2000:]
			return float(m.group(1))

		rc, out = verify(unit)
		assert rc == 0 and out.strip() == "", "verify: %s" % out
		score = exposure(unit)
		assert score <= 1.5, "exposure %.1f > 1.5" % score

		# Both can fail: a unit with a typo and a program that is not
		# there; the same unit without its sandbox.
		bad = tmp / "bad" / "hearback.service"
		bad.parent.mkdir()
		bad.write_text(unit.read_text().replace("Restart=on-failure",
		    "Restart=on-falure").replace(str(p), "/nonexistent"))
		rc, out = verify(bad)
		assert rc != 0 or out.strip() != "", "verify passed a broken unit"
		lax = tmp / "lax" / "hearback.service"
		lax.parent.mkdir()
		keep = []
		for line in unit.read_text().splitlines():
			if re.match(r"^(Protect|Private|Restrict|System|Capab|NoNew|"
			    r"Lock|Memory|UMask|DynamicUser|ProcSubset)", line):
				continue
			keep.append(line)
		lax.write_text("\n".join(keep) + "\n")
		assert exposure(lax) > 1.5
	run_with("unit", body)


def test_installed_daemon_as_a_fresh_uid_reads_its_secrets_and_sends():
	def body(tmp):
		d = tmp / "root"
		make("install", "DESTDIR=%s" % d)
		rs = RedisServer(tmp, password="redis-secret")
		sink = Sink(tmp, auth="forum:smtp-secret")
		http = harness.free_port()
		conf_path = d / "etc/hearback/hearback.conf"
		# An operator's edits: where Redis and the relay are, the relay's
		# login (its password is a credential), and, because this is a
		# DESTDIR, where the templates are.
		set_keys(conf_path, {
			"redis": {"port": rs.port},
			"smtp": {"port": sink.port, "tls": "none", "user": "forum"},
			"delivery": {"quiet_hours": "none"},
			"templates": {"dir": d / "etc/hearback/templates",
			    "shipped": d / "usr/local/share/hearback/templates"},
			"http": {"listen": "127.0.0.1:%d" % http},
		})
		assert stat.S_IMODE(conf_path.stat().st_mode) == 0o644
		(d / "etc/hearback/templates/announcement.standard.subject"
		    ).write_text("EDITED {{announcement.subject}}\n")

		# What systemd does with LoadCredential= for a DynamicUser:
		# a directory of the service's own, files readable by it alone.
		uid = fresh_uid()
		creds = tmp / "credentials"
		creds.mkdir()
		(creds / "redis-password").write_text("redis-secret\n")
		(creds / "smtp-password").write_text("smtp-secret\n")
		for f in creds.iterdir():
			os.chown(f, uid, uid)
			os.chmod(f, 0o400)
		os.chown(creds, uid, uid)
		os.chmod(creds, 0o500)

		exe = d / "usr/local/sbin/hearbackd"
		p = start_daemon(tmp, exe, conf_path, "installed.log",
		    {"CREDENTIALS_DIRECTORY": str(creds)}, as_uid=uid)
		log = tmp / "installed.log"

		def ok():
			if p.poll() is not None:
				raise AssertionError("the installed hearbackd exited %s:"
				    "\n%s" % (p.returncode, harness.tail(log)))
			return healthz(http)[0] == 200
		harness.wait_for(ok, 30, "the installed daemon to be healthy")
		st = Path("/proc/%d/status" % p.pid).read_text()
		assert re.search(r"^Uid:\s+%d\s+%d" % (uid, uid), st, re.M), st
		assert re.search(r"^Groups:\s*$", st, re.M), st

		rs.xadd(COLLAB)
		rs.xadd(announcement("a-ops-1", "Installed and running"))
		harness.wait_for(lambda: sink.subjects(), 30, "an email at the sink")
		assert sink.subjects() == ["EDITED Installed and running"], \
		    sink.subjects()
		assert harness.sanitizer_report(log) is None
		p.send_signal(signal.SIGTERM)
		assert p.wait(30) == 0

		# A config the service cannot read (the old 0640 root:root): 78,
		# which RestartPreventExitStatus= keeps from restarting.
		os.chmod(conf_path, 0o640)
		p = start_daemon(tmp, exe, conf_path, "unreadable.log",
		    {"CREDENTIALS_DIRECTORY": str(creds)}, as_uid=uid)
		assert p.wait(30) == 78
		assert "Permission denied" in harness.tail(tmp / "unreadable.log")
		assert "\nRestartPreventExitStatus=78\n" in (d /
		    "usr/local/lib/systemd/system/hearback.service").read_text()
	run_with("fresh-uid", body)


# ---------------------------------------------------------------------------
# Redis ACLs and the coordinator's own login

def test_documented_acls_daemon_sends_coordinator_queues_but_cannot_delete():
	def body(tmp):
		rs = RedisServer(tmp)
		rs.acl(documented_acl("hearback-daemon"))
		rs.acl(documented_acl("hearback-coordinator"))
		sink = Sink(tmp, auth="forum:smtp-secret")
		http = harness.free_port()
		(tmp / "daemon-pw").write_text("password-of-hearback-daemon\n")
		os.chmod((tmp / "daemon-pw"), 0o600)
		(tmp / "smtp-pw").write_text("smtp-secret\n")
		os.chmod((tmp / "smtp-pw"), 0o600)
		c = conf(rs.port, sink.port, http, user="hearback-daemon",
		    password_file=tmp / "daemon-pw")
		c["smtp"].update(user="forum", password_file=tmp / "smtp-pw")
		write_conf(tmp / "daemon.conf", c)
		p = start_daemon(tmp, harness.build_dir() / "hearbackd",
		    tmp / "daemon.conf", "daemon.log")
		harness.wait_for(lambda: healthz(http)[0] == 200, HEALTH_WAIT,
		    "the daemon, logged in as hearback-daemon, to be healthy")
		assert p.poll() is None

		# The coordinators' config: the system's, 0644, names no
		# password; the SMTP login's password is the daemon's credential,
		# which the command never needs.
		shared = conf(rs.port, sink.port, http)
		shared["smtp"]["user"] = "forum"
		write_conf(tmp / "hearback.conf", shared)
		home = tmp / "home-jo"
		(home / ".config/hearback").mkdir(parents=True)
		(home / "pw").write_text("password-of-hearback-coordinator\n")
		os.chmod(home / "pw", 0o600)
		write_conf(home / ".config/hearback/hearback.conf", {"redis": {
		    "user": "hearback-coordinator", "password_file": home / "pw"}})
		(tmp / "records.json").write_text(json.dumps([COLLAB,
		    announcement("a-ops-2", "Queued by a coordinator")]))

		r = cli(tmp / "hearback.conf", "enqueue", tmp / "records.json",
		    home=home)
		assert r.rc == 0, r
		assert r.out.splitlines()[0].startswith("collaborator c-ops ")
		harness.wait_for(lambda: "Queued by a coordinator" in
		    sink.subjects(), 30, "the coordinator's announcement sent")
		r = cli(tmp / "hearback.conf", "status", "--json", home=home)
		assert r.rc == 0, r
		assert json.loads(r.out)["sent"].get("announcement") == 1, r.out
		# The same over the Unix socket.
		write_conf(home / ".config/hearback/hearback.conf", {"redis": {
		    "socket": rs.socket, "user": "hearback-coordinator",
		    "password_file": home / "pw"}})
		r = cli(tmp / "hearback.conf", "status", "--json", home=home)
		assert r.rc == 0, r
		assert json.loads(r.out)["inbox_backlog"] == 0

		# The daemon would refuse that shared config (no SMTP password):
		# only the command may go without it.
		t = subprocess.run([str(harness.build_dir() / "hearbackd"), "-t",
		    "-c", str(tmp / "hearback.conf")], stdout=subprocess.PIPE,
		    stderr=subprocess.PIPE, timeout=30,
		    env={k: v for k, v in os.environ.items()
		    if k != "CREDENTIALS_DIRECTORY"})
		assert t.returncode == 78 and b"no password" in t.stderr, t

		# Without a login of one's own: NOAUTH, 69, and no numbers.
		r = cli(tmp / "hearback.conf", "status", home=tmp / "nobody")
		assert r.rc == 69 and "NOAUTH" in r.err and r.out == "", r

		# What the coordinator's login may not do.
		co = rs.client("hearback-coordinator",
		    "password-of-hearback-coordinator")
		key = "{hearback}:version"
		for what in (lambda: co.flushall(), lambda: co.flushdb(),
		    lambda: co.delete(key), lambda: co.unlink(key),
		    lambda: co.xtrim("{hearback}:inbox", 0),
		    lambda: co.xadd("{hearback}:dead", {"error": "x"}),
		    lambda: co.eval("return redis.call('DEL', ARGV[1])", 0, key),
		    lambda: co.eval("return redis.call('FLUSHALL')", 0),
		    lambda: co.execute_command("SCRIPT", "FLUSH"),
		    lambda: co.execute_command("CONFIG", "SET", "requirepass", "")):
			try:
				what()
			except redis.exceptions.NoPermissionError:
				continue
			except redis.exceptions.ResponseError as e:
				assert "NOPERM" in str(e) or "can't run this command" \
				    in str(e), e
				continue
			raise AssertionError("the coordinator's login could do it")
		assert rs.admin.exists(key)
		r = cli(tmp / "hearback.conf", "dead", "drop", "1-1", home=home)
		assert r.rc == 69 and "NOPERM" in r.err, r
		assert p.poll() is None
	run_with("acl", body)


# ---------------------------------------------------------------------------
# Health tells the truth about Redis

def test_redis_refusals_make_health_503_and_status_69_until_mended():
	def body(tmp):
		rs = RedisServer(tmp)
		rs.acl(documented_acl("hearback-daemon"))
		# A user that may log in and PING and read, nothing more.
		rs.admin.execute_command("ACL", "SETUSER", "reader", "on",
		    ">reader-pw", "~{hearback}:*", "-@all", "+ping", "+@read")
		sink = Sink(tmp, auth=None)
		http = harness.free_port()
		notify = Notify(tmp)
		pw = tmp / "pw"
		pw.write_text("wrong-password\n")
		os.chmod(pw, 0o600)
		c = conf(rs.port, sink.port, http, password_file=pw)
		write_conf(tmp / "h.conf", c)
		p = start_daemon(tmp, harness.build_dir() / "hearbackd",
		    tmp / "h.conf", "d.log", {"NOTIFY_SOCKET": notify.path})
		home = tmp / "home"
		home.mkdir()

		def alive():
			if p.poll() is not None:
				raise AssertionError("hearbackd exited %s:\n%s" % (
				    p.returncode, harness.tail(tmp / "d.log")))

		def refused_for(word):
			def check():
				alive()
				st, body = healthz(http)
				return st == 503 and word in body.get("reason", "") \
				    and redis_up_metric(http) == 0 and \
				    word in notify.last_status()
			harness.wait_for(check, HEALTH_WAIT, "/healthz 503 naming %s, "
			    "hearback_redis_up 0 and STATUS= naming it" % word)
			r = cli(tmp / "h.conf", "status", home=home)
			assert r.rc == 69 and word in r.err and r.out == "", r
			r = cli(tmp / "h.conf", "status", "--json", home=home)
			assert r.rc == 69 and r.out == "", r
			assert not notify.saw("READY=1"), "READY=1 while refused"

		refused_for("WRONGPASS")
		time.sleep(2)		# it stays so, and keeps running
		alive()
		assert healthz(http)[0] == 503

		c["redis"]["password_file"] = ""
		write_conf(tmp / "h.conf", c)
		p.send_signal(signal.SIGHUP)
		refused_for("NOAUTH")

		(tmp / "reader-pw").write_text("reader-pw\n")
		os.chmod((tmp / "reader-pw"), 0o600)
		c["redis"].update(user="reader", password_file=tmp / "reader-pw")
		write_conf(tmp / "h.conf", c)
		p.send_signal(signal.SIGHUP)
		refused_for("NOPERM")

		# Mended: the documented daemon login.
		(tmp / "daemon-pw").write_text("password-of-hearback-daemon\n")
		os.chmod((tmp / "daemon-pw"), 0o600)
		c["redis"].update(user="hearback-daemon",
		    password_file=tmp / "daemon-pw")
		write_conf(tmp / "h.conf", c)
		p.send_signal(signal.SIGHUP)
		harness.wait_for(lambda: alive() or (healthz(http)[0] == 200 and
		    redis_up_metric(http) == 1 and notify.saw("READY=1")),
		    HEALTH_WAIT, "healthy and READY=1 once mended")
		rs.xadd(COLLAB)
		rs.xadd(announcement("a-ops-3", "After the mending"))
		harness.wait_for(lambda: "After the mending" in sink.subjects(), 30,
		    "an email once Redis lets us in")

		# An ACL taken away while running: the daemon notices.
		rs.admin.execute_command("ACL", "SETUSER", "hearback-daemon",
		    "-@write")
		harness.wait_for(lambda: alive() or (healthz(http)[0] == 503 and
		    "NOPERM" in healthz(http)[1].get("reason", "") and
		    redis_up_metric(http) == 0), HEALTH_WAIT,
		    "/healthz 503 NOPERM after the ACL changed")
		rs.acl(documented_acl("hearback-daemon"))
		harness.wait_for(lambda: alive() or healthz(http)[0] == 200,
		    HEALTH_WAIT, "healthy again once the ACL is back")

		# No Redis at all.
		harness.stop_process(rs.proc)
		harness.wait_for(lambda: alive() or (healthz(http)[0] == 503 and
		    "unreachable" in healthz(http)[1].get("reason", "") and
		    redis_up_metric(http) == 0), HEALTH_WAIT,
		    "/healthz 503 while Redis is gone")
		r = cli(tmp / "h.conf", "status", home=home)
		assert r.rc == 69 and r.out == "" and "cannot reach" in r.err, r
		alive()

		# Foreground logs: every line starts with an RFC 3339 time.
		lines = [l for l in (tmp / "d.log").read_text().splitlines() if l]
		assert lines and all(RFC3339.match(l) for l in lines), \
		    [l for l in lines if not RFC3339.match(l)][:3]
		# The refusal was said once, not on every try.
		assert sum("WRONGPASS" in l for l in lines) <= 2, lines
		p.send_signal(signal.SIGTERM)
		assert p.wait(30) == 0
	run_with("refusals", body)


def test_log_to_the_journal_has_no_time_of_its_own():
	def body(tmp):
		# A config that loads, a Redis that is not there: a few lines,
		# once with stderr as the journal, once as a plain file.
		write_conf(tmp / "h.conf", conf(harness.free_port(),
		    harness.free_port(), harness.free_port()))
		for name, extra in (("j2.log", True), ("plain2.log", False)):
			(tmp / name).write_text("")
			st = os.stat(tmp / name)
			env = {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)} \
			    if extra else {}
			p = start_daemon(tmp, harness.build_dir() / "hearbackd",
			    tmp / "h.conf", name, env)
			harness.wait_for(lambda: "unreachable" in
			    harness.tail(tmp / name), 15, "a log line in " + name)
			p.send_signal(signal.SIGTERM)
			assert p.wait(30) == 0
		j = [l for l in (tmp / "j2.log").read_text().splitlines() if l]
		plain = [l for l in (tmp / "plain2.log").read_text().splitlines()
		    if l]
		assert j and all(l.startswith("hearbackd ") for l in j), j
		assert plain and all(RFC3339.match(l) for l in plain), plain
	run_with("journal", body)

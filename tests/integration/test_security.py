"""
test_security.py: what an attacker, or a careless day, must not be able to
do, against a real hearbackd on real sockets (tests/integration/harness.py).

The /healthz and /metrics listener: slow clients, huge bodies and an endless
header line cost the daemon a bounded number of file descriptors, a bounded
amount of memory and CPU, at most about one log line a second, and /healthz
still answers; only GET and HEAD are served (others 405).

The operator's terminal: `hearback dead list` and `dead show` print what a
queued record holds with its control characters escaped, so that a record
cannot clear the screen, retitle the window or hide text.

Records: a domain that is not ASCII, encoded words and invisible or
right-to-left controls in names and subjects are refused at intake, naming
the field and what to do.
"""

import json
import os
import re
import resource
import socket
import subprocess
import threading
import time

import harness

# daemon/http.c's limits (hearbackd(8), HTTP).
HTTP_MAX_CONNECTIONS = 64
HTTP_MAX_HEADERS = 8192

MIB = 1024 * 1024


# ---------------------------------------------------------------------------
# Helpers: the daemon as the kernel sees it

def _rss_kib(pid):
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			if line.startswith("VmRSS:"):
				return int(line.split()[1])
	raise AssertionError("no VmRSS for pid %d" % pid)


def _nfds(pid):
	return len(os.listdir("/proc/%d/fd" % pid))


def _cpu_s(pid):
	"""User + system CPU seconds the process has used."""
	with open("/proc/%d/stat" % pid) as f:
		fields = f.read().rsplit(")", 1)[1].split()
	return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _log_lines(env, start, word):
	"""Lines of the daemon's log after byte offset start that hold word."""
	with open(env.daemon_log, "rb") as f:
		f.seek(start)
		text = f.read().decode("utf-8", "replace")
	return [l for l in text.splitlines() if word in l]


def _log_size(env):
	return os.path.getsize(env.daemon_log)


def _connect(env, timeout=5):
	s = socket.create_connection(("127.0.0.1", env.http_port),
	    timeout=timeout)
	s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
	return s


def _read_all(s, limit=1 * MIB):
	"""What the server sends until it closes (or limit, or the socket's
	timeout); a reset counts as the end."""
	out = b""
	try:
		while len(out) < limit:
			d = s.recv(65536)
			if not d:
				break
			out += d
	except (ConnectionResetError, socket.timeout):
		pass
	return out


def _request(env, data, timeout=5):
	"""Send a whole raw request, half-close, return the raw response."""
	with _connect(env, timeout) as s:
		s.sendall(data)
		s.shutdown(socket.SHUT_WR)
		return _read_all(s)


def _status(resp):
	m = re.match(rb"HTTP/1\.[01] (\d{3}) ", resp)
	return int(m.group(1)) if m else None


def _healthy_now(env, timeout=3):
	"""GET /healthz answers 200 within timeout seconds."""
	t0 = time.monotonic()
	st, body = env.http_get("/healthz", json_body=True, timeout=timeout)
	assert st == 200, (st, body)
	assert time.monotonic() - t0 < timeout
	return body


def _start(env):
	env.start_daemon()
	env.wait_for(lambda: env.healthz()[0] == 200, what="/healthz 200")
	return env.daemon.pid


# ---------------------------------------------------------------------------
# 1. The HTTP listener

def test_http_only_get_and_head_others_405(env):
	_start(env)
	for method in (b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH"):
		resp = _request(env, method + b" /healthz HTTP/1.1\r\n"
		    b"Host: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		assert _status(resp) == 405, (method, resp[:200])
		head = resp.split(b"\r\n\r\n", 1)[0]
		assert re.search(rb"\r\nAllow: GET, HEAD\r\n", head + b"\r\n"), \
		    (method, head)
	resp = _request(env, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n"
	    b"Connection: close\r\n\r\n")
	assert _status(resp) == 200, resp[:200]
	assert resp.endswith(b"\r\n\r\n"), resp	# no body
	resp = _request(env, b"GET /metrics HTTP/1.0\r\n\r\n")
	assert _status(resp) == 200 and b"hearback_" in resp, resp[:200]
	resp = _request(env, b"GET /nothing HTTP/1.0\r\n\r\n")
	assert _status(resp) == 404, resp[:200]


def _post_huge(env, target, size, results, i, chunked=False, method=b"POST"):
	"""Send a request announcing a size-byte body, then as much of it as
	the daemon takes; results[i] = (bytes of body sent, response)."""
	sent = 0
	resp = b""
	try:
		with _connect(env, timeout=10) as s:
			if chunked:
				s.sendall(method + b" " + target + b" HTTP/1.1\r\n"
				    b"Host: x\r\nTransfer-Encoding: chunked\r\n\r\n")
			else:
				s.sendall(method + b" " + target + b" HTTP/1.1\r\n"
				    b"Host: x\r\nContent-Length: %d\r\n\r\n" % size)
			block = b"x" * MIB
			try:
				while sent < size:
					if chunked:
						s.sendall(b"%x\r\n" % len(block) +
						    block + b"\r\n")
					else:
						s.sendall(block)
					sent += len(block)
			except (BrokenPipeError, ConnectionResetError,
			    socket.timeout):
				pass
			resp = _read_all(s)
	finally:
		results[i] = (sent, resp)


def test_http_huge_bodies_keep_memory_bounded(env):
	pid = _start(env)
	rss0 = _rss_kib(pid)
	size = 64 * MIB
	jobs = [(b"/healthz", False, b"POST"), (b"/metrics", True, b"POST"),
	    (b"/healthz", False, b"GET")]
	results = [None] * len(jobs)
	threads = [threading.Thread(target=_post_huge, args=(env, target,
	    size, results, i, chunked, method))
	    for i, (target, chunked, method) in enumerate(jobs)]
	for t in threads:
		t.start()
	for t in threads:
		t.join(60)
		assert not t.is_alive(), "a huge request is still being taken"
	grown = _rss_kib(pid) - rss0
	for (sent, resp), job in zip(results, jobs):
		# Refused after the headers: what was "sent" is what the
		# kernel's buffers took, not 64 MiB.
		assert sent < size, (job, sent)
		assert resp == b"" or _status(resp) in (405, 413), (job, resp[:200])
	assert grown < 48 * 1024, "RSS grew by %d KiB" % grown
	_healthy_now(env)


def test_http_endless_header_line_is_cut_off(env):
	pid = _start(env)
	cpu0 = _cpu_s(pid)
	for start in (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: ",
	    b"GET /healthz?"):
		sent = 0
		closed = False
		with _connect(env, timeout=10) as s:
			s.sendall(start)
			block = b"a" * 65536
			try:
				while sent < 32 * MIB:
					s.sendall(block)
					sent += len(block)
			except (BrokenPipeError, ConnectionResetError):
				closed = True
			except socket.timeout:
				pass
			if not closed:
				s.settimeout(5)
				resp = _read_all(s)
				closed = resp == b"" or _status(resp) in (400, 413,
				    431)
		assert closed, "the daemon took %d bytes of one header " \
		    "line" % sent
		# The kernel's buffers hold a few MiB on loopback; the daemon
		# must have stopped long before 32 MiB.
		assert sent < 32 * MIB, sent
	used = _cpu_s(pid) - cpu0
	assert used < 3, "the daemon used %.1f s of CPU" % used
	_healthy_now(env)


class _Rlimit:
	"""Lower RLIMIT_NOFILE (soft) for the processes started inside, as
	systemd's default of 1024 does; the test process gets it back."""

	def __init__(self, soft):
		self.soft = soft

	def __enter__(self):
		self.old = resource.getrlimit(resource.RLIMIT_NOFILE)
		resource.setrlimit(resource.RLIMIT_NOFILE,
		    (min(self.soft, self.old[1]), self.old[1]))

	def __exit__(self, *a):
		resource.setrlimit(resource.RLIMIT_NOFILE, self.old)
		return False


def test_http_slow_connections_are_capped(env):
	with _Rlimit(1024):
		pid = _start(env)
	fd0 = _nfds(pid)
	rss0 = _rss_kib(pid)
	log0 = _log_size(env)
	t0 = time.monotonic()
	slow = []
	try:
		# 300 clients that start a request and never finish it.
		for i in range(300):
			try:
				s = _connect(env, timeout=5)
				s.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
			except OSError:
				continue	# refused or reset: fine
			slow.append(s)
		env.wait_for(lambda: _nfds(pid) <= fd0 + HTTP_MAX_CONNECTIONS + 8,
		    3, "the daemon's open files to stay within the limit "
		    "(now %d, %d before)" % (_nfds(pid), fd0))
		_healthy_now(env)
		# Trickling a byte now and then keeps no one in.
		for _ in range(3):
			for s in slow:
				try:
					s.send(b"X")
				except OSError:
					pass
			assert _nfds(pid) <= fd0 + HTTP_MAX_CONNECTIONS + 8, \
			    (_nfds(pid), fd0)
			_healthy_now(env)
			time.sleep(1)
		grown = _rss_kib(pid) - rss0
		assert grown < 32 * 1024, "RSS grew by %d KiB" % grown
	finally:
		for s in slow:
			s.close()
	elapsed = time.monotonic() - t0
	_healthy_now(env)
	time.sleep(1.5)		# the last count of suppressed lines
	lines = _log_lines(env, log0, "http:")
	assert lines, "nothing logged about the refused connections"
	assert len(lines) <= elapsed + 3, "%d lines in %.1f s:\n%s" % (
	    len(lines), elapsed, "\n".join(lines[:20]))
	assert any("limit" in l for l in lines), lines
	assert any(re.search(r"\d+ more", l) for l in lines), lines
	env.wait_for(lambda: _nfds(pid) <= fd0 + 4, 10,
	    "the connections closed (%d open files, %d before)" % (
	    _nfds(pid), fd0))


# ---------------------------------------------------------------------------
# 2. The operator's terminal

# Clear the screen, retitle the window, a C1 CSI (one byte and as UTF-8), a
# right-to-left override.
NASTY = "\x1b[2J\x1b]0;owned\x07\x9b31m\u202e"


def _cli_bytes(env, *args):
	"""Run `hearback -c conf ARGS...`: (rc, stdout bytes, stderr bytes)."""
	import subprocess
	env_ = dict(os.environ)
	env_.pop("CREDENTIALS_DIRECTORY", None)
	p = subprocess.run([str(env.build / "hearback"), "-c", str(env.conf)] +
	    list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
	    stderr=subprocess.PIPE, timeout=60, cwd=env.tmp, env=env_)
	return p.returncode, p.stdout, p.stderr


def _terminal_safe(out, what):
	"""Nothing in out can drive a terminal: strict UTF-8, no C0 control
	but LF and TAB, no DEL, no C1, no invisible or direction control."""
	try:
		text = out.decode("utf-8")
	except UnicodeDecodeError as e:
		raise AssertionError("%s: not UTF-8 (%s): %r" % (what, e, out))
	for ch in text:
		o = ord(ch)
		assert not ((o < 0x20 and ch not in "\n\t") or 0x7f <= o <= 0x9f or
		    0x200b <= o <= 0x200f or 0x202a <= o <= 0x202e or
		    0x2066 <= o <= 0x2069 or o == 0xfeff), \
		    "%s: U+%04X reaches the terminal: %r" % (what, o, text)
	return text


def test_dead_list_and_show_escape_what_records_hold(env):
	env.start_daemon()
	# Not JSON: kept as the bytes that came.
	env.xadd(('{"type": "collaborator", "id": "c-' + NASTY + '", ').encode(
	    "utf-8") + b"\x9b\xff")
	# JSON with a bad id: the dead entry's type and id are decoded.
	env.xadd({"type": "collaborator" + NASTY, "id": "c-" + NASTY,
	    "name": "Quentin", "email": "q@example.org", "consent": True})
	env.wait_for(lambda: len(env.dead_entries()) >= 2, what="2 dead entries")
	# A relay's reply in a dead email (as the daemon stores it).
	env.r.xadd(env.key("dead"), {"error": "rejected: 550 " + NASTY,
	    "at": "2026-01-01T00:00:00Z", "delivery": "ann/a-1/c-" + NASTY,
	    "kind": "announcement", "collaborator": "c-x", "attempts": "1",
	    "first_try": "", "last_try": "", "last_reply": "550 " + NASTY})

	rc, out, err = _cli_bytes(env, "dead", "list")
	assert rc == 0, (rc, out, err)
	listed = _terminal_safe(out, "dead list")
	assert listed.count("\\u001b[2J") >= 3, listed
	assert "\\u009b31m" in listed and "\\u202e" in listed, listed
	entries = env.dead_entries()
	assert len(entries) == 3, entries
	for en in entries:
		assert en["id"] in listed, (en["id"], listed)
		rc, out, err = _cli_bytes(env, "dead", "show", en["id"])
		assert rc == 0, (rc, out, err)
		text = _terminal_safe(out, "dead show %s" % en["id"])
		assert "\\u001b[2J" in text, text
		assert "\\u0007" in text, text
		assert "\\u202e" in text, text
	# The record text keeps its own line breaks in show.
	rc, out, err = _cli_bytes(env, "dead", "show", entries[0]["id"])
	text = out.decode()
	assert "record: {\"type\": \"collaborator\", \"id\": \"c-\\u001b" in \
	    text and "\\x9b\\xff" in text, text
	# An id typed by the operator, echoed back: escaped too.
	rc, out, err = _cli_bytes(env, "dead", "show", "1-1" + NASTY)
	assert rc == 65, (rc, out, err)
	_terminal_safe(err, "dead show (no such entry)")


# ---------------------------------------------------------------------------
# 3, 4. Records that would not show, or not go, as written

def test_records_refused_idn_encoded_words_hidden_characters(env):
	env.start_daemon()
	base = {"type": "collaborator", "name": "Quentin", "consent": True,
	    "email": "q@example.org"}
	cases = [
	    (dict(base, id="c-idn", email="user@ex\u00e4mple.org"),
		["email:", "not in ASCII letters", "\"user@xn--exmple-cua.org\""]),
	    (dict(base, id="c-ew", name="=?utf-8?b?SGFja2Vk?="),
		["name:", "encoded word", "write the words themselves"]),
	    ({"type": "announcement", "id": "a-rlo", "body": "Text.",
		"subject": "Minutes \u202efdp.exe", "to": {"all": True}},
		["subject:", "U+202E", "remove it"]),
	]
	for rec, _ in cases:
		env.xadd(rec)
	env.wait_for(lambda: len(env.dead_entries()) >= len(cases),
	    what="%d dead entries" % len(cases))
	dead = env.dead_entries()
	for (rec, parts), en in zip(cases, dead):
		for p in parts:
			assert p in en["error"], (rec["id"], en["error"])
	# `hearback validate` says the same before anything is queued.
	f = env.write_file("bad.json", cases[1][0])
	rc, out, err = env.cli("validate", str(f))
	assert rc == 65 and "name:" in err and "encoded word" in err, (rc, err)


# ---------------------------------------------------------------------------
# 6. SECURITY.md's Redis users are enough, and no more

def _security_acl(prefix, daemon_pw, coord_pw):
	"""The ACL SETUSER lines of SECURITY.md, for this test's prefix."""
	text = (harness.REPO / "SECURITY.md").read_text()
	lines = [l for l in text.splitlines() if l.startswith("ACL SETUSER ")]
	assert len(lines) == 2, lines
	out = []
	for l in lines:
		l = l.replace("{hearback}", "{%s}" % prefix)
		l = l.replace("DAEMON-PASSWORD", daemon_pw)
		l = l.replace("COORDINATOR-PASSWORD", coord_pw)
		out.append(l.split()[2:])	# user, then the rules
	return out


def test_security_md_redis_users_are_enough(env):
	import redis
	users = _security_acl(env.prefix, "daemon-pw-1", "coord-pw-2")
	assert [u[0] for u in users] == ["default", "coordinator"], users
	for u in reversed(users):	# default last: it loses ACL
		env.r.execute_command("ACL", "SETUSER", *u)
	# From here on, the harness too speaks as the daemon's user.
	for name, dec in (("r", True), ("rb", False)):
		setattr(env, name, redis.Redis(host="127.0.0.1",
		    port=env.redis_port, password="daemon-pw-1",
		    decode_responses=dec, socket_timeout=10))
	pw = env.write_file("redis-password", "daemon-pw-1\n", mode=0o600)
	env.write_config({"redis": {"password_file": str(pw)}})
	log0 = _log_size(env) if env.daemon_log.exists() else 0
	env.start_daemon()

	coord = redis.Redis(host="127.0.0.1", port=env.redis_port,
	    username="coordinator", password="coord-pw-2",
	    decode_responses=True, socket_timeout=10)
	coord.xadd(env.key("inbox"), {"record": json.dumps({
	    "type": "collaborator", "id": "c-a", "name": "Amara",
	    "email": "amara@example.org", "consent": True, "groups": ["g"]})})
	coord.xadd(env.key("inbox"), {"record": json.dumps({
	    "type": "announcement", "id": "a-1", "subject": "News",
	    "body": "Text.", "to": {"groups": ["g"]}})})
	coord.xadd(env.key("inbox"), {"record": '{"type": "venue"'})
	env.wait_mails(1, to="amara@example.org")
	env.wait_for(lambda: len(env.dead_entries()) == 1, what="1 dead entry")
	# A coordinator queues, and reads nothing.
	for cmd in (("XRANGE", env.key("dead"), "-", "+"),
	    ("HGETALL", env.key("rec:collaborator:c-a")),
	    ("KEYS", "*"), ("XADD", "{other}:inbox", "*", "record", "{}"),
	    ("FLUSHALL",), ("CONFIG", "GET", "*")):
		try:
			coord.execute_command(*cmd)
		except redis.exceptions.NoPermissionError:
			continue
		raise AssertionError("coordinator may run %s" % (cmd,))
	# The daemon's user cannot reach beyond its keys or run admin commands.
	for cmd in (("FLUSHALL",), ("CONFIG", "SET", "dir", "/tmp"),
	    ("SET", "{other}:x", "1"), ("ACL", "LIST"), ("SCRIPT", "FLUSH"),
	    ("FUNCTION", "FLUSH"), ("SHUTDOWN",)):
		try:
			env.r.execute_command(*cmd)
		except redis.exceptions.NoPermissionError:
			continue
		raise AssertionError("the daemon's user may run %s" % (cmd,))
	# The command works as the daemon's user.
	for args in (("status",), ("dead", "list"), ("forget", "c-a")):
		res = env.cli(*args)
		assert res.rc == 0, (args, res)
	env.wait_for(lambda: env.r.exists(env.key("rec:collaborator:c-a")) == 0,
	    what="c-a forgotten")
	bad = _log_lines(env, log0, "NOPERM") + _log_lines(env,
	    log0, "no permissions")
	assert not bad, bad


def test_http_out_of_descriptors_closes_the_oldest(env):
	# Few descriptors to spare (the daemon needs about a dozen of its
	# own): accept(2) fails with EMFILE long before 64 connections.
	with _Rlimit(32):
		pid = _start(env)
	log0 = _log_size(env)
	t0 = time.monotonic()
	slow = []
	try:
		for i in range(100):
			try:
				s = _connect(env, timeout=5)
				s.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
			except OSError:
				continue
			slow.append(s)
		for _ in range(3):
			_healthy_now(env)
			time.sleep(0.5)
		cpu = _cpu_s(pid)
		time.sleep(1)
		assert _cpu_s(pid) - cpu < 0.5, "the daemon spins"
	finally:
		for s in slow:
			s.close()
	elapsed = time.monotonic() - t0
	time.sleep(1.5)
	lines = _log_lines(env, log0, "http:")
	assert any("cannot accept a connection" in l for l in lines), lines
	assert len(lines) <= elapsed + 3, "%d lines in %.1f s:\n%s" % (
	    len(lines), elapsed, "\n".join(lines[:20]))


# ---------------------------------------------------------------------------
# A record far over the size limit is refused without being parsed

def test_huge_record_refused_unparsed_and_ids_escaped_in_the_log(env):
	"""A 48 MiB record (the limit is 64 KiB) made of many small JSON values,
	the shape that costs a parser the most, goes to dead as "too large"
	without being parsed: the daemon's peak memory stays near what holding
	the entry costs (before, only the look for its type and id parsed it,
	to well over 1 GiB). And a rejected record's id with a newline and an
	escape sequence reaches the log escaped, not as a forged line."""
	env.start_daemon()
	pid = env.daemon.pid
	base = _rss_kib(pid)
	big = '{"type":"said","id":"s-big","text":"x","topic":[' + \
	    ",".join(["[1,2]"] * (48 * MIB // 6)) + "]}"
	assert len(big) > 48 * MIB
	env.xadd(big)
	env.wait_for(lambda: [d for d in env.dead_entries()
	    if d.get("error", "").startswith("too large:")], 60,
	    "the huge record in dead")
	peak = 0
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			if line.startswith("VmHWM:"):
				peak = int(line.split()[1])
	# Holding the entry costs a few times its size (hiredis's buffer and
	# reply, more under ASan); parsing it cost 1.8 GB.
	assert peak - base < 1024 * 1024, (base, peak)

	env.xadd({"type": "said", "id": "s-1\nhearbackd info: forged\x1b[2J",
	    "text": "x"})
	env.wait_for(lambda: "s-1\\nhearbackd info: forged\\u001b[2J" in
	    env.daemon_tail(50), 30, "the escaped id in the log")
	assert "\x1b" not in env.daemon_log.read_text(errors="replace")
	assert not re.search(r"^hearbackd info: forged", env.daemon_log.read_text(
	    errors="replace"), re.M)


# ---------------------------------------------------------------------------
# [retention]: the audit and dead streams keep entries for a while, not for
# ever (dead entries hold whole records: names, addresses, access needs)

@harness.env_options(config={"retention": {"audit": "3d", "dead": "3d"}})
def test_retention_trims_audit_and_dead_by_age(env):
	env.start_daemon()
	env.xadd({"type": "collaborator", "id": "c-amara", "name": "Amara",
	    "email": "amara@example.org", "consent": True, "groups": ["g"]})
	env.xadd({"type": "announcement", "id": "a-1", "subject": "Hello",
	    "body": "Hi.", "to": {"groups": ["g"]}})
	for i in range(3):
		env.xadd('{"type": "collaborator", "id": "c-bad-%d", "name": '
		    '"Ben Adeyemi", "email": "ben@example.org"}' % i)
	env.wait_mails(1, to="amara@example.org")
	env.wait_for(lambda: len(env.dead_entries()) == 3 and
	    env.r.xlen(env.key("audit")) >= 4, 30, "dead and audit entries")
	# The notices of the rejected records are audited when sent: wait
	# until nothing due now is left, so the audit stream stops growing.
	env.wait_for(lambda: env.r.zcount(env.key("schedule"), 0,
	    int(time.time() * 1000) + 3600 * 1000) == 0, 30, "all sent")
	n_audit = env.r.xlen(env.key("audit"))
	# Two days on: younger than three days, all kept.
	env.advance(2 * 86400)
	time.sleep(6)		# more than a trim period (RETENTION_EVERY_MS)
	assert len(env.dead_entries()) == 3
	assert env.r.xlen(env.key("audit")) == n_audit
	# Four days on: older than three days, all gone, and with them the
	# records (a name and an address) the dead entries held.
	env.advance(2 * 86400)
	env.wait_for(lambda: env.r.xlen(env.key("dead")) == 0 and
	    env.r.xlen(env.key("audit")) == 0, 30, "the old entries trimmed")


# ---------------------------------------------------------------------------
# forget leaves no trace (finding 4): every key under the prefix, every
# type's values, read back decoded (JSON, %XX, &#NN;) and case-folded.

_JSON_ESC = re.compile(r'\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F]'
    r'[0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})|\\(["\\/bfnrt])')


def _json_unescape(s):
	simple = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f",
	    "n": "\n", "r": "\r", "t": "\t"}

	def one(m):
		if m.group(1):
			hi, lo = int(m.group(1), 16), int(m.group(2), 16)
			return chr(0x10000 + (hi - 0xD800) * 0x400 + (lo - 0xDC00))
		if m.group(3):
			cp = int(m.group(3), 16)
			return "?" if 0xD800 <= cp <= 0xDFFF else chr(cp)
		return simple[m.group(4)]
	return _JSON_ESC.sub(one, s)


def _readings(blob):
	"""Every way a reader could take blob: as it is, JSON-unescaped,
	%-decoded, entity-decoded, repeatedly; case-folded, '+' and white
	space as one space."""
	import html
	import urllib.parse
	s = blob.decode("utf-8", "replace")
	out = {s}
	for _ in range(4):
		more = set()
		for t in out:
			more.add(_json_unescape(t))
			more.add(urllib.parse.unquote(t))
			more.add(html.unescape(t))
		out |= more
	return {re.sub(r"[\s+]+", " ", t.casefold()) for t in out}


def _values(env):
	"""{key: [bytes of every value and member, and the key's name]}"""
	out = {}
	for k in env.keys():
		t = env.rb.type(k).decode()
		vals = [k.encode()]
		if t == "string":
			vals.append(env.rb.get(k) or b"")
		elif t == "hash":
			for a, b in env.rb.hgetall(k).items():
				vals += [a, b]
		elif t == "set":
			vals += list(env.rb.smembers(k))
		elif t == "zset":
			vals += list(env.rb.zrange(k, 0, -1))
		elif t == "list":
			vals += env.rb.lrange(k, 0, -1)
		elif t == "stream":
			for eid, fields in env.rb.xrange(k, "-", "+"):
				for a, b in fields.items():
					vals += [a, b]
		else:
			raise AssertionError("key %s of type %s" % (k, t))
		out[k] = vals
	return out


def _traces(env, needles, id_words):
	"""Where a needle (normalised) is still found, and where a value
	names the id together with one of id_words (an access need
	attributed to them)."""
	found = []
	for k, vals in _values(env).items():
		for v in vals:
			for r in _readings(v):
				for n in needles:
					if n in r:
						found.append((k, n, v[:200]))
				if re.search(r"(?<![\w:-])c-17(?![\w:-])", r) and \
				    any(w in r for w in id_words):
					found.append((k, "c-17 + access", v[:200]))
	return found


def test_forget_leaves_no_trace_in_any_key_or_spelling(env):
	env.start_daemon()
	name, email = "Amara Zoë Okafor", "Amara.Okafor@Example.org"
	phone = "020 7946 0555"
	supporter = {"name": "Kofi Mensah", "email": "Kofi.Mensah@Example.org"}
	env.xadd({"type": "collaborator", "id": "c-17", "name": name,
	    "email": email, "phone": phone, "supporter": supporter,
	    "consent": True, "groups": ["g"],
	    "access_needs": ["step-free", "quiet-room"]})
	env.xadd({"type": "collaborator", "id": "c-ben", "name": "Ben Adeyemi",
	    "email": "ben@example.org", "consent": True, "groups": ["g"],
	    "access_needs": ["hearing-loop"]})
	env.xadd({"type": "said", "id": "s-1", "collaborator": "c-17",
	    "text": "As Amara Zoë Okafor: discharge letters arrive late."})
	# A rejected record of theirs, escaped and in upper case (the dead
	# stream keeps its text as it came).
	env.xadd('{"type":"collaborator","id":"c-17","name":'
	    '"\\u0041mara Zo\\u00cb Okafor","email":"AMARA.OKAFOR@EXAMPLE.ORG",'
	    '"acess":["step-free"]}')
	env.xadd({"type": "announcement", "id": "a-1", "subject": "Hello",
	    "body": "Hi.", "to": {"groups": ["g"]}})
	env.wait_mails(1, to="amara.okafor@example.org")
	env.wait_mails(1, to="ben@example.org")
	env.wait_for(lambda: env.dead_entries(), what="the dead entry")

	# What state added later might hold, in every type and spelling.
	rb, key = env.rb, env.key
	rb.xadd(key("audit"), {"event": "note",
	    "who": "amara.okafor%40example.org"})
	rb.xadd(key("audit"), {"event": "note", "who": "someone else"})
	notice = json.dumps({"title": "Access needs not met for meeting m-1",
	    "lines": ["Collaborator c-17 needs Step-free access (step-free): "
	    "the venue v-1 has not confirmed it.", "Collaborator c-ben needs "
	    "Hearing loop (hearing-loop): the venue v-1 has not confirmed it.",
	    "Please arrange it."], "record_id": "m-1"})
	rb.hset(key("d:notice:access:m-1:x"), mapping={"state": "sent",
	    "cid": "", "to": "coordinator@example.org", "data": notice})
	rb.sadd(key("notices"), "notice:access:m-1:x")
	rb.hset(key("d:digest:coordinator@example.org:1"), mapping={
	    "state": "scheduled", "cid": "", "to": "coordinator@example.org",
	    "data": json.dumps({"items": ["OKAFOR, AMARA ZOË: letters late",
	    "Ben Adeyemi: parking"]})})
	rb.hset(key("fanout:announcement:a-9"), mapping={"ver": "1-0",
	    "old": '{"who":"amara zo\\u00cb\\u0020okafor"}'})
	rb.set(key("future:json"), '{"who":"Amara Zo\\u00eb Okafor",'
	    '"keep":"other words","list":[]}')
	rb.set(key("future:plain"), "Notes: AMARA.OKAFOR&#64;EXAMPLE.ORG")
	rb.sadd(key("future:set"), "Amara Zoë Okafor", "kept member")
	rb.zadd(key("future:zset"), {"mailto:amara.okafor%40example.org": 1,
	    "kept": 2})
	rb.rpush(key("future:list"), "to=Amara+Zo%C3%AB+Okafor", "kept item")
	rb.xadd(key("future:stream"), {"x": '"amara.okafor\\u0040example.org"'})
	rb.xadd(key("future:stream"), {"x": "kept entry"})
	# Their phone in another layout, their supporter, their preferences
	# and their answer (daemon/store/answer.c's keys) beside Ben's.
	rb.set(key("future:phone"), "Call +44 20 7946 0555 after 5.")
	rb.set(key("future:supporter"), "Copy to KOFI MENSAH "
	    "<kofi.mensah%40example.org>")
	rb.hset(key("pref:c-17"), mapping={"id": "c-17", "at": "1",
	    "format": "easy-read", "stop:announcements": "1"})
	rb.hset(key("pref:c-ben"), mapping={"id": "c-ben", "at": "1",
	    "format": "large-print"})
	rb.hset(key("ans:m-1"), mapping={
	    "c-17": json.dumps({"a": "yes", "at": 1, "via": "web",
		"who": "c-17"}),
	    "c-ben": json.dumps({"a": "maybe", "at": 2, "via": "calendar",
		"who": "c-ben"})})

	# More keys than the forget commit walks itself (STORE_FORGET_BUDGET):
	# the daemon walks the rest in pages (retention.c, scrub.lua).
	pipe = rb.pipeline(transaction=False)
	for i in range(2500):
		pipe.set(key("filler:%d" % i), "nothing")
	pipe.execute()

	needles = ["amara zoë okafor", "okafor, amara zoë",
	    "amara.okafor@example.org", "7946 0555", "kofi mensah",
	    "kofi.mensah@example.org"]
	access = ["step-free", "quiet-room"]
	before = _traces(env, needles, access)
	for k in ("dead", "audit", "d:notice:access:m-1:x",
	    "d:digest:coordinator@example.org:1", "fanout:announcement:a-9",
	    "future:json", "future:plain", "future:set", "future:zset",
	    "future:list", "future:stream", "rec:said:s-1",
	    "rec:collaborator:c-17"):
		assert any(f[0] == key(k) for f in before), \
		    "the test planted nothing in %s: %r" % (k, before)
	for k, n in (("future:phone", "7946 0555"), ("future:supporter",
	    "kofi mensah"), ("future:supporter", "kofi.mensah@example.org"),
	    ("rec:collaborator:c-17", "7946 0555"),
	    ("rec:collaborator:c-17", "kofi mensah")):
		assert (key(k), n) in [(f[0], f[1]) for f in before], \
		    "the test planted no %r in %s" % (n, k)
	assert env.r.hexists(key("ans:m-1"), "c-17")

	res = env.cli("forget", "c-17")
	assert res.rc == 0, res
	env.wait_for(lambda: env.inbox_len() == 0 and
	    not env.r.exists(key("rec:collaborator:c-17")) and
	    not env.r.exists(key("forgetting")) and
	    not env.keys("forget:*"), 60, "the forget and its scrub")
	# The commit walked one page; the scrub ended the walk (it says so).
	env.wait_for(lambda: "forget of collaborator c-17: every key "
	    "scrubbed" in env.daemon_log.read_text(errors="replace"), 10, "the scrub's last page")
	left = _traces(env, needles, access)
	assert not left, "traces left after forget: %r" % left

	# What is not theirs stays.
	ben = json.loads(env.r.get(key("rec:collaborator:c-ben")))
	assert ben["record"]["name"] == "Ben Adeyemi", ben
	said = json.loads(env.r.get(key("rec:said:s-1")))
	assert "discharge letters arrive late" in said["record"]["text"], said
	assert "collaborator" not in said["record"], said
	data = json.loads(env.r.hget(key("d:notice:access:m-1:x"), "data"))
	assert any("c-ben" in l for l in data["lines"]), data
	fj = json.loads(env.r.get(key("future:json")))
	assert fj["keep"] == "other words" and fj["list"] == [], fj
	assert env.r.sismember(key("future:set"), "kept member")
	assert env.r.zscore(key("future:zset"), "kept") == 2
	assert "kept item" in env.r.lrange(key("future:list"), 0, -1)
	assert [e["x"] for e in env.stream("future:stream")] == ["kept entry"]
	assert [e["who"] for e in env.audit_entries() if e.get("event") ==
	    "note"] == ["someone else"]
	assert "Ben Adeyemi" in env.r.hget(
	    key("d:digest:coordinator@example.org:1"), "data")
	# Their preferences and their answer are gone; Ben's stay.
	assert not env.r.exists(key("pref:c-17"))
	assert env.r.hget(key("pref:c-ben"), "format") == "large-print"
	assert not env.r.hexists(key("ans:m-1"), "c-17")
	assert json.loads(env.r.hget(key("ans:m-1"), "c-ben"))["a"] == "maybe"


# ---------------------------------------------------------------------------
# Redis elsewhere (finding 7): through a TLS tunnel (stunnel), and a warning
# when the way to Redis is clear text

def _openssl(*args, cwd):
	subprocess.run(["openssl", *args], cwd=cwd, check=True,
	    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _tls_redis(env):
	"""A second redis-server that speaks TLS only (--port 0), with a
	password, its certificate for redis.test from a CA of the test's own.
	Returns (process, tls port, CA file)."""
	d = env.tmp / "tls"
	d.mkdir()
	_openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
	    "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=hb test CA",
	    cwd=d)
	_openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key",
	    "-out", "srv.csr", "-subj", "/CN=redis.test", cwd=d)
	(d / "ext").write_text("subjectAltName=DNS:redis.test\n")
	_openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey",
	    "ca.key", "-CAcreateserial", "-out", "srv.pem", "-days", "2",
	    "-extfile", "ext", cwd=d)
	port = harness.free_port()
	(d / "data").mkdir()
	p = harness.spawn(["redis-server", "--port", "0", "--tls-port", port,
	    "--bind", "127.0.0.1", "--tls-cert-file", d / "srv.pem",
	    "--tls-key-file", d / "srv.key", "--tls-ca-cert-file", d / "ca.pem",
	    "--tls-auth-clients", "no", "--requirepass", "remote-pw",
	    "--save", "", "--appendonly", "no", "--dir", d / "data"],
	    env.tmp / "redis-tls.log")
	harness.wait_for(lambda: harness.port_open(port), 15,
	    "redis-server's TLS port")
	return p, port, d / "ca.pem"


def _stunnel(env, name, connect_port, ca, check_host):
	"""stunnel's client end on loopback, to connect_port over TLS, the
	certificate checked against ca and check_host. Returns (process,
	local port)."""
	port = harness.free_port()
	conf = env.write_file("%s.conf" % name, "foreground = yes\npid =\n"
	    "[redis]\nclient = yes\naccept = 127.0.0.1:%d\n"
	    "connect = 127.0.0.1:%d\nverifyChain = yes\nCAfile = %s\n"
	    "checkHost = %s\nsslVersionMin = TLSv1.2\n" % (port, connect_port,
	    ca, check_host))
	p = harness.spawn(["stunnel", conf], env.tmp / ("%s.log" % name))
	harness.wait_for(lambda: harness.port_open(port), 15,
	    "stunnel listening on %d" % port)
	return p, port


def test_redis_through_a_tls_tunnel(env):
	import redis
	remote, tls_port, ca = _tls_redis(env)
	tunnel = bad = None
	try:
		tunnel, local = _stunnel(env, "stunnel", tls_port, ca,
		    "redis.test")
		pw = env.write_file("remote-pw", "remote-pw\n", mode=0o600)
		env.write_config({"redis": {"port": local, "tunnel": "yes",
		    "password_file": str(pw)}})
		log0 = _log_size(env) if env.daemon_log.exists() else 0
		env.start_daemon()
		# What the daemon reaches is the TLS-only server: queue there
		# (through the tunnel too) and get the email.
		far = redis.Redis(host="127.0.0.1", port=local,
		    password="remote-pw", decode_responses=True,
		    socket_timeout=10)
		far.xadd(env.key("inbox"), {"record": json.dumps({
		    "type": "collaborator", "id": "c-a", "name": "Amara",
		    "email": "amara@example.org", "consent": True})})
		far.xadd(env.key("inbox"), {"record": json.dumps({
		    "type": "announcement", "id": "a-1", "subject": "Over TLS",
		    "body": "Text.", "to": {"collaborators": ["c-a"]}})})
		env.wait_mails(1, to="amara@example.org")
		assert far.exists(env.key("rec:collaborator:c-a"))
		assert not env.r.exists(env.key("rec:collaborator:c-a"))
		assert env.healthz()[0] == 200
		# A tunnel is declared: no warning.
		assert not _log_lines(env, log0, "clear text")
		env.stop_daemon()

		# A tunnel that cannot trust the server (the certificate is not
		# for the name it checks) passes nothing: Redis is down.
		bad, bad_local = _stunnel(env, "stunnel-bad", tls_port, ca,
		    "other.test")
		env.write_config({"redis": {"port": bad_local}})
		env.start_daemon()
		st, body = env.wait_for(lambda: (lambda r: r[0] == 503 and r)(
		    env.healthz()), 30, "healthz 503 through the bad tunnel")
		assert "redis" in json.dumps(body).lower(), body
		with open(env.tmp / "stunnel-bad.log", errors="replace") as f:
			assert re.search(r"(?i)certificate|verif|check", f.read())
	finally:
		for p in (bad, tunnel, remote):
			harness.stop_process(p)


def test_redis_elsewhere_in_clear_text_is_warned_of(env):
	# hearbackd -t: "config ok" on stdout, the warning on stderr.
	env.write_config({"redis": {"host": "192.0.2.1"}})
	p = subprocess.run([env.build / "hearbackd", "-t", "-c", env.conf],
	    capture_output=True, text=True, timeout=30)
	assert p.returncode == 0 and p.stdout == "config ok\n", p
	assert "warning" in p.stderr and "192.0.2.1:%d" % env.redis_port in \
	    p.stderr and "tunnel = yes" in p.stderr, p.stderr
	# The daemon says it in its log at start-up.
	env.start_daemon()
	env.wait_for(lambda: _log_lines(env, 0, "clear text"), 10,
	    "the start-up warning")
	# And after SIGHUP (a config changed under it).
	n = len(_log_lines(env, 0, "clear text"))
	env.reload()
	env.wait_for(lambda: len(_log_lines(env, 0, "clear text")) > n, 10,
	    "the warning after SIGHUP")
	env.stop_daemon()
	# Loopback, a Unix socket or a declared tunnel: no warning.
	for redis_cfg in ({"host": "127.0.0.1"}, {"host": "::1"},
	    {"host": "192.0.2.1", "socket": str(env.tmp / "r.sock")},
	    {"host": "127.0.0.1", "tunnel": "yes"}):
		env.write_config({"redis": dict({"socket": None,
		    "tunnel": None}, **redis_cfg)})
		p = subprocess.run([env.build / "hearbackd", "-t", "-c",
		    env.conf], capture_output=True, text=True, timeout=30)
		assert p.returncode == 0 and p.stderr == "", (redis_cfg, p)
	# A tunnel declared on a host that is not this machine: the way to
	# it is clear text.
	env.write_config({"redis": {"host": "192.0.2.1", "socket": None,
	    "tunnel": "yes"}})
	p = subprocess.run([env.build / "hearbackd", "-t", "-c", env.conf],
	    capture_output=True, text=True, timeout=30)
	assert p.returncode == 0 and "not a loopback address" in p.stderr, p

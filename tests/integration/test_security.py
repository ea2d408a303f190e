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

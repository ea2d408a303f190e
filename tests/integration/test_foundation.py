"""
test_foundation.py: the working core of issue 2, end to end, against a real
redis-server and a real SMTP server (tests/integration/harness.py).

Announcements to groups and people, send_at, re-queuing, the command
(enqueue and its exit codes, status, forget, dead retry), SIGTERM during a
large send, /healthz and /metrics, config errors and SIGHUP reloads of the
templates.

Tests wait on observable state (emails, Redis keys, the audit stream), never
on the clock. To show that nothing else arrives after an expected event,
they queue a later "marker" record and wait for its email: the daemon takes
records in order, so by then anything that was going to be sent was sent.
"""

import asyncio
import datetime
import json
import re
import shutil
import signal
import ssl
import subprocess
import time
from zoneinfo import ZoneInfo

import harness

LONDON = ZoneInfo("Europe/London")
COORD = "coordinator@example.org"


# ---------------------------------------------------------------------------
# Helpers

def collab(cid, name, email, consent=True, groups=(), fmt=None, **kw):
	r = {"type": "collaborator", "id": cid, "name": name, "email": email,
	    "consent": consent}
	if groups:
		r["groups"] = list(groups)
	if fmt:
		r["format"] = fmt
	r.update(kw)
	return r


def announcement(aid, subject, groups=None, collaborators=None, all_=None,
    body="First paragraph.\n\nSecond paragraph.", send_at=None, **kw):
	to = {}
	if groups is not None:
		to["groups"] = list(groups)
	if collaborators is not None:
		to["collaborators"] = list(collaborators)
	if all_ is not None:
		to["all"] = all_
	r = {"type": "announcement", "id": aid, "subject": subject,
	    "body": body, "to": to}
	if send_at is not None:
		r["send_at"] = send_at
	r.update(kw)
	return r


def london_in(seconds):
	"""(send_at text in Europe/London wall-clock, due as a UTC datetime),
	`seconds` from now, on a whole second."""
	now = datetime.datetime.now(datetime.timezone.utc).replace(
	    microsecond=0)
	due = now + datetime.timedelta(seconds=seconds + 1)
	text = due.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M:%S")
	return text, due


def parse_iso(s):
	return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def wait_idle(env, timeout=harness.WAIT):
	"""Until the inbox is empty (every record taken and acked)."""
	env.wait_for(lambda: env.inbox_len() == 0, timeout,
	    "the inbox to empty (have %d)" % env.inbox_len())


def marker(env, cid="c-marker", email="marker@example.org"):
	"""Queue a collaborator and an announcement to them, and wait for the
	email: everything queued before it has been handled by then."""
	n = len(env.mails_to(email))
	if not env.r.exists(env.key("rec:collaborator:%s" % cid)):
		env.xadd(collab(cid, "Marker Person", email))
	env.xadd(announcement("a-marker-%d" % n, "Marker %d" % n,
	    collaborators=[cid]))
	env.wait_for(lambda: any(m.subject == "Marker %d" % n
	    for m in env.mails_to(email)), what="marker email %d" % n)


def count_by_rcpt(env):
	out = {}
	for m in env.mails:
		for r in m.rcpt_tos:
			out[r.lower()] = out.get(r.lower(), 0) + 1
	return out


def dump_all(env):
	"""Every value under the test's prefix, as one bytes blob per key."""
	out = {}
	for k in env.keys():
		t = env.rb.type(k).decode()
		parts = [k.encode()]
		if t == "string":
			parts.append(env.rb.get(k) or b"")
		elif t == "hash":
			for a, b in env.rb.hgetall(k).items():
				parts += [a, b]
		elif t == "set":
			parts += list(env.rb.smembers(k))
		elif t == "zset":
			parts += list(env.rb.zrange(k, 0, -1))
		elif t == "list":
			parts += env.rb.lrange(k, 0, -1)
		elif t == "stream":
			for eid, fields in env.rb.xrange(k, "-", "+"):
				for a, b in fields.items():
					parts += [a, b]
		out[k] = b"\n".join(parts)
	return out


def status_json(env):
	res = env.cli("status", "--json")
	assert res.rc == 0, res
	return json.loads(res.out)


# ---------------------------------------------------------------------------
# 1. An announcement to a group reaches exactly its consenting members

def test_announcement_to_group_reaches_consenting_members(env):
	env.start_daemon()
	people = [
	    collab("c-zoe", "Zoë Brennan", "zoe@example.org",
		groups=["carers-forum"], fmt="large-print"),
	    collab("c-ben", "Ben Adeyemi", "ben@example.org",
		groups=["carers-forum", "youth"], fmt="plain-text"),
	    collab("c-cara", "Cara Lindqvist", "cara@example.org",
		consent=False, groups=["carers-forum"]),
	    collab("c-dev", "Dev Raghunathan", "dev@example.org",
		groups=["youth"]),
	]
	for p in people:
		env.xadd(p)
	env.xadd(announcement("a-survey", "Help us rewrite the discharge letter",
	    groups=["carers-forum"],
	    body="The survey is short.\n\nIt closes on 8 December."))
	env.wait_mails(1, to="zoe@example.org")
	env.wait_mails(1, to="ben@example.org")
	marker(env)

	assert count_by_rcpt(env) == {"zoe@example.org": 1,
	    "ben@example.org": 1, "marker@example.org": 1}, count_by_rcpt(env)

	zoe = env.mails_to("zoe@example.org")[0]
	ben = env.mails_to("ben@example.org")[0]
	for m, name, cid in ((zoe, "Zoë Brennan", "c-zoe"),
	    (ben, "Ben Adeyemi", "c-ben")):
		assert m.subject == "Help us rewrite the discharge letter", m
		to = m["To"].addresses
		assert len(to) == 1 and to[0].addr_spec == \
		    "%s@example.org" % cid[2:], m["To"]
		assert to[0].display_name == name, m["To"]
		assert str(m["From"]) == "Forum team <forum@example.org>"
		assert m.mail_from == "forum@example.org"
		assert m["Message-ID"].strip() == \
		    "<ann/a-survey/%s@example.org>" % cid, m["Message-ID"]
		assert [a.addr_spec for a in m["Reply-To"].addresses] == [COORD]
		assert str(m["Auto-Submitted"]).strip() == "auto-generated"
		assert "The survey is short." in m.text
		assert "It closes on 8 December." in m.text
		assert b"\r\n" in m.raw and b"\n" not in m.raw.replace(b"\r\n", b"")
	# A non-ASCII display name is encoded (RFC 2047), not sent raw.
	to_raw = [l for l in zoe.raw.split(b"\r\n") if l.startswith(b"To:")][0]
	assert b"=?" in to_raw and "Zoë".encode() not in to_raw, to_raw

	# Large print: multipart/alternative, text then HTML, >= 20px.
	assert zoe.msg.get_content_type() == "multipart/alternative"
	kinds = [p.get_content_type() for p in zoe.msg.iter_parts()]
	assert kinds == ["text/plain", "text/html"], kinds
	sizes = [int(s) for s in re.findall(r"font-size:\s*(\d+)px", zoe.html)]
	assert sizes and max(sizes) >= 20, sizes
	body = re.search(r"<body[^>]*>", zoe.html).group(0)
	m = re.search(r"font-size:\s*(\d+)px", body)
	assert m and int(m.group(1)) >= 20, body
	assert "lang=" in zoe.html

	# Plain text: text/plain only.
	assert ben.msg.get_content_type() == "text/plain", ben.msg.get_content_type()
	assert not ben.msg.is_multipart()
	assert ben.html is None

	# The audit stream: ids only, never names or addresses.
	env.wait_for(lambda: len([a for a in env.audit_entries()
	    if a.get("event") == "sent"]) >= 3, what="3 sent audit entries")
	audit = env.audit_entries()
	sent = sorted((a.get("delivery"), a.get("collaborator"))
	    for a in audit if a.get("event") == "sent" and
	    a.get("kind") == "announcement" and "a-survey" in a.get("delivery", ""))
	assert sent == [("ann:a-survey:c-ben", "c-ben"),
	    ("ann:a-survey:c-zoe", "c-zoe")], sent
	words = ["Zoë", "Brennan", "Ben Adeyemi", "Adeyemi", "Cara", "Lindqvist",
	    "Dev Raghunathan", "Raghunathan", "Marker Person"]
	for a in audit:
		text = json.dumps(a, ensure_ascii=False)
		assert "@" not in text, a
		for w in words:
			assert w not in text, (w, a)

	# Deliveries are stored under their ids; nothing for the others.
	for cid in ("c-zoe", "c-ben"):
		assert env.r.hget(env.key("d:ann:a-survey:%s" % cid),
		    "state") == "sent", cid
	assert not env.keys("d:ann:a-survey:c-cara*")
	assert not env.keys("d:ann:a-survey:c-dev*")
	assert env.inbox_len() == 0


# ---------------------------------------------------------------------------
# 2. send_at in the near future is honoured

def test_send_at_in_the_near_future_is_honoured(env):
	env.start_daemon()
	env.xadd(collab("c-amara", "Amara Okafor", "amara@example.org",
	    groups=["g"]))
	# An hour ahead; the clock is moved there instead of waited for.
	send_at, due = london_in(3600)
	env.xadd(announcement("a-later", "Later today", groups=["g"],
	    send_at=send_at, timezone="Europe/London"))
	wait_idle(env)
	env.wait_for(lambda: env.r.hget(env.key("d:ann:a-later:c-amara"),
	    "state") == "scheduled", what="the delivery to be scheduled")
	st = status_json(env)
	# Seen before the due time: nothing sent yet, one email scheduled.
	assert env.mails == [], env.mails
	assert st["scheduled"] == 1, st
	assert st["next_due"] is not None and parse_iso(st["next_due"]) == due, \
	    (st, due)
	score = env.r.zscore(env.key("schedule"), "ann:a-later:c-amara")
	assert score is not None and int(score) // 1000 == int(due.timestamp()), \
	    (score, due)

	# Ten seconds before it is due: still nothing. Then due.
	env.advance(due.timestamp() - env.now() - 10)
	time.sleep(1.5)
	assert env.mails == [], env.mails
	env.advance(11)
	env.wait_mails(1, to="amara@example.org", timeout=30)
	# The audit is written just after the SMTP server's answer.
	sent = env.wait_for(lambda: [a for a in env.audit_entries()
	    if a.get("event") == "sent" and
	    a.get("delivery") == "ann:a-later:c-amara"], what="the audit entry")
	assert len(sent) == 1, sent
	assert parse_iso(sent[0]["at"]) >= due, (sent[0], due)
	env.wait_for(lambda: status_json(env)["scheduled"] == 0,
	    what="the schedule to empty")


# ---------------------------------------------------------------------------
# 2b. A relay that wants implicit TLS (port 465): tls = tls

def test_implicit_tls_relay_delivers(env):
	"""The sink speaks TLS from the first byte with a certificate for
	127.0.0.1 that the daemon trusts through ca_file: an announcement to two
	people arrives whole, and the audit says sent. The same relay without
	the CA (system store) is refused and nothing arrives."""
	cert, key = env.tmp / "cert.pem", env.tmp / "key.pem"
	subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
	    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
	    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
	    check=True, capture_output=True)
	ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
	ctx.load_cert_chain(str(cert), str(key))
	env.smtp.stop()
	env.smtp.ssl_context = ctx
	env.smtp.start()
	env.write_config({"smtp": {"tls": "tls", "ca_file": str(cert)}})
	env.start_daemon()
	env.xadd(collab("c-amara", "Amara Okafor", "amara@example.org",
	    groups=["g"]))
	env.xadd(collab("c-ben", "Ben Adeyemi", "ben@example.org",
	    groups=["g"], fmt="plain-text"))
	env.xadd(announcement("a-tls", "Sent over TLS", groups=["g"]))
	env.wait_mails(1, to="amara@example.org")
	env.wait_mails(1, to="ben@example.org")
	assert env.mails_to("amara@example.org")[0].subject == "Sent over TLS"
	assert "Second paragraph." in env.mails_to("ben@example.org")[0].text
	env.wait_for(lambda: len([a for a in env.audit_entries()
	    if a.get("event") == "sent"]) == 2, what="two sent in the audit")

	# Without the CA the relay's certificate is not trusted: the daemon says
	# why and keeps the email for a retry (tests/unit/test_sender.c shows
	# that no plain-text connection is made instead).
	env.stop_daemon()
	env.write_config({"smtp": {"ca_file": ""}})
	env.start_daemon()
	env.xadd(announcement("a-tls-2", "Not trusted", groups=["g"]))
	env.wait_for(lambda: env.daemon_log.exists() and
	    "certificate is not trusted" in env.daemon_log.read_text(),
	    what="the certificate refusal in the log")
	assert [m for m in env.mails if m.subject == "Not trusted"] == []
	# Only the operator can mend this: health says so, sends are held and
	# no attempt is used up.
	def refused():
		status, body = env.healthz()
		return status == 503 and "certificate is not trusted" in \
		    body.get("reason", "") and body
	env.wait_for(refused, what="/healthz 503 naming the certificate")
	assert "hearback_smtp_up 0" in env.http_get("/metrics")[1]
	def held():
		h = env.r.hgetall(env.key("d:ann:a-tls-2:c-amara"))
		return h and env.r.zscore(env.key("schedule"),
		    "ann:a-tls-2:c-amara") is not None and h
	h = env.wait_for(held, what="the refused email back in the schedule")
	assert h.get("attempts", "0") in ("", "0"), h
	assert len(env.daemon_log.read_text().split(
	    "holding every email")) == 2, "logged more than once"

	# The CA again, and a reload: it goes out at once.
	env.write_config({"smtp": {"ca_file": str(cert)}})
	env.reload()
	env.wait_for(lambda: [m for m in env.mails_to("amara@example.org")
	    if m.subject == "Not trusted"], what="the held email, sent")
	env.wait_for(lambda: env.healthz()[0] == 200, what="/healthz 200")


# ---------------------------------------------------------------------------
# 3. Re-queuing the same announcement sends nothing more

def test_requeue_unchanged_announcement_sends_nothing(env):
	env.start_daemon()
	env.xadd(collab("c-amara", "Amara Okafor", "amara@example.org",
	    groups=["g"]))
	env.xadd(collab("c-ben", "Ben Adeyemi", "ben@example.org",
	    groups=["g"]))
	a = announcement("a-once", "Only once", groups=["g"])
	env.xadd(a)
	env.wait_mails(1, to="amara@example.org")
	env.wait_mails(1, to="ben@example.org")
	# The same record again, as it was and with its keys in another order.
	env.xadd(a)
	env.xadd(dict(reversed(list(a.items()))))
	# And the people again, unchanged.
	env.xadd(collab("c-amara", "Amara Okafor", "amara@example.org",
	    groups=["g"]))
	wait_idle(env)
	marker(env)
	assert count_by_rcpt(env) == {"amara@example.org": 1,
	    "ben@example.org": 1, "marker@example.org": 1}, count_by_rcpt(env)
	accepted = [x for x in env.audit_entries() if x.get("event") ==
	    "accepted" and x.get("type") == "announcement"]
	assert len(accepted) >= 3, accepted	# all were taken, not rejected
	assert env.dead_entries() == []


def test_ids_with_colons_make_different_deliveries(env):
	"""Ids may hold ':', and a delivery id joins ids. Announcement "a-x:b"
	to "c-y" and announcement "a-x" to "b:c-y" are two emails: both go,
	and correcting one leaves the other's pending email alone."""
	env.start_daemon()
	env.xadd(collab("c-y", "Person Y", "y@example.org"))
	env.xadd(collab("b:c-y", "Person BY", "by@example.org"))
	send_at, _ = london_in(3600)
	env.xadd(announcement("l-x:b", "Later one", collaborators=["c-y"],
	    send_at=send_at))
	env.xadd(announcement("l-x", "Later two", collaborators=["b:c-y"],
	    send_at=send_at))
	wait_idle(env)

	def later():
		return [d for d in env.r.zrange(env.key("schedule"), 0, -1)
		    if d.startswith("ann:l-x")]
	assert len(later()) == 2, later()
	# A correction of one: the other stays scheduled.
	env.xadd(announcement("l-x", "Later two, corrected",
	    collaborators=["b:c-y"], send_at=send_at))
	wait_idle(env)
	assert len(later()) == 2, later()

	env.xadd(announcement("n-x:b", "Now one", collaborators=["c-y"]))
	env.xadd(announcement("n-x", "Now two", collaborators=["b:c-y"]))
	env.wait_mails(1, to="y@example.org")
	env.wait_mails(1, to="by@example.org")
	marker(env)
	y, by = env.mails_to("y@example.org"), env.mails_to("by@example.org")
	assert [m.subject for m in y] == ["Now one"], y
	assert [m.subject for m in by] == ["Now two"], by
	assert y[0]["Message-ID"] != by[0]["Message-ID"]
	assert env.dead_entries() == []


# ---------------------------------------------------------------------------
# 4. hearback enqueue: all or nothing, messages, exit codes

def test_enqueue_all_or_nothing_and_exit_codes(env):
	good_people = [
	    collab("c-amara", "Amara Okafor", "amara@example.org", groups=["g"]),
	    collab("c-ben", "Ben Adeyemi", "ben@example.org"),
	]
	bad = good_people + [
	    dict(collab("c-cara", "Cara Lindqvist", "cara@example.org"),
		consent="yes"),
	    announcement("a-1", "Hello", groups=["g"]),
	]
	env.write_file("bad.json", bad)
	res = env.cli("enqueue", "bad.json")
	assert res.rc == 65, res
	# SPEC: "m.json[2].start: ..."; also accepted: "m.json[2]: start: ...".
	assert re.search(r"bad\.json\[2\](\.|: )consent: ", res.err), res.err
	assert res.out == "", res.out
	assert env.inbox_len() == 0

	# validate: the same form check, no Redis needed.
	res = env.cli("validate", "bad.json")
	assert res.rc == 65 and re.search(r"bad\.json\[2\](\.|: )consent: ",
	    res.err), res

	# A reference to an unknown collaborator (not in Redis, not earlier).
	env.write_file("ann.json", announcement("a-2", "Hi",
	    collaborators=["c-amara", "c-zed"]))
	env.write_file("people.json", good_people)
	res = env.cli("enqueue", "people.json", "ann.json")
	assert res.rc == 65, res
	assert 'no collaborator "c-zed"' in res.err, res.err
	assert "ann.json: to.collaborators[1]: " in res.err, res.err
	assert 'no collaborator "c-amara"' not in res.err, res.err
	assert env.inbox_len() == 0, "a failed enqueue queued something"

	# Good: references to records earlier in the same invocation.
	env.write_file("ann.json", announcement("a-2", "Hi",
	    collaborators=["c-amara", "c-ben"]))
	res = env.cli("enqueue", "people.json", "ann.json")
	assert res.rc == 0, res
	lines = [l.split() for l in res.out.splitlines()]
	entries = [e["id"] for e in env.stream("inbox")]
	assert lines == [["collaborator", "c-amara", entries[0]],
	    ["collaborator", "c-ben", entries[1]],
	    ["announcement", "a-2", entries[2]]], (lines, entries)

	env.start_daemon()
	env.wait_mails(1, to="amara@example.org")
	env.wait_mails(1, to="ben@example.org")

	# A reference to a collaborator that is now in Redis; standard input.
	res = env.cli("enqueue", "-", input=json.dumps(announcement("a-3",
	    "Again", collaborators=["c-ben"])))
	assert res.rc == 0, res
	assert re.fullmatch(r"announcement a-3 \d+-\d+\n", res.out), res.out
	env.wait_for(lambda: any(m.subject == "Again"
	    for m in env.mails_to("ben@example.org")), what="a-3")

	# Redis unreachable: 69.
	cfg = json.loads(json.dumps(env.config))
	cfg["redis"]["port"] = str(harness.free_port())
	noredis = env.tmp / "noredis.conf"
	harness.write_config(noredis, cfg)
	res = env.cli("-c", noredis, "enqueue", "people.json", config=False)
	assert res.rc == 69, res
	# ... but validate does not need Redis.
	res = env.cli("-c", noredis, "validate", "people.json", config=False)
	assert res.rc == 0, res

	# Bad configuration: 78.
	badconf = env.write_file("bad.conf", env.conf.read_text() +
	    "\n[smtp]\ncolour = blue\n")
	res = env.cli("-c", badconf, "enqueue", "people.json", config=False)
	assert res.rc == 78, res
	assert "colour" in res.err and "bad.conf" in res.err, res.err


# ---------------------------------------------------------------------------
# 5. SIGTERM during a send of 200 emails: none lost, none twice

def test_sigterm_during_200_emails_loses_none_sends_none_twice(env):
	n = 200
	# Each message takes the SMTP server a little while (20 ms), so that
	# the SIGTERM surely comes in the middle of the send.
	orig = env.smtp.handler.handle_DATA

	async def slow_data(server, session, envelope):
		await asyncio.sleep(0.02)
		return await orig(server, session, envelope)
	env.smtp.handler.handle_DATA = slow_data
	env.start_daemon()
	pipe = env.r.pipeline(transaction=False)
	for i in range(n):
		pipe.xadd(env.key("inbox"), {"record": json.dumps(collab(
		    "c-%03d" % i, "Person %03d" % i, "p%03d@example.org" % i,
		    groups=["big"]))})
	pipe.execute()
	env.xadd(announcement("a-big", "To everyone in big", groups=["big"]))
	env.wait_for(lambda: len(env.mails) >= 10, 60, "the send to start")
	env.send_signal(signal.SIGTERM)
	rc = env.wait_daemon_exit(40)
	assert rc == 0, "hearbackd exited %s on SIGTERM" % rc
	sent_before = len(env.mails)
	assert sent_before < n, "all sent before SIGTERM: the test proves nothing"
	assert env.r.zcard(env.key("schedule")) > 0

	env.start_daemon()
	want = {"p%03d@example.org" % i for i in range(n)}
	env.wait_for(lambda: want <= set(count_by_rcpt(env)), 90,
	    "all %d recipients (sent before SIGTERM: %d)" % (n, sent_before))
	marker(env)
	counts = count_by_rcpt(env)
	twice = {a: c for a, c in counts.items() if c != 1}
	assert not twice, "sent more than once: %r" % twice
	assert set(counts) == want | {"marker@example.org"}, \
	    set(counts) ^ (want | {"marker@example.org"})
	ids = [m["Message-ID"].strip() for m in env.mails]
	assert len(ids) == len(set(ids)), "duplicate Message-IDs"
	env.wait_for(lambda: env.r.zcard(env.key("schedule")) == 0,
	    what="the schedule to empty")
	env.wait_for(lambda: len([a for a in env.audit_entries()
	    if a.get("event") == "sent"]) >= n + 1, what="the audit entries")
	sent = [a["delivery"] for a in env.audit_entries()
	    if a.get("event") == "sent" and a.get("kind") == "announcement" and
	    a.get("delivery", "").startswith("ann:a-big:")]
	assert len(sent) == n and len(set(sent)) == n, (len(sent),
	    len(set(sent)))
	assert env.dead_entries() == []


# ---------------------------------------------------------------------------
# 6. /healthz and /metrics

def _metric(text, name, labels=None):
	"""The value of one sample, or None."""
	if labels:
		lab = ",".join('%s="%s"' % kv for kv in labels.items())
		pat = r"^%s\{%s\} (\S+)$" % (re.escape(name), re.escape(lab))
	else:
		pat = r"^%s (\S+)$" % re.escape(name)
	m = re.search(pat, text, re.M)
	return float(m.group(1)) if m else None


def test_healthz_and_metrics(env):
	env.start_daemon()
	# The port listens before both Redis connections have answered.
	def healthy():
		h = env.healthz()
		return h if h[0] == 200 else None
	status, body = env.wait_for(healthy, what="/healthz to answer 200")
	assert body.get("status") == "ok", (status, body)

	env.xadd(collab("c-amara", "Amara Okafor", "amara@example.org",
	    groups=["g"]))
	env.xadd(collab("c-ben", "Ben Adeyemi", "ben@example.org",
	    groups=["g"]))
	env.xadd(announcement("a-1", "Metrics", groups=["g"]))
	env.xadd('{"type": "venue"')		# rejected: not JSON
	env.wait_mails(2)
	env.wait_mails(1, to=COORD)
	wait_idle(env)

	def metrics():
		st, text = env.http_get("/metrics")
		assert st == 200, st
		return text
	# The gauges are refreshed together every few seconds, and a refresh
	# may fall between two steps of the work: wait for all of them.
	def settled():
		t = metrics()
		ok = (_metric(t, "hearback_emails_total",
		    {"kind": "announcement", "outcome": "sent"}) == 2 and
		    _metric(t, "hearback_dead_entries") == 1 and
		    _metric(t, "hearback_scheduled") == 0 and
		    _metric(t, "hearback_inbox_backlog") == 0)
		return t if ok else None
	text = env.wait_for(settled, 20,
	    "hearback_emails_total{announcement,sent} 2, "
	    "hearback_dead_entries 1, hearback_scheduled 0, "
	    "hearback_inbox_backlog 0")
	ctype = env.last_http_headers.get("Content-Type", "")
	assert ctype.startswith("text/plain") and "version=0.0.4" in ctype, ctype
	assert _metric(text, "hearback_records_accepted_total",
	    {"type": "collaborator"}) == 2, text
	assert _metric(text, "hearback_records_accepted_total",
	    {"type": "announcement"}) == 1, text
	rejected = sum(float(v) for v in re.findall(
	    r"^hearback_records_rejected_total\{[^}]*\} (\S+)$", text, re.M))
	assert rejected == 1, text
	assert _metric(text, "hearback_emails_total",
	    {"kind": "announcement", "outcome": "failed"}) in (0, None), text
	assert _metric(text, "hearback_inbox_backlog") == 0, text
	assert _metric(text, "hearback_scheduled") == 0, text
	assert _metric(text, "hearback_dead_entries") == 1, text
	assert _metric(text, "hearback_redis_up") == 1, text
	for line in text.splitlines():
		if line and not line.startswith("#"):
			assert line.startswith("hearback_"), line

	# Redis goes away: 503 saying why; back: 200, and work goes on.
	env.stop_redis()
	st, body = env.wait_for(lambda: (lambda r: r[0] == 503 and r)(
	    env.healthz()), what="healthz 503 with Redis stopped")
	assert "status" in body and body["status"] != "ok", body
	assert re.search(r"redis", json.dumps(body), re.I), body
	env.wait_for(lambda: _metric(metrics(), "hearback_redis_up") == 0,
	    what="hearback_redis_up 0")
	env.start_redis()		# empty: no AOF
	env.wait_for(lambda: env.healthz()[0] == 200, 40,
	    "healthz 200 after Redis is back")
	env.xadd(collab("c-cara", "Cara Lindqvist", "cara@example.org"))
	env.xadd(announcement("a-2", "After the outage",
	    collaborators=["c-cara"]))
	env.wait_mails(1, to="cara@example.org", timeout=40)
	assert env.mails_to("cara@example.org")[0].subject == "After the outage"


# ---------------------------------------------------------------------------
# 7. forget

def test_forget_erases_person_and_pending_deliveries(env):
	env.start_daemon()
	# Ids that do not hold the name: the id may stay (in the audit).
	amara = collab("c-17", "Amara Okafor", "amara.okafor@example.org",
	    groups=["g"], access_needs=["step-free"])
	env.xadd(amara)
	env.xadd(collab("c-ben", "Ben Adeyemi", "ben@example.org",
	    groups=["g"]))
	env.xadd({"type": "said", "id": "s-1", "collaborator": "c-17",
	    "text": "Discharge letters arrive after people are home."})
	env.xadd(announcement("a-now", "Sent now", groups=["g"]))
	env.wait_mails(1, to="amara.okafor@example.org")
	env.wait_mails(1, to="ben@example.org")
	# An hour ahead: `forget` runs first; then the clock is moved.
	send_at, due = london_in(3600)
	env.xadd(announcement("a-later", "Sent later", groups=["g"],
	    send_at=send_at))
	env.wait_for(lambda: env.r.zscore(env.key("schedule"),
	    "ann:a-later:c-17") is not None, what="a-later scheduled")

	res = env.cli("forget", "c-17")
	assert res.rc == 0, res
	assert re.fullmatch(r"forget c-17 \d+-\d+\n", res.out), res.out
	wait_idle(env)
	env.wait_for(lambda: not env.r.exists(
	    env.key("rec:collaborator:c-17")), what="the profile to go")
	assert env.r.zscore(env.key("schedule"), "ann:a-later:c-17") is None
	assert env.r.zscore(env.key("schedule"), "ann:a-later:c-ben") is not None

	# Ben's copy of a-later goes out; Amara's never does.
	env.advance(due.timestamp() - env.now() + 1)
	env.wait_for(lambda: any(m.subject == "Sent later"
	    for m in env.mails_to("ben@example.org")), 60, "a-later to Ben")
	marker(env)
	assert [m.subject for m in env.mails_to("amara.okafor@example.org")] \
	    == ["Sent now"]
	assert not env.r.sismember(env.key("group:g"), "c-17")
	assert not env.r.sismember(env.key("collaborators"), "c-17")
	# Their words stay, unattributed.
	said = env.r.get(env.key("rec:said:s-1"))
	assert said and "Discharge letters arrive" in said, said
	assert "c-17" not in said, said

	leaks = {}
	for k, blob in dump_all(env).items():
		low = blob.lower()
		for w in (b"amara.okafor@example.org", b"amara", b"okafor"):
			if w in low:
				leaks.setdefault(k, []).append(w.decode())
	assert not leaks, "keys still holding the name or address: %r" % leaks


def test_forget_erases_name_from_dead_records(env):
	# A record about the person that was rejected is still in Redis (the
	# dead stream holds its text): forgetting them must erase that too.
	env.start_daemon()
	bad = collab("c-17", "Amara Okafor", "amara.okafor@example.org")
	bad["acess"] = ["step-free"]
	env.xadd(bad)
	env.xadd(collab("c-17", "Amara Okafor", "amara.okafor@example.org"))
	wait_idle(env)
	env.wait_for(lambda: env.dead_entries(), what="the dead entry")
	assert b"okafor" in dump_all(env)[env.key("dead")].lower(), \
	    "the dead entry does not hold the record"
	res = env.cli("forget", "c-17")
	assert res.rc == 0, res
	wait_idle(env)
	env.wait_for(lambda: not env.r.exists(
	    env.key("rec:collaborator:c-17")), what="the profile to go")
	leaks = [k for k, blob in dump_all(env).items()
	    if b"okafor" in blob.lower()]
	assert not leaks, "keys still holding the name or address: %r" % leaks


# ---------------------------------------------------------------------------
# 8. dead retry

def test_failed_for_good_then_dead_retry_sends_once(env):
	env.start_daemon()
	env.smtp.reject("ben@example.org")
	env.xadd(collab("c-ben", "Ben Adeyemi", "ben@example.org"))
	env.xadd(announcement("a-1", "Will bounce", collaborators=["c-ben"]))
	dead = env.wait_for(lambda: [d for d in env.dead_entries()
	    if d.get("delivery")], what="a dead delivery")
	assert len(dead) == 1, dead
	d = dead[0]
	assert d["delivery"] == "ann:a-1:c-ben", d
	assert d["kind"] == "announcement" and d["collaborator"] == "c-ben", d
	assert "550" in d["last_reply"], d
	assert d["attempts"] == "1", d		# 5xx: not retried
	for f in ("error", "at", "first_try", "last_try"):
		assert d.get(f), (f, d)
	assert "ben@example.org" not in json.dumps(d), d
	assert env.r.hget(env.key("d:ann:a-1:c-ben"), "state") == "dead"
	assert env.r.zscore(env.key("schedule"), "ann:a-1:c-ben") is None
	failed = env.wait_for(lambda: [a for a in env.audit_entries()
	    if a.get("event") == "failed"], what="a failed audit entry")
	assert len(failed) == 1 and failed[0].get("code") == "550", failed

	env.wait_mails(1, to=COORD)
	assert env.mails_to("ben@example.org") == []

	res = env.cli("dead", "list")
	assert res.rc == 0 and d["id"] in res.out and "ann:a-1:c-ben" in res.out, \
	    res
	res = env.cli("dead", "show", d["id"])
	assert res.rc == 0 and "550" in res.out, res

	env.smtp.unreject()
	res = env.cli("dead", "retry", d["id"])
	assert res.rc == 0, res
	env.wait_mails(1, to="ben@example.org", timeout=40)
	marker(env)
	got = env.mails_to("ben@example.org")
	assert len(got) == 1, got
	assert got[0]["Message-ID"].strip() == "<ann/a-1/c-ben@example.org>"
	assert len(env.mails_to(COORD)) == 1, env.mails_to(COORD)
	assert not [x for x in env.dead_entries() if x.get("delivery")], \
	    env.dead_entries()
	env.wait_for(lambda: env.r.hget(env.key("d:ann:a-1:c-ben"), "state")
	    == "sent", what="the delivery's state to be sent")
	res = env.cli("dead", "retry", d["id"])
	assert res.rc != 0, res


# ---------------------------------------------------------------------------
# 9. status

def test_status_matches_reality(env):
	env.start_daemon()
	for cid in ("c-a", "c-b", "c-c"):
		env.xadd(collab(cid, "Person " + cid, "%s@example.org" % cid,
		    groups=["g"]))
	env.xadd(announcement("a-now", "Now", groups=["g"]))
	send_at, due = london_in(3600)
	env.xadd(announcement("a-later", "Later", collaborators=["c-a"],
	    send_at=send_at))
	env.xadd("[1, 2")
	env.wait_mails(3, to=None)
	env.wait_mails(1, to=COORD)
	wait_idle(env)
	env.wait_for(lambda: status_json(env)["sent"] ==
	    {"announcement": 3, "notice": 1}, what="sent counts")
	st = status_json(env)
	assert st["inbox_backlog"] == 0, st
	assert st["scheduled"] == 1, st
	assert st["next_due"] and parse_iso(st["next_due"]) == due, (st, due)
	assert st["dead"] == 1, st
	assert st["said_open"] == 0 and st["said_overdue"] == 0, st
	assert set(st) >= {"inbox_backlog", "scheduled", "next_due", "dead",
	    "said_open", "said_overdue", "sent"}, st

	res = env.cli("status")
	assert res.rc == 0, res
	assert re.search(r"inbox backlog:\s+0\b", res.out), res.out
	assert re.search(r"scheduled emails:\s+1\b", res.out), res.out
	assert re.search(r"dead entries:\s+1\b", res.out), res.out
	assert re.search(r"\bannouncement 3\b", res.out), res.out
	assert re.search(r"\bnotice 1\b", res.out), res.out

	res = env.cli("status", "--bogus")
	assert res.rc == 64, res


# ---------------------------------------------------------------------------
# 10. config errors

def _run_daemon(env, conf):
	p = subprocess.run([str(env.build / "hearbackd"), "-c", str(conf), "-f"],
	    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20,
	    stdin=subprocess.DEVNULL, cwd=env.tmp)
	return p.returncode, p.stdout.decode("utf-8", "replace")


def _bad_config(env, name, section, key, value):
	"""The test's config with one bad line; (path, line number)."""
	cfg = json.loads(json.dumps(env.config))
	cfg.setdefault(section, {})[key] = value
	path = env.tmp / name
	harness.write_config(path, cfg)
	lines = path.read_text().splitlines()
	cur = None
	for i, l in enumerate(lines, 1):
		if l.startswith("["):
			cur = l.strip("[]")
		elif cur == section and l.split("=")[0].strip() == key:
			return path, i
	raise AssertionError("line not written")


def test_config_errors_exit_78_naming_file_line_key(env):
	cases = [
	    ("unknown-key.conf", "smtp", "colour", "blue", True),
	    ("unknown-section.conf", "smpt", "host", "127.0.0.1", False),
	    ("bad-duration.conf", "delivery", "retry_min", "5x", True),
	    ("bad-tz.conf", "delivery", "timezone", "Europe/Londres", True),
	    ("bad-from.conf", "smtp", "from", "Forum team <forum@>", True),
	]
	problems = []
	for name, section, key, value, line_known in cases:
		path, line = _bad_config(env, name, section, key, value)
		rc, out = _run_daemon(env, path)
		want = key if section != "smpt" else "smpt"
		if rc != 78 or str(path) not in out or want not in out or \
		    ("line %d" % line not in out and ":%d:" % line not in out):
			problems.append((name, rc, out.strip()[-300:]))
	# tls = none with a host that is not loopback.
	cfg = json.loads(json.dumps(env.config))
	cfg["smtp"]["host"] = "mail.example.org"
	path = env.tmp / "tls-none.conf"
	harness.write_config(path, cfg)
	rc, out = _run_daemon(env, path)
	if rc != 78 or str(path) not in out or "tls" not in out:
		problems.append(("tls-none.conf", rc, out.strip()[-300:]))
	# An unreadable file.
	path = env.tmp / "missing.conf"
	rc, out = _run_daemon(env, path)
	if rc != 78 or str(path) not in out:
		problems.append(("missing.conf", rc, out.strip()[-300:]))
	assert not problems, "\n".join(repr(p) for p in problems)

	# The command reads the same file, with the same verdict.
	path, line = _bad_config(env, "cli.conf", "delivery", "retry_min", "5x")
	res = env.cli("-c", path, "status", config=False)
	assert res.rc == 78 and "retry_min" in res.err and str(path) in res.err, \
	    res


# ---------------------------------------------------------------------------
# 11. SIGHUP reloads the templates; a broken set keeps the old one

def test_sighup_reloads_templates_and_keeps_old_on_error(env):
	tdir = env.tmp / "templates"
	shutil.copytree(harness.TEMPLATES_DIR, tdir)
	env.write_config({"templates": {"dir": str(tdir)}})
	env.start_daemon()
	env.xadd(collab("c-amara", "Amara Okafor", "amara@example.org"))
	env.xadd(announcement("a-1", "First", collaborators=["c-amara"]))
	env.wait_mails(1, to="amara@example.org")
	assert env.mails_to("amara@example.org")[0].subject == "First"

	def reloads():
		return harness.tail(env.daemon_log, 100000).count("reloaded ")

	def refusals():
		return harness.tail(env.daemon_log, 100000).count("reload: keeping")

	subj = tdir / "announcement.standard.subject"
	subj.write_text("Changed: {{announcement.subject}}\n")
	n = reloads()
	env.reload()
	env.wait_for(lambda: reloads() > n, what="the reload to be logged")
	env.xadd(announcement("a-2", "Second", collaborators=["c-amara"]))
	env.wait_mails(2, to="amara@example.org")
	assert env.mails_to("amara@example.org")[1].subject == "Changed: Second"

	# A broken set: an unclosed section. The old (changed) set stays.
	(tdir / "announcement.standard.html").write_text(
	    "{{#announcement.paragraphs}}<p>{{.}}</p>\n")
	subj.write_text("Broken: {{announcement.subject}}\n")
	n = refusals()
	env.reload()
	env.wait_for(lambda: refusals() > n, what="the refusal to be logged")
	env.xadd(announcement("a-3", "Third", collaborators=["c-amara"]))
	env.wait_mails(3, to="amara@example.org")
	m = env.mails_to("amara@example.org")[2]
	assert m.subject == "Changed: Third", m.subject
	assert m.html and "<p>First paragraph.</p>" in m.html, m.html
	env.check_daemon()

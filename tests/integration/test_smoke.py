"""
test_smoke.py: the harness itself, without the daemon: its Redis, its SMTP
server (and the failures it can be told to make), its config file.
"""

import json
import smtplib
import time
from email.message import EmailMessage

import harness


def _send(env, to, subject="hello", body="Hi there.\n"):
	m = EmailMessage()
	m["From"] = "Forum team <forum@example.org>"
	m["To"] = to
	m["Subject"] = subject
	m.set_content(body)
	with smtplib.SMTP("127.0.0.1", env.smtp.port, timeout=10) as s:
		return s.send_message(m)


def test_redis_streams(env):
	assert env.r.ping()
	assert env.key("inbox") == "{%s}:inbox" % env.prefix
	rec = {"type": "collaborator", "id": "c-amara", "name": "Amara Okafor",
	    "email": "amara@example.org", "consent": True}
	eid = env.xadd(rec)
	env.xadd("not json {")
	assert env.inbox_len() == 2
	entries = env.stream("inbox")
	assert [e["id"] for e in entries][0] == eid
	assert json.loads(entries[0]["record"]) == rec
	assert entries[1]["record"] == "not json {"
	assert env.dead_entries() == [] and env.audit_entries() == []
	env.r.xadd(env.key("dead"), {"error": "type: missing", "at": "now",
	    "record": "{}"})
	assert [d["error"] for d in env.dead_entries()] == ["type: missing"]
	assert env.key("inbox") in env.keys() and env.key("dead") in env.keys()


def test_redis_restart_keeps_nothing_without_aof(env):
	env.xadd({"type": "forget", "collaborator": "c-x"})
	env.restart_redis()
	assert env.inbox_len() == 0


@harness.env_options(aof=True)
def test_redis_restart_keeps_data_with_aof(env):
	env.xadd({"type": "forget", "collaborator": "c-x"})
	env.restart_redis(sig=harness.signal.SIGKILL)
	assert env.inbox_len() == 1


def test_smtp_sink_records_and_fails_on_demand(env):
	_send(env, "Amara Okafor <amara@example.org>", subject="Café")
	got = env.wait_mails(1, to="amara@example.org", timeout=10)
	m = got[0]
	assert m.mail_from == "forum@example.org"
	assert m.rcpt_tos == ["amara@example.org"]
	assert m.subject == "Café"
	assert m["To"].addresses[0].display_name == "Amara Okafor"
	assert m.text == "Hi there.\n"
	assert b"Hi there." in m.raw and b"Subject: =?utf-8?" in m.raw

	env.smtp.reject("ben@example.org")
	try:
		_send(env, "ben@example.org")
		raise AssertionError("550 expected")
	except smtplib.SMTPRecipientsRefused as e:
		assert e.recipients["ben@example.org"][0] == 550
	assert env.smtp.rejected == ["ben@example.org"]
	env.smtp.unreject()

	env.smtp.tempfail_every(2)		# attempts so far: 1
	try:
		_send(env, "cara@example.org")	# attempt 2: 451
		raise AssertionError("451 expected")
	except smtplib.SMTPDataError as e:
		assert e.smtp_code == 451
	_send(env, "cara@example.org")		# attempt 3: accepted
	env.smtp.tempfail_every(0)
	assert len(env.mails_to("cara@example.org")) == 1

	env.smtp.tempfail_all(30)
	try:
		_send(env, "dee@example.org")
		raise AssertionError("451 expected")
	except smtplib.SMTPDataError as e:
		assert e.smtp_code == 451
	env.smtp.tempfail_all(0)
	assert env.smtp.tempfailed == 2

	env.smtp.stop()
	try:
		_send(env, "dee@example.org")
		raise AssertionError("connection refused expected")
	except OSError:
		pass
	env.smtp.start()
	_send(env, "dee@example.org")
	assert len(env.mails_to("dee@example.org")) == 1
	assert len(env.mails) == 3


def test_smtp_one_connection_many_messages(env):
	# The daemon's client sends many messages per connection.
	with smtplib.SMTP("127.0.0.1", env.smtp.port, timeout=10) as s:
		for i in range(30):
			s.sendmail("forum@example.org", ["amara@example.org"],
			    b"Subject: n%d\r\n\r\nbody\r\n" % i)
	assert [m.subject for m in env.mails] == ["n%d" % i for i in range(30)]


def test_config_file(env):
	cfg = harness.read_config(env.conf)
	assert set(cfg) == {"redis", "smtp", "delivery", "notify",
	    "templates", "http", "daemon"}
	assert cfg["redis"]["port"] == str(env.redis_port)
	assert cfg["redis"]["prefix"] == env.prefix
	assert cfg["redis"]["password_file"] == ""
	assert cfg["smtp"]["port"] == str(env.smtp.port)
	assert cfg["smtp"]["tls"] == "none"
	assert cfg["smtp"]["from"] == "Forum team <forum@example.org>"
	assert cfg["http"]["listen"] == "127.0.0.1:%d" % env.http_port
	assert cfg["templates"]["dir"].endswith("config/templates")

	env.write_config({"delivery": {"reminders": "40s, 20s"},
	    "http": {"listen": ""}, "smtp": {"ca_file": None}})
	cfg = harness.read_config(env.conf)
	assert cfg["delivery"]["reminders"] == "40s, 20s"
	assert cfg["http"]["listen"] == ""
	assert "ca_file" not in cfg["smtp"]


def test_installed_config_parses():
	cfg = harness.read_config(harness.REPO / "config" / "hearback.conf")
	assert cfg["redis"]["prefix"] == "hearback"
	assert cfg["redis"]["password_file"] == ""
	assert cfg["smtp"]["tls"] == "starttls"
	assert cfg["delivery"]["reminders"] == "7d, 1d, 2h"
	assert cfg["http"]["listen"] == "127.0.0.1:9187"


def test_wait_for_times_out_clearly():
	t0 = time.monotonic()
	try:
		harness.wait_for(lambda: 0, 0.2, "the number one")
		raise AssertionError("WaitTimeout expected")
	except harness.WaitTimeout as e:
		assert "the number one" in str(e) and "0.2s" in str(e)
	assert time.monotonic() - t0 < 5
	assert harness.wait_for(lambda: [1], 1, "a list") == [1]


def test_examples_are_json():
	d = harness.REPO / "config" / "examples"
	files = sorted(d.glob("*.json"))
	assert files, "no examples in %s" % d
	types = []
	for f in files:
		v = json.loads(f.read_text(encoding="utf-8"))
		for r in v if isinstance(v, list) else [v]:
			types.append(r["type"])
	for t in ("collaborator", "venue", "meeting", "announcement"):
		assert t in types, t

"""
test_badinput.py: records that must not be accepted, queued with plain
XADD the way any Redis client may (the command would refuse most of them).

Each lands in {P}:dead with an error that names the field and says what is
wrong, is acknowledged (the inbox ends empty), produces exactly one notice to
its coordinator, and does not stop the daemon: a good record queued after
them all is still delivered. The daemon's log names nobody.
"""

import json
import re

import harness

COORD = "coordinator@example.org"
LEAD = "lead@example.org"		# a record's own coordinator
LIMIT = 65536

# Names used in the bad records: none may reach the daemon's log.
NAMES = ["Quentin Fairweather", "Rosalind Pemberton", "Tobias Okonkwo",
    "Ursula Vantongeren", "Winifred Achterberg", "Sybilla Marchetti",
    "Xanthe Brightwater", "Gideon Goodfellow"]


def _collab(**kw):
	r = {"type": "collaborator", "id": "c-bad", "name": NAMES[0],
	    "email": "quentin@example.org", "consent": True}
	r.update(kw)
	return r


def _ann(**kw):
	r = {"type": "announcement", "id": "a-bad", "subject": "Hello",
	    "body": "Text.", "to": {"groups": ["g"]}}
	r.update(kw)
	return r


def _nested(depth):
	return ('{"type": "collaborator", "id": "c-deep", "name": "x", '
	    '"email": "d@example.org", "consent": true, "groups": ' +
	    "[" * depth + "]" * depth + "}")


def cases():
	"""(label, how to queue: str/bytes/dict/list or ("field", value),
	substrings the error must hold (case-insensitive), error prefix or
	None, coordinator to be told)."""
	big = _ann(id="a-big", body="x" * (LIMIT + 10))
	big_text = json.dumps(big)
	return [
	    ("malformed JSON", '{"type": "collaborator", "id": "c-x", ',
		[], "not JSON: line", COORD),
	    ("JSON array", json.dumps([_collab()]), ["object"], None, COORD),
	    ("consent yes", _collab(consent="yes"), ["consent:"], None, COORD),
	    ("to.all string", _ann(to={"all": "true"}), ["to.all:"], None,
		COORD),
	    ("groups string", _collab(groups="carers-forum"), ["groups:"],
		None, COORD),
	    ("unknown field acess", _collab(name=NAMES[1],
		coordinator=LEAD, acess=["step-free"]), ["acess"], None, LEAD),
	    ("CR/LF in subject", _ann(subject="Hello\r\nBcc: all@example.org"),
		["subject:"], None, COORD),
	    ("CR/LF in name", _collab(name=NAMES[2] + "\r\nBcc: x@example.org"),
		["name:"], None, COORD),
	    ("too large", big_text, ["too large: %d bytes, limit %d" %
		(len(big_text.encode()), LIMIT)], "too large:", COORD),
	    ("unknown collaborator", _ann(to={"collaborators": ["c-zed"]}),
		["to.collaborators", 'no collaborator "c-zed"'], None, COORD),
	    ("unknown type", {"type": "meetup", "id": "x-1"},
		["type:", "meetup"], None, COORD),
	    ("missing type", {"id": "c-nt", "name": NAMES[3],
		"email": "nt@example.org", "consent": True}, ["type"], None,
		COORD),
	    ("invalid email", _collab(name=NAMES[4],
		email="winifred@@example..org"), ["email:"], None, COORD),
	    ("bad id", _collab(id="-bad id!"), ["id:"], None, COORD),
	    ("no record field", ("recrod", json.dumps(_collab())), ["record"],
		None, COORD),
	    ("10000 levels deep", _nested(10000), [], "not JSON", COORD),
	    # \u0000 is valid JSON: the string rule (no control characters)
	    # rejects it, and the error names the field.
	    ("NUL in name", '{"type": "collaborator", "id": "c-nul", '
		'"name": "Sybilla\\u0000Marchetti", "email": "n@example.org", '
		'"consent": true}', ["name:"], None, COORD),
	    # Not JSON, in the middle of a name: the error may quote the
	    # text near the fault, but the log must not.
	    ("bad escape in name", '{"type": "collaborator", "id": "c-esc", '
		'"name": "Xanthe \\q Brightwater", "email": "x@example.org", '
		'"consent": true}', [], "not JSON: line", COORD),
	    ("empty object", "{}", ["type"], None, COORD),
	]


def utf8_cases():
	"""Records whose bytes are not all UTF-8 text, in the same form."""
	# Over the limit, with the cut at LIMIT bytes inside a 2-byte "é".
	pad = ""
	while True:
		text = json.dumps(_ann(id="a-big-utf8", subject="Café",
		    body=pad + "é" * (LIMIT // 2 + 10)), ensure_ascii=False)
		try:
			text.encode()[:LIMIT].decode()
		except UnicodeDecodeError:
			break
		pad += "x"
	return [
	    ("invalid UTF-8", b'{"type": "collaborator", "id": "c-u", '
		b'"name": "Bad \xff\xfe bytes", "email": "u@example.org", '
		b'"consent": true}', ["utf-8"], None, COORD),
	    ("too large, cut inside a character", text,
		["too large: %d bytes, limit %d" % (len(text.encode()), LIMIT)],
		"too large:", COORD),
	]


def queue_bad_then_good(env, which=cases):
	"""Queue every bad case and then good records; wait until the good
	email arrived and every notice went out. Returns {entry id: case}."""
	env.start_daemon()
	by_entry = {}
	for c in which():
		what = c[1]
		if isinstance(what, tuple):
			eid = env.r.xadd(env.key("inbox"), {what[0]: what[1]})
		elif isinstance(what, bytes):
			eid = env.rb.xadd(env.key("inbox"), {b"record": what})
			eid = eid.decode()
		else:
			eid = env.xadd(what)
		by_entry[eid] = c
	env.xadd({"type": "collaborator", "id": "c-good",
	    "name": "Gideon Goodfellow", "email": "good@example.org",
	    "consent": True, "groups": ["g"]})
	env.xadd({"type": "announcement", "id": "a-good",
	    "subject": "Still here", "body": "This one is fine.",
	    "to": {"groups": ["g"]}})
	env.wait_mails(1, to="good@example.org", timeout=20)
	env.wait_for(lambda: env.inbox_len() == 0, what="the inbox to empty")
	n = len(by_entry)
	env.wait_for(lambda: len(env.dead_entries()) >= n, what="%d dead" % n)
	want = sum(1 for c in by_entry.values() if c[4] == COORD)
	if want:
		env.wait_mails(want, to=COORD, timeout=30)
	if n - want:
		env.wait_mails(n - want, to=LEAD, timeout=30)
	# A marker, so that anything more would have arrived by now.
	env.xadd({"type": "announcement", "id": "a-marker", "subject": "Marker",
	    "body": "Last.", "to": {"collaborators": ["c-good"]}})
	env.wait_for(lambda: any(m.subject == "Marker"
	    for m in env.mails_to("good@example.org")), what="the marker")
	return by_entry


def test_bad_records_go_to_dead_with_clear_errors(env):
	check_dead(env, queue_bad_then_good(env))


def test_non_utf8_records_go_to_dead(env):
	# Bytes that are not UTF-8, and a record over the cap whose cut falls
	# inside a character: the dead entry must still be written (and the
	# inbox must not stall behind it).
	check_dead(env, queue_bad_then_good(env, utf8_cases))


def check_dead(env, by_entry):
	dead = env.dead_entries()
	problems = []
	seen = {}
	for d in dead:
		seen.setdefault(d.get("entry"), []).append(d)
	for eid, (label, what, subs, prefix, _) in by_entry.items():
		ds = seen.get(eid, [])
		if len(ds) != 1:
			problems.append("%s: %d dead entries for inbox entry %s" %
			    (label, len(ds), eid))
			continue
		d = ds[0]
		err = d.get("error", "")
		for s in subs:
			if s.lower() not in err.lower():
				problems.append("%s: error %r does not mention %r" %
				    (label, err, s))
		if prefix and not err.startswith(prefix):
			problems.append("%s: error %r does not start with %r" %
			    (label, err, prefix))
		if not err:
			problems.append("%s: empty error" % label)
		if not re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d", d.get("at", "")):
			problems.append("%s: at %r is not an ISO time" %
			    (label, d.get("at")))
		if "record" not in d and not isinstance(what, tuple):
			problems.append("%s: no record field: %r" % (label, d))
		elif "record" in d and len(env.rb.xrange(env.key("dead"),
		    d["id"], d["id"])[0][1].get(b"record", b"")) > LIMIT:
			problems.append("%s: stored record longer than %d" %
			    (label, LIMIT))
	# The record is kept as it came (cut to the limit).
	for eid, c in by_entry.items():
		d = seen.get(eid, [None])[0]
		if d is None or isinstance(c[1], tuple):
			continue
		raw = env.rb.xrange(env.key("dead"), d["id"], d["id"])[0][1] \
		    .get(b"record", b"")
		orig = c[1] if isinstance(c[1], bytes) else (c[1]
		    if isinstance(c[1], str) else json.dumps(c[1],
		    ensure_ascii=False)).encode()
		# Cut to the limit; a cut may drop a partial character.
		# Bytes that are not UTF-8 may be kept as they are or as U+FFFD.
		got = raw.decode("utf-8", "replace").rstrip("\ufffd")
		want = orig[:LIMIT].decode("utf-8", "replace").rstrip("\ufffd")
		if got != want:
			problems.append("%s: record not kept as queued "
			    "(%d bytes stored, %d queued)" % (c[0], len(raw),
			    len(orig)))
	extra = [d for d in dead if d.get("entry") not in by_entry]
	if extra:
		problems.append("dead entries for good records: %r" % extra)
	# Counted once, as rejected, never also as accepted.
	st, text = env.http_get("/metrics")
	acc = sum(float(v) for v in re.findall(
	    r"^hearback_records_accepted_total\{[^}]*\} (\S+)$", text, re.M))
	rej = sum(float(v) for v in re.findall(
	    r"^hearback_records_rejected_total\{[^}]*\} (\S+)$", text, re.M))
	if acc != 3:		# c-good, a-good, a-marker
		problems.append("hearback_records_accepted_total sums to %g, "
		    "not 3" % acc)
	if rej != len(by_entry):
		problems.append("hearback_records_rejected_total sums to %g, "
		    "not %d" % (rej, len(by_entry)))
	log = harness.tail(env.daemon_log, 100000)
	for eid, c in by_entry.items():
		if "accepted (entry %s)" % eid in log:
			problems.append("%s: logged as accepted too (entry %s)" %
			    (c[0], eid))
	assert not problems, "\n".join(problems)

	assert env.inbox_len() == 0
	assert env.r.xpending(env.key("inbox"), "hearbackd")["pending"] == 0
	rejected = [a for a in env.audit_entries() if a.get("event") ==
	    "rejected"]
	assert len(rejected) == len(by_entry), (len(rejected), len(by_entry))
	# Nothing from the bad records was stored or sent.
	for k in ("rec:collaborator:c-bad", "rec:announcement:a-bad",
	    "rec:announcement:a-big", "rec:announcement:a-big-utf8",
	    "rec:collaborator:c-nt",
	    "rec:collaborator:c-u", "rec:collaborator:c-nul",
	    "rec:collaborator:c-deep"):
		assert not env.r.exists(env.key(k)), k
	people = {m.rcpt_tos[0].lower() for m in env.mails}
	assert people == {"good@example.org"} | {c[4] for c in
	    by_entry.values()}, people
	assert [m.subject for m in env.mails_to("good@example.org")] == \
	    ["Still here", "Marker"]


def test_bad_records_one_notice_each(env):
	by_entry = queue_bad_then_good(env)
	notices = {}
	for who in (COORD, LEAD):
		for m in env.mails_to(who):
			assert m.subject.startswith("Notice:"), m.subject
			notices.setdefault(who, []).append(m)
	problems = []
	for eid, (label, _, _, _, who) in by_entry.items():
		# The whole id: entry ...-1 is not entry ...-10.
		whole = re.compile(r"(?<![0-9-])%s(?![0-9])" % re.escape(eid))
		got = [m for m in notices.get(who, []) if whole.search(m.text or "")]
		if len(got) != 1:
			problems.append("%s (entry %s): %d notices to %s" %
			    (label, eid, len(got), who))
	total = sum(len(v) for v in notices.values())
	if total != len(by_entry):
		problems.append("%d notices for %d rejected records" %
		    (total, len(by_entry)))
	ids = [m["Message-ID"] for v in notices.values() for m in v]
	if len(ids) != len(set(ids)):
		problems.append("notices share a Message-ID")
	assert not problems, "\n".join(problems)
	# The notice says what is wrong.
	lead = notices[LEAD][0]
	assert "acess" in lead.text, lead.text


def test_daemon_log_names_nobody(env):
	queue_bad_then_good(env)
	assert env.stop_daemon() == 0
	log = harness.tail(env.daemon_log, 100000)
	bad = [l for l in log.splitlines() if "@" in l or
	    any(n.split()[0] in l or n.split()[1] in l for n in NAMES)]
	assert not bad, "log lines naming people or addresses:\n" + \
	    "\n".join(bad)

"""
test_feedback.py: issue 4 ("you said, we did") end to end, against a real
redis-server and a real SMTP server (tests/integration/harness.py).

Said items (attributed and anonymous), outcomes and the emails they send,
status changes, rejected outcomes, the overdue digest (feedback_due and
digest_every of seconds), `hearback report` in text and HTML, forget, and
the call list for people with a phone and no email address (read in
chromium too: tests/integration/browser.py).

The said items belong to a meeting that is already over, so the meeting
itself sends nothing. Tests wait on observable state; to show that nothing
else arrives they queue a later "marker" record and wait for its email (the
daemon takes records in order).
"""

import datetime
import json
import re
import time
from zoneinfo import ZoneInfo

import browser
import harness

LONDON = ZoneInfo("Europe/London")
COORD = "coordinator@example.org"
SUBJECT = "You said, we did: "	# then the topic or their words, and the status


def collab(cid, name, mail, consent=True, **kw):
	r = {"type": "collaborator", "id": cid, "name": name, "email": mail,
	    "consent": consent}
	r.update(kw)
	return r


AMARA = collab("c-amara", "Amara Okafor", "amara@example.org")
BEN = collab("c-ben", "Ben Adeyemi", "ben@example.org")


def past_meeting(mid="m-past", title="Community forum: leaving hospital"):
	"""A meeting that took place yesterday, recorded as held (issue 14: a
	new scheduled meeting in the past is refused): it sends nothing."""
	s = datetime.datetime.now(LONDON).replace(microsecond=0) - \
	    datetime.timedelta(days=1)
	return {"type": "meeting", "id": mid, "title": title,
	    "start": s.strftime("%Y-%m-%dT%H:%M:%S"),
	    "end": (s + datetime.timedelta(hours=2)).strftime(
		"%Y-%m-%dT%H:%M:%S"),
	    "online": {"url": "https://meet.example.org/forum"},
	    "invitees": ["c-amara", "c-ben"], "status": "held"}


WORDS = {
	"s-1": "Discharge letters arrive after people are already home.",
	"s-2": "Nobody told my dad which medicines to stop.",
	"s-3": "Transport home was booked for the wrong day.",
	"s-4": "The ward phone is never answered at night.",
}
WHO = {"s-1": "c-amara", "s-2": "c-amara", "s-3": None, "s-4": "c-ben"}


def said(sid, meeting="m-past", text=None, **kw):
	r = {"type": "said", "id": sid, "meeting": meeting,
	    "text": text or WORDS[sid], "topic": "discharge"}
	if WHO.get(sid):
		r["collaborator"] = WHO[sid]
	r.update(kw)
	return r


def outcome(oid, ids, status="done", we_did="Ward 3 now hands the discharge "
    "letter over before people leave.", **kw):
	r = {"type": "outcome", "id": oid, "said": list(ids), "we_did": we_did,
	    "status": status}
	r.update(kw)
	return r


def marker(env, cid="c-marker", mail="marker@example.org"):
	n = len(env.mails_to(mail))
	if not env.r.exists(env.key("rec:collaborator:%s" % cid)):
		env.xadd(collab(cid, "Marker Person", mail))
	env.xadd({"type": "announcement", "id": "a-marker-%d" % n,
	    "subject": "Marker %d" % n, "body": "Marker.",
	    "to": {"collaborators": [cid]}})
	env.wait_for(lambda: any(m.subject == "Marker %d" % n
	    for m in env.mails_to(mail)), what="marker email %d" % n)


def counts(env):
	out = {}
	for m in env.mails:
		if any(r.lower() == "marker@example.org" for r in m.rcpt_tos):
			continue
		for r in m.rcpt_tos:
			out[r.lower()] = out.get(r.lower(), 0) + 1
	return out


def flat(text):
	"""Text parts are wrapped at 72 (render.c): compare words, not lines."""
	return " ".join(text.split())


def mid_of(m):
	return str(m["Message-ID"] or "").strip()


def outcome_mails(env, addr, oid=None):
	return [m for m in env.mails_to(addr) if m.subject.startswith(SUBJECT) and
	    (oid is None or mid_of(m).startswith("<out/%s/" % oid))]


def status_json(env):
	res = env.cli("status", "--json")
	assert res.rc == 0, res
	return json.loads(res.out)


def wait_open(env, n):
	env.wait_for(lambda: env.r.zcard(env.key("said:open")) == n,
	    what="%d open said items (have %d)" % (n,
	    env.r.zcard(env.key("said:open"))))


def setup(env, items=("s-1", "s-2", "s-3", "s-4")):
	env.start_daemon()
	env.xadd(AMARA)
	env.xadd(BEN)
	env.xadd(past_meeting())
	for sid in items:
		env.xadd(said(sid))
	wait_open(env, len(items))


def dead_where(env, needle):
	return env.wait_for(lambda: [d for d in env.dead_entries()
	    if needle in d.get("error", "")], what="a dead entry with %r (have "
	    "%r)" % (needle, [d.get("error") for d in env.dead_entries()]))[0]


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


# ---------------------------------------------------------------------------
# 1. One email per person per outcome, listing all of their items

def test_outcome_email_to_each_attributed_person(env):
	setup(env)
	st = status_json(env)
	assert st["said_open"] == 4 and st["said_overdue"] == 0, st
	assert counts(env) == {}, counts(env)	# the meeting is over

	env.xadd(outcome("o-1", ["s-1", "s-2", "s-3"]))
	got = env.wait_for(lambda: outcome_mails(env, "amara@example.org"),
	    what="the outcome email to Amara")
	marker(env)
	assert counts(env) == {"amara@example.org": 1}, counts(env)
	m = got[0]
	assert m.subject.startswith(SUBJECT) and m.subject.endswith(" (done)"), \
	    m.subject
	assert re.match(r"^<out/o-1/c-amara/[^/@]+@example\.org>$", mid_of(m)), \
	    mid_of(m)
	assert m["To"].addresses[0].display_name == "Amara Okafor"
	assert str(m["Auto-Submitted"]).strip() == "auto-generated"
	t = flat(m.text)
	assert WORDS["s-1"] in t and WORDS["s-2"] in t, t
	assert WORDS["s-3"] not in t, "an anonymous item was attributed:\n" + t
	assert WORDS["s-4"] not in t
	# Whose words: theirs in full; the anonymous one only counted.
	assert "what 1 other person said" in t, t
	assert "Ward 3 now hands the discharge letter over before people " \
	    "leave." in t
	assert "Done" in t, t
	assert "Community forum: leaving hospital" in t
	assert WORDS["s-1"] in m.html and "lang=" in m.html
	st = status_json(env)
	assert st["said_open"] == 1 and st["said_overdue"] == 0, st
	assert env.r.zrange(env.key("said:open"), 0, -1) == ["s-4"]
	assert env.dead_entries() == []


# ---------------------------------------------------------------------------
# 2. not-possible needs a reason, and the email shows it

def test_not_possible_needs_reason(env):
	setup(env, items=("s-4",))
	env.xadd(outcome("o-np", ["s-4"], status="not-possible"))
	d = dead_where(env, "reason")
	assert d["error"].startswith("reason"), d
	env.xadd(outcome("o-np2", ["s-4"], status="not-possible", reason=None))
	env.wait_for(lambda: len([x for x in env.dead_entries()
	    if "reason" in x.get("error", "")]) == 2, what="the second dead")
	assert not env.r.exists(env.key("rec:outcome:o-np"))
	assert not env.r.exists(env.key("rec:outcome:o-np2"))
	marker(env)
	assert outcome_mails(env, "ben@example.org") == []
	assert env.r.zrange(env.key("said:open"), 0, -1) == ["s-4"]

	why = "There is no money for a night receptionist this year. We " \
	    "have asked again for next year."
	env.xadd(outcome("o-np", ["s-4"], status="not-possible",
	    we_did="We asked the trust board to fund a night receptionist.",
	    reason=why))
	m = env.wait_for(lambda: outcome_mails(env, "ben@example.org"),
	    what="the not-possible email")[0]
	assert why in flat(m.text), flat(m.text)
	assert "Not possible" in flat(m.text), flat(m.text)
	assert WORDS["s-4"] in flat(m.text)
	assert "We asked the trust board to fund a night receptionist." in \
	    flat(m.text)
	assert why in m.html


# ---------------------------------------------------------------------------
# 3. A new status is a new email; the same outcome again is not

def test_outcome_status_change(env):
	setup(env, items=("s-4",))
	env.xadd(outcome("o-2", ["s-4"], status="in-progress",
	    we_did="We are training the night staff to answer the phone."))
	first = env.wait_for(lambda: outcome_mails(env, "ben@example.org"),
	    what="the in-progress email")[0]
	assert "In progress" in flat(first.text), flat(first.text)
	done = outcome("o-2", ["s-4"], status="done",
	    we_did="The night staff now answer the ward phone.")
	env.xadd(done)
	env.wait_for(lambda: len(outcome_mails(env, "ben@example.org")) == 2,
	    what="the done email")
	second = outcome_mails(env, "ben@example.org")[1]
	assert "Done" in flat(second.text) and "The night staff now answer " \
	    "the ward phone." in flat(second.text), flat(second.text)
	assert mid_of(first) != mid_of(second)
	assert first.subject != second.subject, first.subject
	assert mid_of(second).startswith("<out/o-2/c-ben/")
	env.xadd(dict(done))
	marker(env)
	assert counts(env) == {"ben@example.org": 2}, counts(env)
	assert len(outcome_mails(env, "ben@example.org")) == 2


# ---------------------------------------------------------------------------
# 4. An outcome naming an unknown said id is rejected

def test_outcome_unknown_said(env):
	setup(env, items=("s-1",))
	env.xadd(outcome("o-bad", ["s-1", "s-x"]))
	d = dead_where(env, "no said")
	assert d["error"] == 'said[1]: no said "s-x"', d
	assert json.loads(d["record"])["id"] == "o-bad"
	assert not env.r.exists(env.key("rec:outcome:o-bad"))
	marker(env)
	assert outcome_mails(env, "amara@example.org") == []
	assert env.r.zrange(env.key("said:open"), 0, -1) == ["s-1"]
	n = env.wait_for(lambda: [m for m in env.mails_to(COORD)
	    if m.subject.startswith("Notice: ")], what="the rejection notice")
	assert 'said[1]: no said "s-x"' in flat(n[0].text)


# ---------------------------------------------------------------------------
# 5. The overdue digest

def _digests(env):
	"""Digest deliveries made so far: [(to, created_ms, did)]."""
	out = []
	for k in env.keys("d:*"):
		h = env.r.hgetall(k)
		if h.get("kind") == "digest":
			out.append((h.get("to"), int(h.get("created", "0")),
			    k[len(env.key("d:")):]))
	return sorted(out, key=lambda t: t[1])


@harness.env_options(config={"delivery": {"feedback_due": "2s"},
    "notify": {"digest_every": "3s"}})
def test_overdue_digest(env):
	env.start_daemon()
	env.xadd(AMARA)
	env.xadd(BEN)
	env.xadd(past_meeting())
	env.xadd(said("s-1"))
	env.xadd(said("s-3", coordinator="forum-lead@example.org"))
	wait_open(env, 2)

	def digest_to(addr):
		return [m for m in env.mails_to(addr)
		    if m["Subject"] and "waiting for an answer" in m.subject]
	mine = env.wait_for(lambda: digest_to(COORD), 20,
	    "a digest to the coordinator")[0]
	theirs = env.wait_for(lambda: digest_to("forum-lead@example.org"), 20,
	    "a digest to the item's own coordinator")[0]
	assert mine.subject == '1 "you said" item is waiting for an answer', \
	    mine.subject
	assert WORDS["s-1"] in flat(mine.text) and \
	    WORDS["s-3"] not in flat(mine.text)
	assert "s-1" in flat(mine.text)
	# Waiting since the meeting, yesterday (issue 14: said_on defaults to
	# the meeting's date), not since it was queued.
	assert "Waiting for 1 day." in flat(mine.text), flat(mine.text)
	assert "Community forum: leaving hospital" in flat(mine.text)
	assert WORDS["s-3"] in flat(theirs.text) and \
	    WORDS["s-1"] not in flat(theirs.text)
	assert "anonymously" in flat(theirs.text), flat(theirs.text)
	assert "Amara" not in flat(mine.text) and "amara@" not in flat(mine.text)
	st = status_json(env)
	assert st["said_open"] == 2 and st["said_overdue"] == 2, st

	# Over the next few periods: at most one digest per coordinator per
	# digest_every (the gaps between the times they were made).
	time.sleep(6.5)
	ds = _digests(env)
	for to in (COORD, "forum-lead@example.org"):
		made = [c for t, c, _ in ds if t == to]
		span = time.time() * 1000 - made[0]
		assert 1 <= len(made) <= span / 3000 + 1, (to, made, span)
		gaps = [b - a for a, b in zip(made, made[1:])]
		assert all(g >= 3000 for g in gaps), (to, gaps)
	# Answered: no more digests.
	env.xadd(outcome("o-1", ["s-1", "s-3"]))
	env.wait_for(lambda: outcome_mails(env, "amara@example.org"),
	    what="the outcome email")
	# From now: a digest made just before the outcome was stored (its
	# script ran first on the other connection) may carry a later time
	# than the outcome's own.
	at = time.time() * 1000
	time.sleep(6.5)
	late = [(t, c) for t, c, _ in _digests(env) if c > at]
	assert late == [], late
	st = status_json(env)
	assert st["said_open"] == 0 and st["said_overdue"] == 0, st

	# RFC 5322 msg-id: one "@", only atext and dots left of it.
	for m in (mine, theirs):
		raw = [ln for ln in m.raw.split(b"\r\n")
		    if ln.lower().startswith(b"message-id:")][0].decode()
		msgid = raw.split(":", 1)[1].strip()
		assert re.match(r"^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@"
		    r"[A-Za-z0-9.-]+>$", msgid), \
		    "not a valid Message-ID: %s" % msgid
	# The audit stream holds ids, never addresses (SPEC section 5).
	aud = [a for a in env.audit_entries() if a.get("kind") == "digest"]
	assert aud, "no digest in the audit stream"
	for a in aud:
		assert "@" not in json.dumps(a), a


# ---------------------------------------------------------------------------
# 6. The report, in text and HTML, never attributed

def test_report_text_and_html(env):
	env.start_daemon()
	env.xadd(AMARA)
	env.xadd(BEN)
	env.xadd(past_meeting())
	env.xadd(past_meeting("m-other", "Another meeting"))
	tricky = "Letters & forms arrive <late>, \"always\"."
	env.xadd(said("s-1", text=tricky))
	for sid in ("s-2", "s-3", "s-4"):
		env.xadd(said(sid))
	env.xadd(said("s-9", meeting="m-other", text="Something else entirely."))
	wait_open(env, 5)
	why = "There is no money for a night receptionist this year."
	env.xadd(outcome("o-1", ["s-1", "s-3"]))
	env.xadd(outcome("o-2", ["s-4"], status="not-possible",
	    we_did="We asked the board.", reason=why))
	wait_open(env, 2)
	marker(env)

	res = env.cli("report", "--meeting", "m-past", "--format", "text")
	assert res.rc == 0, res
	t = res.out
	assert "You said, we did" in t
	assert "Community forum: leaving hospital" in t
	for s in (tricky, WORDS["s-2"], WORDS["s-3"], WORDS["s-4"],
	    "Ward 3 now hands the discharge letter over before people leave.",
	    "We asked the board.", why, "Done", "Not possible"):
		assert s in t, (s, t)
	assert "Something else entirely." not in t
	wait_at = t.index("STILL WAITING FOR AN ANSWER")
	assert t.index(WORDS["s-2"]) > wait_at
	for s in (tricky, WORDS["s-3"], WORDS["s-4"]):
		assert t.index(s) < wait_at, s
	assert "1 day" in t[wait_at:] and "less than a day" not in t, t
	for s in ("Amara", "Okafor", "Ben", "Adeyemi", "example.org", "c-amara",
	    "c-ben"):
		assert s not in t, "report names %r:\n%s" % (s, t)
	assert res.out == env.cli("report", "--meeting", "m-past").out

	res = env.cli("report", "--meeting", "m-past", "--format", "html")
	assert res.rc == 0, res
	h = res.out
	assert re.search(r"<html[^>]* lang=\"en", h), h[:200]
	assert "<h1>" in h and "<ul>" in h and "<li>" in h and "</html>" in h
	assert h.count("<li>") == 4, h
	assert "Letters &amp; forms arrive &lt;late&gt;" in h, h
	assert "<late>" not in h
	assert WORDS["s-2"] in h and why in h
	for s in ("Amara", "Okafor", "Ben", "Adeyemi", "example.org", "c-amara",
	    "c-ben"):
		assert s not in h, "report names %r" % s

	res = env.cli("report", "--meeting", "m-nope")
	assert res.rc != 0 and "m-nope" in res.err, res
	assert env.cli("report").rc == 64
	assert env.cli("report", "--meeting", "m-past", "--format", "pdf").rc \
	    == 64


# ---------------------------------------------------------------------------
# 7. Forgetting: words stay, unattributed; the person is gone

def test_forget_keeps_words_not_the_person(env):
	setup(env, items=("s-1", "s-2", "s-4"))
	env.xadd(outcome("o-1", ["s-1"]))
	env.wait_for(lambda: outcome_mails(env, "amara@example.org"),
	    what="the outcome email")
	# Something pending for her, and a rejected record with her details.
	later = (datetime.datetime.now(LONDON) + datetime.timedelta(hours=2)
	    ).strftime("%Y-%m-%dT%H:%M:%S")
	env.xadd({"type": "announcement", "id": "a-later", "subject": "Later",
	    "body": "Later.", "to": {"collaborators": ["c-amara"]},
	    "send_at": later})
	env.xadd(dict(AMARA, acess=["step-free"]))
	env.wait_for(lambda: env.r.zscore(env.key("schedule"),
	    "ann:a-later:c-amara") is not None, what="the pending email")
	env.wait_for(lambda: env.dead_entries(), what="the rejected record")
	marker(env)

	res = env.cli("forget", "c-amara")
	assert res.rc == 0, res
	env.wait_for(lambda: not env.r.exists(env.key(
	    "rec:collaborator:c-amara")), what="her profile to go")
	for sid in ("s-1", "s-2"):
		w = json.loads(env.r.get(env.key("rec:said:%s" % sid)))
		assert "collaborator" not in w["record"], w
		assert w["record"]["text"] == WORDS[sid], w
	w = json.loads(env.r.get(env.key("rec:said:s-4")))
	assert w["record"]["collaborator"] == "c-ben"
	assert env.r.zscore(env.key("schedule"), "ann:a-later:c-amara") is None
	blobs = dump_all(env)
	for needle in (b"Amara", b"Okafor", b"amara@example.org"):
		hits = [k for k, v in blobs.items() if needle in v]
		assert hits == [], (needle, hits)

	rep = env.cli("report", "--meeting", "m-past")
	assert rep.rc == 0, rep
	assert WORDS["s-1"] in rep.out and WORDS["s-2"] in rep.out, rep.out

	# No more email to her: an outcome for her other item sends nothing.
	n = len(env.mails_to("amara@example.org"))
	env.xadd(outcome("o-3", ["s-2", "s-4"]))
	env.wait_for(lambda: outcome_mails(env, "ben@example.org"),
	    what="Ben's outcome email")
	marker(env)
	assert len(env.mails_to("amara@example.org")) == n
	assert env.r.zcard(env.key("said:open")) == 0


# ---------------------------------------------------------------------------
# 8. Someone with a phone and no email address hears back too: a call list

PHIL = {"type": "collaborator", "id": "c-phil", "name": "Phil Moreau",
    "phone": "020 7946 0123", "consent": True,
    "communication": ["interpreter:bfi"]}


def call_lists(env):
	return [m for m in env.mails_to(COORD)
	    if m.subject.startswith("Please phone")]


def test_outcome_call_list_for_people_without_email(env):
	"""What Phil (a phone, no email) said is answered like anyone's: the
	coordinator gets one email naming him, his number, his words and what
	was done, while Amara gets her own outcome email. A new status is a new
	call list; an outcome that answers only people with email makes
	none."""
	setup(env, items=("s-1", "s-4"))
	env.xadd(PHIL)
	env.xadd(said("s-phil", collaborator="c-phil",
	    text="Nobody rang me back about my medicines."))
	wait_open(env, 3)
	env.xadd(outcome("o-p", ["s-1", "s-phil"], status="in-progress",
	    we_did="The pharmacy now phones everyone the day after they go "
	    "home."))
	call = env.wait_for(lambda: call_lists(env), what="a call list")[0]
	assert call.subject == "Please phone 1 person: you said, we did: " \
	    "discharge (in progress)", call.subject
	t = flat(call.text)
	assert "Phil Moreau (c-phil), phone 020 7946 0123" in t, t
	assert "At Community forum: leaving hospital on " in t, t
	assert "they said: “Nobody rang me back about my medicines.”" in t, t
	assert "In progress: the work has started" in t, t
	assert "The pharmacy now phones everyone the day after they go " \
	    "home." in t, t
	assert "They also need: an interpreter (language bfi)" in t, t
	# Only Phil's words: Amara's stay in her own email.
	assert WORDS["s-1"] not in t, t
	# On a phone, the number is a link that rings it.
	assert '<a href="tel:02079460123">020 7946 0123</a>' in call.html, \
	    call.html
	# Read as a person reads it: no axe violations, nothing wider than
	# a phone, no long text lines.
	bad = browser.email_problems("outcome-calls-standard", call)
	assert not bad, "\n".join(bad)
	env.wait_for(lambda: outcome_mails(env, "amara@example.org", "o-p"),
	    what="Amara's outcome email")

	# Done: a second call list, saying so.
	env.xadd(outcome("o-p", ["s-1", "s-phil"], status="done",
	    we_did="The pharmacy phones everyone the day after they go home."))
	second = env.wait_for(lambda: [m for m in call_lists(env)
	    if "(done)" in m.subject], what="the call list of the new status")
	assert "Done: the change has been made." in flat(second[0].text)

	# An outcome for Ben (who has email) alone: no call list.
	env.xadd(outcome("o-ben", ["s-4"]))
	env.wait_for(lambda: outcome_mails(env, "ben@example.org", "o-ben"),
	    what="Ben's outcome email")
	marker(env)
	assert len(call_lists(env)) == 2, [m.subject for m in call_lists(env)]
	# Nobody tried to email Phil.
	assert not [k for k in env.keys("d:out:*") if "c-phil" in k]
	assert not [d for d in env.dead_entries() if "c-phil" in
	    d.get("delivery", "")], env.dead_entries()

	# Forgotten: his name and number leave every key, the call lists'
	# included; his words stay, unattributed.
	res = env.cli("forget", "c-phil")
	assert res.rc == 0, res
	env.wait_for(lambda: not env.r.exists(env.key(
	    "rec:collaborator:c-phil")), what="his profile to go")
	env.wait_for(lambda: not env.r.sismember(env.key("forgetting"),
	    "c-phil"), what="the scrub of every key")
	blobs = dump_all(env)
	for needle in (b"Phil", b"Moreau", b"7946 0123"):
		hits = [k for k, v in blobs.items() if needle in v]
		assert hits == [], (needle, hits)
	w = json.loads(env.r.get(env.key("rec:said:s-phil")))
	assert "collaborator" not in w["record"], w

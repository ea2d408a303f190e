"""
test_meetings.py: issue 3 end to end, against a real redis-server and a
real SMTP server (tests/integration/harness.py).

Invitations (content, parts, calendar), re-queuing, changes, invitees added
and removed, cancellation, reminders (leads in seconds), venue access
updates, coordinator notices and `hearback preview`.

Tests wait on observable state (emails, Redis keys, streams), never on the
clock. To show that nothing else arrives after an expected event they queue
a later "marker" record and wait for its email: the daemon takes records in
order, so by then anything the earlier records caused has been sent (every
email here except reminders is due at once).

Times in records are Europe/London wall-clock, computed from now with
zoneinfo; expected human dates use the daemon's format ("Thursday 10
December 2026, 5:30pm to 7:30pm").
"""

import datetime
import email
import email.policy
import json
import re
import time
from zoneinfo import ZoneInfo

import harness

LONDON = ZoneInfo("Europe/London")
COORD = "coordinator@example.org"

ACCESS_LABELS = {
	"step-free": "Step-free access",
	"lift": "Lift",
	"accessible-toilet": "Accessible toilet",
	"changing-places": "Changing Places toilet",
	"hearing-loop": "Hearing loop",
	"bsl": "British Sign Language (BSL) interpreter",
	"captions": "Captions in the room",
	"quiet-room": "Quiet room",
	"seating": "Seating and rest places",
	"parking": "Parking",
	"public-transport": "Public transport nearby",
	"assistance-dogs": "Assistance dogs welcome",
	"lighting": "Good lighting",
	"large-print": "Large print papers",
	"easy-read": "Easy read papers",
	"non-clinical": "Not on a hospital or ward site",
}


# The easy read words of templates/_access_label.easy-read.* where they
# differ.
EASY_LABELS = dict(ACCESS_LABELS, **{
	"step-free": "No steps (step-free)",
	"seating": "Seats and places to rest",
	"public-transport": "Buses or trains nearby",
	"non-clinical": "Not in a hospital",
})


def unwrap(text):
	"""A text part with render.c's wrapping at 72 undone: a line that
	continues the one before (its first word would not have fitted there)
	joins it, without its hanging indent."""
	if text is None:
		return None
	out, prev = [], ""
	for ln in text.split("\n"):
		word = ln.strip().split(" ")[0]
		if out and prev.strip() and ln.strip() and prev != "-- " and \
		    len(prev) + 1 + len(word) > 72:
			out[-1] += " " + ln.strip()
		else:
			out.append(ln)
		prev = ln
	return "\n".join(out)


# ---------------------------------------------------------------------------
# Records

def collab(cid, name, mail, consent=True, fmt=None, **kw):
	r = {"type": "collaborator", "id": cid, "name": name, "email": mail,
	    "consent": consent}
	if fmt:
		r["format"] = fmt
	r.update(kw)
	return r


AMARA = collab("c-amara", "Amara Okafor", "amara@example.org",
    fmt="easy-read", access_needs=["step-free", "quiet-room"])
BEN = collab("c-ben", "Ben Adeyemi", "ben@example.org",
    access_needs=["hearing-loop"])
CARA = collab("c-cara", "Cara Lindqvist", "cara@example.org",
    fmt="plain-text")
DEE = collab("c-dee", "Dee Ahmed", "dee@example.org", consent=False)


def venue(vid="v-lyric", **kw):
	r = {"type": "venue", "id": vid, "name": "Lyric Hammersmith, Studio 2",
	    "address": "Lyric Square, King Street, London W6 0QL",
	    "getting_there": "Hammersmith station (step-free, 3 min walk). "
		"Buses 27, 190.",
	    "arrival": "Use the main glass doors. Sam from the forum meets "
		"you in the foyer.",
	    "access": {"step-free": "Level entrance and lift to Studio 2.",
		"lift": True, "hearing-loop": True, "changing-places": False,
		"quiet-room": "Green room on floor 1, ask at the front desk."},
	    "on_the_day_contact": "Forum phone 020 7946 0000",
	    "last_verified": "2026-10-01"}
	r.update(kw)
	return r


VENUE2 = {"type": "venue", "id": "v-hall", "name": "Riverside Community Hall",
    "address": "12 Wharf Road, London SE1 9PP",
    "access": {"step-free": True, "hearing-loop": True}}


def local(dt):
	"""A UTC (or aware) datetime as the records' wall-clock text."""
	return dt.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M:%S")


def days_ahead(days, hour=17, minute=30):
	"""An aware London datetime `days` from today at hour:minute."""
	d = datetime.datetime.now(LONDON).date() + datetime.timedelta(days=days)
	return datetime.datetime(d.year, d.month, d.day, hour, minute,
	    tzinfo=LONDON)


def seconds_ahead(s):
	"""An aware UTC datetime s seconds from now, on a whole second."""
	return (datetime.datetime.now(datetime.timezone.utc).replace(
	    microsecond=0) + datetime.timedelta(seconds=s + 1))


def meeting(mid, start, end=None, invitees=("c-amara", "c-ben"), vid="v-lyric",
    **kw):
	end = end or start + datetime.timedelta(hours=2)
	r = {"type": "meeting", "id": mid,
	    "title": "Community forum: leaving hospital",
	    "start": local(start), "end": local(end), "timezone": "Europe/London",
	    "online": {"url": "https://meet.example.org/forum", "captions": True,
		"dial_in": "020 7946 0001"},
	    "agenda": "1. Welcome\n2. What happens on the day you leave "
		"hospital\n3. Ideas",
	    "organiser": {"name": "Jo Patel", "email": "jo@example.org",
		"phone": "020 7946 0002"},
	    "invitees": list(invitees),
	    "payment": {"travel": "We pay travel, including a companion. Bring "
		"tickets or receipts.",
		"fee": "£20 for your time, paid on the day.",
		"benefits": "If a payment could affect your benefits, talk to "
		"Jo first."},
	    "refreshments": "Hot meal at 17:00. Vegetarian and halal options.",
	    "status": "scheduled"}
	if vid is not None:
		r["venue"] = vid
	r.update(kw)
	return r


# ---------------------------------------------------------------------------
# Words the daemon writes (clock.c's formats)

def date_words(dt):
	dt = dt.astimezone(LONDON)
	return "%s %d %s %d" % (dt.strftime("%A"), dt.day, dt.strftime("%B"),
	    dt.year)


def time_words(dt):
	dt = dt.astimezone(LONDON)
	if dt.hour == 12 and dt.minute == 0:
		return "12 noon"
	if dt.hour == 0 and dt.minute == 0:
		return "12 midnight"
	h = dt.hour % 12 or 12
	ap = "am" if dt.hour < 12 else "pm"
	return "%d%s" % (h, ap) if dt.minute == 0 else \
	    "%d:%02d%s" % (h, dt.minute, ap)


def range_words(a, b):
	if a.astimezone(LONDON).date() == b.astimezone(LONDON).date():
		return "%s, %s to %s" % (date_words(a), time_words(a),
		    time_words(b))
	return "%s, %s to %s, %s" % (date_words(a), time_words(a),
	    date_words(b), time_words(b))


# ---------------------------------------------------------------------------
# Calendar

def _split_prop(line):
	"""'NAME;P=V;Q="a:b":value' -> (NAME, {P: V, Q: a:b}, value)."""
	q = False
	for i, ch in enumerate(line):
		if ch == '"':
			q = not q
		elif ch == ":" and not q:
			head, value = line[:i], line[i + 1:]
			break
	else:
		return line.upper(), {}, ""
	parts = head.split(";")
	params = {}
	for p in parts[1:]:
		k, _, v = p.partition("=")
		params[k.upper()] = v.strip('"')
	return parts[0].upper(), params, value


def ical(text):
	"""The calendar as {'METHOD': value, 'components': [...], 'VEVENT':
	{NAME: (params, value)}} (first VEVENT's properties, first of each)."""
	assert text, "no calendar"
	lines = []
	for raw in text.replace("\r\n", "\n").split("\n"):
		if raw[:1] in (" ", "\t") and lines:
			lines[-1] += raw[1:]
		elif raw:
			lines.append(raw)
	out = {"components": [], "VEVENT": None}
	stack = []
	for ln in lines:
		name, params, value = _split_prop(ln)
		if name == "BEGIN":
			stack.append(value.upper())
			out["components"].append(value.upper())
			if value.upper() == "VEVENT" and out["VEVENT"] is None:
				out["VEVENT"] = {}
			continue
		if name == "END":
			assert stack and stack[-1] == value.upper(), (ln, stack)
			stack.pop()
			continue
		if stack == ["VCALENDAR"]:
			out.setdefault(name, value)
		elif stack == ["VCALENDAR", "VEVENT"] and \
		    out["components"].count("VEVENT") == 1:
			out["VEVENT"].setdefault(name, (params, value))
	assert not stack, "unterminated calendar: %r" % stack
	assert out["VEVENT"] is not None, "no VEVENT in %r" % text
	return out


def check_calendar(m, method, mid, seq, start=None):
	"""The email's text/calendar part: method (also as the part's
	parameter), the stable UID, SEQUENCE and DTSTART with TZID."""
	cal = ical(m.calendar)
	assert cal.get("METHOD") == method, (cal.get("METHOD"), m.calendar)
	ct = [p for p in m.msg.walk() if p.get_content_type() == "text/calendar"]
	assert ct[0]["Content-Type"].params.get("method", "").upper() == method, \
	    ct[0]["Content-Type"]
	ev = cal["VEVENT"]
	assert ev["UID"][1] == "%s@example.org" % mid, ev.get("UID")
	assert int(ev["SEQUENCE"][1]) == seq, (ev.get("SEQUENCE"), seq)
	if start is not None:
		params, value = ev["DTSTART"]
		assert params.get("TZID") == "Europe/London", ev["DTSTART"]
		assert value == start.astimezone(LONDON).strftime(
		    "%Y%m%dT%H%M%S"), (value, start)
	assert "VTIMEZONE" in cal["components"], cal["components"]
	return cal


# ---------------------------------------------------------------------------
# Waiting and counting

def announcement(aid, subject, cids):
	return {"type": "announcement", "id": aid, "subject": subject,
	    "body": "Marker.", "to": {"collaborators": list(cids)}}


def marker(env, cid="c-marker", mail="marker@example.org"):
	"""Queue an announcement to a marker person and wait for it:
	everything queued before it has been handled by then."""
	n = len(env.mails_to(mail))
	if not env.r.exists(env.key("rec:collaborator:%s" % cid)):
		env.xadd(collab(cid, "Marker Person", mail))
	env.xadd(announcement("a-marker-%d" % n, "Marker %d" % n, [cid]))
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


def mid_of(m):
	return str(m["Message-ID"] or "").strip()


def wait_mid(env, msgid, timeout=harness.WAIT):
	"""The email with that Message-ID (waits for it)."""
	def got():
		return [m for m in env.mails if mid_of(m) == msgid]
	return env.wait_for(got, timeout, "email %s (have %s)" % (msgid,
	    [mid_of(m) for m in env.mails]))[0]


def notices(env, to=COORD):
	return [m for m in env.mails_to(to)
	    if m.subject.startswith("Notice: ")]


def wait_notice(env, needle, to=COORD, timeout=harness.WAIT):
	def got():
		return [m for m in notices(env, to) if needle in m.subject or
		    needle in (m.text or "")]
	return env.wait_for(got, timeout, "a notice to %s with %r (have %r)" %
	    (to, needle, [m.subject for m in notices(env, to)]))[0]


def schedule_ids(env, prefix):
	return sorted(d for d in env.r.zrange(env.key("schedule"), 0, -1)
	    if d.startswith(prefix))


def pending_of(env, mid):
	"""The meeting's pending deliveries, as `hearback scheduled` shows them
	(it reads a delivery's hash and a waiting reminder alike)."""
	res = env.cli("scheduled", "--meeting", mid, "--json")
	assert res.rc == 0, res
	return sorted(d["did"] for d in json.loads(res.out))


def setup(env, people=(AMARA, BEN), venues=(None,)):
	env.start_daemon()
	for v in venues:
		env.xadd(v or venue())
	for p in people:
		env.xadd(p)


def line_with(text, start):
	"""The first line of text that starts with `start` (after '- ')."""
	for ln in text.split("\n"):
		s = ln.lstrip()
		if s.startswith("- "):
			s = s[2:]
		if s.startswith(start):
			return s
	raise AssertionError("no line starting %r in:\n%s" % (start, text))


# ---------------------------------------------------------------------------
# 1. Invitation content, parts and calendar

def _check_invitation_text(t, m, start, end, person, easy):
	title = "Community forum: leaving hospital"
	assert title in t
	if easy:
		assert "Date: %s" % date_words(start) in t, t
		assert "Time: %s to %s" % (time_words(start), time_words(end)) \
		    in t, t
	else:
		assert range_words(start, end) in t, (range_words(start, end), t)
	for s in ("Lyric Hammersmith, Studio 2",
	    "Lyric Square, King Street, London W6 0QL",
	    "Hammersmith station (step-free, 3 min walk). Buses 27, 190.",
	    "Use the main glass doors. Sam from the forum meets you in the foyer.",
	    "https://meet.example.org/forum", "020 7946 0001",
	    "Welcome", "What happens on the day you leave hospital", "Ideas",
	    "We pay travel, including a companion. Bring tickets or receipts.",
	    "£20 for your time, paid on the day.",
	    "If a payment could affect your benefits, talk to Jo first.",
	    "Hot meal at 17:00. Vegetarian and halal options.",
	    "Jo Patel", "jo@example.org", "020 7946 0002",
	    "Forum phone 020 7946 0000"):
		assert s in t, "%r missing from the %s invitation:\n%s" % (
		    s, person, t)
	# Adjustments: a date written for people.
	adj = date_words(start - datetime.timedelta(days=9))
	assert adj in t, (adj, t)
	check_access_text(t, person, easy)


def check_access_text(t, person, easy):
	"""Every access word: the person's own needs first, each in full on
	its own line; the rest grouped by state on one line each."""
	labels = EASY_LABELS if easy else ACCESS_LABELS
	yours = t.index("What you need\n" if easy else "Your access needs")
	others = t.index("Other things at this place" if easy else
	    "Other access at this venue")
	assert yours < others
	needs = {"amara": ["step-free", "quiet-room"], "ben": ["hearing-loop"]}[
	    person]
	for w in needs:
		at = t.index("- %s:" % labels[w])
		assert yours < at < others, (w, yours, at, others)
	for w in set(labels) - set(needs):
		assert t.find(labels[w], others) > others, \
		    "%s missing:\n%s" % (labels[w], t)
	assert "Level entrance and lift to Studio 2." in line_with(t,
	    labels["step-free"] + ":" if "step-free" in needs else
	    "Available:")
	if person == "ben":
		assert "Yes" in line_with(t, "Hearing loop:")
	else:
		assert "Hearing loop" in line_with(t, "It has:" if easy else
		    "Available:")
	assert "Changing Places toilet" in line_with(t, "It does not have:" if
	    easy else "Not available:")
	unknown = line_with(t, "We are still checking:" if easy else
	    "Not yet confirmed (we are checking):")
	for w in ("bsl", "parking", "non-clinical"):
		assert labels[w] in unknown, (w, unknown)


def test_invitation_content_and_calendar(env):
	setup(env, people=(AMARA, BEN, CARA, DEE))
	start = days_ahead(20)
	end = start + datetime.timedelta(hours=2)
	m = meeting("m-forum", start, end,
	    invitees=["c-amara", "c-ben", "c-cara", "c-dee"],
	    adjustments_by=(start - datetime.timedelta(days=9)).strftime(
		"%Y-%m-%d"))
	env.xadd(m)
	am = wait_mid(env, "<inv/m-forum/c-amara/0@example.org>")
	bm = wait_mid(env, "<inv/m-forum/c-ben/0@example.org>")
	cm = wait_mid(env, "<inv/m-forum/c-cara/0@example.org>")
	marker(env)
	assert counts(env) == {"amara@example.org": 1, "ben@example.org": 1,
	    "cara@example.org": 1}, counts(env)

	for mail, who, easy in ((am, "amara", True), (bm, "ben", False)):
		_check_invitation_text(unwrap(mail.text), mail, start, end, who,
		    easy)
		# Headers.
		assert "Community forum: leaving hospital" in mail.subject
		assert str(mail["From"]) == "Forum team <forum@example.org>"
		assert [a.addr_spec for a in mail["Reply-To"].addresses] == \
		    ["jo@example.org"], mail["Reply-To"]
		assert str(mail["Auto-Submitted"]).strip() == "auto-generated"
		# Parts: mixed [alternative [text, html, calendar], invite.ics].
		assert mail.msg.get_content_type() == "multipart/mixed"
		top = list(mail.msg.iter_parts())
		assert len(top) == 2, [p.get_content_type() for p in top]
		assert top[0].get_content_type() == "multipart/alternative"
		assert [p.get_content_type() for p in top[0].iter_parts()] == \
		    ["text/plain", "text/html", "text/calendar"]
		assert top[1].get_filename() == "invite.ics", top[1]
		assert top[1].get_content_disposition() == "attachment"
		att = top[1].get_content()
		if isinstance(att, bytes):
			att = att.decode("utf-8")
		assert att.replace("\r\n", "\n") == mail.calendar, \
		    "invite.ics differs from the text/calendar part"
		cal = check_calendar(mail, "REQUEST", "m-forum", 0, start)
		assert "Lyric Hammersmith" in cal["VEVENT"]["LOCATION"][1]
		# HTML: lang, headings, real lists, every access label.
		h = mail.html
		assert re.search(r"<html[^>]* lang=\"en", h), h[:200]
		assert "<h1" in h and "<ul" in h and "<li" in h
		for label in (EASY_LABELS if easy else ACCESS_LABELS).values():
			assert label in h, (label, who)
		assert "Jo Patel" in h
	assert am["To"].addresses[0].display_name == "Amara Okafor"
	assert am["To"].addresses[0].addr_spec == "amara@example.org"
	# Plain text: no HTML, the calendar still there.
	assert cm.html is None, "plain-text person got HTML"
	assert cm.calendar is not None, "plain-text person got no calendar"
	check_calendar(cm, "REQUEST", "m-forum", 0, start)
	assert "Community forum: leaving hospital" in unwrap(cm.text)
	assert range_words(start, end) in unwrap(cm.text)
	# No consent: nothing.
	assert env.mails_to("dee@example.org") == []


# ---------------------------------------------------------------------------
# 2. Re-queuing an unchanged meeting sends nothing

def test_requeue_unchanged_meeting_sends_nothing(env):
	setup(env)
	m = meeting("m-same", days_ahead(20))
	env.xadd(m)
	wait_mid(env, "<inv/m-same/c-amara/0@example.org>")
	wait_mid(env, "<inv/m-same/c-ben/0@example.org>")
	marker(env)
	before = counts(env)
	sched = schedule_ids(env, "rem:m-same:")
	assert sched, "no reminders scheduled for a meeting 20 days ahead"
	env.xadd(dict(m))
	env.xadd(json.loads(json.dumps(m)))
	marker(env)
	assert counts(env) == before, (counts(env), before)
	assert schedule_ids(env, "rem:m-same:") == sched
	assert env.dead_entries() == []


# ---------------------------------------------------------------------------
# 3. Changes: time, place, online details; a title-only change

def test_meeting_changes_send_updates(env):
	setup(env, venues=(None, VENUE2))
	start = days_ahead(20)
	end = start + datetime.timedelta(hours=2)
	m = meeting("m-chg", start, end)
	env.xadd(m)
	for c in ("c-amara", "c-ben"):
		wait_mid(env, "<inv/m-chg/%s/0@example.org>" % c)
	marker(env)
	base = counts(env)

	# Time: an hour later.
	ns, ne = start + datetime.timedelta(hours=1), \
	    end + datetime.timedelta(hours=1)
	m2 = dict(m, start=local(ns), end=local(ne))
	env.xadd(m2)
	for c, mail in (("c-amara", "amara"), ("c-ben", "ben")):
		u = wait_mid(env, "<upd/m-chg/%s/1@example.org>" % c)
		assert "Community forum: leaving hospital" in u.subject
		t = unwrap(u.text)
		assert line_with(t, "Before:") == "Before: " + \
		    range_words(start, end), t
		assert line_with(t, "Now:") == "Now: " + range_words(ns, ne), t
		check_calendar(u, "REQUEST", "m-chg", 1, ns)
	marker(env)
	assert counts(env) == {k: v + 1 for k, v in base.items()}, counts(env)

	# Place: another venue.
	m3 = dict(m2, venue="v-hall")
	env.xadd(m3)
	for c in ("c-amara", "c-ben"):
		u = wait_mid(env, "<upd/m-chg/%s/2@example.org>" % c)
		t = unwrap(u.text)
		assert line_with(t, "Before:") == "Before: Lyric Hammersmith, "\
		    "Studio 2, Lyric Square, King Street, London W6 0QL", t
		assert line_with(t, "Now:") == "Now: Riverside Community Hall, "\
		    "12 Wharf Road, London SE1 9PP", t
		cal = check_calendar(u, "REQUEST", "m-chg", 2, ns)
		assert "Riverside Community Hall" in cal["VEVENT"]["LOCATION"][1]

	# Online details: a new link.
	m4 = dict(m3, online={"url": "https://meet.example.org/forum-2",
	    "captions": True, "dial_in": "020 7946 0001"})
	env.xadd(m4)
	for c in ("c-amara", "c-ben"):
		u = wait_mid(env, "<upd/m-chg/%s/3@example.org>" % c)
		# Named as a change; the new details in full below it.
		t = unwrap(u.text)
		assert "- Joining online" in t, t
		assert t.index("- Joining online") < t.index(
		    "Join online: https://meet.example.org/forum-2\n"), t
		check_calendar(u, "REQUEST", "m-chg", 3)
	# The new venue has not confirmed Amara's needs: the coordinator
	# and the meeting's organiser hear (issue 14), and nobody else: the
	# rest is one update each.
	acc = wait_notice(env, "Access needs")
	marker(env)
	after = counts(env)
	t = unwrap(acc.text)
	assert "c-amara" in t and "v-hall" in t, t
	assert after == dict({k: v + 3 for k, v in base.items()},
	    **{COORD: 1, "jo@example.org": 1}), (after, base)
	jo = wait_notice(env, "Access needs", to="jo@example.org")
	assert jo.text == acc.text

	# Title only: nothing at all.
	env.xadd(dict(m4, title="Community forum: leaving hospital (v2)"))
	marker(env)
	assert counts(env) == after, (counts(env), after)
	assert env.dead_entries() == []


# ---------------------------------------------------------------------------
# 4. An invitee added, an invitee removed

def test_invitee_added_and_removed(env):
	setup(env, people=(AMARA, BEN, CARA))
	start = days_ahead(20)
	m = meeting("m-inv", start)
	env.xadd(m)
	for c in ("c-amara", "c-ben"):
		wait_mid(env, "<inv/m-inv/%s/0@example.org>" % c)
	marker(env)
	base = counts(env)
	assert schedule_ids(env, "rem:m-inv:c-ben:")

	# Added: Cara gets an invitation; nobody else gets anything.
	env.xadd(dict(m, invitees=["c-amara", "c-ben", "c-cara"]))
	inv = wait_mid(env, "<inv/m-inv/c-cara/0@example.org>")
	check_calendar(inv, "REQUEST", "m-inv", 0, start)
	marker(env)
	exp = dict(base)
	exp["cara@example.org"] = 1
	assert counts(env) == exp, (counts(env), exp)

	# Removed: Ben gets a cancellation of his own (CANCEL, SEQUENCE up).
	env.xadd(dict(m, invitees=["c-amara", "c-cara"]))
	can = wait_mid(env, "<can/m-inv/c-ben/1@example.org>")
	assert can.mail_from == "forum@example.org"
	assert can.rcpt_tos == ["ben@example.org"]
	check_calendar(can, "CANCEL", "m-inv", 1, start)
	assert "Community forum: leaving hospital" in unwrap(can.text)
	marker(env)
	exp["ben@example.org"] += 1
	assert counts(env) == exp, (counts(env), exp)
	assert schedule_ids(env, "rem:m-inv:c-ben:") == [], \
	    schedule_ids(env, "rem:m-inv:")
	assert schedule_ids(env, "rem:m-inv:c-amara:")


# ---------------------------------------------------------------------------
# 5. Cancelled: everyone told, reminders gone

def test_cancelled_meeting(env):
	setup(env)
	start = days_ahead(20)
	m = meeting("m-can", start)
	env.xadd(m)
	for c in ("c-amara", "c-ben"):
		wait_mid(env, "<inv/m-can/%s/0@example.org>" % c)
	assert len(schedule_ids(env, "rem:m-can:")) == 6, \
	    schedule_ids(env, "rem:m-can:")	# 7d, 1d, 2h for two people
	env.xadd(dict(m, status="cancelled"))
	for c in ("c-amara", "c-ben"):
		can = wait_mid(env, "<can/m-can/%s/1@example.org>" % c)
		cal = check_calendar(can, "CANCEL", "m-can", 1, start)
		assert cal["VEVENT"].get("STATUS", ({}, ""))[1] in ("", "CANCELLED")
		assert "cancel" in can.subject.lower(), can.subject
		assert "cancelled" in unwrap(can.text), unwrap(can.text)
	marker(env)
	assert counts(env) == {"amara@example.org": 2, "ben@example.org": 2}
	assert schedule_ids(env, "rem:m-can") == [], schedule_ids(env, "rem:")
	# Nothing of the meeting is pending, in either of the ways a delivery
	# can be stored (its own hash, or a waiting reminder in mr:<meeting>):
	# asked through the command, which reads both.
	assert pending_of(env, "m-can") == [], pending_of(env, "m-can")


# ---------------------------------------------------------------------------
# 6. Reminders at each lead, before the start; moved with the meeting

def test_reminders(env):
	env.start_daemon()
	env.xadd(venue())
	env.xadd(dict(AMARA, reminders=["50s", "40s"]))
	env.xadd(dict(BEN, reminders=["2h"]))	# longer than time to start
	# The meeting is an hour away; the clock is moved to each reminder
	# rather than waited for.
	start = seconds_ahead(3600)
	end = start + datetime.timedelta(hours=1)
	env.xadd(meeting("m-soon", start, end))
	wait_mid(env, "<inv/m-soon/c-amara/0@example.org>")
	wait_mid(env, "<inv/m-soon/c-ben/0@example.org>")
	assert schedule_ids(env, "rem:m-soon:") == [
	    "rem:m-soon:c-amara:0:40", "rem:m-soon:c-amara:0:50"], \
	    schedule_ids(env, "rem:m-soon:")
	for lead in (50, 40):
		due = int(env.r.zscore(env.key("schedule"),
		    "rem:m-soon:c-amara:0:%d" % lead))
		assert due == (int(start.timestamp()) - lead) * 1000, (lead, due)

	# A second meeting far ahead, to move.
	far = days_ahead(20)
	env.xadd(meeting("m-move", far, invitees=["c-amara"]))
	wait_mid(env, "<inv/m-move/c-amara/0@example.org>")
	assert schedule_ids(env, "rem:m-move:") == [
	    "rem:m-move:c-amara:0:40", "rem:m-move:c-amara:0:50"]
	later = far + datetime.timedelta(days=1)
	env.xadd(meeting("m-move", later, invitees=["c-amara"]))
	wait_mid(env, "<upd/m-move/c-amara/1@example.org>")
	assert schedule_ids(env, "rem:m-move:") == [
	    "rem:m-move:c-amara:1:40", "rem:m-move:c-amara:1:50"], \
	    schedule_ids(env, "rem:m-move:")
	assert int(env.r.zscore(env.key("schedule"),
	    "rem:m-move:c-amara:1:50")) == (int(later.timestamp()) - 50) * 1000
	assert [d for d in pending_of(env, "m-move")
	    if d.startswith("rem:")] == [
	    "rem:m-move:c-amara:1:40", "rem:m-move:c-amara:1:50"], \
	    pending_of(env, "m-move")

	# Both reminders of the soon meeting arrive, each before the start.
	seen = {}
	ids = {"<rem/m-soon/c-amara/0/%d@example.org>" % l: l for l in (50, 40)}

	def arrived(n):
		now = env.now()
		for m in env.mails:
			if mid_of(m) in ids and mid_of(m) not in seen:
				seen[mid_of(m)] = (now, m)
		return len(seen) >= n
	# Not before its time: ten seconds before the first is due, nothing
	# (the scheduler looks at least once a second).
	env.advance(start.timestamp() - 50 - env.now() - 10)
	time.sleep(1.5)
	assert not arrived(1), "a reminder before its time: %s" % list(seen)
	env.advance(10)
	env.wait_for(lambda: arrived(1), 30, "the 50 s reminder")
	assert list(seen) == ["<rem/m-soon/c-amara/0/50@example.org>"], \
	    list(seen)
	env.advance(10)
	env.wait_for(lambda: arrived(2), 30, "both reminders (have %s)" %
	    list(seen))
	for msgid, (at, m) in seen.items():
		assert at < start.timestamp(), \
		    "%s seen %.1fs after the start" % (msgid,
		    at - start.timestamp())
		t = unwrap(m.text)
		assert m.subject.startswith("Reminder: "), m.subject
		assert range_words(start, end) in m.subject, m.subject
		assert "Date: %s" % date_words(start) in t, t	# easy read
		assert "Time: %s to %s" % (time_words(start), time_words(end)) \
		    in t, t
		assert "Lyric Hammersmith, Studio 2" in t
		assert "Lyric Square, King Street, London W6 0QL" in t
		assert "Use the main glass doors." in t
		assert "Forum phone 020 7946 0000" in t
		assert "Jo Patel" in t
		check_access_text(t, "amara", True)
	assert [m for m in env.mails_to("ben@example.org")
	    if m.subject.startswith("Reminder")] == []
	assert len([m for m in env.mails_to("amara@example.org")
	    if mid_of(m).startswith("<rem/m-soon/")]) == 2
	# Without [web] or [inbound] no answers come back: no answers summary
	# is marked due, so nothing piles up waiting for one.
	assert env.r.exists(env.key("sumdue"), env.key("sum:m-soon")) == 0


@harness.env_options(config={"delivery": {"quiet_hours": "21:00-08:00"}})
def test_reminders_quiet_hours(env):
	"""SPEC 4: a reminder due in quiet hours moves to their end if that
	is before the start, otherwise to their start. Checked on the
	schedule (due times), 20 days ahead, so nothing is sent."""
	setup(env, people=(dict(AMARA, reminders=["2h"]),
	    dict(BEN, reminders=["1h"])))
	d = 20
	while days_ahead(d, 9, 0).utcoffset() != days_ahead(d - 1, 9, 0) \
	    .utcoffset():
		d += 1		# keep away from a daylight-saving change
	nine = days_ahead(d, 9, 0)		# 2h lead: 07:00, quiet
	half7 = days_ahead(d, 7, 30)		# 1h lead: 06:30, quiet
	# The expected due times, reckoned now (not after a midnight).
	eight = days_ahead(d, 8, 0)
	nine_pm_before = days_ahead(d - 1, 21, 0)
	env.xadd(meeting("m-q9", nine, invitees=["c-amara"]))
	env.xadd(meeting("m-q7", half7, invitees=["c-ben"]))
	wait_mid(env, "<inv/m-q9/c-amara/0@example.org>")
	wait_mid(env, "<inv/m-q7/c-ben/0@example.org>")

	def due(did):
		v = env.r.zscore(env.key("schedule"), did)
		assert v is not None, (did, schedule_ids(env, "rem:"))
		return datetime.datetime.fromtimestamp(v / 1000, LONDON)
	# 07:00 -> 08:00, the end of quiet hours, before the 09:00 start.
	assert due("rem:m-q9:c-amara:0:7200") == eight, \
	    due("rem:m-q9:c-amara:0:7200")
	# 06:30 -> 08:00 would be after the 07:30 start: 21:00 the day before.
	assert due("rem:m-q7:c-ben:0:3600") == nine_pm_before, \
	    due("rem:m-q7:c-ben:0:3600")


# ---------------------------------------------------------------------------
# 7. Venue access changes reach invitees of upcoming meetings

def test_venue_access_update(env):
	setup(env)
	v = venue()
	m = meeting("m-ven", days_ahead(20))
	env.xadd(m)
	for c in ("c-amara", "c-ben"):
		wait_mid(env, "<inv/m-ven/%s/0@example.org>" % c)
	marker(env)
	base = counts(env)

	acc = dict(v["access"], lift="Lift out of order until January")
	env.xadd(dict(v, access=acc))
	got = {}
	for c, addr in (("c-amara", "amara@example.org"),
	    ("c-ben", "ben@example.org")):
		got[c] = env.wait_for(lambda: [x for x in env.mails_to(addr)
		    if mid_of(x).startswith("<vup/v-lyric/m-ven/%s/" % c)],
		    what="the access update to %s" % c)
	marker(env)
	assert counts(env) == {k: n + 1 for k, n in base.items()}, counts(env)
	for c, (u,) in got.items():
		t = unwrap(u.text)
		assert "Community forum: leaving hospital" in u.subject
		assert "Lift out of order until January" in t, t
		# What changed: the label, before and after, in the
		# templates' words (the same as the access section's).
		easy = c == "c-amara"
		yes = "Yes, it is there." if easy else "Yes."
		lines = [ln.strip() for ln in t.split("\n")]
		i = lines.index(line_with(t, "Before:"))
		assert lines[i - 1] == "- Lift", lines[i - 2:i + 2]
		assert lines[i] == "Before: " + yes, lines[i]
		assert lines[i + 1] == "Now: %s Lift out of order until " \
		    "January" % yes, lines[i + 1]
		assert "Before: available" not in t, t
		check_access_text(t[t.index("What you need\n" if easy else
		    "Your access needs"):], c[2:], easy)

	# A change that is not about access: nothing.
	after = counts(env)
	env.xadd(dict(v, access=acc, arrival="Use the side door on "
	    "Lyric Square."))
	marker(env)
	assert counts(env) == after, (counts(env), after)
	assert env.dead_entries() == []


# ---------------------------------------------------------------------------
# 8. Coordinator notices

def test_coordinator_notices(env):
	setup(env, people=(AMARA, BEN), venues=(venue(access={
	    "step-free": True, "hearing-loop": False}),))
	# Short notice (3 days), at a venue without a hearing loop for Ben
	# and no word on a quiet room for Amara; the record's coordinator.
	start = days_ahead(3)
	env.xadd(meeting("m-short", start, coordinator="jo-coord@example.org"))
	for c in ("c-amara", "c-ben"):
		wait_mid(env, "<inv/m-short/%s/0@example.org>" % c)
	short = wait_notice(env, "Short notice", to="jo-coord@example.org")
	assert "m-short" in unwrap(short.text)
	assert date_words(start) in unwrap(short.text), unwrap(short.text)
	assert short["To"].addresses[0].addr_spec == "jo-coord@example.org"
	acc = wait_notice(env, "Access needs", to="jo-coord@example.org")
	t = unwrap(acc.text)
	# People by name and id (issue 14); addresses stay out.
	ben = line_with(t, "Ben Adeyemi (c-ben)")
	assert "hearing-loop" in ben or "Hearing loop" in ben, ben
	assert "not available" in ben, ben
	amara = line_with(t, "Amara Okafor (c-amara)")
	assert "quiet-room" in amara or "Quiet room" in amara, amara
	assert "not confirmed" in amara, amara
	assert "step-free" not in t and "Step-free" not in t, t
	assert "amara@example.org" not in t

	# A meeting 20 days ahead at a venue with everything Ben needs:
	# no notice at all.
	env.xadd(venue("v-ok", access={"hearing-loop": True}))
	env.xadd(meeting("m-fine", days_ahead(20), vid="v-ok",
	    invitees=["c-ben"]))
	wait_mid(env, "<inv/m-fine/c-ben/0@example.org>")

	# An unknown venue: rejected, dead, and a notice.
	env.xadd(meeting("m-bad", days_ahead(20), vid="v-nope"))
	rej = wait_notice(env, "not accepted")
	assert 'venue: no venue "v-nope"' in unwrap(rej.text), unwrap(rej.text)
	dead = env.dead_entries()
	assert [d["error"] for d in dead] == ['venue: no venue "v-nope"'], dead
	assert json.loads(dead[0]["record"])["id"] == "m-bad"
	assert not env.r.exists(env.key("rec:meeting:m-bad"))
	marker(env)
	assert [m for m in env.mails if "m-fine" in unwrap(m.text) and
	    m.subject.startswith("Notice: ")] == []
	assert [m.subject for m in notices(env, COORD)] == \
	    ["Notice: A record was not accepted"], \
	    [m.subject for m in notices(env, COORD)]
	assert len(notices(env, "jo-coord@example.org")) == 2
	assert env.mails_to("amara@example.org") and \
	    not [m for m in env.mails_to("amara@example.org")
	    if "m-bad" in mid_of(m)]


@harness.env_options(config={"delivery": {"retry_min": "1s",
    "retry_max": "2s"}})
def test_reminder_expired_before_meeting(env):
	setup(env, people=(dict(AMARA, reminders=["10s"]),))
	# The meeting is an hour away; the clock is moved instead of waited.
	start = seconds_ahead(3600)
	env.xadd(meeting("m-exp", start, invitees=["c-amara"]))
	wait_mid(env, "<inv/m-exp/c-amara/0@example.org>")
	wait_notice(env, "Short notice")
	did = "rem:m-exp:c-amara:0:10"
	assert schedule_ids(env, "rem:m-exp:") == [did]
	# Everything fails from just before the reminder is due until after
	# the start.
	due = start.timestamp() - 10
	env.smtp.tempfail_all(3600)
	env.advance(due - env.now() + 1)
	env.wait_for(lambda: [a for a in env.audit_entries()
	    if a.get("delivery") == did and a.get("event") == "retry"], 30,
	    "the reminder tried and answered 451")
	# The meeting starts: the reminder's deadline.
	env.advance(start.timestamp() - env.now() + 1)
	dead = env.wait_for(lambda: [d for d in env.dead_entries()
	    if d.get("delivery") == did], 30, "the reminder in dead")[0]
	env.smtp.tempfail_all(0)
	assert dead.get("kind") == "reminder", dead
	assert dead.get("collaborator") == "c-amara", dead
	assert "Amara" not in json.dumps(dead) and "amara@" not in \
	    json.dumps(dead)
	assert int(dead.get("attempts", "0")) >= 1, dead
	# After the sink recovers, the coordinator hears.
	n = wait_notice(env, "could not be delivered", timeout=90)
	assert did in unwrap(n.text), unwrap(n.text)
	# By name and id in the email (issue 14); the dead entry keeps ids.
	assert "Amara Okafor (c-amara)" in unwrap(n.text) and \
	    "amara@" not in unwrap(n.text)
	assert [m for m in env.mails_to("amara@example.org")
	    if mid_of(m).startswith("<rem/")] == []
	ev = [a for a in env.audit_entries() if a.get("delivery") == did]
	assert ev and ev[-1].get("event") == "expired", ev
	assert not env.r.zscore(env.key("schedule"), did)
	# SPEC 5: the dead entry has the last SMTP reply; it was tried and
	# answered 451, so the reply must be there (and in the notice).
	assert "451" in dead.get("last_reply", ""), dead
	assert "Last reply from the mail server: 451" in unwrap(n.text), \
	    unwrap(n.text)


# ---------------------------------------------------------------------------
# 8. `hearback dead retry` gives a meeting's email back to the meeting

def _retried_invitation(env, mid):
	"""A meeting inviting Amara and Ben whose invitation to Ben failed for
	good and was put back with `hearback dead retry`, while every try is
	answered 451 and tried again only an hour later (so it stays pending).
	Returns (meeting record, Ben's invitation's delivery id)."""
	setup(env)
	env.smtp.reject("ben@example.org")
	m = meeting(mid, days_ahead(20))
	env.xadd(m)
	wait_mid(env, "<inv/%s/c-amara/0@example.org>" % mid)
	did = "inv:%s:c-ben:0" % mid
	dead = env.wait_for(lambda: [d for d in env.dead_entries()
	    if d.get("delivery") == did], what="Ben's invitation in dead")[0]
	env.smtp.unreject()
	env.smtp.tempfail_all(3600)
	res = env.cli("dead", "retry", dead["id"])
	assert res.rc == 0, res
	assert env.r.hget(env.key("d:" + did), "state") == "scheduled"
	assert env.r.zscore(env.key("schedule"), did) is not None
	return m, did


def _wait_stored(env, mid, pred, what):
	def stored():
		w = env.r.get(env.key("rec:meeting:%s" % mid))
		return w is not None and pred(json.loads(w)["record"])
	env.wait_for(stored, what=what)


@harness.env_options(config={"delivery": {"retry_min": "1h",
    "retry_max": "2h"}})
def test_dead_retry_then_cancel_withdraws_it(env):
	m, did = _retried_invitation(env, "m-dr")
	env.xadd(dict(m, status="cancelled"))
	_wait_stored(env, "m-dr", lambda r: r.get("status") == "cancelled",
	    "the cancellation to be stored")
	# Withdrawn like the meeting's other pending emails: an invitation
	# to a cancelled meeting must never go out.
	assert env.r.zscore(env.key("schedule"), did) is None, \
	    "the retried invitation is still scheduled after the cancellation"
	assert env.r.hget(env.key("d:" + did), "state") != "scheduled"
	assert not env.r.sismember(env.key("cd:c-ben"), did)


@harness.env_options(config={"delivery": {"retry_min": "1h",
    "retry_max": "2h"}})
def test_dead_retry_then_removed_withdraws_it(env):
	m, did = _retried_invitation(env, "m-dr2")
	env.xadd(dict(m, invitees=["c-amara"]))
	_wait_stored(env, "m-dr2", lambda r: r.get("invitees") == ["c-amara"],
	    "the change to be stored")
	assert env.r.zscore(env.key("schedule"), did) is None, \
	    "the retried invitation is still scheduled after Ben was removed"
	assert env.r.hget(env.key("d:" + did), "state") != "scheduled"


# ---------------------------------------------------------------------------
# 9. Preview: an mbox, nothing sent

def _mbox(text):
	"""Split an mbox into messages (un-escaping '>From ')."""
	msgs, cur = [], None
	for ln in text.split("\n"):
		if ln.startswith("From "):
			if cur is not None:
				msgs.append(cur)
			cur = []
			continue
		assert cur is not None, "mbox does not start with a From line"
		if ln.startswith(">From "):
			ln = ln[1:]
		cur.append(ln)
	if cur is not None:
		msgs.append(cur)
	return [email.message_from_string("\n".join(m),
	    policy=email.policy.default) for m in msgs]


def _preview_invitation(res, start):
	assert res.rc == 0, res
	assert res.out.startswith("From forum@example.org "), res.out[:200]
	msgs = _mbox(res.out)
	inv = [m for m in msgs if str(m["Message-ID"]).strip() ==
	    "<inv/m-prev/c-amara/0@example.org>"]
	assert len(inv) == 1, [str(m["Message-ID"]) for m in msgs]
	m = inv[0]
	assert m["To"].addresses[0].addr_spec == "amara@example.org"
	assert "Community forum: leaving hospital" in str(m["Subject"])
	cal = [p for p in m.walk() if p.get_content_type() == "text/calendar"]
	assert cal, "no calendar part in the preview"
	c = ical(cal[0].get_content())
	assert c["METHOD"] == "REQUEST"
	assert c["VEVENT"]["DTSTART"][1] == start.strftime("%Y%m%dT%H%M%S")
	text = [p for p in m.walk() if p.get_content_type() == "text/plain"][0]
	assert "Lyric Hammersmith, Studio 2" in text.get_content()
	return msgs


def test_preview_sends_nothing(env):
	env.start_daemon()
	start = days_ahead(20)
	mrec = meeting("m-prev", start, invitees=["c-amara"])
	f = env.write_file("all.json", [venue(), AMARA, mrec])
	_preview_invitation(env.cli("preview", f, "--as", "c-amara"), start)
	# Nothing queued, stored or sent.
	assert env.inbox_len() == 0
	assert env.keys("rec:*") == [], env.keys("rec:*")
	assert env.keys("d:*") == []

	# The venue and person already stored; the file holds the meeting.
	env.xadd(venue())
	env.xadd(AMARA)
	env.wait_for(lambda: env.r.exists(env.key("rec:collaborator:c-amara"))
	    and env.r.exists(env.key("rec:venue:v-lyric")), what="stored")
	f2 = env.write_file("m.json", mrec)
	_preview_invitation(env.cli("preview", f2, "--as", "c-amara"), start)
	assert not env.r.exists(env.key("rec:meeting:m-prev"))
	marker(env)
	assert counts(env) == {}, counts(env)
	assert env.keys("d:inv:*") == []
	# Someone the meeting does not invite: nothing to preview.
	res = env.cli("preview", f2, "--as", "c-nobody")
	assert "c-amara" not in res.out and "Amara" not in res.out, res

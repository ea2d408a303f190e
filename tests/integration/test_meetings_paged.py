"""
test_meetings_paged.py: meetings of thousands of people, planned in pages
(issue 11; include/meeting_page.h), against a real redis-server and the
harness's SMTP server.

A meeting of more than a few people is planned a page of people at a time:
the record and a marker first, then each page's emails in commits of a few
hundred ops, then the notices gathered over everyone (unmet access needs,
the call list of people with no email), then the marker goes with the inbox
entry. These tests check that what comes out is what the whole planner
sends (one invitation each, one access notice, one call list, complete),
that a SIGKILL in the middle loses nothing and doubles nothing, and that a
change, people added and taken off, and a cancellation reach everyone.

Counts, never timings. Every wait is on observable state.
"""

import datetime
import json
import re
import time

import harness
import faults_helpers as fh
from test_meetings import COORD, days_ahead, local, marker, meeting, mid_of

ORG = "jo@example.org"
PHONE_EVERY = 97	# person i % PHONE_EVERY == 5 has a phone and no email
NEED_EVERY = 89		# person i % NEED_EVERY == 3 needs a hearing loop


def phone_some(i):
	return i % PHONE_EVERY == 5


def person(i, group, tag, phoned=phone_some):
	"""A consenting collaborator; some have no email (phoned(i)), some
	need a hearing loop (which the venue does not have). No reminders of
	their own: the meeting's apply."""
	r = {"type": "collaborator", "id": "c-%s%05d" % (tag, i),
	    "name": "Person %s %d" % (tag, i), "consent": True,
	    "groups": [group]}
	if phoned(i):
		r["phone"] = "020 7946 %04d" % i
	else:
		r["email"] = fh.addr(i, tag)
	if i % NEED_EVERY == 3:
		r["access_needs"] = ["hearing-loop"]
	return r


def queue_people(env, n, group, tag, phoned=phone_some):
	"""XADD n people in one pipeline; returns their records."""
	recs = [person(i, group, tag, phoned) for i in range(n)]
	p = env.r.pipeline(transaction=False)
	for r in recs:
		p.xadd(env.key("inbox"), {"record": json.dumps(r)})
	p.execute()
	return recs


def emailed(recs):
	return [r for r in recs if "email" in r]


def venue():
	return {"type": "venue", "id": "v-hall", "name": "Riverside Hall",
	    "address": "12 Wharf Road, London SE1 9PP",
	    "access": {"step-free": True, "hearing-loop": False}}


def big_meeting(mid, groups, start=None, **kw):
	return meeting(mid, start or days_ahead(20), invitees=(), vid="v-hall",
	    groups=list(groups), reminders=["7d"], **kw)


def setup(env, groups, phoned=phone_some):
	"""groups: [(name, n, tag)]. People and the venue queued and stored;
	the daemon running. Returns {name: records}."""
	out = {}
	for name, n, tag in groups:
		out[name] = queue_people(env, n, name, tag, phoned)
	env.xadd(venue())
	env.start_daemon()
	fh.wait_inbox_empty(env)
	return out


def ids_of(env, prefix):
	"""Message-IDs with that prefix, by lower-case recipient."""
	out = {}
	for m in env.mails:
		mid = mid_of(m)
		if mid.startswith(prefix):
			for r in m.rcpt_tos:
				out.setdefault(r.lower(), set()).add(mid)
	return out


def wait_ids(env, want, what):
	"""Until each (address, Message-ID) in want has arrived."""
	def missing():
		have = set()
		for m in env.mails:
			for r in m.rcpt_tos:
				have.add((r.lower(), mid_of(m)))
		return [w for w in want if w not in have]
	env.wait_for(lambda: not missing(), fh.SETTLE, "%s (%d missing, e.g. "
	    "%s)" % (what, len(missing()), missing()[:3]))


def coordinator_mails(env, subject_start, to=COORD):
	return [m for m in env.mails_to(to) if m.subject.startswith(
	    subject_start) or subject_start in m.subject]


def keys_like(env, pattern):
	return env.keys(pattern)


def paged_log(env, mid, what="meeting"):
	"""The daemon's lines saying the meeting (or venue) was planned in
	pages."""
	text = env.daemon_log.read_text(errors="replace")
	return re.findall(r"intake: %s %s: version \S+ planned in pages "
	    r"\((\d+) pages, (\d+) ops committed\)" % (what, re.escape(mid)),
	    text)


def check_clean(env, mid, invited):
	"""After a meeting's pages: no marker, nothing gathered left, the
	invited hash as expected, the record small and without the list."""
	assert not env.r.exists(env.key("fanout:meeting:%s" % mid))
	assert not env.r.exists(env.key("mp:%s" % mid))
	assert env.r.hlen(env.key("mi:%s" % mid)) == invited, \
	    (env.r.hlen(env.key("mi:%s" % mid)), invited)
	w = json.loads(env.r.get(env.key("rec:meeting:%s" % mid)))
	assert "invited" not in w["meta"], w["meta"]
	assert env.r.strlen(env.key("rec:meeting:%s" % mid)) < 4096
	assert env.inbox_len() == 0


def check_notices(env, mid, recs):
	"""Exactly one access notice (and its organiser's copy) naming every
	person whose need is unmet, and one call list naming every person
	with no email: each complete, each once."""
	need = [r["id"] for r in recs if r.get("access_needs")]
	phone = [r for r in recs if "email" not in r]
	for to in (COORD, ORG):
		got = coordinator_mails(env, "Access needs not met", to)
		assert len({mid_of(m) for m in got}) == 1, \
		    [mid_of(m) for m in got]
		t = " ".join(got[0].text.split())
		for cid in need:
			assert "(%s) needs Hearing loop (hearing-loop): the venue "\
			    "v-hall says it is not available." % cid in t, (cid, t)
		assert t.count(") needs ") == len(need), t.count(") needs ")
	calls = [m for m in coordinator_mails(env, "Please phone")
	    if mid_of(m).startswith("<call/")]
	assert len({mid_of(m) for m in calls}) == 1, [mid_of(m) for m in calls]
	assert calls[0].subject.startswith("Please phone %d people" %
	    len(phone)), calls[0].subject
	t = " ".join(calls[0].text.split())
	for r in phone:
		assert "%s (%s), phone %s" % (r["name"], r["id"], r["phone"]) in \
		    t, (r["id"], t[:400])


def wait_invited(env, mid, recs):
	"""Everyone with an email invited to mid, the call list and the
	organiser's access notice sent."""
	want = [(r["email"], "<inv/%s/%s/0@example.org>" % (mid, r["id"]))
	    for r in emailed(recs)]
	wait_ids(env, want, "the invitations")
	env.wait_for(lambda: coordinator_mails(env, "Please phone"),
	    what="the call list")
	env.wait_for(lambda: len(coordinator_mails(env, "Access needs not met",
	    ORG)) > 0, what="the access notice to the organiser")


def test_paged_meeting_one_notice_one_call_list(env):
	"""A meeting of 3,000 people, two in three with no email: planned in
	many pages; everyone with an email gets one invitation, and a reminder
	is waiting for them; the coordinator gets one access notice and one
	call list (of 2,000), complete, though the people they name are spread
	over every page."""
	recs = setup(env, [("forum", 3000, "p")], lambda i: i % 3 != 0)["forum"]
	env.xadd(big_meeting("m-big", ["forum"]))
	wait_invited(env, "m-big", recs)
	marker(env)
	logged = paged_log(env, "m-big")
	assert logged and int(logged[-1][0]) >= 3000 // 64, logged
	# One invitation each, nothing else to them.
	inv = ids_of(env, "<inv/m-big/")
	assert all(len(v) == 1 for v in inv.values())
	assert sum(1 for m in env.mails if mid_of(m).startswith("<inv/")) == \
	    len(emailed(recs))
	check_notices(env, "m-big", recs)
	# Reminders wait, one for each person with an email, SEQUENCE 0.
	rems = [d for d in env.r.zrange(env.key("schedule"), 0, -1)
	    if d.startswith("rem:m-big:")]
	assert sorted(rems) == sorted("rem:m-big:%s:0:604800" % r["id"]
	    for r in emailed(recs)), len(rems)
	check_clean(env, "m-big", len(recs))
	# Queued again unchanged: nothing more.
	n = len(env.mails)
	env.xadd(big_meeting("m-big", ["forum"]))
	marker(env)
	assert len(env.mails) == n + 1, len(env.mails) - n


def _leased(env):
	"""How many deliveries a daemon holds leased now: on the schedule
	less than a minute ahead (a lease; everything else here is due now,
	or is a reminder days away)."""
	now = int(time.time() * 1000)
	return env.r.zcount(env.key("schedule"), now + 1, now + 60000)


def _pause_mid_pages(env, mid, n, after=0):
	"""Wait until the meeting's pages are under way (marker there, more
	than `after` people in its invited hash, not all), then stop Redis
	from taking writes, so the daemon is held between two pages. Returns
	how many were in."""
	mk, mi = env.key("fanout:meeting:%s" % mid), env.key("mi:%s" % mid)

	def begun():
		return env.r.exists(mk) and after < env.r.hlen(mi) < n
	harness.wait_for(begun, fh.SETTLE, "the pages of %s to begin" % mid,
	    check=env.check_daemon)
	env.r.execute_command("CLIENT", "PAUSE", "10000", "WRITE")
	return env.r.hlen(mi)


def test_paged_meeting_sigkill_mid_pages(env):
	"""SIGKILL while a meeting of 1,500 is between two pages, twice: the
	entry is claimed again, the marker's version finished from the top.
	Every invitation and reminder is made once; nobody is lost; an email
	goes twice only if it was in flight at a kill (the same email); one
	access notice and one call list."""
	recs = setup(env, [("forum", 1500, "k")])["forum"]
	bound = fh.in_flight_bound(env)
	env.xadd(big_meeting("m-kill", ["forum"]))
	kills = []
	for k in range(2):
		inside = _pause_mid_pages(env, "m-kill", len(recs),
		    kills[-1][0] if kills else 0)
		held = _leased(env)
		env.kill_daemon()
		env.r.execute_command("CLIENT", "UNPAUSE")
		kills.append((inside, held))
		env.start_daemon()
	print("killed mid-pages at %s (invited so far, leased)" % kills)
	wait_invited(env, "m-kill", recs)
	fh.wait_inbox_empty(env)
	marker(env)
	# Each delivery made once: one invitation and one reminder each.
	invs = [k for k in env.keys("d:inv:m-kill:*")]
	assert len(invs) == len(emailed(recs)), len(invs)
	rems = [d for d in env.r.zrange(env.key("schedule"), 0, -1)
	    if d.startswith("rem:m-kill:")]
	assert len(rems) == len(set(rems)) == len(emailed(recs)), len(rems)
	lost, dup, extra = fh.tally(env, [r["email"] for r in emailed(recs)])
	assert not lost, lost[:10]
	for a in dup:
		assert len({mid_of(m) for m in env.mails_to(a)}) == 1, a
	assert extra <= sum(h for _, h in kills) <= 2 * bound, (extra, kills)
	check_notices(env, "m-kill", recs)
	check_clean(env, "m-kill", len(recs))


def _mails_by_person(env, recs):
	return {r["id"]: sorted(mid_of(m) for m in env.mails_to(r["email"]))
	    for r in emailed(recs)}


def test_paged_meeting_change_add_remove_cancel(env):
	"""A meeting of 550 (groups g1 and g2), in pages: moved an hour
	(an update each, reminders planned again); then g2 taken off and g3
	added (a cancellation each for g2, an invitation each for g3, nothing
	for g1); then the venue's access changes (an access update each for
	who is invited then); then cancelled (a cancellation each for who is
	invited then). Everyone gets exactly those emails, in that
	SEQUENCE."""
	g = setup(env, [("g1", 400, "a"), ("g2", 150, "b"), ("g3", 60, "c")])
	start = days_ahead(20)
	m = big_meeting("m-chg", ["g1", "g2"], start=start)
	env.xadd(m)
	both = g["g1"] + g["g2"]

	def expect(recs, what, seq):
		return [(r["email"], "<%s/m-chg/%s/%d@example.org>" % (what,
		    r["id"], seq)) for r in emailed(recs)]
	wait_ids(env, expect(both, "inv", 0), "the invitations")
	# 1. An hour later: one update each, their reminders planned again.
	later = start + datetime.timedelta(hours=1)
	m = dict(m, start=local(later), end=local(later +
	    datetime.timedelta(hours=2)))
	env.xadd(m)
	wait_ids(env, expect(both, "upd", 1), "the updates")
	env.wait_for(lambda: not env.r.exists(env.key("fanout:meeting:m-chg")),
	    what="the change's pages to finish")
	rems = {d for d in env.r.zrange(env.key("schedule"), 0, -1)
	    if d.startswith("rem:m-chg:")}
	assert rems == {"rem:m-chg:%s:1:604800" % r["id"]
	    for r in emailed(both)}, len(rems)
	# 2. g2 off, g3 on.
	m = dict(m, groups=["g1", "g3"])
	env.xadd(m)
	wait_ids(env, expect(g["g2"], "can", 2) + expect(g["g3"], "inv", 2),
	    "the cancellations and invitations")
	env.wait_for(lambda: not env.r.exists(env.key("fanout:meeting:m-chg")),
	    what="the pages to finish")
	rems = {d for d in env.r.zrange(env.key("schedule"), 0, -1)
	    if d.startswith("rem:m-chg:")}
	assert rems == {"rem:m-chg:%s:1:604800" % r["id"]
	    for r in emailed(g["g1"])} | {"rem:m-chg:%s:2:604800" % r["id"]
	    for r in emailed(g["g3"])}, len(rems)
	assert env.r.hlen(env.key("mi:m-chg")) == len(g["g1"]) + len(g["g3"])
	# 2b. The hall's hearing loop is fitted: an access update to each
	# person invited now, the venue's updates in pages too.
	v = venue()
	v["access"] = dict(v["access"], **{"hearing-loop": True})
	env.xadd(v)
	now_in = emailed(g["g1"] + g["g3"])
	env.wait_for(lambda: len(ids_of(env, "<vup/v-hall/m-chg/")) ==
	    len(now_in), fh.SETTLE, "the access updates")
	env.wait_for(lambda: not env.r.exists(env.key("fanout:venue:v-hall")),
	    what="the venue's pages")
	vup = ids_of(env, "<vup/v-hall/m-chg/")
	assert sorted(vup) == sorted(r["email"] for r in now_in)
	assert all(len(x) == 1 for x in vup.values())
	# Those with a phone only: theirs to the coordinator, to phone them.
	phoned = [r["id"] for r in g["g1"] + g["g3"] if "email" not in r]
	assert phoned, "no one to phone in the groups"
	env.wait_for(lambda: len(ids_of(env, "<avup/v-hall/m-chg/").get(COORD,
	    ())) == len(phoned), fh.SETTLE, "the access updates to phone")
	assert sorted(m.split("/")[3] for m in ids_of(env,
	    "<avup/v-hall/m-chg/")[COORD]) == sorted(phoned)
	assert paged_log(env, "v-hall", "venue"), "the venue was not paged"
	# 3. Cancelled.
	env.xadd(dict(m, status="cancelled", cancel_reason="The hall "
	    "flooded."))
	wait_ids(env, expect(g["g1"] + g["g3"], "can", 3),
	    "the cancellations")
	fh.wait_inbox_empty(env)
	marker(env)
	assert [d for d in env.r.zrange(env.key("schedule"), 0, -1)
	    if ":m-chg:" in d] == []
	check_clean(env, "m-chg", 0)
	got = _mails_by_person(env, g["g1"] + g["g2"] + g["g3"])
	for cid in got:
		got[cid] = [x for x in got[cid] if not x.startswith("<vup/")]

	def ids(cid, *parts):
		return sorted("<%s/m-chg/%s/%d@example.org>" % (w, cid, s)
		    for w, s in parts)
	for r in emailed(g["g1"]):
		assert got[r["id"]] == ids(r["id"], ("inv", 0), ("upd", 1),
		    ("can", 3)), got[r["id"]]
	for r in emailed(g["g2"]):
		assert got[r["id"]] == ids(r["id"], ("inv", 0), ("upd", 1),
		    ("can", 2)), got[r["id"]]
	for r in emailed(g["g3"]):
		assert got[r["id"]] == ids(r["id"], ("inv", 2), ("can", 3)), \
		    got[r["id"]]
	# One call list for each change, naming its people with no email.
	calls = [m for m in coordinator_mails(env, "Please phone")
	    if mid_of(m).startswith("<call/")]
	assert len({mid_of(c) for c in calls}) == 4, [c.subject for c in calls]
	assert len(paged_log(env, "m-chg")) == 4, paged_log(env, "m-chg")

"""
test_meetings_race.py: a meeting that changes while one of its emails is
in flight (SPEC sections 4 and 5), against a real redis-server and the
harness's SMTP server.

The worker renders an email from the records it reads when it takes the
email (its lease). An invitation still waiting is rendered later, with the
change in it; one already taken may go out with the old facts. These tests
hold the SMTP server's answer to one person's DATA (so their invitation is
taken and in flight), queue the change, wait until it is planned (stored
in Redis), then let the answer go, and look at what that person got.

No timing assertion: every wait is on observable state (the held DATA,
Redis keys, emails); the hold is released by the test, not by a clock.
"""

import asyncio
import datetime
import json
import threading

import harness
from test_meetings import (AMARA, BEN, check_calendar, counts, days_ahead,
    line_with, local, marker, meeting, mid_of, range_words, setup, unwrap,
    venue, wait_mid)

AMARA_MAIL = "amara@example.org"

# A lease long enough that a held email is never taken again by another
# worker while the test holds it (that would be the crash case).
CONFIG = {"delivery": {"lease": "120s", "retry_min": "1s",
    "retry_max": "2s"}}


class Hold:
	"""Hold the answer to the first DATA for `address` until release();
	then answer it as usual, or 451 when fail=True."""

	def __init__(self, env, address, fail=False):
		self.address = address.lower()
		self.fail = fail
		self.arrived = threading.Event()
		self.go = threading.Event()
		self.used = False
		h = env.smtp.handler
		inner = h.handle_DATA

		async def handle_DATA(server, session, envelope):
			mine = not self.used and any(r.lower() == self.address
			    for r in envelope.rcpt_tos)
			if mine:
				self.used = True
				self.arrived.set()
				await asyncio.get_running_loop().run_in_executor(
				    None, self.go.wait, harness.WAIT * 2)
				if self.fail:
					with h.lock:
						h.attempts += 1
						h.tempfailed += 1
					return "451 4.3.0 held, then failed"
			return await inner(server, session, envelope)
		h.handle_DATA = handle_DATA

	def wait_arrived(self, env):
		env.wait_for(self.arrived.is_set, what="DATA to %s held" %
		    self.address)

	def release(self):
		self.go.set()


def stored(env, mid):
	w = env.r.get(env.key("rec:meeting:%s" % mid))
	return json.loads(w) if w else None


def wait_planned(env, mid, seq, pred=lambda r: True):
	"""The meeting stored with meta seq `seq` and a record passing pred:
	the change is planned and committed."""
	env.wait_for(lambda: (lambda w: w is not None and
	    w["meta"]["seq"] == seq and pred(w["record"]))(stored(env, mid)),
	    what="meeting %s stored at seq %d" % (mid, seq))


def mails_of(env, address, prefix):
	return [mid_of(m) for m in env.mails_to(address)
	    if mid_of(m).startswith(prefix)]


def _in_flight_invitation(env, mid):
	"""Amara's and Ben's invitation to a new meeting, Amara's held in
	flight. Returns (meeting record, hold)."""
	setup(env, people=(AMARA, BEN))
	hold = Hold(env, AMARA_MAIL, fail=getattr(env, "_race_fail", False))
	m = meeting(mid, days_ahead(20))
	env.xadd(m)
	hold.wait_arrived(env)
	did = "inv:%s:c-amara:0" % mid
	# Taken (leased) and still pending: in the meeting's index.
	assert int(env.r.hget(env.key("d:" + did), "leases") or 0) >= 1
	assert did in env.r.smembers(env.key("md:%s" % mid))
	return m, hold


@harness.env_options(config=CONFIG)
def test_change_while_invitation_in_flight_sends_update(env):
	start = days_ahead(20)
	m, hold = _in_flight_invitation(env, "m-race")
	ns = start + datetime.timedelta(hours=1)
	ne = ns + datetime.timedelta(hours=2)
	env.xadd(dict(m, start=local(ns), end=local(ne)))
	wait_planned(env, "m-race", 1, lambda r: r["start"] == local(ns))
	hold.release()

	# The invitation in flight went out as it was rendered: old facts.
	inv = wait_mid(env, "<inv/m-race/c-amara/0@example.org>")
	check_calendar(inv, "REQUEST", "m-race", 0, start)
	# Then the update, saying exactly what changed, SEQUENCE above.
	u = wait_mid(env, "<upd/m-race/c-amara/1@example.org>")
	t = unwrap(u.text)
	assert line_with(t, "Before:") == "Before: " + range_words(start,
	    start + datetime.timedelta(hours=2)), t
	assert line_with(t, "Now:") == "Now: " + range_words(ns, ne), t
	check_calendar(u, "REQUEST", "m-race", 1, ns)
	ms = [mid_of(x) for x in env.mails_to(AMARA_MAIL)]
	assert ms.index(mid_of(inv)) < ms.index(mid_of(u)), ms
	marker(env)
	c = counts(env)
	assert c[AMARA_MAIL] == 2 and c["ben@example.org"] == 2, c
	assert env.dead_entries() == []


@harness.env_options(config=CONFIG)
def test_change_while_invitation_in_flight_then_retried(env):
	# The invitation in flight fails (451) and is tried again: that try
	# is rendered from the changed meeting, so it carries the change and
	# no update follows (nothing twice).
	env._race_fail = True
	start = days_ahead(20)
	m, hold = _in_flight_invitation(env, "m-rtry")
	ns = start + datetime.timedelta(hours=1)
	env.xadd(dict(m, start=local(ns), end=local(ns +
	    datetime.timedelta(hours=2))))
	wait_planned(env, "m-rtry", 1, lambda r: r["start"] == local(ns))
	hold.release()
	env.advance(5)		# past retry_max
	inv = wait_mid(env, "<inv/m-rtry/c-amara/0@example.org>")
	check_calendar(inv, "REQUEST", "m-rtry", 1, ns)
	marker(env)
	assert mails_of(env, AMARA_MAIL, "<upd/") == [], \
	    [mid_of(x) for x in env.mails_to(AMARA_MAIL)]
	assert mails_of(env, AMARA_MAIL, "<inv/") == [mid_of(inv)]
	assert not [d for d in env.r.smembers(env.key("md:m-rtry"))
	    if d.startswith("upd:")], env.r.smembers(env.key("md:m-rtry"))
	# Planned while the invitation was in flight, then settled as
	# superseded, in the audit: not dropped silently.
	sup = [a for a in env.audit_entries() if a.get("delivery") ==
	    "upd:m-rtry:c-amara:1"]
	assert [a.get("event") for a in sup] == ["suppressed"], sup
	assert sup[0]["reason"].startswith("superseded"), sup
	assert env.dead_entries() == []


@harness.env_options(config=CONFIG)
def test_change_right_after_invitation(env):
	# The meeting and its change queued together: the invitation may be
	# taken before the change is planned or after. Either way each person
	# ends with the new facts, once: an invitation rendered after the
	# change (SEQUENCE 1, no update), or the old invitation and then an
	# update (SEQUENCE 1).
	setup(env, people=(AMARA, BEN))
	start = days_ahead(20)
	m = meeting("m-both", start)
	env.wait_for(lambda: env.r.exists(env.key("rec:collaborator:c-amara"),
	    env.key("rec:collaborator:c-ben")) == 2, what="people stored")
	env.stop_daemon()
	env.xadd(m)
	ns = start + datetime.timedelta(hours=1)
	env.xadd(dict(m, start=local(ns), end=local(ns +
	    datetime.timedelta(hours=2))))
	env.start_daemon()
	wait_planned(env, "m-both", 1, lambda r: r["start"] == local(ns))
	for c, mail in (("c-amara", AMARA_MAIL), ("c-ben", "ben@example.org")):
		inv = wait_mid(env, "<inv/m-both/%s/0@example.org>" % c)
		if "SEQUENCE:0" in inv.calendar:
			check_calendar(inv, "REQUEST", "m-both", 0, start)
			wait_mid(env, "<upd/m-both/%s/1@example.org>" % c)
		else:
			check_calendar(inv, "REQUEST", "m-both", 1, ns)
	marker(env)
	for mail in (AMARA_MAIL, "ben@example.org"):
		got = [mid_of(x) for x in env.mails_to(mail)]
		assert len(mails_of(env, mail, "<inv/")) == 1, got
		assert len(got) == 1 + len(mails_of(env, mail, "<upd/")) and \
		    len(got) <= 2, got
		check_calendar(env.mails_to(mail)[-1], "REQUEST", "m-both", 1,
		    ns)
	assert env.dead_entries() == []


@harness.env_options(config=CONFIG)
def test_cancel_while_invitation_in_flight_follows_it(env):
	# A cancellation must follow an invitation that went out.
	m, hold = _in_flight_invitation(env, "m-rcan")
	env.xadd(dict(m, status="cancelled"))
	wait_planned(env, "m-rcan", 1, lambda r: r["status"] == "cancelled")
	# Nothing for Amara while her invitation is in flight.
	assert env.mails_to(AMARA_MAIL) == []
	hold.release()
	# Each of them (Ben's invitation may have shared Amara's session):
	# the invitation, then the cancellation.
	for c, mail in (("c-amara", AMARA_MAIL), ("c-ben", "ben@example.org")):
		inv = wait_mid(env, "<inv/m-rcan/%s/0@example.org>" % c)
		can = wait_mid(env, "<can/m-rcan/%s/1@example.org>" % c)
		check_calendar(can, "CANCEL", "m-rcan", 1)
		ms = [mid_of(x) for x in env.mails_to(mail)]
		assert ms == [mid_of(inv), mid_of(can)], ms
	marker(env)
	assert not env.keys("d:inv:m-rcan:*") or all(env.r.hget(k, "state")
	    == "sent" for k in env.keys("d:inv:m-rcan:*"))
	assert env.dead_entries() == []


@harness.env_options(config=CONFIG)
def test_entry_read_while_stopping_is_handled_not_left_pending(env):
	"""SIGTERM while intake's blocking read is open, and an email in
	flight keeps the daemon up: a record queued then is delivered to the
	open read. It is handled before the daemon exits, not left pending
	under the stopped daemon's name (where it would wait out the lease and
	be overtaken by what is queued after it)."""
	m, hold = _in_flight_invitation(env, "m-stop")
	env.send_signal(harness.signal.SIGTERM)
	# Intake is stopping; its read is still open while the email is held.
	env.xadd(dict(AMARA, id="c-late", name="Late Person",
	    email="late@example.org"))
	env.wait_for(lambda: _delivered(env), what="the entry read")
	hold.release()
	assert env.wait_daemon_exit() == 0
	pending = env.r.xpending(env.key("inbox"), "hearbackd")["pending"]
	assert pending == 0, env.r.xpending_range(env.key("inbox"),
	    "hearbackd", "-", "+", 10)
	assert env.r.get(env.key("rec:collaborator:c-late")) is not None


def _delivered(env):
	"""Every entry on the inbox has been delivered to a consumer (or
	handled: a handled entry leaves the inbox)."""
	last = env.r.xinfo_groups(env.key("inbox"))[0]["last-delivered-id"]
	return all(_id_le(e["id"], last) for e in env.stream("inbox"))


def _id_le(a, b):
	ta = tuple(int(x) for x in a.split("-"))
	tb = tuple(int(x) for x in b.split("-"))
	return ta <= tb


# The inbox lease (XAUTOCLAIM's min-idle) short, so that what a crashed
# consumer left is claimed within the test.
SHORT_LEASE = {"delivery": {"lease": "5s", "retry_min": "1s",
    "retry_max": "2s"}}


def _left_pending(env, record, consumer="crashed-1"):
	"""Queue record and read it as `consumer`, which never commits it:
	exactly what a daemon killed (SIGKILL) after its read leaves."""
	env.r.execute_command("XGROUP", "CREATE", env.key("inbox"), "hearbackd",
	    "0", "MKSTREAM")
	eid = env.xadd(record)
	got = env.r.xreadgroup("hearbackd", consumer, {env.key("inbox"): ">"},
	    count=1)
	assert got and got[0][1][0][0] == eid, got
	return eid


def _waits(env, eid):
	return ("entry %s names an id not stored yet" % eid) in \
	    env.daemon_log.read_text(errors="replace")


@harness.env_options(config=SHORT_LEASE)
def test_meeting_waits_for_person_left_pending_by_crashed_daemon(env):
	"""A daemon crashed holding Amara's entry (pending under its name);
	the meeting inviting her was queued after it. The next daemon reads
	the meeting first (Amara's entry is claimed only after the lease): it
	does not reject it, it waits; Amara is claimed and stored, then the
	meeting is accepted and both are invited."""
	_left_pending(env, AMARA)
	env.xadd(venue())
	env.xadd(BEN)
	mid = env.xadd(meeting("m-wait", days_ahead(20)))
	env.start_daemon()
	env.wait_for(lambda: _waits(env, mid), what="the meeting waiting")
	env.wait_for(lambda: env.r.get(env.key("rec:meeting:m-wait")),
	    what="the meeting accepted")
	env.wait_for(lambda: env.mails_to(AMARA_MAIL) and
	    env.mails_to("ben@example.org"), what="both invitations")
	assert env.dead_entries() == []
	assert not [m for m in env.mails if m.subject.startswith("Notice: ")]
	assert env.r.xpending(env.key("inbox"), "hearbackd")["pending"] == 0


@harness.env_options(config=CONFIG)
def test_meeting_waits_then_is_rejected_once_nothing_older_is_pending(env):
	"""The wait is bounded: once no older entry is pending (here the
	entry is let go of without storing anyone), a meeting naming an
	unknown person is rejected as before."""
	eid = _left_pending(env, AMARA)
	env.xadd(venue())
	env.xadd(BEN)
	mid = env.xadd(meeting("m-gone", days_ahead(20)))
	env.start_daemon()
	env.wait_for(lambda: _waits(env, mid), what="the meeting waiting")
	# Ben and the venue are handled, the meeting is not rejected.
	env.wait_for(lambda: env.r.get(env.key("rec:collaborator:c-ben")),
	    what="Ben stored")
	assert env.dead_entries() == []
	env.r.xack(env.key("inbox"), "hearbackd", eid)
	env.r.xdel(env.key("inbox"), eid)
	env.wait_for(lambda: env.dead_entries(), what="the meeting rejected")
	dead = env.dead_entries()
	assert len(dead) == 1 and any('no collaborator "c-amara"' in v
	    for v in dead[0].values()), dead
	assert env.r.get(env.key("rec:meeting:m-gone")) is None

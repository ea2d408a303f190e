"""
test_coordinators.py: issue 14, the daemon's side, end to end against a real
redis-server and SMTP server (harness.py): records queued with plain XADD,
as any Redis client may.

Covered: "merge": true (a cancellation with a reason), an unknown id with
merge, the mistakes that are no longer silent (a misspelt group, a new
meeting in the past, forget of an unknown id), held meetings sending
nothing, people with no email on a call list (and their reminders and
access updates to the coordinator), supporters' copies, a
meeting's own access arrangements, the venue access object with "until",
and JSON errors in words in the dead entry.

Tests wait on observable state (emails, streams), never on the clock; to
show that nothing more arrives they wait for a later marker email
(test_meetings.marker).
"""

import browser
import test_meetings as tm
from test_meetings import (AMARA, BEN, COORD, collab, days_ahead, marker,
    meeting, venue, wait_mid)


def dead_with(env, needle):
	"""The dead entry whose error holds needle (waits for it)."""
	def got():
		return [d for d in env.dead_entries() if needle in d.get("error",
		    "")]
	return env.wait_for(got, what="a dead entry with %r (have %r)" % (
	    needle, [d.get("error") for d in env.dead_entries()]))[0]


def test_merge_cancels_with_reason(env):
	tm.setup(env)
	m = meeting("m-merge", days_ahead(20))
	env.xadd(m)
	for c in ("c-amara", "c-ben"):
		wait_mid(env, "<inv/m-merge/%s/0@example.org>" % c)
	# Settled, not only received by the sink: an invitation still pending
	# is sent with the change in it, and no update follows.
	env.wait_for(lambda: not [d for d in env.r.smembers(env.key(
	    "md:m-merge")) if d.startswith("inv:")], what="invitations settled")
	# One field: an interpreter booked for this meeting. Invitees hear
	# what changed (named as a change, the words in the templates' own
	# access section: neither of them needs BSL, so it is among the rest).
	env.xadd({"type": "meeting", "id": "m-merge", "merge": True,
	    "access": {"bsl": "An interpreter is booked."}})
	for c in ("c-amara", "c-ben"):
		upd = wait_mid(env, "<upd/m-merge/%s/1@example.org>" % c)
		t = tm.unwrap(upd.text)
		assert "Access arranged for this meeting" in t, t
		assert "British Sign Language (BSL) interpreter" in t, t
		assert "An interpreter is booked." in upd.html or \
		    "British Sign Language (BSL) interpreter" in upd.html
	env.xadd({"type": "meeting", "id": "m-merge", "merge": True,
	    "status": "cancelled",
	    "cancel_reason": "The venue flooded. We will send a new date."})
	for c in ("c-amara", "c-ben"):
		can = wait_mid(env, "<can/m-merge/%s/2@example.org>" % c)
		assert "The venue flooded. We will send a new date." in can.text, \
		    can.text
		assert "The venue flooded." in can.html, can.html
	# The stored record is the whole, merged: title kept, no "merge".
	import json
	stored = json.loads(env.r.get(env.key("rec:meeting:m-merge")))
	assert stored["record"]["title"] == m["title"]
	assert stored["record"]["status"] == "cancelled"
	assert "merge" not in stored["record"]
	# A merge for an id nobody stored: dead, naming it.
	env.xadd({"type": "venue", "id": "v-nowhere", "merge": True,
	    "name": "X"})
	d = dead_with(env, 'id: no venue "v-nowhere" to change')
	assert d["record"].startswith("{"), d


def test_mistakes_are_not_silent(env):
	tm.setup(env, people=(dict(AMARA, groups=["carers-forum"]),
	    dict(BEN, groups=["staff"])))
	# A misspelt group: refused, naming the groups with members.
	env.xadd(meeting("m-typo", days_ahead(20), invitees=(),
	    groups=["carers-froum"]))
	d = dead_with(env, 'groups[0]: no collaborator belongs to group '
	    '"carers-froum"')
	assert "carers-forum, staff" in d["error"] or \
	    "staff, carers-forum" in d["error"], d["error"]
	n = tm.wait_notice(env, "carers-froum")
	assert "carers-forum" in n.text
	# The same for an announcement's group, checked by its size alone
	# (its members are read a page at a time).
	env.xadd({"type": "announcement", "id": "a-typo", "subject": "News",
	    "body": "Hello.", "to": {"groups": ["staf"]}})
	d = dead_with(env, 'to.groups[0]: no collaborator belongs to group '
	    '"staf"')
	assert "staff" in d["error"], d["error"]
	assert not env.r.exists(env.key("rec:announcement:a-typo"))
	# A new scheduled meeting in the past: refused, saying "held".
	env.xadd(meeting("m-past", days_ahead(-3)))
	d = dead_with(env, "has passed, and this is a new meeting")
	assert '"status": "held"' in d["error"], d["error"]
	# Recorded as held: stored, and nothing is sent to anyone.
	env.xadd(meeting("m-past", days_ahead(-3), status="held"))
	env.xadd({"type": "said", "id": "s-held", "meeting": "m-past",
	    "collaborator": "c-amara", "text": "More chairs, please."})
	# forget of an id never stored: refused.
	env.xadd({"type": "forget", "collaborator": "c-nobody"})
	dead_with(env, 'no collaborator "c-nobody" to forget')
	marker(env)
	# Four rejections, four notices to the coordinator; the two
	# meetings' also to their organiser; nothing about the held meeting.
	assert tm.counts(env) == {COORD.lower(): 4, "jo@example.org": 2}, \
	    tm.counts(env)
	assert env.r.exists(env.key("rec:meeting:m-past"))
	assert env.r.exists(env.key("rec:said:s-held"))
	assert not [k for k in env.keys("d:*") if ":m-past" in k], \
	    env.keys("d:*")
	assert len(tm.notices(env)) == 4, [m.subject for m in tm.notices(env)]
	assert len(tm.notices(env, "jo@example.org")) == 2


def test_phone_only_call_list(env):
	phil = {"type": "collaborator", "id": "c-phil", "name": "Phil Moreau",
	    "phone": "020 7946 0123", "consent": True,
	    "access_needs": ["step-free", "bsl"],
	    "communication": ["interpreter:bfi"]}
	tm.setup(env, people=(AMARA, phil))
	m = meeting("m-call", days_ahead(20), invitees=("c-amara", "c-phil"),
	    access={"bsl": "An interpreter is booked."})
	env.xadd(m)
	wait_mid(env, "<inv/m-call/c-amara/0@example.org>")
	call = env.wait_for(lambda: [x for x in env.mails_to(COORD)
	    if tm.mid_of(x).startswith("<call/")], what="a call list")[0]
	assert call.subject == "Please phone 1 person about Community " \
	    "forum: leaving hospital", call.subject
	t = tm.unwrap(call.text)
	assert "Phil Moreau (c-phil), phone 020 7946 0123" in t, t
	assert "they are invited to Community forum: leaving hospital" in t, t
	assert "Step-free access: Yes. Level entrance" in t, t
	# The meeting's own arrangement for BSL, over the venue's silence.
	assert "British Sign Language (BSL) interpreter: Arranged for this " \
	    "meeting. An interpreter is booked." in t, t
	assert "an interpreter (language bfi)" in t, t
	assert "Phil Moreau" in call.html
	# On a phone, the number is a link that rings it.
	assert '<a href="tel:02079460123">020 7946 0123</a>' in call.html, \
	    call.html
	# Cancelled: a second call list, with the reason.
	env.xadd({"type": "meeting", "id": "m-call", "merge": True,
	    "status": "cancelled", "cancel_reason": "The hall is closed."})
	env.wait_for(lambda: [x for x in env.mails_to(COORD)
	    if x.subject.startswith("Please phone") and
	    "is cancelled" in (x.text or "")], what="a cancellation call list")
	marker(env)
	calls = [x for x in env.mails_to(COORD)
	    if tm.mid_of(x).startswith("<call/")]
	assert len(calls) == 2, [x.subject for x in calls]
	assert "Why it was cancelled: The hall is closed." in \
	    tm.unwrap(calls[1].text) or "Why it was cancelled: The hall is " \
	    "closed." in tm.unwrap(calls[0].text)
	# Nobody tried to email Phil.
	assert not [d for d in env.dead_entries() if "c-phil" in
	    d.get("delivery", "")], env.dead_entries()
	assert not [k for k in env.keys("d:inv:*") if "c-phil" in k]


def test_phone_only_reminders_to_coordinator(env):
	"""Someone with no email address is reminded too: each of their
	reminders goes to the coordinator, at its own time, asking that
	someone phones them."""
	phil = {"type": "collaborator", "id": "c-phil", "name": "Phil Moreau",
	    "phone": "020 7946 0123", "consent": True, "reminders": ["50s"]}
	tm.setup(env, people=(dict(AMARA, reminders=["50s"]), phil))
	start = tm.seconds_ahead(3600)
	env.xadd(meeting("m-ph", start, start + tm.datetime.timedelta(hours=1),
	    invitees=("c-amara", "c-phil")))
	wait_mid(env, "<inv/m-ph/c-amara/0@example.org>")
	env.wait_for(lambda: [x for x in env.mails_to(COORD)
	    if x.subject.startswith("Please phone 1 person")], what="the "
	    "invitation's call list")
	assert tm.schedule_ids(env, "arem:m-ph:") == ["arem:m-ph:c-phil:0:50"], \
	    tm.schedule_ids(env, "arem:m-ph:")
	assert tm.schedule_ids(env, "rem:m-ph:") == ["rem:m-ph:c-amara:0:50"]

	env.advance(start.timestamp() - 50 - env.now() + 1)
	call = wait_mid(env, "<arem/m-ph/c-phil/0/50@example.org>")
	wait_mid(env, "<rem/m-ph/c-amara/0/50@example.org>")
	assert [r.lower() for r in call.rcpt_tos] == [COORD], call.rcpt_tos
	assert call.subject.startswith("Please phone Phil Moreau: Reminder: "
	    "Community forum: leaving hospital"), call.subject
	t = tm.unwrap(call.text)
	assert "Phil Moreau (c-phil) has no email address. Please phone them " \
	    "on 020 7946 0123 and tell them what this email says." in t, t
	assert '<a href="tel:02079460123">020 7946 0123</a>' in call.html
	# Read as a person reads it: no axe violations, nothing wider than
	# a phone, no long text lines.
	bad = browser.email_problems("reminder-call-standard", call)
	assert not bad, "\n".join(bad)
	# Amara has an address and no communication needs: no copy of hers.
	marker(env)
	assert not [m for m in env.mails if "arem/m-ph/c-amara" in
	    str(m["Message-ID"])]


def test_phone_only_access_update_to_coordinator(env):
	"""A venue's access change reaches someone with no email address too:
	their access update goes to the coordinator to phone them."""
	phil = {"type": "collaborator", "id": "c-phil", "name": "Phil Moreau",
	    "phone": "020 7946 0123", "consent": True,
	    "access_needs": ["lift"]}
	tm.setup(env, people=(AMARA, phil))
	v = venue()
	env.xadd(meeting("m-acc", days_ahead(20), invitees=("c-amara",
	    "c-phil")))
	wait_mid(env, "<inv/m-acc/c-amara/0@example.org>")
	marker(env)
	env.xadd(dict(v, access=dict(v["access"],
	    lift="Lift out of order until January")))
	call = env.wait_for(lambda: [x for x in env.mails_to(COORD)
	    if tm.mid_of(x).startswith("<avup/v-lyric/m-acc/c-phil/")],
	    what="the access update to phone Phil about")[0]
	env.wait_for(lambda: [x for x in env.mails_to("amara@example.org")
	    if tm.mid_of(x).startswith("<vup/v-lyric/m-acc/c-amara/")],
	    what="Amara's access update")
	assert call.subject == "Please phone Phil Moreau: Access update: " \
	    "Community forum: leaving hospital", call.subject
	t = tm.unwrap(call.text)
	assert "Phil Moreau (c-phil) has no email address. Please phone them " \
	    "on 020 7946 0123" in t, t
	assert "Lift out of order until January" in t, t
	marker(env)
	assert not [m for m in env.mails if "avup/v-lyric/m-acc/c-amara" in
	    str(m["Message-ID"])]


def test_supporter_copy(env):
	ben = dict(BEN, supporter={"name": "Kofi Adeyemi",
	    "email": "kofi@example.org"})
	tm.setup(env, people=(AMARA, ben))
	env.xadd(meeting("m-sup", days_ahead(20)))
	own = wait_mid(env, "<inv/m-sup/c-ben/0@example.org>")
	copy = wait_mid(env, "<sinv/m-sup/c-ben/0@example.org>")
	assert [r.lower() for r in copy.rcpt_tos] == ["kofi@example.org"]
	assert "Kofi Adeyemi" in str(copy["To"]), copy["To"]
	assert "This email is for Ben Adeyemi." in tm.unwrap(copy.text), copy.text
	assert "Hello Kofi Adeyemi" in copy.text, copy.text
	assert "This email is for" not in own.text
	# Their reminders are copied too (scheduled under their own ids).
	assert tm.schedule_ids(env, "srem:m-sup:c-ben:"), \
	    tm.schedule_ids(env, "srem:")
	env.xadd(dict(meeting("m-sup", days_ahead(20)), status="cancelled"))
	wait_mid(env, "<scan/m-sup/c-ben/1@example.org>")
	marker(env)
	assert tm.schedule_ids(env, "srem:") == []


def test_venue_until_and_json_words(env):
	env.start_daemon()
	yesterday = days_ahead(-1).strftime("%Y-%m-%d")
	env.xadd(venue(access={"lift": {"available": False,
	    "details": "The lift is out of order.", "until": "2099-12-20"},
	    "step-free": {"available": False, "details": "Works outside.",
		"until": yesterday}}))
	env.xadd(dict(AMARA, access_needs=["lift", "step-free"]))
	env.xadd(meeting("m-lift", days_ahead(20), invitees=("c-amara",)))
	n = tm.wait_notice(env, "Access needs not met")
	t = tm.unwrap(n.text)
	lift = tm.line_with(t, "Amara Okafor (c-amara) needs Lift")
	assert "says it is not available" in lift, t
	# A temporary state that is over: nobody knows now.
	sf = tm.line_with(t, "Amara Okafor (c-amara) needs Step-free")
	assert "has not confirmed it" in sf, t
	inv = wait_mid(env, "<inv/m-lift/c-amara/0@example.org>")
	assert "The lift is out of order." in tm.unwrap(inv.text), inv.text
	assert "Works outside." not in tm.unwrap(inv.text), inv.text
	# JSON mistakes, in words, in the dead entry.
	env.xadd('{"type": "forget", "collaborator": "c-amara",}')
	dead_with(env, "(a trailing comma); remove that comma")
	env.xadd(b'{"type": "said", "id": "s-1", "text": "\xa320"}')
	dead_with(env, "save the file as UTF-8")
	env.xadd('\ufeff{"type": "said", "id": "s-bom", "text": "With a BOM."}')
	env.wait_for(lambda: env.r.exists(env.key("rec:said:s-bom")),
	    what="the record after a byte order mark")


def test_communication_needs_copy_to_coordinator(env):
	amara = dict(AMARA, communication=["bsl-video", "interpreter:pl"])
	tm.setup(env, people=(amara, BEN))
	env.xadd(meeting("m-comm", days_ahead(20)))
	own = wait_mid(env, "<inv/m-comm/c-amara/0@example.org>")
	copy = wait_mid(env, "<ainv/m-comm/c-amara/0@example.org>")
	assert [r.lower() for r in copy.rcpt_tos] == [COORD]
	assert "Amara Okafor (c-amara) needs this email as a British Sign " \
	    "Language (BSL) video and an interpreter (language pl). Please " \
	    "arrange it." in tm.unwrap(copy.text), copy.text
	# The person's own email, in their format, follows.
	assert "Community forum: leaving hospital" in copy.text
	assert "needs this email" not in own.text
	# Ben has none: no copy of his.
	marker(env)
	assert not [m for m in env.mails if "ainv/m-comm/c-ben" in
	    str(m["Message-ID"])]
	assert tm.schedule_ids(env, "arem:m-comm:c-amara:")


def test_command_checks_the_same(env):
	"""hearback enqueue judges with the daemon's code (plan_refcheck):
	a merge of a stored meeting is checked whole; a misspelt group, a
	new meeting in the past and forget of an unknown id exit 65."""
	tm.setup(env, people=(dict(AMARA, groups=["carers-forum"]), BEN))
	env.xadd(meeting("m-cli", days_ahead(20)))
	wait_mid(env, "<inv/m-cli/c-amara/0@example.org>")
	ok = env.write_file("cancel.json", {"type": "meeting", "id": "m-cli",
	    "merge": True, "status": "cancelled", "cancel_reason": "Snow."})
	res = env.cli("enqueue", str(ok))
	assert res.rc == 0, res
	wait_mid(env, "<can/m-cli/c-amara/1@example.org>")
	bad = env.write_file("bad.json", [
	    {"type": "meeting", "id": "m-nope", "merge": True, "title": "X"},
	    meeting("m-typo", days_ahead(20), invitees=(),
		groups=["carers-froum"]),
	    meeting("m-old", days_ahead(-2)),
	    {"type": "forget", "collaborator": "c-nobody"},
	    {"type": "meeting", "id": "m-cli", "merge": True, "online": None,
		"venue": None}])
	res = env.cli("enqueue", str(bad))
	assert res.rc == 65, res
	for needle in ('no meeting "m-nope" to change',
	    'no collaborator belongs to group "carers-froum"',
	    "carers-forum", 'give "status": "held"',
	    'no collaborator "c-nobody" to forget',
	    "venue: missing (a meeting needs a venue"):
		assert needle in res.err, (needle, res.err)
	assert not env.r.exists(env.key("rec:meeting:m-typo"))

"""
test_layout.py: how deliveries are stored (daemon/store/lib.lua), end to
end, against a real redis-server and a real SMTP server.

A delivery's hash holds only what its id does not say, and a reminder
still waiting has no hash at all (it is a token in mr:<meeting>). A Redis
written by the layout before (every field in every hash, each reminder in
a hash of its own and in the cd:/md: sets) is read as it is, with nothing
to migrate: the daemon shows, sends, withdraws and forgets what it holds
as it did.
"""

import datetime
import json

import harness
from test_meetings import (AMARA, BEN, days_ahead, marker, meeting, mid_of,
    schedule_ids, seconds_ahead, venue, wait_mid)

SUPPORTED_BEN = dict(BEN, reminders=["60s"], supporter={
    "name": "Sam Adeyemi", "email": "sam@example.org"})


def scheduled(env):
	res = env.cli("scheduled", "--json")
	assert res.rc == 0, res
	return json.loads(res.out)


def to_layout_before(env):
	"""Store every waiting reminder the way the layout before this one
	did: a hash with every field (created too) and a member of cd:<cid>
	and md:<mid>; no mr:/cr: keys. The ids here hold no ':' or '%'.
	Returns how many were rewritten."""
	r, n = env.r, 0
	now = int(env.now() * 1000)
	for mk in env.keys("mr:*"):
		mid = mk[len(env.key("mr:")):]
		for cid, v in r.hgetall(mk).items():
			for tok in v.split():
				head, due, deadline, *more = tok.split("/")
				copy = head[0] if head[0] in "sa" else ""
				seq, lead = head[len(copy):].split(":")
				did = "%srem:%s:%s:%s:%s" % (copy, mid, cid, seq, lead)
				refs = "rec:meeting:%s rec:collaborator:%s" % (mid,
				    cid)
				if more:
					refs += " " + more[0].replace(",", " ")
				data = {"lead": int(lead)}
				if copy == "s":
					data["supporter"] = True
				elif copy == "a":
					data["arrange"] = True
				r.hset(env.key("d:" + did), mapping={
				    "state": "scheduled", "cid": cid, "mid": mid,
				    "due": due, "kind": "reminder", "refs": refs,
				    "to": "", "data": json.dumps(data,
				    sort_keys=True, separators=(",", ":")),
				    "src": mid, "created": now,
				    "deadline": deadline, "attempts": "0"})
				r.sadd(env.key("md:" + mid), did)
				r.sadd(env.key("cd:" + cid), did)
				n += 1
		r.delete(mk)
	for ck in env.keys("cr:*"):
		r.delete(ck)
	return n


def test_layout_compact_then_before(env):
	env.start_daemon()
	env.xadd(venue())
	env.xadd(dict(AMARA, reminders=["50s", "40s"]))
	env.xadd(SUPPORTED_BEN)
	start = seconds_ahead(3600)
	env.xadd(meeting("m-soon", start, start + datetime.timedelta(hours=1)))
	far = days_ahead(20)
	env.xadd(meeting("m-far", far))
	for m in ("m-soon", "m-far"):
		for c in ("c-amara", "c-ben"):
			wait_mid(env, "<inv/%s/%s/0@example.org>" % (m, c))
	# An email reaches the sink before its outcome is stored: wait until
	# only the reminders are left on the schedule.
	env.wait_for(lambda: all(d.split(":")[0] in ("rem", "srem") for d in
	    env.r.zrange(env.key("schedule"), 0, -1)),
	    what="the invitations and notices settled")
	# This layout: the reminders waiting have no hash of their own.
	rems = [d for d in env.r.zrange(env.key("schedule"), 0, -1)
	    if d.split(":")[0] in ("rem", "srem")]
	assert len(rems) == 8, rems
	assert not [d for d in rems if env.r.exists(env.key("d:" + d))]
	assert sorted(env.r.hkeys(env.key("mr:m-far"))) == ["c-amara", "c-ben"]
	assert not [d for d in env.r.smembers(env.key("md:m-far"))
	    if "rem:" in d]
	shown = scheduled(env)
	assert sorted(d["did"] for d in shown) == sorted(rems)
	one = [d for d in shown if d["did"] == "srem:m-far:c-ben:0:60"][0]
	assert (one["kind"], one["cid"], one["mid"], one["state"],
	    one["attempts"]) == ("reminder", "c-ben", "m-far", "scheduled",
	    "0"), one

	# Stopped, and stored again as the layout before stored it.
	env.stop_daemon()
	assert to_layout_before(env) == 8
	assert env.keys("mr:*") == [] and env.keys("cr:*") == []
	env.start_daemon()
	assert scheduled(env) == shown

	# A new time withdraws them (seq 0) and plans new ones (seq 1), in
	# this layout.
	env.xadd(meeting("m-far", far + datetime.timedelta(days=1)))
	wait_mid(env, "<upd/m-far/c-amara/1@example.org>")
	assert schedule_ids(env, "rem:m-far:") == ["rem:m-far:c-amara:1:40",
	    "rem:m-far:c-amara:1:50", "rem:m-far:c-ben:1:60"], \
	    schedule_ids(env, "rem:m-far:")
	assert schedule_ids(env, "srem:m-far:") == ["srem:m-far:c-ben:1:60"]
	assert env.keys("d:*rem:m-far:*") == []
	assert not [d for d in env.r.smembers(env.key("md:m-far"))
	    if "rem:" in d]
	assert not [d for d in env.r.smembers(env.key("cd:c-amara"))
	    if "rem:m-far" in d]

	# Forgotten: Ben's reminders go, of both layouts, and his
	# supporter's copies.
	res = env.cli("forget", "c-ben")
	assert res.rc == 0, res
	env.wait_for(lambda: not [d for d in env.r.zrange(env.key("schedule"),
	    0, -1) if "c-ben" in d], what="Ben's reminders withdrawn")
	assert env.keys("d:*rem:*c-ben*") == []
	assert env.r.hget(env.key("mr:m-far"), "c-ben") is None
	assert env.keys("cr:c-ben") == [] and env.keys("cd:c-ben") == []

	# Amara's reminders of the layout before go at their time, once each.
	env.advance(start.timestamp() - 50 - env.now())
	wait_mid(env, "<rem/m-soon/c-amara/0/50@example.org>")
	env.advance(10)
	m = wait_mid(env, "<rem/m-soon/c-amara/0/40@example.org>")
	assert m.subject.startswith("Reminder: "), m.subject
	assert "Lyric Hammersmith, Studio 2" in m.text
	marker(env)
	got = [mid_of(x) for x in env.mails_to("amara@example.org")
	    if mid_of(x).startswith("<rem/")]
	assert sorted(got) == ["<rem/m-soon/c-amara/0/40@example.org>",
	    "<rem/m-soon/c-amara/0/50@example.org>"], got
	assert not [x for x in env.mails_to("ben@example.org")
	    if mid_of(x).startswith("<rem/")]
	assert not [x for x in env.mails_to("sam@example.org")
	    if "rem/" in mid_of(x)]
	for d in ("rem:m-soon:c-amara:0:50", "rem:m-soon:c-amara:0:40"):
		assert env.r.hget(env.key("d:" + d), "state") == "sent"
		assert not env.r.sismember(env.key("md:m-soon"), d)
	assert env.dead_entries() == []


@harness.env_options(config={"delivery": {"retry_min": "1s",
    "retry_max": "2s"}})
def test_layout_reminder_lease_and_retry(env):
	"""A compact reminder that falls due becomes a hash when it is
	leased; refused for a while, it is tried again from that hash and
	sent once."""
	env.start_daemon()
	env.xadd(venue())
	env.xadd(dict(AMARA, reminders=["50s"]))
	start = seconds_ahead(3600)
	env.xadd(meeting("m-r", start, start + datetime.timedelta(hours=1),
	    invitees=["c-amara"]))
	wait_mid(env, "<inv/m-r/c-amara/0@example.org>")
	did = "rem:m-r:c-amara:0:50"
	assert not env.r.exists(env.key("d:" + did))
	assert env.r.hget(env.key("mr:m-r"), "c-amara").startswith("0:50/")
	env.smtp.tempfail_all(3600)
	env.advance(start.timestamp() - 50 - env.now())
	env.wait_for(lambda: env.r.hget(env.key("d:" + did), "attempts") ==
	    "1", what="the reminder tried once")
	assert env.r.hget(env.key("d:" + did), "state") == "scheduled"
	assert env.r.sismember(env.key("md:m-r"), did)
	assert env.r.hget(env.key("mr:m-r"), "c-amara") is None
	env.smtp.tempfail_all(0)
	env.advance(5)
	m = wait_mid(env, "<rem/m-r/c-amara/0/50@example.org>")
	assert m.subject.startswith("Reminder: "), m.subject
	marker(env)
	assert len([x for x in env.mails_to("amara@example.org")
	    if mid_of(x) == "<rem/m-r/c-amara/0/50@example.org>"]) == 1
	assert env.r.hget(env.key("d:" + did), "state") == "sent"
	assert env.keys("mr:*") == [] and env.keys("cr:*") == []

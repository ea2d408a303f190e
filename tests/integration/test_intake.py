"""
test_intake.py: bursts of records through intake's pipeline of runs
(daemon/intake_run.c): runs of collaborators fetched and committed while
the run before is still being committed, each commit applying only if the
one before it did (SPEC section 5).

- One burst, queued before the daemon starts: the same person several
  times, close together and far apart; a merge record behind the record it
  changes; a merge naming nobody stored (rejected, the run around it goes
  on); a venue and, right after it, a meeting that names it and people of
  the burst. Everything ends as the inbox order says, each entry accepted
  once or dead.
- Three daemons on one Redis take one burst of three versions of 2,000
  people: their commits conflict, and the chains of commits behind a
  refused one must not apply. The last version of everyone wins.
- SIGTERM in the middle of a burst: what was read is finished, nothing is
  left pending; the rest is taken after a restart.
- SIGKILL in the middle of a burst: after a restart every record is stored
  and each entry is accepted exactly once (audit), none dead.
"""

import json
import signal

import harness
import faults_helpers as fh
from test_meetings import days_ahead, meeting, venue


def _rec(env, cid):
	v = env.r.get(env.key("rec:collaborator:%s" % cid))
	return json.loads(v)["record"] if v else None


def _accepted(env):
	"""Entry ids of the audit's "accepted" lines (each one once?)."""
	return [a["entry"] for a in env.audit_entries() if a.get("event") ==
	    "accepted"]


def _xadd_all(env, records):
	p = env.r.pipeline(transaction=False)
	for r in records:
		p.xadd(env.key("inbox"), {"record": json.dumps(r)})
	p.execute()


def _pending(env):
	return env.r.xpending(env.key("inbox"), "hearbackd")["pending"]


def _burst():
	"""(records, the groups each person must end in)"""
	recs, want = [], {}
	for i in range(1500):
		recs.append(fh.collab(i, "g-a"))
		want[i] = ["g-a"]
	recs.append(venue("v-burst"))
	recs.append(meeting("m-burst", days_ahead(30), vid="v-burst",
	    invitees=["c-p00003", "c-p01499"]))
	for i in range(1500):
		recs.append(fh.collab(i, "g-b"))
		want[i] = ["g-b"]
		if i % 10 == 0:		# the same person again, at once
			recs.append(fh.collab(i, "g-c"))
			want[i] = ["g-c"]
		if i == 7:
			recs.append({"type": "collaborator", "id": "c-p00007",
			    "merge": True, "groups": ["g-m"]})
			want[i] = ["g-m"]
		if i == 700:
			recs.append({"type": "collaborator", "id": "c-nobody",
			    "merge": True, "groups": ["g-m"]})
	return recs, want


def test_burst_keeps_inbox_order(env):
	recs, want = _burst()
	_xadd_all(env, recs)
	env.start_daemon()
	fh.wait_inbox_empty(env)
	wrong = [i for i, g in want.items() if (_rec(env, "c-p%05d" % i) or
	    {}).get("groups") != g]
	assert not wrong, "wrong groups for %d people, first %s: %s" % (
	    len(wrong), wrong[:5], _rec(env, "c-p%05d" % wrong[0]))
	assert env.r.scard(env.key("group:g-a")) == 0
	assert env.r.scard(env.key("group:g-m")) == 1
	assert env.r.scard(env.key("group:g-c")) == 150
	assert env.r.scard(env.key("group:g-b")) == 1500 - 150 - 1
	# The meeting saw its venue and the people it invites.
	assert env.r.get(env.key("rec:meeting:m-burst")) is not None
	env.wait_for(lambda: len(env.keys("d:inv:m-burst:*")) == 2, 30,
	    "the two invitations")
	dead = env.dead_entries()
	assert len(dead) == 1 and '"c-nobody"' in dead[0]["record"], dead
	assert "no collaborator" in dead[0]["error"], dead[0]["error"]
	acc = _accepted(env)
	assert len(acc) == len(recs) - 1 == len(set(acc)), len(acc)
	assert _pending(env) == 0
	log = harness.tail(env.daemon_log, 10 ** 6)
	assert log.count(" accepted (entry") == len(recs) - 1


def test_three_daemons_take_one_burst(env):
	n = 2000
	env.start_daemon()
	extra = []
	try:
		extra = [fh.ExtraDaemon(env, 2), fh.ExtraDaemon(env, 3)]
		_xadd_all(env, [fh.collab(i, "r%d" % k) for k in range(3)
		    for i in range(n)])
		fh.wait_inbox_empty(env)
		for x in extra:
			x.check()
		assert env.r.scard(env.key("group:r2")) == n
		assert env.r.scard(env.key("group:r0")) == 0
		assert env.r.scard(env.key("group:r1")) == 0
		assert all(_rec(env, "c-p%05d" % i)["groups"] == ["r2"] for i in
		    range(0, n, 97))
		acc = _accepted(env)
		assert len(acc) == 3 * n == len(set(acc)), len(acc)
		assert not env.dead_entries()
		assert _pending(env) == 0
		logs = [harness.tail(env.daemon_log, 10 ** 7)] + \
		    [harness.tail(x.log, 10 ** 7) for x in extra]
		split = [l.count(" accepted (entry") for l in logs]
		print("  %d records by three daemons: %s accepted" % (3 * n,
		    split))
		assert sum(split) == 3 * n
		rcs = [x.stop() for x in extra]
		assert rcs == [0, 0], "extra daemons exited with %s" % rcs
	finally:
		for x in extra:
			x.close()


def test_sigterm_mid_burst_leaves_nothing_pending(env):
	n = 6000
	fh.queue_collaborators(env, n, "g-t")
	env.start_daemon()
	env.wait_for(lambda: env.r.scard(env.key("group:g-t")) > 0, 30,
	    "the first run")
	assert env.stop_daemon() == 0
	# What was read was finished: nothing pending under the stopped
	# daemon (the next one would claim it only after the lease).
	assert _pending(env) == 0
	stored = env.r.scard(env.key("group:g-t"))
	assert stored + env.inbox_len() == n, (stored, env.inbox_len())
	env.start_daemon()
	fh.wait_inbox_empty(env)
	assert env.r.scard(env.key("group:g-t")) == n
	acc = _accepted(env)
	assert len(acc) == n == len(set(acc))
	assert not env.dead_entries()


def test_sigkill_mid_burst_each_entry_accepted_once(env):
	n = 6000
	fh.queue_collaborators(env, n, "g-k")
	env.start_daemon()
	env.wait_for(lambda: env.r.scard(env.key("group:g-k")) > 0, 30,
	    "the first run")
	env.stop_daemon(sig=signal.SIGKILL)
	env.start_daemon()
	# Entries the killed daemon read are claimed after the lease.
	fh.wait_inbox_empty(env)
	assert env.r.scard(env.key("group:g-k")) == n
	acc = _accepted(env)
	assert len(acc) == n == len(set(acc)), (len(acc), len(set(acc)))
	assert not env.dead_entries()
	assert _pending(env) == 0

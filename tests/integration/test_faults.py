"""
test_faults.py: `make test-faults`. Break things on purpose during a fan-out
and count what the SMTP server accepted, per recipient (SPEC section 5,
issue 5).

- lost: a recipient with no email. Always a failure.
- duplicates: recipients with more than one email. Allowed only where a
  crash (or a dropped connection) may leave emails in flight, and then at
  most workers * batch (2 * 8 = 16 with the test config) per fault: the
  in-flight bound. With no fault that can cut a send short, none at all.

Every case prints its counts. Set HB_FAULT_SEED to repeat a run's random
kill moments. Nothing here asserts a timing: waits are generous because
other tests share this 2-core machine.
"""

import json
import os
import random
import re
import signal
import time

import harness
import faults_helpers as fh

N_BIG = 3000		# the fan-outs the issue names (kill, Redis, 3 daemons)
N_SMTP = 1000		# SMTP outage: the retries are the point
N_451 = 300		# each 451 holds the daemon's sends for 1s and more
N_550 = 200
KILLS = 10
COORD = "coordinator@example.org"


def _seed():
	s = os.environ.get("HB_FAULT_SEED")
	return int(s) if s else time.time_ns() % 1000000


def _fanout_setup(env, n, aid, extra=()):
	"""n collaborators queued, a daemon (and extra ones) started, all
	collaborators committed. Returns the addresses; the announcement is
	queued by the caller."""
	addrs = fh.queue_collaborators(env, n)
	t0 = time.monotonic()
	env.start_daemon()
	fh.wait_inbox_empty(env)
	print("  %d collaborators taken in %.1fs" % (n, time.monotonic() - t0))
	return addrs


def _same_email_each(env, dup):
	"""A duplicate must be the same email again (same Message-ID), never
	a different one."""
	for a in dup:
		ids = {str(m["Message-ID"]) for m in env.mails_to(a)}
		assert len(ids) == 1, "%s got different emails: %s" % (a, ids)


# ---------------------------------------------------------------------------
# 1. SIGKILL at random moments

def test_sigkill_during_fanout_loses_nothing(env):
	seed = _seed()
	rnd = random.Random(seed)
	bound = fh.in_flight_bound(env)
	addrs = _fanout_setup(env, N_BIG, "a-kill")
	env.xadd(fh.announcement("a-kill"))
	in_flight = []		# leased by the daemon just killed, unsettled
	sent_at = []		# recipients reached at each kill
	held = [set()]		# leases in Redis after the previous kill

	def kill():
		env.kill_daemon()
		now = fh.leased(env)
		in_flight.append(len(now - held[0]))
		held[0] = now
		sent_at.append(len(fh.by_rcpt(env)))
		env.start_daemon()

	# The first kill may land in the announcement's own intake (its
	# 3000 deliveries are written by one commit, or not at all).
	time.sleep(rnd.uniform(0.0, 0.3))
	kill()
	# An entry the dead daemon held is claimed after `lease` idle.
	fh.wait_inbox_empty(env)
	while len(in_flight) < KILLS:
		time.sleep(rnd.uniform(0.05, 0.8))
		assert fh.schedule_len(env) > 0, ("fan-out over after %d kills:"
		    " this test no longer kills during it" % len(in_flight))
		kill()
	fh.wait_delivered(env, addrs)
	lost, dup, extra = fh.tally(env, addrs)
	print("kill x%d (seed %d): sent %d unique, lost %d, duplicates %d "
	    "(%d extra emails; in flight at kills: %s, max %d, bound %d each)"
	    % (len(in_flight), seed, N_BIG - len(lost), len(lost), len(dup),
	    extra, in_flight, max(in_flight), bound))
	print("  unique recipients reached at each kill: %s" % sent_at)
	assert not lost, "lost %d: %s" % (len(lost), lost[:20])
	_same_email_each(env, dup)
	# A delivery can go twice only if it was leased and unsettled when a
	# daemon died (counted from Redis right after each SIGKILL).
	assert extra <= sum(in_flight), (extra, in_flight)
	assert extra <= len(in_flight) * bound, (extra, len(in_flight), bound)
	assert env.inbox_len() == 0
	assert not fh.dead_deliveries(env), fh.dead_deliveries(env)[:5]


# ---------------------------------------------------------------------------
# 2. Redis restarts (AOF on): once with SIGTERM, once with SIGKILL

@harness.env_options(aof=True)
def test_redis_restart_during_fanout_loses_nothing(env):
	bound = fh.in_flight_bound(env)
	addrs = _fanout_setup(env, N_BIG, "a-redis")
	env.xadd(fh.announcement("a-redis"))
	reached = []
	for i, (sig, at) in enumerate([(signal.SIGTERM, N_BIG // 10),
	    (signal.SIGKILL, N_BIG // 2)]):
		env.wait_for(lambda: len(fh.by_rcpt(env)) >= at, fh.SETTLE,
		    "%d emails before restart %d" % (at, i + 1))
		reached.append(len(fh.by_rcpt(env)))
		assert reached[-1] < N_BIG, "fan-out over before the restart"
		env.stop_redis(sig)
		# Unhealthy while Redis is away, healthy again after.
		st, body = env.wait_for(lambda: (lambda r: r[0] == 503 and r)(
		    env.healthz()), 30, "/healthz 503 with Redis down")
		assert "redis" in json.dumps(body).lower(), body
		env.start_redis()
		env.wait_for(lambda: env.healthz()[0] == 200, 60,
		    "/healthz 200 with Redis back")
	fh.wait_delivered(env, addrs)
	lost, dup, extra = fh.tally(env, addrs)
	print("redis restart x2 (TERM, KILL; AOF fsync always): sent %d "
	    "unique, lost %d, duplicates %d (%d extra; bound %d each); "
	    "recipients reached at restarts: %s" % (N_BIG - len(lost),
	    len(lost), len(dup), extra, bound, reached))
	assert not lost, "lost %d: %s" % (len(lost), lost[:20])
	_same_email_each(env, dup)
	assert extra <= 2 * bound, (extra, bound)
	assert env.inbox_len() == 0
	assert not fh.dead_deliveries(env), fh.dead_deliveries(env)[:5]


# ---------------------------------------------------------------------------
# 3. The SMTP server down for 20 s

def test_smtp_down_20s_then_everything_delivered(env):
	bound = fh.in_flight_bound(env)
	addrs = _fanout_setup(env, N_SMTP, "a-down")
	env.xadd(fh.announcement("a-down"))
	env.wait_for(lambda: len(fh.by_rcpt(env)) >= N_SMTP // 10, fh.SETTLE,
	    "the fan-out to start")
	env.smtp.stop()
	before = len(env.mails)
	assert before < N_SMTP, "fan-out over before the outage"
	cpu0 = fh.cpu_seconds(env.daemon.pid)
	t0 = time.monotonic()
	while time.monotonic() - t0 < 20:
		env.check_daemon()
		time.sleep(0.5)
	cpu = fh.cpu_seconds(env.daemon.pid) - cpu0
	assert len(env.mails) == before
	env.smtp.start()
	fh.wait_delivered(env, addrs)
	lost, dup, extra = fh.tally(env, addrs)
	retries = len(fh.audit_events(env, "retry", "announcement"))
	print("smtp down 20s: sent %d unique, lost %d, duplicates %d (%d extra;"
	    " bound %d); %d before the outage; %d retry events; daemon CPU "
	    "during the outage %.1fs" % (N_SMTP - len(lost), len(lost),
	    len(dup), extra, bound, before, retries, cpu))
	assert not lost, "lost %d: %s" % (len(lost), lost[:20])
	_same_email_each(env, dup)
	# Only a message whose 250 was lost as the server went down may go
	# again.
	assert extra <= bound, (extra, bound)
	assert retries > 0
	assert not fh.dead_deliveries(env), fh.dead_deliveries(env)[:5]


# ---------------------------------------------------------------------------
# 4. 451 for every third message

def test_451_every_third_message_all_delivered_once(env):
	addrs = _fanout_setup(env, N_451, "a-451")
	env.smtp.tempfail_every(3)
	env.xadd(fh.announcement("a-451"))
	fh.wait_delivered(env, addrs)
	lost, dup, extra = fh.tally(env, addrs)
	retries = fh.audit_events(env, "retry", "announcement")
	sent = fh.audit_events(env, "sent", "announcement")
	print("451 every 3rd: sent %d unique, lost %d, duplicates %d; %d "
	    "DATA commands, %d answered 451, %d retry events, %d sent events"
	    % (N_451 - len(lost), len(lost), len(dup), env.smtp.attempts,
	    env.smtp.tempfailed, len(retries), len(sent)))
	assert not lost, "lost %d: %s" % (len(lost), lost[:20])
	# A 451 is not an acceptance: retrying it is no duplicate.
	assert not dup, "duplicates: %s" % list(dup.items())[:20]
	assert env.smtp.tempfailed > 0
	assert len(retries) >= env.smtp.tempfailed, (len(retries),
	    env.smtp.tempfailed)
	assert all("451" in a.get("reply", "") or a.get("code") == "451"
	    for a in retries), retries[:3]
	assert len({a["delivery"] for a in sent}) == N_451
	retried = {a["delivery"] for a in retries}
	assert retried <= {a["delivery"] for a in sent}
	assert not fh.dead_deliveries(env), fh.dead_deliveries(env)[:5]


# ---------------------------------------------------------------------------
# 5. 550 for one address

def test_550_for_one_address_goes_dead_others_once(env):
	addrs = _fanout_setup(env, N_550, "a-550")
	bad = fh.addr(7)
	bad_cid = "c-p%05d" % 7
	env.smtp.reject(bad)
	env.xadd(fh.announcement("a-550"))
	good = [a for a in addrs if a != bad]
	fh.wait_delivered(env, good)
	env.wait_for(lambda: fh.dead_deliveries(env), 60, "the dead entry")
	env.wait_for(lambda: env.mails_to(COORD), 60, "the coordinator's notice")
	fh.wait_delivered(env, good)		# the notice is settled too
	lost, dup, extra = fh.tally(env, good)
	dead = fh.dead_deliveries(env)
	notices = env.mails_to(COORD)
	print("550 for one: sent %d unique to the good %d, lost %d, "
	    "duplicates %d; %d to the refused address; %d RCPT refusals; dead "
	    "%s; %d notice(s)" % (len(good) - len(lost), len(good), len(lost),
	    len(dup), len(env.mails_to(bad)), len(env.smtp.rejected),
	    [(d.get("delivery"), d.get("last_reply")) for d in dead],
	    len(notices)))
	assert not lost, "lost %d: %s" % (len(lost), lost[:20])
	assert not dup, "duplicates: %s" % list(dup.items())[:20]
	assert env.mails_to(bad) == []
	# Permanent: asked once, never again.
	assert env.smtp.rejected == [bad], env.smtp.rejected
	assert len(dead) == 1, dead
	d = dead[0]
	assert d.get("collaborator") == bad_cid, d
	assert bad_cid in d.get("delivery", "") and "a-550" in d["delivery"], d
	assert "550" in d.get("last_reply", ""), d
	assert d.get("error") and d.get("attempts") == "1", d
	assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d", d.get("at", "")), d
	for f in ("kind", "first_try", "last_try"):
		assert d.get(f), (f, d)
	assert bad not in json.dumps(d), "the dead entry names the address"
	assert len(notices) == 1, notices
	assert bad_cid in notices[0].text, notices[0].text
	assert fh.audit_events(env, "failed"), "no audit event for the 550"


# ---------------------------------------------------------------------------
# 6. Three daemons, one Redis

def test_three_daemons_one_redis_exactly_once(env):
	env.start_daemon()
	extra = []
	try:
		extra = [fh.ExtraDaemon(env, 2), fh.ExtraDaemon(env, 3)]
		# All three take the collaborators (commit conflicts), then
		# the fan-out.
		addrs = fh.queue_collaborators(env, N_BIG)
		fh.wait_inbox_empty(env)
		env.xadd(fh.announcement("a-three"))

		def check():
			env.check_daemon()
			for x in extra:
				x.check()
		harness.wait_for(lambda: fh.schedule_len(env) > 0 or
		    len(env.mails) > 0, fh.SETTLE, "the fan-out", check=check)
		fh.wait_delivered(env, addrs)
		for x in extra:
			x.check()
		lost, dup, n_extra = fh.tally(env, addrs)
		split = [harness.tail(env.daemon_log, 10 ** 6).count("): sent")] + \
		    [x.sent_lines() for x in extra]
		print("3 daemons: sent %d unique, lost %d, duplicates %d (%d "
		    "extra); sent per daemon (from their logs): %s" % (N_BIG -
		    len(lost), len(lost), len(dup), n_extra, split))
		assert not lost, "lost %d: %s" % (len(lost), lost[:20])
		assert not dup, "duplicates: %s" % list(dup.items())[:20]
		assert len(env.mails) == N_BIG
		rcs = [x.stop() for x in extra]
		assert rcs == [0, 0], "extra daemons exited with %s" % rcs
		for x in extra:
			rep = harness.sanitizer_report(x.log)
			assert rep is None, "%s: %s" % (x.log, rep)
	finally:
		for x in extra:
			x.close()

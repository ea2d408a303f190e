#!/usr/bin/python3
"""
scheduled.py: the daemon with many reminders scheduled and nothing due.

    HB_BUILD=build /usr/bin/python3 tests/bench/scheduled.py

HB_BENCH_SCHEDULED (default 1,000,000) reminders, seeded the way a
coordinator would: P = S / 16 collaborator records (plain text, no access
needs) in groups of GROUP (HB_BENCH_GROUP, default 625), queued before the
daemon starts, then one meeting record per group, each with 16 lead times
(1d to 16d; 16 is the most a record may give) and a start 200 days ahead,
so that nothing is due. The daemon plans them: P invitations, sent at once
into Postfix's smtp-sink, and P x 16 reminders on the schedule. Nothing is
written to Redis but inbox records.

A meeting of more than a few people is planned in pages, and who is
invited is kept in mi:<meeting>, not in the record every email reads, so
HB_BENCH_GROUP=62500 seeds the same reminders with one meeting of 62,500
people. (Before meetings were paged, that one meeting took the daemon to
3.8 GB RSS, its one commit held Redis for about 100 s, and every
invitation's lease read a 688 KB record.)

  memory  Redis used_memory after the invitations went out, minus before
          the meeting was queued, divided by the reminders scheduled. An
          upper bound: it also carries what the P sent invitations leave
          behind (one hash each, kept for a while) and the meetings' own
          records. MEMORY USAGE of one reminder's keys says how it
          splits (a reminder still waiting has no hash: daemon/store/
          lib.lua), and of one sent invitation's hash.
  CPU     the daemon's utime + stime (/proc/PID/stat) over IDLE seconds
          (HB_BENCH_IDLE, default 20) with the reminders scheduled, as %
          of one core. The anchor, in the same run: the same daemon over
          the same time with the collaborators stored and nothing
          scheduled, before the meetings were queued.

Each figure is printed with issue 11's target beside it. It never fails on
speed; it exits 1 when something is broken (a dead record, fewer reminders
than planned, no progress for STALL seconds).
"""

import datetime
import json
import os
import sys
import time
from pathlib import Path

import redis

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchlib  # noqa: E402
from benchlib import Broken, harness, mark  # noqa: E402

S = int(os.environ.get("HB_BENCH_SCHEDULED", "1000000"))
IDLE = float(os.environ.get("HB_BENCH_IDLE", "20"))
LEADS = 16
GROUP = int(os.environ.get("HB_BENCH_GROUP", "625"))	# people per meeting
STALL = 60.0
STALL_SEED = 900.0	# one planning step may hold Redis that long
T_CPU = 1.0		# % of a core, under
T_BYTES = 400		# Redis bytes per scheduled delivery, under


def status(env):
	res = env.cli("status", "--json")
	if res.rc != 0:
		raise Broken("hearback status: %s" % res.err.strip())
	return json.loads(res.out)


def wait_progress(env, get, done, what, stall=STALL):
	"""Poll get() every 0.5 s until done(v); Broken after STALL s without
	change. Returns the last value."""
	last, changed = None, time.monotonic()
	while True:
		env.check_daemon()
		v = get()
		if done(v):
			return v
		now = time.monotonic()
		if v != last:
			last, changed = v, now
		elif now - changed > stall:
			raise Broken("%s: no progress for %gs (at %r)" % (what,
			    stall, v))
		time.sleep(0.5)


def cpu_percent(pid, secs):
	c0, t0 = benchlib.cpu_seconds(pid), time.monotonic()
	time.sleep(secs)
	c1, t1 = benchlib.cpu_seconds(pid), time.monotonic()
	return 100.0 * (c1 - c0) / (t1 - t0)


def share(env, key, n):
	"""MEMORY USAGE of key (relative), divided among n."""
	b = env.r.memory_usage(env.key(key), samples=0) or 0
	return b / float(n) if n else 0.0


def tokens(env, mid, cid):
	"""How many reminders cid has compact in mr:<mid> (lib.lua)."""
	return len((env.r.hget(env.key("mr:" + mid), cid) or "").split())


def where_bytes(env):
	"""Where the bytes go (MEMORY USAGE): one reminder, first on the
	schedule, in the form it is stored in (lib.lua: a hash of its own,
	or compact in its meeting's mr:<meeting>, found through
	cr:<collaborator>), with its share of the keys it shares; and one
	sent invitation's hash, which the figure above also carries."""
	first = env.r.zrange(env.key("schedule"), 0, 0)
	if not first:
		return
	did = first[0]
	_, mid, cid = did.split(":")[:3]	# the bench's ids hold no ':'
	parts = [("schedule", share(env, "schedule",
	    env.r.zcard(env.key("schedule"))))]
	if env.r.exists(env.key("d:" + did)):
		h = env.r.hgetall(env.key("d:" + did))
		parts.insert(0, ("its hash (%s)" % " ".join(sorted(h)),
		    share(env, "d:" + did, 1)))
		parts.append(("md:<meeting>", share(env, "md:" + mid,
		    env.r.scard(env.key("md:" + mid)))))
		parts.append(("cd:<collaborator>", share(env, "cd:" + cid,
		    env.r.scard(env.key("cd:" + cid)))))
	else:
		inm = sum(tokens(env, mid, c) for c in env.r.hkeys(env.key(
		    "mr:" + mid)))
		ofc = sum(tokens(env, m, cid) for m in env.r.hkeys(env.key(
		    "cr:" + cid)))
		parts.append(("mr:<meeting> (compact, no hash)", share(env,
		    "mr:" + mid, inm)))
		parts.append(("cr:<collaborator>", share(env, "cr:" + cid,
		    ofc)))
	# Who is invited (mi:<meeting>, one field a person), shared by the
	# person's reminders of that meeting.
	n = env.r.hlen(env.key("mi:" + mid))
	if n:
		parts.append(("mi:<meeting>", share(env, "mi:" + mid,
		    n * LEADS)))
	print("    one reminder: %s = %.0f B (MEMORY USAGE)" % (" + ".join(
	    "%s %.0f" % p for p in parts), sum(v for _, v in parts)))
	inv = "d:inv:%s:%s:0" % (mid, cid)
	if env.r.exists(env.key(inv)):
		h = env.r.hgetall(env.key(inv))
		print("    one sent invitation: its hash %.0f B (%s), kept %.0f "
		    "days" % (share(env, inv, 1), " ".join(sorted(h)),
		    env.r.ttl(env.key(inv)) / 86400.0))


def main():
	if not benchlib.have_postfix_tools():
		return 1
	people = -(-S // LEADS)
	print("scheduled.py: %s/hearbackd; %d reminders (HB_BENCH_SCHEDULED) ="
	    " %d people x %d lead times, %d meetings of up to %d; %s; load %s" % (
	    harness.build_dir(), people * LEADS, people, LEADS,
	    -(-people // GROUP), GROUP, benchlib.machine(), benchlib.loadavg()))
	cfg = {"delivery": {"lease": "60s"}, "daemon": {"shutdown_timeout":
	    "30s"}}
	with harness.Env("bench-scheduled", config=cfg) as env:
		sink, port = benchlib.start_sink(env)
		try:
			env.write_config({"smtp": {"port": str(port)}})
			inbox = env.key("inbox")
			p = env.r.pipeline(transaction=False)
			for i in range(people):
				c = benchlib.collaborator(i, "s%04d" % (i // GROUP),
				    "plain-text")
				del c["reminders"]	# the meeting's lead times
				p.xadd(inbox, {"record": json.dumps(c)})
				if i % 10000 == 9999:
					p.execute()
			p.execute()
			t0 = time.monotonic()
			env.start_daemon()
			wait_progress(env, lambda: env.r.xlen(inbox),
			    lambda v: v == 0, "intake")
			meetings = -(-people // GROUP)
			have = sum(env.r.scard(env.key("group:s%04d" % g))
			    for g in range(meetings))
			if have != people:
				raise Broken("intake: %d in the groups, want %d" % (
				    have, people))
			print("    %d collaborators stored in %.1f s" % (people,
			    time.monotonic() - t0))
			time.sleep(2)
			pid = env.daemon.pid
			idle0 = cpu_percent(pid, IDLE)
			st = status(env)
			sched0 = st["scheduled"]
			mem0 = int(env.r.info("memory")["used_memory"])

			start = datetime.datetime.now() + datetime.timedelta(
			    days=200)
			end = start + datetime.timedelta(hours=2)
			fmt = "%Y-%m-%dT%H:00"
			env.r.config_set("slowlog-log-slower-than", 10000)
			env.r.slowlog_reset()
			t0 = time.monotonic()
			p = env.r.pipeline(transaction=False)
			for g in range(meetings):
				p.xadd(inbox, {"record": json.dumps({"type": "meeting",
				    "id": "m-bench-%04d" % g, "title": "Bench meeting",
				    "start": start.strftime(fmt),
				    "end": end.strftime(fmt), "timezone": "Europe/London",
				    "online": {"url": "https://meet.example.org/bench"},
				    "groups": ["s%04d" % g], "reminders": ["%dd" % (d + 1)
				    for d in range(LEADS)]})})
			p.execute()
			stats = env.key("stats")

			def progress():
				# A long script makes Redis answer BUSY to
				# everyone else for its duration.
				try:
					return (int(env.r.hget(stats,
					    "sent:invitation") or 0),
					    env.r.xlen(inbox), status(env)["scheduled"])
				except redis.exceptions.ResponseError as e:
					if str(e).startswith("BUSY"):
						return "redis busy"
					raise
				except Broken as e:
					if "BUSY" in str(e):
						return "redis busy"
					raise
			v = wait_progress(env, progress, lambda v: v != "redis busy"
			    and v[0] >= people and v[1] == 0 and
			    v[2] - sched0 >= people * LEADS, "the meetings",
			    stall=STALL_SEED)
			seeded = time.monotonic() - t0
			time.sleep(3)
			st = status(env)
			n = st["scheduled"] - sched0
			if n < people * LEADS:
				raise Broken("%d scheduled, want %d" % (n,
				    people * LEADS))
			if env.dead_entries():
				raise Broken("dead entries")
			mem1 = int(env.r.info("memory")["used_memory"])
			print("    seeded in %.1f s: %d invitations sent, %d reminders"
			    " scheduled, next due %s (load %s)" % (seeded, v[0], n,
			    st.get("next_due"), benchlib.loadavg()))
			slow = env.r.slowlog_get(1000)
			worst = max(slow, key=lambda e: e["duration"]) if slow \
			    else None
			print("    while seeding: hearbackd peak RSS %.1f MB; longest "
			    "Redis command %.1f ms (%s), %d over 10 ms" % (
			    benchlib.vmhwm(env.daemon.pid) or -1,
			    worst["duration"] / 1000.0 if worst else 0,
			    benchlib.command_words(worst["command"], 2) if worst
			    else "", len(slow)))

			busy = cpu_percent(pid, IDLE)
			print("daemon CPU, %d scheduled, nothing due: %.2f%% of a core"
			    " over %g s (target < %g%%: %s); anchor, the same daemon "
			    "with nothing scheduled: %.2f%% (load %s)" % (n, busy,
			    IDLE, T_CPU, mark(busy < T_CPU), idle0,
			    benchlib.loadavg()))
			per = (mem1 - mem0) / float(n)
			print("redis memory: %.0f B per scheduled delivery (target < "
			    "%d B: %s); used_memory %.1f MB -> %.1f MB; an upper "
			    "bound, with the %d sent invitations' hashes" % (per,
			    T_BYTES, mark(per < T_BYTES), mem0 / 1048576.0,
			    mem1 / 1048576.0, v[0]))
			where_bytes(env)
			sys.stdout.flush()
		finally:
			env.stop_daemon(timeout=60)
			harness.stop_process(sink)
	return 0


if __name__ == "__main__":
	try:
		sys.exit(main())
	except (Broken, harness.WaitTimeout, harness.DaemonDied) as exc:
		print("scheduled.py: BROKEN: %s" % exc, file=sys.stderr)
		sys.exit(1)

#!/usr/bin/python3
"""
meeting.py: one meeting to a large group, planned in pages, against
Postfix's smtp-sink.

    HB_BUILD=build /usr/bin/python3 tests/bench/meeting.py [N ...]

For each N (default 20000; `make bench` runs 1000 20000), in a fresh Env:
N collaborator records (plain text, no reminders of their own) in one
group, queued before the daemon starts and taken; then

  anchor     an announcement to the group, planned page by page as
             announcements long have been: from the XADD until its inbox
             entry is acknowledged (planned), and the daemon's peak RSS
             (VmHWM) after it, as a base
  new        a meeting to the group, 3 lead times (7d, 1d, 2h; 30 days
             ahead): N invitations and 3N reminders. From the XADD until
             its entry is acknowledged (every page stored, the notices
             made), and until the last invitation is sent. Per 1,000
             people, beside the announcement's per 1,000 (same run, same
             people)
  change     the same meeting an hour later: N updates, 3N reminders made
             again and the old 3N withdrawn (the sweep of the meeting's
             pending index)
  memory     the daemon's peak RSS after the meeting and its change,
             beside the announcement's (target: under 40 MB, as for a
             fan-out)
  redis      every script call while each is planned (SLOWLOG,
             threshold 0; redis-server at nice -20 as root): the longest
             (target: 10 ms or less), and each script's median and 99th
             percentile, beside a fixed pure-Lua script (about 1.2 ms on
             the build machine) sent every 20 ms meanwhile: its median and
             longest are what the machine's load does to a fixed piece of
             work. And the stored meeting record's size, which every email
             to the meeting reads when it is sent (it used to list
             everyone invited: 688 KB at 62,500 people)

It prints figures and never fails on speed; it exits 1 only when something
is broken (a dead record or email, a wrong count, no progress for STALL
seconds). Needs /usr/sbin/smtp-sink (package postfix).
"""

import datetime
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchlib  # noqa: E402
from benchlib import Broken, harness, mark  # noqa: E402

STALL = 60.0
T_RSS_MB = 40.0
T_SLOW_MS = 10.0
LEADS = ["7d", "1d", "2h"]


def pct(v, p):
	v = sorted(v)
	return v[min(len(v) - 1, int(p * len(v)))] if v else 0.0


def slowlog_summary(env):
	"""{name: [ms, ...]} of the daemon's scripts (and "anchor", the
	ticker's), from the SLOWLOG."""
	by = {}
	for e in env.r.slowlog_get(1000000):
		if benchlib.is_ticker(e):
			name = "anchor"
		else:
			w = benchlib.command_words(e["command"], 2).split()
			if len(w) < 2 or not w[1].endswith(".lua"):
				continue
			name = w[1]
		by.setdefault(name, []).append(e["duration"] / 1000.0)
	env.r.config_set("slowlog-log-slower-than", 10000)
	return by


def timed(env, record, kind, n):
	"""XADD record; (seconds until its entry is acknowledged, until n
	emails of kind are sent, the scripts' durations while it was
	planned: slowlog_summary())."""
	inbox = env.key("inbox")
	# Every command from now on goes to the SLOWLOG (threshold 0), to
	# give each script's median as well as its longest.
	benchlib.slowlog_reset(env, 0, 1000000)
	base = benchlib.sent(env, kind)
	ticker = benchlib.Ticker(env)
	ticker.start()
	t0 = time.monotonic()
	env.xadd(record)
	planned = benchlib.wait_until(env, lambda: (env.r.xlen(inbox),
	    benchlib.sent(env, kind)), lambda v: v[0] == 0, "planning", STALL)
	ticker.stop.set()
	ticker.join()
	slow = slowlog_summary(env)
	done = benchlib.wait_until(env, lambda: benchlib.sent(env, kind),
	    lambda v: v - base >= n, "sending", STALL)
	if env.dead_entries():
		raise Broken("dead entries")
	return planned - t0, done - t0, slow


def person(i):
	"""Collaborator i: plain text, no lead times of their own (the
	meeting's)."""
	c = benchlib.collaborator(i, "bench", "plain-text")
	del c["reminders"]
	return c


def reminders(env, mid):
	"""How many of the collaborators' own reminders of meeting mid are
	stored, in both forms: with a hash (d:rem:<mid>:...), or compact, a
	token in their field of mr:<mid> (daemon/store/lib.lua; a supporter's
	or coordinator's copy, s or a first, is not counted)."""
	hashed = sum(1 for _ in env.r.scan_iter(match=env.key("d:rem:%s:*" %
	    mid), count=1000))
	compact = sum(1 for v in env.r.hvals(env.key("mr:" + mid))
	    for tok in v.split() if tok[:1].isdigit())
	return hashed + compact


def meeting(mid, start):
	return {"type": "meeting", "id": mid, "title": "Bench meeting",
	    "start": start.strftime("%Y-%m-%dT%H:%M"),
	    "end": (start + datetime.timedelta(hours=2)).strftime(
	    "%Y-%m-%dT%H:%M"), "timezone": "Europe/London",
	    "online": {"url": "https://meet.example.org/bench"},
	    "groups": ["bench"], "reminders": LEADS}


def show(n, what, t, anchor_plan):
	plan, done, by = t
	print("N=%d %s: planned in %.2f s (%.0f ms per 1,000 people; the "
	    "announcement's, same people, same run: %.0f ms per 1,000), last "
	    "email %.2f s after the XADD (load %s)" % (n, what, plan,
	    plan * 1e6 / n, anchor_plan * 1e6 / n, done, benchlib.loadavg()))
	worst = max(((max(v), k) for k, v in by.items() if k != "anchor"),
	    default=(0.0, ""))
	print("    redis while planning: longest call %.1f ms (%s; target <= "
	    "%g ms: %s); anchor, a fixed pure-Lua script: median %.1f ms, "
	    "longest %.1f ms" % (worst[0], worst[1], T_SLOW_MS,
	    mark(worst[0] <= T_SLOW_MS), pct(by.get("anchor", []), 0.5),
	    max(by.get("anchor", [0.0]))))
	print("    %s" % "; ".join("%s %d calls, median %.2f ms, 99%% %.1f "
	    "ms" % (k, len(v), pct(v, 0.5), pct(v, 0.99))
	    for k, v in sorted(by.items()) if k != "anchor"))


def run(n):
	cfg = {"delivery": {"lease": "60s"}, "daemon": {"shutdown_timeout":
	    "30s"}}
	with benchlib.sink_env("bench-meeting-%d" % n, cfg, stop_timeout=60) \
	    as (env, _, _):
		benchlib.queue_records(env, (person(i) for i in range(n)))
		env.start_daemon()
		benchlib.taken_in(env, n, "bench", STALL)

		ann = timed(env, benchlib.announcement("a-bench",
		    {"groups": ["bench"]}), "announcement", n)
		rss_ann = benchlib.vmhwm(env.daemon.pid) or -1
		start = datetime.datetime.now() + datetime.timedelta(days=30)
		new = timed(env, meeting("m-bench", start), "invitation", n)
		show(n, "new meeting", new, ann[0])
		rem = reminders(env, "m-bench")
		if rem != n * len(LEADS):
			raise Broken("%d reminders, want %d" % (rem,
			    n * len(LEADS)))
		chg = timed(env, meeting("m-bench", start +
		    datetime.timedelta(hours=1)), "update", n)
		show(n, "change of time", chg, ann[0])
		rss = benchlib.vmhwm(env.daemon.pid) or -1
		size = env.r.strlen(env.key("rec:meeting:m-bench"))
		print("    hearbackd peak RSS %.1f MB after the meeting and "
		    "its change (target < %g MB: %s); after the announcement "
		    "to the same people, same run: %.1f MB. The stored "
		    "meeting record: %d bytes (read by every email to it); "
		    "who is invited: mi:<meeting>, %d entries" % (rss,
		    T_RSS_MB, mark(rss < T_RSS_MB), rss_ann, size,
		    env.r.hlen(env.key("mi:m-bench"))))
		sys.stdout.flush()


def main():
	if not benchlib.have_postfix_tools():
		return 1
	sizes = [int(a) for a in sys.argv[1:]] or [20000]
	print("meeting.py: %s/hearbackd, one meeting to a group of N, in pages;"
	    " %s; load %s. Figures vary with the machine and its load; the "
	    "announcement and the fixed script beside each are measured in "
	    "the same run." % (harness.build_dir(), benchlib.machine(),
	    benchlib.loadavg()))
	for n in sizes:
		run(n)
	return 0


if __name__ == "__main__":
	try:
		sys.exit(main())
	except (Broken, harness.WaitTimeout, harness.DaemonDied) as exc:
		print("meeting.py: BROKEN: %s" % exc, file=sys.stderr)
		sys.exit(1)

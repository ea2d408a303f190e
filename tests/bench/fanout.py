#!/usr/bin/python3
"""
fanout.py: hearbackd's intake and fan-out against a fast SMTP server.

    HB_BUILD=build /usr/bin/python3 tests/bench/fanout.py [N ...]

tests/integration/bench.py measures through the harness's Python SMTP sink,
which tops out near 300 emails/s on a 2-core machine: the sink, not the
daemon, is what it measures at 20,000 people. This one points the daemon at
Postfix's smtp-sink (C, discards what it receives) and counts what the
daemon says it sent ({P}:stats sent:announcement), so the figures are the
daemon's and Redis's own. For each N (default 20000; `make bench` runs
1000 20000 100000), in a fresh Env:

  intake     N collaborator records queued before the daemon starts;
             from its start until the inbox is empty -> records/s (and
             from the first record taken; the CPU per record of
             hearbackd and redis-server)
  fan-out    one announcement to those N people: first email, the fan-out
             committed (its inbox entry acknowledged), the last email sent
             -> emails/s
  anchor     into the same smtp-sink, Postfix's smtp-source sends N
             messages with the very bytes hearbackd sent (one email per
             format captured first, smtp-source -F), 4 sessions x 100
             messages per session, again until N -> messages/s; once
             before the fan-out and once after (the machine's load moves
             it); the ratio hearback / the mean of the two
  SMTP alone the same N emails through hearback's own SMTP layer and
             nothing else (build/tests/smtp_alone: sender.c and libESMTP,
             the same threads, batches and sessions, messages built
             beforehand; no Redis, no templates, no GMime) into the same
             sink -> emails/s beside smtp-source: how far the SMTP layer
             alone would let the fan-out go
  memory     the daemon's peak RSS (VmHWM) after the fan-out, and how far
             it is from the first N's (run the smallest N first)
  redis      the longest command during intake and during the fan-out, and
             how many took 2 ms or more (SLOWLOG, threshold 2 ms; as root,
             redis-server runs at nice -20 so that the machine's load does
             not stretch small commands). The anchor: a fixed pure-Lua
             script (1.2 ms on the build machine) that the bench sends
             every 20 ms during the fan-out; its longest run is what the
             load alone adds

  cpu        CPU time per 1,000 emails during the fan-out of hearbackd
             (and of its main thread, the rest being the workers),
             redis-server and smtp-sink, and of smtp-source and smtp-sink
             during the second anchor: less at the mercy of the machine's
             other load than the rates are

Each figure is printed with issue 11's target beside it, and the load
average (1, 5, 15 min) when it was taken.

It prints figures and never fails on speed; it exits 1 only when something
is broken (a dead record or email, a wrong count, no progress for STALL
seconds). Needs /usr/sbin/smtp-sink and smtp-source (package postfix);
runs as root (the sink drops to user postfix) or as any user.
HB_BENCH_WORKERS sets [smtp] workers (default 4, the daemon's own
default: see hearback.conf(5)). HB_BENCH_PERF=DIR
records the daemon during each fan-out with `perf record -g` into
DIR/perf-N.data (perf must be installed), and Redis's INFO commandstats
for the fan-out into DIR/redis-N.txt.
"""

import os
import subprocess
import sys
import tempfile
import shutil
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchlib  # noqa: E402
from benchlib import Broken, harness, mark  # noqa: E402

STALL = 30.0
SLOW_US = 2000
WORKERS = int(os.environ.get("HB_BENCH_WORKERS", "4"))	# daemon/config.c
PERF = os.environ.get("HB_BENCH_PERF")

# Issue 11's targets.
T_RATIO = 0.6		# hearback / smtp-source, at least
T_RSS_MB = 40.0		# peak RSS in a fan-out, under
T_RSS_GROWTH = 0.10	# ... and within this of the 1k figure
T_SLOW_MS = 10.0	# longest Redis command in a fan-out, at most
T_INTAKE = 20000	# collaborator records/s, at least


def slowlog_reset(env):
	benchlib.slowlog_reset(env, SLOW_US, 100000)


def slowlog_summary(env):
	"""(longest ms, its command (first words), count >= SLOW_US, the
	ticker's longest ms or None) of the daemon's commands."""
	entries = env.r.slowlog_get(100000)
	mine = [e for e in entries if benchlib.is_ticker(e)]
	entries = [e for e in entries if not benchlib.is_ticker(e)]
	tick = max(e["duration"] for e in mine) / 1000.0 if mine else None
	if not entries:
		return 0.0, "", 0, tick
	worst = max(entries, key=lambda e: e["duration"])
	return worst["duration"] / 1000.0, \
	    benchlib.command_words(worst["command"]), len(entries), tick


def perf_start(pid, n):
	"""perf record -g of pid into PERF/perf-N.data, or None."""
	if not PERF:
		return None
	os.makedirs(PERF, exist_ok=True)
	return subprocess.Popen(["perf", "record", "-q", "-g", "-p", str(pid),
	    "-o", os.path.join(PERF, "perf-%d.data" % n)],
	    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def perf_stop(p, env, n):
	"""Stop perf; Redis's per-command figures beside its data."""
	if p is None:
		return
	p.send_signal(2)
	p.wait()
	with open(os.path.join(PERF, "redis-%d.txt" % n), "w") as f:
		for k, v in sorted(env.r.info("commandstats").items(),
		    key=lambda kv: -kv[1]["usec"]):
			f.write("%-40s %8d calls %10d usec %8.1f usec/call\n" % (
			    k, v["calls"], v["usec"], v["usec_per_call"]))


def smtp_alone(port, shapes, n, env):
	"""build/tests/smtp_alone: n of the sample emails sent into the sink
	by hearback's own SMTP layer, WORKERS threads, nothing else. Returns
	(emails/s, its CPU in ms per 1,000 emails)."""
	exe = harness.build_dir() / "tests" / "smtp_alone"
	with open(env.tmp / "smtp-alone.log", "ab") as lf:
		p = subprocess.run([str(exe), str(port), str(n), str(WORKERS)] +
		    [str(path) for path, _ in shapes], stdout=subprocess.PIPE,
		    stderr=lf)
	if p.returncode != 0:
		raise Broken("smtp_alone exited %d (see %s)" % (p.returncode,
		    env.tmp / "smtp-alone.log"))
	w = p.stdout.decode().split()	# "N sent, SECONDS s, CPU ms cpu"
	if int(w[0]) != n:
		raise Broken("smtp_alone: %s sent, want %d" % (w[0], n))
	return n / float(w[2]), float(w[4]) * 1000 / n


def run(n, shapes, results):
	"""One Env: intake of n people, one announcement to them, then
	smtp-source with as many messages of the same bytes into the same
	smtp-sink. Adds a dict of figures to results."""
	cfg = {"delivery": {"lease": "60s"}, "daemon": {"shutdown_timeout":
	    "30s"}, "smtp": {"workers": str(WORKERS)}}
	res = {"n": n}
	with benchlib.sink_env("bench-fanout-%d" % n, cfg) as (env, sink, port):
		inbox = env.key("inbox")
		# Queued before the daemon starts: what is timed is
		# the daemon's intake alone.
		benchlib.queue_records(env, (benchlib.collaborator(i,
		    "bench") for i in range(n)))
		slowlog_reset(env)
		t0 = time.monotonic()
		env.start_daemon(wait=False)
		# Also when the first record left the inbox, and the CPU the
		# daemon and Redis spent on each record.
		procs = (env.daemon.pid, env.redis_proc.pid)
		cpu0 = [benchlib.cpu_seconds(pid) for pid in procs]
		first = []

		def left():
			v = env.r.xlen(inbox)
			if v < n and not first:
				first.append(time.monotonic())
			return v
		benchlib.wait_until(env, left, lambda v: v == 0, "intake",
		    STALL)
		t1 = benchlib.taken_in(env, n, "bench", STALL)
		cpu = [(benchlib.cpu_seconds(pid) - c) * 1e6 / n
		    for pid, c in zip(procs, cpu0)]
		in_ms, in_cmd, in_slow, _ = slowlog_summary(env)
		res["intake"] = n / (t1 - t0)
		print("N=%d intake: %.0f records/s (target >= %d: %s; "
		    "%.2f s from the daemon's start; queued before it; "
		    "load %s)" % (n, res["intake"], T_INTAKE,
		    mark(res["intake"] >= T_INTAKE), t1 - t0,
		    benchlib.loadavg()))
		print("    from the first record taken to the last: %.0f "
		    "records/s; cpu per record: hearbackd %.0f us, "
		    "redis-server %.0f us" % ((n - 1) / max(t1 - first[0],
		    1e-6), cpu[0], cpu[1]))
		print("    redis: longest command %.1f ms (%s), %d at or "
		    "over %g ms" % (in_ms, in_cmd, in_slow, SLOW_US / 1000))

		# The anchor, before the fan-out and again after it (the
		# machine's load moves it more than anything else): the
		# same number of messages, the same bytes, into the same
		# smtp-sink, from smtp-source.
		before = n / benchlib.smtp_source(port, shapes, n,
		    env.tmp / "smtp-source.log")

		slowlog_reset(env)

		def sent():
			return benchlib.sent(env, "announcement")
		ticker = benchlib.Ticker(env)
		ticker.start()
		procs = (env.daemon.pid, env.redis_proc.pid, sink.pid)
		perf = perf_start(env.daemon.pid, n)
		env.r.config_resetstat()
		cpu0 = [benchlib.cpu_seconds(pid) for pid in procs]
		main0 = benchlib.main_thread_seconds(env.daemon.pid)
		t0 = time.monotonic()
		env.xadd(benchlib.announcement("a-bench",
		    {"groups": ["bench"]}))
		first = benchlib.wait_until(env, sent, lambda v: v >= 1,
		    "first email", 600)
		planned = None
		while True:
			env.check_daemon()
			v = sent()
			now = time.monotonic()
			if planned is None and env.r.xlen(inbox) == 0:
				planned = now
			if v >= n and planned is not None:
				break
			if now - t0 > 900:
				raise Broken("fan-out: %d of %d after 900 s" %
				    (v, n))
			time.sleep(benchlib.TICK)
		last = now
		cpu = [(benchlib.cpu_seconds(pid) - c) * 1e6 / n
		    for pid, c in zip(procs, cpu0)]
		main_cpu = (benchlib.main_thread_seconds(env.daemon.pid) -
		    main0) * 1e6 / n
		perf_stop(perf, env, n)
		time.sleep(0.3)
		if sent() != n:
			raise Broken("fan-out: %d sent, want %d" % (sent(), n))
		if env.dead_entries():
			raise Broken("fan-out: dead entries")
		ticker.stop.set()
		ticker.join()
		fo_ms, fo_cmd, fo_slow, tick_ms = slowlog_summary(env)
		res["rate"] = n / (last - t0)
		res["rss"] = benchlib.vmhwm(env.daemon.pid) or -1
		res["slow_ms"] = fo_ms
		fo_load = benchlib.loadavg()

		sink0 = benchlib.cpu_seconds(sink.pid)
		kids0 = os.times()
		after = n / benchlib.smtp_source(port, shapes, n,
		    env.tmp / "smtp-source.log")
		kids1 = os.times()
		src_cpu = (kids1.children_user + kids1.children_system -
		    kids0.children_user - kids0.children_system) * 1e6 / n
		sink_cpu = (benchlib.cpu_seconds(sink.pid) - sink0) * 1e6 / n
		res["anchor"] = (before + after) / 2
		res["ratio"] = res["rate"] / res["anchor"]
		alone, alone_cpu = smtp_alone(port, shapes, n, env)
		print("N=%d fan-out: hearback %.0f emails/s, smtp-source "
		    "%.0f/s (%d sessions x %d messages, the same emails; "
		    "%.0f/s before the fan-out, %.0f/s after), ratio %.2f "
		    "(target >= %.1f: %s; load %s, then %s)" % (n,
		    res["rate"], res["anchor"], benchlib.SESSIONS,
		    benchlib.PER_SESSION, before, after, res["ratio"],
		    T_RATIO, mark(res["ratio"] >= T_RATIO), fo_load,
		    benchlib.loadavg()))
		print("    last email %.2f s after the XADD; first %.0f ms; "
		    "fan-out committed at %.2f s" % (last - t0,
		    (first - t0) * 1000, planned - t0))
		print("    cpu per 1,000 emails: hearbackd %.0f ms (main "
		    "thread %.0f, workers %.0f), redis-server %.0f ms, "
		    "smtp-sink %.0f ms; smtp-source %.0f ms and smtp-sink "
		    "%.0f ms per 1,000 of its messages" % (cpu[0], main_cpu,
		    cpu[0] - main_cpu, cpu[1], cpu[2], src_cpu, sink_cpu))
		print("    hearback's SMTP layer alone (sender.c and libESMTP, "
		    "%d threads, the same emails built beforehand: no Redis, "
		    "no building): %.0f emails/s, %.2f of smtp-source, cpu "
		    "%.0f ms per 1,000: the fan-out's ceiling with this "
		    "SMTP layer" % (WORKERS, alone, alone / res["anchor"],
		    alone_cpu))
		base = results[0]["rss"] if results else res["rss"]
		growth = res["rss"] / base - 1 if base > 0 else 0
		res["rss_ok"] = res["rss"] < T_RSS_MB and \
		    growth <= T_RSS_GROWTH
		print("    hearbackd peak RSS (VmHWM) %.1f MB (target < %g MB "
		    "and within %d%% of N=%d's %.1f MB: %+.0f%%, %s); redis "
		    "used_memory %.1f MB" % (res["rss"], T_RSS_MB,
		    T_RSS_GROWTH * 100, results[0]["n"] if results else n,
		    base, growth * 100, mark(res["rss_ok"]),
		    int(env.r.info("memory")["used_memory"]) / 1048576.0))
		print("    redis: longest command %.1f ms (%s), %d at or "
		    "over %g ms (target <= %g ms: %s); anchor, a fixed "
		    "pure-Lua script sent %d times meanwhile: longest %s" % (
		    fo_ms, fo_cmd, fo_slow, SLOW_US / 1000, T_SLOW_MS,
		    mark(fo_ms <= T_SLOW_MS), ticker.sent, "%.1f ms" %
		    tick_ms if tick_ms is not None else "under %g ms" %
		    (SLOW_US / 1000)))
		sys.stdout.flush()
	results.append(res)


def main():
	if not benchlib.have_postfix_tools():
		return 1
	sizes = [int(a) for a in sys.argv[1:]] or [20000]
	print("fanout.py: %s/hearbackd, [smtp] workers %d, Postfix smtp-sink;"
	    " %s; load %s. Figures vary with the machine and its load; the "
	    "smtp-source figure beside each is measured in the same run." %
	    (harness.build_dir(), WORKERS, benchlib.machine(),
	    benchlib.loadavg()))
	tmp = tempfile.mkdtemp(prefix="hb-bench-shape-")
	try:
		shapes = benchlib.sample_emails(tmp)
		print("emails: %s bytes (%s), as hearbackd sends them; "
		    "smtp-source -F sends these files" % (", ".join(
		    str(sz) for _, sz in shapes), ", ".join(benchlib.FORMATS)))
		results = []
		for n in sizes:
			run(n, shapes, results)
	finally:
		shutil.rmtree(tmp, ignore_errors=True)
	return 0


if __name__ == "__main__":
	try:
		sys.exit(main())
	except (Broken, harness.WaitTimeout, harness.DaemonDied) as exc:
		print("fanout.py: BROKEN: %s" % exc, file=sys.stderr)
		sys.exit(1)

"""
faults_helpers.py: what test_faults.py builds on, on top of harness.py.

Fan-outs to many collaborators, per-recipient counting of what the SMTP sink
accepted, the number of deliveries leased and not settled (what is "in
flight" as Redis sees it), and extra daemons sharing one Redis.
"""

import collections
import json
import os
import signal
import time

import harness

BATCH = 8		# daemon/hearbackd.c HB_BATCH: jobs a worker takes at once
SETTLE = 180		# generous: other engineers load this 2-core machine too


def workers(env):
	return int(env.config["smtp"]["workers"])


def in_flight_bound(env):
	"""How many deliveries one daemon may hold at once: workers * batch."""
	return workers(env) * BATCH


def addr(i, tag="p"):
	return "%s%05d@example.org" % (tag, i)


def collab(i, group, tag="p", **kw):
	r = {"type": "collaborator", "id": "c-%s%05d" % (tag, i),
	    "name": "Person %s %d" % (tag, i), "email": addr(i, tag),
	    "consent": True, "groups": [group], "reminders": []}
	r.update(kw)
	return r


def queue_collaborators(env, n, group="fan", tag="p"):
	"""XADD n consenting collaborators in one pipeline. Returns their
	addresses (lower case)."""
	p = env.r.pipeline(transaction=False)
	for i in range(n):
		p.xadd(env.key("inbox"), {"record": json.dumps(collab(i, group,
		    tag))})
	p.execute()
	return [addr(i, tag) for i in range(n)]


def wait_inbox_empty(env, timeout=SETTLE, check=True):
	"""Until the inbox holds nothing (every record committed or dead)."""
	w = env.wait_for if check else harness.wait_for
	w(lambda: env.inbox_len() == 0, timeout, "the inbox to empty (%d left)"
	    % env.inbox_len())


def announcement(aid, group="fan", subject="Fan-out"):
	return {"type": "announcement", "id": aid, "subject": subject,
	    "body": "One email each, please.\n\nThank you.",
	    "to": {"groups": [group]}}


def by_rcpt(env):
	"""Counter: lower-case recipient -> messages the sink accepted."""
	c = collections.Counter()
	for m in env.smtp.messages:
		for r in m.rcpt_tos:
			c[r.lower()] += 1
	return c


def tally(env, addresses):
	"""(lost, duplicated, extra): addresses with no email, addresses with
	more than one, and how many emails more than one each were sent."""
	c = by_rcpt(env)
	lost = [a for a in addresses if c[a] == 0]
	dup = {a: c[a] for a in addresses if c[a] > 1}
	extra = sum(n - 1 for n in dup.values())
	return lost, dup, extra


def schedule_len(env):
	return env.r.zcard(env.key("schedule"))


def leased(env):
	"""{(delivery id, score)} for deliveries whose score lies in the future
	by more than a second: those a promote leased and no outcome has
	settled yet (everything else in these tests is due now). A lease made
	by a later promote has a new score, so the pairs that are in one call's
	answer and not in an earlier one are the leases made in between."""
	now_ms = int(time.time() * 1000)
	return set(env.r.zrangebyscore(env.key("schedule"), now_ms + 1000,
	    "+inf", withscores=True))


def wait_delivered(env, addresses, timeout=SETTLE, check=True):
	"""Until every address got at least one email and the schedule is
	empty (so nothing is leased or waiting for a retry any more)."""
	want = set(addresses)

	def done():
		if schedule_len(env) != 0:
			return False
		c = by_rcpt(env)
		return all(c[a] > 0 for a in want)

	def what():
		c = by_rcpt(env)
		return "every one of %d addresses to get an email and the " \
		    "schedule to empty (missing %d, schedule %d)" % (len(want),
		    sum(1 for a in want if c[a] == 0), schedule_len(env))
	w = env.wait_for if check else harness.wait_for
	try:
		w(done, timeout, "delivery")
	except harness.WaitTimeout as e:
		raise harness.WaitTimeout("%s: %s" % (e, what()))


def dead_deliveries(env):
	return [d for d in env.dead_entries() if "delivery" in d]


def audit_events(env, event, kind=None):
	return [a for a in env.audit_entries() if a.get("event") == event and
	    (kind is None or a.get("kind") == kind)]


def cpu_seconds(pid):
	"""User + system CPU time a process has used, from /proc."""
	with open("/proc/%d/stat" % pid) as f:
		fields = f.read().rsplit(")", 1)[1].split()
	return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ExtraDaemon:
	"""Another hearbackd on the same Redis, SMTP sink and templates as
	env's, with its own config file that differs only in [http] listen."""

	def __init__(self, env, n):
		self.env = env
		self.http_port = harness.free_port()
		cfg = json.loads(json.dumps(env.config))
		cfg["http"]["listen"] = "127.0.0.1:%d" % self.http_port
		self.conf = env.tmp / ("hearback%d.conf" % n)
		harness.write_config(self.conf, cfg)
		self.log = env.tmp / ("hearbackd%d.log" % n)
		e = dict(os.environ)
		for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
		    "CREDENTIALS_DIRECTORY"):
			e.pop(k, None)
		self.proc = harness.spawn([env.build / "hearbackd", "-c",
		    self.conf, "-f"], self.log, env=e, cwd=env.tmp)
		harness.wait_for(lambda: harness.port_open(self.http_port), 20,
		    "extra hearbackd %d's HTTP listener" % n, check=self.check)

	def check(self):
		if self.proc.poll() is not None:
			raise harness.DaemonDied("extra hearbackd (%s) exited "
			    "with %s; log tail:\n%s" % (self.conf,
			    self.proc.returncode, harness.tail(self.log)))

	def stop(self):
		"""SIGTERM; returns the exit code (must be 0)."""
		return harness.stop_process(self.proc, signal.SIGTERM, 40)

	def sent_lines(self):
		return harness.tail(self.log, 10 ** 6).count("): sent")

	def close(self):
		harness.stop_process(self.proc, signal.SIGKILL, 5)

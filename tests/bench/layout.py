#!/usr/bin/python3
"""
layout.py: Redis's share of each email of a fan-out, today's layout beside
a layout that stores a page of people as one delivery. A model, for
deciding what to build next; it never fails on speed.

    HB_BUILD=build /usr/bin/python3 tests/bench/layout.py [N]

In one redis-server of its own (no daemon, no SMTP), N collaborators
(default 3,000) and one announcement to them:

  today   the scripts hearbackd runs (daemon/store/*.lua, as scripts.S puts
          them together), fed ops shaped like the daemon's: planning in
          commits of 64 people (DFAN), leasing 16 at a time (lease.lua),
          settling 16 to a commit (DSENT and the audit entry, the count
          folded into one HINCRBY)
  pages   a model of the other layout, in a few lines of Lua below: a page
          of 64 people is one schedule entry and one hash; each person is a
          field of ma:<announcement> (planned, then sent); a lease takes a
          page and reads each person's preferences and record; settling
          marks each person sent and writes their audit entry

Each is run three times, interleaved, and the median printed: Redis's own
time in the scripts (INFO commandstats) per email, for planning, leasing and
settling. The pages model leaves out what the real layout must also do
(a person's retry or failure, forgetting, a correction of the announcement,
`hearback status`): it says what the schedule and the hashes cost, not
what a finished design would.
"""

import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import benchlib  # noqa: E402
from benchlib import harness  # noqa: E402

STORE = HERE.parent.parent / "daemon" / "store"
P = "{m}:"
PAGE = 64
BATCH = 16

PAGES_PLAN = r"""
local P = ARGV[1]
local function k(n) return P .. n end
local aid, page, due = ARGV[2], ARGV[3], ARGV[4]
local cids = {}
for i = 5, #ARGV do
  local cid = ARGV[i]
  local s = redis.call('GET', k('rec:collaborator:' .. cid))
  if s and string.find(s, '"consent":true', 1, true) and
      redis.call('HSETNX', k('ma:' .. aid), cid, page) == 1 then
    cids[#cids + 1] = cid
  end
end
if #cids > 0 then
  redis.call('HSET', k('p:' .. aid .. ':' .. page), 'cids',
    table.concat(cids, ' '), 'state', 'scheduled', 'due', due)
  redis.call('ZADD', k('schedule'), due, 'pg:' .. aid .. ':' .. page)
end
return #cids
"""

PAGES_LEASE = r"""
local P = ARGV[1]
local function k(n) return P .. n end
local now, ls = tonumber(ARGV[2]), tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', k('schedule'), '-inf', now,
  'LIMIT', 0, 1)
local out = {''}
for _, id in ipairs(ids) do
  local aid, page = id:match('^pg:([^:]*):(.*)$')
  local pk = k('p:' .. aid .. ':' .. page)
  local cids = redis.call('HGET', pk, 'cids') or ''
  local ann = redis.call('GET', k('rec:announcement:' .. aid))
  local items = {}
  for cid in string.gmatch(cids, '%S+') do
    redis.call('HGETALL', k('pref:' .. cid))
    items[#items + 1] = {cid,
      redis.call('GET', k('rec:collaborator:' .. cid)) or ''}
  end
  redis.call('HSET', pk, 'lease_until', tostring(now + ls))
  redis.call('ZADD', k('schedule'), tostring(now + ls), id)
  out[#out + 1] = {id, ann, items}
end
return out
"""

PAGES_SETTLE = r"""
local P = ARGV[1]
local function k(n) return P .. n end
local aid = ARGV[2]
for i = 4, #ARGV do
  local cid = ARGV[i]
  redis.call('HSET', k('ma:' .. aid), cid, 's')
  redis.call('XADD', k('audit'), '*', 'event', 'sent', 'delivery',
    'ann:' .. aid .. ':' .. cid, 'kind', 'announcement', 'collaborator',
    cid, 'attempt', '1', 'code', '250', 'reply',
    '250 2.0.0 Ok: queued as ABC', 'at', '2026-12-07T00:00:00Z')
end
redis.call('HINCRBY', k('stats'), 'sent:announcement', #ARGV - 3)
return 1
"""


def script(*names):
	"""A script as scripts.S makes it: lib.lua first, then the rest."""
	return "".join((STORE / n).read_text() for n in ("lib.lua",) + names)


def seed(r, n):
	r.flushall()
	p = r.pipeline(transaction=False)
	for i in range(n):
		cid = "c-%06d" % i
		p.set(P + "rec:collaborator:" + cid, json.dumps({"meta": {
		    "at": 1, "src": "1-0"}, "record": {"access": {"needs":
		    ["step-free"]}, "consent": True, "email":
		    "p%06d@example.org" % i, "format": "standard", "groups":
		    ["bench"], "id": cid, "name": "Person %d" % i, "type":
		    "collaborator"}}, separators=(",", ":"), sort_keys=True))
	p.set(P + "rec:announcement:a-1", json.dumps({"meta": {"at": 1,
	    "src": "1-0"}, "record": {"groups": ["bench"], "id": "a-1",
	    "text": "x" * 1500, "title": "Hello", "type": "announcement"}},
	    separators=(",", ":"), sort_keys=True))
	p.execute()


def usec(r):
	s = r.info("commandstats").get("cmdstat_evalsha", {"usec": 0})
	return s["usec"]


def phase(r, n, fn):
	"""Redis's time in EVALSHA during fn(), in us per email."""
	r.config_resetstat()
	fn()
	return usec(r) / n


def today(r, n, sha):
	def commit(ops):
		args = [P, "", "", "", str(len(ops))]
		for o in ops:
			args += [str(len(o))] + o
		return r.evalsha(sha["commit"], 0, *args)

	def plan():
		for j in range(0, n, PAGE):
			ops = []
			for i in range(j, min(n, j + PAGE)):
				cid = "c-%06d" % i
				ops.append(["DFAN", "ann:a-1:" + cid, "1000", cid,
				    "", "1-0", "kind", "announcement", "refs",
				    "rec:announcement:a-1 rec:collaborator:" + cid,
				    "to", "", "data", "{}", "src", "a-1",
				    "created", "900", "deadline", "99999999999",
				    "attempts", "0"])
			commit(ops)
	dids = []

	def lease():
		while True:
			out = r.evalsha(sha["lease"], 0, P, "2000", "60000",
			    str(BATCH), "0")
			if len(out) <= 1:
				break
			dids.extend(x[0].decode() for x in out[1:])

	def settle():
		for j in range(0, len(dids), BATCH):
			ops = []
			for did in dids[j:j + BATCH]:
				ops += [["DSENT", did, "250 2.0.0 Ok: queued as ABC",
				    "7776000"], ["XADD", "audit", "event", "sent",
				    "delivery", did, "kind", "announcement",
				    "collaborator", did.split(":")[2], "attempt", "1",
				    "code", "250", "reply",
				    "250 2.0.0 Ok: queued as ABC", "at",
				    "2026-12-07T00:00:00Z"]]
			ops.append(["HINCRBY", "stats", "sent:announcement",
			    str(len(dids[j:j + BATCH]))])
			commit(ops)
	out = [phase(r, n, plan), phase(r, n, lease), phase(r, n, settle)]
	if len(dids) != n:
		raise benchlib.Broken("today: %d leased, want %d" % (len(dids),
		    n))
	return out


def pages(r, n, sha):
	got = []

	def plan():
		for j in range(0, n, PAGE):
			r.evalsha(sha["plan"], 0, P, "a-1", str(j // PAGE), "1000",
			    *["c-%06d" % i for i in range(j, min(n, j + PAGE))])

	def lease():
		while True:
			out = r.evalsha(sha["lease"], 0, P, "2000", "60000")
			if len(out) <= 1:
				break
			for x in out[1:]:
				got.append([it[0].decode() for it in x[2]])

	def settle():
		for cids in got:
			for j in range(0, len(cids), BATCH):
				r.evalsha(sha["settle"], 0, P, "a-1", "",
				    *cids[j:j + BATCH])
	out = [phase(r, n, plan), phase(r, n, lease), phase(r, n, settle)]
	if sum(len(c) for c in got) != n:
		raise benchlib.Broken("pages: %d leased, want %d" % (
		    sum(len(c) for c in got), n))
	return out


def main():
	n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
	with harness.Env("bench-layout") as env:
		r = env.rb
		shas = {
		    "today": {"commit": r.script_load(script("match.lua",
		        "forget.lua", "commit.lua")), "lease":
		        r.script_load(script("gate.lua", "lease.lua"))},
		    "pages": {"plan": r.script_load(PAGES_PLAN), "lease":
		        r.script_load(PAGES_LEASE), "settle":
		        r.script_load(PAGES_SETTLE)}}
		runs = {"today": [], "pages": []}
		for _ in range(3):
			for name, fn in (("today", today), ("pages", pages)):
				seed(r, n)
				runs[name].append(fn(r, n, shas[name]))
		print("layout.py: %d people, one announcement; Redis's time in "
		    "the scripts per email, median of 3 (load %s)" % (n,
		    benchlib.loadavg()))
		for name in ("today", "pages"):
			med = [statistics.median(x[i] for x in runs[name])
			    for i in range(3)]
			print("  %-6s plan %5.1f us  lease %5.1f us  settle %5.1f "
			    "us  total %5.1f us" % (name, med[0], med[1], med[2],
			    sum(med)))


if __name__ == "__main__":
	main()

"""
test_cli.py: the coordinator's commands (SPEC sections 1, 6 and 8), run as
a coordinator runs them, against a real redis-server and SMTP sink.

- `hearback import`: spreadsheets (CSV with a byte-order mark, TSV) with
  messy values become the records they mean; every problem in a file is
  reported as FILE:ROW: COLUMN: what, then nothing is queued (exit 65);
  text that is not UTF-8 says how to save it as CSV UTF-8; ids made from
  email addresses are stable and collisions refused; --dry-run queues
  nothing; a re-import sends nothing; 100,000 rows go in one step;
- `enqueue` reports every invalid record, and warns (exit 0) when one
  address is under two ids;
- `list`, `show`, `scheduled`: what is stored, read-only;
- `cancel`, `announce`, `forget` of an unknown id.
"""

import datetime
import hashlib
import json
import re
import time
from zoneinfo import ZoneInfo

import harness

LONDON = ZoneInfo("Europe/London")
COORD = "coordinator@example.org"
LINE = re.compile(r"^(?P<file>[^:]+):(?P<row>\d+): (?P<rest>.*)$")


def derived(email):
	"""The id import makes from an address (SPEC section 8: stable)."""
	return "c-" + hashlib.sha256(email.lower().encode()).hexdigest()[:12]


def local(dt):
	return dt.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def days_ahead(days, hour=17, minute=30):
	d = datetime.datetime.now(LONDON).date() + datetime.timedelta(days=days)
	return datetime.datetime(d.year, d.month, d.day, hour, minute,
	    tzinfo=LONDON)


def stored(env, rtype, rid):
	v = env.r.get(env.key("rec:%s:%s" % (rtype, rid)))
	return json.loads(v)["record"] if v else None


def queued(env):
	"""The records on the inbox, in order."""
	return [json.loads(e["record"]) for e in env.stream("inbox")]


def settle(env):
	"""Wait until everything due now is sent: only what is due an hour
	or more ahead (reminders) is left on the schedule."""
	env.wait_for(lambda: env.r.zcount(env.key("schedule"), 0,
	    int(time.time() * 1000) + 3600 * 1000) == 0, what="all sent")


def problems(err):
	"""stderr lines of the FILE:ROW: form."""
	return [l for l in err.splitlines() if LINE.match(l)]


MEMBERS = (
    "\ufeffFirst name,Last name,Email,Phone,Consent,Format,Access needs,"
    "Groups\r\n"
    "Amara,Okafor,amara@example.org,,Yes,Easy read,\"BSL; Hearing loop\","
    "carers-forum\r\n"
    "Ben,Adeyemi,Ben@Example.org,,y,Large print,step free,"
    "\"carers-forum, youth-panel\"\r\n"
    "Cara,Lindqvist,cara@example.org,,TRUE,,,carers-forum\r\n"
    "Dee,Ahmed,dee@example.org,,no,plain text,Quiet room,\r\n"
    ",,,,,,,\r\n")


def test_import_messy_members(env):
	f = env.write_file("members.csv", MEMBERS)
	rc, out, err = env.cli("import", f)
	assert rc == 0, (rc, out, err)
	lines = out.splitlines()
	assert len(lines) == 4, out
	ids = [derived(a) for a in ("amara@example.org", "ben@example.org",
	    "cara@example.org", "dee@example.org")]
	for line, cid in zip(lines, ids):
		t, i, entry = line.split()
		assert (t, i) == ("collaborator", cid), line
		assert re.match(r"^\d+-\d+$", entry), line
	recs = queued(env)
	assert recs[0] == {"type": "collaborator", "id": ids[0],
	    "name": "Amara Okafor", "email": "amara@example.org",
	    "consent": True, "format": "easy-read",
	    "access_needs": ["bsl", "hearing-loop"],
	    "groups": ["carers-forum"]}, recs[0]
	assert recs[1]["format"] == "large-print"
	assert recs[1]["access_needs"] == ["step-free"]
	assert recs[1]["groups"] == ["carers-forum", "youth-panel"]
	assert recs[1]["email"] == "Ben@Example.org"
	assert recs[2]["consent"] is True and "format" not in recs[2]
	assert recs[3]["consent"] is False
	assert recs[3]["format"] == "plain-text"
	assert recs[3]["access_needs"] == ["quiet-room"]
	assert "groups" not in recs[3]
	# The same sheet again gets the same ids.
	rc, out2, err = env.cli("import", "--dry-run", f)
	assert rc == 0, err
	assert [l.split()[1] for l in out2.splitlines()] == ids
	assert env.inbox_len() == 4


def test_import_reports_every_problem(env):
	f = env.write_file("bad.csv",
	    "Name,Email,Consent,Format,Access needs,Groups,Shoe size\n"
	    "Amara Okafor,amara@example.org,maybe,Easy reed,wheelchair,"
	    "carers forum,5\n"
	    "Ben Adeyemi,not-an-address,yes,,BSL,,9\n"
	    "Cara Lindqvist,AMARA@example.org,yes,,hearing loops,,4\n"
	    ",dee@example.org,yes,,,,\n")
	rc, out, err = env.cli("import", f)
	assert rc == 65, (rc, out, err)
	assert out == ""
	assert err.rstrip().splitlines()[-1] == "hearback: nothing queued"
	lines = problems(err)
	text = "\n".join(lines)
	# Every line names the file and the spreadsheet's row.
	assert all(l.startswith(str(f) + ":") for l in lines), text
	def one(row, column, *needles):
		got = [l for l in lines if l.startswith("%s:%d: %s: " % (f, row,
		    column)) and all(n in l for n in needles)]
		assert got, "no %d/%s/%s in:\n%s" % (row, column, needles, text)
	one(1, "Shoe size", "--ignore")
	assert len(lines) == 1, "rows are checked once the header is mended"
	# With the column ignored, every row's problems, all at once.
	rc, out, err = env.cli("import", "--ignore", "shoe size", f)
	assert rc == 65, (rc, out, err)
	lines = problems(err)
	text = "\n".join(lines)
	one(2, "Consent", '"maybe"', "yes")
	one(2, "Format", '"Easy reed"', "did you mean easy-read?",
	    "large-print")
	one(2, "Access needs", '"wheelchair"', "did you mean step-free?",
	    "step-free, lift, accessible-toilet")
	one(2, "Groups", '"carers forum"', "no spaces")
	one(3, "Email", "not-an-address")
	one(4, "Access needs", '"hearing loops"', "did you mean hearing-loop?")
	assert any(l.startswith("%s:4: " % f) and "same email address as row 2" in l
	    for l in lines), text
	one(5, "Name", "missing")
	assert len(lines) == 8, text
	assert env.inbox_len() == 0


def test_import_not_utf8(env):
	f = env.write_file("win.csv", "Name,Email,Consent\n"
	    "Amara,amara@example.org,yes\n"
	    "Fee \u00a320 Ben,ben@example.org,yes\n".encode("cp1252"))
	rc, out, err = env.cli("import", f)
	assert rc == 65, (rc, out, err)
	assert "%s:3: " % f in err and "not UTF-8" in err, err
	assert "CSV UTF-8" in err, err
	assert "hearback: nothing queued" in err
	assert env.inbox_len() == 0


def test_import_tsv_and_columns(env):
	f = env.write_file("list.tsv", "ID\tFull Name\tE-mail address\t"
	    "consent\treminders\tNotes\n"
	    "c-amara\tAmara Okafor\tamara@example.org\t1\t7d;1d\tlikes tea\n"
	    "c-ben\tBen Adeyemi\tben@example.org\t0\t\t\n")
	rc, out, err = env.cli("import", "--ignore", "notes", f)
	assert rc == 0, (rc, out, err)
	assert [l.split()[:2] for l in out.splitlines()] == [
	    ["collaborator", "c-amara"], ["collaborator", "c-ben"]]
	r = queued(env)
	assert r[0]["reminders"] == ["7d", "1d"] and r[0]["consent"] is True
	assert r[1]["consent"] is False and "reminders" not in r[1]


def test_import_duplicate_ids_and_dry_run(env):
	f = env.write_file("dup.csv", "id,name,email,consent\n"
	    "c-a,A One,a@example.org,yes\n"
	    "c-a,A Two,b@example.org,yes\n")
	rc, out, err = env.cli("import", f)
	assert rc == 65
	assert "%s:3: id: \"c-a\" is also the id of row 2" % f in err, err
	g = env.write_file("ok.csv", "id,name,email,consent\n"
	    "c-a,A One,a@example.org,yes\n")
	rc, out, err = env.cli("import", "--dry-run", g)
	assert rc == 0, err
	assert out == "collaborator c-a ok\n"
	assert "nothing queued" in err
	assert env.inbox_len() == 0
	# Across two files too.
	rc, out, err = env.cli("import", g, g)
	assert rc == 65 and "is also the id of %s:2 (file 1)" % g in err, err


def test_import_reimport_sends_nothing(env):
	env.start_daemon()
	f = env.write_file("members.csv", MEMBERS)
	rc, out, err = env.cli("import", f)
	assert rc == 0, err
	amara = derived("amara@example.org")
	env.wait_for(lambda: stored(env, "collaborator", amara),
	    what="imported collaborator stored")
	start = days_ahead(20)
	m = {"type": "meeting", "id": "m-imp", "title": "Forum",
	    "start": local(start), "end": local(start +
	    datetime.timedelta(hours=2)), "online": {"url":
	    "https://meet.example.org/f"}, "groups": ["carers-forum"]}
	env.write_file("m.json", m)
	rc, out, err = env.cli("enqueue", "m.json")
	assert rc == 0, err
	# Amara, Ben and Cara consent and are in the group.
	env.wait_mails(3)
	settle(env)
	before = len(env.mails)
	sched = sorted(env.r.zrange(env.key("schedule"), 0, -1))
	recs = {k: env.r.get(k) for k in env.keys("rec:collaborator:*")}
	rc, out, err = env.cli("import", f)
	assert rc == 0, err
	env.wait_for(lambda: env.inbox_len() == 0 or
	    not env.r.xpending(env.key("inbox"), "hearbackd")["pending"],
	    what="inbox handled")
	# An announcement after it, to know that the daemon got that far.
	env.write_file("a.json", {"type": "announcement", "id": "a-mark",
	    "subject": "Marker", "body": "x", "to": {"collaborators":
	    [amara]}})
	assert env.cli("enqueue", "a.json").rc == 0
	env.wait_for(lambda: any(m.subject == "Marker" for m in env.mails),
	    what="marker")
	# The sink has the marker before the daemon has settled it: wait
	# until it has left the schedule too.
	settle(env)
	assert len(env.mails) == before + 1, [m.subject for m in env.mails]
	now = sorted(env.r.zrange(env.key("schedule"), 0, -1))
	assert now == sched, (now, sched)
	assert {k: env.r.get(k) for k in env.keys("rec:collaborator:*")} == \
	    recs
	assert env.dead_entries() == []


def test_import_said(env):
	start = days_ahead(10)
	env.write_file("setup.json", [
	    {"type": "collaborator", "id": "c-amara", "name": "Amara Okafor",
		"email": "amara@example.org", "consent": True},
	    {"type": "meeting", "id": "m-f", "title": "Forum",
		"start": local(start), "end": local(start +
		datetime.timedelta(hours=2)),
		"online": {"url": "https://meet.example.org/f"},
		"invitees": ["c-amara"]}])
	assert env.cli("enqueue", "setup.json").rc == 0
	f = env.write_file("said.csv", "Text,Collaborator,Topic\n"
	    "\"Letters arrive late,\nafter people are home.\",c-amara,"
	    "discharge\n"
	    "Nobody explains the new medication.,,medication\n")
	env.start_daemon()
	env.wait_for(lambda: stored(env, "meeting", "m-f"), what="meeting")
	rc, out, err = env.cli("import", "--type", "said", "--meeting", "m-f",
	    f)
	assert rc == 0, (rc, out, err)
	assert [l.split()[:2] for l in out.splitlines()] == [
	    ["said", "s-m-f-2"], ["said", "s-m-f-3"]]
	r = [env.wait_for(lambda: stored(env, "said", sid), what=sid)
	    for sid in ("s-m-f-2", "s-m-f-3")]
	assert r[0] == {"type": "said", "id": "s-m-f-2", "meeting": "m-f",
	    "text": "Letters arrive late,\nafter people are home.",
	    "collaborator": "c-amara", "topic": "discharge"}, r[0]
	assert "collaborator" not in r[1]
	# References are checked like enqueue's.
	g = env.write_file("said2.csv", "text,collaborator\nHello,c-nobody\n")
	rc, out, err = env.cli("import", "--type", "said", "--meeting", "m-f",
	    g)
	assert rc == 65, (rc, out, err)
	assert "%s:2: collaborator: " % g in err and "c-nobody" in err, err
	rc, out, err = env.cli("import", "--type", "said", "--meeting",
	    "m-none", g)
	assert rc == 65 and "m-none" in err, err
	# A column of the other type is not a said column.
	h = env.write_file("said3.csv", "text,email\nHello,a@example.org\n")
	rc, out, err = env.cli("import", "--type", "said", "--meeting", "m-f",
	    h)
	assert rc == 65 and "%s:1: email: " % h in err, err


def test_import_said_on(env):
	"""said_on (SPEC section 2), day first as UK spreadsheets show it.
	Needs the records branch's said_on field."""
	start = days_ahead(10)
	env.write_file("m.json", {"type": "meeting", "id": "m-f",
	    "title": "Forum", "start": local(start), "end": local(start +
	    datetime.timedelta(hours=2)), "online": {"url":
	    "https://meet.example.org/f"}, "invitees": ["c-a"]})
	env.write_file("c.json", {"type": "collaborator", "id": "c-a",
	    "name": "A", "email": "a@example.org", "consent": True})
	assert env.cli("enqueue", "c.json", "m.json").rc == 0
	env.start_daemon()
	env.wait_for(lambda: stored(env, "meeting", "m-f"), what="meeting")
	f = env.write_file("said.csv", "text,said on\nOne,3/11/2026\n"
	    "Two,2026-11-04\nThree,yesterday\n")
	rc, out, err = env.cli("import", "--type", "said", "--meeting", "m-f",
	    f)
	assert rc == 65
	assert problems(err) == ["%s:4: said on: \"yesterday\" is not a date: "
	    "write 2026-11-03 or 3/11/2026 (day first)" % f], err
	g = env.write_file("said2.csv", "text,said on\nOne,3/11/2026\n"
	    "Two,2026-11-04\n")
	rc, out, err = env.cli("import", "--type", "said", "--meeting", "m-f",
	    g)
	assert rc == 0, err
	assert [env.wait_for(lambda: stored(env, "said", sid), what=sid).get(
	    "said_on") for sid in ("s-m-f-2", "s-m-f-3")] == ["2026-11-03",
	    "2026-11-04"]


def test_import_phone_only(env):
	"""A person with a phone and no email (SPEC section 2): needs the
	records branch's phone."""
	f = env.write_file("p.csv", "name,email,phone,consent\n"
	    "Eve Stone,,020 7946 0123,yes\n")
	rc, out, err = env.cli("import", f)
	assert rc == 0, (rc, out, err)
	digits = "02079460123"
	cid = "c-" + hashlib.sha256(digits.encode()).hexdigest()[:12]
	assert out.split()[:2] == ["collaborator", cid], out
	assert queued(env)[0]["phone"] == "020 7946 0123"


def test_import_usage(env):
	assert env.cli("import").rc == 64
	assert env.cli("import", "--type", "venue", "x.csv").rc == 64
	assert env.cli("import", "--meeting", "m-1", "x.csv").rc == 64
	f = env.write_file("empty.csv", "")
	rc, out, err = env.cli("import", f)
	assert rc == 65 and "empty" in err, err
	f = env.write_file("q.csv", "name,email,consent\n\"Amara,a@b.org,yes\n")
	rc, out, err = env.cli("import", f)
	assert rc == 65 and "closing" in err, err
	f = env.write_file("nohead.csv", "name,email,consent,\n"
	    "A,a@example.org,yes,\nB,b@example.org,yes,x\n")
	rc, out, err = env.cli("import", f)
	assert rc == 65 and problems(err) == ["%s:3: a value in column 4, "
	    "which has no heading" % f], err
	f = env.write_file("nocols.csv", "name,email\nA,a@example.org\n")
	rc, out, err = env.cli("import", f)
	assert rc == 65 and "%s:1: no \"consent\" column" % f in err, err


def test_import_100k_rows(env):
	rows = ["First name,Last name,Email,Consent,Access needs,Groups"]
	for i in range(100000):
		rows.append("P%d,Q%d,p%d@example.org,yes,step-free;bsl,"
		    "big-group" % (i, i, i))
	f = env.write_file("big.csv", "\n".join(rows) + "\n")
	t = time.monotonic()
	rc, out, err = env.cli("import", f, timeout=180)
	took = time.monotonic() - t
	assert rc == 0, err[-2000:]
	assert len(out.splitlines()) == 100000
	assert env.inbox_len() == 100000
	# No progress line: stderr is not a terminal.
	assert "rows read" not in err, err[-500:]
	print("100,000 rows imported in %.1f s" % took)


# ---------------------------------------------------------------------------
# enqueue and validate: every invalid record; one address under two ids

def collab(cid, name, mail, **kw):
	r = {"type": "collaborator", "id": cid, "name": name, "email": mail,
	    "consent": True}
	r.update(kw)
	return r


def test_enqueue_reports_every_invalid_record(env):
	env.write_file("a.json", [collab("c-a", "A", "a@example.org"),
	    collab("c-b", "B", "b@example.org", consent="yes"),
	    collab("c-c", "C", "c@example.org"),
	    collab("c-d", "D", "d@example.org", format="huge")])
	env.write_file("b.json", collab("c-e", "E", "not an address"))
	env.write_file("c.json", {"type": "meeting", "id": "m-x",
	    "title": "T", "start": "2030-01-01T10:00", "end":
	    "2030-01-01T11:00", "online": {"url": "https://x.example.org/"},
	    "invitees": ["c-a", "c-zed", "c-yan"]})
	for cmd in ("validate", "enqueue"):
		rc, out, err = env.cli(cmd, "a.json", "b.json")
		assert rc == 65, (cmd, rc, out, err)
		lines = err.splitlines()
		assert any(l.startswith("a.json[1].consent: ") for l in lines), err
		assert any(l.startswith("a.json[3].format: ") for l in lines), err
		assert any(l.startswith("b.json: email: ") or
		    l.startswith("b.json.email: ") for l in lines), err
	assert env.inbox_len() == 0
	# References: every unknown id, not only the first.
	rc, out, err = env.cli("enqueue", "c.json")
	assert rc == 65, (rc, out, err)
	assert 'no collaborator "c-zed"' in err and \
	    'no collaborator "c-yan"' in err, err
	assert env.inbox_len() == 0


def test_enqueue_group_joined_in_the_same_files(env):
	"""A group nobody belongs to is refused (the daemon's check), unless a
	collaborator queued earlier in the same invocation joins it."""
	start = days_ahead(20)
	m = {"type": "meeting", "id": "m-panel", "title": "Panel",
	    "start": local(start), "end": local(start +
	    datetime.timedelta(hours=1)), "online": {"url":
	    "https://meet.example.org/p"}, "groups": ["new-panel"]}
	env.write_file("alone.json", m)
	rc, out, err = env.cli("enqueue", "alone.json")
	assert rc == 65, (rc, out, err)
	assert 'no collaborator belongs to group "new-panel"' in err, err
	c = dict(collab("c-new", "New Person", "new@example.org"),
	    groups=["new-panel"])
	env.write_file("both.json", [c, m])
	rc, out, err = env.cli("enqueue", "both.json")
	assert rc == 0, (rc, out, err)
	assert env.inbox_len() == 2
	# Later in the files is too late: the meeting is checked first.
	env.r.delete(env.key("inbox"))
	env.write_file("late.json", [m, dict(c, id="c-new2")])
	rc, out, err = env.cli("enqueue", "late.json")
	assert rc == 65 and "new-panel" in err, (rc, out, err)


def test_enqueue_warns_same_address_two_ids(env):
	env.write_file("two.json", [collab("c-amara", "Amara", "amara@example.org"),
	    collab("c-amara2", "Amara O", "Amara@Example.org")])
	rc, out, err = env.cli("enqueue", "two.json")
	assert rc == 0, err
	assert len(out.splitlines()) == 2
	w = [l for l in err.splitlines() if "warning" in l]
	assert len(w) == 1 and "c-amara and c-amara2" in w[0], err
	assert "amara@" not in err.lower(), "the address stays out of it"
	env.start_daemon()
	env.wait_for(lambda: stored(env, "collaborator", "c-amara2"),
	    what="stored")
	# Stored under one id, queued under another: warned too.
	env.write_file("three.json", collab("c-a3", "A", "AMARA@example.org"))
	rc, out, err = env.cli("enqueue", "three.json")
	assert rc == 0, err
	assert "c-a3 and c-amara (stored)" in err, err
	assert "c-a3 and c-amara2 (stored)" in err, err
	# The same person again under their own id: no warning.
	rc, out, err = env.cli("enqueue", "two.json")
	assert rc == 0
	assert "c-amara and c-amara2" in err	# still two ids in the file
	env.write_file("one.json", collab("c-amara", "Amara", "amara@example.org"))
	rc, out, err = env.cli("enqueue", "one.json")
	assert "c-amara and c-amara2 (stored)" in err, err
	env.write_file("other.json", collab("c-zoe", "Zoe", "zoe@example.org"))
	rc, out, err = env.cli("enqueue", "other.json")
	assert rc == 0 and "warning" not in err, err


# ---------------------------------------------------------------------------
# list, show, scheduled: what is stored, read-only

VENUE = {"type": "venue", "id": "v-hall", "name": "Riverside Hall",
    "address": "12 Wharf Road, London SE1 9PP",
    "access": {"step-free": True, "hearing-loop": False,
	"quiet-room": "Room 2"}}


def setup_world(env):
	start = days_ahead(20)
	env.write_file("world.json", [
	    collab("c-amara", "Amara Okafor", "amara@example.org",
		access_needs=["step-free", "quiet-room"], groups=["forum"],
		format="easy-read"),
	    collab("c-ben", "Ben Adeyemi", "ben@example.org",
		access_needs=["hearing-loop", "step-free"], groups=["forum"]),
	    collab("c-cara", "Cara Lindqvist", "cara@example.org",
		access_needs=["bsl"], groups=["forum", "youth"],
		communication=["bsl-video"]),
	    collab("c-dee", "Dee Ahmed", "dee@example.org", consent=False,
		groups=["forum"]),
	    VENUE,
	    {"type": "meeting", "id": "m-f", "title": "Forum",
		"start": local(start), "end": local(start +
		datetime.timedelta(hours=2)), "venue": "v-hall",
		"groups": ["forum"]}])
	rc, out, err = env.cli("enqueue", "world.json")
	assert rc == 0, err
	env.start_daemon()
	env.wait_for(lambda: stored(env, "meeting", "m-f"), what="meeting")
	env.wait_mails(3)
	# Everything due now (invitations, notices to the coordinator) sent:
	# only the reminders, days ahead, are left.
	settle(env)


def test_list_show_scheduled(env):
	# Nothing stored yet: said plainly, exit 0.
	rc, out, err = env.cli("list", "meetings")
	assert (rc, out) == (0, "no meetings stored\n"), (rc, out, err)
	setup_world(env)
	keys_before = {k: env.r.type(k) for k in env.keys()}
	version = env.r.get(env.key("version"))
	rc, out, err = env.cli("list", "collaborators")
	assert rc == 0, err
	lines = out.splitlines()
	assert lines[0].split() == ["ID", "NAME", "CONSENT", "FORMAT", "GROUPS"]
	assert [l.split()[0] for l in lines[1:]] == ["c-amara", "c-ben",
	    "c-cara", "c-dee"], out
	assert "Amara Okafor" in lines[1] and "easy-read" in lines[1]
	assert lines[4].split()[3:5] == ["no", "standard"], lines[4]
	rc, out, err = env.cli("list", "collaborators", "--json")
	assert [r["id"] for r in json.loads(out)] == ["c-amara", "c-ben",
	    "c-cara", "c-dee"]
	assert json.loads(out)[0]["access_needs"] == ["step-free", "quiet-room"]
	rc, out, err = env.cli("list", "venues")
	assert rc == 0 and "v-hall" in out and "Riverside Hall" in out, out
	rc, out, err = env.cli("list", "meetings")
	assert rc == 0 and re.search(r"^m-f\s+\S+\s+scheduled\s+v-hall\s+Forum$",
	    out, re.M), out
	rc, out, err = env.cli("list", "groups", "--json")
	assert json.loads(out) == {"forum": 4, "youth": 1}, out
	rc, out, err = env.cli("list", "groups")
	assert re.search(r"^forum\s+4$", out, re.M), out
	# show: a record; a meeting with who is invited, unmet needs first.
	rc, out, err = env.cli("show", "venue", "v-hall", "--json")
	assert json.loads(out)["record"] == VENUE
	rc, out, err = env.cli("show", "meeting", "m-f", "--json")
	assert rc == 0, err
	inv = json.loads(out)["invited"]
	assert [p["id"] for p in inv] == ["c-ben", "c-cara", "c-amara"], inv
	assert inv[0]["access_needs"] == [
	    {"need": "hearing-loop", "status": "not available"},
	    {"need": "step-free", "status": "available"}], inv[0]
	assert inv[1]["access_needs"] == [{"need": "bsl",
	    "status": "not yet confirmed"}]
	assert inv[1]["communication"] == ["bsl-video"]
	assert inv[0]["communication"] == []
	assert inv[2]["access_needs"][1] == {"need": "quiet-room",
	    "status": "available", "details": "Room 2"}
	assert inv[2]["format"] == "easy-read" and inv[2]["answer"] is None
	rc, out, err = env.cli("show", "meeting", "m-f")
	assert rc == 0 and "invited: 3" in out, out
	assert out.index("c-ben") < out.index("c-amara  Amara"), out
	assert "hearing-loop: not available" in out
	assert "besides email: a British Sign Language (BSL) video" in out, out
	# scheduled: reminders for the three, like mailq.
	rc, out, err = env.cli("scheduled")
	assert rc == 0, err
	lines = out.splitlines()
	assert lines[0].split() == ["DELIVERY", "KIND", "TO", "DUE"], out
	rows = [l.split()[:3] for l in lines[1:-1]]
	assert rows and all(r[1] == "reminder" for r in rows), out
	assert {r[2] for r in rows} == {"c-amara", "c-ben", "c-cara"}, out
	assert lines[-1] == "-- %d emails scheduled" % len(rows), out
	rc, out2, err = env.cli("scheduled", "--meeting", "m-f", "--json")
	sched = json.loads(out2)
	assert len(sched) == len(rows)
	assert all(d["mid"] == "m-f" and d["due"].endswith("Z") for d in sched)
	assert env.cli("scheduled", "--meeting", "m-nope").rc == 65
	# Unknown ids and types.
	rc, out, err = env.cli("show", "meeting", "m-nope")
	assert rc == 65 and 'no meeting "m-nope"' in err, err
	assert env.cli("show", "collaborator", "c-nope").rc == 65
	assert env.cli("show", "widget", "x").rc == 64
	assert env.cli("list", "widgets").rc == 64
	# Read-only: nothing changed.
	assert env.r.get(env.key("version")) == version
	assert {k: env.r.type(k) for k in env.keys()} == keys_before


# ---------------------------------------------------------------------------
# cancel, announce, forget

def test_cancel_unknown_and_usage(env):
	rc, out, err = env.cli("cancel", "m-nope", "--reason", "Flooded.")
	assert rc == 65 and 'no meeting "m-nope"' in err, (rc, out, err)
	assert env.inbox_len() == 0
	assert env.cli("cancel").rc == 64
	assert env.cli("cancel", "m-1", "m-2").rc == 64
	assert env.cli("cancel", "m-1", "--why", "x").rc == 64


def test_cancel_with_reason(env):
	"""Needs the records branch's "merge": true and cancel_reason."""
	setup_world(env)
	n = len(env.mails)
	rc, out, err = env.cli("cancel", "m-f", "--reason",
	    "The hall flooded. We will send a new date.")
	assert rc == 0, (rc, out, err)
	t, i, entry = out.split()
	assert (t, i) == ("meeting", "m-f") and re.match(r"^\d+-\d+$", entry)
	m = env.wait_for(lambda: (stored(env, "meeting", "m-f") or {}).get(
	    "status") == "cancelled" and stored(env, "meeting", "m-f"),
	    what="meeting cancelled")
	assert m["cancel_reason"] == "The hall flooded. We will send a new date."
	assert m["title"] == "Forum" and m["venue"] == "v-hall"
	for a in ("amara@example.org", "ben@example.org", "cara@example.org"):
		env.wait_for(lambda: [x for x in env.mails_to(a)
		    if "flooded" in x.text], what="cancellation to " + a)
	assert not env.mails_to("dee@example.org")
	rc, out, err = env.cli("scheduled", "--meeting", "m-f")
	assert out == "nothing scheduled for m-f\n", out


def test_announce(env):
	env.write_file("people.json", [
	    collab("c-amara", "Amara", "amara@example.org", groups=["forum"]),
	    collab("c-ben", "Ben", "ben@example.org", groups=["youth"]),
	    collab("c-cara", "Cara", "cara@example.org", groups=["other"])])
	assert env.cli("enqueue", "people.json").rc == 0
	env.start_daemon()
	env.wait_for(lambda: env.r.exists(env.key("group:other")),
	    what="groups stored")
	body = env.write_file("body.txt", "Help us rewrite the discharge "
	    "letter.\n\nCome on Tuesday.\n")
	rc, out, err = env.cli("announce", "--to", "forum,yuoth",
	    "--subject", "Discharge letter", body)
	assert rc == 65, (rc, out, err)
	assert 'no collaborator is in group "yuoth"' in err, err
	assert "the groups are: forum, other, youth" in err, err
	assert "nothing queued" in err and env.inbox_len() == 0
	rc, out, err = env.cli("announce", "--to", "forum, youth",
	    "--subject", "Discharge letter", body)
	assert rc == 0, err
	t, aid, entry = out.split()
	assert t == "announcement" and re.match(r"^a-[0-9a-f]{12}$", aid), out
	for a in ("amara@example.org", "ben@example.org"):
		m = env.wait_mails(1, to=a)[0]
		assert m.subject == "Discharge letter"
		assert "Come on Tuesday." in m.text
	a = stored(env, "announcement", aid)
	assert a["to"] == {"groups": ["forum", "youth"]}
	assert a["body"] == "Help us rewrite the discharge letter.\n\nCome " \
	    "on Tuesday."
	# The same announcement again: the same id, sent once.
	rc, out2, err = env.cli("announce", "--to", "forum,youth",
	    "--subject", "Discharge letter", body)
	assert rc == 0 and out2.split()[1] == aid
	# --id and --send-at, checked as records are.
	rc, out, err = env.cli("announce", "--to", "forum", "--subject", "S",
	    "--send-at", "2026-13-01T10:00", "--id", "a-x", body)
	assert rc == 65 and "send_at" in err, err
	assert not env.mails_to("cara@example.org")
	assert len(env.mails_to("amara@example.org")) == 1
	assert env.cli("announce", "--to", "forum", body).rc == 64
	assert env.cli("announce", "--subject", "S", body).rc == 64


def test_forget_unknown(env):
	rc, out, err = env.cli("forget", "c-nobody")
	assert rc == 65, (rc, out, err)
	assert 'no collaborator "c-nobody"' in err and out == "", err
	assert env.inbox_len() == 0
	env.write_file("c.json", collab("c-x", "X", "x@example.org"))
	assert env.cli("enqueue", "c.json").rc == 0
	env.start_daemon()
	env.wait_for(lambda: stored(env, "collaborator", "c-x"), what="c-x")
	rc, out, err = env.cli("forget", "c-x")
	assert rc == 0 and out.split()[:2] == ["forget", "c-x"], err
	env.wait_for(lambda: stored(env, "collaborator", "c-x") is None,
	    what="forgotten")
	assert env.cli("forget", "c-x").rc == 65


# ---------------------------------------------------------------------------
# A coordinator's day (issue 14): a spreadsheet of 40 members, a venue and
# a meeting, a move, a cancellation with a reason, a said spreadsheet about
# a meeting held before hearback knew of it, and outcomes. Every email to a
# member is accounted for. Needs the records branch (phone, merge,
# cancel_reason, meeting access, status held, said_on).

CONSENTS = ["Yes", "y", "TRUE", "1", "yes "]
FORMATS = ["", "Large print", "Easy read", "plain text", "Standard"]
FORMAT_WORDS = {"": None, "Large print": "large-print",
    "Easy read": "easy-read", "plain text": "plain-text",
    "Standard": "standard"}
NEEDS = ["", "BSL; Hearing loop", "step free", "Quiet room, Step-free", ""]


def member_rows():
	"""(row dict, email or None, consents, groups) for 40 members."""
	out = []
	for i in range(40):
		email = None if i == 5 else ("Member%d@Example.org" % i
		    if i % 3 == 0 else "member%d@example.org" % i)
		consent = "no" if i % 10 == 9 else CONSENTS[i % 5]
		groups = "youth-panel" if i % 8 == 7 else (
		    "carers-forum; youth-panel" if i % 4 == 0 else
		    "carers-forum")
		out.append({"first": "First%d" % i, "last": "Last%d" % i,
		    "email": email or "", "phone": "020 7946 %04d" % (100 + i)
		    if i % 5 == 0 else "", "consent": consent,
		    "format": FORMATS[i % 5], "needs": NEEDS[i % 5],
		    "groups": groups})
	return out


def members_csv(rows):
	lines = ["\ufeffFirst name,Last name,Email,Phone,Consent,Format,"
	    "Access needs,Groups"]
	for r in rows:
		lines.append(",".join([r["first"], r["last"], r["email"],
		    r["phone"], r["consent"], r["format"], '"%s"' % r["needs"],
		    '"%s"' % r["groups"]]))
	return "\r\n".join(lines) + "\r\n"


def test_a_coordinators_day(env):
	rows = member_rows()
	# 1. The spreadsheet, with two mistakes: both reported, nothing queued.
	bad = [dict(r) for r in rows]
	bad[1]["needs"] = "wheelchair"
	bad[8]["consent"] = "maybe"
	f = env.write_file("members.csv", members_csv(bad))
	rc, out, err = env.cli("import", f)
	assert rc == 65, (rc, out, err)
	assert problems(err) == [
	    '%s:3: Access needs: "wheelchair" is not an access word: did you '
	    'mean step-free? The words are: %s' % (f, ", ".join([
	    "step-free", "lift", "accessible-toilet", "changing-places",
	    "hearing-loop", "bsl", "captions", "quiet-room", "seating",
	    "parking", "public-transport", "assistance-dogs", "lighting",
	    "large-print", "easy-read", "non-clinical"])),
	    '%s:10: Consent: "maybe" is not yes or no (yes/no, y/n, '
	    'true/false, 1/0)' % f], err
	assert env.inbox_len() == 0
	# Mended.
	f = env.write_file("members.csv", members_csv(rows))
	rc, out, err = env.cli("import", f)
	assert rc == 0, (rc, out, err)
	assert len(out.splitlines()) == 40
	ids = [l.split()[1] for l in out.splitlines()]
	invited = {}
	for i, (r, cid) in enumerate(zip(rows, ids)):
		if r["email"]:
			assert cid == derived(r["email"])
		if r["email"] and r["consent"] != "no" and \
		    "carers-forum" in r["groups"]:
			invited[cid] = r["email"].lower()
	assert len(invited) == 31, len(invited)

	# 2. A venue and a meeting three weeks away.
	env.start_daemon()
	env.wait_for(lambda: stored(env, "collaborator", ids[39]),
	    what="members stored")
	start = days_ahead(21, 18, 0)
	end = start + datetime.timedelta(hours=2)
	env.write_file("day.json", [
	    {"type": "venue", "id": "v-hall", "name": "Riverside Hall",
		"address": "12 Wharf Road, London SE1 9PP",
		"access": {"step-free": True, "hearing-loop": False,
		"quiet-room": "Room 2 on the ground floor."}},
	    {"type": "meeting", "id": "m-day", "title": "Carers' forum",
		"start": local(start), "end": local(end), "venue": "v-hall",
		"groups": ["carers-forum"], "access": {"bsl":
		"An interpreter is booked for this meeting."},
		"organiser": {"name": "Jo Patel", "email": "jo@example.org"}}])
	rc, out, err = env.cli("enqueue", "day.json")
	assert rc == 0, (rc, out, err)
	def mail_with(msgid):
		return [m for m in env.mails
		    if str(m["Message-ID"] or "").strip() == msgid]
	for cid in invited:
		env.wait_for(lambda: mail_with("<inv/m-day/%s/0@example.org>" %
		    cid), what="invitation to " + cid)
	for cid, addr in invited.items():
		(m,) = mail_with("<inv/m-day/%s/0@example.org>" % cid)
		assert [a.lower() for a in m.rcpt_tos] == [addr]
	# Member 5 has a phone and no email: invited all the same, and on the
	# coordinator's call list (not emailed).
	phoned = ids[5]
	assert rows[5]["email"] == "" and rows[5]["phone"]
	call = env.wait_for(lambda: [m for m in env.mails
	    if str(m["Message-ID"]).startswith("<call/")], what="a call "
	    "list")[0]
	assert "First5 Last5 (%s), phone %s" % (phoned, rows[5]["phone"]) in \
	    call.text, call.text
	rc, out, err = env.cli("show", "meeting", "m-day", "--json")
	inv = json.loads(out)["invited"]
	assert sorted(p["id"] for p in inv) == sorted(list(invited) +
	    [phoned]), (sorted(p["id"] for p in inv), sorted(invited))
	# Hearing loop (not at this venue) first; BSL booked for this one.
	assert any(n == {"need": "hearing-loop", "status": "not available"}
	    for n in inv[0]["access_needs"]), inv[0]
	bsl = [n for p in inv for n in p["access_needs"] if n["need"] == "bsl"]
	assert bsl and all(n["status"] == "available" and
	    n.get("for_this_meeting") for n in bsl), bsl

	# 3. Moved a day later: one update each.
	env.write_file("move.json", {"type": "meeting", "id": "m-day",
	    "merge": True, "start": local(start + datetime.timedelta(days=1)),
	    "end": local(end + datetime.timedelta(days=1))})
	rc, out, err = env.cli("enqueue", "move.json")
	assert rc == 0, (rc, out, err)
	for cid in invited:
		env.wait_for(lambda: mail_with("<upd/m-day/%s/1@example.org>" %
		    cid), what="update to " + cid)

	# 4. Cancelled, with the reason in every cancellation.
	reason = "The hall flooded. We will send a new date soon."
	rc, out, err = env.cli("cancel", "m-day", "--reason", reason)
	assert rc == 0, (rc, out, err)
	for cid in invited:
		m = env.wait_for(lambda: mail_with("<can/m-day/%s/2@example.org>"
		    % cid), what="cancellation to " + cid)[0]
		assert reason in " ".join(m.text.split()), m.text
	rc, out, err = env.cli("scheduled", "--meeting", "m-day")
	assert out == "nothing scheduled for m-day\n", out

	# 5. What people said at September's forum, before hearback.
	sept = days_ahead(-80, 18, 0)
	env.write_file("sept.json", {"type": "meeting", "id": "m-sept",
	    "title": "September forum", "status": "held",
	    "start": local(sept), "end": local(sept +
	    datetime.timedelta(hours=2)), "venue": "v-hall",
	    "groups": ["carers-forum"]})
	rc, out, err = env.cli("enqueue", "sept.json")
	assert rc == 0, (rc, out, err)
	env.wait_for(lambda: stored(env, "meeting", "m-sept"), what="held")
	said_by = rows[0]["email"]			# Member0@Example.org
	g = env.write_file("said.csv", "Text,Collaborator,Topic,Said on\n"
	    "Discharge letters arrive after people are home.,%s,discharge,"
	    "%s\n"
	    "Nobody explains the new medication.,,medication,%s\n" % (said_by,
	    sept.strftime("%d/%m/%Y"), sept.strftime("%d/%m/%Y")))
	rc, out, err = env.cli("import", "--type", "said", "--meeting",
	    "m-sept", g)
	assert rc == 0, (rc, out, err)
	assert [l.split()[1] for l in out.splitlines()] == ["s-m-sept-2",
	    "s-m-sept-3"]
	s = env.wait_for(lambda: stored(env, "said", "s-m-sept-2"), what="said")
	assert s["collaborator"] == ids[0] and s["said_on"] == \
	    sept.strftime("%Y-%m-%d")

	# 6. Outcomes: the person who said it hears what was done.
	env.write_file("outcomes.json", [
	    {"type": "outcome", "id": "o-1", "said": ["s-m-sept-2"],
		"we_did": "Ward 3 now hands over the letter before people "
		"leave.", "status": "done"},
	    {"type": "outcome", "id": "o-2", "said": ["s-m-sept-3"],
		"we_did": "Pharmacists will explain new medicines.",
		"status": "planned"}])
	rc, out, err = env.cli("enqueue", "outcomes.json")
	assert rc == 0, (rc, out, err)
	got = env.wait_for(lambda: [m for m in env.mails_to(invited[ids[0]])
	    if "Ward 3" in m.text], what="the outcome email")
	assert len(got) == 1

	# Every member's emails: invitation, update, cancellation (and the
	# outcome for the one who spoke); nobody else got anything.
	settle(env)
	for cid, addr in invited.items():
		n = len(env.mails_to(addr))
		assert n == (4 if cid == ids[0] else 3), (cid, n,
		    [m.subject for m in env.mails_to(addr)])
	for r, cid in zip(rows, ids):
		if r["email"] and cid not in invited:
			assert env.mails_to(r["email"]) == [], cid

	# 7. The same spreadsheet again: nothing is sent.
	settle(env)
	before = len(env.mails)
	rc, out, err = env.cli("import", f)
	assert rc == 0, err
	env.write_file("mark.json", {"type": "announcement", "id": "a-mark",
	    "subject": "Marker", "body": "x", "to": {"collaborators":
	    [ids[0]]}})
	assert env.cli("enqueue", "mark.json").rc == 0
	env.wait_for(lambda: any(m.subject == "Marker" for m in env.mails),
	    what="marker")
	assert len(env.mails) == before + 1, [m.subject for m in
	    env.mails[before:]]
	assert env.dead_entries() == [], env.dead_entries()


def test_coordinator_acl_reads_and_queues(env):
	"""The coordinator's ACL of hearback.conf(5) is enough for import,
	list, show, scheduled, cancel and announce, and for nothing more."""
	import test_ops
	setup_world(env)
	env.r.execute_command(*test_ops.documented_acl("hearback-coordinator",
	    env.prefix).split())
	pw = env.write_file("coord-pw", "password-of-hearback-coordinator\n",
	    mode=0o600)
	env.write_config({"redis": {"user": "hearback-coordinator",
	    "password_file": str(pw)}})
	for args in (("list", "collaborators"), ("list", "groups"),
	    ("list", "meetings"), ("show", "meeting", "m-f"),
	    ("scheduled",), ("scheduled", "--meeting", "m-f")):
		rc, out, err = env.cli(*args)
		assert rc == 0, (args, rc, out, err)
	f = env.write_file("m.csv", "name,email,consent,groups\n"
	    "Eve Stone,eve@example.org,yes,forum\n")
	rc, out, err = env.cli("import", f)
	assert rc == 0, (rc, out, err)
	body = env.write_file("b.txt", "Hello.\n")
	rc, out, err = env.cli("announce", "--to", "forum", "--subject", "Hi",
	    body)
	assert rc == 0, (rc, out, err)
	env.wait_for(lambda: [m for m in env.mails_to("eve@example.org")
	    if m.subject == "Hi"], what="the announcement to Eve")


def test_json_syntax_says_what_to_do(env):
	env.write_file("comma.json", '[{"type": "forget", "collaborator": '
	    '"c-a"},\n]\n')
	env.write_file("curly.json", '{\u201ctype\u201d: "forget"}'.encode())
	env.write_file("win.json", '{"type": "said", "id": "s-1", "text": '
	    '"\u00a320"}'.encode("cp1252"))
	env.write_file("bom.json", "\ufeff" + json.dumps({"type": "forget",
	    "collaborator": "c-a"}))
	rc, out, err = env.cli("validate", "comma.json", "curly.json",
	    "win.json", "bom.json")
	assert rc == 65, (rc, out, err)
	lines = err.splitlines()
	# The daemon's words (record_json_load), where the comma is.
	assert lines[0] == 'comma.json: not JSON: line 1 column 43: a comma ' \
	    'before "]" with nothing after it (a trailing comma); remove ' \
	    'that comma', lines[0]
	assert "curly.json: not JSON" in lines[1] and "curly quotes" in \
	    lines[1] and "straight double quotes" in lines[1], lines[1]
	assert "win.json: not JSON" in lines[2] and "not UTF-8" in lines[2]
	assert len(lines) == 3, err
	rc, out, err = env.cli("validate", "bom.json")
	assert (rc, out) == (0, "bom.json: forget c-a ok\n"), (rc, out, err)


def test_import_shows_fifty_problems(env):
	rows = ["name,email,consent"] + ["P%d,p%d@example.org,maybe" % (i, i)
	    for i in range(60)]
	f = env.write_file("many.csv", "\n".join(rows) + "\n")
	rc, out, err = env.cli("import", f)
	assert rc == 65
	assert len(problems(err)) == 50, err
	assert "hearback: 10 more problems not shown" in err
	assert err.splitlines()[-1] == "hearback: nothing queued"

"""
test_emails.py: every kind of email to a collaborator (invitation, update,
cancellation, reminder, access update, announcement, outcome), in every
format (standard, easy read, large print, plain text), made by hearbackd
from real records (a real redis-server, the harness's SMTP sink), and read
the way a person reads it (issue 16):

- in headless Chromium (tests/integration/browser.py): no horizontal
  overflow at 320 px, and 0 axe-core violations, best-practice included;
  screenshots go to build/screenshots/emails for review;
- easy read: sentences of 15 words or fewer on average, not counting the
  coordinator's own text (titles, details, bodies, their words);
- text parts: lines of 78 characters or fewer, a URL aside;
- essentials first: when, where, the person's own needs and what to do come
  before the rest, and the access wording is the templates' (the states,
  online captions apart from captions in the room).

emails(env) makes the emails; tests/bench/emails.py uses it to print the
height down to the answer links at 390 px (a figure, not a test).
"""
import datetime
import os
import re
import time

import browser
import harness
import test_meetings as tm

KINDS = ("invitation", "update", "cancellation", "reminder", "venue-update",
    "announcement", "outcome")
FORMATS = ("standard", "easy-read", "large-print", "plain-text")

# One person per format; their own needs differ.
PEOPLE = {
	"standard": tm.collab("c-std", "Ben Adeyemi", "std@example.org",
	    fmt="standard", access_needs=["hearing-loop", "captions"]),
	"easy-read": tm.collab("c-easy", "Amara Okafor", "easy@example.org",
	    fmt="easy-read", access_needs=["step-free", "quiet-room", "lift"]),
	"large-print": tm.collab("c-large", "Cara Lindqvist",
	    "large@example.org", fmt="large-print",
	    access_needs=["step-free", "lift", "bsl"]),
	"plain-text": tm.collab("c-plain", "Dee Ahmed", "plain@example.org",
	    fmt="plain-text", access_needs=["seating"]),
}
IDS = [p["id"] for p in PEOPLE.values()]
FORMAT_OF = {p["email"]: f for f, p in PEOPLE.items()}

GUIDE = ("https://www.accessable.co.uk/venues/lyric-hammersmith-theatre/"
    "access-guides/studio-2-and-the-green-room-on-the-first-floor")
SAID = {
	"c-std": "Discharge letters arrive after people are already home.",
	"c-easy": "Nobody told me who to call when I got home.",
	"c-large": "The ward phone was never answered in the evening.",
	"c-plain": "I waited all day for my medication to be ready.",
}
WE_DID = ("Ward 3 now hands the discharge letter over before people "
    "leave, with the name and number of someone to call.")


def venue(**kw):
	v = tm.venue(access_guide_url=GUIDE)
	v["access"] = dict(v["access"], lift=True, seating=True,
	    parking=False)
	v.update(kw)
	return v


def meeting(mid, start, **kw):
	return tm.meeting(mid, start, invitees=IDS, **kw)


ARRANGED = {"bsl": "An interpreter is booked for this meeting."}


def coordinator_texts():
	"""What coordinators wrote: left out of the sentence counts."""
	v, m = venue(), meeting("m", tm.days_ahead(20))
	out = [m["title"], m["refreshments"], v["name"], v["address"],
	    v["getting_there"], v["arrival"], v["on_the_day_contact"],
	    "Hot meal at 16:30. Vegetarian and halal options.",
	    "The lift is out of order.", WE_DID, ANNOUNCEMENT["subject"],
	    "An interpreter is booked for this meeting."]
	out += m["agenda"].split("\n") + list(m["payment"].values())
	out += [str(x) for x in v["access"].values() if isinstance(x, str)]
	out += ANNOUNCEMENT["body"].split("\n\n") + list(SAID.values())
	out += [p["name"] for p in PEOPLE.values()] + ["Jo Patel"]
	return sorted(out, key=len, reverse=True)


ANNOUNCEMENT = {"type": "announcement", "id": "a-survey",
    "subject": "Help us rewrite the discharge letter",
    "body": "We are rewriting the letter people get when they leave "
	"hospital.\n\nTell us what it should say. Reply to this email.",
    "to": {"collaborators": IDS}}


def offer(env, rec, plain):
	"""Queues rec; when this build refuses it (fields another branch
	adds: a meeting's own access, access objects with "until"), queues
	plain instead. Returns whichever was stored."""
	n = len(env.dead_entries())
	key = env.key("rec:%s:%s" % (rec["type"], rec["id"]))
	before = env.r.get(key)
	env.xadd(rec)
	env.wait_for(lambda: len(env.dead_entries()) > n or
	    env.r.get(key) != before, what="%s stored or refused" % rec["id"])
	if len(env.dead_entries()) > n:
		env.xadd(plain)
		return plain
	return rec


def _kind(m):
	mid = tm.mid_of(m)
	return {"inv": "invitation", "upd": "update", "can": "cancellation",
	    "rem": "reminder", "vup": "venue-update", "ann": "announcement",
	    "out": "outcome"}.get(mid[1:4].rstrip("/"))


def emails(env):
	"""Makes one email of every kind for each person, with the answer and
	preferences links of [web] (long, unbreakable URLs: they must wrap
	on a phone too); returns {(kind, format): Mail}."""
	key = env.write_file("web.key", "emails-test-key-0123456789\n", 0o600)
	port = harness.free_port()
	env.write_config({"web": {"listen": "127.0.0.1:%d" % port,
	    "base_url": "http://127.0.0.1:%d" % port, "key_file": str(key)}})
	env.start_daemon()
	env.xadd(venue())
	for p in PEOPLE.values():
		env.xadd(p)
	got = {}

	def collect(kind, n=len(PEOPLE)):
		def ready():
			for m in env.mails:
				k = _kind(m)
				f = FORMAT_OF.get(m.rcpt_tos[0])
				if k and f and (k, f) not in got:
					got[(k, f)] = m
			return sum(1 for (k, _f) in got if k == kind) >= n
		env.wait_for(ready, what="%s emails (have %s)" % (kind,
		    sorted(got)))
		# At the sink is not yet marked sent: a change planned in
		# between would fold into the pending email, not update it.
		time.sleep(1)

	# Invitation, then an update to time and food, then an access update.
	start = tm.days_ahead(20)
	m = meeting("m-forum", start)
	arranged = offer(env, dict(m, access=ARRANGED), m) is not m
	collect("invitation")
	later = start + datetime.timedelta(hours=1)
	m = meeting("m-forum", later, refreshments="Hot meal at 16:30. "
	    "Vegetarian and halal options.")
	if arranged:
		m["access"] = ARRANGED
	env.xadd(m)
	collect("update")
	v, plain = venue(), venue()
	v["access"] = dict(v["access"], lift={"available": False,
	    "details": "The lift is out of order.",
	    "until": (start + datetime.timedelta(days=30)).strftime(
	    "%Y-%m-%d")})
	plain["access"] = dict(plain["access"],
	    lift="The lift is out of order.")
	env.temporary = offer(env, v, plain) is v
	collect("venue-update")

	# A meeting an hour away: its reminder (clock moved), then cancelled.
	soon = env.soon = tm.seconds_ahead(3600)
	env.xadd(meeting("m-soon", soon, reminders=["59m"]))
	# Planned before the clock moves (a lead already past is not sent).
	env.wait_for(lambda: env.r.exists(env.key("rec:meeting:m-soon")),
	    what="m-soon stored")
	time.sleep(1)
	env.advance(90)
	collect("reminder")
	env.xadd(dict(meeting("m-soon", soon, reminders=["59m"]),
	    status="cancelled"))
	collect("cancellation")

	env.xadd(ANNOUNCEMENT)
	collect("announcement")
	for cid, text in SAID.items():
		env.xadd({"type": "said", "id": "s-" + cid, "collaborator": cid,
		    "meeting": "m-forum", "text": text, "topic": "leaving hospital"})
	env.xadd({"type": "outcome", "id": "o-1", "said": ["s-" + c for c in
	    SAID], "we_did": WE_DID, "status": "done"})
	collect("outcome")
	return got


# ---------------------------------------------------------------------------
# Measures

URL = re.compile(r"(https?://|mailto:)\S+")


def long_lines(text, limit=78):
	"""Lines over the limit that are not just long because of a URL."""
	out = []
	for ln in text.split("\n"):
		if len(ln) <= limit:
			continue
		if len(URL.sub("", ln).rstrip()) <= limit and URL.search(ln):
			continue
		out.append(ln)
	return out


def sentence_words(text, skip):
	"""Words a sentence in text (its wrapping undone: a line is what the
	template wrote), leaving out the coordinators' texts, URLs, the
	signature and headings' underlines."""
	body = tm.unwrap(text).split("\n-- \n")[0]
	for s in skip:
		body = body.replace(s, " ")
	body = URL.sub(" ", body)
	counts = []
	for ln in body.split("\n"):
		if re.fullmatch(r"[-=\s]*", ln):
			continue
		for s in re.split(r"(?<=[.?!:])\s+", ln):
			w = [x for x in re.split(r"\s+", s) if re.search(r"\w", x)]
			if w:
				counts.append(len(w))
	return counts


def write_pages(got, d):
	pages = []
	for (k, f), m in sorted(got.items()):
		with open(os.path.join(d, "%s-%s.txt" % (k, f)), "w") as fh:
			fh.write("Subject: %s\n\n%s" % (m.subject, m.text))
		if m.html is None:
			continue
		path = os.path.join(d, "%s-%s.html" % (k, f))
		with open(path, "w") as fh:
			fh.write(m.html)
		pages.append({"name": "%s-%s" % (k, f), "file": path,
		    "until": "#answer", "widths": [320, 390]})
	return pages


# ---------------------------------------------------------------------------
# The test

def test_every_kind_every_format(env):
	got = emails(env)
	assert sorted(got) == sorted((k, f) for k in KINDS for f in FORMATS), \
	    sorted(got)
	shots = browser.shots_dir("emails")
	pages = write_pages(got, shots)
	problems = []
	skip = coordinator_texts()
	for (k, f), m in sorted(got.items()):
		name = "%s-%s" % (k, f)
		t = m.text
		for ln in long_lines(t):
			problems.append("%s: text line of %d: %r" % (name, len(ln),
			    ln))
		if f == "plain-text":
			assert m.html is None, name
		else:
			h = m.html
			assert "<main>" in h and "</main>" in h, name
			assert "<footer" in h, name
			if k in ("invitation", "update", "reminder"):
				assert 'id="answer"' in h, name
				assert "<ol>" in h, name + ": a numbered agenda is an <ol>"
				assert 'href="tel:02079460002"' in h, name
		if f == "easy-read":
			c = sentence_words(t, skip)
			avg = sum(c) / len(c)
			if avg > 15:
				problems.append("%s: %.1f words a sentence" % (name,
				    avg))
		# Why you get this, and how to change or stop: every email.
		assert "You get this email because" in t, name
		assert "reply to this email" in t.lower(), name
		if k in ("invitation", "update", "reminder"):
			# Essentials first: the person's needs and what to do
			# come before the agenda and the money.
			need = t.index("What you need" if f == "easy-read" else
			    "Your access needs")
			act = t.index("Can you")
			assert need < act < t.index("\nWhat we will talk about\n-"), \
			    name
			assert act < t.index("\nFood and drink\n-"), name
			assert "Live captions will be on" not in t, name
			assert "in 59 minutes" not in t and " minutes." not in t, name
	# The update names the food change, the access update the lift, in
	# the templates' words (not "available: ..." made in C).
	for f in FORMATS:
		u = tm.unwrap(got[("update", f)].text)
		assert "Hot meal at 16:30" in u and "Food and drink" in u, u
		a = tm.unwrap(got[("venue-update", f)].text)
		assert "The lift is out of order." in a, a
		assert "Before: available" not in a, a
		o = got[("outcome", f)]
		assert "leaving hospital" in o.subject, o.subject
		assert SAID[PEOPLE[f]["id"]] in o.text, o.text
		for cid, words in SAID.items():
			if cid != PEOPLE[f]["id"]:
				assert words not in o.text, (f, words)
		# The reminder: the day and the time, never "in N minutes".
		r = " ".join(got[("reminder", f)].text.split())
		assert tm.date_words(env.soon) in r, r
		assert tm.time_words(env.soon) in r, r
		assert not re.search(r"\bin \d+ (minutes|hours|days)\b", r), r
	# The calendar entry's description comes from the templates too
	# (_calendar): the same access words, the person's own needs.
	for f in FORMATS:
		cal = tm.ical(got[("invitation", f)].calendar)
		desc = cal["VEVENT"]["DESCRIPTION"][1].replace("\\n", "\n") \
		    .replace("\\,", ",").replace("\\;", ";")
		assert "How to get in: Use the main glass doors." in desc, desc
		assert "available:" not in desc, desc
		if f == "standard":
			assert "Hearing loop: Yes." in desc, desc
			assert "Captions in the room: Not yet confirmed." in desc
		if f == "easy-read":
			assert "Quiet room: Yes, it is there." in desc, desc
	if env.temporary:
		assert "Not available until" in tm.unwrap(got[("venue-update",
		    "standard")].text)
	assert not problems, "\n".join(problems)

	results = browser.check(pages, shots=shots)
	bad = browser.problems(results, widths=(320,))
	assert not bad, "\n".join(bad)

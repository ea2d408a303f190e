"""
test_inbound.py: [inbound] address and `hearback inbound` (SPEC section 9,
issue 15), against a real redis-server and SMTP server.

The envelope sender and the calendar ORGANIZER of what the daemon sends
are the inbound address; a calendar REPLY piped to `hearback inbound`
becomes the person's answer, only for their own invitation; a delivery
status notification in the form Postfix writes (its bounce(8) daemon:
multipart/report with a "Notification" part, a message/delivery-status
part and the returned message) marks the address as bouncing.
"""

import datetime
import os

import harness
import postfix
from test_meetings import (AMARA, BEN, COORD, days_ahead, ical, meeting,
    venue, wait_mid)

INBOUND = "hearback-replies@example.org"


def reply(uid, sender, attendee, partstat, seq=0):
	"""A calendar REPLY as Thunderbird/Outlook send it (RFC 6047)."""
	cal = ("BEGIN:VCALENDAR\r\nPRODID:-//Test//Reply//EN\r\nVERSION:2.0\r\n"
	    "METHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:%s\r\nSEQUENCE:%d\r\n"
	    "DTSTAMP:20261207T051000Z\r\n"
	    "ORGANIZER;CN=Jo Patel:mailto:%s\r\n"
	    "ATTENDEE;PARTSTAT=%s;CN=Someone:mailto:%s\r\n"
	    "END:VEVENT\r\nEND:VCALENDAR\r\n" % (uid, seq, INBOUND, partstat,
	    attendee))
	return ("From: Someone <%s>\r\nTo: %s\r\nSubject: Accepted: the forum\r\n"
	    "Date: Mon, 7 Dec 2026 05:10:00 +0000\r\n"
	    "Message-ID: <reply-%s-%s@mail.example.net>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
	    "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
	    "Someone has %s.\r\n\r\n"
	    "--b1\r\nContent-Type: text/calendar; charset=utf-8; method=REPLY\r\n"
	    "\r\n%s\r\n--b1--\r\n" % (sender, INBOUND, partstat.lower(),
	    attendee.split("@")[0], partstat.lower(), cal))


def postfix_dsn(rcpt, original):
	"""A bounce exactly as Postfix 3.7's bounce(8) writes it."""
	b = "4B2F81C0A3F.1796620200/mail.example.org"
	return ("Return-Path: <>\r\n"
	    "X-Original-To: %(inb)s\r\nDelivered-To: %(inb)s\r\n"
	    "Received: by mail.example.org (Postfix)\r\n"
	    "\tid 4B2F81C0A3F; Mon,  7 Dec 2026 05:10:00 +0000 (UTC)\r\n"
	    "Date: Mon,  7 Dec 2026 05:10:00 +0000 (UTC)\r\n"
	    "From: MAILER-DAEMON@mail.example.org (Mail Delivery System)\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "To: %(inb)s\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%(b)s\"\r\nContent-Transfer-Encoding: 8bit\r\n"
	    "Message-Id: <20261207051000.4B2F81C0A4A@mail.example.org>\r\n\r\n"
	    "This is a MIME-encapsulated message.\r\n\r\n"
	    "--%(b)s\r\nContent-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "This is the mail system at host mail.example.org.\r\n\r\n"
	    "I'm sorry to have to inform you that your message could not\r\n"
	    "be delivered to one or more recipients. It's attached below.\r\n\r\n"
	    "For further assistance, please send mail to postmaster.\r\n\r\n"
	    "If you do so, please include this problem report. You can\r\n"
	    "delete your own text from the attached returned message.\r\n\r\n"
	    "                   The mail system\r\n\r\n"
	    "<%(rcpt)s>: host mx.example.org[192.0.2.25] said: 550 5.1.1\r\n"
	    "    <%(rcpt)s>: Recipient address rejected: User unknown in\r\n"
	    "    virtual mailbox table (in reply to RCPT TO command)\r\n\r\n"
	    "--%(b)s\r\nContent-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mail.example.org\r\n"
	    "X-Postfix-Queue-ID: 4B2F81C0A3F\r\n"
	    "X-Postfix-Sender: rfc822; %(inb)s\r\n"
	    "Arrival-Date: Mon,  7 Dec 2026 05:09:58 +0000 (UTC)\r\n\r\n"
	    "Final-Recipient: rfc822; %(rcpt)s\r\n"
	    "Original-Recipient: rfc822;%(rcpt)s\r\n"
	    "Action: failed\r\nStatus: 5.1.1\r\n"
	    "Remote-MTA: dns; mx.example.org\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <%(rcpt)s>: Recipient address\r\n"
	    "    rejected: User unknown in virtual mailbox table\r\n\r\n"
	    "--%(b)s\r\nContent-Description: Undelivered Message\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "%(orig)s\r\n--%(b)s--\r\n" % {"inb": INBOUND, "b": b,
	    "rcpt": rcpt, "orig": original})


def answer_of(env, mid, cid):
	return env.r.hget(env.key("ans:" + mid), cid)


@harness.env_options(config={"inbound": {"address": INBOUND}})
def test_inbound(env):
	env.start_daemon()
	env.xadd(venue())
	env.xadd(AMARA)
	env.xadd(BEN)
	far = days_ahead(20)
	env.xadd(meeting("m-in", far))
	inv = wait_mid(env, "<inv/m-in/c-amara/0@example.org>")
	inv_b = wait_mid(env, "<inv/m-in/c-ben/0@example.org>")

	# The envelope sender and ORGANIZER are the inbound address; the
	# organiser's name stays; RSVP=TRUE; Reply-To stays the organiser.
	assert inv.mail_from == INBOUND, inv.mail_from
	cal = ical(inv.calendar)
	params, value = cal["VEVENT"]["ORGANIZER"]
	assert value.lower() == "mailto:" + INBOUND, value
	assert params.get("CN") == "Jo Patel", params
	params, value = cal["VEVENT"]["ATTENDEE"]
	assert params.get("RSVP") == "TRUE", params
	assert "jo@example.org" in str(inv["Reply-To"])
	uid = cal["VEVENT"]["UID"][1]

	# Amara declines in her calendar: her answer; the organiser is told.
	r = env.cli("inbound", input=reply(uid, "amara@example.org",
	    "amara@example.org", "DECLINED"))
	assert r.rc == 0, r
	assert '"a":"no"' in answer_of(env, "m-in", "c-amara")
	assert '"via":"calendar"' in answer_of(env, "m-in", "c-amara")
	n = env.wait_mails(1, to="jo@example.org")[0]
	assert "c-amara" in n.text and "cannot come" in n.text, n.text
	# The same again changes nothing and tells no one again.
	assert env.cli("inbound", input=reply(uid, "amara@example.org",
	    "amara@example.org", "DECLINED")).rc == 0
	assert len([e for e in env.audit_entries()
	    if e.get("event") == "answered"]) == 1

	# On someone else's behalf: ignored (RFC 6047).
	r = env.cli("inbound", input=reply(uid, "ben@example.org",
	    "amara@example.org", "ACCEPTED"))
	assert r.rc == 0, r
	assert '"a":"no"' in answer_of(env, "m-in", "c-amara")
	# Someone the meeting does not invite: ignored.
	r = env.cli("inbound", input=reply(uid, "zed@example.org",
	    "zed@example.org", "ACCEPTED"))
	assert r.rc == 0 and env.r.hlen(env.key("ans:m-in")) == 1, r
	# Another domain's UID: ignored.
	r = env.cli("inbound", input=reply("m-in@elsewhere.example",
	    "ben@example.org", "ben@example.org", "ACCEPTED"))
	assert r.rc == 0 and answer_of(env, "m-in", "c-ben") is None
	# Ben accepts tentatively: his answer.
	r = env.cli("inbound", input=reply(uid, "Ben@Example.org",
	    "ben@example.org", "TENTATIVE"))
	assert r.rc == 0, r
	assert '"a":"maybe"' in answer_of(env, "m-in", "c-ben")

	# A Postfix bounce for Ben, carrying our invitation back: his address
	# bounces, the coordinator is told, and the invitation inside is not
	# taken for an answer.
	orig = inv_b.raw.decode().replace("\r\n", "\r\n")
	r = env.cli("inbound", input=postfix_dsn("ben@example.org", orig))
	assert r.rc == 0, r
	assert env.r.hget(env.key("pref:c-ben"), "bouncing") == \
	    "ben@example.org"
	assert '"a":"maybe"' in answer_of(env, "m-in", "c-ben")
	env.wait_for(lambda: [m for m in env.mails_to(COORD)
	    if "c-ben cannot be delivered" in (m.text or "").replace("\n",
	    " ")], what="the bounce notice")
	assert env.r.hget(env.key("stats"), "bounce") == "1"
	# Again: no second notice.
	assert env.cli("inbound", input=postfix_dsn("ben@example.org",
	    orig)).rc == 0
	assert env.r.hget(env.key("stats"), "bounce") == "1"
	env.wait_for(lambda: "hearback_bounces_total 1" in
	    env.http_get("/metrics")[1], what="the bounce metric")

	# The meeting moves: no email to the bouncing address.
	env.xadd(meeting("m-in", far + datetime.timedelta(hours=1)))
	wait_mid(env, "<upd/m-in/c-amara/1@example.org>")
	# The update asks again: Amara's answer is flagged as from before.
	assert '"stale":true' in answer_of(env, "m-in", "c-amara")
	r = env.cli("inbound", input=reply(uid, "amara@example.org",
	    "amara@example.org", "DECLINED", seq=1))
	assert r.rc == 0, r
	assert '"stale"' not in answer_of(env, "m-in", "c-amara")
	assert '"a":"no"' in answer_of(env, "m-in", "c-amara")
	env.wait_for(lambda: env.r.hget(env.key("d:upd:m-in:c-ben:1"),
	    "state") == "suppressed", what="Ben's update suppressed")
	# His record gives a new address: email goes to it again.
	env.xadd(dict(BEN, email="ben.a@example.org"))
	env.xadd(meeting("m-in", far + datetime.timedelta(hours=2)))
	m = wait_mid(env, "<upd/m-in/c-ben/2@example.org>")
	assert m.rcpt_tos == ["ben.a@example.org"]

	# Anything else: exit 0, nothing changed; not a message: 65.
	before = env.r.hgetall(env.key("stats"))
	r = env.cli("inbound", input="From: x@example.net\r\nSubject: hi\r\n"
	    "\r\nJust saying hello.\r\n")
	assert r.rc == 0, r
	assert env.r.hgetall(env.key("stats")) == before
	assert env.cli("inbound", input="").rc == 65
	assert env.cli("inbound", input="\x00\x01garbage").rc == 65
	assert env.cli("inbound", "extra").rc == 64


def test_inbound_redis_down(env):
	"""Redis away: exit 75, so that the MTA keeps the message."""
	env.stop_redis()
	r = env.cli("inbound", input=reply("m-x@example.org",
	    "amara@example.org", "amara@example.org", "ACCEPTED"))
	assert r.rc == 75, r
	assert "Redis" in r.err, r
	# A message with nothing for us needs no Redis: 0.
	r = env.cli("inbound", input="From: x@example.net\r\nSubject: hi\r\n"
	    "\r\nHello.\r\n")
	assert r.rc == 0, r


class BouncingPostfix(postfix.Postfix):
	"""A private Postfix that relays one domain to the test's SMTP sink
	(which refuses Ben: Postfix has accepted the message by then, so its
	bounce(8) writes a real DSN) and hands mail for the inbound address
	to a pipe that keeps it in a file."""

	def __init__(self, spool, **kw):
		self.spool = spool
		super().__init__(**kw)

	def _master_cf(self):
		return super()._master_cf() + (
		    "smtp               unix       -   -   n   -     -   smtp\n"
		    "keep               unix       -   n   n   -     1   pipe\n"
		    "  flags=q user=nobody argv=/bin/sh -c "
		    "{ cat > %s/$$.eml }\n" % self.spool)


def test_postfix_bounce(env):
	"""A real Postfix bounce: hearbackd sends through Postfix with the
	inbound address as envelope sender; Postfix cannot deliver to Ben and
	returns a DSN to that address; piped to `hearback inbound`, it marks
	Ben's address as bouncing."""
	spool = env.tmp / "spool"
	spool.mkdir()
	os.chmod(env.tmp, os.stat(env.tmp).st_mode | 0o111)
	os.chmod(spool, 0o777)
	env.smtp.reject("ben@bounce.example.org")
	maps = ("inline:{ bounce.example.org=smtp:[127.0.0.1]:%d, %s=keep: }"
	    % (env.smtp.port, INBOUND))
	with BouncingPostfix(spool, tls=False, parent=env.tmp,
	    main={"transport_maps": maps}) as pf:
		env.write_config(pf.smtp_config())
		env.write_config({"inbound": {"address": INBOUND}})
		env.start_daemon()
		env.xadd(venue())
		env.xadd(AMARA)
		env.xadd(dict(BEN, email="ben@bounce.example.org"))
		env.xadd(meeting("m-pf", days_ahead(20)))

		def bounced():
			return [p for p in spool.glob("*.eml")
			    if p.stat().st_size > 0 and
			    p.read_bytes().rstrip().endswith(b"--")]
		files = env.wait_for(bounced, what="Postfix's bounce (log: %s)"
		    % pf.log_tail())
		raw = files[0].read_bytes()
		assert b"report-type=delivery-status" in raw, raw[:2000]
		assert b"Final-Recipient: rfc822; ben@bounce.example.org" in raw
		r = env.cli("inbound", input=raw)
		assert r.rc == 0, r
		assert env.r.hget(env.key("pref:c-ben"), "bouncing") == \
		    "ben@bounce.example.org"
		assert env.r.hget(env.key("stats"), "bounce") == "1"
		assert not env.r.exists(env.key("pref:c-amara"))

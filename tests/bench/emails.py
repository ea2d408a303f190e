#!/usr/bin/python3
"""
emails.py: how far a person scrolls on a phone before they can act (issue
16): every kind of email in every HTML format, made by hearbackd from the
records of tests/integration/test_emails.py (a real redis-server and the
harness's SMTP sink), opened in headless Chromium at 390 px wide; prints
the height in px down to the end of the "what to do" part (#answer: the
answer links, or how to answer) and the whole height, and the widest
overflow at 320 px and the axe-core findings as a check.

    HB_BUILD=build /usr/bin/python3 tests/bench/emails.py

A figure, not a test: the target is about 1,600 px for easy read and large
print. It exits 1 only when it cannot make or measure the emails.
Screenshots and the pages go to build/screenshots/emails-bench.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import browser			# noqa: E402
import harness			# noqa: E402
import test_emails		# noqa: E402

TARGET = 1600


def main():
	with harness.Env(name="bench-emails") as env:
		got = test_emails.emails(env)
	shots = browser.shots_dir("emails-bench")
	pages = test_emails.write_pages(got, shots)
	res = browser.check(pages, shots=shots)
	print("emails: height at 390 px down to the answer (#answer), and in "
	    "all; target %d px for easy read and large print" % TARGET)
	print("%-28s %10s %10s %9s %5s" % ("email", "to answer", "whole",
	    "over@320", "axe"))
	for name in sorted(res):
		r = res[name]
		until = r.get("height_until")
		print("%-28s %10s %10d %9d %5d" % (name, "-" if until is None else
		    "%d" % until, r["height"].get("390", 0),
		    r["overflow"].get("320", 0), len(r["violations"])))
	return 0


if __name__ == "__main__":
	sys.exit(main())

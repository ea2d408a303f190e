#!/usr/bin/python3
"""
run.py: the integration test runner (stdlib only, plus what harness.py uses).

    /usr/bin/python3 tests/integration/run.py            all but faults
    /usr/bin/python3 tests/integration/run.py faults     test_faults*.py only
    /usr/bin/python3 tests/integration/run.py WORD...    tests whose
                                                         "module.name" holds
                                                         one of the words

Every function named test_* in tests/integration/test_*.py runs in file
order. One that takes a parameter `env` gets a fresh harness.Env (options
from @harness.env_options). Prints "PASS name (1.2s)" or "FAIL name" with the
traceback and the daemon's log tail, and ends with "N passed, M failed".
Exit status 1 if any test failed (or none ran because none matched).

HB_TEST_TIMEOUT (seconds, default 240) bounds one test.
"""

import importlib.util
import inspect
import os
import signal
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


class TestTimeout(AssertionError):
	pass


def _on_alarm(signum, frame):
	raise TestTimeout("test took longer than %ss (HB_TEST_TIMEOUT)" %
	    os.environ.get("HB_TEST_TIMEOUT", "240"))


def _on_term(signum, frame):
	# Unwind through every finally, so all processes are stopped.
	raise SystemExit(128 + signum)


def discover(args):
	faults = "faults" in args
	words = [a for a in args if a != "faults"]
	files = sorted(HERE.glob("test_*.py"))
	if faults:
		files = [f for f in files if f.name.startswith("test_faults")]
	elif not words:
		files = [f for f in files if not f.name.startswith("test_faults")]
	tests = []
	for f in files:
		spec = importlib.util.spec_from_file_location(f.stem, f)
		mod = importlib.util.module_from_spec(spec)
		sys.modules[f.stem] = mod
		spec.loader.exec_module(mod)
		fns = [(n, fn) for n, fn in vars(mod).items()
		    if n.startswith("test_") and inspect.isfunction(fn) and
		    fn.__module__ == mod.__name__]
		fns.sort(key=lambda t: t[1].__code__.co_firstlineno)
		for n, fn in fns:
			full = "%s.%s" % (f.stem, n)
			if words and not any(w in full for w in words):
				continue
			tests.append((full, fn))
	return tests


def run_one(name, fn):
	"""Returns (ok, seconds, report)."""
	params = inspect.signature(fn).parameters
	opts = getattr(fn, "env_options", {})
	t0 = time.monotonic()
	env = None
	report = ""
	try:
		signal.alarm(int(os.environ.get("HB_TEST_TIMEOUT", "240")))
		try:
			if "env" in params:
				env = harness.Env(name=name, **opts)
				try:
					fn(env)
				except BaseException:
					env.close(failed=True)
					raise
				env.close()
			else:
				fn()
		finally:
			signal.alarm(0)
		return True, time.monotonic() - t0, ""
	except (KeyboardInterrupt, SystemExit):
		raise
	except BaseException:
		report = traceback.format_exc()
		if env is not None:
			t = env.daemon_tail(80)
			if t:
				report += "\n--- hearbackd log tail (%s):\n%s\n" % (
				    env.daemon_log, t)
			report += "--- files kept in %s\n" % env.tmp
		return False, time.monotonic() - t0, report


def main(argv):
	signal.signal(signal.SIGALRM, _on_alarm)
	signal.signal(signal.SIGTERM, _on_term)
	tests = discover(argv)
	passed = failed = 0
	failed_names = []
	for name, fn in tests:
		print("RUN  %s" % name, flush=True)
		ok, secs, report = run_one(name, fn)
		if ok:
			passed += 1
			print("PASS %s (%.1fs)" % (name, secs), flush=True)
		else:
			failed += 1
			failed_names.append(name)
			print("FAIL %s (%.1fs)" % (name, secs), flush=True)
			print(report, flush=True)
	if not tests:
		print("no tests matched %s" % (" ".join(argv) or "(all)"))
	# Named again at the end, where a log that keeps only its tail shows it.
	for name in failed_names:
		print("failed: %s" % name)
	print("%d passed, %d failed" % (passed, failed), flush=True)
	return 0 if failed == 0 and tests else 1


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))

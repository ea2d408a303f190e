"""browser.py: what a person reads, checked in Debian's chromium.

check(pages, shots=None) runs tests/browser/check.js (puppeteer-core and
axe-core, from tests/browser's lock file; `./hb deps test` installs them)
on pages given as {"name": N, "url": U} or {"name": N, "file": PATH}, and
returns its findings: per page the axe-core violations, the horizontal
overflow and height in px at each width, and the height down to the
"until" selector at 390 px. See check.js for the details.

shots_dir(name) is where a test writes its screenshots for review
(build/screenshots/NAME, or $HB_SHOTS/NAME).

email_problems(name, mail) checks one email as a person reads it: its HTML
in chromium at 320 and 390 px, and its text part's lines (78 characters at
most, a URL aside); both parts are kept in build/screenshots/emails.
"""
import json
import os
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "tests", "browser", "check.js")
MODULES = os.path.join(ROOT, "tests", "browser", "node_modules")


def shots_dir(name):
    base = os.environ.get("HB_SHOTS") or os.path.join(
        os.environ.get("HB_BUILD", os.path.join(ROOT, "build")),
        "screenshots")
    d = os.path.join(base, name)
    os.makedirs(d, exist_ok=True)
    return d


def check(pages, shots=None, tags=None, timeout=300):
    if not os.path.isdir(os.path.join(MODULES, "puppeteer-core")):
        raise RuntimeError("tests/browser has no node_modules: "
                           "run ./hb deps test")
    if shutil.which("node") is None:
        raise RuntimeError("node not found: run ./hb deps test")
    with tempfile.NamedTemporaryFile("w", suffix=".json",
                                     delete=False) as f:
        json.dump({"pages": pages, "shots": shots, "tags": tags}, f)
        spec = f.name
    try:
        p = subprocess.run(["node", CHECK, spec], capture_output=True,
                           text=True, timeout=timeout)
    finally:
        os.unlink(spec)
    if p.returncode != 0:
        raise RuntimeError("check.js failed (%d): %s" %
                           (p.returncode, p.stderr.strip()[-2000:]))
    return {r["name"]: r for r in json.loads(p.stdout)["pages"]}


def problems(results, widths=(320,)):
    """Lines saying what is wrong: axe violations, overflow at widths."""
    out = []
    for name, r in sorted(results.items()):
        for v in r["violations"]:
            out.append("%s: axe %s (%s): %s: %s" % (
                name, v["id"], v["impact"], v["help"],
                " | ".join(v["nodes"][:3])))
        for w in widths:
            o = r["overflow"].get(str(w), 0)
            if o:
                out.append("%s: %d px wider than a %d px screen"
                           % (name, o, w))
    return out


def email_problems(name, mail):
    """What is wrong with one email (harness mail: subject, text, html)
    as a person reads it; [] when nothing is."""
    d = shots_dir("emails")
    path = os.path.join(d, name + ".html")
    with open(path, "w") as fh:
        fh.write(mail.html)
    with open(os.path.join(d, name + ".txt"), "w") as fh:
        fh.write("Subject: %s\n\n%s" % (mail.subject, mail.text))
    out = problems(check([{"name": name, "file": path,
                           "widths": [320, 390]}], shots=d),
                   widths=(320, 390))
    out += ["%s: text line of %d: %r" % (name, len(ln), ln)
            for ln in mail.text.splitlines()
            if len(ln) > 78 and "://" not in ln]
    return out

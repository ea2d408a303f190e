#!/usr/bin/env node
/*
 * check.js: what a person reads, checked in a real browser (Debian's
 * chromium, driven by puppeteer-core), for the integration tests.
 *
 *   node tests/browser/check.js SPEC.json
 *
 * SPEC is {"pages": [PAGE...], "shots": DIR or null, "tags": [...] or null}
 * and each PAGE is {"name": N, "url": U} or {"name": N, "file": PATH}, with
 * optional "widths" (default [320, 390, 1024]) and "until" (a CSS selector:
 * the page's height in px at 390 px wide down to the bottom of the first
 * element it matches is reported as "height_until").
 *
 * Prints one JSON object on stdout: {"pages": [{"name", "violations":
 * [{id, impact, help, nodes: [html...]}], "overflow": {width: px}, "height":
 * {width: px}, "height_until": px or null, "status": HTTP status or null}]}.
 * "overflow" is how far the page is wider than the window (0 when nothing
 * overflows). A page is checked with axe-core against wcag2a, wcag2aa,
 * wcag21aa, wcag22aa and best-practice unless SPEC names other tags.
 * Screenshots go to SPEC.shots as NAME-WIDTH.png, full page.
 *
 * JavaScript on the page is disabled while it is measured (people read
 * these pages and emails without it); axe-core, which needs JavaScript,
 * then runs on a second load of the same page.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.HB_CHROMIUM ||
    (fs.existsSync('/usr/lib/chromium/chromium') ?
	'/usr/lib/chromium/chromium' : '/usr/bin/chromium');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa', 'best-practice'];

async function measure(page, width, until) {
	await page.setViewport({ width, height: 800 });
	return page.evaluate((sel) => {
		const d = document.documentElement;
		let u = null;
		if (sel) {
			const el = document.querySelector(sel);
			if (el)
				u = Math.ceil(el.getBoundingClientRect().bottom +
				    window.scrollY);
		}
		return {
			overflow: Math.max(0, d.scrollWidth - d.clientWidth),
			height: d.scrollHeight,
			until: u,
		};
	}, until || null);
}

async function checkPage(browser, spec, p) {
	const page = await browser.newPage();
	/* axe-core goes in as a script: a page's Content-Security-Policy
	 * (hearbackd's pages send one) must not keep it out. */
	await page.setBypassCSP(true);
	const out = { name: p.name, violations: [], overflow: {}, height: {},
	    height_until: null, status: null };
	try {
		await page.setJavaScriptEnabled(false);
		const url = p.url || 'file://' + path.resolve(p.file);
		const resp = await page.goto(url, { waitUntil: 'load' });
		out.status = resp ? resp.status() : null;
		for (const w of p.widths || [320, 390, 1024]) {
			const m = await measure(page, w, p.until);
			out.overflow[w] = m.overflow;
			out.height[w] = m.height;
			if (w === 390)
				out.height_until = m.until;
			if (spec.shots)
				await page.screenshot({ fullPage: true,
				    path: path.join(spec.shots,
				    `${p.name}-${w}.png`) });
		}
		/* axe-core needs the page's timers: turn JavaScript on and
		 * load the same page again for it. */
		await page.setJavaScriptEnabled(true);
		await page.setViewport({ width: 1024, height: 800 });
		await page.goto(url, { waitUntil: 'load' });
		await page.addScriptTag({ content: AXE });
		const res = await page.evaluate(async (tags) => {
			/* global axe */
			const r = await axe.run(document, {
			    runOnly: { type: 'tag', values: tags } });
			return r.violations.map((v) => ({ id: v.id,
			    impact: v.impact, help: v.help,
			    nodes: v.nodes.map((n) => n.html.slice(0, 200)) }));
		}, spec.tags || TAGS);
		out.violations = res;
	} finally {
		await page.close();
	}
	return out;
}

async function main() {
	if (process.argv.length !== 3) {
		process.stderr.write('usage: check.js SPEC.json\n');
		process.exit(64);
	}
	const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
	if (spec.shots)
		fs.mkdirSync(spec.shots, { recursive: true });
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-chromium-'));
	const browser = await puppeteer.launch({
		executablePath: CHROMIUM,
		headless: true,
		userDataDir: profile,
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
		    '--no-first-run', '--disable-extensions',
		    '--font-render-hinting=none'],
	});
	const pages = [];
	try {
		for (const p of spec.pages)
			pages.push(await checkPage(browser, spec, p));
	} finally {
		await browser.close();
		fs.rmSync(profile, { recursive: true, force: true });
	}
	process.stdout.write(JSON.stringify({ pages }) + '\n');
}

main().catch((e) => {
	process.stderr.write(`check.js: ${e && e.stack ? e.stack : e}\n`);
	process.exit(70);
});

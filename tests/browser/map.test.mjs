// Browser test of placemap's interactive map, in the system Chromium (never a downloaded browser).
//
//   PLACEMAP_URL=http://127.0.0.1:8080 node map.test.mjs   # against a running server
//   node map.test.mjs                                      # starts ../../target/debug/placemap itself
//
// Without PLACEMAP_URL it spawns `$PLACEMAP_BIN serve --addr 127.0.0.1:0` (default
// ../../target/debug/placemap, run from the repository root; PLACEMAP_DATA, if set, becomes --data),
// reads "listening on http://127.0.0.1:PORT" from its stdout and kills it at the end.
// CHROMIUM overrides the browser path (default /usr/bin/chromium).
// Exits non-zero, naming each failed check, if anything fails.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { assert, check, log, results } from './harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const LAYER = 'lad19';
const START_INDICATOR = 'imd_score';
// A point inside Hartlepool (E06000001) in the LAD 2019 boundaries.
const HARTLEPOOL = { lon: -1.27, lat: 54.67, code: 'E06000001', name: 'Hartlepool' };
const SERVER_START_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 30_000;

let serverProc = null;
let browser = null;
let userDataDir = null;

// ------------------------------------------------------------------ server

function startServer() {
  const bin = process.env.PLACEMAP_BIN || join(REPO, 'target', 'debug', 'placemap');
  const args = ['serve', '--addr', '127.0.0.1:0'];
  if (process.env.PLACEMAP_DATA) args.push('--data', process.env.PLACEMAP_DATA);
  log(`starting ${bin} ${args.join(' ')}`);
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(bin, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    serverProc = proc;
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      reject(new Error(`server printed no "listening on http://..." line within ${SERVER_START_TIMEOUT_MS} ms\nstdout: ${out}\nstderr: ${err.slice(-4000)}`));
    }, SERVER_START_TIMEOUT_MS);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${bin}: ${e.message} (build it with cargo build -p placemap, or set PLACEMAP_BIN / PLACEMAP_URL)`));
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal})\nstdout: ${out}\nstderr: ${err.slice(-4000)}`));
    });
    proc.stderr.on('data', (d) => {
      err += d;
    });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/(?:127\.0\.0\.1|localhost):\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]);
      }
    });
  });
}

function stopServer() {
  if (serverProc && serverProc.exitCode === null && serverProc.signalCode === null) {
    serverProc.kill('SIGTERM');
  }
}

async function fetchJson(url) {
  const res = await fetch(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

// ------------------------------------------------------------------ page helpers

function isLocalUrl(u) {
  if (u.startsWith('data:') || u.startsWith('blob:') || u === 'about:blank') return true;
  try {
    const host = new URL(u).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
  } catch {
    return false;
  }
}

/**
 * Waits until the visible tile images are all loaded from URLs containing `urlPart`, and at least
 * one has a non-transparent pixel (drawn into a canvas; tiles are same-origin so it is readable).
 * Returns {count, painted, sample, naturalWidths}.
 */
async function waitForPaintedTiles(page, urlPart) {
  const handle = await page.waitForFunction((part) => {
    const imgs = Array.from(document.querySelectorAll('#placemap-map .leaflet-tile-container img.leaflet-tile'))
      .filter((img) => img.closest('.leaflet-tile-container').style.visibility !== 'hidden');
    const current = imgs.filter((img) => img.src.includes(part));
    if (current.length === 0) return false;
    if (document.querySelectorAll('#placemap-map img.leaflet-tile:not(.leaflet-tile-loaded)').length > 0) return false;
    if (!current.every((img) => img.complete && img.naturalWidth > 0)) return false;
    let painted = 0;
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    for (const img of current) {
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < data.length; i += 4) {
        if (data[i] > 0) {
          painted += 1;
          break;
        }
      }
    }
    if (painted === 0) return false;
    return {
      count: current.length,
      painted,
      sample: current[0].src,
      naturalWidths: Array.from(new Set(current.map((img) => img.naturalWidth)))
    };
  }, urlPart, { timeout: STEP_TIMEOUT_MS, polling: 200 });
  return handle.jsonValue();
}

/** Moves the mouse onto lon/lat, converted with the page's own Leaflet map. */
async function hover(page, lon, lat) {
  const pt = await page.evaluate(([lo, la]) => {
    const map = window.placemapMap;
    const p = map.latLngToContainerPoint([la, lo]);
    const r = map.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, [lon, lat]);
  await page.mouse.move(pt.x - 8, pt.y - 8);
  await page.mouse.move(pt.x, pt.y, { steps: 4 });
  return pt;
}

function ordinal(n) {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  return n + ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th');
}

// ------------------------------------------------------------------ the test

async function run() {
  let base = process.env.PLACEMAP_URL;
  if (base) {
    base = base.replace(/\/+$/, '');
    log(`using server at ${base}`);
  } else {
    base = await startServer();
    log(`server is at ${base}`);
  }
  assert(isLocalUrl(base), `PLACEMAP_URL must be on 127.0.0.1 or localhost, got ${base}`);

  const catalogue = await fetchJson(`${base}/layers`);
  const layer = (catalogue.layers || []).find((l) => l.id === LAYER);
  assert(layer, `/layers has no layer ${LAYER}`);
  const startInd = layer.indicators.find((i) => i.id === START_INDICATOR);
  assert(startInd, `layer ${LAYER} has no indicator ${START_INDICATOR}`);
  const otherInd = ['median_weekly_pay', 'employment_rate']
    .map((id) => layer.indicators.find((i) => i.id === id))
    .find(Boolean) || layer.indicators.find((i) => i.id !== START_INDICATOR);
  assert(otherInd, `layer ${LAYER} has only one indicator; cannot test switching`);

  // Playwright refuses --user-data-dir in args; launchPersistentContext gives the fresh profile dir.
  userDataDir = mkdtempSync(join(tmpdir(), 'placemap-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1024, height: 768 },
    deviceScaleFactor: 1,
    serviceWorkers: 'block'
  });
  browser = context;

  // Record every request; let only 127.0.0.1/localhost through.
  const requests = [];
  const foreign = [];
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (isLocalUrl(u)) return route.continue();
    foreign.push(u);
    return route.abort('blockedbyclient');
  });
  context.on('request', (req) => {
    requests.push(req.url());
    if (!isLocalUrl(req.url())) foreign.push(req.url());
  });

  const page = context.pages()[0] || (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);

  await check('the home page lists every layer and opens a map', async () => {
    const res = await page.goto(`${base}/`, { waitUntil: 'load' });
    assert(res && res.ok(), `GET ${base}/: HTTP ${res && res.status()}`);
    const ids = await page.$$eval('li.layer', (els) => els.map((e) => e.id.replace(/^layer-/, '')));
    const want = catalogue.layers.map((l) => l.id);
    assert(ids.length === want.length && want.every((id) => ids.includes(id)), `home page layers ${ids}, /layers ${want}`);
    // The first layer's thumbnail tiles load and are real images.
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll('li.layer:first-child .thumb img')];
      return imgs.length === 4 && imgs.every((img) => img.complete && img.naturalWidth === 256);
    });
    await Promise.all([
      page.waitForURL(`${base}/map/${LAYER}/${START_INDICATOR}`),
      page.click(`#layer-${LAYER} ul.ind a[href="/map/${LAYER}/${START_INDICATOR}"]`)
    ]);
    await page.waitForFunction(() => window.placemapMap && document.querySelector('#placemap-indicator option'));
  });

  await check('a mistyped map address shows an HTML error page with the valid ids', async () => {
    // A page of its own: the browser logs the 404 on the console, which the main page's check forbids.
    const errPage = await context.newPage();
    const res = await errPage.goto(`${base}/map/${LAYER}/no_such_indicator`, { waitUntil: 'load' });
    assert(res && res.status() === 404, `HTTP ${res && res.status()}`);
    assert((res.headers()['content-type'] || '').startsWith('text/html'), `content-type ${res.headers()['content-type']}`);
    const text = await errPage.innerText('body');
    await errPage.close();
    assert(text.includes('no_such_indicator') && text.includes(START_INDICATOR), `page says: ${text.slice(0, 300)}`);
  });

  const mapUrl = `${base}/map/${LAYER}/${START_INDICATOR}`;
  const loaded = await check(`load ${mapUrl}`, async () => {
    const res = await page.goto(mapUrl, { waitUntil: 'load' });
    assert(res && res.ok(), `GET ${mapUrl}: HTTP ${res && res.status()}`);
    const ctype = res.headers()['content-type'] || '';
    assert(ctype.startsWith('text/html'), `content-type is ${ctype}, want text/html`);
    assert(!res.headers()['x-frame-options'], `X-Frame-Options ${res.headers()['x-frame-options']} would stop embedding`);
    await page.waitForFunction(() => window.placemapMap && document.querySelector('#placemap-indicator option'));
  });
  if (!loaded) return;

  const tilePart = `/tiles/${LAYER}/${START_INDICATOR}/`;
  await check('tiles load and paint', async () => {
    const t = await waitForPaintedTiles(page, tilePart);
    log(`      ${t.count} tiles, ${t.painted} with coloured pixels, e.g. ${t.sample}`);
    assert(!t.sample.includes('@2x'), `device pixel ratio 1 should ask for 256 px tiles, got ${t.sample}`);
    assert(t.naturalWidths.length === 1 && t.naturalWidths[0] === 256, `tile widths ${t.naturalWidths}, want 256`);
  });

  await check('initial view fits England', async () => {
    const ok = await page.evaluate(() => {
      const b = window.placemapMap.getBounds();
      // Penzance, Berwick-upon-Tweed, Lowestoft, Carlisle.
      return [[50.12, -5.54], [55.77, -2.0], [52.48, 1.75], [54.89, -2.93]].map((p) => b.contains(p));
    });
    assert(ok.every(Boolean), `view misses part of England: ${JSON.stringify(ok)}`);
    const zoom = await page.evaluate(() => window.placemapMap.getZoom());
    assert(zoom >= 5, `zoom ${zoom} is too far out to be a fit of England`);
  });

  await check('legend and attribution shown', async () => {
    await page.waitForFunction((id) => document.querySelector(`#placemap-legend[data-indicator="${id}"] li`), START_INDICATOR);
    const legendText = await page.textContent('#placemap-legend');
    assert(legendText.includes(startInd.title) || legendText.length > 0, 'legend is empty');
    const attribution = await page.textContent('.leaflet-control-attribution');
    assert(attribution.includes(layer.licence), `attribution "${attribution}" lacks licence ${layer.licence}`);
    const credit = layer.attribution.slice(0, 20);
    assert(attribution.includes(credit), `attribution "${attribution}" lacks the layer credit "${credit}"`);
  });

  await check('the legend has no scrollbar, hatches no data as the map does, credits only once', async () => {
    const long = ['ks2_rwm_expected', 'imd_score_lisa'].filter((id) => layer.indicators.some((i) => i.id === id));
    assert(long.length > 0, 'no long legend to try');
    for (const id of long) {
      await page.selectOption('#placemap-indicator', id);
      await page.waitForFunction((i) => document.querySelector(`#placemap-legend[data-indicator="${i}"] li`), id);
      const [sh, ch, sw, cw] = await page.evaluate(() => {
        const el = document.getElementById('placemap-legend');
        return [el.scrollHeight, el.clientHeight, el.scrollWidth, el.clientWidth];
      });
      assert(sh <= ch + 1 && sw <= cw + 1, `${id}: legend scrolls (${sw}x${sh} in ${cw}x${ch})`);
    }
    await page.selectOption('#placemap-indicator', START_INDICATOR);
    await page.waitForFunction((i) => document.querySelector(`#placemap-legend[data-indicator="${i}"] .placemap-swatch-no-data`), START_INDICATOR);
    const bg = await page.evaluate(() => getComputedStyle(document.querySelector('.placemap-swatch-no-data')).backgroundImage);
    assert(bg.includes('repeating-linear-gradient') && bg.includes('rgb(110, 110, 110)') && bg.includes('rgb(189, 189, 189)'),
      `no-data swatch is not the tiles' hatch: ${bg}`);
    const legendText = await page.innerText('#placemap-legend');
    const credit = layer.attribution.slice(0, 20);
    assert(!legendText.includes(credit), `the legend repeats the credits: ${legendText}`);
    await waitForPaintedTiles(page, tilePart);
  });

  const expectLookup = async (indicatorId, period) => {
    const year = period ? `&year=${encodeURIComponent(period)}` : '';
    const data = await fetchJson(`${base}/lookup?lon=${HARTLEPOOL.lon}&lat=${HARTLEPOOL.lat}&layer=${LAYER}${year}`);
    const hit = (data.results || []).find((r) => r.layer === LAYER);
    assert(hit, `/lookup found no ${LAYER} district at Hartlepool's point: ${JSON.stringify(data)}`);
    assert(hit.code === HARTLEPOOL.code && hit.name === HARTLEPOOL.name, `/lookup says ${hit.code} ${hit.name}`);
    return { hit, v: hit.values && hit.values[indicatorId] };
  };

  const checkTooltip = async (indicatorId) => {
    // The period the page shows is the last hash segment (#z/lat/lon/indicator/period).
    const period = await page.evaluate(() => decodeURIComponent(location.hash.split('/')[4] || ''));
    const { v } = await expectLookup(indicatorId, period);
    await page.evaluate(([lat, lon]) => window.placemapMap.setView([lat, lon], 10, { animate: false }), [HARTLEPOOL.lat, HARTLEPOOL.lon]);
    await page.waitForTimeout(150);
    await hover(page, HARTLEPOOL.lon, HARTLEPOOL.lat);
    await page.waitForSelector(`#placemap-tooltip[data-code="${HARTLEPOOL.code}"][data-indicator="${indicatorId}"]`, { state: 'visible' });
    const tip = await page.evaluate(() => {
      const t = document.getElementById('placemap-tooltip');
      return { text: t.innerText, value: t.dataset.value, rank: t.dataset.rank, of: t.dataset.of };
    });
    log(`      tooltip: ${tip.text.replace(/\n/g, ' | ')}`);
    assert(tip.text.includes(HARTLEPOOL.name), `tooltip "${tip.text}" lacks ${HARTLEPOOL.name}`);
    if (v && typeof v.value === 'number') {
      assert(Number(tip.value) === v.value, `tooltip value ${tip.value}, /lookup says ${v.value}`);
      const whole = String(Math.trunc(v.value));
      assert(tip.text.replace(/,/g, '').includes(whole), `tooltip "${tip.text}" does not show the value ${v.value}`);
      if (v.unit && v.unit !== '%' && !v.unit.startsWith('£')) {
        assert(tip.text.includes(v.unit), `tooltip "${tip.text}" lacks the unit ${v.unit}`);
      }
    }
    if (v && v.period) {
      assert(tip.text.includes(String(v.period)), `tooltip "${tip.text}" lacks the period ${v.period}`);
    }
    if (v && typeof v.rank === 'number') {
      const rankText = `${ordinal(v.rank)} of ${v.of}`;
      assert(tip.text.includes(rankText), `tooltip "${tip.text}" lacks rank "${rankText}"`);
    }
  };

  await check(`hover ${HARTLEPOOL.name} shows name, value, unit and rank`, async () => {
    await checkTooltip(START_INDICATOR);
  });

  await check('hover lookups are throttled (at most one per 100 ms)', async () => {
    const before = requests.filter((u) => u.includes('/lookup?')).length;
    const t0 = Date.now();
    const c = await page.evaluate(() => {
      const r = window.placemapMap.getContainer().getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
    for (let i = 0; i < 40; i++) await page.mouse.move(c.x + i * 3, c.y + (i % 5));
    const elapsed = Date.now() - t0;
    await page.waitForTimeout(400); // let the trailing lookup go out
    const sent = requests.filter((u) => u.includes('/lookup?')).length - before;
    const allowed = Math.ceil((elapsed + 400) / 100) + 1;
    log(`      40 mouse moves in ${elapsed} ms -> ${sent} lookups (allowed ${allowed})`);
    assert(sent >= 1, 'no lookup was sent while hovering');
    assert(sent <= allowed, `${sent} lookups for 40 moves in ${elapsed} ms: not throttled`);
    assert(sent < 40, 'one lookup per mouse move: not throttled');
  });

  await check('URL hash keeps the view', async () => {
    await page.waitForFunction(() => /^#10\/54\.6\d*\/-1\.2\d*\/imd_score/.test(location.hash));
  });

  const otherPart = `/tiles/${LAYER}/${otherInd.id}/`;
  await check(`switch indicator to ${otherInd.id}: tile URLs change and repaint`, async () => {
    await page.mouse.move(5, 700);
    await page.selectOption('#placemap-indicator', otherInd.id);
    const t = await waitForPaintedTiles(page, otherPart);
    log(`      ${t.count} tiles, e.g. ${t.sample}`);
    const stale = await page.evaluate((part) => Array.from(document.querySelectorAll('#placemap-map img.leaflet-tile'))
      .map((i) => i.src).filter((s) => s.includes(part)), tilePart);
    assert(stale.length === 0, `tiles of ${START_INDICATOR} still shown: ${stale.slice(0, 3)}`);
    await page.waitForFunction((id) => document.querySelector(`#placemap-legend[data-indicator="${id}"] li`), otherInd.id);
    const path = await page.evaluate(() => location.pathname + location.hash);
    assert(path.startsWith(`/map/${LAYER}/${otherInd.id}#`) && path.includes(`/${otherInd.id}`), `URL ${path} does not name ${otherInd.id}`);
  });

  await check(`hover ${HARTLEPOOL.name} after the switch shows ${otherInd.id}`, async () => {
    await checkTooltip(otherInd.id);
  });

  if ((otherInd.periods || []).length > 1) {
    const period = otherInd.periods.find((p) => p !== (otherInd.default_period || otherInd.periods[otherInd.periods.length - 1]));
    await check(`period drop-down switches ${otherInd.id} to ${period}`, async () => {
      await page.selectOption('#placemap-period', period);
      await waitForPaintedTiles(page, `year=${encodeURIComponent(period)}`);
      await page.waitForFunction((p) => document.querySelector(`#placemap-legend[data-period="${p}"]`), period);
      const hash = await page.evaluate(() => location.hash);
      assert(hash.endsWith(`/${otherInd.id}/${encodeURIComponent(period)}`), `hash ${hash} lacks the period`);
    });
  }

  const periods = otherInd.periods || [];
  if (periods.length > 1 && !otherInd.categorical) {
    const [from, to] = [periods[0], periods[periods.length - 1]];
    const changePart = `change=${encodeURIComponent(`${from}..${to}`)}`;
    await check('style controls change the tiles, legend, downloads and URL; a reload restores the view', async () => {
      await page.evaluate(() => { document.getElementById('placemap-style').open = true; });
      await page.selectOption('#placemap-scheme', 'jenks');
      await page.selectOption('#placemap-k', '7');
      await waitForPaintedTiles(page, 'scheme=jenks&k=7');
      await page.waitForFunction(() => document.querySelectorAll('#placemap-legend li').length >= 7);
      await page.check('#placemap-change');
      await page.selectOption('#placemap-change-from', from);
      await page.selectOption('#placemap-change-to', to);
      await waitForPaintedTiles(page, changePart);
      const hash = await page.evaluate(() => location.hash);
      assert(hash.includes('scheme%3Djenks') && hash.includes(encodeURIComponent(changePart)), `hash ${hash}`);
      const png = await page.getAttribute('#placemap-download-png', 'href');
      assert(png.includes('scheme=jenks') && png.includes(changePart) && !png.includes('year='), `download ${png}`);
      await page.reload({ waitUntil: 'load' });
      await page.waitForFunction(() => window.placemapMap && document.querySelector('#placemap-indicator option'));
      await waitForPaintedTiles(page, changePart);
      const restored = await page.evaluate(() => [document.getElementById('placemap-scheme').value,
        document.getElementById('placemap-k').value, document.getElementById('placemap-change').checked,
        document.getElementById('placemap-change-from').value, document.getElementById('placemap-change-to').value]);
      assert(JSON.stringify(restored) === JSON.stringify(['jenks', '7', true, from, to]), `after reload: ${restored}`);
      const legend = await page.innerText('#placemap-legend');
      assert(legend.includes(`${from}`) && legend.includes(`${to}`), `legend does not name the change: ${legend}`);
      // Back to the default style for the checks that follow.
      await page.uncheck('#placemap-change');
      await page.selectOption('#placemap-scheme', '');
      await page.selectOption('#placemap-k', '');
      await page.waitForFunction(() => !/scheme|change/.test(location.hash));
    });

    await check('a hand-written link with ?change= opens the change map', async () => {
      const p2 = await context.newPage();
      await p2.goto(`${base}/map/${LAYER}/${otherInd.id}?change=${from}..${to}`, { waitUntil: 'load' });
      await waitForPaintedTiles(p2, changePart);
      await p2.close();
    });
  }

  await check('the area control restricts tiles, legend, table, downloads and embed code to a region; a reload restores it', async () => {
    const choices = await page.$$eval('#placemap-region option', (os) => os.map((o) => o.value));
    for (const want of ['', 'north-east', 'london', 'wales', 'scotland']) {
      assert(choices.includes(want), `area choices ${choices} lack "${want}"`);
    }
    await page.selectOption('#placemap-region', 'north-east');
    await page.waitForFunction(() => location.hash.includes('region%3Dnorth-east'));
    // The map goes to the region, and its tiles are the region's.
    await page.waitForFunction(() => {
      const c = window.placemapMap.getCenter();
      return c.lat > 54.3 && c.lat < 55.6 && c.lng > -2.8 && c.lng < -0.8;
    });
    await waitForPaintedTiles(page, 'region=north-east');
    // The legend counts the region's 12 districts, every class holding some.
    await page.waitForFunction(() => {
      const counts = Array.from(document.querySelectorAll('#placemap-legend li:not(:has(.placemap-swatch-no-data)) .placemap-count'))
        .map((c) => Number(c.textContent));
      return counts.length > 0 && counts.every((n) => n > 0) && counts.reduce((a, b) => a + b, 0) === 12;
    });
    const png = await page.getAttribute('#placemap-download-png', 'href');
    assert(png.includes('region=north-east') && !png.includes('bbox='), `download ${png}`);
    const fig = await page.request.get(base + png);
    assert(fig.status() === 200, `figure of the region: ${fig.status()}`);
    await page.click('#placemap-embed-button');
    const code = await page.inputValue('#placemap-embed-code');
    assert(code.includes('region%3Dnorth-east'), `embed code without the region: ${code}`);
    // A tile over London, out of the region, has no class colour (its districts are not drawn).
    const london = await page.request.get(`${base}/tiles/${LAYER}/${otherInd.id}/9/255/170.png?region=north-east`);
    const full = await page.request.get(`${base}/tiles/${LAYER}/${otherInd.id}/9/255/170.png`);
    assert(london.status() === 200 && full.status() === 200, 'London tiles');
    assert((await london.body()).length < (await full.body()).length, 'London drawn although outside the region');
    await page.reload({ waitUntil: 'load' });
    await page.waitForFunction(() => window.placemapMap && document.querySelector('#placemap-region option[value="north-east"]'));
    await waitForPaintedTiles(page, 'region=north-east');
    const restored = await page.inputValue('#placemap-region');
    assert(restored === 'north-east', `after reload the area is "${restored}"`);
    // Back to every district for the checks that follow (the view returns to England).
    await page.selectOption('#placemap-region', '');
    await page.waitForFunction(() => !location.hash.includes('region'));
    await page.waitForFunction(() => window.placemapMap.getCenter().lat < 54.3);
    await page.evaluate(() => { document.getElementById('placemap-embed').hidden = true; });
  });

  await check('the data table is sortable, holds the map\'s values and shows a tooltip on keyboard focus', async () => {
    await page.selectOption('#placemap-indicator', START_INDICATOR);
    await page.click('#placemap-table-box summary');
    await page.waitForFunction(() => document.querySelectorAll('#placemap-table tbody tr').length > 300);
    const data = await fetchJson(`${base}/layers/${LAYER}/districts?indicator=${START_INDICATOR}`);
    const best = data.districts.filter((d) => typeof d.value === 'number').sort((a, b) => b.value - a.value)[0];
    const first = await page.evaluate(() => {
      const b = document.querySelector('#placemap-table tbody tr button');
      return [b.getAttribute('data-code'), b.closest('tr').querySelectorAll('td')[1].textContent];
    });
    assert(first[0] === best.code && first[1] === '1', `first row ${first}, want ${best.code} ranked 1`);
    await page.click('#placemap-table thead button[data-sort="name"]');
    const sorted = await page.evaluate(() => [document.querySelector('#placemap-table thead th').getAttribute('aria-sort'),
      Array.from(document.querySelectorAll('#placemap-table tbody tr button')).slice(0, 5).map((b) => b.textContent)]);
    assert(sorted[0] === 'ascending', `aria-sort ${sorted[0]}`);
    const names = sorted[1];
    assert(names.every((n, i) => i === 0 || names[i - 1].localeCompare(n, 'en-GB') <= 0), `not by name: ${names}`);
    // Keyboard: focus moves onto a district with Tab; its tooltip shows.
    await page.focus('#placemap-table thead button[data-sort="rank"]');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-code'));
    assert(focused, 'Tab did not reach a district in the table');
    await page.waitForFunction((c) => {
      const t = document.getElementById('placemap-tooltip');
      return !t.hidden && t.getAttribute('data-code') === c;
    }, focused);
    await page.click('#placemap-table-box summary');
    // Back to the indicator the checks that follow expect.
    await page.selectOption('#placemap-indicator', otherInd.id);
    await waitForPaintedTiles(page, otherPart);
  });

  await check('axe-core finds no serious or critical accessibility violations', async () => {
    await page.evaluate(readFileSync(join(HERE, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8'));
    const found = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help,
        target: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    const serious = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    if (found.length) log(`      axe: ${found.map((v) => `${v.id} (${v.impact}, ${v.nodes})`).join(', ')}`);
    assert(serious.length === 0, JSON.stringify(serious, null, 1));
  });

  await check('search by district name zooms to it and highlights it', async () => {
    await page.fill('#placemap-search', 'hartle');
    await page.waitForSelector(`#placemap-search-results li[data-code="${HARTLEPOOL.code}"]`);
    await page.keyboard.press('Enter');
    await waitForPaintedTiles(page, `highlight=${HARTLEPOOL.code}`);
    const inside = await page.evaluate(([lat, lon]) => window.placemapMap.getBounds().contains([lat, lon]), [HARTLEPOOL.lat, HARTLEPOOL.lon]);
    assert(inside, 'map does not show Hartlepool after the search');
    await page.click('#placemap-search-clear');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#placemap-map img.leaflet-tile')).every((i) => !i.src.includes('highlight=')));
  });

  await check('copy embed code gives an iframe of this view', async () => {
    await page.click('#placemap-embed-button');
    const code = await page.inputValue('#placemap-embed-code');
    const want = `<iframe src="${base}/map/${LAYER}/${otherInd.id}#`;
    assert(code.startsWith(want), `embed code "${code}" does not start with ${want}`);
    assert(code.endsWith('</iframe>'), `embed code "${code}" is not a whole iframe element`);
    // Its title is the map in words, as the page shows it under the title.
    const described = await page.innerText('#placemap-description');
    assert(described.includes('Values are highest in'), `description "${described}"`);
    assert(code.includes(`title="${described.replaceAll('&', '&amp;').replaceAll('"', '&quot;')}"`), `embed title is not the description: ${code}`);
  });

  await check('download links give a finished figure of this view', async () => {
    const png = await page.getAttribute('#placemap-download-png', 'href');
    const svg = await page.getAttribute('#placemap-download-svg', 'href');
    assert(png.startsWith(`/static/${LAYER}/${otherInd.id}.png?bbox=`), `PNG link ${png}`);
    assert(svg.startsWith(`/static/${LAYER}/${otherInd.id}.svg?bbox=`), `SVG link ${svg}`);
    const box = new URL(png, base).searchParams.get('bbox').split(',').map(Number);
    const c = await page.evaluate(() => { const c = window.placemapMap.getCenter(); return [c.lng, c.lat]; });
    assert(box[0] < c[0] && c[0] < box[2] && box[1] < c[1] && c[1] < box[3], `bbox ${box} does not hold the centre ${c}`);
    const r1 = await page.request.get(base + png);
    assert(r1.status() === 200 && r1.headers()['content-type'] === 'image/png', `PNG ${r1.status()} ${r1.headers()['content-type']}`);
    const r2 = await page.request.get(base + svg);
    const text = await r2.text();
    assert(r2.status() === 200 && text.includes('<svg'), `SVG ${r2.status()}`);
    assert(text.includes(otherInd.title.replace(/&/g, '&amp;')), 'the SVG has the indicator title');
  });

  await check('works inside an iframe (no frame-busting)', async () => {
    const framePage = await context.newPage();
    framePage.on('pageerror', (e) => pageErrors.push(`iframe page: ${e}`));
    // A same-origin host page, so the check does not depend on about:blank's rules.
    await framePage.goto(`${base}/layers`);
    await framePage.setContent(`<iframe id="f" src="${mapUrl}" width="600" height="400" style="border:0"></iframe>`);
    const frame = await (await framePage.waitForSelector('#f')).contentFrame();
    await frame.waitForFunction(() => window.placemapMap);
    await waitForPaintedTiles(frame, tilePart);
    assert(framePage.url().startsWith(base), `top page navigated away to ${framePage.url()}`);
    await framePage.close();
  });

  await check('pay on lad23: Cumberland\'s tooltip and the legend say why there is no data', async () => {
    const payPage = await context.newPage();
    payPage.on('pageerror', (e) => pageErrors.push(`pay page: ${e}`));
    await payPage.goto(`${base}/map/lad23/median_weekly_pay`, { waitUntil: 'load' });
    await payPage.waitForFunction(() => window.placemapMap);
    const carlisle = { lon: -2.934, lat: 54.8925 };
    await payPage.evaluate(([lat, lon]) => window.placemapMap.setView([lat, lon], 9, { animate: false }), [carlisle.lat, carlisle.lon]);
    await waitForPaintedTiles(payPage, '/tiles/lad23/median_weekly_pay/');
    const why = await payPage.waitForSelector('#placemap-legend .placemap-no-data-reason');
    const legendText = await why.innerText();
    assert(legendText.startsWith('No data: 4 districts merged in 2023'), `legend says "${legendText}"`);
    await hover(payPage, carlisle.lon, carlisle.lat);
    await payPage.waitForSelector('#placemap-tooltip[data-code="E06000063"]', { state: 'visible' });
    const tip = await payPage.innerText('#placemap-tooltip');
    log(`      tooltip: ${tip.replace(/\n/g, ' | ')}`);
    assert(tip.includes('No data') && tip.includes('merged in 2023 from E07000026 Allerdale'), `tooltip "${tip}" does not say why`);
    await payPage.close();
  });

  await check('no page errors', async () => {
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });

  await context.close();
  browser = null;

  // A high-DPI screen asks for @2x tiles, which are 512 px.
  const hiDir = mkdtempSync(join(tmpdir(), 'placemap-chromium-'));
  try {
    const hi = await chromium.launchPersistentContext(hiDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 800, height: 600 },
      deviceScaleFactor: 2,
      hasTouch: true
    });
    browser = hi;
    await hi.route('**/*', (route) => {
      const u = route.request().url();
      if (isLocalUrl(u)) return route.continue();
      foreign.push(u);
      return route.abort('blockedbyclient');
    });
    hi.on('request', (req) => {
      requests.push(req.url());
      if (!isLocalUrl(req.url())) foreign.push(req.url());
    });
    const p2 = hi.pages()[0] || (await hi.newPage());
    await check('high-DPI screen gets 512 px @2x tiles', async () => {
      await p2.goto(mapUrl);
      const t = await waitForPaintedTiles(p2, tilePart);
      assert(t.sample.includes('@2x.png'), `tile URL ${t.sample} lacks @2x`);
      assert(t.naturalWidths.length === 1 && t.naturalWidths[0] === 512, `@2x tile widths ${t.naturalWidths}, want 512`);
    });
    await check(`tap on ${HARTLEPOOL.name} (touch screen) shows its tooltip`, async () => {
      await p2.evaluate(([lat, lon]) => window.placemapMap.setView([lat, lon], 9, { animate: false }), [HARTLEPOOL.lat, HARTLEPOOL.lon]);
      await p2.waitForTimeout(150);
      const pt = await p2.evaluate(([lo, la]) => {
        const map = window.placemapMap;
        const p = map.latLngToContainerPoint([la, lo]);
        const r = map.getContainer().getBoundingClientRect();
        return { x: r.left + p.x, y: r.top + p.y };
      }, [HARTLEPOOL.lon, HARTLEPOOL.lat]);
      await p2.touchscreen.tap(pt.x, pt.y);
      await p2.waitForSelector(`#placemap-tooltip[data-code="${HARTLEPOOL.code}"]`, { state: 'visible' });
      const text = await p2.innerText('#placemap-tooltip');
      assert(text.includes(HARTLEPOOL.name), `tooltip "${text}" lacks ${HARTLEPOOL.name}`);
    });
    await hi.close();
    browser = null;
  } finally {
    rmSync(hiDir, { recursive: true, force: true });
  }

  await check(`no request left 127.0.0.1 (${requests.length} requests seen)`, async () => {
    assert(requests.length > 0, 'no requests were recorded');
    assert(foreign.length === 0, `requests to other hosts: ${Array.from(new Set(foreign)).join(', ')}`);
  });
}

let fatal = null;
try {
  await run();
} catch (err) {
  fatal = err;
  log(`FAIL  ${err && err.stack ? err.stack : err}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  stopServer();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok).length + (fatal ? 1 : 0);
const passed = results.filter((r) => r.ok).length;
log(`\nbrowser: ${passed} passed, ${failed} failed`);
if (failed > 0) {
  for (const r of results.filter((x) => !x.ok)) log(`  failed: ${r.name}`);
  if (fatal) log(`  failed: ${fatal.message}`);
}
process.exit(failed > 0 ? 1 : 0);

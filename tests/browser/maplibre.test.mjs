// MapLibre GL JS on another origin reads placemap's TileJSON (raster and vector), in the system
// Chromium (never a downloaded browser).
//
//   node maplibre.test.mjs      # starts $PLACEMAP_BIN (default ../../target/debug/placemap) itself
//
// It starts `placemap serve --addr 127.0.0.1:0` and a second, static server on another
// 127.0.0.1 port serving a page and MapLibre GL JS from node_modules/maplibre-gl (no CDN). The
// page adds the raster TileJSON of lad19/imd_score and runs the README's MapLibre snippet (the
// vector TileJSON with its no-data branch), then the test reads pixels of the map canvas:
// Hartlepool in its legend class colour (raster) and in the snippet's colour for its score
// (vector), and Edinburgh (no IMD: Scotland) in the snippet's no-data grey, not black; then
// placemap's own style, hatched and with nodata=none (Scotland not drawn at all). Any
// console error, or any request to a host other than 127.0.0.1, fails it.

import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { assert, check, finish, log } from './harness.mjs';
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const MAPLIBRE = join(HERE, 'node_modules', 'maplibre-gl', 'dist');
const HARTLEPOOL = { lon: -1.255, lat: 54.665, code: 'E06000001' };
const EDINBURGH = { lon: -3.19, lat: 55.94 };
// Three districts far apart in the IMD ranking, at points well inside them.
const STYLE_DISTRICTS = [
  { lon: -4.80, lat: 50.45, code: 'E06000052', name: 'Cornwall' },
  { lon: -3.035, lat: 53.815, code: 'E06000009', name: 'Blackpool' },
  { lon: -0.86, lat: 51.40, code: 'E06000041', name: 'Wokingham' }
];
const SERVER_START_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 60_000;

let serverProc = null;
let pageServer = null;
let browser = null;
let userDataDir = null;

function startPlacemap() {
  const bin = process.env.PLACEMAP_BIN || join(REPO, 'target', 'debug', 'placemap');
  const stateDir = mkdtempSync(join(tmpdir(), 'placemap-maplibre-state-'));
  const args = ['--state', stateDir, 'serve', '--addr', '127.0.0.1:0', '--layers', 'lad19'];
  if (process.env.PLACEMAP_DATA) args.unshift('--data', process.env.PLACEMAP_DATA);
  log(`starting ${bin} ${args.join(' ')}`);
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(bin, args, {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PLACEMAP_TOKEN: 'maplibre-test-token' }
    });
    serverProc = proc;
    proc.on('exit', () => rmSync(stateDir, { recursive: true, force: true }));
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      reject(new Error(`server printed no "listening on" line within ${SERVER_START_TIMEOUT_MS} ms\nstderr: ${err.slice(-4000)}`));
    }, SERVER_START_TIMEOUT_MS);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${bin}: ${e.message} (cargo build -p placemap, or set PLACEMAP_BIN)`));
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal})\nstderr: ${err.slice(-4000)}`));
    });
    proc.stderr.on('data', (d) => {
      err += d;
    });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]);
      }
    });
  });
}

/** The README's MapLibre snippet: the js block that adds the "districts" vector source. */
function readmeSnippet() {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  const snippet = blocks.find((b) => b.includes('addSource("districts"') && b.includes('/tiles/lad19.json'));
  assert(snippet, 'README.md has no MapLibre snippet adding the lad19 vector TileJSON');
  return snippet;
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>placemap from another origin</title>
<link rel="stylesheet" href="/vendor/maplibre-gl.css">
<style>html,body{margin:0}#map{width:800px;height:600px}</style>
</head><body><div id="map"></div>
<script type="module">
import * as maplibregl from '/vendor/maplibre-gl.mjs';
window.maplibregl = maplibregl;
</script>
</body></html>`;

const TYPES = { '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' };

/** A static server on another port: the page, and MapLibre GL JS (an ES module and its worker)
 *  from node_modules/maplibre-gl/dist. */
function startPageServer() {
  const vendored = new Set(readdirSync(MAPLIBRE));
  return new Promise((resolvePromise, reject) => {
    const server = createServer((req, res) => {
      const path = new URL(req.url, 'http://x').pathname;
      const name = path.startsWith('/vendor/') ? path.slice('/vendor/'.length) : null;
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(PAGE);
      } else if (name && vendored.has(name) && TYPES[extname(name)]) {
        res.writeHead(200, { 'content-type': TYPES[extname(name)] });
        res.end(readFileSync(join(MAPLIBRE, name)));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
      }
    });
    pageServer = server;
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolvePromise(`http://127.0.0.1:${server.address().port}`));
  });
}

function isLocalUrl(u) {
  if (u.startsWith('data:') || u.startsWith('blob:') || u === 'about:blank') return true;
  try {
    return new URL(u).hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

function hexToRgb(hex) {
  const n = parseInt(hex.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function near(got, want, tol) {
  return got.slice(0, 3).every((v, i) => Math.abs(v - want[i]) <= tol);
}

/** Moves the map to lon/lat at zoom, waits until it is idle, returns the RGBA bytes of the
 *  square of 2 * half + 1 pixels centred on that point. */
async function squareAt(page, lon, lat, zoom, half) {
  return page.evaluate(([lo, la, z, r]) => new Promise((done) => {
    const map = window.testMap;
    map.jumpTo({ center: [lo, la], zoom: z });
    map.once('idle', () => {
      const p = map.project([lo, la]);
      const c = document.createElement('canvas');
      c.width = map.getCanvas().width;
      c.height = map.getCanvas().height;
      const ctx = c.getContext('2d');
      ctx.drawImage(map.getCanvas(), 0, 0);
      done(Array.from(ctx.getImageData(Math.round(p.x) - r, Math.round(p.y) - r, 2 * r + 1, 2 * r + 1).data));
    });
    map.triggerRepaint();
  }), [lon, lat, zoom, half]);
}

/** The pixel at lon/lat at zoom, once the map is idle there. */
async function pixelAt(page, lon, lat, zoom) {
  return squareAt(page, lon, lat, zoom, 0);
}

/** How many distinct colours the square of 2 * half + 1 pixels around lon/lat holds at zoom. */
async function coloursAround(page, lon, lat, zoom, half) {
  const d = await squareAt(page, lon, lat, zoom, half);
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4) seen.add(d.slice(i, i + 4).join(','));
  return seen.size;
}

async function show(page, layer) {
  await page.evaluate((which) => {
    for (const id of ['raster', 'imd']) {
      window.testMap.setLayoutProperty(id, 'visibility', id === which ? 'visible' : 'none');
    }
  }, layer);
}

async function run() {
  const base = await startPlacemap();
  const origin = await startPageServer();
  log(`placemap at ${base}, page at ${origin}`);
  assert(new URL(base).origin !== new URL(origin).origin, 'the page must be on another origin');

  // What the page will draw: Hartlepool's score, its legend class, the snippet's colours.
  const lookup = await (await fetch(`${base}/lookup?lon=${HARTLEPOOL.lon}&lat=${HARTLEPOOL.lat}&layer=lad19`)).json();
  const hit = lookup.results && lookup.results[0];
  assert(hit && hit.code === HARTLEPOOL.code, `lookup did not find Hartlepool: ${JSON.stringify(lookup).slice(0, 300)}`);
  const v = hit.values.imd_score;
  const score = typeof v === 'number' ? v : v && v.value;
  assert(typeof score === 'number', `Hartlepool has no IMD score: ${JSON.stringify(v)}`);
  const legend = await (await fetch(`${base}/legend/lad19/imd_score.json`)).json();
  const cls = legend.entries.find((e) => score <= e.upper) || legend.entries[legend.entries.length - 1];
  const rasterWant = hexToRgb(cls.color);
  const lo = hexToRgb('#fee5d9');
  const hi = hexToRgb('#a50f15');
  const t = Math.min(1, Math.max(0, (score - 5) / 40));
  const vectorWant = lo.map((v, i) => v + (hi[i] - v) * t);
  const noDataWant = hexToRgb('#d9d9d9');
  const snippet = readmeSnippet().replaceAll('http://localhost:8080', base);

  const raster = await (await fetch(`${base}/tiles/lad19/imd_score.json`)).json();
  await check('the raster TileJSON gives absolute tile URLs and an HTML legend', async () => {
    assert(raster.tiles[0].startsWith(`${base}/tiles/lad19/imd_score/`), `tiles: ${raster.tiles}`);
    assert(raster.legend.startsWith('<div'), `legend: ${raster.legend}`);
  });

  userDataDir = mkdtempSync(join(tmpdir(), 'placemap-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
      '--ignore-gpu-blocklist', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 800, height: 600 },
    deviceScaleFactor: 1,
    serviceWorkers: 'block'
  });
  browser = context;
  const foreign = [];
  const fromServer = [];
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (isLocalUrl(u)) return route.continue();
    foreign.push(u);
    return route.abort('blockedbyclient');
  });
  context.on('request', (req) => {
    if (req.url().startsWith(base)) fromServer.push(req.url());
  });
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);

  const loaded = await check(`MapLibre on ${origin} adds both sources`, async () => {
    const res = await page.goto(`${origin}/`, { waitUntil: 'load' });
    assert(res && res.ok(), `GET ${origin}/: HTTP ${res && res.status()}`);
    await page.waitForFunction(() => window.maplibregl && window.maplibregl.Map);
    await page.evaluate(([b, code]) => new Promise((done, fail) => {
      const map = new window.maplibregl.Map({
        container: 'map',
        style: { version: 8, sources: {}, layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#ffffff' } }] },
        center: [-1.25, 54.66],
        zoom: 9,
        fadeDuration: 0,
        attributionControl: { compact: false },
        canvasContextAttributes: { preserveDrawingBuffer: true, antialias: false }
      });
      window.testMap = map;
      map.on('error', (e) => fail(new Error(`map error: ${e.error && e.error.message}`)));
      map.on('load', () => {
        map.addSource('imd-raster', { type: 'raster', url: `${b}/tiles/lad19/imd_score.json`, tileSize: 256 });
        map.addLayer({ id: 'raster', type: 'raster', source: 'imd-raster', paint: { 'raster-fade-duration': 0 } });
        // The README's snippet, as written there (with this server's address).
        new Function('map', code)(map);
        map.once('idle', () => done());
      });
    }), [base, snippet]);
  });
  if (!loaded) return;

  await check('the credits of both TileJSON documents show', async () => {
    const text = await page.innerText('.maplibregl-ctrl-attrib');
    assert(/Office for National Statistics|ONS/.test(text), `attribution: ${text}`);
  });

  await check(`raster: Hartlepool (IMD ${score}) in its legend colour ${cls.color}`, async () => {
    await show(page, 'raster');
    const px = await pixelAt(page, HARTLEPOOL.lon, HARTLEPOOL.lat, 10);
    assert(near(px, rasterWant, 4), `pixel ${px}, want ${rasterWant}`);
  });

  await check('vector: Hartlepool in the README snippet\'s colour for its score', async () => {
    await show(page, 'imd');
    const px = await pixelAt(page, HARTLEPOOL.lon, HARTLEPOOL.lat, 10);
    assert(near(px, vectorWant, 8), `pixel ${px}, want about ${vectorWant.map(Math.round)}`);
  });

  await check('vector: Edinburgh (no IMD) in the no-data grey, not black', async () => {
    const px = await pixelAt(page, EDINBURGH.lon, EDINBURGH.lat, 9);
    assert(near(px, noDataWant, 4), `pixel ${px}, want ${noDataWant}`);
  });

  await check('tiles came from the server\'s absolute URLs', async () => {
    assert(fromServer.some((u) => u.includes('/tiles/lad19/imd_score/') && u.endsWith('.png')), `raster tiles: ${fromServer.slice(0, 5)}`);
    assert(fromServer.some((u) => u.includes('/tiles/lad19/') && u.includes('.mvt')), `vector tiles: ${fromServer.slice(0, 5)}`);
  });

  // placemap's own MapLibre style: valid by the style specification, and painting each district
  // the colour the PNG tiles paint it (both read from the same canvas).
  const styleUrl = `${base}/styles/lad19/imd_score.json`;
  const style = await (await fetch(styleUrl)).json();
  await check('the MapLibre style of lad19/imd_score is valid (style-spec validator)', async () => {
    const errs = validateStyleMin(style);
    assert(errs.length === 0, errs.map((e) => e.message).join('\n'));
  });
  await check('the style paints three districts in the PNG tiles\' colours', async () => {
    await show(page, 'raster');
    const fromTiles = [];
    for (const d of STYLE_DISTRICTS) {
      const hit = (await (await fetch(`${base}/lookup?lon=${d.lon}&lat=${d.lat}&layer=lad19`)).json()).results[0];
      assert(hit && hit.code === d.code, `${d.name}: lookup found ${JSON.stringify(hit).slice(0, 200)}`);
      fromTiles.push(await pixelAt(page, d.lon, d.lat, 10));
    }
    await page.evaluate((url) => new Promise((done, fail) => {
      const map = window.testMap;
      map.once('error', (e) => fail(new Error(`style error: ${e.error && e.error.message}`)));
      map.once('idle', () => done());
      map.setStyle(url);
    }), styleUrl);
    const distinct = new Set(fromTiles.map((p) => p.slice(0, 3).join(',')));
    assert(distinct.size === 3, `the three districts should be in three classes: ${[...distinct]}`);
    for (const [i, d] of STYLE_DISTRICTS.entries()) {
      const px = await pixelAt(page, d.lon, d.lat, 10);
      assert(near(px, fromTiles[i], 3), `${d.name}: style ${px}, PNG tile ${fromTiles[i]}`);
    }
  });

  // nodata=none: districts without a value are not drawn at all, outlines included (the style's
  // outline layer filters them out), as the PNG tiles leave them out. Around Edinburgh (every
  // district Scottish, no IMD) the hatched style shows hatching and boundaries; with nodata=none
  // the square is one flat colour, while Hartlepool keeps its class colour.
  await check('style with nodata=none: no-data districts neither filled nor outlined', async () => {
    const setStyle = (url) => page.evaluate((u) => new Promise((done, fail) => {
      const map = window.testMap;
      map.once('error', (e) => fail(new Error(`style error: ${e.error && e.error.message}`)));
      map.once('idle', () => done());
      map.setStyle(u);
    }), url);
    const hatched = await coloursAround(page, EDINBURGH.lon, EDINBURGH.lat, 8, 60);
    assert(hatched > 2, `the hatched style should draw hatching and boundaries around Edinburgh: ${hatched} colours`);
    const noneUrl = `${styleUrl}?nodata=none`;
    const noneStyle = await (await fetch(noneUrl)).json();
    const errs = validateStyleMin(noneStyle);
    assert(errs.length === 0, errs.map((e) => e.message).join('\n'));
    await setStyle(noneUrl);
    const none = await coloursAround(page, EDINBURGH.lon, EDINBURGH.lat, 8, 60);
    assert(none === 1, `nodata=none should leave the square around Edinburgh empty: ${none} colours`);
    const px = await pixelAt(page, HARTLEPOOL.lon, HARTLEPOOL.lat, 10);
    assert(near(px, rasterWant, 4), `Hartlepool with nodata=none: pixel ${px}, want ${rasterWant}`);
    const england = await coloursAround(page, HARTLEPOOL.lon, HARTLEPOOL.lat, 8, 60);
    assert(england > 2, `districts with values keep their fills and outlines: ${england} colours around Hartlepool`);
    await setStyle(styleUrl);
  });

  await check('no console errors, no request left 127.0.0.1', async () => {
    assert(errors.length === 0, errors.join('\n'));
    assert(foreign.length === 0, `requests to other hosts: ${foreign.join(', ')}`);
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
  if (serverProc && serverProc.exitCode === null) serverProc.kill('SIGTERM');
  if (pageServer) pageServer.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
}

finish('maplibre', fatal);

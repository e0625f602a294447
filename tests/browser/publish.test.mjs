// Bundles written by `placemap publish` (a catalogue indicator and an uploaded dataset), served by a plain static file server (this script's,
// with Range support, not placemap), in the system Chromium: the map paints Hartlepool in its
// legend class colour, the tooltip shows its value, the downloads are there, the archive is read
// with range requests, and nothing is requested from any other host.
//
//   node publish.test.mjs      # runs $PLACEMAP_BIN (default ../../target/debug/placemap) itself

import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { assert, check, finish, log } from './harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const HARTLEPOOL = { lon: -1.255, lat: 54.665, code: 'E06000001', name: 'Hartlepool' };
const STEP_TIMEOUT_MS = 60_000;

let server = null;
let browser = null;
let work = null;

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.csv': 'text/csv; charset=utf-8', '.geojson': 'application/geo+json', '.pmtiles': 'application/octet-stream'
};

/** A static file server over `root` answering single `Range: bytes=a-b` requests with 206, as
 *  object stores and CDNs do. Records every request. */
function serve(root, seen) {
  return new Promise((done, fail) => {
    const s = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      seen.push({ path, range: req.headers.range || null });
      // A folder's index.html, as static hosts serve it.
      const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
      if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      const body = readFileSync(file);
      const type = TYPES[extname(file)] || 'application/octet-stream';
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
      if (m) {
        const start = Number(m[1]);
        const end = m[2] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
        res.writeHead(206, { 'content-type': type, 'content-range': `bytes ${start}-${end}/${body.length}`, 'accept-ranges': 'bytes' });
        res.end(body.subarray(start, end + 1));
        return;
      }
      res.writeHead(200, { 'content-type': type, 'accept-ranges': 'bytes' });
      res.end(body);
    });
    server = s;
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => done(`http://127.0.0.1:${s.address().port}`));
  });
}

/** Runs `placemap` with `args` (after --state and --quiet), returning spawnSync's result. */
function placemap(args) {
  const bin = process.env.PLACEMAP_BIN || join(REPO, 'target', 'debug', 'placemap');
  const all = ['--state', join(work, 'state'), '--quiet', ...args];
  if (process.env.PLACEMAP_DATA) all.unshift('--data', process.env.PLACEMAP_DATA);
  return spawnSync(bin, all, { cwd: REPO, encoding: 'utf8' });
}

/** Publishes `indicator` on lad19 into site/`name`; returns what the checks need, or null. */
async function publish(name, indicator) {
  const out = join(work, 'site', name);
  const p = placemap(['publish', '--layer', 'lad19', '--indicator', indicator, '--out', out]);
  const published = await check(`${name}: placemap publish writes the bundle`, async () => {
    assert(p.status === 0, `exit ${p.status}: ${p.stderr}`);
    const names = readdirSync(out);
    for (const want of ['index.html', 'metadata.json']) assert(names.includes(want), `${want} missing: ${names}`);
    assert(names.some((n) => /^tiles-[0-9a-f]{12}\.pmtiles$/.test(n)), `no hashed archive: ${names}`);
    assert(!names.some((n) => n.startsWith('.')), `leftovers: ${names}`);
  });
  if (!published) return null;
  const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
  const cfg = JSON.parse(/<script type="application\/json" id="placemap-bundle">([\s\S]*?)<\/script>/.exec(readFileSync(join(out, 'index.html'), 'utf8'))[1]);
  const legend = JSON.parse(readFileSync(join(out, cfg.legend), 'utf8'));
  const districts = JSON.parse(readFileSync(join(out, cfg.districts), 'utf8')).districts;
  const hartlepool = districts.find((d) => d.code === HARTLEPOOL.code);
  const cls = legend.entries.find((e) => hartlepool.value <= e.upper) || legend.entries[legend.entries.length - 1];
  const want = [1, 3, 5].map((i) => parseInt(cls.color.slice(i, i + 2), 16));
  return { name, meta, hartlepool, cls, want };
}

/** An uploaded dataset: IMD 2019 File 10 stored with `placemap datasets add`; the id of its
 *  average score indicator. */
async function uploadDataset() {
  let id = null;
  await check('an uploaded dataset is stored (placemap datasets add)', async () => {
    const data = process.env.PLACEMAP_DATA || join(REPO, '..', 'shared', 'data');
    const p = placemap(['datasets', 'add', join(data, 'imd2019_lad_summaries_file10.csv'), '--id', 'imd_upload',
      '--title', 'IMD 2019 as uploaded', '--layers', 'lad19']);
    assert(p.status === 0, `exit ${p.status}: ${p.stderr}`);
    const report = JSON.parse(p.stdout);
    const score = report.indicators.find((i) => /IMD - Average score/.test(i.title));
    assert(score && score.matched >= 317, `no matched average score: ${JSON.stringify(report.indicators.map((i) => [i.id, i.title, i.matched]))}`);
    id = score.id;
  });
  return id;
}

async function run() {
  work = mkdtempSync(join(tmpdir(), 'placemap-publish-'));
  const bundles = [await publish('catalogue', 'imd_score')];
  const dataset = await uploadDataset();
  if (dataset) {
    const bundle = await publish('dataset', dataset);
    bundles.push(bundle);
    if (bundle) {
      await check('dataset: metadata.json names the version the bundle shows', async () => {
        const ind = bundle.meta.indicator;
        assert(ind.version === 1 && ind.pinned_id === `${dataset}@1`, `indicator ${JSON.stringify(ind)}`);
      });
    }
  }
  if (bundles.some((b) => !b)) return;

  // Both bundles under one plain static server, each in its own folder (relative paths only).
  const seen = [];
  const base = await serve(join(work, 'site'), seen);
  log(`bundles served at ${base}`);

  const context = await chromium.launchPersistentContext(join(work, 'chromium'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
      '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1000, height: 700 },
    deviceScaleFactor: 1,
    serviceWorkers: 'block'
  });
  browser = context;
  const foreign = [];
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(base) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    foreign.push(u);
    return route.abort('blockedbyclient');
  });
  for (const bundle of bundles) await checkBundle(context, base, seen, foreign, bundle);
}

/** The map of one bundle in Chromium: painted, tooltip, range requests, downloads, credits. */
async function checkBundle(context, base, seen, foreign, { name, meta, hartlepool, cls, want }) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const root = `${base}/${name}`;

  const loaded = await check(`${name}: the page loads and the map is drawn`, async () => {
    const res = await page.goto(`${root}/`, { waitUntil: 'load' });
    assert(res && res.ok(), `HTTP ${res && res.status()}`);
    await page.waitForFunction(() => document.body.getAttribute('data-state') === 'ready' && window.placemapMap);
  });
  if (!loaded) return;

  let point = null;
  await check(`${name}: Hartlepool is painted in its legend colour ${cls.color}`, async () => {
    const r = await page.evaluate(([lon, lat]) => new Promise((done) => {
      const map = window.placemapMap;
      map.jumpTo({ center: [lon, lat], zoom: 9 });
      map.once('idle', () => {
        const p = map.project([lon, lat]);
        const c = document.createElement('canvas');
        c.width = map.getCanvas().width;
        c.height = map.getCanvas().height;
        const ctx = c.getContext('2d');
        ctx.drawImage(map.getCanvas(), 0, 0);
        done({ px: Array.from(ctx.getImageData(Math.round(p.x), Math.round(p.y), 1, 1).data), x: p.x, y: p.y });
      });
      map.triggerRepaint();
    }), [HARTLEPOOL.lon, HARTLEPOOL.lat]);
    point = r;
    assert(r.px.slice(0, 3).every((v, i) => Math.abs(v - want[i]) <= 3), `pixel ${r.px}, want ${want}`);
  });

  await check(`${name}: the tooltip shows Hartlepool's value`, async () => {
    const box = await page.locator('#map').boundingBox();
    await page.mouse.move(box.x + point.x, box.y + point.y);
    await page.waitForFunction((code) => {
      const t = document.getElementById('tooltip');
      return !t.hidden && t.dataset.code === code;
    }, HARTLEPOOL.code);
    const text = await page.innerText('#tooltip');
    const shown = hartlepool.value.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
    assert(text.includes(HARTLEPOOL.name) && text.includes(shown), `tooltip "${text}", want ${shown}`);
  });

  await check(`${name}: the archive is read with range requests`, async () => {
    const ranged = seen.filter((r) => r.path.startsWith(`/${name}/`) && r.path.endsWith('.pmtiles'));
    assert(ranged.length > 0 && ranged.every((r) => r.range), `archive requests: ${JSON.stringify(ranged.slice(0, 5))}`);
  });

  await check(`${name}: every download is in the folder and listed in metadata.json`, async () => {
    const links = await page.$$eval('#downloads a', (as) => as.map((a) => a.getAttribute('href')));
    assert(links.length >= 6, `links ${links}`);
    for (const href of links) {
      assert(!/^[a-z]+:|^\//.test(href), `not a relative path: ${href}`);
      const res = await fetch(`${root}/${href}`);
      assert(res.ok, `${href}: HTTP ${res.status}`);
      assert(href === 'metadata.json' || meta.files.some((f) => f.path === href), `${href} not in metadata.json`);
    }
    assert(meta.data_version && meta.layer.attribution && meta.indicator.licence, 'metadata lacks version or licences');
  });

  await check(`${name}: credits shown; no console errors; nothing requested from another host`, async () => {
    const attribution = await page.innerText('.maplibregl-ctrl-attrib');
    assert(/Office for National Statistics|Open Government Licence/.test(attribution), `attribution: ${attribution}`);
    assert(errors.length === 0, errors.join('\n'));
    assert(foreign.length === 0, `requests to other hosts: ${foreign.join(', ')}`);
  });
  await page.close();
}

let fatal = null;
try {
  await run();
} catch (err) {
  fatal = err;
  log(`FAIL  ${err && err.stack ? err.stack : err}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) server.close();
  if (work) rmSync(work, { recursive: true, force: true });
}

finish('publish', fatal);

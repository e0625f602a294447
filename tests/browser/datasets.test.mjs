// Browser test of the upload page (GET /datasets/new) in the system Chromium: a real table goes
// through the page (dry run, join report, description, token, save) and lands on the map of the
// new dataset, whose embed code and downloads pin the version shown.
//
//   node datasets.test.mjs     # starts $PLACEMAP_BIN (default ../../target/debug/placemap)
//
// It always starts its own server, with a temporary state directory and a known token
// (PLACEMAP_TOKEN), serving the lad21 layer only; PLACEMAP_DATA, if set, becomes --data and is
// where the real table is read from (default ../shared/data beside the repository).
// CHROMIUM overrides the browser path. Exits non-zero, naming each failed check, on failure.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { assert, check, log, results } from './harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const DATA = process.env.PLACEMAP_DATA || resolve(REPO, '..', 'shared', 'data');
const TOKEN = 'browser-test-token-' + process.pid;
const LAYER = 'lad21';
const DATASET_ID = 'gcse_2019';
const STEP_TIMEOUT_MS = 30_000;
const SERVER_START_TIMEOUT_MS = 180_000;

let serverProc = null;
let browser = null;
const tempDirs = [];

function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

function isLocalUrl(u) {
  if (u.startsWith('data:') || u.startsWith('blob:') || u === 'about:blank') return true;
  try {
    const host = new URL(u).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
  } catch {
    return false;
  }
}

function startServer(stateDir) {
  const bin = process.env.PLACEMAP_BIN || join(REPO, 'target', 'debug', 'placemap');
  const args = ['--state', stateDir, 'serve', '--addr', '127.0.0.1:0', '--layers', LAYER];
  if (process.env.PLACEMAP_DATA) args.unshift('--data', process.env.PLACEMAP_DATA);
  log(`starting ${bin} ${args.join(' ')}`);
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env, PLACEMAP_TOKEN: TOKEN };
    const proc = spawn(bin, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    serverProc = proc;
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      reject(new Error(`server printed no "listening on" line within ${SERVER_START_TIMEOUT_MS} ms\nstderr: ${err.slice(-4000)}`));
    }, SERVER_START_TIMEOUT_MS);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${bin}: ${e.message} (build it with cargo build -p placemap, or set PLACEMAP_BIN)`));
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

/** One CSV line into fields (quoted fields may hold commas and doubled quotes). */
function csvFields(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * The real DfE table of GCSE English and maths by 19 for the 2019/20 cohort, on the district
 * codes of 2019 (so the Buckinghamshire and Northamptonshire districts merged since do not
 * match lad21, and the regions are aggregates): Code,Name,GCSE.
 */
function realTable() {
  const path = join(DATA, 'els_gcse_eng_maths_by_19_2017_2025_lad.csv');
  const lines = readFileSync(path, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/);
  const head = csvFields(lines[0]);
  const col = (name) => head.indexOf(name);
  const [code, name, period, value] = [col('areacd'), col('areanm'), col('period'), col('observation')];
  assert(code >= 0 && value >= 0, `unexpected header in ${path}: ${head}`);
  const rows = ['Code,Name,GCSE English and maths by 19 (%)'];
  for (const line of lines.slice(1)) {
    const f = csvFields(line);
    if (f[period] !== '2019-09-01/P1Y' || !/^E(06|07|08|09|12)/.test(f[code] || '')) continue;
    rows.push(`${f[code]},"${f[name].replace(/"/g, '""')}",${f[value]}`);
  }
  assert(rows.length > 300, `only ${rows.length} rows read from ${path}`);
  return rows.join('\n') + '\n';
}

/** Waits for painted map tiles of `urlPart` (a tile with a non-transparent pixel). */
async function waitForPaintedTiles(page, urlPart) {
  const handle = await page.waitForFunction((part) => {
    const imgs = Array.from(document.querySelectorAll('#placemap-map img.leaflet-tile'))
      .filter((img) => img.src.includes(part) && img.complete && img.naturalWidth > 0);
    if (imgs.length === 0) return false;
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    for (const img of imgs) {
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) return { sample: img.src, count: imgs.length };
    }
    return false;
  }, urlPart, { timeout: STEP_TIMEOUT_MS, polling: 200 });
  return handle.jsonValue();
}

async function run() {
  const table = realTable();
  const work = tempDir('placemap-upload-');
  const csvPath = join(work, 'gcse_2019_lad19.csv');
  writeFileSync(csvPath, table);
  const base = await startServer(tempDir('placemap-state-'));
  log(`server is at ${base}`);

  const context = await chromium.launchPersistentContext(tempDir('placemap-chromium-'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1024, height: 900 },
    deviceScaleFactor: 1,
    serviceWorkers: 'block'
  });
  browser = context;
  const requests = [];
  const foreign = [];
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (isLocalUrl(u)) return route.continue();
    foreign.push(u);
    return route.abort('blockedbyclient');
  });
  context.on('request', (req) => requests.push(req.url()));

  const page = context.pages()[0] || (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    // The 401 and 409 answers this test provokes are logged by Chromium as failed loads.
    if (m.type() === 'error' && !/status of 40[19]/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);

  const pageUrl = `${base}/datasets/new`;
  const loaded = await check(`load ${pageUrl}`, async () => {
    const res = await page.goto(pageUrl, { waitUntil: 'load' });
    assert(res && res.ok(), `GET ${pageUrl}: HTTP ${res && res.status()}`);
    assert((res.headers()['content-type'] || '').startsWith('text/html'), 'not HTML');
    await page.waitForSelector(`#layer option[value="${LAYER}"]`, { state: 'attached' });
  });
  if (!loaded) return;

  await check('every field has a label', async () => {
    const unlabelled = await page.evaluate(() => Array.from(document.querySelectorAll('input, select, textarea'))
      .filter((el) => !el.labels || el.labels.length === 0 || !el.labels[0].textContent.trim())
      .map((el) => el.id));
    assert(unlabelled.length === 0, `fields without a label: ${unlabelled.join(', ')}`);
    assert(await page.getAttribute('#token', 'type') === 'password', 'the token field is not a password field');
  });

  await check('a wrong token is refused with the server\'s error and hint', async () => {
    await page.setInputFiles('#file', csvPath);
    await page.fill('#token', 'not-the-token');
    await page.click('#check');
    await page.waitForSelector('#error', { state: 'visible' });
    const msg = await page.innerText('#error');
    assert(/token was not accepted/i.test(msg) && /Bearer/.test(msg), `error "${msg}"`);
    assert(await page.isDisabled('#save'), 'save is enabled after a failed check');
  });

  await check('a pasted table (tab-separated, as copied from a spreadsheet) is checked too', async () => {
    await page.setInputFiles('#file', []);
    const tsv = table.split('\n').slice(0, 40).map((l) => csvFields(l).join('\t')).join('\n');
    await page.fill('#paste', tsv);
    await page.fill('#token', TOKEN);
    await page.click('#check');
    await page.waitForSelector('#report', { state: 'visible' });
    await page.waitForSelector('#error', { state: 'hidden' });
    const format = await page.innerText('#detection');
    assert(/TSV/.test(format), `detection "${format}" does not say TSV`);
    await page.fill('#paste', '');
  });

  await check('the file is checked: detection and join report with reasons', async () => {
    await page.setInputFiles('#file', csvPath);
    await page.click('#check');
    await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Checked'));
    const det = await page.innerText('#detection');
    assert(det.includes('Code') && det.includes('line 1'), `detection "${det}" lacks the code column / header row`);
    assert(det.includes(`(${LAYER})`), `detection "${det}" lacks the layer ${LAYER}`);
    const inds = await page.innerText('#indicators tbody');
    assert(/of \d+/.test(inds), `indicators "${inds}"`);
    const summary = await page.innerText('#join-summary');
    assert(/\d+ of \d+ districts of lad21 have a row/.test(summary), `join summary "${summary}"`);
    const unmatched = await page.$$eval('#unmatched tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells).map((c) => c.textContent)));
    const aylesbury = unmatched.find((r) => r[0] === 'E07000004');
    assert(aylesbury, `E07000004 (Aylesbury Vale) not among unmatched codes ${JSON.stringify(unmatched)}`);
    assert(/earlier vintage/.test(aylesbury[2]) && aylesbury[2].includes('E06000060'), `reason "${aylesbury[2]}"`);
    const regions = await page.$$eval('#not-districts tbody tr', (trs) => trs.map((tr) => tr.cells[0].textContent));
    assert(regions.includes('E12000001'), `regions left out: ${regions}`);
    assert(await page.isEnabled('#save'), 'save is not enabled after a good check');
  });

  let mapPath = null;
  await check('save lands on the interactive map of the new dataset', async () => {
    await page.fill('#title', 'GCSE English and maths by 19, 2019/20 cohort');
    await page.fill('#unit', '%');
    await page.selectOption('#direction', 'higher_is_better');
    await page.fill('#id', DATASET_ID);
    await Promise.all([
      page.waitForURL((u) => u.pathname.startsWith(`/map/${LAYER}/`), { timeout: STEP_TIMEOUT_MS }),
      page.click('#save')
    ]);
    mapPath = new URL(page.url()).pathname;
    assert(mapPath === `/map/${LAYER}/${DATASET_ID}`, `landed on ${page.url()}`);
    await page.waitForSelector(`#placemap-legend[data-indicator="${DATASET_ID}"]`);
    const legend = await page.innerText('#placemap-legend');
    assert(legend.includes('%'), `legend "${legend}" lacks the unit`);
    await waitForPaintedTiles(page, `/tiles/${LAYER}/${DATASET_ID}/`);
    const title = await page.title();
    assert(title.startsWith('GCSE English and maths by 19'), `page title "${title}"`);
  });

  await check('the map pins version 1 in its embed code and download links', async () => {
    await page.click('#placemap-embed-button');
    const code = await page.inputValue('#placemap-embed-code');
    const want = `<iframe src="${base}/map/${LAYER}/${DATASET_ID}@1#`;
    assert(code.startsWith(want), `embed code "${code}" does not start with ${want}`);
    const png = await page.getAttribute('#placemap-download-png', 'href');
    const svg = await page.getAttribute('#placemap-download-svg', 'href');
    assert(png.startsWith(`/static/${LAYER}/${DATASET_ID}@1.png?`), `PNG link ${png}`);
    assert(svg.startsWith(`/static/${LAYER}/${DATASET_ID}@1.svg?`), `SVG link ${svg}`);
    const r = await page.request.get(base + png);
    assert(r.status() === 200 && r.headers()['content-type'] === 'image/png', `PNG ${r.status()}`);
  });

  await check('saving the same id again shows the conflict on the page', async () => {
    await page.goto(pageUrl);
    assert(await page.inputValue('#token') === TOKEN, 'the token was not kept for this tab');
    assert(await page.evaluate(() => window.localStorage.length) === 0, 'something was put in localStorage');
    await page.setInputFiles('#file', csvPath);
    await page.fill('#id', DATASET_ID);
    await page.click('#check');
    await page.waitForSelector('#error', { state: 'visible' });
    const msg = await page.innerText('#error');
    assert(msg.includes('taken') && msg.includes(`PUT /datasets/${DATASET_ID}`), `error "${msg}"`);
  });

  await check('no page errors', async () => {
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });
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
  if (serverProc && serverProc.exitCode === null && serverProc.signalCode === null) serverProc.kill('SIGTERM');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok).length + (fatal ? 1 : 0);
const passed = results.filter((r) => r.ok).length;
log(`\nbrowser (datasets): ${passed} passed, ${failed} failed`);
if (failed > 0) {
  for (const r of results.filter((x) => !x.ok)) log(`  failed: ${r.name}`);
  if (fatal) log(`  failed: ${fatal.message}`);
}
process.exit(failed > 0 ? 1 : 0);

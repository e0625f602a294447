// A published placemap map: MapLibre GL JS reading the bundle's PMTiles archive with HTTP
// range requests, styled by the bundle's MapLibre style, with the legend, a tooltip, search and
// the downloads. Everything comes from this folder; no other host is asked for anything.

const cfg = JSON.parse(document.getElementById('placemap-bundle').textContent);
const abs = (path) => new URL(path, location.href).href;
const maplibregl = await import(abs(document.querySelector('script[data-maplibre]').dataset.maplibre));

const getJson = async (path) => {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${path}`);
  return res.json();
};

const protocol = new pmtiles.Protocol();
maplibregl.addProtocol('pmtiles', protocol.tile);

const [style, districtsDoc, legend] = await Promise.all([
  getJson(cfg.style), getJson(cfg.districts), getJson(cfg.legend)
]);
// The style names the bundle's files relative to it; MapLibre wants absolute addresses.
for (const source of Object.values(style.sources)) {
  if (source.url && source.url.startsWith('pmtiles://')) source.url = 'pmtiles://' + abs(source.url.slice('pmtiles://'.length));
}
if (style.sprite) style.sprite = abs(style.sprite);

const byCode = new Map(districtsDoc.districts.map((d) => [d.code, d]));
const fillLayer = `${cfg.layer}-fill`;

const b = cfg.bounds || [-6.5, 49.8, 2.0, 55.9];
const map = new maplibregl.Map({
  container: 'map',
  style,
  bounds: [[b[0], b[1]], [b[2], b[3]]],
  fitBoundsOptions: { padding: 20 },
  attributionControl: { compact: false },
  canvasContextAttributes: { preserveDrawingBuffer: true }
});
window.placemapMap = map;
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');

// ---- tooltip
const tip = document.getElementById('tooltip');
const fmt = (v) => {
  if (v === null || v === undefined) return 'No data';
  if (typeof v !== 'number') return String(v);
  const n = new Intl.NumberFormat('en-GB', { maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 2 }).format(v);
  const unit = districtsDoc.unit || '';
  if (unit.startsWith('%')) return n + unit;
  if (unit.startsWith('£')) return '£' + n + unit.slice(1);
  return unit ? `${n} ${unit}` : n;
};
const showTip = (d, point) => {
  tip.textContent = '';
  for (const [cls, text] of [['name', d.name], ['value', fmt(d.value)], ['period', `${cfg.title}, ${districtsDoc.showing}`]]) {
    const div = document.createElement('div');
    div.className = cls;
    div.textContent = text;
    tip.appendChild(div);
  }
  tip.dataset.code = d.code;
  tip.hidden = false;
  tip.style.left = `${point.x + 14}px`;
  tip.style.top = `${point.y + 14}px`;
};
map.on('mousemove', (e) => {
  const f = map.queryRenderedFeatures(e.point, { layers: [fillLayer] })[0];
  const d = f && byCode.get(f.properties.code);
  if (d) showTip(d, e.point);
  else tip.hidden = true;
});
map.on('mouseout', () => { tip.hidden = true; });

// ---- legend
const legendBox = document.getElementById('legend');
const h = document.createElement('h2');
h.textContent = legend.title;
legendBox.appendChild(h);
const sub = document.createElement('p');
sub.textContent = [legend.unit, legend.period].filter(Boolean).join(' · ');
legendBox.appendChild(sub);
const ul = document.createElement('ul');
const row = (colour, label, count, noData) => {
  const li = document.createElement('li');
  const sw = document.createElement('span');
  sw.className = noData ? 'swatch no-data' : 'swatch';
  if (!noData) sw.style.backgroundColor = colour;
  const text = document.createElement('span');
  text.textContent = label;
  const n = document.createElement('span');
  n.className = 'count';
  n.textContent = String(count);
  li.append(sw, text, n);
  return li;
};
for (const e of legend.entries || []) ul.appendChild(row(e.color, e.label, e.count, false));
if (legend.no_data && legend.no_data.count > 0) ul.appendChild(row(legend.no_data.color, legend.no_data.label, legend.no_data.count, true));
legendBox.appendChild(ul);

// ---- search
const list = document.getElementById('areas');
for (const d of districtsDoc.districts) {
  const o = document.createElement('option');
  o.value = d.name;
  list.appendChild(o);
}
const search = document.getElementById('search');
search.addEventListener('change', () => {
  const want = search.value.trim().toLowerCase();
  const d = districtsDoc.districts.find((x) => x.name.toLowerCase() === want);
  if (d && d.bbox) map.fitBounds([[d.bbox[0], d.bbox[1]], [d.bbox[2], d.bbox[3]]], { padding: 40, maxZoom: 11 });
});

// ---- downloads
const downloads = document.getElementById('downloads');
for (const [label, path] of Object.entries(cfg.downloads)) {
  const li = document.createElement('li');
  const a = document.createElement('a');
  a.href = path;
  a.textContent = label;
  if (!path.endsWith('.json')) a.setAttribute('download', path);
  li.appendChild(a);
  downloads.appendChild(li);
}

map.on('load', () => document.body.setAttribute('data-state', 'ready'));

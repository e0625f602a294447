// placemap interactive map: choropleth tiles on a Leaflet map, served at /map/{layer}/{indicator}.
//
// Everything it asks for comes from the server that served the page (root-relative URLs only):
//   /layers, /layers/{layer}/districts, /tiles/..., /legend/...json, /lookup.
// State that can be shared lives in the URL: the path names layer and indicator, the hash holds
// #zoom/lat/lon/indicator/period/style (the style part also holds region=). Tests reach the Leaflet map as window.placemapMap.
(function () {
  'use strict';

  /** Throttle interval of hover lookups (ms). */
  var LOOKUP_INTERVAL_MS = 100;
  /** Most search suggestions shown at once. */
  var MAX_SUGGESTIONS = 12;
  var MAP_PATH = /^\/map\/([^/]+)\/([^/]+)\/?$/;

  var els = {
    root: document.documentElement,
    title: document.getElementById('placemap-title'),
    indicator: document.getElementById('placemap-indicator'),
    periodField: document.getElementById('placemap-period-field'),
    period: document.getElementById('placemap-period'),
    regionField: document.getElementById('placemap-region-field'),
    region: document.getElementById('placemap-region'),
    search: document.getElementById('placemap-search'),
    searchClear: document.getElementById('placemap-search-clear'),
    results: document.getElementById('placemap-search-results'),
    downloadPng: document.getElementById('placemap-download-png'),
    downloadSvg: document.getElementById('placemap-download-svg'),
    embedButton: document.getElementById('placemap-embed-button'),
    embed: document.getElementById('placemap-embed'),
    embedCode: document.getElementById('placemap-embed-code'),
    embedStatus: document.getElementById('placemap-embed-status'),
    message: document.getElementById('placemap-message'),
    legend: document.getElementById('placemap-legend'),
    description: document.getElementById('placemap-description'),
    mapBox: document.getElementById('placemap-map'),
    tooltip: document.getElementById('placemap-tooltip'),
    styleBox: document.getElementById('placemap-style'),
    scheme: document.getElementById('placemap-scheme'),
    k: document.getElementById('placemap-k'),
    palette: document.getElementById('placemap-palette'),
    reverse: document.getElementById('placemap-reverse'),
    changeField: document.getElementById('placemap-change-field'),
    change: document.getElementById('placemap-change'),
    changeFrom: document.getElementById('placemap-change-from'),
    changeTo: document.getElementById('placemap-change-to'),
    changeKind: document.getElementById('placemap-change-kind'),
    tableBox: document.getElementById('placemap-table-box'),
    table: document.getElementById('placemap-table'),
    tableBody: document.querySelector('#placemap-table tbody'),
    tableCaption: document.getElementById('placemap-table-caption'),
    tableNote: document.getElementById('placemap-table-note')
  };

  var state = {
    layer: null, // layer entry from /layers
    indicator: null, // indicator entry of that layer
    period: null, // selected period (string) or null when the indicator has none
    highlight: null, // GSS code of the district found by search, drawn highlighted
    description: '', // the map in words, written by the server from the data (legend JSON)
    // How the map is classed and coloured (empty: the server's default), and a change between
    // two periods instead of one period, and the region shown (its slug; empty: every district).
    // Kept in the URL hash so every view can be shared.
    style: { scheme: '', k: '', palette: '', reverse: false, change: null, region: '' },
    districts: [], // [{code, name, bbox, key}] for search
    pathMatched: false // whether the page path is /map/{layer}/{indicator} (then we keep it in sync)
  };

  var map = null;
  var tiles = null;
  var attributionText = null;

  // ---------------------------------------------------------------- small helpers

  function setStatus(s) {
    els.root.setAttribute('data-placemap-state', s);
  }

  function showMessage(text) {
    els.message.textContent = text;
    els.message.hidden = !text;
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  /** Fetches JSON from this server; a 4xx/5xx becomes an Error carrying the API's error and hint. */
  function getJson(url) {
    return fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' }).then(function (res) {
      return res.text().then(function (body) {
        var data = null;
        try {
          data = body ? JSON.parse(body) : null;
        } catch (e) {
          data = null;
        }
        if (!res.ok) {
          var msg = data && data.error ? data.error : 'HTTP ' + res.status + ' for ' + url;
          if (data && data.hint) msg += ' (' + data.hint + ')';
          throw new Error(msg);
        }
        if (data === null) throw new Error('not JSON: ' + url);
        return data;
      });
    });
  }

  function formatNumber(v) {
    var abs = Math.abs(v);
    var digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : 2;
    return new Intl.NumberFormat('en-GB', { maximumFractionDigits: digits }).format(v);
  }

  /** Value with its unit, the way people write them: "74.2%", "£587.5 per week", "35.04 score". */
  function formatValue(value, unit) {
    if (value === null || value === undefined) return 'No data';
    if (typeof value !== 'number') return String(value); // categorical
    var n = formatNumber(value);
    unit = unit || '';
    if (unit.charAt(0) === '%') return n + unit;
    if (unit.charAt(0) === '£') return '£' + n + unit.slice(1);
    return unit ? n + ' ' + unit : n;
  }

  function ordinal(n) {
    var mod100 = n % 100;
    if (mod100 >= 11 && mod100 <= 13) return n + 'th';
    switch (n % 10) {
      case 1: return n + 'st';
      case 2: return n + 'nd';
      case 3: return n + 'rd';
      default: return n + 'th';
    }
  }

  function fold(s) {
    return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  }

  function bboxToBounds(b) {
    return L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
  }

  function panelPadding() {
    // Keep what we fit clear of the control panel when there is room beside it.
    var w = map.getSize().x;
    return w > 700 ? { paddingTopLeft: [270, 10], paddingBottomRight: [10, 10] } : { padding: [10, 10] };
  }

  // ---------------------------------------------------------------- configuration and URL

  /** Layer and indicator: from the page's own path, else from the server-filled config element. */
  function readConfig() {
    var cfg = {};
    try {
      cfg = JSON.parse(document.getElementById('placemap-config').textContent) || {};
    } catch (e) {
      cfg = {};
    }
    var lists = {
      schemes: Array.isArray(cfg.schemes) ? cfg.schemes : ['quantile', 'equal', 'jenks', 'stddev'],
      palettes: Array.isArray(cfg.palettes) ? cfg.palettes : [],
      regions: Array.isArray(cfg.regions) ? cfg.regions : [] // [{name, slug}] region= takes on this layer
    };
    var m = MAP_PATH.exec(location.pathname);
    if (m) {
      state.pathMatched = true;
      return { layer: decodeURIComponent(m[1]), indicator: decodeURIComponent(m[2]), lists: lists };
    }
    return { layer: String(cfg.layer || ''), indicator: String(cfg.indicator || ''), lists: lists };
  }

  // ---------------------------------------------------------------- style (classes, colours, change)

  var SCHEME_NAMES = { quantile: 'Quantiles', equal: 'Equal intervals', jenks: 'Natural breaks (Jenks)', stddev: 'Standard deviations' };

  function fillStyleControls(lists) {
    lists.schemes.forEach(function (name) {
      var opt = document.createElement('option');
      opt.value = name;
      opt.textContent = SCHEME_NAMES[name] || name;
      els.scheme.appendChild(opt);
    });
    for (var k = 3; k <= 9; k++) {
      var o = document.createElement('option');
      o.value = String(k);
      o.textContent = String(k);
      els.k.appendChild(o);
    }
    lists.palettes.forEach(function (name) {
      var opt = document.createElement('option');
      opt.value = name;
      opt.textContent = name;
      els.palette.appendChild(opt);
    });
    lists.regions.forEach(function (r) {
      if (!r || !r.slug) return;
      var opt = document.createElement('option');
      opt.value = r.slug;
      opt.textContent = r.name || r.slug;
      els.region.appendChild(opt);
    });
    els.regionField.hidden = lists.regions.length === 0;
  }

  /** The style as the hash's sixth part: `scheme=jenks&k=7&palette=Blues&reverse=1&change=2010..2020&change_kind=pct&region=north-east`. */
  function styleHashPart() {
    var st = state.style;
    var q = [];
    if (st.region) q.push('region=' + encodeURIComponent(st.region));
    if (st.scheme) q.push('scheme=' + encodeURIComponent(st.scheme));
    if (st.k) q.push('k=' + encodeURIComponent(st.k));
    if (st.palette) q.push('palette=' + encodeURIComponent(st.palette));
    if (st.reverse) q.push('reverse=1');
    if (st.change) {
      q.push('change=' + encodeURIComponent(st.change.from + '..' + st.change.to));
      if (st.change.kind === 'pct') q.push('change_kind=pct');
    }
    return q.join('&');
  }

  function parseStylePart(part) {
    var st = { scheme: '', k: '', palette: '', reverse: false, change: null, region: '' };
    if (!part) return st;
    var kind = 'diff';
    var change = null;
    decodeURIComponent(part).split('&').forEach(function (kv) {
      var i = kv.indexOf('=');
      if (i < 0) return;
      var k = kv.slice(0, i);
      var v = decodeURIComponent(kv.slice(i + 1));
      if (k === 'scheme') st.scheme = v;
      else if (k === 'k') st.k = v;
      else if (k === 'palette') st.palette = v;
      else if (k === 'reverse') st.reverse = v === '1' || v === 'true';
      else if (k === 'change') change = v;
      else if (k === 'change_kind') kind = v === 'pct' ? 'pct' : 'diff';
      else if (k === 'region') st.region = v;
    });
    if (change && change.indexOf('..') > 0) {
      var ends = change.split('..');
      st.change = { from: ends[0], to: ends[1], kind: kind };
    }
    return st;
  }

  /** The query of tiles, legend, table and figures for what is on screen: style, period or
   *  change, and region (its classes divide the region's districts; the others are not drawn). */
  function styleQuery() {
    var st = state.style;
    var q = [];
    if (st.region) q.push('region=' + encodeURIComponent(st.region));
    if (st.scheme) q.push('scheme=' + encodeURIComponent(st.scheme));
    if (st.k) q.push('k=' + encodeURIComponent(st.k));
    if (st.palette) q.push('palette=' + encodeURIComponent(st.palette));
    if (st.reverse) q.push('reverse=true');
    if (st.change) {
      q.push('change=' + encodeURIComponent(st.change.from + '..' + st.change.to));
      if (st.change.kind === 'pct') q.push('change_kind=pct');
    } else if (state.period) {
      q.push('year=' + encodeURIComponent(state.period));
    }
    return q;
  }

  /** Shows the style in the controls; the change controls only for numeric indicators with
   *  two periods or more. */
  function syncStyleControls() {
    var st = state.style;
    els.scheme.value = st.scheme;
    els.k.value = st.k;
    els.palette.value = st.palette;
    els.reverse.checked = st.reverse;
    els.region.value = st.region;
    if (els.region.value !== st.region) st.region = ''; // not a region of this layer
    var periods = state.indicator.periods || [];
    var changeable = periods.length >= 2 && !state.indicator.categorical;
    els.changeField.hidden = !changeable;
    els.scheme.disabled = els.k.disabled = !!state.indicator.categorical;
    [els.changeFrom, els.changeTo].forEach(function (sel) {
      sel.textContent = '';
      periods.forEach(function (p) {
        var opt = document.createElement('option');
        opt.value = p;
        opt.textContent = p;
        sel.appendChild(opt);
      });
    });
    if (st.change && changeable) {
      els.change.checked = true;
      els.changeFrom.value = st.change.from;
      els.changeTo.value = st.change.to;
      els.changeKind.value = st.change.kind;
    } else {
      els.change.checked = false;
      els.changeFrom.value = periods[0] || '';
      els.changeTo.value = periods[periods.length - 1] || '';
    }
    els.changeFrom.disabled = els.changeTo.disabled = els.changeKind.disabled = !els.change.checked;
    els.period.disabled = !!(st.change && changeable);
    if (st.scheme || st.k || st.palette || st.reverse || st.change) els.styleBox.open = true;
  }

  /** Reads the controls into the style and redraws. */
  function onStyleInput() {
    var changeOn = els.change.checked && els.changeFrom.value && els.changeTo.value &&
      els.changeFrom.value !== els.changeTo.value;
    state.style = {
      scheme: els.scheme.value,
      k: els.k.value,
      palette: els.palette.value,
      reverse: els.reverse.checked,
      region: els.region.value,
      change: changeOn ? { from: els.changeFrom.value, to: els.changeTo.value, kind: els.changeKind.value } : null
    };
    els.changeFrom.disabled = els.changeTo.disabled = els.changeKind.disabled = !els.change.checked;
    els.period.disabled = !!state.style.change;
    redraw();
  }

  /** A region was chosen: redraw, and show it whole. */
  function onRegionInput() {
    var before = state.style.region;
    onStyleInput();
    var region = state.style.region;
    if (region === before) return;
    var q = region ? '?region=' + encodeURIComponent(region) : '';
    getJson('/layers/' + encodeURIComponent(state.layer.id) + '/districts' + q).then(function (data) {
      if (state.style.region !== region) return;
      var b = null;
      (data.districts || []).forEach(function (d) {
        if (!Array.isArray(d.bbox) || d.bbox.length !== 4) return;
        var db = bboxToBounds(d.bbox);
        if (b) b.extend(db);
        else b = db;
      });
      map.fitBounds(region && b ? b : englandBounds(), panelPadding());
    }, function (err) {
      showMessage('Region unavailable: ' + err.message);
    });
  }

  /** Tiles, legend, downloads, URL and the data table follow the state. */
  function redraw() {
    hideTooltip();
    if (tiles) tiles.setUrl(tileUrl());
    loadLegend();
    updateUrl();
    loadTable();
  }

  // ---------------------------------------------------------------- data table (keyboard and screen readers)

  /** Rows shown at most: a layer of 32,844 small areas is listed by its top and bottom. */
  var TABLE_MAX_ROWS = 1000;
  var table = { rows: [], sort: 'value', dir: -1, token: 0, unit: '', showing: '' };

  /** The map's data as a table, fetched when the table is open (same values as the tiles). */
  function loadTable() {
    if (!els.tableBox.open || !state.indicator) return;
    var token = ++table.token;
    var q = ['indicator=' + encodeURIComponent(state.indicator.id)].concat(styleQuery());
    els.tableNote.textContent = 'Loading…';
    getJson('/layers/' + encodeURIComponent(state.layer.id) + '/districts?' + q.join('&')).then(function (data) {
      if (token !== table.token) return;
      var rows = (data.districts || []).map(function (d) {
        return { code: d.code, name: d.name, bbox: d.bbox, value: d.value, colour: d.colour };
      });
      // Rank 1 = highest value, as the tooltip's.
      var ranked = rows.filter(function (r) { return typeof r.value === 'number'; })
        .sort(function (a, b) { return b.value - a.value; });
      ranked.forEach(function (r, i) { r.rank = i + 1; });
      table.rows = rows;
      table.of = ranked.length;
      table.unit = data.unit || state.indicator.unit || '';
      table.showing = data.showing || '';
      renderTable();
    }, function (err) {
      if (token === table.token) els.tableNote.textContent = 'The table could not load: ' + err.message;
    });
  }

  function compareRows(a, b) {
    var k = table.sort;
    var av = a[k];
    var bv = b[k];
    var aMissing = av === null || av === undefined;
    var bMissing = bv === null || bv === undefined;
    if (aMissing || bMissing) return aMissing === bMissing ? a.name.localeCompare(b.name) : aMissing ? 1 : -1;
    if (typeof av === 'number' && typeof bv === 'number') return table.dir * (av - bv) || a.name.localeCompare(b.name);
    return table.dir * String(av).localeCompare(String(bv), 'en-GB');
  }

  function renderTable() {
    var rows = table.rows.slice().sort(compareRows);
    var shown = rows.length > TABLE_MAX_ROWS ? rows.slice(0, TABLE_MAX_ROWS) : rows;
    els.tableCaption.textContent = state.indicator.title + ', ' + table.showing +
      (table.unit ? ' (' + table.unit + ')' : '') + ': ' + rows.length + ' areas, ' + table.of + ' with a value.';
    els.tableNote.textContent = rows.length > shown.length
      ? 'Showing the first ' + shown.length + ' of ' + rows.length + ' in this order; sort the other way for the rest.' : '';
    var body = document.createDocumentFragment();
    shown.forEach(function (r) {
      var tr = document.createElement('tr');
      var th = document.createElement('th');
      th.scope = 'row';
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'placemap-district';
      b.textContent = r.name;
      b.setAttribute('data-code', r.code);
      th.appendChild(b);
      tr.appendChild(th);
      var v = document.createElement('td');
      v.textContent = formatValue(typeof r.value === 'number' || typeof r.value === 'string' ? r.value : null, table.unit);
      tr.appendChild(v);
      var rank = document.createElement('td');
      rank.textContent = r.rank ? String(r.rank) : '';
      tr.appendChild(rank);
      body.appendChild(tr);
    });
    els.tableBody.textContent = '';
    els.tableBody.appendChild(body);
    Array.prototype.forEach.call(els.table.querySelectorAll('thead th'), function (th) {
      var key = th.querySelector('button').getAttribute('data-sort');
      th.setAttribute('aria-sort', key === table.sort ? (table.dir > 0 ? 'ascending' : 'descending') : 'none');
    });
  }

  function rowByCode(code) {
    for (var i = 0; i < table.rows.length; i++) if (table.rows[i].code === code) return table.rows[i];
    return null;
  }

  /** A district in the table got focus: its tooltip, at the district, as hovering shows it. */
  function focusDistrict(code) {
    var r = rowByCode(code);
    if (!r || !Array.isArray(r.bbox)) return;
    var centre = bboxToBounds(r.bbox).getCenter();
    if (!map.getBounds().contains(centre)) map.panTo(centre, { animate: false });
    var values = {};
    values[state.indicator.id] = {
      value: r.value === undefined ? null : r.value,
      unit: table.unit,
      rank: r.rank,
      of: table.of,
      period: table.showing
    };
    showTooltip({ code: r.code, name: r.name, values: values }, map.latLngToContainerPoint(centre));
  }

  function wireTable() {
    els.tableBox.addEventListener('toggle', function () {
      if (els.tableBox.open) loadTable();
    });
    els.table.querySelector('thead').addEventListener('click', function (ev) {
      var b = ev.target.closest('button[data-sort]');
      if (!b) return;
      var key = b.getAttribute('data-sort');
      if (table.sort === key) table.dir = -table.dir;
      else {
        table.sort = key;
        table.dir = key === 'name' || key === 'rank' ? 1 : -1;
      }
      renderTable();
    });
    els.tableBody.addEventListener('focusin', function (ev) {
      var b = ev.target.closest('button.placemap-district');
      if (b) focusDistrict(b.getAttribute('data-code'));
    });
    els.tableBody.addEventListener('focusout', function () {
      hideTooltip();
    });
    els.tableBody.addEventListener('click', function (ev) {
      var b = ev.target.closest('button.placemap-district');
      var r = b && rowByCode(b.getAttribute('data-code'));
      if (r) chooseDistrict(r);
    });
  }

  /** Parses #zoom/lat/lon[/indicator[/period[/style]]]; fields that are missing or invalid are null. */
  function parseHash(hash) {
    var parts = hash.replace(/^#/, '').split('/');
    var z = parseFloat(parts[0]);
    var lat = parseFloat(parts[1]);
    var lon = parseFloat(parts[2]);
    var view = isFinite(z) && isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 85.06 && Math.abs(lon) <= 180 && z >= 0 && z <= 18
      ? { zoom: z, lat: lat, lon: lon } : null;
    return {
      view: view,
      indicator: parts[3] ? decodeURIComponent(parts[3]) : null,
      period: parts[4] ? decodeURIComponent(parts[4]) : null,
      style: parts[5] || ''
    };
  }

  /** The id that keeps showing what is on screen: an uploaded dataset's version is pinned
   *  (`my_data@3`), so embedded maps and downloads never change when the data is updated. */
  function pinnedId() {
    return state.indicator.pinned_id || state.indicator.id;
  }

  /** A path segment; `@` (allowed in paths) stays readable in `my_data@3`. */
  function segment(s) {
    return encodeURIComponent(s).replace(/%40/g, '@');
  }

  function currentHash(indicatorId) {
    var c = map.getCenter();
    var z = map.getZoom();
    var parts = [String(Math.round(z * 100) / 100), c.lat.toFixed(4), c.lng.toFixed(4),
      segment(indicatorId || state.indicator.id)];
    var style = styleHashPart();
    if (state.period || style) parts.push(encodeURIComponent(state.period || ''));
    if (style) parts.push(encodeURIComponent(style));
    return '#' + parts.join('/');
  }

  function currentPath() {
    if (!state.pathMatched) return location.pathname;
    return '/map/' + encodeURIComponent(state.layer.id) + '/' + segment(state.indicator.id);
  }

  function updateUrl() {
    if (!state.indicator) return;
    var url = currentPath() + location.search + currentHash();
    if (url !== location.pathname + location.search + location.hash) {
      history.replaceState(null, '', url);
    }
    if (!els.embed.hidden) els.embedCode.value = embedSnippet();
    updateDownloads();
  }

  // A finished figure of what is on screen (the server's static map: title, legend, credits),
  // for reports.
  function staticUrl(format) {
    var b = map.getBounds();
    var clamp = function (v, lo, hi) { return Math.max(lo, Math.min(hi, v)); };
    var box = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -85, 85),
      clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -85, 85)];
    // A region's figure frames the region (region= and bbox= are one or the other).
    var q = state.style.region ? [] : ['bbox=' + box.map(function (v) { return v.toFixed(4); }).join(',')];
    var size = map.getSize();
    q.push('width=' + Math.max(400, Math.min(2400, 2 * size.x)));
    q.push('height=' + Math.max(300, Math.min(2400, 2 * size.y)));
    q = q.concat(styleQuery());
    if (state.highlight) q.push('highlight=' + encodeURIComponent(state.highlight));
    return '/static/' + encodeURIComponent(state.layer.id) + '/' + segment(pinnedId()) +
      '.' + format + '?' + q.join('&');
  }

  function updateDownloads() {
    if (!state.indicator) return;
    els.downloadPng.href = staticUrl('png');
    els.downloadSvg.href = staticUrl('svg');
    var name = state.layer.id + '-' + pinnedId().replace('@', '-v');
    els.downloadPng.setAttribute('download', name + '.png');
    els.downloadSvg.setAttribute('download', name + '.svg');
  }

  // ---------------------------------------------------------------- tiles, attribution, legend

  function tileUrl() {
    var base = '/tiles/' + encodeURIComponent(state.layer.id) + '/' + encodeURIComponent(state.indicator.id) +
      '/{z}/{x}/{y}{r}.png'; // Leaflet fills {r} with "@2x" on high-DPI screens
    var q = styleQuery();
    if (state.highlight) q.push('highlight=' + encodeURIComponent(state.highlight));
    return q.length ? base + '?' + q.join('&') : base;
  }

  function updateAttribution() {
    var layer = state.layer;
    var ind = state.indicator;
    var parts = [];
    parts.push(escapeHtml(layer.attribution) + (layer.licence ? ' (' + escapeHtml(layer.licence) + ')' : ''));
    if (ind.attribution && ind.attribution !== layer.attribution) {
      parts.push(escapeHtml(ind.attribution) + (ind.licence ? ' (' + escapeHtml(ind.licence) + ')' : ''));
    } else if (ind.licence && ind.licence !== layer.licence) {
      parts.push(escapeHtml(ind.licence));
    }
    var text = parts.join('; ');
    if (attributionText) map.attributionControl.removeAttribution(attributionText);
    map.attributionControl.addAttribution(text);
    attributionText = text;
  }

  var legendToken = 0;

  function loadLegend() {
    var token = ++legendToken;
    var q = styleQuery();
    var url = '/legend/' + encodeURIComponent(state.layer.id) + '/' + encodeURIComponent(state.indicator.id) + '.json' +
      (q.length ? '?' + q.join('&') : '');
    return getJson(url).then(function (legend) {
      if (token === legendToken) renderLegend(legend);
    }, function (err) {
      if (token !== legendToken) return;
      els.legend.textContent = '';
      showMessage('Legend unavailable: ' + err.message);
    });
  }

  function legendRow(color, label, count, noData) {
    var li = document.createElement('li');
    var sw = document.createElement('span');
    // No data is hatched on the map, so its swatch is hatched too (placemap-swatch-no-data).
    sw.className = noData ? 'placemap-swatch placemap-swatch-no-data' : 'placemap-swatch';
    if (!noData) sw.style.backgroundColor = color;
    var text = document.createElement('span');
    text.textContent = label;
    li.appendChild(sw);
    li.appendChild(text);
    if (typeof count === 'number') {
      var c = document.createElement('span');
      c.className = 'placemap-count';
      c.textContent = String(count);
      c.title = count + ' districts';
      li.appendChild(c);
    }
    return li;
  }

  function renderLegend(legend) {
    var box = els.legend;
    box.textContent = '';
    var h = document.createElement('h2');
    h.textContent = legend.title || state.indicator.title;
    box.appendChild(h);
    var sub = [];
    if (legend.unit) sub.push(legend.unit);
    if (legend.period) sub.push(legend.period);
    if (state.indicator.direction === 'higher_is_worse') sub.push('higher is worse');
    if (state.indicator.direction === 'higher_is_better') sub.push('higher is better');
    if (sub.length) {
      var p = document.createElement('div');
      p.textContent = sub.join(' · ');
      box.appendChild(p);
    }
    var ul = document.createElement('ul');
    (legend.entries || []).forEach(function (e) {
      ul.appendChild(legendRow(e.color, e.label, e.count));
    });
    if (legend.no_data && legend.no_data.count > 0) {
      ul.appendChild(legendRow(legend.no_data.color, legend.no_data.label || 'No data', legend.no_data.count, true));
    }
    box.appendChild(ul);
    // Why districts have no data, where a boundary change explains it.
    (legend.no_data && legend.no_data.reasons || []).forEach(function (g) {
      var why = document.createElement('p');
      why.className = 'placemap-no-data-reason';
      why.textContent = g.text;
      box.appendChild(why);
    });
    // The credits are shown once, in the map's attribution (bottom right), not again here.
    box.setAttribute('data-indicator', state.indicator.id);
    box.setAttribute('data-period', legend.period || '');
    // The map in words: shown under the title, read as the map's label, and the embed code's
    // title.
    state.description = legend.description || '';
    els.description.textContent = state.description;
    els.mapBox.setAttribute('aria-label', state.description || 'Choropleth map');
    if (!els.embed.hidden) els.embedCode.value = embedSnippet();
  }

  // ---------------------------------------------------------------- indicator and period

  function fillIndicatorSelect() {
    els.indicator.textContent = '';
    state.layer.indicators.forEach(function (ind) {
      var opt = document.createElement('option');
      opt.value = ind.id;
      // Uploaded datasets list the latest version and each pinned one.
      opt.textContent = ind.title + (ind.id.indexOf('@') >= 0 && ind.version ? ' (version ' + ind.version + ')' : '');
      opt.title = opt.textContent; // the whole name where the drop-down cuts it
      els.indicator.appendChild(opt);
    });
    els.indicator.disabled = state.layer.indicators.length < 2;
  }

  function fillPeriodSelect() {
    var periods = state.indicator.periods || [];
    els.period.textContent = '';
    periods.forEach(function (p) {
      var opt = document.createElement('option');
      opt.value = p;
      opt.textContent = p;
      els.period.appendChild(opt);
    });
    els.period.value = state.period || '';
    els.periodField.hidden = periods.length < 2;
  }

  function findIndicator(id) {
    var list = state.layer.indicators;
    for (var i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
    return null;
  }

  function choosePeriod(ind, wanted) {
    var periods = ind.periods || [];
    if (wanted && periods.indexOf(wanted) >= 0) return wanted;
    if (ind.default_period) return ind.default_period;
    return periods.length ? periods[periods.length - 1] : null;
  }

  /** Switches indicator and/or period: tiles, legend, attribution, controls and URL follow. */
  function setIndicator(ind, period) {
    state.indicator = ind;
    state.period = choosePeriod(ind, period);
    els.indicator.value = ind.id;
    els.indicator.title = ind.title;
    fillPeriodSelect();
    // A change between periods the new indicator lacks is dropped, as are class options on a
    // categorical indicator.
    var periods = ind.periods || [];
    if (state.style.change && (periods.indexOf(state.style.change.from) < 0 || periods.indexOf(state.style.change.to) < 0 || ind.categorical)) {
      state.style.change = null;
    }
    if (ind.categorical) {
      state.style.scheme = '';
      state.style.k = '';
    }
    syncStyleControls();
    document.title = ind.title + ' · ' + state.layer.title + ' · placemap';
    els.title.textContent = state.layer.title;
    hideTooltip();
    if (tiles) {
      tiles.setUrl(tileUrl());
      updateAttribution();
    }
    loadLegend();
    updateUrl();
    loadTable();
  }

  // ---------------------------------------------------------------- hover / tap lookup

  var lookup = { pending: null, inFlight: false, timer: null, lastSent: 0, seq: 0, lastPoint: null };

  function requestLookup(latlng, point, now) {
    lookup.pending = { latlng: latlng, point: point, seq: lookup.seq };
    lookup.lastPoint = point;
    if (now && lookup.timer) {
      clearTimeout(lookup.timer);
      lookup.timer = null;
      lookup.lastSent = 0;
    }
    scheduleLookup();
  }

  function scheduleLookup() {
    if (lookup.inFlight || lookup.timer || !lookup.pending) return;
    var wait = Math.max(0, lookup.lastSent + LOOKUP_INTERVAL_MS - Date.now());
    lookup.timer = setTimeout(sendLookup, wait);
  }

  function sendLookup() {
    lookup.timer = null;
    var job = lookup.pending;
    lookup.pending = null;
    if (!job) return;
    lookup.inFlight = true;
    lookup.lastSent = Date.now();
    var ll = job.latlng.wrap();
    var indicator = state.indicator;
    var url = '/lookup?lon=' + ll.lng.toFixed(6) + '&lat=' + ll.lat.toFixed(6) +
      '&layer=' + encodeURIComponent(state.layer.id) +
      (state.period ? '&year=' + encodeURIComponent(state.period) : '');
    getJson(url).then(function (data) {
      if (job.seq !== lookup.seq || indicator !== state.indicator) return; // pointer left, or indicator changed
      var hit = null;
      (data.results || []).forEach(function (r) {
        if (!hit && r.layer === state.layer.id) hit = r;
      });
      if (hit) showTooltip(hit, lookup.lastPoint || job.point); // where the pointer is now
      else clearTooltip(); // outside every district
    }, function (err) {
      if (job.seq === lookup.seq) clearTooltip();
      showMessage('Lookup failed: ' + err.message);
    }).then(function () {
      lookup.inFlight = false;
      scheduleLookup();
    });
  }

  function line(cls, text) {
    var d = document.createElement('div');
    d.className = cls;
    d.textContent = text;
    return d;
  }

  function showTooltip(hit, point) {
    var ind = state.indicator;
    var v = hit.values ? hit.values[ind.id] : null;
    var tip = els.tooltip;
    tip.textContent = '';
    tip.appendChild(line('placemap-name', hit.name));
    var value = v ? v.value : null;
    var unit = v && v.unit !== undefined ? v.unit : ind.unit;
    tip.appendChild(line('placemap-value', formatValue(value, unit)));
    if (v && typeof v.rank === 'number' && typeof v.of === 'number') {
      tip.appendChild(line('placemap-rank', 'Rank ' + ordinal(v.rank) + ' of ' + v.of + ' (1st = highest)'));
    }
    if (v && v.no_data_reason) {
      tip.appendChild(line('placemap-no-data-reason', v.no_data_reason));
    }
    tip.appendChild(line('placemap-period', ind.title + (v && v.period ? ', ' + v.period : '')));
    tip.setAttribute('data-no-data-reason', v && v.no_data_reason ? v.no_data_reason : '');
    tip.setAttribute('data-code', hit.code);
    tip.setAttribute('data-name', hit.name);
    tip.setAttribute('data-indicator', ind.id);
    tip.setAttribute('data-period', v && v.period ? String(v.period) : '');
    tip.setAttribute('data-value', value === null || value === undefined ? '' : String(value));
    tip.setAttribute('data-rank', v && typeof v.rank === 'number' ? String(v.rank) : '');
    tip.setAttribute('data-of', v && typeof v.of === 'number' ? String(v.of) : '');
    tip.hidden = false;
    placeTooltip(point);
  }

  function placeTooltip(point) {
    var tip = els.tooltip;
    if (tip.hidden) return;
    var size = map.getSize();
    var x = point.x + 14;
    var y = point.y + 14;
    if (x + tip.offsetWidth > size.x - 4) x = Math.max(4, point.x - 14 - tip.offsetWidth);
    if (y + tip.offsetHeight > size.y - 4) y = Math.max(4, point.y - 14 - tip.offsetHeight);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }

  /** Hides the tooltip only; lookups already queued for the pointer go on. */
  function clearTooltip() {
    els.tooltip.hidden = true;
    els.tooltip.removeAttribute('data-code');
  }

  /** Hides the tooltip and drops queued and in-flight lookups (pointer left, map moved, indicator changed). */
  function hideTooltip() {
    lookup.seq++;
    lookup.pending = null;
    clearTooltip();
  }

  // ---------------------------------------------------------------- search

  var search = { matches: [], active: -1 };

  function setSearchOpen(open) {
    els.results.hidden = !open;
    els.search.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (!open) els.search.removeAttribute('aria-activedescendant');
  }

  function renderMatches() {
    els.results.textContent = '';
    search.matches.forEach(function (d, i) {
      var li = document.createElement('li');
      li.id = 'placemap-result-' + i;
      li.setAttribute('role', 'option');
      li.setAttribute('data-code', d.code);
      li.setAttribute('aria-selected', i === search.active ? 'true' : 'false');
      li.textContent = d.name + ' ';
      var code = document.createElement('span');
      code.className = 'placemap-code';
      code.textContent = d.code;
      li.appendChild(code);
      li.addEventListener('mousedown', function (ev) {
        ev.preventDefault(); // keep focus in the input until the choice is made
        chooseDistrict(d);
      });
      els.results.appendChild(li);
    });
    if (search.active >= 0) els.search.setAttribute('aria-activedescendant', 'placemap-result-' + search.active);
    setSearchOpen(search.matches.length > 0);
  }

  function onSearchInput() {
    var q = fold(els.search.value.trim());
    search.active = -1;
    if (!q) {
      search.matches = [];
      renderMatches();
      return;
    }
    var starts = [];
    var contains = [];
    state.districts.forEach(function (d) {
      var i = d.key.indexOf(q);
      if (i === 0 || d.code.toLowerCase() === q) starts.push(d);
      else if (i > 0) contains.push(d);
    });
    search.matches = starts.concat(contains).slice(0, MAX_SUGGESTIONS);
    renderMatches();
  }

  function onSearchKey(ev) {
    var n = search.matches.length;
    if (ev.key === 'ArrowDown' && n) {
      search.active = (search.active + 1) % n;
      renderMatches();
      ev.preventDefault();
    } else if (ev.key === 'ArrowUp' && n) {
      search.active = (search.active - 1 + n) % n;
      renderMatches();
      ev.preventDefault();
    } else if (ev.key === 'Enter') {
      if (n) chooseDistrict(search.matches[Math.max(0, search.active)]);
      ev.preventDefault();
    } else if (ev.key === 'Escape') {
      setSearchOpen(false);
    }
  }

  function chooseDistrict(d) {
    els.search.value = d.name;
    search.matches = [];
    renderMatches();
    setHighlight(d.code);
    map.fitBounds(bboxToBounds(d.bbox), Object.assign({ maxZoom: 12 }, panelPadding()));
  }

  function setHighlight(code) {
    state.highlight = code;
    els.searchClear.hidden = !code;
    tiles.setUrl(tileUrl());
  }

  // ---------------------------------------------------------------- embed code

  function embedSnippet() {
    var pinned = pinnedId();
    var src = location.origin + '/map/' + encodeURIComponent(state.layer.id) + '/' + segment(pinned) +
      currentHash(pinned);
    var title = state.description || (state.indicator.title + ' · ' + state.layer.title);
    return '<iframe src="' + escapeHtml(src) + '" title="' + escapeHtml(title) +
      '" width="640" height="480" style="border:0" loading="lazy" allowfullscreen></iframe>';
  }

  function copyEmbed() {
    var code = embedSnippet();
    els.embed.hidden = false;
    els.embedCode.value = code;
    els.embedCode.focus();
    els.embedCode.select();
    var fallback = function () {
      var ok = false;
      try {
        ok = document.execCommand('copy');
      } catch (e) {
        ok = false;
      }
      els.embedStatus.textContent = ok ? 'Copied to the clipboard.' : 'Select the code above and copy it.';
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(code).then(function () {
        els.embedStatus.textContent = 'Copied to the clipboard.';
      }, fallback);
    } else {
      fallback();
    }
  }

  // ---------------------------------------------------------------- start-up

  function englandBounds() {
    // England = the districts with an E code; the layer's own bounds otherwise (e.g. a Welsh layer).
    var b = null;
    state.districts.forEach(function (d) {
      if (d.code.charAt(0) !== 'E') return;
      var db = bboxToBounds(d.bbox);
      if (b) b.extend(db);
      else b = db;
    });
    return b || bboxToBounds(state.layer.bounds);
  }

  function wireEvents() {
    map.on('mousemove', function (e) {
      placeTooltip(e.containerPoint);
      requestLookup(e.latlng, e.containerPoint, false);
    });
    map.on('click', function (e) {
      requestLookup(e.latlng, e.containerPoint, true);
    });
    map.on('mouseout', hideTooltip);
    map.on('movestart', hideTooltip);
    map.on('moveend', updateUrl);

    els.indicator.addEventListener('change', function () {
      var ind = findIndicator(els.indicator.value);
      if (ind) setIndicator(ind, null); // each indicator opens on its own default period
    });
    els.period.addEventListener('change', function () {
      setIndicator(state.indicator, els.period.value);
    });
    [els.scheme, els.k, els.palette, els.reverse, els.change, els.changeFrom, els.changeTo, els.changeKind]
      .forEach(function (el) {
        el.addEventListener('change', onStyleInput);
      });
    els.region.addEventListener('change', onRegionInput);
    els.search.addEventListener('input', onSearchInput);
    els.search.addEventListener('keydown', onSearchKey);
    els.search.addEventListener('blur', function () {
      setSearchOpen(false);
    });
    els.searchClear.addEventListener('click', function () {
      els.search.value = '';
      onSearchInput();
      setHighlight(null);
    });
    els.embedButton.addEventListener('click', copyEmbed);
    wireTable();
    window.addEventListener('hashchange', function () {
      var h = parseHash(location.hash);
      var style = parseStylePart(h.style);
      if (JSON.stringify(style) !== JSON.stringify(state.style)) {
        state.style = style;
        syncStyleControls();
        redraw();
      }
      if (h.indicator || h.period) {
        var ind = (h.indicator && findIndicator(h.indicator)) || state.indicator;
        if (ind !== state.indicator || (h.period && h.period !== state.period)) setIndicator(ind, h.period);
      }
      if (h.view) map.setView([h.view.lat, h.view.lon], h.view.zoom);
    });
  }

  function start() {
    setStatus('loading');
    var cfg = readConfig();
    var hash = parseHash(location.hash);

    map = L.map('placemap-map', { zoomControl: false, minZoom: 0, maxZoom: 18 });
    window.placemapMap = map;
    L.control.zoom({ position: 'topright' }).addTo(map);
    var LegendControl = L.Control.extend({
      options: { position: 'bottomright' },
      onAdd: function () {
        L.DomEvent.disableClickPropagation(els.legend);
        L.DomEvent.disableScrollPropagation(els.legend);
        // The legend sits on the map: no district lookups for the pointer while it is over it.
        L.DomEvent.on(els.legend, 'mousemove', L.DomEvent.stopPropagation);
        L.DomEvent.on(els.legend, 'mouseenter', function () {
          hideTooltip();
        });
        return els.legend;
      },
      onRemove: function () {}
    });
    new LegendControl().addTo(map);
    map.attributionControl.setPrefix('<a href="/map/assets/vendor/LICENSE" target="_blank" rel="noopener">Leaflet</a>');

    var layersReq = getJson('/layers');
    var districtsReq = getJson('/layers/' + encodeURIComponent(cfg.layer) + '/districts').catch(function (err) {
      return { error: err };
    });

    return Promise.all([layersReq, districtsReq]).then(function (res) {
      var layers = res[0].layers || [];
      var layer = null;
      layers.forEach(function (l) {
        if (l.id === cfg.layer) layer = l;
      });
      if (!layer) {
        throw new Error('Unknown layer "' + cfg.layer + '". Layers: ' + layers.map(function (l) { return l.id; }).join(', '));
      }
      state.layer = layer;
      if (res[1].error) {
        showMessage('District search unavailable: ' + res[1].error.message);
      } else {
        state.districts = (res[1].districts || []).filter(function (d) {
          return d && d.code && d.name && Array.isArray(d.bbox) && d.bbox.length === 4;
        }).map(function (d) {
          return { code: d.code, name: d.name, bbox: d.bbox, key: fold(d.name) };
        });
        els.search.disabled = state.districts.length === 0;
      }

      fillIndicatorSelect();
      fillStyleControls(cfg.lists);
      // The style from the hash; a link written by hand may give it as a query instead
      // (`/map/lad19/median_weekly_pay?change=2010..2020`).
      state.style = parseStylePart(hash.style || encodeURIComponent(location.search.replace(/^\?/, '')));
      var wanted = hash.indicator || cfg.indicator;
      var ind = findIndicator(wanted) || findIndicator(cfg.indicator) || findIndicator(layer.default_indicator) ||
        layer.indicators[0];
      if (!ind) throw new Error('Layer "' + layer.id + '" has no indicators.');
      if (ind.id !== wanted) {
        showMessage('Unknown indicator "' + wanted + '"; showing ' + ind.title + '.');
      }

      if (hash.view) map.setView([hash.view.lat, hash.view.lon], hash.view.zoom);
      else map.fitBounds(englandBounds(), panelPadding());

      state.indicator = ind;
      state.period = choosePeriod(ind, hash.period);
      tiles = L.tileLayer(tileUrl(), {
        minZoom: 0,
        maxZoom: 18,
        tileSize: 256,
        bounds: layer.bounds ? bboxToBounds(layer.bounds) : undefined,
        updateWhenZooming: false,
        keepBuffer: 2
      });
      tiles.on('load', function () {
        setStatus('ready');
      });
      tiles.on('loading', function () {
        setStatus('loading');
      });
      tiles.addTo(map);
      setIndicator(ind, state.period);
      wireEvents();
    }).catch(function (err) {
      setStatus('error');
      showMessage(err.message);
    });
  }

  start();
})();

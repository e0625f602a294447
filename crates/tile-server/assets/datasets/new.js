// The "add your own data" page (GET /datasets/new): a table from a file or pasted text is sent
// to POST /datasets?dry_run=true to show what was detected and the join report, then saved with
// POST /datasets, and the browser opens the map of the new dataset. Same-origin requests only.
// The token is kept in sessionStorage (this tab only), never in localStorage or a cookie.
(function () {
  'use strict';

  var TOKEN_KEY = 'placemap-upload-token';
  var $ = function (id) { return document.getElementById(id); };
  var els = {
    form: $('upload-form'), file: $('file'), paste: $('paste'), layer: $('layer'),
    title: $('title'), unit: $('unit'), direction: $('direction'), id: $('id'),
    source: $('source'), licence: $('licence'), token: $('token'),
    check: $('check'), save: $('save'), status: $('status'),
    error: $('error'), errorMessage: $('error-message'), errorHint: $('error-hint'),
    report: $('report'), detection: $('detection'), indicators: $('indicators'),
    joinSummary: $('join-summary'), unmatched: $('unmatched'), notDistricts: $('not-districts'),
    missing: $('missing')
  };
  var layerTitles = {};
  var busy = false;

  function setStatus(text) {
    els.status.textContent = text;
  }

  function showError(message, hint) {
    els.errorMessage.textContent = message;
    els.errorHint.textContent = hint || '';
    els.errorHint.hidden = !hint;
    els.error.hidden = false;
    setStatus('');
  }

  function clearError() {
    els.error.hidden = true;
    els.errorMessage.textContent = '';
    els.errorHint.textContent = '';
  }

  // ------------------------------------------------------------------ the request

  /** The multipart form of the upload, or null (with the error shown) without a table. */
  function buildForm() {
    var fd = new FormData();
    var file = els.file.files && els.file.files[0];
    if (file) {
      fd.append('file', file, file.name);
    } else {
      var text = els.paste.value;
      if (!text.trim()) {
        showError('There is no table yet.', 'Choose a file, or paste a table into the box.');
        els.file.focus();
        return null;
      }
      // Cells copied from a spreadsheet arrive separated by tabs.
      var tsv = text.split('\n', 1)[0].indexOf('\t') >= 0;
      var blob = new Blob([text], { type: tsv ? 'text/tab-separated-values' : 'text/csv' });
      fd.append('file', blob, tsv ? 'pasted.tsv' : 'pasted.csv');
    }
    ['layer', 'title', 'unit', 'direction', 'id', 'source', 'licence'].forEach(function (k) {
      var v = els[k].value.trim();
      if (v) fd.append(k, v);
    });
    return fd;
  }

  /** POSTs the form; resolves to the JSON answer, rejects with {message, hint}. */
  function send(dryRun) {
    var token = els.token.value.trim();
    if (!token) {
      els.token.focus();
      return Promise.reject({ message: 'The upload token is missing.', hint: 'Enter the token placemap serve printed.' });
    }
    var fd = buildForm();
    if (!fd) return Promise.reject(null);
    return fetch('/datasets' + (dryRun ? '?dry_run=true' : ''), {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' },
      body: fd,
      credentials: 'same-origin'
    }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try {
          body = JSON.parse(text);
        } catch (e) {
          body = null;
        }
        if (res.ok && body) return body;
        var message = body && body.error ? body.error : 'The server answered HTTP ' + res.status + '.';
        var hint = body && body.hint ? body.hint : '';
        if (res.status === 401) message = 'The token was not accepted: ' + message;
        throw { message: message, hint: hint, status: res.status };
      });
    }, function (err) {
      throw { message: 'The server could not be reached: ' + err.message, hint: '' };
    });
  }

  // ------------------------------------------------------------------ the report

  function cell(tr, text) {
    var td = document.createElement('td');
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function fillRows(table, rows, columns) {
    var tbody = table.querySelector('tbody');
    tbody.textContent = '';
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      columns.forEach(function (c) {
        cell(tr, r[c] === null || r[c] === undefined ? '' : String(r[c]));
      });
      tbody.appendChild(tr);
    });
    table.hidden = rows.length === 0;
  }

  function term(name, value) {
    var dt = document.createElement('dt');
    dt.textContent = name;
    var dd = document.createElement('dd');
    dd.textContent = value;
    els.detection.appendChild(dt);
    els.detection.appendChild(dd);
  }

  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : many);
  }

  function showReport(r) {
    var d = r.detection || {};
    var join = r.join || {};
    els.detection.textContent = '';
    term('File', String(r.format || '').toUpperCase() + ', ' + plural(r.rows || 0, 'row', 'rows') + ' of data');
    term('Boundaries', (layerTitles[r.layer] ? layerTitles[r.layer] + ' ' : '') + '(' + r.layer + ')');
    term('Header row', d.header_row ? 'line ' + d.header_row : 'none (columns are numbered)');
    term('Code column', r.code_column || '');
    if (d.name_column) term('Name column', d.name_column);
    if (d.period_column) term('Period column', d.period_column);
    term('Value columns', (d.value_columns || []).join(', ') || 'none');
    if ((d.ignored_columns || []).length) term('Left out', d.ignored_columns.join('; '));
    if (d.lines_above) term('Lines above the table', String(d.lines_above));
    if (d.notes_below) term('Notes below the table', String(d.notes_below));
    (d.notes || []).forEach(function (n) { term('Note', n); });
    term('Id', r.id);

    fillRows(els.indicators, (r.indicators || []).map(function (i) {
      return {
        id: i.id,
        column: i.column,
        periods: (i.periods || []).join(', '),
        matched: i.matched + ' of ' + (join.districts || 0)
      };
    }), ['id', 'column', 'periods', 'matched']);
    els.indicators.hidden = false;

    var unmatched = join.unmatched || [];
    var notDistricts = join.not_districts || [];
    var missing = join.districts_without_data || [];
    els.joinSummary.textContent = join.matched + ' of ' + join.districts + ' districts of ' + r.layer +
      ' have a row; ' + plural(unmatched.length, 'code did', 'codes did') + ' not match' +
      (notDistricts.length ? '; ' + plural(notDistricts.length, 'row is', 'rows are') + ' for a larger area' : '') + '.';
    fillRows(els.unmatched, unmatched, ['code', 'line', 'reason']);
    fillRows(els.notDistricts, notDistricts, ['code', 'line', 'kind']);
    els.missing.hidden = missing.length === 0;
    els.missing.querySelector('summary').textContent = plural(missing.length, 'district has', 'districts have') + ' no row';
    var ul = els.missing.querySelector('ul');
    ul.textContent = '';
    missing.forEach(function (m) {
      var li = document.createElement('li');
      li.textContent = m.code + ' ' + m.name;
      ul.appendChild(li);
    });

    // A file's name is a fair first title; "pasted" is not.
    var fromFile = els.file.files && els.file.files.length > 0;
    if (!els.title.value.trim() && r.title && fromFile) els.title.value = r.title;
    els.id.placeholder = r.id || '';
    els.report.hidden = false;
    els.report.setAttribute('data-layer', r.layer || '');
    // Keyboard and screen-reader users land on the report they asked for.
    $('report-title').focus();
  }

  // ------------------------------------------------------------------ actions

  function setBusy(b) {
    busy = b;
    els.check.disabled = b;
    els.save.disabled = b || els.save.getAttribute('data-checked') !== 'true';
    els.form.setAttribute('aria-busy', b ? 'true' : 'false');
  }

  function invalidate() {
    els.save.setAttribute('data-checked', 'false');
    els.save.disabled = true;
  }

  function check() {
    if (busy) return;
    clearError();
    setStatus('Checking the table…');
    setBusy(true);
    send(true).then(function (r) {
      showReport(r);
      els.save.setAttribute('data-checked', 'true');
      setStatus('Checked: ' + r.join.matched + ' districts matched. Review the report, then save.');
    }, function (e) {
      invalidate();
      if (e) showError(e.message, e.hint);
    }).then(function () {
      setBusy(false);
    });
  }

  function save() {
    if (busy) return;
    clearError();
    setStatus('Saving…');
    setBusy(true);
    send(false).then(function (r) {
      setStatus('Saved as ' + r.id + ' version ' + r.version + '. Opening the map…');
      location.assign(r.map);
    }, function (e) {
      if (e) showError(e.message, e.hint);
      setBusy(false);
    });
  }

  function loadLayers() {
    fetch('/layers', { headers: { Accept: 'application/json' }, credentials: 'same-origin' }).then(function (res) {
      return res.ok ? res.json() : { layers: [] };
    }).then(function (j) {
      (j.layers || []).forEach(function (l) {
        layerTitles[l.id] = l.title;
        var opt = document.createElement('option');
        opt.value = l.id;
        opt.textContent = l.title + ' (' + l.id + ')';
        els.layer.appendChild(opt);
      });
    }, function () {
      // Detection still works without the list.
    });
  }

  try {
    els.token.value = sessionStorage.getItem(TOKEN_KEY) || '';
  } catch (e) {
    // Storage can be disabled; the field then starts empty.
  }
  els.token.addEventListener('input', function () {
    try {
      sessionStorage.setItem(TOKEN_KEY, els.token.value);
    } catch (e) {
      // Nothing to do: the token stays in the field.
    }
  });
  [els.file, els.paste, els.layer].forEach(function (el) {
    el.addEventListener('input', invalidate);
    el.addEventListener('change', invalidate);
  });
  els.check.addEventListener('click', check);
  els.save.addEventListener('click', save);
  els.form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    check();
  });
  loadLayers();
})();

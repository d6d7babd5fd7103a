// live.js - the live page of a running master: asks the token once when the server wants one (kept for
// the tab only), reads /api/run and /api/chart, then follows /api/events (server-sent events read with
// fetch, so the token travels in a header) and redraws with chart.js on every interval; scale and stop
// go to POST /api/scale and /api/stop.
(function () {
  'use strict';
  var D = {marks: []};
  var token = sessionStorage.getItem('loadctl-token') || '';
  var model = 'closed';
  var ended = false;
  var changes = [];
  var rebasing = false;
  var $ = function (id) { return document.getElementById(id); };
  var fmt = loadctl.fmt, esc = loadctl.esc;

  function api(path, init) {
    init = init || {};
    init.headers = init.headers || {};
    init.headers['X-Loadctl-Client'] = 'page';
    if (token) init.headers.Authorization = 'Bearer ' + token;
    return fetch(path, init).then(function (r) {
      if (r.status == 401 && !init.retried) {
        token = window.prompt('This loadctl master needs its web token (the --web-token file):') || '';
        sessionStorage.setItem('loadctl-token', token);
        init.retried = true;
        return api(path, init);
      }
      return r;
    });
  }

  function json(path) {
    return api(path).then(function (r) {
      if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
      return r.json();
    });
  }

  function rows(tbody, list, cells, empty) {
    if (!list.length && empty) {
      tbody.innerHTML = '<tr><td class="l note">' + esc(empty) + '</td></tr>';
      return;
    }
    tbody.innerHTML = list.map(function (x) {
      return '<tr>' + cells(x).map(function (c, i) {
        return '<td' + (i == 0 || (c && c.l) ? ' class="l"' : '') + '>' + esc(c && c.v != null ? c.v : c) + '</td>';
      }).join('') + '</tr>';
    }).join('');
  }

  function ms(v) { return v == null ? '-' : v.toFixed(2); }

  function showNames(iv) {
    rows(document.querySelector('#names tbody'), iv.names, function (n) {
      return [n.name, fmt(n.rps), fmt(n.eps), ms(n.p50_ms), ms(n.p95_ms), ms(n.p99_ms), ms(n.max_ms),
        n.total_count, n.total_errors, ms(n.total_p95_ms)];
    });
    var sel = $('lat-name');
    D.names.forEach(function (n, i) {
      if (!sel.querySelector('option[value="' + i + '"]')) {
        var o = document.createElement('option');
        o.value = String(i);
        o.textContent = n.name;
        sel.appendChild(o);
      }
    });
  }

  function showSide(iv) {
    rows(document.querySelector('#thresholds tbody'), iv.thresholds || [], function (t) {
      return [t.expr, t.shown || (t.value == null ? 'no data' : fmt(t.value)), {v: t.ok ? 'pass' : 'FAIL', l: 0}];
    }, 'no thresholds set (options.thresholds)');
    document.querySelectorAll('#thresholds td:nth-child(3)').forEach(function (td) {
      td.className = td.textContent == 'pass' ? 'pass' : 'fail';
    });
    var ws = (iv.workers || []).slice();
    if (iv.workers_total > ws.length) {
      ws.push({id: '(' + (iv.workers_total - ws.length) + ' more: /api/run)', hostname: '', threads: '', users: '', state: ''});
    }
    rows(document.querySelector('#workers tbody'), ws, function (w) {
      return [w.id, {v: w.hostname, l: 1}, w.threads, w.users, w.cpu == null ? '-' : fmt(w.cpu), {v: w.state, l: 1}];
    });
    rows(document.querySelector('#failures tbody'), iv.failures || [], function (f) {
      return [f.name, {v: f.kind, l: 1}, {v: f.message, l: 1}, f.count];
    }, 'no failures');
  }

  // Past twice the points the master keeps per series, take its merged series again (bounded page memory).
  function rebase() {
    if (D.all.t.length <= 2 * (D.max_points || 1024) || rebasing) return;
    rebasing = true;
    json('/api/chart').then(function (d) {
      d.marks = D.marks;
      d.timeline = D.timeline;
      D = d;
      loadctl.draw(D, true);
    }).catch(function () {}).then(function () { rebasing = false; });
  }

  // The target's heap and GC (/api/timeline) every TIMELINE_MS while the run goes; the section shows once
  // a heap or Go CPU window has arrived.
  var TIMELINE_MS = 5000, timelineAt = 0;
  function timeline() {
    var now = Date.now();
    if (now - timelineAt < TIMELINE_MS) return;
    timelineAt = now;
    json('/api/timeline').then(function (t) {
      if (!t || !(t.heap || t.gc)) return;
      D.timeline = t;
      $('memory').hidden = false;
      loadctl.draw(D, true);
      document.documentElement.setAttribute('data-timeline', String((t.heap || t.gc).t.length));
    }).catch(function () {});
  }

  function showInterval(iv) {
    loadctl.append(D, iv);
    loadctl.draw(D, true);
    rebase();
    timeline();
    $('state').textContent = iv.state;
    $('elapsed').textContent = loadctl.fmtT(Math.round(iv.elapsed_s));
    $('c-users').textContent = model == 'open' ? fmt(iv.rate) : iv.users;
    $('c-rps').textContent = fmt(iv.rps);
    $('c-eps').textContent = fmt(iv.eps);
    $('c-p95').textContent = ms(iv.all.p95_ms);
    $('c-total').textContent = iv.totals.count;
    $('c-err').textContent = iv.totals.errors;
    showNames(iv);
    showSide(iv);
    document.documentElement.setAttribute('data-intervals', String(D.all.t.length));
  }

  function showChange(c) {
    D.marks.push({t: c.at_ms, label: c.label});
    loadctl.draw(D, true);
    $('target').textContent = c.label;
  }

  function showDone(f) {
    ended = true;
    $('state').textContent = f.status;
    $('final').hidden = false;
    var t = f.totals || {};
    $('final-text').innerHTML = 'The run ended (' + esc(f.status) + '): ' + esc(t.requests) + ' requests, ' +
      esc(t.errors) + ' errors. Report: <a id="report-link" href="' + esc(f.report) + '">report.html</a> in <code>' +
      esc(f.dir) + '</code>';
    var list = f.findings || [];
    $('final-findings').innerHTML = list.length ? '<h3>Findings</h3><ul>' + list.map(function (x) {
      return '<li>' + esc(x.kind) + ': ' + esc(x.function || '') + ' ' + esc(x.evidence || '') + '</li>';
    }).join('') + '</ul>' : '';
    $('scale-btn').disabled = $('stop-btn').disabled = true;
    $('next').hidden = !f.next;
    document.documentElement.setAttribute('data-run', 'done');
  }

  // After POST /api/next: wait for the new run at the same address, then load the page afresh for it.
  function awaitNextRun(oldId) {
    json('/api/run').then(function (run) {
      if (run.run_id != oldId && run.state != 'idle') window.location.reload();
      else setTimeout(function () { awaitNextRun(oldId); }, 500);
    }).catch(function () { setTimeout(function () { awaitNextRun(oldId); }, 500); });
  }

  function onEvent(name, data) {
    var d = JSON.parse(data);
    if (name == 'interval') showInterval(d);
    else if (name == 'change') showChange(d);
    else if (name == 'done') showDone(d);
  }

  // Read the event stream; frames are "event: NAME\ndata: JSON\n\n".
  function follow() {
    api('/api/events').then(function (r) {
      if (!r.ok) throw new Error('/api/events: HTTP ' + r.status);
      var reader = r.body.getReader(), dec = new TextDecoder(), buf = '';
      function pump() {
        return reader.read().then(function (x) {
          if (x.done) throw new Error('the master closed the stream');
          buf += dec.decode(x.value, {stream: true});
          var k;
          while ((k = buf.indexOf('\n\n')) >= 0) {
            var frame = buf.slice(0, k), ev = 'message', data = '';
            buf = buf.slice(k + 2);
            frame.split('\n').forEach(function (line) {
              if (line.indexOf('event: ') == 0) ev = line.slice(7);
              else if (line.indexOf('data: ') == 0) data += line.slice(6);
            });
            if (data) onEvent(ev, data);
          }
          return pump();
        });
      }
      return pump();
    }).catch(function (e) {
      if (!ended) $('state').textContent = 'disconnected (' + e.message + ')';
    });
  }

  function post(path, body) {
    var init = {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body || {})};
    return api(path, init).then(function (r) {
      return r.json().then(function (j) {
        $('control-msg').textContent = r.ok ? 'done' : 'refused: ' + j.error;
        return r.ok;
      });
    });
  }

  $('scale-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = {};
    body[model == 'open' ? 'rate' : 'users'] = Number($('scale-value').value);
    post('/api/scale', body);
  });
  $('stop-btn').addEventListener('click', function () { post('/api/stop'); });
  $('next-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = {}, d = $('next-duration').value.trim(), oldId = $('run-id').textContent;
    body[model == 'open' ? 'rate' : 'users'] = Number($('next-value').value);
    if (d) body.duration = d;
    api('/api/next', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
      .then(function (r) {
        return r.json().then(function (j) {
          $('next-msg').textContent = r.ok ? 'starting' : 'refused: ' + j.error;
          if (r.ok) awaitNextRun(oldId);
        });
      });
  });

  json('/api/run').then(function (run) {
    var o = (run.run && run.run.options) || {};
    model = o.model || 'closed';
    $('scenario').textContent = (run.run && run.run.scenario) || '-';
    $('run-id').textContent = run.run_id;
    $('state').textContent = run.state;
    $('scale-label').textContent = model == 'open' ? 'rate /s' : 'users';
    $('c-users-k').textContent = model == 'open' ? 'target rate /s' : 'users';
    $('next-label').textContent = model == 'open' ? 'rate /s' : 'users';
    changes = run.run.changes || [];
    changes.forEach(function (c) { $('target').textContent = c.label; });
    if (run.final) showDone(run.final);
    if (run.state == 'idle') {
      document.documentElement.setAttribute('data-status', 'ok');
      throw null; // between runs: nothing to follow until the next run starts
    }
    return json('/api/chart');
  }).then(function (d) {
    D = d;
    D.marks = changes.map(function (c) { return {t: c.at_ms, label: c.label}; });
    loadctl.draw(D, true);
    loadctl.redrawOnResize(function () { return D; });
    if (document.documentElement.getAttribute('data-status') != 'error') {
      document.documentElement.setAttribute('data-status', 'ok');
    }
    follow();
  }).catch(function (e) {
    if (e) $('state').textContent = 'error: ' + e.message;
  });
})();

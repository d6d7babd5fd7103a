// chart.js - loadctl's SVG line charts (hover, drag-to-zoom, legend toggles, change marks), shared by
// report.html, history.html and the live page: one code path draws both the finished and the running run.
// Data D: {t0, all:{t,rps,eps,p50,p90,p95,p99,max}, names:[{name,t,...}], dist, hist, ticks:{t,users,rate,
// dropped}, marks:[{t,label}], trend, timeline:{heap,alloc,gc}}. Elements with data-chart="throughput|latency|
// dist|hist|users|trend|heap|alloc|gc" are drawn; no network, no external fonts.
var loadctl = (function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var PAL = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf',
    '#bcbd22', '#7f7f7f'];
  var tip = null;
  var D = null;
  var opts = {};

  function el(tag, a, p) {
    var e = document.createElementNS(NS, tag);
    for (var k in a) e.setAttribute(k, a[k]);
    if (p) p.appendChild(e);
    return e;
  }

  function fmt(v) {
    if (v == null || isNaN(v)) return '-';
    var a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    if (a >= 100) return v.toFixed(0);
    if (a >= 1) return String(+v.toFixed(2));
    if (a == 0) return '0';
    return String(+v.toPrecision(2));
  }

  function fmtT(s) {
    if (s < 60 && Math.abs(s - Math.round(s)) > 1e-6) return String(+s.toFixed(1)) + 's';
    var m = Math.floor(s / 60), r = Math.round(s - m * 60);
    if (r == 60) { m++; r = 0; }
    return m ? m + 'm' + (r < 10 ? '0' : '') + r + 's' : r + 's';
  }

  function fmtPct(x) {
    var p = 100 * (1 - Math.pow(10, -x));
    return String(+p.toFixed(4)) + '%';
  }

  function ticks(lo, hi, n) {
    var span = hi - lo;
    var step = Math.pow(10, Math.floor(Math.log10(span / n)));
    var e = span / n / step;
    if (e >= 7.5) step *= 10; else if (e >= 3.5) step *= 5; else if (e >= 1.5) step *= 2;
    var t = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push(+v.toFixed(10));
    return t;
  }

  function logTicks(lo, hi) {
    var t = [];
    for (var d = Math.floor(lo); d <= Math.ceil(hi); d++) if (d >= lo - 1e-9 && d <= hi + 1e-9) t.push(d);
    return t;
  }

  // chart(host, opt): opt.x (numbers), opt.series [{name,color,y,width,off}], opt.xfmt, opt.ylog, opt.unit,
  // opt.marks [{x,label}] (vertical lines: users/rate changes made while the run went).
  function chart(host, opt) {
    host.innerHTML = '';
    var box = document.createElement('div');
    box.className = 'chartbox';
    host.appendChild(box);
    var W = Math.max(300, host.clientWidth || 900), H = opt.height || 240, L = 64, R = 26, T = 10, B = 30;
    var svg = el('svg', {width: W, height: H, 'class': 'chart', 'data-kind': opt.kind || ''}, box);
    var xs = opt.x;
    if (!xs.length) {
      var t = el('text', {x: W / 2, y: H / 2, 'text-anchor': 'middle'}, svg);
      t.textContent = 'no data';
      return;
    }
    var x0 = opt.zoom ? opt.zoom[0] : xs[0], x1 = opt.zoom ? opt.zoom[1] : xs[xs.length - 1];
    if (x1 <= x0) x1 = x0 + 1;
    var on = opt.series.filter(function (s) { return !s.off; });
    var lo = Infinity, hi = -Infinity;
    on.forEach(function (s) {
      s.y.forEach(function (v, i) {
        if (xs[i] < x0 || xs[i] > x1 || v == null) return;
        if (opt.ylog && v <= 0) return;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      });
    });
    if (lo == Infinity) { lo = 0; hi = 1; }
    var yl = function (v) { return opt.ylog ? Math.log10(v) : v; };
    var y0 = opt.ylog ? Math.floor(yl(lo)) : Math.min(0, lo), y1 = opt.ylog ? Math.ceil(yl(hi)) : hi * 1.08;
    if (y1 <= y0) y1 = y0 + 1;
    var sx = function (x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
    var sy = function (v) { return T + (1 - (yl(v) - y0) / (y1 - y0)) * (H - T - B); };
    var yt = opt.ylog ? logTicks(y0, y1) : ticks(y0, y1, 5);
    yt.forEach(function (t) {
      var v = opt.ylog ? Math.pow(10, t) : t, y = sy(v);
      el('line', {x1: L, x2: W - R, y1: y, y2: y, 'class': 'grid'}, svg);
      var tx = el('text', {x: L - 6, y: y + 4, 'text-anchor': 'end'}, svg);
      tx.textContent = fmt(v) + (opt.unit || '');
    });
    var xt = opt.xlogpct ? logTicks(x0, x1) : ticks(x0, x1, 8);
    xt.forEach(function (t) {
      var x = sx(t);
      el('line', {x1: x, x2: x, y1: T, y2: H - B, 'class': 'grid'}, svg);
      var tx = el('text', {x: x, y: H - B + 16, 'text-anchor': 'middle'}, svg);
      tx.textContent = (opt.xfmt || fmtT)(t);
    });
    el('line', {x1: L, x2: W - R, y1: H - B, y2: H - B, 'class': 'axis'}, svg);
    el('line', {x1: L, x2: L, y1: T, y2: H - B, 'class': 'axis'}, svg);
    (opt.marks || []).forEach(function (m) {
      if (m.x < x0 || m.x > x1) return;
      var X = sx(m.x);
      el('line', {x1: X, x2: X, y1: T, y2: H - B, 'class': 'mark'}, svg);
      var tx = el('text', {x: X + 3, y: T + 10, 'class': 'mark'}, svg);
      tx.textContent = m.label;
    });
    on.forEach(function (s) {
      var d = '', pen = false, last = null, points = 0;
      s.y.forEach(function (v, i) {
        if (v == null || (opt.ylog && v <= 0) || xs[i] < x0 || xs[i] > x1) { pen = false; return; }
        last = [sx(xs[i]), sy(v)];
        d += (pen ? 'L' : 'M') + last[0].toFixed(1) + ' ' + last[1].toFixed(1);
        pen = true;
        points++;
      });
      el('path', {d: d, fill: 'none', stroke: s.color, 'stroke-width': s.width || 1.6, 'class': 'line'}, svg);
      if (points == 1) el('circle', {cx: last[0], cy: last[1], r: 3, fill: s.color}, svg); // a line needs two
    });
    interact(host, opt, svg, {x0: x0, x1: x1, xs: xs, on: on, W: W, H: H, L: L, R: R, T: T, B: B, sx: sx});
    legend(host, opt, box);
  }

  // Hover tooltip, drag to zoom, double click to reset.
  function interact(host, opt, svg, g) {
    var hv = el('line', {x1: 0, x2: 0, y1: g.T, y2: g.H - g.B, 'class': 'hover', visibility: 'hidden'}, svg);
    var sel = el('rect', {x: 0, y: g.T, width: 0, height: g.H - g.B - g.T, 'class': 'sel', visibility: 'hidden'},
      svg);
    var drag = null;
    function xat(ev) { return ev.clientX - svg.getBoundingClientRect().left; }
    function toX(px) { return g.x0 + (px - g.L) / (g.W - g.L - g.R) * (g.x1 - g.x0); }
    function near(px) {
      var v = toX(px), b = 0, bd = Infinity;
      g.xs.forEach(function (x, i) { var d = Math.abs(x - v); if (d < bd) { bd = d; b = i; } });
      return b;
    }
    svg.addEventListener('mousemove', function (ev) {
      var px = xat(ev);
      if (drag != null) {
        sel.setAttribute('x', Math.min(drag, px));
        sel.setAttribute('width', Math.abs(px - drag));
        sel.setAttribute('visibility', 'visible');
      }
      var i = near(px), X = g.sx(g.xs[i]);
      hv.setAttribute('x1', X);
      hv.setAttribute('x2', X);
      hv.setAttribute('visibility', 'visible');
      var h = '<b>' + (opt.xfmt || fmtT)(g.xs[i]) + '</b>';
      g.on.forEach(function (s) {
        h += '<br><span style="color:' + s.color + '">&#9632;</span> ' + esc(s.name) + ': ' + fmt(s.y[i]) +
          (opt.unit || '');
      });
      tip.innerHTML = h;
      tip.style.display = 'block';
      tip.style.left = (ev.clientX + 14) + 'px';
      tip.style.top = (ev.clientY + 10) + 'px';
    });
    svg.addEventListener('mouseleave', function () {
      tip.style.display = 'none';
      hv.setAttribute('visibility', 'hidden');
      drag = null;
      sel.setAttribute('visibility', 'hidden');
    });
    svg.addEventListener('mousedown', function (ev) { drag = xat(ev); ev.preventDefault(); });
    svg.addEventListener('mouseup', function (ev) {
      var px = xat(ev);
      if (drag != null && Math.abs(px - drag) > 6) {
        opt.zoom = [toX(Math.min(px, drag)), toX(Math.max(px, drag))];
        drag = null;
        chart(host, opt);
        return;
      }
      drag = null;
      sel.setAttribute('visibility', 'hidden');
    });
    svg.addEventListener('dblclick', function () { opt.zoom = null; chart(host, opt); });
  }

  function legend(host, opt, box) {
    var lg = document.createElement('div');
    lg.className = 'legend';
    box.appendChild(lg);
    opt.series.forEach(function (s) {
      var sp = document.createElement('span');
      if (s.off) sp.className = 'off';
      sp.innerHTML = '<i style="background:' + s.color + '"></i>';
      sp.appendChild(document.createTextNode(s.name));
      sp.onclick = function () { s.off = !s.off; chart(host, opt); };
      lg.appendChild(sp);
    });
  }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; });
  }

  function rel(t) { return t.map(function (v) { return (v - D.t0) / 1000; }); }

  function marks() {
    return (D.marks || []).map(function (m) { return {x: (m.t - D.t0) / 1000, label: m.label}; });
  }

  function align(n, k) {
    var m = {};
    n.t.forEach(function (t, i) { m[t] = n[k][i]; });
    return D.all.t.map(function (t) { return t in m ? m[t] : null; });
  }

  function throughput() {
    var s = [{name: 'requests/s (all)', color: PAL[0], y: D.all.rps, width: 2.2},
      {name: 'errors/s (all)', color: PAL[1], y: D.all.eps, width: 2.2}];
    if (D.names.length > 1) {
      D.names.slice(0, 8).forEach(function (n, i) {
        s.push({name: n.name, color: PAL[(i + 2) % PAL.length], y: align(n, 'rps'), width: 1.2});
      });
    }
    return {kind: 'throughput', x: rel(D.all.t), series: s, unit: '/s', marks: marks()};
  }

  function latency(idx) {
    var n = idx < 0 ? D.all : D.names[idx] || D.all;
    var ks = ['p50', 'p95', 'p99', 'max'];
    return {kind: 'latency', x: rel(n.t), unit: 'ms', ylog: true, marks: marks(),
      series: ks.map(function (k, i) { return {name: k, color: [PAL[2], PAL[0], PAL[3], PAL[1]][i], y: n[k]}; })};
  }

  function dist() {
    var s = D.dist.map(function (d, i) {
      return {name: d.name, color: PAL[i % PAL.length], y: d.ms, width: i ? 1.3 : 2.2};
    });
    var x = D.dist.length ? D.dist[0].x : [];
    return {kind: 'dist', x: x, series: s, unit: 'ms', ylog: true, xlogpct: true, xfmt: fmtPct};
  }

  function hist() {
    return {kind: 'hist', x: D.hist.ms.map(function (v) { return Math.log10(v); }),
      xfmt: function (v) { return fmt(Math.pow(10, v)) + 'ms'; }, xlogpct: true,
      series: [{name: 'requests per latency bucket (all)', color: PAL[4], y: D.hist.count, width: 2}]};
  }

  function users() {
    var s = [{name: 'users', color: PAL[0], y: D.ticks.users, width: 2}];
    if (D.ticks.rate.some(function (v) { return v > 0; })) {
      s.push({name: 'target rate /s', color: PAL[3], y: D.ticks.rate});
    }
    if (D.ticks.dropped.some(function (v) { return v > 0; })) {
      s.push({name: 'dropped /s', color: PAL[1], y: D.ticks.dropped});
    }
    return {kind: 'users', x: rel(D.ticks.t), series: s, marks: marks()};
  }

  function trend() {
    var T = D.trend;
    return {kind: 'trend', x: T.x, unit: 'ms',
      xfmt: function (i) { return Math.abs(i - Math.round(i)) < 1e-6 ? (T.labels[Math.round(i)] || '') : ''; },
      series: T.series.map(function (s, i) {
        return {name: s.name, color: PAL[i % PAL.length], y: s.y, width: i ? 1.4 : 2.2};
      })};
  }

  // The target's memory and GC (D.timeline: summary.json's profile_timeline, or /api/timeline live), each
  // point at its profile window's end, on the latency chart's time axis.
  function timeline(key, unit, series) {
    var s = (D.timeline || {})[key] || {t: []};
    return {kind: key, x: rel(s.t), unit: unit, height: 200, marks: marks(), series: series(s).map(function (e) {
      return {name: e[0], color: e[1], width: 2, y: (s[e[2]] || []).map(function (v) { return v == null ? null : v * e[3]; })};
    })};
  }

  function heap() {
    return timeline('heap', '', function (s) {
      return [[s.kind == 'absolute' ? 'heap in use (MiB)' : 'heap in use: growth since the first window (MiB)', PAL[4],
        'bytes', 1 / 1048576]];
    });
  }

  function alloc() {
    return timeline('alloc', '', function (s) {
      var per = s.run_bytes_per_req == null ? '' : '; ' + fmt(s.run_bytes_per_req / 1024) + ' KiB per request over the run';
      return [['allocated (MiB/s, whole process' + per + ')', PAL[5], 'bytes_per_s', 1 / 1048576]];
    });
  }

  // GC share joined to latency: the same windows' highest interval p99, on one axis (units in the names).
  function gc() {
    return timeline('gc', '', function () {
      return [['CPU samples in the garbage collector (%)', PAL[3], 'share', 100],
        ['p99 in the same window (ms)', PAL[0], 'p99_ms', 1]];
    });
  }

  var made = {throughput: throughput, dist: dist, hist: hist, users: users, trend: trend, heap: heap, alloc: alloc,
    gc: gc};

  // Keep a zoom and the hidden legend entries when a chart is made again from newer data.
  function keep(old, neu) {
    if (!old) return neu;
    neu.zoom = old.zoom;
    neu.series.forEach(function (s, i) { if (old.series[i] && old.series[i].name == s.name) s.off = old.series[i].off; });
    return neu;
  }

  function latIndex() {
    var s = document.getElementById('lat-name');
    return s && s.value !== '' ? +s.value : -1;
  }

  // Draw every [data-chart] element from data d; fresh: rebuild the series from d (new intervals came).
  function draw(d, fresh) {
    D = d;
    if (!tip) {
      tip = document.createElement('div');
      tip.id = 'tip';
      document.body.appendChild(tip);
    }
    document.querySelectorAll('[data-chart]').forEach(function (h) {
      var k = h.getAttribute('data-chart');
      if (k == 'latency') {
        if (!opts.latency || fresh) opts.latency = keep(opts.latency, latency(latIndex()));
        chart(h, opts.latency);
      } else if (made[k] && (k != 'dist' || D.dist) && (k != 'hist' || D.hist) && (k != 'trend' || D.trend) &&
          (['heap', 'alloc', 'gc'].indexOf(k) < 0 || (D.timeline && D.timeline[k]))) {
        if (!opts[k] || fresh) opts[k] = keep(opts[k], made[k]());
        chart(h, opts[k]);
      }
    });
  }

  function series(n) {
    return {name: n, t: [], rps: [], eps: [], p50: [], p90: [], p95: [], p99: [], max: []};
  }

  function push(s, t, p, secs) {
    var any = p.count > 0;
    s.t.push(t);
    s.rps.push(p.count / secs);
    s.eps.push(p.errors / secs);
    ['p50', 'p90', 'p95', 'p99', 'max'].forEach(function (k) { s[k].push(any ? p[k + '_ms'] : null); });
  }

  // The live page: add one interval (an /api/stats "interval" object) to d, in the shape report.html has.
  function append(d, iv) {
    var t = iv.start_ms + iv.interval_ms, secs = iv.interval_ms > 0 ? iv.interval_ms / 1000 : 1;
    if (!d.all) d.all = series('(all)');
    if (!d.names) d.names = [];
    if (!d.ticks) d.ticks = {t: [], users: [], rate: [], dropped: []};
    if (!d.t0) d.t0 = iv.start_ms;
    push(d.all, t, iv.all, secs);
    iv.names.forEach(function (p) {
      var s = d.names.filter(function (x) { return x.name == p.name; })[0];
      if (!s) { s = series(p.name); d.names.push(s); }
      push(s, t, p, secs);
    });
    d.ticks.t.push(t);
    d.ticks.users.push(iv.users);
    d.ticks.rate.push(iv.rate);
    d.ticks.dropped.push(iv.dropped / secs);
  }

  function redrawOnResize(getData) {
    var rt;
    window.addEventListener('resize', function () {
      clearTimeout(rt);
      rt = setTimeout(function () { draw(getData(), false); }, 150);
    });
  }

  var sel = document.getElementById('lat-name');
  if (sel) sel.addEventListener('change', function () { opts.latency = keep(opts.latency, latency(latIndex())); draw(D); });

  return {draw: draw, append: append, fmt: fmt, fmtT: fmtT, esc: esc, redrawOnResize: redrawOnResize};
})();

// sunburst.js - the "exploding pie" of report.html's profile section: the call tree as rings, the root in
// the middle and each frame's callees outside it, an arc's angle its share of the value (inclusive).
// lcSunburst(host, root, colour): root is a flame tree {n, v, s, c:[...]} (flame.h), colour(name) a fill.
// Click an arc to make it the centre; click the centre to go back one level. Hover shows value and share.
var lcSunburst = (function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var RINGS = 9; // rings drawn outside the centre; deeper frames appear when zoomed in
  var MIN_ANGLE = 0.004; // radians: thinner arcs are not drawn (their share is in the parent)

  function el(tag, a, p) {
    var e = document.createElementNS(NS, tag);
    for (var k in a) e.setAttribute(k, a[k]);
    if (p) p.appendChild(e);
    return e;
  }

  function pt(r, a) { return (r * Math.sin(a)).toFixed(2) + ' ' + (-r * Math.cos(a)).toFixed(2); }

  // The ring sector from angle a0 to a1 between radii r0 and r1 (angles clockwise from 12 o'clock).
  function sector(r0, r1, a0, a1) {
    if (a1 - a0 >= 2 * Math.PI - 1e-6) a1 = a0 + 2 * Math.PI - 1e-4; // a full ring: SVG cannot arc 360
    var big = a1 - a0 > Math.PI ? 1 : 0;
    return 'M' + pt(r1, a0) + 'A' + r1 + ' ' + r1 + ' 0 ' + big + ' 1 ' + pt(r1, a1) + 'L' + pt(r0, a1) +
      'A' + r0 + ' ' + r0 + ' 0 ' + big + ' 0 ' + pt(r0, a0) + 'Z';
  }

  function pct(a, b) { return b ? (100 * a / b).toFixed(1) + '%' : '-'; }

  return function (host, root, colour) {
    host.innerHTML = '';
    var W = Math.min(Math.max(host.clientWidth || 480, 260), 560), R = W / 2 - 4, R0 = R * 0.16;
    var DR = (R - R0) / RINGS, total = root.v || 1, stack = [root];
    var svg = el('svg', {width: W, height: W, 'class': 'lc-sun'}, host);
    var g = el('g', {transform: 'translate(' + W / 2 + ',' + W / 2 + ')'}, svg);
    var info = document.createElement('div');
    info.className = 'lc-note';
    host.appendChild(info);

    function arc(n, depth, a0, a1) {
      if (a1 - a0 < MIN_ANGLE || depth > RINGS || !n.v) return;
      var r0 = R0 + (depth - 1) * DR, r1 = r0 + DR - 1;
      var p = el('path', {d: sector(r0, r1, a0, a1), fill: colour(n.n), stroke: '#fff', 'stroke-width': 0.6,
        'data-name': n.n}, g);
      el('title', {}, p).textContent = n.n + ': ' + n.v + ' (' + pct(n.v, total) + ' of all' +
        (n.s ? ', self ' + n.s : '') + ')';
      p.addEventListener('click', function () { stack.push(n); draw(); });
      var mid = (a0 + a1) / 2, room = (a1 - a0) * (r0 + DR / 2);
      if (DR > 12) label(n.n, r0 + DR / 2, mid, room);
      var a = a0;
      (n.c || []).forEach(function (c) {
        var w = (a1 - a0) * c.v / n.v;
        arc(c, depth + 1, a, a + w);
        a += w;
      });
    }

    // A label in the ring's middle: along the arc when the arc is longer than the ring is deep, else
    // along the radius; turned so it never reads upside down; cut to the room it has.
    function label(text, r, a, arc) {
      var deg = a * 180 / Math.PI, along = arc > DR;
      // straight text along a curved ring leaves it: keep its sagitta (L^2 / 8r) inside half the ring
      var room = along ? Math.min(arc - 6, Math.sqrt(8 * r * Math.max(DR / 2 - 5, 0))) : DR - 6;
      var max = Math.floor(room / 6);
      if (max < 3) return;
      var tr;
      if (along) {
        var low = deg > 90 && deg < 270;
        tr = 'rotate(' + (low ? deg - 180 : deg).toFixed(1) + ')translate(0,' + (low ? r : -r).toFixed(1) + ')';
      } else {
        var d = deg - 90, flip = d > 90 && d < 270;
        tr = 'rotate(' + d.toFixed(1) + ')translate(' + r.toFixed(1) + ',0)' + (flip ? 'rotate(180)' : '');
      }
      var t = el('text', {'font-size': 10, 'text-anchor': 'middle', dy: '0.32em', transform: tr}, g);
      t.textContent = text.length <= max ? text : text.slice(0, max - 1) + '\u2026';
    }

    function draw() {
      while (g.firstChild) g.removeChild(g.firstChild);
      var f = stack[stack.length - 1], a = 0;
      var mid = el('circle', {r: R0 - 1, fill: stack.length > 1 ? colour(f.n) : '#eee', stroke: '#999'}, g);
      el('title', {}, mid).textContent = stack.length > 1 ? 'back to ' + stack[stack.length - 2].n : f.n;
      mid.addEventListener('click', function () { if (stack.length > 1) { stack.pop(); draw(); } });
      var c = el('text', {'font-size': 10, 'text-anchor': 'middle', dy: '0.32em'}, g);
      c.textContent = pct(f.v, total);
      (f.c || []).forEach(function (ch) {
        var w = 2 * Math.PI * ch.v / (f.v || 1);
        arc(ch, 1, a, a + w);
        a += w;
      });
      info.textContent = (stack.length > 1 ? 'centre: ' + f.n + ' (' + pct(f.v, total) + '); click the centre ' +
        'to go back' : 'click an arc to centre it') + ' \u00b7 each ring is one call level, the angle its share';
    }
    draw();
  };
})();

// lines.js - line-level views of report.html's profile section (data: proflines.h's object, L):
// lcLines.where(L, fn) is the file:line of a function's hottest line for the top table ('' when unknown),
// lcLines.view(host, L, total) draws the hottest lines of the profile and, for each top function, its
// lines (flat and cum, with shares of total); a profile without line numbers says it stays at function level.
var lcLines = (function () {
  'use strict';

  function short(file) {
    var parts = String(file || '').split('/');
    return parts.slice(-2).join('/');
  }

  function pct(a, b) { return b ? (100 * a / b).toFixed(1) + '%' : '-'; }

  function cell(tr, text, cls, title) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    if (title) td.title = title;
    tr.appendChild(td);
  }

  function where(L, fn) {
    var f = L && L.functions && L.functions[fn];
    if (!f) return '';
    return L.has_lines && f.line > 0 ? short(f.file) + ':' + f.line : short(f.file);
  }

  function table(host, head, rows, total) {
    var t = document.createElement('table'), h = t.insertRow();
    head.forEach(function (c) {
      var th = document.createElement('th');
      th.textContent = c;
      h.appendChild(th);
    });
    rows.forEach(function (r) {
      var tr = t.insertRow();
      r.cells.forEach(function (c) { cell(tr, c.t, c.cls, c.title); });
      [r.flat, pct(r.flat, total), r.cum, pct(r.cum, total)].forEach(function (v) { cell(tr, String(v)); });
    });
    host.appendChild(t);
  }

  function view(host, L, total) {
    host.innerHTML = '';
    var note = document.createElement('p');
    note.className = 'lc-note';
    host.appendChild(note);
    if (!L || !L.has_lines) {
      note.textContent = 'this profile carries no line numbers: the views stay at function level';
      host.setAttribute('data-lines', '0');
      return;
    }
    var names = Object.keys(L.functions || {}), sel = document.createElement('select'), box = document.createElement('div');
    [['', 'hottest lines of the whole profile']].concat(names.map(function (n) { return [n, 'lines of ' + n]; }))
      .forEach(function (o) {
        var op = document.createElement('option');
        op.value = o[0];
        op.textContent = o[1];
        sel.appendChild(op);
      });
    host.insertBefore(sel, note);
    host.appendChild(box);
    function draw() {
      box.innerHTML = '';
      var f = sel.value && L.functions[sel.value];
      if (!f) {
        note.textContent = 'flat: the value where the line itself was running (the leaf); cum: with the calls it made';
        table(box, ['function', 'file:line', 'flat', 'flat%', 'cum', 'cum%'], L.lines.map(function (l) {
          return {flat: l.flat, cum: l.cum, cells: [{t: l.f, cls: 'l'},
            {t: short(l.file) + ':' + l.line, cls: 'l', title: l.file + ':' + l.line}]};
        }), total);
      } else {
        note.textContent = sel.value + ' in ' + f.file + ', each line it ran with a value';
        table(box, ['file:line', 'flat', 'flat%', 'cum', 'cum%'], f.lines.map(function (l) {
          return {flat: l.flat, cum: l.cum, cells: [{t: short(f.file) + ':' + l.line, cls: 'l', title: f.file + ':' + l.line}]};
        }), total);
      }
    }
    sel.addEventListener('change', draw);
    draw();
    host.setAttribute('data-lines', String(L.lines.length));
  }

  return {where: where, view: view};
})();

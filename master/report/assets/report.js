// report.js - report.html, history.html and compare.html: draw the charts from the data embedded in the
// page (<script type="application/json" id="loadctl-data">), then mark the page data-status="ok".
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('loadctl-data').textContent);
  loadctl.draw(D, true);
  loadctl.redrawOnResize(function () { return D; });
  if (document.documentElement.getAttribute('data-status') != 'error') {
    document.documentElement.setAttribute('data-status', 'ok');
  }
})();

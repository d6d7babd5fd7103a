// report.js - report.html, history.html and compare.html: draw the charts from the data embedded in the
// page (<script type="application/json" id="loadctl-data">), then mark the page data-status="ok".
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('loadctl-data').textContent);
  loadctl.draw(D, true);
  loadctl.redrawOnResize(function () { return D; });
  var tagKey = document.getElementById('tag-key'); // the Tags table shows one tag key or every one
  if (tagKey) {
    tagKey.addEventListener('change', function () {
      var rows = document.querySelectorAll('#tags tr[data-key]');
      for (var i = 0; i < rows.length; i++) {
        rows[i].style.display = !tagKey.value || rows[i].getAttribute('data-key') == tagKey.value ? '' : 'none';
      }
    });
  }
  if (document.documentElement.getAttribute('data-status') != 'error') {
    document.documentElement.setAttribute('data-status', 'ok');
  }
})();

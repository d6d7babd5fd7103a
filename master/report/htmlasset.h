/* htmlasset.h - the pages' CSS, scripts and the live page, kept as real files in master/report/assets/ and
 * embedded at build time (cmake/embed.cmake writes build/gen/assets.c); one chart script draws report.html,
 * history.html and the live page. */
#ifndef LOADCTL_HTMLASSET_H
#define LOADCTL_HTMLASSET_H

/* style.css: the stylesheet (no external fonts or URLs). */
extern const char htmlasset_css[];

/* guard.js: the first script in a page; any script error marks <html data-status="error">. */
extern const char htmlasset_guard_js[];

/* chart.js: `loadctl.draw(D)` draws the SVG charts into the elements with data-chart="..." (hover,
 * drag-to-zoom, legend toggles, change marks); `loadctl.append(D, interval)` adds a live interval. */
extern const char htmlasset_chart_js[];

/* report.js: reads <script type="application/json" id="loadctl-data">, draws, sets data-status="ok". */
extern const char htmlasset_report_js[];

/* live.html + live.js: the live page served by the master's --web server (master/webapi.c). */
extern const char htmlasset_live_html[];
extern const char htmlasset_live_js[];

#endif

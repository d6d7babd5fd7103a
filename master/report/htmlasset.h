/* htmlasset.h - the CSS and the small chart script inlined into report.html and compare.html (kept out
 * of html.c so the page logic and the page assets can be read separately). */
#ifndef LOADCTL_HTMLASSET_H
#define LOADCTL_HTMLASSET_H

/* Stylesheet (no external fonts or URLs). */
extern const char htmlasset_css[];

/* Chart script: reads <script type="application/json" id="loadctl-data">, draws the SVG charts into
 * the elements with data-chart="...", adds hover tooltips, drag-to-zoom (double click resets) and
 * legend toggles, then sets <html data-status="ok">; any script error sets data-status="error". */
extern const char htmlasset_js[];

/* The first script in the page: error handler that marks data-status="error". */
extern const char htmlasset_guard_js[];

#endif

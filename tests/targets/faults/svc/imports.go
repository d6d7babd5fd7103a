// imports.go - a marketplace's partner product feeds: POST /api/imports?partner=N imports the partner's
// latest uploaded feed (CSV, kept by the upload service; here generated at start), validates it row by
// row and answers the import's result with a report of the rejected rows; GET /api/products lists a
// partner's imported products, GET /api/imports/last the last import's result. One ServeHTTP switches
// on the path; a pprof.Do middleware labels from the k6.name baggage member only.
//
//	import_report: (*importer).validate builds the rejection report by string concatenation (report +=
//	               line): quadratic in the rejected rows. Most feeds reject a handful of rows; every
//	               12th partner changed its export format (a price column in cents with a currency
//	               suffix), so ~2 400 of its 3 000 rows are rejected and the report's bytes are copied
//	               ~2 400 times (~100 MB of copying and garbage per import, in runtime code below
//	               validate). Without the fault (--fault-off) the report is built in a strings.Builder.
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

func init() {
	register("import_report", "(*importer).validate concatenates its rejection report: quadratic for feeds with ~2 400 bad rows",
		func(e *env) http.Handler { return newImporter(e) })
}

type product struct {
	SKU   string
	Title string
	Cents int64
}

type importResult struct {
	Accepted, Rejected int
	Report             string
}

type importer struct {
	e        *env
	feeds    map[int][]string // partner -> CSV rows
	mu       sync.RWMutex
	products map[int][]product
	last     map[int]importResult
}

func newImporter(e *env) http.Handler {
	im := &importer{e: e, feeds: map[int][]string{}, products: map[int][]product{}, last: map[int]importResult{}}
	for p := 1; p <= 240; p++ {
		rows := 150 + int(mix(uint64(p), 4)%150)
		if p%12 == 0 {
			rows = 3000
		}
		for i := 0; i < rows; i++ {
			price := fmt.Sprintf("%d.%02d", 1+i%300, i%100)
			if (p%12 == 0 && i%5 != 0) || i%97 == 13 {
				price = fmt.Sprintf("%dEUR", 100+i%30000) // the new export's format, or a typo
			}
			im.feeds[p] = append(im.feeds[p], fmt.Sprintf("P%03d-%05d,Widget model %d size %d,%s", p, i, i, i%7, price))
		}
	}
	return doLabels(labelsK6, im)
}

func (im *importer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, _ := strconv.Atoi(r.URL.Query().Get("partner"))
	switch {
	case r.URL.Path == "/api/imports" && r.Method == http.MethodPost:
		rows, ok := im.feeds[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		im.e.plant.request(p%12 == 0 && !im.e.cfg.faultOff)
		res := im.importFeed(p, rows)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"partner":%d,"accepted":%d,"rejected":%d,"report_bytes":%d}`, p, res.Accepted, res.Rejected, len(res.Report))
	case r.URL.Path == "/api/products":
		im.e.plant.request(false)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		im.mu.RLock()
		ps := im.products[p]
		im.mu.RUnlock()
		var b strings.Builder
		b.WriteString("[")
		for i := page * 20; i < len(ps) && i < page*20+20; i++ {
			fmt.Fprintf(&b, `{"sku":%q,"title":%q,"cents":%d},`, ps[i].SKU, ps[i].Title, ps[i].Cents)
		}
		b.WriteString("]")
		fmt.Fprint(w, b.String())
	case r.URL.Path == "/api/imports/last":
		im.e.plant.request(false)
		im.mu.RLock()
		res := im.last[p]
		im.mu.RUnlock()
		fmt.Fprintf(w, `{"partner":%d,"accepted":%d,"rejected":%d}`, p, res.Accepted, res.Rejected)
	default:
		http.NotFound(w, r)
	}
}

// importFeed validates a partner's feed and replaces its products with the accepted rows.
func (im *importer) importFeed(partner int, rows []string) importResult {
	ps, res := im.validate(rows)
	im.mu.Lock()
	im.products[partner], im.last[partner] = ps, res
	im.mu.Unlock()
	return res
}

// validate parses each row (sku,title,price) and reports the rows it rejects.
//
//go:noinline
func (im *importer) validate(rows []string) ([]product, importResult) {
	var ps []product
	var res importResult
	var sb strings.Builder // --fault-off
	for i, row := range rows {
		f := strings.Split(row, ",")
		var reason string
		var cents int64
		if len(f) != 3 {
			reason = "want 3 columns"
		} else if whole, frac, ok := strings.Cut(f[2], "."); !ok {
			reason = "price " + strconv.Quote(f[2]) + " is not a decimal amount"
		} else {
			w, err1 := strconv.ParseInt(whole, 10, 64)
			c, err2 := strconv.ParseInt(frac, 10, 64)
			if err1 != nil || err2 != nil {
				reason = "price " + strconv.Quote(f[2]) + " is not a number"
			}
			cents = w*100 + c
		}
		if reason == "" {
			ps = append(ps, product{f[0], f[1], cents})
			res.Accepted++
			continue
		}
		res.Rejected++
		line := "row " + strconv.Itoa(i+1) + " (" + f[0] + "): " + reason + "\n"
		if im.e.cfg.faultOff {
			sb.WriteString(line)
		} else {
			res.Report += line
		}
	}
	if im.e.cfg.faultOff {
		res.Report = sb.String()
	}
	return ps, res
}

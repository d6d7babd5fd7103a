// exports.go - an accounts API with a data-export endpoint: GET /api/accounts/N (the account, small
// JSON), GET /api/accounts/N/usage (a month of daily usage) and GET /api/accounts/N/export (the
// account's whole activity log as CSV, gzip-compressed for clients that accept it). Most accounts have
// a few dozen activity rows; every 12th is an enterprise account with thousands. Routes are parsed by
// hand from the path in one handler behind a pprof.Do middleware that labels trace ids from
// traceparent only (no request names: loadctl joins them by trace id).
//
//	gzip_export: exportActivity compresses the CSV at gzip.BestCompression ("exports are downloaded over
//	             slow links"): for an enterprise account (~8 % of exports) that is ~1 MB of text through
//	             compress/flate's slowest level on the request path, tens of ms of CPU inside the library.
//	             Without the fault (--fault-off) exports use gzip.BestSpeed.
package main

import (
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func init() {
	register("gzip_export", "exportActivity gzips enterprise accounts' activity CSV at BestCompression",
		func(e *env) http.Handler { return newExports(e) })
}

type exportSvc struct {
	e     *env
	epoch time.Time
}

var activityKinds = []string{"login", "invoice.created", "invoice.paid", "seat.added", "seat.removed",
	"api_key.rotated", "plan.changed", "webhook.failed", "export.requested", "sso.updated"}

// activityRows is how many activity rows account has: enterprise accounts (every 12th) have thousands.
func activityRows(account int) int {
	if account%12 == 0 {
		return 6000 + account%2000
	}
	return 20 + account%60
}

// exportActivity writes account's activity log to w as CSV, gzip-compressed when gz is set.
//
//go:noinline
func (s *exportSvc) exportActivity(w io.Writer, account int, gz bool) error {
	level := gzip.BestCompression
	if s.e.cfg.faultOff {
		level = gzip.BestSpeed
	}
	var zw *gzip.Writer
	if gz {
		zw, _ = gzip.NewWriterLevel(w, level)
		w = zw
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "time", "actor", "kind", "detail"})
	n := activityRows(account)
	for i := 0; i < n; i++ {
		h := mix(uint64(account)<<20|uint64(i), 4)
		t := s.epoch.Add(time.Duration(i) * 37 * time.Minute)
		_ = cw.Write([]string{strconv.Itoa(account*100000 + i), t.Format(time.RFC3339),
			fmt.Sprintf("user-%d@acct%d.example", h%40, account), activityKinds[h%uint64(len(activityKinds))],
			fmt.Sprintf("ref=%x amount=%d.%02d", h>>16, h%9000, h%100)})
	}
	cw.Flush()
	if zw != nil {
		return zw.Close()
	}
	return cw.Error()
}

func (s *exportSvc) usage(w http.ResponseWriter, account int) {
	days := make([]string, 30)
	for d := range days {
		days[d] = strconv.FormatUint(mix(uint64(account*31+d), 40)%5000, 10)
	}
	fmt.Fprintf(w, `{"account":%d,"daily_calls":[%s]}`, account, strings.Join(days, ","))
}

func (s *exportSvc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/") // api accounts N [usage|export]
	if len(parts) < 3 || parts[0] != "api" || parts[1] != "accounts" || len(parts) > 4 {
		http.NotFound(w, r)
		return
	}
	account, err := strconv.Atoi(parts[2])
	if err != nil || account < 0 {
		http.Error(w, "bad account id", http.StatusBadRequest)
		return
	}
	switch {
	case len(parts) == 3:
		s.e.plant.request(false)
		fmt.Fprintf(w, `{"id":%d,"plan":%q,"seats":%d}`, account, []string{"team", "business"}[account%2], 3+account%40)
	case parts[3] == "usage":
		s.e.plant.request(false)
		s.usage(w, account)
	case parts[3] == "export":
		gz := strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
		s.e.plant.request(gz && account%12 == 0 && !s.e.cfg.faultOff)
		w.Header().Set("Content-Type", "text/csv")
		if gz {
			w.Header().Set("Content-Encoding", "gzip")
		}
		_ = s.exportActivity(w, account, gz)
	default:
		http.NotFound(w, r)
	}
}

func newExports(e *env) http.Handler {
	return doLabels(labelsTraceparent, &exportSvc{e: e, epoch: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
}

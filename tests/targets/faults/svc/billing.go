// billing.go - an invoicing service whose customer API and back-office API are two routes on one handler
// method, as happens when an admin view reuses the public one with a flag: GET /api/invoices and GET
// /admin/invoices both run (*billingSvc).listInvoices, which picks its options from the path. Labels are
// set inline in the handler (baggage decoded + trace ids); totals and digests go through checksum, the
// helper every request calls.
//
//	shared_handler: on GET /admin/invoices (~20 % of requests) for accounts with voided invoices (every
//	                4th account), listInvoices also runs scanVoided, a scan of the account's whole ledger
//	                (~10 ms of CPU in checksum). The same handler on GET /api/invoices never scans.
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

func init() {
	register("shared_handler", "scanVoided (~10 ms, in checksum) on admin calls of a handler two routes share",
		func(e *env) http.Handler { return newBilling(e) })
}

type billingSvc struct {
	e        *env
	invoices [][]byte
}

func newBilling(e *env) http.Handler {
	s := &billingSvc{e: e}
	for i := 0; i < 64; i++ {
		s.invoices = append(s.invoices, []byte(strings.Repeat(fmt.Sprintf("inv-%04d;EUR;%d.%02d;", i, 10+i, i), 6)))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/invoices", s.listInvoices)
	mux.HandleFunc("/admin/invoices", s.listInvoices)
	return mux
}

type listOptions struct {
	account      int
	page         int
	includeVoids bool // the back office sees voided invoices too
}

// listInvoices serves one page of an account's invoices, for customers or (under /admin/) back office.
func (s *billingSvc) listInvoices(w http.ResponseWriter, r *http.Request) {
	r, restore := setLabels(r, labelsDecoded)
	defer restore()
	q := r.URL.Query()
	opt := listOptions{includeVoids: strings.HasPrefix(r.URL.Path, "/admin/")}
	opt.account, _ = strconv.Atoi(q.Get("account"))
	opt.page, _ = strconv.Atoi(q.Get("page"))
	scan := opt.includeVoids && opt.account%4 == 0
	s.e.plant.request(scan)
	var voided int
	if scan {
		voided = s.scanVoided(opt.account)
	}
	var b strings.Builder
	b.WriteString(`{"invoices":[`)
	for i := 0; i < 10; i++ {
		inv := s.invoices[(opt.page*10+i)%len(s.invoices)]
		fmt.Fprintf(&b, `%s{"n":%d,"digest":"%08x"}`, map[bool]string{true: ",", false: ""}[i > 0],
			opt.page*10+i, checksum(inv, 40+opt.account%4))
	}
	fmt.Fprintf(&b, `],"voided":%d}`, voided)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(b.String()))
}

// scanVoided walks the account's whole invoice history to find the voided ones: ~10 ms of CPU in checksum.
//
//go:noinline
func (s *billingSvc) scanVoided(account int) int {
	voided := 0
	for i, inv := range s.invoices {
		if checksum(inv, 1000)%9 == uint32((account+i)%9) {
			voided++
		}
	}
	return voided
}

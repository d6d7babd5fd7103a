// statements.go - a billing portal: customers open their monthly statement as an HTML page
// (GET /statements/N, html/template), check their balance (GET /api/balance) and pay (POST /api/payments).
// The statement's template shows each line's product category through a template function that looks
// the SKU up in the category table. Handlers are methods on a ServeMux behind a pprof.Do middleware
// that labels from traceparent only (the portal's tracing sends no baggage).
//
//	statement_tmpl: the category table (40 000 categories, keyed by the SKU's 6-character prefix) is a
//	                slice, and (*categoryTable).name scans it for every line the template renders.
//	                Most statements have 8-40 lines; resellers (every 15th customer) have ~400, so
//	                their page makes ~8 M string comparisons inside the template's execution (reached
//	                from html/template through reflect). Without the fault (--fault-off) the table is
//	                indexed by prefix when it is loaded.
package main

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

func init() {
	register("statement_tmpl", "a statement template's category lookup scans 40 000 categories per line; resellers have ~400 lines",
		func(e *env) http.Handler { return newStatements(e) })
}

type category struct{ prefix, name string }

type categoryTable struct {
	rows    []category
	byPrefx map[string]string // --fault-off: indexed at load
}

// name is the template's `category` function: the category of sku, by its 6-character prefix.
//
//go:noinline
func (t *categoryTable) name(sku string) string {
	if len(sku) < 6 {
		return "Other"
	}
	if t.byPrefx != nil {
		if n, ok := t.byPrefx[sku[:6]]; ok {
			return n
		}
		return "Other"
	}
	for _, c := range t.rows {
		if c.prefix == sku[:6] {
			return c.name
		}
	}
	return "Other"
}

type statementLine struct {
	SKU, Description string
	Qty              int
	Cents            int64
}

type statement struct {
	Customer int
	Month    string
	Lines    []statementLine
	Total    int64
}

type statementSvc struct {
	e        *env
	cats     *categoryTable
	page     *template.Template
	mu       sync.Mutex
	balances map[int]int64
	lines    map[int][]statementLine
}

const statementPage = `<!doctype html><html><head><title>Statement {{.Month}}</title></head><body>
<h1>Customer {{.Customer}}: statement for {{.Month}}</h1>
<table><tr><th>SKU</th><th>Category</th><th>Description</th><th>Qty</th><th>Amount</th></tr>
{{range .Lines}}<tr><td>{{.SKU}}</td><td>{{category .SKU}}</td><td>{{.Description}}</td><td>{{.Qty}}</td><td>{{cents .Cents}}</td></tr>
{{end}}</table><p>Total: {{cents .Total}}</p></body></html>`

func skuOf(i int) string { return fmt.Sprintf("C%05d-%06d", i%40000, (i*7919)%1000000) }

func newStatements(e *env) http.Handler {
	s := &statementSvc{e: e, cats: &categoryTable{}, balances: map[int]int64{}, lines: map[int][]statementLine{}}
	for i := 0; i < 40000; i++ {
		s.cats.rows = append(s.cats.rows, category{fmt.Sprintf("C%05d", i), fmt.Sprintf("Category %d & sons", i)})
	}
	if e.cfg.faultOff {
		s.cats.byPrefx = map[string]string{}
		for _, c := range s.cats.rows {
			s.cats.byPrefx[c.prefix] = c.name
		}
	}
	funcs := template.FuncMap{"category": s.cats.name,
		"cents": func(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }}
	s.page = template.Must(template.New("statement").Funcs(funcs).Parse(statementPage))
	for c := 1; c <= 600; c++ {
		n := 8 + int(mix(uint64(c), 3)%33)
		if c%15 == 0 {
			n = 400
		}
		for i := 0; i < n; i++ {
			k := int(mix(uint64(c*10000+i), 2) % 40000000)
			s.lines[c] = append(s.lines[c], statementLine{skuOf(k), "Item <" + strconv.Itoa(k%977) + "> \"std\"",
				1 + k%5, int64(99 + k%20000)})
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/statements/", s.statement)
	mux.HandleFunc("/api/balance", s.balance)
	mux.HandleFunc("/api/payments", s.pay)
	return doLabels(labelsTraceparent, mux)
}

func (s *statementSvc) statement(w http.ResponseWriter, r *http.Request) {
	c, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/statements/"))
	if err != nil || s.lines[c] == nil {
		http.NotFound(w, r)
		return
	}
	s.e.plant.request(len(s.lines[c]) > 200 && !s.e.cfg.faultOff)
	st := statement{Customer: c, Month: "2026-11", Lines: s.lines[c]}
	for _, l := range st.Lines {
		st.Total += l.Cents * int64(l.Qty)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.page.Execute(w, st); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (s *statementSvc) balance(w http.ResponseWriter, r *http.Request) {
	c, _ := strconv.Atoi(r.URL.Query().Get("customer"))
	s.e.plant.request(false)
	s.mu.Lock()
	b := s.balances[c]
	s.mu.Unlock()
	fmt.Fprintf(w, `{"customer":%d,"balance_cents":%d,"etag":"%08x"}`, c, b, checksum([]byte(strconv.Itoa(c)), 200))
}

func (s *statementSvc) pay(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST customer=N&cents=M", http.StatusMethodNotAllowed)
		return
	}
	c, _ := strconv.Atoi(r.FormValue("customer"))
	cents, _ := strconv.ParseInt(r.FormValue("cents"), 10, 64)
	s.e.plant.request(false)
	s.mu.Lock()
	s.balances[c] -= cents
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"customer":%d,"receipt":"%016x"}`, c, mix(uint64(c)^uint64(cents), 50))
}

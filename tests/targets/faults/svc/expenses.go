// expenses.go - a company expenses app: employees file expenses (POST /api/expenses) and list theirs
// (GET /api/expenses), finance teams now and then run an organisation's yearly report
// (GET /api/reports/yearly?org=N: totals per category and month). Expense rows live in a column store
// the service reads row by row (here generated from the org's seed). Handlers are closures on a
// ServeMux behind a pprof.Do middleware (baggage decoded + trace ids).
//
//	year_report: (*expenseReports).yearlyTotals loads all of the org's 600 000 rows of the year into a
//	             slice of expense structs, then groups them in a map keyed by "category/month" strings
//	             it formats per row: ~75 MB allocated and ~50 MB live for the length of the report
//	             (~1 s), so the collector runs back to back over a heap ten times the service's usual
//	             size and charges its marking to every request that allocates (GC assists); each report
//	             is a span on /debug/faults. Reports are ~0.2 % of requests. Without the fault
//	             (--fault-off) the report aggregates while it reads, keyed by a small struct (its
//	             reports are still spans, so that the seconds can be compared).
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
)

func init() {
	register("year_report", "the yearly report materialises 600k rows and formats a string key per row: ~1 s of heap churn per report",
		func(e *env) http.Handler { return newExpenses(e) })
}

type expense struct {
	ID       int64
	Employee int
	Category string
	Month    int
	Cents    int64
	Note     string
}

var expenseCategories = []string{"travel", "meals", "lodging", "software", "hardware", "training", "office", "other"}

// readRow is the column store's row reader: row i of org's year.
func readRow(org, i int) expense {
	h := mix(uint64(org)<<32|uint64(i), 2)
	return expense{ID: int64(i), Employee: int(h % 5000), Category: expenseCategories[h>>8%8],
		Month: int(h>>16%12) + 1, Cents: int64(h >> 24 % 50000), Note: "imported"}
}

type monthKey struct {
	category string
	month    int
}

type expenseReports struct {
	e   *env
	mu  sync.Mutex
	own map[int][]expense // employee -> expenses filed through the API
}

// yearlyTotals returns the org's totals per category and month, sorted by key.
//
//go:noinline
func (r *expenseReports) yearlyTotals(org, rows int) []string {
	totals := map[string]int64{}
	if r.e.cfg.faultOff {
		sums := map[monthKey]int64{}
		for i := 0; i < rows; i++ {
			x := readRow(org, i)
			sums[monthKey{x.Category, x.Month}] += x.Cents
		}
		for k, v := range sums {
			totals[fmt.Sprintf("%s/%02d", k.category, k.month)] = v
		}
	} else {
		var all []*expense
		for i := 0; i < rows; i++ {
			x := readRow(org, i)
			all = append(all, &x)
		}
		for _, x := range all {
			totals[fmt.Sprintf("%s/%02d", x.Category, x.Month)] += x.Cents
		}
	}
	var out []string
	for k, v := range totals {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(out)
	return out
}

func newExpenses(e *env) http.Handler {
	r := &expenseReports{e: e, own: map[int][]expense{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/expenses", func(w http.ResponseWriter, req *http.Request) {
		emp, _ := strconv.Atoi(req.URL.Query().Get("employee"))
		e.plant.request(false)
		if req.Method == http.MethodPost {
			cents, _ := strconv.ParseInt(req.FormValue("cents"), 10, 64)
			x := expense{Employee: emp, Category: req.FormValue("category"), Cents: cents, Note: req.FormValue("note")}
			r.mu.Lock()
			x.ID = int64(len(r.own[emp]) + 1)
			r.own[emp] = append(r.own[emp], x)
			r.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(x)
			return
		}
		r.mu.Lock()
		list := append([]expense(nil), r.own[emp]...)
		r.mu.Unlock()
		if len(list) > 25 {
			list = list[len(list)-25:]
		}
		_ = json.NewEncoder(w).Encode(map[string]interface{}{"employee": emp, "expenses": list})
	})
	mux.HandleFunc("/api/reports/yearly", func(w http.ResponseWriter, req *http.Request) {
		org, _ := strconv.Atoi(req.URL.Query().Get("org"))
		e.plant.request(!e.cfg.faultOff)
		t0 := unixNow()
		out := r.yearlyTotals(org, 600000)
		e.plant.record(t0, unixNow())
		_ = json.NewEncoder(w).Encode(map[string]interface{}{"org": org, "totals": out})
	})
	return doLabels(labelsDecoded, mux)
}

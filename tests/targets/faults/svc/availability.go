// availability.go - a wholesale storefront's availability service in front of a supplier's API (the
// dependency process). GET /api/availability?sku=N asks the supplier for live stock (~1 ms), GET
// /api/products?sku=N answers from the local catalogue with the last known lead time, POST /api/quotes
// checks stock for a few lines. Every supplier call goes through one supplierClient, whose Transport
// caps connections to the supplier (MaxConnsPerHost 4: the supplier's rate agreement). A background
// goroutine refreshes the lead times of the whole range every 8 s with eight workers. Handlers are
// closures on a ServeMux that set their labels inline (k6.name only).
//
//	sync_conns: (*leadTimeSync).refreshAll sends its ~240 lead-time lookups (~30 ms each at the supplier)
//	            through the same supplierClient: for ~2 s every 8 s its workers hold all four connections
//	            and queue for more, and every request's supplier call waits its turn for a connection
//	            inside net/http (spans on /debug/faults). Without the fault (--fault-off) the sync has a
//	            client of its own (two connections), so the storefront's calls never wait for it.
package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func init() {
	register("sync_conns", "(*leadTimeSync).refreshAll shares the supplier client's 4 connections every 8 s",
		func(e *env) http.Handler { return newStorefront(e) })
}

// supplierClient is the storefront's client of the supplier's API.
type supplierClient struct {
	base string
	c    *http.Client
}

func newSupplierClient(base string, conns int) *supplierClient {
	return &supplierClient{base: base, c: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns}}}
}

// stock asks the supplier for an item's live stock.
func (s *supplierClient) stock(ctx context.Context, sku int) error {
	return send(ctx, s.c, fmt.Sprintf("%s/item?id=%d", s.base, sku))
}

// leadTime asks the supplier's lead-time report for an item (a slow query on their side).
func (s *supplierClient) leadTime(ctx context.Context, sku int) error {
	return send(ctx, s.c, fmt.Sprintf("%s/wait?ms=30&sku=%d", s.base, sku))
}

type leadTimeSync struct {
	e        *env
	supplier *supplierClient
	mu       sync.RWMutex
	days     map[int]int
}

func newStorefront(e *env) http.Handler {
	dep := e.dependency()
	supplier := newSupplierClient(dep, 4)
	lt := &leadTimeSync{e: e, supplier: supplier, days: map[int]int{}}
	if e.cfg.faultOff {
		lt.supplier = newSupplierClient(dep, 2)
	}
	go lt.loop(8 * time.Second)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/availability", func(w http.ResponseWriter, r *http.Request) {
		r, restore := setLabels(r, labelsK6)
		defer restore()
		e.plant.request(false)
		sku, _ := strconv.Atoi(r.URL.Query().Get("sku"))
		if err := supplier.stock(r.Context(), sku); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, `{"sku":%d,"in_stock":true}`, sku)
	})
	mux.HandleFunc("/api/products", func(w http.ResponseWriter, r *http.Request) {
		r, restore := setLabels(r, labelsK6)
		defer restore()
		e.plant.request(false)
		sku, _ := strconv.Atoi(r.URL.Query().Get("sku"))
		lt.mu.RLock()
		d := lt.days[sku%240]
		lt.mu.RUnlock()
		fmt.Fprintf(w, `{"sku":%d,"lead_days":%d,"etag":"%08x"}`, sku, d, checksum([]byte(strconv.Itoa(sku)), 200))
	})
	mux.HandleFunc("/api/quotes", func(w http.ResponseWriter, r *http.Request) {
		r, restore := setLabels(r, labelsK6)
		defer restore()
		e.plant.request(false)
		lines, _ := strconv.Atoi(r.FormValue("lines"))
		for i := 0; i < lines && i < 5; i++ {
			if err := supplier.stock(r.Context(), lines*31+i); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"lines":%d}`, lines)
	})
	return mux
}

func (lt *leadTimeSync) loop(every time.Duration) {
	for {
		time.Sleep(every)
		t0 := unixNow()
		lt.refreshAll(240, 8)
		lt.e.plant.record(t0, unixNow()) // with --fault-off too: the seconds to compare
	}
}

// refreshAll fetches the lead time of every sku in 0..n-1 with the given number of workers.
//
//go:noinline
func (lt *leadTimeSync) refreshAll(n, workers int) {
	skus := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sku := range skus {
				if lt.supplier.leadTime(context.Background(), sku) == nil {
					lt.mu.Lock()
					lt.days[sku] = 2 + sku%9
					lt.mu.Unlock()
				}
			}
		}()
	}
	for sku := 0; sku < n; sku++ {
		skus <- sku
	}
	close(skus)
	wg.Wait()
}

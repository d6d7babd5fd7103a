// orders.go - a checkout service: product pages and orders, handlers as closures on a ServeMux behind
// one labelling middleware. Planted fault (variant helper, and the label variants that change only the
// middleware): orders from customers on the manual-review list (every 10th customer id, ~10 % of
// orders) run fraudCheck, which spends its CPU in mix, the hash helper that pricing and the background
// rate refresher call too. Variant control: the same service with an empty review list.
package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

func init() {
	register("helper", "fraudCheck on ~10% of POST /api/orders, CPU in the shared helper mix; baggage decoded",
		func(e *env) http.Handler { return newOrders(e, labelsDecoded, true) })
	register("labels_encoded", "as helper; labels keep baggage values percent-encoded",
		func(e *env) http.Handler { return newOrders(e, labelsEncoded, true) })
	register("labels_traceparent", "as helper; labels from traceparent only (trace_id, span_id)",
		func(e *env) http.Handler { return newOrders(e, labelsTraceparent, true) })
	register("labels_k6", "as helper; labels k6.name only",
		func(e *env) http.Handler { return newOrders(e, labelsK6, true) })
	register("labels_otel", "as helper; OpenTelemetry-style labels http.method, http.route, span_id",
		func(e *env) http.Handler { return newOrders(e, labelsOTel, true) })
	register("control", "the helper service with an empty review list: no fault",
		func(e *env) http.Handler { return newOrders(e, labelsDecoded, false) })
}

type orderSvc struct {
	e      *env
	review bool
	rates  uint64 // atomic; the refresher's latest rate seed
	orders int64  // atomic
}

func newOrders(e *env, style labelStyle, review bool) http.Handler {
	s := &orderSvc{e: e, review: review}
	go s.refreshRates()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/products", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if e.cfg.leakKB > 0 {
			rememberPage(e.cfg.leakKB)
		}
		type product struct {
			ID    int     `json:"id"`
			Price float64 `json:"price"`
		}
		out := make([]product, 20)
		for i := range out {
			out[i] = product{page*20 + i, s.price(page*20 + i)}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("/api/orders", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		var o struct {
			Customer int `json:"customer"`
			Items    []struct {
				ID  int `json:"id"`
				Qty int `json:"qty"`
			} `json:"items"`
		}
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			http.Error(w, "bad order: "+err.Error(), http.StatusBadRequest)
			return
		}
		total := 0.0
		for _, it := range o.Items {
			total += s.price(it.ID) * float64(it.Qty)
		}
		flagged := s.review && o.Customer%10 == 0
		s.e.plant.request(flagged)
		status := "accepted"
		if flagged && fraudCheck(uint64(o.Customer), len(o.Items))%97 == 0 {
			status = "held"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]interface{}{
			"order": atomic.AddInt64(&s.orders, 1), "total": total, "status": status})
	})
	return doLabels(style, mux)
}

// price of product id at the current rates (~50 µs of mix).
func (s *orderSvc) price(id int) float64 {
	return float64(mix(uint64(id)^atomic.LoadUint64(&s.rates), 30000)%10000) / 100
}

// refreshRates is the background job that shares mix with pricing and fraudCheck: ~3 ms every 100 ms.
func (s *orderSvc) refreshRates() {
	for range time.Tick(100 * time.Millisecond) {
		x := atomic.LoadUint64(&s.rates) + 1
		for i := 0; i < 100; i++ {
			x = mix(x, 20000)
		}
		atomic.StoreUint64(&s.rates, x)
	}
}

// fraudCheck scores a flagged customer's order against its history: ~20-30 ms of CPU, all of it in mix.
//
//go:noinline
func fraudCheck(customer uint64, items int) uint64 {
	h := customer
	for i := 0; i < 500+items; i++ {
		h ^= mix(h+uint64(i), 20000)
	}
	return h
}

// prices.go - a pricing service with a read-through cache of the price list: the first request that finds
// the list expired reloads it while the requests behind it wait for that reload (a hand-written
// single-flight), as caches written in a hurry do. Labels are set by a pprof.Do middleware (baggage
// decoded + trace ids); prices are derived through mix, which the catalogue page calls too.
//
//	stampede: the list expires every 5 s; its reload, loadPriceList, takes ~80 ms of CPU (in mix) on the
//	          request that found it expired, and every GET /api/price that arrives meanwhile waits in
//	          waitForReload. The slow requests come in bursts, a few each 5 s (spans on /debug/faults);
//	          GET /api/catalog/page never reads the list.
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
	register("stampede", "GET /api/price waits for one request's 80 ms reload of the price list every 5 s",
		func(e *env) http.Handler { return newPricing(e, 5*time.Second) })
}

const priceListSize = 2000

type priceCache struct {
	e       *env
	ttl     time.Duration
	mu      sync.Mutex
	prices  []uint64
	expires time.Time
	loading chan struct{} // non-nil while a reload runs; closed when it is done
}

func newPricing(e *env, ttl time.Duration) http.Handler {
	c := &priceCache{e: e, ttl: ttl}
	c.prices = c.loadPriceList()
	c.expires = time.Now().Add(ttl)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/price", func(w http.ResponseWriter, r *http.Request) {
		sku, _ := strconv.Atoi(r.URL.Query().Get("sku"))
		price, err := c.price(r.Context(), sku)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, `{"sku":%d,"cents":%d}`, sku, price)
	})
	mux.HandleFunc("/api/catalog/page", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		e.plant.request(false)
		fmt.Fprintf(w, `{"page":%d,"etag":"%016x"}`, page, mix(uint64(page), 40000))
	})
	return doLabels(labelsDecoded, mux)
}

// price returns sku's price in cents, reloading the list first when it has expired.
func (c *priceCache) price(ctx context.Context, sku int) (uint64, error) {
	c.mu.Lock()
	if time.Now().Before(c.expires) {
		p := c.prices[sku%priceListSize]
		c.mu.Unlock()
		c.e.plant.request(false)
		return p, nil
	}
	c.e.plant.request(true)
	if wait := c.loading; wait != nil {
		c.mu.Unlock()
		if err := waitForReload(ctx, wait); err != nil {
			return 0, err
		}
		return c.price(ctx, sku)
	}
	done := make(chan struct{})
	c.loading = done
	c.mu.Unlock()
	t0 := unixNow()
	prices := c.loadPriceList()
	c.e.plant.record(t0, unixNow())
	c.mu.Lock()
	c.prices, c.expires, c.loading = prices, time.Now().Add(c.ttl), nil
	c.mu.Unlock()
	close(done)
	return prices[sku%priceListSize], nil
}

// waitForReload waits for the reload another request runs.
//
//go:noinline
func waitForReload(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loadPriceList recomputes every SKU's price from the rate tables: ~80 ms of CPU in mix.
//
//go:noinline
func (c *priceCache) loadPriceList() []uint64 {
	prices := make([]uint64, priceListSize)
	for sku := range prices {
		prices[sku] = mix(uint64(sku), 20000) % 100000
	}
	return prices
}

// metrics.go - an API gateway that forwards to its backends (here: a small in-process computation) and
// keeps request metrics in its own registry: a counter and a latency sum per route, status and tenant
// (~37 000 series), under one mutex that every request takes to record itself. A flusher goroutine
// ships the registry to the metrics backend every 5 s as JSON. Labels: pprof.Do middleware in the
// OpenTelemetry style (http.method, http.route, span_id).
//
//	metrics_flush: (*registry).flush marshals every series with encoding/json while it holds the
//	               registry's mutex (~100-300 ms of CPU): every request in those seconds waits to record
//	               itself (spans on /debug/faults). Without the fault (--fault-off) flush copies the
//	               series under the mutex and marshals the copy after unlocking.
package main

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func init() {
	register("metrics_flush", "(*registry).flush marshals ~37k series under the registry mutex every 5 s",
		func(e *env) http.Handler { return newGateway(e, 5*time.Second) })
}

type series struct {
	Route  string  `json:"route"`
	Status int     `json:"status"`
	Tenant int     `json:"tenant"`
	Count  int64   `json:"count"`
	SumMs  float64 `json:"sum_ms"`
}

type registry struct {
	e       *env
	mu      sync.Mutex
	series  map[string]*series
	shipped uint32
}

func (g *registry) observe(route string, status, tenant int, d time.Duration) {
	key := route + "|" + strconv.Itoa(status) + "|" + strconv.Itoa(tenant)
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.series[key]
	if s == nil {
		s = &series{Route: route, Status: status, Tenant: tenant}
		g.series[key] = s
	}
	s.Count++
	s.SumMs += float64(d.Microseconds()) / 1000
}

// flush ships every series to the metrics backend.
//
//go:noinline
func (g *registry) flush() {
	g.mu.Lock()
	if g.e.cfg.faultOff {
		snap := make([]series, 0, len(g.series))
		for _, s := range g.series {
			snap = append(snap, *s)
		}
		g.mu.Unlock()
		body, _ := json.Marshal(snap)
		g.shipped = crc32.ChecksumIEEE(body)
		return
	}
	defer g.mu.Unlock()
	t0 := unixNow()
	body, _ := json.Marshal(g.series)
	g.shipped = crc32.ChecksumIEEE(body)
	g.e.plant.record(t0, unixNow())
}

func (g *registry) flushLoop(every time.Duration) {
	for range time.Tick(every) {
		g.flush()
	}
}

func newGateway(e *env, every time.Duration) http.Handler {
	g := &registry{e: e, series: map[string]*series{}}
	routes := []string{"/v1/search", "/v1/cart", "/v1/user", "/v1/stock"}
	for t := 0; t < 5000; t++ { // the registry as it is after a day of traffic
		for i, r := range routes {
			g.observe(r, 200, t, time.Millisecond)
			g.observe(r, 200+i*100+4*(t%2), t, time.Millisecond)
		}
	}
	go g.flushLoop(every)
	mux := http.NewServeMux()
	for i, route := range routes {
		i, route := i, route
		mux.HandleFunc(route, func(w http.ResponseWriter, r *http.Request) {
			t0 := time.Now()
			tenant, _ := strconv.Atoi(r.URL.Query().Get("tenant"))
			e.plant.request(false)
			sum := checksum([]byte(r.URL.RawQuery), 200+100*i)
			fmt.Fprintf(w, `{"route":%q,"v":%d}`, route, sum)
			g.observe(route, 200, tenant, time.Since(t0))
		})
	}
	return doLabels(labelsOTel, mux)
}

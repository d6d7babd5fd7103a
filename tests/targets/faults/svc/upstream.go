// upstream.go - services whose slow requests wait off-CPU on something: a slow upstream (the dependency
// process), a timer, or many small upstream calls. Routes are a map of "METHOD path" to closures behind
// a pprof.Do middleware (labels: baggage decoded + trace ids).
//
//	wait_dep:   GET /api/quote for exotic pairs (~10 %) calls fetchRates -> the dependency, 40 ms;
//	wait_timer: POST /api/alerts of throttled tenants (~20 %) wait 40 ms in awaitQuota (a timer);
//	nplus1:     GET /api/orders of heavy users (~7 %) loads 40 order lines one upstream call each.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func init() {
	register("wait_dep", "fetchRates waits 40 ms on the dependency for ~10% of GET /api/quote",
		func(e *env) http.Handler { return newUpstream(e, "dep") })
	register("wait_timer", "awaitQuota waits on a 40 ms timer for ~20% of POST /api/alerts",
		func(e *env) http.Handler { return newUpstream(e, "timer") })
	register("nplus1", "loadOrderLines: one upstream call per line, 40 lines for ~7% of GET /api/orders",
		func(e *env) http.Handler { return newUpstream(e, "nplus1") })
}

type upstreamSvc struct {
	e      *env
	fault  string
	dep    string
	client *http.Client
}

func newUpstream(e *env, fault string) http.Handler {
	s := &upstreamSvc{e: e, fault: fault, dep: e.dependency(),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	routes := map[string]http.HandlerFunc{
		"GET /api/quote": func(w http.ResponseWriter, r *http.Request) {
			pair := r.URL.Query().Get("pair")
			exotic := s.fault == "dep" && strings.HasPrefix(pair, "X")
			s.e.plant.request(exotic)
			rate := float64(mix(uint64(len(pair)), 30000)%1000) / 1000
			if exotic {
				var err error
				if rate, err = s.fetchRates(r.Context(), pair); err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
			}
			fmt.Fprintf(w, `{"pair":%q,"rate":%.4f}`, pair, rate)
		},
		"POST /api/alerts": func(w http.ResponseWriter, r *http.Request) {
			tenant, _ := strconv.Atoi(r.URL.Query().Get("tenant"))
			throttled := s.fault == "timer" && tenant%5 == 0
			s.e.plant.request(throttled)
			body, _ := io.ReadAll(r.Body)
			if throttled && !awaitQuota(r.Context(), 40*time.Millisecond) {
				http.Error(w, "cancelled", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprintf(w, `{"queued":true,"digest":"%08x"}`, checksum(body, 200))
		},
		"GET /api/orders": func(w http.ResponseWriter, r *http.Request) {
			user, _ := strconv.Atoi(r.URL.Query().Get("user"))
			n := 1 + user%3
			heavy := s.fault == "nplus1" && user%15 == 0
			if heavy {
				n = 40
			}
			s.e.plant.request(heavy)
			lines, err := s.loadOrderLines(r.Context(), user, n)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]interface{}{"user": user, "lines": lines})
		},
	}
	return doLabels(labelsDecoded, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := routes[r.Method+" "+r.URL.Path]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	}))
}

// fetchRates asks the rates upstream for a pair the cache does not hold; the upstream takes 40 ms.
//
//go:noinline
func (s *upstreamSvc) fetchRates(ctx context.Context, pair string) (float64, error) {
	var out struct {
		Rate float64 `json:"rate"`
	}
	return out.Rate, s.getJSON(ctx, "/wait?ms=40&pair="+pair, &out)
}

// awaitQuota blocks until the tenant's rate limiter lets the alert through (a fixed d here).
//
//go:noinline
func awaitQuota(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// loadOrderLines loads n order lines of user, one upstream call per line (the N+1 pattern).
//
//go:noinline
func (s *upstreamSvc) loadOrderLines(ctx context.Context, user, n int) ([]json.RawMessage, error) {
	lines := make([]json.RawMessage, 0, n)
	for i := 0; i < n; i++ {
		var line json.RawMessage
		if err := s.getJSON(ctx, fmt.Sprintf("/item?id=%d-%d", user, i), &line); err != nil {
			return nil, err
		}
		lines = append(lines, line)
	}
	return lines, nil
}

// getJSON is the shared upstream client call: GET dep+path, decode into v.
func (s *upstreamSvc) getJSON(ctx context.Context, path string, v interface{}) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.dep+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("upstream %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

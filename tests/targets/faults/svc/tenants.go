// tenants.go - a multi-tenant records API (GET/POST /v1/records, GET /v1/usage, ?tenant=N) behind a
// per-tenant rate limiter written in-house: each tenant's plan sets its rate, and a request over the
// rate is paced (delayed until its slot) rather than refused. Every request goes through the limiter
// middleware, then the handler. A pprof.Do middleware outside labels OpenTelemetry style (http.method,
// http.route, span_id).
//
//	tenant_limiter: (*tenantLimiter).Wait keeps the buckets under one mutex and sleeps until the
//	                request's slot while it still holds it. Business plans (every 4th tenant) are
//	                never paced in practice (1 000 requests/s); the starter plan (the others) is paced
//	                at 20 requests/s: interactive use never reaches it, but a starter tenant's
//	                integration that syncs records one after the other sleeps ~50 ms before each, and
//	                for the length of its sync every other tenant's request queues on the mutex
//	                behind the sleeper. Without the fault (--fault-off) Wait reserves the slot
//	                under the mutex and sleeps after releasing it.
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func init() {
	register("tenant_limiter", "(*tenantLimiter).Wait sleeps a starter tenant's request until its slot while holding the limiter mutex",
		func(e *env) http.Handler { return newTenantAPI(e) })
}

type tenantLimiter struct {
	e    *env
	mu   sync.Mutex
	next map[int]time.Time // tenant -> earliest start of its next request
}

// interval is the spacing the tenant's plan allows between requests.
func (l *tenantLimiter) interval(tenant int) time.Duration {
	if tenant%4 == 0 {
		return time.Millisecond // business: 1 000 requests/s
	}
	return 50 * time.Millisecond // starter: 20 requests/s
}

// Wait delays the request until the tenant's plan allows it.
//
//go:noinline
func (l *tenantLimiter) Wait(tenant int) {
	l.mu.Lock()
	now := time.Now()
	at := l.next[tenant]
	if at.Before(now) {
		at = now
	}
	l.next[tenant] = at.Add(l.interval(tenant))
	d := at.Sub(now)
	if l.e.cfg.faultOff {
		l.mu.Unlock()
		l.e.plant.request(false)
		time.Sleep(d)
		return
	}
	defer l.mu.Unlock()
	if d > 0 {
		l.e.plant.request(true)
		time.Sleep(d)
		return
	}
	l.e.plant.request(false)
}

type tenantAPI struct {
	lim     *tenantLimiter
	mu      sync.Mutex
	records map[int][]string
	used    map[int]int
}

func (a *tenantAPI) limit(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tenant, err := strconv.Atoi(r.URL.Query().Get("tenant"))
		if err != nil || tenant <= 0 {
			http.Error(w, "tenant=N is required", http.StatusUnauthorized)
			return
		}
		a.lim.Wait(tenant)
		a.mu.Lock()
		a.used[tenant]++
		a.mu.Unlock()
		h(w, r)
	}
}

func newTenantAPI(e *env) http.Handler {
	a := &tenantAPI{lim: &tenantLimiter{e: e, next: map[int]time.Time{}}, records: map[int][]string{}, used: map[int]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/records", a.limit(func(w http.ResponseWriter, r *http.Request) {
		tenant, _ := strconv.Atoi(r.URL.Query().Get("tenant"))
		if r.Method == http.MethodPost {
			rec := fmt.Sprintf("%s:%08x", r.FormValue("kind"), checksum([]byte(r.FormValue("value")), 200))
			a.mu.Lock()
			a.records[tenant] = append(a.records[tenant], rec)
			n := len(a.records[tenant])
			a.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"tenant":%d,"id":%d}`, tenant, n)
			return
		}
		a.mu.Lock()
		recs := a.records[tenant]
		if len(recs) > 20 {
			recs = recs[len(recs)-20:]
		}
		out := fmt.Sprintf("%q", recs)
		a.mu.Unlock()
		fmt.Fprintf(w, `{"tenant":%d,"records":%s,"etag":"%08x"}`, tenant, out, checksum([]byte(out), 20))
	}))
	mux.HandleFunc("/v1/usage", a.limit(func(w http.ResponseWriter, r *http.Request) {
		tenant, _ := strconv.Atoi(r.URL.Query().Get("tenant"))
		a.mu.Lock()
		n := a.used[tenant]
		a.mu.Unlock()
		fmt.Fprintf(w, `{"tenant":%d,"requests":%d}`, tenant, n)
	}))
	return doLabels(labelsOTel, mux)
}

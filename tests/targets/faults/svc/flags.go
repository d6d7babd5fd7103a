// flags.go - a feature-flag service: clients evaluate their flags on every page (GET /api/flags, a read
// of the flag table under a sync.RWMutex), product managers change a flag now and then (PUT
// /admin/flags, ~3 % of requests), and every change is posted to the audit service (the dependency
// process, ~60 ms: it is slow). Handlers are closures on a ServeMux behind a pprof.Do middleware
// (every loadctl.* baggage member kept percent-encoded, + trace ids).
//
//	flag_webhook: (*flagStore).Set posts the change to the audit service in recordAudit while it still
//	              holds the table's write lock: for those ~60 ms every evaluation waits in RLock.
//	              Without the fault (--fault-off) Set unlocks first and then posts the audit record.
package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
)

func init() {
	register("flag_webhook", "(*flagStore).Set holds the flag table's write lock across a 60 ms audit call",
		func(e *env) http.Handler { return newFlags(e) })
}

type flagStore struct {
	e     *env
	mu    sync.RWMutex
	flags map[string]int // flag -> rollout percentage
}

// Set changes a flag's rollout and records the change with the audit service.
//
//go:noinline
func (s *flagStore) Set(ctx context.Context, flag string, pct int) error {
	s.mu.Lock()
	s.flags[flag] = pct
	if s.e.cfg.faultOff {
		s.mu.Unlock()
		return s.recordAudit(ctx, flag, pct)
	}
	defer s.mu.Unlock()
	t0 := unixNow()
	err := s.recordAudit(ctx, flag, pct)
	s.e.plant.record(t0, unixNow())
	return err
}

//go:noinline
func (s *flagStore) recordAudit(ctx context.Context, flag string, pct int) error {
	return send(ctx, dbClient, fmt.Sprintf("%s/wait?ms=60&audit=%s&pct=%d", s.e.dependency(), flag, pct))
}

// evaluate returns the flags on for user (a stable bucket per user and flag).
func (s *flagStore) evaluate(user int) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var on []string
	for f, pct := range s.flags {
		if int(checksum([]byte(f+strconv.Itoa(user)), 20)%100) < pct {
			on = append(on, f)
		}
	}
	return on
}

func newFlags(e *env) http.Handler {
	s := &flagStore{e: e, flags: map[string]int{}}
	for i := 0; i < 40; i++ {
		s.flags[fmt.Sprintf("beta-%d", i)] = i * 2
	}
	e.dependency()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/flags", func(w http.ResponseWriter, r *http.Request) {
		user, _ := strconv.Atoi(r.URL.Query().Get("user"))
		e.plant.request(false)
		fmt.Fprintf(w, `{"user":%d,"on":%q}`, user, s.evaluate(user))
	})
	mux.HandleFunc("/admin/flags", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			http.Error(w, "PUT flag=F&pct=N", http.StatusMethodNotAllowed)
			return
		}
		pct, _ := strconv.Atoi(r.FormValue("pct"))
		e.plant.request(!e.cfg.faultOff)
		if err := s.Set(r.Context(), r.FormValue("flag"), pct%101); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return doLabels(labelsEncoded, mux)
}

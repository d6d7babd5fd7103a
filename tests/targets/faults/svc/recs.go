// recs.go - a recommendations service without any pprof labels: one handler function, no middleware.
// Planted fault (variant labels_none): an experiment flag flips on for 2 s every 6 s (spans on
// /debug/faults); while it is on, every GET /api/recs re-ranks its results in rerankExperiment, ~3.6 ms
// of CPU in mix, which the normal ranking calls too. Only the time windows can show it.
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

func init() {
	register("labels_none", "no labels; rerankExperiment on every GET /api/recs, 2 s of every 6 s",
		func(e *env) http.Handler {
			s := &recsSvc{e: e}
			go s.experimentLoop(6*time.Second, 2*time.Second)
			return http.HandlerFunc(s.serve)
		})
}

type recsSvc struct {
	e          *env
	experiment int32 // atomic: 1 while the experiment is on
}

func (s *recsSvc) experimentLoop(period, on time.Duration) {
	for range time.Tick(period) {
		s.e.plant.span(func() {
			atomic.StoreInt32(&s.experiment, 1)
			time.Sleep(on)
			atomic.StoreInt32(&s.experiment, 0)
		})
	}
}

func (s *recsSvc) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/recs" {
		http.NotFound(w, r)
		return
	}
	user, _ := strconv.Atoi(r.URL.Query().Get("user"))
	on := atomic.LoadInt32(&s.experiment) == 1
	s.e.plant.request(on)
	ids := rankResults(uint64(user))
	if on {
		ids = rerankExperiment(ids)
	}
	fmt.Fprintf(w, `{"user":%d,"items":%v}`, user, ids[:5])
}

// rankResults scores 20 candidates (~0.6 ms of mix).
func rankResults(user uint64) []uint64 {
	ids := make([]uint64, 20)
	for i := range ids {
		ids[i] = mix(user+uint64(i), 20000) % 10000
	}
	return ids
}

// rerankExperiment is the experiment's model: ~3.6 ms of mix per request.
//
//go:noinline
func rerankExperiment(ids []uint64) []uint64 {
	for i := range ids {
		for k := 0; k < 6; k++ {
			ids[i] = mix(ids[i]+uint64(k), 20000) % 10000
		}
	}
	return ids
}

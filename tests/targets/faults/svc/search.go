// search.go - a document search service: one ServeHTTP with a path switch, labels set inline on the
// goroutine (pprof.SetGoroutineLabels) rather than by a middleware. Planted faults run in background
// goroutines, with their CPU in checksum, which the request handlers call too:
//
//	periodic: compactIndex on every core for 2 s every 7 s (spans on /debug/faults);
//	burst:    rebuildCache on every core for 3 s, once, 8 s after the start.
package main

import (
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() {
	register("periodic", "compactIndex burns every core for 2 s every 7 s (background)",
		func(e *env) http.Handler {
			s := newSearch(e)
			go s.compactionLoop(7*time.Second, 2*time.Second)
			return s
		})
	register("burst", "rebuildCache burns every core for 3 s, once, 8 s after the start (background)",
		func(e *env) http.Handler {
			s := newSearch(e)
			go s.warmupAfter(8*time.Second, 3*time.Second)
			return s
		})
}

type searchSvc struct {
	e    *env
	docs [][]byte
}

func newSearch(e *env) *searchSvc {
	s := &searchSvc{e: e}
	for i := 0; i < 400; i++ {
		s.docs = append(s.docs, []byte(strings.Repeat(fmt.Sprintf("doc %d lorem ipsum dolor sit amet ", i), 8)))
	}
	return s
}

func (s *searchSvc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r, restore := setLabels(r, labelsDecoded)
	defer restore()
	s.e.plant.request(false)
	switch {
	case r.URL.Path == "/search":
		q := strings.Fields(r.URL.Query().Get("q"))
		hits := 0
		for i, d := range s.docs {
			if checksum(d, 1+len(q))%7 == uint32(i%7) {
				hits++
			}
		}
		fmt.Fprintf(w, `{"query":%q,"hits":%d}`, strings.Join(q, " "), hits)
	case strings.HasPrefix(r.URL.Path, "/doc/"):
		id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/doc/"))
		if err != nil || id < 0 || id >= len(s.docs) {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"id":%d,"etag":"%08x","len":%d}`, id, checksum(s.docs[id], 40), len(s.docs[id]))
	default:
		http.NotFound(w, r)
	}
}

// compactionLoop runs compactIndex on every core for burn, every period.
func (s *searchSvc) compactionLoop(period, burn time.Duration) {
	for range time.Tick(period) {
		s.e.plant.span(func() {
			deadline := time.Now().Add(burn)
			var wg sync.WaitGroup
			for i := 0; i < runtime.GOMAXPROCS(0); i++ {
				wg.Add(1)
				go s.compactIndex(i, deadline, &wg)
			}
			wg.Wait()
		})
	}
}

// compactIndex re-checksums the index segments of one shard until deadline.
//
//go:noinline
func (s *searchSvc) compactIndex(shard int, deadline time.Time, wg *sync.WaitGroup) {
	defer wg.Done()
	var h uint32
	for time.Now().Before(deadline) {
		for i := shard; i < len(s.docs); i += 4 {
			h ^= checksum(s.docs[i], 2)
		}
	}
	_ = h
}

// warmupAfter waits, then rebuilds the cache on every core for burn: a one-off burst.
func (s *searchSvc) warmupAfter(wait, burn time.Duration) {
	time.Sleep(wait)
	s.e.plant.span(func() {
		deadline := time.Now().Add(burn)
		var wg sync.WaitGroup
		for i := 0; i < runtime.GOMAXPROCS(0); i++ {
			wg.Add(1)
			go rebuildCache(s.docs, i, deadline, &wg)
		}
		wg.Wait()
	})
}

// rebuildCache recomputes the etag cache of every document until deadline.
//
//go:noinline
func rebuildCache(docs [][]byte, worker int, deadline time.Time, wg *sync.WaitGroup) {
	defer wg.Done()
	var h uint32
	for time.Now().Before(deadline) {
		for _, d := range docs {
			h ^= checksum(d, 3) + uint32(worker)
		}
	}
	_ = h
}

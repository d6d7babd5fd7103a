// profiles.go - a user-profile service with an in-process cache of its profiles: reads take the cache's
// RWMutex for reading and stamp the entry's last use; a miss loads the profile and inserts it under the
// write lock. The cache is warmed with 300 000 profiles at start and kept in size by a janitor goroutine.
// Labels are set by a pprof.Do middleware in the OpenTelemetry style (http.method, http.route, span_id).
//
//	cache_evict: every 5 s the janitor's evictIdle, holding the write lock, collects every entry and sorts
//	             them all by last use to drop the idle ones and those over capacity, oldest first
//	             (~150-300 ms of CPU): every read waits for it, so the requests of those seconds are slow
//	             (spans on /debug/faults). Without the fault (--fault-off) the janitor evicts by sampling,
//	             as Redis does: it looks at a few thousand entries (in map order) per pass under the lock.
package main

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	register("cache_evict", "the janitor's evictIdle sorts 300k entries under the cache's write lock every 5 s",
		func(e *env) http.Handler { return newProfiles(e, 5*time.Second) })
}

type cachedProfile struct {
	body     string
	lastUsed int64 // unix nanoseconds, atomic
}

const profileCount = 300000

type profileCache struct {
	e        *env
	mu       sync.RWMutex
	entries  map[int]*cachedProfile
	capacity int
	maxIdle  time.Duration
}

func newProfiles(e *env, every time.Duration) http.Handler {
	c := &profileCache{e: e, entries: make(map[int]*cachedProfile, profileCount), capacity: profileCount,
		maxIdle: 10 * time.Minute}
	now := time.Now().UnixNano()
	for id := 0; id < profileCount; id++ { // warmed from the database; last used over the past 10 minutes
		c.entries[id] = &cachedProfile{body: profileBody(id), lastUsed: now - int64(id%600)*int64(time.Second)}
	}
	go c.janitor(every)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/profile", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.URL.Query().Get("id"))
		e.plant.request(false)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, c.get(id))
	})
	mux.HandleFunc("/api/profile/followers", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.URL.Query().Get("id"))
		e.plant.request(false)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "[")
		for i := 1; i <= 10; i++ {
			if i > 1 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprint(w, c.get((id*7919+i*104729)%(2*profileCount)))
		}
		fmt.Fprint(w, "]")
	})
	return doLabels(labelsOTel, mux)
}

func profileBody(id int) string {
	return `{"id":` + strconv.Itoa(id) + `,"name":"user-` + strconv.Itoa(id) + `","tier":` + strconv.Itoa(id%3) + `}`
}

// get returns profile id, from the cache or loaded (and cached).
func (c *profileCache) get(id int) string {
	c.mu.RLock()
	p, ok := c.entries[id]
	if ok {
		atomic.StoreInt64(&p.lastUsed, time.Now().UnixNano())
	}
	c.mu.RUnlock()
	if ok {
		return p.body
	}
	body := profileBody(id) // the database read
	_ = mix(uint64(id), 3000)
	c.mu.Lock()
	c.entries[id] = &cachedProfile{body: body, lastUsed: time.Now().UnixNano()}
	c.mu.Unlock()
	return body
}

func (c *profileCache) janitor(every time.Duration) {
	for range time.Tick(every) {
		if c.e.cfg.faultOff {
			c.evictSampled(4096)
			continue
		}
		c.evictIdle()
	}
}

type idleEntry struct {
	id       int
	lastUsed int64
}

// evictIdle drops the entries idle longer than maxIdle and, oldest first, those over capacity: it
// collects and sorts every entry while it holds the write lock.
//
//go:noinline
func (c *profileCache) evictIdle() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t0 := unixNow()
	defer func() { c.e.plant.record(t0, unixNow()) }()
	all := make([]idleEntry, 0, len(c.entries))
	for id, p := range c.entries {
		all = append(all, idleEntry{id, atomic.LoadInt64(&p.lastUsed)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].lastUsed < all[j].lastUsed })
	return c.dropOldest(all)
}

// evictSampled is evictIdle without the fault: it looks at n entries (in map order, effectively random)
// and drops the idle ones, and as many as the cache is over capacity.
func (c *profileCache) evictSampled(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	cutoff := time.Now().Add(-c.maxIdle).UnixNano()
	dropped := 0
	for id, p := range c.entries {
		if n--; n < 0 {
			break
		}
		if len(c.entries) > c.capacity || atomic.LoadInt64(&p.lastUsed) < cutoff {
			delete(c.entries, id)
			dropped++
		}
	}
	return dropped
}

// dropOldest deletes, from all (oldest first), the entries idle too long or over capacity; the caller
// holds the write lock.
func (c *profileCache) dropOldest(all []idleEntry) int {
	cutoff := time.Now().Add(-c.maxIdle).UnixNano()
	n := 0
	for _, ie := range all {
		if ie.lastUsed >= cutoff && len(c.entries) <= c.capacity {
			break
		}
		if p, ok := c.entries[ie.id]; ok && atomic.LoadInt64(&p.lastUsed) == ie.lastUsed {
			delete(c.entries, ie.id)
			n++
		}
	}
	return n
}

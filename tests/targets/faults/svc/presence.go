// presence.go - a chat product's presence service: clients send POST /api/presence/heartbeat?user=N every
// few seconds, GET /api/presence?user=N answers whether a user is online and since when. Presence lives
// in memory in one map under one mutex; a persister goroutine snapshots the entries that changed every
// 150 ms (for the other nodes) and writes them out of the lock. Handlers are closures on a ServeMux that
// set their labels inline (baggage decoded + trace ids).
//
//	presence_beat: heartbeats "must never queue behind the persister", so (*presenceStore).beat takes
//	               the lock with TryLock and, when it is held, sleeps 20 ms and tries again. The persister
//	               holds the lock ~3-6 ms per snapshot, so a few % of heartbeats sleep 20 ms (or more
//	               when they lose again) where a plain Lock would have waited a few ms; sleeping
//	               goroutines are not in the mutex profile. Without the fault (--fault-off) beat takes
//	               the lock with Lock.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func init() {
	register("presence_beat", "(*presenceStore).beat sleeps 20 ms whenever TryLock finds the persister's lock held",
		func(e *env) http.Handler { return newPresence(e) })
}

type presenceEntry struct {
	Since, Last int64 // unix ms
	Device      string
}

type presenceStore struct {
	e     *env
	mu    sync.Mutex
	users map[int]*presenceEntry
	dirty map[int]bool
}

func newPresence(e *env) http.Handler {
	p := &presenceStore{e: e, users: map[int]*presenceEntry{}, dirty: map[int]bool{}}
	now := time.Now().UnixMilli()
	for u := 1; u <= 100000; u++ {
		p.users[u] = &presenceEntry{Since: now - int64(mix(uint64(u), 2)%3600000), Last: now, Device: "ios"}
		p.dirty[u] = u%3 == 0
	}
	go p.persistLoop(150 * time.Millisecond)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/presence/heartbeat", func(w http.ResponseWriter, r *http.Request) {
		r, restore := setLabels(r, labelsDecoded)
		defer restore()
		user, err := strconv.Atoi(r.FormValue("user"))
		if r.Method != http.MethodPost || err != nil {
			http.Error(w, "POST user=N", http.StatusBadRequest)
			return
		}
		p.beat(user, r.FormValue("device"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/api/presence", func(w http.ResponseWriter, r *http.Request) {
		r, restore := setLabels(r, labelsDecoded)
		defer restore()
		e.plant.request(false)
		user, _ := strconv.Atoi(r.URL.Query().Get("user"))
		p.mu.Lock()
		var ent presenceEntry
		if pe := p.users[user]; pe != nil {
			ent = *pe
		}
		p.mu.Unlock()
		online := time.Now().UnixMilli()-ent.Last < 30000
		fmt.Fprintf(w, `{"user":%d,"online":%t,"since":%d}`, user, online, ent.Since)
	})
	return mux
}

// beat records a heartbeat.
//
//go:noinline
func (p *presenceStore) beat(user int, device string) {
	now := time.Now().UnixMilli()
	slept := false
	if p.e.cfg.faultOff {
		p.mu.Lock()
	} else {
		for !p.mu.TryLock() { // never queue behind the persister
			slept = true
			time.Sleep(20 * time.Millisecond)
		}
	}
	p.e.plant.request(slept)
	pe := p.users[user]
	if pe == nil {
		pe = &presenceEntry{Since: now}
		p.users[user] = pe
	}
	pe.Last, pe.Device = now, device
	p.dirty[user] = true
	p.mu.Unlock()
}

func (p *presenceStore) persistLoop(every time.Duration) {
	for {
		time.Sleep(every)
		p.persist(io.Discard)
	}
}

// persist snapshots the changed entries under the lock and writes them for the other nodes.
//
//go:noinline
func (p *presenceStore) persist(out io.Writer) {
	p.mu.Lock()
	snap := make(map[int]presenceEntry, len(p.dirty))
	for u := range p.dirty {
		snap[u] = *p.users[u]
	}
	p.dirty = map[int]bool{}
	now := time.Now().UnixMilli()
	for u, pe := range p.users { // users that went quiet turn dirty once, for the others to see them offline
		if now-pe.Last > 30000 && pe.Device != "" {
			pe.Device = ""
			p.dirty[u] = true
		}
	}
	p.mu.Unlock()
	_ = json.NewEncoder(out).Encode(snap)
}

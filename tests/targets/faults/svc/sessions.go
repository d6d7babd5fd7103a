// sessions.go - a session store: handlers are methods of the store behind a pprof.Do middleware (labels
// from OpenTelemetry-style keys: http.method, http.route, span_id). Every request allocates a little
// (decode, copy, encode); a background job exports the store every few seconds.
//
//	gcjob: every 8 s, for 2 s, exportSnapshot builds an export of the sessions one small object at a
//	       time, keeping the latest 150 000 entries (~30-40 MB live) while it runs: the heap churns, the
//	       collector runs back to back and charges its marking to every goroutine that allocates (GC
//	       assists), so requests slow down in those seconds though none of them does more work.
package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func init() {
	register("gcjob", "exportSnapshot churns the heap for 2 s every 8 s (background): GC work for all",
		func(e *env) http.Handler {
			s := newSessions(e)
			go s.exportLoop(8*time.Second, 2*time.Second)
			return doLabels(labelsOTel, s.routes())
		})
}

const sessionCount = 2000 // sessions 0..1999, created at the start; the map is never written again

type session struct {
	ID    int               `json:"id"`
	User  string            `json:"user"`  // immutable
	Attrs map[string]string `json:"attrs"` // immutable
	Cart  [8]int            `json:"cart"`  // the last 8 items, under sessionStore.mu
	Items int               `json:"items"` // under sessionStore.mu
}

type sessionStore struct {
	e        *env
	mu       sync.RWMutex
	sessions map[int]*session
}

func newSessions(e *env) *sessionStore {
	s := &sessionStore{e: e, sessions: map[int]*session{}}
	for id := 0; id < sessionCount; id++ {
		s.sessions[id] = &session{ID: id, User: "user-" + strconv.Itoa(id),
			Attrs: map[string]string{"locale": "en", "tier": strconv.Itoa(id % 3)}}
	}
	return s
}

func (s *sessionStore) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/session", s.get)
	mux.HandleFunc("/api/session/cart", s.addToCart)
	return mux
}

func (s *sessionStore) get(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.URL.Query().Get("id"))
	s.e.plant.request(false)
	var out session
	if sess, ok := s.sessions[id]; ok {
		s.mu.RLock()
		out = *sess
		s.mu.RUnlock()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *sessionStore) addToCart(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Session int `json:"session"`
		Item    int `json:"item"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil {
		http.Error(w, `POST {"session":N,"item":N}`, http.StatusBadRequest)
		return
	}
	s.e.plant.request(false)
	sess, ok := s.sessions[req.Session]
	if !ok {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	sess.Cart[sess.Items%len(sess.Cart)] = req.Item
	sess.Items++
	n := sess.Items
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"session": req.Session, "items": n})
}

// exportLoop runs exportSnapshot for burn every period, recording each run as a planted span.
func (s *sessionStore) exportLoop(period, burn time.Duration) {
	for range time.Tick(period) {
		s.e.plant.span(func() { s.exportSnapshot(burn) })
	}
}

type exportEntry struct {
	key    string
	fields map[string]string
}

// exportSnapshot exports the store again and again until d has passed, as the export's retries do,
// keeping the latest 150 000 entries live. It reads only what never changes (no lock).
//
//go:noinline
func (s *sessionStore) exportSnapshot(d time.Duration) int {
	const keep = 150000
	ring := make([]*exportEntry, keep)
	n := 0
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		for id := 0; id < sessionCount; id++ {
			ring[n%keep] = exportRow(id, s.sessions[id])
			n++
		}
	}
	return n
}

// exportRow copies one session's immutable fields into an export entry (a few small allocations).
func exportRow(id int, sess *session) *exportEntry {
	e := &exportEntry{key: "session/" + strconv.Itoa(id), fields: make(map[string]string, len(sess.Attrs)+1)}
	for k, v := range sess.Attrs {
		e.fields[k] = v
	}
	e.fields["user"] = sess.User
	return e
}

// prefs.go - a user preferences API: GET /api/prefs?user=N answers a user's settings, PUT
// /api/prefs?user=N&key=K&value=V changes one. Preferences are served from memory; changes go to the
// replicated settings store (the dependency process, ~2 ms a round trip). Most keys (theme, language,
// last tab...) are written behind: the handler answers at once and a flusher ships them. Security and
// notification keys must be durable before the client hears "saved": they go through a group-commit
// journal, (*journal).Append, whose unlabelled committer goroutine ships the records in batches. The
// handlers are closures on a ServeMux that set their labels inline (baggage decoded + trace ids).
//
//	w6b_linger: the committer, (*journal).commitLoop, was tuned for throughput like a Kafka producer:
//	            it starts a batch with the first record and ships it when it holds 64 records or when
//	            30 ms have passed since the first. Durable writes come a few a second, so a batch never
//	            fills: every durable change (~10 % of PUT /api/prefs) waits the whole linger, off-CPU,
//	            in Append. Without the fault (--fault-off) the committer ships whatever it holds as soon
//	            as the previous commit is done (records that arrive meanwhile form the next batch).
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func init() {
	register("w6b_linger", "durable preference changes wait out the group-commit journal's 30 ms linger in (*journal).Append",
		func(e *env) http.Handler { return newPrefs(e) })
}

type journalRec struct {
	user       int
	key, value string
	done       chan error
}

type journal struct {
	e      *env
	in     chan *journalRec
	linger time.Duration
	max    int
}

// Append hands a change to the committer and returns once it is durable.
//
//go:noinline
func (j *journal) Append(user int, key, value string) error {
	rec := &journalRec{user: user, key: key, value: value, done: make(chan error, 1)}
	j.in <- rec
	return <-rec.done
}

// commitLoop batches the records it receives and commits each batch in one round trip.
func (j *journal) commitLoop() {
	for first := range j.in {
		batch := []*journalRec{first}
		if j.e.cfg.faultOff {
		drain: // whatever else is already waiting joins this batch
			for len(batch) < j.max {
				select {
				case r := <-j.in:
					batch = append(batch, r)
				default:
					break drain
				}
			}
		} else {
			deadline := time.NewTimer(j.linger)
		fill: // linger for more records: fewer, bigger commits
			for len(batch) < j.max {
				select {
				case r := <-j.in:
					batch = append(batch, r)
				case <-deadline.C:
					break fill
				}
			}
			deadline.Stop()
		}
		j.commit(batch)
	}
}

// commit ships a batch to the settings store and releases its writers.
//
//go:noinline
func (j *journal) commit(batch []*journalRec) {
	body := make([]map[string]interface{}, 0, len(batch))
	for _, r := range batch {
		body = append(body, map[string]interface{}{"user": r.user, "key": r.key, "value": r.value})
	}
	payload, _ := json.Marshal(body)
	err := storeCall(j.e, fmt.Sprintf("/wait?ms=2&svc=settings&n=%d&bytes=%d", len(batch), len(payload)))
	for _, r := range batch {
		r.done <- err
	}
}

// storeCall is one round trip to the settings store; the flusher and the journal share it.
func storeCall(e *env, path string) error {
	resp, err := http.Get(e.dependency() + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out map[string]interface{}
	return json.NewDecoder(resp.Body).Decode(&out)
}

type prefStore struct {
	e       *env
	mu      sync.RWMutex
	prefs   map[int]map[string]string
	pending map[int]map[string]string // written behind
	j       *journal
}

// durableKeys must be stored before a change is acknowledged.
var durableKeys = map[string]bool{"two_factor": true, "login_alerts": true, "email_notifications": true}

var prefKeys = []string{"theme", "language", "last_tab", "density", "timezone", "sidebar", "font_size",
	"start_page", "sound", "two_factor", "login_alerts", "email_notifications"}

func newPrefs(e *env) http.Handler {
	p := &prefStore{e: e, prefs: map[int]map[string]string{}, pending: map[int]map[string]string{},
		j: &journal{e: e, in: make(chan *journalRec, 256), linger: 30 * time.Millisecond, max: 64}}
	for u := 1; u <= 20000; u++ {
		m := map[string]string{}
		for i, k := range prefKeys {
			m[k] = strconv.Itoa(int(mix(uint64(u*16+i), 3) % 4))
		}
		p.prefs[u] = m
	}
	e.dependency() // the settings store, up before we answer
	go p.j.commitLoop()
	go p.flushLoop(500 * time.Millisecond)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/prefs", func(w http.ResponseWriter, r *http.Request) {
		r, restore := setLabels(r, labelsDecoded)
		defer restore()
		user, err := strconv.Atoi(r.URL.Query().Get("user"))
		if err != nil {
			http.Error(w, "?user=N", http.StatusBadRequest)
			return
		}
		switch r.Method {
		case http.MethodGet:
			p.e.plant.request(false)
			p.mu.RLock()
			out := make(map[string]string, len(prefKeys))
			for k, v := range p.prefs[user] {
				out[k] = v
			}
			p.mu.RUnlock()
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(out)
		case http.MethodPut:
			key, value := r.URL.Query().Get("key"), r.URL.Query().Get("value")
			if err := p.Set(user, key, value); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "GET or PUT", http.StatusMethodNotAllowed)
		}
	})
	return mux
}

// Set changes one preference: durable keys through the journal, the others written behind.
//
//go:noinline
func (p *prefStore) Set(user int, key, value string) error {
	durable := durableKeys[key]
	p.e.plant.request(durable && !p.e.cfg.faultOff)
	if durable {
		if err := p.j.Append(user, key, value); err != nil {
			return err
		}
	}
	p.mu.Lock()
	if p.prefs[user] == nil {
		p.prefs[user] = map[string]string{}
	}
	p.prefs[user][key] = value
	if !durable {
		if p.pending[user] == nil {
			p.pending[user] = map[string]string{}
		}
		p.pending[user][key] = value
	}
	p.mu.Unlock()
	return nil
}

func (p *prefStore) flushLoop(every time.Duration) {
	for {
		time.Sleep(every)
		p.mu.Lock()
		batch := p.pending
		p.pending = map[int]map[string]string{}
		p.mu.Unlock()
		if len(batch) > 0 {
			payload, _ := json.Marshal(batch)
			_ = storeCall(p.e, fmt.Sprintf("/wait?ms=2&svc=settings&behind=%d&bytes=%d", len(batch), len(payload)))
		}
	}
}

// inbox.go - a social product's notification inbox: GET /api/inbox?user=N merges the user's mentions,
// follows and system notices (three stores) into one list, newest first, without duplicates (a mention
// that is also a reply is in two stores); POST /api/inbox/read?user=N&id=ID marks one read. Handlers are
// closures on a ServeMux behind a pprof.Do middleware (OpenTelemetry-style labels).
//
//	ha_inbox: (*inboxSvc).merge drops duplicates by asking containsID, a linear scan of what it has
//	          merged so far, for every incoming notification: quadratic in the inbox's size. Most users
//	          have 20-80 notifications; creators (every 16th user) have ~5 500, and their inbox runs
//	          millions of string comparisons in containsID (which mark-read also calls, on the user's
//	          mentions). Without the fault (--fault-off) merge keeps a set of ids.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
)

func init() {
	register("ha_inbox", "(*inboxSvc).merge dedupes a creator's ~5 500 notifications with a linear containsID per item",
		func(e *env) http.Handler { return newInbox(e) })
}

type notification struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	At     int64  `json:"at"`
	Actor  int    `json:"actor"`
	Unread bool   `json:"unread"`
}

type inboxSvc struct {
	e      *env
	mu     sync.RWMutex
	stores map[string]map[int][]notification // source -> user -> notifications
}

func isCreator(user int) bool { return user%16 == 5 }

func newInbox(e *env) http.Handler {
	s := &inboxSvc{e: e, stores: map[string]map[int][]notification{}}
	for _, src := range []string{"mentions", "follows", "system"} {
		s.stores[src] = map[int][]notification{}
	}
	// 2 000 users; a creator's mentions and follows run to thousands, a third of mentions are replies
	// that the follows store has too (the same id).
	for u := 1; u <= 2000; u++ {
		n := 10 + int(mix(uint64(u), 3)%30)
		if isCreator(u) {
			n = 2400 + int(mix(uint64(u), 5)%300)
		}
		for i := 0; i < n; i++ {
			at := int64(1_700_000_000 + i*37 + u)
			m := notification{ID: fmt.Sprintf("ntf-%d-%06d", u, i), Kind: "mention", At: at, Actor: int(mix(uint64(i), 1) % 50000), Unread: i > n-20}
			s.stores["mentions"][u] = append(s.stores["mentions"][u], m)
			if i%3 == 0 {
				r := m
				r.Kind = "reply"
				s.stores["follows"][u] = append(s.stores["follows"][u], r)
			}
			s.stores["follows"][u] = append(s.stores["follows"][u], notification{ID: fmt.Sprintf("flw-%d-%06d", u, i), Kind: "follow", At: at + 11, Actor: int(mix(uint64(i), 2) % 50000)})
		}
		for i := 0; i < 3; i++ {
			s.stores["system"][u] = append(s.stores["system"][u], notification{ID: fmt.Sprintf("sys-%d-%d", u, i), Kind: "system", At: int64(1_700_000_000 + i)})
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/inbox", func(w http.ResponseWriter, r *http.Request) {
		user, err := strconv.Atoi(r.URL.Query().Get("user"))
		if err != nil || user < 1 || user > 2000 {
			http.Error(w, "user=1..2000", http.StatusBadRequest)
			return
		}
		e.plant.request(isCreator(user) && !e.cfg.faultOff)
		items := s.inbox(user)
		if len(items) > 50 {
			items = items[:50]
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]interface{}{"user": user, "items": items})
	})
	mux.HandleFunc("/api/inbox/read", func(w http.ResponseWriter, r *http.Request) {
		user, err := strconv.Atoi(r.FormValue("user"))
		if r.Method != http.MethodPost || err != nil || user < 1 || user > 2000 {
			http.Error(w, "POST user=1..2000&id=ID", http.StatusBadRequest)
			return
		}
		e.plant.request(false)
		if !s.markRead(user, r.FormValue("id")) {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return doLabels(labelsOTel, mux)
}

// inbox is the user's notifications from every store, newest first.
func (s *inboxSvc) inbox(user int) []notification {
	var sources [][]notification
	s.mu.RLock()
	for _, src := range []string{"mentions", "follows", "system"} {
		sources = append(sources, append([]notification(nil), s.stores[src][user]...))
	}
	s.mu.RUnlock()
	var all []notification
	for _, in := range sources {
		all = s.merge(all, in)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].At > all[j].At })
	return all
}

// merge appends the notifications of in that out does not have yet.
//
//go:noinline
func (s *inboxSvc) merge(out, in []notification) []notification {
	if !s.e.cfg.faultOff {
		for _, n := range in {
			if !containsID(out, n.ID) {
				out = append(out, n)
			}
		}
		return out
	}
	seen := make(map[string]bool, len(out)+len(in))
	for _, n := range out {
		seen[n.ID] = true
	}
	for _, n := range in {
		if !seen[n.ID] {
			seen[n.ID] = true
			out = append(out, n)
		}
	}
	return out
}

// containsID reports whether list has a notification with that id.
//
//go:noinline
func containsID(list []notification, id string) bool {
	for i := range list {
		if list[i].ID == id {
			return true
		}
	}
	return false
}

// markRead marks one of the user's mentions read.
func (s *inboxSvc) markRead(user int, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.stores["mentions"][user]
	if !containsID(ms, id) {
		return false
	}
	for i := range ms {
		if ms[i].ID == id {
			ms[i].Unread = false
		}
	}
	return true
}

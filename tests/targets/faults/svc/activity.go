// activity.go - an account activity feed (an audit trail for a SaaS admin console): events arrive from
// other services as JSON with RFC 3339 timestamps and are kept as they came; GET
// /api/accounts/{id}/activity answers the account's 50 most recent, GET /api/accounts/{id} the account's
// summary, POST /api/accounts/{id}/events records an event. Handlers are methods behind a hand-written
// prefix router; a pprof.Do middleware labels with every loadctl.* baggage member as sent
// (percent-encoded) + trace ids.
//
//	feed_sort: (*activityFeed).recent sorts the account's events newest first with a less function that
//	           parses both timestamps on every comparison. Most accounts have 20-120 events; every
//	           16th account (an enterprise tenant, ~6 % of feeds) has ~4 000, so a feed parses ~100 000
//	           timestamps (tens of ms in package time below sort). Without the fault (--fault-off) each
//	           event's time is parsed once and the sort compares the parsed values.
package main

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() {
	register("feed_sort", "(*activityFeed).recent sorts enterprise feeds with a less that parses timestamps",
		func(e *env) http.Handler { return newActivityFeed(e) })
}

type activityEvent struct {
	At     string // RFC 3339, as the producing service sent it
	Actor  string
	Action string
	Target string
}

type activityFeed struct {
	e      *env
	mu     sync.RWMutex
	events map[int][]activityEvent
}

func newActivityFeed(e *env) http.Handler {
	f := &activityFeed{e: e, events: map[int][]activityEvent{}}
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	actions := []string{"login", "invite.sent", "role.changed", "export.created", "api_key.rotated", "sso.updated"}
	for acct := 1; acct <= 800; acct++ {
		n := 20 + int(mix(uint64(acct), 3)%100)
		if acct%16 == 0 {
			n = 4000
		}
		evs := make([]activityEvent, n)
		for i := range evs {
			// producers deliver out of order: shuffle the times a little
			at := base.Add(time.Duration(int64(i)*97+int64(mix(uint64(acct*n+i), 2)%5000)) * time.Second)
			evs[i] = activityEvent{At: at.Format(time.RFC3339Nano), Actor: fmt.Sprintf("user-%d", i%37),
				Action: actions[i%len(actions)], Target: fmt.Sprintf("acct/%d/res/%d", acct, i%211)}
		}
		f.events[acct] = evs
	}
	return doLabels(labelsEncoded, f)
}

func (f *activityFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/api/accounts/")
	if rest == r.URL.Path {
		http.NotFound(w, r)
		return
	}
	idStr, sub, _ := strings.Cut(rest, "/")
	acct, err := strconv.Atoi(idStr)
	if err != nil {
		http.Error(w, "account id: want a number", http.StatusBadRequest)
		return
	}
	switch {
	case sub == "activity" && r.Method == http.MethodGet:
		f.serveActivity(w, acct)
	case sub == "events" && r.Method == http.MethodPost:
		f.e.plant.request(false)
		f.record(acct, activityEvent{At: time.Now().UTC().Format(time.RFC3339Nano), Actor: r.FormValue("actor"),
			Action: r.FormValue("action"), Target: r.FormValue("target")})
		w.WriteHeader(http.StatusCreated)
	case sub == "" && r.Method == http.MethodGet:
		f.e.plant.request(false)
		f.mu.RLock()
		n := len(f.events[acct])
		f.mu.RUnlock()
		fmt.Fprintf(w, `{"account":%d,"events":%d,"etag":"%08x"}`, acct, n, checksum([]byte(idStr), 200))
	default:
		http.NotFound(w, r)
	}
}

func (f *activityFeed) serveActivity(w http.ResponseWriter, acct int) {
	evs := f.recent(acct, 50)
	var b strings.Builder
	b.WriteString(`{"events":[`)
	for i, ev := range evs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"at":%q,"actor":%q,"action":%q,"target":%q}`, ev.At, ev.Actor, ev.Action, ev.Target)
	}
	b.WriteString("]}")
	fmt.Fprint(w, b.String())
}

// record appends an event, keeping at most 6 000 per account.
func (f *activityFeed) record(acct int, ev activityEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	evs := append(f.events[acct], ev)
	if len(evs) > 6000 {
		evs = evs[len(evs)-6000:]
	}
	f.events[acct] = evs
}

// recent returns the account's n most recent events, newest first.
//
//go:noinline
func (f *activityFeed) recent(acct, n int) []activityEvent {
	f.mu.RLock()
	evs := append([]activityEvent(nil), f.events[acct]...)
	f.mu.RUnlock()
	f.e.plant.request(len(evs) > 1000 && !f.e.cfg.faultOff)
	if f.e.cfg.faultOff {
		at := make([]time.Time, len(evs))
		for i := range evs {
			at[i], _ = time.Parse(time.RFC3339Nano, evs[i].At)
		}
		sort.Sort(byTime{evs, at})
	} else {
		sort.Slice(evs, func(i, j int) bool {
			ti, _ := time.Parse(time.RFC3339Nano, evs[i].At)
			tj, _ := time.Parse(time.RFC3339Nano, evs[j].At)
			return ti.After(tj)
		})
	}
	if len(evs) > n {
		evs = evs[:n]
	}
	return evs
}

// byTime sorts events newest first by their parsed times (--fault-off).
type byTime struct {
	evs []activityEvent
	at  []time.Time
}

func (s byTime) Len() int           { return len(s.evs) }
func (s byTime) Less(i, j int) bool { return s.at[i].After(s.at[j]) }
func (s byTime) Swap(i, j int) {
	s.evs[i], s.evs[j] = s.evs[j], s.evs[i]
	s.at[i], s.at[j] = s.at[j], s.at[i]
}

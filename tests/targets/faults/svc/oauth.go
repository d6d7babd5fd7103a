// oauth.go - an OAuth 2.0 authorisation server's token endpoints for machine clients: POST
// /oauth/token?client=N issues an access token (client credentials grant, 1 h), POST
// /oauth/introspect?token=T says whether a token is active (what every resource server asks, most of
// the traffic), POST /oauth/revoke?token=T revokes one. Tokens live in memory in one map under one
// mutex (~250 000 active at the start: the clients' tokens of the last hour). Handlers are closures on a
// ServeMux behind a pprof.Do middleware that labels from traceparent only.
//
//	token_sweep: expired tokens are purged "amortised" on the issuing path: every 50th issued token,
//	             (*tokenStore).issue calls purgeExpired, which walks the whole map for expired entries
//	             while it holds the store's mutex (tens of ms); that issue is slow, and every
//	             introspection and issue meanwhile queues on the mutex (spans on /debug/faults). Without
//	             the fault (--fault-off) tokens are also indexed by the minute they expire, and the purge
//	             drops only the minutes that have passed.
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func init() {
	register("token_sweep", "(*tokenStore).purgeExpired walks every token under the store's mutex on every 50th issue",
		func(e *env) http.Handler { return newTokenServer(e) })
}

type accessToken struct {
	client  int
	scope   string
	expires time.Time
	revoked bool
}

type tokenStore struct {
	e        *env
	mu       sync.Mutex
	tokens   map[string]*accessToken
	byMinute map[int64][]string // --fault-off: tokens by the minute they expire
	issued   int64
}

func newTokenServer(e *env) http.Handler {
	s := &tokenStore{e: e, tokens: map[string]*accessToken{}, byMinute: map[int64][]string{}}
	now := time.Now()
	for i := 0; i < 250000; i++ {
		// issued over the last hour, so they expire over the next one; a few already have
		exp := now.Add(time.Duration(int64(mix(uint64(i), 2)%3700)-100) * time.Second)
		s.put(fmt.Sprintf("at-%08x%08x", i, mix(uint64(i), 3)&0xffffffff), &accessToken{client: i % 3000, scope: "orders:read", expires: exp})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		client, err := strconv.Atoi(r.FormValue("client"))
		if r.Method != http.MethodPost || err != nil {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		tok := s.issue(client, r.FormValue("scope"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, tok)
	})
	mux.HandleFunc("/oauth/introspect", func(w http.ResponseWriter, r *http.Request) {
		e.plant.request(false)
		s.mu.Lock()
		t := s.tokens[r.FormValue("token")]
		active := t != nil && !t.revoked && time.Now().Before(t.expires)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !active {
			fmt.Fprint(w, `{"active":false}`)
			return
		}
		fmt.Fprintf(w, `{"active":true,"client_id":"c%d","scope":%q,"exp":%d}`, t.client, t.scope, t.expires.Unix())
	})
	mux.HandleFunc("/oauth/revoke", func(w http.ResponseWriter, r *http.Request) {
		e.plant.request(false)
		s.mu.Lock()
		if t := s.tokens[r.FormValue("token")]; t != nil {
			t.revoked = true
		}
		s.mu.Unlock()
	})
	return doLabels(labelsTraceparent, mux)
}

// put stores a token; the caller holds mu (or owns s).
func (s *tokenStore) put(id string, t *accessToken) {
	s.tokens[id] = t
	if s.e.cfg.faultOff {
		m := t.expires.Unix() / 60
		s.byMinute[m] = append(s.byMinute[m], id)
	}
}

// issue creates a client's token and, every 50th token, purges the expired ones.
//
//go:noinline
func (s *tokenStore) issue(client int, scope string) string {
	if scope == "" {
		scope = "orders:read"
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued++
	id := fmt.Sprintf("at-%08x%08x", 250000+s.issued, mix(uint64(s.issued)^uint64(now.UnixNano()), 3)&0xffffffff)
	s.put(id, &accessToken{client: client, scope: scope, expires: now.Add(time.Hour)})
	sweep := s.issued%50 == 0
	s.e.plant.request(sweep && !s.e.cfg.faultOff)
	if sweep {
		t0 := unixNow()
		s.purgeExpired(now)
		if !s.e.cfg.faultOff {
			s.e.plant.record(t0, unixNow())
		}
	}
	return id
}

// purgeExpired deletes the tokens that expired before now and the revoked ones; the caller holds mu.
//
//go:noinline
func (s *tokenStore) purgeExpired(now time.Time) int {
	n := 0
	if s.e.cfg.faultOff {
		for m, ids := range s.byMinute {
			if m >= now.Unix()/60 {
				continue
			}
			for _, id := range ids {
				delete(s.tokens, id)
				n++
			}
			delete(s.byMinute, m)
		}
		return n
	}
	for id, t := range s.tokens {
		if t.revoked || t.expires.Before(now) {
			delete(s.tokens, id)
			n++
		}
	}
	return n
}

// notifier.go - a push-notification service that sends through a provider API authorised by an OAuth-style
// access token, cached by a token source, as most API client libraries do. Handlers are closures on a
// ServeMux behind a pprof.Do middleware (baggage decoded + trace ids). The provider and its auth server are
// the dependency process: a send takes ~1 ms, a token ~80 ms (the auth server is slow).
//
//	token_refresh: the token lasts 5 s; the first POST /api/notify to find it expired refreshes it inside
//	               (*tokenSource).Token, which holds the source's mutex across the auth server's 80 ms,
//	               so every send in those ~80 ms queues on the mutex (spans on /debug/faults). Without the
//	               fault (--fault-off) a goroutine refreshes the token a second before it expires, and
//	               Token only reads it.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func init() {
	register("token_refresh", "(*tokenSource).Token holds its mutex across an 80 ms token refresh every 5 s",
		func(e *env) http.Handler { return newNotifier(e, 5*time.Second) })
}

type tokenSource struct {
	e       *env
	http    *http.Client
	authURL string
	ttl     time.Duration
	mu      sync.Mutex
	token   string
	expires time.Time
}

func newNotifier(e *env, ttl time.Duration) http.Handler {
	dep := e.dependency()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	ts := &tokenSource{e: e, http: client, authURL: dep + "/wait?ms=80&grant=client_credentials", ttl: ttl}
	if e.cfg.faultOff {
		go ts.refreshAhead(time.Second)
	}
	var sent sync.Map
	mux := http.NewServeMux()
	mux.HandleFunc("/api/notify", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST user=N", http.StatusMethodNotAllowed)
			return
		}
		user, _ := strconv.Atoi(r.FormValue("user"))
		tok, err := ts.Token(r.Context())
		if err == nil {
			err = send(r.Context(), client, fmt.Sprintf("%s/item?id=push-%d&auth=%s", dep, user, tok[:8]))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		sent.Store(user, time.Now().Unix())
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"user":%d,"queued":true}`, user)
	})
	mux.HandleFunc("/api/notify/last", func(w http.ResponseWriter, r *http.Request) {
		user, _ := strconv.Atoi(r.URL.Query().Get("user"))
		e.plant.request(false)
		at, _ := sent.Load(user)
		fmt.Fprintf(w, `{"user":%d,"last":%v,"etag":"%08x"}`, user, at, checksum([]byte(strconv.Itoa(user)), 300))
	})
	return doLabels(labelsDecoded, mux)
}

// Token returns a valid access token, fetching a new one from the auth server when it has expired.
//
//go:noinline
func (ts *tokenSource) Token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token != "" && time.Now().Before(ts.expires) {
		ts.e.plant.request(false)
		return ts.token, nil
	}
	ts.e.plant.request(true)
	t0 := unixNow()
	tok, err := ts.refresh(ctx)
	if err != nil {
		return "", err
	}
	ts.e.plant.record(t0, unixNow())
	ts.token, ts.expires = tok, time.Now().Add(ts.ttl)
	return tok, nil
}

// refresh asks the auth server for a new token (client credentials grant).
//
//go:noinline
func (ts *tokenSource) refresh(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.authURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := ts.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("auth server: %s %v", resp.Status, err)
	}
	return fmt.Sprintf("tok-%016x", mix(uint64(len(body))+uint64(time.Now().UnixNano()), 10)), nil
}

// refreshAhead is Token without the fault: the token is refreshed by this goroutine, lead before it
// expires, outside the mutex, so Token never waits for the auth server.
func (ts *tokenSource) refreshAhead(lead time.Duration) {
	for {
		tok, err := ts.refresh(context.Background())
		if err == nil {
			ts.mu.Lock()
			ts.token, ts.expires = tok, time.Now().Add(ts.ttl)
			ts.mu.Unlock()
		}
		time.Sleep(ts.ttl - lead)
	}
}

// send posts one notification to the provider (~1 ms).
func send(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("provider: %s", resp.Status)
	}
	return nil
}

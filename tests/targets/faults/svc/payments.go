// payments.go - a payments gateway in front of a card processor (the dependency process). Handlers are
// closures on a ServeMux that set their labels inline (baggage decoded + trace ids). Charges go to the
// processor through a client that retries what the processor calls retryable (503) with exponential
// backoff, as most payment SDKs do; status reads answer from the gateway's own record of charges.
//
//	retry: the processor's issuer for one card range (card % 8 == 0, ~12 % of POST /api/charge) is
//	       degraded and answers 503 to the first two attempts of a charge; withRetry sleeps 25 ms, then
//	       50 ms, before it goes through. The slow charges wait off-CPU in withRetry's backoff, not in
//	       the network read every charge has (~1 ms).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func init() {
	register("retry", "withRetry backs off 25+50 ms on processor 503s for ~12% of POST /api/charge",
		func(e *env) http.Handler { return newPayments(e) })
}

type processorClient struct {
	base     string
	http     *http.Client
	attempts int
	backoff  time.Duration // first delay; doubles per attempt
}

type gateway struct {
	e       *env
	proc    *processorClient
	mu      sync.Mutex
	charges map[int]string // charge id -> status
	next    int
}

var errRetryable = errors.New("processor: temporarily unavailable")

func newPayments(e *env) http.Handler {
	g := &gateway{e: e, charges: map[int]string{}, proc: &processorClient{base: e.dependency(),
		http:     &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		attempts: 4, backoff: 25 * time.Millisecond}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/charge", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST card, amount", http.StatusMethodNotAllowed)
			return
		}
		r, restore := setLabels(r, labelsDecoded)
		defer restore()
		var card, amount int
		if _, err := fmt.Sscan(r.FormValue("card")+" "+r.FormValue("amount"), &card, &amount); err != nil || amount <= 0 {
			http.Error(w, "card and amount > 0 wanted", http.StatusBadRequest)
			return
		}
		g.e.plant.request(!e.cfg.faultOff && card%8 == 0)
		id := g.newCharge()
		auth, err := g.proc.charge(r.Context(), id, card, amount)
		if err != nil {
			g.setStatus(id, "failed")
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		g.setStatus(id, "captured")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"charge":%d,"auth":%q,"digest":"%08x"}`, id, auth, checksum([]byte(auth), 400))
	})
	mux.HandleFunc("/api/charge/status", func(w http.ResponseWriter, r *http.Request) {
		r, restore := setLabels(r, labelsDecoded)
		defer restore()
		id, _ := strconv.Atoi(r.URL.Query().Get("id"))
		g.e.plant.request(false)
		g.mu.Lock()
		st, ok := g.charges[id%(g.next+1)]
		g.mu.Unlock()
		if !ok {
			st = "unknown"
		}
		fmt.Fprintf(w, `{"charge":%d,"status":%q,"etag":"%08x"}`, id, st, checksum([]byte(st), 400))
	})
	return mux
}

func (g *gateway) newCharge() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next++
	g.charges[g.next] = "pending"
	return g.next
}

func (g *gateway) setStatus(id int, st string) {
	g.mu.Lock()
	g.charges[id] = st
	g.mu.Unlock()
}

// charge asks the processor to authorise amount on card; the idempotency key makes retries safe.
func (c *processorClient) charge(ctx context.Context, id, card, amount int) (string, error) {
	var auth string
	path := fmt.Sprintf("/charge?card=%d&amount=%d&key=gw-%d", card, amount, id)
	err := c.withRetry(ctx, func() error {
		var err error
		auth, err = c.post(ctx, path)
		return err
	})
	return auth, err
}

// withRetry runs op up to c.attempts times while it fails with errRetryable, sleeping c.backoff,
// 2*c.backoff, ... between attempts.
//
//go:noinline
func (c *processorClient) withRetry(ctx context.Context, op func() error) error {
	delay := c.backoff
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !errors.Is(err, errRetryable) || attempt == c.attempts {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		delay *= 2
	}
}

// post sends one attempt to the processor: 200 and the authorisation code, or errRetryable on a 503.
func (c *processorClient) post(ctx context.Context, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case err != nil:
		return "", err
	case resp.StatusCode == http.StatusServiceUnavailable:
		return "", fmt.Errorf("%w (%s)", errRetryable, body)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("processor %s: %s", path, resp.Status)
	}
	return string(body), nil
}

// webhooks.go - a webhook relay: POST /api/events?tenant=N&type=T delivers an event to the tenant's
// endpoint (the dependency process, ~1 ms) and answers with the delivery's status; GET
// /api/deliveries?tenant=N lists a tenant's recent deliveries. Tenants' endpoints are reached with a
// shared HTTP client that trusts the service's CA bundle (reloaded every 10 s by an unlabelled goroutine,
// so that a rotated bundle is picked up); tenants on a private PKI (every 10th) upload a CA bundle of
// their own (~200 certificates) and get a client of their own. A pprof.Do middleware labels every
// loadctl.* baggage member as sent (percent-encoded) + trace ids.
//
//	w6b_webhook_ca: (*relay).clientFor builds a private-PKI tenant's client for every delivery ("so that
//	                a rotated bundle takes effect at once"): newTenantClient parses and checks the
//	                whole bundle into a cert pool with buildCAPool, the helper the shared client's
//	                reload uses too (a self-signature check of each of ~200 certificates), and a fresh
//	                Transport (no connection reuse): ~20-50 ms of CPU in crypto/x509 and crypto/ecdsa
//	                for ~10 % of events. Without the fault (--fault-off) clientFor keeps
//	                one client per distinct bundle (by its SHA-256): a rotated bundle is a new one.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func init() {
	register("w6b_webhook_ca", "(*relay).clientFor builds a private-PKI tenant's client, parsing its CA bundle, for every delivery",
		func(e *env) http.Handler { return newRelay(e) })
}

type whTenant struct {
	id       int
	bundle   []byte // PEM; nil: the service's bundle
	bundleID [32]byte
}

type delivery struct {
	Tenant int     `json:"tenant"`
	Type   string  `json:"type"`
	Status int     `json:"status"`
	At     float64 `json:"at"`
}

type relay struct {
	e       *env
	tenants map[int]*whTenant
	mu      sync.Mutex
	shared  *http.Client
	clients map[[32]byte]*http.Client // by bundle
	recent  map[int][]delivery
}

// makeBundle is a PEM bundle of n self-signed CA certificates (what a tenant uploads).
func makeBundle(n int, org string) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	var out []byte
	for i := 0; i < n; i++ {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 1)),
			Subject:      pkix.Name{Organization: []string{org}, CommonName: fmt.Sprintf("%s root CA %d", org, i)},
			NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			DNSNames: []string{fmt.Sprintf("ca%d.%s.internal", i, org)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return out
}

// buildCAPool parses a PEM bundle into a cert pool, keeping only valid root CAs (a CA certificate whose
// self-signature checks out). The shared client's reload and the tenants' clients use it.
//
//go:noinline
func buildCAPool(bundle []byte) *x509.CertPool {
	pool := x509.NewCertPool()
	for rest := bundle; len(rest) > 0; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil || !cert.IsCA || cert.CheckSignatureFrom(cert) != nil {
			continue
		}
		pool.AddCert(cert)
	}
	return pool
}

func transportFor(pool *x509.CertPool) *http.Transport {
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second}
}

func newRelay(e *env) http.Handler {
	rl := &relay{e: e, tenants: map[int]*whTenant{}, clients: map[[32]byte]*http.Client{}, recent: map[int][]delivery{}}
	serviceBundle := makeBundle(140, "relay")
	private := [][]byte{makeBundle(200, "acme"), makeBundle(200, "globex"), makeBundle(200, "initech")}
	for id := 1; id <= 3000; id++ {
		t := &whTenant{id: id}
		if id%10 == 4 {
			t.bundle = private[id%3]
			t.bundleID = sha256.Sum256(t.bundle)
		}
		rl.tenants[id] = t
	}
	rl.shared = &http.Client{Transport: transportFor(buildCAPool(serviceBundle)), Timeout: 5 * time.Second}
	e.dependency() // the tenants' endpoints, up before we answer
	go rl.reloadLoop(serviceBundle, 10*time.Second)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/events", rl.deliver)
	mux.HandleFunc("/api/deliveries", rl.list)
	return doLabels(labelsEncoded, mux)
}

// reloadLoop re-reads the service's CA bundle, so that a rotated bundle is picked up.
func (rl *relay) reloadLoop(bundle []byte, every time.Duration) {
	for {
		time.Sleep(every)
		c := &http.Client{Transport: transportFor(buildCAPool(bundle)), Timeout: 5 * time.Second}
		rl.mu.Lock()
		old := rl.shared
		rl.shared = c
		rl.mu.Unlock()
		old.CloseIdleConnections()
	}
}

// newTenantClient is a client that trusts the tenant's own CA bundle.
//
//go:noinline
func newTenantClient(t *whTenant) *http.Client {
	return &http.Client{Transport: transportFor(buildCAPool(t.bundle)), Timeout: 5 * time.Second}
}

// clientFor is the client that reaches a tenant's endpoint.
//
//go:noinline
func (rl *relay) clientFor(t *whTenant) *http.Client {
	if t.bundle == nil {
		rl.mu.Lock()
		defer rl.mu.Unlock()
		return rl.shared
	}
	if !rl.e.cfg.faultOff {
		return newTenantClient(t) // a rotated bundle takes effect at once
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	c, ok := rl.clients[t.bundleID]
	if !ok {
		c = newTenantClient(t)
		rl.clients[t.bundleID] = c
	}
	return c
}

func (rl *relay) deliver(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.URL.Query().Get("tenant"))
	t := rl.tenants[id]
	if r.Method != http.MethodPost || err != nil || t == nil {
		http.Error(w, "POST ?tenant=1..3000&type=T", http.StatusBadRequest)
		return
	}
	rl.e.plant.request(t.bundle != nil && !rl.e.cfg.faultOff)
	typ := r.URL.Query().Get("type")
	payload, _ := json.Marshal(map[string]interface{}{"tenant": id, "type": typ, "at": time.Now().Unix(),
		"signature": fmt.Sprintf("%x", mix(uint64(id)<<32|uint64(len(typ)), 64))})
	status := http.StatusBadGateway
	resp, err := rl.clientFor(t).Post(rl.e.dependency()+"/wait?ms=1&svc=tenant-endpoint&tenant="+strconv.Itoa(id),
		"application/json", bytes.NewReader(payload))
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	d := delivery{Tenant: id, Type: typ, Status: status, At: unixNow()}
	rl.mu.Lock()
	list := append(rl.recent[id], d)
	if len(list) > 20 {
		list = list[len(list)-20:]
	}
	rl.recent[id] = list
	rl.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(d)
}

func (rl *relay) list(w http.ResponseWriter, r *http.Request) {
	rl.e.plant.request(false)
	id, _ := strconv.Atoi(r.URL.Query().Get("tenant"))
	rl.mu.Lock()
	out := append([]delivery{}, rl.recent[id]...)
	rl.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

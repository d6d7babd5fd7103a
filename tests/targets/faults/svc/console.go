// console.go - a back-office API: a public catalogue under /api/ and an admin route group under /admin/
// behind an API-key middleware (requireAPIKey), on nested ServeMuxes; the outermost pprof.Do middleware
// labels every request (baggage decoded + trace ids). API keys ("ak_<id>_<secret>", 60 partners) are
// stored as iterated SHA-256 hashes; verified keys are kept in a small cache with random eviction.
//
//	middleware: the cache holds 50 of the 60 keys, so ~17 % of admin requests (both routes) miss it and
//	            the middleware re-derives the key's hash in hashAPIKey (~15-30 ms of CPU in crypto/sha256)
//	            before the handler runs. Without the fault (--fault-off) the cache holds every key.
package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

func init() {
	register("middleware", "requireAPIKey re-derives the key hash (hashAPIKey) on cache misses, ~17% of /admin/ requests",
		func(e *env) http.Handler { return newConsole(e) })
}

const (
	apiKeyCount  = 60
	apiKeyRounds = 60000 // iterations of the stored key hash (~15-30 ms of CPU, like a slow KDF's cost)
)

type apiKeyRecord struct {
	salt, hash []byte
}

type keyStore struct {
	records  map[int]apiKeyRecord
	mu       sync.Mutex
	verified map[string]bool
	max      int
}

// apiKeySecret is the secret part of partner id's key in the test environment (the scenario's keys).
func apiKeySecret(id int) string { return fmt.Sprintf("test%04d", id) }

func newKeyStore(size int) *keyStore {
	ks := &keyStore{records: map[int]apiKeyRecord{}, verified: map[string]bool{}, max: size}
	recs := make([]apiKeyRecord, apiKeyCount+1)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ { // the stored hashes, on two cores
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for id := 1 + w; id <= apiKeyCount; id += 2 {
				salt := []byte("salt-" + strconv.Itoa(id))
				recs[id] = apiKeyRecord{salt, hashAPIKey([]byte(apiKeySecret(id)), salt, apiKeyRounds)}
			}
		}(w)
	}
	wg.Wait()
	for id := 1; id <= apiKeyCount; id++ {
		ks.records[id] = recs[id]
		if len(ks.verified) < size { // a key just issued is known to be valid
			ks.verified["ak_"+strconv.Itoa(id)+"_"+apiKeySecret(id)] = true
		}
	}
	return ks
}

func newConsole(e *env) http.Handler {
	size := 50
	if e.cfg.faultOff {
		size = apiKeyCount
	}
	keys := newKeyStore(size)
	api := http.NewServeMux()
	api.HandleFunc("/api/catalog", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		e.plant.request(false)
		fmt.Fprintf(w, `{"page":%d,"etag":"%016x"}`, page, mix(uint64(page), 30000))
	})
	admin := http.NewServeMux()
	admin.HandleFunc("/admin/users", func(w http.ResponseWriter, r *http.Request) {
		org, _ := strconv.Atoi(r.URL.Query().Get("org"))
		fmt.Fprintf(w, `{"org":%d,"users":%d,"etag":"%016x"}`, org, 3+org%40, mix(uint64(org), 30000))
	})
	admin.HandleFunc("/admin/flags", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST flag=NAME&on=BOOL", http.StatusMethodNotAllowed)
			return
		}
		fmt.Fprintf(w, `{"flag":%q,"on":%q,"rev":"%016x"}`, r.FormValue("flag"), r.FormValue("on"),
			mix(uint64(len(r.FormValue("flag"))), 30000))
	})
	root := http.NewServeMux()
	root.Handle("/api/", api)
	root.Handle("/admin/", requireAPIKey(e, keys, admin))
	return doLabels(labelsDecoded, root)
}

// requireAPIKey lets a request through to next only with a valid "Authorization: Bearer ak_<id>_<secret>".
func requireAPIKey(e *env, keys *keyStore, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		ok, cached := keys.verify(key)
		e.plant.request(!cached)
		if !ok {
			http.Error(w, "invalid API key", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// verify says whether key is valid, and whether the answer came from the cache of verified keys.
func (ks *keyStore) verify(key string) (ok, cached bool) {
	ks.mu.Lock()
	ok, cached = ks.verified[key]
	ks.mu.Unlock()
	if cached {
		return ok, true
	}
	var id int
	var secret string
	if f := strings.SplitN(key, "_", 3); len(f) == 3 && f[0] == "ak" {
		id, _ = strconv.Atoi(f[1])
		secret = f[2]
	}
	if rec, known := ks.records[id]; known {
		ok = subtle.ConstantTimeCompare(hashAPIKey([]byte(secret), rec.salt, apiKeyRounds), rec.hash) == 1
	}
	ks.mu.Lock()
	if len(ks.verified) >= ks.max {
		for k := range ks.verified { // evict one at random (map order)
			delete(ks.verified, k)
			break
		}
	}
	ks.verified[key] = ok
	ks.mu.Unlock()
	return ok, false
}

// hashAPIKey derives the stored hash of an API key's secret: SHA-256 of salt+secret, iterated rounds times.
//
//go:noinline
func hashAPIKey(secret, salt []byte, rounds int) []byte {
	h := sha256.Sum256(append(append([]byte{}, salt...), secret...))
	for i := 1; i < rounds; i++ {
		h = sha256.Sum256(h[:])
	}
	return h[:]
}

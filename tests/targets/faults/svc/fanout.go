// fanout.go - a search router that scatters every query to its shards in parallel goroutines and gathers
// the answers (the scatter-gather shape of search and feed services); the shards are the dependency
// process, reached through one shared client call. Labels come from a pprof.Do middleware (baggage
// decoded + trace ids); the shard goroutines inherit them from the request's goroutine, which itself
// only waits for them.
//
//	fanout: for ~10 % of queries (those whose key hashes to a cold range) shard 2 is cold: its goroutine
//	        runs warmShard, a 50 ms upstream call, before the query; the request's goroutine waits in
//	        the gather meanwhile, as it does for every query's ~1 ms shard calls.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"sync"
	"time"
)

func init() {
	register("fanout", "warmShard (50 ms upstream) in one shard goroutine of ~10% of GET /api/find's fan-outs",
		func(e *env) http.Handler { return newRouter(e) })
}

const shardCount = 4

type shardClient struct {
	dep    string
	client *http.Client
	cold   bool // shard 2 has a cold key range
}

type router struct {
	e      *env
	shards *shardClient
}

func newRouter(e *env) http.Handler {
	rt := &router{e: e, shards: &shardClient{dep: e.dependency(), cold: true,
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/find", rt.find)
	mux.HandleFunc("/api/doc", rt.doc)
	return doLabels(labelsDecoded, mux)
}

func keyHash(q string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(q))
	return h.Sum32()
}

func (rt *router) find(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	rt.e.plant.request(rt.shards.isCold(2, q))
	hits, err := rt.fanOut(r.Context(), q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]interface{}{"q": q, "hits": hits})
}

func (rt *router) doc(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	rt.e.plant.request(false)
	var item json.RawMessage
	if err := rt.shards.get(r.Context(), "/item?id="+id, &item); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(item)
}

// fanOut queries every shard in its own goroutine and gathers their hits.
//
//go:noinline
func (rt *router) fanOut(ctx context.Context, q string) ([]json.RawMessage, error) {
	hits := make([]json.RawMessage, shardCount)
	errs := make([]error, shardCount)
	var wg sync.WaitGroup
	for shard := 0; shard < shardCount; shard++ {
		wg.Add(1)
		go func(shard int) {
			defer wg.Done()
			hits[shard], errs[shard] = rt.shards.queryShard(ctx, shard, q)
		}(shard)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return hits, nil
}

func (c *shardClient) isCold(shard int, q string) bool {
	return c.cold && shard == 2 && keyHash(q)%10 == 0
}

// queryShard asks one shard for q's hits (~1 ms), warming the shard's key range first when it is cold.
//
//go:noinline
func (c *shardClient) queryShard(ctx context.Context, shard int, q string) (json.RawMessage, error) {
	if c.isCold(shard, q) {
		if err := c.warmShard(ctx, shard, q); err != nil {
			return nil, err
		}
	}
	var hit json.RawMessage
	return hit, c.get(ctx, fmt.Sprintf("/item?id=%d-%d", shard, keyHash(q)%1000), &hit)
}

// warmShard loads a cold key range into the shard's cache before it can answer: a 50 ms upstream call.
//
//go:noinline
func (c *shardClient) warmShard(ctx context.Context, shard int, q string) error {
	var out json.RawMessage
	return c.get(ctx, fmt.Sprintf("/wait?ms=50&shard=%d&range=%d", shard, keyHash(q)%64), &out)
}

// get is the shared upstream call: GET dep+path, decode into v.
func (c *shardClient) get(ctx context.Context, path string, v interface{}) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.dep+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("shard %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

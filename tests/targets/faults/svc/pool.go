// pool.go - a thumbnail service that hands every render to a bounded pool of workers, as services do to
// cap their load on a renderer: the handler enqueues a job on the pool's channel and awaits its result;
// two worker goroutines (started with the service, unlabelled) each call the renderer (the dependency
// process, off-CPU) per job: ~5 ms for a thumbnail, ~150 ms for a RAW original. Routes are a switch in
// one handler behind a pprof.Do middleware (baggage decoded + trace ids).
//
//	pool: RAW renders (POST /api/thumbnail/raw, ~3 % of requests, slow by nature) share the two workers
//	      with the thumbnails (~37 % of requests): whenever both workers hold a RAW render (~5 % of
//	      the time), POST /api/thumbnail waits in enqueue for up to 150 ms, though its own render
//	      takes 5 ms. Nothing is slow on CPU; GET /api/thumbnail/status never touches the pool.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

func init() {
	register("pool", "thumbnails queue in enqueue behind RAW renders for a pool of 2 workers (off-CPU)",
		func(e *env) http.Handler { return newRender(e, 2) })
}

type renderJob struct {
	image int
	raw   bool
	done  chan renderResult
}

type renderResult struct {
	etag string
	err  error
}

// renderPool runs jobs on a fixed number of workers; enqueue blocks while all of them are busy.
type renderPool struct {
	jobs   chan *renderJob
	dep    string
	client *http.Client
}

func newRenderPool(dep string, workers int) *renderPool {
	p := &renderPool{jobs: make(chan *renderJob), dep: dep,
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}}
	for i := 0; i < workers; i++ {
		go p.work()
	}
	return p
}

// Render renders image (a RAW original when raw) on the pool and returns its etag; ctx bounds the wait
// for a worker and the result.
func (p *renderPool) Render(ctx context.Context, image int, raw bool) (string, error) {
	j := &renderJob{image: image, raw: raw, done: make(chan renderResult, 1)}
	if err := p.enqueue(ctx, j); err != nil {
		return "", err
	}
	return p.await(ctx, j)
}

// enqueue hands j to a free worker, waiting while every worker is busy.
//
//go:noinline
func (p *renderPool) enqueue(ctx context.Context, j *renderJob) error {
	select {
	case p.jobs <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// await waits for j's result.
//
//go:noinline
func (p *renderPool) await(ctx context.Context, j *renderJob) (string, error) {
	select {
	case res := <-j.done:
		return res.etag, res.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// work is one worker: it renders jobs one at a time on the renderer.
func (p *renderPool) work() {
	for j := range p.jobs {
		j.done <- p.callRenderer(j.image, j.raw)
	}
}

// callRenderer asks the renderer (the dependency) for one thumbnail: ~5 ms, or ~150 ms from a RAW
// original; off-CPU.
func (p *renderPool) callRenderer(image int, raw bool) renderResult {
	ms := 5
	if raw {
		ms = 150
	}
	resp, err := p.client.Get(fmt.Sprintf("%s/wait?ms=%d&image=%d", p.dep, ms, image))
	if err != nil {
		return renderResult{err: err}
	}
	defer resp.Body.Close()
	var out struct {
		Rate float64 `json:"rate"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return renderResult{err: err}
	}
	return renderResult{etag: fmt.Sprintf("%08x", mix(uint64(image), 2000))}
}

func newRender(e *env, workers int) http.Handler {
	p := newRenderPool(e.dependency(), workers)
	return doLabels(labelsDecoded, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		image, _ := strconv.Atoi(r.URL.Query().Get("image"))
		switch {
		case (r.URL.Path == "/api/thumbnail" || r.URL.Path == "/api/thumbnail/raw") && r.Method == http.MethodPost:
			raw := r.URL.Path == "/api/thumbnail/raw"
			e.plant.request(!raw) // every thumbnail may queue behind RAW renders; the slow ones did
			etag, err := p.Render(r.Context(), image, raw)
			if err != nil {
				http.Error(w, "render: "+err.Error(), http.StatusBadGateway)
				return
			}
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"image":%d,"etag":%q}`, image, etag)
		case r.URL.Path == "/api/thumbnail/status":
			e.plant.request(false)
			fmt.Fprintf(w, `{"image":%d,"ready":true,"etag":"%08x"}`, image, mix(uint64(image), 20000))
		default:
			http.NotFound(w, r)
		}
	}))
}

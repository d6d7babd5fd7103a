// searchidx.go - a shop's product search: an in-memory inverted index (term -> product ids) behind a
// sync.RWMutex; GET /search?q= and GET /products/N read under RLock, PUT /products/N re-tokenizes one
// product under the write lock. A catalogue sync goroutine re-indexes every product every 8 s (prices
// and titles change upstream), in batches so that "searches get the lock between batches". Handlers
// are closures on a ServeMux that set their goroutine's labels inline from the baggage header, keeping
// the loadctl.* members as sent (percent-encoded), plus trace ids.
//
//	reindex_bursts: (*productIndex).reindexAll re-tokenizes the 60 000 products in batches of 2 000,
//	                each batch under the write lock (~20-40 ms of tokenizing and postings updates per
//	                hold), with a 50 ms pause between batches "so that searches get the lock", for
//	                ~2-3 s: every search and product read arriving during a hold waits for it, again
//	                and again (spans on /debug/faults). Without the fault (--fault-off) each batch's
//	                titles and terms are made before the lock, which only covers the postings update.
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
	register("reindex_bursts", "a catalogue sync re-indexes 60k products every 8 s in batches, each under the index's write lock",
		func(e *env) http.Handler { return newProductIndex(e, 60000, 8*time.Second) })
}

type productIndex struct {
	e      *env
	mu     sync.RWMutex
	titles []string
	data   *indexData
}

type indexData struct {
	postings map[string]map[int]struct{}
	terms    map[int][]string // product -> its indexed terms
}

var searchWords = strings.Fields("steel oak linen wool cotton lamp chair table desk sofa rug vase mug " +
	"bowl shelf frame clock mirror pillow throw blanket basket stool bench cabinet drawer hook rail")

// tokenize lowercases s and splits it into terms, with 3-letter prefixes for search-as-you-type.
//
//go:noinline
func tokenize(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == '-' || r == ',' }) {
		out = append(out, w)
		if len(w) > 3 {
			out = append(out, w[:3]+"*")
		}
	}
	return out
}

func productTitle(id, version int) string {
	w := func(k int) string { return searchWords[int(mix(uint64(id*31+k), 2)%uint64(len(searchWords)))] }
	return fmt.Sprintf("%s %s %s-%s no.%d rev %d, %s finish", w(1), w(2), w(3), w(4), id, version%5, w(5))
}

// indexOne replaces product id's terms in the postings; the caller holds the write lock (or owns d).
func (d *indexData) indexOne(id int, terms []string) {
	for _, t := range d.terms[id] {
		delete(d.postings[t], id)
	}
	for _, t := range terms {
		ids := d.postings[t]
		if ids == nil {
			ids = map[int]struct{}{}
			d.postings[t] = ids
		}
		ids[id] = struct{}{}
	}
	d.terms[id] = terms
}

func newIndexData() *indexData {
	return &indexData{postings: map[string]map[int]struct{}{}, terms: map[int][]string{}}
}

// reindexAll re-indexes every product from the catalogue, batch by batch, pausing between batches so
// that searches get the lock.
//
//go:noinline
func (x *productIndex) reindexAll(version, batch int, pause time.Duration) {
	for lo := 0; lo < len(x.titles); lo += batch {
		hi := lo + batch
		if hi > len(x.titles) {
			hi = len(x.titles)
		}
		if x.e.cfg.faultOff {
			titles, terms := make([]string, hi-lo), make([][]string, hi-lo)
			for id := lo; id < hi; id++ {
				titles[id-lo] = productTitle(id, version)
				terms[id-lo] = tokenize(titles[id-lo])
			}
			x.mu.Lock()
			for id := lo; id < hi; id++ {
				x.titles[id] = titles[id-lo]
				x.data.indexOne(id, terms[id-lo])
			}
			x.mu.Unlock()
		} else {
			x.mu.Lock()
			for id := lo; id < hi; id++ {
				x.titles[id] = productTitle(id, version)
				x.data.indexOne(id, tokenize(x.titles[id]))
			}
			x.mu.Unlock()
		}
		time.Sleep(pause)
	}
}

func (x *productIndex) syncLoop(every time.Duration) {
	for v := 1; ; v++ {
		time.Sleep(every)
		t0 := unixNow()
		x.reindexAll(v, 2000, 50*time.Millisecond)
		x.e.plant.record(t0, unixNow())
	}
}

func (x *productIndex) search(q string, limit int) []int {
	terms := tokenize(q)
	x.mu.RLock()
	defer x.mu.RUnlock()
	var hits []int
	for id := range x.data.postings[terms[0]] {
		if len(hits) == limit {
			break
		}
		ok := true
		for _, t := range terms[1:] {
			if _, in := x.data.postings[t][id]; !in {
				ok = false
				break
			}
		}
		if ok {
			hits = append(hits, id)
		}
	}
	sort.Ints(hits)
	return hits
}

func newProductIndex(e *env, n int, every time.Duration) http.Handler {
	x := &productIndex{e: e, titles: make([]string, n), data: newIndexData()}
	for id := 0; id < n; id++ {
		x.titles[id] = productTitle(id, 0)
		x.data.indexOne(id, tokenize(x.titles[id]))
	}
	go x.syncLoop(every)
	mux := http.NewServeMux()
	mux.HandleFunc("/search", func(w http.ResponseWriter, r *http.Request) {
		r, done := setLabels(r, labelsEncoded)
		defer done()
		e.plant.request(false)
		q := r.URL.Query().Get("q")
		if strings.TrimSpace(q) == "" {
			http.Error(w, "q= is required", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, `{"q":%q,"ids":%v}`, q, x.search(q, 20))
	})
	mux.HandleFunc("/products/", func(w http.ResponseWriter, r *http.Request) {
		r, done := setLabels(r, labelsEncoded)
		defer done()
		e.plant.request(false)
		id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/products/"))
		if err != nil || id < 0 || id >= n {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodPut {
			title := r.FormValue("title")
			x.mu.Lock()
			x.titles[id] = title
			x.data.indexOne(id, tokenize(title))
			x.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return
		}
		x.mu.RLock()
		title := x.titles[id]
		x.mu.RUnlock()
		fmt.Fprintf(w, `{"id":%d,"title":%q}`, id, title)
	})
	return mux
}

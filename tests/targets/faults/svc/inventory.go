// inventory.go - a warehouse inventory service written in layers, as many Go services are: a middleware
// chain (recovery, access counting, pprof.Do labels), handlers that call a service object, which calls a
// repository, which decodes rows through one digest helper (rowDigest, then mix) shared by every path and
// by a background sync job. Every request and the job run the same deep chain; a fault sits one level
// above the shared helper.
//
//	deep:          a POST /api/reserve that touches a SKU still in the legacy format (every 50th SKU;
//	               with 1 to 8 lines, ~9 % of reservations) makes the repository run migrateLegacyRow
//	               (~15 ms of CPU, in rowDigest) before the row can be written (the legacy table is never
//	               rewritten, so every write migrates again); GET /api/stock reads without migrating.
//	control_busy:  the same service with every row already migrated: no fault, but a busy shared helper,
//	               a steady background sync and a natural tail (reservations of 1 to 8 lines).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	register("deep", "migrateLegacyRow (~15 ms, one level above the shared rowDigest) on ~9% of POST /api/reserve",
		func(e *env) http.Handler { return newInventory(e, true) })
	register("control_busy", "the inventory service with every row migrated: no fault, a busy helper and a background sync",
		func(e *env) http.Handler { return newInventory(e, false) })
}

type stockRow struct {
	sku    int
	qty    int64  // atomic
	digest uint64 // atomic
}

// stockRepo is the storage layer: rows by SKU, decoded and checked on every read.
type stockRepo struct {
	mu     sync.RWMutex
	rows   map[int]*stockRow
	legacy bool // rows of every 50th SKU are still in the legacy format
}

// inventoryService is the business layer between the handlers and the repository.
type inventoryService struct {
	e        *env
	repo     *stockRepo
	requests int64 // atomic; counted by the access middleware
}

func newInventory(e *env, legacy bool) http.Handler {
	s := &inventoryService{e: e, repo: &stockRepo{rows: map[int]*stockRow{}, legacy: legacy}}
	go s.syncWarehouse()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/stock", s.handleStock)
	mux.HandleFunc("/api/reserve", s.handleReserve)
	return recoverer(s.countAccess(doLabels(labelsDecoded, mux)))
}

// recoverer turns a handler's panic into a 500, as most middleware stacks start with.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				log.Printf("panic serving %s: %v", r.URL.Path, p)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// countAccess counts requests (an access-log middleware without the log).
func (s *inventoryService) countAccess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt64(&s.requests, 1)
		next.ServeHTTP(w, r)
	})
}

func (s *inventoryService) handleStock(w http.ResponseWriter, r *http.Request) {
	sku, _ := strconv.Atoi(r.URL.Query().Get("sku"))
	s.e.plant.request(false)
	qty := s.Stock(r.Context(), sku)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"sku":%d,"qty":%d}`, sku, qty)
}

func (s *inventoryService) handleReserve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Lines []struct {
			SKU int `json:"sku"`
			Qty int `json:"qty"`
		} `json:"lines"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Lines) == 0 {
		http.Error(w, `POST {"lines":[{"sku":N,"qty":N}]}`, http.StatusBadRequest)
		return
	}
	legacy := false
	for _, l := range req.Lines {
		legacy = legacy || s.repo.isLegacy(l.SKU)
	}
	s.e.plant.request(legacy)
	var reserved int64
	for _, l := range req.Lines {
		reserved += s.Reserve(r.Context(), l.SKU, int64(l.Qty))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"reserved":%d}`, reserved)
}

// Stock reads one SKU's quantity in stock.
//
//go:noinline
func (s *inventoryService) Stock(ctx context.Context, sku int) int64 {
	return atomic.LoadInt64(&s.repo.Get(ctx, sku, false).qty)
}

// Reserve takes qty of sku (restocking it when it runs out) and returns qty.
//
//go:noinline
func (s *inventoryService) Reserve(ctx context.Context, sku int, qty int64) int64 {
	row := s.repo.Get(ctx, sku, true)
	if atomic.AddInt64(&row.qty, -qty) <= 0 {
		atomic.AddInt64(&row.qty, 100) // restocked
	}
	return qty
}

// syncWarehouse is the background job that re-reads a batch of rows from the warehouse every 100 ms
// (~4 ms of CPU each time, through the same repository path as the requests).
func (s *inventoryService) syncWarehouse() {
	next := 0
	for range time.Tick(100 * time.Millisecond) {
		for i := 0; i < 25; i++ {
			s.repo.Get(context.Background(), 1+next%5000, false)
			next += 7
		}
	}
}

func (p *stockRepo) isLegacy(sku int) bool { return p.legacy && sku%50 == 0 }

// Get returns sku's row, decoded and checked; a row written in the legacy format is migrated first when
// the caller will write it (forUpdate).
//
//go:noinline
func (p *stockRepo) Get(ctx context.Context, sku int, forUpdate bool) *stockRow {
	p.mu.RLock()
	row, ok := p.rows[sku]
	p.mu.RUnlock()
	if !ok {
		row = &stockRow{sku: sku, qty: 100}
		p.mu.Lock()
		if old, raced := p.rows[sku]; raced {
			row = old
		} else {
			p.rows[sku] = row
		}
		p.mu.Unlock()
	}
	if forUpdate && p.isLegacy(sku) {
		atomic.StoreUint64(&row.digest, p.migrateLegacyRow(ctx, row))
	}
	p.decodeRow(row)
	return row
}

// decodeRow checks a row's fields against its digest (~150 µs in rowDigest).
//
//go:noinline
func (p *stockRepo) decodeRow(row *stockRow) bool {
	var h uint64
	for field := 0; field < 5; field++ {
		h ^= rowDigest(uint64(row.sku)<<8|uint64(field), 1)
	}
	return h != atomic.LoadUint64(&row.digest)
}

// migrateLegacyRow rewrites a legacy row field by field into the current format, re-digesting the row's
// history as it goes (~15 ms of CPU, all of it in rowDigest).
//
//go:noinline
func (p *stockRepo) migrateLegacyRow(ctx context.Context, row *stockRow) uint64 {
	var h uint64
	for rev := 0; rev < 100 && ctx.Err() == nil; rev++ {
		h ^= rowDigest(uint64(row.sku)<<16|uint64(rev), 5)
	}
	return h
}

// rowDigest is the repository's digest of one field, passes times over: the helper every path shares.
//
//go:noinline
func rowDigest(field uint64, passes int) uint64 {
	for i := 0; i < passes; i++ {
		field = mix(field+uint64(i), 20000)
	}
	return field
}

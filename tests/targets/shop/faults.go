// faults.go - the shop's planted performance faults, with names the correlation tests look for:
// (a) main.fraudScore, quadratic on large carts; (b) main.reindexCatalog, a periodic CPU burn on all
// cores; (c) main.inventoryReserve, a global mutex held while sleeping (mutex/block profile only).
package main

import (
	"sync"
	"time"
)

// fraudScore scores an order. Fault (a): with faultCart on, carts over large items compare every pair of
// items (quadratic: ~50 ms at 35 items, ~17 ms at 21); small carts and faultCart off take the linear path.
//
//go:noinline
func fraudScore(items []item, faultCart bool, large int) uint64 {
	var h uint64
	if faultCart && len(items) > large {
		for i := range items {
			for j := range items {
				x := uint64(items[i].BookID)<<32 ^ uint64(items[j].BookID*items[j].Qty)
				for k := 0; k < 30000; k++ { // the work sits in this frame, not in a helper
					x ^= x >> 29
					x *= 0xff51afd7ed558ccd
				}
				h += x
			}
		}
		return h % 100
	}
	for i := range items {
		x := uint64(items[i].BookID)<<32 ^ uint64(items[i].Qty)
		for k := 0; k < 2000; k++ {
			x ^= x >> 29
			x *= 0xff51afd7ed558ccd
		}
		h += x
	}
	return h % 100
}

var inventory struct {
	mu       sync.Mutex
	reserved map[int]int
}

// inventoryReserve books qty of a title. Fault (c): with faultLock on, the one global lock is held
// while "writing the audit log" (a sleep), so concurrent add-to-cart requests queue on it; the time
// shows in the mutex and block profiles, not in CPU.
//
//go:noinline
func inventoryReserve(s *shop, bookID, qty int) bool {
	inventory.mu.Lock()
	defer inventory.mu.Unlock()
	if inventory.reserved == nil {
		inventory.reserved = make(map[int]int)
	}
	if inventory.reserved[bookID]+qty > s.books[bookID-1].Stock {
		return false
	}
	inventory.reserved[bookID] += qty
	if s.cfg.faultLock {
		time.Sleep(s.cfg.lockHold)
	}
	return true
}

// reindexLoop runs reindexCatalog every cfg.reindexEvery: fault (b).
func reindexLoop(c config, s *shop) {
	t := time.NewTicker(c.reindexEvery)
	defer t.Stop()
	for range t.C {
		deadline := time.Now().Add(c.reindexFor)
		var wg sync.WaitGroup
		for w := 0; w < c.reindexWorkers; w++ {
			wg.Add(1)
			go reindexCatalog(s, w, deadline, &wg)
		}
		wg.Wait()
	}
}

// reindexCatalog rebuilds a (thrown away) search index until deadline, burning one CPU.
//
//go:noinline
func reindexCatalog(s *shop, shard int, deadline time.Time, wg *sync.WaitGroup) {
	defer wg.Done()
	var h uint64
	for time.Now().Before(deadline) {
		for i := range s.books {
			x := uint64(s.books[i].ID)<<32 ^ uint64(shard)
			for k := 0; k < 50; k++ {
				x ^= x >> 29
				x *= 0xff51afd7ed558ccd
			}
			h += x
		}
	}
	_ = h
}

// ledger.go - a payments ledger: every transfer and balance read takes the ledger's one mutex. Planted
// fault (variant lock): large transfers (~5 %) run audit, ~8 ms of CPU in mix, while apply holds the
// lock, so the requests behind them queue. Handlers set their labels inline (pprof.SetGoroutineLabels).
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
)

func init() {
	register("lock", "(*ledger).apply holds the ledger lock through an 8 ms audit on ~5% of transfers",
		func(e *env) http.Handler { return newLedger(e) })
}

type ledger struct {
	mu       sync.Mutex
	balances map[int]int64
	seq      uint64
}

func newLedger(e *env) http.Handler {
	l := &ledger{balances: map[int]int64{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/transfer", func(w http.ResponseWriter, r *http.Request) {
		r, restore := setLabels(r, labelsDecoded)
		defer restore()
		from, _ := strconv.Atoi(r.FormValue("from"))
		to, _ := strconv.Atoi(r.FormValue("to"))
		amount, err := strconv.ParseInt(r.FormValue("amount"), 10, 64)
		if r.Method != http.MethodPost || err != nil || amount <= 0 {
			http.Error(w, "POST from, to, amount > 0", http.StatusBadRequest)
			return
		}
		e.plant.request(amount > 9500)
		seq := l.apply(from, to, amount)
		fmt.Fprintf(w, `{"seq":%d}`, seq)
	})
	mux.HandleFunc("/api/balance", func(w http.ResponseWriter, r *http.Request) {
		r, restore := setLabels(r, labelsDecoded)
		defer restore()
		acct, _ := strconv.Atoi(r.URL.Query().Get("account"))
		e.plant.request(false)
		fmt.Fprintf(w, `{"account":%d,"balance":%d}`, acct, l.balance(acct))
	})
	return mux
}

// apply books a transfer; large ones are audited while the lock is held.
//
//go:noinline
func (l *ledger) apply(from, to int, amount int64) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.balances[from] -= amount
	l.balances[to] += amount
	l.seq = mix(l.seq+uint64(amount), 2000)
	if amount > 9500 {
		l.seq ^= l.audit(from, to, amount)
	}
	return l.seq
}

// audit re-derives the ledger's hash chain for a large transfer: ~8 ms of CPU in mix.
//
//go:noinline
func (l *ledger) audit(from, to int, amount int64) uint64 {
	h := uint64(from)<<32 ^ uint64(to) ^ uint64(amount)
	for i := 0; i < 250; i++ {
		h = mix(h, 20000)
	}
	return h
}

func (l *ledger) balance(acct int) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = mix(uint64(acct), 2000)
	return l.balances[acct]
}

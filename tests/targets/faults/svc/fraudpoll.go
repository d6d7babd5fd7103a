// fraudpoll.go - a marketplace's order intake: POST /api/orders?buyer=N&amount=CENTS places an order, GET
// /api/orders/status?id=N reads one. Orders of 300 EUR or more must carry a fraud score before they are
// accepted: the handler queues a scoring job for the scorer, a pool of four unlabelled goroutines that
// read the buyer's history and score it (~1-2 ms), and writes the result to a results table. Handlers
// are methods behind a ServeMux, labels set inline (baggage decoded + trace ids).
//
//	ha_fraudpoll: (*scoreResults).await waits for the job's score by polling the results table every
//	              50 ms ("like the job worker does"), so a scored order (~12 % of orders) sleeps at least
//	              50 ms for a score that was ready after ~2 ms. Without the fault (--fault-off) await
//	              waits on the job's done channel.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	register("ha_fraudpoll", "(*scoreResults).await polls for a big order's fraud score every 50 ms",
		func(e *env) http.Handler { return newOrderIntake(e) })
}

type scoreJob struct {
	id, buyer, amount int
	done              chan struct{}
}

type scoreResults struct {
	mu     sync.Mutex
	scores map[int]float64
}

type orderIntake struct {
	e       *env
	nextID  int64
	jobs    chan *scoreJob
	results *scoreResults
	mu      sync.Mutex
	orders  map[int]string
	history [][]uint64 // buyer -> amounts of past orders
}

func newOrderIntake(e *env) http.Handler {
	o := &orderIntake{e: e, jobs: make(chan *scoreJob, 256), results: &scoreResults{scores: map[int]float64{}},
		orders: map[int]string{}, history: make([][]uint64, 5001)}
	for b := range o.history {
		for i := 0; i < 40+int(mix(uint64(b), 2)%80); i++ {
			o.history[b] = append(o.history[b], mix(uint64(b*1000+i), 3)%50000)
		}
	}
	for i := 0; i < 4; i++ {
		go o.scorer()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/orders", o.place)
	mux.HandleFunc("/api/orders/status", o.status)
	return mux
}

// scorer scores queued jobs: the buyer's history against the amount.
func (o *orderIntake) scorer() {
	for j := range o.jobs {
		var risk uint64
		for _, a := range o.history[j.buyer] {
			risk += mix(a^uint64(j.amount), 5000)
		}
		o.results.put(j.id, float64(risk%1000)/1000)
		close(j.done)
	}
}

func (r *scoreResults) put(id int, score float64) {
	r.mu.Lock()
	r.scores[id] = score
	r.mu.Unlock()
}

func (r *scoreResults) take(id int) (float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.scores[id]
	if ok {
		delete(r.scores, id)
	}
	return s, ok
}

// await returns the job's fraud score once the scorer has written it.
//
//go:noinline
func (r *scoreResults) await(j *scoreJob, faultOff bool) float64 {
	if faultOff {
		<-j.done
		s, _ := r.take(j.id)
		return s
	}
	for {
		if s, ok := r.take(j.id); ok {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (o *orderIntake) place(w http.ResponseWriter, r *http.Request) {
	r, restore := setLabels(r, labelsDecoded)
	defer restore()
	buyer, err1 := strconv.Atoi(r.URL.Query().Get("buyer"))
	amount, err2 := strconv.Atoi(r.URL.Query().Get("amount"))
	if r.Method != http.MethodPost || err1 != nil || err2 != nil || buyer < 1 || buyer > 5000 || amount < 1 {
		http.Error(w, "POST buyer=1..5000&amount=CENTS", http.StatusBadRequest)
		return
	}
	id := int(atomic.AddInt64(&o.nextID, 1))
	status, score := "accepted", 0.0
	needsScore := amount >= 30000
	o.e.plant.request(needsScore && !o.e.cfg.faultOff)
	if needsScore {
		j := &scoreJob{id: id, buyer: buyer, amount: amount, done: make(chan struct{})}
		o.jobs <- j
		score = o.results.await(j, o.e.cfg.faultOff)
		if score > 0.97 {
			status = "review"
		}
	}
	o.mu.Lock()
	o.orders[id] = status
	o.history[buyer] = append(o.history[buyer], uint64(amount))
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]interface{}{"id": id, "status": status, "score": score})
}

func (o *orderIntake) status(w http.ResponseWriter, r *http.Request) {
	r, restore := setLabels(r, labelsDecoded)
	defer restore()
	o.e.plant.request(false)
	id, _ := strconv.Atoi(r.URL.Query().Get("id"))
	o.mu.Lock()
	st, ok := o.orders[id]
	o.mu.Unlock()
	if !ok {
		http.Error(w, "no such order", http.StatusNotFound)
		return
	}
	fmt.Fprintf(w, `{"id":%d,"status":%q}`, id, st)
}

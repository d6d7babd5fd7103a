// carts.go - a shop's cart service: GET /api/cart?cart=N shows a cart (its first 50 lines and totals),
// PUT /api/cart/lines?cart=N&sku=S&qty=Q sets a line's quantity, GET /api/cart/count answers the badge
// count. Logging goes through a small levelled logger of the team's own (the service runs at level warn
// in production, so info and debug lines are dropped). Handlers are closures on a ServeMux behind a
// pprof.Do middleware with OpenTelemetry-style labels.
//
//	debug_format: (*cartSvc).setLine debug-logs the whole cart after each update with %+v, and the
//	              logger's logf formats its message before it checks the level. Shoppers' carts have
//	              1-15 lines; every 20th cart belongs to a business buyer with 800-1 500 lines, each
//	              with its attributes map, so one of its updates formats ~1 MB through fmt's reflection
//	              (tens of ms) for a line nobody reads. Without the fault (--fault-off) logf checks the
//	              level first.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

func init() {
	register("debug_format", "(*cartSvc).setLine debug-logs whole carts through a logger that formats before its level check",
		func(e *env) http.Handler { return newCartSvc(e) })
}

const (
	levelDebug = iota
	levelInfo
	levelWarn
)

type leveledLogger struct {
	level      int
	checkFirst bool // --fault-off: check the level before formatting
	mu         sync.Mutex
	out        io.Writer
	dropped    int64
}

func (l *leveledLogger) Debugf(format string, args ...interface{}) {
	l.logf(levelDebug, format, args...)
}
func (l *leveledLogger) Infof(format string, args ...interface{}) { l.logf(levelInfo, format, args...) }
func (l *leveledLogger) Warnf(format string, args ...interface{}) { l.logf(levelWarn, format, args...) }

//go:noinline
func (l *leveledLogger) logf(level int, format string, args ...interface{}) {
	if l.checkFirst && level < l.level {
		return
	}
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if level < l.level {
		l.dropped++
		return
	}
	fmt.Fprintf(l.out, "%s %s\n", time.Now().UTC().Format(time.RFC3339), msg)
}

type cartLine struct {
	SKU        string
	Title      string
	Qty        int
	UnitCents  int64
	Attributes map[string]string
	AddedAt    time.Time
}

type cart struct {
	ID       int
	Customer string
	Currency string
	Lines    []cartLine
	Updated  time.Time
}

type cartSvc struct {
	e     *env
	log   *leveledLogger
	mu    sync.Mutex
	carts map[int]*cart
}

func newCartSvc(e *env) http.Handler {
	s := &cartSvc{e: e, carts: map[int]*cart{},
		log: &leveledLogger{level: levelWarn, checkFirst: e.cfg.faultOff, out: os.Stderr}}
	for id := 1; id <= 2000; id++ {
		n := 1 + int(mix(uint64(id), 3)%15)
		if id%20 == 0 {
			n = 800 + int(mix(uint64(id), 5)%700)
		}
		c := &cart{ID: id, Customer: fmt.Sprintf("cust-%06d", id), Currency: "EUR", Updated: time.Now()}
		for i := 0; i < n; i++ {
			c.Lines = append(c.Lines, cartLine{SKU: fmt.Sprintf("SKU-%05d", (id*7+i)%40000),
				Title: fmt.Sprintf("Item %d, pack of %d", i, 1+i%12), Qty: 1 + i%5, UnitCents: int64(199 + i%4000),
				Attributes: map[string]string{"colour": "grey", "size": strconv.Itoa(i % 9), "warehouse": "DE-2",
					"tax_class": "standard", "supplier": "S-" + strconv.Itoa(i%41), "pack": "carton",
					"hazmat": "no", "cost_centre": "CC-" + strconv.Itoa(id%17)},
				AddedAt: time.Now()})
		}
		s.carts[id] = c
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/cart", s.view)
	mux.HandleFunc("/api/cart/lines", s.updateLine)
	mux.HandleFunc("/api/cart/count", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.URL.Query().Get("cart"))
		e.plant.request(false)
		s.mu.Lock()
		n := 0
		if c := s.carts[id]; c != nil {
			n = len(c.Lines)
		}
		s.mu.Unlock()
		s.log.Infof("count cart=%d lines=%d", id, n)
		fmt.Fprintf(w, `{"cart":%d,"count":%d}`, id, n)
	})
	return doLabels(labelsOTel, mux)
}

func (s *cartSvc) view(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.URL.Query().Get("cart"))
	s.e.plant.request(false)
	s.mu.Lock()
	c := s.carts[id]
	if c == nil {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	var total int64
	for _, l := range c.Lines {
		total += int64(l.Qty) * l.UnitCents
	}
	first := c.Lines
	if len(first) > 50 {
		first = first[:50]
	}
	fmt.Fprintf(w, `{"cart":%d,"lines":%d,"total_cents":%d,"first":[`, id, len(c.Lines), total)
	for i, l := range first {
		if i > 0 {
			io.WriteString(w, ",")
		}
		fmt.Fprintf(w, `{"sku":%q,"qty":%d}`, l.SKU, l.Qty)
	}
	s.mu.Unlock()
	io.WriteString(w, "]}")
	s.log.Infof("view cart=%d lines=%d", id, len(first))
}

func (s *cartSvc) updateLine(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		http.Error(w, "PUT cart=N&sku=S&qty=Q", http.StatusMethodNotAllowed)
		return
	}
	id, _ := strconv.Atoi(r.URL.Query().Get("cart"))
	qty, err := strconv.Atoi(r.URL.Query().Get("qty"))
	if err != nil || qty < 0 {
		http.Error(w, "qty: want a count", http.StatusBadRequest)
		return
	}
	n, ok := s.setLine(id, r.URL.Query().Get("sku"), qty)
	if !ok {
		http.NotFound(w, r)
		return
	}
	fmt.Fprintf(w, `{"cart":%d,"lines":%d}`, id, n)
}

// setLine sets the quantity of a cart's line (adding it when new) and answers the cart's line count.
//
//go:noinline
func (s *cartSvc) setLine(id int, sku string, qty int) (int, bool) {
	s.mu.Lock()
	c := s.carts[id]
	if c == nil {
		s.mu.Unlock()
		return 0, false
	}
	found := false
	for i := range c.Lines {
		if c.Lines[i].SKU == sku {
			c.Lines[i].Qty, found = qty, true
		}
	}
	if !found && qty > 0 && len(c.Lines) < 2000 {
		c.Lines = append(c.Lines, cartLine{SKU: sku, Title: sku, Qty: qty, UnitCents: 999,
			Attributes: map[string]string{"warehouse": "DE-2"}, AddedAt: time.Now()})
	}
	c.Updated = time.Now()
	snapshot := *c
	snapshot.Lines = append([]cartLine(nil), c.Lines...)
	s.mu.Unlock()
	s.e.plant.request(len(snapshot.Lines) > 100 && !s.e.cfg.faultOff)
	s.log.Debugf("cart %d after update: %+v", id, &snapshot)
	return len(snapshot.Lines), true
}

// Command shop is loadctl's demo target: a small web shop with net/http/pprof on a separate loopback
// port, handlers labelled from each request's baggage/traceparent, and planted performance faults.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/* on http.DefaultServeMux, served on --pprof-addr only
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"
)

type config struct {
	addr, pprofAddr              string
	duration                     time.Duration
	faultCart, faultReindex      bool
	faultLock                    bool
	largeCart                    int
	reindexEvery, reindexFor     time.Duration
	reindexWorkers               int
	lockHold                     time.Duration
	mutexFraction, blockRateNano int
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:8080", "shop listen address (loopback)")
	flag.StringVar(&c.pprofAddr, "pprof-addr", "127.0.0.1:6060", "net/http/pprof listen address (loopback)")
	flag.DurationVar(&c.duration, "duration", 10*time.Minute, "exit by itself after this long")
	flag.BoolVar(&c.faultCart, "fault-cart", true, "fault (a): main.fraudScore is quadratic for carts over --large-cart items")
	flag.BoolVar(&c.faultReindex, "fault-reindex", true, "fault (b): main.reindexCatalog burns all CPUs periodically")
	flag.BoolVar(&c.faultReindex, "fault-gc", true, "alias of --fault-reindex")
	flag.BoolVar(&c.faultReindex, "fault-background", true, "alias of --fault-reindex")
	flag.BoolVar(&c.faultLock, "fault-lock", true, "fault (c): main.inventoryReserve holds a global mutex while it sleeps")
	flag.IntVar(&c.largeCart, "large-cart", 20, "carts with more items than this take fraudScore's slow path")
	flag.DurationVar(&c.reindexEvery, "reindex-every", 15*time.Second, "period of the background reindex job")
	flag.DurationVar(&c.reindexFor, "reindex-for", 3*time.Second, "how long each reindex burns CPU")
	flag.IntVar(&c.reindexWorkers, "reindex-workers", 0, "goroutines burning CPU during a reindex (0 = GOMAXPROCS)")
	flag.DurationVar(&c.lockHold, "lock-hold", 2*time.Millisecond, "time inventoryReserve holds the lock when --fault-lock")
	flag.IntVar(&c.mutexFraction, "mutex-fraction", 5, "runtime.SetMutexProfileFraction")
	flag.IntVar(&c.blockRateNano, "block-rate", 10000, "runtime.SetBlockProfileRate (ns)")
	flag.Parse()
	if c.reindexWorkers <= 0 {
		c.reindexWorkers = runtime.GOMAXPROCS(0)
	}
	return c
}

// counts backs /debug/count: exact request counts per route, for tests that compare with loadctl's.
var counts struct {
	session, books, book, cartAdd, cartGet, orders, other, total int64
}

func countRoute(route string) {
	atomic.AddInt64(&counts.total, 1)
	switch route {
	case "session":
		atomic.AddInt64(&counts.session, 1)
	case "books":
		atomic.AddInt64(&counts.books, 1)
	case "book":
		atomic.AddInt64(&counts.book, 1)
	case "cart_add":
		atomic.AddInt64(&counts.cartAdd, 1)
	case "cart_get":
		atomic.AddInt64(&counts.cartGet, 1)
	case "orders":
		atomic.AddInt64(&counts.orders, 1)
	default:
		atomic.AddInt64(&counts.other, 1)
	}
}

func handleCount(w http.ResponseWriter, r *http.Request) {
	out := map[string]int64{
		"POST /api/session": atomic.LoadInt64(&counts.session),
		"GET /api/books":    atomic.LoadInt64(&counts.books),
		"GET /api/books/id": atomic.LoadInt64(&counts.book),
		"POST /api/cart":    atomic.LoadInt64(&counts.cartAdd),
		"GET /api/cart":     atomic.LoadInt64(&counts.cartGet),
		"POST /api/orders":  atomic.LoadInt64(&counts.orders),
		"other":             atomic.LoadInt64(&counts.other),
		"total":             atomic.LoadInt64(&counts.total),
	}
	if r.URL.Query().Get("reset") == "1" {
		for _, p := range []*int64{&counts.session, &counts.books, &counts.book, &counts.cartAdd,
			&counts.cartGet, &counts.orders, &counts.other, &counts.total} {
			atomic.StoreInt64(p, 0)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// requestLabels turns the baggage keys of the load generator (loadctl.*, k6.*) and the W3C traceparent
// into pprof labels, like Pyroscope's k6 middleware and OpenTelemetry's profiling middleware do.
func requestLabels(r *http.Request) []string {
	var kv []string
	for _, member := range strings.Split(r.Header.Get("baggage"), ",") {
		member = strings.TrimSpace(member)
		if i := strings.IndexByte(member, ';'); i >= 0 {
			member = member[:i]
		}
		eq := strings.IndexByte(member, '=')
		if eq <= 0 || len(kv) >= 32 {
			continue
		}
		key := strings.TrimSpace(member[:eq])
		if !strings.HasPrefix(key, "loadctl.") && !strings.HasPrefix(key, "k6.") {
			continue
		}
		val, err := url.PathUnescape(strings.TrimSpace(member[eq+1:])) // W3C baggage: percent-encoding, "+" is literal
		if err != nil {
			continue
		}
		kv = append(kv, key, val)
	}
	// traceparent: version-traceid(32 hex)-spanid(16 hex)-flags
	if parts := strings.Split(r.Header.Get("traceparent"), "-"); len(parts) == 4 &&
		len(parts[1]) == 32 && len(parts[2]) == 16 {
		kv = append(kv, "trace_id", parts[1], "span_id", parts[2])
	}
	return kv
}

// labelled runs h under pprof labels from the request and counts it under route.
func labelled(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if route != "cart" { // handleCart counts GET and POST apart
			countRoute(route)
		}
		kv := requestLabels(r)
		if len(kv) == 0 {
			h(w, r)
			return
		}
		pprof.Do(r.Context(), pprof.Labels(kv...), func(ctx context.Context) {
			h(w, r.WithContext(ctx))
		})
	}
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func listen(addr string) net.Listener {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("shop: listen %s: %v", addr, err)
	}
	return ln
}

func main() {
	c := parseFlags()
	runtime.SetMutexProfileFraction(c.mutexFraction)
	runtime.SetBlockProfileRate(c.blockRateNano)
	s := newShop(c)

	pprofLn := listen(c.pprofAddr)
	shopLn := listen(c.addr)
	go func() { log.Fatal(http.Serve(pprofLn, http.DefaultServeMux)) }()
	if c.faultReindex {
		go reindexLoop(c, s)
	}
	time.AfterFunc(c.duration, func() {
		fmt.Fprintf(os.Stderr, "shop: --duration %s reached, exiting\n", c.duration)
		os.Exit(0)
	})
	fmt.Fprintf(os.Stderr, "shop: serving on %s, pprof on %s, faults cart=%v reindex=%v lock=%v, exits after %s\n",
		c.addr, c.pprofAddr, c.faultCart, c.faultReindex, c.faultLock, c.duration)
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(shopLn))
}

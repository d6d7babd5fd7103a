// Command faultsvc is the fault corpus's target (tests/targets/faults/README.md): small Go services that
// look like services in the wild, not like the demo shop, each with one planted performance fault of
// known cause, selected with --variant. net/http/pprof and /debug/faults (the planted spans) are served
// on --admin-addr only; everything listens on loopback.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // /debug/pprof/* on http.DefaultServeMux, served on --admin-addr only
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	variant, addr, adminAddr, role string
	duration                       time.Duration
	leakKB                         int  // --leak-kb: KiB each GET /api/products keeps for good (leak.go)
	faultOff                       bool // --fault-off: the services that honour it run without their fault
}

// env is what a variant gets: its config, the planted-fault log and the local dependency.
type env struct {
	cfg   config
	plant *planted
	depMu sync.Mutex
	dep   string // base URL of the dependency process, once started
}

// variant builds one service: its handler (labels included) and any background goroutines it starts.
type variant struct {
	about string
	build func(e *env) http.Handler
}

var variants = map[string]variant{}

func register(name, about string, build func(e *env) http.Handler) {
	variants[name] = variant{about, build}
}

// planted records when the planted fault ran (unix seconds) and how many requests took its path,
// served as JSON on /debug/faults so the accuracy benchmark can check a finding's window.
type planted struct {
	mu              sync.Mutex
	spans           [][2]float64
	requests, fault int64
}

func unixNow() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// span runs f and records [start, end] as a planted span.
func (p *planted) span(f func()) {
	t0 := unixNow()
	f()
	p.record(t0, unixNow())
}

// record records [t0, t1] (unix seconds) as a planted span, for a fault that runs where a closure of
// span's would show in its stack.
func (p *planted) record(t0, t1 float64) {
	p.mu.Lock()
	p.spans = append(p.spans, [2]float64{t0, t1})
	p.mu.Unlock()
	log.Printf("fault span %.3f %.3f", t0, t1)
}

// request counts one request, and whether it took the faulty path.
func (p *planted) request(faulty bool) {
	atomic.AddInt64(&p.requests, 1)
	if faulty {
		atomic.AddInt64(&p.fault, 1)
	}
}

func (p *planted) serve(variant string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		spans := append([][2]float64{}, p.spans...)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]interface{}{
			"variant": variant, "spans": spans,
			"requests": atomic.LoadInt64(&p.requests), "faulty_requests": atomic.LoadInt64(&p.fault),
		})
	}
}

func listen(addr string) net.Listener {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("faultsvc: listen %s: %v", addr, err)
	}
	if !ln.Addr().(*net.TCPAddr).IP.IsLoopback() {
		log.Fatalf("faultsvc: %s is not a loopback address", addr)
	}
	return ln
}

func names() string {
	var n []string
	for k := range variants {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

func main() {
	var c config
	flag.StringVar(&c.variant, "variant", "", "which service and fault: "+names())
	flag.StringVar(&c.addr, "addr", "127.0.0.1:8080", "service address (loopback)")
	flag.StringVar(&c.adminAddr, "admin-addr", "127.0.0.1:6060", "net/http/pprof and /debug/faults (loopback)")
	flag.StringVar(&c.role, "role", "service", "service, or dependency (the slow upstream the service starts itself)")
	flag.DurationVar(&c.duration, "duration", 5*time.Minute, "exit by itself after this long")
	flag.IntVar(&c.leakKB, "leak-kb", 0, "helper/control services: each GET /api/products keeps this many KiB in main.rememberPage (a steady leak)")
	flag.BoolVar(&c.faultOff, "fault-off", false, "retry, logsync, json_big, cache_evict, middleware, token_refresh, regex_rules, conn_pool, flag_webhook, metrics_flush, gzip_export, snapshot_rlock, bulk_queue, herd, spool_write, statement_tmpl, import_report, reindex_bursts, tenant_limiter, year_report, feed_sort, sync_conns, debug_format, token_sweep, presence_beat, w6b_geoip, w6b_linger, w6b_webhook_ca, ha_inbox, ha_fraudpoll, ha_acl: run the service without its planted fault (to check that the rest is clean)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("faultsvc: ")
	time.AfterFunc(c.duration, func() { log.Printf("--duration %s reached, exiting", c.duration); os.Exit(0) })
	if c.role == "dependency" {
		runDependency(c)
		return
	}
	v, ok := variants[c.variant]
	if !ok {
		fmt.Fprintf(os.Stderr, "faultsvc: unknown --variant %q (known: %s)\n", c.variant, names())
		os.Exit(1)
	}
	runtime.SetMutexProfileFraction(5) // as docs/profiling.md recommends
	runtime.SetBlockProfileRate(10000)
	e := &env{cfg: c, plant: &planted{}}
	http.HandleFunc("/debug/faults", e.plant.serve(c.variant))
	adminLn, appLn := listen(c.adminAddr), listen(c.addr)
	h := v.build(e) // before the admin port answers: a service that warms a cache at start is ready after it
	go func() { log.Fatal(http.Serve(adminLn, http.DefaultServeMux)) }()
	log.Printf("variant %s (%s) on %s, admin on %s", c.variant, v.about, appLn.Addr(), adminLn.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(appLn))
}

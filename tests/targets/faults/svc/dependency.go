// dependency.go - the slow upstream some variants call: a separate process (this binary with
// --role=dependency) on a loopback port it picks itself, started by the service and killed with it.
package main

import (
	"bufio"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runDependency serves GET /wait?ms=N (answers after N ms, off-CPU), GET /item?id=N (a small JSON
// body after ~1 ms) and POST /charge (a card processor, see processor), and prints its address on
// stdout for the parent.
func runDependency(c config) {
	mux := http.NewServeMux()
	mux.HandleFunc("/charge", processor(c.faultOff))
	mux.HandleFunc("/wait", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("ms") + "ms")
		if err != nil || d < 0 || d > 5*time.Second {
			http.Error(w, "ms: want 0..5000", http.StatusBadRequest)
			return
		}
		time.Sleep(d)
		fmt.Fprintf(w, `{"rate":1.0837,"after_ms":%d}`, d.Milliseconds())
	})
	mux.HandleFunc("/item", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		fmt.Fprintf(w, `{"id":%q,"sku":"SKU-%s","qty":1}`, r.URL.Query().Get("id"), r.URL.Query().Get("id"))
	})
	ln := listen(c.addr)
	fmt.Printf("%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

// processor answers POST /charge?card=N&amount=N&key=K after ~1 ms: 200 and an authorisation code, or,
// while the issuer of cards N % 8 == 0 is degraded (unless faultOff), 503 to the first two attempts
// with idempotency key K.
func processor(faultOff bool) http.HandlerFunc {
	var mu sync.Mutex
	tries := map[string]int{} // key -> failed attempts so far; deleted on success
	return func(w http.ResponseWriter, r *http.Request) {
		card, err := strconv.Atoi(r.URL.Query().Get("card"))
		key := r.URL.Query().Get("key")
		if r.Method != http.MethodPost || err != nil || key == "" {
			http.Error(w, "POST card=N&key=K", http.StatusBadRequest)
			return
		}
		time.Sleep(time.Millisecond)
		mu.Lock()
		failed := !faultOff && card%8 == 0 && tries[key] < 2
		if failed {
			tries[key]++
		} else {
			delete(tries, key)
		}
		mu.Unlock()
		if failed {
			http.Error(w, "issuer unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "A%06d", card%1000000)
	}
}

// dependency starts the dependency process once and returns its base URL.
func (e *env) dependency() string {
	e.depMu.Lock()
	defer e.depMu.Unlock()
	if e.dep != "" {
		return e.dep
	}
	cmd := exec.Command(os.Args[0], "--role=dependency", "--addr=127.0.0.1:0",
		"--duration="+e.cfg.duration.String(), "--fault-off="+strconv.FormatBool(e.cfg.faultOff))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the service
	out, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatalf("dependency: %v", err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatalf("dependency: start %s: %v", os.Args[0], err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		log.Fatalf("dependency: no address on its stdout: %v", err)
	}
	e.dep = "http://" + strings.TrimSpace(line)
	log.Printf("dependency (pid %d) on %s", cmd.Process.Pid, e.dep)
	return e.dep
}

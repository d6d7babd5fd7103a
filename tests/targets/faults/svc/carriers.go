// carriers.go - a shipping service: shops create shipments (POST /api/shipments) and track them (GET
// /api/shipments), and close a carrier's manifest for the day (POST /api/manifests, ~10 % of requests):
// the day's shipments for that carrier written as fixed-width EDI lines to a spool file, which the
// uploader picks up (here: its size is checked and the file removed, as after a transfer). Most
// carriers have tens to hundreds of shipments a day; every 8th is a national carrier with ~10 000.
// Handlers are closures on a ServeMux behind a pprof.Do middleware in the OpenTelemetry style
// (http.method, http.route, span_id).
//
//	spool_write: (*manifestSvc).writeManifest writes each line with fmt.Fprintf straight to the
//	             *os.File: one write(2) per shipment, ~10 000 system calls for a national carrier's
//	             manifest (CPU in the kernel below syscall.Syscall). Without the fault (--fault-off) the
//	             lines go through a 64 KiB bufio.Writer.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

func init() {
	register("spool_write", "(*manifestSvc).writeManifest writes a national carrier's manifest one write(2) per line",
		func(e *env) http.Handler { return newCarriers(e) })
}

type shipment struct {
	id, carrier, grams int
	postcode           string
}

type manifestSvc struct {
	e      *env
	dir    string // the spool directory; a manifest's file lives there until it is uploaded
	mu     sync.Mutex
	byDay  map[int][]shipment // carrier -> today's shipments
	nextID int64
}

func (s *manifestSvc) todays(carrier int) []shipment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byDay[carrier]
}

// writeManifest writes carrier's manifest for the day to the spool and returns its size in bytes.
//
//go:noinline
func (s *manifestSvc) writeManifest(carrier int) (int64, error) {
	f, err := os.CreateTemp(s.dir, fmt.Sprintf("carrier%03d-*.edi", carrier))
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name()) // the uploader's part: picked up and gone
	defer f.Close()
	var w io.Writer = f
	var bw *bufio.Writer
	if s.e.cfg.faultOff {
		bw = bufio.NewWriterSize(f, 64<<10)
		w = bw
	}
	list := s.todays(carrier)
	fmt.Fprintf(w, "HDR%03d%08d\n", carrier, len(list))
	for _, sh := range list {
		fmt.Fprintf(w, "SHP%012d%03d%-10s%08d\n", sh.id, sh.carrier, sh.postcode, sh.grams)
	}
	fmt.Fprintf(w, "TRL%08d\n", len(list))
	if bw != nil {
		if err := bw.Flush(); err != nil {
			return 0, err
		}
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (s *manifestSvc) add(carrier, grams int, postcode string) int {
	id := int(atomic.AddInt64(&s.nextID, 1))
	s.mu.Lock()
	s.byDay[carrier] = append(s.byDay[carrier], shipment{id, carrier, grams, postcode})
	s.mu.Unlock()
	return id
}

func newCarriers(e *env) http.Handler {
	s := &manifestSvc{e: e, dir: os.TempDir(), byDay: map[int][]shipment{}}
	for c := 0; c < 40; c++ { // the day so far
		n := 20 + int(mix(uint64(c), 5)%180)
		if c%8 == 0 {
			n = 9000 + int(mix(uint64(c), 7)%2000)
		}
		for i := 0; i < n; i++ {
			s.add(c, 100+int(mix(uint64(c*100000+i), 3)%30000), fmt.Sprintf("%05d", mix(uint64(i), 2)%100000))
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/shipments", func(w http.ResponseWriter, r *http.Request) {
		e.plant.request(false)
		if r.Method == http.MethodPost {
			carrier, _ := strconv.Atoi(r.FormValue("carrier"))
			grams, _ := strconv.Atoi(r.FormValue("grams"))
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":%d}`, s.add(carrier%40, grams, r.FormValue("postcode")))
			return
		}
		id, _ := strconv.Atoi(r.FormValue("id"))
		fmt.Fprintf(w, `{"id":%d,"status":%q}`, id, []string{"label_created", "in_transit", "delivered"}[id%3])
	})
	mux.HandleFunc("/api/manifests", func(w http.ResponseWriter, r *http.Request) {
		carrier, err := strconv.Atoi(r.FormValue("carrier"))
		if err != nil || carrier < 0 || carrier >= 40 || r.Method != http.MethodPost {
			http.Error(w, "POST carrier=0..39", http.StatusBadRequest)
			return
		}
		e.plant.request(carrier%8 == 0 && !e.cfg.faultOff)
		size, err := s.writeManifest(carrier)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, `{"carrier":%d,"bytes":%d}`, carrier, size)
	})
	return doLabels(labelsOTel, mux)
}

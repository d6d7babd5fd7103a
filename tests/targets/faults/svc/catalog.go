// catalog.go - a catalogue service with reports and exports; handlers are methods on a ServeMux behind a
// pprof.Do middleware (baggage decoded + trace ids). Rows are built by newRecord, which every endpoint
// uses. Planted faults:
//
//	alloc:  GET /api/report (~10 % of requests) builds 8 000 records one allocation at a time and grows
//	        its output without preallocating: garbage and GC work for everybody;
//	lowvol: POST /api/export (~2 % of requests); the XML ones (half) spend ~60 ms in encodeXML.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

func init() {
	register("alloc", "renderReport allocates ~8k records per GET /api/report (~10% of requests)",
		func(e *env) http.Handler { return newCatalog(e, "alloc") })
	register("lowvol", "encodeXML: ~60 ms CPU on XML exports, POST /api/export is ~2% of requests",
		func(e *env) http.Handler { return newCatalog(e, "lowvol") })
}

type catalogSvc struct {
	e     *env
	fault string
}

type record struct {
	ID    int
	Name  string
	Tags  []string
	Attrs map[string]string
}

// newRecord is the shared row constructor (a few small allocations).
func newRecord(id int) *record {
	return &record{ID: id, Name: "item-" + strconv.Itoa(id), Tags: []string{"a", strconv.Itoa(id % 7)},
		Attrs: map[string]string{"color": strconv.Itoa(id % 5)}}
}

func newCatalog(e *env, fault string) http.Handler {
	s := &catalogSvc{e: e, fault: fault}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/items", s.items)
	mux.HandleFunc("/api/report", s.report)
	mux.HandleFunc("/api/export", s.export)
	return doLabels(labelsDecoded, mux)
}

func (s *catalogSvc) items(w http.ResponseWriter, r *http.Request) {
	s.e.plant.request(false)
	id, _ := strconv.Atoi(r.URL.Query().Get("id"))
	rec := newRecord(id)
	rec.Name += fmt.Sprintf("-%08x", mix(uint64(id), 40000))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rec)
}

func (s *catalogSvc) report(w http.ResponseWriter, r *http.Request) {
	s.e.plant.request(s.fault == "alloc")
	rows := 200
	if s.fault == "alloc" {
		rows = 8000
	}
	out := renderReport(rows)
	fmt.Fprintf(w, `{"rows":%d,"bytes":%d}`, rows, len(out))
}

// renderReport builds the report rows by rows, one record and a few strings per row, into an output
// that grows as it goes.
//
//go:noinline
func renderReport(rows int) []byte {
	var out []byte
	for i := 0; i < rows; i++ {
		rec := newRecord(i)
		line := strings.Join(append(rec.Tags, rec.Name, rec.Attrs["color"]), ",")
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out
}

func (s *catalogSvc) export(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, _ := io.ReadAll(r.Body)
	xml := r.URL.Query().Get("format") == "xml"
	s.e.plant.request(xml && s.fault == "lowvol")
	var sum uint64
	if xml && s.fault == "lowvol" {
		sum = encodeXML(body)
	} else {
		sum = uint64(checksum(body, 50))
	}
	fmt.Fprintf(w, `{"export":"%016x"}`, sum)
}

// encodeXML renders an export as XML with a canonical digest per element: ~60 ms of CPU in mix.
//
//go:noinline
func encodeXML(body []byte) uint64 {
	h := uint64(len(body))
	for i := 0; i < 1200; i++ {
		h = mix(h+uint64(i), 20000)
	}
	return h
}

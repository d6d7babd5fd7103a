// ingest.go - an event-ingestion service: single events, batches from SDKs that buffer, and counters.
// Handlers are methods behind a pprof.Do middleware (baggage decoded + trace ids); every request writes
// an access line to the service's log (buffered, under the log's one mutex, flushed every second).
// Batches are cut into chunks under the queue's message size limit before they are published.
//
//	json_big: ~5 % of batches are an SDK's backfill of 1 000 events (the others 20); chunkEvents checks
//	          the queue's 8 KiB limit by re-encoding the whole growing chunk after every event: O(n x
//	          chunk) in encoding/json, ~1 ms for a normal batch, ~50-100 ms for a backfill.
//	logsync:  events from a legacy SDK (~10 % of POST /api/events) are upgraded and the service logs an
//	          error for each; (*eventLog).Errorf flushes and fsyncs the log file before it returns, holding
//	          the log mutex every request's access line needs (an fsync: ~4-12 ms on this disk).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	register("json_big", "chunkEvents re-encodes the growing chunk per event: O(n^2) on ~5% of batches (backfills)",
		func(e *env) http.Handler { return newIngest(e, "json_big") })
	register("logsync", "(*eventLog).Errorf fsyncs under the log mutex for legacy events (~10% of POST /api/events)",
		func(e *env) http.Handler { return newIngest(e, "logsync") })
}

type event struct {
	Type   string            `json:"type"`
	TS     int64             `json:"ts"`
	User   int               `json:"user"`
	Schema string            `json:"schema,omitempty"`
	Props  map[string]string `json:"props"`
}

type ingestSvc struct {
	e         *env
	fault     string // json_big, logsync, or "" (--fault-off)
	log       *eventLog
	chunk     func([]event, int) ([][]byte, error)
	published int64 // bytes handed to the broker
	accepted  int64
}

// eventLog is the service's log file: buffered, one mutex; with syncErrors every error line is on disk
// before Errorf returns.
type eventLog struct {
	mu         sync.Mutex
	f          *os.File
	w          *bufio.Writer
	syncErrors bool
}

const brokerMaxBytes = 8 << 10 // the queue's message size limit

func newIngest(e *env, fault string) http.Handler {
	if e.cfg.faultOff {
		fault = ""
	}
	s := &ingestSvc{e: e, fault: fault, log: openEventLog(fault == "logsync"), chunk: chunkEventsSized}
	if fault == "json_big" {
		s.chunk = chunkEvents
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/events", s.ingestOne)
	mux.HandleFunc("/api/events/batch", s.ingestBatch)
	mux.HandleFunc("/api/events/stats", s.stats)
	return doLabels(labelsDecoded, mux)
}

func openEventLog(syncErrors bool) *eventLog {
	f, err := os.CreateTemp("", "faultsvc-events-*.log")
	if err != nil {
		log.Fatalf("event log: %v", err)
	}
	_ = os.Remove(f.Name()) // the open file lives until the service exits
	l := &eventLog{f: f, w: bufio.NewWriterSize(f, 64<<10), syncErrors: syncErrors}
	go func() {
		for range time.Tick(time.Second) {
			l.mu.Lock()
			_ = l.w.Flush()
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *eventLog) Infof(format string, args ...interface{}) {
	l.mu.Lock()
	fmt.Fprintf(l.w, "%s INFO "+format+"\n", append([]interface{}{time.Now().Format(time.RFC3339Nano)}, args...)...)
	l.mu.Unlock()
}

// Errorf writes an error line; with syncErrors it is flushed and fsynced before Errorf returns.
//
//go:noinline
func (l *eventLog) Errorf(format string, args ...interface{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s ERROR "+format+"\n", append([]interface{}{time.Now().Format(time.RFC3339Nano)}, args...)...)
	if l.syncErrors {
		if err := l.w.Flush(); err == nil {
			_ = l.f.Sync()
		}
	}
}

func (s *ingestSvc) ingestOne(w http.ResponseWriter, r *http.Request) {
	var ev event
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&ev) != nil || ev.Type == "" {
		s.e.plant.request(false)
		http.Error(w, `POST {"type":...,"ts":...,"user":...}`, http.StatusBadRequest)
		return
	}
	legacy := ev.Schema == "v1"
	s.e.plant.request(legacy && s.fault == "logsync")
	if legacy {
		ev.Schema, ev.Props = "v2", upgradeProps(ev.Props)
		s.log.Errorf("event %s of user %d: legacy schema v1, upgraded", ev.Type, ev.User)
	}
	b, _ := json.Marshal(ev)
	atomic.AddInt64(&s.published, int64(len(b)))
	n := atomic.AddInt64(&s.accepted, 1)
	s.log.Infof("POST /api/events 202 type=%s user=%d seq=%d", ev.Type, ev.User, n)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"seq":%d,"digest":"%08x"}`, n, checksum(b, 20))
}

func upgradeProps(p map[string]string) map[string]string {
	out := map[string]string{"sdk": "legacy"}
	for k, v := range p {
		out["v1."+k] = v
	}
	return out
}

func (s *ingestSvc) ingestBatch(w http.ResponseWriter, r *http.Request) {
	var batch struct {
		Events []event `json:"events"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&batch) != nil {
		s.e.plant.request(false)
		http.Error(w, `POST {"events":[...]}`, http.StatusBadRequest)
		return
	}
	s.e.plant.request(s.fault == "json_big" && len(batch.Events) > 500)
	chunks, err := s.chunk(batch.Events, brokerMaxBytes)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	for _, c := range chunks {
		atomic.AddInt64(&s.published, int64(len(c)))
	}
	n := atomic.AddInt64(&s.accepted, int64(len(batch.Events)))
	s.log.Infof("POST /api/events/batch 202 events=%d chunks=%d seq=%d", len(batch.Events), len(chunks), n)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"seq":%d,"chunks":%d}`, n, len(chunks))
}

func (s *ingestSvc) stats(w http.ResponseWriter, r *http.Request) {
	s.e.plant.request(false)
	acc, pub := atomic.LoadInt64(&s.accepted), atomic.LoadInt64(&s.published)
	s.log.Infof("GET /api/events/stats 200")
	fmt.Fprintf(w, `{"accepted":%d,"published_bytes":%d,"etag":"%016x"}`, acc, pub, mix(uint64(acc), 20000))
}

// chunkEvents cuts events into JSON arrays of at most max bytes, checking the limit by encoding the
// chunk with the next event appended (every event re-encodes the whole chunk so far).
//
//go:noinline
func chunkEvents(events []event, max int) ([][]byte, error) {
	var chunks [][]byte
	var cur []event
	var enc []byte
	for _, ev := range events {
		next, err := json.Marshal(append(cur, ev))
		if err != nil {
			return nil, err
		}
		if len(next) > max && len(cur) > 0 {
			chunks = append(chunks, enc)
			cur = nil
			if next, err = json.Marshal([]event{ev}); err != nil {
				return nil, err
			}
		}
		cur, enc = append(cur, ev), next
	}
	if len(cur) > 0 {
		chunks = append(chunks, enc)
	}
	return chunks, nil
}

// chunkEventsSized cuts events into JSON arrays of at most max bytes, encoding each event once.
func chunkEventsSized(events []event, max int) ([][]byte, error) {
	var chunks [][]byte
	cur := []byte{'['}
	for _, ev := range events {
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		if len(cur)+len(b)+1 > max && len(cur) > 1 {
			chunks = append(chunks, append(cur, ']'))
			cur = []byte{'['}
		}
		if len(cur) > 1 {
			cur = append(cur, ',')
		}
		cur = append(cur, b...)
	}
	if len(cur) > 1 {
		chunks = append(chunks, append(cur, ']'))
	}
	return chunks, nil
}

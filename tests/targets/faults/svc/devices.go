// devices.go - a device registry for a fleet of sensors: devices post heartbeats with their latest
// readings (POST /api/devices/N/heartbeat, a write under the registry's sync.RWMutex), dashboards read
// a device (GET /api/devices/N) and the fleet summary (GET /api/fleet/summary), both under the read
// lock. A backup goroutine snapshots the registry every 6 s so that a restart loses little. Handlers
// are closures on a ServeMux that set their goroutine's labels inline from the k6.name baggage member
// only (the team's load tests are k6 scripts).
//
//	snapshot_rlock: (*deviceRegistry).snapshot deep-copies all 120 000 devices (their readings included)
//	                while it holds the read lock, "reads do not block each other": every heartbeat
//	                waits in Lock for the whole copy, and once a writer waits, Go's RWMutex makes new
//	                readers wait too, so dashboards stall as well (spans on /debug/faults). Without the
//	                fault (--fault-off) snapshot copies 2 000 devices per read-lock hold.
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() {
	register("snapshot_rlock", "(*deviceRegistry).snapshot deep-copies 120k devices under the read lock every 6 s",
		func(e *env) http.Handler { return newDevices(e, 120000, 6*time.Second) })
}

type device struct {
	ID       int
	Firmware string
	LastSeen time.Time
	Readings []float32 // the last readings, newest last
}

type deviceRegistry struct {
	e       *env
	mu      sync.RWMutex
	devices map[int]*device
	backup  map[int]device // the last snapshot, what a restart would load
}

func (g *deviceRegistry) heartbeat(id int, reading float32, fw string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.devices[id]
	if d == nil {
		d = &device{ID: id}
		g.devices[id] = d
	}
	d.Firmware, d.LastSeen = fw, time.Now()
	if len(d.Readings) >= 16 {
		d.Readings = append(d.Readings[:0], d.Readings[1:]...)
	}
	d.Readings = append(d.Readings, reading)
}

func (g *deviceRegistry) get(id int) (device, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	d, ok := g.devices[id]
	if !ok {
		return device{}, false
	}
	return *d, true
}

// summary counts devices per firmware among the sampled ids.
func (g *deviceRegistry) summary(ids []int) map[string]int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := map[string]int{}
	for _, id := range ids {
		if d := g.devices[id]; d != nil {
			out[d.Firmware]++
		}
	}
	return out
}

func cloneDevice(d *device) device {
	c := *d
	c.Readings = append([]float32(nil), d.Readings...)
	return c
}

// snapshot copies every device into g.backup.
//
//go:noinline
func (g *deviceRegistry) snapshot() {
	next := make(map[int]device, len(g.backup))
	if g.e.cfg.faultOff {
		g.mu.RLock()
		ids := make([]int, 0, len(g.devices))
		for id := range g.devices {
			ids = append(ids, id)
		}
		g.mu.RUnlock()
		for i := 0; i < len(ids); i += 2000 {
			g.mu.RLock()
			for _, id := range ids[i:minInt(i+2000, len(ids))] {
				next[id] = cloneDevice(g.devices[id])
			}
			g.mu.RUnlock()
		}
		g.backup = next
		return
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	t0 := unixNow()
	for id, d := range g.devices {
		next[id] = cloneDevice(d)
	}
	g.backup = next
	g.e.plant.record(t0, unixNow())
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func (g *deviceRegistry) backupLoop(every time.Duration) {
	for range time.Tick(every) {
		g.snapshot()
	}
}

func deviceID(path, prefix string) (int, string, bool) {
	rest := strings.TrimPrefix(path, prefix)
	idStr, tail, _ := strings.Cut(rest, "/")
	id, err := strconv.Atoi(idStr)
	return id, tail, err == nil && id >= 0
}

func newDevices(e *env, n int, every time.Duration) http.Handler {
	g := &deviceRegistry{e: e, devices: make(map[int]*device, n)}
	for id := 0; id < n; id++ { // the fleet as the registry knows it after a day
		for k := 0; k < 16; k++ {
			g.heartbeat(id, float32(mix(uint64(id*16+k), 2)%400)/10, "fw-"+strconv.Itoa(id%7))
		}
	}
	go g.backupLoop(every)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/devices/", func(w http.ResponseWriter, r *http.Request) {
		r, restore := setLabels(r, labelsK6)
		defer restore()
		id, tail, ok := deviceID(r.URL.Path, "/api/devices/")
		if !ok {
			http.Error(w, "bad device id", http.StatusBadRequest)
			return
		}
		e.plant.request(false)
		if tail == "heartbeat" && r.Method == http.MethodPost {
			v, _ := strconv.ParseFloat(r.URL.Query().Get("temp"), 32)
			g.heartbeat(id, float32(v), r.URL.Query().Get("fw"))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		d, found := g.get(id)
		if !found {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"id":%d,"firmware":%q,"readings":%v}`, d.ID, d.Firmware, d.Readings)
	})
	mux.HandleFunc("/api/fleet/summary", func(w http.ResponseWriter, r *http.Request) {
		r, restore := setLabels(r, labelsK6)
		defer restore()
		e.plant.request(false)
		ids := make([]int, 200)
		seed := uint64(time.Now().UnixNano())
		for i := range ids {
			ids[i] = int(mix(seed+uint64(i), 3) % uint64(n))
		}
		fmt.Fprintf(w, `{"firmware":%v}`, g.summary(ids))
	})
	return mux
}

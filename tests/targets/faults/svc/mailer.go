// mailer.go - a transactional e-mail service: apps send one message (POST /api/messages: a password
// reset, a receipt) and wait until the relay accepted it; marketing sends a campaign to a segment
// (POST /api/campaigns/N/send, ~0.25 % of requests), answered 202 at once and delivered in the background.
// Every message goes through one outbox: a buffered channel drained by four sender goroutines (started
// with the service, unlabelled), each handing a message to the SMTP relay (the dependency process,
// ~3 ms off-CPU). GET /api/messages/N reads a message's status. Handlers are methods routed by a
// ServeMux behind a pprof.Do middleware (baggage decoded + trace ids).
//
//	bulk_queue: (*mailer).SendCampaign puts all 400 messages of a campaign on the same outbox as the
//	            transactional ones: for the ~300 ms the senders need to drain them, a password reset
//	            queues behind the campaign (spans on /debug/faults: from the campaign's enqueue until its
//	            last message left). Nothing is slow on CPU. Without the fault (--fault-off) campaigns
//	            have an outbox and one sender of their own.
package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

func init() {
	register("bulk_queue", "(*mailer).SendCampaign floods the transactional outbox with 400 messages",
		func(e *env) http.Handler { return newMailer(e, 4, 400) })
}

type outMessage struct {
	to, template string
	accepted     chan error // nil for campaign messages: nobody waits for them
	campaign     *campaignRun
}

// campaignRun tracks one campaign's delivery, to record its span when its last message has left.
type campaignRun struct {
	left int32
	t0   float64
}

type mailer struct {
	e         *env
	outbox    chan *outMessage
	bulkBox   chan *outMessage // --fault-off: the campaigns' own outbox
	segment   int
	delivered int64
	statusMu  sync.Mutex
	status    map[int]string
}

func (m *mailer) relay(msg *outMessage) error {
	return send(context.Background(), dbClient,
		fmt.Sprintf("%s/wait?ms=3&to=%s&tpl=%s", m.e.dependency(), msg.to, msg.template))
}

func (m *mailer) sender(box chan *outMessage) {
	for msg := range box {
		err := m.relay(msg)
		atomic.AddInt64(&m.delivered, 1)
		if msg.accepted != nil {
			msg.accepted <- err
		}
		if c := msg.campaign; c != nil && atomic.AddInt32(&c.left, -1) == 0 && !m.e.cfg.faultOff {
			m.e.plant.record(c.t0, unixNow())
		}
	}
}

// Send queues one transactional message and waits until the relay has accepted it.
func (m *mailer) Send(ctx context.Context, to, template string) error {
	msg := &outMessage{to: to, template: template, accepted: make(chan error, 1)}
	select {
	case m.outbox <- msg:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-msg.accepted:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SendCampaign queues a message to every member of campaign's segment and returns.
//
//go:noinline
func (m *mailer) SendCampaign(campaign int) {
	box := m.outbox
	if m.e.cfg.faultOff {
		box = m.bulkBox
	}
	run := &campaignRun{left: int32(m.segment), t0: unixNow()}
	for i := 0; i < m.segment; i++ {
		box <- &outMessage{to: fmt.Sprintf("member%d@seg%d.example", i, campaign%10), template: "campaign-" +
			strconv.Itoa(campaign), campaign: run}
	}
}

func (m *mailer) postMessage(w http.ResponseWriter, r *http.Request) {
	m.e.plant.request(false)
	if err := m.Send(r.Context(), r.FormValue("to"), r.FormValue("template")); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	id := int(atomic.LoadInt64(&m.delivered))
	m.statusMu.Lock()
	m.status[id%10000] = "accepted"
	m.statusMu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"id":%d,"status":"accepted"}`, id)
}

func (m *mailer) getMessage(w http.ResponseWriter, r *http.Request) {
	m.e.plant.request(false)
	id, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/api/messages/"))
	m.statusMu.Lock()
	st, ok := m.status[id%10000]
	m.statusMu.Unlock()
	if !ok {
		st = "unknown"
	}
	fmt.Fprintf(w, `{"id":%d,"status":%q}`, id, st)
}

func (m *mailer) postCampaign(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/campaigns/"), "/send")
	campaign, err := strconv.Atoi(rest)
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "POST /api/campaigns/N/send", http.StatusBadRequest)
		return
	}
	m.e.plant.request(!m.e.cfg.faultOff)
	m.SendCampaign(campaign)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"campaign":%d,"queued":%d}`, campaign, m.segment)
}

func newMailer(e *env, senders, segment int) http.Handler {
	m := &mailer{e: e, outbox: make(chan *outMessage, 4096), bulkBox: make(chan *outMessage, 4096),
		segment: segment, status: map[int]string{}}
	e.dependency()
	for i := 0; i < senders; i++ {
		go m.sender(m.outbox)
	}
	go m.sender(m.bulkBox)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/messages", m.postMessage)
	mux.HandleFunc("/api/messages/", m.getMessage)
	mux.HandleFunc("/api/campaigns/", m.postCampaign)
	return doLabels(labelsDecoded, mux)
}

// labels.go - the ways services turn the load generator's headers into pprof labels, or do not.
package main

import (
	"context"
	"net/http"
	"net/url"
	"runtime/pprof"
	"strings"
)

type labelStyle int

const (
	labelsDecoded     labelStyle = iota // baggage loadctl.name / k6.name, percent-decoded, + trace_id, span_id
	labelsEncoded                       // every loadctl.* baggage member kept as sent (percent-encoded), + trace ids
	labelsTraceparent                   // trace_id and span_id from traceparent only
	labelsK6                            // k6.name only (decoded), like a k6-only labelling middleware
	labelsOTel                          // OpenTelemetry style: http.method, http.route (the route pattern), span_id
	labelsNone                          // no labels at all
)

// baggage returns the members of a W3C baggage header whose key passes keep, values as sent.
func baggage(h string, keep func(string) bool) [][2]string {
	var out [][2]string
	for _, m := range strings.Split(h, ",") {
		m, _, _ = strings.Cut(m, ";") // drop member properties
		k, v, ok := strings.Cut(strings.TrimSpace(m), "=")
		if ok && keep(strings.TrimSpace(k)) {
			out = append(out, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		}
	}
	return out
}

func traceLabels(r *http.Request) []string {
	p := strings.Split(r.Header.Get("traceparent"), "-")
	if len(p) != 4 || len(p[1]) != 32 || len(p[2]) != 16 {
		return nil
	}
	return []string{"trace_id", p[1], "span_id", p[2]}
}

// requestLabels: the pprof labels a service of that style derives from r.
func requestLabels(r *http.Request, style labelStyle) []string {
	var kv []string
	switch style {
	case labelsDecoded:
		for _, m := range baggage(r.Header.Get("baggage"), func(k string) bool { return k == "loadctl.name" || k == "k6.name" }) {
			if v, err := url.PathUnescape(m[1]); err == nil {
				kv = append(kv, m[0], v)
			}
		}
		kv = append(kv, traceLabels(r)...)
	case labelsEncoded:
		for _, m := range baggage(r.Header.Get("baggage"), func(k string) bool { return strings.HasPrefix(k, "loadctl.") }) {
			kv = append(kv, m[0], m[1])
		}
		kv = append(kv, traceLabels(r)...)
	case labelsTraceparent:
		kv = traceLabels(r)
	case labelsOTel:
		kv = []string{"http.method", r.Method, "http.route", r.URL.Path}
		if p := strings.Split(r.Header.Get("traceparent"), "-"); len(p) == 4 && len(p[2]) == 16 {
			kv = append(kv, "span_id", p[2])
		}
	case labelsK6:
		for _, m := range baggage(r.Header.Get("baggage"), func(k string) bool { return k == "k6.name" }) {
			if v, err := url.PathUnescape(m[1]); err == nil {
				kv = append(kv, m[0], v)
			}
		}
	}
	return kv
}

// doLabels is the middleware style: the whole handler runs inside pprof.Do.
func doLabels(style labelStyle, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kv := requestLabels(r, style)
		if len(kv) == 0 {
			h.ServeHTTP(w, r)
			return
		}
		pprof.Do(r.Context(), pprof.Labels(kv...), func(ctx context.Context) { h.ServeHTTP(w, r.WithContext(ctx)) })
	})
}

// setLabels is the inline style: the handler sets its goroutine's labels itself and returns a func that
// puts the connection goroutine's old labels back (net/http reuses it for the next request).
func setLabels(r *http.Request, style labelStyle) (*http.Request, func()) {
	kv := requestLabels(r, style)
	if len(kv) == 0 {
		return r, func() {}
	}
	old := r.Context()
	ctx := pprof.WithLabels(old, pprof.Labels(kv...))
	pprof.SetGoroutineLabels(ctx)
	return r.WithContext(ctx), func() { pprof.SetGoroutineLabels(old) }
}

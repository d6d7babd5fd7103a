// links.go - a link shortener: GET /r/CODE redirects a short link to its destination, POST /api/links
// creates one. Each link belongs to a workspace; most workspaces redirect by a plain lookup, a few
// (enterprise plans, every 25th workspace) have a list of custom redirect rules written as regular
// expressions in the dashboard (rewrite a campaign path, keep a referrer). Labels: pprof.Do middleware,
// baggage decoded + trace ids.
//
//	regex_rules: resolving a link of a workspace with custom rules compiles its ~80 rules with
//	             regexp.Compile on every request in (*linkStore).applyCustomRules (~10-40 ms of CPU,
//	             inside package regexp) before matching the path. Without the fault (--fault-off) the
//	             rules are compiled once, when the workspace's rules are loaded.
package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

func init() {
	register("regex_rules", "(*linkStore).applyCustomRules compiles a workspace's ~80 regexp rules per redirect",
		func(e *env) http.Handler { return newLinks(e) })
}

type linkStore struct {
	e        *env
	rules    map[int][]string         // workspace -> rule patterns, as written in the dashboard
	compiled map[int][]*regexp.Regexp // --fault-off: compiled at load
}

func newLinks(e *env) http.Handler {
	s := &linkStore{e: e, rules: map[int][]string{}, compiled: map[int][]*regexp.Regexp{}}
	for ws := 0; ws < 1000; ws += 25 {
		for i := 0; i < 80; i++ {
			s.rules[ws] = append(s.rules[ws], fmt.Sprintf(
				`^/(?:promo|campaign|launch|utm)-%d-%d/([A-Za-z]+)-(\d{2,6})(?:/(?:[a-z0-9_-]+))*(?:\?ref=([a-z0-9_-]{3,32}))?$`,
				ws, i))
		}
		if e.cfg.faultOff {
			for _, p := range s.rules[ws] {
				s.compiled[ws] = append(s.compiled[ws], regexp.MustCompile(p))
			}
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/r/", func(w http.ResponseWriter, r *http.Request) {
		ws, _ := strconv.Atoi(r.URL.Query().Get("ws"))
		dest := s.resolve(ws, strings.TrimPrefix(r.URL.Path, "/r/"), r.URL.Query().Get("path"))
		http.Redirect(w, r, dest, http.StatusFound)
	})
	mux.HandleFunc("/api/links", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST ws=N&url=U", http.StatusMethodNotAllowed)
			return
		}
		e.plant.request(false)
		code := checksum([]byte(r.FormValue("url")+r.FormValue("ws")), 400)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"code":"%08x"}`, code)
	})
	return doLabels(labelsDecoded, mux)
}

// resolve returns where code of workspace ws points, rewritten by the workspace's rules if it has any.
func (s *linkStore) resolve(ws int, code, path string) string {
	dest := fmt.Sprintf("https://example.com/%d/%08x", ws, checksum([]byte(code), 300))
	if _, ok := s.rules[ws]; !ok {
		s.e.plant.request(false)
		return dest
	}
	s.e.plant.request(!s.e.cfg.faultOff)
	return s.applyCustomRules(ws, dest, path)
}

// applyCustomRules rewrites dest with the first of the workspace's rules that matches path.
//
//go:noinline
func (s *linkStore) applyCustomRules(ws int, dest, path string) string {
	res := s.compiled[ws]
	if !s.e.cfg.faultOff {
		res = nil
		for _, p := range s.rules[ws] {
			re, err := regexp.Compile(p)
			if err != nil {
				continue
			}
			res = append(res, re)
		}
	}
	for _, re := range res {
		if m := re.FindStringSubmatch(path); m != nil {
			return dest + "/" + m[1] + "?n=" + m[2]
		}
	}
	return dest
}

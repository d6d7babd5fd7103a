// acl.go - a document service's sharing checks: GET /api/documents/{id}?user=U answers a document when
// one of the groups on its ACL has the user, directly or through nested groups; GET /api/groups/{id}
// lists a group's direct members. Groups live in a directory synced from the customers' identity
// providers; enterprise customers (every 20th org) nest department groups in deep layered hierarchies
// where every group includes all the groups of the next layer. One ServeHTTP with a path switch behind a
// pprof.Do middleware (baggage decoded + trace ids).
//
//	ha_acl: (*directory).reaches answers "is the user in this group" by a depth-first walk of the nested
//	        groups with neither a visited set nor a cache, so a layered hierarchy (9 layers of 4) is walked
//	        once per path: ~87 000 group visits per ACL entry. Documents of enterprise orgs (~5 % of
//	        document reads) list three department trees before the all-staff group that admits the user:
//	        tens of ms of CPU in reaches and the directory's lookup helper (which every request calls).
//	        Without the fault (--fault-off) reaches walks each group once (a visited set).
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

func init() {
	register("ha_acl", "(*directory).reaches walks enterprise orgs' layered nested groups once per path, with no visited set",
		func(e *env) http.Handler { return newDocService(e) })
}

type group struct {
	id       string
	members  []int    // user ids
	subgroup []string // nested group ids
}

type directory struct {
	faultOff bool
	groups   map[string]*group
}

type docService struct {
	e   *env
	dir *directory
	acl map[int][]string // org -> the groups its documents are shared with, in order
}

const (
	aclOrgs   = 50
	aclLayers = 10
	aclWidth  = 4
)

func isEnterpriseOrg(org int) bool { return org%20 == 7 }

func newDocService(e *env) http.Handler {
	d := &directory{faultOff: e.cfg.faultOff, groups: map[string]*group{}}
	s := &docService{e: e, dir: d, acl: map[int][]string{}}
	for org := 0; org < aclOrgs; org++ {
		all := &group{id: fmt.Sprintf("org%d/all-staff", org)}
		for u := 0; u < 200; u++ {
			all.members = append(all.members, org*1000+u)
		}
		d.groups[all.id] = all
		layers, width := 2, 2
		if isEnterpriseOrg(org) {
			layers, width = aclLayers, aclWidth
		}
		var tops []string
		for dept := 0; dept < 3; dept++ {
			for l := 0; l < layers; l++ {
				for w := 0; w < width; w++ {
					g := &group{id: fmt.Sprintf("org%d/dept%d/l%d/g%d", org, dept, l, w)}
					for m := 0; m < 30; m++ { // contractors and service accounts, not the org's staff
						g.members = append(g.members, 900000+org*1000+dept*100+l*10+m)
					}
					if l+1 < layers {
						for w2 := 0; w2 < width; w2++ {
							g.subgroup = append(g.subgroup, fmt.Sprintf("org%d/dept%d/l%d/g%d", org, dept, l+1, w2))
						}
					}
					d.groups[g.id] = g
				}
			}
			tops = append(tops, fmt.Sprintf("org%d/dept%d/l0/g0", org, dept))
		}
		s.acl[org] = append(tops, all.id)
	}
	return doLabels(labelsDecoded, s)
}

func (s *docService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/documents/"):
		doc, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/api/documents/"))
		user, err2 := strconv.Atoi(r.URL.Query().Get("user"))
		if err != nil || err2 != nil || doc < 0 {
			http.Error(w, "GET /api/documents/{id}?user=U", http.StatusBadRequest)
			return
		}
		org := doc % aclOrgs
		s.e.plant.request(isEnterpriseOrg(org) && !s.e.cfg.faultOff)
		if !s.allowed(org, user) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, `{"id":%d,"org":%d,"title":"document %d"}`, doc, org, doc)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/groups/"):
		s.e.plant.request(false)
		g := s.dir.group(strings.TrimPrefix(r.URL.Path, "/api/groups/"))
		if g == nil {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"id":%q,"members":%d,"groups":%d}`, g.id, len(g.members), len(g.subgroup))
	default:
		http.NotFound(w, r)
	}
}

// allowed: one of the groups on the org's ACL has the user.
func (s *docService) allowed(org, user int) bool {
	for _, gid := range s.acl[org] {
		if s.dir.reaches(gid, user, map[string]bool{}) {
			return true
		}
	}
	return false
}

// group looks a group up by id.
//
//go:noinline
func (d *directory) group(id string) *group {
	return d.groups[id]
}

// reaches reports whether the user is in the group or in a group nested in it.
//
//go:noinline
func (d *directory) reaches(gid string, user int, visited map[string]bool) bool {
	if d.faultOff {
		if visited[gid] {
			return false
		}
		visited[gid] = true
	}
	g := d.group(gid)
	if g == nil {
		return false
	}
	for _, m := range g.members {
		if m == user {
			return true
		}
	}
	for _, sub := range g.subgroup {
		if d.reaches(sub, user, visited) {
			return true
		}
	}
	return false
}

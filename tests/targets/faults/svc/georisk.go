// georisk.go - a login risk service: before a login goes through, the identity service asks POST
// /api/login/check {"user", "ip"} for a risk verdict, and the support console looks addresses up with
// GET /api/geo?ip=A. Both resolve the client address to its network (ASN, country) in an in-memory
// table built at start from the registry's CSV export; every request also checks the address against
// the office allowlist with the same CIDR matcher (matchCIDR). A pprof.Do middleware labels
// OpenTelemetry style (http.method, http.route, span_id).
//
//	w6b_geoip: the IPv4 table is a sorted slice searched by binary search; the IPv6 table (added later,
//	           "few users on v6") is a container/list kept in registry order, and (*geoTable).lookupV6
//	           walks it from the front, matching each entry's CIDR string with matchCIDR, until it
//	           finds the client's network: ~360 000 networks, so a v6 client (~8 % of requests) costs
//	           ~180 000 CIDR parses on average. Without the fault (--fault-off, and w6b_geoip_control) the v6
//	           networks are parsed once at start into a sorted slice and searched like the v4 ones.
package main

import (
	"container/list"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"sync/atomic"
)

func init() {
	register("w6b_geoip", "(*geoTable).lookupV6 walks a 360 000-network linked list, parsing each CIDR, for every IPv6 client",
		func(e *env) http.Handler { return newGeoRisk(e, e.cfg.faultOff) })
	register("w6b_geoip_control", "w6b_geoip's login risk service with the IPv6 table searched like the IPv4 one (no fault)",
		func(e *env) http.Handler { return newGeoRisk(e, true) })
}

const geoV4Nets, geoV6Nets = 60000, 360000

type geoNet struct {
	cidr    string
	prefix  netip.Prefix
	asn     int
	country string
}

type geoTable struct {
	v4     []geoNet   // sorted by address
	v6     []geoNet   // sorted by address (the fixed code)
	v6list *list.List // of *geoNet, registry order (the planted fault)
	sorted bool       // v6 in the slice
}

var geoCountries = []string{"DE", "FR", "US", "BR", "IN", "JP", "NG", "PL", "SE", "AU", "CA", "KR"}

// v6Net is the CIDR of the i-th IPv6 network of the export: 2400:0000::/32 upwards.
func v6Net(i int) string { return fmt.Sprintf("%x:%x::/32", 0x2400+(i>>16), i&0xffff) }

// v4Net is the CIDR of the i-th IPv4 network: /24s from 16.0.0.0 upwards.
func v4Net(i int) string { return fmt.Sprintf("%d.%d.%d.0/24", 16+(i>>16), (i>>8)&0xff, i&0xff) }

func loadGeoTable(sorted bool) *geoTable {
	t := &geoTable{sorted: sorted, v6list: list.New()}
	for i := 0; i < geoV4Nets; i++ {
		c := v4Net(i)
		t.v4 = append(t.v4, geoNet{c, netip.MustParsePrefix(c), 64512 + i%1000, geoCountries[i%len(geoCountries)]})
	}
	for i := 0; i < geoV6Nets; i++ {
		c := v6Net(i)
		n := geoNet{cidr: c, asn: 131072 + i%5000, country: geoCountries[(i/7)%len(geoCountries)]}
		if sorted {
			n.prefix = netip.MustParsePrefix(c)
			t.v6 = append(t.v6, n)
		} else {
			t.v6list.PushBack(&n)
		}
	}
	return t
}

// matchCIDR reports whether addr lies in the network written as cidr. The allowlist, the tables and
// the console's lookups all use it.
//
//go:noinline
func matchCIDR(cidr string, addr netip.Addr) bool {
	p, err := netip.ParsePrefix(cidr)
	return err == nil && p.Contains(addr)
}

// searchNets finds addr's network in a table sorted by address.
func searchNets(nets []geoNet, addr netip.Addr) *geoNet {
	i := sort.Search(len(nets), func(i int) bool { return addr.Less(nets[i].prefix.Addr()) })
	if i > 0 && matchCIDR(nets[i-1].cidr, addr) {
		return &nets[i-1]
	}
	return nil
}

// lookupV6 finds an IPv6 address's network.
//
//go:noinline
func (t *geoTable) lookupV6(addr netip.Addr) *geoNet {
	if t.sorted {
		return searchNets(t.v6, addr)
	}
	for el := t.v6list.Front(); el != nil; el = el.Next() {
		if n := el.Value.(*geoNet); matchCIDR(n.cidr, addr) {
			return n
		}
	}
	return nil
}

// Lookup finds the network of a client address, v4 or v6.
//
//go:noinline
func (t *geoTable) Lookup(addr netip.Addr) *geoNet {
	if addr.Is4() {
		return searchNets(t.v4, addr)
	}
	return t.lookupV6(addr)
}

type geoRisk struct {
	e        *env
	table    *geoTable
	allow    []string
	checks   int64
	faultyOn bool
}

var officeNets = []string{"10.0.0.0/8", "192.168.10.0/24", "172.16.0.0/12", "fd00:1::/32", "fd00:2::/32",
	"203.0.113.0/24", "198.51.100.0/24", "2001:db8:10::/48", "2001:db8:20::/48", "100.64.0.0/10"}

func newGeoRisk(e *env, fixed bool) http.Handler {
	g := &geoRisk{e: e, table: loadGeoTable(fixed), allow: officeNets, faultyOn: !fixed}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/login/check", g.check)
	mux.HandleFunc("/api/geo", g.geo)
	return doLabels(labelsOTel, mux)
}

func (g *geoRisk) office(addr netip.Addr) bool {
	for _, c := range g.allow {
		if matchCIDR(c, addr) {
			return true
		}
	}
	return false
}

func (g *geoRisk) check(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User int    `json:"user"`
		IP   string `json:"ip"`
	}
	addr, err := netip.Addr{}, json.NewDecoder(r.Body).Decode(&in)
	if err == nil {
		addr, err = netip.ParseAddr(in.IP)
	}
	if r.Method != http.MethodPost || err != nil {
		http.Error(w, `POST {"user":N,"ip":"A"}`, http.StatusBadRequest)
		return
	}
	g.e.plant.request(g.faultyOn && addr.Is6())
	atomic.AddInt64(&g.checks, 1)
	score, reasons := 0, []string{}
	if g.office(addr) {
		reasons = append(reasons, "office network")
	} else if n := g.table.Lookup(addr); n == nil {
		score, reasons = 60, append(reasons, "unknown network")
	} else {
		if n.country != geoCountries[in.User%len(geoCountries)] {
			score, reasons = score+30, append(reasons, "country "+n.country+" differs from the account's")
		}
		if mix(uint64(in.User)<<20|uint64(n.asn), 400)%10 == 0 {
			score, reasons = score+20, append(reasons, "ASN seen in recent fraud")
		}
	}
	verdict := "allow"
	if score >= 50 {
		verdict = "challenge"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]interface{}{"user": in.User, "score": score, "verdict": verdict, "reasons": reasons})
}

func (g *geoRisk) geo(w http.ResponseWriter, r *http.Request) {
	addr, err := netip.ParseAddr(r.URL.Query().Get("ip"))
	if err != nil {
		http.Error(w, "GET ?ip=A", http.StatusBadRequest)
		return
	}
	g.e.plant.request(g.faultyOn && addr.Is6())
	out := map[string]interface{}{"ip": addr.String(), "office": g.office(addr)}
	if n := g.table.Lookup(addr); n != nil {
		out["network"], out["asn"], out["country"] = n.cidr, n.asn, n.country
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

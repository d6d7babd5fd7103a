// dbpool.go - an order service in front of a database reached through a small connection pool
// (MaxOpenConns 2, as a shared database's quota often forces): each query takes a connection from the
// pool, runs on the database (the dependency process, ~1 ms) and gives it back. Customers' orders and
// order details are one or two queries; the finance team's monthly report is rare. Labels are set
// inline by each handler (the k6 name only).
//
//	conn_pool: (*reportRepo).monthlyTotals takes one connection and, holding it, queries the month one
//	           day at a time (31 queries of ~4 ms, ~130 ms): with 5 % of requests being reports, both
//	           connections are in reports ~10 % of the time, and every other query waits in
//	           (*connPool).acquire for one to come back. Without the fault (--fault-off) the report is
//	           one aggregate query (~4 ms).
package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

func init() {
	register("conn_pool", "(*reportRepo).monthlyTotals holds a pooled connection across 31 queries; others wait in acquire",
		func(e *env) http.Handler { return newOrderDB(e) })
}

type dbConn struct{ id int }

// connPool hands out at most cap(free) connections; acquire waits for one to be released.
type connPool struct{ free chan *dbConn }

func newConnPool(n int) *connPool {
	p := &connPool{free: make(chan *dbConn, n)}
	for i := 0; i < n; i++ {
		p.free <- &dbConn{id: i}
	}
	return p
}

//go:noinline
func (p *connPool) acquire(ctx context.Context) (*dbConn, error) {
	select {
	case c := <-p.free:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *connPool) release(c *dbConn) { p.free <- c }

// query runs one statement on c (a round trip to the database taking ms milliseconds).
func query(ctx context.Context, e *env, c *dbConn, ms int, stmt string) (int, error) {
	err := send(ctx, dbClient, fmt.Sprintf("%s/wait?ms=%d&conn=%d&q=%s", e.dependency(), ms, c.id, stmt))
	return int(checksum([]byte(stmt), 50) % 1000), err
}

var dbClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// queryOne runs one statement on a pooled connection.
func queryOne(ctx context.Context, e *env, pool *connPool, ms int, stmt string) (int, error) {
	c, err := pool.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer pool.release(c)
	return query(ctx, e, c, ms, stmt)
}

type reportRepo struct {
	e    *env
	pool *connPool
}

// monthlyTotals sums a month's revenue.
//
//go:noinline
func (r *reportRepo) monthlyTotals(ctx context.Context, month int) (int, error) {
	if r.e.cfg.faultOff {
		return queryOne(ctx, r.e, r.pool, 4, fmt.Sprintf("sum-month-%d", month))
	}
	c, err := r.pool.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer r.pool.release(c)
	total := 0
	for day := 1; day <= 31; day++ {
		n, err := query(ctx, r.e, c, 4, fmt.Sprintf("sum-day-%d-%d", month, day))
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func newOrderDB(e *env) http.Handler {
	pool := newConnPool(2)
	reports := &reportRepo{e: e, pool: pool}
	e.dependency()
	handle := func(w http.ResponseWriter, r *http.Request, run func(ctx context.Context, id int) (int, error)) {
		r, restore := setLabels(r, labelsK6)
		defer restore()
		id, _ := strconv.Atoi(r.URL.Query().Get("id"))
		n, err := run(r.Context(), id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, `{"id":%d,"value":%d}`, id, n)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/orders", func(w http.ResponseWriter, r *http.Request) {
		handle(w, r, func(ctx context.Context, id int) (int, error) {
			e.plant.request(false)
			return queryOne(ctx, e, pool, 1, fmt.Sprintf("order-%d", id))
		})
	})
	mux.HandleFunc("/api/customers", func(w http.ResponseWriter, r *http.Request) {
		handle(w, r, func(ctx context.Context, id int) (int, error) {
			e.plant.request(false)
			a, err := queryOne(ctx, e, pool, 1, fmt.Sprintf("customer-%d", id))
			if err != nil {
				return 0, err
			}
			b, err := queryOne(ctx, e, pool, 1, fmt.Sprintf("customer-orders-%d", id))
			return a + b, err
		})
	})
	mux.HandleFunc("/api/reports/monthly", func(w http.ResponseWriter, r *http.Request) {
		handle(w, r, func(ctx context.Context, id int) (int, error) {
			e.plant.request(!e.cfg.faultOff)
			return reports.monthlyTotals(ctx, id%12+1)
		})
	})
	return mux
}

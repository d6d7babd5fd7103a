// store.go - the shop's catalogue, sessions, carts and orders: the normal, cheap request path.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

const (
	catalogueSize = 500
	pageSize      = 20
	maxBody       = 1 << 20
	maxCartItems  = 200
)

type book struct {
	ID     int     `json:"id"`
	Title  string  `json:"title"`
	Author string  `json:"author"`
	Price  float64 `json:"price"`
	Stock  int     `json:"stock"`
}

type item struct {
	BookID int `json:"book_id"`
	Qty    int `json:"qty"`
}

type session struct {
	user string
	mu   sync.Mutex
	cart []item
}

type shop struct {
	cfg      config
	books    []book
	mu       sync.RWMutex // guards sessions
	sessions map[string]*session
	orderSeq int64
}

func newShop(c config) *shop {
	s := &shop{cfg: c, sessions: make(map[string]*session)}
	for i := 1; i <= catalogueSize; i++ {
		s.books = append(s.books, book{ID: i, Title: fmt.Sprintf("Book %d", i),
			Author: fmt.Sprintf("Author %d", i%37), Price: float64(5+i%40) + 0.99, Stock: 1000000})
	}
	return s
}

func (s *shop) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/session", labelled("session", s.handleSession))
	mux.HandleFunc("/api/books", labelled("books", s.handleBooks))
	mux.HandleFunc("/api/books/", labelled("book", s.handleBook))
	mux.HandleFunc("/api/cart", labelled("cart", s.handleCart))
	mux.HandleFunc("/api/orders", labelled("orders", s.handleOrders))
	mux.HandleFunc("/debug/count", handleCount)
	return mux
}

func readJSON(r *http.Request, v interface{}) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return nil
	}
	return json.Unmarshal(body, v)
}

func (s *shop) handleSession(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		httpError(w, http.StatusMethodNotAllowed, "POST only")
		return
	}
	var req struct {
		User interface{} `json:"user"`
	}
	if err := readJSON(r, &req); err != nil {
		httpError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	token := hex.EncodeToString(raw[:])
	s.mu.Lock()
	s.sessions[token] = &session{user: fmt.Sprint(req.User)}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "session", Value: token, Path: "/", HttpOnly: true})
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
}

// sessionOf finds the caller's session from "Authorization: Bearer <token>" or the session cookie.
func (s *shop) sessionOf(r *http.Request) *session {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		if c, err := r.Cookie("session"); err == nil {
			token = c.Value
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sessions[token]
}

func (s *shop) handleBooks(w http.ResponseWriter, r *http.Request) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page < 1 {
		page = 1
	}
	start := ((page - 1) * pageSize) % catalogueSize
	end := start + pageSize
	if end > catalogueSize {
		end = catalogueSize
	}
	writeJSON(w, http.StatusOK, map[string]interface{}{"page": page, "books": s.books[start:end]})
}

func (s *shop) handleBook(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/api/books/"))
	if err != nil || id < 1 || id > catalogueSize {
		httpError(w, http.StatusNotFound, "no such book")
		return
	}
	writeJSON(w, http.StatusOK, s.books[id-1])
}

func (s *shop) handleCart(w http.ResponseWriter, r *http.Request) {
	sess := s.sessionOf(r)
	if sess == nil {
		httpError(w, http.StatusUnauthorized, "log in first (POST /api/session)")
		return
	}
	if r.Method == http.MethodGet {
		countRoute("cart_get")
		sess.mu.Lock()
		cart := append([]item(nil), sess.cart...)
		sess.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]interface{}{"items": cart})
		return
	}
	if r.Method != http.MethodPost {
		httpError(w, http.StatusMethodNotAllowed, "GET or POST")
		return
	}
	countRoute("cart_add")
	var it item
	if err := readJSON(r, &it); err != nil || it.BookID < 1 || it.BookID > catalogueSize {
		httpError(w, http.StatusBadRequest, "want {\"book_id\": 1..500, \"qty\": n}")
		return
	}
	if it.Qty < 1 {
		it.Qty = 1
	}
	if !inventoryReserve(s, it.BookID, it.Qty) {
		httpError(w, http.StatusConflict, "out of stock")
		return
	}
	sess.mu.Lock()
	if len(sess.cart) < maxCartItems {
		sess.cart = append(sess.cart, it)
	}
	n := len(sess.cart)
	sess.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]int{"items": n})
}

func (s *shop) handleOrders(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		httpError(w, http.StatusMethodNotAllowed, "POST only")
		return
	}
	sess := s.sessionOf(r)
	if sess == nil {
		httpError(w, http.StatusUnauthorized, "log in first (POST /api/session)")
		return
	}
	var req struct {
		Items []item `json:"items"`
	}
	if err := readJSON(r, &req); err != nil || len(req.Items) > maxCartItems {
		httpError(w, http.StatusBadRequest, "want {\"items\": [{\"book_id\": n, \"qty\": n}, ...]}")
		return
	}
	sess.mu.Lock()
	items := append(req.Items, sess.cart...)
	sess.cart = nil
	sess.mu.Unlock()
	if len(items) == 0 {
		httpError(w, http.StatusBadRequest, "empty cart")
		return
	}
	total := 0.0
	for _, it := range items {
		if it.BookID >= 1 && it.BookID <= catalogueSize {
			total += s.books[it.BookID-1].Price * float64(it.Qty)
		}
	}
	score := fraudScore(items, s.cfg.faultCart, s.cfg.largeCart)
	id := atomic.AddInt64(&s.orderSeq, 1)
	writeJSON(w, http.StatusCreated, map[string]interface{}{"order_id": id, "items": len(items),
		"total": total, "fraud_score": score})
}

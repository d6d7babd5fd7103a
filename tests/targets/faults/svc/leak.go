// leak.go - a steady leak for the report's leak finding (--leak-kb): every GET /api/products of the
// helper and control services keeps a buffer that is never released, allocated in main.rememberPage.
package main

import "sync"

var pageMemo struct {
	sync.Mutex
	pages [][]byte
}

// rememberPage keeps kb KiB for good (the planted leak).
//
//go:noinline
func rememberPage(kb int) {
	b := make([]byte, kb<<10)
	for i := range b {
		b[i] = byte(i)
	}
	pageMemo.Lock()
	pageMemo.pages = append(pageMemo.pages, b)
	pageMemo.Unlock()
}

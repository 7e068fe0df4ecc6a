package site

import (
	"net/http"
	"sync/atomic"
)

// SwapHandler serves through a handler that can be replaced while it serves (a reload of
// the config): each request runs to its end on the handler it started on, so a long
// download goes on while new requests see the new mirrors.
type SwapHandler struct {
	h atomic.Pointer[http.Handler]
}

// NewSwapHandler serves through h until the next Swap.
func NewSwapHandler(h http.Handler) *SwapHandler {
	s := &SwapHandler{}
	s.Swap(h)
	return s
}

// Swap makes h serve the requests that arrive from now on.
func (s *SwapHandler) Swap(h http.Handler) { s.h.Store(&h) }

func (s *SwapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

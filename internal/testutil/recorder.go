package testutil

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Recorder is the handler of a second origin in credential tests (a server on 127.0.0.1,
// another port: another origin): it notes every request that carries credentials
// (Authorization, Proxy-Authorization, Cookie, or Secret anywhere in the body) and then
// serves Next (404 when nil).
type Recorder struct {
	Next   http.Handler
	Secret string

	mu     sync.Mutex
	hits   int
	leaked []string
}

func (rc *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var found []string
	for _, k := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		if v := r.Header.Get(k); v != "" {
			found = append(found, r.Method+" "+r.URL.Path+": "+k+": "+v)
		}
	}
	if rc.Secret != "" && r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if strings.Contains(string(body), rc.Secret) {
			found = append(found, r.Method+" "+r.URL.Path+": body: "+string(body))
		}
	}
	rc.mu.Lock()
	rc.hits++
	rc.leaked = append(rc.leaked, found...)
	rc.mu.Unlock()
	if rc.Next == nil {
		http.NotFound(w, r)
		return
	}
	rc.Next.ServeHTTP(w, r)
}

// Hits counts the requests served.
func (rc *Recorder) Hits() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.hits
}

// Leaked lists the requests that carried credentials, as "METHOD path: what".
func (rc *Recorder) Leaked() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.leaked...)
}

package site

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"time"
)

//go:embed status.html
var statusHTML string

// statusPage is the page at /: one section per mirror, red when expired or expiring
// within FreshnessAlarm or when the last sync failed. Self-contained (CSS inline, no
// scripts), so it works inside the gap.
var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"human": HumanBytes,
	"short": func(d string) string {
		if len(d) > 19 {
			return d[:19] // sha256: and 12 hex digits
		}
		return d
	},
	"signer": func(s Signature) string {
		switch s.By {
		case "upstream":
			return "the upstream's key (pristine)" + keyringNote(s.Keyring)
		case "operator":
			return "the operator's key (re-signed)" + keyringNote(s.Keyring)
		}
		return "no signed metadata: each item checked against the upstream index's digest"
	},
	"countdown": func(secs *int64) string {
		if secs == nil {
			return ""
		}
		d := time.Duration(*secs) * time.Second
		if d <= 0 {
			return "expired " + fmtDuration(-d) + " ago"
		}
		return fmtDuration(d) + " left"
	},
}).Parse(statusHTML))

func keyringNote(k string) string {
	if k == "" {
		return ""
	}
	return ", " + k
}

// fmtDuration is d in days and hours, or hours and minutes below a day.
func fmtDuration(d time.Duration) string {
	if d >= 24*time.Hour {
		return fmt.Sprintf("%dd %dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	}
	return fmt.Sprintf("%dh %dm", d/time.Hour, d%time.Hour/time.Minute)
}

// report is the status as the client of r sees the mirror: at external_url when
// configured, else at the address the request arrived on (never its Host header, which
// any client can forge).
func (s *Server) report(r *http.Request) (*StatusReport, error) {
	opt := ReportOptions{URL: "http://localhost"}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		opt.URL = scheme + "://" + a.String()
		if ta, ok := a.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() {
			opt.Addresses = []net.IP{ta.IP}
		}
	}
	return s.cfg.report(r.Context(), s.env.Store, opt, &s.items)
}

// serveStatusPage renders the status page at /.
func (s *Server) serveStatusPage(w http.ResponseWriter, r *http.Request) {
	rep, err := s.report(r)
	if err != nil {
		http.Error(w, "airgap: status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := statusPage.Execute(&b, rep); err != nil {
		http.Error(w, "airgap: status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b.Bytes())
}

// serveStatusJSON serves the StatusReport at /status.json.
func (s *Server) serveStatusJSON(w http.ResponseWriter, r *http.Request) {
	rep, err := s.report(r)
	if err != nil {
		http.Error(w, "airgap: status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(rep)
}

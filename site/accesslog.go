package site

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// writeAccessLog writes one line per request in nginx's "combined" format, which log tools
// (goaccess, awstats, fail2ban, Loki's patterns) read as they are, followed by two fields
// nginx users commonly add: the Host the request named (serve answers several names) and
// the time taken in seconds:
//
//	127.0.0.1 - - [03/Dec/2026:13:45:33 +0000] "GET /apt/ubuntu/dists/noble/InRelease HTTP/1.1" 200 1024 "-" "Debian APT-HTTP/1.3 (2.7.14)" "mirror.internal" 0.000123
//
// Each line is one Write of a pooled buffer: hand it a buffered writer (a write(2) per
// request costs more than serving a small file). It formats with strconv, not slog, for
// the same reason.
func writeAccessLog(w io.Writer, r *http.Request, status int, bytes int64, start time.Time) {
	took := time.Since(start)
	bp := logBufs.Get().(*[]byte)
	b := (*bp)[:0]
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	b = appendField(b, host)
	b = append(b, " - - ["...)
	b = append(b, timestamp(start)...)
	b = append(b, "] \""...)
	b = appendEscaped(b, r.Method)
	b = append(b, ' ')
	uri := r.RequestURI
	if uri == "" { // a request made in-process, not read from a connection
		uri = r.URL.RequestURI()
	}
	b = appendEscaped(b, uri)
	b = append(b, ' ')
	b = appendEscaped(b, r.Proto)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, bytes, 10)
	b = appendQuoted(b, r.Referer())
	b = appendQuoted(b, r.UserAgent())
	b = appendQuoted(b, r.Host)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, took.Seconds(), 'f', 6, 64)
	b = append(b, '\n')
	_, _ = w.Write(b)
	*bp = b
	logBufs.Put(bp)
}

var logBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// logStamp is the current second as nginx's $time_local, formatted once a second.
type logStamp struct {
	sec  int64
	text string
}

var lastStamp atomic.Pointer[logStamp]

func timestamp(t time.Time) string {
	sec := t.Unix()
	if s := lastStamp.Load(); s != nil && s.sec == sec {
		return s.text
	}
	s := &logStamp{sec: sec, text: t.Format("02/Jan/2006:15:04:05 -0700")}
	lastStamp.Store(s)
	return s.text
}

// appendQuoted appends a space and s in double quotes, "-" when empty (as nginx does).
func appendQuoted(b []byte, s string) []byte {
	b = append(b, " \""...)
	b = appendField(b, s)
	return append(b, '"')
}

func appendField(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendEscaped(b, s)
}

// appendEscaped appends s with every byte outside printable ASCII, '"' and '\\' escaped
// as \xHH, as nginx escapes: a client cannot forge a second log line, end a field early
// or send a terminal escape to whoever reads the log.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b = append(b, c)
		} else {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
		}
	}
	return b
}

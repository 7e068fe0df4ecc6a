package maasclient

import (
	"strings"
	"testing"
	"time"
)

func FuzzParseAPIKey(f *testing.F) {
	f.Add("ck:tk:ts")
	f.Add(" a:b:c\n")
	f.Add("a::c")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseAPIKey(s)
		if err != nil {
			return
		}
		if c.ConsumerKey == "" || c.TokenKey == "" || c.TokenSecret == "" {
			t.Fatalf("empty part accepted: %q", s)
		}
		again, err := ParseAPIKey(c.String())
		if err != nil || again != c {
			t.Fatalf("round trip of %q: %v %v", s, again, err)
		}
		h, err := c.AuthorizationHeader(time.Unix(0, 0))
		if err != nil || strings.ContainsAny(h, "\r\n") {
			t.Fatalf("header %q: %v", h, err)
		}
	})
}

func FuzzParseFieldErrors(f *testing.F) {
	f.Add([]byte(`{"url": ["This field is required."]}`))
	f.Add([]byte(`{"__all__": "x", "n": [1, {"a": 2}], "z": null}`))
	f.Add([]byte(`Unrecognised signature`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseFieldErrors(b)
		if err == nil && m == nil {
			t.Fatal("nil map without error")
		}
		e := &APIError{Method: "POST", URL: "u", StatusCode: 400, Body: string(b), Fields: m}
		_ = e.Error()
	})
}

func FuzzNormalizeURL(f *testing.F) {
	f.Add("http://10.0.0.2:5240/MAAS")
	f.Add("https://maas:5443/MAAS/api/2.0/")
	f.Add("http://h/%2e%2e/")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := NormalizeURL(s)
		if err != nil {
			return
		}
		if !strings.HasSuffix(u.Path, "/api/2.0/") || (u.Scheme != "http" && u.Scheme != "https") {
			t.Fatalf("%q -> %v", s, u)
		}
		again, err := NormalizeURL(u.String())
		if err != nil || again.String() != u.String() {
			t.Fatalf("not idempotent: %q -> %q -> %v %v", s, u, again, err)
		}
	})
}

package fetch

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Credentials stay on the origins they were configured for (RFC 6454: scheme, host and
// port). This file is the one place that decides it, for every kind with credentials:
// Request.Credentials for what Fetch sends, ScopeCredentials for a transport that
// authenticates requests itself (a registry's token exchange).

// Origin returns u's origin, "scheme://host:port" in lower case with the scheme's default
// port filled in; "" when u is not an http or https URL with a host that can be written
// in one. Two URLs with the same origin are the same server to a browser's same-origin
// rule; https and http on one host and port are not.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme != "http" && scheme != "https", u.Hostname() == "":
		return ""
	case port == "" && scheme == "https":
		port = "443"
	case port == "":
		port = "80"
	}
	o := (&url.URL{Scheme: scheme, Host: net.JoinHostPort(strings.ToLower(u.Hostname()), port)}).String() // escapes an IPv6 zone
	if _, err := url.Parse(o); err != nil {
		return "" // an IPv6 zone of bytes that net/url parses but refuses to read back escaped
	}
	return o
}

// sensitive headers are removed from every request credentials may not go with, whoever
// set them (a redirect copies the first request's headers).
var sensitive = []string{"Authorization", "Proxy-Authorization", "Cookie", "Cookie2"}

// originsOf returns the origins of raw URLs; an entry that is not an http(s) URL is an
// error (it would silently never match).
func originsOf(raw []string) ([]string, error) {
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		u, err := url.Parse(r)
		o := ""
		if err == nil {
			o = Origin(u)
		}
		if o == "" {
			return nil, fmt.Errorf("%w: credential origin %q is not an http(s) URL", ErrUnsupportedURL, redact(r))
		}
		out = append(out, o)
	}
	return out, nil
}

// credentials is the credential scope of one Fetch: what Request.Credentials holds and
// where it may go. It travels in the request's context so that checkRedirect applies it
// to every hop.
type credentials struct {
	header  http.Header
	origins []string
}

type credentialsKey struct{}

// newCredentials returns the scope of req (nil when it has no Credentials); with no
// CredentialOrigins the credentials go to the origin of u only.
func newCredentials(req Request, u *url.URL) (*credentials, error) {
	if len(req.Credentials) == 0 {
		return nil, nil
	}
	allowed, err := originsOf(req.CredentialOrigins)
	if err != nil {
		return nil, err
	}
	if len(allowed) == 0 {
		allowed = []string{Origin(u)} // "" for a URL of no origin: allows nothing
	}
	return &credentials{header: req.Credentials, origins: allowed}, nil
}

// apply sets the credentials on h, a request to u, when u's origin is allowed, and
// removes them (and any other sensitive header) otherwise.
func (c *credentials) apply(h http.Header, u *url.URL) {
	if c == nil {
		return
	}
	for k := range c.header {
		h.Del(k)
	}
	if o := Origin(u); o == "" || !slices.Contains(c.origins, o) {
		for _, k := range sensitive {
			h.Del(k)
		}
		return
	}
	for k, vs := range c.header {
		h[http.CanonicalHeaderKey(k)] = slices.Clone(vs)
	}
}

// withCredentials returns ctx carrying the credential scope of req, a request to u.
func withCredentials(ctx context.Context, req Request, u *url.URL) (context.Context, error) {
	creds, err := newCredentials(req, u)
	if err != nil || creds == nil {
		return ctx, err
	}
	return context.WithValue(ctx, credentialsKey{}, creds), nil
}

func credentialsOf(ctx context.Context) *credentials {
	c, _ := ctx.Value(credentialsKey{}).(*credentials)
	return c
}

// ScopeCredentials returns a RoundTripper for credentials that a transport adds itself (a
// registry's token authentication): a request whose URL's origin (Origin) is one of
// origins goes through with; any other goes through without, stripped of Authorization
// and Cookie headers (which a redirect copies from the first request). It is the rule
// of Request.Credentials: a link or redirect to another origin, https to http on the
// same host and port included, goes without them. origins are URLs; only their origin
// counts.
func ScopeCredentials(with, without http.RoundTripper, origins ...string) (http.RoundTripper, error) {
	if len(origins) == 0 {
		return nil, fmt.Errorf("%w: no credential origin", ErrUnsupportedURL)
	}
	allowed, err := originsOf(origins)
	if err != nil {
		return nil, err
	}
	return &scoped{with: with, without: without, origins: allowed}, nil
}

type scoped struct {
	with, without http.RoundTripper
	origins       []string
}

func (s *scoped) RoundTrip(req *http.Request) (*http.Response, error) {
	if slices.Contains(s.origins, Origin(req.URL)) {
		return s.with.RoundTrip(req)
	}
	if slices.ContainsFunc(sensitive, func(k string) bool { return req.Header.Get(k) != "" }) {
		req = req.Clone(req.Context()) // a RoundTripper leaves the caller's request alone
		for _, k := range sensitive {
			req.Header.Del(k)
		}
	}
	return s.without.RoundTrip(req)
}

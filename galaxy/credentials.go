package galaxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/airgapkit/airgap/store/fetch"
)

// Credentials stay on the origins they were configured for (RFC 6454: scheme, host and
// port). The token goes to the upstream's origin only (its API, and the artifacts and role
// archives it serves itself): a download_url or role archive on another origin, or a
// redirect to one, is fetched without it, plain http on the same host included. The SSO
// refresh token goes to the auth URL only; its endpoint may not redirect elsewhere.
//
// The rule is kept to origin, sameOrigin and the two redirect policies below so that it
// can move into store/fetch as one decision for every kind with credentials.

// errOffOrigin: the token endpoint redirected to another origin.
var errOffOrigin = errors.New("redirect to another origin")

// origin returns u's origin, "scheme://host:port" with the scheme's default port; "" when
// u is not http(s).
func origin(u *url.URL) string {
	port := u.Port()
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "https" && port == "":
		port = "443"
	case scheme == "http" && port == "":
		port = "80"
	case scheme != "http" && scheme != "https":
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// sameOrigin reports whether the URLs a and b share an http(s) origin.
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && origin(ua) != "" && origin(ua) == origin(ub)
}

// authHeader returns the headers that carry the token to u: Authorization when u is on the
// upstream's origin, else none. With AuthURL it may exchange the token.
func (c *Client) authHeader(ctx context.Context, u string) (http.Header, error) {
	h := http.Header{}
	if c.Token == "" || !sameOrigin(u, c.URL) {
		return h, nil
	}
	if c.AuthURL != "" {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return nil, err
		}
		h.Set("Authorization", "Bearer "+tok)
		return h, nil
	}
	typ := c.TokenType
	if typ == "" {
		typ = "Token"
	}
	h.Set("Authorization", typ+" "+c.Token)
	return h, nil
}

// fetcher returns Fetch with a redirect policy that drops Authorization on every hop off
// the upstream's origin. (Fetch drops it when host:port changes; an https -> http
// redirect on one port keeps it there.)
func (c *Client) fetcher() *fetch.Client {
	c.fetchOnce.Do(func() {
		base := c.Fetch.HTTPClient()
		var next func(*http.Request, []*http.Request) error
		if c.Fetch.HTTP != nil {
			next = c.Fetch.HTTP.CheckRedirect
		}
		c.scoped = c.Fetch.WithHTTP(&http.Client{Transport: base.Transport, Jar: base.Jar, Timeout: base.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if !sameOrigin(req.URL.String(), c.URL) {
					req.Header.Del("Authorization")
				}
				if next != nil {
					return next(req, via)
				}
				return nil
			}})
	})
	return c.scoped
}

// tokenClient returns client with a redirect policy that keeps the token exchange on the
// auth URL's origin: the refresh token travels in the body, which a 307 would resend.
func tokenClient(client *http.Client) *http.Client {
	hc := *client
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if origin(req.URL) != origin(via[0].URL) {
			return fmt.Errorf("%w %s: the token stays with %s", errOffOrigin, origin(req.URL), origin(via[0].URL))
		}
		if client.CheckRedirect != nil {
			return client.CheckRedirect(req, via)
		}
		return nil
	}
	return &hc
}

// Download fetches an artifact or role archive into the store (see fetch.Client.Fetch),
// with the token only when req.URL is on the upstream's origin, and never on a redirect
// off it. Headers in req are sent as well.
func (c *Client) Download(ctx context.Context, req fetch.Request) (fetch.Result, error) {
	h, err := c.authHeader(ctx, req.URL) // per download: SSO access tokens expire
	if err != nil {
		return fetch.Result{}, err
	}
	for k, vs := range req.Header {
		h[k] = vs
	}
	req.Header = h
	return c.fetcher().Fetch(ctx, req)
}

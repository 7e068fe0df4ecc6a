package galaxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/airgapkit/airgap/store/fetch"
)

// Credentials stay on the origins they were configured for (fetch.Origin: scheme, host
// and port), by store/fetch's rule: the token goes to the upstream's origin only (its
// API, and the artifacts and role archives it serves itself); a download_url or role
// archive on another origin, or a redirect to one, plain http on the same host included,
// goes without it. The SSO refresh token goes to the auth URL only; its endpoint may not
// redirect elsewhere.

// errOffOrigin: the token endpoint redirected to another origin.
var errOffOrigin = errors.New("redirect to another origin")

// request returns req carrying the token (exchanged first when AuthURL is set), for the
// upstream's origin only.
func (c *Client) request(ctx context.Context, req fetch.Request) (fetch.Request, error) {
	if c.Token == "" {
		return req, nil
	}
	h := http.Header{}
	if c.AuthURL != "" {
		tok, err := c.accessToken(ctx) // per request: SSO access tokens expire
		if err != nil {
			return req, err
		}
		h.Set("Authorization", "Bearer "+tok)
	} else {
		typ := c.TokenType
		if typ == "" {
			typ = "Token"
		}
		h.Set("Authorization", typ+" "+c.Token)
	}
	req.Credentials, req.CredentialOrigins = h, []string{c.URL}
	return req, nil
}

// tokenClient returns client with a redirect policy that keeps the token exchange on the
// auth URL's origin: the refresh token travels in the body, which a 307 would resend.
func tokenClient(client *http.Client) *http.Client {
	hc := *client
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if fetch.Origin(req.URL) != fetch.Origin(via[0].URL) {
			return fmt.Errorf("%w %s: the token stays with %s", errOffOrigin, fetch.Origin(req.URL), fetch.Origin(via[0].URL))
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
	req, err := c.request(ctx, req)
	if err != nil {
		return fetch.Result{}, err
	}
	return c.Fetch.Fetch(ctx, req)
}

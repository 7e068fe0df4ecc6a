package maasclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Login makes a client that authenticates with a session cookie instead of an API key:
// it posts the user name and password to MAAS's /MAAS/accounts/login/ and keeps the
// session and CSRF cookies of the answer. (The login view wants no CSRF token; MAAS
// sets the csrftoken cookie when it logs the user in, not on the login page.) Later
// unsafe requests echo the token in X-CSRFToken, with a Referer that names MAAS, which
// Django requires over https. A refused login is ErrLoginFailed (wrapping the
// *APIError when MAAS said more).
func Login(ctx context.Context, maasURL, username, password string, opts Options) (*Client, error) {
	c, err := newClient(maasURL, opts, true)
	if err != nil {
		return nil, err
	}
	root := c.rootURL()
	loginURL := root.ResolveReference(&url.URL{Path: "accounts/login/"})
	c.csrfFrom = root

	form := url.Values{"username": {username}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, loginURL.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("maas: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json") // 204 or a 400 with the form errors
	req.Header.Set("Referer", loginURL.String())
	req.Header.Set("User-Agent", c.ua)
	// Do not follow a redirect: a 302 to the UI is success, one back to the form is not.
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("maas: login: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	if resp.StatusCode >= 400 {
		apiErr := &APIError{Method: http.MethodPost, URL: loginURL.String(), StatusCode: resp.StatusCode, Body: string(body)}
		apiErr.Fields, _ = ParseFieldErrors(body)
		return nil, fmt.Errorf("%w: %w", ErrLoginFailed, apiErr)
	}
	if c.cookie(root, "sessionid") == "" {
		return nil, fmt.Errorf("%w: no session cookie after login (status %d)", ErrLoginFailed, resp.StatusCode)
	}
	if c.cookie(root, "csrftoken") == "" {
		return nil, fmt.Errorf("%w: %s set no csrftoken cookie with the session (status %d)", ErrLoginFailed, loginURL, resp.StatusCode)
	}
	return c, nil
}

// Authenticate exchanges a user name and password for a new API key named consumer
// (a label shown in the MAAS UI, such as "airgap@host"), through MAAS's
// /MAAS/accounts/authenticate/ (servers that list the "authenticate-api"
// capability). Keep the key and use New afterwards. Refused credentials are
// ErrLoginFailed.
func Authenticate(ctx context.Context, maasURL, username, password, consumer string, opts Options) (Credentials, error) {
	c, err := newClient(maasURL, opts, false)
	if err != nil {
		return Credentials{}, err
	}
	u := c.rootURL().ResolveReference(&url.URL{Path: "accounts/authenticate/"})
	form := url.Values{"username": {username}, "password": {password}, "consumer": {consumer}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return Credentials{}, fmt.Errorf("maas: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.http.Do(req)
	if err != nil {
		return Credentials{}, fmt.Errorf("maas: authenticate: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		apiErr := &APIError{Method: http.MethodPost, URL: u.String(), StatusCode: resp.StatusCode, Body: string(body)}
		if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized {
			return Credentials{}, fmt.Errorf("%w: %w", ErrLoginFailed, apiErr)
		}
		return Credentials{}, apiErr
	}
	var tok struct {
		ConsumerKey string `json:"consumer_key"`
		TokenKey    string `json:"token_key"`
		TokenSecret string `json:"token_secret"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		return Credentials{}, fmt.Errorf("maas: authenticate: %w", err)
	}
	return ParseAPIKey(tok.ConsumerKey + ":" + tok.TokenKey + ":" + tok.TokenSecret)
}

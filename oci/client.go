package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// DefaultMaxManifestSize caps a manifest or index (4 MiB, the limit distribution enforces).
const DefaultMaxManifestSize = 4 << 20

// manifestAccept lists every manifest kind this package copies, for Accept headers.
var manifestAccept = strings.Join([]string{MediaTypeOCIManifest, MediaTypeOCIIndex, MediaTypeDockerManifest, MediaTypeDockerList}, ", ")

// RegistryConfig is an operator's settings for one registry host. Host, Endpoint and
// PlainHTTP say whom a tag's digest is believed from, and how safely: a Mirror records
// them with every generation (see Mirror.Trust); credentials it does not.
type RegistryConfig struct {
	// Host is the registry as written in references: "docker.io", "ghcr.io",
	// "registry.internal:5000".
	Host string `yaml:"host" trust:""`
	// Endpoint is the host[:port] actually contacted, when it differs (Docker Hub's API is
	// registry-1.docker.io; that one is known).
	Endpoint string `yaml:"endpoint,omitempty" trust:""`
	// PlainHTTP talks http:// instead of https:// to this registry. It is never inferred
	// from the address, not even for 127.0.0.1.
	PlainHTTP bool `yaml:"plain_http,omitempty" trust:""`
	// Username and Password are explicit credentials; when empty the client's Keychain
	// (docker config.json and credential helpers by default) is asked.
	Username string `yaml:"username,omitempty"`
	Password string `yaml:"password,omitempty"`
	// IdentityToken is an OAuth2 refresh token (as `docker login` stores for some
	// registries); RegistryToken a bearer token used as is.
	IdentityToken string `yaml:"identity_token,omitempty"`
	RegistryToken string `yaml:"registry_token,omitempty"`
}

// Client speaks the distribution API to registries: pull and push of manifests and
// blobs, tag lists, referrers. Its zero value is usable; set fields before first use.
// Every request goes through a scheme guard (https unless PlainHTTP is configured for the
// host) and a RateLimitTransport.
type Client struct {
	// HTTP supplies the underlying transport and timeouts; nil uses a clone of
	// http.DefaultTransport (proxy from the environment) with a one-minute response
	// header timeout.
	HTTP *http.Client
	// Registries holds per-registry settings (plain http, credentials, endpoint).
	Registries []RegistryConfig
	// Keychain resolves credentials for registries without explicit ones; nil means
	// authn.DefaultKeychain (docker config.json, credential helpers).
	Keychain authn.Keychain
	// UserAgent is sent with every request.
	UserAgent string
	// MaxManifestSize caps manifests; 0 means DefaultMaxManifestSize.
	MaxManifestSize int64
	// RateLimit configures the retries of registry requests: 429 answers and transient
	// failures (its Inner is ignored).
	RateLimit RateLimitTransport
	// Logger receives debug and warning records; nil discards.
	Logger *slog.Logger

	mu         sync.Mutex
	regs       map[string]*regConn
	byEndpoint map[string]*regConn
	plainRT    http.RoundTripper
}

// regConn is one registry's connection state: ping result and scoped auth transports.
type regConn struct {
	c      *Client
	host   string // as in references
	base   string // scheme://endpoint
	cfg    RegistryConfig
	reg    name.Registry
	inner  http.RoundTripper
	pingMu sync.Mutex
	pinged bool                 // ping holds the registry's answer
	ping   *transport.Challenge // nil: no auth needed
	mu     sync.Mutex
	scoped map[string]*http.Client
}

func (c *Client) config(host string) RegistryConfig {
	for _, r := range c.Registries {
		if r.Host == host {
			return r
		}
	}
	return RegistryConfig{Host: host}
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func (c *Client) maxManifest() int64 {
	if c.MaxManifestSize > 0 {
		return c.MaxManifestSize
	}
	return DefaultMaxManifestSize
}

// plainHost reports whether endpoint (host[:port] as in a URL) is configured plain http.
func (c *Client) plainHost(endpoint string) bool {
	for _, r := range c.Registries {
		if r.PlainHTTP && (r.Host == endpoint || r.Endpoint == endpoint) {
			return true
		}
	}
	return false
}

func (c *Client) conn(host string) (*regConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc, ok := c.regs[host]; ok {
		return rc, nil
	}
	cfg := c.config(host)
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = host
		if host == DockerHub {
			endpoint = "registry-1.docker.io"
		}
	}
	var opts []name.Option
	scheme := "https"
	if cfg.PlainHTTP {
		opts = append(opts, name.Insecure)
		scheme = "http"
	}
	reg, err := name.NewRegistry(endpoint, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: registry %q: %w", ErrInvalidReference, host, err)
	}
	inner := c.guardedLocked()
	if c.UserAgent != "" {
		inner = transport.NewUserAgent(inner, c.UserAgent)
	}
	rc := &regConn{c: c, host: host, base: scheme + "://" + endpoint, cfg: cfg, reg: reg, inner: inner, scoped: map[string]*http.Client{}}
	if c.regs == nil {
		c.regs = map[string]*regConn{}
		c.byEndpoint = map[string]*regConn{}
	}
	c.regs[host] = rc
	c.byEndpoint[endpoint] = rc
	return rc, nil
}

func (rc *regConn) authenticator(ctx context.Context) (authn.Authenticator, error) {
	if a := rc.cfg.explicit(); a != nil {
		return a, nil
	}
	kc := rc.c.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	return authn.Resolve(ctx, kc, rc.reg)
}

// explicit returns the configured credentials, nil when there are none.
func (r RegistryConfig) explicit() authn.Authenticator {
	if r.Username == "" && r.Password == "" && r.IdentityToken == "" && r.RegistryToken == "" {
		return nil
	}
	return authn.FromConfig(authn.AuthConfig{Username: r.Username, Password: r.Password, IdentityToken: r.IdentityToken, RegistryToken: r.RegistryToken})
}

// Keychain resolves credentials as a Client with these Registries does: a registry's
// explicit ones where configured (by Host or Endpoint), else kc's (nil:
// authn.DefaultKeychain). For another program's go-containerregistry client (the helm
// package's oci:// repositories).
func Keychain(regs []RegistryConfig, kc authn.Keychain) authn.Keychain {
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	return keychain{regs, kc}
}

type keychain struct {
	regs []RegistryConfig
	kc   authn.Keychain
}

func (k keychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), res)
}

func (k keychain) ResolveContext(ctx context.Context, res authn.Resource) (authn.Authenticator, error) {
	for _, r := range k.regs {
		if r.Host == res.RegistryStr() || r.Endpoint != "" && r.Endpoint == res.RegistryStr() {
			if a := r.explicit(); a != nil {
				return a, nil
			}
		}
	}
	return authn.Resolve(ctx, k.kc, res)
}

// doPing asks GET /v2/ for the authentication challenge until the registry has
// answered once. A failure (a cancelled context, a network error) is not remembered:
// the next request asks again.
func (rc *regConn) doPing(ctx context.Context) error {
	rc.pingMu.Lock()
	defer rc.pingMu.Unlock()
	if rc.pinged {
		return nil
	}
	ch, err := rc.askPing(ctx)
	if err != nil {
		return err
	}
	rc.ping, rc.pinged = ch, true
	return nil
}

func (rc *regConn) askPing(ctx context.Context) (*transport.Challenge, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rc.base+"/v2/", nil)
	if err != nil {
		return nil, err
	}
	resp, err := rc.inner.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("oci: ping %s: %w", rc.host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusUnauthorized {
		return nil, nil
	}
	scheme, params := parseChallenge(resp.Header.Get("WWW-Authenticate"))
	if scheme == "" {
		return nil, &RegistryError{Method: "GET", URL: req.URL.String(), StatusCode: 401, Message: "no usable WWW-Authenticate challenge"}
	}
	return &transport.Challenge{Scheme: scheme, Parameters: params, Insecure: rc.cfg.PlainHTTP}, nil
}

// client returns an HTTP client authorised for scopes ("repository:x:pull[,push]").
func (rc *regConn) client(ctx context.Context, scopes ...string) (*http.Client, error) {
	if err := rc.doPing(ctx); err != nil {
		return nil, err
	}
	key := strings.Join(scopes, " ")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if hc, ok := rc.scoped[key]; ok {
		return hc, nil
	}
	rt := rc.inner
	if rc.ping != nil {
		auth, err := rc.authenticator(ctx)
		if err != nil {
			return nil, fmt.Errorf("oci: credentials for %s: %w", rc.host, err)
		}
		tok := &transport.Token{}
		bearer := strings.EqualFold(rc.ping.Scheme, "bearer")
		if bearer {
			tok, err = transport.Exchange(ctx, rc.reg, auth, rc.inner, scopes, rc.ping)
			if err != nil {
				return nil, fmt.Errorf("oci: token for %s: %w: %w", rc.host, ErrUnauthorized, err)
			}
		}
		if rt, err = transport.FromToken(rc.reg, auth, rc.inner, rc.ping, tok); err != nil {
			return nil, err
		}
		// Off the registry's origin (a redirect to object storage, a CDN, another
		// registry; an upload location elsewhere) requests go without its credentials
		// (store/fetch's rule). A bearer registry's requests there still answer another
		// host's own Bearer challenge with an anonymous token, as go-containerregistry does.
		anon := rc.inner
		if bearer {
			if anon, err = transport.FromToken(rc.reg, authn.Anonymous, rc.inner, rc.ping, &transport.Token{}); err != nil {
				return nil, err
			}
		}
		if rt, err = fetch.ScopeCredentials(rt, anon, rc.base); err != nil {
			return nil, err
		}
	}
	hc := &http.Client{Transport: rt}
	if rc.c.HTTP != nil {
		hc.Timeout = rc.c.HTTP.Timeout
	}
	rc.scoped[key] = hc
	return hc, nil
}

// parseChallenge splits `Bearer realm="x",service="y"` into the scheme and parameters.
func parseChallenge(h string) (string, map[string]string) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	if scheme == "" {
		return "", nil
	}
	params := map[string]string{}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimLeft(v, " ")
		if strings.HasPrefix(v, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
				}
				b.WriteByte(v[i])
			}
			params[k] = b.String()
			if i < len(v) {
				i++
			}
			rest = v[i:]
		} else {
			end := strings.IndexByte(v, ',')
			if end < 0 {
				end = len(v)
			}
			params[k] = strings.TrimSpace(v[:end])
			rest = v[end:]
		}
	}
	return scheme, params
}

func pullScope(repo string) string { return "repository:" + repo + ":pull" }
func pushScope(repo string) string { return "repository:" + repo + ":pull,push" }

// request does one request and checks the status; the caller closes the body.
func (c *Client) request(ctx context.Context, host, method, path string, scopes []string, hdr http.Header, body io.Reader, size int64, ok ...int) (*http.Response, error) {
	rc, err := c.conn(host)
	if err != nil {
		return nil, err
	}
	hc, err := rc.client(ctx, scopes...)
	if err != nil {
		return nil, err
	}
	u := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		u = rc.base + path
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.ContentLength = size
		switch b := body.(type) {
		case *bytes.Reader:
			snapshot := *b
			req.GetBody = func() (io.ReadCloser, error) { r := snapshot; return io.NopCloser(&r), nil }
		case *replayBody:
			req.GetBody = b.open
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			return resp, nil
		}
	}
	defer resp.Body.Close()
	return nil, registryError(req, resp)
}

func registryError(req *http.Request, resp *http.Response) error {
	e := &RegistryError{Method: req.Method, URL: redactURL(req), StatusCode: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &body) == nil {
		var msgs []string
		for _, x := range body.Errors {
			e.Codes = append(e.Codes, x.Code)
			if x.Message != "" {
				msgs = append(msgs, x.Message)
			}
		}
		e.Message = strings.Join(msgs, "; ")
	}
	return e
}

// Head asks for a manifest's descriptor without its body (one HEAD). When the registry
// omits Docker-Content-Digest it falls back to a GET.
func (c *Client) Head(ctx context.Context, ref Reference) (Descriptor, error) {
	hdr := http.Header{"Accept": {manifestAccept}}
	resp, err := c.request(ctx, ref.Registry, http.MethodHead, "/v2/"+ref.Repository+"/manifests/"+ref.Identifier(), []string{pullScope(ref.Repository)}, hdr, nil, 0, http.StatusOK)
	if err != nil {
		return Descriptor{}, err
	}
	resp.Body.Close()
	d, err := store.ParseDigest(resp.Header.Get("Docker-Content-Digest"))
	if err != nil {
		desc, _, err := c.Manifest(ctx, ref)
		return desc, err
	}
	if ref.Digest != "" && d != ref.Digest {
		return Descriptor{}, fmt.Errorf("oci: %s: %w: registry says %s", ref, store.ErrDigestMismatch, d)
	}
	return Descriptor{MediaType: mediaTypeOf(resp.Header.Get("Content-Type")), Digest: d, Size: resp.ContentLength}, nil
}

// Manifest fetches a manifest, verifies it against the digest asked for (or the one the
// registry announces) and caps it at MaxManifestSize (store.ErrTooLarge beyond). The
// bytes are returned exactly as served: re-serialising would change the digest.
func (c *Client) Manifest(ctx context.Context, ref Reference) (Descriptor, []byte, error) {
	hdr := http.Header{"Accept": {manifestAccept}}
	resp, err := c.request(ctx, ref.Registry, http.MethodGet, "/v2/"+ref.Repository+"/manifests/"+ref.Identifier(), []string{pullScope(ref.Repository)}, hdr, nil, 0, http.StatusOK)
	if err != nil {
		return Descriptor{}, nil, err
	}
	defer resp.Body.Close()
	limit := c.maxManifest()
	if resp.ContentLength > limit {
		return Descriptor{}, nil, fmt.Errorf("oci: manifest %s: %w: %d bytes, limit %d", ref, store.ErrTooLarge, resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return Descriptor{}, nil, fmt.Errorf("oci: manifest %s: %w", ref, err)
	}
	if int64(len(b)) > limit {
		return Descriptor{}, nil, fmt.Errorf("oci: manifest %s: %w: over %d bytes", ref, store.ErrTooLarge, limit)
	}
	got := store.DigestOf(b)
	want := ref.Digest
	if want == "" {
		if h := resp.Header.Get("Docker-Content-Digest"); h != "" {
			want = store.Digest(h)
		}
	}
	if want != "" && want != got {
		return Descriptor{}, nil, fmt.Errorf("oci: manifest %s: %w: expected %s, got %s", ref, store.ErrDigestMismatch, want, got)
	}
	mt := mediaTypeOf(resp.Header.Get("Content-Type"))
	if mt == "" || mt == "application/json" || mt == "text/plain" {
		mt = sniffMediaType(b)
	}
	return Descriptor{MediaType: mt, Digest: got, Size: int64(len(b))}, b, nil
}

func mediaTypeOf(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mt)
}

// OpenBlob starts a download of a blob. The caller verifies the bytes (store.Put with
// ExpectDigest does) and closes the body.
func (c *Client) OpenBlob(ctx context.Context, host, repo string, d store.Digest) (io.ReadCloser, int64, error) {
	resp, err := c.request(ctx, host, http.MethodGet, "/v2/"+repo+"/blobs/"+string(d), []string{pullScope(repo)}, nil, nil, 0, http.StatusOK)
	if err != nil {
		return nil, 0, err
	}
	return resp.Body, resp.ContentLength, nil
}

// BlobExists asks with HEAD whether repo holds blob d.
func (c *Client) BlobExists(ctx context.Context, host, repo string, d store.Digest, push bool) (bool, error) {
	scope := pullScope(repo)
	if push {
		scope = pushScope(repo)
	}
	resp, err := c.request(ctx, host, http.MethodHead, "/v2/"+repo+"/blobs/"+string(d), []string{scope}, nil, nil, 0, http.StatusOK)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return true, nil
}

// Mount asks the registry to link blob d from repository from into repo. It returns
// true when mounted; false with an upload location when the registry started an upload
// instead (the caller then sends the bytes there).
func (c *Client) Mount(ctx context.Context, host, repo, from string, d store.Digest) (bool, string, error) {
	q := url.Values{"mount": {string(d)}, "from": {from}}
	resp, err := c.request(ctx, host, http.MethodPost, "/v2/"+repo+"/blobs/uploads/?"+q.Encode(), []string{pushScope(repo), pullScope(from)}, nil, nil, 0, http.StatusCreated, http.StatusAccepted)
	if err != nil {
		return false, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusCreated {
		return true, "", nil
	}
	loc, err := resp.Location()
	if err != nil {
		return false, "", fmt.Errorf("oci: mount into %s: no upload location: %w", repo, err)
	}
	return false, loc.String(), nil
}

// Upload sends a blob's bytes in one PUT (a monolithic upload). location is where a
// previous POST (or Mount) started the upload, or "" to start one.
func (c *Client) Upload(ctx context.Context, host, repo, location string, d store.Digest, size int64, body io.Reader) error {
	scopes := []string{pushScope(repo)}
	if location == "" {
		resp, err := c.request(ctx, host, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", scopes, nil, nil, 0, http.StatusAccepted)
		if err != nil {
			return err
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			return fmt.Errorf("oci: upload into %s: no upload location: %w", repo, err)
		}
		location = loc.String()
	}
	u, err := url.Parse(location)
	if err != nil {
		return fmt.Errorf("oci: upload location %q: %w", location, err)
	}
	q := u.Query()
	q.Set("digest", string(d))
	u.RawQuery = q.Encode()
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	resp, err := c.request(ctx, host, http.MethodPut, u.String(), scopes, hdr, body, size, http.StatusCreated, http.StatusNoContent, http.StatusAccepted)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// PutManifest stores manifest bytes under ref (a tag or the digest) with its media type.
func (c *Client) PutManifest(ctx context.Context, host, repo, ref, mediaType string, b []byte) error {
	_, err := c.putManifest(ctx, host, repo, ref, mediaType, b)
	return err
}

// putManifest is PutManifest returning the answer's headers (OCI-Subject tells whether
// the registry indexed the manifest's subject itself).
func (c *Client) putManifest(ctx context.Context, host, repo, ref, mediaType string, b []byte) (http.Header, error) {
	hdr := http.Header{"Content-Type": {mediaType}}
	resp, err := c.request(ctx, host, http.MethodPut, "/v2/"+repo+"/manifests/"+ref, []string{pushScope(repo)}, hdr, bytes.NewReader(b), int64(len(b)), http.StatusCreated, http.StatusOK, http.StatusAccepted)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp.Header, nil
}

// headPush is Head with push scope, for targets (one token for HEAD and upload).
func (c *Client) headPush(ctx context.Context, host, repo, ident string) (Descriptor, error) {
	hdr := http.Header{"Accept": {manifestAccept}}
	resp, err := c.request(ctx, host, http.MethodHead, "/v2/"+repo+"/manifests/"+ident, []string{pushScope(repo)}, hdr, nil, 0, http.StatusOK)
	if err != nil {
		return Descriptor{}, err
	}
	resp.Body.Close()
	d, _ := store.ParseDigest(resp.Header.Get("Docker-Content-Digest"))
	return Descriptor{MediaType: mediaTypeOf(resp.Header.Get("Content-Type")), Digest: d, Size: resp.ContentLength}, nil
}

// Tags lists a repository's tags, following Link pagination.
func (c *Client) Tags(ctx context.Context, host, repo string) ([]string, error) {
	var tags []string
	next := "/v2/" + repo + "/tags/list?n=1000"
	for pages := 0; next != "" && pages < 1000; pages++ {
		resp, err := c.request(ctx, host, http.MethodGet, next, []string{pullScope(repo)}, nil, nil, 0, http.StatusOK)
		if err != nil {
			return nil, err
		}
		var body struct {
			Tags []string `json:"tags"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&body)
		link := resp.Header.Get("Link")
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("oci: tags of %s/%s: %w", host, repo, err)
		}
		for _, t := range body.Tags {
			if validTag(t) {
				tags = append(tags, t)
			}
		}
		next = ""
		if link != "" {
			if s, _, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(link), "<"), ">"); ok {
				if u, err := resp.Request.URL.Parse(s); err == nil {
					next = u.String()
				}
			}
		}
	}
	return tags, nil
}

// Referrers lists the manifests that name d as their subject: the OCI 1.1 referrers
// API, or, where the registry lacks it (distribution 2.8 answers 404), the
// "sha256-<hex>" fallback tag index (asked with HEAD first, fetched only when present).
func (c *Client) Referrers(ctx context.Context, host, repo string, d store.Digest) ([]Descriptor, error) {
	hdr := http.Header{"Accept": {MediaTypeOCIIndex}}
	resp, err := c.request(ctx, host, http.MethodGet, "/v2/"+repo+"/referrers/"+string(d), []string{pullScope(repo)}, hdr, nil, 0, http.StatusOK)
	var body []byte
	switch {
	case err == nil:
		defer resp.Body.Close()
		body, err = io.ReadAll(io.LimitReader(resp.Body, c.maxManifest()+1))
		if err != nil {
			return nil, err
		}
		if mediaTypeOf(resp.Header.Get("Content-Type")) != MediaTypeOCIIndex {
			body = nil // not a referrers answer (e.g. an HTML 200 page)
		}
	case errors.Is(err, ErrNotFound):
		// HEAD first: most subjects have no fallback tag, and a HEAD is not a pull
		// against quotas such as Docker Hub's.
		tag := Reference{Registry: host, Repository: repo, Tag: "sha256-" + d.Hex()}
		_, err := c.Head(ctx, tag)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		_, b, err := c.Manifest(ctx, tag)
		if err != nil {
			return nil, err
		}
		body = b
	default:
		return nil, err
	}
	if body == nil {
		return nil, nil
	}
	m, err := ParseManifest(MediaTypeOCIIndex, body)
	if err != nil {
		return nil, err
	}
	return m.Manifests, nil
}

// upload is Upload with a replayable body: open is called for each attempt.
func (c *Client) upload(ctx context.Context, host, repo, location string, d store.Digest, size int64, open func() (io.ReadCloser, error)) error {
	body, err := open()
	if err != nil {
		return err
	}
	rb := &replayBody{ReadCloser: body, open: open}
	return c.Upload(ctx, host, repo, location, d, size, rb)
}

// replayBody lets request() give the 429 transport a GetBody.
type replayBody struct {
	io.ReadCloser
	open func() (io.ReadCloser, error)
}

// HTTPClient returns an http.Client for plain GETs of registry URLs (such as blob
// downloads through store/fetch): each request is authorised for the repository its
// /v2/<repo>/... path names (pull scope) on the registry it goes to. Credentials go to
// the registry's origin only (scheme, host and port: fetch.ScopeCredentials): a request
// to another origin, or a redirect there (a blob store, a CDN, another registry, even
// one the Client has credentials for), carries none. All of it goes through the scheme
// guard and the rate-limit transport.
func (c *Client) HTTPClient() *http.Client {
	hc := &http.Client{Transport: &authRouter{c: c}}
	if c.HTTP != nil {
		hc.Timeout = c.HTTP.Timeout
	}
	return hc
}

type authRouter struct{ c *Client }

func (a *authRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	first := req // a redirect hop is authorised by the registry that was asked
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	a.c.mu.Lock()
	rc := a.c.byEndpoint[first.URL.Host]
	a.c.mu.Unlock()
	repo := ""
	if rest, ok := strings.CutPrefix(req.URL.Path, "/v2/"); ok {
		for _, sep := range []string{"/blobs/", "/manifests/", "/tags/", "/referrers/"} {
			if i := strings.LastIndex(rest, sep); i > 0 {
				repo = rest[:i]
				break
			}
		}
	}
	if rc == nil || repo == "" {
		return a.c.anonymous().RoundTrip(req)
	}
	hc, err := rc.client(req.Context(), pullScope(repo))
	if err != nil {
		return nil, err
	}
	return hc.Transport.RoundTrip(req)
}

// anonymous is the guarded, rate-limited transport without credentials.
func (c *Client) anonymous() http.RoundTripper {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.guardedLocked()
}

// guardedLocked returns the client's one transport under every registry connection:
// the caller's (or a clone of the default) transport behind the scheme guard and the
// rate-limit transport. c.mu must be held.
func (c *Client) guardedLocked() http.RoundTripper {
	if c.plainRT == nil {
		var base http.RoundTripper
		if c.HTTP != nil && c.HTTP.Transport != nil {
			base = c.HTTP.Transport
		} else {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.ResponseHeaderTimeout = time.Minute // a registry that accepts and never answers
			base = t
		}
		rl := c.RateLimit
		rl.Inner = &schemeGuard{inner: base, plain: c.plainHost}
		if rl.Logger == nil {
			rl.Logger = c.Logger
		}
		c.plainRT = &rl
	}
	return c.plainRT
}

// blobURL is the URL of a blob on a registry.
func (c *Client) blobURL(host, repo string, d store.Digest) (string, error) {
	rc, err := c.conn(host)
	if err != nil {
		return "", err
	}
	return rc.base + "/v2/" + repo + "/blobs/" + string(d), nil
}

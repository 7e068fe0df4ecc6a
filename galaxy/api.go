package galaxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airgapkit/airgap/internal/jsonstream"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/fetch/retry"
)

// Caps on what the client reads from an upstream.
const (
	// DefaultMaxPages caps one paginated listing.
	DefaultMaxPages = 1000
	// DefaultPageSize is the limit asked for per page of versions.
	DefaultPageSize = 100
	// maxJSONSize caps one API answer.
	maxJSONSize = 32 << 20
)

// Client reads the API of a Galaxy server: galaxy.ansible.com, a galaxy_ng / Automation
// Hub (with a token) or another airgap mirror. Every answer goes through Fetch (retries,
// limits) and is decoded with size caps; a bad answer is a typed error (ErrMalformed,
// ErrPaginationLoop, ErrTooManyPages, ErrNotFound, or a wrapped *fetch.HTTPError).
type Client struct {
	// URL is the server as a user gives it to ansible-galaxy -s: the API root
	// (https://galaxy.ansible.com/api/) or the site (the API root is then found at
	// /api/ below it).
	URL string
	// Token authenticates to galaxy_ng and Automation Hub; sent as
	// "Authorization: <TokenType> <Token>" to the origin of URL only (scheme, host and
	// port): never to a download_url, role archive or redirect elsewhere.
	Token string
	// TokenType is "Token" (the default, galaxy_ng API tokens) or "Bearer" (SSO access
	// tokens).
	TokenType string
	// Fetch performs the requests. Required.
	Fetch *fetch.Client
	// AuthURL, when set, is an SSO token endpoint (Automation Hub's auth_url): Token is
	// then an offline (refresh) token, exchanged there for short-lived access tokens
	// that are sent as Bearer tokens and renewed before they expire. The exchange does not
	// follow a redirect to another origin.
	AuthURL string
	// ClientID is the SSO client for AuthURL (default "cloud-services").
	ClientID string
	// HTTP makes the token exchange (nil: Fetch's transport, Fetch.HTTPClient). It is
	// retried by Fetch's retry policy.
	HTTP *http.Client
	// MaxPages caps a paginated listing (0: DefaultMaxPages).
	MaxPages int
	// PageSize is the page size asked for (0: DefaultPageSize).
	PageSize int

	discoverMu sync.Mutex
	root       string            // discovered API root, ending in '/'; "" until found
	versions   map[string]string // available_versions
	requests   atomic.Int64

	authMu      sync.Mutex
	access      string
	accessUntil time.Time
}

// Requests returns how many API requests the client has made (downloads excluded).
func (c *Client) Requests() int64 { return c.requests.Load() }

// ErrAuth: the SSO token exchange failed.
var ErrAuth = errors.New("galaxy: token exchange failed")

// accessToken exchanges the offline token at AuthURL, reusing the access token until
// 30 seconds before it expires. The exchange is retried as Fetch retries downloads
// (5xx, 429, resets); a refusal (400 invalid_grant, 401) fails at once.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.access != "" && time.Now().Before(c.accessUntil) {
		return c.access, nil
	}
	client := c.HTTP
	if client == nil {
		client = c.Fetch.HTTPClient()
	}
	client = tokenClient(client)
	id := c.ClientID
	if id == "" {
		id = "cloud-services"
	}
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {c.Token}}.Encode()
	var body []byte
	err := c.Fetch.RetryPolicy().Do(ctx, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.AuthURL, strings.NewReader(form))
		if err != nil {
			return retry.Mark(err, retry.Permanent)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		c.requests.Add(1)
		resp, err := client.Do(req)
		if errors.Is(err, errOffOrigin) {
			return retry.Mark(err, retry.Permanent)
		}
		if err != nil {
			return err // retry.Classify: TLS errors are final, resets are retried
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fetch.NewHTTPError(resp)
		}
		if body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20)); err != nil {
			return retry.Mark(err, retry.Transient)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrAuth, err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("%w: %s: no access_token in the answer", ErrAuth, c.AuthURL)
	}
	life := time.Duration(tok.ExpiresIn) * time.Second
	if life <= 0 {
		life = 5 * time.Minute
	}
	c.access, c.accessUntil = tok.AccessToken, time.Now().Add(life-min(30*time.Second, life/2))
	return c.access, nil
}

// getJSON fetches u and returns the body (at most maxJSONSize). A 404 becomes
// ErrNotFound.
func (c *Client) getJSON(ctx context.Context, u string) ([]byte, error) {
	r, err := c.openJSON(ctx, u)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	return b, nil
}

// openJSON fetches u into the store (at most maxJSONSize) and opens the body there, for
// answers read as a stream. A 404 becomes ErrNotFound.
func (c *Client) openJSON(ctx context.Context, u string) (io.ReadCloser, error) {
	req, err := c.request(ctx, fetch.Request{URL: u, Header: http.Header{"Accept": {"application/json"}}, MaxSize: maxJSONSize})
	if err != nil {
		return nil, err
	}
	c.requests.Add(1)
	res, err := c.Fetch.Fetch(ctx, req)
	if err != nil {
		var he *fetch.HTTPError
		if errors.As(err, &he) && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusGone) {
			return nil, fmt.Errorf("%w: %s: %w", ErrNotFound, u, err)
		}
		return nil, err
	}
	b, err := c.Fetch.Store.Open(ctx, res.Blob.Digest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{store.ContextReader(ctx, b), b}, nil
}

// Discover finds the API root and its available versions; the other methods call it as
// needed. The answer is kept once found; a failure is not (a cancelled context, a
// passing outage), so the next call tries again.
func (c *Client) Discover(ctx context.Context) (root string, versions map[string]string, err error) {
	c.discoverMu.Lock()
	defer c.discoverMu.Unlock()
	if c.root == "" {
		if c.root, c.versions, err = c.discover(ctx); err != nil {
			c.root, c.versions = "", nil
			return "", nil, err
		}
	}
	return c.root, c.versions, nil
}

func (c *Client) discover(ctx context.Context) (string, map[string]string, error) {
	base := c.URL
	if base == "" {
		return "", nil, fmt.Errorf("%w: no upstream URL", ErrNoAPI)
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	b, err := c.getJSON(ctx, base)
	var av map[string]string
	if err == nil {
		av, err = decodeDiscovery(b)
	}
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoAPI) {
		return "", nil, err
	}
	if err != nil {
		if strings.HasSuffix(base, "/api/") {
			return "", nil, fmt.Errorf("%w at %s: %w", ErrNoAPI, base, err)
		}
		base += "api/"
		b, err2 := c.getJSON(ctx, base)
		if err2 == nil {
			av, err2 = decodeDiscovery(b)
		}
		if err2 != nil {
			return "", nil, fmt.Errorf("%w at %s: %w", ErrNoAPI, base, err2)
		}
	}
	return base, av, nil
}

// decodeDiscovery reads an API root answer.
func decodeDiscovery(b []byte) (map[string]string, error) {
	var doc struct {
		AvailableVersions map[string]string `json:"available_versions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: API root: %w", ErrMalformed, err)
	}
	if len(doc.AvailableVersions) == 0 {
		return nil, fmt.Errorf("%w: API root without available_versions", ErrNoAPI)
	}
	for k, v := range doc.AvailableVersions {
		if strings.Contains(v, "..") || strings.HasPrefix(v, "/") || strings.Contains(v, "://") {
			return nil, fmt.Errorf("%w: API version %s at unsafe path %q", ErrMalformed, k, v)
		}
	}
	return doc.AvailableVersions, nil
}

// apiURL returns the URL of path (no leading slash) under API version ver.
func (c *Client) apiURL(ctx context.Context, ver string, path string) (string, error) {
	root, av, err := c.Discover(ctx)
	if err != nil {
		return "", err
	}
	p, ok := av[ver]
	if !ok {
		return "", fmt.Errorf("%w: %s has no %s API (has %v)", ErrNoAPI, root, ver, keys(av))
	}
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return root + p + path, nil
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// CollectionInfo is what the collection endpoint says about a collection.
type CollectionInfo struct {
	Namespace      string
	Name           string
	UpdatedAt      string
	HighestVersion string
	Deprecated     bool
}

// Collection reads /v3/collections/{ns}/{name}/. ErrNotFound when the upstream has no
// such collection.
func (c *Client) Collection(ctx context.Context, namespace, name string) (CollectionInfo, error) {
	u, err := c.apiURL(ctx, "v3", "collections/"+url.PathEscape(namespace)+"/"+url.PathEscape(name)+"/")
	if err != nil {
		return CollectionInfo{}, err
	}
	b, err := c.getJSON(ctx, u)
	if err != nil {
		return CollectionInfo{}, err
	}
	info, err := decodeCollection(b)
	if err != nil {
		return CollectionInfo{}, fmt.Errorf("%s: %w", u, err)
	}
	if info.Namespace == "" {
		info.Namespace = namespace
	}
	if info.Name == "" {
		info.Name = name
	}
	return info, nil
}

func decodeCollection(b []byte) (CollectionInfo, error) {
	var doc struct {
		Namespace      json.RawMessage `json:"namespace"`
		Name           string          `json:"name"`
		UpdatedAt      string          `json:"updated_at"`
		Deprecated     bool            `json:"deprecated"`
		HighestVersion *struct {
			Version string `json:"version"`
		} `json:"highest_version"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return CollectionInfo{}, fmt.Errorf("%w: collection: %w", ErrMalformed, err)
	}
	info := CollectionInfo{Name: doc.Name, UpdatedAt: doc.UpdatedAt, Deprecated: doc.Deprecated}
	// v3 gives the namespace as a string; some servers as {"name": ...}.
	if len(doc.Namespace) > 0 {
		var s string
		var o struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(doc.Namespace, &s) == nil {
			info.Namespace = s
		} else if json.Unmarshal(doc.Namespace, &o) == nil {
			info.Namespace = o.Name
		} else {
			return CollectionInfo{}, fmt.Errorf("%w: collection: namespace is neither a string nor an object", ErrMalformed)
		}
	}
	if doc.HighestVersion != nil {
		info.HighestVersion = doc.HighestVersion.Version
	}
	return info, nil
}

// maxItemSize caps one item of a page (a collection version, a role, a role version) as
// decodePage reads it; a real one is well under 10 kB.
const maxItemSize = 1 << 20

// decodePage reads a v3 ("data" or "results", "links.next") or v1 ("results",
// "next_link" or "next") page from r and hands each item to fn as it is read: memory
// holds one item at a time, capped at maxItemSize (store.ErrTooLarge), whatever the size
// of the page (an upstream may ignore limit= and answer everything at once). It returns
// the link to the next page and how many items it read. A null list is none; a page
// with both a data and a results list is malformed.
func decodePage(r io.Reader, fn func(json.RawMessage) error) (next string, items int, err error) {
	d := jsonstream.NewDecoder(r, maxItemSize, ErrMalformed)
	var links struct {
		Next *string `json:"next"`
	}
	var nextV1, nextLink *string
	list := ""
	err = d.Object(func(key string) error {
		switch key {
		case "data", "results":
			isList, err := d.Array(func() error {
				var raw json.RawMessage
				if err := d.Decode(&raw); err != nil {
					return err
				}
				items++
				return fn(raw)
			})
			if isList && err == nil {
				if list != "" {
					return fmt.Errorf("%w: page with both data and results", ErrMalformed)
				}
				list = key
			}
			return err
		case "links":
			return d.Decode(&links)
		case "next":
			return d.Decode(&nextV1)
		case "next_link":
			return d.Decode(&nextLink)
		}
		return d.Skip()
	})
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return "", items, err
	}
	if list == "" {
		return "", 0, fmt.Errorf("%w: page without data or results", ErrMalformed)
	}
	switch {
	case links.Next != nil:
		next = *links.Next
	case nextLink != nil:
		next = *nextLink
	case nextV1 != nil:
		next = *nextV1
	}
	return next, items, nil
}

// paginate reads every page of a listing starting at first and calls fn with each item.
// next links may be absolute or relative (root-relative as galaxy_ng and this package's
// handler write them); a link to another host is followed on the upstream's host, so a
// token never leaves it. A link back to a page already read is ErrPaginationLoop.
func (c *Client) paginate(ctx context.Context, first string, fn func(json.RawMessage) error) error {
	maxPages := c.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	cur, err := url.Parse(first)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	seen := map[string]bool{}
	for n := 0; ; n++ {
		if n >= maxPages {
			return fmt.Errorf("%w: %s: more than %d pages", ErrTooManyPages, first, maxPages)
		}
		key := cur.String()
		if seen[key] {
			return fmt.Errorf("%w: %s comes back to %s", ErrPaginationLoop, first, key)
		}
		seen[key] = true
		r, err := c.openJSON(ctx, key)
		if err != nil {
			return err
		}
		next, items, err := decodePage(r, fn)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if next == "" {
			return nil
		}
		if items == 0 {
			return fmt.Errorf("%w: %s: empty page with a next link", ErrPaginationLoop, key)
		}
		nu, err := cur.Parse(next)
		if err != nil || (nu.Scheme != "http" && nu.Scheme != "https") {
			return fmt.Errorf("%w: %s: bad next link %q", ErrMalformed, key, next)
		}
		if nu.Host != cur.Host || nu.Scheme != cur.Scheme {
			// Servers behind proxies often name themselves wrongly: stay on our host.
			nu.Scheme, nu.Host, nu.User = cur.Scheme, cur.Host, nil
		}
		cur = nu
	}
}

// Versions lists every version of a collection, as the upstream orders them.
func (c *Client) Versions(ctx context.Context, namespace, name string) ([]string, error) {
	size := c.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	u, err := c.apiURL(ctx, "v3", "collections/"+url.PathEscape(namespace)+"/"+url.PathEscape(name)+"/versions/?limit="+strconv.Itoa(size))
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	err = c.paginate(ctx, u, func(raw json.RawMessage) error {
		v, err := decodeVersionItem(raw)
		if err != nil {
			return err
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func decodeVersionItem(raw json.RawMessage) (string, error) {
	var it struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &it); err != nil {
		return "", fmt.Errorf("%w: version item: %w", ErrMalformed, err)
	}
	if it.Version == "" || len(it.Version) > maxVersionLen || strings.ContainsAny(it.Version, "/\\ \t\n?#%") {
		return "", fmt.Errorf("%w: version item with bad version %q", ErrMalformed, it.Version)
	}
	return it.Version, nil
}

// CollectionVersion is one version of a collection as the version endpoint describes it,
// and as the mirror records it.
type CollectionVersion struct {
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	Version     string `json:"version"`
	DownloadURL string `json:"download_url,omitempty"`
	// SHA256 is the artifact's checksum (hex).
	SHA256 string `json:"sha256"`
	// SHA256Computed reports that the upstream gave no sha256 (accepted with
	// Mirror.AllowMissingChecksum): SHA256 is then the mirror's hash of what it downloaded.
	SHA256Computed bool   `json:"sha256_computed,omitempty"`
	Size           int64  `json:"size,omitempty"`
	Filename       string `json:"filename"`
	// Dependencies maps "ns.name" to a version range.
	Dependencies map[string]string `json:"dependencies"`
	// Signatures are the upstream's signature objects ({"signature", "pubkey_fingerprint",
	// "signing_service", ...}), kept verbatim.
	Signatures      []json.RawMessage `json:"signatures,omitempty"`
	RequiresAnsible string            `json:"requires_ansible,omitempty"`
	CreatedAt       string            `json:"created_at,omitempty"`
	// Metadata is the upstream's metadata object (description, authors, tags, ...).
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// ID returns "ns.name:version".
func (v *CollectionVersion) ID() string { return v.Namespace + "." + v.Name + ":" + v.Version }

// ArtifactName is the file name Galaxy gives an artifact: ns-name-version.tar.gz.
func ArtifactName(namespace, name, version string) string {
	return namespace + "-" + name + "-" + version + ".tar.gz"
}

// VersionDetail reads /v3/collections/{ns}/{name}/versions/{version}/. The download URL
// is made absolute against the detail URL.
func (c *Client) VersionDetail(ctx context.Context, namespace, name, version string) (*CollectionVersion, error) {
	u, err := c.apiURL(ctx, "v3", "collections/"+url.PathEscape(namespace)+"/"+url.PathEscape(name)+"/versions/"+url.PathEscape(version)+"/")
	if err != nil {
		return nil, err
	}
	b, err := c.getJSON(ctx, u)
	if err != nil {
		return nil, err
	}
	v, err := decodeVersionDetail(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	if v.Namespace != namespace || v.Name != name || v.Version != version {
		return nil, fmt.Errorf("%w: %s describes %s", ErrMalformed, u, v.ID())
	}
	base, _ := url.Parse(u)
	d, err := base.Parse(v.DownloadURL)
	if err != nil || (d.Scheme != "http" && d.Scheme != "https") {
		return nil, fmt.Errorf("%w: %s: bad download_url %q", ErrMalformed, u, v.DownloadURL)
	}
	v.DownloadURL = d.String()
	return v, nil
}

// decodeVersionDetail reads a version endpoint answer.
func decodeVersionDetail(b []byte) (*CollectionVersion, error) {
	var doc struct {
		Version     string          `json:"version"`
		DownloadURL string          `json:"download_url"`
		Namespace   json.RawMessage `json:"namespace"`
		Collection  *struct {
			Name string `json:"name"`
		} `json:"collection"`
		Name     string `json:"name"`
		Artifact *struct {
			SHA256   string `json:"sha256"`
			Size     int64  `json:"size"`
			Filename string `json:"filename"`
		} `json:"artifact"`
		Metadata        json.RawMessage   `json:"metadata"`
		Signatures      []json.RawMessage `json:"signatures"`
		RequiresAnsible string            `json:"requires_ansible"`
		CreatedAt       string            `json:"created_at"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: version: %w", ErrMalformed, err)
	}
	v := &CollectionVersion{Version: doc.Version, DownloadURL: doc.DownloadURL, Name: doc.Name,
		RequiresAnsible: doc.RequiresAnsible, CreatedAt: doc.CreatedAt}
	var ns struct {
		Name string `json:"name"`
	}
	if len(doc.Namespace) > 0 && json.Unmarshal(doc.Namespace, &ns) != nil {
		if json.Unmarshal(doc.Namespace, &ns.Name) != nil {
			return nil, fmt.Errorf("%w: version: bad namespace", ErrMalformed)
		}
	}
	v.Namespace = ns.Name
	if doc.Collection != nil && doc.Collection.Name != "" {
		v.Name = doc.Collection.Name
	}
	if !validNamePart(v.Namespace) || !validNamePart(v.Name) {
		return nil, fmt.Errorf("%w: version: bad collection name %q.%q", ErrMalformed, v.Namespace, v.Name)
	}
	if _, err := ParseVersion(v.Version); err != nil {
		return nil, fmt.Errorf("%w: version: %w", ErrMalformed, err)
	}
	if v.DownloadURL == "" {
		return nil, fmt.Errorf("%w: version %s: no download_url", ErrMalformed, v.ID())
	}
	if doc.Artifact != nil {
		v.SHA256 = strings.ToLower(doc.Artifact.SHA256)
		v.Size = doc.Artifact.Size
		if v.Size < 0 {
			return nil, fmt.Errorf("%w: version %s: negative size", ErrMalformed, v.ID())
		}
	}
	if v.SHA256 != "" && !isHex(v.SHA256, 64) {
		return nil, fmt.Errorf("%w: version %s: bad sha256 %q", ErrMalformed, v.ID(), v.SHA256)
	}
	v.Filename = ArtifactName(v.Namespace, v.Name, v.Version)
	for _, s := range doc.Signatures {
		if len(s) == 0 || s[0] != '{' {
			return nil, fmt.Errorf("%w: version %s: a signature is not an object", ErrMalformed, v.ID())
		}
	}
	v.Signatures = doc.Signatures
	meta, deps, err := normalizeMetadata(doc.Metadata)
	if err != nil {
		return nil, fmt.Errorf("%w: version %s: %w", ErrMalformed, v.ID(), err)
	}
	v.Metadata, v.Dependencies = meta, deps
	return v, nil
}

// normalizeMetadata checks the metadata object and its dependencies, and returns it
// re-encoded with "dependencies" always present.
func normalizeMetadata(raw json.RawMessage) (json.RawMessage, map[string]string, error) {
	m := map[string]json.RawMessage{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, nil, fmt.Errorf("metadata: %w", err)
		}
	}
	deps := map[string]string{}
	if d, ok := m["dependencies"]; ok && string(d) != "null" {
		if err := json.Unmarshal(d, &deps); err != nil {
			return nil, nil, fmt.Errorf("metadata.dependencies: %w", err)
		}
	}
	for name, r := range deps {
		if _, _, err := splitName(name); err != nil {
			return nil, nil, fmt.Errorf("dependency: %v", err) // not the caller's ErrRequirements: upstream's data
		}
		if _, err := ParseRange(r); err != nil {
			return nil, nil, fmt.Errorf("dependency %s: %v", name, err)
		}
	}
	db, _ := json.Marshal(deps)
	m["dependencies"] = db
	out, err := json.Marshal(m)
	if err != nil {
		return nil, nil, err
	}
	return out, deps, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Role is a role as the v1 API describes it.
type Role struct {
	ID         int64  `json:"id"`
	Owner      string `json:"owner"`
	Name       string `json:"name"`
	GithubUser string `json:"github_user,omitempty"`
	GithubRepo string `json:"github_repo,omitempty"`
	Branch     string `json:"github_branch,omitempty"`
	// Description is the role's summary, if any.
	Description string `json:"description,omitempty"`
}

// RoleVersion is one version of a role.
type RoleVersion struct {
	Name        string `json:"name"`
	DownloadURL string `json:"download_url,omitempty"`
	Source      string `json:"source,omitempty"`
}

// LookupRole asks /v1/roles/?owner__username=X&name=Y. ErrNotFound when there is none.
func (c *Client) LookupRole(ctx context.Context, owner, name string) (*Role, error) {
	u, err := c.apiURL(ctx, "v1", "roles/?owner__username="+url.QueryEscape(owner)+"&name="+url.QueryEscape(name))
	if err != nil {
		return nil, err
	}
	r, err := c.openJSON(ctx, u)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var found *Role
	_, _, err = decodePage(r, func(raw json.RawMessage) error {
		role, err := decodeRole(raw)
		if err == nil && found == nil && strings.EqualFold(role.Name, name) && (role.Owner == "" || strings.EqualFold(role.Owner, owner)) {
			role.Owner, role.Name = owner, name
			found = role
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	if found == nil {
		return nil, fmt.Errorf("%w: role %s.%s", ErrNotFound, owner, name)
	}
	return found, nil
}

func decodeRole(raw json.RawMessage) (*Role, error) {
	var it struct {
		ID            json.Number `json:"id"`
		Name          string      `json:"name"`
		GithubUser    string      `json:"github_user"`
		GithubRepo    string      `json:"github_repo"`
		GithubBranch  string      `json:"github_branch"`
		Description   string      `json:"description"`
		SummaryFields struct {
			Namespace struct {
				Name string `json:"name"`
			} `json:"namespace"`
		} `json:"summary_fields"`
		Namespace json.RawMessage `json:"namespace"`
	}
	if err := json.Unmarshal(raw, &it); err != nil {
		return nil, fmt.Errorf("%w: role: %w", ErrMalformed, err)
	}
	id, err := strconv.ParseInt(string(it.ID), 10, 64)
	if err != nil || id < 0 {
		return nil, fmt.Errorf("%w: role %q: bad id %q", ErrMalformed, it.Name, it.ID)
	}
	owner := it.SummaryFields.Namespace.Name
	if owner == "" {
		owner = it.GithubUser
	}
	return &Role{ID: id, Owner: owner, Name: it.Name, GithubUser: it.GithubUser,
		GithubRepo: it.GithubRepo, Branch: it.GithubBranch, Description: it.Description}, nil
}

// RoleVersions lists a role's versions (/v1/roles/{id}/versions/).
func (c *Client) RoleVersions(ctx context.Context, role *Role) ([]RoleVersion, error) {
	u, err := c.apiURL(ctx, "v1", "roles/"+strconv.FormatInt(role.ID, 10)+"/versions/?page_size=50")
	if err != nil {
		return nil, err
	}
	var out []RoleVersion
	err = c.paginate(ctx, u, func(raw json.RawMessage) error {
		v, err := decodeRoleVersion(raw)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

func decodeRoleVersion(raw json.RawMessage) (RoleVersion, error) {
	var v RoleVersion
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("%w: role version: %w", ErrMalformed, err)
	}
	if !validRolePart(strings.ReplaceAll(v.Name, ".", "_")) {
		return v, fmt.Errorf("%w: role version %q", ErrMalformed, v.Name)
	}
	return v, nil
}

// roleArchiveURL is where ansible-galaxy would download a role version from: its
// download_url, else its source, else the GitHub archive of the tag.
func roleArchiveURL(r *Role, v RoleVersion) string {
	switch {
	case v.DownloadURL != "":
		return v.DownloadURL
	case v.Source != "":
		return v.Source
	case r.GithubUser != "" && r.GithubRepo != "":
		return "https://github.com/" + url.PathEscape(r.GithubUser) + "/" + url.PathEscape(r.GithubRepo) + "/archive/" + url.PathEscape(v.Name) + ".tar.gz"
	}
	return ""
}

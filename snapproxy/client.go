package snapproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/fetch/retry"
)

// DefaultStoreURL is the public Snap Store API.
const DefaultStoreURL = "https://api.snapcraft.io"

// AssertionMediaType is the media type of assertion text.
const AssertionMediaType = "application/x.ubuntu.assertion"

// Caps of the answers read whole. A refresh answer holds one result per action (at most
// maxActions, a few kB each), an info answer one snap's channel map: 32 MiB is far
// beyond either. An assertion answer is one assertion (the Decoder caps its parts).
const (
	maxJSONSize      = 32 << 20
	maxAssertionSize = 4 << 20
)

// refreshFields are the snap fields a refresh asks for.
var refreshFields = []string{"base", "confinement", "download", "epoch", "name", "publisher", "revision", "snap-id", "snap-yaml", "summary", "type", "version"}

// Client talks to the Snap Store API (or a Snap Store Proxy, or a test store).
type Client struct {
	// BaseURL is the API root (DefaultStoreURL when empty).
	BaseURL string
	// Fetch makes the GET requests (info, assertions, downloads) into its Store. Required.
	Fetch *fetch.Client
	// HTTP sends the refresh POSTs (nil: Fetch.HTTPClient(), the transport and timeouts
	// of the downloads).
	HTTP *http.Client
	// UserAgent is sent on every request (default "airgap-snapproxy").
	UserAgent string
	// Header is added to every API request and to the download request on the store host
	// (e.g. Authorization for a brand store); fetch never forwards it to the CDN host a
	// download redirects to.
	Header http.Header
	// Retries, when not zero, replaces Fetch's Retries for the refresh POSTs (negative:
	// none). They are retried as Fetch retries its GETs (store/fetch/retry: 429, 5xx,
	// network errors, waiting as Retry-After asks).
	Retries int
}

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultStoreURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

// header returns the headers of every request, as snapd sends them: the device's series,
// architecture (when arch is set), classic-ness (a mirror installs on classic systems) and
// the default-tracks capability, without which the store resolves a request without a
// track to latest instead of the snap's default track.
func (c *Client) header(arch string) http.Header {
	h := http.Header{}
	for k, v := range c.Header {
		h[k] = append([]string(nil), v...)
	}
	ua := c.UserAgent
	if ua == "" {
		ua = "airgap-snapproxy"
	}
	h.Set("User-Agent", ua)
	h.Set("Snap-Device-Series", series)
	if arch != "" {
		h.Set("Snap-Device-Architecture", arch)
	}
	h.Set("Snap-Classic", "true")
	h.Set("Snap-Device-Capabilities", "default-tracks")
	return h
}

// maxFormats are the assertion formats snapd (2.6x) understands, sent as max-format: the
// store serves nothing newer. Types not listed have only format 0.
var maxFormats = map[string]int{"snap-declaration": 6, "account-key": 1, "system-user": 2}

// Action asks for one snap: by Revision when set, else by Channel. A channel without a
// track ("", "edge") means the snap's default track, which the store resolves (latest
// unless the publisher set another); "" means its stable risk.
type Action struct {
	Name     string
	Channel  string
	Revision int
}

// Download is where and what to download.
type Download struct {
	URL string `json:"url"`
	// SHA3_384 is hex.
	SHA3_384 string `json:"sha3-384"`
	Size     int64  `json:"size"`
}

// Publisher is a snap's publisher account.
type Publisher struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display-name"`
}

// SnapDetails is the snap of a refresh result.
type SnapDetails struct {
	SnapID      string    `json:"snap-id"`
	Name        string    `json:"name"`
	Revision    int       `json:"revision"`
	Version     string    `json:"version"`
	Type        string    `json:"type"`
	Base        string    `json:"base"`
	Confinement string    `json:"confinement"`
	SnapYAML    string    `json:"snap-yaml"`
	Publisher   Publisher `json:"publisher"`
	Download    Download  `json:"download"`
}

// RefreshResult is the answer to one Action: Snap and EffectiveChannel, or Err (a
// *StoreError).
type RefreshResult struct {
	Action           Action
	EffectiveChannel string
	Snap             SnapDetails
	Err              error
}

type refreshAction struct {
	Action      string    `json:"action"`
	InstanceKey string    `json:"instance-key"`
	Name        string    `json:"name"`
	Channel     string    `json:"channel,omitempty"`
	Revision    int       `json:"revision,omitempty"`
	Epoch       *struct{} `json:"epoch"`
}

type storeErr struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Extra   struct {
		Releases []Release `json:"releases"`
	} `json:"extra"`
}

// Refresh sends download actions for one architecture (a dpkg name such as amd64) and
// returns one result per action, in order. Per-snap failures are in RefreshResult.Err;
// the error is for the request as a whole.
func (c *Client) Refresh(ctx context.Context, arch string, actions []Action) ([]RefreshResult, error) {
	if len(actions) == 0 {
		return nil, nil
	}
	req := struct {
		Context []any           `json:"context"`
		Actions []refreshAction `json:"actions"`
		Fields  []string        `json:"fields"`
	}{Context: []any{}, Fields: refreshFields}
	for i, a := range actions {
		ra := refreshAction{Action: "download", InstanceKey: "download-" + strconv.Itoa(i), Name: a.Name}
		if a.Revision > 0 {
			ra.Revision = a.Revision
		} else {
			ra.Channel = a.Channel
		}
		req.Actions = append(req.Actions, ra)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	h := c.header(arch)
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	b, err := c.post(ctx, c.base()+"/v2/snaps/refresh", h, body)
	if err != nil {
		return nil, err
	}
	return decodeRefresh(b, arch, actions)
}

// decodeRefresh parses a refresh answer into one result per action.
func decodeRefresh(b []byte, arch string, actions []Action) ([]RefreshResult, error) {
	var resp struct {
		Results []struct {
			Result           string      `json:"result"`
			InstanceKey      string      `json:"instance-key"`
			Name             string      `json:"name"`
			EffectiveChannel string      `json:"effective-channel"`
			Snap             SnapDetails `json:"snap"`
			Error            *storeErr   `json:"error"`
		} `json:"results"`
		ErrorList []storeErr `json:"error-list"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("%w: refresh: %v", ErrMalformed, err)
	}
	if len(resp.ErrorList) > 0 && len(resp.Results) == 0 {
		e := resp.ErrorList[0]
		return nil, fmt.Errorf("snapproxy: refresh: %s: %s", e.Code, e.Message)
	}
	out := make([]RefreshResult, len(actions))
	got := make([]bool, len(actions))
	for _, r := range resp.Results {
		i, err := strconv.Atoi(strings.TrimPrefix(r.InstanceKey, "download-"))
		if err != nil || i < 0 || i >= len(actions) || got[i] {
			return nil, fmt.Errorf("%w: refresh: unknown instance-key %q", ErrMalformed, r.InstanceKey)
		}
		got[i] = true
		a := actions[i]
		out[i].Action = a
		switch r.Result {
		case "error":
			se := &StoreError{Name: a.Name, Channel: a.Channel, Revision: a.Revision, Architecture: arch}
			if r.Error != nil {
				se.Code, se.Message, se.Releases = r.Error.Code, r.Error.Message, r.Error.Extra.Releases
			} else {
				se.Code = "unknown"
			}
			out[i].Err = se
		case "download":
			if err := checkDetails(r.Snap, a); err != nil {
				return nil, err
			}
			out[i].Snap, out[i].EffectiveChannel = r.Snap, r.EffectiveChannel
		default:
			return nil, fmt.Errorf("%w: refresh: result %q for %s", ErrMalformed, r.Result, a.Name)
		}
	}
	for i, ok := range got {
		if !ok {
			return nil, fmt.Errorf("%w: refresh: no result for %s", ErrMalformed, actions[i].Name)
		}
	}
	return out, nil
}

func checkDetails(s SnapDetails, a Action) error {
	switch {
	case s.Name != a.Name:
		return fmt.Errorf("%w: refresh: asked for %s, got %q", ErrMalformed, a.Name, s.Name)
	case !validName(s.Name):
		return fmt.Errorf("%w: refresh: invalid snap name %q", ErrMalformed, s.Name)
	case s.SnapID == "" || strings.ContainsAny(s.SnapID, "/?#% "):
		return fmt.Errorf("%w: refresh: %s: invalid snap-id %q", ErrMalformed, s.Name, s.SnapID)
	case s.Revision <= 0:
		return fmt.Errorf("%w: refresh: %s: revision %d", ErrMalformed, s.Name, s.Revision)
	case a.Revision > 0 && s.Revision != a.Revision:
		return fmt.Errorf("%w: refresh: asked for %s revision %d, got %d", ErrMalformed, s.Name, a.Revision, s.Revision)
	case s.Download.URL == "" || s.Download.Size <= 0:
		return fmt.Errorf("%w: refresh: %s: no download url or size", ErrMalformed, s.Name)
	}
	if _, err := HexToSnapSHA3(s.Download.SHA3_384); err != nil {
		return fmt.Errorf("refresh: %s: %w", s.Name, err)
	}
	return nil
}

// validName reports whether s is a snap name: lower-case letters, digits and single
// dashes, at least one letter, 40 characters at most.
func validName(s string) bool {
	if s == "" || len(s) > 40 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	letter := false
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9', c == '-':
		default:
			return false
		}
	}
	return letter
}

// post sends a JSON POST, retried by Fetch's retry policy.
func (c *Client) post(ctx context.Context, u string, h http.Header, body []byte) ([]byte, error) {
	hc := c.HTTP
	if hc == nil {
		hc = c.Fetch.HTTPClient()
	}
	policy := c.Fetch.RetryPolicy()
	if c.Retries != 0 {
		policy.Retries = c.Retries
	}
	var out []byte
	err := policy.Do(ctx, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return retry.Mark(err, retry.Permanent)
		}
		req.Header = h.Clone()
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("snapproxy: POST %s: %w", u, err) // retry.Classify: TLS errors are final
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fetch.NewHTTPError(resp) // classified by status, with its Retry-After
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONSize+1))
		if err != nil {
			return retry.Mark(fmt.Errorf("snapproxy: POST %s: %w", u, err), retry.Transient)
		}
		if len(b) > maxJSONSize {
			return fmt.Errorf("snapproxy: POST %s: %w: answer over the limit of %d bytes", u, store.ErrTooLarge, maxJSONSize)
		}
		out = b
		return nil
	})
	return out, err
}

// ChannelEntry is one release in a snap's channel map.
type ChannelEntry struct {
	Channel      string
	Track        string
	Risk         string
	Architecture string
	Revision     int
	Version      string
	Download     Download
}

// Info is a snap's channel map.
type Info struct {
	Name   string
	SnapID string
	// DefaultTrack is the track a request without one gets ("" : latest).
	DefaultTrack string
	ChannelMap   []ChannelEntry
}

// Info returns the channel map of a snap (all architectures when arch is "").
func (c *Client) Info(ctx context.Context, name, arch string) (*Info, error) {
	if !validName(name) {
		return nil, fmt.Errorf("%w: invalid snap name %q", ErrNameNotFound, name)
	}
	q := url.Values{"fields": {"channel-map,revision,version,download"}}
	if arch != "" {
		q.Set("architecture", arch)
	}
	h := c.header(arch)
	h.Set("Accept", "application/json")
	b, _, err := c.Fetch.FetchBytes(ctx, fetch.Request{URL: c.base() + "/v2/snaps/info/" + name + "?" + q.Encode(), Header: h, MaxSize: maxJSONSize})
	var he *fetch.HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusNotFound {
		return nil, &StoreError{Name: name, Code: "name-not-found", Architecture: arch}
	}
	if err != nil {
		return nil, err
	}
	var resp struct {
		Name         string `json:"name"`
		SnapID       string `json:"snap-id"`
		DefaultTrack string `json:"default-track"`
		ChannelMap   []struct {
			Channel struct {
				Name         string `json:"name"`
				Track        string `json:"track"`
				Risk         string `json:"risk"`
				Architecture string `json:"architecture"`
			} `json:"channel"`
			Revision int      `json:"revision"`
			Version  string   `json:"version"`
			Download Download `json:"download"`
		} `json:"channel-map"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("%w: info %s: %v", ErrMalformed, name, err)
	}
	info := &Info{Name: resp.Name, SnapID: resp.SnapID, DefaultTrack: resp.DefaultTrack}
	for _, e := range resp.ChannelMap {
		info.ChannelMap = append(info.ChannelMap, ChannelEntry{
			Channel: e.Channel.Track + "/" + e.Channel.Risk, Track: e.Channel.Track, Risk: e.Channel.Risk,
			Architecture: e.Channel.Architecture, Revision: e.Revision, Version: e.Version, Download: e.Download,
		})
	}
	return info, nil
}

// Assertion fetches one assertion by type and primary keys, and checks that it is what
// was asked for (its signature is checked later, with the chain).
func (c *Client) Assertion(ctx context.Context, typ string, keys ...string) (*Assertion, error) {
	parts := []string{url.PathEscape(typ)}
	for _, k := range keys {
		if k == "" {
			return nil, fmt.Errorf("%w: empty primary key for %s", ErrAssertionNotFound, typ)
		}
		parts = append(parts, url.PathEscape(k))
	}
	h := c.header("")
	h.Set("Accept", AssertionMediaType)
	u := c.base() + "/v2/assertions/" + strings.Join(parts, "/") + "?max-format=" + strconv.Itoa(maxFormats[typ])
	b, _, err := c.Fetch.FetchBytes(ctx, fetch.Request{URL: u, Header: h, MaxSize: maxAssertionSize})
	var he *fetch.HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%w: %s/%s", ErrAssertionNotFound, typ, strings.Join(keys, "/"))
	}
	if err != nil {
		return nil, err
	}
	a, err := DecodeAssertion(b)
	if err != nil {
		return nil, fmt.Errorf("snapproxy: %s/%s: %w", typ, strings.Join(keys, "/"), err)
	}
	if a.Type() != typ || strings.Join(a.PrimaryKey(), "/") != strings.Join(keys, "/") {
		return nil, fmt.Errorf("%w: asked for %s/%s, got %s", ErrAssertionMismatch, typ, strings.Join(keys, "/"), a)
	}
	return a, nil
}

// Download fetches a snap file into the Fetch store, verified by size and SHA3-384
// (resumable; Header goes to the store host only). known, when not empty, is the sha256
// digest of the same file from an earlier sync: when the store holds it no request is
// made.
func (c *Client) Download(ctx context.Context, d Download, known store.Digest) (fetch.Result, error) {
	e := store.Expect{Size: d.Size}.With(store.SHA3_384, d.SHA3_384)
	if known != "" {
		e = e.With(store.SHA256, known.Hex())
	}
	return c.Fetch.Fetch(ctx, fetch.Request{URL: d.URL, Expect: e, Header: c.header("")})
}

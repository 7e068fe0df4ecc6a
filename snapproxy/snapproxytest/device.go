package snapproxytest

import (
	"bytes"
	"context"
	"crypto/sha3"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors a Device returns.
var (
	// ErrRefused: the store's answer is one snapd would refuse (missing or mistyped
	// fields, unknown instance-keys, a download URL off the store, a wrong digest).
	ErrRefused = errors.New("snapproxytest: device refuses the store's answer")
	// ErrSnapNotFound: the store has no such snap (name-not-found, id-not-found, a 404
	// from info).
	ErrSnapNotFound = errors.New("snapproxytest: snap not found")
	// ErrRevisionNotAvailable: the store has the snap but not what was asked
	// (revision-not-found); the *ActionError lists the releases.
	ErrRevisionNotAvailable = errors.New("snapproxytest: no snap revision available as specified")
	// ErrAssertionNotFound: the assertions endpoint answered not-found.
	ErrAssertionNotFound = errors.New("snapproxytest: assertion not found")
)

// snapFields are the snap fields snapd asks the refresh and info endpoints for.
var snapFields = []string{"architectures", "base", "confinement", "links", "contact", "created-at", "description",
	"download", "epoch", "license", "name", "prices", "private", "publisher", "revision", "snap-id", "snap-yaml",
	"summary", "title", "type", "version", "website", "store-url", "media", "common-ids", "categories"}

// maxFormats are the assertion formats snapd understands (max-format).
var maxFormats = map[string]int{"snap-declaration": 6, "account-key": 1, "system-user": 2}

// Device is a strict fake of snapd's store client, written from the Store API's
// documentation and snapd's observable behaviour, for proving a store on 127.0.0.1. It
// sends what snapd sends (headers, the context of installed snaps, install actions with
// "epoch": null, refresh actions keyed by snap-id without one) and refuses what snapd
// refuses, more strictly where an air gap makes it certain to fail later: answers that
// do not decode into the documented types, results for instance-keys it did not send,
// snaps without name, snap-id, revision, version, epoch or download, download URLs that
// are not on the store's host, files whose size or sha3-384 differ, assertions that do
// not vouch for the file.
type Device struct {
	// Store is the store API's base URL: a proxy store's url, or https://api.snapcraft.io
	// reached through an HTTPS proxy (HTTP's transport).
	Store string
	// HTTP sends the requests; nil: http.DefaultClient.
	HTTP *http.Client
	// Arch is the dpkg architecture (default amd64).
	Arch string
	// StoreID, when set, is sent as Snap-Device-Store (snap set system proxy.store=ID).
	StoreID string
	// Serial makes the device ask for a device session (nonce, then session) before its
	// first request and send it as Snap-Device-Authorization, as a device with a serial
	// assertion does.
	Serial bool
	// Trusted are the account-key ids the device's assertion database starts with (its
	// built-in root): the key chain of a download is fetched up to one of them.
	Trusted []string
	// Verify, when set, checks the assertions of each download (snapd: its assertion
	// database); they are passed in the order fetched, each as the store sent it.
	Verify func(assertions [][]byte) error
	// CutDownloads makes the first attempt of each download stop after this many bytes
	// (a dropped connection); the device then resumes with Range, as snapd does.
	CutDownloads int64

	mu        sync.Mutex
	installed map[string]*Installed
	held      map[string]bool
	session   string
	// Ranged counts resumed downloads.
	Ranged int
}

// Installed is a snap on the device.
type Installed struct {
	Name, SnapID string
	Revision     int
	// Channel is the channel tracked, as the store's effective-channel gave it ("" for
	// a revision installed without one: the context then says "stable").
	Channel string
	Version string
	Epoch   Epoch
	// File is the downloaded snap.
	File []byte
}

// Epoch is the store's epoch object.
type Epoch struct {
	Read  []uint32 `json:"read"`
	Write []uint32 `json:"write"`
}

// Release is one channel and architecture a revision-not-found names.
type Release struct {
	Architecture string `json:"architecture"`
	Channel      string `json:"channel"`
}

// ActionError is an error result of the refresh endpoint.
type ActionError struct {
	Action, Name, Code, Message string
	Releases                    []Release
}

func (e *ActionError) Error() string {
	return fmt.Sprintf("cannot %s snap %q: %s: %s", e.Action, e.Name, e.Code, e.Message)
}

// Is matches ErrSnapNotFound and ErrRevisionNotAvailable by code, as snapd translates them.
func (e *ActionError) Is(target error) bool {
	switch target {
	case ErrSnapNotFound:
		return e.Code == "name-not-found" || e.Code == "id-not-found"
	case ErrRevisionNotAvailable:
		return e.Code == "revision-not-found"
	}
	return false
}

// Installed returns the installed snap of that name, or nil.
func (d *Device) Installed(name string) *Installed {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.installed[name]
}

// Hold keeps a snap from being refreshed by Refresh without names (refresh.hold): it
// stays in the context, marked held by the system.
func (d *Device) Hold(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.held == nil {
		d.held = map[string]bool{}
	}
	d.held[name] = true
}

func (d *Device) client() *http.Client {
	if d.HTTP != nil {
		return d.HTTP
	}
	return http.DefaultClient
}

func (d *Device) arch() string {
	if d.Arch == "" {
		return "amd64"
	}
	return d.Arch
}

func (d *Device) endpoint(p string, q url.Values) string {
	u := strings.TrimRight(d.Store, "/") + "/" + p
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// header is what snapd sends with every store request.
func (d *Device) header(accept string) http.Header {
	h := http.Header{}
	h.Set("User-Agent", "snapd/2.66.1 (series 16; classic) ubuntu/24.04 ("+d.arch()+")")
	h.Set("Accept", accept)
	h.Set("Snap-Device-Architecture", d.arch())
	h.Set("Snap-Device-Series", "16")
	h.Set("Snap-Classic", "true")
	h.Set("Snap-Device-Capabilities", "default-tracks")
	if d.StoreID != "" {
		h.Set("Snap-Device-Store", d.StoreID)
	}
	if d.session != "" {
		h.Set("Snap-Device-Authorization", `Macaroon root="`+d.session+`"`)
	}
	return h
}

func (d *Device) do(ctx context.Context, method, u string, h http.Header, body []byte) (*http.Response, []byte, error) {
	if err := d.ensureSession(ctx); err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header = h
	resp, err := d.client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp, b, err
}

// ensureSession gets a device session once, when the device has a serial.
func (d *Device) ensureSession(ctx context.Context) error {
	d.mu.Lock()
	need := d.Serial && d.session == ""
	d.mu.Unlock()
	if !need {
		return nil
	}
	post := func(p string, body []byte, field string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.endpoint(p, nil), bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("User-Agent", "snapd/2.66.1")
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := d.client().Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var v map[string]string
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&v) != nil || v[field] == "" {
			return "", fmt.Errorf("%w: %s: status %d, no %s", ErrRefused, p, resp.StatusCode, field)
		}
		return v[field], nil
	}
	nonce, err := post("api/v1/snaps/auth/nonces", nil, "nonce")
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"serial-assertion": "type: serial\n...", "device-session-request": "type: device-session-request\nnonce: " + nonce})
	mac, err := post("api/v1/snaps/auth/sessions", body, "macaroon")
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.session = mac
	d.mu.Unlock()
	return nil
}

// deviceAction is one action of a refresh request, as snapd encodes it.
type deviceAction struct {
	Action      string `json:"action"`
	InstanceKey string `json:"instance-key"`
	Name        string `json:"name,omitempty"`
	SnapID      string `json:"snap-id,omitempty"`
	Channel     string `json:"channel,omitempty"`
	Revision    int    `json:"revision,omitempty"`
	// Epoch is null for install and download (the client handles epochs), absent for
	// refresh.
	Epoch any `json:"epoch,omitempty"`
}

type contextEntry struct {
	SnapID          string              `json:"snap-id"`
	InstanceKey     string              `json:"instance-key"`
	Revision        int                 `json:"revision"`
	TrackingChannel string              `json:"tracking-channel"`
	Epoch           Epoch               `json:"epoch"`
	RefreshedDate   string              `json:"refreshed-date"`
	Held            map[string][]string `json:"held,omitempty"`
}

// storeSnap is the snap object of a result, with the types snapd decodes it into.
type storeSnap struct {
	Architectures []string `json:"architectures"`
	Base          *string  `json:"base"`
	Confinement   string   `json:"confinement"`
	Download      *struct {
		URL    string `json:"url"`
		SHA384 string `json:"sha3-384"`
		Size   int64  `json:"size"`
		Deltas []any  `json:"deltas"`
	} `json:"download"`
	Epoch     *Epoch `json:"epoch"`
	Name      string `json:"name"`
	Publisher struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"publisher"`
	Revision int    `json:"revision"`
	SnapID   string `json:"snap-id"`
	SnapYAML string `json:"snap-yaml"`
	Type     string `json:"type"`
	Version  string `json:"version"`
	Private  bool   `json:"private"`
	Summary  string `json:"summary"`
}

type actionResult struct {
	Result           string    `json:"result"`
	InstanceKey      string    `json:"instance-key"`
	SnapID           string    `json:"snap-id"`
	Name             string    `json:"name"`
	EffectiveChannel string    `json:"effective-channel"`
	Snap             storeSnap `json:"snap"`
	Error            *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Extra   struct {
			Releases []Release `json:"releases"`
		} `json:"extra"`
	} `json:"error"`
}

var snapIDRE = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

// snapAction posts one refresh request with the context of every installed snap.
func (d *Device) snapAction(ctx context.Context, actions []deviceAction, scheduled bool) ([]actionResult, error) {
	d.mu.Lock()
	ctxEntries := []contextEntry{}
	for _, name := range slices.Sorted(maps.Keys(d.installed)) {
		in := d.installed[name]
		ch := in.Channel
		if ch == "" {
			ch = "stable" // as snapd sends an untracked snap
		}
		ce := contextEntry{SnapID: in.SnapID, InstanceKey: in.SnapID, Revision: in.Revision, TrackingChannel: ch,
			Epoch: in.Epoch, RefreshedDate: "2024-01-01T00:00:00Z"}
		if d.held[name] {
			ce.Held = map[string][]string{"by": {"system"}}
		}
		ctxEntries = append(ctxEntries, ce)
	}
	d.mu.Unlock()
	body, err := json.Marshal(map[string]any{"context": ctxEntries, "actions": actions, "fields": snapFields})
	if err != nil {
		return nil, err
	}
	h := d.header("application/json")
	h.Set("Content-Type", "application/json")
	if scheduled {
		h.Set("Snap-Refresh-Reason", "scheduled")
	}
	resp, b, err := d.do(ctx, http.MethodPost, d.endpoint("v2/snaps/refresh", nil), h, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: refresh: HTTP %d: %s", ErrRefused, resp.StatusCode, b)
	}
	var list struct {
		Results   []actionResult `json:"results"`
		ErrorList []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error-list"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%w: refresh answer: %v", ErrRefused, err)
	}
	if len(list.ErrorList) > 0 {
		return nil, fmt.Errorf("%w: refresh: %s: %s", ErrRefused, list.ErrorList[0].Code, list.ErrorList[0].Message)
	}
	sent := map[string]deviceAction{}
	for _, a := range actions {
		sent[a.InstanceKey] = a
	}
	seen := map[string]bool{}
	for _, r := range list.Results {
		a, ok := sent[r.InstanceKey]
		if !ok || seen[r.InstanceKey] {
			return nil, fmt.Errorf("%w: result for instance-key %q, not sent or twice", ErrRefused, r.InstanceKey)
		}
		seen[r.InstanceKey] = true
		if err := d.checkResult(a, r); err != nil {
			return nil, err
		}
	}
	return list.Results, nil
}

// checkResult applies snapd's checks to one result, and the stricter ones of an air gap.
func (d *Device) checkResult(a deviceAction, r actionResult) error {
	if r.Result == "error" {
		if r.Error == nil || r.Error.Code == "" {
			return fmt.Errorf("%w: error result without a code", ErrRefused)
		}
		if a.Action != "refresh" && r.Name == "" {
			return fmt.Errorf("%w: %s error result without the name", ErrRefused, a.Action)
		}
		return nil
	}
	if r.Result != a.Action {
		return fmt.Errorf("%w: %q result for a %s action", ErrRefused, r.Result, a.Action)
	}
	s := r.Snap
	switch {
	case s.Name == "" || a.Name != "" && s.Name != a.Name:
		return fmt.Errorf("%w: snap name %q for %q", ErrRefused, s.Name, a.Name)
	case !snapIDRE.MatchString(s.SnapID) || a.SnapID != "" && s.SnapID != a.SnapID:
		return fmt.Errorf("%w: %s: snap-id %q", ErrRefused, s.Name, s.SnapID)
	case s.Revision <= 0 || a.Revision > 0 && s.Revision != a.Revision:
		return fmt.Errorf("%w: %s: revision %d", ErrRefused, s.Name, s.Revision)
	case s.Version == "" || s.Epoch == nil || len(s.Epoch.Read) == 0 || len(s.Epoch.Write) == 0:
		return fmt.Errorf("%w: %s: no version or epoch", ErrRefused, s.Name)
	case s.Download == nil || s.Download.Size <= 0 || len(s.Download.SHA384) != 96:
		return fmt.Errorf("%w: %s: no download, size or sha3-384", ErrRefused, s.Name)
	case !slices.Contains([]string{"app", "base", "os", "snapd", "gadget", "kernel"}, s.Type):
		return fmt.Errorf("%w: %s: type %q", ErrRefused, s.Name, s.Type)
	case a.Channel != "" && r.EffectiveChannel == "":
		return fmt.Errorf("%w: %s: no effective-channel", ErrRefused, s.Name)
	}
	if _, err := hex.DecodeString(s.Download.SHA384); err != nil || strings.ToLower(s.Download.SHA384) != s.Download.SHA384 {
		return fmt.Errorf("%w: %s: sha3-384 %q is not lower-case hex", ErrRefused, s.Name, s.Download.SHA384)
	}
	du, err := url.Parse(s.Download.URL)
	su, _ := url.Parse(d.Store)
	if err != nil || !du.IsAbs() || su == nil || du.Host != su.Host || du.Scheme != su.Scheme {
		return fmt.Errorf("%w: %s: download URL %q is not on the store %s", ErrRefused, s.Name, s.Download.URL, d.Store)
	}
	return nil
}

func resultError(action string, r actionResult) error {
	if r.Result != "error" {
		return nil
	}
	return &ActionError{Action: action, Name: r.Name, Code: r.Error.Code, Message: r.Error.Message, Releases: r.Error.Extra.Releases}
}

// Install installs a snap by channel ("" : the default track's stable) or revision, as
// `snap install` does: resolve, download (resuming), fetch and check the assertions.
func (d *Device) Install(ctx context.Context, name, channel string, revision int) (*Installed, error) {
	res, err := d.snapAction(ctx, []deviceAction{{Action: "install", InstanceKey: "install-1", Name: name, Channel: channel,
		Revision: revision, Epoch: (*Epoch)(nil)}}, false)
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("%w: %d results for one install", ErrRefused, len(res))
	}
	if err := resultError("install", res[0]); err != nil {
		return nil, err
	}
	return d.apply(ctx, res[0])
}

// Refresh refreshes the named snaps (none: every installed snap not held, as the
// scheduled refresh does) and returns those that changed; a snap with nothing newer is
// not an error. Per-snap errors are joined.
func (d *Device) Refresh(ctx context.Context, names ...string) ([]*Installed, error) {
	scheduled := len(names) == 0
	d.mu.Lock()
	if scheduled {
		for n := range d.installed {
			if !d.held[n] {
				names = append(names, n)
			}
		}
		slices.Sort(names)
	}
	var actions []deviceAction
	for _, n := range names {
		in := d.installed[n]
		if in == nil {
			d.mu.Unlock()
			return nil, fmt.Errorf("snapproxytest: %s is not installed", n)
		}
		actions = append(actions, deviceAction{Action: "refresh", InstanceKey: in.SnapID, SnapID: in.SnapID})
	}
	d.mu.Unlock()
	if len(actions) == 0 {
		return nil, nil
	}
	res, err := d.snapAction(ctx, actions, scheduled)
	if err != nil {
		return nil, err
	}
	var changed []*Installed
	var errs []error
	for _, r := range res {
		if r.Result == "error" {
			errs = append(errs, resultError("refresh", r))
			continue
		}
		cur := d.installedByID(r.InstanceKey)
		if cur != nil && cur.Revision == r.Snap.Revision {
			continue // snapd: no update available
		}
		in, err := d.apply(ctx, r)
		if err != nil {
			return changed, err
		}
		changed = append(changed, in)
	}
	return changed, errors.Join(errs...)
}

func (d *Device) installedByID(id string) *Installed {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, in := range d.installed {
		if in.SnapID == id {
			return in
		}
	}
	return nil
}

// apply downloads and checks a resolved revision and installs it.
func (d *Device) apply(ctx context.Context, r actionResult) (*Installed, error) {
	s := r.Snap
	file, err := d.download(ctx, s.Download.URL, s.Download.Size, s.Download.SHA384)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	if err := d.checkAssertions(ctx, s, file); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	in := &Installed{Name: s.Name, SnapID: s.SnapID, Revision: s.Revision, Channel: r.EffectiveChannel, Version: s.Version,
		Epoch: *s.Epoch, File: file}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old := d.installed[s.Name]; old != nil && in.Channel == "" {
		in.Channel = old.Channel
	}
	if d.installed == nil {
		d.installed = map[string]*Installed{}
	}
	d.installed[s.Name] = in
	return in, nil
}

// download fetches a snap file as snapd does: a partial file resumed with Range (a 200
// to a ranged request starts over), then size and sha3-384 checked.
func (d *Device) download(ctx context.Context, u string, size int64, sha string) ([]byte, error) {
	var got []byte
	for attempt := 0; attempt < 3; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", "snapd/2.66.1")
		req.Header.Set("Snap-CDN", "none")
		if len(got) > 0 {
			req.Header.Set("Range", "bytes="+strconv.Itoa(len(got))+"-")
			d.mu.Lock()
			d.Ranged++
			d.mu.Unlock()
		}
		resp, err := d.client().Do(req)
		if err != nil {
			return nil, err
		}
		var body io.Reader = resp.Body
		cut := attempt == 0 && d.CutDownloads > 0
		if cut {
			body = io.LimitReader(resp.Body, d.CutDownloads)
		}
		switch {
		case resp.StatusCode == http.StatusPartialContent && len(got) > 0:
			if !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes "+strconv.Itoa(len(got))+"-") {
				resp.Body.Close()
				return nil, fmt.Errorf("%w: Content-Range %q resuming at %d", ErrRefused, resp.Header.Get("Content-Range"), len(got))
			}
		case resp.StatusCode == http.StatusOK:
			got = nil
		default:
			resp.Body.Close()
			return nil, fmt.Errorf("%w: download: HTTP %d", ErrRefused, resp.StatusCode)
		}
		b, err := io.ReadAll(io.LimitReader(body, size+1))
		resp.Body.Close()
		got = append(got, b...)
		if err != nil || cut && int64(len(got)) < size {
			continue
		}
		break
	}
	sum := sha3.Sum384(got)
	if int64(len(got)) != size || hex.EncodeToString(sum[:]) != sha {
		return nil, fmt.Errorf("%w: downloaded %d bytes with sha3-384 %x, want %d bytes, %s", ErrRefused, len(got), sum, size, sha)
	}
	return got, nil
}

// checkAssertions fetches what snapd fetches before installing a store snap: the
// snap-revision of the file's digest, the snap-declaration, the publisher's account, and
// the account-keys of every signer up to a trusted key; it checks that they describe
// the file, then hands them to Verify.
func (d *Device) checkAssertions(ctx context.Context, s storeSnap, file []byte) error {
	sum := sha3.Sum384(file)
	digest := base64.RawURLEncoding.EncodeToString(sum[:])
	var stream [][]byte
	fetch := func(typ string, key ...string) (map[string]string, error) {
		b, err := d.Assertion(ctx, typ, key...)
		if err != nil {
			return nil, err
		}
		stream = append(stream, b)
		return headersOf(b), nil
	}
	rev, err := fetch("snap-revision", digest)
	if err != nil {
		return err
	}
	if rev["snap-sha3-384"] != digest || rev["snap-id"] != s.SnapID || rev["snap-revision"] != strconv.Itoa(s.Revision) ||
		rev["snap-size"] != strconv.Itoa(len(file)) {
		return fmt.Errorf("%w: the snap-revision does not describe the file", ErrRefused)
	}
	decl, err := fetch("snap-declaration", "16", s.SnapID)
	if err != nil {
		return err
	}
	if decl["snap-name"] != s.Name {
		return fmt.Errorf("%w: the snap-declaration names %q", ErrRefused, decl["snap-name"])
	}
	signers := []string{rev["sign-key-sha3-384"], decl["sign-key-sha3-384"]}
	for _, id := range []string{decl["publisher-id"], rev["developer-id"]} {
		if id == "" || slices.ContainsFunc(stream, func(b []byte) bool { return headersOf(b)["account-id"] == id }) {
			continue
		}
		acc, err := fetch("account", id)
		if err != nil {
			return err
		}
		signers = append(signers, acc["sign-key-sha3-384"])
	}
	done := map[string]bool{}
	for len(signers) > 0 && len(done) < 16 {
		id := signers[0]
		signers = signers[1:]
		if id == "" || done[id] || slices.Contains(d.Trusted, id) {
			continue
		}
		done[id] = true
		k, err := fetch("account-key", id)
		if err != nil {
			return err
		}
		signers = append(signers, k["sign-key-sha3-384"])
	}
	if d.Verify != nil {
		return d.Verify(stream)
	}
	return nil
}

// headersOf reads the single-line headers of an assertion's header block.
func headersOf(b []byte) map[string]string {
	head, _, _ := bytes.Cut(b, []byte("\n\n"))
	h := map[string]string{}
	for _, line := range strings.Split(string(head), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(k, " ") {
			h[k] = v
		}
	}
	return h
}

// Assertion fetches one assertion as snapd does (Accept application/x.ubuntu.assertion,
// max-format), and returns its bytes as sent. A 404 must be the store's JSON error list
// (ErrAssertionNotFound).
func (d *Device) Assertion(ctx context.Context, typ string, key ...string) ([]byte, error) {
	parts := []string{"v2/assertions", typ}
	for _, k := range key {
		parts = append(parts, url.PathEscape(k))
	}
	u := d.endpoint(strings.Join(parts, "/"), url.Values{"max-format": {strconv.Itoa(maxFormats[typ])}})
	resp, b, err := d.do(ctx, http.MethodGet, u, d.header("application/x.ubuntu.assertion"), nil)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Type") == "application/x.ubuntu.assertion":
		if h := headersOf(b); h["type"] != typ {
			return nil, fmt.Errorf("%w: asked for %s, got type %q", ErrRefused, typ, h["type"])
		}
		return b, nil
	case resp.StatusCode == http.StatusNotFound && resp.Header.Get("Content-Type") == "application/json":
		var e struct {
			ErrorList []struct {
				Code string `json:"code"`
			} `json:"error-list"`
		}
		if json.Unmarshal(b, &e) == nil && len(e.ErrorList) > 0 && e.ErrorList[0].Code == "not-found" {
			return nil, fmt.Errorf("%w: %s/%s", ErrAssertionNotFound, typ, strings.Join(key, "/"))
		}
	}
	return nil, fmt.Errorf("%w: assertion %s: HTTP %d %s", ErrRefused, typ, resp.StatusCode, resp.Header.Get("Content-Type"))
}

// ChannelInfo is one entry of a snap's channel map.
type ChannelInfo struct {
	Channel struct {
		Architecture string    `json:"architecture"`
		Name         string    `json:"name"`
		Risk         string    `json:"risk"`
		Track        string    `json:"track"`
		ReleasedAt   time.Time `json:"released-at"`
	} `json:"channel"`
	Revision int    `json:"revision"`
	Version  string `json:"version"`
}

// SnapInfo is what `snap info` learns from the info endpoint.
type SnapInfo struct {
	Name         string        `json:"name"`
	SnapID       string        `json:"snap-id"`
	DefaultTrack *string       `json:"default-track"`
	ChannelMap   []ChannelInfo `json:"channel-map"`
}

// Info asks the info endpoint for a snap's channel map for the device's architecture,
// as `snap info` does.
func (d *Device) Info(ctx context.Context, name string) (*SnapInfo, error) {
	q := url.Values{"fields": {strings.Join(snapFields, ",") + ",channel-map"}, "architecture": {d.arch()}}
	resp, b, err := d.do(ctx, http.MethodGet, d.endpoint("v2/snaps/info/"+name, q), d.header("application/json"), nil)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s", ErrSnapNotFound, name)
	default:
		return nil, fmt.Errorf("%w: info: HTTP %d", ErrRefused, resp.StatusCode)
	}
	var info SnapInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("%w: info: %v", ErrRefused, err)
	}
	if len(info.ChannelMap) == 0 {
		return nil, fmt.Errorf("%w: %s (empty channel map)", ErrSnapNotFound, name)
	}
	for _, c := range info.ChannelMap {
		if c.Revision <= 0 || c.Channel.Track == "" || c.Channel.Risk == "" || c.Channel.Architecture != d.arch() {
			return nil, fmt.Errorf("%w: info: channel-map entry %+v", ErrRefused, c)
		}
	}
	return &info, nil
}

// Find searches as `snap find TERM` does and returns the names found. The answer must
// be application/json, as snapd checks.
func (d *Device) Find(ctx context.Context, term string) ([]string, error) {
	q := url.Values{"fields": {strings.Join(snapFields, ",")}, "architecture": {d.arch()}, "q": {term},
		"channel": {"stable"}, "confinement": {"strict,classic"}}
	resp, b, err := d.do(ctx, http.MethodGet, d.endpoint("v2/snaps/find", q), d.header("application/json"), nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		return nil, fmt.Errorf("%w: find: HTTP %d %s", ErrRefused, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var res struct {
		Results []struct {
			Name     string `json:"name"`
			SnapID   string `json:"snap-id"`
			Revision struct {
				Revision int    `json:"revision"`
				Channel  string `json:"channel"`
				Version  string `json:"version"`
			} `json:"revision"`
			Snap storeSnap `json:"snap"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("%w: find: %v", ErrRefused, err)
	}
	var names []string
	for _, r := range res.Results {
		if r.Name == "" || !snapIDRE.MatchString(r.SnapID) || r.Revision.Revision <= 0 {
			return nil, fmt.Errorf("%w: find result %+v", ErrRefused, r)
		}
		names = append(names, r.Name)
	}
	return names, nil
}

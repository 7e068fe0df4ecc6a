package ocitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is a running upstream.
type Registry struct {
	Server *httptest.Server
	// Host is "127.0.0.1:PORT", the registry part of image references.
	Host string
	// Faults switch misbehaviour on and off while the server runs.
	Faults Faults
	// Content is what Start pushed, by "repo:tag".
	Content map[string]Manifest
	// Scopes lists the scopes the token endpoint was asked for (bearer mode).
	Scopes []string

	inner    http.Handler // the registry without faults
	mu       sync.Mutex
	requests []string
}

// Faults are switches for negative tests. All fields are safe to change while serving.
type Faults struct {
	// CorruptBlob: GETs of this blob digest answer other bytes of the same length.
	CorruptBlob atomic.Value // string
	// CutBlob: the next GET of this blob digest without a Range header sends half the
	// body and drops the connection (the switch then clears itself).
	CutBlob atomic.Value // string
	// Ranges counts blob GETs that carried a Range header (resumed downloads).
	Ranges atomic.Int64
	// TooManyRequests: while positive, each request is answered 429 and the count drops
	// by one; negative means every request, forever.
	TooManyRequests atomic.Int64
	// RetryAfter is the Retry-After value sent with 429s ("" = none).
	RetryAfter atomic.Value // string
	// User and Password, when set, are required as HTTP basic credentials (by the
	// registry, or with Token set by the token endpoint).
	User, Password atomic.Value // string
	// Token, when set, switches on bearer auth: the registry answers 401 with a Bearer
	// challenge whose realm is <server>/token, which hands out this token (to User and
	// Password when they are set) and the registry then requires it.
	Token atomic.Value // string
	// RedirectBlobs, when set to a base URL, answers authorised blob GETs with a 307 to
	// <base><path>, as registries send clients to object storage or a CDN (a Blobs
	// server serves them there).
	RedirectBlobs atomic.Value // string
	// TagPage, when positive, pages tag lists asked for without "n" at that many tags,
	// as registries that cap a page by themselves do (the client follows the Link).
	TagPage atomic.Int64
}

// Blobs is a second origin that serves a registry's blobs without credentials, as the
// object storage or CDN a registry redirects to (Faults.RedirectBlobs); its Recorder
// notes every request that carried some.
type Blobs struct {
	Server *httptest.Server
	*testutil.Recorder
}

// StartBlobs runs a Blobs server for r's content on 127.0.0.1 (another port: another
// origin).
func (r *Registry) StartBlobs() *Blobs {
	b := &Blobs{Recorder: &testutil.Recorder{Next: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet || !strings.Contains(req.URL.Path, "/blobs/") {
			http.NotFound(w, req)
			return
		}
		r.inner.ServeHTTP(w, req)
	})}}
	b.Server = httptest.NewServer(b.Recorder)
	return b
}

// Close stops the server.
func (b *Blobs) Close() { b.Server.Close() }

// Start runs a registry on 127.0.0.1 and fills it with the standard content:
//
//	library/alpine:3.19          single-arch Docker schema 2 image, 2 layers
//	library/alpine:sha256-<hex>.sig  cosign-style signature of 3.19
//	library/alpine-copy:3.19     the same image in a second repository (shared blobs)
//	library/multi:1.0            OCI index: linux/amd64 and linux/arm64/v8
//	tools/db:2                   OCI artifact (artifactType application/vnd.example.db)
//	tools/db referrer            SBOM artifact whose subject is tools/db:2 (referrers API)
//	library/app:1.0.0 1.1.0 1.2.3 2.0.0 2.1.0-rc.1 latest   one small image each
func Start() (*Registry, error) { return start(true) }

// StartEmpty runs a registry with no content (a push target).
func StartEmpty() (*Registry, error) { return start(false) }

func start(fill bool) (*Registry, error) {
	r := &Registry{Content: map[string]Manifest{}}
	r.inner = registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true))
	r.Server = httptest.NewServer(r.middleware(r.inner))
	u, _ := url.Parse(r.Server.URL)
	r.Host = u.Host
	if !fill {
		return r, nil
	}
	if err := r.fill(context.Background()); err != nil {
		r.Server.Close()
		return nil, err
	}
	return r, nil
}

// Close stops the server.
func (r *Registry) Close() { r.Server.Close() }

// Ref returns "HOST/repo:tag" or "HOST/repo@digest".
func (r *Registry) Ref(repoAndRef string) string { return r.Host + "/" + repoAndRef }

// Requests returns the "METHOD path" of every request served so far and forgets them.
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.requests
	r.requests = nil
	return out
}

func (r *Registry) fill(ctx context.Context) error {
	alpine := Image(ImageSpec{Seed: 1, Layers: 2, LayerSize: 4096, Docker: true})
	amd := Image(ImageSpec{Seed: 2, Layers: 2, LayerSize: 2048})
	arm := Image(ImageSpec{Seed: 3, Layers: 2, LayerSize: 2048, Arch: "arm64", Variant: "v8"})
	multi := Index(false, amd, arm)
	db := Artifact("application/vnd.example.db", "application/vnd.example.db.layer.v1.tar+gzip", gzipOf([]byte("vulnerability database v2")), nil)
	sd := db.Descriptor()
	sbom := Artifact("application/spdx+json", "application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3"}`), &sd)
	sig := Signature(r.Host+"/library/alpine", alpine.Digest)
	push := []struct {
		repo, ref string
		m         Manifest
	}{
		{"library/alpine", "3.19", alpine},
		{"library/alpine-copy", "3.19", alpine},
		{"library/alpine", "sha256-" + strings.TrimPrefix(alpine.Digest, "sha256:") + ".sig", sig},
		{"library/multi", "1.0", multi},
		{"tools/db", "2", db},
		{"tools/db", sbom.Digest, sbom},
	}
	for i, tag := range []string{"1.0.0", "1.1.0", "1.2.3", "2.0.0", "2.1.0-rc.1", "latest"} {
		push = append(push, struct {
			repo, ref string
			m         Manifest
		}{"library/app", tag, Image(ImageSpec{Seed: 100 + uint64(i), Layers: 1, LayerSize: 512})})
	}
	for _, p := range push {
		if err := Push(ctx, r.Server.Client(), r.Server.URL, p.repo, p.ref, p.m); err != nil {
			return err
		}
		r.Content[p.repo+":"+p.ref] = p.m
	}
	return nil
}

func (r *Registry) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests = append(r.requests, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		if n := r.Faults.TooManyRequests.Load(); n != 0 {
			if n > 0 {
				r.Faults.TooManyRequests.Add(-1)
			}
			if ra, _ := r.Faults.RetryAfter.Load().(string); ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`)
			return
		}
		if tok, _ := r.Faults.Token.Load().(string); tok != "" {
			if req.URL.Path == "/token" {
				if user, _ := r.Faults.User.Load().(string); user != "" {
					pw, _ := r.Faults.Password.Load().(string)
					if u, p, ok := req.BasicAuth(); !ok || u != user || p != pw {
						w.WriteHeader(http.StatusUnauthorized)
						return
					}
				}
				r.mu.Lock()
				r.Scopes = append(r.Scopes, req.URL.Query()["scope"]...)
				r.mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"token":"`+tok+`","expires_in":300}`)
				return
			}
			if req.Header.Get("Authorization") != "Bearer "+tok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+r.Server.URL+`/token",service="ocitest"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}`)
				return
			}
		} else if user, _ := r.Faults.User.Load().(string); user != "" {
			pw, _ := r.Faults.Password.Load().(string)
			u, p, ok := req.BasicAuth()
			if !ok || u != user || p != pw {
				w.Header().Set("WWW-Authenticate", `Basic realm="ocitest"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
				return
			}
		}
		if base, _ := r.Faults.RedirectBlobs.Load().(string); base != "" && req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/sha256:") {
			http.Redirect(w, req, base+req.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/tags/list") {
			serveTags(w, req, next, r.Faults.TagPage.Load())
			return
		}
		if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") && req.Header.Get("Range") != "" {
			// go-containerregistry's registry only knows "bytes=a-b"; answer every Range
			// form (clients resume with "bytes=a-") with http.ServeContent.
			r.Faults.Ranges.Add(1)
			full := req.Clone(req.Context())
			full.Header.Del("Range")
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, full)
			if rec.Code != http.StatusOK {
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
			w.Header().Set("Docker-Content-Digest", rec.Header().Get("Docker-Content-Digest"))
			http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(rec.Body.Bytes()))
			return
		}
		if cut, _ := r.Faults.CutBlob.Load().(string); cut != "" && req.Method == http.MethodGet && req.Header.Get("Range") == "" && strings.HasSuffix(req.URL.Path, "/blobs/"+cut) {
			r.Faults.CutBlob.Store("")
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, req)
			body := rec.Body.Bytes()
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body[:len(body)/2])
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
				}
			}
			return
		}
		if bad, _ := r.Faults.CorruptBlob.Load().(string); bad != "" && req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/blobs/"+bad) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, req)
			body := rec.Body.Bytes()
			if len(body) > 0 {
				body[0] ^= 0xff
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
			return
		}
		next.ServeHTTP(w, req)
	})
}

// serveTags pages a tag list as the distribution spec has it: the tags sorted, those
// after "last", at most "n" of them, and while more remain a Link header (rel="next")
// to the next page. go-containerregistry's registry sends no Link, and all tags for a
// "last" past the end. An unknown repository is its 404 NAME_UNKNOWN.
func serveTags(w http.ResponseWriter, req *http.Request, next http.Handler, page int64) {
	full := req.Clone(req.Context())
	full.URL.RawQuery = ""
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, full)
	if rec.Code != http.StatusOK {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sort.Strings(list.Tags)
	q := req.URL.Query()
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(list.Tags, last)
		for i < len(list.Tags) && list.Tags[i] <= last {
			i++
		}
		list.Tags = list.Tags[i:]
	}
	if q.Get("n") == "" && page > 0 {
		q.Set("n", strconv.FormatInt(page, 10))
	}
	if ns := q.Get("n"); ns != "" {
		n, err := strconv.Atoi(ns)
		if err != nil || n < 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"errors":[{"code":"PAGINATION_NUMBER_INVALID","message":"invalid number of results requested"}]}`)
			return
		}
		if n == 0 {
			list.Tags = nil
		} else if n < len(list.Tags) {
			list.Tags = list.Tags[:n]
			more := url.Values{"n": {ns}, "last": {list.Tags[len(list.Tags)-1]}}
			w.Header().Set("Link", "<"+req.URL.Path+"?"+more.Encode()+`>; rel="next"`)
		}
	}
	if list.Tags == nil {
		list.Tags = []string{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

// Push uploads m (blobs, children, then the manifest under ref) to the registry at base
// ("http://host:port") with plain monolithic uploads: POST, then PUT with the digest.
// A child listed more than once is uploaded once.
func Push(ctx context.Context, c *http.Client, base, repo, ref string, m Manifest) error {
	return push(ctx, c, base, repo, ref, m, map[string]bool{})
}

func push(ctx context.Context, c *http.Client, base, repo, ref string, m Manifest, done map[string]bool) error {
	for _, ch := range m.Children {
		if done[ch.Digest] {
			continue
		}
		if err := push(ctx, c, base, repo, ch.Digest, ch, done); err != nil {
			return err
		}
		done[ch.Digest] = true
	}
	for _, b := range m.Blobs {
		if err := PushBlob(ctx, c, base, repo, b); err != nil {
			return err
		}
	}
	return do(ctx, c, http.MethodPut, base+"/v2/"+repo+"/manifests/"+ref, m.MediaType, m.Data, http.StatusCreated)
}

// PushBlob uploads one blob unless the registry already has it.
func PushBlob(ctx context.Context, c *http.Client, base, repo string, b Blob) error {
	if err := do(ctx, c, http.MethodHead, base+"/v2/"+repo+"/blobs/"+b.Digest, "", nil, http.StatusOK); err == nil {
		return nil
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v2/"+repo+"/blobs/uploads/", nil)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("ocitest: start upload %s: %s", repo, resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return err
	}
	q := loc.Query()
	q.Set("digest", b.Digest)
	loc.RawQuery = q.Encode()
	return do(ctx, c, http.MethodPut, loc.String(), "application/octet-stream", b.Data, http.StatusCreated)
}

func do(ctx context.Context, c *http.Client, method, u, ct string, body []byte, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != want {
		return fmt.Errorf("ocitest: %s %s: %s %s", method, u, resp.Status, msg)
	}
	return nil
}

// PushManifest adds m under repo:ref to the running registry.
func (r *Registry) PushManifest(ctx context.Context, repo, ref string, m Manifest) error {
	if err := Push(ctx, r.Server.Client(), r.Server.URL, repo, ref, m); err != nil {
		return err
	}
	r.Content[repo+":"+ref] = m
	return nil
}

// ReferrerTree is a tagged index with referrers at every level, as cosign --recursive
// and attestation tools leave them, plus a referrer index that lists its own subject (a
// loop for a walker without a guard).
type ReferrerTree struct {
	Index      Manifest   // linux/amd64 and linux/arm64 images and a nested index (linux/s390x)
	Children   []Manifest // the three images, the nested one last
	IndexSig   Manifest   // subject: Index
	SigOfSig   Manifest   // subject: IndexSig
	Loop       Manifest   // index, subject IndexSig, listing IndexSig
	ChildSBOMs []Manifest // subject: Children[i]
	CosignTag  string     // sha256-<Children[0] hex>.sig
	Cosign     Manifest   // at CosignTag
}

// Referrers returns every manifest of the tree that refers to another (all but Index
// and Children).
func (t ReferrerTree) Referrers() []Manifest {
	return append([]Manifest{t.IndexSig, t.SigOfSig, t.Loop, t.Cosign}, t.ChildSBOMs...)
}

// PushReferrerTree generates a ReferrerTree from seed and pushes it to repo, the index
// under tag, the cosign signature under its tag, the referrers by digest.
func (r *Registry) PushReferrerTree(ctx context.Context, repo, tag string, seed uint64) (ReferrerTree, error) {
	var t ReferrerTree
	amd := Image(ImageSpec{Seed: seed, Layers: 1, LayerSize: 512})
	arm := Image(ImageSpec{Seed: seed + 1, Layers: 1, LayerSize: 512, Arch: "arm64", Variant: "v8"})
	s390 := Image(ImageSpec{Seed: seed + 2, Layers: 1, LayerSize: 512, Arch: "s390x"})
	t.Children = []Manifest{amd, arm, s390}
	t.Index = Index(false, amd, arm, Index(false, s390))
	sub := func(m Manifest) *Descriptor { d := m.Descriptor(); return &d }
	t.IndexSig = Artifact("application/vnd.example.signature", "application/vnd.example.signature.v1", []byte(fmt.Sprintf("signature of %s", t.Index.Digest)), sub(t.Index))
	t.SigOfSig = Artifact("application/vnd.example.countersignature", "application/vnd.example.signature.v1", []byte(fmt.Sprintf("counter-signature of %s", t.IndexSig.Digest)), sub(t.IndexSig))
	t.Loop = ArtifactIndex("application/vnd.example.bundle", sub(t.IndexSig), t.IndexSig)
	for _, c := range t.Children {
		t.ChildSBOMs = append(t.ChildSBOMs, Artifact("application/spdx+json", "application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3","name":"`+c.Digest+`"}`), sub(c)))
	}
	t.CosignTag = "sha256-" + strings.TrimPrefix(amd.Digest, "sha256:") + ".sig"
	t.Cosign = Signature(r.Host+"/"+repo, amd.Digest)
	if err := r.PushManifest(ctx, repo, tag, t.Index); err != nil {
		return t, err
	}
	if err := r.PushManifest(ctx, repo, t.CosignTag, t.Cosign); err != nil {
		return t, err
	}
	for _, m := range append([]Manifest{t.IndexSig, t.SigOfSig, t.Loop}, t.ChildSBOMs...) {
		if err := r.PushManifest(ctx, repo, m.Digest, m); err != nil {
			return t, err
		}
	}
	return t, nil
}

// DeleteTag removes a tag from the running registry.
func (r *Registry) DeleteTag(ctx context.Context, repo, tag string) error {
	delete(r.Content, repo+":"+tag)
	return do(ctx, r.Server.Client(), http.MethodDelete, r.Server.URL+"/v2/"+repo+"/manifests/"+tag, "", nil, http.StatusAccepted)
}

// Conformance lists what PushConformance pushed, as the OCI distribution-spec
// conformance suite's read-only mode takes it (OCI_RO_DATA_*).
type Conformance struct {
	Tags      []string // 26: every tag of the repository, the cosign signature's too
	Manifests []string // every manifest: tagged, index children, nested index, referrers
	Blobs     []string // every config and layer that registries hold (the empty blob too)
	Subjects  []string // digests with referrers
	Tree      ReferrerTree
}

// EmptyDigest is the digest of the empty blob.
const EmptyDigest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// PushConformance fills repo with the content a read-only conformance run checks: a
// ReferrerTree (nested referrers, referrers of index children, a cosign tag), an image
// with a non-distributable layer, an artifact whose layer is the empty blob, a Docker
// schema 2 image and small images up to 26 tags.
func (r *Registry) PushConformance(ctx context.Context, repo string) (Conformance, error) {
	var c Conformance
	tree, err := r.PushReferrerTree(ctx, repo, "tree", 700)
	if err != nil {
		return c, err
	}
	c.Tree = tree
	tagged := map[string]Manifest{
		"tree":             tree.Index,
		tree.CosignTag:     tree.Cosign,
		"nondistributable": Image(ImageSpec{Seed: 710, Layers: 1, LayerSize: 256, Nondistributable: true}),
		"empty-blob":       Artifact("application/vnd.example.empty", "application/vnd.example.empty.v1", nil, nil),
		"docker":           Image(ImageSpec{Seed: 711, Layers: 2, LayerSize: 256, Docker: true}),
	}
	for i := len(tagged); i < 26; i++ {
		tagged[fmt.Sprintf("v1.%d", i)] = Image(ImageSpec{Seed: 720 + uint64(i), Layers: 1, LayerSize: 128})
	}
	for tag, m := range tagged {
		if _, done := r.Content[repo+":"+tag]; !done {
			if err := r.PushManifest(ctx, repo, tag, m); err != nil {
				return c, err
			}
		}
		c.Tags = append(c.Tags, tag)
	}
	seen := map[string]bool{}
	var walk func(m Manifest)
	walk = func(m Manifest) {
		if seen[m.Digest] {
			return
		}
		seen[m.Digest] = true
		c.Manifests = append(c.Manifests, m.Digest)
		for _, b := range m.Blobs {
			if !seen[b.Digest] {
				seen[b.Digest] = true
				c.Blobs = append(c.Blobs, b.Digest)
			}
		}
		for _, ch := range m.Children {
			walk(ch)
		}
	}
	for _, m := range tagged {
		walk(m)
	}
	for _, m := range tree.Referrers() {
		walk(m)
	}
	c.Subjects = append([]string{tree.Index.Digest, tree.IndexSig.Digest}, digestsOf(tree.Children)...)
	for _, l := range [][]string{c.Tags, c.Manifests, c.Blobs} {
		sort.Strings(l)
	}
	return c, nil
}

func digestsOf(ms []Manifest) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Digest
	}
	return out
}

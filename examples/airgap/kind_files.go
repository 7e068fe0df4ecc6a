package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// filesMirror is the generic kind: each URL becomes files/<name>/<basename>.
type filesMirror struct {
	FilesMirror `yaml:",inline"`
}

func (m *filesMirror) Kind() string { return "files" }
func (m *filesMirror) Name() string { return m.FilesMirror.Name }

func (m *filesMirror) Validate() error {
	if len(m.URLs) == 0 {
		return errors.New("urls: at least one URL is required")
	}
	seen := map[string]string{}
	for _, u := range m.URLs {
		name := baseName(u)
		if err := store.ValidatePath(name); err != nil {
			return fmt.Errorf("urls: %q has no usable file name", u)
		}
		if other, dup := seen[name]; dup {
			return fmt.Errorf("urls: %q and %q both publish %s", other, u, name)
		}
		seen[name] = u
	}
	return nil
}

func (m *filesMirror) Endpoints() []string { return m.URLs }

// baseName is the file name an URL publishes under: the last path element, without the
// go-getter forcing prefix ("s3::") or query (which carries ?checksum=).
func baseName(raw string) string {
	if i := strings.Index(raw, "::"); i >= 0 {
		raw = raw[i+2:]
	}
	if u, err := url.Parse(raw); err == nil && u.Path != "" {
		return path.Base(u.Path)
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	return path.Base(raw)
}

func (m *filesMirror) Sync(ctx context.Context, rt *runtime) (string, error) {
	r := ref(m)
	prev, err := store.Current(ctx, rt.store, r)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	snap := store.NewSnapshot()
	var total int64
	for _, u := range m.URLs {
		res, err := rt.fetch.Fetch(ctx, fetch.Request{URL: u, Generic: true})
		if err != nil {
			return "", fmt.Errorf("%s: %w", u, err)
		}
		if err := snap.Add(baseName(u), store.File{Digest: res.Blob.Digest, Size: res.Blob.Size}); err != nil {
			return "", err
		}
		snap.Annotations["source:"+baseName(u)] = u
		total += res.Blob.Size
	}
	d, err := store.WriteSnapshot(ctx, rt.store, snap)
	if err != nil {
		return "", err
	}
	if _, err := store.Publish(ctx, rt.store, r, prev.Record, d); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d files, %s", len(m.URLs), humanBytes(total)), nil
}

func (m *filesMirror) Handler(rt *runtime, prefix string) http.Handler {
	return store.NewHandler(rt.store, ref(m))
}

// humanBytes formats n as B, KiB, MiB or GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit && exp < 3; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGT"[exp])
}

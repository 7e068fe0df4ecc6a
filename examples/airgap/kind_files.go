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
	res, err := m.sync(ctx, rt)
	if err != nil {
		return "", err
	}
	s := fmt.Sprintf("%d files (%d fetched, %s; %d reused)", len(m.URLs), res.Downloaded, humanBytes(res.DownloadedBytes), res.Reused)
	if !res.Changed {
		s += ", unchanged"
	}
	return s, nil
}

// sync fetches every URL and publishes the files; an unchanged set publishes nothing.
func (m *filesMirror) sync(ctx context.Context, rt *runtime) (store.SyncResult, error) {
	res := store.SyncResult{Ref: ref(m)}
	gen, changed, err := store.Update(ctx, rt.store, res.Ref, store.TrustOf(m.FilesMirror), func(store.Prev) (*store.Snapshot, error) {
		snap := store.NewSnapshot()
		for _, u := range m.URLs {
			f, err := rt.fetch.Fetch(ctx, fetch.Request{URL: u, Generic: true})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", u, err)
			}
			if err := snap.Add(baseName(u), store.File{Digest: f.Blob.Digest, Size: f.Blob.Size}); err != nil {
				return nil, err
			}
			snap.Annotations["source:"+baseName(u)] = u
			if f.FinalURL == "" { // a ?checksum= the store already holds
				res.Reused++
			} else {
				res.Downloaded++
				res.DownloadedBytes += f.Blob.Size
			}
		}
		return snap, nil
	})
	res.Generation, res.Changed = gen, changed
	return res, err
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

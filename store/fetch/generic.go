package fetch

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Getter fetches the URL forms Fetch does not handle itself (local paths, file://, s3::,
// gcs::, git::, http(s) with "?checksum="): it writes the file named by Src to Dst. It
// lives behind this interface so that packages which download only http(s) do not link
// the cloud SDKs that go-getter needs; store/fetch/getter provides the go-getter one.
type Getter interface {
	Get(ctx context.Context, req GetterRequest) error
}

// GetterRequest is one generic download.
type GetterRequest struct {
	Src, Dst string
	// Header goes with http(s) requests; HTTP is the Client's transport for them.
	Header http.Header
	HTTP   *http.Client
	// MaxBytes caps an http(s) body.
	MaxBytes int64
}

// FetchGeneric is Fetch with req.Generic set: the URL may be any form the Getter knows.
func (c *Client) FetchGeneric(ctx context.Context, req Request) (Result, error) {
	req.Generic = true
	return c.Fetch(ctx, req)
}

// fetchGeneric downloads one file through go-getter into a temporary directory, then puts
// it into the store, verified against Expect and the URL's checksum parameter.
func (c *Client) fetchGeneric(ctx context.Context, req Request, p *progress) (Result, error) {
	e, err := checksumParam(req.Expect, req.URL)
	if err != nil {
		return Result{}, fmt.Errorf("fetch %s: %w", redact(req.URL), err)
	}
	if res, ok, err := c.cached(ctx, e, p); ok || err != nil {
		return res, err
	}
	if c.Getter == nil {
		return Result{}, fmt.Errorf("fetch %s: %w: no Getter configured (store/fetch/getter provides one)", redact(req.URL), ErrUnsupportedURL)
	}
	dir, err := os.MkdirTemp("", "airgap-fetch-*")
	if err != nil {
		return Result{}, fmt.Errorf("fetch: %w", err)
	}
	defer os.RemoveAll(dir)
	dst := filepath.Join(dir, "download")
	limit := maxSize(req)
	if e.Size > 0 {
		limit = e.Size
	}
	hdr := req.Header.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	if u, err := url.Parse(req.URL); err == nil {
		credentialsOf(ctx).apply(hdr, u)
	}
	if hdr.Get("User-Agent") == "" {
		hdr.Set("User-Agent", c.userAgent())
	}
	err = c.Getter.Get(withCallerHeaders(ctx, req.Header), GetterRequest{Src: req.URL, Dst: dst, Header: hdr, HTTP: c.http, MaxBytes: limit + 1})
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("fetch %s: %w", redact(req.URL), ctx.Err())
		}
		return Result{}, fmt.Errorf("fetch %s: %w", redact(req.URL), err)
	}
	f, err := os.Open(dst)
	if err != nil {
		return Result{}, fmt.Errorf("fetch %s: %w", redact(req.URL), err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Result{}, fmt.Errorf("fetch %s: %w", redact(req.URL), err)
	}
	if !fi.Mode().IsRegular() {
		return Result{}, fmt.Errorf("fetch %s: %w: not a regular file", redact(req.URL), ErrUnsupportedURL)
	}
	if e.Size <= 0 && fi.Size() > limit {
		return Result{}, fmt.Errorf("fetch %s: %w: %d bytes is over the limit of %d", redact(req.URL), store.ErrTooLarge, fi.Size(), limit)
	}
	p.setTotal(fi.Size())
	var r = store.ContextReader(ctx, f)
	if e.Size <= 0 {
		r = &capReader{r: r, left: limit}
	}
	info, err := c.Store.Put(ctx, e, r)
	if err != nil {
		return Result{}, fmt.Errorf("fetch %s: %w", redact(req.URL), err)
	}
	p.set(info.Size)
	return Result{Blob: info, FinalURL: req.URL}, nil
}

// checksumParam adds the URL's "checksum" query parameter (go-getter's syntax: type:hex, or
// bare hex guessed by length) to e when the store can verify that kind, so that the
// content is checked by the store as well as by go-getter.
func checksumParam(e store.Expect, raw string) (store.Expect, error) {
	i := strings.LastIndexByte(raw, '?')
	if i < 0 {
		return e, nil
	}
	q, err := url.ParseQuery(raw[i+1:])
	if err != nil {
		return e, nil // not a query go-getter would read either
	}
	v := q.Get("checksum")
	if v == "" {
		return e, nil
	}
	typ, val, ok := strings.Cut(v, ":")
	if !ok {
		val = v
		switch len(v) {
		case 32:
			typ = "md5"
		case 64:
			typ = "sha256"
		case 128:
			typ = "sha512"
		default:
			return e, nil // sha1 or unknown: go-getter checks it
		}
	}
	var alg store.Algorithm
	switch strings.ToLower(typ) {
	case "sha256":
		alg = store.SHA256
	case "sha512":
		alg = store.SHA512
	case "md5":
		alg = store.MD5
	default:
		return e, nil // sha1, file:...: go-getter checks it
	}
	if _, err := hex.DecodeString(val); err != nil {
		return e, fmt.Errorf("%w: checksum parameter %q", store.ErrInvalidDigest, v)
	}
	if have, ok := e.Sums[alg]; ok && !strings.EqualFold(have, val) {
		return e, fmt.Errorf("%w: checksum parameter %s:%s contradicts the expected %s", store.ErrDigestMismatch, alg, val, have)
	}
	e = e.With(alg, val)
	return e, e.Validate()
}

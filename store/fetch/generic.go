package fetch

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	getter "github.com/hashicorp/go-getter"

	"github.com/airgapkit/airgap/store"
)

// FetchGeneric is Fetch with req.Generic set: the URL may be any form go-getter knows.
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
	dir, err := os.MkdirTemp("", "airgap-fetch-*")
	if err != nil {
		return Result{}, fmt.Errorf("fetch: %w", err)
	}
	defer os.RemoveAll(dir)
	dst := filepath.Join(dir, "download")
	pwd, err := os.Getwd()
	if err != nil {
		return Result{}, fmt.Errorf("fetch: %w", err)
	}
	limit := maxSize(req)
	if e.Size > 0 {
		limit = e.Size
	}
	hdr := req.Header.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	if hdr.Get("User-Agent") == "" {
		hdr.Set("User-Agent", c.userAgent())
	}
	// (HttpGetter.ReadTimeout would bound the whole download, not idle reads: left unset.)
	hg := &getter.HttpGetter{
		Client:                c.http,
		Header:                hdr,
		DoNotCheckHeadFirst:   true,
		MaxBytes:              limit + 1,
		XTerraformGetDisabled: true,
	}
	gc := &getter.Client{
		Ctx:  withCallerHeaders(ctx, req.Header),
		Src:  req.URL,
		Dst:  dst,
		Pwd:  pwd,
		Mode: getter.ClientModeFile,
		// Raw bytes, never unpacked: the store keeps what upstream published.
		Decompressors: map[string]getter.Decompressor{},
		Getters: map[string]getter.Getter{
			"file":  new(getter.FileGetter), // a symlink to the source: read once, below
			"http":  hg,
			"https": hg,
			"s3":    new(getter.S3Getter),
			"gcs":   new(getter.GCSGetter),
			"git":   new(getter.GitGetter),
			"hg":    new(getter.HgGetter),
		},
	}
	if err := gc.Get(); err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("fetch %s: %w", redact(req.URL), ctx.Err())
		}
		var ce *getter.ChecksumError
		if errors.As(err, &ce) {
			return Result{}, fmt.Errorf("fetch %s: %w: %v", redact(req.URL), store.ErrDigestMismatch, err)
		}
		return Result{}, fmt.Errorf("fetch %s: go-getter: %w", redact(req.URL), err)
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

// Package getter gives store/fetch the URL forms of hashicorp/go-getter — local paths,
// file://, s3::, gcs::, git::, hg::, and http(s) with "?checksum=type:hex" — for the generic
// "files" mirror kind:
//
//	c := &fetch.Client{Store: s, Getter: getter.New()}
//	res, err := c.FetchGeneric(ctx, fetch.Request{URL: "s3::https://s3.amazonaws.com/bucket/tool.tar.gz"})
//
// It is a package of its own because go-getter brings the cloud SDKs with it: only
// programs that want those URL forms link them. Files are fetched raw, never unpacked, and
// fetch verifies them again when they enter the store.
package getter

import (
	"context"
	"errors"
	"fmt"
	"os"

	getter "github.com/hashicorp/go-getter"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// New returns the go-getter implementation of fetch.Getter.
func New() fetch.Getter { return goGetter{} }

type goGetter struct{}

// Get implements fetch.Getter. A checksum parameter that does not match is
// store.ErrDigestMismatch.
func (goGetter) Get(ctx context.Context, req fetch.GetterRequest) error {
	pwd, err := os.Getwd()
	if err != nil {
		return err
	}
	// (HttpGetter.ReadTimeout would bound the whole download, not idle reads: left unset.)
	hg := &getter.HttpGetter{
		Client:                req.HTTP,
		Header:                req.Header,
		DoNotCheckHeadFirst:   true,
		MaxBytes:              req.MaxBytes,
		XTerraformGetDisabled: true,
	}
	gc := &getter.Client{
		Ctx:  ctx,
		Src:  req.Src,
		Dst:  req.Dst,
		Pwd:  pwd,
		Mode: getter.ClientModeFile,
		// Raw bytes, never unpacked: the store keeps what upstream published.
		Decompressors: map[string]getter.Decompressor{},
		Getters: map[string]getter.Getter{
			"file":  new(getter.FileGetter), // a symlink to the source: fetch reads it once
			"http":  hg,
			"https": hg,
			"s3":    new(getter.S3Getter),
			"gcs":   new(getter.GCSGetter),
			"git":   new(getter.GitGetter),
			"hg":    new(getter.HgGetter),
		},
	}
	if err := gc.Get(); err != nil {
		var ce *getter.ChecksumError
		if errors.As(err, &ce) {
			return fmt.Errorf("%w: %v", store.ErrDigestMismatch, err)
		}
		return fmt.Errorf("go-getter: %w", err)
	}
	return nil
}

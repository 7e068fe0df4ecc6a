package rpm

import (
	"context"

	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"github.com/airgapkit/airgap/store"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// errZchunk: a zchunk file cannot be decompressed here (it is only carried verbatim).
var errZchunk = errors.New("rpm: zchunk metadata is carried verbatim, not read")

// decompress opens the content of a metadata file named href: .gz, .xz, .bz2 and .zst
// are decompressed, anything else is taken as it is, except .zck (errZchunk).
func decompress(href string, r io.Reader) (io.ReadCloser, error) {
	switch {
	case strings.HasSuffix(href, ".gz"):
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, href, err)
		}
		return z, nil
	case strings.HasSuffix(href, ".xz"):
		z, err := xz.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, href, err)
		}
		return io.NopCloser(z), nil
	case strings.HasSuffix(href, ".bz2"):
		return io.NopCloser(bzip2.NewReader(r)), nil
	case strings.HasSuffix(href, ".zst"):
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, href, err)
		}
		return z.IOReadCloser(), nil
	case strings.HasSuffix(href, ".zck"):
		return nil, errZchunk
	}
	return io.NopCloser(r), nil
}

// malformedRead marks a read error of decompressed content as ErrMalformed (a corrupt
// stream), keeping the cause.
func malformedRead(href string, err error) error {
	if err == nil || errors.Is(err, ErrMalformed) || errors.Is(err, ErrChecksum) || errors.Is(err, store.ErrTooLarge) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %s: %v", ErrMalformed, href, err)
}

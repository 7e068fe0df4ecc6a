package rpm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// repoState is one repository during a sync.
type repoState struct {
	path, url string
	md        *Repomd
	repomd    store.BlobInfo // the upstream's repomd.xml and repomd.xml.asc as stored
	asc       store.BlobInfo
	record    repoRecord
	signers   []string
	data      map[string]store.BlobInfo // by data type, every file fetched
	pkgs      []*Package
	modules   []moduleDoc
}

// fetchRepomd reads and verifies repomd.xml and repomd.xml.asc. With validators from
// the previous tree the requests are conditional, and same reports that both answered
// 304 (rs.md stays nil).
func (ss *session) fetchRepomd(ctx context.Context, rs *repoState, rec repoRecord) (same bool, err error) {
	u := rs.url + "repodata/repomd.xml"
	res, err := ss.fetch(ctx, fetch.Request{URL: u, MaxSize: maxRepomdSize,
		Validators: fetch.Validators{ETag: rec.ETag, LastModified: rec.LastModified}})
	if err != nil {
		return false, fmt.Errorf("rpm: %s: %w", u, notFound(err))
	}
	conditional := !(fetch.Validators{ETag: rec.ETag, LastModified: rec.LastModified}).IsZero()
	var sres fetch.Result
	if !ss.m.InsecureSkipSignature {
		sres, err = ss.fetch(ctx, fetch.Request{URL: u + ".asc", MaxSize: maxSignatureSize,
			Validators: fetch.Validators{ETag: rec.SigETag, LastModified: rec.SigLastModified}})
		if isStatus(err, http.StatusNotFound) {
			return false, fmt.Errorf("rpm: %s.asc: %w: %w", u, ErrUnsigned, err)
		}
		if err != nil {
			return false, fmt.Errorf("rpm: %s.asc: %w", u, err)
		}
	}
	if conditional && res.NotModified && (ss.m.InsecureSkipSignature || sres.NotModified) {
		return true, nil
	}
	if res.NotModified || sres.NotModified {
		return false, nil // read both again in full (fetchRepomd with no validators)
	}
	rs.repomd, rs.asc = res.Blob, sres.Blob
	rs.record = repoRecord{ETag: res.Validators.ETag, LastModified: res.Validators.LastModified,
		SigETag: sres.Validators.ETag, SigLastModified: sres.Validators.LastModified}
	b, err := store.ReadBlob(ctx, ss.m.Store, res.Blob.Digest, maxRepomdSize)
	if err != nil {
		return false, err
	}
	if ss.keys != nil {
		sig, err := store.ReadBlob(ctx, ss.m.Store, sres.Blob.Digest, maxSignatureSize)
		if err != nil {
			return false, err
		}
		v, err := ss.keys.VerifyDetached(bytes.NewReader(b), sig)
		if err != nil {
			return false, fmt.Errorf("rpm: %s.asc: %w: %w", u, ErrSignature, err)
		}
		rs.signers = []string{v.Fingerprint}
	}
	if rs.md, err = ParseRepomd(b); err != nil {
		return false, fmt.Errorf("rpm: %s: %w", u, err)
	}
	rs.record.Revision = rs.md.Revision
	return false, nil
}

// needed reports whether a sync reads or carries a data type: a pristine mirror every
// one; a filtered one what it regenerates from.
func (ss *session) needed(typ string) bool {
	if ss.m.Pristine {
		return true
	}
	switch typ {
	case "primary", "filelists", "other", "updateinfo", "modules":
		return true
	}
	return false // comps: groupData
}

// groupData is the comps a filtered mirror reads: the plain group, else a compressed
// one.
func groupData(md *Repomd) (Data, bool) {
	for _, t := range []string{"group", "group_gz", "group_xz", "group_zst"} {
		if d, ok := md.Find(t); ok {
			return d, true
		}
	}
	return Data{}, false
}

// fetchMetadata downloads the data files the sync needs, each verified against
// repomd.xml (checksum and size, and open-checksum and open-size when listed).
func (ss *session) fetchMetadata(ctx context.Context, rs *repoState) error {
	rs.data = map[string]store.BlobInfo{}
	var want []Data
	for _, d := range rs.md.Data {
		if ss.needed(d.Type) {
			want = append(want, d)
		}
	}
	if !ss.m.Pristine {
		if d, ok := groupData(rs.md); ok {
			want = append(want, d)
		}
	}
	for _, d := range want {
		info, err := ss.fetchVerified(ctx, rs.url+escapePath(d.Href), d.Checksum, d.Size)
		if err != nil {
			return fmt.Errorf("rpm: %s %s: %w", rs.path, d.Href, notFound(err))
		}
		if err := ss.checkOpen(ctx, d, info); err != nil {
			return fmt.Errorf("rpm: %s %s: %w", rs.path, d.Href, err)
		}
		rs.data[d.Type] = info
	}
	return nil
}

// checkOpen verifies the decompressed content of a data file against its open-checksum
// and open-size. A zchunk file is checked by its checksum only.
func (ss *session) checkOpen(ctx context.Context, d Data, info store.BlobInfo) error {
	if d.OpenChecksum.Value == "" && d.OpenSize == 0 {
		return nil
	}
	rc, err := ss.openData(ctx, d, info)
	if errors.Is(err, errZchunk) {
		return nil
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return malformedRead(d.Href, err)
}

// openData opens a stored data file's decompressed content, checked against its
// open-checksum and open-size at EOF (ErrChecksum).
func (ss *session) openData(ctx context.Context, d Data, info store.BlobInfo) (io.ReadCloser, error) {
	b, err := ss.m.Store.Open(ctx, info.Digest)
	if err != nil {
		return nil, err
	}
	z, err := decompress(d.Href, store.ContextReader(ctx, b))
	if err != nil {
		b.Close()
		return nil, err
	}
	return &openReader{r: z, d: d, h: d.OpenChecksum.hasher(), closers: []io.Closer{z, b}}, nil
}

// openReader checks decompressed content at EOF.
type openReader struct {
	r io.Reader
	d Data
	h interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	n       int64
	closers []io.Closer
}

func (o *openReader) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	o.n += int64(n)
	if o.h != nil {
		o.h.Write(p[:n])
	}
	if o.d.OpenSize > 0 && o.n > o.d.OpenSize {
		return n, fmt.Errorf("%w: %s: more than its open-size %d", ErrChecksum, o.d.Href, o.d.OpenSize)
	}
	if err == io.EOF {
		if o.d.OpenSize > 0 && o.n != o.d.OpenSize {
			return n, fmt.Errorf("%w: %s: open-size %d, got %d", ErrChecksum, o.d.Href, o.d.OpenSize, o.n)
		}
		if o.h != nil && o.d.OpenChecksum.Value != "" {
			if got := fmt.Sprintf("%x", o.h.Sum(nil)); got != o.d.OpenChecksum.Value {
				return n, fmt.Errorf("%w: %s: open-checksum %s, expected %s", ErrChecksum, o.d.Href, got, o.d.OpenChecksum.Value)
			}
		}
	}
	return n, err
}

func (o *openReader) Close() error {
	for _, c := range o.closers {
		c.Close()
	}
	return nil
}

// readPrimary parses a repository's primary into rs.pkgs.
func (ss *session) readPrimary(ctx context.Context, rs *repoState) error {
	d, _ := rs.md.Find("primary")
	rc, err := ss.openData(ctx, d, rs.data["primary"])
	if err != nil {
		return fmt.Errorf("rpm: %s %s: %w", rs.path, d.Href, err)
	}
	defer rc.Close()
	seen := map[string]bool{}
	err = ReadPrimary(ctx, rc, func(p *Package, _ []byte) error {
		if seen[p.Checksum.Value] {
			return fmt.Errorf("%w: package %s is listed twice", ErrMalformed, p)
		}
		seen[p.Checksum.Value] = true
		if p.Base != "" && ss.m.Pristine {
			return fmt.Errorf("%w: %s has xml:base %s: serving it would take rewriting primary", ErrXMLBase, p, p.Base)
		}
		rs.pkgs = append(rs.pkgs, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("rpm: %s %s: %w", rs.path, d.Href, err)
	}
	return nil
}

func isStatus(err error, code int) bool {
	var he *fetch.HTTPError
	return errors.As(err, &he) && he.StatusCode == code
}

// notFound marks a 404 or 410 as ErrMissing.
func notFound(err error) error {
	if isStatus(err, http.StatusNotFound) || isStatus(err, http.StatusGone) {
		return fmt.Errorf("%w: %w", ErrMissing, err)
	}
	return err
}

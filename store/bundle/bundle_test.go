package bundle_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/bundle"
	"github.com/airgapkit/airgap/store/pgp"
)

var (
	keyOnce            sync.Once
	operator, intruder *pgp.Signer
)

func keys(t testing.TB) (*pgp.Signer, *pgp.Signer) {
	keyOnce.Do(func() {
		var err error
		operator, err = pgp.GenerateKey("operator", "ops@example.invalid", pgp.KeyOptions{})
		require.NoError(t, err)
		intruder, err = pgp.GenerateKey("intruder", "x@example.invalid", pgp.KeyOptions{})
		require.NoError(t, err)
	})
	return operator, intruder
}

// publish puts files into s and publishes them as ref.
func publish(t *testing.T, s store.Store, ref string, files map[string]string) store.Generation {
	t.Helper()
	ctx := context.Background()
	prev, _ := store.Current(ctx, s, ref)
	snap := store.NewSnapshot()
	for p, c := range files {
		info, err := s.Put(ctx, store.Expect{}, strings.NewReader(c))
		require.NoError(t, err)
		require.NoError(t, snap.Add(p, store.File{Digest: info.Digest, Size: info.Size}))
	}
	d, err := store.WriteSnapshot(ctx, s, snap)
	require.NoError(t, err)
	g, err := store.Publish(ctx, s, ref, prev.Record, d)
	require.NoError(t, err)
	return g
}

func export(t *testing.T, s store.Store, opt bundle.ExportOptions) ([]byte, *bundle.Manifest, []byte) {
	t.Helper()
	var buf bytes.Buffer
	m, raw, err := bundle.Export(context.Background(), s, &buf, opt)
	require.NoError(t, err)
	return buf.Bytes(), m, raw
}

func trusting(t testing.TB) bundle.ImportOptions {
	op, _ := keys(t)
	return bundle.ImportOptions{Keyring: op.Keyring()}
}

func readFile(t *testing.T, s store.Store, ref, path string) string {
	t.Helper()
	snap, _, err := store.OpenPublished(context.Background(), s, ref)
	require.NoError(t, err)
	f, ok := snap.Lookup(path)
	require.True(t, ok, path)
	b, err := store.ReadBlob(context.Background(), s, f.Digest, 1<<20)
	require.NoError(t, err)
	return string(b)
}

func outside(t *testing.T) store.Store {
	s := store.NewMemory()
	publish(t, s, "apt/ubuntu", map[string]string{"dists/noble/InRelease": "signed", "pool/main/h/hello/hello.deb": "deb v1"})
	publish(t, s, "pypi/python", map[string]string{"simple/index.html": "<a>", "files/x.whl": "wheel"})
	return s
}

func TestRoundTrip(t *testing.T) {
	op, _ := keys(t)
	src := outside(t)
	data, m, _ := export(t, src, bundle.ExportOptions{Signer: op})
	assert.Len(t, m.Refs, 2)

	dst := store.NewMemory()
	got, err := bundle.Import(context.Background(), dst, bytes.NewReader(data), trusting(t))
	require.NoError(t, err)
	assert.Equal(t, m.Refs, got.Refs)
	assert.Equal(t, "deb v1", readFile(t, dst, "apt/ubuntu", "pool/main/h/hello/hello.deb"))
	assert.Equal(t, "wheel", readFile(t, dst, "pypi/python", "files/x.whl"))

	// Importing the same bundle again changes nothing and is not an error.
	_, err = bundle.Import(context.Background(), dst, bytes.NewReader(data), trusting(t))
	require.NoError(t, err)
}

func TestIncremental(t *testing.T) {
	op, _ := keys(t)
	src := outside(t)
	full, _, raw := export(t, src, bundle.ExportOptions{Signer: op})
	prev, prevDigest := mustDecode(t, raw)

	publish(t, src, "apt/ubuntu", map[string]string{"dists/noble/InRelease": "signed", "pool/main/h/hello/hello.deb": "deb v1", "pool/main/h/hello/hello2.deb": "deb v2"})
	inc, m, _ := export(t, src, bundle.ExportOptions{Signer: op, Since: prev, SinceDigest: prevDigest})
	assert.Equal(t, prevDigest, m.Since)
	// Only the new file, the new snapshot manifest and the new generation record travel.
	assert.Len(t, m.Blobs, 3)
	assert.Less(t, len(inc), len(full))

	dst := store.NewMemory()
	_, err := bundle.Import(context.Background(), dst, bytes.NewReader(full), trusting(t))
	require.NoError(t, err)
	_, err = bundle.Import(context.Background(), dst, bytes.NewReader(inc), trusting(t))
	require.NoError(t, err)
	assert.Equal(t, "deb v2", readFile(t, dst, "apt/ubuntu", "pool/main/h/hello/hello2.deb"))

	// Without its predecessor the incremental bundle cannot publish anything.
	fresh := store.NewMemory()
	_, err = bundle.Import(context.Background(), fresh, bytes.NewReader(inc), trusting(t))
	require.ErrorIs(t, err, bundle.ErrMissingBlob)
	refs, _ := fresh.Refs(context.Background())
	assert.Empty(t, refs)
}

func mustDecode(t *testing.T, raw []byte) (*bundle.Manifest, store.Digest) {
	m, err := bundle.DecodeManifest(raw)
	require.NoError(t, err)
	return m, store.DigestOf(raw)
}

type entry struct {
	hdr  *tar.Header
	body []byte
}

func entries(t *testing.T, data []byte) []entry {
	t.Helper()
	var out []entry
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		out = append(out, entry{h, b})
	}
}

func pack(t *testing.T, es []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := *e.hdr
		h.Size = int64(len(e.body))
		require.NoError(t, tw.WriteHeader(&h))
		_, err := tw.Write(e.body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// TestRefused feeds damaged bundles to a store that already publishes an older state and
// checks each is refused with its typed error and that the published refs did not move.
func TestRefused(t *testing.T) {
	op, other := keys(t)
	src := outside(t)
	good, _, _ := export(t, src, bundle.ExportOptions{Signer: op})
	es := entries(t, good)
	require.Greater(t, len(es), 4)
	unsigned, _, _ := export(t, src, bundle.ExportOptions{})
	wrongKey, _, _ := export(t, src, bundle.ExportOptions{Signer: other})

	blobIdx := 2 // manifest, signature, then blobs
	tampered := append([]entry(nil), es...)
	body := bytes.Clone(tampered[blobIdx].body)
	body[0] ^= 0xff
	tampered[blobIdx] = entry{tampered[blobIdx].hdr, body}

	reordered := append([]entry(nil), es...)
	reordered[blobIdx], reordered[blobIdx+1] = reordered[blobIdx+1], reordered[blobIdx]

	traversal := append([]entry(nil), es...)
	h := *traversal[blobIdx].hdr
	h.Name = "../../etc/passwd"
	traversal[blobIdx] = entry{&h, traversal[blobIdx].body}

	forged := append([]entry(nil), es...)
	forged[0] = entry{forged[0].hdr, bytes.Replace(forged[0].body, []byte(`"version": 1`), []byte(`"version":  1`), 1)}

	extra := append(append([]entry(nil), es...), entry{&tar.Header{Name: "blobs/sha256/extra", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("x")})

	manifestNotFirst := append([]entry{es[blobIdx]}, es...)

	cases := map[string]struct {
		data []byte
		want error
	}{
		"tampered blob":      {pack(t, tampered), store.ErrDigestMismatch},
		"truncated":          {good[:len(good)/2], bundle.ErrFormat},
		"reordered":          {pack(t, reordered), bundle.ErrFormat},
		"path traversal":     {pack(t, traversal), bundle.ErrFormat},
		"forged manifest":    {pack(t, forged), pgp.ErrSignature},
		"trailing entry":     {pack(t, extra), bundle.ErrFormat},
		"manifest not first": {pack(t, manifestNotFirst), bundle.ErrFormat},
		"unsigned":           {unsigned, bundle.ErrUnsigned},
		"wrong key":          {wrongKey, pgp.ErrUnknownKey},
		"empty":              {nil, bundle.ErrFormat},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dst := store.NewMemory()
			before := publish(t, dst, "apt/ubuntu", map[string]string{"old": "old"})
			blobsBefore := countBlobs(t, dst)
			opt := trusting(t)
			opt.AllowRollback = true // dst's ref is newer than the bundle; TestRollback covers that
			_, err := bundle.Import(context.Background(), dst, bytes.NewReader(tc.data), opt)
			require.ErrorIs(t, err, tc.want)
			assert.Equal(t, blobsBefore, countBlobs(t, dst), "a refused import leaves no blob behind (#19)")
			cur, err := store.Current(context.Background(), dst, "apt/ubuntu")
			require.NoError(t, err)
			assert.Equal(t, before.Record, cur.Record, "published ref unchanged")
			_, err = store.Current(context.Background(), dst, "pypi/python")
			assert.ErrorIs(t, err, store.ErrNotFound)
		})
	}
}

func countBlobs(t testing.TB, s store.Store) int {
	t.Helper()
	n := 0
	require.NoError(t, s.Walk(context.Background(), func(store.BlobInfo) error { n++; return nil }))
	return n
}

// A refusal after every blob is stored says that they were taken away again.
func TestRefusedImportSaysWhatItRemoved(t *testing.T) {
	src := outside(t)
	op, _ := keys(t)
	good, _, _ := export(t, src, bundle.ExportOptions{Signer: op})
	es := entries(t, good)
	extra := append(append([]entry(nil), es...), entry{&tar.Header{Name: "blobs/sha256/extra", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("x")})
	dst := store.NewMemory()
	_, err := bundle.Import(context.Background(), dst, bytes.NewReader(pack(t, extra)), trusting(t))
	require.ErrorIs(t, err, bundle.ErrFormat)
	assert.Regexp(t, `the \d+ blobs this import stored were removed`, err.Error())
	assert.Zero(t, countBlobs(t, dst))
}

func TestInsecureSkipSignature(t *testing.T) {
	src := outside(t)
	unsigned, _, _ := export(t, src, bundle.ExportOptions{})
	dst := store.NewMemory()
	_, err := bundle.Import(context.Background(), dst, bytes.NewReader(unsigned), bundle.ImportOptions{InsecureSkipSignature: true})
	require.NoError(t, err)
	assert.Equal(t, "wheel", readFile(t, dst, "pypi/python", "files/x.whl"))
}

func TestRollback(t *testing.T) {
	op, _ := keys(t)
	src := outside(t)
	old, _, _ := export(t, src, bundle.ExportOptions{Signer: op})
	publish(t, src, "apt/ubuntu", map[string]string{"new": "new"})
	newer, _, _ := export(t, src, bundle.ExportOptions{Signer: op})

	dst := store.NewMemory()
	_, err := bundle.Import(context.Background(), dst, bytes.NewReader(newer), trusting(t))
	require.NoError(t, err)
	_, err = bundle.Import(context.Background(), dst, bytes.NewReader(old), trusting(t))
	require.ErrorIs(t, err, bundle.ErrRollback)
	assert.Equal(t, "new", readFile(t, dst, "apt/ubuntu", "new"))

	opt := trusting(t)
	opt.AllowRollback = true
	_, err = bundle.Import(context.Background(), dst, bytes.NewReader(old), opt)
	require.NoError(t, err)
	assert.Equal(t, "deb v1", readFile(t, dst, "apt/ubuntu", "pool/main/h/hello/hello.deb"))
}

func TestVolumes(t *testing.T) {
	op, _ := keys(t)
	src := outside(t)
	prefix := filepath.Join(t.TempDir(), "bundle.tar")
	vw := bundle.CreateVolumes(prefix, 1000)
	_, _, err := bundle.Export(context.Background(), src, vw, bundle.ExportOptions{Signer: op})
	require.NoError(t, err)
	require.NoError(t, vw.Close())
	paths := vw.Paths()
	require.Greater(t, len(paths), 2)
	assert.Equal(t, prefix+".000", paths[0])

	// A missing volume is a truncated bundle.
	r, err := bundle.OpenVolumes(paths[:len(paths)-1]...)
	require.NoError(t, err)
	dst := store.NewMemory()
	_, err = bundle.Import(context.Background(), dst, r, trusting(t))
	require.ErrorIs(t, err, bundle.ErrFormat)
	r.Close()

	r, err = bundle.OpenVolumes(paths...)
	require.NoError(t, err)
	defer r.Close()
	_, err = bundle.Import(context.Background(), dst, r, trusting(t))
	require.NoError(t, err)
	assert.Equal(t, "signed", readFile(t, dst, "apt/ubuntu", "dists/noble/InRelease"))
}

func FuzzImport(f *testing.F) {
	op, _ := keys(f)
	s := store.NewMemory()
	ctx := context.Background()
	info, _ := s.Put(ctx, store.Expect{}, strings.NewReader("x"))
	snap := store.NewSnapshot()
	_ = snap.Add("x", store.File{Digest: info.Digest, Size: info.Size})
	d, _ := store.WriteSnapshot(ctx, s, snap)
	_, _ = store.Publish(ctx, s, "r", "", d)
	var buf bytes.Buffer
	_, _, _ = bundle.Export(ctx, s, &buf, bundle.ExportOptions{Signer: op})
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dst := store.NewMemory()
		_, err := bundle.Import(ctx, dst, bytes.NewReader(data), bundle.ImportOptions{Keyring: op.Keyring()})
		if err != nil {
			refs, _ := dst.Refs(ctx)
			if len(refs) != 0 {
				t.Fatalf("failed import moved refs: %v", refs)
			}
			if n := countBlobs(t, dst); n != 0 {
				t.Fatalf("failed import left %d blobs", n)
			}
		}
	})
}

// FuzzDecodeManifest: a manifest decodes into one whose refs and blobs are valid, or is
// refused as ErrFormat.
func FuzzDecodeManifest(f *testing.F) {
	op, _ := keys(f)
	s := store.NewMemory()
	ctx := context.Background()
	info, _ := s.Put(ctx, store.Expect{}, strings.NewReader("x"))
	snap := store.NewSnapshot()
	_ = snap.Add("x", store.File{Digest: info.Digest, Size: info.Size})
	d, _ := store.WriteSnapshot(ctx, s, snap)
	_, _ = store.Publish(ctx, s, "apt/x", "", d)
	_, raw, _ := bundle.Export(ctx, s, io.Discard, bundle.ExportOptions{Signer: op})
	f.Add(raw)
	f.Add([]byte(`{"version":1,"refs":{"../x":{}},"blobs":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := bundle.DecodeManifest(data)
		if err != nil {
			if !errors.Is(err, bundle.ErrFormat) {
				t.Fatalf("error is not ErrFormat: %v", err)
			}
			return
		}
		for name := range m.Refs {
			if store.ValidatePath(name) != nil {
				t.Fatalf("accepted ref %q", name)
			}
		}
		for _, b := range m.Blobs {
			if b.Digest.Validate() != nil || b.Size < 0 {
				t.Fatalf("accepted blob %+v", b)
			}
		}
	})
}

// Size is the length Export writes, full and incremental, without reading a blob.
func TestSize(t *testing.T) {
	op, _ := keys(t)
	src := outside(t)
	publish(t, src, "files/big", map[string]string{"big.bin": strings.Repeat("x", 5000)})
	n, m, err := bundle.Size(context.Background(), src, bundle.ExportOptions{Signer: op})
	require.NoError(t, err)
	full, fm, raw := export(t, src, bundle.ExportOptions{Signer: op})
	assert.Equal(t, int64(len(full)), n)
	assert.Equal(t, fm.Blobs, m.Blobs)

	prev, prevDigest := mustDecode(t, raw)
	publish(t, src, "apt/ubuntu", map[string]string{"dists/noble/InRelease": "signed v2"})
	opt := bundle.ExportOptions{Signer: op, Since: prev, SinceDigest: prevDigest}
	n, _, err = bundle.Size(context.Background(), src, opt)
	require.NoError(t, err)
	inc, _, _ := export(t, src, opt)
	assert.Equal(t, int64(len(inc)), n)
	assert.Less(t, n, int64(len(full)))
}

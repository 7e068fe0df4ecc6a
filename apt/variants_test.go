package apt_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/stretchr/testify/require"
)

// unserve removes index variants (at their path and by hash) from every suite and
// architecture of e's upstream.
func unserve(t *testing.T, e *env, exts ...string) {
	t.Helper()
	n := 0
	for _, s := range e.repoOpt.Suites {
		for _, a := range []string{"amd64", "all"} {
			for _, c := range exts {
				p := "dists/" + s + "/main/binary-" + a + "/Packages" + c
				if b := e.upstream.File(p); b != nil {
					e.upstream.Set(p, nil)
					e.upstream.Set("dists/"+s+"/main/binary-"+a+"/by-hash/SHA256/"+sha256hex(b), nil)
					n++
				}
			}
		}
	}
	require.Positive(t, n)
}

// TestIndexVariantFallback: the Release lists plain, .gz and .xz, the upstream serves only
// .gz (neither by hash nor at the path for the others): the mirror falls back to it,
// whatever the order of preference. With none served the sync fails with the upstream's
// 404 and publishes nothing.
func TestIndexVariantFallback(t *testing.T) {
	ctx := context.Background()
	for _, formats := range [][]string{nil, {"xz", "gz", "plain"}} {
		e := newEnv(t, apttest.Options{ByHash: true})
		idx := "dists/stable/main/binary-amd64/Packages"
		gzByHash := "dists/stable/main/binary-amd64/by-hash/SHA256/" + sha256hex(e.upstream.File(idx+".gz"))
		unserve(t, e, "", ".xz")
		m := e.mirror()
		m.IndexFormats = formats
		m.Filter = apt.Filter{Packages: []string{"hello"}, Dependencies: true}
		st, err := m.Sync(ctx)
		require.NoError(t, err, "formats %v", formats)
		require.Positive(t, st.Packages)
		first := ""
		if formats != nil {
			first = ".xz"
		}
		for _, ext := range []string{"", ".xz"} {
			want := 0
			if ext == first {
				want = 1 // tried at its path after its by-hash copy
			}
			require.Equal(t, want, e.upstream.Count(idx+ext), "formats %v %q", formats, ext)
		}
		require.Equal(t, 1, e.upstream.Count(gzByHash), "gz read by hash")
		require.Zero(t, e.upstream.Count(idx+".gz"))
	}

	e := newEnv(t, apttest.Options{ByHash: true})
	unserve(t, e, "", ".gz", ".xz")
	_, err := e.mirror().Sync(ctx)
	var he *fetch.HTTPError
	require.ErrorAs(t, err, &he)
	require.Equal(t, 404, he.StatusCode)
	require.Regexp(t, `none of main/binary-[a-z0-9]+/Packages, .*Packages.xz is served`, err.Error())
	require.Empty(t, published(t, e.store))
}

// TestIndexVariantPreference: with every variant served the mirror reads the one cheapest
// to decode (plain) unless told otherwise, and publishes the same tree either way.
func TestIndexVariantPreference(t *testing.T) {
	ctx := context.Background()
	var trees []string
	for _, c := range []struct {
		formats []string
		read    string
	}{{nil, ""}, {[]string{"xz"}, ".xz"}, {[]string{"gz", "xz"}, ".gz"}} {
		e := newEnv(t, apttest.Options{})
		m := e.mirror()
		m.IndexFormats = c.formats
		m.Filter = apt.Filter{Packages: []string{"hello"}, Dependencies: true}
		_, err := m.Sync(ctx)
		require.NoError(t, err)
		for _, ext := range []string{"", ".gz", ".xz"} {
			want := 0
			if ext == c.read {
				want = 1
			}
			require.Equal(t, want, e.upstream.Count("dists/stable/main/binary-amd64/Packages"+ext), "formats %v, %q", c.formats, ext)
		}
		snap, _, err := store.OpenPublished(ctx, e.store, m.Ref())
		require.NoError(t, err)
		f, _ := snap.Lookup("dists/stable/main/binary-amd64/Packages")
		b, err := store.ReadBlob(ctx, e.store, f.Digest, 1<<20)
		require.NoError(t, err)
		trees = append(trees, string(b))
	}
	require.Equal(t, trees[0], trees[1])
	require.Equal(t, trees[0], trees[2])

	m := &apt.Mirror{Name: "x", URL: "http://127.0.0.1/", Suites: []string{"s"}, IndexFormats: []string{"lz4"}}
	require.ErrorContains(t, m.Validate(), "index_formats")
}

// TestIndexNormalised: an index with comment lines and CRLF endings is published in the
// normalised form, whether it was read plain or decoded from .gz (through the spill file).
func TestIndexNormalised(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, apttest.Options{})
	deb := apttest.BuildDeb(apttest.Package{Name: "x", Version: "1"})
	odd := "# leading comment\r\nPackage: x\r\nVersion: 1\r\n# inside\r\nArchitecture: amd64\r\nDescription: d\r\n more\r\n" +
		"Filename: pool/main/x/x/x_1_amd64.deb\r\nSize: " + strconv.Itoa(len(deb)) + "\r\nSHA256: " + sha256hex(deb) + "\r\n\r\n"
	want := "Package: x\nVersion: 1\nArchitecture: amd64\nDescription: d\n more\nFilename: pool/main/x/x/x_1_amd64.deb\nSize: " +
		strconv.Itoa(len(deb)) + "\nSHA256: " + sha256hex(deb) + "\n"
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(odd))
	w.Close()
	for _, served := range []map[string][]byte{
		{"main/binary-amd64/Packages": []byte(odd)},
		{"main/binary-amd64/Packages.gz": gz.Bytes()},
	} {
		e.upstream.Replace(rawRepo(t, e.key, served, map[string][]byte{"main/binary-amd64/Packages": []byte(odd)},
			map[string][]byte{"pool/main/x/x/x_1_amd64.deb": deb}))
		s := store.NewMemory()
		m := e.mirror()
		m.Store, m.Fetch = s, nil
		m.Suites, m.Architectures = []string{"stable"}, []string{"amd64"}
		_, err := m.Sync(ctx)
		require.NoError(t, err)
		snap, _, err := store.OpenPublished(ctx, s, m.Ref())
		require.NoError(t, err)
		f, _ := snap.Lookup("dists/stable/main/binary-amd64/Packages")
		b, err := store.ReadBlob(ctx, s, f.Digest, 1<<20)
		require.NoError(t, err)
		require.Equal(t, want, string(b))
		require.False(t, strings.Contains(string(b), "\r"))
	}
}

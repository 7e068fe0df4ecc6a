package apt_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/pgp"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz"
)

// published returns the record the mirror's ref points at ("" when none).
func published(t *testing.T, s store.Store) store.Digest {
	d, err := s.Ref(context.Background(), "apt/test")
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	require.NoError(t, err)
	return d
}

// resync publishes a good first generation, then replaces the upstream with a newer
// build changed by mutate, syncs again and returns that error. The published ref must
// not have moved.
func resync(t *testing.T, opt apttest.Options, mutate func(e *env, repo *apttest.Repo), tune func(m *apt.Mirror)) error {
	t.Helper()
	ctx := context.Background()
	e := newEnv(t, opt)
	m := e.mirror()
	if tune != nil {
		tune(m)
	}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	before := published(t, e.store)
	opt2 := e.repoOpt
	opt2.Date = time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
	repo, err := apttest.Build(opt2, testPackages())
	require.NoError(t, err)
	mutate(e, repo)
	e.upstream.Replace(repo)
	_, err = m.Sync(ctx)
	require.Error(t, err)
	require.Equal(t, before, published(t, e.store), "published mirror changed after a failed sync")
	return err
}

func TestTamperedDeb(t *testing.T) {
	var m *apt.Mirror
	err := resync(t, apttest.Options{ByHash: true}, func(e *env, repo *apttest.Repo) {
		p := "pool/main/p/perl/perl_5.36.0-7_amd64.deb"
		b := bytes.Clone(repo.Files[p])
		b[len(b)-1] ^= 1
		repo.Files[p] = b
		m.Filter.Packages = append(m.Filter.Packages, "cowsay") // now perl is needed
	}, func(mm *apt.Mirror) {
		m = mm
		m.Filter = apt.Filter{Packages: []string{"hello"}, Dependencies: true}
	})
	require.ErrorIs(t, err, store.ErrDigestMismatch)
}

// TestTamperedPackages serves a Packages index (plain path and by-hash copy) that differs
// from what the signed Release lists: the variant the mirror reads first (plain by
// default, xz when configured) is refused, and no other variant is tried instead.
func TestTamperedPackages(t *testing.T) {
	for _, c := range []struct {
		name    string
		formats []string
		ext     string
	}{{"default reads plain", nil, ""}, {"xz configured", []string{"xz"}, ".xz"}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, apttest.Options{ByHash: true})
			idx := "dists/stable/main/binary-amd64/Packages"
			plain := bytes.Replace(e.upstream.File(idx), []byte("Package: hello\n"), []byte("Package: hellp\n"), 1)
			bad := plain
			if c.ext == ".xz" {
				var buf bytes.Buffer
				w, _ := xz.NewWriter(&buf)
				w.Write(plain)
				w.Close()
				bad = buf.Bytes()
			}
			old := e.upstream.File(idx + c.ext)
			for _, p := range []string{idx + c.ext, "dists/stable/main/binary-amd64/by-hash/SHA256/" + sha256hex(old)} {
				require.NotNil(t, e.upstream.File(p), p)
				e.upstream.Set(p, bad)
			}
			m := e.mirror()
			m.IndexFormats = c.formats
			_, err := m.Sync(context.Background())
			require.ErrorIs(t, err, apt.ErrIndexChecksum)
			require.ErrorIs(t, err, store.ErrDigestMismatch)
			require.Empty(t, published(t, e.store))
		})
	}
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestOtherKey(t *testing.T) {
	err := resync(t, apttest.Options{}, func(e *env, repo *apttest.Repo) {
		other, err := pgp.GenerateKey("Mallory", "m@example.invalid", pgp.KeyOptions{})
		require.NoError(t, err)
		in, err := other.Clearsign(repo.Files["dists/stable/Release"])
		require.NoError(t, err)
		repo.Files["dists/stable/InRelease"] = in
	}, nil)
	require.ErrorIs(t, err, pgp.ErrSignature)
	require.ErrorIs(t, err, pgp.ErrUnknownKey)
}

func TestExpiredFutureRollback(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	for _, c := range []struct {
		name  string
		opt   apttest.Options
		want  error
		allow func(m *apt.Mirror)
	}{
		{"expired", apttest.Options{Date: now.Add(-20 * 24 * time.Hour), ValidFor: 10 * 24 * time.Hour}, apt.ErrExpired, func(m *apt.Mirror) { m.AllowExpired = true }},
		{"future", apttest.Options{Date: now.Add(time.Hour)}, apt.ErrFutureDate, func(m *apt.Mirror) { m.AllowFutureDate = true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.opt)
			m := e.mirror()
			_, err := m.Sync(ctx)
			require.ErrorIs(t, err, c.want)
			require.Empty(t, published(t, e.store))
			c.allow(m)
			_, err = m.Sync(ctx)
			require.NoError(t, err)
		})
	}
	t.Run("rollback", func(t *testing.T) {
		var m *apt.Mirror
		err := resync(t, apttest.Options{}, func(e *env, repo *apttest.Repo) {
			opt := e.repoOpt
			opt.Date = now.Add(-3 * time.Hour)
			old, err := apttest.Build(opt, testPackages())
			require.NoError(t, err)
			*repo = *old
		}, func(mm *apt.Mirror) { m = mm })
		require.ErrorIs(t, err, apt.ErrRollback)
		m.AllowRollback = true
		_, err = m.Sync(ctx)
		require.NoError(t, err)
	})
}

// rawRepo serves one suite "stable" whose indices are given verbatim (paths relative to
// dists/stable/), with a Release listing them (and the extra entries in listed) signed
// by key.
func rawRepo(t testing.TB, key *pgp.Signer, files map[string][]byte, listed map[string][]byte, pool map[string][]byte) *apttest.Repo {
	return rawRepoWith(t, key, files, listed, pool, nil)
}

// rawRepoWith is rawRepo with the Release changed by edit before it is signed.
func rawRepoWith(t testing.TB, key *pgp.Signer, files map[string][]byte, listed map[string][]byte, pool map[string][]byte, edit func(*apt.Release)) *apttest.Repo {
	rel := &apt.Release{Origin: "Raw", Label: "Raw", Suite: "stable", Codename: "stable",
		Date: time.Now().Add(-time.Hour), Architectures: []string{"amd64"}, Components: []string{"main"}, Files: map[string]apt.IndexFile{}}
	repo := &apttest.Repo{Files: map[string][]byte{}}
	add := func(p string, b []byte) {
		s2 := sha256.Sum256(b)
		s5 := sha512.Sum512(b)
		rel.Files[p] = apt.IndexFile{Path: p, Size: int64(len(b)), SHA256: hex.EncodeToString(s2[:]), SHA512: hex.EncodeToString(s5[:])}
	}
	for p, b := range files {
		add(p, b)
		repo.Files["dists/stable/"+p] = b
	}
	for p, b := range listed {
		add(p, b)
	}
	for p, b := range pool {
		repo.Files[p] = b
	}
	if edit != nil {
		edit(rel)
	}
	in, err := key.Clearsign(rel.Marshal())
	require.NoError(t, err)
	repo.Files["dists/stable/InRelease"] = in
	return repo
}

// TestComponentsUnderUpdates: Debian's security archive lists its components as
// "updates/main" and keeps their files under main/: with no components configured, the
// mirror finds the indices there.
func TestComponentsUnderUpdates(t *testing.T) {
	e := newEnv(t, apttest.Options{})
	deb := apttest.BuildDeb(apttest.Package{Name: "x", Version: "1"})
	stanza := "Package: x\nVersion: 1\nArchitecture: amd64\nFilename: pool/updates/main/x/x/x_1_amd64.deb\nSize: " + strconv.Itoa(len(deb)) + "\nSHA256: " + sha256hex(deb) + "\n"
	e.upstream.Replace(rawRepoWith(t, e.key, map[string][]byte{"main/binary-amd64/Packages": []byte(stanza)}, nil,
		map[string][]byte{"pool/updates/main/x/x/x_1_amd64.deb": deb}, func(rel *apt.Release) { rel.Components = []string{"updates/main"} }))
	for _, pristine := range []bool{false, true} {
		m := e.mirror()
		m.Store, m.Fetch = store.NewMemory(), nil
		m.Suites, m.Architectures = []string{"stable"}, []string{"amd64"}
		if pristine {
			m.Pristine, m.Signer, m.ValidFor = true, nil, 0
		}
		st, err := m.Sync(context.Background())
		require.NoError(t, err, "pristine %v", pristine)
		require.Equal(t, 1, st.Files)
		suites, err := apt.Suites(context.Background(), m.Store, m.Ref())
		require.NoError(t, err)
		require.Equal(t, []string{"main"}, suites[0].Components)
	}
}

func TestUnsafeFilename(t *testing.T) {
	e := newEnv(t, apttest.Options{})
	deb := apttest.BuildDeb(apttest.Package{Name: "x", Version: "1"})
	d := sha256.Sum256(deb)
	stanza := "Package: x\nVersion: 1\nArchitecture: amd64\nFilename: ../../x\nSize: " + strconv.Itoa(len(deb)) + "\nSHA256: " + hex.EncodeToString(d[:]) + "\n"
	e.upstream.Replace(rawRepo(t, e.key, map[string][]byte{"main/binary-amd64/Packages": []byte(stanza)}, nil, nil))
	m := e.mirror()
	m.Suites = []string{"stable"}
	_, err := m.Sync(context.Background())
	require.ErrorIs(t, err, store.ErrUnsafePath)
	require.Empty(t, published(t, e.store))
}

func TestTruncatedXZ(t *testing.T) {
	e := newEnv(t, apttest.Options{})
	plain := e.upstream.File("dists/stable/main/binary-amd64/Packages")
	var buf bytes.Buffer
	w, _ := xz.NewWriter(&buf)
	w.Write(plain)
	w.Close()
	cut := buf.Bytes()[:buf.Len()/2]
	e.upstream.Replace(rawRepo(t, e.key, map[string][]byte{"main/binary-amd64/Packages.xz": cut},
		map[string][]byte{"main/binary-amd64/Packages": plain}, nil))
	m := e.mirror()
	m.Suites = []string{"stable"}
	m.Architectures = []string{"amd64"}
	_, err := m.Sync(context.Background())
	require.ErrorIs(t, err, apt.ErrMalformed)
	require.Empty(t, published(t, e.store))
}

func TestWeakChecksums(t *testing.T) {
	_, err := apt.ParseRelease(strings.NewReader("Suite: x\nMD5Sum:\n d41d8cd98f00b204e9800998ecf8427e 0 main/binary-amd64/Packages\n"))
	require.ErrorIs(t, err, apt.ErrWeakChecksums)
}

func TestUpstreamErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("500 cold", func(t *testing.T) {
		e := newEnv(t, apttest.Options{})
		e.upstream.Fault = func(r *http.Request) int {
			if strings.HasPrefix(r.URL.Path, "/pool/main/h/hello/") {
				return http.StatusInternalServerError
			}
			return 0
		}
		_, err := e.mirror().Sync(ctx)
		var he *fetch.HTTPError
		require.ErrorAs(t, err, &he)
		require.Equal(t, http.StatusInternalServerError, he.StatusCode)
		require.Empty(t, published(t, e.store))
	})
	t.Run("429 then ok", func(t *testing.T) {
		e := newEnv(t, apttest.Options{})
		var n atomic.Int32
		e.upstream.Fault = func(r *http.Request) int {
			if strings.HasSuffix(r.URL.Path, ".deb") && n.Add(1) <= 3 {
				return http.StatusTooManyRequests
			}
			return 0
		}
		_, err := e.mirror().Sync(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, published(t, e.store))
	})
}

// TestInterruptedSync cancels a sync half-way through the pool downloads: nothing is
// published; the next run publishes and fetches only what the first did not finish.
func TestInterruptedSync(t *testing.T) {
	e := newEnv(t, apttest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	e.upstream.Fault = func(r *http.Request) int {
		if strings.HasSuffix(r.URL.Path, ".deb") && n.Add(1) == 5 {
			cancel()
		}
		return 0
	}
	m := e.mirror()
	m.Concurrency = 1
	_, err := m.Sync(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, published(t, e.store))
	e.upstream.Fault = nil
	e.upstream.ResetCounts()
	st, err := m.Sync(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, published(t, e.store))
	require.Greater(t, st.Reused, 0)
	require.Less(t, st.Downloaded, st.Files)
}

// TestInstallerAndContents mirrors debian-installer indices (every udeb) and carries
// Contents and dep11 verbatim, listed in the republished Release.
func TestInstallerAndContents(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, apttest.Options{})
	deb := apttest.BuildDeb(apttest.Package{Name: "x", Version: "1"})
	udeb := apttest.BuildDeb(apttest.Package{Name: "x-udeb", Version: "1", Section: "debian-installer"})
	stanza := func(name, fn string, b []byte) string {
		return "Package: " + name + "\nVersion: 1\nArchitecture: amd64\nFilename: " + fn + "\nSize: " + strconv.Itoa(len(b)) + "\nSHA256: " + sha256hex(b) + "\n"
	}
	contents := []byte("usr/bin/x    misc/x\n")
	e.upstream.Replace(rawRepo(t, e.key, map[string][]byte{
		"main/binary-amd64/Packages":                  []byte(stanza("x", "pool/main/x/x/x_1_amd64.deb", deb)),
		"main/debian-installer/binary-amd64/Packages": []byte(stanza("x-udeb", "pool/main/x/x/x-udeb_1_amd64.udeb", udeb)),
		"main/Contents-amd64":                         contents,
		"main/dep11/Components-amd64.yml.gz":          []byte("not really gzip, carried verbatim"),
		"main/dep11/icons-64x64.tar.gz":               []byte("icons"),
	}, nil, map[string][]byte{"pool/main/x/x/x_1_amd64.deb": deb, "pool/main/x/x/x-udeb_1_amd64.udeb": udeb}))
	m := e.mirror()
	m.Suites, m.Architectures = []string{"stable"}, []string{"amd64"}
	m.Installer, m.Contents, m.DEP11 = true, true, true
	m.Filter = apt.Filter{Packages: []string{"x"}}
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	snap, _, err := store.OpenPublished(ctx, e.store, m.Ref())
	require.NoError(t, err)
	for _, p := range []string{"pool/main/x/x/x-udeb_1_amd64.udeb", "pool/main/x/x/x_1_amd64.deb",
		"dists/stable/main/debian-installer/binary-amd64/Packages.xz", "dists/stable/main/Contents-amd64",
		"dists/stable/main/dep11/Components-amd64.yml.gz", "dists/stable/main/dep11/icons-64x64.tar.gz"} {
		_, ok := snap.Lookup(p)
		require.True(t, ok, p)
	}
	f, _ := snap.Lookup("dists/stable/Release")
	b, err := store.ReadBlob(ctx, e.store, f.Digest, 1<<20)
	require.NoError(t, err)
	rel, err := apt.ParseRelease(bytes.NewReader(b))
	require.NoError(t, err)
	require.Contains(t, rel.Files, "main/Contents-amd64")
	require.Contains(t, rel.Files, "main/debian-installer/binary-amd64/Packages")
	require.Equal(t, "Raw", rel.Origin)
}

// TestReleaseOverCap: an InRelease over MaxReleaseSize (read whole to be verified) fails
// the sync with store.ErrTooLarge naming its URL and the cap, and nothing is published.
func TestReleaseOverCap(t *testing.T) {
	e := newEnv(t, apttest.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/InRelease") {
			e.upstream.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(apt.MaxReleaseSize+1))
		_, _ = io.CopyN(w, zeros{}, apt.MaxReleaseSize+1)
	}))
	defer srv.Close()
	m := e.mirror()
	m.URL = srv.URL
	_, err := m.Sync(context.Background())
	require.ErrorIs(t, err, store.ErrTooLarge)
	require.ErrorContains(t, err, srv.URL+"/dists/stable/InRelease")
	require.ErrorContains(t, err, strconv.Itoa(apt.MaxReleaseSize))
	require.Empty(t, published(t, e.store))
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

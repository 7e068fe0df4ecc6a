package apt_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
	"github.com/stretchr/testify/require"
)

// twoArchives is a main archive and a security archive at different URLs, signed by
// different keys, as Debian's. The security archive has a newer libc6, and both carry a
// "tool 1.0" built differently at the same pool path.
type twoArchives struct {
	main, sec       *httptest.Server
	mainKey, secKey *pgp.Signer
}

func newTwoArchives(t *testing.T) *twoArchives {
	t.Helper()
	a := &twoArchives{}
	var err error
	for _, k := range []**pgp.Signer{&a.mainKey, &a.secKey} {
		*k, err = pgp.GenerateKey("Archive", "archive@example.invalid", pgp.KeyOptions{})
		require.NoError(t, err)
	}
	tool := func(build string) apttest.Package {
		return apttest.Package{Name: "tool", Version: "1.0", Files: map[string]string{"usr/share/doc/tool/BUILD": build}}
	}
	mainRepo, err := apttest.Build(apttest.Options{Suites: []string{"stable"}, Signer: a.mainKey, ByHash: true, Sources: true}, []apttest.Package{
		{Name: "hello", Version: "2.10-3", Depends: "libc6 (>= 2.34)"},
		{Name: "libc6", Version: "2.36-9", PreDepends: "libgcc-s1", Source: "glibc"},
		{Name: "libgcc-s1", Version: "12.2.0-14", Source: "gcc-12"},
		tool("main"),
	})
	require.NoError(t, err)
	secRepo, err := apttest.Build(apttest.Options{Suites: []string{"stable-security"}, Signer: a.secKey, ByHash: true, Sources: true}, []apttest.Package{
		{Name: "libc6", Version: "2.36-9+deb12u1", PreDepends: "libgcc-s1", Source: "glibc"},
		tool("security"),
	})
	require.NoError(t, err)
	a.main = httptest.NewServer(apttest.NewServer(mainRepo))
	t.Cleanup(a.main.Close)
	a.sec = httptest.NewServer(apttest.NewServer(secRepo))
	t.Cleanup(a.sec.Close)
	return a
}

func (a *twoArchives) mirror(s store.Store, op *pgp.Signer) *apt.Mirror {
	return &apt.Mirror{Name: "debian", URL: a.main.URL, Suites: []string{"stable"}, Keys: a.mainKey.Keyring(),
		Upstreams:     []apt.Upstream{{URL: a.sec.URL + "/", Suites: []string{"stable-security"}, Keys: a.secKey.Keyring()}},
		Architectures: []string{"amd64"}, Sources: true, Store: s, Signer: op,
		Filter: apt.Filter{Packages: []string{"hello", "tool"}, Dependencies: true}}
}

// TestUpstreamsClosure: one mirror of two archives computes the closure over both, picks
// the security archive's newer libc6, publishes both suites in one tree with one pool,
// and moves the security archive's different "tool 1.0" (and its source) to a path of
// its own; real apt installs the closure from it.
func TestUpstreamsClosure(t *testing.T) {
	ctx := context.Background()
	a := newTwoArchives(t)
	op, err := pgp.GenerateKey("Operator", "op@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)
	s := store.NewMemory()
	m := a.mirror(s, op)
	require.Equal(t, []string{a.main.URL + "/", a.sec.URL + "/"}, m.Endpoints())

	plan, err := m.Plan(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"stable", "stable-security"}, plan.Suites)
	var got []string
	var movedTool string
	for _, p := range plan.Packages {
		got = append(got, p.Suite+" "+p.Name+" "+p.Version)
		if p.Suite == "stable-security" && p.Name == "tool" {
			movedTool = p.Filename
		}
	}
	require.Equal(t, []string{"stable hello 2.10-3", "stable libgcc-s1 12.2.0-14", "stable tool 1.0",
		"stable-security libc6 2.36-9+deb12u1", "stable-security tool 1.0"}, got)
	require.Regexp(t, `^pool/main/t/tool/[0-9a-f]{16}/tool_1\.0_amd64\.deb$`, movedTool)
	_, err = s.Ref(ctx, m.Ref())
	require.ErrorIs(t, err, store.ErrNotFound, "Plan publishes nothing")
	before, err := store.NewTally().Add(ctx, s, plan.Items())
	require.NoError(t, err)
	require.Zero(t, before.Held, "no pool file fetched by Plan")

	st, err := m.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, st.Suites)
	snap, _, err := store.OpenPublished(ctx, s, m.Ref())
	require.NoError(t, err)
	// the plan's sizes and digests are those of the published pool files
	// (a blob at two paths counts once)
	var poolBytes int64
	blobs := map[store.Digest]bool{}
	for _, f := range plan.Files {
		pf, ok := snap.Lookup(f.Path)
		require.True(t, ok, f.Path)
		require.Equal(t, pf.Digest, f.Digest, f.Path)
		if !blobs[pf.Digest] {
			blobs[pf.Digest] = true
			poolBytes += pf.Size
		}
	}
	require.Equal(t, store.PlanFigures{Items: len(blobs), Fetch: len(blobs), FetchBytes: poolBytes}, before)
	after, err := store.NewTally().Add(ctx, s, plan.Items())
	require.NoError(t, err)
	require.Equal(t, store.PlanFigures{Items: len(blobs), Held: len(blobs), HeldBytes: poolBytes}, after)
	read := func(p string) []byte {
		f, ok := snap.Lookup(p)
		require.True(t, ok, p)
		b, err := store.ReadBlob(ctx, s, f.Digest, 1<<30)
		require.NoError(t, err)
		return b
	}
	// every Filename of both suites names a pool file whose content its stanza pins
	for _, suite := range plan.Suites {
		err := apt.ReadPackages(ctx, bytes.NewReader(read("dists/"+suite+"/main/binary-amd64/Packages")), func(p apt.Package, _ apt.Paragraph) error {
			require.Equal(t, p.SHA256, sha256hex(read(p.Filename)), p.Filename)
			return nil
		})
		require.NoError(t, err)
		err = apt.ReadSources(ctx, bytes.NewReader(read("dists/"+suite+"/main/source/Sources")), func(src apt.SourcePackage, _ apt.Paragraph) error {
			for _, f := range src.Files {
				require.Equal(t, f.SHA256, sha256hex(read(src.Directory+"/"+f.Path)), src.Directory+"/"+f.Path)
			}
			return nil
		})
		require.NoError(t, err)
	}
	require.NotContains(t, string(read("dists/stable/main/binary-amd64/Packages")), "Package: libc6\n")

	testutil.RequireBinary(t, "apt-get", "apt")
	srv := httptest.NewServer(apt.NewHandler(s, m.Ref()))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	key := filepath.Join(dir, "archive-key.gpg")
	require.NoError(t, os.WriteFile(key, read("archive-key.gpg"), 0o644))
	env := aptEnv(t, filepath.Join(dir, "apt"), "deb [signed-by="+key+"] "+srv.URL+"/ stable main\n"+
		"deb [signed-by="+key+"] "+srv.URL+"/ stable-security main\n"+
		"deb-src [signed-by="+key+"] "+srv.URL+"/ stable-security main")
	out := testutil.Run(t, 2*time.Minute, env, "apt-get", "update")
	require.NotContains(t, out, "W: ")
	require.NotContains(t, out, "Err:")
	out = testutil.Run(t, time.Minute, env, "apt-cache", "policy", "libc6")
	require.Contains(t, out, "libc6:\n  Installed: (none)\n  Candidate: 2.36-9+deb12u1")
	root := filepath.Join(dir, "root")
	out = installInto(t, env, root, "hello")
	t.Log(out)
	for _, f := range []string{"usr/share/doc/hello/README", "usr/share/doc/libc6/README", "usr/share/doc/libgcc-s1/README"} {
		_, err := os.Stat(filepath.Join(root, f))
		require.NoError(t, err, f)
	}
	status, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
	require.NoError(t, err)
	require.Contains(t, string(status), "Package: libc6\nStatus: install ok installed")
	require.Contains(t, string(status), "Version: 2.36-9+deb12u1")
	// apt fetches the moved tool and the moved source of the security archive
	dl := filepath.Join(dir, "dl")
	require.NoError(t, os.MkdirAll(dl, 0o755))
	testutil.Run(t, time.Minute, env, "sh", "-c", "cd "+dl+" && apt-get download tool/stable-security && apt-get source --download-only tool/stable-security")
	deb, err := os.ReadFile(filepath.Join(dl, "tool_1.0_amd64.deb"))
	require.NoError(t, err)
	require.Equal(t, read(movedTool), deb)
	tarball, err := os.ReadFile(filepath.Join(dl, "tool_1.0.tar.xz"))
	require.NoError(t, err)
	require.Contains(t, string(tarball), "security")
}

// installInto installs pkgs (and what they depend on) with real apt and dpkg into the
// directory root, as into a fresh system.
func installInto(t *testing.T, env []string, root string, pkgs ...string) string {
	t.Helper()
	for _, d := range []string{"var/lib/dpkg/updates", "var/lib/dpkg/info", "var/lib/dpkg/triggers"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	status := filepath.Join(root, "var/lib/dpkg/status")
	require.NoError(t, os.WriteFile(status, nil, 0o644))
	args := []string{"install", "-y", "--no-install-recommends",
		"-o", "Dir::State::status=" + status,
		"-o", "DPkg::Options::=--root=" + root,
		"-o", "DPkg::Options::=--force-script-chrootless",
		"-o", "DPkg::Options::=--log=" + filepath.Join(root, "dpkg.log"),
		"-o", "DPkg::Use-Pty=0",
		"-o", "Debug::NoLocking=1"}
	return testutil.Run(t, 2*time.Minute, env, "apt-get", append(args, pkgs...)...)
}

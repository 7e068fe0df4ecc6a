package apt_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/pgp"
	"github.com/stretchr/testify/require"
)

const debianKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

// debianReplica serves a byte-identical replica of deb.debian.org's bookworm (and
// bookworm-updates) and bookworm-security from the host's apt lists, or skips the test.
type debianReplica struct {
	rep          *apttest.Replica
	srv          *httptest.Server
	up           *apttest.Server
	main, sec    string   // archive URLs
	mainSuites   []string // bookworm, bookworm-updates (when apt holds it)
	latest       time.Time
	secValidThru time.Time
	bookworm     *apt.Release
}

func newDebianReplica(t *testing.T) *debianReplica {
	t.Helper()
	if testing.Short() {
		t.Skip("real-data test (63,440 packages) not run with -short")
	}
	rep, err := apttest.LoadLists(apttest.DefaultListsDir)
	if err != nil {
		t.Skipf("no usable apt lists in %s (%v): real-data test not run; it needs a Debian bookworm host after apt-get update", apttest.DefaultListsDir, err)
	}
	main, ok1 := rep.Archive("deb.debian.org/debian")
	sec, ok2 := rep.Archive("deb.debian.org/debian-security")
	if !ok1 || !ok2 || !slices.Contains(main.Suites, "bookworm") || !slices.Contains(sec.Suites, "bookworm-security") {
		t.Skipf("apt lists in %s hold no deb.debian.org bookworm and bookworm-security main amd64 indices: real-data test not run", apttest.DefaultListsDir)
	}
	if _, err := os.Stat(debianKeyring); err != nil {
		t.Skipf("%s missing (apt-get install debian-archive-keyring): real-data test not run", debianKeyring)
	}
	up := apttest.NewServer(rep.Repo)
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	d := &debianReplica{rep: rep, srv: srv, up: up, main: srv.URL + "/" + main.Root, sec: srv.URL + "/" + sec.Root}
	for _, s := range []string{"bookworm", "bookworm-updates"} {
		if slices.Contains(main.Suites, s) {
			d.mainSuites = append(d.mainSuites, s)
		}
	}
	// latest is the newest Date of every suite mirrored (bookworm-updates is often the
	// newest), the time the tests' clock is set after.
	releases := []string{sec.Root + "/dists/bookworm-security/InRelease"}
	for _, s := range d.mainSuites {
		releases = append(releases, main.Root+"/dists/"+s+"/InRelease")
	}
	for _, p := range releases {
		text, err := pgp.ClearsignedContent(rep.Repo.Files[p])
		require.NoError(t, err)
		rel, err := apt.ParseRelease(bytes.NewReader(text))
		require.NoError(t, err)
		if rel.Date.After(d.latest) {
			d.latest = rel.Date
		}
		switch {
		case strings.Contains(p, "security"):
			d.secValidThru = rel.ValidUntil
		case strings.HasSuffix(p, "/bookworm/InRelease"):
			d.bookworm = rel
		}
	}
	return d
}

func (d *debianReplica) mirror(s store.Store) *apt.Mirror {
	now := d.latest.Add(time.Hour) // the lists' own time: bookworm-security expires a week after its Date
	return &apt.Mirror{Name: "debian", URL: d.main, Suites: d.mainSuites, Components: []string{"main"},
		Architectures: []string{"amd64"}, Keyring: debianKeyring,
		Upstreams: []apt.Upstream{{URL: d.sec, Suites: []string{"bookworm-security"}}},
		Store:     s, Now: func() time.Time { return now }}
}

// newest reads the Packages indices of the replica (with its own scan, not the package
// under test) and returns, per package name, the suite and version that dpkg
// --compare-versions ranks newest.
func (d *debianReplica) newest(t *testing.T, names []string) map[string][2]string {
	dpkg := testutil.RequireBinary(t, "dpkg", "dpkg")
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	best := map[string][2]string{}
	for _, a := range d.rep.Archives {
		for _, ix := range a.Indices {
			suite := strings.Split(ix, "/")[1]
			sc := bufio.NewScanner(bytes.NewReader(d.rep.Repo.Files[a.Root+"/"+ix]))
			sc.Buffer(nil, 1<<20)
			name := ""
			for sc.Scan() {
				line := sc.Text()
				if v, ok := strings.CutPrefix(line, "Package: "); ok {
					name = v
				}
				if v, ok := strings.CutPrefix(line, "Version: "); ok && want[name] {
					if b, ok := best[name]; !ok || dpkgNewer(t, dpkg, v, b[1]) {
						best[name] = [2]string{suite, v}
					}
				}
			}
		}
	}
	return best
}

func dpkgNewer(t *testing.T, dpkg, a, b string) bool {
	_, err := testutil.RunErr(t, time.Minute, nil, dpkg, "--compare-versions", a, "gt", b)
	return err == nil
}

// TestRealDebianReplica mirrors real Debian bookworm (63,440 packages), bookworm-updates
// and bookworm-security (another URL, so another upstream) from a byte-identical replica
// that, like a mirror that lost its compressed files, serves only the plain Packages its
// InRelease lists beside .xz and .gz: verified with Debian's keyring, the closure of
// hello and libfreetype6 is computed across all three suites, each package at the newest
// version any suite offers (as dpkg ranks them); configured to prefer xz, the mirror
// falls back through xz and gz (by hash and by path) to plain. A sync publishes all three
// suites, bookworm-security with the upstream's Valid-Until, and real apt accepts the tree.
func TestRealDebianReplica(t *testing.T) {
	d := newDebianReplica(t)
	ctx := context.Background()
	s := store.NewMemory()
	m := d.mirror(s)
	roots := []string{"hello", "libfreetype6"} // libfreetype6 needs libbrotli1, fixed in bookworm-security
	m.Filter = apt.Filter{Packages: roots, Dependencies: true}
	plan, err := m.Plan(ctx)
	require.NoError(t, err)
	require.Equal(t, append(slices.Clone(d.mainSuites), "bookworm-security"), plan.Suites)
	require.Empty(t, plan.Unsatisfied)
	var names []string
	got := map[string][]apt.PlannedPackage{}
	for _, p := range plan.Packages {
		if !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
		got[p.Name] = append(got[p.Name], p)
	}
	t.Logf("planned: %v", plan.Packages)
	require.Contains(t, names, "libc6")
	best := d.newest(t, names)
	fromSecurity := 0
	for _, n := range names {
		if slices.Contains(roots, n) {
			continue // roots: every version of a named package is selected
		}
		require.Len(t, got[n], 1, n)
		require.Equal(t, best[n][1], got[n][0].Version, "dependency %s: not the newest version", n)
		require.Equal(t, best[n][0], got[n][0].Suite, n)
		if got[n][0].Suite == "bookworm-security" {
			fromSecurity++
		}
	}
	if best["libbrotli1"][0] == "bookworm-security" {
		require.Positive(t, fromSecurity, "the security fix is part of the closure")
	}
	for _, f := range plan.Files {
		require.True(t, strings.HasPrefix(f.URL, d.main+"/pool/") || strings.HasPrefix(f.URL, d.sec+"/pool/"), f.URL)
	}
	// the default reads the plain variant first: no compressed variant was asked for
	idx := "deb.debian.org/debian/dists/bookworm/main/binary-amd64/Packages"
	require.Zero(t, d.up.Count(idx+".xz")+d.up.Count(idx+".gz"))

	// preferring xz: xz and gz are missing at both paths, plain is found
	d.up.ResetCounts()
	m2 := d.mirror(store.NewMemory())
	m2.IndexFormats = []string{"xz", "gz", "plain"}
	m2.Filter = m.Filter
	plan2, err := m2.Plan(ctx)
	require.NoError(t, err)
	require.Equal(t, plan.Packages, plan2.Packages)
	require.Equal(t, 1, d.up.Count(idx+".xz"))
	require.Equal(t, 1, d.up.Count(idx+".gz"))
	byHash := "deb.debian.org/debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/"
	for _, ext := range []string{".xz", ".gz", ""} {
		require.Equal(t, 1, d.up.Count(byHash+d.bookworm.Files["main/binary-amd64/Packages"+ext].SHA256), ext)
	}
	require.Zero(t, d.up.Count(idx), "plain came by hash")

	// a sync that selects no package (the replica has no pool) publishes the three suites
	op, err := pgp.GenerateKey("Operator", "op@example.invalid", pgp.KeyOptions{})
	require.NoError(t, err)
	m3 := d.mirror(store.NewMemory())
	m3.Signer, m3.ValidFor = op, 30*24*time.Hour
	m3.Filter = apt.Filter{Packages: []string{"airgap-no-such-package"}}
	_, err = m3.Sync(ctx)
	require.NoError(t, err)
	snap, _, err := store.OpenPublished(ctx, m3.Store, m3.Ref())
	require.NoError(t, err)
	read := func(p string) []byte {
		f, ok := snap.Lookup(p)
		require.True(t, ok, p)
		b, err := store.ReadBlob(ctx, m3.Store, f.Digest, 1<<30)
		require.NoError(t, err)
		return b
	}
	for _, suite := range plan.Suites {
		rel, err := apt.ParseRelease(bytes.NewReader(read("dists/" + suite + "/Release")))
		require.NoError(t, err)
		if suite == "bookworm-security" {
			require.Equal(t, d.secValidThru, rel.ValidUntil, "the upstream's Valid-Until is kept")
		} else {
			require.Equal(t, d.latest.Add(time.Hour+30*24*time.Hour), rel.ValidUntil)
		}
	}

	testutil.RequireBinary(t, "apt-get", "apt")
	srv := httptest.NewServer(apt.NewHandler(m3.Store, m3.Ref()))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	key := filepath.Join(dir, "op.gpg")
	require.NoError(t, os.WriteFile(key, read("archive-key.gpg"), 0o644))
	var lines []string
	for _, suite := range plan.Suites {
		opts := "signed-by=" + key
		if time.Now().After(d.secValidThru) {
			// apt checks Valid-Until against the real clock, not the lists' time
			opts += " check-valid-until=no"
		}
		lines = append(lines, "deb ["+opts+"] "+srv.URL+"/ "+suite+" main")
	}
	env := aptEnv(t, filepath.Join(dir, "apt"), strings.Join(lines, "\n"))
	out := testutil.Run(t, 2*time.Minute, env, "apt-get", "update")
	require.NotContains(t, out, "W: ")
	require.NotContains(t, out, "Err:")
}

// TestRealDebianReplicaPristine: a pristine mirror of real Debian bookworm main amd64
// (63,440 packages) from the byte-identical replica serves InRelease, Packages (by path and
// by hash) and the dep11 file apt kept, byte for byte, verified with Debian's keyring, and
// holds no pool file (the filter selects none, the replica has none); the real apt client,
// trusting Debian's keyring from trusted.gpg.d (no signed-by) and reaching
// deb.debian.org through a proxy that routes it to the tree, accepts it.
func TestRealDebianReplicaPristine(t *testing.T) {
	d := newDebianReplica(t)
	ctx := context.Background()
	s := store.NewMemory()
	now := d.latest.Add(time.Hour)
	m := &apt.Mirror{Name: "debian", URL: d.main, Suites: []string{"bookworm"}, Components: []string{"main"},
		Architectures: []string{"amd64"}, Keyring: debianKeyring, Pristine: true,
		Filter: apt.Filter{Packages: []string{"airgap-no-such-package"}}, Store: s, Now: func() time.Time { return now }}
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Files)
	root := "deb.debian.org/debian/"
	sum := d.bookworm.Files["main/binary-amd64/Packages"].SHA256
	same := []string{"dists/bookworm/InRelease", "dists/bookworm/main/binary-amd64/Packages",
		"dists/bookworm/main/binary-amd64/by-hash/SHA256/" + sum}
	if _, ok := d.rep.Repo.Files[root+"dists/bookworm/main/dep11/Components-amd64.yml.gz"]; ok {
		same = append(same, "dists/bookworm/main/dep11/Components-amd64.yml.gz")
	}
	for _, p := range same {
		want := d.rep.Repo.Files[root+p]
		require.NotNil(t, want, p)
		require.True(t, bytes.Equal(want, readTree(t, s, m.Ref(), p)), "%s is not byte-identical", p)
	}
	items, err := apt.Inventory(ctx, s, m.Ref())
	require.NoError(t, err)
	require.Empty(t, items, "the Packages lists 63,440 packages; none is held")
	suites, err := apt.Suites(ctx, s, m.Ref())
	require.NoError(t, err)
	require.Len(t, suites, 1)
	require.True(t, suites[0].Pristine)
	require.Equal(t, d.bookworm.Date, suites[0].UpstreamDate)
	require.Equal(t, d.bookworm.ValidUntil, suites[0].ValidUntil)
	require.NotEmpty(t, suites[0].Signers)

	testutil.RequireBinary(t, "apt-get", "apt")
	proxy := httptest.NewServer(apttest.ForwardProxy(map[string]http.Handler{"deb.debian.org/debian": apt.NewHandler(s, m.Ref())}))
	t.Cleanup(proxy.Close)
	dir := t.TempDir()
	env := aptEnv(t, dir, "deb http://deb.debian.org/debian bookworm main")
	keyring, err := os.ReadFile(debianKeyring)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "etc/trusted.gpg.d/debian-archive-keyring.gpg"), keyring, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "etc/apt.conf.d/90mirror"), []byte("Acquire::http::Proxy \""+proxy.URL+"\";\n"), 0o644))
	out := testutil.Run(t, 2*time.Minute, env, "apt-get", "update")
	t.Log(out)
	require.NotContains(t, out, "W: ")
	require.NotContains(t, out, "E: ")
	// the replica has no .xz or .gz to hold (apt recompressed its copies): apt's 404 on
	// those ("Err:") falls back to the plain index, as the Release lists it
	require.Regexp(t, `Get:[0-9]+ http://deb.debian.org/debian bookworm/main amd64 Packages \[[0-9.]+ MB\]`, out)
	require.Contains(t, testutil.Run(t, time.Minute, env, "apt-cache", "policy", "hello"), "Candidate: "+d.newest(t, []string{"hello"})["hello"][1])
}

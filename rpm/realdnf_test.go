package rpm_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/rpm"
	"github.com/airgapkit/airgap/rpm/rpmtest"
)

// dnfRun is one isolated dnf: an empty installroot, its own config, cache, log and
// persist directories, gpgcheck and repo_gpgcheck on, the repositories of repoFile
// only, no plugins.
type dnfRun struct {
	dir, root, conf string
}

func newDNF(t *testing.T, repoFile string) *dnfRun {
	t.Helper()
	testutil.RequireBinary(t, "dnf", "dnf")
	testutil.RequireBinary(t, "rpm", "rpm")
	d := &dnfRun{dir: t.TempDir()}
	d.root = filepath.Join(d.dir, "root")
	repos := filepath.Join(d.dir, "repos")
	require.NoError(t, os.MkdirAll(d.root, 0o755))
	require.NoError(t, os.MkdirAll(repos, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repos, "test.repo"), []byte(repoFile), 0o644))
	d.conf = filepath.Join(d.dir, "dnf.conf")
	conf := fmt.Sprintf("[main]\nreposdir=%s\ncachedir=/cache\nlogdir=%s\npersistdir=%s\nmodule_platform_id=platform:el9\n"+
		"install_weak_deps=True\ngpgcheck=1\nrepo_gpgcheck=1\nkeepcache=1\nmetadata_expire=0\nskip_if_unavailable=False\n",
		repos, filepath.Join(d.dir, "log"), filepath.Join(d.dir, "persist"))
	require.NoError(t, os.WriteFile(d.conf, []byte(conf), 0o644))
	return d
}

func (d *dnfRun) args(a ...string) []string {
	return append([]string{"-y", "--noplugins", "--config", d.conf, "--installroot", d.root, "--releasever", "9",
		"--forcearch", "x86_64", "--setopt=module_platform_id=platform:el9"}, a...)
}

// install runs dnf install and returns rpm -qa of the installroot (gpg-pubkey
// entries left out) and the rpm files dnf downloaded, by file name.
func (d *dnfRun) install(t *testing.T, pkgs ...string) ([]string, map[string][]byte) {
	t.Helper()
	testutil.Run(t, 3*time.Minute, nil, "dnf", d.args(append([]string{"install"}, pkgs...)...)...)
	out := testutil.Output(t, time.Minute, nil, "rpm", "-qa", "--root", d.root)
	var set []string
	for _, l := range strings.Fields(out) {
		if !strings.HasPrefix(l, "gpg-pubkey-") {
			set = append(set, l)
		}
	}
	slices.Sort(set)
	files := map[string][]byte{}
	filepath.WalkDir(filepath.Join(d.root, "cache"), func(p string, de fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".rpm") {
			b, _ := os.ReadFile(p)
			files[filepath.Base(p)] = b
		}
		return nil
	})
	return set, files
}

func repoFile(base string, keys ...string) string {
	var b strings.Builder
	for _, r := range []struct{ id, path string }{{"baseos", rpmtest.BaseOS}, {"appstream", rpmtest.AppStream}} {
		fmt.Fprintf(&b, "[%s]\nname=%s\nbaseurl=%s/%s/\ngpgkey=%s\n\n", r.id, r.id, base, r.path, strings.Join(keys, " "))
	}
	return b.String()
}

// upstreamInstall installs httpd and webapp with real dnf from the upstream itself:
// what a mirror must reproduce.
func upstreamInstall(t *testing.T, e *env) ([]string, map[string][]byte) {
	t.Helper()
	d := newDNF(t, repoFile(e.srv.URL, "file://"+e.tree.WriteKey(t)))
	return d.install(t, "httpd", "webapp")
}

// TestRealDNF installs httpd (file provides from primary and filelists, a virtual
// provide, rich dependencies, weak ones) and the modular webapp with real dnf 4
// (gpgcheck=1, repo_gpgcheck=1) from the upstream, a pristine mirror and a filtered,
// re-signed one, using the .repo file the mirror serves: the same packages install, and
// the .rpm files dnf downloaded are the upstream's, byte for byte. The filtered mirror
// answers 404 for a package it does not hold, and dnf refuses it when the operator's
// key is not the one configured.
func TestRealDNF(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	wantSet, wantFiles := upstreamInstall(t, e)
	require.Contains(t, wantSet, "httpd-selinux-2.4.57-5.el9.noarch")
	require.Contains(t, wantSet, "webapp-1.0-1.module_el9.noarch")
	require.Contains(t, wantSet, "mod_lua-2.4.57-5.el9.x86_64")

	for _, tc := range []struct {
		name     string
		pristine bool
		filter   rpm.Filter
	}{
		{"pristine", true, rpm.Filter{}},
		{"filtered", false, httpdFilter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := e.mirror(tc.pristine)
			m.Name = tc.name
			m.Filter = tc.filter
			st, err := m.Sync(ctx)
			require.NoError(t, err)
			require.Empty(t, st.Unsatisfied)
			mux := http.NewServeMux()
			prefix := "/rpm/" + m.Name
			mux.Handle(prefix+"/", http.StripPrefix(prefix, rpm.NewHandler(e.store, m.Ref(), rpm.WithBasePath(prefix))))
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			rf := testutil.Output(t, time.Minute, nil, "curl", "-sf", srv.URL+prefix+"/"+m.Name+".repo")
			require.Contains(t, rf, "repo_gpgcheck=1")
			d := newDNF(t, rf)
			set, files := d.install(t, "httpd", "webapp")
			require.Equal(t, wantSet, set)
			require.Equal(t, len(wantFiles), len(files))
			for name, b := range wantFiles {
				require.Equal(t, b, files[name], name)
			}
			if tc.pristine {
				return
			}
			// comps, updateinfo and modules as dnf reads them, filtered to what is held.
			q := func(a ...string) string { return testutil.Run(t, time.Minute, nil, "dnf", d.args(a...)...) }
			grp := q("group", "info", "web-server")
			require.Contains(t, grp, "httpd")
			require.Contains(t, grp, "mod_ssl")
			require.NotContains(t, grp, "php")
			adv := q("updateinfo", "list", "--all")
			require.Contains(t, adv, "RLSA-2024:0001")
			require.NotContains(t, adv, "RLBA-2024:0002")
			mods := q("module", "list", "webapp")
			require.Regexp(t, `webapp\s+1 \[d\]`, mods)
			require.NotRegexp(t, `webapp\s+3`, mods)

			resp, err := http.Get(srv.URL + prefix + "/" + rpmtest.BaseOS + "/Packages/u/unrelated-3.0-1.el9.noarch.rpm")
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusNotFound, resp.StatusCode)

			// Another key for repomd.xml: dnf refuses the repository.
			other := newDNF(t, repoFile(srv.URL+prefix, "file://"+e.tree.WriteKey(t)))
			out, err := testutil.RunErr(t, 3*time.Minute, nil, "dnf", other.args("install", "httpd")...)
			require.Error(t, err, out)
			require.NotContains(t, testutil.Output(t, time.Minute, nil, "rpm", "-qa", "--root", other.root), "httpd")
		})
	}
}

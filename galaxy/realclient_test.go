package galaxy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/galaxy/galaxytest"
	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
)

// ansibleEnv isolates ansible-galaxy from the machine: HOME (and with it the Galaxy
// cache) in a temp dir, an empty ansible.cfg, no proxies for 127.0.0.1.
func ansibleEnv(t *testing.T, dir string) []string {
	t.Helper()
	home := filepath.Join(dir, "home")
	require.NoError(t, os.MkdirAll(home, 0o755))
	cfg := filepath.Join(dir, "ansible.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte("[defaults]\n"), 0o644))
	return []string{
		"HOME=" + home,
		"ANSIBLE_CONFIG=" + cfg,
		"ANSIBLE_COLLECTIONS_PATH=" + filepath.Join(dir, "default-collections"),
		"ANSIBLE_ROLES_PATH=" + filepath.Join(dir, "default-roles"),
		"ANSIBLE_LOCAL_TEMP=" + filepath.Join(dir, "tmp"),
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_GALAXY_DISPLAY_PROGRESS=0",
		"http_proxy=", "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=",
		"no_proxy=127.0.0.1,localhost", "NO_PROXY=127.0.0.1,localhost",
	}
}

// ansibleBuilder builds collections with ansible-galaxy collection init (once per
// collection) + build (once per version, after editing galaxy.yml).
type ansibleBuilder struct {
	t       *testing.T
	env     []string
	dir     string
	initYML map[string]string // "ns.name" -> galaxy.yml as init wrote it
}

func (b *ansibleBuilder) build(ns, name, version string, deps map[string]string) []byte {
	t := b.t
	src := filepath.Join(b.dir, "src", ns+"-"+name)
	gy := filepath.Join(src, ns, name, "galaxy.yml")
	orig, ok := b.initYML[ns+"."+name]
	if !ok {
		testutil.Run(t, 2*time.Minute, b.env, "ansible-galaxy", "collection", "init", ns+"."+name, "--init-path", src)
		y, err := os.ReadFile(gy)
		require.NoError(t, err)
		orig = string(y)
		if b.initYML == nil {
			b.initYML = map[string]string{}
		}
		b.initYML[ns+"."+name] = orig
	}
	text := strings.Replace(orig, "\nversion: 1.0.0\n", "\nversion: "+version+"\n", 1)
	if len(deps) > 0 {
		d, _ := json.Marshal(deps) // JSON is YAML
		text = strings.Replace(text, "\ndependencies: {}\n", "\ndependencies: "+string(d)+"\n", 1)
	}
	require.NoError(t, os.WriteFile(gy, []byte(text), 0o644))
	out := filepath.Join(b.dir, "built")
	testutil.Run(t, 2*time.Minute, b.env, "ansible-galaxy", "collection", "build", filepath.Join(src, ns, name), "--output-path", out)
	a, err := os.ReadFile(filepath.Join(out, ns+"-"+name+"-"+version+".tar.gz"))
	require.NoError(t, err)
	return a
}

func installedVersion(t *testing.T, dir, ns, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "ansible_collections", ns, name, "MANIFEST.json"))
	require.NoError(t, err, "%s.%s not installed in %s", ns, name, dir)
	var m struct {
		Info struct {
			Version string `json:"version"`
		} `json:"collection_info"`
	}
	require.NoError(t, json.Unmarshal(b, &m))
	return m.Info.Version
}

// TestAnsibleGalaxyEndToEnd: collections built by ansible-galaxy itself, served by a test
// upstream, mirrored, and installed by ansible-galaxy from the mirror's handler mounted
// under a prefix; then download + offline install, a version added upstream appearing
// after a resync despite the client's cache, and a role install.
func TestAnsibleGalaxyEndToEnd(t *testing.T) {
	testutil.RequireBinary(t, "ansible-galaxy", "ansible-core")
	ctx := context.Background()
	dir := t.TempDir()
	env := ansibleEnv(t, dir)
	b := &ansibleBuilder{t: t, env: env, dir: dir}

	up := galaxytest.New(galaxytest.Options{PageSize: 2})
	for _, c := range []struct {
		ns, name, version string
		deps              map[string]string
	}{
		{"testns", "base", "1.0.0", nil},
		{"testns", "base", "1.1.0", nil},
		{"testns", "base", "2.0.0", nil},
		{"testns", "app", "1.0.0", map[string]string{"testns.base": ">=1.0.0,<2.0.0"}},
		{"testns", "app", "1.1.0", map[string]string{"testns.base": ">=2.0.0"}},
	} {
		_, err := up.AddArtifact(b.build(c.ns, c.name, c.version, c.deps))
		require.NoError(t, err)
	}
	up.AddRole("jdoe", "web", "1.0.0", "1.1.0")
	upURL, stop := up.Start()
	defer stop()

	s, err := store.Open(filepath.Join(dir, "store"))
	require.NoError(t, err)
	m := &Mirror{Name: "e2e", URL: upURL, Store: s, Fetch: newFetch(s),
		Collections: []CollectionSpec{{Name: "testns.app"}},
		Roles:       []RoleSpec{{Name: "jdoe.web", Versions: []string{"1.0.0", "1.1.0"}}}}
	st, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, st.Versions) // app 1.0.0, 1.1.0; base 1.1.0, 2.0.0

	mux := http.NewServeMux()
	mux.Handle("/galaxy/e2e/", http.StripPrefix("/galaxy/e2e", NewHandler(s, m.Ref(), WithBasePath("/galaxy/e2e"), WithMaxPageSize(1))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	api := srv.URL + "/galaxy/e2e/api/"

	// Install a pinned version: its dependency comes along, at the version the range allows.
	inst := filepath.Join(dir, "inst1")
	out := testutil.Run(t, 3*time.Minute, env, "ansible-galaxy", "collection", "install", "-s", api, "testns.app:==1.0.0", "-p", inst)
	assert.Equal(t, "1.0.0", installedVersion(t, inst, "testns", "app"), out)
	assert.Equal(t, "1.1.0", installedVersion(t, inst, "testns", "base"), out)

	// Reached by a name, the handler answers with download URLs on its listener's address
	// (it never echoes the Host header), which ansible-galaxy follows.
	inst = filepath.Join(dir, "inst-name")
	byName := strings.Replace(api, "127.0.0.1", "localhost", 1)
	out = testutil.Run(t, 3*time.Minute, env, "ansible-galaxy", "collection", "install", "-vvv", "-s", byName, "testns.app:==1.0.0", "-p", inst)
	assert.Equal(t, "1.0.0", installedVersion(t, inst, "testns", "app"), out)
	assert.Contains(t, out, srv.URL+"/galaxy/e2e/download/testns-app-1.0.0.tar.gz", "downloaded from the listener's address")

	// The site URL works too: ansible-galaxy finds /api/ itself.
	inst = filepath.Join(dir, "inst2")
	out = testutil.Run(t, 3*time.Minute, env, "ansible-galaxy", "collection", "install", "-s", srv.URL+"/galaxy/e2e/", "testns.app", "-p", inst)
	assert.Equal(t, "1.1.0", installedVersion(t, inst, "testns", "app"), out)
	assert.Equal(t, "2.0.0", installedVersion(t, inst, "testns", "base"), out)

	// Download, then install offline from the download directory.
	dl := filepath.Join(dir, "download")
	testutil.Run(t, 3*time.Minute, env, "ansible-galaxy", "collection", "download", "-s", api, "testns.app:==1.0.0", "-p", dl)
	assert.FileExists(t, filepath.Join(dl, "testns-app-1.0.0.tar.gz"))
	assert.FileExists(t, filepath.Join(dl, "testns-base-1.1.0.tar.gz"))
	inst = filepath.Join(dir, "inst3")
	out = testutil.Run(t, 3*time.Minute, env, "sh", "-c", `cd "$1" && ansible-galaxy collection install --offline -r requirements.yml -p "$2"`, "sh", dl, inst)
	assert.Equal(t, "1.0.0", installedVersion(t, inst, "testns", "app"), out)
	assert.Equal(t, "1.1.0", installedVersion(t, inst, "testns", "base"), out)

	// A version added upstream shows up after the next sync, although the client has the
	// version list cached: updated_at changed.
	_, err = up.AddArtifact(b.build("testns", "app", "1.2.0", map[string]string{"testns.base": ">=1.0.0"}))
	require.NoError(t, err)
	st, err = m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, st.Changed)
	assert.Equal(t, 1, st.Downloaded)
	inst = filepath.Join(dir, "inst4")
	out = testutil.Run(t, 3*time.Minute, env, "ansible-galaxy", "collection", "install", "-s", api, "testns.app", "-p", inst)
	assert.Equal(t, "1.2.0", installedVersion(t, inst, "testns", "app"), out)

	// Roles through the v1 endpoints.
	roles := filepath.Join(dir, "roles")
	out = testutil.Run(t, 3*time.Minute, env, "ansible-galaxy", "role", "install", "-s", api, "jdoe.web,1.0.0", "-p", roles)
	meta, err := os.ReadFile(filepath.Join(roles, "jdoe.web", "meta", "main.yml"))
	require.NoError(t, err, out)
	assert.Contains(t, string(meta), "author: jdoe")
	tasks, err := os.ReadFile(filepath.Join(roles, "jdoe.web", "tasks", "main.yml"))
	require.NoError(t, err)
	assert.Contains(t, string(tasks), "jdoe.web 1.0.0")
	out = testutil.Run(t, 3*time.Minute, env, "ansible-galaxy", "role", "install", "-s", api, "jdoe.web", "-p", filepath.Join(dir, "roles2"))
	tasks, err = os.ReadFile(filepath.Join(dir, "roles2", "jdoe.web", "tasks", "main.yml"))
	require.NoError(t, err, out)
	assert.Contains(t, string(tasks), "jdoe.web 1.1.0", "the newest version by default")
}

// TestAnsibleGalaxyGeneratedArtifacts: the artifacts galaxytest generates are valid for
// ansible-galaxy (MANIFEST.json, FILES.json and per-file checksums), served straight
// from the test upstream.
func TestAnsibleGalaxyGeneratedArtifacts(t *testing.T) {
	testutil.RequireBinary(t, "ansible-galaxy", "ansible-core")
	dir := t.TempDir()
	env := ansibleEnv(t, dir)
	up := galaxytest.New(galaxytest.Options{PageSize: 1, ResultsKey: "results"})
	up.AddCollection(galaxytest.Collection{Namespace: "gen", Name: "lib", Version: "0.1.0", Files: map[string]string{"plugins/modules/x.py": "# x\n"}})
	up.AddCollection(galaxytest.Collection{Namespace: "gen", Name: "lib", Version: "0.2.0"})
	up.AddCollection(galaxytest.Collection{Namespace: "gen", Name: "app", Version: "1.0.0", Dependencies: map[string]string{"gen.lib": "<0.2.0"}})
	u, stop := up.Start()
	defer stop()
	inst := filepath.Join(dir, "inst")
	out := testutil.Run(t, 3*time.Minute, env, "ansible-galaxy", "collection", "install", "-s", u, "gen.app", "-p", inst)
	assert.Equal(t, "1.0.0", installedVersion(t, inst, "gen", "app"), out)
	assert.Equal(t, "0.1.0", installedVersion(t, inst, "gen", "lib"), out)
	assert.FileExists(t, filepath.Join(inst, "ansible_collections", "gen", "lib", "plugins", "modules", "x.py"))
}

// TestAnsibleGalaxyStaticTree: the tree WriteStatic writes, served by a plain file server,
// is enough for ansible-galaxy collection install.
func TestAnsibleGalaxyStaticTree(t *testing.T) {
	testutil.RequireBinary(t, "ansible-galaxy", "ansible-core")
	ctx := context.Background()
	dir := t.TempDir()
	env := ansibleEnv(t, dir)
	up := galaxytest.New(galaxytest.Options{PageSize: 1})
	up.AddCollection(galaxytest.Collection{Namespace: "stat", Name: "lib", Version: "1.0.0"})
	up.AddCollection(galaxytest.Collection{Namespace: "stat", Name: "lib", Version: "1.5.0"})
	up.AddCollection(galaxytest.Collection{Namespace: "stat", Name: "app", Version: "2.0.0", Dependencies: map[string]string{"stat.lib": ">=1.0.0"}})
	u, stop := up.Start()
	defer stop()
	s := store.NewMemory()
	m := &Mirror{Name: "static", URL: u, Store: s, Fetch: newFetch(s),
		Collections: []CollectionSpec{{Name: "stat.app"}, {Name: "stat.lib"}}}
	_, err := m.Sync(ctx)
	require.NoError(t, err)

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tree := filepath.Join(dir, "tree")
	require.NoError(t, WriteStatic(ctx, s, m.Ref(), tree, StaticOptions{ExternalURL: srv.URL + "/static"}))
	mux.Handle("/static/", http.StripPrefix("/static", http.FileServer(http.Dir(tree))))
	assert.FileExists(t, filepath.Join(tree, "api", "v3", "collections", "stat", "lib", "versions", "1.5.0", "index.html"))

	inst := filepath.Join(dir, "inst")
	out := testutil.Run(t, 3*time.Minute, env, "ansible-galaxy", "collection", "install", "-s", srv.URL+"/static/api/", "stat.app", "stat.lib:==1.0.0", "-p", inst)
	assert.Equal(t, "2.0.0", installedVersion(t, inst, "stat", "app"), out)
	assert.Equal(t, "1.0.0", installedVersion(t, inst, "stat", "lib"), out)
}

package pypi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/pypi"
	"github.com/airgapkit/airgap/pypi/pypitest"
	"github.com/airgapkit/airgap/pypi/wheel"
	"github.com/airgapkit/airgap/store"
)

// Debian's pip 23.0.1 (python3-pip) and the wheels of python3-pip-whl and
// python3-setuptools-whl.
const (
	debianPip   = "/usr/bin/pip3"
	debianWheel = "/usr/share/python-wheels"
)

// pipMirror syncs the demo projects plus Debian's real pip and setuptools wheels and
// serves the result: at "/" as JSON-capable index, under "/html/" with every Accept header
// removed (so pip gets HTML), both from the same published snapshot.
func pipMirror(t *testing.T) (jsonIndex, htmlIndex string) {
	t.Helper()
	real, err := pypitest.RealWheels(debianWheel)
	require.NoError(t, err)
	if len(real) < 2 {
		if testutil.InCI() {
			t.Fatalf("no real wheels under %s (apt-get install python3-pip-whl python3-setuptools-whl)", debianWheel)
		}
		t.Skipf("no real wheels under %s (apt-get install python3-pip-whl python3-setuptools-whl)", debianWheel)
	}
	e := newEnv(t, append(demoProjects(), real...)...)
	fsStore, err := store.Open(t.TempDir()) // the filesystem store, as deployed
	require.NoError(t, err)
	e.store = fsStore
	m := e.mirror(append(demoRequirements, "pip", "setuptools")...)
	stats, err := m.Sync(context.Background())
	require.NoError(t, err)
	require.Empty(t, stats.Unsatisfied)

	h := pypi.NewHandler(e.store, m.Ref())
	mux := http.NewServeMux()
	mux.Handle("/html/", http.StripPrefix("/html", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Accept")
		h.ServeHTTP(w, r)
	})))
	mux.Handle("/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/simple/", srv.URL + "/html/simple/"
}

// pipInstall runs a real pip against index and returns the dist-info directories it
// installed into a fresh target directory.
func pipInstall(t *testing.T, pip, index string, names ...string) []string {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"--isolated", "--disable-pip-version-check", "install", "--index-url", index,
		"--no-cache-dir", "--no-input", "--target", dir}, names...)
	out := testutil.Run(t, 3*time.Minute, []string{"PIP_NO_INPUT=1", "PIP_CONFIG_FILE=/dev/null", "PYTHONWARNINGS=ignore"}, pip, args...)
	t.Logf("%s %s:\n%s", pip, strings.Join(names, " "), out)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".dist-info") {
			got = append(got, e.Name())
		}
	}
	sort.Strings(got)
	return got
}

// appClosure is what "app[extra]" installs with Python 3.11: newpy 2.0 requires 3.12.
var appClosure311 = []string{
	"app-2.0.dist-info", "cyc_a-1.0.dist-info", "cyc_b-1.0.dist-info", "extra_dep-1.0.dist-info",
	"lib-1.1.dist-info", "missingmeta-1.0.dist-info", "newpy-1.0.dist-info", "nometa-1.0.dist-info",
}

func TestRealPipDebian(t *testing.T) {
	pip := testutil.RequireBinary(t, debianPip, "python3-pip")
	jsonIndex, htmlIndex := pipMirror(t)

	// Dependencies, extras, markers, a cycle, yanked and pre-releases ignored, newpy 2.0
	// excluded by its Requires-Python: over JSON and over HTML (under a path prefix).
	assert.Equal(t, appClosure311, pipInstall(t, pip, jsonIndex, "app[extra]"))
	assert.Equal(t, appClosure311, pipInstall(t, pip, htmlIndex, "App[Extra]"))
	// pinned 1.5 is mirrored (pinned by ==) but yanked: pip takes 1.0 unless pinned.
	assert.Equal(t, []string{"pinned-1.0.dist-info"}, pipInstall(t, pip, jsonIndex, "pinned"))
	assert.Equal(t, []string{"pinned-1.5.dist-info"}, pipInstall(t, pip, jsonIndex, "pinned==1.5"))
	// A platform wheel chosen by its tags.
	assert.Equal(t, []string{"plat-1.0.dist-info"}, pipInstall(t, pip, htmlIndex, "plat"))
	// The real wheels from Debian.
	got := pipInstall(t, pip, jsonIndex, "pip", "setuptools")
	require.Len(t, got, 2)
	assert.True(t, strings.HasPrefix(got[0], "pip-"), got[0])
	assert.True(t, strings.HasPrefix(got[1], "setuptools-"), got[1])
}

// TestRealPipOthers runs further pips (a pyenv's, say: not Debian clients), named by
// the environment: AIRGAP_TEST_PIPS="/path/to/pip3.13 /path/to/pip3.11". The test reads
// nothing of the host that the variable does not name.
func TestRealPipOthers(t *testing.T) {
	list := strings.Fields(os.Getenv("AIRGAP_TEST_PIPS"))
	if len(list) == 0 {
		t.Skip("AIRGAP_TEST_PIPS names no pip: further pips not run")
	}
	targets := map[string]wheel.Target{"3.11": linux311, "3.13": linux313}
	pips := map[string]wheel.Target{}
	var found []string
	for _, p := range list {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("AIRGAP_TEST_PIPS names %s: %v", p, err) // asked for by name: never a skip
		}
		out := testutil.Run(t, time.Minute, nil, p, "--version")
		_, py, _ := strings.Cut(out, "(python ")
		py, _, _ = strings.Cut(py, ")")
		tg, ok := targets[py]
		if !ok {
			t.Errorf("%s is a pip for Python %q; this test knows the closures of 3.11 and 3.13", p, py)
			continue
		}
		pips[p] = tg
		found = append(found, p)
	}
	sort.Strings(found)
	jsonIndex, htmlIndex := pipMirror(t)
	for _, pip := range found {
		t.Run(pip, func(t *testing.T) {
			want := appClosure311
			if pips[pip] == linux313 {
				want = append([]string(nil), appClosure311...)
				for i, d := range want {
					if d == "newpy-1.0.dist-info" {
						want[i] = "newpy-2.0.dist-info"
					}
				}
			}
			assert.Equal(t, want, pipInstall(t, pip, jsonIndex, "app[extra]"))
			assert.Equal(t, []string{"pinned-1.0.dist-info"}, pipInstall(t, pip, htmlIndex, "pinned"))
			assert.Equal(t, []string{"plat-1.0.dist-info"}, pipInstall(t, pip, jsonIndex, "plat"))
		})
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/oci/ocitest"
)

// trivyBinary is trivy as `make trivy` builds it from the module proxy ($TRIVY_BIN, else
// the cache). Missing, the test is skipped; under CI it fails.
func trivyBinary(t *testing.T) string {
	p := os.Getenv("TRIVY_BIN")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache", "airgap", "bin", "trivy-v0.74.0")
	}
	if _, err := exec.LookPath(p); err != nil {
		msg := "trivy v0.74.0 not found (make trivy, or set TRIVY_BIN); offline trivy scan not run"
		if testutil.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// TestTrivyOffline: `airgap sync` mirrors trivy's two databases, its checks bundle and
// an image, `airgap serve` serves them at /v2/, and the real trivy, with the upstream
// gone and every other host behind a proxy that answers nothing, downloads all three
// from the mirror (the flags README's "Trivy offline" gives) and finds what the image
// holds: the OS package's and the jar's vulnerabilities, and the misconfiguration only
// the mirrored bundle checks for.
func TestTrivyOffline(t *testing.T) {
	trivy := trivyBinary(t)
	ctx := context.Background()
	up, err := ocitest.StartEmpty()
	require.NoError(t, err)
	defer up.Close()
	next := time.Now().UTC().Add(6 * time.Hour).Truncate(time.Second)
	db, err := ocitest.TrivyDB(next, false)
	require.NoError(t, err)
	javaDB, err := ocitest.TrivyDB(next, true)
	require.NoError(t, err)
	checks := ocitest.TrivyChecks()
	image := ocitest.TrivyImage()
	for _, p := range []struct {
		repo, tag string
		m         ocitest.Manifest
	}{{"aquasecurity/trivy-db", "2", db}, {"aquasecurity/trivy-java-db", "1", javaDB},
		{"aquasec/trivy-checks", "2", checks}, {"team/app", "1.0", image}} {
		require.NoError(t, ocitest.Push(ctx, up.Server.Client(), up.Server.URL, p.repo, p.tag, p.m))
	}

	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	cfg := filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfg, "store: store\nlisten: "+addr+"\noci:\n  - name: trivy\n"+
		"    images: ["+up.Host+"/aquasecurity/trivy-db:2, "+up.Host+"/aquasecurity/trivy-java-db:1, "+
		up.Host+"/aquasec/trivy-checks:2, "+up.Host+"/team/app:1.0]\n"+
		"    registries: [{host: \""+up.Host+"\", plain_http: true}]\n")
	mustRun(t, "--config", cfg, "sync")
	up.Close() // from here on only the mirror has them

	serveCtx, cancel := context.WithCancel(ctx)
	var logs bytes.Buffer
	logw := &syncWriter{w: &logs}
	done := make(chan error, 1)
	go func() {
		root := newRoot()
		root.SetOut(logw)
		root.SetErr(logw)
		root.SetArgs([]string{"--config", cfg, "--log-level", "info", "serve"})
		done <- root.ExecuteContext(serveCtx)
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			require.NoError(t, <-done)
		}
	}
	defer stop()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)

	// Anything trivy sends elsewhere than 127.0.0.1 (which Go never proxies) arrives
	// here, and is refused.
	outside := &testutil.Recorder{}
	proxy := httptest.NewServer(outside)
	defer proxy.Close()
	home := t.TempDir()
	env := []string{"HTTP_PROXY=" + proxy.URL, "HTTPS_PROXY=" + proxy.URL, "NO_PROXY=", "http_proxy=", "https_proxy=", "no_proxy=",
		"HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, ".docker"), "XDG_CACHE_HOME=" + filepath.Join(home, ".cache")}
	local := addr + "/" + strings.ReplaceAll(up.Host, ":", "-")
	cache := filepath.Join(dir, "trivy-cache")
	report := filepath.Join(dir, "report.json")
	out := testutil.Run(t, 5*time.Minute, env, trivy, "image",
		"--db-repository", local+"/aquasecurity/trivy-db:2",
		"--java-db-repository", local+"/aquasecurity/trivy-java-db:1",
		"--checks-bundle-repository", local+"/aquasec/trivy-checks:2",
		"--insecure", "--image-src", "remote", "--scanners", "vuln,misconfig",
		"--skip-version-check", "--disable-telemetry", "--offline-scan", "--no-progress",
		"--cache-dir", cache, "--format", "json", "--output", report,
		local+"/team/app:1.0")
	t.Logf("trivy:\n%s", out)
	assert.Zero(t, outside.Hits(), "trivy sent requests beyond 127.0.0.1")

	// The databases and the checks came from the mirror's /v2/ (its access log, flushed
	// as serve stops).
	stop()
	served := logs.String()
	for _, p := range []struct {
		repo string
		m    ocitest.Manifest
	}{{"aquasecurity/trivy-db", db}, {"aquasecurity/trivy-java-db", javaDB}, {"aquasec/trivy-checks", checks}} {
		layer := p.m.Blobs[1].Digest
		assert.Contains(t, served, `"GET /v2/`+strings.TrimPrefix(local, addr+"/")+"/"+p.repo+"/blobs/"+layer+` HTTP/1.1" 200 `, p.repo)
	}
	for sub, version := range map[string]int{"db": 2, "java-db": 1} {
		b, err := os.ReadFile(filepath.Join(cache, sub, "metadata.json"))
		require.NoError(t, err, sub)
		var md struct {
			Version      int
			NextUpdate   time.Time
			DownloadedAt time.Time
		}
		require.NoError(t, json.Unmarshal(b, &md))
		assert.Equal(t, version, md.Version, sub)
		assert.True(t, next.Equal(md.NextUpdate), "%s: NextUpdate %s", sub, md.NextUpdate)
		assert.False(t, md.DownloadedAt.IsZero(), "%s: trivy notes when it downloaded it", sub)
	}

	b, err := os.ReadFile(report)
	require.NoError(t, err)
	var res struct {
		ArtifactName string
		Metadata     struct {
			OS struct{ Family, Name string }
		}
		Results []struct {
			Target, Class, Type string
			Vulnerabilities     []struct {
				VulnerabilityID, PkgName, InstalledVersion, FixedVersion, Severity string
				DataSource                                                         struct{ ID string }
			}
			Misconfigurations []struct{ ID, Status, Severity string }
		}
	}
	require.NoError(t, json.Unmarshal(b, &res), string(b))
	assert.Equal(t, local+"/team/app:1.0", res.ArtifactName)
	assert.Equal(t, "alpine", res.Metadata.OS.Family)
	assert.Equal(t, ocitest.TrivyAlpineRelease, res.Metadata.OS.Name)
	found, misconfigs := map[string]string{}, map[string]string{}
	for _, r := range res.Results {
		for _, m := range r.Misconfigurations {
			misconfigs[m.ID] = strings.Join([]string{r.Target, r.Class, r.Type, m.Status, m.Severity}, " ")
		}
		for _, v := range r.Vulnerabilities {
			found[v.VulnerabilityID] = strings.Join([]string{r.Class, r.Type, v.PkgName, v.InstalledVersion, v.FixedVersion, v.Severity, v.DataSource.ID}, " ")
		}
	}
	assert.Equal(t, map[string]string{
		ocitest.TrivyAlpineVuln: "os-pkgs alpine musl 1.2.5-r0 1.2.5-r1 HIGH alpine",
		ocitest.TrivyMavenVuln:  "lang-pkgs jar org.example:demo 1.0.0 1.0.1 CRITICAL ghsa",
	}, found, string(b))
	assert.Equal(t, map[string]string{ocitest.TrivyCheckID: "app/Dockerfile config dockerfile FAIL MEDIUM"}, misconfigs,
		"the mirror's checks bundle, not the one built into trivy")
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/registrytest"
	"github.com/airgapkit/airgap/oci"
	"github.com/airgapkit/airgap/oci/ocitest"
)

// TestRunIntoTestRegistry mirrors into a second in-memory registry.
func TestRunIntoTestRegistry(t *testing.T) {
	target, err := ocitest.StartEmpty()
	require.NoError(t, err)
	t.Cleanup(target.Close)
	mirrorAndCheck(t, target.Host)
}

// TestRunIntoDockerRegistry mirrors into Debian's docker-registry, the distribution
// registry that private registries are built on.
func TestRunIntoDockerRegistry(t *testing.T) {
	mirrorAndCheck(t, registrytest.StartDockerRegistry(t))
}

// mirrorAndCheck runs the program with an image list on stdin and a Helm-style YAML file
// against a local upstream, into target, then checks digests at the target and the
// hosts.toml written for the upstream, by pulling through the path it names.
func mirrorAndCheck(t *testing.T, target string) {
	up, err := ocitest.Start()
	require.NoError(t, err)
	t.Cleanup(up.Close)

	dir := t.TempDir()
	yamlFile := filepath.Join(dir, "rendered.yaml")
	require.NoError(t, os.WriteFile(yamlFile, []byte(fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: web
          image: %s
---
# Helm values
app:
  image:
    registry: %s
    repository: library/app
    tag: 1.2.3
`, up.Ref("library/multi:1.0"), up.Host)), 0o644))
	list := "# base images\n" + up.Ref("library/alpine:3.19") + "   # pinned by tag\n\n"

	var out bytes.Buffer
	cfg := config{
		Lists: []string{"-"}, YAMLs: []string{yamlFile},
		Target: target, Prefix: "mirror", PlainHTTP: []string{up.Host, target},
		OutDir: filepath.Join(dir, "certs.d"), Concurrency: 4,
		Stdin: strings.NewReader(list), Out: &out, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	require.NoError(t, run(context.Background(), cfg))
	t.Log(out.String())

	// Every image is at registry/mirror/<upstream host>/<repo> with the upstream digest.
	ns := "mirror/" + strings.ReplaceAll(up.Host, ":", "-")
	client := &oci.Client{Registries: []oci.RegistryConfig{{Host: target, PlainHTTP: true}}}
	images := []string{"library/alpine:3.19", "library/multi:1.0", "library/app:1.2.3"}
	for _, img := range images {
		ref, err := oci.ParseReference(target + "/" + ns + "/" + img)
		require.NoError(t, err)
		desc, err := client.Head(context.Background(), ref)
		require.NoError(t, err, img)
		assert.Equal(t, up.Content[img].Digest, desc.Digest.String(), img)
	}

	// hosts.toml for the upstream names the target, and the path it names serves the
	// upstream's repositories (containerd appends /<repo>/manifests/<ref> to it).
	b, err := os.ReadFile(filepath.Join(cfg.OutDir, up.Host, "hosts.toml"))
	require.NoError(t, err)
	toml := string(b)
	host := regexp.MustCompile(`\[host\."([^"]+)"\]`).FindStringSubmatch(toml)
	require.NotNil(t, host, toml)
	assert.Equal(t, "http://"+target+"/v2/"+ns, host[1])
	assert.Contains(t, toml, `capabilities = ["pull", "resolve"]`)
	assert.Contains(t, toml, "override_path = true")
	for _, img := range images {
		repo, tag, _ := strings.Cut(img, ":")
		req, err := http.NewRequest(http.MethodHead, host[1]+"/"+repo+"/manifests/"+tag, nil)
		require.NoError(t, err)
		req.Header.Set("Accept", strings.Join([]string{ocitest.OCIManifest, ocitest.OCIIndex, ocitest.DockerManifest, ocitest.DockerList}, ", "))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, img)
		assert.Equal(t, up.Content[img].Digest, resp.Header.Get("Docker-Content-Digest"), img)
	}
	assert.Len(t, mustGlob(t, filepath.Join(cfg.OutDir, "*", "hosts.toml")), 1, "one upstream registry, one hosts.toml")

	// A second run finds everything in place and sends nothing.
	out.Reset()
	cfg.Stdin = strings.NewReader(list)
	require.NoError(t, run(context.Background(), cfg))
	assert.Contains(t, out.String(), "3 images to "+target+": 3 unchanged, 0 manifests written, 0 blobs uploaded")
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	base := config{Target: "registry.invalid", Stdin: strings.NewReader(""), Out: io.Discard, OutDir: filepath.Join(dir, "out")}

	cfg := base
	cfg.Target = ""
	assert.ErrorContains(t, run(context.Background(), cfg), "-target is required")

	cfg = base
	assert.ErrorContains(t, run(context.Background(), cfg), "no images")

	cfg = base
	cfg.Lists = []string{"-"}
	cfg.Stdin = strings.NewReader("UPPER/Case:not valid\n")
	assert.Error(t, run(context.Background(), cfg), "a malformed reference is refused before any copy")

	cfg = base
	cfg.YAMLs = []string{filepath.Join(dir, "missing.yaml")}
	assert.ErrorIs(t, run(context.Background(), cfg), os.ErrNotExist)
	_, err := os.Stat(cfg.OutDir)
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing written after a failure")
}

func mustGlob(t *testing.T, pattern string) []string {
	m, err := filepath.Glob(pattern)
	require.NoError(t, err)
	return m
}

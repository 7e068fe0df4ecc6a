package render

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pack writes testdata/charts/<name> as helm package does: a gzipped tar whose entries
// sit below <name>/.
func pack(t testing.TB, name string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	root := filepath.Join("testdata", "charts", name)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if err := tw.WriteHeader(&tar.Header{Name: name + "/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

func refs(ims []Image) []string {
	out := make([]string, len(ims))
	for i, im := range ims {
		out[i] = im.Ref
	}
	return out
}

func from(ims []Image, ref string) string {
	for _, im := range ims {
		if im.Ref == ref {
			return im.From
		}
	}
	return ""
}

// rendered are the images the app chart's templates give with its defaults and no
// tests, under DefaultKubeVersion.
var rendered = []string{
	"docker.io/library/nginx:1.25",
	"docker.io/library/busybox:latest",
	"registry.k8s.io/kubectl:v1.30.0",
	"docker.io/fluent/fluent-bit:3.0",
	"docker.io/library/alpine:3.20@sha256:" + strings.Repeat("a", 64),
	"gcr.io/distroless/static:nonroot",
	"docker.io/library/busybox:1.36-new-kube",
	"quay.io/example/widget:3",
	"quay.io/example/release-name-sidecar:default",
	"docker.io/library/redis:7.2",
	"ghcr.io/example/migrate:0.9",
}

// annotated are the images only the Chart.yaml annotations name.
var annotated = []string{"ghcr.io/example/extra:1.0", "quay.io/example/operand:2.0", "quay.io/example/sub-exporter:1.1"}

func TestImages(t *testing.T) {
	ims, err := Images(context.Background(), pack(t, "app"), Options{})
	require.NoError(t, err)
	assert.ElementsMatch(t, append(slices.Clone(rendered), annotated...), refs(ims))
	assert.Equal(t, "app/templates/deployment.yaml", from(ims, "docker.io/library/nginx:1.25"), "a template's image is named by the template, not the annotation")
	assert.Equal(t, "app/templates/cronjob.yaml", from(ims, "registry.k8s.io/kubectl:v1.30.0"))
	assert.Equal(t, "app/templates/widget.yaml", from(ims, "quay.io/example/release-name-sidecar:default"))
	assert.Equal(t, "app/charts/cache/templates/statefulset.yaml", from(ims, "docker.io/library/redis:7.2"), "the alias names the subchart")
	assert.Equal(t, "app/templates/hook.yaml", from(ims, "ghcr.io/example/migrate:0.9"))
	assert.Equal(t, "annotation helm.sh/images of app", from(ims, "quay.io/example/operand:2.0"))
	assert.Equal(t, "annotation artifacthub.io/images of cache", from(ims, "quay.io/example/sub-exporter:1.1"))
	assert.NotContains(t, refs(ims), "docker.io/library/rabbitmq:3.13", "the queue alias is disabled by its condition")
	assert.NotContains(t, refs(ims), "docker.io/curlimages/curl:8.8.0", "test hooks are skipped by default")
	// Templates first, annotations after them.
	assert.Equal(t, annotated, refs(ims)[len(rendered):])
}

func TestImagesOptions(t *testing.T) {
	archive := pack(t, "app")
	ims, err := Images(context.Background(), archive, Options{
		Values: [][]byte{
			[]byte("queue:\n  enabled: true\nimage:\n  tag: \"1.27\"\n"),
			[]byte("image:\n  repository: ghcr.io/example/nginx\n"), // merged over the first, tag kept
		},
		KubeVersion:  "1.29.0",
		IncludeTests: true,
		Include:      []string{"alpine:3.21"},
		Exclude:      []string{"docker.io/library/busybox", "quay.io/example/widget:*", "quay.io/example/*-sidecar", "registry.k8s.io/kubectl:v1.30.0"},
	})
	require.NoError(t, err)
	got := refs(ims)
	assert.Contains(t, got, "ghcr.io/example/nginx:1.27", "values files merge in order over the defaults")
	assert.Contains(t, got, "docker.io/library/rabbitmq:3.13", "the condition enables the queue alias")
	assert.Contains(t, got, "docker.io/curlimages/curl:8.8.0")
	assert.Equal(t, "images", from(ims, "docker.io/library/alpine:3.21"))
	assert.Equal(t, "annotation artifacthub.io/images of app", from(ims, "docker.io/library/nginx:1.25"), "the annotation still names the default tag")
	for _, gone := range []string{"docker.io/library/busybox:latest", "docker.io/library/busybox:1.36-old-kube", "quay.io/example/widget:3",
		"quay.io/example/release-name-sidecar:default", "registry.k8s.io/kubectl:v1.30.0"} {
		assert.NotContains(t, got, gone)
	}
	// The Kubernetes version reaches Capabilities: without the exclusion, the old-kube image.
	ims, err = Images(context.Background(), archive, Options{KubeVersion: "v1.29.4"})
	require.NoError(t, err)
	assert.Contains(t, refs(ims), "docker.io/library/busybox:1.36-old-kube")
	assert.NotContains(t, refs(ims), "docker.io/library/busybox:1.36-new-kube")
}

func TestImagesReleaseName(t *testing.T) {
	ims, err := Images(context.Background(), pack(t, "app"), Options{ReleaseName: "prod", Namespace: "web"})
	require.NoError(t, err)
	assert.Contains(t, refs(ims), "quay.io/example/prod-sidecar:web")
	assert.NotContains(t, refs(ims), "quay.io/example/release-name-sidecar:default")
}

func TestImagesErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Images(ctx, pack(t, "broken"), Options{})
	var re *Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "broken", re.Chart)
	assert.Equal(t, "0.0.1", re.Version)
	assert.ErrorIs(t, err, store.ErrMalformed)
	assert.Contains(t, err.Error(), "value need is required")
	assert.Contains(t, err.Error(), "broken 0.0.1")

	_, err = Images(ctx, pack(t, "broken"), Options{Values: [][]byte{[]byte("need: yes\n")}})
	require.NoError(t, err, "the required value given")

	_, err = Images(ctx, []byte("not a tgz"), Options{})
	assert.ErrorIs(t, err, store.ErrMalformed)

	for name, o := range map[string]Options{
		"values":       {Values: [][]byte{[]byte("a: [")}},
		"kube_version": {KubeVersion: "one.two"},
		"images":       {Include: []string{"UPPER/case"}},
	} {
		_, err := Images(ctx, pack(t, "app"), o)
		assert.ErrorIs(t, err, store.ErrConfig, name)
	}
}

func TestImagesMissingDependency(t *testing.T) {
	// A dependency not vendored in charts/ is an error, as in helm template.
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "testdata", "charts", "app"), os.DirFS("testdata/charts/app")))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "testdata", "charts", "app", "charts")))
	t.Chdir(dir)
	_, err := Images(context.Background(), pack(t, "app"), Options{})
	var re *Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "app", re.Chart)
	assert.Contains(t, err.Error(), "missing in charts/ directory: sub")
}

// helmBinary is Helm 4 as `make helm` builds it ($HELM4_BIN, else the cache).
func helmBinary(t *testing.T) string {
	p := os.Getenv("HELM4_BIN")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache", "airgap", "bin", "helm-v4.3.2")
	}
	if _, err := exec.LookPath(p); err != nil {
		msg := "helm v4.3.2 not found (make helm, or set HELM4_BIN); cross-check with helm template not run"
		if testutil.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// TestAgainstHelmTemplate renders the same chart with the real `helm template` and
// checks that it shows exactly the images Images takes from templates.
func TestAgainstHelmTemplate(t *testing.T) {
	helm := helmBinary(t)
	dir := t.TempDir()
	archive := filepath.Join(dir, "app-1.2.3.tgz")
	require.NoError(t, os.WriteFile(archive, pack(t, "app"), 0o644))
	values := filepath.Join(dir, "values.yaml")
	require.NoError(t, os.WriteFile(values, []byte("queue:\n  enabled: true\n"), 0o644))
	env := []string{"HELM_CACHE_HOME=" + dir, "HELM_CONFIG_HOME=" + dir, "HELM_DATA_HOME=" + dir}
	for _, tc := range []struct {
		args []string
		opts Options
	}{
		{[]string{"--skip-tests"}, Options{}},
		{nil, Options{IncludeTests: true}},
		{[]string{"--skip-tests", "--kube-version", "1.29.0", "-f", values, "--namespace", "web", "prod"},
			Options{KubeVersion: "1.29.0", Values: [][]byte{[]byte("queue:\n  enabled: true\n")}, Namespace: "web", ReleaseName: "prod"}},
	} {
		out := testutil.Output(t, time.Minute, env, helm, append(append([]string{"template"}, tc.args...), archive)...)
		want := newCollector(nil)
		require.NoError(t, want.manifests(out))
		ims, err := Images(context.Background(), pack(t, "app"), tc.opts)
		require.NoError(t, err)
		var got []Image
		for _, im := range ims {
			if !strings.HasPrefix(im.From, "annotation ") {
				got = append(got, im)
			}
		}
		assert.ElementsMatch(t, want.out, got, "helm template %v", tc.args)
	}
}

func TestNormalize(t *testing.T) {
	d := "sha256:" + strings.Repeat("b", 64)
	for in, want := range map[string]string{
		"nginx":                              "docker.io/library/nginx:latest",
		"nginx:1.25":                         "docker.io/library/nginx:1.25",
		"index.docker.io/bitnami/redis:7":    "docker.io/bitnami/redis:7",
		"registry-1.docker.io/library/x:1":   "docker.io/library/x:1",
		"ghcr.io/a/b@" + d:                   "ghcr.io/a/b@" + d,
		"ghcr.io/a/b:v1@" + d:                "ghcr.io/a/b:v1@" + d,
		"127.0.0.1:5000/x":                   "127.0.0.1:5000/x:latest",
		" quay.io/jetstack/cert-manager:v1 ": "quay.io/jetstack/cert-manager:v1",
	} {
		got, err := Normalize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "UPPER/x", "a:b:c", "x@sha256:short", "{{ .Values.image }}"} {
		_, err := Normalize(bad)
		assert.Error(t, err, bad)
	}
}

func TestWalkerRefusesBadPodImage(t *testing.T) {
	c := newCollector(nil)
	err := c.document("kind: Pod\nspec:\n  containers:\n    - name: x\n      image: {repository: nginx}\n", "t.yaml")
	assert.ErrorIs(t, err, store.ErrMalformed)
	err = c.document("kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - image: \"nginx:\"\n", "t.yaml")
	assert.ErrorIs(t, err, store.ErrMalformed)
	assert.Contains(t, err.Error(), "t.yaml")
	// Outside pod specs a value that is no reference is no image.
	require.NoError(t, c.document("kind: Widget\nspec:\n  image: \"not a ref\"\n  x: &a {image: busybox}\n  y: *a\n", "w.yaml"))
	assert.Equal(t, []Image{{Ref: "docker.io/library/busybox:latest", From: "w.yaml"}}, c.out)
	assert.True(t, errors.Is(c.document("a: [", "bad.yaml"), store.ErrMalformed))
}

// A helm mirror renders its versions at once: Images shares nothing between calls.
func TestImagesConcurrent(t *testing.T) {
	archive := pack(t, "app")
	want, err := Images(context.Background(), archive, Options{})
	require.NoError(t, err)
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			ims, err := Images(context.Background(), archive, Options{KubeVersion: []string{"", "1.29.0"}[i%2]})
			if err == nil && i%2 == 0 && !slices.Equal(refs(ims), refs(want)) {
				err = errors.New("a concurrent render differs")
			}
			errs <- err
		}()
	}
	for range 4 {
		assert.NoError(t, <-errs)
	}
}

package wheel

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFilename(t *testing.T) {
	f, err := ParseFilename("pip-23.0.1-py3-none-any.whl")
	require.NoError(t, err)
	assert.Equal(t, "pip", f.Name)
	assert.Equal(t, "23.0.1", f.Version)
	assert.Equal(t, []Tag{{"py3", "none", "any"}}, f.Tags)

	f, err = ParseFilename("six-1.16.0-1-py2.py3-none-any.whl")
	require.NoError(t, err)
	assert.Equal(t, "1", f.Build)
	assert.Len(t, f.Tags, 2)

	f, err = ParseFilename("numpy-1.26.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
	require.NoError(t, err)
	assert.Len(t, f.Tags, 2)

	for _, bad := range []string{"pip-23.0.1.tar.gz", "pip-py3-none-any.whl", "a-1-x-py3-none-any.whl", "-1-py3-none-any.whl", "a-1--none-any.whl", "a-1-py3..py2-none-any.whl"} {
		_, err := ParseFilename(bad)
		assert.ErrorIs(t, err, ErrFilename, bad)
	}
}

func tags(t *testing.T, filename string) []Tag {
	f, err := ParseFilename(filename)
	require.NoError(t, err)
	return f.Tags
}

func TestSupports(t *testing.T) {
	linux311 := Target{Python: "3.11", Platform: "manylinux_2_28_x86_64"}
	yes := map[string]Target{
		"a-1-py3-none-any.whl":                             linux311,
		"a-1-py2.py3-none-any.whl":                         linux311,
		"a-1-py310-none-any.whl":                           linux311,
		"a-1-cp311-none-any.whl":                           linux311,
		"a-1-cp311-cp311-manylinux_2_17_x86_64.whl":        linux311,
		"a-1-cp311-cp311-manylinux2014_x86_64.whl":         linux311,
		"a-1-cp311-cp311-manylinux1_x86_64.whl":            linux311,
		"a-1-cp311-cp311-linux_x86_64.whl":                 linux311,
		"a-1-cp37-abi3-manylinux_2_28_x86_64.whl":          linux311,
		"a-1-py3-none-manylinux_2_5_x86_64.whl":            linux311,
		"a-1-cp311-cp311-musllinux_1_1_aarch64.whl":        {Python: "3.11", Platform: "musllinux_1_2_aarch64"},
		"a-1-cp312-cp312-macosx_10_9_universal2.whl":       {Python: "3.12", Platform: "macosx_11_0_arm64"},
		"a-1-cp312-cp312-macosx_11_0_arm64.whl":            {Python: "3.12", Platform: "macosx_14_0_arm64"},
		"a-1-cp312-cp312-macosx_10_9_x86_64.whl":           {Python: "3.12", Platform: "macosx_10_15_x86_64"},
		"a-1-cp312-cp312-win_amd64.whl":                    {Python: "3.12.1", Platform: "win_amd64"},
		"a-1-cp37-cp37m-manylinux2010_x86_64.whl":          {Python: "3.7", Platform: "manylinux2014_x86_64"},
		"a-1-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl": {Python: "3.10", Implementation: "pp", Platform: "manylinux_2_17_x86_64"},
		"a-1-py3-none-any.whl#purepython-without-platform": {Python: "3.9"},
	}
	for fn, target := range yes {
		if i := bytes.IndexByte([]byte(fn), '#'); i > 0 {
			fn = fn[:i]
		}
		assert.True(t, target.Supports(tags(t, fn)), "%s on %s", fn, target)
	}
	no := map[string]Target{
		"a-1-py2-none-any.whl":                           linux311,
		"a-1-py312-none-any.whl":                         linux311,
		"a-1-cp310-none-any.whl":                         linux311,
		"a-1-cp310-cp310-manylinux_2_17_x86_64.whl":      linux311,
		"a-1-cp311-cp311-manylinux_2_31_x86_64.whl":      linux311,
		"a-1-cp311-cp311-manylinux_2_17_aarch64.whl":     linux311,
		"a-1-cp311-cp311-musllinux_1_1_x86_64.whl":       linux311,
		"a-1-cp312-abi3-manylinux_2_17_x86_64.whl":       linux311,
		"a-1-cp311-cp311-win_amd64.whl":                  linux311,
		"a-1-cp311-cp311-manylinux_2_17_x86_64.whl#musl": {Python: "3.11", Platform: "musllinux_1_2_x86_64"},
		"a-1-cp312-cp312-macosx_11_0_arm64.whl":          {Python: "3.12", Platform: "macosx_11_0_x86_64"},
		"a-1-cp312-cp312-macosx_12_0_arm64.whl":          {Python: "3.12", Platform: "macosx_11_0_arm64"},
		"a-1-cp311-cp311-manylinux_2_17_x86_64.whl#nopl": {Python: "3.11"},
		"a-1-cp311-abi3-manylinux_2_17_x86_64.whl#pypy":  {Python: "3.11", Implementation: "pp", Platform: "manylinux_2_17_x86_64"},
		"a-1-cp312-cp312-win32.whl":                      {Python: "3.12", Platform: "win_amd64"},
	}
	for fn, target := range no {
		if i := bytes.IndexByte([]byte(fn), '#'); i > 0 {
			fn = fn[:i]
		}
		assert.False(t, target.Supports(tags(t, fn)), "%s on %s", fn, target)
	}
}

func TestTargetEnvironment(t *testing.T) {
	env := Target{Python: "3.11", Platform: "win_amd64"}.Environment()
	assert.Equal(t, "win32", env["sys_platform"])
	assert.Equal(t, "nt", env["os_name"])
	assert.Equal(t, "AMD64", env["platform_machine"])
	assert.Equal(t, "3.11", env["python_version"])
	env = Target{Python: "3.12.1", Platform: "macosx_11_0_arm64", Implementation: "pp"}.Environment()
	assert.Equal(t, "darwin", env["sys_platform"])
	assert.Equal(t, "arm64", env["platform_machine"])
	assert.Equal(t, "3.12.1", env["python_full_version"])
	assert.Equal(t, "PyPy", env["platform_python_implementation"])
	env = Target{Python: "3.10", Platform: "manylinux2014_aarch64"}.Environment()
	assert.Equal(t, "linux", env["sys_platform"])
	assert.Equal(t, "aarch64", env["platform_machine"])

	ok, err := Target{Python: "3.8"}.RequiresPython(">=3.8.1")
	require.NoError(t, err)
	assert.True(t, ok, "3.8 stands for every 3.8.x")
	ok, err = Target{Python: "3.7"}.RequiresPython(">=3.8")
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = Target{Python: "3.7"}.RequiresPython(">=3.8;")
	assert.Error(t, err)

	assert.NoError(t, Target{Python: "3.11", Platform: "win_amd64"}.Validate())
	assert.ErrorIs(t, Target{Python: "3"}.Validate(), ErrTarget)
	assert.ErrorIs(t, Target{Python: "3.11", Implementation: "jy"}.Validate(), ErrTarget)
}

func TestReadMetadata(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"demo/__init__.py":              "",
		"demo-1.0.dist-info/METADATA":   "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
		"other-2.0.dist-info/METADATA":  "Name: other\n",
		"demo-1.0.dist-info/x/METADATA": "nested",
	} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, _ = w.Write([]byte(body))
	}
	require.NoError(t, zw.Close())
	b, err := ReadMetadata(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "demo")
	require.NoError(t, err)
	assert.Contains(t, string(b), "Name: demo")

	_, err = ReadMetadata(bytes.NewReader([]byte("not a zip")), 9, "demo")
	assert.Error(t, err)

	buf.Reset()
	zw = zip.NewWriter(&buf)
	_, _ = zw.Create("x.py")
	require.NoError(t, zw.Close())
	_, err = ReadMetadata(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "demo")
	assert.ErrorIs(t, err, ErrNoMetadata)
}

func TestSdist(t *testing.T) {
	v, err := SdistVersion("Foo_Bar-1.0.post1.tar.gz", "foo-bar")
	require.NoError(t, err)
	assert.Equal(t, "1.0.post1", v)
	v, err = SdistVersion("foo-bar-2.zip", "foo-bar")
	require.NoError(t, err)
	assert.Equal(t, "2", v)
	_, err = SdistVersion("foo-1.0.tar.gz", "bar")
	assert.ErrorIs(t, err, ErrFilename)
	assert.True(t, IsSdist("a-1.tar.gz"))
	assert.False(t, IsSdist("a-1-py3-none-any.whl"))

	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	body := []byte("Metadata-Version: 2.2\nName: foo\n")
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "foo-1.0/PKG-INFO", Mode: 0o644, Size: int64(len(body))}))
	_, _ = tw.Write(body)
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	b, err := ReadSdistMetadata(&buf)
	require.NoError(t, err)
	assert.Equal(t, body, b)
}

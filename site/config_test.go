package site

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigErrorsNameKeyAndLine(t *testing.T) {
	cases := map[string]struct {
		yaml string
		want string
	}{
		"unknown top-level key": {"store: ./m\nlisten: 127.0.0.1:1\nbogus: 1\n", "line 3: field bogus not found"},
		"unknown mirror key":    {"files:\n  - name: a\n    urls: [\"http://x/a?checksum=sha256:00\"]\n    colour: red\n", "line 4: field colour not found"},
		"bad listen":            {"listen: nowhere\n", "airgap.yaml:1: listen:"},
		"missing name":          {"files:\n  - urls: [\"http://x/a?checksum=sha256:00\"]\n", "airgap.yaml:2: files.0: name is required"},
		"duplicate name":        {"files:\n  - {name: a, urls: [\"http://x/a?checksum=sha256:00\"]}\n  - {name: a, urls: [\"http://x/b?checksum=sha256:00\"]}\n", "airgap.yaml:3: files.1.name: files/a is configured twice"},
		"bad external url":      {"external_url: mirror.internal\n", "airgap.yaml:1: external_url"},
		"hosts to nothing":      {"hosts:\n  archive.ubuntu.com: apt/ubuntu\n", "airgap.yaml:2: hosts.archive.ubuntu.com"},
		"empty entry":           {"apt:\n  -\n", "airgap.yaml:2: apt.0: empty entry"},
		"wrong type":            {"keep: lots\n", "line 1: cannot unmarshal"},
		"no url file name":      {"files:\n  - {name: a, urls: [\"http://x/\"]}\n", "files.0: urls"},
		"no checksum":           {"files:\n  - {name: a, urls: [\"http://x/a\"]}\n", "files.0: urls: \"http://x/a\" has no ?checksum="},
		"two at one path":       {"files:\n  - {name: a, urls: [\"http://x/a?checksum=sha256:00\"]}\n  - {name: b, urls: [\"http://x/b?checksum=sha256:00\"]}\nhosts:\n  x: [files/a, files/b]\n", "hosts.x: files/a and files/b both answer at \"/\""},
		"apt suite twice":       {"apt:\n  - {name: d, url: http://x/d, suites: [s], upstreams: [{url: http://y/d, suites: [s]}]}\n", "apt.0: apt: mirror d: suite s is configured twice"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("airgap.yaml", []byte(tc.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := Parse("/etc/airgap/airgap.yaml", []byte("files:\n  - {name: tools, urls: [\"https://example.invalid/t.zip?checksum=sha256:00\"]}\n"))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", cfg.Listen)
	assert.Equal(t, "/etc/airgap/mirror", cfg.Path(cfg.Store))
	ms, err := cfg.Mirrors.Select([]string{"files/tools"})
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, []string{"https://example.invalid/t.zip?checksum=sha256:00"}, ms[0].Endpoints())
	_, err = cfg.Mirrors.Select([]string{"nope"})
	require.Error(t, err)
}

func TestBaseName(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.org/x.zip?checksum=sha256:00": "x.zip",
		"s3::https://s3.amazonaws.com/bucket/y.tar.gz": "y.tar.gz",
		"/srv/files/z.iso":                         "z.iso",
		"git::https://example.org/repo.git?ref=v1": "repo.git",
	} {
		assert.Equal(t, want, baseName(in), in)
	}
}

// TestExampleConfig keeps the example that README walks through valid.
func TestExampleConfig(t *testing.T) {
	cfg, err := Load("../examples/airgap/airgap.example.yaml")
	require.NoError(t, err)
	all := cfg.Mirrors.All()
	kinds := map[string]bool{}
	for _, m := range all {
		kinds[m.Kind()] = true
	}
	for _, k := range []string{"apt", "simplestreams", "oci", "pypi", "galaxy", "snaps", "files", "helm"} {
		assert.True(t, kinds[k], k)
	}
	assert.Equal(t, HostTargets{"apt/ubuntu"}, cfg.Hosts["archive.ubuntu.com"])
	ms, err := cfg.Mirrors.Select([]string{"apt/debian"})
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, []string{"http://deb.debian.org/debian/", "http://security.debian.org/debian-security/"}, ms[0].Endpoints())
}

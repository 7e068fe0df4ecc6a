package main

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
		"unknown mirror key":    {"files:\n  - name: a\n    urls: [http://x/a]\n    colour: red\n", "line 4: field colour not found"},
		"bad listen":            {"listen: nowhere\n", "airgap.yaml:1: listen:"},
		"missing name":          {"files:\n  - urls: [http://x/a]\n", "airgap.yaml:2: files.0: name is required"},
		"duplicate name":        {"files:\n  - {name: a, urls: [http://x/a]}\n  - {name: a, urls: [http://x/b]}\n", "airgap.yaml:3: files.1.name: files/a is configured twice"},
		"bad external url":      {"external_url: mirror.internal\n", "airgap.yaml:1: external_url"},
		"hosts to nothing":      {"hosts:\n  archive.ubuntu.com: apt/ubuntu\n", "airgap.yaml:2: hosts.archive.ubuntu.com"},
		"wrong type":            {"keep: lots\n", "line 1: cannot unmarshal"},
		"no url file name":      {"files:\n  - {name: a, urls: [\"http://x/\"]}\n", "files.0: urls"},
		"apt suite twice":       {"apt:\n  - {name: d, url: http://x/d, suites: [s], upstreams: [{url: http://y/d, suites: [s]}]}\n", "apt.0: apt: mirror d: suite s is configured twice"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig("airgap.yaml", []byte(tc.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := parseConfig("/etc/airgap/airgap.yaml", []byte("files:\n  - {name: tools, urls: [\"https://example.invalid/t.zip?checksum=sha256:00\"]}\n"))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", cfg.Listen)
	assert.Equal(t, "/etc/airgap/mirror", cfg.path(cfg.Store))
	ms, err := cfg.Mirrors.selectMirrors([]string{"files/tools"})
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, []string{"https://example.invalid/t.zip?checksum=sha256:00"}, ms[0].Endpoints())
	_, err = cfg.Mirrors.selectMirrors([]string{"nope"})
	require.Error(t, err)
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "1024": 1024, "700M": 700 << 20, "4G": 4 << 30, "4GiB": 4 << 30, "2k": 2 << 10} {
		got, err := parseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"-1", "G", "1.5G", "12Q", "0"} {
		_, err := parseSize(bad)
		assert.Error(t, err, bad)
	}
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
	cfg, err := loadConfig("airgap.example.yaml")
	require.NoError(t, err)
	all := cfg.Mirrors.all()
	kinds := map[string]bool{}
	for _, m := range all {
		kinds[m.Kind()] = true
	}
	for _, k := range []string{"apt", "simplestreams", "oci", "pypi", "galaxy", "snaps", "files"} {
		assert.True(t, kinds[k], k)
	}
	assert.Equal(t, "apt/ubuntu", cfg.Hosts["archive.ubuntu.com"])
	ms, err := cfg.Mirrors.selectMirrors([]string{"apt/debian"})
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, []string{"http://deb.debian.org/debian/", "http://security.debian.org/debian-security/"}, ms[0].Endpoints())
}

package main

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/apt/apttest"
	"github.com/airgapkit/airgap/rpm/rpmtest"
)

// TestMaasYumRepos: after a sync, `airgap maas yum-repos` prints cloud-init user data
// with one yum_repos entry per repository, under external_url, the pristine mirror
// trusting the vendor key only.
func TestMaasYumRepos(t *testing.T) {
	tree := rpmtest.Default(t)
	up := httptest.NewServer(apttest.NewServer(&apttest.Repo{Files: tree.Files}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "RPM-GPG-KEY-test"), string(tree.Key))
	cfg := filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfg, "store: ./store\nexternal_url: http://mirror.example/\nrpm:\n  - name: rocky9\n    url: "+up.URL+"/\n"+
		"    repos: [BaseOS/x86_64/os, AppStream/x86_64/os]\n    keyring: ./RPM-GPG-KEY-test\n    pristine: true\n")
	mustRun(t, "--config", cfg, "sync", "rocky9")
	out := mustRun(t, "--config", cfg, "maas", "yum-repos")
	var doc struct {
		BootCmd  []any                     `yaml:"bootcmd"`
		YumRepos map[string]map[string]any `yaml:"yum_repos"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(out), &doc))
	require.Len(t, doc.BootCmd, 1)
	require.Equal(t, "http://mirror.example/rpm/rocky9/BaseOS/x86_64/os/", doc.YumRepos["rocky9-baseos"]["baseurl"])
	require.Equal(t, "http://mirror.example/rpm/rocky9/AppStream/x86_64/os/", doc.YumRepos["rocky9-appstream"]["baseurl"])
	require.Equal(t, "http://mirror.example/rpm/rocky9/keys/upstream.asc", doc.YumRepos["rocky9-baseos"]["gpgkey"])
	require.Equal(t, true, doc.YumRepos["rocky9-baseos"]["repo_gpgcheck"])

	_, err := run(t, "--config", cfg, "maas", "yum-repos", "nosuch")
	require.Error(t, err)
}

package maasclient

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const testCA = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"

// userData reads the user-data as cloud-init does: the file to write and the snap
// commands.
func userData(t *testing.T, b []byte) (path, content string, commands []string) {
	t.Helper()
	require.True(t, strings.HasPrefix(string(b), "#cloud-config\n"))
	var ud struct {
		WriteFiles []struct {
			Path    string `yaml:"path"`
			Content string `yaml:"content"`
		} `yaml:"write_files"`
		Snap struct {
			Commands []string `yaml:"commands"`
		} `yaml:"snap"`
	}
	require.NoError(t, yaml.Unmarshal(b, &ud))
	require.Len(t, ud.WriteFiles, 1)
	return ud.WriteFiles[0].Path, ud.WriteFiles[0].Content, ud.Snap.Commands
}

// runWithFakeSnap runs commands with sh, as cloud-init runs string commands, in dir with
// a snap that records its arguments one per line; it returns them.
func runWithFakeSnap(t *testing.T, dir string, commands []string) []string {
	t.Helper()
	bin := t.TempDir()
	log := filepath.Join(bin, "log")
	require.NoError(t, os.WriteFile(filepath.Join(bin, "snap"), []byte("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> "+log+"; done\n"), 0o755))
	for _, c := range commands {
		cmd := exec.Command("sh", "-c", c)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", c, out)
	}
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// Way 2: MAAS's own HTTP proxy settings (which its cloud-init turns into snapd's
// proxy.http/https), images still fetched directly; the CA goes in user-data.
func TestConfigureSnapProxyThroughTheMirror(t *testing.T) {
	fake, c, _ := newFake(t, Options{})
	res, err := c.ConfigureSnapProxy(context.Background(), SnapProxy{ProxyURL: "http://mirror.internal:8080/", CACert: []byte(testCA)})
	require.NoError(t, err)
	assert.Equal(t, true, fake.Config(ConfigEnableHTTPProxy))
	assert.Equal(t, "http://mirror.internal:8080/", fake.Config(ConfigHTTPProxy))
	assert.Equal(t, false, fake.Config(ConfigUsePeerProxy))
	assert.Equal(t, true, fake.Config(ConfigBootImagesNoProxy))
	assert.Len(t, res.Config, 4)

	path, content, cmds := userData(t, res.UserData)
	assert.Equal(t, testCA, content)
	// The commands set exactly the CA's text and the proxy.
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644))
	rooted := make([]string, len(cmds))
	for i, cmd := range cmds {
		rooted[i] = strings.ReplaceAll(cmd, path, "."+path)
	}
	args := runWithFakeSnap(t, dir, rooted)
	assert.Equal(t, []string{"set", "system", "store-certs.airgap=" + strings.TrimSuffix(testCA, "\n"),
		"set", "system", "proxy.http=http://mirror.internal:8080/", "proxy.https=http://mirror.internal:8080/"}, args)

	// The region controller's commands read ca.pem where they run.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), []byte(testCA), 0o644))
	assert.Equal(t, args, runWithFakeSnap(t, dir, res.RegionCommands))
}

// Way 1: MAAS has no setting for a proxy store; nothing is set, the user-data acks the
// store assertion and sets proxy.store.
func TestConfigureSnapProxyRegisteredStore(t *testing.T) {
	fake, c, _ := newFake(t, Options{})
	assertion := "type: store\nauthority-id: canonical\nstore: mystore\n\nSIG\n"
	res, err := c.ConfigureSnapProxy(context.Background(), SnapProxy{StoreID: "mystore", StoreAssertion: []byte(assertion)})
	require.NoError(t, err)
	assert.Empty(t, res.Config)
	assert.Equal(t, "", fake.Config(ConfigHTTPProxy), "untouched")
	path, content, cmds := userData(t, res.UserData)
	assert.Equal(t, assertion, content)
	assert.Equal(t, []string{"snap ack " + path, "snap set system proxy.store=mystore"}, cmds)
	assert.Equal(t, []string{"snap ack store.assert", "snap set system proxy.store=mystore"}, res.RegionCommands)
}

func TestConfigureSnapProxyValidation(t *testing.T) {
	_, c, _ := newFake(t, Options{})
	for _, p := range []SnapProxy{
		{},
		{ProxyURL: "http://m/", StoreID: "x", CACert: []byte(testCA), StoreAssertion: []byte("a")},
		{ProxyURL: "http://m/"},
		{ProxyURL: "mirror:8080", CACert: []byte(testCA)},
		{ProxyURL: "http://m/$(reboot)", CACert: []byte(testCA)},
		{StoreID: "x"},
		{StoreID: "x; reboot", StoreAssertion: []byte("a")},
	} {
		_, err := c.ConfigureSnapProxy(context.Background(), p)
		assert.Error(t, err, "%+v", p)
	}
}

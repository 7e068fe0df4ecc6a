package snapproxy

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
)

// install.sh maps `uname -m` to the dpkg architecture and passes --classic or --devmode
// as snap install requires; it runs here under the real sh with snap, dpkg and uname
// stubbed.
func TestInstallScriptArchitecturesAndConfinement(t *testing.T) {
	sh := testutil.RequireBinary(t, "sh", "dash")
	man := &Manifest{Name: "m", Install: map[string][]string{}, Snaps: []ManifestSnap{
		{File: "strict_1.snap", Confinement: "strict"},
		{File: "tool_2.snap", Confinement: "classic"},
		{File: "dev_3.snap", Confinement: "devmode"},
	}}
	for _, a := range []string{"amd64", "arm64", "armhf", "ppc64el", "s390x", "i386", "riscv64"} {
		man.Install[a] = []string{"strict_1", "tool_2", "dev_3"}
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, InstallScript), installScript(man), 0o755))
	bin := t.TempDir()
	stubs := map[string]string{
		"snap":  `echo "$*" >> "$SNAPLOG"`,
		"dpkg":  `exit 1`,
		"uname": `echo "$FAKE_MACHINE"`,
	}
	for name, body := range stubs {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	}
	for machine, arch := range map[string]string{"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "ppc64le": "ppc64el",
		"s390x": "s390x", "i686": "i386", "riscv64": "riscv64"} {
		log := filepath.Join(t.TempDir(), "log")
		env := []string{"PATH=" + bin + ":/usr/bin:/bin", "SNAPLOG=" + log, "FAKE_MACHINE=" + machine}
		testutil.Run(t, time.Minute, env, sh, filepath.Join(dir, InstallScript))
		b, err := os.ReadFile(log)
		require.NoError(t, err)
		assert.Equal(t, "ack strict_1.assert\ninstall strict_1.snap\nack tool_2.assert\ninstall tool_2.snap --classic\n"+
			"ack dev_3.assert\ninstall dev_3.snap --devmode\n", string(b), "%s -> %s", machine, arch)
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/internal/testutil"
)

var units = []string{"airgap-serve.service", "airgap-sync.service", "airgap-sync.timer"}

// verifyUnits runs systemd-analyze verify on copies of the units in dir, with ExecStart
// pointing at a binary that exists here, and returns what it says about them.
func verifyUnits(t *testing.T, bin string, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for _, u := range units {
		b, err := os.ReadFile(filepath.Join("..", "systemd", u))
		require.NoError(t, err)
		text := strings.ReplaceAll(string(b), "/usr/local/bin/airgap", "/bin/true")
		p := filepath.Join(dir, u)
		require.NoError(t, os.WriteFile(p, []byte(edit(text)), 0o644))
		paths = append(paths, p)
	}
	out, err := exec.Command(bin, append([]string{"verify", "--man=no"}, paths...)...).CombinedOutput()
	var ours []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, dir) { // not the host's own units
			ours = append(ours, l)
		}
	}
	if err != nil {
		ours = append(ours, err.Error())
	}
	return strings.Join(ours, "\n")
}

// The units in examples/systemd are valid for systemd (every key known, the timer's
// service present) and hardened as documented.
func TestSystemdUnits(t *testing.T) {
	bin := testutil.RequireBinary(t, "systemd-analyze", "systemd")
	assert.Empty(t, verifyUnits(t, bin, func(s string) string { return s }))
	// the check sees a mistake
	assert.Contains(t, verifyUnits(t, bin, func(s string) string {
		return strings.Replace(s, "ProtectSystem=strict", "ProtectSystm=strict", 1)
	}), "Unknown key 'ProtectSystm'")

	for _, u := range units[:2] {
		b, err := os.ReadFile(filepath.Join("..", "systemd", u))
		require.NoError(t, err)
		for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/airgap", "NoNewPrivileges=yes"} {
			assert.Contains(t, string(b), "\n"+want+"\n", u)
		}
	}
}

// Package registrytest starts real container registries for integration tests: Debian's
// docker-registry (the CNCF distribution registry) on 127.0.0.1 with a throw-away
// configuration and storage directory. It is test support, not API.
package registrytest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/airgapkit/airgap/internal/testutil"
)

// StartDockerRegistry runs /usr/bin/docker-registry (skipping the test when it is not
// installed, failing under CI) over plain HTTP on a free port of 127.0.0.1, with storage
// in a temporary directory and deletes enabled, and returns its "127.0.0.1:PORT". The
// registry is stopped when the test ends; if it does not answer /v2/ within 20 seconds
// the test fails with the registry's log.
func StartDockerRegistry(t testing.TB) string {
	t.Helper()
	bin := testutil.RequireBinary(t, "docker-registry", "docker-registry")
	addr := freeAddr(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yml")
	yaml := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "storage"), addr)
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "registry.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", conf)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("docker-registry: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
	})
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := client.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("docker-registry on %s did not come up: %v\n%s", addr, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeReloadsOnHUP runs `airgap serve`, starts a long download, then adds a mirror
// to the config and sends SIGHUP: the new mirror is served, and the download begun
// before the reload completes intact.
func TestServeReloadsOnHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "airgap")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)

	big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20) // 64 MiB: more than the socket buffers hold
	writeFile(t, filepath.Join(dir, "up", "big.bin"), string(big))
	writeFile(t, filepath.Join(dir, "up", "new.txt"), "the new mirror")
	one := "  - {name: one, insecure: true, urls: [" + filepath.Join(dir, "up", "big.bin") + "]}\n"
	two := "  - {name: two, insecure: true, urls: [" + filepath.Join(dir, "up", "new.txt") + "]}\n"
	cfg := filepath.Join(dir, "airgap.yaml")
	writeFile(t, cfg, "store: store\nlisten: 127.0.0.1:0\nfiles:\n"+one+two)
	mustRun(t, "--config", cfg, "sync")
	writeFile(t, cfg, "store: store\nlisten: 127.0.0.1:0\nfiles:\n"+one)

	cmd := exec.Command(bin, "--config", cfg, "serve")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	addr := regexp.MustCompile(`url=http://(127\.0\.0\.1:\d+)`)
	var base string
	for l := range lines {
		if m := addr.FindStringSubmatch(l); m != nil {
			base = "http://" + m[1]
			break
		}
	}
	require.NotEmpty(t, base, "serve printed no address")
	go func() {
		for range lines { // keep the pipe drained
		}
	}()

	resp, err := http.Get(base + "/files/one/big.bin")
	require.NoError(t, err)
	defer resp.Body.Close()
	h := sha256.New()
	_, err = io.CopyN(h, resp.Body, 1<<20) // the download is under way
	require.NoError(t, err)
	code := func(p string) int {
		r, err := http.Get(base + p)
		require.NoError(t, err)
		r.Body.Close()
		return r.StatusCode
	}
	require.Equal(t, http.StatusNotFound, code("/files/two/new.txt"))

	writeFile(t, cfg, "store: store\nlisten: 127.0.0.1:0\nfiles:\n"+one+two)
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	deadline := time.Now().Add(10 * time.Second)
	for code("/files/two/new.txt") != http.StatusOK {
		require.True(t, time.Now().Before(deadline), "the added mirror is not served after SIGHUP")
		time.Sleep(20 * time.Millisecond)
	}

	_, err = io.Copy(h, resp.Body)
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(big), [32]byte(h.Sum(nil)), "the download begun before the reload completes")
	assert.Equal(t, http.StatusOK, code("/files/one/big.bin"))
}

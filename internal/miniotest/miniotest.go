// Package miniotest starts a real MinIO server on 127.0.0.1 for tests of the S3 backend.
// The binary is found as $MINIO_BIN, on PATH, or where .ci/run installs it
// ($HOME/.cache/airgap/bin/minio). Tests skip when it is missing, and fail under CI=true.
package miniotest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/airgapkit/airgap/internal/testutil"
)

// Credentials of the test server.
const (
	AccessKey = "airgaptest"
	SecretKey = "airgaptest-secret"
)

// Server is a running MinIO.
type Server struct {
	Endpoint string // 127.0.0.1:port
	Client   *minio.Client
	stop     func()
}

// Binary returns the path of the minio binary, or "" when there is none.
func Binary() string {
	if p := os.Getenv("MINIO_BIN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "airgap", "bin", "minio")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Require skips the test (or fails it under CI) when there is no minio binary.
func Require(t testing.TB) {
	t.Helper()
	if Binary() != "" {
		return
	}
	msg := "minio not found (set MINIO_BIN, or let .ci/run build it with go install github.com/minio/minio); S3 tests not run"
	if testutil.InCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Start runs MinIO with a temporary data directory until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	Require(t)
	s, err := Launch(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Launch runs MinIO on a free loopback port with its data in dataDir, for callers that
// share one server across tests (TestMain). Stop ends it.
func Launch(dataDir string) (*Server, error) {
	bin := Binary()
	if bin == "" {
		return nil, fmt.Errorf("miniotest: no minio binary")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	console, err := freePort()
	if err != nil {
		return nil, err
	}
	endpoint := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "server", filepath.Join(dataDir, "data"), "--address", endpoint, "--console-address", fmt.Sprintf("127.0.0.1:%d", console), "--quiet")
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+AccessKey, "MINIO_ROOT_PASSWORD="+SecretKey, "MINIO_BROWSER=off", "MINIO_UPDATE=off")
	logPath := filepath.Join(dataDir, "minio.log")
	logf, err := os.Create(logPath)
	if err != nil {
		cancel()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		cancel()
		logf.Close()
		return nil, fmt.Errorf("miniotest: start: %w", err)
	}
	s := &Server{Endpoint: endpoint, stop: func() {
		cancel()
		_ = cmd.Wait()
		logf.Close()
	}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			b, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("miniotest: minio did not become ready: %v\n%s", err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(AccessKey, SecretKey, ""), Secure: false})
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.Client = c
	return s, nil
}

// Stop ends the server.
func (s *Server) Stop() { s.stop() }

// Bucket creates a bucket.
func (s *Server) Bucket(name string) error {
	return s.Client.MakeBucket(context.Background(), name, minio.MakeBucketOptions{})
}

// URL is the store URL for bucket/prefix on this server, as the CLI config takes it.
func (s *Server) URL(bucket, prefix string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s&insecure=true", bucket, prefix, s.Endpoint)
}

// Env is the environment that gives the server's credentials to a store opened by URL.
func Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

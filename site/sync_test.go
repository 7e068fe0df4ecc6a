package site

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// closedPort returns an address on 127.0.0.1 where nothing listens.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Issue #19: a sync of six dead upstreams took 42 s to fail. Refused connections are
// retried once at most, and the mirrors sync at once, so the whole sync fails fast; every
// mirror's failure is reported, and none stops the others.
func TestDeadUpstreamsFailFast(t *testing.T) {
	var yaml strings.Builder
	yaml.WriteString("files:\n")
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&yaml, "  - {name: dead%d, urls: [\"http://%s/f?checksum=sha256:%064d\"]}\n", i, closedPort(t), 0)
	}
	cfg, err := Parse(filepath.Join(t.TempDir(), "airgap.yaml"), []byte(yaml.String()))
	require.NoError(t, err)
	env := cfg.Env(store.NewMemory(), nil, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a bound, not a measurement
	defer cancel()
	var mu sync.Mutex
	running, most := 0, 0
	err = env.SyncAll(ctx, cfg.Mirrors.All(), SyncOptions{
		Concurrency: 6,
		Progress: func(string) func(fetch.Event) {
			mu.Lock()
			running++
			most = max(most, running)
			mu.Unlock()
			return nil
		},
		Done: func(string, Result, error) { mu.Lock(); running--; mu.Unlock() },
	})
	require.NoError(t, ctx.Err(), "the dead upstreams failed before the bound")
	var se *SyncError
	require.ErrorAs(t, err, &se)
	assert.Len(t, se.Failed, 6)
	for ref, e := range se.Failed {
		assert.Contains(t, e.Error(), "connection refused", ref)
		assert.False(t, errors.Is(e, context.DeadlineExceeded), ref)
	}
	assert.Greater(t, most, 1, "mirrors sync at once")
}

package site

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// Issue #17: the files kind published a generation on every sync, changed or not, so
// gc --keep N pushed out real history.
func TestFilesResyncPublishesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "tool.txt")
	require.NoError(t, os.WriteFile(src, []byte("tool v1"), 0o644))
	s := store.NewMemory()
	env := (&Config{}).Env(s, nil, nil)
	m := &FilesMirror{FileSet{Name: "tools", URLs: []string{src}, Insecure: true}}

	first, err := m.Sync(ctx, env)
	require.NoError(t, err)
	assert.True(t, first.Changed)
	assert.Equal(t, 1, first.Downloaded)
	again, err := m.Sync(ctx, env)
	require.NoError(t, err)
	assert.False(t, again.Changed)
	assert.Equal(t, first.Generation.Record, again.Generation.Record)
	assert.Contains(t, again.Summary, "unchanged")
	h, err := store.History(ctx, s, "files/tools", 0)
	require.NoError(t, err)
	assert.Len(t, h, 1)

	require.NoError(t, os.WriteFile(src, []byte("tool v2"), 0o644))
	third, err := m.Sync(ctx, env)
	require.NoError(t, err)
	assert.True(t, third.Changed)
	assert.Equal(t, first.Generation.Record, third.Generation.Parent)
}

package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/fetch/getter"
)

// Issue #17: the files kind published a generation on every sync, changed or not, so
// gc --keep N pushed out real history.
func TestFilesResyncPublishesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "tool.txt")
	writeFile(t, src, "tool v1")
	s := store.NewMemory()
	rt := &runtime{store: s, fetch: &fetch.Client{Store: s, Getter: getter.New()}, log: discardLogger()}
	m := &filesMirror{FilesMirror{Name: "tools", URLs: []string{src}}}

	first, err := m.sync(ctx, rt)
	require.NoError(t, err)
	assert.True(t, first.Changed)
	assert.Equal(t, 1, first.Downloaded)
	again, err := m.sync(ctx, rt)
	require.NoError(t, err)
	assert.False(t, again.Changed)
	assert.Equal(t, first.Generation.Record, again.Generation.Record)
	summary, err := m.Sync(ctx, rt)
	require.NoError(t, err)
	assert.Contains(t, summary, "unchanged")
	h, err := store.History(ctx, s, "files/tools", 0)
	require.NoError(t, err)
	assert.Len(t, h, 1)

	writeFile(t, src, "tool v2")
	third, err := m.sync(ctx, rt)
	require.NoError(t, err)
	assert.True(t, third.Changed)
	assert.Equal(t, first.Generation.Record, third.Generation.Parent)
}

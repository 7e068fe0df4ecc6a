package site

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
)

// The inventory is CycloneDX 1.6 as cyclonedx-go reads it back: every held file a
// component with its sha256, where it came from, and what vouched for it.
func TestInventoryIsCycloneDX16(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "tool.txt")
	require.NoError(t, os.WriteFile(src, []byte("tool v1"), 0o644))
	s := store.NewMemory()
	m := &FilesMirror{FileSet{Name: "tools", URLs: []string{src}, Insecure: true}}
	never := &FilesMirror{FileSet{Name: "never", URLs: []string{src}, Insecure: true}}
	_, err := m.Sync(ctx, (&Config{}).Env(s, nil, nil))
	require.NoError(t, err)

	var b bytes.Buffer
	require.NoError(t, WriteInventory(ctx, &b, s, []Mirror{m, never}))
	var bom cdx.BOM
	require.NoError(t, cdx.NewBOMDecoder(bytes.NewReader(b.Bytes()), cdx.BOMFileFormatJSON).Decode(&bom))
	assert.Equal(t, "CycloneDX", bom.BOMFormat)
	assert.Equal(t, cdx.SpecVersion1_6, bom.SpecVersion)
	assert.Regexp(t, `^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, bom.SerialNumber)
	require.NotNil(t, bom.Components)
	require.Len(t, *bom.Components, 1, "the never-published mirror is left out")
	c := (*bom.Components)[0]
	assert.Equal(t, "tool.txt", c.Name)
	assert.Equal(t, "files/tools:tool.txt", c.BOMRef)
	require.NotNil(t, c.Hashes)
	assert.Equal(t, cdx.Hash{Algorithm: cdx.HashAlgoSHA256, Value: store.DigestOf([]byte("tool v1")).Hex()}, (*c.Hashes)[0])
	assert.Contains(t, *c.Properties, cdx.Property{Name: "airgap:unverified", Value: "true"})
}

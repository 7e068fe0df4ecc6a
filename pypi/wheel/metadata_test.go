package wheel

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMetadata(t *testing.T) {
	md, err := ParseMetadata([]byte("Metadata-Version: 2.2\r\nName: Demo\nVersion: 1.0\nRequires-Python: >=3.8\n" +
		"Requires-Dist: a>=1; extra == 'x'\nRequires-Dist: b\n  (>=2)\nProvides-Extra: X_Y\nDynamic: Description\n\nRequires-Dist: body-not-header\n"))
	require.NoError(t, err)
	assert.Equal(t, "Demo", md.Name)
	assert.Equal(t, []string{"a>=1; extra == 'x'", "b (>=2)"}, md.RequiresDist)
	assert.Equal(t, []string{"x-y"}, md.ProvidesExtra)
	assert.True(t, md.DependenciesKnown())
	reqs, err := md.Requirements()
	require.NoError(t, err)
	assert.Len(t, reqs, 2)

	md, err = ParseMetadata([]byte("Metadata-Version: 2.1\nName: x\n"))
	require.NoError(t, err)
	assert.False(t, md.DependenciesKnown())
	md, err = ParseMetadata([]byte("Metadata-Version: 2.3\nName: x\nDynamic: Requires-Dist\n"))
	require.NoError(t, err)
	assert.False(t, md.DependenciesKnown())

	for _, bad := range []string{"", " continuation\nName: x\n", "Name x\n", "Version: 1\n"} {
		_, err := ParseMetadata([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformedMetadata, bad)
	}
	md, err = ParseMetadata([]byte("Name: x\nRequires-Dist: bad>=\n"))
	require.NoError(t, err)
	_, err = md.Requirements()
	assert.Error(t, err)
}

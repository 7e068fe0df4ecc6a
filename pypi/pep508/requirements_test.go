package pep508

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRequirementsFile(t *testing.T) {
	reqs, err := ParseRequirementsFile(strings.NewReader(`# comment
--index-url https://pypi.org/simple/
requests[socks]>=2.31 ; python_version >= "3.8"  # trailing comment
numpy==1.26.4 \
    --hash=sha256:abc \
    --hash=sha256:def
--pre

Django~=4.2
`))
	require.NoError(t, err)
	require.Len(t, reqs, 3)
	assert.Equal(t, "requests", reqs[0].Name)
	assert.Equal(t, []string{"socks"}, reqs[0].Extras)
	assert.NotNil(t, reqs[0].Marker)
	assert.Equal(t, "==1.26.4", reqs[1].Specifiers.String())
	assert.Equal(t, "~=4.2", reqs[2].Specifiers.String())

	for _, bad := range []string{"-r other.txt\n", "-e .\n", "--constraint=c.txt\n", "foo>=\n"} {
		_, err := ParseRequirementsFile(strings.NewReader(bad))
		assert.Error(t, err, bad)
	}
	_, err = ParseRequirementsFile(strings.NewReader("-r x.txt"))
	assert.ErrorIs(t, err, ErrRequirementsFile)
}

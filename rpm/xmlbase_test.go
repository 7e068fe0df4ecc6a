package rpm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The location's xml:base goes and everything else stays: attributes in any order and
// quoting, values holding what a pattern would take for markup, a <location> that is not
// the package's own.
func TestDropXMLBase(t *testing.T) {
	for in, want := range map[string]string{
		`<package><location xml:base="http://a/" href="P/x.rpm"/></package>`:                                        `<package><location href="P/x.rpm"/></package>`,
		`<package><location href="P/x.rpm" xml:base='http://a/'/></package>`:                                        `<package><location href="P/x.rpm"/></package>`,
		`<package><location xml:base=""href="0"/></package>`:                                                        `<package><location href="0"/></package>`,
		`<package><location href="a&amp;b&gt;c xml:base='q'" xml:base="u"></location></package>`:                    `<package><location href="a&amp;b&gt;c xml:base=&#39;q&#39;"></location></package>`,
		`<package><format><location xml:base="keep"/></format><location href="x"/></package>`:                       `<package><format><location xml:base="keep"/></format><location href="x"/></package>`,
		"<package>\n  <name>x</name>\n  <location xml:base=\"b\" href=\"x\"/>\n  <size package=\"1\"/>\n</package>": "<package>\n  <name>x</name>\n  <location href=\"x\"/>\n  <size package=\"1\"/>\n</package>",
		`<package><name>no location</name></package>`:                                                               `<package><name>no location</name></package>`,
	} {
		got, err := dropXMLBase([]byte(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, string(got), in)
	}
	_, err := dropXMLBase([]byte(`<package><location href="x`))
	assert.ErrorIs(t, err, ErrMalformed)
}

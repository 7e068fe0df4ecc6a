package pypi

import (
	"github.com/airgapkit/airgap/pypi/simple"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNegotiate(t *testing.T) {
	cases := []struct {
		accept string
		want   string
		ok     bool
	}{
		{"", simple.MediaTypeLegacyHTML, true},
		{simple.AcceptHeader, simple.MediaTypeJSON, true},
		{"application/vnd.pypi.simple.v1+json", simple.MediaTypeJSON, true},
		{"application/vnd.pypi.simple.latest+json", simple.MediaTypeJSON, true},
		{"application/json", "", false},
		{"text/html", simple.MediaTypeLegacyHTML, true},
		{"*/*", simple.MediaTypeLegacyHTML, true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", simple.MediaTypeLegacyHTML, true},
		{"application/vnd.pypi.simple.v1+json;q=0.2, text/html;q=0.5", simple.MediaTypeLegacyHTML, true},
		{"application/vnd.pypi.simple.v1+json;q=0, */*", simple.MediaTypeLegacyHTML, true},
		{"application/vnd.pypi.simple.v1+html, application/vnd.pypi.simple.v1+json;q=0.9", simple.MediaTypeHTML, true},
		{"application/*", simple.MediaTypeHTML, true},
		{"text/plain", "", false},
		{"application/vnd.pypi.simple.v1+json;q=bogus", "", false},
	}
	for _, c := range cases {
		got, ok := negotiate(c.accept, false)
		assert.Equal(t, c.ok, ok, c.accept)
		assert.Equal(t, c.want, got, c.accept)
	}
	got, _ := negotiate("", true)
	assert.Equal(t, simple.MediaTypeJSON, got)
}

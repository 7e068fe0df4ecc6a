package oci

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestMirrorConfigYAML(t *testing.T) {
	in := `
name: k8s
images: [nginx:1.25, "ghcr.io/o/r:v1"]
repositories:
- repository: quay.io/prometheus/node-exporter
  semver: ">=1.7"
  latest: 3
platforms: [linux/amd64, linux/arm64]
referrers: true
registries:
- host: registry.internal:5000
  plain_http: true
  username: u
  password: p
`
	var m Mirror
	require.NoError(t, yaml.Unmarshal([]byte(in), &m))
	assert.Equal(t, "oci/k8s", m.Ref())
	assert.Equal(t, 3, m.Repositories[0].Latest)
	assert.True(t, m.Registries[0].PlainHTTP)
	assert.Equal(t, []string{"https://ghcr.io/v2/", "https://quay.io/v2/", "https://registry-1.docker.io/v2/"}, m.Endpoints())
}

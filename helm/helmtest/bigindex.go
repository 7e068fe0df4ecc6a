package helmtest

import (
	"bufio"
	"fmt"
	"io"
)

// BigIndex writes an index.yaml of charts × versions entries with the fields real
// entries carry (bitnami's shape: annotations with an images block scalar, an oci://
// dependency, absolute URLs), as helm writes it. 150 × 400 is about 44 MB.
func BigIndex(w io.Writer, charts, versions int) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("apiVersion: v1\nentries:\n")
	for c := range charts {
		fmt.Fprintf(bw, "  chart%03d:\n", c)
		for v := range versions {
			fmt.Fprintf(bw, `  - annotations:
      category: Infrastructure
      images: |
        - name: chart%03d
          image: docker.io/bitnami/chart%03d:1.%d.0-debian-12-r0
      licenses: Apache-2.0
    apiVersion: v2
    appVersion: 1.%d.0
    created: "2024-04-24T10:00:00.123456789Z"
    dependencies:
    - name: common
      repository: oci://registry-1.docker.io/bitnamicharts
      tags: [bitnami-common]
      version: 2.x.x
    description: Chart %03d is a test chart with a description of realistic length for the index.
    digest: 0b5d5c3c7b3f0e9f1f54e5a3a1b9b9cf6e1b1b1b4b9e7b2f6f0d9d1f7d9d0c11
    home: https://bitnami.com
    name: chart%03d
    urls:
    - https://charts.bitnami.com/bitnami/chart%03d-%d.0.0.tgz
    version: %d.0.0
`, c, c, v, v, c, c, c, v, v)
		}
	}
	bw.WriteString("generated: \"2024-04-24T10:00:00Z\"\n")
	return bw.Flush()
}

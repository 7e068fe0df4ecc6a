package helm_test

import (
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/helm"
)

// Chart URLs in an index resolve as helm resolves them: relative ones below the
// repository URL (its query carried), absolute ones, often on another host, as they are.
func ExampleResolveURL() {
	for _, ref := range []string{"cert-manager-v1.14.5.tgz", "https://github.com/o/r/releases/download/v1/r-1.0.0.tgz"} {
		u, _ := helm.ResolveURL("https://charts.example/stable?token=t", ref)
		fmt.Println(u)
	}
	// Output:
	// https://charts.example/stable/cert-manager-v1.14.5.tgz?token=t
	// https://github.com/o/r/releases/download/v1/r-1.0.0.tgz
}

// Choosing versions as helm's --version does: prereleases only when the constraint
// names one.
func ExampleSelect() {
	var vs []*helm.Version
	for _, v := range []string{"1.13.2", "1.14.0", "1.14.5", "1.15.0-alpha.1", "1.15.0"} {
		vs = append(vs, &helm.Version{Name: "cert-manager", Version: v})
	}
	for _, c := range []string{">=1.14.0 <1.15.0", ">=1.15.0-0"} {
		got, _ := helm.Select(vs, c, 0)
		var names []string
		for _, v := range got {
			names = append(names, v.Version)
		}
		fmt.Println(strings.Join(names, " "))
	}
	// Output:
	// 1.14.5 1.14.0
	// 1.15.0 1.15.0-alpha.1
}

// Reading only the charts a mirror holds from an index: the other charts' entries are
// skipped unread, so memory follows what is kept, not the index.
func ExampleReadIndex() {
	index := `apiVersion: v1
entries:
  cert-manager:
  - name: cert-manager
    version: v1.14.5
    urls: [cert-manager-v1.14.5.tgz]
  redis:
  - name: redis
    version: 19.0.0
    urls: [redis-19.0.0.tgz]
generated: "2024-04-24T10:00:00Z"
`
	idx, err := helm.ReadIndex(strings.NewReader(index), func(chart string) bool { return chart == "cert-manager" })
	if err != nil {
		fmt.Println(err)
		return
	}
	for name, vs := range idx.Entries {
		fmt.Println(name, vs[0].Version, vs[0].URLs)
	}
	// Output:
	// cert-manager v1.14.5 [cert-manager-v1.14.5.tgz]
}

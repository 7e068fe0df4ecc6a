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

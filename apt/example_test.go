package apt_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/apt"
)

// ExampleReadPackages streams a Packages index and resolves a dependency closure.
func ExampleReadPackages() {
	const index = `Package: hello
Version: 2.10-3
Architecture: amd64
Depends: libc6 (>= 2.34), mail-transport-agent | exim4

Package: libc6
Version: 2.36-9
Architecture: amd64

Package: postfix
Version: 3.7.11-0
Architecture: amd64
Provides: mail-transport-agent

Package: cowsay
Version: 3.03
Architecture: all
`
	u := apt.NewUniverse()
	var roots []*apt.Package
	err := apt.ReadPackages(context.Background(), strings.NewReader(index), func(p apt.Package, _ apt.Paragraph) error {
		if err := u.Add(&p); err != nil {
			return err
		}
		if (apt.Filter{Packages: []string{"hel*"}}).Match(&p) {
			roots = append(roots, &p)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sel, _, err := u.Closure(roots, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range sel {
		fmt.Println(p.Name, p.Version)
	}
	fmt.Println(apt.CompareVersions("1.0~rc1", "1.0") < 0)
	// Output:
	// hello 2.10-3
	// libc6 2.36-9
	// postfix 3.7.11-0
	// true
}

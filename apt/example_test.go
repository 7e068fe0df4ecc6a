package apt_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/airgapkit/airgap/apt"
	"github.com/airgapkit/airgap/store"
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

// ExampleMirror_upstreams configures one mirror over Debian's main and security
// archives (two URLs, one keyring): the closure of openssh-server picks each package at
// the newest version either offers, and the tree publishes dists/bookworm,
// dists/bookworm-updates and dists/bookworm-security with one pool. Plan lists what a
// Sync would fetch, without fetching it.
func ExampleMirror_upstreams() {
	m := &apt.Mirror{
		Name:   "debian",
		URL:    "http://deb.debian.org/debian",
		Suites: []string{"bookworm", "bookworm-updates"},
		Upstreams: []apt.Upstream{
			{URL: "http://security.debian.org/debian-security", Suites: []string{"bookworm-security"}},
		},
		Keyring:       "/usr/share/keyrings/debian-archive-keyring.gpg",
		Components:    []string{"main"},
		Architectures: []string{"amd64"},
		Filter:        apt.Filter{Packages: []string{"openssh-server"}, Dependencies: true},
		ValidFor:      7 * 24 * time.Hour, // never later than bookworm-security's own Valid-Until
		Store:         store.NewMemory(),
	}
	plan, err := m.Plan(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range plan.Packages {
		fmt.Println(p.Suite, p.Name, p.Version)
	}
	fmt.Println(len(plan.Files), "files,", plan.Bytes, "bytes")
}

// ExampleInventory mirrors Debian bookworm pristine (the upstream's InRelease and
// indices byte for byte, so clients keep Debian's own keyring and need no signed-by),
// holding only the closure of openssh-server, then lists what the tree holds and warns
// about suites whose Valid-Until is near.
func ExampleInventory() {
	ctx := context.Background()
	s := store.NewMemory()
	m := &apt.Mirror{
		Name:          "debian",
		URL:           "http://deb.debian.org/debian",
		Suites:        []string{"bookworm", "bookworm-updates"},
		Keyring:       "/usr/share/keyrings/debian-archive-keyring.gpg",
		Components:    []string{"main"},
		Architectures: []string{"amd64"},
		Pristine:      true,
		Filter:        apt.Filter{Packages: []string{"openssh-server"}, Dependencies: true},
		Store:         s,
	}
	if _, err := m.Sync(ctx); err != nil {
		fmt.Println(err)
		return
	}
	items, err := apt.Inventory(ctx, s, m.Ref())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range items {
		fmt.Println(it.PURL, it.Path, it.VouchedBy)
	}
	suites, err := apt.Suites(ctx, s, m.Ref())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ps := range suites {
		if !ps.ValidUntil.IsZero() && time.Until(ps.ValidUntil) < 48*time.Hour {
			fmt.Println(ps.Name, "expires", ps.ValidUntil, "- sync before then")
		}
	}
}

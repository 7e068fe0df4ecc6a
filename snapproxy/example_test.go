package snapproxy_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/internal/snapproxytest"
	"github.com/airgapkit/airgap/snapproxy"
	"github.com/airgapkit/airgap/store"
)

// Mirror an application with its base and snapd from a (test) Snap Store, then read the
// published output back and verify every pair.
func Example() {
	ctx := context.Background()
	upstream := snapproxytest.New(snapproxytest.Options{})
	defer upstream.Close()
	upstream.Add(snapproxytest.Snap{Name: "hello", Revision: 42, Channels: []string{"latest/stable"}, Base: "core22"})
	upstream.Add(snapproxytest.Snap{Name: "core22", Revision: 7, Type: "base"})
	upstream.Add(snapproxytest.Snap{Name: "snapd", Revision: 3, Type: "snapd"})

	trust, err := snapproxy.ParseTrust(upstream.TrustedKeys())
	if err != nil {
		panic(err)
	}
	s := store.NewMemory()
	m := &snapproxy.Mirror{
		Name:  "hello",
		URL:   upstream.URL(),
		Snaps: []snapproxy.SnapSpec{{Name: "hello", Channel: "latest/stable"}},
		Store: s,
		Trust: trust,
	}
	st, err := m.Sync(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("published", m.Ref(), "with", st.Snaps, "snaps")

	out, err := snapproxy.ReadOutput(ctx, s, m.Ref())
	if err != nil {
		panic(err)
	}
	fmt.Println("verified:", out.Verify(ctx, trust) == nil)
	fmt.Println("install order:", out.Manifest.Install["amd64"])
	// Output:
	// published snaps/hello with 3 snaps
	// verified: true
	// install order: [snapd_3 core22_7 hello_42]
}

// Parse an assertion and read its headers.
func ExampleDecodeAssertion() {
	root := snapproxytest.NewKey("root", "canonical")
	a, err := snapproxy.DecodeAssertion(root.AccountKey(root, "root"))
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Type(), a.Header("account-id"), a.Header("name"), a.SignKeyID() == root.ID)
	// Output: account-key canonical root true
}

// List what a published snap mirror holds, as an SBOM would (a test store stands in for
// the Snap Store: only it can sign assertions that chain to a root we hold).
func ExampleInventory() {
	ctx := context.Background()
	upstream := snapproxytest.New(snapproxytest.Options{})
	defer upstream.Close()
	upstream.Add(snapproxytest.Snap{Name: "hello", Revision: 42, Version: "2.10"})
	trust, err := snapproxy.ParseTrust(upstream.TrustedKeys())
	if err != nil {
		panic(err)
	}
	s := store.NewMemory()
	m := &snapproxy.Mirror{Name: "tools", URL: upstream.URL(), Store: s, Trust: trust, NoDependencies: true,
		Snaps: []snapproxy.SnapSpec{{Name: "hello"}}}
	if _, err := m.Sync(ctx); err != nil {
		panic(err)
	}
	items, err := snapproxy.Inventory(ctx, s, m.Ref())
	if err != nil {
		panic(err)
	}
	for _, it := range items {
		fmt.Println(it.Name, it.Version, it.Path, strings.HasPrefix(it.PURL, "pkg:generic/hello@2.10?checksum=sha3-384:"))
		fmt.Println(strings.HasSuffix(it.VouchedBy, "chained to root key "+trust.KeyIDs()[0]))
	}
	// Output:
	// hello 2.10 hello_42.snap true
	// true
}

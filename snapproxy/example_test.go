package snapproxy_test

import (
	"context"
	"fmt"

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

package snapproxytest

import (
	"bytes"
	"embed"
	"strings"
)

//go:embed testdata/canonical/*.account testdata/canonical/*.account-key
var canonicalFiles embed.FS

// canonicalOrder lists the real assertions in testdata/canonical in the order snapd
// accepts them with nothing trusted but its built-in root.
var canonicalOrder = []string{
	"canonical-root.account-key",
	"canonical.account",
	"canonical-store.account-key",
	"test-snapd.account",
	"test-snapd-phelps.account-key",
}

// Primary keys of the real assertions.
const (
	// CanonicalRootKeyID is Canonical's root account-key, the trust root snapd builds in.
	CanonicalRootKeyID = "-CvQKAwRQ5h3Ffn10FILJoEZUXOv6km9FwA80-Rcj-f-6jadQ89VRswHNiEB9Lxk"
	// CanonicalStoreKeyID is the key the Snap Store signs publisher accounts,
	// snap-declarations and snap-revisions with.
	CanonicalStoreKeyID = "BWDEoaqyr25nF5SNCvEv2v7QnM9QsfCc0PBMYD_i2NGSQ32EF2d4D0hqUel3m8ul"
	// CanonicalPublisher is the publisher account among the real assertions.
	CanonicalPublisher = "test-snapd"
)

// CanonicalChain returns Canonical's real assertions (public data, signed by Canonical's
// keys): root account-key, canonical account, store account-key, the test-snapd account
// and its phelps-test-key account-key, in that order, each without a trailing newline.
func CanonicalChain() [][]byte {
	out := make([][]byte, len(canonicalOrder))
	for i, name := range canonicalOrder {
		b, err := canonicalFiles.ReadFile("testdata/canonical/" + name)
		if err != nil {
			panic("snapproxytest: " + err.Error())
		}
		out[i] = bytes.TrimRight(b, "\n")
	}
	return out
}

// CanonicalRoot returns Canonical's real root account-key assertion, to trust.
func CanonicalRoot() []byte { return CanonicalChain()[0] }

// canonicalAssertion finds a real assertion by type and primary key.
func canonicalAssertion(typ, key string) []byte {
	for _, b := range CanonicalChain() {
		head, _, _ := bytes.Cut(b, []byte("\n\n"))
		lines := strings.Split(string(head), "\n")
		if lines[0] != "type: "+typ {
			continue
		}
		field := map[string]string{"account-key": "public-key-sha3-384: ", "account": "account-id: "}[typ]
		for _, l := range lines {
			if l == field+key {
				return b
			}
		}
	}
	return nil
}

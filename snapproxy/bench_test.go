package snapproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/airgapkit/airgap/internal/testutil"
	"github.com/airgapkit/airgap/snapproxy/snapproxytest"
	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
)

// BenchmarkDecodeAssertions decodes a typical .assert stream (account-key, two accounts,
// snap-declaration, snap-revision).
func BenchmarkDecodeAssertions(b *testing.B) {
	root := snapproxytest.NewKey("root", "canonical")
	st := snapproxytest.NewKey("store", "canonical")
	var buf bytes.Buffer
	buf.Write(st.AccountKey(root, "store"))
	for _, typ := range []string{"account", "account", "snap-declaration", "snap-revision"} {
		buf.WriteString("\n\n")
		buf.Write(st.Sign(typ, []snapproxytest.Header{{Name: "snap-id", Value: "x"}, {Name: "timestamp", Value: "2024-01-01T00:00:00Z"}}, nil))
	}
	data := buf.Bytes()
	testutil.AllocPerMiB(b, int64(len(data)), func() error {
		as, err := DecodeAll(bytes.NewReader(data), 0)
		if err == nil && len(as) != 5 {
			err = fmt.Errorf("%d assertions", len(as))
		}
		return err
	})
}

// BenchmarkDecoderStream decodes a stream of 1,000 snap-revision assertions one at a
// time, dropping each: B/MiB is what the Decoder allocates per MiB of stream.
func BenchmarkDecoderStream(b *testing.B) {
	st := snapproxytest.NewKey("store", "canonical")
	var buf bytes.Buffer
	for i := range 1000 {
		if i > 0 {
			buf.WriteString("\n\n")
		}
		buf.Write(st.Sign("snap-revision", []snapproxytest.Header{{Name: "snap-sha3-384", Value: fmt.Sprintf("%064d", i)},
			{Name: "snap-id", Value: "AbCdEf0123456789AbCdEf0123456789"}, {Name: "snap-revision", Value: fmt.Sprint(i + 1)},
			{Name: "snap-size", Value: "180000000"}, {Name: "timestamp", Value: "2024-01-01T00:00:00Z"}}, nil))
	}
	data := buf.Bytes()
	testutil.AllocPerMiB(b, int64(len(data)), func() error {
		d := NewDecoder(bytes.NewReader(data))
		for n := 0; ; n++ {
			_, err := d.Decode()
			if errors.Is(err, io.EOF) {
				if n != 1000 {
					return fmt.Errorf("%d assertions", n)
				}
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
}

// BenchmarkVerifyChain verifies the signatures of an account-key and a snap-revision.
func BenchmarkVerifyChain(b *testing.B) {
	root, st, trust := testChain(b)
	ak, _ := DecodeAssertion(st.AccountKey(root, "store"))
	rev, _ := DecodeAssertion(st.Sign("snap-revision", []snapproxytest.Header{{Name: "snap-id", Value: "x"}}, nil))
	for b.Loop() {
		if err := trust.Verify([]*Assertion{ak, rev}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCanonicalChain verifies Canonical's five real assertions from the real
// root (RSA 8192 for the root's two signatures, RSA 4096 for the store's three).
func BenchmarkVerifyCanonicalChain(b *testing.B) {
	real := snapproxytest.CanonicalChain()
	data := bytes.Join(real, []byte("\n\n"))
	trust, err := ParseTrust(real[0])
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		as, err := DecodeAll(bytes.NewReader(data), 8)
		if err != nil {
			b.Fatal(err)
		}
		if err := trust.Verify(as); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSync50 mirrors 50 snaps (48 apps on one base, with snapd), downloading,
// verifying and publishing them into a fresh memory store each time.
func BenchmarkSync50(b *testing.B) {
	srv := snapproxytest.New(snapproxytest.Options{})
	defer srv.Close()
	srv.Add(snapproxytest.Snap{Name: "core22", Revision: 1, Type: "base", Size: 64 << 10})
	srv.Add(snapproxytest.Snap{Name: "snapd", Revision: 2, Type: "snapd", Size: 64 << 10})
	var specs []SnapSpec
	for i := range 48 {
		name := fmt.Sprintf("app%d", i)
		srv.Add(snapproxytest.Snap{Name: name, Revision: 10 + i, Base: "core22", Size: 64 << 10})
		specs = append(specs, SnapSpec{Name: name})
	}
	trust, err := ParseTrust(srv.TrustedKeys())
	if err != nil {
		b.Fatal(err)
	}
	sync := func() {
		s := store.NewMemory()
		m := &Mirror{Name: "bench", URL: srv.URL(), Snaps: specs, Store: s, Trust: trust, Fetch: &fetch.Client{Store: s}}
		st, err := m.Sync(context.Background())
		if err != nil || st.Snaps != 50 {
			b.Fatal(st.Snaps, err)
		}
	}
	sync() // the test store signs each assertion once (RSA 4096): not what is measured
	b.ReportAllocs()
	for b.Loop() {
		sync()
	}
}

// BenchmarkDecodeRefresh decodes a refresh answer of maxActions results (each with a
// 2 kB snap.yaml): read whole, capped at maxJSONSize; B/MiB is its decoding cost.
func BenchmarkDecodeRefresh(b *testing.B) {
	var buf bytes.Buffer
	var actions []Action
	buf.WriteString(`{"results": [`)
	yaml := strings.Repeat(`name: x\napps:\n  x:\n    command: bin/x\n`, 50)
	for i := range maxActions {
		name := fmt.Sprintf("snap%d", i)
		actions = append(actions, Action{Name: name, Channel: "stable"})
		if i > 0 {
			buf.WriteString(",")
		}
		fmt.Fprintf(&buf, `{"result": "download", "instance-key": "download-%d", "snap-id": "AbCdEf0123456789AbCdEf01234567%02d", "name": %q, "effective-channel": "latest/stable",
 "snap": {"snap-id": "AbCdEf0123456789AbCdEf01234567%02d", "name": %q, "revision": %d, "version": "1.0", "base": "core24", "type": "app", "confinement": "strict",
  "epoch": {"read": [0], "write": [0]}, "publisher": {"id": "pub", "username": "pub", "display-name": "Pub", "validation": "verified"}, "snap-yaml": %q,
  "download": {"url": "https://api.snapcraft.io/api/v1/snaps/download/x_%d.snap", "sha3-384": "%096x", "size": 180000000, "deltas": []}}}`,
			i, i, name, i, name, i+1, yaml, i+1, i)
	}
	buf.WriteString(`], "error-list": []}`)
	data := buf.Bytes()
	testutil.AllocPerMiB(b, int64(len(data)), func() error {
		_, err := decodeRefresh(data, "amd64", actions)
		return err
	})
}

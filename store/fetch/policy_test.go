package fetch

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch/retry"
)

// Issue #19: an x509 error repeats on every attempt, so it is not retried.
func TestTLSCertificateErrorIsNotRetried(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	c, sl := newClient(store.NewMemory()) // trusts the system roots, not the test server's
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f"})
	var ua x509.UnknownAuthorityError
	require.ErrorAs(t, err, &ua)
	assert.Equal(t, int32(1), conns.Load(), "one handshake")
	assert.Empty(t, sl.all())
}

func TestStatusClassification(t *testing.T) {
	for _, c := range []struct {
		status   int
		attempts int
	}{
		{http.StatusTooEarly, 2}, {http.StatusTooManyRequests, 2}, {http.StatusGatewayTimeout, 2},
		{http.StatusNotImplemented, 1}, {http.StatusUnauthorized, 1}, {http.StatusForbidden, 1}, {http.StatusGone, 1},
	} {
		up, srv := newUpstream(t, []byte("x"))
		up.failN, up.failStatus = 1, c.status
		cl, _ := newClient(store.NewMemory())
		_, err := cl.Fetch(t.Context(), Request{URL: srv.URL + "/f"})
		if c.attempts == 1 {
			var he *HTTPError
			require.ErrorAs(t, err, &he, "%d", c.status)
			assert.Equal(t, c.status, he.StatusCode)
		} else {
			require.NoError(t, err, "%d", c.status)
		}
		assert.Len(t, up.reqs(), c.attempts, "%d", c.status)
	}
}

// Issue #19: Retry-After up to 5 minutes, 4 times, kept a dead upstream alive for 20
// minutes; the time one Fetch spends retrying is capped, and the error says so.
func TestRetryTimeBudget(t *testing.T) {
	up, srv := newUpstream(t, []byte("x"))
	up.failN, up.failStatus, up.retryAfter = 100, http.StatusServiceUnavailable, "240"
	c, sl := newClient(store.NewMemory())
	c.MaxRetryTime = 10 * time.Minute
	_, err := c.Fetch(t.Context(), Request{URL: srv.URL + "/f"})
	require.ErrorIs(t, err, retry.ErrGaveUp)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 240*time.Second, he.RetryAfter())
	assert.Equal(t, []time.Duration{240 * time.Second, 240 * time.Second}, sl.all())
	assert.Len(t, up.reqs(), 3)
	assert.Contains(t, err.Error(), "gave up after 3 attempts")
}

func TestCancelDuringWaitKeepsTheFailure(t *testing.T) {
	up, srv := newUpstream(t, []byte("x"))
	up.failN, up.failStatus = 100, http.StatusBadGateway
	ctx, cancel := context.WithCancel(t.Context())
	c := &Client{Store: store.NewMemory(), Sleep: func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}}
	_, err := c.Fetch(ctx, Request{URL: srv.URL + "/f"})
	require.ErrorIs(t, err, context.Canceled)
	var he *HTTPError
	require.ErrorAs(t, err, &he, "the failure that was being retried stays matchable")
	assert.Equal(t, http.StatusBadGateway, he.StatusCode)
}

// oci set fc.HTTP on the caller's shared Client, so an apt sync after an oci sync went
// through the registry's transport. A used Client refuses such a change; a package
// derives a Client instead, and the shared one is untouched.
func TestClientIsImmutable(t *testing.T) {
	up, srv := newUpstream(t, []byte("x"))
	shared, _ := newClient(store.NewMemory())
	_, err := shared.Fetch(t.Context(), Request{URL: srv.URL + "/a"})
	require.NoError(t, err)

	refusing := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, retry.Mark(fmt.Errorf("scheme not allowed: %s", r.URL.Scheme), retry.Permanent)
	})}
	derived := shared.WithHTTP(refusing)
	_, err = derived.Fetch(t.Context(), Request{URL: srv.URL + "/b"})
	require.ErrorContains(t, err, "scheme not allowed")
	_, err = shared.Fetch(t.Context(), Request{URL: srv.URL + "/c"})
	require.NoError(t, err, "the shared Client still uses its own transport")
	assert.Len(t, up.reqs(), 2)

	shared.HTTP = refusing // what oci did
	_, err = shared.Fetch(t.Context(), Request{URL: srv.URL + "/d"})
	require.ErrorIs(t, err, ErrClientModified)
	assert.Len(t, up.reqs(), 2)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWithHTTPSharesLimits(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-release
	}))
	defer srv.Close()
	defer close(release)
	c, _ := newClient(store.NewMemory())
	c.PerHost = 1
	d := c.WithHTTP(&http.Client{})
	go func() { _, _ = c.Fetch(t.Context(), Request{URL: srv.URL + "/a"}) }()
	require.Eventually(t, func() bool { return hits.Load() == 1 }, 10*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := d.Fetch(ctx, Request{URL: srv.URL + "/b"})
	require.ErrorIs(t, err, context.DeadlineExceeded, "the derived Client waits for the host slot c holds")
	assert.Equal(t, int32(1), hits.Load())
}

// WithHTTP copies every setting; a field added to Client and forgotten there fails here.
func TestWithHTTPCopiesEveryField(t *testing.T) {
	c := &Client{}
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Int, reflect.Int64:
			f.SetInt(7)
		case reflect.Func:
			f.Set(reflect.MakeFunc(f.Type(), func([]reflect.Value) []reflect.Value {
				return []reflect.Value{reflect.Zero(f.Type().Out(0))}[:f.Type().NumOut()]
			}))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Interface:
			switch f.Type() {
			case reflect.TypeFor[store.Store]():
				f.Set(reflect.ValueOf(store.NewMemory()))
			case reflect.TypeFor[Getter]():
				f.Set(reflect.ValueOf(&stubGetter{}))
			default:
				t.Fatalf("field %s: set it in this test", v.Type().Field(i).Name)
			}
		default:
			t.Fatalf("field %s of kind %s: set it in this test", v.Type().Field(i).Name, f.Kind())
		}
	}
	hc := &http.Client{}
	d := reflect.ValueOf(c.WithHTTP(hc)).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if !v.Type().Field(i).IsExported() {
			continue
		}
		got, want := d.Field(i), v.Field(i)
		switch {
		case name == "HTTP":
			assert.Same(t, hc, got.Interface())
		case want.Kind() == reflect.Func || want.Kind() == reflect.Pointer:
			assert.Equal(t, want.Pointer(), got.Pointer(), name)
		default:
			assert.Equal(t, want.Interface(), got.Interface(), name)
		}
	}
}

type stubGetter struct{}

func (*stubGetter) Get(context.Context, GetterRequest) error { return nil }

func TestHTTPClientAndRetryPolicy(t *testing.T) {
	c := &Client{Store: store.NewMemory(), Retries: 2, Backoff: time.Second, MaxRetryTime: time.Minute}
	p := c.RetryPolicy()
	assert.Equal(t, 2, p.Retries)
	assert.Equal(t, time.Second, p.Backoff)
	assert.Equal(t, time.Minute, p.MaxTime)
	hc := c.HTTPClient()
	require.NotNil(t, hc)
	assert.Same(t, hc, c.HTTPClient())
	assert.NotNil(t, hc.CheckRedirect, "the redirect policy comes along")
	assert.False(t, errors.Is(nil, ErrClientModified))
}

package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get returns the error of a GET with c, which must fail.
func get(t *testing.T, c *http.Client, u string) error {
	t.Helper()
	resp, err := c.Get(u)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET %s succeeded", u)
	}
	return err
}

func TestClassifyRealTransportErrors(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	wrongName := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "wrong.example"}}}

	for name, c := range map[string]struct {
		err  error
		want Class
	}{
		"x509 unknown authority": {get(t, &http.Client{}, tlsSrv.URL), Permanent},
		"x509 hostname mismatch": {get(t, wrongName, tlsSrv.URL), Permanent},
		"https to a plain port":  {get(t, &http.Client{}, strings.Replace(plain.URL, "http:", "https:", 1)), Permanent},
		"unsupported scheme":     {get(t, &http.Client{}, "ftp://127.0.0.1/x"), Permanent},
		"connection refused":     {get(t, &http.Client{}, closedURL), Unreachable},
		"client timeout": {get(t, &http.Client{Timeout: time.Millisecond, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { <-ctx.Done(); return nil, ctx.Err() }}},
			plain.URL), Transient},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, c.want, Classify(c.err), "%v", c.err)
		})
	}
}

func TestClassifyErrors(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: &osSyscallError{syscall.ECONNRESET}}
	dialTimeout := &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}
	for _, c := range []struct {
		err  error
		want Class
	}{
		{reset, Transient},
		{fmt.Errorf("reading body: %w", io.ErrUnexpectedEOF), Transient},
		{&net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}, Transient},
		{dialTimeout, Unreachable},
		{&net.DNSError{Err: "no such host", Name: "upstream.invalid", IsNotFound: true}, Unreachable},
		{fmt.Errorf("x: %w", syscall.EHOSTUNREACH), Unreachable},
		{context.Canceled, Permanent},
		// A deadline may be the request's own; Attempts.Wait asks the caller's ctx first.
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), Transient},
		{errors.New("disk full"), Permanent},
		{Mark(errors.New("locked by another writer"), Transient), Transient},
		{fmt.Errorf("outer: %w", Mark(reset, Permanent)), Permanent},
		{x509.UnknownAuthorityError{}, Permanent},
		{tls.AlertError(42), Permanent},
		{nil, Permanent},
	} {
		assert.Equal(t, c.want, Classify(c.err), "%v", c.err)
	}
	assert.Nil(t, Mark(nil, Transient))
	inner := errors.New("inner")
	assert.ErrorIs(t, Mark(inner, Transient), inner)
	assert.Equal(t, "inner", Mark(inner, Transient).Error())
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

type osSyscallError struct{ errno syscall.Errno }

func (e *osSyscallError) Error() string { return e.errno.Error() }
func (e *osSyscallError) Unwrap() error { return e.errno }

func TestClassifyStatus(t *testing.T) {
	for _, code := range []int{408, 425, 429, 500, 502, 503, 504} {
		assert.Equal(t, Transient, ClassifyStatus(code), "%d", code)
	}
	for _, code := range []int{300, 304, 400, 401, 403, 404, 405, 409, 410, 416, 451, 501, 505} {
		assert.Equal(t, Permanent, ClassifyStatus(code), "%d", code)
	}
	assert.Equal(t, "unreachable", Unreachable.String())
}

// sleeps records the waits of a Policy without waiting.
type sleeps struct{ waits []time.Duration }

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleeps) total() (d time.Duration) {
	for _, w := range s.waits {
		d += w
	}
	return d
}

// statusErr is a failure that carries its status and Retry-After, as fetch.HTTPError does.
type statusErr struct {
	code int
	ra   time.Duration
}

func (e statusErr) Error() string             { return fmt.Sprintf("status %d", e.code) }
func (e statusErr) RetryClass() Class         { return ClassifyStatus(e.code) }
func (e statusErr) RetryAfter() time.Duration { return e.ra }

func TestBackoffWithJitter(t *testing.T) {
	sl := &sleeps{}
	p := Policy{Retries: 5, Sleep: sl.sleep}
	n := 0
	err := p.Do(t.Context(), func(context.Context) error {
		n++
		return statusErr{code: 503}
	})
	require.ErrorAs(t, err, new(statusErr))
	assert.Contains(t, err.Error(), "after 6 attempts")
	assert.Equal(t, 6, n)
	require.Len(t, sl.waits, 5)
	for i, w := range sl.waits {
		d := DefaultBackoff << i
		assert.GreaterOrEqual(t, w, d/2, "wait %d", i)
		assert.LessOrEqual(t, w, d, "wait %d", i)
	}
}

func TestPermanentIsNotRetried(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404, 410} {
		sl := &sleeps{}
		n := 0
		err := Policy{Sleep: sl.sleep}.Do(t.Context(), func(context.Context) error { n++; return statusErr{code: code} })
		assert.Equal(t, statusErr{code: code}, err, "a single attempt's error is returned as it is")
		assert.Equal(t, 1, n, "%d", code)
		assert.Empty(t, sl.waits)
	}
	// Transient, then permanent: the attempts are noted.
	n := 0
	err := Policy{Sleep: (&sleeps{}).sleep}.Do(t.Context(), func(context.Context) error {
		n++
		if n == 1 {
			return statusErr{code: 503}
		}
		return statusErr{code: 404}
	})
	assert.ErrorContains(t, err, "status 404 (after 2 attempts)")
}

func TestUnreachableRetriedOnce(t *testing.T) {
	sl := &sleeps{}
	n := 0
	refused := fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
	err := Policy{Retries: 10, Sleep: sl.sleep}.Do(t.Context(), func(context.Context) error { n++; return refused })
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Equal(t, 2, n)
	assert.Len(t, sl.waits, 1)
}

func TestRetryAfterAndItsCap(t *testing.T) {
	sl := &sleeps{}
	n := 0
	err := Policy{Backoff: time.Millisecond, MaxRetryAfter: time.Minute, Sleep: sl.sleep}.Do(t.Context(), func(context.Context) error {
		n++
		switch n {
		case 1:
			return statusErr{code: 429, ra: 3 * time.Second}
		case 2:
			return statusErr{code: 503, ra: time.Hour}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{3 * time.Second, time.Minute}, sl.waits)
}

// Issue #19: Retry-After of 5 minutes four times kept a dead upstream alive for 20.
func TestTimeBudgetCapsRetries(t *testing.T) {
	sl := &sleeps{}
	n := 0
	err := Policy{MaxTime: 5 * time.Minute, Sleep: sl.sleep}.Do(t.Context(), func(context.Context) error {
		n++
		return statusErr{code: 503, ra: 2 * time.Minute}
	})
	require.ErrorIs(t, err, ErrGaveUp)
	require.ErrorAs(t, err, new(statusErr), "the last failure stays matchable")
	assert.Contains(t, err.Error(), "gave up after 3 attempts")
	assert.Equal(t, []time.Duration{2 * time.Minute, 2 * time.Minute}, sl.waits)
	assert.LessOrEqual(t, sl.total(), 5*time.Minute)
	assert.Equal(t, 3, n)
}

func TestProgressRestartsCountAndBudget(t *testing.T) {
	sl := &sleeps{}
	a := Policy{Retries: 1, MaxTime: 3 * time.Second, Sleep: sl.sleep}.Start()
	cut := Mark(io.ErrUnexpectedEOF, Transient)
	for range 5 {
		require.NoError(t, a.Wait(t.Context(), Transient, 2*time.Second, cut))
		a.Progress()
	}
	require.NoError(t, a.Wait(t.Context(), Transient, 0, cut))
	err := a.Wait(t.Context(), Transient, 0, cut)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "after 7 attempts")
	assert.Equal(t, 7, a.Failed())
}

func TestNoRetries(t *testing.T) {
	n := 0
	err := Policy{Retries: -1}.Do(t.Context(), func(context.Context) error { n++; return statusErr{code: 503} })
	assert.Equal(t, statusErr{code: 503}, err)
	assert.Equal(t, 1, n)
}

func TestCancelDuringWaitKeepsBothCauses(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	start := time.Now()
	err := Policy{Backoff: time.Hour, MaxBackoff: time.Hour, MaxTime: 2 * time.Hour}.Do(ctx, func(context.Context) error {
		time.AfterFunc(10*time.Millisecond, cancel)
		return statusErr{code: 503}
	})
	assert.Less(t, time.Since(start), time.Minute, "the sleep ends with ctx")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorAs(t, err, new(statusErr))

	// Already cancelled: the attempt's own ctx error is returned as it is.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	err = Policy{}.Do(ctx, func(ctx context.Context) error { return fmt.Errorf("get: %w", ctx.Err()) })
	assert.EqualError(t, err, "get: context canceled")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1", time.Second, true},
		{" 30 ", 30 * time.Second, true},
		{"0", 0, true},
		{"99999999999", 24 * time.Hour, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"", 0, false},
		{"Tue, 24 Nov 2026 10:01:00 GMT", time.Minute, true},
		{"Tuesday, 24-Nov-26 10:02:00 GMT", 2 * time.Minute, true},
		{"Tue Nov 24 10:00:30 2026", 30 * time.Second, true},
		{"Tue, 24 Nov 2026 09:00:00 GMT", 0, true},
		{"tomorrow", 0, false},
	} {
		d, ok := ParseRetryAfter(tc.in, now)
		if d != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, d, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "120", "0", "", " 7 ", "-1", "1.5", "99999999999999999999",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "soon"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if !ok && d != 0 {
			t.Fatalf("%q: not ok but %v", s, d)
		}
		if d < 0 || d > 24*time.Hour {
			t.Fatalf("%q: wait %v out of range", s, d)
		}
	})
}

package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults for the zero Policy.
const (
	// DefaultRetries is Policy.Retries when zero: 5 attempts in all.
	DefaultRetries = 4
	// DefaultBackoff is Policy.Backoff when zero: the first retry waits 250-500ms.
	DefaultBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff is Policy.MaxBackoff when zero.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultMaxRetryAfter is Policy.MaxRetryAfter when zero.
	DefaultMaxRetryAfter = 5 * time.Minute
	// DefaultMaxTime is Policy.MaxTime when zero.
	DefaultMaxTime = 5 * time.Minute
)

// ErrGaveUp is matched by the error of a request that was still failing transiently when
// its time budget (Policy.MaxTime) was spent. The error also wraps the last failure.
var ErrGaveUp = errors.New("retry: time budget spent")

// Class says whether a failure can succeed on another attempt.
type Class int

const (
	// Permanent failures fail the same way every time: TLS and certificate errors, an
	// unsupported scheme, a refused redirect, and HTTP statuses other than the transient
	// ones (400, 401, 403, 404, 410, ...). They are not retried.
	Permanent Class = iota
	// Transient failures may succeed later: 408, 425, 429, 500, 502, 503, 504, timeouts,
	// connections reset or cut short.
	Transient
	// Unreachable failures say the host cannot be reached now: connection refused, no
	// route, a connect timeout, a failed DNS lookup. They are retried once at most, so
	// that an upstream that is down fails fast.
	Unreachable
)

// String names the class.
func (c Class) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case Transient:
		return "transient"
	case Unreachable:
		return "unreachable"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// ClassifyStatus classifies an HTTP status that was not what the request wanted.
func ClassifyStatus(code int) Class {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return Transient
	}
	return Permanent
}

// Classifier is implemented by errors that know their class (an HTTP status error, an
// error given a class with Mark); Classify asks the first one in the chain.
type Classifier interface {
	RetryClass() Class
}

// Mark returns err with class c: Classify(Mark(err, c)) is c. errors.Is and errors.As see
// err through it.
func Mark(err error, c Class) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, class: c}
}

type marked struct {
	err   error
	class Class
}

func (m *marked) Error() string     { return m.err.Error() }
func (m *marked) Unwrap() error     { return m.err }
func (m *marked) RetryClass() Class { return m.class }

// Classify classifies the error of a failed request: from an http.Client (Do) or an
// http.RoundTripper, or one carrying its own class (Classifier, Mark). Errors it does not
// recognise are Permanent, except those that come out of an http.Client (*url.Error),
// which are network failures and Transient unless recognised as permanent.
func Classify(err error) Class {
	if err == nil {
		return Permanent
	}
	var cl Classifier
	if errors.As(err, &cl) {
		return cl.RetryClass()
	}
	if permanentTransport(err) {
		return Permanent
	}
	if unreachable(err) {
		return Unreachable
	}
	if errors.Is(err, context.Canceled) {
		return Permanent // the caller gave up: another attempt cannot help
	}
	// Timeouts, including http.Client.Timeout and context.DeadlineExceeded: a deadline
	// of the request's own may pass next time. (Whether the caller's context is done is
	// for the caller to ask; Attempts.Wait does.)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Transient
	}
	var ue *url.Error
	switch {
	case errors.As(err, &ue), errors.As(err, &ne),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return Transient
	}
	return Permanent
}

// permanentTransport recognises transport failures that repeat on every attempt: the
// certificate or the TLS handshake is refused, or the scheme is not one HTTP speaks.
func permanentTransport(err error) bool {
	var (
		unknownCA  x509.UnknownAuthorityError
		hostname   x509.HostnameError
		invalid    x509.CertificateInvalidError
		constraint x509.ConstraintViolationError
		critical   x509.UnhandledCriticalExtension
		insecure   x509.InsecureAlgorithmError
		roots      x509.SystemRootsError
		verify     *tls.CertificateVerificationError
		record     tls.RecordHeaderError
		alert      tls.AlertError
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &constraint), errors.As(err, &critical), errors.As(err, &insecure),
		errors.As(err, &roots), errors.As(err, &verify), errors.As(err, &record), errors.As(err, &alert):
		return true
	}
	// net/http reports these with unexported error values.
	msg := err.Error()
	return strings.Contains(msg, "unsupported protocol scheme") ||
		strings.Contains(msg, "server gave HTTP response to HTTPS client")
}

// unreachable recognises a host that cannot be reached: nothing to talk to yet.
func unreachable(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTDOWN) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" && op.Timeout()
}

// ParseRetryAfter reads a Retry-After header (RFC 9110 10.2.3): delay-seconds or an
// HTTP-date, relative to now. A date in the past is a zero wait; values are clamped to
// [0, 24h] (the caller caps them further). ok is false when the header is missing or
// unreadable.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	const limit = 24 * time.Hour
	if isDigits(v) {
		if len(v) > 6 { // over 11 days: as good as infinite
			return limit, true
		}
		n, _ := strconv.Atoi(v)
		return min(time.Duration(n)*time.Second, limit), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), limit), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Policy is how one request is retried. The zero value is the SDK's default policy; every
// field's zero means its Default constant.
type Policy struct {
	// Retries is how many times a transient failure is retried (Unreachable ones once at
	// most). Zero: DefaultRetries. Negative: never.
	Retries int
	// Backoff is the wait before the first retry; it doubles per retry up to MaxBackoff,
	// and each wait is drawn between half of it and all of it (jitter).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// MaxRetryAfter caps one wait that a server asks for with Retry-After.
	MaxRetryAfter time.Duration
	// MaxTime caps the time one request spends retrying: the waits and the attempts after
	// the first failure. A retry that would go over it is not made; the error then matches
	// ErrGaveUp. Progress (a resumed download moving forward) starts it again.
	MaxTime time.Duration
	// Sleep waits between attempts. Nil: a timer that stops when ctx is done. Tests set it
	// to observe or skip the waits; it must return ctx.Err() when ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Start begins the attempts of one request.
func (p Policy) Start() *Attempts { return &Attempts{p: p} }

// Do calls attempt until it succeeds, fails permanently, or the policy gives up, waiting
// between attempts as the policy says. attempt's error is classified with Classify (return
// a Classifier or use Mark to decide yourself); an error with a RetryAfter() method gives
// the server's wait.
func (p Policy) Do(ctx context.Context, attempt func(ctx context.Context) error) error {
	a := p.Start()
	for {
		err := attempt(ctx)
		if err == nil {
			return nil
		}
		if err := a.Retry(ctx, err); err != nil {
			return err
		}
	}
}

// Attempts tracks the attempts of one request under a Policy. It is not safe for
// concurrent use.
type Attempts struct {
	p           Policy
	failed      int // attempts that failed
	counted     int // failures counted against Retries since the last progress
	unreachable int
	spent       time.Duration // in retries since the last progress
	resumed     time.Time     // when the attempt after the last wait began
}

// Failed returns how many attempts have failed.
func (a *Attempts) Failed() int { return a.failed }

// Progress records that the last attempt moved a resumable transfer forward: the retry
// count and the time budget start again.
func (a *Attempts) Progress() {
	a.counted, a.spent, a.resumed = 0, 0, time.Time{}
}

// RetryAfterer is implemented by errors that carry a server's requested wait.
type RetryAfterer interface {
	RetryAfter() time.Duration
}

// Retry is Wait with err's class (Classify) and the wait its server asked for (an error
// in the chain with a RetryAfter method).
func (a *Attempts) Retry(ctx context.Context, err error) error {
	var ra RetryAfterer
	var wait time.Duration
	if errors.As(err, &ra) {
		wait = ra.RetryAfter()
	}
	return a.Wait(ctx, Classify(err), wait, err)
}

// Wait decides after a failed attempt (err, of class c; retryAfter is what the server
// asked for, 0 for nothing). It returns nil when the request should be made again, after
// having waited; otherwise the error to fail with:
//   - err itself for a Permanent failure (noting the attempts when there were several);
//   - err noting the attempts when the retries are spent;
//   - an error matching both err and ErrGaveUp when the next wait would go over MaxTime;
//   - an error matching both ctx's error and err when ctx ends, before or during the wait.
func (a *Attempts) Wait(ctx context.Context, c Class, retryAfter time.Duration, err error) error {
	if !a.resumed.IsZero() {
		a.spent += time.Since(a.resumed)
		a.resumed = time.Time{}
	}
	a.failed++
	if ctx.Err() != nil {
		return a.cancelled(ctx, err)
	}
	retries := a.p.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	switch {
	case c == Permanent:
		return a.final(err)
	case retries < 0, a.counted >= retries:
		return a.final(err)
	case c == Unreachable:
		if a.unreachable >= 1 {
			return a.final(err)
		}
		a.unreachable++
	}
	wait := a.backoff()
	if retryAfter > 0 {
		wait = max(wait, min(retryAfter, orDefault(a.p.MaxRetryAfter, DefaultMaxRetryAfter)))
	}
	if budget := orDefault(a.p.MaxTime, DefaultMaxTime); a.spent+wait > budget {
		return fmt.Errorf("%w (gave up after %d attempts: %w: %s spent retrying, the next wait of %s would exceed %s)",
			err, a.failed, ErrGaveUp, a.spent.Round(time.Millisecond), wait.Round(time.Millisecond), budget)
	}
	a.counted++
	if serr := a.sleep(ctx, wait); serr != nil || ctx.Err() != nil {
		return a.cancelled(ctx, err)
	}
	a.spent += wait
	a.resumed = time.Now()
	return nil
}

func (a *Attempts) final(err error) error {
	if a.failed > 1 {
		return fmt.Errorf("%w (after %d attempts)", err, a.failed)
	}
	return err
}

func (a *Attempts) cancelled(ctx context.Context, err error) error {
	if errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("%w (after: %w)", ctx.Err(), err)
}

// backoff is the wait before the next counted retry: exponential with equal jitter (half
// fixed, half random, so waits never collapse to zero).
func (a *Attempts) backoff() time.Duration {
	base := orDefault(a.p.Backoff, DefaultBackoff)
	maxb := orDefault(a.p.MaxBackoff, DefaultMaxBackoff)
	d := base
	for i := 0; i < a.counted && d < maxb; i++ {
		d *= 2
	}
	d = min(d, maxb)
	return d/2 + rand.N(d/2+1)
}

func (a *Attempts) sleep(ctx context.Context, d time.Duration) error {
	if a.p.Sleep != nil {
		return a.p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package snapproxy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
)

// Files of a published snapshot besides the snaps' pairs.
const (
	// AssertionsFile holds Mirror.Assertions with the account-keys and accounts they
	// need, in the order `snap ack` takes them (root keys left out: snapd builds them in
	// and refuses to add them again).
	AssertionsFile = "assertions.assert"
	// StoreFile holds the store assertion of Mirror.StoreAssertion with its chain, as
	// devices `snap ack` it.
	StoreFile = "store.assert"
	// RootsFile holds the trusted root account-keys the chains were verified to: served
	// by the store API like the store serves them, not for `snap ack`.
	RootsFile = "roots.assert"
)

// extraSet is what a sync publishes besides the snaps' pairs.
type extraSet struct {
	assertions []*Assertion
	store      []*Assertion
	storeID    string
	roots      []*Assertion
}

// parseAssertionRef splits "type/key/..." into the type and its primary key, which must
// have as many parts as the type's key (a trailing one with a default may be left out).
func parseAssertionRef(ref string) (string, []string, error) {
	parts := strings.Split(ref, "/")
	names, ok := primaryKeys[parts[0]]
	if !ok {
		return "", nil, fmt.Errorf("%w: assertion %q: unknown type %q", ErrConfig, ref, parts[0])
	}
	keys := parts[1:]
	n := len(names)
	if _, opt := optionalKey[parts[0]][names[n-1]]; opt && len(keys) == n-1 {
		n--
	}
	if len(keys) != n || strings.Contains(ref, "//") || strings.HasSuffix(ref, "/") {
		return "", nil, fmt.Errorf("%w: assertion %q: want %s/%s", ErrConfig, ref, parts[0], strings.Join(names, "/"))
	}
	return parts[0], keys, nil
}

// extraAssertions fetches Mirror.Assertions, reads Mirror.StoreAssertion, completes both
// chains from the store and verifies them.
func (r *syncRun) extraAssertions(ctx context.Context) (*extraSet, error) {
	x := &extraSet{}
	if r.trust != nil && !r.m.InsecureSkipSignature {
		x.roots = r.trust.Roots()
	}
	var wanted []*Assertion
	for _, ref := range r.m.Assertions {
		typ, keys, err := parseAssertionRef(ref)
		if err != nil {
			return nil, err
		}
		a, err := r.assertion(ctx, typ, keys...)
		if err != nil {
			return nil, fmt.Errorf("snapproxy: assertion %s: %w", ref, err)
		}
		wanted = append(wanted, a)
	}
	var err error
	if x.assertions, err = r.chain(ctx, wanted); err != nil {
		return nil, err
	}
	if r.m.StoreAssertion == "" {
		return x, nil
	}
	b, err := os.ReadFile(r.m.StoreAssertion)
	if err != nil {
		return nil, fmt.Errorf("snapproxy: store assertion: %w", err)
	}
	given, err := DecodeAll(bytes.NewReader(b), 64)
	if err != nil {
		return nil, fmt.Errorf("snapproxy: store assertion %s: %w", r.m.StoreAssertion, err)
	}
	for _, a := range given {
		if a.Type() == "store" {
			if x.storeID != "" {
				return nil, fmt.Errorf("%w: %s holds more than one store assertion", ErrConfig, r.m.StoreAssertion)
			}
			x.storeID = a.Header("store")
		}
	}
	if x.storeID == "" {
		return nil, fmt.Errorf("%w: %s holds no store assertion", ErrConfig, r.m.StoreAssertion)
	}
	if x.store, err = r.chain(ctx, given); err != nil {
		return nil, fmt.Errorf("snapproxy: store assertion %s: %w", r.m.StoreAssertion, err)
	}
	return x, nil
}

// accountHeaders name, per type, the headers whose account snapd needs before the
// assertion (authority-id for all).
var accountHeaders = map[string][]string{
	"account-key":      {"account-id"},
	"model":            {"brand-id"},
	"serial":           {"brand-id"},
	"snap-declaration": {"publisher-id"},
	"snap-developer":   {"publisher-id"},
	"snap-revision":    {"developer-id"},
	"store":            {"operator-id"},
	"system-user":      {"brand-id"},
	"validation-set":   {"account-id"},
}

// maxChain caps the assertions one chain may bring.
const maxChain = 64

// chain returns as with what `snap ack` needs before each of them, prerequisites first:
// the account-key of its signer (up to a trusted root, roots left out) and the accounts
// it names; fetched from the store where as lacks them, and verified unless signatures
// are skipped.
func (r *syncRun) chain(ctx context.Context, as []*Assertion) ([]*Assertion, error) {
	have := map[string]*Assertion{}
	for _, a := range as {
		have[a.String()] = a
	}
	get := func(typ, key string) (*Assertion, error) {
		if a := have[typ+"/"+key]; a != nil {
			return a, nil
		}
		a, err := r.assertion(ctx, typ, key)
		if err == nil {
			have[a.String()] = a
		}
		return a, err
	}
	var out []*Assertion
	visited := map[string]bool{}
	var visit func(a *Assertion) error
	visit = func(a *Assertion) error {
		if visited[a.String()] {
			return nil
		}
		visited[a.String()] = true
		if len(visited) > maxChain {
			return fmt.Errorf("%w: the chain of %s has more than %d assertions", ErrTooLarge, a, maxChain)
		}
		if id := a.SignKeyID(); !r.isRoot(id) {
			k, err := get("account-key", id)
			if err != nil {
				return fmt.Errorf("snapproxy: %s: signing key: %w", a, err)
			}
			if err := visit(k); err != nil {
				return err
			}
		}
		ids := []string{a.AuthorityID()}
		for _, h := range accountHeaders[a.Type()] {
			ids = append(ids, a.Header(h))
		}
		for _, id := range ids {
			if id == "" || a.Type() == "account" && a.Header("account-id") == id {
				continue
			}
			acc, err := get("account", id)
			if err != nil {
				return fmt.Errorf("snapproxy: %s: account %s: %w", a, id, err)
			}
			if err := visit(acc); err != nil {
				return err
			}
		}
		out = append(out, a)
		return nil
	}
	for _, a := range as {
		if err := visit(a); err != nil {
			return nil, err
		}
	}
	if r.trust != nil && !r.m.InsecureSkipSignature {
		if err := r.trust.Verify(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Trust is what a sync accepts as verified: its trust roots (the keyrings, root keys and
// upstreams it believes, each named with what identifies its content) and every setting
// that loosens a check, on or off. Update records it with each generation it publishes;
// a sync whose Trust differs from the recorded one is handed no previous snapshot to
// reuse, so it verifies everything again and cannot answer "not modified" (see Prev).
//
// Build one with TrustOf, which finds the switches in a configuration struct by
// reflection: a switch added to the configuration later is covered without anyone
// remembering to add it. The zero Trust is not usable; Update refuses it.
type Trust struct {
	roots    map[string]string
	switches map[string]string
	err      error
	built    bool
}

// trustPrefixes name the bool fields that TrustOf takes for switches. Counting a field
// that does not loosen anything (AllowUnsatisfied) only costs one full resync when it
// is toggled; missing one that does would let a sync reuse what it did not verify, so the
// rule errs on the side of inclusion.
var trustPrefixes = []string{"Insecure", "Allow", "Skip"}

// TrustOf returns the Trust of a configuration: cfg is a struct or a pointer to one (a
// package's Mirror). Its switches are every exported bool field whose name begins with
// Insecure, Allow or Skip, and every exported bool, string or integer field tagged
// `trust:""` (for settings named otherwise, such as PlainHTTP), found also in embedded
// and nested structs and in slices and string-keyed maps of structs ("Registries[0].PlainHTTP").
// Pointers, interfaces and funcs are not followed: keyrings and clients enter as roots
// (WithRoot). Order in a slice counts: reordering one costs a full resync.
func TrustOf(cfg any) Trust {
	t := Trust{switches: map[string]string{}, built: true}
	v := reflect.ValueOf(cfg)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		t.err = fmt.Errorf("%w: TrustOf needs a struct, got %T", ErrConfig, cfg)
		return t
	}
	collectSwitches(v, "", t.switches)
	return t
}

func collectSwitches(v reflect.Value, prefix string, out map[string]string) {
	switch v.Kind() {
	case reflect.Struct:
		ty := v.Type()
		for i := range ty.NumField() {
			f := ty.Field(i)
			if !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			if f.Anonymous {
				if fv.Kind() == reflect.Struct { // promoted fields keep their own names
					collectSwitches(fv, prefix, out)
				}
				continue
			}
			name := prefix + f.Name
			_, tagged := f.Tag.Lookup("trust")
			switch fv.Kind() {
			case reflect.Bool:
				if tagged || hasTrustPrefix(f.Name) {
					out[name] = fmt.Sprint(fv.Bool())
				}
			case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				if tagged {
					out[name] = fmt.Sprint(fv.Interface())
				}
			case reflect.Struct, reflect.Slice, reflect.Array, reflect.Map:
				collectSwitches(fv, name+".", out)
			}
		}
	case reflect.Slice, reflect.Array:
		if !holdsStructs(v.Type().Elem()) {
			return
		}
		p := strings.TrimSuffix(prefix, ".")
		for i := range v.Len() {
			collectSwitches(v.Index(i), fmt.Sprintf("%s[%d].", p, i), out)
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String || !holdsStructs(v.Type().Elem()) {
			return
		}
		p := strings.TrimSuffix(prefix, ".")
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			collectSwitches(v.MapIndex(k), fmt.Sprintf("%s[%s].", p, k.String()), out)
		}
	}
}

func holdsStructs(t reflect.Type) bool { return t.Kind() == reflect.Struct }

func hasTrustPrefix(name string) bool {
	for _, p := range trustPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// WithRoot returns t with a trust root added (or replaced): name says what it is
// ("keyring", "upstream"), id identifies its content, for example a keyring's digest
// (pgp.Keyring.Digest) or the upstream URL whose checksums are believed.
func (t Trust) WithRoot(name, id string) Trust {
	t.roots = maps.Clone(t.roots)
	if t.roots == nil {
		t.roots = map[string]string{}
	}
	t.roots[name] = id
	return t
}

// Switches returns the recorded switches by name ("InsecureSkipSignature" -> "false").
func (t Trust) Switches() map[string]string { return maps.Clone(t.switches) }

// Roots returns the trust roots by name.
func (t Trust) Roots() map[string]string { return maps.Clone(t.roots) }

// IsZero reports whether t was never built (a generation published before trust was
// recorded, or a Trust{} literal).
func (t Trust) IsZero() bool { return !t.built }

// Fingerprint is a digest of t in canonical form: equal for equal settings, whatever
// order they were found or added in.
func (t Trust) Fingerprint() string {
	b, _ := json.Marshal(t) // maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Diff lists how t differs from recorded, one entry per root or switch
// ("InsecureSkipSignature: true -> false", "root keyring: changed"), sorted; nil when
// they are equal.
func (t Trust) Diff(recorded Trust) []string {
	if recorded.IsZero() {
		return []string{"no trust settings recorded"}
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(union(t.roots, recorded.roots))) {
		was, had := recorded.roots[name]
		now, has := t.roots[name]
		switch {
		case !had:
			out = append(out, "root "+name+": added")
		case !has:
			out = append(out, "root "+name+": removed")
		case was != now:
			out = append(out, "root "+name+": changed")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(union(t.switches, recorded.switches))) {
		was, had := recorded.switches[name]
		now, has := t.switches[name]
		if !had {
			was = "(unset)"
		}
		if !has {
			now = "(unset)"
		}
		if was != now {
			out = append(out, name+": "+was+" -> "+now)
		}
	}
	return out
}

func union(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

type trustJSON struct {
	Roots    map[string]string `json:"roots,omitempty"`
	Switches map[string]string `json:"switches,omitempty"`
}

// MarshalJSON writes t in its canonical form (sorted keys), as generation records hold it.
func (t Trust) MarshalJSON() ([]byte, error) {
	return json.Marshal(trustJSON{Roots: t.roots, Switches: t.switches})
}

// UnmarshalJSON reads a recorded Trust.
func (t *Trust) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Trust{} // not recorded
		return nil
	}
	var j trustJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*t = Trust{roots: j.Roots, switches: j.Switches, built: true}
	if t.switches == nil {
		t.switches = map[string]string{}
	}
	return nil
}

// check reports a Trust that Update cannot record.
func (t Trust) check() error {
	if t.err != nil {
		return t.err
	}
	if !t.built {
		return errors.New("store: a Trust must be built with TrustOf")
	}
	return nil
}

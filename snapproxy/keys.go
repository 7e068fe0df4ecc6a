package snapproxy

// primaryKeys lists, per assertion type, the headers that name an assertion in
// /v2/assertions/{type}/{key...}, in order; optionalKey the trailing ones that have a
// default, left out of the path when they hold it.
var primaryKeys = map[string][]string{
	"account":          {"account-id"},
	"account-key":      {"public-key-sha3-384"},
	"base-declaration": {"series"},
	"model":            {"series", "brand-id", "model"},
	"repair":           {"brand-id", "repair-id"},
	"serial":           {"brand-id", "model", "serial"},
	"snap-build":       {"snap-sha3-384"},
	"snap-declaration": {"series", "snap-id"},
	"snap-developer":   {"snap-id", "publisher-id"},
	"snap-revision":    {"snap-sha3-384", "provenance"},
	"store":            {"store"},
	"system-user":      {"brand-id", "email"},
	"validation":       {"series", "snap-id", "approved-snap-id", "approved-snap-revision"},
	"validation-set":   {"series", "account-id", "name", "sequence"},
}

var optionalKey = map[string]map[string]string{
	"snap-revision": {"provenance": "global-upload"},
}

// primaryKey returns the path key of a: its primary-key headers in order, trailing ones
// that hold their default left out; nil for a type not listed or a key header missing.
func primaryKey(a *Assertion) []string {
	names, ok := primaryKeys[a.Type()]
	if !ok {
		return nil
	}
	out := make([]string, len(names))
	for i, n := range names {
		v := a.Header(n)
		if v == "" {
			if def, ok := optionalKey[a.Type()][n]; ok && i == len(names)-1 {
				v = def
			} else {
				return nil
			}
		}
		out[i] = v
	}
	for len(out) > 0 {
		last := names[len(out)-1]
		if def, ok := optionalKey[a.Type()][last]; ok && out[len(out)-1] == def {
			out = out[:len(out)-1]
			continue
		}
		break
	}
	return out
}

// sequenceForming lists the types whose last primary key is a sequence number, and which
// fetch-assertions can ask for by the rest of the key (the latest sequence).
var sequenceForming = map[string]bool{"validation-set": true}

package snapproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxEpochs caps the read and write lists of an epoch.
const maxEpochs = 64

// Epoch says which data formats a snap revision reads and writes. A revision can replace
// an installed one when it reads one of the epochs the installed one writes. The zero
// value is epoch 0 (reads and writes [0]).
type Epoch struct {
	Read  []uint32 `json:"read"`
	Write []uint32 `json:"write"`
}

func (e Epoch) read() []uint32 {
	if len(e.Read) == 0 {
		return []uint32{0}
	}
	return e.Read
}

func (e Epoch) write() []uint32 {
	if len(e.Write) == 0 {
		return []uint32{0}
	}
	return e.Write
}

// CanRead reports whether a revision with epoch e can take over the data of one with
// epoch other: e reads an epoch other writes.
func (e Epoch) CanRead(other Epoch) bool {
	for _, w := range other.write() {
		if slices.Contains(e.read(), w) {
			return true
		}
	}
	return false
}

// MarshalJSON writes the store's form, {"read": [...], "write": [...]}.
func (e Epoch) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Read  []uint32 `json:"read"`
		Write []uint32 `json:"write"`
	}{e.read(), e.write()})
}

// UnmarshalJSON reads the store's form (null is epoch 0). Both lists must be non-empty,
// increasing and of at most 64 entries (ErrMalformed).
func (e *Epoch) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*e = Epoch{}
		return nil
	}
	var v struct {
		Read  []uint32 `json:"read"`
		Write []uint32 `json:"write"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%w: epoch %s: %v", ErrMalformed, b, err)
	}
	ep := Epoch{Read: v.Read, Write: v.Write}
	if err := ep.validate(); err != nil {
		return err
	}
	*e = ep
	return nil
}

func (e Epoch) validate() error {
	for _, l := range [][]uint32{e.Read, e.Write} {
		if len(l) == 0 || len(l) > maxEpochs {
			return fmt.Errorf("%w: epoch read and write need 1 to %d entries", ErrMalformed, maxEpochs)
		}
		for i := 1; i < len(l); i++ {
			if l[i] <= l[i-1] {
				return fmt.Errorf("%w: epoch lists must increase", ErrMalformed)
			}
		}
	}
	return nil
}

// String is the short form snap.yaml uses: "0", "2*" (reads 1 and 2, writes 2), or the
// lists.
func (e Epoch) String() string {
	r, w := e.read(), e.write()
	if len(w) == 1 && len(r) == 1 && r[0] == w[0] {
		return strconv.FormatUint(uint64(w[0]), 10)
	}
	if len(w) == 1 && w[0] > 0 && len(r) == 2 && r[0] == w[0]-1 && r[1] == w[0] {
		return strconv.FormatUint(uint64(w[0]), 10) + "*"
	}
	return fmt.Sprintf("read %v write %v", r, w)
}

// epochOf reads the epoch key of a snap.yaml as YAML decodes it: absent (epoch 0), a
// number, "N" or "N*", or a map of read and write lists.
func epochOf(v any) (Epoch, error) {
	switch x := v.(type) {
	case nil:
		return Epoch{}, nil
	case int:
		return epochOf(strconv.Itoa(x))
	case string:
		n, star := strings.CutSuffix(x, "*")
		u, err := strconv.ParseUint(n, 10, 32)
		if err != nil || star && u == 0 {
			return Epoch{}, fmt.Errorf("%w: epoch %q", ErrMalformed, x)
		}
		e := Epoch{Read: []uint32{uint32(u)}, Write: []uint32{uint32(u)}}
		if star {
			e.Read = []uint32{uint32(u) - 1, uint32(u)}
		}
		return e, nil
	case map[string]any:
		var e Epoch
		for key, dst := range map[string]*[]uint32{"read": &e.Read, "write": &e.Write} {
			list, ok := x[key].([]any)
			if !ok {
				return Epoch{}, fmt.Errorf("%w: epoch %s is not a list", ErrMalformed, key)
			}
			for _, item := range list {
				n, ok := item.(int)
				if !ok || n < 0 || n > 1<<32-1 {
					return Epoch{}, fmt.Errorf("%w: epoch %s entry %v", ErrMalformed, key, item)
				}
				*dst = append(*dst, uint32(n))
			}
		}
		if len(x) != 2 {
			return Epoch{}, fmt.Errorf("%w: epoch has keys other than read and write", ErrMalformed)
		}
		return e, e.validate()
	}
	return Epoch{}, fmt.Errorf("%w: epoch %v", ErrMalformed, v)
}

package simplestreams

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/airgapkit/airgap/store/pgp"
)

// FormatUpdated formats t the way simplestreams writes `updated`: RFC 2822
// ("Tue, 24 Nov 2026 09:55:57 +0000").
func FormatUpdated(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

// SetUpdated sets the document's `updated` field.
func (p *Products) SetUpdated(t time.Time) {
	p.Updated = FormatUpdated(t)
	p.set(fieldUpdated, p.Updated)
}

// Set sets a string or integer field on the item (e.g. path, size, sha256).
func (it *Item) Set(key string, value any) { it.set(key, value) }

func objectWith(fields map[string]any, childKey string, child any) map[string]any {
	m := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		m[k] = v
	}
	if childKey != "" {
		m[childKey] = child
	}
	return m
}

// MarshalJSON encodes the document: its fields as they came (with any changes made
// through SetUpdated and Item.Set) and its products.
func (p *Products) MarshalJSON() ([]byte, error) {
	return json.Marshal(objectWith(p.fields, fieldProducts, p.Products))
}

// MarshalJSON encodes the product with its versions.
func (p *Product) MarshalJSON() ([]byte, error) {
	return json.Marshal(objectWith(p.fields, fieldVersions, p.Versions))
}

// MarshalJSON encodes the version with its items.
func (v *Version) MarshalJSON() ([]byte, error) {
	return json.Marshal(objectWith(v.fields, fieldItems, v.Items))
}

// MarshalJSON encodes the item's fields.
func (it *Item) MarshalJSON() ([]byte, error) { return json.Marshal(objectWith(it.fields, "", nil)) }

// MarshalJSON encodes the index.
func (ix *Index) MarshalJSON() ([]byte, error) {
	return json.Marshal(objectWith(ix.fields, fieldIndex, ix.Entries))
}

// MarshalJSON encodes one index entry.
func (e *IndexEntry) MarshalJSON() ([]byte, error) {
	return json.Marshal(objectWith(e.fields, "", nil))
}

// encodeDocument renders v as an indented JSON document with keys sorted and a final
// newline: stable bytes for the same content, and no line that clearsigning would alter.
func encodeDocument(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// NewIndex returns an empty index:1.0 document updated at t.
func NewIndex(t time.Time) *Index {
	ix := &Index{node: newEmptyNode(), Entries: map[string]*IndexEntry{}}
	ix.Format = FormatIndex
	ix.set("format", FormatIndex)
	ix.Updated = FormatUpdated(t)
	ix.set(fieldUpdated, ix.Updated)
	return ix
}

// IndexEntryFor returns an index entry describing p at path: the content ID, format,
// datatype and updated of the document, and the sorted names of its products. Fields of
// base (an upstream entry, may be nil) are kept when p does not override them, except its
// size and checksums, which describe base's document, not p's.
func IndexEntryFor(p *Products, path string, base *IndexEntry) *IndexEntry {
	e := &IndexEntry{ContentID: p.ContentID, Path: path, Format: FormatProducts, Datatype: p.Datatype, Updated: p.Updated}
	if base != nil {
		e.node = base.node.clone()
		delete(e.fields, fieldSize)
		for _, alg := range checksumFields {
			delete(e.fields, string(alg))
		}
		if e.ContentID == "" {
			e.ContentID = base.ContentID
		}
		if e.Datatype == "" {
			e.Datatype = base.Datatype
		}
	} else {
		e.node = newEmptyNode()
	}
	e.Products = slices.Sorted(maps.Keys(p.Products))
	e.set(fieldPath, path)
	e.set("format", FormatProducts)
	if e.Datatype != "" {
		e.set("datatype", e.Datatype)
	}
	if e.Updated != "" {
		e.set(fieldUpdated, e.Updated)
	}
	e.fields[fieldProducts] = e.Products
	return e
}

// EncodeProducts renders a products document as written to a mirror.
func EncodeProducts(p *Products) ([]byte, error) { return encodeDocument(p) }

// EncodeIndex renders an index document as written to a mirror.
func EncodeIndex(ix *Index) ([]byte, error) { return encodeDocument(ix) }

// docBase strips the .sjson or .json extension of a document path.
func docBase(p string) string {
	for _, ext := range [...]string{".sjson", ".json"} {
		if s, ok := strings.CutSuffix(p, ext); ok {
			return s
		}
	}
	return p
}

// signed is one document as a mirror publishes it: base.json, base.json.gpg (detached,
// armored) and base.sjson (clearsigned).
type signed struct {
	json, gpg, sjson []byte
}

// signDocument signs the .json content and, separately, the .sjson content (the index
// names .sjson documents in the one and .json in the other; products documents are the
// same in both).
func signDocument(s *pgp.Signer, plain, forSjson []byte) (signed, error) {
	out := signed{json: plain}
	if s == nil {
		return out, nil
	}
	var err error
	if out.gpg, err = s.DetachSign(bytes.NewReader(plain), true); err != nil {
		return signed{}, err
	}
	if out.sjson, err = s.Clearsign(forSjson); err != nil {
		return signed{}, err
	}
	return out, nil
}

package simplestreams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Document formats.
const (
	FormatIndex    = "index:1.0"
	FormatProducts = "products:1.0"
)

// Datatypes of products documents.
const (
	DatatypeImageDownloads = "image-downloads"
	DatatypeImageIDs       = "image-ids"
)

// Names of the fields the parser gives meaning to. Every other field is kept as it came
// and written back unchanged.
const (
	fieldAliases  = "_aliases"
	fieldProducts = "products"
	fieldVersions = "versions"
	fieldItems    = "items"
	fieldIndex    = "index"
	fieldUpdated  = "updated"
	fieldPath     = "path"
	fieldSize     = "size"
)

// Pseudo-fields of a flattened item (as sstream-mirror names them), usable in filters.
const (
	KeyProductName = "product_name"
	KeyVersionName = "version_name"
	KeyItemName    = "item_name"
)

// node is one level of the tree (document top, product, version or item): its fields as
// decoded (strings, json.Number, booleans, nil, []any, map[string]any) without the child
// collection, and the fields that _aliases expansion adds (nil without aliases).
type node struct {
	fields map[string]any
	extra  map[string]string
}

func newEmptyNode() node { return node{fields: map[string]any{}} }

// Field returns the level's own scalar field key (a string, or a number as written, or a
// value _aliases gives it), not inherited ones: ItemRef.Get resolves inheritance.
func (n *node) Field(key string) (string, bool) {
	if v, ok := n.extra[key]; ok {
		return v, true
	}
	return scalarValue(n.fields[key])
}

// Raw returns the level's own field key as JSON (any JSON type).
func (n *node) Raw(key string) (json.RawMessage, bool) {
	v, ok := n.fields[key]
	if !ok {
		return nil, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	return b, true
}

// set replaces a field on this level with a string or an integer.
func (n *node) set(key string, v any) {
	switch x := v.(type) {
	case int64:
		v = json.Number(strconv.FormatInt(x, 10))
	case int:
		v = json.Number(strconv.Itoa(x))
	}
	n.fields[key] = v
	delete(n.extra, key)
}

func (n *node) clone() node {
	return node{fields: maps.Clone(n.fields), extra: maps.Clone(n.extra)}
}

// scalarValue reports the inheritable value of a decoded JSON value as the simplestreams
// client flattens an item (Python's str() of what json.loads gives): strings as they are,
// booleans "True" and "False", integers in decimal, other numbers as Python prints a float
// (pythonFloat). Objects, arrays and null do not inherit.
func scalarValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		if v {
			return "True", true
		}
		return "False", true
	case json.Number:
		s := string(v)
		if strings.ContainsAny(s, ".eE") {
			return pythonFloat(s), true
		}
		if s == "-0" { // JSON allows no other non-canonical integer
			return "0", true
		}
		return s, true
	}
	return "", false
}

// pythonFloat prints a JSON number the way Python's str(float) does: the shortest digits
// that round-trip, in positional notation with at least one fractional digit ("1.0",
// "0.0001") when the decimal exponent is in [-4, 16), else in exponent notation with a
// signed exponent of at least two digits ("1e-05", "1e+16"); "inf" beyond float range.
func pythonFloat(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return s // not reached for numbers the JSON decoder accepted
	}
	if math.IsInf(f, 0) {
		if f < 0 {
			return "-inf"
		}
		return "inf"
	}
	sign := ""
	if math.Signbit(f) {
		sign, f = "-", -f
	}
	// Shortest digits d1.d2d3...e±X: digits "d1d2d3...", value 0.d1d2... x 10^(X+1).
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	point := x + 1 // digits before the decimal point
	switch {
	case f == 0:
		return sign + "0.0"
	case point < -3 || point > 16:
		out := digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		es := strconv.Itoa(max(x, -x))
		if len(es) < 2 {
			es = "0" + es
		}
		if x < 0 {
			return sign + out + "e-" + es
		}
		return sign + out + "e+" + es
	case point <= 0:
		return sign + "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		return sign + digits + strings.Repeat("0", point-len(digits)) + ".0"
	default:
		return sign + digits[:point] + "." + digits[point:]
	}
}

// Products is a products:1.0 document: products -> versions -> items. Scalar fields of
// the top level, a product and a version are inherited by everything below them.
type Products struct {
	node
	// ContentID, Datatype, Format and Updated mirror the top-level fields of the same name.
	ContentID, Datatype, Format, Updated string
	// Products by name.
	Products map[string]*Product
}

// Product is one product: versions by name.
type Product struct {
	node
	Name     string
	Versions map[string]*Version
}

// Version is one version of a product (names compare as plain strings: the greatest is
// the newest): items by name.
type Version struct {
	node
	Name  string
	Items map[string]*Item
}

// Item is one file (or, in image-ids streams, one record) of a version.
type Item struct {
	node
	Name string
}

// aliases is the parsed _aliases table: field -> value -> fields it stands for.
type aliases map[string]map[string]map[string]string

// ParseProducts parses a products:1.0 document. It checks the structure, the format, item
// paths (store.ValidatePath: nothing absolute, no ".."), sizes and checksums, and expands
// _aliases. Errors wrap ErrInvalidDocument (and store.ErrUnsafePath for a bad path).
func ParseProducts(b []byte) (*Products, error) {
	top, err := decodeDocument(b, "document")
	if err != nil {
		return nil, err
	}
	al, err := parseAliases(top[fieldAliases])
	if err != nil {
		return nil, err
	}
	p := &Products{Products: map[string]*Product{}}
	rawProducts, hasProducts := top[fieldProducts]
	delete(top, fieldProducts)
	if p.node, err = newNode(top, al, "document"); err != nil {
		return nil, err
	}
	p.ContentID, _ = p.Field("content_id")
	p.Datatype, _ = p.Field("datatype")
	p.Format, _ = p.Field("format")
	p.Updated, _ = p.Field(fieldUpdated)
	if p.Format != FormatProducts {
		return nil, invalidf("format %q, want %q", p.Format, FormatProducts)
	}
	if !hasProducts {
		return nil, invalidf("no %q object", fieldProducts)
	}
	prods, err := asObject(rawProducts, fieldProducts)
	if err != nil {
		return nil, err
	}
	for pname, praw := range prods {
		prod, err := parseProduct(pname, praw, al)
		if err != nil {
			return nil, err
		}
		p.Products[pname] = prod
	}
	for _, it := range p.Items() {
		if err := it.validate(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func parseProduct(name string, raw any, al aliases) (*Product, error) {
	where := "product " + strconv.Quote(name)
	fields, err := asObject(raw, where)
	if err != nil {
		return nil, err
	}
	prod := &Product{Name: name, Versions: map[string]*Version{}}
	rawVersions, ok := fields[fieldVersions]
	delete(fields, fieldVersions)
	if prod.node, err = newNode(fields, al, where); err != nil {
		return nil, err
	}
	if !ok {
		return prod, nil // a product without versions is legal and selects nothing
	}
	versions, err := asObject(rawVersions, where+" versions")
	if err != nil {
		return nil, err
	}
	for vname, vraw := range versions {
		vwhere := where + " version " + strconv.Quote(vname)
		vfields, err := asObject(vraw, vwhere)
		if err != nil {
			return nil, err
		}
		v := &Version{Name: vname, Items: map[string]*Item{}}
		rawItems, ok := vfields[fieldItems]
		delete(vfields, fieldItems)
		if v.node, err = newNode(vfields, al, vwhere); err != nil {
			return nil, err
		}
		if ok {
			items, err := asObject(rawItems, vwhere+" items")
			if err != nil {
				return nil, err
			}
			for iname, iraw := range items {
				iwhere := vwhere + " item " + strconv.Quote(iname)
				ifields, err := asObject(iraw, iwhere)
				if err != nil {
					return nil, err
				}
				it := &Item{Name: iname}
				if it.node, err = newNode(ifields, al, iwhere); err != nil {
					return nil, err
				}
				v.Items[iname] = it
			}
		}
		prod.Versions[vname] = v
	}
	return prod, nil
}

// decodeDocument decodes a whole JSON document, which must be one object, in one pass.
// Numbers stay as written (json.Number).
func decodeDocument(b []byte, where string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalidf("%s: %v", where, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidf("%s: data after the JSON object", where)
	}
	return asObject(v, where)
}

// asObject checks that a decoded value is a JSON object.
func asObject(v any, where string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidf("%s: not a JSON object", where)
	}
	return m, nil
}

func newNode(fields map[string]any, al aliases, where string) (node, error) {
	n := node{fields: fields}
	if len(al) == 0 {
		return n, nil
	}
	// Expand aliases: a field named in _aliases whose value names an entry stands for the
	// fields of that entry. Iterate in a fixed order so that overlaps resolve the same way
	// every time.
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		table, ok := al[k]
		if !ok {
			continue
		}
		v, ok := fields[k].(string)
		if !ok || v == "" {
			continue // only a non-empty string names an alias
		}
		expansion, ok := table[v]
		if !ok {
			return node{}, invalidf("%s: %s=%q is not in _aliases", where, k, v)
		}
		if n.extra == nil {
			n.extra = map[string]string{}
		}
		maps.Copy(n.extra, expansion)
	}
	return n, nil
}

func parseAliases(raw any) (aliases, error) {
	if raw == nil {
		return nil, nil
	}
	outer, err := asObject(raw, fieldAliases)
	if err != nil {
		return nil, err
	}
	al := aliases{}
	for field, traw := range outer {
		table, err := asObject(traw, fieldAliases+"."+field)
		if err != nil {
			return nil, err
		}
		al[field] = map[string]map[string]string{}
		for name, eraw := range table {
			entry, err := asObject(eraw, fieldAliases+"."+field+"."+name)
			if err != nil {
				return nil, err
			}
			vals := map[string]string{}
			for k, v := range entry {
				if s, ok := scalarValue(v); ok {
					vals[k] = s
				}
			}
			al[field][name] = vals
		}
	}
	return al, nil
}

// ItemRef is an item in its place in the tree. Get resolves inheritance, so that an
// ItemRef is the flattened item that filters look at.
type ItemRef struct {
	Products *Products
	Product  *Product
	Version  *Version
	Item     *Item
}

// Get returns the value of key for this item: its own field, else the version's, the
// product's or the document's (strings and numbers only), or the pseudo-fields
// product_name, version_name and item_name.
func (r ItemRef) Get(key string) (string, bool) {
	switch key {
	case KeyProductName:
		return r.Product.Name, true
	case KeyVersionName:
		return r.Version.Name, true
	case KeyItemName:
		return r.Item.Name, true
	}
	for _, n := range [...]*node{&r.Item.node, &r.Version.node, &r.Product.node, &r.Products.node} {
		if v, ok := n.Field(key); ok {
			return v, true
		}
	}
	return "", false
}

// Flat returns the flattened item: every inherited scalar field plus the pseudo-fields.
func (r ItemRef) Flat() map[string]string {
	m := map[string]string{}
	for _, n := range [...]*node{&r.Products.node, &r.Product.node, &r.Version.node, &r.Item.node} {
		for k, v := range n.fields {
			if s, ok := scalarValue(v); ok {
				m[k] = s
			}
		}
		maps.Copy(m, n.extra)
	}
	m[KeyProductName] = r.Product.Name
	m[KeyVersionName] = r.Version.Name
	m[KeyItemName] = r.Item.Name
	return m
}

// Path returns the item's file path relative to the mirror root, "" for an item without
// a file (image-ids streams).
func (r ItemRef) Path() string {
	p, _ := r.Get(fieldPath)
	return p
}

// Size returns the item's size in bytes, or -1 when the stream does not give one.
func (r ItemRef) Size() int64 { return sizeOf(r.Get) }

// Expect is what the item's file must match: its size (when given) and every checksum it
// lists (sha512, sha256, md5), as the simplestreams client checks whichever it prefers.
func (r ItemRef) Expect() store.Expect { return fileExpect(r.Get) }

// checksumFields are the checksums a simplestreams item or index entry may list,
// strongest first.
var checksumFields = [...]store.Algorithm{store.SHA512, store.SHA256, store.MD5}

// strongest returns the strongest checksum e lists ("" when none).
func strongest(e store.Expect) store.Algorithm {
	for _, a := range checksumFields {
		if _, ok := e.Sums[a]; ok {
			return a
		}
	}
	return ""
}

// fileExpect is what a file described by the fields get resolves must match: size (when
// given) and every listed checksum, lower-cased.
func fileExpect(get func(string) (string, bool)) store.Expect {
	e := store.Expect{Size: max(sizeOf(get), 0)}
	for _, a := range checksumFields {
		if v, ok := get(string(a)); ok && v != "" {
			if e.Sums == nil {
				e.Sums = make(map[store.Algorithm]string, 1)
			}
			e.Sums[a] = strings.ToLower(v)
		}
	}
	return e
}

// sizeOf returns the size field, or -1 when absent or not a byte count.
func sizeOf(get func(string) (string, bool)) int64 {
	s, ok := get(fieldSize)
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// validateFile checks the size and checksums of a file description: a size that is not a
// byte count, or a checksum that is not hex of its length, is an invalid document. The
// caller names the description in the error.
func validateFile(get func(string) (string, bool)) error {
	if err := validateSize(get); err != nil {
		return err
	}
	for _, a := range checksumFields {
		if v, ok := get(string(a)); ok && v != "" {
			// One checksum at a time: a map that does not escape, as parsing validates
			// every item of documents with tens of thousands.
			if err := (store.Expect{Sums: map[store.Algorithm]string{a: v}}).Validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateSize(get func(string) (string, bool)) error {
	if s, ok := get(fieldSize); ok && sizeOf(get) < 0 {
		return fmt.Errorf("size %q is not a byte count", s)
	}
	return nil
}

// String names the item as product/version/item.
func (r ItemRef) String() string {
	return r.Product.Name + "/" + r.Version.Name + "/" + r.Item.Name
}

// validate checks the path, size and checksums of an item.
// A record without a file (image-ids) only needs a sane size.
func (r ItemRef) validate() error {
	p, hasPath := r.Get(fieldPath)
	var err error
	if !hasPath {
		err = validateSize(r.Get)
	} else if err = store.ValidatePath(p); err == nil {
		err = validateFile(r.Get)
	}
	if err != nil {
		return fmt.Errorf("%w: item %s: %w", ErrInvalidDocument, r, err)
	}
	return nil
}

// Items returns every item of the document, sorted by product, version and item name.
func (p *Products) Items() []ItemRef {
	var out []ItemRef
	for _, pn := range slices.Sorted(maps.Keys(p.Products)) {
		prod := p.Products[pn]
		for _, vn := range slices.Sorted(maps.Keys(prod.Versions)) {
			v := prod.Versions[vn]
			for _, in := range slices.Sorted(maps.Keys(v.Items)) {
				out = append(out, ItemRef{Products: p, Product: prod, Version: v, Item: v.Items[in]})
			}
		}
	}
	return out
}

// Index is an index:1.0 document: the entry point that names the products documents.
type Index struct {
	node
	Format, Updated string
	// Entries by content ID.
	Entries map[string]*IndexEntry
}

// IndexEntry describes one products document.
type IndexEntry struct {
	node
	ContentID string
	// Path of the products document relative to the mirror root (validated).
	Path string
	// Format of the document ("products:1.0" when the entry does not say).
	Format   string
	Datatype string
	Updated  string
	// Products lists the product names the document holds, as the index states them.
	Products []string
}

// Expect is what the file at the entry's path must match: the size and checksums the
// entry lists, if any (of the file as served: the .sjson named by an .sjson index).
func (e *IndexEntry) Expect() store.Expect { return fileExpect(e.Field) }

// ParseIndex parses an index:1.0 document. Entry paths, sizes and checksums are validated
// like those of items.
func ParseIndex(b []byte) (*Index, error) {
	top, err := decodeDocument(b, "index document")
	if err != nil {
		return nil, err
	}
	raw, ok := top[fieldIndex]
	delete(top, fieldIndex)
	ix := &Index{Entries: map[string]*IndexEntry{}}
	if ix.node, err = newNode(top, nil, "index document"); err != nil {
		return nil, err
	}
	ix.Format, _ = ix.Field("format")
	ix.Updated, _ = ix.Field(fieldUpdated)
	if ix.Format != FormatIndex {
		return nil, invalidf("format %q, want %q", ix.Format, FormatIndex)
	}
	if !ok {
		return nil, invalidf("no %q object", fieldIndex)
	}
	entries, err := asObject(raw, fieldIndex)
	if err != nil {
		return nil, err
	}
	for id, eraw := range entries {
		where := "index entry " + strconv.Quote(id)
		fields, err := asObject(eraw, where)
		if err != nil {
			return nil, err
		}
		e := &IndexEntry{ContentID: id}
		if e.node, err = newNode(fields, nil, where); err != nil {
			return nil, err
		}
		e.Path, _ = e.Field(fieldPath)
		e.Format, _ = e.Field("format")
		if e.Format == "" {
			e.Format = FormatProducts
		}
		e.Datatype, _ = e.Field("datatype")
		e.Updated, _ = e.Field(fieldUpdated)
		if err := store.ValidatePath(e.Path); err != nil {
			return nil, fmt.Errorf("%w: %s: path: %w", ErrInvalidDocument, where, err)
		}
		if err := validateFile(e.Field); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidDocument, where, err)
		}
		if praw, ok := fields[fieldProducts]; ok {
			list, ok := praw.([]any)
			if !ok {
				return nil, invalidf("%s: products is not a list", where)
			}
			for _, v := range list {
				name, ok := v.(string)
				if !ok {
					return nil, invalidf("%s: products: %v is not a name", where, v)
				}
				e.Products = append(e.Products, name)
			}
		}
		ix.Entries[id] = e
	}
	return ix, nil
}

package simplestreamstest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// ErrRefused is what the Client returns when it refuses a tree, as the simplestreams client
// would: a bad or missing signature, an unsafe path, a checksum or size mismatch, a missing
// file.
var ErrRefused = errors.New("simplestreamstest: client refuses the tree")

// Client reads a served tree the way Canonical's simplestreams client does (sstream-mirror
// and sstream-query, and the MAAS image import built on it): written from the format's
// documentation and that client's observable rules, independently of package
// simplestreams, so that it does not share that package's misreadings. It is strict where
// the client is strict, and stricter where the client is lenient in ways a mirror must not
// rely on:
//
//   - The entry point decides the policy: under an .sjson entry point every document must be
//     clearsigned ("No signature found!"), and each is verified by running
//     `gpgv --keyring=<Keyring> -` on it, as the client does. Its text is then taken the way
//     the client takes it: the first non-empty line after the BEGIN line (the Hash header)
//     is skipped, lines up to the signature are the body, "- " is un-escaped. Under a .json
//     entry point nothing is verified (as the client).
//   - Every path is relative to the mirror root; absolute paths and ".." are refused.
//   - An index entry that lists a size or checksums must match the file at its path.
//   - An item is flattened (fields of the document, product, version and item, deeper
//     winning; strings as they are, integers in decimal, booleans "True"/"False", as
//     Python's str() prints them; _aliases expanded), and its file must have the size and
//     every checksum (sha512, sha256, md5) it lists, compared as exact lower-case hex: the
//     client checks the one it prefers, so every one must hold.
type Client struct {
	// URL is the mirror root (the boot-source URL).
	URL string
	// Index is the entry point under URL; "" reads streams/v1/index.sjson (as MAAS).
	Index string
	// GPGV is the gpgv binary; Keyring the binary keyring handed to it.
	GPGV, Keyring string
	// HTTP is the client; nil: http.DefaultClient.
	HTTP *http.Client
}

// ClientItem is one item as the client sees it.
type ClientItem struct {
	// ContentID names the products document.
	ContentID string
	// Flat is the flattened item, with product_name, version_name and item_name.
	Flat map[string]string
}

// Path returns the item's file path, "" for a record without a file.
func (it ClientItem) Path() string { return it.Flat["path"] }

// Items reads the index and every products document it names and returns every item, in
// sorted order (content ID, product, version, item).
func (c *Client) Items(ctx context.Context) ([]ClientItem, error) {
	home, err := os.MkdirTemp("", "sstream-client-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(home)
	entry := c.Index
	if entry == "" {
		entry = "streams/v1/index.sjson"
	}
	signed := strings.HasSuffix(entry, "sjson")
	index, err := c.document(ctx, home, entry, signed, nil)
	if err != nil {
		return nil, err
	}
	if index["format"] != "index:1.0" {
		return nil, fmt.Errorf("%w: %s: format %v", ErrRefused, entry, index["format"])
	}
	entries, ok := index["index"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s: no index", ErrRefused, entry)
	}
	var out []ClientItem
	for _, id := range slices.Sorted(maps.Keys(entries)) {
		e, ok := entries[id].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: %s: entry %s is not an object", ErrRefused, entry, id)
		}
		p, _ := e["path"].(string)
		if e["format"] != "products:1.0" || p == "" {
			continue
		}
		doc, err := c.document(ctx, home, p, signed, stringFields(e))
		if err != nil {
			return nil, err
		}
		items, err := flattenProducts(id, doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, items...)
	}
	return out, nil
}

// document fetches, checks and decodes one document. want, when it lists a size or
// checksums, is what the raw file must match.
func (c *Client) document(ctx context.Context, home, p string, signed bool, want map[string]string) (map[string]any, error) {
	raw, err := c.getFile(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := checkFile(p, raw, want); err != nil {
		return nil, err
	}
	text := raw
	if signed {
		if text, err = c.readSigned(ctx, home, p, raw); err != nil {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrRefused, p, err)
	}
	return doc, nil
}

const (
	signedHeader    = "-----BEGIN PGP SIGNED MESSAGE-----"
	signatureHeader = "-----BEGIN PGP SIGNATURE-----"
	signatureFooter = "-----END PGP SIGNATURE-----"
)

func (c *Client) readSigned(ctx context.Context, home, p string, raw []byte) ([]byte, error) {
	if !bytes.HasPrefix(raw, []byte(signedHeader)) {
		return nil, fmt.Errorf("%w: %s: No signature found!", ErrRefused, p)
	}
	cmd := exec.CommandContext(ctx, c.GPGV, "--keyring="+c.Keyring, "-")
	cmd.Stdin = bytes.NewReader(raw)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+home, "LANG=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w: %s: gpgv: %v\n%s", ErrRefused, p, err, out)
	}
	var body []string
	mode := ""
	for _, line := range strings.Split(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n") {
		switch {
		case line == signedHeader:
			mode = "header"
			continue
		case mode == "header":
			if line != "" {
				mode = "body"
			}
			continue
		case line == signatureHeader:
			mode = "signature"
			continue
		case line == signatureFooter:
			mode = "garbage"
			continue
		}
		if mode == "body" {
			body = append(body, strings.TrimPrefix(line, "- "))
		}
	}
	return []byte(strings.Join(body, "\n") + "\n"), nil
}

// Fetch downloads the item's file and checks its size and every checksum it lists.
func (c *Client) Fetch(ctx context.Context, it ClientItem) ([]byte, error) {
	b, err := c.getFile(ctx, it.Path())
	if err != nil {
		return nil, err
	}
	return b, checkFile(it.Path(), b, it.Flat)
}

// getFile fetches a file the tree names: its path must be safe and it must be served.
func (c *Client) getFile(ctx context.Context, p string) ([]byte, error) {
	if err := safePath(p); err != nil {
		return nil, err
	}
	b, status, err := c.Get(ctx, p)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: HTTP %d", ErrRefused, p, status)
	}
	return b, nil
}

// Get fetches a path under the mirror root and returns the body and the HTTP status.
func (c *Client) Get(ctx context.Context, p string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.URL, "/")+"/"+p, nil)
	if err != nil {
		return nil, 0, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp.StatusCode, err
}

// checkFile compares b with the size and checksums fields lists.
func checkFile(p string, b []byte, fields map[string]string) error {
	if s, ok := fields["size"]; ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: %s: size %q", ErrRefused, p, s)
		}
		if n != int64(len(b)) {
			return fmt.Errorf("%w: %s: read %d bytes expected %d bytes", ErrRefused, p, len(b), n)
		}
	}
	for alg, h := range map[string]hash.Hash{"md5": md5.New(), "sha256": sha256.New(), "sha512": sha512.New()} {
		want, ok := fields[alg]
		if !ok {
			continue
		}
		h.Write(b)
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			return fmt.Errorf("%w: Invalid %s Checksum at %s. Found %s. Expected %s", ErrRefused, alg, p, got, want)
		}
	}
	return nil
}

func safePath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || slices.Contains(strings.Split(p, "/"), "..") {
		return fmt.Errorf("%w: unsafe path %q", ErrRefused, p)
	}
	return nil
}

// flattenProducts returns every item of a products document, flattened.
func flattenProducts(contentID string, doc map[string]any) ([]ClientItem, error) {
	if doc["format"] != "products:1.0" {
		return nil, fmt.Errorf("%w: format %v", ErrRefused, doc["format"])
	}
	if err := expandAliases(doc, doc["_aliases"]); err != nil {
		return nil, err
	}
	var out []ClientItem
	products, _ := doc["products"].(map[string]any)
	for _, pn := range slices.Sorted(maps.Keys(products)) {
		prod, _ := products[pn].(map[string]any)
		versions, _ := prod["versions"].(map[string]any)
		for _, vn := range slices.Sorted(maps.Keys(versions)) {
			ver, _ := versions[vn].(map[string]any)
			items, _ := ver["items"].(map[string]any)
			for _, in := range slices.Sorted(maps.Keys(items)) {
				item, _ := items[in].(map[string]any)
				flat := map[string]string{}
				for _, level := range []map[string]any{doc, prod, ver, item} {
					maps.Copy(flat, stringFields(level))
				}
				flat["product_name"], flat["version_name"], flat["item_name"] = pn, vn, in
				if err := safePath(flat["path"]); flat["path"] != "" && err != nil {
					return nil, err
				}
				out = append(out, ClientItem{ContentID: contentID, Flat: flat})
			}
		}
	}
	return out, nil
}

// stringFields returns the fields of one level that an item inherits, as Python's str()
// prints them. Floats are left out: no tree the tests serve has one.
func stringFields(level map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range level {
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool:
			out[k] = map[bool]string{true: "True", false: "False"}[v]
		case json.Number:
			if n, ok := new(big.Int).SetString(string(v), 10); ok {
				out[k] = n.String()
			}
		}
	}
	return out
}

// expandAliases replaces, in every object of v, a field named in _aliases whose value is a
// non-empty string by the fields that alias stands for.
func expandAliases(v any, aliases any) error {
	table, _ := aliases.(map[string]any)
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			refs, ok := table[k].(map[string]any)
			if s, isString := v[k].(string); ok && k != "_aliases" && isString && s != "" {
				fields, ok := refs[s].(map[string]any)
				if !ok {
					return fmt.Errorf("%w: %s=%q is not in _aliases", ErrRefused, k, s)
				}
				maps.Copy(v, fields)
			}
		}
		for k, child := range v {
			if k != "_aliases" {
				if err := expandAliases(child, aliases); err != nil {
					return err
				}
			}
		}
	case []any:
		for _, child := range v {
			if err := expandAliases(child, aliases); err != nil {
				return err
			}
		}
	}
	return nil
}

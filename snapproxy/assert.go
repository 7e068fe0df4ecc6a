package snapproxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Size caps of the assertion decoder.
const (
	// MaxHeaderSize caps the header block of one assertion.
	MaxHeaderSize = 128 << 10
	// MaxBodySize caps the body of one assertion (body-length).
	MaxBodySize = 2 << 20
	// MaxSignatureSize caps the encoded signature of one assertion.
	MaxSignatureSize = 64 << 10
	// maxDepth caps nesting of header values.
	maxDepth = 16
)

// Assertion is one signed assertion in the text format of snapd and the Snap Store:
// headers ("key: value", with indented lists, maps and multi-line text), an optional body
// whose length the body-length header gives, and a signature, separated by blank lines.
// An Assertion is immutable.
type Assertion struct {
	headers map[string]any
	content []byte // the signed part: headers [+ "\n\n" + body]
	body    []byte
	sig     *packet.Signature
	raw     []byte // the whole encoded assertion (content + "\n\n" + signature)
}

// Type is the assertion type ("account-key", "snap-revision", ...).
func (a *Assertion) Type() string { return a.Header("type") }

// Header returns a string header, or "" when absent or not a string.
func (a *Assertion) Header(name string) string {
	s, _ := a.headers[name].(string)
	return s
}

// HeaderValue returns a header as parsed: a string, a []any of values or a
// map[string]any; nil when absent.
func (a *Assertion) HeaderValue(name string) any { return a.headers[name] }

// Headers returns the names of all headers, unordered.
func (a *Assertion) Headers() []string {
	out := make([]string, 0, len(a.headers))
	for k := range a.headers {
		out = append(out, k)
	}
	return out
}

// Revision is the assertion's revision header (0 when absent).
func (a *Assertion) Revision() int {
	n, _ := strconv.Atoi(a.Header("revision"))
	return n
}

// SignKeyID is the sign-key-sha3-384 header: the id of the key that signed it.
func (a *Assertion) SignKeyID() string { return a.Header("sign-key-sha3-384") }

// AuthorityID is the authority-id header: the account that signed it.
func (a *Assertion) AuthorityID() string { return a.Header("authority-id") }

// Body returns the body (nil when there is none). The caller must not modify it.
func (a *Assertion) Body() []byte { return a.body }

// Content returns the signed bytes. The caller must not modify it.
func (a *Assertion) Content() []byte { return a.content }

// Raw returns the assertion as encoded, without a trailing newline. The caller must not
// modify it.
func (a *Assertion) Raw() []byte { return a.raw }

// PrimaryKey returns the values that name the assertion in
// /v2/assertions/{type}/{keys}: its primary-key headers in order, a trailing one that
// holds its default (snap-revision's provenance "global-upload") left out; nil for a type
// whose key is not known or when a key header is missing.
func (a *Assertion) PrimaryKey() []string { return primaryKey(a) }

// String names the assertion by type and primary key.
func (a *Assertion) String() string {
	return a.Type() + "/" + strings.Join(a.PrimaryKey(), "/")
}

// DecodeAssertion decodes exactly one assertion (surrounding blank lines allowed).
func DecodeAssertion(b []byte) (*Assertion, error) {
	d := NewDecoder(bytes.NewReader(b))
	a, err := d.Decode()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: empty", ErrMalformedAssertion)
	}
	if err != nil {
		return nil, err
	}
	if _, err := d.Decode(); !errors.Is(err, io.EOF) {
		if err == nil {
			return nil, fmt.Errorf("%w: more than one assertion", ErrMalformedAssertion)
		}
		return nil, err
	}
	return a, nil
}

// DecodeAll decodes a stream of assertions such as a .assert file, at most max of them
// (0: no limit).
func DecodeAll(r io.Reader, max int) ([]*Assertion, error) {
	d := NewDecoder(r)
	var out []*Assertion
	for {
		a, err := d.Decode()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if max > 0 && len(out) == max {
			return nil, fmt.Errorf("%w: more than %d assertions", ErrTooLarge, max)
		}
		out = append(out, a)
	}
}

// Decoder reads assertions one after the other from a stream, separated by blank lines.
// It holds at most one assertion in memory, within the size caps.
type Decoder struct {
	r    *bufio.Reader
	err  error
	buf  []byte // the assertion being read; reused
	long []byte // a line longer than r's buffer; reused
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder { return &Decoder{r: bufio.NewReaderSize(r, 16<<10)} }

// Decode returns the next assertion, or io.EOF after the last one. Errors wrap
// ErrMalformedAssertion or ErrTooLarge; after an error the Decoder stays failed.
func (d *Decoder) Decode() (*Assertion, error) {
	if d.err != nil {
		return nil, d.err
	}
	a, err := d.decode()
	if err != nil {
		d.err = err
	}
	return a, err
}

// readLine returns the next line without its "\n", valid until the next read; eof is true
// when the stream ended without a newline (line may then be non-empty). A line of limit
// bytes or more is ErrTooLarge.
func (d *Decoder) readLine(limit int) (line []byte, eof bool, err error) {
	frag, err := d.r.ReadSlice('\n')
	buf := frag
	if errors.Is(err, bufio.ErrBufferFull) {
		buf = append(d.long[:0], frag...)
		for errors.Is(err, bufio.ErrBufferFull) && len(buf) <= limit {
			frag, err = d.r.ReadSlice('\n')
			buf = append(buf, frag...)
		}
		d.long = buf
	}
	if len(buf) > limit {
		return nil, false, fmt.Errorf("%w: line longer than %d bytes", ErrTooLarge, limit)
	}
	switch {
	case err == nil:
		return buf[:len(buf)-1], false, nil
	case errors.Is(err, io.EOF):
		return buf, true, nil
	}
	return nil, false, err
}

func (d *Decoder) decode() (*Assertion, error) {
	raw := d.buf[:0]
	defer func() { d.buf = raw[:0] }()
	// Skip blank lines between assertions.
	for {
		line, eof, err := d.readLine(MaxHeaderSize)
		if err != nil {
			return nil, err
		}
		if len(line) > 0 {
			if eof {
				return nil, fmt.Errorf("%w: truncated after the first header", ErrMalformedAssertion)
			}
			raw = append(raw, line...)
			break
		}
		if eof {
			return nil, io.EOF
		}
	}
	// Headers up to the blank line.
	for {
		line, eof, err := d.readLine(MaxHeaderSize)
		if err != nil {
			return nil, err
		}
		if eof {
			return nil, fmt.Errorf("%w: truncated in the headers", ErrMalformedAssertion)
		}
		if len(line) == 0 {
			break
		}
		raw = append(append(raw, '\n'), line...)
		if len(raw) > MaxHeaderSize {
			return nil, fmt.Errorf("%w: headers over %d bytes", ErrTooLarge, MaxHeaderSize)
		}
	}
	headerText := string(raw)
	headers, err := parseHeaders(headerText)
	if err != nil {
		return nil, err
	}
	bodyLen := 0
	if v, ok := headers["body-length"]; ok {
		s, _ := v.(string)
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || (len(s) > 1 && s[0] == '0') || s[0] == '+' {
			return nil, fmt.Errorf("%w: body-length %q", ErrMalformedAssertion, s)
		}
		if n > MaxBodySize {
			return nil, fmt.Errorf("%w: body of %d bytes, cap %d", ErrTooLarge, n, MaxBodySize)
		}
		bodyLen = n
	}
	if bodyLen > 0 {
		raw = append(raw, "\n\n"...)
		start := len(raw)
		raw = slices.Grow(raw, bodyLen)[:start+bodyLen]
		if _, err := io.ReadFull(d.r, raw[start:]); err != nil {
			return nil, fmt.Errorf("%w: body shorter than body-length %d", ErrMalformedAssertion, bodyLen)
		}
		var sep [2]byte
		if _, err := io.ReadFull(d.r, sep[:]); err != nil || sep != [2]byte{'\n', '\n'} {
			return nil, fmt.Errorf("%w: no blank line after the body (body-length %d)", ErrMalformedAssertion, bodyLen)
		}
	}
	contentLen := len(raw)
	raw = append(raw, "\n\n"...)
	sigStart := len(raw)
	// Signature: lines up to a blank line or the end.
	for {
		line, eof, err := d.readLine(MaxSignatureSize)
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			break
		}
		if len(raw) > sigStart {
			raw = append(raw, '\n')
		}
		raw = append(raw, line...)
		if len(raw)-sigStart > MaxSignatureSize {
			return nil, fmt.Errorf("%w: signature over %d bytes", ErrTooLarge, MaxSignatureSize)
		}
		if eof {
			break
		}
	}
	if len(raw) == sigStart {
		return nil, fmt.Errorf("%w: %s has no signature", ErrMalformedAssertion, headers["type"])
	}
	sig, err := decodeBase64(raw[sigStart:])
	if err != nil || len(sig) < 2 {
		return nil, fmt.Errorf("%w: signature is not base64", ErrMalformedAssertion)
	}
	if sig[0] != formatV1 {
		return nil, fmt.Errorf("%w: signature format %d", ErrMalformedAssertion, sig[0])
	}
	sr := bytes.NewReader(sig[1:])
	p, err := packet.Read(sr)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: signature packet: %v", ErrMalformedAssertion, headers["type"], err)
	}
	pgpSig, ok := p.(*packet.Signature)
	if !ok || sr.Len() != 0 || pgpSig.Version != 4 || pgpSig.SigType != packet.SigTypeBinary {
		return nil, fmt.Errorf("%w: %s: signature is not one OpenPGP v4 binary signature", ErrMalformedAssertion, headers["type"])
	}
	b := bytes.Clone(raw) // the assertion keeps its own bytes; raw is reused
	a := &Assertion{headers: headers, content: b[:contentLen], sig: pgpSig, raw: b}
	if bodyLen > 0 {
		a.body = b[len(headerText)+2 : contentLen]
	}
	return a, nil
}

// formatV1 is the format byte in front of encoded keys and signatures.
const formatV1 = 0x01

// parseHeaders parses the header block.
func parseHeaders(text string) (map[string]any, error) {
	if !strings.HasPrefix(text, "type: ") {
		return nil, fmt.Errorf("%w: the first header is not type", ErrMalformedAssertion)
	}
	p := &hparser{lines: strings.Split(text, "\n")}
	m, err := p.mapping(0, 0)
	if err != nil {
		return nil, err
	}
	if p.i != len(p.lines) {
		return nil, fmt.Errorf("%w: line %d: unexpected indentation", ErrMalformedAssertion, p.i+1)
	}
	for _, k := range []string{"type", "authority-id", "sign-key-sha3-384"} {
		if s, ok := m[k].(string); !ok || s == "" {
			return nil, fmt.Errorf("%w: header %s missing or not a string", ErrMalformedAssertion, k)
		}
	}
	return m, nil
}

type hparser struct {
	lines []string
	i     int
}

func indentOf(s string) int {
	n := 0
	for n < len(s) && s[n] == ' ' {
		n++
	}
	return n
}

func validKey(k string) bool {
	if k == "" || k[0] < 'a' || k[0] > 'z' || k[len(k)-1] == '-' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') || c == '-' && k[i-1] == '-' {
			return false
		}
	}
	return true
}

func (p *hparser) errf(format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrMalformedAssertion, p.i+1, fmt.Sprintf(format, args...))
}

// mapping parses "key: value" lines at indent.
func (p *hparser) mapping(indent, depth int) (map[string]any, error) {
	if depth > maxDepth {
		return nil, p.errf("nested too deep")
	}
	m := map[string]any{}
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		ind := indentOf(line)
		if ind < indent {
			break
		}
		if ind > indent {
			return nil, p.errf("unexpected indentation")
		}
		k, v, ok := strings.Cut(line[indent:], ":")
		if !ok || !validKey(k) {
			return nil, p.errf("not a header")
		}
		if _, dup := m[k]; dup {
			return nil, p.errf("repeated header %s", k)
		}
		p.i++
		if v == "" {
			val, err := p.block(indent, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = val
			continue
		}
		if len(v) < 2 || v[0] != ' ' || v[1] == ' ' {
			return nil, p.errf("header %s: value must follow one space", k)
		}
		m[k] = v[1:]
	}
	if len(m) == 0 {
		return nil, p.errf("empty map")
	}
	return m, nil
}

// block parses the value of "key:" (or "-") at parent indentation: a list or map indented
// by two more spaces, or multi-line text indented by four.
func (p *hparser) block(parent, depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errf("nested too deep")
	}
	if p.i >= len(p.lines) {
		return nil, p.errf("missing value")
	}
	line := p.lines[p.i]
	ind := indentOf(line)
	switch {
	case ind == parent+4:
		var parts []string
		for p.i < len(p.lines) && indentOf(p.lines[p.i]) >= parent+4 {
			parts = append(parts, p.lines[p.i][parent+4:])
			p.i++
		}
		return strings.Join(parts, "\n"), nil
	case ind == parent+2 && strings.HasPrefix(line[ind:], "-"):
		return p.list(parent+2, depth)
	case ind == parent+2:
		return p.mapping(parent+2, depth)
	}
	return nil, p.errf("missing or misindented value")
}

func (p *hparser) list(indent, depth int) ([]any, error) {
	var out []any
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		ind := indentOf(line)
		if ind < indent {
			break
		}
		if ind > indent || !strings.HasPrefix(line[ind:], "-") {
			return nil, p.errf("not a list item")
		}
		rest := line[ind+1:]
		p.i++
		if rest == "" {
			v, err := p.block(indent, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		if len(rest) < 2 || rest[0] != ' ' || rest[1] == ' ' {
			return nil, p.errf("list item: value must follow one space")
		}
		out = append(out, rest[1:])
	}
	return out, nil
}

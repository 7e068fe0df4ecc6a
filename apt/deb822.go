package apt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/airgapkit/airgap/store"
)

// Default caps of a Reader. A Packages stanza is a few kB; a Release file's SHA256 list
// of a large archive is a few hundred kB.
const (
	DefaultMaxFieldSize     = 8 << 20
	DefaultMaxParagraphSize = 16 << 20
	DefaultMaxFields        = 4096
)

// Field is one "Name: value" field of a paragraph. Value holds the text after the colon
// with surrounding blanks of the first line removed; continuation lines follow it
// verbatim, each after a "\n" and keeping its leading blank. A multi-line field whose
// first line is empty (the checksum lists of a Release file) has a Value that starts
// with "\n".
type Field struct {
	Name  string
	Value string
}

// Paragraph is one deb822 stanza (a package of a Packages file, a Release file). Fields
// keep their order; Raw is the stanza's text with LF line endings, comment lines removed
// and a final newline, ready to be written back unchanged.
type Paragraph struct {
	Fields []Field
	Raw    string
	// Offset and End locate the paragraph in the input of the Reader that read it: the
	// bytes from the start of its first line to the end of its last (line ending included;
	// comment lines inside it too).
	Offset, End int64
}

// Get returns the value of the named field (case-insensitive), or "".
func (p Paragraph) Get(name string) string {
	v, _ := p.Lookup(name)
	return v
}

// Lookup returns the value of the named field (case-insensitive) and whether it exists.
func (p Paragraph) Lookup(name string) (string, bool) {
	for _, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// Set replaces the value of the named field, or appends the field, and drops Raw (it no
// longer matches; Bytes rebuilds the text from Fields).
func (p *Paragraph) Set(name, value string) {
	p.Raw = ""
	for i, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			p.Fields[i].Value = value
			return
		}
	}
	p.Fields = append(p.Fields, Field{Name: name, Value: value})
}

// Delete removes the named field and drops Raw.
func (p *Paragraph) Delete(name string) {
	p.Raw = ""
	out := p.Fields[:0]
	for _, f := range p.Fields {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	p.Fields = out
}

// Bytes returns the paragraph as deb822 text ending with a newline (no blank line after
// it): Raw when set, else the fields in order.
func (p Paragraph) Bytes() []byte {
	if p.Raw != "" {
		return []byte(p.Raw)
	}
	var b bytes.Buffer
	for _, f := range p.Fields {
		writeField(&b, f.Name, f.Value)
	}
	return b.Bytes()
}

func writeField(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteByte(':')
	if value != "" && value[0] != '\n' {
		b.WriteByte(' ')
	}
	b.WriteString(value)
	b.WriteByte('\n')
}

// SyntaxError is malformed deb822 input. It matches ErrMalformed with errors.Is.
type SyntaxError struct {
	Line int // 1-based line number
	Msg  string
}

// Error implements error.
func (e *SyntaxError) Error() string { return fmt.Sprintf("apt: deb822 line %d: %s", e.Line, e.Msg) }

// Is makes errors.Is(err, ErrMalformed) true.
func (e *SyntaxError) Is(target error) bool { return target == ErrMalformed }

// Reader reads deb822 paragraphs one at a time from a stream, so that memory does not
// grow with the size of the input. The caps are checked while reading: a field or a
// paragraph over its cap gives an error wrapping store.ErrTooLarge before more is read.
type Reader struct {
	// MaxFieldSize caps one field's value in bytes. Zero: DefaultMaxFieldSize.
	MaxFieldSize int
	// MaxParagraphSize caps one paragraph in bytes. Zero: DefaultMaxParagraphSize.
	MaxParagraphSize int
	// MaxFields caps the fields of one paragraph. Zero: DefaultMaxFields.
	MaxFields int

	br    *bufio.Reader
	line  int
	off   int64 // bytes consumed
	buf   []byte
	spans []span
	err   error
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10)}
}

// readLine returns the next line without its line ending (LF or CRLF), and whether a line
// was read. It enforces the paragraph cap on the way.
func (r *Reader) readLine(limit int) ([]byte, bool, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(long) > limit {
				return nil, false, fmt.Errorf("apt: deb822 line %d: %w: line longer than %d bytes", r.line+1, store.ErrTooLarge, limit)
			}
			line, err = r.br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil && err != io.EOF {
		return nil, false, err
	}
	if len(line) == 0 && err == io.EOF {
		return nil, false, nil
	}
	r.line++
	r.off += int64(len(line))
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimRight(line, "\r") // CRLF, and stray CRs before it
	return line, true, nil
}

// Next returns the next paragraph, or io.EOF after the last one. Blank lines separate
// paragraphs; lines starting with '#' are comments; a line starting with a space or tab
// continues the previous field. Errors are sticky.
func (r *Reader) Next() (Paragraph, error) {
	if r.err != nil {
		return Paragraph{}, r.err
	}
	p, err := r.next()
	if err != nil {
		r.err = err
	}
	return p, err
}

type span struct{ name0, name1, val0, val1 int }

func (r *Reader) next() (Paragraph, error) {
	maxField, maxPara, maxFields := r.MaxFieldSize, r.MaxParagraphSize, r.MaxFields
	if maxField <= 0 {
		maxField = DefaultMaxFieldSize
	}
	if maxPara <= 0 {
		maxPara = DefaultMaxParagraphSize
	}
	if maxFields <= 0 {
		maxFields = DefaultMaxFields
	}
	buf := r.buf[:0]
	spans := r.spans[:0]
	defer func() { r.spans = spans[:0] }()
	var start, end int64
	for {
		lineStart := r.off
		line, ok, err := r.readLine(maxPara)
		if err != nil {
			return Paragraph{}, err
		}
		if !ok {
			break
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if len(spans) > 0 {
				break
			}
			continue
		}
		if line[0] == '#' {
			continue
		}
		if len(spans) == 0 {
			start = lineStart
		}
		end = r.off
		if len(buf)+len(line)+1 > maxPara {
			return Paragraph{}, fmt.Errorf("apt: deb822 line %d: %w: paragraph longer than %d bytes", r.line, store.ErrTooLarge, maxPara)
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(spans) == 0 {
				return Paragraph{}, &SyntaxError{r.line, "continuation line before any field"}
			}
			s := &spans[len(spans)-1]
			buf = appendLine(buf, line)
			s.val1 = len(buf) - 1
			if s.val1-s.val0 > maxField {
				return Paragraph{}, fmt.Errorf("apt: deb822 line %d: %w: field %q longer than %d bytes", r.line, store.ErrTooLarge, buf[s.name0:s.name1], maxField)
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return Paragraph{}, &SyntaxError{r.line, "field without a colon"}
		}
		for _, c := range line[:colon] {
			if c <= ' ' || c == 0x7f {
				return Paragraph{}, &SyntaxError{r.line, "blank or control character in a field name"}
			}
		}
		if len(spans) >= maxFields {
			return Paragraph{}, fmt.Errorf("apt: deb822 line %d: %w: more than %d fields", r.line, store.ErrTooLarge, maxFields)
		}
		if len(line)-colon > maxField {
			return Paragraph{}, fmt.Errorf("apt: deb822 line %d: %w: field longer than %d bytes", r.line, store.ErrTooLarge, maxField)
		}
		start := len(buf)
		buf = appendLine(buf, line)
		v0 := start + colon + 1
		for v0 < len(buf)-1 && (buf[v0] == ' ' || buf[v0] == '\t') {
			v0++
		}
		spans = append(spans, span{start, start + colon, v0, len(buf) - 1})
	}
	r.buf = buf
	if len(spans) == 0 {
		return Paragraph{}, io.EOF
	}
	raw := string(buf)
	p := Paragraph{Raw: raw, Fields: make([]Field, len(spans)), Offset: start, End: end}
	for i, s := range spans {
		name := raw[s.name0:s.name1]
		for j := 0; j < i; j++ {
			if strings.EqualFold(p.Fields[j].Name, name) {
				return Paragraph{}, &SyntaxError{r.line, fmt.Sprintf("duplicate field %q", name)}
			}
		}
		p.Fields[i] = Field{Name: name, Value: strings.TrimRight(raw[s.val0:s.val1], " \t")}
	}
	return p, nil
}

// appendLine appends line and a newline to buf, doubling its capacity when it is full:
// append alone grows a large slice by a quarter, which makes a paragraph of a thousand
// lines (a Release file's checksum lists) cost many times its size in copies.
func appendLine(buf, line []byte) []byte {
	if n := len(line) + 1; cap(buf)-len(buf) < n {
		buf = slices.Grow(buf, max(n, len(buf)))
	}
	return append(append(buf, line...), '\n')
}

// ReadParagraph reads exactly one paragraph (a Release file, a .deb's control file):
// ErrMalformed when the input holds none or more than one.
func ReadParagraph(r io.Reader) (Paragraph, error) {
	dr := NewReader(r)
	p, err := dr.Next()
	if err == io.EOF {
		return Paragraph{}, fmt.Errorf("%w: no paragraph", ErrMalformed)
	}
	if err != nil {
		return Paragraph{}, err
	}
	if _, err := dr.Next(); err != io.EOF {
		if err == nil {
			return Paragraph{}, fmt.Errorf("%w: more than one paragraph", ErrMalformed)
		}
		return Paragraph{}, err
	}
	return p, nil
}

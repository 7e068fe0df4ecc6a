package jsonstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/airgapkit/airgap/store"
)

// Decoder reads one JSON document from a stream. Every read (Token, Decode, and each
// token of Skip, Array and Object) is capped at max bytes: the json.Decoder buffers the
// value it decodes, so the cap bounds its memory. Errors: a value over the cap wraps
// store.ErrTooLarge; bad JSON, a value of the wrong type, a repeated key and a document
// that ends early wrap the malformed sentinel the caller gives; the reader's own errors
// are returned as they are (wrapped).
type Decoder struct {
	dec       *json.Decoder
	cr        *capReader
	max       int
	malformed error
}

// NewDecoder returns a Decoder on r with a cap of max bytes per value.
func NewDecoder(r io.Reader, max int, malformed error) *Decoder {
	cr := &capReader{r: r, max: max}
	return &Decoder{dec: json.NewDecoder(cr), cr: cr, max: max, malformed: malformed}
}

// capReader fails once more than left bytes are read; it keeps the first read error
// other than io.EOF.
type capReader struct {
	r    io.Reader
	left int
	max  int
	err  error
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.left <= 0 {
		c.err = tooLarge(c.max)
		return 0, c.err
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= n
	if err != nil && err != io.EOF {
		c.err = fmt.Errorf("reading the document: %w", err)
		err = c.err
	}
	return n, err
}

func tooLarge(max int) error {
	return fmt.Errorf("%w: a JSON value is over %d bytes", store.ErrTooLarge, max)
}

// read runs one read of the decoder under the cap. The reader's cap bounds what the
// decoder buffers; the offsets make the cap exact whatever it had read ahead.
func (d *Decoder) read(f func() error) error {
	d.cr.left = d.max
	start := d.dec.InputOffset()
	if err := f(); err != nil {
		return d.fail(err)
	}
	if d.dec.InputOffset()-start > int64(d.max) {
		return tooLarge(d.max)
	}
	return nil
}

// fail turns a decoder error into the error to return.
func (d *Decoder) fail(err error) error {
	if d.cr.err != nil {
		return d.cr.err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the document ends early", d.malformed)
	}
	return fmt.Errorf("%w: %v", d.malformed, err)
}

// Token returns the next token (json.Decoder.Token).
func (d *Decoder) Token() (json.Token, error) {
	var t json.Token
	err := d.read(func() (err error) {
		t, err = d.dec.Token()
		return err
	})
	return t, err
}

// Decode decodes the next value into v (json.Decoder.Decode).
func (d *Decoder) Decode(v any) error {
	return d.read(func() error { return d.dec.Decode(v) })
}

// Object reads an object and calls fn with each key; fn must read the key's value (with
// Decode, Array, Object or Skip). A key given twice is malformed: which of the two a
// client would use is unspecified.
func (d *Decoder) Object(fn func(key string) error) error {
	t, err := d.Token()
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return fmt.Errorf("%w: not a JSON object", d.malformed)
	}
	seen := map[string]bool{}
	for d.dec.More() {
		t, err := d.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string) // the decoder gives keys as strings
		if seen[key] {
			return fmt.Errorf("%w: key %q given twice", d.malformed, key)
		}
		seen[key] = true
		if err := fn(key); err != nil {
			return err
		}
	}
	_, err = d.Token() // the closing brace (More said so)
	return err
}

// Array reads an array and calls fn for each element, which fn must read. It reports
// whether the value was a list: null is no list and no error (as encoding/json decodes
// null into a slice).
func (d *Decoder) Array(fn func() error) (bool, error) {
	t, err := d.Token()
	if err != nil {
		return false, err
	}
	if t == nil {
		return false, nil
	}
	if t != json.Delim('[') {
		return false, fmt.Errorf("%w: not a JSON list", d.malformed)
	}
	for d.dec.More() {
		if err := fn(); err != nil {
			return true, err
		}
	}
	_, err = d.Token() // the closing bracket
	return true, err
}

// Skip reads past the next value token by token: a large value costs one token at a
// time.
func (d *Decoder) Skip() error {
	depth := 0
	for {
		t, err := d.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// End checks that nothing but white space follows the document.
func (d *Decoder) End() error {
	d.cr.left = d.max
	_, err := d.dec.Token()
	switch {
	case err == io.EOF:
		return nil
	case d.cr.err != nil:
		return d.cr.err
	}
	return fmt.Errorf("%w: data after the JSON document", d.malformed)
}

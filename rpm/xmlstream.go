package rpm

import (
	"bufio"
	"context"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/airgapkit/airgap/store"
)

// MaxElementSize caps one element of a streamed metadata file (a <package> of primary,
// filelists or other, an <update> of updateinfo): memory stays proportional to one
// element, however large the file.
const MaxElementSize = 64 << 20

// recorder hands bytes to an xml.Decoder one by one (it is an io.ByteReader, so the
// decoder reads nothing ahead) and keeps what was read since the last discard, so that
// an element's bytes can be copied as they are.
type recorder struct {
	r    *bufio.Reader
	buf  []byte
	base int64 // stream offset of buf[0]
}

func (rc *recorder) ReadByte() (byte, error) {
	b, err := rc.r.ReadByte()
	if err != nil {
		return 0, err
	}
	if len(rc.buf) >= MaxElementSize {
		return 0, fmt.Errorf("%w: an element is larger than %d bytes", store.ErrTooLarge, MaxElementSize)
	}
	rc.buf = append(rc.buf, b)
	return b, nil
}

func (rc *recorder) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := rc.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = b
	return 1, nil
}

// discard forgets the bytes before stream offset off.
func (rc *recorder) discard(off int64) {
	if n := off - rc.base; n > 0 && n <= int64(len(rc.buf)) {
		rc.buf = append(rc.buf[:0], rc.buf[n:]...)
		rc.base = off
	}
}

func (rc *recorder) bytes(from, to int64) []byte { return rc.buf[from-rc.base : to-rc.base] }

// elementStream walks the children of a document's root element one at a time.
type elementStream struct {
	name       string // for errors
	rec        *recorder
	d          *xml.Decoder
	Root       xml.StartElement
	start, end int64
}

// newElementStream reads up to the root element, which must be named root (any
// namespace).
func newElementStream(name string, r io.Reader, root string) (*elementStream, error) {
	s := &elementStream{name: name, rec: &recorder{r: bufio.NewReaderSize(r, 64<<10)}}
	s.d = xml.NewDecoder(s.rec)
	for {
		tok, err := s.d.Token()
		if err != nil {
			return nil, s.err(err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != root {
				return nil, fmt.Errorf("%w: %s: root element <%s>, expected <%s>", ErrMalformed, name, se.Name.Local, root)
			}
			s.Root = se.Copy()
			return s, nil
		}
	}
}

func (s *elementStream) err(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return malformedRead(s.name, err)
}

// Next returns the next child element of the root, or ok false at the root's end (the
// rest of the stream is read, so that a decompressor or checksum sees all of it). It
// stops with ctx's error once ctx is done: a stream has millions of elements.
func (s *elementStream) Next(ctx context.Context) (se xml.StartElement, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return se, false, err
	}
	s.rec.discard(s.d.InputOffset())
	for {
		off := s.d.InputOffset()
		tok, err := s.d.Token()
		if err != nil {
			return se, false, s.err(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			s.start = off
			return t, true, nil
		case xml.EndElement:
			for {
				if _, err := s.d.Token(); err == io.EOF {
					return se, false, nil
				} else if err != nil {
					return se, false, s.err(err)
				}
			}
		}
		s.rec.discard(s.d.InputOffset())
	}
}

// Decode decodes the element Next returned into v.
func (s *elementStream) Decode(v any, se xml.StartElement) error {
	if err := s.d.DecodeElement(v, &se); err != nil {
		return s.err(err)
	}
	s.end = s.d.InputOffset()
	return nil
}

// Skip passes over the element Next returned.
func (s *elementStream) Skip() error {
	if err := s.d.Skip(); err != nil {
		return s.err(err)
	}
	s.end = s.d.InputOffset()
	return nil
}

// Raw is the bytes of the element last decoded or skipped, valid until Next.
func (s *elementStream) Raw() []byte { return s.rec.bytes(s.start, s.end) }

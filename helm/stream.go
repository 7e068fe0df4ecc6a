package helm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/airgapkit/airgap/internal/jsonstream"
	"github.com/airgapkit/airgap/store"
)

// maxIndexLine caps one line of a YAML index read block by block; a longer line (a
// document written on one line) is read whole.
const maxIndexLine = 1 << 20

// errWhole says a document is not in the shape ReadIndex reads block by block: it is
// decoded whole instead (the whole decoder gives any error).
var errWhole = errors.New("helm: index read whole")

// ReadIndex reads an index.yaml or index.json and keeps the entries of the charts want
// accepts (nil: every chart), with memory that follows those entries rather than the
// document. A YAML index in block style (as helm and every repository server write it)
// is split into the top-level entries' per-chart blocks and only the wanted ones are
// decoded; a JSON index is read a value at a time and the unwanted charts skipped. A
// document in another shape (flow style, anchors or aliases across blocks, tags,
// directives, several documents, lines over 1 MiB) is decoded whole, as ParseIndex does,
// so the result is the same either way (FuzzReadIndex). Errors are ParseIndex's; a
// malformed entry of a chart that is not wanted may go unnoticed.
func ReadIndex(r io.ReadSeeker, want func(chart string) bool) (*Index, error) {
	if want == nil {
		want = func(string) bool { return true }
	}
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 64<<10)
	var idx *Index
	var err error
	if head, _ := br.Peek(512); bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("{")) {
		idx, err = readJSONIndex(br, want)
	} else {
		idx, err = readYAMLIndex(br, want)
	}
	if cr.n > MaxIndexSize {
		return nil, fmt.Errorf("%w: index over %d bytes", store.ErrTooLarge, MaxIndexSize)
	}
	if err == nil {
		return idx, nil
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("helm: index: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxIndexSize+1))
	if err != nil {
		return nil, fmt.Errorf("helm: index: %w", err)
	}
	if idx, err = ParseIndex(b); err != nil {
		return nil, err
	}
	for name := range idx.Entries {
		if !want(name) {
			delete(idx.Entries, name)
		}
	}
	return idx, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n > MaxIndexSize {
		return 0, fmt.Errorf("%w: index over %d bytes", store.ErrTooLarge, MaxIndexSize)
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readJSONIndex reads a JSON index a value at a time: each wanted chart's list and each
// top-level field is decoded as YAML (JSON is YAML), so its values are what the whole
// decoder makes of them.
func readJSONIndex(r io.Reader, want func(string) bool) (*Index, error) {
	d := jsonstream.NewDecoder(r, int(MaxIndexSize), errWhole)
	top := map[string]any{}
	idx := &Index{Entries: map[string][]*Version{}, fields: map[string]any{}}
	err := d.Object(func(key string) error {
		if key != "entries" {
			var raw json.RawMessage
			if err := d.Decode(&raw); err != nil {
				return err
			}
			var v any
			if err := yaml.Unmarshal(raw, &v); err != nil {
				return errWhole
			}
			top[key] = v
			return nil
		}
		return d.Object(func(chart string) error {
			if !want(chart) {
				return d.Skip()
			}
			var raw json.RawMessage
			if err := d.Decode(&raw); err != nil {
				return err
			}
			var list any
			if err := yaml.Unmarshal(raw, &list); err != nil {
				return errWhole
			}
			return addChart(idx, chart, list)
		})
	})
	if err != nil {
		return nil, errWhole
	}
	if err := d.End(); err != nil {
		return nil, errWhole
	}
	if err := setFields(idx, top); err != nil {
		return nil, errWhole
	}
	return idx, nil
}

// yamlBlocks is the state of readYAMLIndex.
type yamlBlocks struct {
	want   func(string) bool
	idx    *Index
	rest   bytes.Buffer // the top-level keys other than entries, decoded together
	inTop  bool         // the current top-level key is one of those
	inEnts bool         // the current top-level key is entries
	child  int          // the indentation of entries' keys; -1 before the first
	chart  string       // the current chart ("" before the first)
	keep   bool         // it is wanted: its lines are kept in cur
	cur    bytes.Buffer
	tops   map[string]bool
	charts map[string]bool
	lex    lexer
}

// readYAMLIndex splits a block-style YAML index into its top-level keys and entries'
// charts by indentation, tracking quoted scalars, flow collections and block scalars
// so that a line inside one is never taken for a key. Anything it cannot be sure of is
// errWhole.
func readYAMLIndex(br *bufio.Reader, want func(string) bool) (*Index, error) {
	y := &yamlBlocks{want: want, idx: &Index{Entries: map[string][]*Version{}, fields: map[string]any{}}, child: -1,
		tops: map[string]bool{}, charts: map[string]bool{}, lex: lexer{scalar: -1}}
	for first := true; ; first = false {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) || len(raw) > maxIndexLine {
			return nil, errWhole
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if len(raw) > 0 {
			if err := y.line(raw, first); err != nil {
				return nil, err
			}
		}
		if err != nil {
			break
		}
	}
	if y.lex.open() || len(y.tops) == 0 {
		return nil, errWhole
	}
	if err := y.finish(); err != nil {
		return nil, err
	}
	var top map[string]any
	if err := yaml.Unmarshal(y.rest.Bytes(), &top); err != nil {
		return nil, errWhole
	}
	if err := setFields(y.idx, top); err != nil {
		return nil, errWhole
	}
	return y.idx, nil
}

// Line breaks libyaml knows besides "\n" (a "\r" is one too, unless before "\n"), and
// the byte order mark: a document with them is read whole.
var oddBreaks = [][]byte{[]byte("\u0085"), []byte("\u2028"), []byte("\u2029"), []byte("\ufeff")}

func (y *yamlBlocks) line(raw []byte, first bool) error {
	text := bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte("\n")), []byte("\r"))
	if bytes.IndexByte(text, '\r') >= 0 {
		return errWhole
	}
	for _, b := range oddBreaks {
		if bytes.Contains(text, b) {
			return errWhole
		}
	}
	ind := indentOf(text)
	blank := ind == len(text) || text[ind] == '#'
	if y.lex.open() {
		// Inside a quoted scalar or a flow collection: never where a key may start.
		if ind == 0 && !blank || y.inEnts && ind <= y.child && !blank {
			return errWhole
		}
		y.add(raw)
		y.lex.scan(text)
		return nil
	}
	if y.lex.scalar >= 0 {
		if blank || ind > y.lex.scalar {
			y.add(raw) // block scalar content
			return nil
		}
		y.lex.scalar = -1
	}
	if blank {
		y.add(raw)
		return nil
	}
	if text[ind] == '\t' {
		return errWhole
	}
	switch {
	case ind == 0:
		if first && string(text) == "---" {
			return nil
		}
		if text[0] == '-' || text[0] == '.' || text[0] == '%' {
			return errWhole // a sequence at the top, a document marker, a directive
		}
		key, after, ok := plainKey(text)
		if !ok || y.tops[key] {
			return errWhole
		}
		y.tops[key] = true
		if err := y.finish(); err != nil {
			return err
		}
		y.inTop, y.inEnts = key != "entries", key == "entries"
		if y.inEnts {
			if !onlyComment(after) {
				return errWhole // entries: {...}, an anchor, an alias, a tag
			}
			return nil
		}
		y.rest.Write(raw)
	case y.inTop:
		y.rest.Write(raw)
	case !y.inEnts:
		return errWhole
	default:
		if y.child < 0 {
			y.child = ind
		}
		switch {
		case ind < y.child:
			return errWhole
		case ind == y.child && text[ind] == '-' && (len(text) == ind+1 || text[ind+1] == ' '):
			if y.chart == "" {
				return errWhole
			}
			y.add(raw) // a chart's list written at its key's indentation, as helm writes it
		case ind == y.child:
			key, _, ok := plainKey(text[ind:])
			if !ok || y.charts[key] || key == "<<" {
				return errWhole
			}
			if err := y.finish(); err != nil {
				return err
			}
			y.charts[key] = true
			y.chart, y.keep = key, y.want(key)
			y.add(raw)
		default:
			if y.chart == "" {
				return errWhole
			}
			y.add(raw)
		}
	}
	y.lex.scan(text)
	return nil
}

// add appends a line to the block it belongs to.
func (y *yamlBlocks) add(raw []byte) {
	switch {
	case y.inTop:
		y.rest.Write(raw)
	case y.inEnts && y.keep:
		y.cur.Write(raw)
	}
}

// finish decodes the current chart's block when it is wanted.
func (y *yamlBlocks) finish() error {
	defer func() { y.chart, y.keep = "", false; y.cur.Reset() }()
	if !y.keep {
		return nil
	}
	var m map[string]any
	if err := yaml.Unmarshal(y.cur.Bytes(), &m); err != nil || len(m) != 1 {
		return errWhole
	}
	list, ok := m[y.chart]
	if !ok {
		return errWhole
	}
	if err := addChart(y.idx, y.chart, list); err != nil {
		return errWhole
	}
	return nil
}

func indentOf(b []byte) int {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

func onlyComment(b []byte) bool {
	b = bytes.TrimLeft(b, " ")
	return len(b) == 0 || b[0] == '#'
}

// plainKey reads "key:" at the start of s: a plain scalar that needs no quoting, then
// ":" and a space or the end. It returns the key and what follows the colon.
func plainKey(s []byte) (string, []byte, bool) {
	if len(s) == 0 || strings.IndexByte("-?:,[]{}#&*!|>'\"%@`<", s[0]) >= 0 {
		return "", nil, false
	}
	i := 0
	for ; i < len(s); i++ {
		if s[i] == ':' && (i+1 == len(s) || s[i+1] == ' ') {
			break
		}
		if s[i] == '\t' || s[i] == '#' && s[i-1] == ' ' {
			return "", nil, false
		}
	}
	if i == len(s) {
		return "", nil, false
	}
	key := string(s[:i])
	if strings.TrimSpace(key) != key || strings.ContainsAny(key, "\"'") {
		return "", nil, false
	}
	return key, s[i+1:], true
}

// lexer follows what spans lines in YAML: quoted scalars, flow collections, and block
// scalars (scalar is the indentation their content must exceed, -1 when not in one).
type lexer struct {
	dq, sq bool
	flow   int
	scalar int
}

func (l *lexer) open() bool { return l.dq || l.sq || l.flow > 0 }

// scan reads one line (not a block scalar's content).
func (l *lexer) scan(s []byte) {
	node := indentOf(s) // the column of the node the line's value belongs to
	dash := -1          // the column of the last sequence item's dash
	prev := byte(0)     // the last indicator or significant character outside quotes
	space := true       // whitespace since prev (true at the start of the line)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case l.dq:
			if c == '\\' {
				i++
			} else if c == '"' {
				l.dq, prev, space = false, '"', false
			}
			continue
		case l.sq:
			if c == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					l.sq, prev, space = false, '\'', false
				}
			}
			continue
		}
		if c == ' ' || c == '\t' {
			space = true
			continue
		}
		start := prev == 0 || strings.IndexByte("[{,", prev) >= 0 || strings.IndexByte(":-?", prev) >= 0 && (space || l.flow > 0)
		switch {
		case c == '#' && space:
			return
		case (c == '"' || c == '\'') && start:
			l.dq, l.sq = c == '"', c == '\''
		case (c == '[' || c == '{') && start:
			l.flow++
		case (c == ']' || c == '}') && l.flow > 0:
			l.flow--
		case (c == '|' || c == '>') && start && l.flow == 0 && blockHeader(s[i+1:]):
			l.scalar = node
			if prev == '-' {
				l.scalar = dash // "- |": the item's content is deeper than its dash
			}
			return
		case c == '-' && l.flow == 0 && start && prev != ':' && (i+1 == len(s) || s[i+1] == ' '):
			dash, node = i, i+2 // "- key: ...": the item's node starts after the dash
			for node < len(s) && s[node] == ' ' {
				node++
			}
		}
		prev, space = c, false
	}
}

// blockHeader reports whether what follows "|" or ">" is a block scalar header's rest:
// indentation and chomping indicators, then nothing or a comment.
func blockHeader(rest []byte) bool {
	i := 0
	for i < len(rest) && (rest[i] == '+' || rest[i] == '-' || rest[i] >= '0' && rest[i] <= '9') {
		i++
	}
	rest = rest[i:]
	if len(rest) > 0 && rest[0] != ' ' {
		return false
	}
	return onlyComment(rest)
}

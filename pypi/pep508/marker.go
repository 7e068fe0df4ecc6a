package pep508

import (
	"errors"
	"fmt"
	"strings"

	"github.com/airgapkit/airgap/pypi/pep440"
)

// ErrSyntax is returned (wrapped in a *SyntaxError) for a malformed requirement or marker.
var ErrSyntax = errors.New("pep508: syntax error")

// ErrUndefined is returned by Evaluate for a marker naming a variable the environment
// lacks, or comparing non-versions with an ordering operator.
var ErrUndefined = errors.New("pep508: undefined comparison")

// SyntaxError tells where parsing failed.
type SyntaxError struct {
	Input  string
	Offset int
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("pep508: %s at offset %d in %q", e.Reason, e.Offset, e.Input)
}

// Unwrap makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// maxInput caps the length of a requirement or marker the parsers accept.
const maxInput = 8 << 10

// maxDepth caps marker parenthesis nesting.
const maxDepth = 64

// Environment maps marker variable names (python_version, sys_platform, extra, ...) to
// their values for one target interpreter and platform.
type Environment map[string]string

// The marker variables PEP 508 defines.
var variables = map[string]bool{
	"python_version": true, "python_full_version": true, "os_name": true,
	"sys_platform": true, "platform_release": true, "platform_system": true,
	"platform_version": true, "platform_machine": true, "platform_python_implementation": true,
	"implementation_name": true, "implementation_version": true, "extra": true,
}

// Legacy spellings that setuptools-era metadata still carries.
var aliases = map[string]string{
	"os.name": "os_name", "sys.platform": "sys_platform", "platform.version": "platform_version",
	"platform.machine": "platform_machine", "platform.python_implementation": "platform_python_implementation",
	"python_implementation": "platform_python_implementation",
}

// Marker is a parsed environment marker such as
// `python_version < "3.11" and (sys_platform == "linux" or extra == "test")`.
type Marker struct{ root node }

type node interface {
	eval(env Environment) (bool, error)
	str(top bool) string
	mentions(name string) bool
}

type boolOp struct {
	and         bool
	left, right node
}

type compare struct {
	lhs, rhs operand
	op       string
}

type operand struct {
	variable string // set for a variable
	literal  string
}

// ParseMarker parses a marker expression.
func ParseMarker(s string) (*Marker, error) {
	if len(s) > maxInput {
		return nil, &SyntaxError{Input: s[:64] + "...", Reason: "input too long"}
	}
	p := &parser{in: s}
	if err := p.lex(); err != nil {
		return nil, err
	}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, p.fail("unexpected " + p.toks[p.pos].text)
	}
	return &Marker{root: n}, nil
}

// String renders the marker in a canonical form (double quotes, single spaces, only the
// parentheses that are needed).
func (m *Marker) String() string {
	if m == nil || m.root == nil {
		return ""
	}
	return m.root.str(true)
}

// Evaluate reports whether the marker holds in env. A nil Marker always holds. Comparisons
// of versions use PEP 440 (pre-releases included); "extra" compares normalised names.
func (m *Marker) Evaluate(env Environment) (bool, error) {
	if m == nil || m.root == nil {
		return true, nil
	}
	return m.root.eval(env)
}

// MentionsExtra reports whether the marker tests the "extra" variable.
func (m *Marker) MentionsExtra() bool {
	return m != nil && m.root != nil && m.root.mentions("extra")
}

func (b *boolOp) eval(env Environment) (bool, error) {
	l, err := b.left.eval(env)
	if err != nil {
		return false, err
	}
	if b.and && !l {
		return false, nil
	}
	if !b.and && l {
		return true, nil
	}
	return b.right.eval(env)
}

func (b *boolOp) str(top bool) string {
	op := " or "
	if b.and {
		op = " and "
	}
	// "and" binds tighter than "or": an "or" under an "and" needs parentheses.
	l, r := b.left.str(false), b.right.str(false)
	if b.and {
		if lo, ok := b.left.(*boolOp); ok && !lo.and {
			l = "(" + l + ")"
		}
		if ro, ok := b.right.(*boolOp); ok && !ro.and {
			r = "(" + r + ")"
		}
	} else if ro, ok := b.right.(*boolOp); ok && !ro.and {
		r = "(" + r + ")"
	}
	return l + op + r
}

func (b *boolOp) mentions(name string) bool { return b.left.mentions(name) || b.right.mentions(name) }

func (c *compare) mentions(name string) bool {
	return c.lhs.variable == name || c.rhs.variable == name
}

func (o operand) str() string {
	if o.variable != "" {
		return o.variable
	}
	if strings.Contains(o.literal, `"`) {
		return "'" + o.literal + "'"
	}
	return `"` + o.literal + `"`
}

func (c *compare) str(bool) string { return c.lhs.str() + " " + c.op + " " + c.rhs.str() }

func (o operand) value(env Environment) (string, error) {
	if o.variable == "" {
		return o.literal, nil
	}
	v, ok := env[o.variable]
	if !ok {
		if o.variable == "extra" {
			return "", nil
		}
		return "", fmt.Errorf("%w: environment has no %q", ErrUndefined, o.variable)
	}
	return v, nil
}

func (c *compare) eval(env Environment) (bool, error) {
	l, err := c.lhs.value(env)
	if err != nil {
		return false, err
	}
	r, err := c.rhs.value(env)
	if err != nil {
		return false, err
	}
	if c.lhs.variable == "extra" || c.rhs.variable == "extra" {
		l, r = NormalizeName(l), NormalizeName(r)
	}
	switch c.op {
	case "in":
		return strings.Contains(r, l), nil
	case "not in":
		return !strings.Contains(r, l), nil
	}
	if spec, err := pep440.ParseSpecifier(c.op + r); err == nil {
		if v, err := pep440.Parse(l); err == nil {
			return spec.Matches(v), nil
		}
	}
	switch c.op {
	case "==", "===":
		return l == r, nil
	case "!=":
		return l != r, nil
	}
	return false, fmt.Errorf("%w: %q %s %q", ErrUndefined, l, c.op, r)
}

// --- lexer and parser ---

type tokKind int

const (
	tokIdent tokKind = iota
	tokString
	tokOp
	tokLParen
	tokRParen
)

type token struct {
	kind tokKind
	text string
	off  int
}

type parser struct {
	in   string
	toks []token
	pos  int
}

func (p *parser) fail(reason string) error {
	off := len(p.in)
	if p.pos < len(p.toks) {
		off = p.toks[p.pos].off
	}
	return &SyntaxError{Input: p.in, Offset: off, Reason: reason}
}

func (p *parser) lex() error {
	s := p.in
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			p.toks = append(p.toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			p.toks = append(p.toks, token{tokRParen, ")", i})
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return &SyntaxError{Input: s, Offset: i, Reason: "unterminated string"}
			}
			p.toks = append(p.toks, token{tokString, s[i+1 : i+1+j], i})
			i += j + 2
		case strings.IndexByte("<>=!~", c) >= 0:
			j := i
			for j < len(s) && strings.IndexByte("<>=!~", s[j]) >= 0 {
				j++
			}
			op := s[i:j]
			switch op {
			case "<", "<=", ">", ">=", "==", "!=", "~=", "===":
			default:
				return &SyntaxError{Input: s, Offset: i, Reason: "unknown operator " + op}
			}
			p.toks = append(p.toks, token{tokOp, op, i})
			i = j
		case isIdentChar(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			p.toks = append(p.toks, token{tokIdent, s[i:j], i})
			i = j
		default:
			return &SyntaxError{Input: s, Offset: i, Reason: fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return nil
}

func isIdentChar(c byte) bool {
	return c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *parser) peekIdent(word string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == tokIdent && p.toks[p.pos].text == word
}

func (p *parser) or(depth int) (node, error) {
	n, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.peekIdent("or") {
		p.pos++
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		n = &boolOp{and: false, left: n, right: r}
	}
	return n, nil
}

func (p *parser) and(depth int) (node, error) {
	n, err := p.atom(depth)
	if err != nil {
		return nil, err
	}
	for p.peekIdent("and") {
		p.pos++
		r, err := p.atom(depth)
		if err != nil {
			return nil, err
		}
		n = &boolOp{and: true, left: n, right: r}
	}
	return n, nil
}

func (p *parser) atom(depth int) (node, error) {
	if p.pos >= len(p.toks) {
		return nil, p.fail("expression expected")
	}
	if p.toks[p.pos].kind == tokLParen {
		if depth >= maxDepth {
			return nil, p.fail("nested too deeply")
		}
		p.pos++
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != tokRParen {
			return nil, p.fail("')' expected")
		}
		p.pos++
		return n, nil
	}
	lhs, err := p.operand()
	if err != nil {
		return nil, err
	}
	op, err := p.operator()
	if err != nil {
		return nil, err
	}
	rhs, err := p.operand()
	if err != nil {
		return nil, err
	}
	if lhs.variable == "" && rhs.variable == "" {
		p.pos--
		return nil, p.fail("comparison of two literals")
	}
	return &compare{lhs: lhs, op: op, rhs: rhs}, nil
}

func (p *parser) operand() (operand, error) {
	if p.pos >= len(p.toks) {
		return operand{}, p.fail("variable or string expected")
	}
	t := p.toks[p.pos]
	switch t.kind {
	case tokString:
		p.pos++
		return operand{literal: t.text}, nil
	case tokIdent:
		name := t.text
		if a, ok := aliases[name]; ok {
			name = a
		}
		if !variables[name] {
			return operand{}, p.fail("unknown marker variable " + t.text)
		}
		p.pos++
		return operand{variable: name}, nil
	}
	return operand{}, p.fail("variable or string expected")
}

func (p *parser) operator() (string, error) {
	if p.pos >= len(p.toks) {
		return "", p.fail("operator expected")
	}
	t := p.toks[p.pos]
	switch {
	case t.kind == tokOp:
		p.pos++
		return t.text, nil
	case t.kind == tokIdent && t.text == "in":
		p.pos++
		return "in", nil
	case t.kind == tokIdent && t.text == "not":
		p.pos++
		if p.peekIdent("in") {
			p.pos++
			return "not in", nil
		}
		return "", p.fail("'in' expected after 'not'")
	}
	return "", p.fail("operator expected")
}

package rpm

import (
	"fmt"
	"strings"
)

// Flags is the comparison of a versioned dependency, as primary.xml writes it.
type Flags string

// The comparisons of primary.xml's flags attribute; "" is unversioned.
const (
	FlagEQ Flags = "EQ"
	FlagLT Flags = "LT"
	FlagLE Flags = "LE"
	FlagGT Flags = "GT"
	FlagGE Flags = "GE"
)

// Dep is one entry of a package's provides, requires, recommends, ...: a capability name
// (a package or virtual name, a file path, or a rich dependency in parentheses), with an
// optional comparison. Pre marks Requires(pre), Requires(post) and PreReq.
type Dep struct {
	Name  string
	Flags Flags
	EVR   EVR
	Pre   bool
}

// IsRich reports whether d is a boolean (rich) dependency: "(a or b)".
func (d Dep) IsRich() bool { return strings.HasPrefix(d.Name, "(") }

// String writes the dependency as a spec file would ("libapr >= 0:1.7").
func (d Dep) String() string {
	if d.Flags == "" {
		return d.Name
	}
	return d.Name + " " + flagOps[d.Flags] + " " + d.EVR.String()
}

var flagOps = map[Flags]string{FlagEQ: "=", FlagLT: "<", FlagLE: "<=", FlagGT: ">", FlagGE: ">="}

// Satisfies reports whether a provide p (name already matched) satisfies a requirement
// r: their ranges overlap, as rpm's rangesOverlap decides. An unversioned side matches
// any version.
func (p Dep) Satisfies(r Dep) bool {
	if p.Flags == "" || r.Flags == "" {
		return true
	}
	c := p.EVR.Compare(r.EVR)
	pLess, pGreater, pEq := has(p.Flags, "L"), has(p.Flags, "G"), has(p.Flags, "E")
	rLess, rGreater, rEq := has(r.Flags, "L"), has(r.Flags, "G"), has(r.Flags, "E")
	switch {
	case c < 0:
		return pGreater || rLess
	case c > 0:
		return pLess || rGreater
	}
	return pEq && rEq || pLess && rLess || pGreater && rGreater
}

func has(f Flags, c string) bool {
	switch c {
	case "L":
		return f == FlagLT || f == FlagLE
	case "G":
		return f == FlagGT || f == FlagGE
	}
	return f == FlagEQ || f == FlagLE || f == FlagGE
}

// Rich is a parsed boolean dependency: a leaf (Op "", Dep set) or an operator with its
// operands: and, or, if, unless, with, without; If and Unless may have an Else.
type Rich struct {
	Op   string
	Dep  Dep
	Args []*Rich
	Else *Rich
}

// maxRichDepth bounds the nesting of a rich dependency.
const maxRichDepth = 32

// ParseRich parses a rich dependency "(A op B ...)" as rpm writes it in primary.xml
// (nested parentheses, the comparison operators, and the keywords and, or, if, else,
// unless, with, without).
func ParseRich(s string) (*Rich, error) {
	p := &richParser{s: s}
	r, err := p.expr(0)
	if err != nil {
		return nil, fmt.Errorf("%w: rich dependency %q: %v", ErrMalformed, s, err)
	}
	if p.skip(); p.i != len(p.s) {
		return nil, fmt.Errorf("%w: rich dependency %q: text after the expression", ErrMalformed, s)
	}
	return r, nil
}

type richParser struct {
	s string
	i int
}

func (p *richParser) skip() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// word reads the next token up to a space or a parenthesis.
func (p *richParser) word() string {
	p.skip()
	j := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != '(' && p.s[p.i] != ')' {
		p.i++
	}
	return p.s[j:p.i]
}

// expr reads "(" operand [op operand ...] ")".
func (p *richParser) expr(depth int) (*Rich, error) {
	if depth > maxRichDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxRichDepth)
	}
	p.skip()
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, fmt.Errorf("expected ( at %d", p.i)
	}
	p.i++
	first, err := p.operand(depth)
	if err != nil {
		return nil, err
	}
	var out *Rich
	for {
		p.skip()
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("missing )")
		}
		if p.s[p.i] == ')' {
			p.i++
			if out == nil {
				return first, nil
			}
			return out, nil
		}
		op := p.word()
		switch op {
		case "and", "or", "with", "without", "if", "unless":
		case "else":
			if out == nil || (out.Op != "if" && out.Op != "unless") || out.Else != nil {
				return nil, fmt.Errorf("else without if or unless")
			}
			if out.Else, err = p.operand(depth); err != nil {
				return nil, err
			}
			continue
		default:
			return nil, fmt.Errorf("unknown operator %q", op)
		}
		arg, err := p.operand(depth)
		if err != nil {
			return nil, err
		}
		switch {
		case out == nil:
			out = &Rich{Op: op, Args: []*Rich{first, arg}}
		case out.Op == op && (op == "and" || op == "or" || op == "with") && out.Else == nil:
			out.Args = append(out.Args, arg)
		default:
			return nil, fmt.Errorf("%s after %s needs parentheses", op, out.Op)
		}
	}
}

// operand reads a nested expression or a simple dependency "name [op evr]".
func (p *richParser) operand(depth int) (*Rich, error) {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		return p.expr(depth + 1)
	}
	name := p.word()
	if name == "" {
		return nil, fmt.Errorf("expected a dependency at %d", p.i)
	}
	d := Dep{Name: name}
	save := p.i
	if op := p.word(); op != "" {
		if f, ok := opFlags[op]; ok {
			evr := p.word()
			e, err := ParseEVR(evr)
			if err != nil {
				return nil, err
			}
			d.Flags, d.EVR = f, e
		} else {
			p.i = save
		}
	}
	return &Rich{Dep: d}, nil
}

var opFlags = map[string]Flags{"=": FlagEQ, "==": FlagEQ, "<": FlagLT, "<=": FlagLE, ">": FlagGT, ">=": FlagGE}

// Needed returns the simple dependencies a mirror must be able to satisfy so that every
// way a client may resolve r works: every alternative of "or", both sides of "and" and
// "with", the left of "without", the consequent of "if" and "unless", and both branches
// when there is an "else". Conditions are not needed: a client that has them installed
// already has them.
func (r *Rich) Needed() []Dep {
	var out []Dep
	var walk func(*Rich)
	walk = func(n *Rich) {
		switch n.Op {
		case "":
			out = append(out, n.Dep)
		case "and", "or", "with":
			for _, a := range n.Args {
				walk(a)
			}
		case "without", "if", "unless":
			walk(n.Args[0])
			if n.Else != nil {
				walk(n.Else)
			}
		}
	}
	walk(r)
	return out
}

// Leaves returns every simple dependency r names, conditions included: what a
// Supplements or Enhances expression refers to.
func (r *Rich) Leaves() []Dep {
	if r.Op == "" {
		return []Dep{r.Dep}
	}
	var out []Dep
	for _, a := range r.Args {
		out = append(out, a.Leaves()...)
	}
	if r.Else != nil {
		out = append(out, r.Else.Leaves()...)
	}
	return out
}

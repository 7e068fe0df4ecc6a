package rpm

import (
	"encoding/xml"
	"io"
	"strings"
)

// xnode is an element of a small XML document held whole (a comps group, an updateinfo
// update): enough to filter it and write it back.
type xnode struct {
	name string
	attr []xml.Attr
	kids []any // *xnode or string (character data)
}

const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

// Node reads the element Next returned as a tree.
func (s *elementStream) Node(se xml.StartElement) (*xnode, error) {
	root := &xnode{name: se.Name.Local, attr: se.Copy().Attr}
	stack := []*xnode{root}
	for len(stack) > 0 {
		tok, err := s.d.Token()
		if err != nil {
			return nil, s.err(err)
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: t.Name.Local, attr: t.Copy().Attr}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.kids = append(top.kids, string(t))
		}
	}
	s.end = s.d.InputOffset()
	return root, nil
}

// children returns the child elements named name.
func (n *xnode) children(name string) []*xnode {
	var out []*xnode
	for _, k := range n.kids {
		if c, ok := k.(*xnode); ok && c.name == name {
			out = append(out, c)
		}
	}
	return out
}

// child returns the first child element named name, or nil.
func (n *xnode) child(name string) *xnode {
	if cs := n.children(name); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// text is the element's character data, trimmed.
func (n *xnode) text() string {
	var b strings.Builder
	for _, k := range n.kids {
		if s, ok := k.(string); ok {
			b.WriteString(s)
		}
	}
	return strings.TrimSpace(b.String())
}

func (n *xnode) get(attr string) string {
	for _, a := range n.attr {
		if a.Name.Local == attr {
			return a.Value
		}
	}
	return ""
}

// remove drops the child elements for which drop is true (and the whitespace before
// each).
func (n *xnode) remove(drop func(*xnode) bool) {
	out := n.kids[:0]
	for _, k := range n.kids {
		if c, ok := k.(*xnode); ok && drop(c) {
			if len(out) > 0 {
				if s, ok := out[len(out)-1].(string); ok && strings.TrimSpace(s) == "" {
					out = out[:len(out)-1]
				}
			}
			continue
		}
		out = append(out, k)
	}
	n.kids = out
}

// write serialises the element.
func (n *xnode) write(w io.Writer) error {
	var b strings.Builder
	n.render(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (n *xnode) render(b *strings.Builder) {
	b.WriteString("<" + n.name)
	for _, a := range n.attr {
		name := a.Name.Local
		switch a.Name.Space {
		case "":
		case xmlNamespace:
			name = "xml:" + name
		case "xmlns":
			name = "xmlns:" + name
		}
		b.WriteString(" " + name + `="`)
		xml.EscapeText(b, []byte(a.Value))
		b.WriteString(`"`)
	}
	if len(n.kids) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteString(">")
	for _, k := range n.kids {
		switch k := k.(type) {
		case string:
			xml.EscapeText(b, []byte(k))
		case *xnode:
			k.render(b)
		}
	}
	b.WriteString("</" + n.name + ">")
}

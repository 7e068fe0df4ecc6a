package rpm

import (
	"context"
	"io"
)

const compsProlog = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">
<comps>
`

// FilterComps copies a comps document (decompressed) keeping what refers to held
// packages: a group's packagereqs of held names (a group left with none is dropped), the
// groupids of kept groups in categories and environments (a category or environment left
// with no group is dropped), and langpacks matches of held names. Other elements are
// copied as they are.
func FilterComps(ctx context.Context, r io.Reader, w io.Writer, held func(name string) bool) error {
	s, err := newElementStream("comps", r, "comps")
	if err != nil {
		return err
	}
	var groups, others []*xnode
	for {
		se, ok, err := s.Next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		n, err := s.Node(se)
		if err != nil {
			return err
		}
		if n.name == "group" {
			groups = append(groups, n)
		} else {
			others = append(others, n)
		}
	}
	kept := map[string]bool{}
	var out []*xnode
	for _, g := range groups {
		pl := g.child("packagelist")
		if pl != nil {
			pl.remove(func(c *xnode) bool { return c.name == "packagereq" && !held(c.text()) })
			if len(pl.children("packagereq")) == 0 {
				continue
			}
		}
		kept[g.child("id").textOrEmpty()] = true
		out = append(out, g)
	}
	for _, n := range others {
		switch n.name {
		case "category", "environment":
			for _, list := range []string{"grouplist", "optionlist"} {
				if l := n.child(list); l != nil {
					l.remove(func(c *xnode) bool { return c.name == "groupid" && !kept[c.text()] })
				}
			}
			if gl := n.child("grouplist"); gl == nil || len(gl.children("groupid")) == 0 {
				continue
			}
		case "langpacks":
			n.remove(func(c *xnode) bool { return c.name == "match" && !held(c.get("name")) })
		}
		out = append(out, n)
	}
	if _, err := io.WriteString(w, compsProlog); err != nil {
		return err
	}
	for _, n := range out {
		if _, err := io.WriteString(w, "  "); err != nil {
			return err
		}
		if err := n.write(w); err != nil {
			return err
		}
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
	}
	_, err = io.WriteString(w, "</comps>\n")
	return err
}

func (n *xnode) textOrEmpty() string {
	if n == nil {
		return ""
	}
	return n.text()
}

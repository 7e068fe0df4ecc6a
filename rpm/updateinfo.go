package rpm

import (
	"context"
	"io"
	"strconv"
)

// FilterUpdateinfo streams updateinfo.xml (decompressed), one <update> at a time,
// keeping in each advisory the packages held (by name, epoch, version, release and
// arch: held gets "name-epoch:version-release.arch"); a collection left with no package
// is dropped, and so is an advisory left with no collection.
func FilterUpdateinfo(ctx context.Context, r io.Reader, w io.Writer, held func(nevra string) bool) error {
	s, err := newElementStream("updateinfo", r, "updates")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<updates>\n"); err != nil {
		return err
	}
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
		if n.name == "update" && !filterUpdate(n, held) {
			continue
		}
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
	_, err = io.WriteString(w, "</updates>\n")
	return err
}

// filterUpdate cuts an advisory to the held packages; false when none is left.
func filterUpdate(u *xnode, held func(string) bool) bool {
	pl := u.child("pkglist")
	if pl == nil {
		return false
	}
	pl.remove(func(c *xnode) bool {
		if c.name != "collection" {
			return false
		}
		c.remove(func(p *xnode) bool {
			if p.name != "package" {
				return false
			}
			epoch := p.get("epoch")
			if _, err := strconv.Atoi(epoch); err != nil {
				epoch = "0"
			}
			return !held(p.get("name") + "-" + epoch + ":" + p.get("version") + "-" + p.get("release") + "." + p.get("arch"))
		})
		return len(c.children("package")) == 0
	})
	return len(pl.children("collection")) > 0
}

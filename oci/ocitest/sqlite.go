package ocitest

import (
	"encoding/binary"
	"slices"
)

// javaDB is trivy-java-db's schema 1 with no rows: a SQLite 3 file written by hand from
// the file format (https://www.sqlite.org/fileformat2.html), as no SQLite library is a
// dependency.
var javaDB = sqliteSchema([]sqliteObject{
	{"table", "artifacts", "artifacts", "CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT)"},
	{"table", "indices", "indices", "CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT, foreign key (artifact_id) references artifacts(id))"},
	{"index", "artifacts_idx", "artifacts", "CREATE UNIQUE INDEX artifacts_idx ON artifacts(artifact_id, group_id)"},
	{"index", "indices_artifact_idx", "indices", "CREATE INDEX indices_artifact_idx ON indices(artifact_id)"},
	{"index", "indices_sha1_idx", "indices", "CREATE UNIQUE INDEX indices_sha1_idx ON indices(sha1)"},
})

// sqliteObject is a row of sqlite_schema.
type sqliteObject struct{ typ, name, table, sql string }

const sqlitePageSize = 4096

// sqliteSchema returns a database of empty tables and indexes: page 1 is the
// sqlite_schema table (one leaf page; the statements must fit in it), page i+2 the empty
// b-tree of objects[i].
func sqliteSchema(objects []sqliteObject) []byte {
	pages := 1 + len(objects)
	db := make([]byte, pages*sqlitePageSize)
	h := db[:100]
	copy(h, "SQLite format 3\x00")
	binary.BigEndian.PutUint16(h[16:], sqlitePageSize)
	h[18], h[19] = 1, 1                   // legacy (rollback journal) read and write
	h[21], h[22], h[23] = 64, 32, 32      // payload fractions, fixed by the format
	binary.BigEndian.PutUint32(h[24:], 1) // file change counter
	binary.BigEndian.PutUint32(h[28:], uint32(pages))
	binary.BigEndian.PutUint32(h[40:], 1) // schema cookie
	binary.BigEndian.PutUint32(h[44:], 4) // schema format
	binary.BigEndian.PutUint32(h[56:], 1) // UTF-8
	binary.BigEndian.PutUint32(h[92:], 1) // version-valid-for: the change counter
	binary.BigEndian.PutUint32(h[96:], 3045000)

	var cells [][]byte
	for i, o := range objects {
		kind := byte(0x0d) // leaf table b-tree
		if o.typ == "index" {
			kind = 0x0a // leaf index b-tree
		}
		leafPage(db[(i+1)*sqlitePageSize:(i+2)*sqlitePageSize], 0, kind, nil)
		rec := sqliteRecord(o.typ, o.name, o.table, i+2, o.sql)
		cell := sqliteVarint(nil, uint64(len(rec)))
		cell = sqliteVarint(cell, uint64(i+1)) // rowid
		cells = append(cells, append(cell, rec...))
	}
	leafPage(db[:sqlitePageSize], 100, 0x0d, cells)
	return db
}

// leafPage writes a leaf b-tree page whose header starts at off: the header, the cell
// pointers, the cells packed at the end of the page.
func leafPage(page []byte, off int, kind byte, cells [][]byte) {
	page[off] = kind
	binary.BigEndian.PutUint16(page[off+3:], uint16(len(cells)))
	end := len(page)
	for i, c := range cells {
		end -= len(c)
		copy(page[end:], c)
		binary.BigEndian.PutUint16(page[off+8+2*i:], uint16(end))
	}
	binary.BigEndian.PutUint16(page[off+5:], uint16(end)) // start of the cell content area
}

// sqliteRecord encodes a record of text columns and one small integer (the rootpage).
func sqliteRecord(typ, name, table string, root int, sql string) []byte {
	var types, body []byte
	for _, s := range []string{typ, name, table} {
		types = sqliteVarint(types, uint64(2*len(s)+13))
		body = append(body, s...)
	}
	types = append(types, 1) // an 8-bit integer
	body = append(body, byte(root))
	types = sqliteVarint(types, uint64(2*len(sql)+13))
	body = append(body, sql...)
	hdr := sqliteVarint(nil, uint64(len(types)+1)) // header size counts itself (one byte here)
	return slices.Concat(hdr, types, body)
}

// sqliteVarint appends v as SQLite's big-endian varint (7 bits a byte, high bit set on all
// but the last; the values here need fewer than 9 bytes).
func sqliteVarint(b []byte, v uint64) []byte {
	var tmp [9]byte
	n := 0
	for {
		tmp[n] = byte(v & 0x7f)
		n++
		v >>= 7
		if v == 0 {
			break
		}
	}
	for i := n - 1; i >= 0; i-- {
		c := tmp[i]
		if i > 0 {
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}

// Package jsonstream reads a JSON document a value at a time, each value capped: for the
// parsers of upstream documents that hold long lists (a PyPI project page's files, a
// Galaxy page's items), whose memory must follow one entry of the list, not the list.
// It is not API.
package jsonstream

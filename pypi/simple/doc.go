// Package simple reads and writes the Python simple repository API: PEP 691 JSON project
// pages and PEP 503 HTML ones (file URLs with hash fragments, data-requires-python,
// PEP 592 data-yanked, PEP 658/714 core-metadata), and the project list. Parsers accept the
// legacy dist-info-metadata spellings; writers emit only the PEP 714 names, which every pip
// understands (the legacy ones break Debian bookworm's pip 23.0.1).
//
// ScanPage reads a page as a stream and hands each file to a callback as soon as it is
// read: memory holds one entry (an HTML tag, a JSON file object) at a time, capped at
// MaxEntrySize, whatever the size of the page, so that a caller keeps only the files it
// selects. ParsePage collects every file, for pages of a known, bounded size.
package simple

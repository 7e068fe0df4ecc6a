// Package pypitest is a small, deterministic Python package index for tests and demos: it
// serves PEP 691 JSON and PEP 503 HTML project pages (negotiated with Accept), PEP 658
// .metadata files and the distributions themselves, built from real wheels on disk or
// from wheels generated in Go. Faults (wrong hashes, missing metadata files, malformed
// pages) can be switched on per file or project. It is not API.
package pypitest

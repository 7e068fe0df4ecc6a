// Package galaxytest is a small, deterministic Galaxy upstream for tests and the offline
// demo: generated collection artifacts (valid MANIFEST.json and FILES.json, installable by
// ansible-galaxy) and role archives, served over the v3 collection API (with pagination,
// sha256 and absolute download URLs) and the v1 role API, with faults to switch on
// (wrong checksums, pagination loops, malformed JSON).
package galaxytest

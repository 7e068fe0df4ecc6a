// Package pypi mirrors Python packages, with their dependencies, from a PEP 503 / PEP 691
// simple repository (pypi.org, a devpi, an Artifactory, another airgap mirror) into the
// store, and serves them to an unmodified pip.
//
// A Mirror takes requirements as pip writes them (a list or a requirements.txt), the
// target environments to serve (Python versions, implementations, platforms), and policy
// (sdists, pre-releases, how many versions). Sync resolves the closure: for every target
// it picks the newest matching versions that have an installable file (wheel tags,
// Requires-Python, PEP 592 yanking), reads each chosen distribution's core metadata (the
// PEP 658 .metadata file when upstream has one, else METADATA out of the wheel), evaluates
// the PEP 508 markers of its Requires-Dist for that target (extras propagate), and repeats
// until nothing new is required. What cannot be satisfied is reported with the chain of
// requirements that led to it. Files are verified by sha256 and stored once; a resync
// fetches only what is new, and publishes no generation when it arrives at the tree
// already published (store.Update).
//
// The published tree holds /simple/ and /simple/<name>/ in both PEP 503 HTML and PEP 691
// JSON, with "#sha256=" fragments, data-requires-python, data-yanked and only the PEP 714
// data-core-metadata attribute (the legacy name breaks Debian bookworm's pip 23.0.1), and a
// .metadata file next to every wheel. NewHandler serves it with content negotiation;
// Inventory lists the distributions it holds (PURL pkg:pypi/<name>@<version>), read from
// the published pages and the upstream pages kept with them.
//
// The resolver is deliberately simpler than pip's: for each requirement and target it
// takes the newest Latest (or DependencyLatest) admissible versions and follows their
// dependencies; it does not backtrack. Where pip would need an older version to solve a
// conflict, raise DependencyLatest or list that version explicitly.
//
// A private index's credentials go in Mirror.URL as pip takes them
// (https://user:password@host/simple/): they authenticate every request to the index's
// origin (scheme, host and port), file links that name it included, and nothing else: a
// file link or redirect to another origin goes without them (store/fetch's
// Request.Credentials). The password is not recorded anywhere the mirror publishes.
// There is no other credential setting (no netrc, no keyring).
//
// Besides the index and the files, the snapshot keeps each upstream project page under
// upstream/<name> (never served) so that the next Sync can revalidate it with
// If-None-Match instead of downloading it again.
//
// Memory does not grow with the size of a project page: a page goes to the store as it
// arrives and is parsed from there as a stream (simple.ScanPage), keeping only the files
// some target can install. A 60 MB page (a project with thousands of releases of binary
// wheels) syncs in about 30 MB of RSS. Mirror.MaxPageSize caps a page (DefaultMaxPageSize,
// 256 MiB; store.ErrTooLarge beyond).
//
// Sub-packages: simple (the simple API pages, read as streams and written), pep440
// (versions and specifiers), pep508 (requirements and markers), wheel (file names,
// compatibility tags, reading metadata from archives).
package pypi

// Package wheel knows Python distribution files: wheel file names and their compatibility
// tags (PEP 425, PEP 600 manylinux, PEP 656 musllinux, macOS and Windows platforms, abi3),
// source distribution names, reading core metadata out of a wheel (through the zip central
// directory) or an sdist's PKG-INFO, and parsing that metadata (ParseMetadata).
//
// A Target describes one interpreter a mirror serves (Python version, implementation,
// platform). Target.Supports decides whether a wheel's tags can be installed there by the
// rules pip uses; Target.Environment gives the PEP 508 marker variables and
// Target.RequiresPython checks a file's Requires-Python.
package wheel

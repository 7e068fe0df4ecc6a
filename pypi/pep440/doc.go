// Package pep440 implements Python package versions and version specifiers as PEP 440
// defines them: epochs, release segments, pre-, post- and development releases, local
// versions, normalisation of the many spellings pip accepts, total ordering, and the
// specifier operators ==, !=, <=, >=, <, >, ~=, === with prefix matching (==1.*) and the
// pre-release rules installers apply.
//
// Parse accepts any valid spelling ("1.0-RC.1", "v2.0.post-1") and String returns the
// normalised form ("1.0rc1", "2.0.post1"). ParseSpecifiers reads a comma-separated
// specifier set such as ">=1.2,<2,!=1.5.*".
package pep440

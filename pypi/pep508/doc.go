// Package pep508 parses Python dependency specifications and environment markers as PEP
// 508 defines them (the Requires-Dist lines of core metadata and the lines of a
// requirements file) and evaluates markers against a target environment.
//
// A Requirement carries a project name, extras, PEP 440 specifiers (package pep440) or a
// direct URL, and an optional Marker. Marker.Evaluate answers whether a requirement
// applies to one interpreter and platform: python_version, sys_platform,
// platform_machine, implementation_name, extra and the other PEP 508 variables, with
// version comparisons done by PEP 440 rules. NormalizeName gives PEP 503 names, and
// ParseRequirementsFile reads pip's requirements.txt format.
package pep508

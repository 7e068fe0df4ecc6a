package pep508

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrRequirementsFile is returned (wrapped) for a requirements file line that cannot be
// used.
var ErrRequirementsFile = errors.New("pep508: unsupported requirements file line")

// ParseRequirementsFile reads a pip requirements file: one PEP 508 requirement per line,
// "#" comments, "\" line continuations, per-requirement options such as --hash (ignored:
// files are verified against the index's sha256). Global options (--index-url, ...) are
// skipped; "-r", "-c", "-e" and bare paths or URLs are refused with ErrRequirementsFile,
// since an air-gapped mirror cannot follow them.
func ParseRequirementsFile(r io.Reader) ([]Requirement, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var out []Requirement
	var pending strings.Builder
	lineNo, startLine := 0, 0
	handle := func(line string, n int) error {
		if i := commentStart(line); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			return nil
		}
		if strings.HasPrefix(line, "-") {
			opt, _, _ := strings.Cut(line, " ")
			opt, _, _ = strings.Cut(opt, "=")
			switch opt {
			case "-r", "--requirement", "-c", "--constraint", "-e", "--editable":
				return fmt.Errorf("%w: line %d: %s", ErrRequirementsFile, n, opt)
			}
			return nil // global option such as --index-url, --pre, --only-binary
		}
		if i := strings.Index(line, " --"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if i := strings.Index(line, "\t--"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		req, err := ParseRequirement(line)
		if err != nil {
			return fmt.Errorf("pep508: requirements line %d: %w", n, err)
		}
		out = append(out, req)
		return nil
	}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if pending.Len() == 0 {
			startLine = lineNo
		}
		if strings.HasSuffix(line, "\\") && commentStart(line) < 0 {
			pending.WriteString(strings.TrimSuffix(line, "\\"))
			pending.WriteByte(' ')
			continue
		}
		pending.WriteString(line)
		if err := handle(pending.String(), startLine); err != nil {
			return nil, err
		}
		pending.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pep508: requirements: %w", err)
	}
	if pending.Len() > 0 {
		if err := handle(pending.String(), startLine); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// commentStart finds a "#" that starts a comment: at the line start or after white space.
func commentStart(line string) int {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return i
		}
	}
	return -1
}

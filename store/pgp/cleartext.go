package pgp

import (
	"bytes"
	"crypto"
	"fmt"
	"strings"
)

var (
	beginSignedLine = []byte("-----BEGIN PGP SIGNED MESSAGE-----")
	beginSigLine    = []byte("-----BEGIN PGP SIGNATURE-----")
	endSigLine      = []byte("-----END PGP SIGNATURE-----")
)

// ClearsignedContent returns the signed text of a clearsigned message WITHOUT
// verifying the signature, with the same strict framing rules and the same result as
// Keyring.VerifyClearsigned. It is for paths where the caller explicitly chose to skip
// verification (an InsecureSkipSignature option); errors wrap ErrMalformed.
func ClearsignedContent(msg []byte) (content []byte, err error) {
	defer recoverErr(&err)
	ct, err := parseCleartext(msg)
	if err != nil {
		return nil, err
	}
	return ct.content, nil
}

// cleartext is a parsed clearsigned message (RFC 9580 section 7).
type cleartext struct {
	content []byte        // the signed text, LF line endings, final LF unless empty
	hashes  []crypto.Hash // from the Hash: headers, if any
	armored []byte        // the signature block, BEGIN line to END line
}

// nextLine splits data at the first LF. line excludes the LF; ok is false at the end.
func nextLine(data []byte) (line, rest []byte, ok bool) {
	if len(data) == 0 {
		return nil, nil, false
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[:i], data[i+1:], true
	}
	return data, nil, true
}

// parseCleartext parses msg strictly: only whitespace may surround the one
// BEGIN PGP SIGNED MESSAGE ... END PGP SIGNATURE block; the only armor header of the
// text part is Hash. Errors wrap ErrMalformed.
func parseCleartext(msg []byte) (*cleartext, error) {
	rest := bytes.TrimLeft(msg, " \t\r\n")
	line, rest, _ := nextLine(rest)
	if !bytes.Equal(bytes.TrimRight(line, " \t\r"), beginSignedLine) {
		if bytes.Contains(msg, beginSignedLine) {
			return nil, fmt.Errorf("%w: text before the BEGIN PGP SIGNED MESSAGE line", ErrMalformed)
		}
		return nil, fmt.Errorf("%w: not a clearsigned message", ErrMalformed)
	}
	ct := &cleartext{}

	// Armor headers up to an empty line.
	for {
		var ok bool
		line, rest, ok = nextLine(rest)
		if !ok {
			return nil, fmt.Errorf("%w: message ends in the armor headers", ErrMalformed)
		}
		line = bytes.TrimRight(line, " \t\r")
		if len(line) == 0 {
			break
		}
		key, val, found := strings.Cut(string(line), ":")
		if !found || strings.TrimSpace(key) != "Hash" {
			return nil, fmt.Errorf("%w: armor header %.40q is not a Hash header", ErrMalformed, line)
		}
		for _, name := range strings.Split(val, ",") {
			h, ok := hashByName[strings.ToUpper(strings.TrimSpace(name))]
			if !ok {
				return nil, fmt.Errorf("%w: unknown hash %.20q in the Hash header", ErrMalformed, name)
			}
			ct.hashes = append(ct.hashes, h)
		}
	}

	// The text, dash-escaped, up to the BEGIN PGP SIGNATURE line.
	content := make([]byte, 0, len(rest))
	for {
		var ok bool
		start := rest
		line, rest, ok = nextLine(rest)
		if !ok {
			return nil, fmt.Errorf("%w: no signature after the signed text", ErrMalformed)
		}
		line = bytes.TrimRight(line, " \t\r")
		if bytes.Equal(line, beginSigLine) {
			rest = start
			break
		}
		if len(line) > 0 && line[0] == '-' {
			// Every text line that starts with a dash is dash-escaped (RFC 9580 section
			// 7.1); an unescaped one is how a second, nested armor block would hide.
			if !bytes.HasPrefix(line, []byte("- ")) {
				return nil, fmt.Errorf("%w: text line %.40q starts with an unescaped dash", ErrMalformed, line)
			}
			line = line[2:]
		}
		content = append(content, line...)
		content = append(content, '\n')
	}
	if len(content) == 1 {
		content = content[:0] // one empty line of text: the empty message
	}
	ct.content = content

	// The signature block, then nothing but whitespace.
	i := bytes.Index(rest, endSigLine)
	if i < 0 {
		return nil, fmt.Errorf("%w: no END PGP SIGNATURE line", ErrMalformed)
	}
	end := i + len(endSigLine)
	if len(bytes.TrimSpace(rest[end:])) != 0 {
		return nil, fmt.Errorf("%w: %d bytes of text after the signature", ErrMalformed, len(rest)-end)
	}
	if end-len(beginSigLine) > MaxSignatureSize*2 {
		return nil, fmt.Errorf("%w: signature block larger than %d bytes", ErrMalformed, MaxSignatureSize*2)
	}
	ct.armored = rest[:end]
	return ct, nil
}

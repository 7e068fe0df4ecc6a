package snapproxy

import (
	"fmt"
	"strings"
)

// risks are the channel risks, most stable first.
var risks = []string{"stable", "candidate", "beta", "edge"}

// Channel is a snap channel: track, risk and optional branch ("3.5/stable",
// "latest/edge/fix-1").
type Channel struct {
	Track, Risk, Branch string
}

// String is the full form, track included ("latest/stable").
func (c Channel) String() string {
	s := c.Track + "/" + c.Risk
	if c.Branch != "" {
		s += "/" + c.Branch
	}
	return s
}

// Short is the form the store's channel maps name a channel by: without the track when it
// is latest ("stable", "3.5/stable").
func (c Channel) Short() string {
	if c.Track == "latest" {
		return strings.TrimPrefix(c.String(), "latest/")
	}
	return c.String()
}

// ParseChannel reads a channel as snapd and the store write it: "risk", "track",
// "track/risk", "risk/branch" or "track/risk/branch". The missing track is defaultTrack
// ("latest" when empty), the missing risk stable; "" is the stable risk of defaultTrack.
// Errors wrap ErrMalformed.
func ParseChannel(s, defaultTrack string) (Channel, error) {
	if defaultTrack == "" {
		defaultTrack = "latest"
	}
	parts := strings.Split(s, "/")
	var c Channel
	switch {
	case s == "":
		c = Channel{Track: defaultTrack, Risk: "stable"}
	case len(parts) > 3:
		return Channel{}, fmt.Errorf("%w: channel %q has more than three parts", ErrMalformed, s)
	case isRisk(parts[0]) && len(parts) <= 2:
		c = Channel{Track: defaultTrack, Risk: parts[0]}
		if len(parts) == 2 {
			c.Branch = parts[1]
		}
	case len(parts) == 1:
		c = Channel{Track: parts[0], Risk: "stable"}
	default:
		c = Channel{Track: parts[0], Risk: parts[1]}
		if len(parts) == 3 {
			c.Branch = parts[2]
		}
	}
	if !isRisk(c.Risk) {
		return Channel{}, fmt.Errorf("%w: channel %q: unknown risk %q", ErrMalformed, s, c.Risk)
	}
	if !validChannelPart(c.Track) || isRisk(c.Track) || c.Branch != "" && !validChannelPart(c.Branch) {
		return Channel{}, fmt.Errorf("%w: channel %q", ErrMalformed, s)
	}
	return c, nil
}

// hasTrack reports whether a channel string names its track (so that the default track
// does not apply).
func hasTrack(s string) bool {
	if s == "" {
		return false
	}
	first, _, _ := strings.Cut(s, "/")
	return !isRisk(first)
}

func isRisk(s string) bool {
	for _, r := range risks {
		if s == r {
			return true
		}
	}
	return false
}

// validChannelPart accepts the characters of track and branch names: letters, digits and
// "-._", 1 to 128 of them, not starting with a punctuation mark.
func validChannelPart(s string) bool {
	if s == "" || len(s) > 128 || strings.ContainsRune("-._", rune(s[0])) {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._", c)) {
			return false
		}
	}
	return true
}

package maastest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) maasConfig(w http.ResponseWriter, req *Request) {
	switch {
	case req.Method == http.MethodGet && req.Op == "get_config":
		name := req.Query.Get("name")
		v, ok := s.config[name]
		if !ok {
			fieldError(w, "name", fmt.Sprintf("%s is not a valid config setting (valid settings are: ...).", name))
			return
		}
		writeJSON(w, 200, v)
	case req.Method == http.MethodPost && req.Op == "set_config":
		name, value := req.Form.Get("name"), req.Form.Get("value")
		old, ok := s.config[name]
		if !ok {
			fieldError(w, "name", fmt.Sprintf("%s is not a valid config setting (valid settings are: ...).", name))
			return
		}
		if msg := s.checkChoice(name, value); msg != "" {
			fieldError(w, name, msg)
			return
		}
		if _, isBool := old.(bool); isBool {
			b, err := strconv.ParseBool(value)
			if err != nil {
				fieldError(w, name, "Enter a valid boolean.")
				return
			}
			s.config[name] = b
		} else {
			s.config[name] = value
		}
		writeJSON(w, 200, "OK")
	default:
		badOp(w, req)
	}
}

// checkChoice is the choice field MAAS builds for the settings that name an operating
// system or release: only those with imported images are valid (none: "---"). It
// returns the field error, or "".
func (s *Server) checkChoice(name, value string) string {
	var what string
	var choices []string
	switch name {
	case "commissioning_distro_series":
		what, choices = name, s.releases("ubuntu")
	case "default_distro_series":
		what, choices = "release", s.releases(s.config["default_osystem"].(string))
	case "default_osystem", "commissioning_osystem":
		what = "osystem"
		for _, r := range s.resources {
			if os, _, ok := strings.Cut(r.Name, "/"); ok && !slices.Contains(choices, os) {
				choices = append(choices, os)
			}
		}
	default:
		return ""
	}
	if slices.Contains(choices, value) {
		return ""
	}
	if len(choices) == 0 {
		choices = []string{"---"}
	}
	return fmt.Sprintf("'%s' is not a valid %s.  It should be one of: %s.", value, what, strings.Trim(pyList(choices), "[]"))
}

package maastest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// authenticate checks the OAuth header (or the session cookie) and returns the status
// and message of the refusal, or 0.
func (s *Server) authenticate(r *http.Request, req *Request) (int, string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		c, err := r.Cookie("sessionid")
		if err != nil {
			return http.StatusUnauthorized, "Authorization Error: no credentials"
		}
		token, ok := s.sessions[c.Value]
		if !ok {
			return http.StatusUnauthorized, "Authorization Error: no credentials"
		}
		req.Session = true
		if msg := s.checkCSRF(r, token); msg != "" {
			return http.StatusForbidden, msg
		}
		return 0, ""
	}
	rest, ok := strings.CutPrefix(h, "OAuth ")
	if !ok {
		s.violate("Authorization is not OAuth: %q", h)
		return http.StatusUnauthorized, "Authorization Error: not OAuth"
	}
	req.Auth, req.RawAuth = map[string]string{}, map[string]string{}
	for _, part := range strings.Split(rest, ", ") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			s.violate("malformed OAuth parameter %q in %q", part, h)
			return http.StatusUnauthorized, "Authorization Error: malformed header"
		}
		raw := v[1 : len(v)-1]
		dec, err := url.PathUnescape(raw)
		if err != nil {
			s.violate("OAuth parameter %s not percent-encoded: %q", k, raw)
			return http.StatusUnauthorized, "Authorization Error: bad encoding"
		}
		if _, dup := req.Auth[k]; dup {
			s.violate("OAuth parameter %s twice", k)
		}
		req.Auth[k], req.RawAuth[k] = dec, raw
	}
	want := []string{"oauth_consumer_key", "oauth_nonce", "oauth_signature", "oauth_signature_method", "oauth_timestamp", "oauth_token", "oauth_version"}
	var got []string
	for k := range req.Auth {
		if k != "realm" {
			got = append(got, k)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		s.violate("OAuth parameters %v, want %v", got, want)
		return http.StatusUnauthorized, "Authorization Error: missing parameters"
	}
	switch {
	case req.Auth["oauth_version"] != "1.0":
		s.violate("oauth_version %q", req.Auth["oauth_version"])
		return http.StatusUnauthorized, "Authorization Error: version"
	case req.Auth["oauth_signature_method"] != "PLAINTEXT":
		s.violate("oauth_signature_method %q", req.Auth["oauth_signature_method"])
		return http.StatusUnauthorized, "Authorization Error: signature method"
	case req.RawAuth["oauth_signature"] != "%26"+TokenSecret:
		s.violate("oauth_signature sent as %q, want %q", req.RawAuth["oauth_signature"], "%26"+TokenSecret)
		return http.StatusUnauthorized, "Authorization Error: Invalid access token"
	case req.Auth["oauth_consumer_key"] != ConsumerKey || req.Auth["oauth_token"] != TokenKey:
		return http.StatusUnauthorized, "Authorization Error: Invalid access token"
	case req.Auth["oauth_nonce"] == "":
		s.violate("empty oauth_nonce")
		return http.StatusUnauthorized, "Authorization Error: nonce"
	case s.nonces[req.Auth["oauth_nonce"]]:
		s.violate("oauth_nonce %s reused", req.Auth["oauth_nonce"])
		return http.StatusUnauthorized, "Authorization Error: nonce already used"
	}
	s.nonces[req.Auth["oauth_nonce"]] = true
	ts, err := strconv.ParseInt(req.Auth["oauth_timestamp"], 10, 64)
	if err != nil {
		s.violate("oauth_timestamp %q", req.Auth["oauth_timestamp"])
		return http.StatusUnauthorized, "Authorization Error: timestamp"
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		s.violate("oauth_timestamp %d is %v off", ts, d)
		return http.StatusUnauthorized, "Authorization Error: timestamp expired"
	}
	return 0, ""
}

// checkCSRF is Django's CSRF check of a request that carries a session cookie (MAAS
// skips it for OAuth requests): unsafe methods must echo the session's csrftoken cookie
// in X-CSRFToken, and over https the Referer must name this host (Django's strict
// referer check for secure requests). It returns the 403 message, or "".
func (s *Server) checkCSRF(r *http.Request, token string) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return ""
	}
	if r.TLS != nil {
		ref := r.Header.Get("Referer")
		if ref == "" {
			s.violate("%s %s over https without a Referer", r.Method, r.URL.Path)
			return "CSRF Failed: Referer checking failed - no Referer."
		}
		if u, err := url.Parse(ref); err != nil || u.Scheme != "https" || u.Host != r.Host {
			s.violate("%s %s: Referer %q is not https://%s/", r.Method, r.URL.Path, ref, r.Host)
			return fmt.Sprintf("CSRF Failed: Referer checking failed - %s does not match any trusted origins.", ref)
		}
	}
	c, err := r.Cookie("csrftoken")
	if err != nil || c.Value != token || r.Header.Get("X-CSRFToken") != token {
		s.violate("%s %s: session request without a matching X-CSRFToken", r.Method, r.URL.Path)
		return "CSRF Failed: CSRF token missing or incorrect."
	}
	return ""
}

// readForm parses a multipart body into req.Form and req.Files.
func (s *Server) readForm(r *http.Request, req *Request) string {
	req.Form, req.Files = url.Values{}, map[string][]byte{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if r.ContentLength == 0 && mt == "" {
			return "" // a POST without fields
		}
		s.violate("%s %s body is %q, want multipart/form-data", r.Method, r.URL.Path, mt)
		return "body must be multipart/form-data"
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return err.Error()
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		data, _ := io.ReadAll(io.LimitReader(p, 1<<20))
		if p.FileName() != "" {
			req.Files[p.FormName()] = data
		} else {
			req.Form.Add(p.FormName(), string(data))
		}
	}
	return ""
}

// wantsJSON is MAAS's test for answering the login view with JSON.
func wantsJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Accept"))
	return mt == "application/json"
}

// login is MAAS's /MAAS/accounts/login/. The view is csrf-exempt and MAAS skips CSRF
// for requests without a session cookie, so the POST needs no token; the csrftoken
// cookie comes with the answer to the POST that logs in (Django rotates the token at
// login), not with the GET.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>Login | MAAS</title>")
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if r.PostForm.Get("username") != Username || r.PostForm.Get("password") != Password {
			if wantsJSON(r) {
				writeJSON(w, http.StatusBadRequest, map[string][]string{"__all__": {"Please enter a correct username and password. Note that both fields may be case-sensitive."}})
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, "<!doctype html><title>Login | MAAS</title><p>Please enter a correct username and password.")
			return
		}
		sid, token := randomToken(), randomToken()
		s.sessions[sid] = token
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: sid, Path: "/", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: token, Path: "/"})
		if wantsJSON(r) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		http.Redirect(w, r, "/MAAS/", http.StatusFound)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// authenticateAPI hands out the API key for a user name and password.
func (s *Server) authenticateAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("username") != Username || r.PostForm.Get("password") != Password {
		http.Error(w, "Username or password incorrect.", http.StatusForbidden)
		return
	}
	if r.PostForm.Get("consumer") == "" {
		s.mu.Lock()
		s.violate("authenticate without a consumer name")
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, map[string]string{"consumer_key": ConsumerKey, "token_key": TokenKey, "token_secret": TokenSecret, "name": r.PostForm.Get("consumer")})
}

package snapproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Caps of a refresh request.
const (
	maxRefreshBody    = 8 << 20
	maxRefreshActions = 1000
)

// refreshRequest is the body of POST /v2/snaps/refresh.
type refreshRequest struct {
	Context             []contextSnap  `json:"context"`
	Actions             []refreshWant  `json:"actions"`
	Fields              []string       `json:"fields"`
	AssertionMaxFormats map[string]int `json:"assertion-max-formats"`
}

// contextSnap is one installed snap of the device.
type contextSnap struct {
	SnapID          string `json:"snap-id"`
	InstanceKey     string `json:"instance-key"`
	Revision        int    `json:"revision"`
	TrackingChannel string `json:"tracking-channel"`
	Epoch           Epoch  `json:"epoch"`
	CohortKey       string `json:"cohort-key"`
}

// refreshWant is one action of a refresh request.
type refreshWant struct {
	Action      string          `json:"action"`
	InstanceKey string          `json:"instance-key"`
	Name        string          `json:"name"`
	SnapID      string          `json:"snap-id"`
	Channel     string          `json:"channel"`
	Revision    int             `json:"revision"`
	Epoch       json.RawMessage `json:"epoch"`
	// fetch-assertions
	Key        string            `json:"key"`
	Assertions []json.RawMessage `json:"assertions"`
}

// assertionWant is one assertion of a fetch-assertions action, by primary key or (for
// sequence-forming types) by sequence key.
type assertionWant struct {
	Type                       string   `json:"type"`
	PrimaryKey                 []string `json:"primary-key"`
	SequenceKey                []string `json:"sequence-key"`
	Sequence                   int      `json:"sequence"`
	IfNewerThan                *int     `json:"if-newer-than"`
	IfSequenceEqualOrNewerThan *int     `json:"if-sequence-equal-or-newer-than"`
	IfSequenceNewerThan        *int     `json:"if-sequence-newer-than"`
}

// assertionErr is an error-list entry of a fetch-assertions result.
type assertionErr struct {
	Code        string   `json:"code"`
	Message     string   `json:"message"`
	Type        string   `json:"type"`
	PrimaryKey  []string `json:"primary-key,omitempty"`
	SequenceKey []string `json:"sequence-key,omitempty"`
}

// refreshCall is one refresh request being answered.
type refreshCall struct {
	a       *storeAPI
	r       *http.Request
	cat     *catalog
	req     refreshRequest
	arch    string
	fields  fieldSet
	context map[string]*contextSnap
	// tracks: the device declares default-tracks; without it a request without a track
	// gets latest, as the store answers it.
	tracks bool
}

// refresh answers POST /v2/snaps/refresh.
func (a *storeAPI) refresh(w http.ResponseWriter, r *http.Request) {
	c := &refreshCall{a: a, r: r, arch: r.Header.Get("Snap-Device-Architecture"), context: map[string]*contextSnap{}}
	switch {
	case r.Header.Get("Snap-Device-Series") != series:
		errorList(w, http.StatusBadRequest, "missing-header", "Snap-Device-Series: 16 is required")
		return
	case c.arch == "":
		errorList(w, http.StatusBadRequest, "missing-header", "Snap-Device-Architecture is required")
		return
	case r.Header.Get("User-Agent") == "":
		errorList(w, http.StatusBadRequest, "missing-header", "User-Agent is required")
		return
	}
	for _, v := range r.Header.Values("Snap-Device-Capabilities") {
		c.tracks = c.tracks || containsField(strings.ReplaceAll(v, " ", ","), "default-tracks")
	}
	if err := c.decode(r.Body); err != nil {
		errorList(w, http.StatusBadRequest, "invalid-request", err.Error())
		return
	}
	cat, ok := a.catalog(w, r)
	if !ok {
		return
	}
	c.cat = cat
	results := []map[string]any{}
	for i := range c.req.Actions {
		if res := c.answer(&c.req.Actions[i]); res != nil {
			results = append(results, res)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results, "error-list": []apiError{}})
}

// decode reads and checks the request as a whole: what a store refuses with 400.
func (c *refreshCall) decode(body io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(body, maxRefreshBody+1))
	if err != nil {
		return fmt.Errorf("reading the body: %v", err)
	}
	if len(b) > maxRefreshBody {
		return fmt.Errorf("body over %d bytes", maxRefreshBody)
	}
	if err := json.Unmarshal(b, &c.req); err != nil {
		return fmt.Errorf("body: %v", err)
	}
	if len(c.req.Actions) > maxRefreshActions {
		return fmt.Errorf("more than %d actions", maxRefreshActions)
	}
	for i := range c.req.Context {
		cs := &c.req.Context[i]
		if cs.SnapID == "" || cs.InstanceKey == "" || cs.Revision == 0 {
			return fmt.Errorf("context %d: snap-id, instance-key and revision are required", i)
		}
		if c.context[cs.InstanceKey] != nil {
			return fmt.Errorf("context: instance-key %q twice", cs.InstanceKey)
		}
		c.context[cs.InstanceKey] = cs
	}
	keys := map[string]bool{}
	for i, w := range c.req.Actions {
		switch w.Action {
		case "install", "download":
			if w.Name == "" {
				return fmt.Errorf("action %d: %s needs a name", i, w.Action)
			}
		case "refresh":
			cs := c.context[w.InstanceKey]
			if cs == nil {
				return fmt.Errorf("action %d: refresh of instance-key %q, which the context does not hold", i, w.InstanceKey)
			}
			if w.SnapID != "" && w.SnapID != cs.SnapID {
				return fmt.Errorf("action %d: snap-id %q is not the context's %q", i, w.SnapID, cs.SnapID)
			}
		case "fetch-assertions":
			if w.Key == "" {
				return fmt.Errorf("action %d: fetch-assertions needs a key", i)
			}
			continue
		default:
			return fmt.Errorf("action %d: unknown action %q", i, w.Action)
		}
		if w.InstanceKey == "" || keys[w.InstanceKey] {
			return fmt.Errorf("action %d: instance-key %q missing or repeated", i, w.InstanceKey)
		}
		keys[w.InstanceKey] = true
		if w.Revision < 0 {
			return fmt.Errorf("action %d: revision %d", i, w.Revision)
		}
	}
	c.fields = fieldSet{}
	for _, f := range c.req.Fields {
		c.fields[f] = true
	}
	return nil
}

// answer is the result of one action; nil for a refresh with nothing newer.
func (c *refreshCall) answer(w *refreshWant) map[string]any {
	switch w.Action {
	case "fetch-assertions":
		return c.fetchAssertions(w)
	case "refresh":
		return c.refreshOne(w)
	}
	h := c.cat.snaps[w.Name]
	if h == nil {
		return c.errorResult(w, nil, "name-not-found", fmt.Sprintf("No snap named '%s' found in series '16'.", w.Name))
	}
	var installed *Epoch
	if len(w.Epoch) > 0 && string(w.Epoch) != "null" {
		var e Epoch
		if err := json.Unmarshal(w.Epoch, &e); err != nil {
			return c.errorResult(w, h, "invalid-epoch", err.Error())
		}
		installed = &e
	}
	rev, ch, res := c.pick(w, h, w.Channel, 0, installed)
	if res != nil {
		return res
	}
	return c.result(w.Action, w.InstanceKey, h, rev, ch)
}

// refreshOne answers a refresh action: the revision the snap's channel (the action's, or
// the one it tracks) has, when it differs from the installed one and can read its data.
func (c *refreshCall) refreshOne(w *refreshWant) map[string]any {
	cs := c.context[w.InstanceKey]
	h := c.cat.byID[cs.SnapID]
	if h == nil {
		return map[string]any{"result": "error", "instance-key": w.InstanceKey, "snap-id": cs.SnapID,
			"error": map[string]any{"code": "id-not-found", "message": fmt.Sprintf("No snap with id '%s' held by this mirror.", cs.SnapID)}}
	}
	channel := w.Channel
	if channel == "" {
		channel = cs.TrackingChannel
	}
	rev, ch, res := c.pick(w, h, channel, cs.Revision, &cs.Epoch)
	if res != nil {
		return res
	}
	if rev.Revision == cs.Revision && w.Revision == 0 {
		return nil // up to date
	}
	return c.result("refresh", w.InstanceKey, h, rev, ch)
}

// pick finds the revision an action asks for: by revision, else released in the
// channel for the device's architecture. A revision that cannot read the data of an
// installed epoch gives way to the newest held revision of that channel that can, or
// to the installed one. The error result is set when nothing is there.
func (c *refreshCall) pick(w *refreshWant, h *heldSnap, channel string, current int, installed *Epoch) (*heldRev, string, map[string]any) {
	if w.Revision > 0 {
		if rev := h.revision(w.Revision, c.arch); rev != nil {
			return rev, channel, nil
		}
		return nil, "", c.notFound(w, h, "No revision "+strconv.Itoa(w.Revision)+" for "+c.arch+" in this mirror.")
	}
	track := "latest"
	if c.tracks && !hasTrack(channel) {
		track = h.trackOrLatest()
	}
	ch, err := ParseChannel(channel, track)
	if err != nil {
		return nil, "", c.errorResult(w, h, "invalid-channel", err.Error())
	}
	rev := h.released(ch, c.arch)
	if rev == nil {
		return nil, "", c.notFound(w, h, "No revision in "+ch.String()+" for "+c.arch+" in this mirror.")
	}
	if installed != nil && !rev.yaml.Epoch.CanRead(*installed) {
		rev = nil
		for _, r := range h.revs { // newest first
			if r.forArch(c.arch) && r.Channel == ch.String() && (r.yaml.Epoch.CanRead(*installed) || r.Revision == current) {
				rev = r
				break
			}
		}
		if rev == nil {
			return nil, "", c.notFound(w, h, fmt.Sprintf("No revision in %s reads epoch %s.", ch, installed))
		}
	}
	return rev, ch.String(), nil
}

// result is a successful action result.
func (c *refreshCall) result(kind, key string, h *heldSnap, rev *heldRev, channel string) map[string]any {
	res := map[string]any{"result": kind, "instance-key": key, "snap-id": h.id, "name": h.name,
		"snap": c.a.snapJSON(c.r, h, rev, c.fields, "all")}
	if channel != "" {
		res["effective-channel"] = channel
	}
	return res
}

// notFound is the revision-not-found result, listing where the snap is released.
func (c *refreshCall) notFound(w *refreshWant, h *heldSnap, msg string) map[string]any {
	res := c.errorResult(w, h, "revision-not-found", msg)
	res["error"].(map[string]any)["extra"] = map[string]any{"releases": h.releases()}
	return res
}

func (c *refreshCall) errorResult(w *refreshWant, h *heldSnap, code, msg string) map[string]any {
	res := map[string]any{"result": "error", "instance-key": w.InstanceKey, "name": w.Name,
		"error": map[string]any{"code": code, "message": msg}}
	if h != nil {
		res["name"], res["snap-id"] = h.name, h.id
	}
	return res
}

// fetchAssertions answers a fetch-assertions action: a stream URL for each assertion
// held that is newer than the device's, errors for those not held.
func (c *refreshCall) fetchAssertions(w *refreshWant) map[string]any {
	urls := []string{}
	var errs []assertionErr
	for _, raw := range w.Assertions {
		var aw assertionWant
		if err := json.Unmarshal(raw, &aw); err != nil || aw.Type == "" {
			errs = append(errs, assertionErr{Code: "invalid-request", Message: "an assertion needs a type and a key"})
			continue
		}
		a, known := c.lookup(aw)
		if a == nil {
			e := assertionErr{Code: "not-found", Type: aw.Type, PrimaryKey: aw.PrimaryKey, SequenceKey: aw.SequenceKey,
				Message: aw.Type + " not found in this mirror"}
			errs = append(errs, e)
			continue
		}
		if known {
			continue
		}
		maxFormat := c.req.AssertionMaxFormats[aw.Type]
		urls = append(urls, c.a.publicURL(c.r)+"/v2/assertions/"+aw.Type+"/"+strings.Join(a.PrimaryKey(), "/")+
			"?max-format="+url.QueryEscape(strconv.Itoa(maxFormat)))
	}
	res := map[string]any{"result": "fetch-assertions", "key": w.Key, "assertion-stream-urls": urls}
	if len(errs) > 0 {
		res["error-list"] = errs
	}
	return res
}

// lookup finds the assertion aw names; known is true when the device has it at the
// revision (and sequence) held or newer, or cannot read the format held.
func (c *refreshCall) lookup(aw assertionWant) (a *Assertion, known bool) {
	maxFormat := c.req.AssertionMaxFormats[aw.Type]
	if aw.PrimaryKey != nil {
		a = c.cat.assertions[aw.Type+"/"+strings.Join(aw.PrimaryKey, "/")]
		if a == nil {
			return nil, false
		}
		known = aw.IfNewerThan != nil && a.Revision() <= *aw.IfNewerThan
	} else {
		if !sequenceForming[aw.Type] || len(aw.SequenceKey) != len(primaryKeys[aw.Type])-1 {
			return nil, false
		}
		prefix := aw.Type + "/" + strings.Join(aw.SequenceKey, "/") + "/"
		for k, cand := range c.cat.assertions {
			seq, err := strconv.Atoi(strings.TrimPrefix(k, prefix))
			if !strings.HasPrefix(k, prefix) || err != nil || aw.Sequence > 0 && seq != aw.Sequence || cand.format() > maxFormat {
				continue
			}
			if a == nil || seq > sequenceOf(a) {
				a = cand
			}
		}
		if a == nil {
			return nil, false
		}
		seq := sequenceOf(a)
		switch {
		case aw.IfSequenceNewerThan != nil && seq <= *aw.IfSequenceNewerThan,
			aw.IfSequenceEqualOrNewerThan != nil && seq < *aw.IfSequenceEqualOrNewerThan:
			known = true
		case aw.IfNewerThan != nil && (aw.Sequence == seq || aw.IfSequenceEqualOrNewerThan != nil && *aw.IfSequenceEqualOrNewerThan == seq):
			known = a.Revision() <= *aw.IfNewerThan
		}
	}
	if a.format() > maxFormat {
		// The store would serve an older revision the device can read; the mirror holds
		// one revision.
		if known || aw.IfNewerThan != nil {
			return a, true
		}
		return nil, false
	}
	return a, known
}

func sequenceOf(a *Assertion) int {
	n, _ := strconv.Atoi(a.Header("sequence"))
	return n
}

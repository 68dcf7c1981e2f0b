package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/ondevice"
)

// fakeAssets stand in for the wasm build where no browser runs it.
var fakeAssets = fstest.MapFS{"tact.wasm": {Data: []byte("\x00asm\x01\x00\x00\x00")}, "wasm_exec.js": {Data: []byte("// go")}}

func withDevice(assets fstest.MapFS) func(*config) {
	return func(c *config) { c.Device = assets }
}

// TestDeviceShipsOnlyNonPersonalData: the model, the settings and the
// page are the same bytes for every browser, and the model decodes to
// the shop's; the consent endpoint sends the Gate's decisions for the
// cookie's visitor, and the policy's defaults to a browser without one.
func TestDeviceShipsOnlyNonPersonalData(t *testing.T) {
	f := newFixture(t, withDevice(fakeAssets))
	anon, known := f.browser(), f.browser()
	known.grant(string(consent.PurposePersonalizeHistory))
	if known.cookie() == "" {
		t.Fatal("granting consent minted no visitor id")
	}
	known.post("/preferences", url.Values{"interest": {"marathon"}})
	for _, path := range []string{"/device", "/device/app.js", "/device/tact.wasm", "/device/wasm_exec.js", "/device/model", "/device/settings"} {
		a, k := anon.get(path), known.get(path)
		if a.status != http.StatusOK || a.body != k.body {
			t.Errorf("%s: status %d; the same for every browser: %v", path, a.status, a.body == k.body)
		}
	}
	shipped, _ := f.srv.shop.Model.MarshalBinary()
	m, err := recommend.UnmarshalModel([]byte(anon.get("/device/model").body))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m.MarshalBinary(); string(got) != string(shipped) {
		t.Error("/device/model is not the shop's model")
	}
	var s ondevice.Settings
	if err := json.Unmarshal([]byte(anon.get("/device/settings").body), &s); err != nil {
		t.Fatal(err)
	}
	if want := f.srv.deviceSettings(); !reflect.DeepEqual(s, want) {
		t.Errorf("settings %+v, want %+v", s, want)
	}

	var ca, ck ondevice.Consent
	if err := json.Unmarshal([]byte(anon.get("/device/consent").body), &ca); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(known.get("/device/consent").body), &ck); err != nil {
		t.Fatal(err)
	}
	if ca.Known || ca.Subject != blankSubject || !ck.Known || ck.Subject != known.cookie() {
		t.Errorf("consent subjects: anonymous %q known=%v, visitor %q known=%v", ca.Subject, ca.Known, ck.Subject, ck.Known)
	}
	allowed := func(c ondevice.Consent, p consent.Purpose) bool {
		d, err := c.Decide(context.Background(), c.Subject, p, f.clock.Now(), consent.Signals{})
		return err == nil && d.Allowed
	}
	if !allowed(ck, consent.PurposePersonalizeHistory) || allowed(ca, consent.PurposePersonalizeHistory) {
		t.Error("the decisions are not the Gate's: history should be allowed for the visitor only")
	}
	if len(ck.Decisions) != 4 || ck.PolicyInForce == nil || ck.PolicyInForce.Version != f.srv.shop.Policy.Version {
		t.Errorf("consent: %d decisions, policy %v", len(ck.Decisions), ck.PolicyInForce)
	}
}

// TestDeviceModeNotOffered: without the wasm build the routes do not
// exist.
func TestDeviceModeNotOffered(t *testing.T) {
	f := newFixture(t)
	if p := f.browser().get("/device/model"); p.status != http.StatusNotFound {
		t.Errorf("status %d without -device", p.status)
	}
}

// TestDeviceGuard: a browser in the device mode cannot hand the shop
// preferences, feedback or orders through its server-rendered pages, and
// the shop's pages send it to /device; without the mode the same requests
// are taken, so the guard is what refuses them.
func TestDeviceGuard(t *testing.T) {
	f := newFixture(t, withDevice(fakeAssets))
	b := f.browser()
	for _, p := range []consent.Purpose{consent.PurposePersonalizeDeclared, consent.PurposePersonalizeFeedback, consent.PurposePersonalizeHistory} {
		b.grant(string(p))
	}
	id := b.cookie()
	ctx := context.Background()
	item := f.srv.shop.World.Items[0].ID
	mode := http.Header{"Cookie": {deviceCookie + "=1"}}
	// The jar's visitor cookie is added by the client; the extra header
	// adds the mode flag.
	for _, tc := range []struct {
		method, path string
		form         url.Values
		status       int
	}{
		{http.MethodPost, "/preferences", url.Values{"interest": {"marathon"}, "budget": {"80"}}, http.StatusConflict},
		{http.MethodPost, "/items/" + item + "/buy", nil, http.StatusConflict},
		{http.MethodPost, "/items/" + item + "/feedback", url.Values{"kind": {"liked"}}, http.StatusConflict},
		{http.MethodGet, "/", nil, http.StatusSeeOther},
		{http.MethodGet, "/items/" + item, nil, http.StatusSeeOther},
	} {
		var body io.Reader
		if tc.method == http.MethodPost {
			body = strings.NewReader(tc.form.Encode())
		}
		p := b.do(tc.method, tc.path, body, mode)
		if p.status != tc.status || (tc.status == http.StatusSeeOther && p.header.Get("Location") != "/device") {
			t.Errorf("%s %s in device mode: status %d (Location %q), want %d", tc.method, tc.path, p.status, p.header.Get("Location"), tc.status)
		}
	}
	prefs, _ := f.srv.shop.Profiles.Preferences(ctx, id)
	fb, _ := f.srv.shop.Profiles.Feedback(ctx, id)
	hist, _ := f.srv.shop.Profiles.History(ctx, id)
	if !reflect.DeepEqual(prefs, recommend.Preferences{}) || len(fb) != 0 || len(hist) != 0 {
		t.Fatalf("the shop holds %+v, %v, %v for a browser in device mode", prefs, fb, hist)
	}
	// The preference centre still takes consent choices in the mode.
	if p := b.do(http.MethodPost, "/privacy/", strings.NewReader(url.Values{"shown": {string(consent.PurposePersonalizeHistory)}}.Encode()), mode); p.status != http.StatusSeeOther {
		t.Errorf("a consent choice in device mode: status %d", p.status)
	}
	// Without the mode, the same purchase is taken.
	b.post("/items/"+item+"/buy", nil)
	if hist, _ := f.srv.shop.Profiles.History(ctx, id); len(hist) != 1 {
		t.Fatalf("without the mode, the purchase was not recorded: %v", hist)
	}
}

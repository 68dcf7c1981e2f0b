package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/ondevice"
)

// The "keep my data on this device" mode. A visitor switches it on at
// /device: from then the browser keeps their declared preferences,
// feedback and history in localStorage and ranks there, with the wasm
// build of recommend/ondevice (cmd/tactwasm), and the shop receives none
// of it. The server ships only what belongs to nobody, and the decisions
// of its consent Gate:
//
//	GET /device               the page (device/index.html, device/app.js)
//	GET /device/tact.wasm     the ranker, and the wasm_exec.js of its Go release,
//	GET /device/wasm_exec.js  from config.Device (flag -device)
//	GET /device/model         the model: recommend.Model.MarshalBinary of the
//	                          catalog, the DP popularity and the DP-trained
//	                          item-item model; the same bytes for everyone
//	GET /device/settings      the ranking settings (ondevice.Settings): trust
//	                          thresholds, blend, warm-up; the same for everyone
//	GET /device/consent       the Gate's decisions for the visitor of the
//	                          cookie (ondevice.Consent), or the policy's
//	                          defaults for a browser without one
//
// Consent stays with the server: a consent choice is not profile data, and
// the shop must keep the ledger that proves it, so the visitor still makes
// their choices in the preference centre (/preferences), and the device
// ranks with the decisions it fetched. None of these requests reads or
// counts the visit: only /device/consent looks the cookie up, to know
// whose decisions to send.
//
// The page sets the cookie tact_device=1 (a mode flag, no data), and
// deviceGuard keeps the server-rendered shop from taking personal data
// from such a browser: its shop pages (/, /items/…) redirect to /device,
// whose own links never leave it, and a POST of preferences, a purchase
// or feedback is refused with 409 and changes nothing.

// deviceCookie is the cookie that says a browser keeps its data on the
// device.
const deviceCookie = "tact_device"

//go:embed device/index.html device/app.js
var devicePage embed.FS

// deviceCSP lets the page run its own scripts and the wasm ranker, and
// fetch from the shop only.
const deviceCSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

// onDevice reports whether the request comes from a browser in the
// "keep my data on this device" mode.
func onDevice(r *http.Request) bool {
	c, err := r.Cookie(deviceCookie)
	return err == nil && c.Value == "1"
}

// deviceGuard refuses personal data from a browser in the device mode (see
// above) and passes every other request to next.
func deviceGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if onDevice(r) {
			p := r.URL.Path
			shopPage := p == "/" || strings.HasPrefix(p, "/items/")
			switch {
			case (r.Method == http.MethodGet || r.Method == http.MethodHead) && shopPage:
				http.Redirect(w, r, "/device", http.StatusSeeOther)
				return
			case r.Method == http.MethodPost && (p == "/preferences" || shopPage):
				http.Error(w, "This browser keeps its data on this device: the shop takes no preferences, feedback or orders from it. Use the shop at /device, or switch the mode off there.", http.StatusConflict)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// routeDevice registers the device mode's routes on m, serving the wasm
// ranker and its loader from assets (tact.wasm, wasm_exec.js).
func (s *server) routeDevice(m *http.ServeMux, assets fs.FS) {
	page := func(name, ctype string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := devicePage.ReadFile("device/" + name)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Security-Policy", deviceCSP)
			w.Header().Set("Content-Type", ctype)
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
		}
	}
	asset := func(name, ctype string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := fs.ReadFile(assets, name)
			if err != nil {
				http.Error(w, "storefront: "+name+" is not built (see -device)", http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", ctype)
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
		}
	}
	model := sync.OnceValues(func() ([]byte, error) { return s.shop.Model.MarshalBinary() })
	m.Handle("GET /device", page("index.html", "text/html; charset=utf-8"))
	m.Handle("GET /device/app.js", page("app.js", "text/javascript; charset=utf-8"))
	m.Handle("GET /device/tact.wasm", asset("tact.wasm", "application/wasm"))
	m.Handle("GET /device/wasm_exec.js", asset("wasm_exec.js", "text/javascript; charset=utf-8"))
	m.HandleFunc("GET /device/model", func(w http.ResponseWriter, r *http.Request) {
		b, err := model()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "model", time.Time{}, bytes.NewReader(b))
	})
	m.HandleFunc("GET /device/settings", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.deviceSettings())
	})
	m.HandleFunc("GET /device/consent", s.deviceConsent)
}

// deviceSettings returns the settings the server's own Recommender ranks
// with (see newServer), for the device to rank as the server would.
func (s *server) deviceSettings() ondevice.Settings {
	trust, _ := s.trust.(recommend.DefaultTrust) // the storefront's policies are DefaultTrust
	return ondevice.Settings{Trust: trust, WarmUp: s.warmUp,
		Weights: map[recommend.Tier]recommend.Weights{recommend.Anonymous: anonymousWeights}}
}

// deviceConsent sends the Gate's decisions for the purposes of the
// recommender's sources: for the visitor of the cookie, or, for a browser
// without one, the policy's defaults under the request's signals. A
// Global Privacy Control signal is recorded as on every page.
func (s *server) deviceConsent(w http.ResponseWriter, r *http.Request) {
	now, sig := s.now(), s.signals.Read(r)
	var c ondevice.Consent
	var err error
	if v := s.lookup(r); v != nil {
		c, err = ondevice.Decide(r.Context(), s.shop.Gate, v.id, now, sig)
		c.Known = true
	} else {
		c, err = ondevice.Decide(r.Context(), s.shop.Gate.Guest(), blankSubject, now, sig)
	}
	if err != nil {
		http.Error(w, "storefront: consent: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, c)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

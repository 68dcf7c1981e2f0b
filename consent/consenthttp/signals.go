package consenthttp

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
)

// GPC reports whether r carries the Global Privacy Control signal: a
// Sec-GPC header field whose value is exactly "1", as the W3C GPC
// specification defines it (any other value, or no field, is no signal).
func GPC(r *http.Request) bool {
	return r.Header.Get("Sec-GPC") == "1"
}

// SignalReader reads the [consent.Signals] of a request. GPC comes from the
// request itself; the person's age and the regime that applies come from
// what the host knows, through the two functions, either of which may be
// nil (age unknown, the Gate's regime). The zero SignalReader reads GPC
// alone.
type SignalReader struct {
	// Age returns the person's age in whole years when the host knows it
	// (from the account, never guessed from behaviour), 0 when not. A
	// negative age makes the decision fail with consent.ErrInvalidSignals.
	Age func(*http.Request) int
	// Regime returns the regime that applies to the person making the
	// request, or consent.RegimeDefault for the Gate's own. See
	// [RegimeByCountry] for one built from a header the host's CDN sets.
	Regime func(*http.Request) consent.Regime
}

// Read returns the signals r carries.
func (s SignalReader) Read(r *http.Request) consent.Signals {
	sig := consent.Signals{GPC: GPC(r)}
	if s.Age != nil {
		sig.Age = s.Age(r)
	}
	if s.Regime != nil {
		sig.Regime = s.Regime(r)
	}
	return sig
}

// gdprCountries are the ISO 3166-1 alpha-2 codes of the EU and EEA
// members, and the United Kingdom (UK GDPR).
var gdprCountries = map[string]bool{
	"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true, "EE": true, "FI": true,
	"FR": true, "DE": true, "GR": true, "HU": true, "IE": true, "IT": true, "LV": true, "LT": true, "LU": true,
	"MT": true, "NL": true, "PL": true, "PT": true, "RO": true, "SK": true, "SI": true, "ES": true, "SE": true,
	"IS": true, "LI": true, "NO": true, "GB": true,
}

// RegimeForPlace returns the regime for a place given as an ISO 3166-1
// alpha-2 country code and, optionally, an ISO 3166-2 subdivision code
// (with or without the country prefix: "CA" or "US-CA"): GDPR for the
// EU, the EEA and the United Kingdom, LGPD for Brazil, CPRA for
// California, and consent.RegimeDefault (the Gate's) for anywhere else or
// anything it does not recognize.
func RegimeForPlace(country, subdivision string) consent.Regime {
	country = strings.ToUpper(strings.TrimSpace(country))
	subdivision = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(subdivision)), country+"-")
	switch {
	case gdprCountries[country]:
		return consent.GDPR
	case country == "BR":
		return consent.LGPD
	case country == "US" && subdivision == "CA":
		return consent.CPRA
	}
	return consent.RegimeDefault
}

// RegimeByCountry returns a [SignalReader].Regime that reads the country
// and subdivision codes from the named request headers (as CDNs set them:
// Cloudflare's CF-IPCountry and CF-Region-Code, for example; region may be
// "") and maps them with [RegimeForPlace]. Use it only behind a proxy that
// sets these headers and strips them from what clients send: a client
// could otherwise pick its own regime.
func RegimeByCountry(country, region string) func(*http.Request) consent.Regime {
	return func(r *http.Request) consent.Regime {
		sub := ""
		if region != "" {
			sub = r.Header.Get(region)
		}
		return RegimeForPlace(r.Header.Get(country), sub)
	}
}

// GPCSupport returns the handler of the GPC support resource,
// /.well-known/gpc.json (W3C GPC, "GPC Support Resource"): it answers GET
// and HEAD with the JSON object {"gpc": true, "lastUpdate": date}, where
// date is lastUpdate's UTC date, the day the site's statement of support
// was made. Mount it at that path:
//
//	mux.Handle("GET /.well-known/gpc.json", consenthttp.GPCSupport(statementDate))
//
// The resource is public and the same for everyone: it may be cached and
// fetched from any origin.
func GPCSupport(lastUpdate time.Time) http.Handler {
	body, _ := json.Marshal(struct {
		GPC        bool   `json:"gpc"`
		LastUpdate string `json:"lastUpdate"`
	}{true, lastUpdate.UTC().Format(time.DateOnly)})
	body = append(body, '\n')
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodHead {
			return
		}
		w.Write(body)
	})
}

package consent_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"", "a", "marketing.email", "user.contact.email_2", "a.b.c.d.e.f.g.h", "a.b.c.d.e.f.g.h.i",
		".a", "a.", "a..b", "A", "2a", "a_", "a-b", "é", strings.Repeat("a", 129), "user._x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := consent.ParsePurpose(s)
		c, cerr := consent.ParseCategory(s)
		if (err == nil) != (cerr == nil) {
			t.Fatalf("purpose and category syntax disagree on %q: %v / %v", s, err, cerr)
		}
		if err != nil {
			var ke *consent.KeyError
			if !errors.As(err, &ke) || !errors.Is(err, consent.ErrMalformedKey) || ke.Key != s {
				t.Fatalf("ParsePurpose(%q) error %v is not a *KeyError for the input", s, err)
			}
			if ke.Pos >= len(s) && len(s) > 0 && ke.Pos != consent.MaxKeyLen {
				t.Fatalf("error position %d outside %q", ke.Pos, s)
			}
			if p != "" || c != "" {
				t.Fatalf("a failed parse returned %q", p)
			}
			return
		}
		if string(p) != s || string(c) != s || p.Validate() != nil || c.Validate() != nil {
			t.Fatalf("round trip failed for %q", s)
		}
		if !p.Covers(p) || p.Depth() < 1 || p.Depth() > consent.MaxKeyDepth {
			t.Fatalf("%q: covers itself %v, depth %d", s, p.Covers(p), p.Depth())
		}
		if par := p.Parent(); par != "" {
			if par.Validate() != nil || !par.Covers(p) || p.Covers(par) || par.Depth() != p.Depth()-1 {
				t.Fatalf("parent %q of %q is inconsistent", par, p)
			}
		} else if p.Depth() != 1 {
			t.Fatalf("%q has no parent but depth %d", p, p.Depth())
		}
	})
}

func FuzzDecodePolicy(f *testing.F) {
	retail, err := json.Marshal(consenttest.RetailPolicy())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(retail)
	f.Add([]byte(`{"version":1,"controller":"Shop","contact":"a@b.example","withdraw":"Settings","purposes":[{"purpose":"marketing","version":1,"description":"News","benefit":"Deals","basis":"consent","lifetime":"720h"}]}`))
	f.Add([]byte(`{"version":1,"controller":"S","contact":"c","withdraw":"w","purposes":[{"purpose":"a","version":1,"description":"d","basis":"contract","categories":["user.health"],"retention":"1h"}]}`))
	f.Add([]byte(`{"version":2,"purposes":[{"purpose":"a.b","version":3}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := consent.DecodePolicy(data)
		if err != nil {
			if !errors.Is(err, consent.ErrInvalidPolicy) {
				t.Fatalf("DecodePolicy error %v is not an ErrInvalidPolicy", err)
			}
			if p != nil {
				t.Fatal("a policy returned with an error")
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("DecodePolicy returned a policy that does not validate: %v", err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := consent.DecodePolicy(b)
		if err != nil {
			t.Fatalf("re-decoding an encoded policy: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the policy:\n%+v\n%+v", p, q)
		}
		g, err := consent.NewGate(p, consent.NewMemoryStore(), consent.GateConfig{})
		if err != nil {
			t.Fatalf("a valid policy makes a Gate: %v", err)
		}
		for _, s := range p.Purposes {
			d, err := g.Decide(ctx, "fuzz", s.Purpose, now, consent.Signals{})
			if err != nil {
				t.Fatalf("Decide(%s): %v", s.Purpose, err)
			}
			if d.Allowed && s.Basis.NeedsConsent() {
				t.Fatalf("%s needs consent and nobody gave it, yet allowed", s.Purpose)
			}
		}
	})
}

func FuzzImportLedger(f *testing.F) {
	// A small ledger with every kind of record (grant, denial, withdrawal,
	// both kinds of tombstone): small seeds keep minimization quick.
	g, _ := newGate(f, consent.GateConfig{})
	record(f, g, ev(consent.Grant, "a", consent.PurposeMarketing, now))
	record(f, g, ev(consent.Deny, "b", consent.PurposeSharing, now))
	record(f, g, ev(consent.Grant, "b", consent.PurposePersonalize, now))
	record(f, g, ev(consent.Withdraw, "a", consent.PurposeMarketingEmail, now))
	if _, err := g.Erase(ctx, "b", now); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := g.ExportLedger(ctx, &buf); err != nil {
		f.Fatal(err)
	}
	full := buf.Bytes()
	lines := bytes.SplitAfter(full, []byte("\n"))
	f.Add(full)
	f.Add(bytes.Join(lines[:3], nil))
	f.Add(full[:len(full)/2])
	f.Add(bytes.Replace(full, []byte(`"grant"`), []byte(`"deny"`), 1))
	f.Add(bytes.Replace(full, []byte(`"erased":true`), []byte(`"erased":false`), 1))
	f.Add([]byte(""))
	f.Add([]byte("\n"))
	f.Add([]byte("{}\n"))
	pol := consenttest.RetailPolicy()
	f.Fuzz(func(t *testing.T, data []byte) {
		g1, err := consent.NewGate(pol, consent.NewMemoryStore(), consent.GateConfig{})
		if err != nil {
			t.Fatal(err)
		}
		n, err := g1.ImportLedger(ctx, bytes.NewReader(data))
		_, verr := consent.VerifyJSONL(bytes.NewReader(data))
		// They agree, except that an import also refuses records that claim
		// a policy version the Gate does not know.
		if (err == nil) != (verr == nil) && !(verr == nil && errors.Is(err, consent.ErrUnknownVersion)) {
			t.Fatalf("ImportLedger (%v) and VerifyJSONL (%v) disagree", err, verr)
		}
		var out bytes.Buffer
		m, xerr := g1.ExportLedger(ctx, &out)
		if xerr != nil {
			t.Fatal(xerr)
		}
		if err != nil {
			var le *consent.LineError
			if !errors.As(err, &le) || le.Line < 1 || !(errors.Is(err, consent.ErrMalformedRecord) || errors.Is(err, consent.ErrTampered) || errors.Is(err, consent.ErrUnknownVersion)) {
				t.Fatalf("import error %v is not a *LineError with a cause", err)
			}
			if n != 0 || m != 0 {
				t.Fatalf("a failed import applied %d records", m)
			}
			return
		}
		if n != m {
			t.Fatalf("imported %d, exported %d", n, m)
		}
		if _, err := g1.Verify(ctx); err != nil {
			t.Fatalf("an imported ledger does not verify: %v", err)
		}
		// Round trip: what we export imports again and exports the same.
		g2, _ := consent.NewGate(pol, consent.NewMemoryStore(), consent.GateConfig{})
		if _, err := g2.ImportLedger(ctx, bytes.NewReader(out.Bytes())); err != nil {
			t.Fatalf("re-importing an export: %v", err)
		}
		var again bytes.Buffer
		if _, err := g2.ExportLedger(ctx, &again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), again.Bytes()) {
			t.Fatalf("export is not stable:\n%s\n%s", out.Bytes(), again.Bytes())
		}
		// And the Gate keeps working on top of it.
		later := time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC) // after anything the ledger may hold about "after"
		if _, err := g1.Record(ctx, consent.Event{Action: consent.Grant, Subject: "after", Purpose: consent.PurposeMarketing, At: later, Channel: consent.ChannelWeb}); err != nil {
			t.Fatalf("Record after import: %v", err)
		}
		if _, err := g1.Verify(ctx); err != nil {
			t.Fatalf("Verify after import and Record: %v", err)
		}
	})
}

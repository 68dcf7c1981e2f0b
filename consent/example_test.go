package consent_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
)

// A shop asks before it uses purchase history; the Gate decides per request
// and says why.
func Example() {
	ctx := context.Background()
	gate, err := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	if err != nil {
		panic(err)
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

	// The shopper ticks "tailor the shop to me" in the app.
	_, err = gate.Record(ctx, consent.Event{
		Action:  consent.Grant,
		Subject: "shopper-42",
		Purpose: consent.PurposePersonalize,
		At:      now.Add(-time.Hour),
		Channel: consent.ChannelApp,
	})
	if err != nil {
		panic(err)
	}

	for _, p := range []consent.Purpose{
		consent.PurposePersonalizeHistory, // covered by the grant of its parent
		consent.PurposeMarketingEmail,     // never asked
		consent.PurposeServiceCheckout,    // a contract: no consent needed
	} {
		d, err := gate.Decide(ctx, "shopper-42", p, now, consent.Signals{})
		if err != nil {
			panic(err)
		}
		fmt.Println(d.Explain())
	}
	// Output:
	// personalize.history is allowed: you gave your consent
	// marketing.email is not allowed: you have not given consent
	// service.checkout is allowed: needed to provide the service or required by law; consent is not the basis
}

// Deciding: the Decision carries the reason code to branch on, the record it
// rests on and when it stops holding.
func ExampleGate_Decide() {
	ctx := context.Background()
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	if err := consenttest.Seed(ctx, gate); err != nil { // the fixture shoppers, see consenttest.Shoppers
		panic(err)
	}
	now := consenttest.Now()

	d, err := gate.Decide(ctx, consenttest.SubjectGranted, consent.PurposePersonalizeHistory, now, consent.Signals{})
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Allowed, d.Reason, d.Basis)
	fmt.Println("rests on:", d.Record.Action, d.Record.Purpose, "via", d.Record.Channel)
	fmt.Println("expires:", d.Expires.Format(time.DateOnly))

	d, _ = gate.Decide(ctx, consenttest.SubjectOutdated, consent.PurposePersonalizeHistory, now, consent.Signals{})
	fmt.Println(d.Explain())

	_, err = gate.Decide(ctx, consenttest.SubjectGranted, "personalize.mood", now, consent.Signals{})
	fmt.Println(errors.Is(err, consent.ErrUnknownPurpose))
	// Output:
	// true granted consent
	// rests on: grant personalize via web
	// expires: 2026-05-02
	// personalize.history is not allowed: the purpose changed since you agreed; we need to ask again
	// true
}

// Withdrawing is the same call as granting, and takes effect for every
// decision that starts after it returns.
func ExampleGate_Record_withdraw() {
	ctx := context.Background()
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	now := consenttest.Now()

	grant := consent.Event{Action: consent.Grant, Subject: "shopper-7", Purpose: consent.PurposeMarketing,
		At: now.Add(-24 * time.Hour), Channel: consent.ChannelWeb}
	withdraw := grant
	withdraw.Action, withdraw.At, withdraw.Channel = consent.Withdraw, now, consent.ChannelEmail

	if _, err := gate.Record(ctx, grant); err != nil {
		panic(err)
	}
	d, _ := gate.Decide(ctx, "shopper-7", consent.PurposeMarketingEmail, now, consent.Signals{})
	fmt.Println(d.Explain())

	rec, err := gate.Record(ctx, withdraw)
	if err != nil {
		panic(err)
	}
	fmt.Println("recorded:", rec.Seq, rec.Action, rec.Purpose)
	d, _ = gate.Decide(ctx, "shopper-7", consent.PurposeMarketingEmail, now, consent.Signals{})
	fmt.Println(d.Explain())
	// Output:
	// marketing.email is allowed: you gave your consent
	// recorded: 2 withdraw marketing
	// marketing.email is not allowed: you withdrew your consent
}

// A Global Privacy Control signal opts a visitor out of sale, sharing and
// targeted advertising (and, under GDPR, direct marketing). The Gate records
// it, so the opt-out holds on later requests that do not carry the signal.
func ExampleSignals_gpc() {
	ctx := context.Background()
	store := consent.NewMemoryStore()
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), store, consent.GateConfig{Regime: consent.CPRA})
	now := consenttest.Now()

	for _, p := range []consent.Purpose{consent.PurposeAdvertisingTargeted, consent.PurposePersonalizeHistory} {
		d, _ := gate.Decide(ctx, "visitor-9", p, now, consent.Signals{GPC: true})
		fmt.Println(d.Explain())
	}
	fmt.Println("opt-outs recorded:", store.Len())

	later, _ := gate.Decide(ctx, "visitor-9", consent.PurposeSharingPartners, now.Add(time.Hour), consent.Signals{})
	fmt.Println("an hour later, no signal:", later.Allowed, later.Reason)
	// Output:
	// advertising.targeted is not allowed: your browser sent a Global Privacy Control signal
	// personalize.history is allowed: allowed until you opt out
	// opt-outs recorded: 2
	// an hour later, no signal: false gpc
}

// The same person under different regimes: opt-in under GDPR, opt-out under
// CPRA, and opt-in again under CPRA for a 15-year-old.
func ExampleRegime() {
	ctx := context.Background()
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	now := consenttest.Now()
	for _, sig := range []consent.Signals{
		{},
		{Regime: consent.CPRA},
		{Regime: consent.CPRA, Age: 15},
	} {
		d, _ := gate.Decide(ctx, "shopper-3", consent.PurposeSharingPartners, now, sig)
		fmt.Printf("%s age %d: %v (%s)\n", d.Regime, sig.Age, d.Allowed, d.Reason)
	}
	// Output:
	// gdpr age 0: false (no_consent)
	// cpra age 0: true (not_opted_out)
	// cpra age 15: false (minor)
}

// A receipt tells the person, in words they can read in one screen, what
// is on and what it gives them, what is off, how to change their mind and
// where the proof is. The JSON form (json.Marshal) carries the full
// records and hashes.
func ExampleGate_Receipt() {
	ctx := context.Background()
	// A fixed salt stream, so that the hashes below are the same on every
	// run; production leaves Rand nil (crypto/rand).
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(1)})
	now := consenttest.Now()
	gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: "shopper-42", Purpose: consent.PurposePersonalizeHistory,
		At: now.Add(-48 * time.Hour), Channel: consent.ChannelApp})
	gate.Record(ctx, consent.Event{Action: consent.Deny, Subject: "shopper-42", Purpose: consent.PurposeMarketingEmail,
		At: now.Add(-48 * time.Hour), Channel: consent.ChannelApp})

	rc, err := gate.Receipt(ctx, "shopper-42", now)
	if err != nil {
		panic(err)
	}
	fmt.Print(rc.Text())
	// Output:
	// Your privacy choices with Acme Outfitters
	// As of 1 June 2025.
	//
	// On
	// • Recommendations from what you bought and browsed
	//   What you get: recommendations that fit your training, without repeats of what you own
	//   Uses what you bought and what you looked at.
	//   You agreed on 30 May 2025 in our app. Until 30 May 2026, unless you turn it off.
	//
	// Off
	// • Offers by email. You said no on 30 May 2025.
	//
	// To change your mind: open Account > Privacy in the app or at acme.example/privacy, or reply STOP to any email. It takes effect at once.
	// Questions: privacy@acme.example
	// Our full privacy notice: https://acme.example/privacy
	//
	// Proof: records 1 and 2 of our consent ledger, receipt e2ee67db4a17. Your data export holds them in full.
}

// The ledger proves what was recorded: export it, verify it anywhere, and
// any change shows.
func ExampleVerifyJSONL() {
	ctx := context.Background()
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	now := consenttest.Now()
	for i, a := range []consent.Action{consent.Grant, consent.Withdraw, consent.Grant} {
		gate.Record(ctx, consent.Event{Action: a, Subject: "shopper-5", Purpose: consent.PurposeMarketing,
			At: now.Add(time.Duration(i) * time.Hour), Channel: consent.ChannelWeb})
	}
	var ledger bytes.Buffer
	n, _ := gate.ExportLedger(ctx, &ledger)
	fmt.Println("exported", n, "records")

	cp, err := consent.VerifyJSONL(bytes.NewReader(ledger.Bytes()))
	fmt.Println("verifies:", err == nil, "up to record", cp.Seq)

	// Someone turns the withdrawal into a denial.
	tampered := strings.Replace(ledger.String(), `"action":"withdraw"`, `"action":"deny"`, 1)
	_, err = consent.VerifyJSONL(strings.NewReader(tampered))
	fmt.Println(err)
	fmt.Println(errors.Is(err, consent.ErrTampered))
	// Output:
	// exported 3 records
	// verifies: true up to record 3
	// consent: ledger line 2: ledger does not verify at record 2: hash does not match the record's contents
	// true
}

// Erasure keeps only what proof of a withdrawal needs.
func ExampleGate_Erase() {
	ctx := context.Background()
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	now := consenttest.Now()
	gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: "alice@example.com", Purpose: consent.PurposePersonalize,
		At: now.Add(-time.Hour), Channel: consent.ChannelWeb})

	e, err := gate.Erase(ctx, "alice@example.com", now)
	if err != nil {
		panic(err)
	}
	fmt.Println("erased", e.Records, "records; withdrew", e.Withdrawn)

	var ledger bytes.Buffer
	gate.ExportLedger(ctx, &ledger)
	fmt.Println("subject left in the ledger:", strings.Contains(ledger.String(), "alice"))
	_, err = gate.Verify(ctx)
	fmt.Println("ledger verifies:", err == nil)
	// Output:
	// erased 2 records; withdrew [personalize]
	// subject left in the ledger: false
	// ledger verifies: true
}

// Policies can live in JSON; decoding validates them and names the purpose
// at fault.
func ExampleDecodePolicy() {
	doc := `{
	  "version": 1,
	  "controller": "Corner Bikes",
	  "contact": "privacy@cornerbikes.example",
	  "withdraw": "Settings > Privacy, or ask in the shop",
	  "purposes": [
	    {"purpose": "personalize", "version": 1, "basis": "consent", "lifetime": "8760h",
	     "description": "Suggestions from what you bought", "benefit": "parts that fit your bike"},
	    {"purpose": "personalize.fit", "version": 1, "basis": "consent", "lifetime": "8760h",
	     "description": "Bike fitting from your injuries", "benefit": "a bike that does not hurt",
	     "categories": ["user.health"], "retention": "4380h"}
	  ]
	}`
	_, err := consent.DecodePolicy([]byte(doc))
	fmt.Println(err)
	fmt.Println(errors.Is(err, consent.ErrInvalidPolicy))

	fixed := strings.Replace(doc, `"purpose": "personalize.fit", "version": 1, "basis": "consent"`,
		`"purpose": "personalize.fit", "version": 1, "basis": "explicit_consent"`, 1)
	p, err := consent.DecodePolicy([]byte(fixed))
	fmt.Println(err, len(p.Purposes))
	// Output:
	// consent: invalid policy: purpose "personalize.fit": basis: uses sensitive category "user.health" on basis consent; sensitive data needs explicit_consent
	// true
	// <nil> 2
}

// The same receipt in German, with the policy's purposes labelled in
// German by the host: the catalog is chosen per request, from the
// Accept-Language header.
func ExampleCatalog() {
	ctx := context.Background()
	gate, _ := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{Rand: consenttest.Rand(1)})
	now := consenttest.Now()
	gate.Record(ctx, consent.Event{Action: consent.Grant, Subject: "shopper-42", Purpose: consent.PurposePersonalizeHistory,
		At: now.Add(-48 * time.Hour), Channel: consent.ChannelApp})
	gate.Record(ctx, consent.Event{Action: consent.Withdraw, Subject: "shopper-42", Purpose: consent.PurposeMarketingEmail,
		At: now.Add(-24 * time.Hour), Channel: consent.ChannelEmail})

	cat := consent.NewCatalog()
	cat.Set("de", "purpose.personalize.history", "Empfehlungen aus Ihren Käufen und Ansichten")
	cat.Set("de", "benefit.personalize.history", "Empfehlungen, die zu Ihrem Training passen, ohne Wiederholungen")
	cat.Set("de", "purpose.marketing.email", "Angebote per E-Mail")
	lang := cat.Match("de-AT, de;q=0.9, en;q=0.5")
	fmt.Println(lang)

	rc, _ := gate.Receipt(ctx, "shopper-42", now)
	fmt.Print(cat.Receipt(lang, &rc))
	// Output:
	// de
	// Ihre Datenschutz-Einstellungen bei Acme Outfitters
	// Stand: 1. Juni 2025.
	//
	// Eingeschaltet
	// • Empfehlungen aus Ihren Käufen und Ansichten
	//   Ihr Vorteil: Empfehlungen, die zu Ihrem Training passen, ohne Wiederholungen
	//   Genutzte Daten: was Sie gekauft haben und was Sie sich angesehen haben.
	//   Sie haben am 30. Mai 2025 in unserer App eingewilligt. Bis zum 30. Mai 2026, wenn Sie es nicht vorher ausschalten.
	//
	// Ausgeschaltet
	// • Angebote per E-Mail. Sie haben es am 31. Mai 2025 ausgeschaltet.
	//
	// So ändern Sie Ihre Wahl: open Account > Privacy in the app or at acme.example/privacy, or reply STOP to any email. Die Änderung gilt sofort.
	// Fragen: privacy@acme.example
	// Unsere vollständige Datenschutzerklärung: https://acme.example/privacy
	//
	// Nachweis: Einträge 1 und 2 unseres Einwilligungsprotokolls, Beleg a5e042b3ba44. Ihr Datenexport enthält sie vollständig.
}

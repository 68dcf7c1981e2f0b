package minimize_test

import (
	"bytes"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/minimize"
)

// exampleSecret stands in for a key the host loads from its secret store
// (generate one with crypto/rand; never hard-code it).
func exampleSecret(seed byte) []byte {
	return bytes.Repeat([]byte{seed, seed + 1, seed + 2, seed + 3}, 8)
}

// Order is a purchase event as a shop's service records it.
type Order struct {
	CustomerID string    `tact:"user.unique_id"`
	Email      string    `tact:"user.contact.email"`
	BirthDate  time.Time `tact:"user.demographic.birth_date"`
	Postal     string    `tact:"user.contact.postal_code"`
	PlacedAt   time.Time `tact:"user.behavior.purchase_history"`
	Total      float64   `tact:"user.payment"`
	SKU        string    // not personal data: kept only because a field rule names it
}

// Minimize an order before it goes to the analytics store: the customer
// id becomes a keyed pseudonym, the birth date an age band, the postal code
// its district, the time its day, the total a 25-unit bucket; the e-mail
// address is not named by the policy, so it is dropped.
func ExampleStruct() {
	keys, err := minimize.NewKeyring(minimize.Key{ID: "k1", Secret: exampleSecret(1)})
	if err != nil {
		log.Fatal(err)
	}
	policy, err := minimize.NewPolicy(consent.PurposeAnalyticsAggregate,
		minimize.ForCategory(consent.CategoryUniqueID, minimize.Pseudonymize()),
		minimize.ForCategory(consent.CategoryDemographicBirthDate, minimize.AgeBand(10)),
		minimize.ForCategory(consent.CategoryContactPostal, minimize.PostalPrefix(3)),
		minimize.ForCategory(consent.CategoryBehaviorPurchaseHistory, minimize.Truncate(minimize.Day)),
		minimize.ForCategory(consent.CategoryPayment, minimize.Bucket(25)),
		minimize.ForField("SKU", minimize.Keep()),
	)
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	m, err := minimize.New(policy, minimize.Config{
		Keyring: keys,
		Now:     func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}

	in := Order{
		CustomerID: "C-1042",
		Email:      "ana@example.com",
		BirthDate:  time.Date(1988, 9, 14, 0, 0, 0, 0, time.UTC),
		Postal:     "SW1A 1AA",
		PlacedAt:   time.Date(2025, 5, 30, 18, 41, 7, 0, time.UTC),
		Total:      73.40,
		SKU:        "TEE-042",
	}
	out, report, err := minimize.StructReport(m, in)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("customer %s (key %s)\n", out.CustomerID, keys.Current())
	fmt.Printf("email %q\n", out.Email)
	fmt.Printf("born %s, so aged %d+ on %s\n", out.BirthDate.Format("2006-01-02"), now.Year()-out.BirthDate.Year(), now.Format("2006-01-02"))
	fmt.Println("postal", out.Postal, "placed", out.PlacedAt.Format(time.DateTime), "total", out.Total, "sku", out.SKU)
	fmt.Print(report)
	// Output:
	// customer e8t9vmpl53qutdqqld33078eappl3bg (key k1)
	// email ""
	// born 1995-06-01, so aged 30+ on 2025-06-01
	// postal SW1 placed 2025-05-30 00:00:00 total 50 sku TEE-042
	// purpose analytics.aggregate: 1 kept, 5 transformed, 1 dropped
	//   CustomerID  user.unique_id                  transformed  pseudonymize      by category "user.unique_id"
	//   Email       user.contact.email              dropped      -                 not in the policy
	//   BirthDate   user.demographic.birth_date     transformed  age_band(10)      by category "user.demographic.birth_date"
	//   Postal      user.contact.postal_code        transformed  postal_prefix(3)  by category "user.contact.postal_code"
	//   PlacedAt    user.behavior.purchase_history  transformed  truncate(day)     by category "user.behavior.purchase_history"
	//   Total       user.payment                    transformed  bucket(25)        by category "user.payment"
	//   SKU         -                               kept         -                 by field "SKU"
}

// Minimize map records (decoded JSON, rows from a query) with a schema
// that maps keys to categories. Consent narrows the policy per person: this
// shopper withdrew consent for location data, so the city is dropped even
// though the policy keeps it.
func ExampleMinimizer_Map() {
	policy, err := minimize.NewPolicy(consent.PurposePersonalizeHistory,
		minimize.ForCategory(consent.CategoryBehavior, minimize.Keep()),
		minimize.ForCategory(consent.CategoryBehaviorSession, minimize.Part(minimize.HourOfDay)),
		minimize.ForCategory(consent.CategoryLocationApp, minimize.Keep()),
		minimize.ForCategory(consent.CategoryContactEmail, minimize.Mask(1, 4)),
	)
	if err != nil {
		log.Fatal(err)
	}
	m, err := minimize.New(policy, minimize.Config{})
	if err != nil {
		log.Fatal(err)
	}
	schema, err := minimize.NewSchema(map[string]consent.Category{
		"email":   consent.CategoryContactEmail,
		"viewed":  consent.CategoryBehaviorBrowsingHistory,
		"visited": consent.CategoryBehaviorSession,
		"city":    consent.CategoryLocationApp,
		"phone":   consent.CategoryContactPhone,
	})
	if err != nil {
		log.Fatal(err)
	}
	rec := map[string]any{
		"email":   "ana@example.com",
		"viewed":  "TEE-042",
		"visited": time.Date(2025, 5, 30, 18, 41, 7, 0, time.UTC),
		"city":    "Lisbon",
		"phone":   "+351 912 345 678",
		"note":    "not in the schema",
	}
	noLocation := minimize.AllowFunc(func(c consent.Category) bool {
		return !consent.CategoryLocation.Covers(c)
	})
	out, report, err := m.Narrow(noLocation).MapReport(schema, rec)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out)
	fmt.Print(report)
	// Output:
	// map[email:a**********.com viewed:TEE-042 visited:18]
	// purpose personalize.history: 1 kept, 2 transformed, 3 dropped
	//   city     user.location.approximate       dropped      -                  no consent for the category
	//   email    user.contact.email              transformed  mask(1,4)          by category "user.contact.email"
	//   note     -                               dropped      -                  not in the policy
	//   phone    user.contact.phone              dropped      -                  not in the policy
	//   viewed   user.behavior.browsing_history  kept         -                  by category "user.behavior"
	//   visited  user.behavior.session           transformed  part(hour_of_day)  by category "user.behavior.session"
}

// Rotate a pseudonym key: new tokens use the new key, old tokens are still
// recognised (and say which key made them), so a stored token can be
// re-keyed the next time its input is seen, and the old key retired once
// none is left.
func ExamplePseudonymizer_rotation() {
	k1, err := minimize.NewKeyring(minimize.Key{ID: "2025-01", Secret: exampleSecret(1)})
	if err != nil {
		log.Fatal(err)
	}
	before, _ := k1.Pseudonymizer(consent.PurposeAnalyticsAggregate)
	stored, _ := before.Token("C-1042")

	k2, err := k1.Rotate(minimize.Key{ID: "2025-07", Secret: exampleSecret(9)})
	if err != nil {
		log.Fatal(err)
	}
	after, _ := k2.Pseudonymizer(consent.PurposeAnalyticsAggregate)
	fresh, _ := after.Token("C-1042")

	id, _ := after.KeyID(stored)
	fmt.Println("keys:", k2.IDs())
	fmt.Println("stored token made with", id, "- current is", after.CurrentKey())
	fmt.Println("stored token still matches C-1042:", after.Match(stored, "C-1042"))
	fmt.Println("new token differs:", fresh != stored, "and matches:", after.Match(fresh, "C-1042"))

	// Another purpose derives other keys: its tokens cannot be joined.
	marketing, _ := k2.Pseudonymizer(consent.PurposeMarketingEmail)
	other, _ := marketing.Token("C-1042")
	fmt.Println("marketing token differs:", other != fresh)

	// Once every stored token is re-keyed, retire the old key.
	k3, err := k2.Retire("2025-01")
	if err != nil {
		log.Fatal(err)
	}
	retired, _ := k3.Pseudonymizer(consent.PurposeAnalyticsAggregate)
	_, err = retired.KeyID(stored)
	fmt.Println(err)
	// Output:
	// keys: [2025-07 2025-01]
	// stored token made with 2025-01 - current is 2025-07
	// stored token still matches C-1042: true
	// new token differs: true and matches: true
	// marketing token differs: true
	// minimize: token key not in keyring: key "2025-01"
}

// Keys redact themselves: printing or logging a Keyring, or the Config
// that holds it, shows the key ids and never the secrets, whatever the
// verb or handler.
func ExampleKeyring_LogValue() {
	keys, err := minimize.NewKeyring(minimize.Key{ID: "2025-07", Secret: exampleSecret(9)},
		minimize.Key{ID: "2025-01", Secret: exampleSecret(1)})
	if err != nil {
		log.Fatal(err)
	}
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	logger.Info("keys loaded", "keyring", keys)
	fmt.Printf("%v\n%+v\n", keys, minimize.Config{Keyring: keys})
	fmt.Println(minimize.Key{ID: "2025-07", Secret: exampleSecret(9)})
	// Output:
	// level=INFO msg="keys loaded" keyring.keys=2 keyring.ids="[2025-07 2025-01]" keyring.current=2025-07
	// minimize.Keyring{keys: 2, ids: [2025-07 2025-01], current: 2025-07}
	// {Keyring:minimize.Keyring{keys: 2, ids: [2025-07 2025-01], current: 2025-07} Now:<nil> Logger:<nil>}
	// minimize.Key{ID:"2025-07", Secret:[redacted]}
}

// Sweep stored records against a retention schedule: browsing data may
// be kept 90 days, contact data 30, and the customer id (under "user") a
// year. A record past only some limits is trimmed; past all, purged.
func ExampleSweep() {
	type Visit struct {
		ID       int       // untagged: stays in trimmed copies
		At       time.Time // when it was collected
		Customer string    `tact:"user.unique_id"`
		Email    string    `tact:"user.contact.email"`
		Viewed   []string  `tact:"user.behavior.browsing_history"`
	}
	r, err := minimize.NewRetention(consent.PurposePersonalizeHistory, map[consent.Category]time.Duration{
		consent.CategoryUser:     365 * 24 * time.Hour,
		consent.CategoryContact:  30 * 24 * time.Hour,
		consent.CategoryBehavior: 90 * 24 * time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	visits := []Visit{
		{1, now.Add(-10 * day), "c1", "ana@example.com", []string{"TEE-042"}},
		{2, now.Add(-45 * day), "c2", "bo@example.com", []string{"MUG-007"}},
		{3, now.Add(-120 * day), "c3", "cy@example.com", []string{"CAP-001"}},
		{4, now.Add(-400 * day), "c4", "di@example.com", []string{"HAT-300"}},
	}
	s, err := minimize.Sweep(r, visits, func(v Visit) time.Time { return v.At }, now)
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range s.Keep {
		fmt.Printf("keep  %d %q %q %v\n", v.ID, v.Customer, v.Email, v.Viewed)
	}
	for _, v := range s.Trim {
		fmt.Printf("trim  %d %q %q %v\n", v.ID, v.Customer, v.Email, v.Viewed)
	}
	for _, v := range s.Purge {
		fmt.Printf("purge %d\n", v.ID)
	}
	fmt.Println(r.Past(consent.CategoryContactEmail, now.Add(-45*day), now))
	// Output:
	// keep  1 "c1" "ana@example.com" [TEE-042]
	// trim  2 "c2" "" [MUG-007]
	// trim  3 "c3" "" []
	// purge 4
	// true
}

// Check a minimized batch for k-anonymity over its quasi-identifiers and
// suppress the records of classes smaller than k; l-diversity of a
// sensitive field comes with it.
func ExampleCheckK() {
	type Row struct {
		AgeBand int
		Region  string
		Bought  string
	}
	rows := []Row{
		{30, "SW1", "tent"}, {30, "SW1", "boots"}, {30, "SW1", "tent"},
		{40, "N1", "stove"}, {40, "N1", "stove"},
		{50, "E2", "kayak"},
	}
	res, err := minimize.CheckK(rows, minimize.KAnonymity{
		QuasiIdentifiers: []string{"AgeBand", "Region"},
		K:                2,
		Sensitive:        "Bought",
		Suppress:         true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("k =", res.K, "l =", res.L, "classes =", res.Classes)
	for _, c := range res.Small {
		fmt.Println("below k:", c.Values, "size", c.Size)
	}
	fmt.Println("suppressed", res.Suppressed, "kept", len(res.Records))
	// Output:
	// k = 1 l = 1 classes = 3
	// below k: [50 E2] size 1
	// suppressed 1 kept 5
}

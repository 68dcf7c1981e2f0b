// Command quickstart walks through tact end to end on a synthetic shop:
// the consent policy and its benefits, consent events and decisions with
// their reasons, an order minimized for analytics, a differentially private
// trending report with the budget it spent, recommendations for shoppers at
// each trust tier (each item explained, each response saying which data it
// used and what it held back), a consent receipt, the verified ledger and a
// summary of the audit trail.
//
//	go run ./examples/quickstart [-seed N] [-shoppers N] [-items N] [-audit]
//
// The shop is generated from the seed; only the differential privacy noise
// differs between runs, by design.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/minimize"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	start := time.Now()
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "seed of the synthetic shop (catalog, shoppers, consent states); DP noise is always fresh")
	shoppers := fs.Int("shoppers", 3000, "number of synthetic shoppers")
	items := fs.Int("items", 300, "number of catalog items")
	audit := fs.Bool("audit", false, "also print every audit event as a JSON line on stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: quickstart [flags]\n\nRuns tact end to end on a synthetic shop and prints the story.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *shoppers < 10 || *items < 50 {
		return fmt.Errorf("need at least 10 shoppers and 50 items (got %d and %d)", *shoppers, *items)
	}
	var next slog.Handler
	if *audit {
		next = slog.NewJSONHandler(stderr, nil)
	}
	counter := demo.NewAuditCounter(next)
	shop, err := demo.New(ctx, demo.Options{Seed: *seed, Items: *items, Shoppers: *shoppers, Logger: slog.New(counter)})
	if err != nil {
		return err
	}
	p := &printer{w: stdout}
	p.line("tact quickstart: %s, %d items, %d shoppers (seed %d), %s",
		shop.Policy.Controller, shop.World.Catalog.Len(), len(shop.World.Shoppers), *seed, shop.Now.Format("2006-01-02 15:04 MST"))

	policySection(p, shop)
	ana, err := consentSection(ctx, p, shop)
	if err != nil {
		return err
	}
	if err := minimizeSection(p, shop); err != nil {
		return err
	}
	dpSection(ctx, p, shop)
	ben, err := recommendSection(ctx, p, shop, ana)
	if err != nil {
		return err
	}
	if err := proofSection(ctx, p, shop, ben); err != nil {
		return err
	}
	p.section("8. Audit trail: what every package reported (no ids, no pseudonyms)")
	for _, c := range counter.Counts() {
		p.line("%-18s %-24s %6d", c.Event, cmp.Or(c.Purpose, "-"), c.N)
	}
	p.line("")
	p.line("done in %s", time.Since(start).Round(time.Millisecond))
	return p.err
}

// 1. The policy and the value exchange.
func policySection(p *printer, shop *demo.Shop) {
	p.section("1. The policy: what the shop asks for, and what shoppers get in return (version %d)", shop.Policy.Version)
	for _, s := range shop.Policy.Purposes {
		if s.Benefit == "" {
			continue
		}
		p.line("%-22s %-19s %s", s.Purpose, s.Basis, s.Benefit)
	}
}

// 2. Consent: Ana grants, the Gate decides with reasons, Ana changes her mind.
func consentSection(ctx context.Context, p *printer, shop *demo.Shop) (string, error) {
	const ana = "ana"
	now := shop.Now
	p.section("2. Consent: Ana decides, the Gate explains")
	record := func(a consent.Action, pu consent.Purpose, at time.Time, ch consent.Channel) error {
		rec, err := shop.Gate.Record(ctx, consent.Event{Action: a, Subject: ana, Purpose: pu, At: at, Channel: ch, Evidence: demo.NoticeHash})
		if err == nil {
			p.line("Ana %-8s %-22s via %-5s -> ledger #%d %s…", a, pu, ch, rec.Seq, rec.Hash.String()[:12])
		}
		return err
	}
	if err := errors.Join(
		record(consent.Grant, consent.PurposePersonalizeDeclared, now.Add(-10*24*time.Hour), consent.ChannelWeb),
		record(consent.Grant, consent.PurposePersonalizeFeedback, now.Add(-10*24*time.Hour), consent.ChannelWeb),
		record(consent.Grant, consent.PurposeMarketingEmail, now.Add(-10*24*time.Hour), consent.ChannelWeb),
	); err != nil {
		return "", err
	}
	decide := func(pu consent.Purpose) error {
		d, err := shop.Gate.Decide(ctx, ana, pu, now, consent.Signals{})
		if err != nil {
			return err
		}
		p.line("  %s", d.Explain())
		if !d.Expires.IsZero() {
			p.line("    (basis %s, until %s)", d.Basis, d.Expires.Format(time.DateOnly))
		}
		return nil
	}
	for _, pu := range []consent.Purpose{consent.PurposePersonalizeDeclared, consent.PurposePersonalizeHistory,
		consent.PurposeServiceCheckout, consent.PurposeMarketingEmail} {
		if err := decide(pu); err != nil {
			return "", err
		}
	}
	if err := record(consent.Withdraw, consent.PurposeMarketingEmail, now.Add(-time.Hour), consent.ChannelApp); err != nil {
		return "", err
	}
	if err := decide(consent.PurposeMarketingEmail); err != nil {
		return "", err
	}
	_, err := shop.Gate.Decide(ctx, ana, "personalize.mood", now, consent.Signals{})
	p.line("  an undeclared purpose is an error, never an allow: %v", err)
	return ana, shop.Profiles.SetPreferences(ctx, ana, recommend.Preferences{
		Interests: []recommend.Interest{{Text: "you're training for a marathon", Tags: []string{"marathon"}}},
		Sizes:     []string{"shoe:42"},
	})
}

// 3. Minimization: an order as checkout records it, as analytics keeps it.
func minimizeSection(p *printer, shop *demo.Shop) error {
	p.section("3. Minimization: one order line, as checkout records it and as analytics keeps it")
	var order demo.Order
	for _, x := range shop.World.Interactions {
		if x.Kind == recommend.Purchase {
			order = shop.OrderOf(x)
			break
		}
	}
	out, report, err := minimize.StructReport(shop.Analytics, order)
	if err != nil {
		return err
	}
	p.line("in:  %s %s %s born %s %s %.2f %s", order.Customer, order.Email, order.Country,
		order.BirthDate.Format(time.DateOnly), order.Item, order.Price, order.PlacedAt.Format(time.DateTime))
	band := shop.Now.Year() - out.BirthDate.Year()
	p.line("out: %s %q %s aged %d-%d %s %.0f week of %s", out.Customer, out.Email, out.Country,
		band, band+9, out.Item, out.Price, out.PlacedAt.Format(time.DateOnly))
	p.block(report.String())
	kept, transformed, dropped := shop.Minimized.Totals()
	p.line("the whole log: %d orders, %d kept for analytics (shoppers who objected are left out);", shop.Orders, shop.Kept)
	p.line("fields kept %d, transformed %d, dropped %d", kept, transformed, dropped)
	return nil
}

// 4. Differential privacy: trending per country, the budget spent.
func dpSection(ctx context.Context, p *printer, shop *demo.Shop) {
	p.section("4. Differential privacy: what is trending, per country (top 3 of %d, persons ± 95%%; ε=%g, δ=%g)",
		demo.TrendingK, demo.TrendingEpsilon, demo.Delta)
	for _, seg := range append([]string{demo.AllSegments}, demo.Countries...) {
		var parts []string
		for i, r := range shop.Trending.Top(seg) {
			if i == 3 {
				break
			}
			it, _ := shop.World.Catalog.Lookup(r.Item)
			parts = append(parts, fmt.Sprintf("%s %d±%.0f", it.Title, r.Count, (r.Upper-r.Lower)/2))
		}
		p.line("%-4s %s", seg, cmp.Or(strings.Join(parts, "; "), "(nothing clears the noise threshold)"))
	}
	p.line("a list shows only items bought by enough shoppers to clear the noise (threshold %d persons)", shop.Trending.Threshold())
	p.line("item-item statistics: %d item counts and %d pairs among the %d most bought items, noise σ=%.2f per pair",
		len(shop.Cooc.Items), len(shop.Cooc.Pairs), demo.CoocPairItems, shop.Cooc.PairNoise.StdDev())
	te, td := shop.Budget.Total()
	se, sd := shop.Budget.Spent()
	p.line("budget: spent ε=%g of %g, δ=%g of %g", se, te, sd, td)
	for _, s := range shop.Budget.Ledger() {
		p.line("  %-26s ε=%g δ=%g", s.Label, s.Epsilon, s.Delta)
	}
	if err := shop.Budget.Spend(ctx, "one more report", 0.25, 0); err != nil {
		p.line("one more report is refused, not overspent:")
		p.line("  %v", err)
	}
}

// 5. Recommendations matched to trust.
func recommendSection(ctx context.Context, p *printer, shop *demo.Shop, ana string) (string, error) {
	p.section("5. Recommendations, matched to trust")
	now := shop.Now
	running := firstItem(shop, "running-shoes")

	// a) A first-time visitor, 30 seconds into the visit, looking at shoes.
	resp, err := shop.Recommender.Recommend(ctx, recommend.Request{
		Subject: "session-4f1c", At: now, VisitStart: now.Add(-30 * time.Second), K: 3,
		Context: recommend.Context{Item: running.ID, Segment: "GB"},
	})
	if err != nil {
		return "", err
	}
	p.persona("a) first-time visitor, 30 s into the visit, looking at "+running.Title, resp)

	// b) Ana returns: she told the shop she is training for a marathon.
	resp, err = shop.Recommender.Recommend(ctx, recommend.Request{
		Subject: ana, At: now, VisitStart: now.Add(-5 * time.Minute), K: 3,
		Relationship: recommend.Relationship{Known: true, FirstSeen: now.Add(-10 * 24 * time.Hour), Visits: 2},
		Context:      recommend.Context{Segment: "GB"},
	})
	if err != nil {
		return "", err
	}
	p.persona(`b) Ana, a returning visitor who declared "training for a marathon"`, resp)

	// c) A long-standing customer who allowed purchase history.
	ben, ok := established(ctx, shop)
	if !ok {
		return "", errors.New("no established shopper in this synthetic shop: try more -shoppers")
	}
	req := recommend.Request{
		Subject: ben.ID, At: now, VisitStart: now.Add(-10 * time.Minute), K: 3,
		Relationship: ben.Relationship, Context: recommend.Context{Segment: shop.Country[ben.ID]},
	}
	resp, err = shop.Recommender.Recommend(ctx, req)
	if err != nil {
		return "", err
	}
	p.persona(fmt.Sprintf("c) %s, a customer since %s with %d orders, who allowed purchase history",
		ben.ID, ben.Relationship.FirstSeen.Format(time.DateOnly), ben.Relationship.Orders), resp)

	// d) The same customer withdraws consent to personalization mid-visit.
	if _, err := shop.Gate.Record(ctx, consent.Event{Action: consent.Withdraw, Subject: ben.ID,
		Purpose: consent.PurposePersonalize, At: now, Channel: consent.ChannelWeb}); err != nil {
		return "", err
	}
	resp, err = shop.Recommender.Recommend(ctx, req)
	if err != nil {
		return "", err
	}
	p.persona(fmt.Sprintf("d) %s, right after withdrawing consent to personalization", ben.ID), resp)

	// e) A visitor whose browser sends Global Privacy Control.
	sig := consent.Signals{GPC: true}
	resp, err = shop.Recommender.Recommend(ctx, recommend.Request{
		Subject: "session-9b27", At: now, VisitStart: now.Add(-4 * time.Minute), K: 3, Signals: sig,
		Context: recommend.Context{Category: "coffee-beans", Segment: "DE"},
	})
	if err != nil {
		return "", err
	}
	p.persona("e) a visitor whose browser sends Global Privacy Control (Sec-GPC: 1)", resp)
	d, err := shop.Gate.Decide(ctx, "session-9b27", consent.PurposeAdvertisingTargeted, now, sig)
	if err != nil {
		return "", err
	}
	p.line("   and the Gate: %s", d.Explain())
	return ben.ID, nil
}

// established picks a synthetic shopper whom the default trust policy
// places in the established tier and who has bought running gear.
func established(ctx context.Context, shop *demo.Shop) (recommendtest.Shopper, bool) {
	var fallback recommendtest.Shopper
	found := false
	for _, sh := range shop.World.Shoppers {
		r := sh.Relationship
		if !r.Known || r.Orders < recommend.DefaultEstablishedOrders || r.Visits < recommend.DefaultEstablishedVisits ||
			r.Tenure(shop.Now) < recommend.DefaultEstablishedTenure {
			continue
		}
		d, err := shop.Gate.Decide(ctx, sh.ID, consent.PurposePersonalizeHistory, shop.Now, consent.Signals{})
		if err != nil || !d.Allowed {
			continue
		}
		if sh.Departments[0] == "running" {
			return sh, true
		}
		if !found {
			fallback, found = sh, true
		}
	}
	return fallback, found
}

func firstItem(shop *demo.Shop, category string) recommend.Item {
	for it := range shop.World.Catalog.All() {
		if it.Category == category && !it.Sensitive {
			return it
		}
	}
	for it := range shop.World.Catalog.All() {
		return it
	}
	return recommend.Item{}
}

// 6 and 7. A receipt for the person, the ledger for the auditor.
func proofSection(ctx context.Context, p *printer, shop *demo.Shop, subject string) error {
	p.section("6. A consent receipt for %s (also available as Kantara / ISO 27560 JSON)", subject)
	rc, err := shop.Gate.Receipt(ctx, subject, shop.Now)
	if err != nil {
		return err
	}
	p.block(rc.Text())

	p.section("7. The ledger: every consent event, hash-chained")
	cp, err := shop.Gate.Verify(ctx)
	if err != nil {
		return err
	}
	p.line("verified %d records; the chain ends at %s", cp.Seq, cp.Hash)
	return nil
}

// printer writes the story, remembering the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

func (p *printer) section(format string, args ...any) {
	p.line("")
	p.line(format, args...)
	p.line("%s", strings.Repeat("-", 78))
}

// block prints multi-line text indented by two spaces.
func (p *printer) block(text string) {
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		p.line("  %s", l)
	}
}

func (p *printer) persona(who string, resp recommend.Response) {
	warm := ""
	if resp.WarmUp {
		warm = ", warm-up"
	}
	p.line("%s", who)
	p.line("   tier %s%s", resp.Tier, warm)
	if len(resp.Items) == 0 {
		p.line("   (nothing confident enough to show)")
	}
	for i, it := range resp.Items {
		p.line("   %d. %-28s %s", i+1, it.Item.Title, it.Reasons[0].Text)
	}
	used := make([]string, len(resp.Used))
	for i, c := range resp.Used {
		used[i] = string(c)
	}
	if len(used) == 0 {
		used = []string{"none personal"}
	}
	p.wrap("   data used: ", used)
	for _, w := range resp.Withheld {
		p.line("   withheld: %s", w.Text)
	}
}

// wrap prints words after prefix, separated by commas, on lines of at most
// 100 columns; continuation lines are indented under the first word.
func (p *printer) wrap(prefix string, words []string) {
	indent := strings.Repeat(" ", len(prefix))
	line, fresh := prefix, true
	for i, w := range words {
		if i < len(words)-1 {
			w += ","
		}
		if !fresh && len(line)+1+len(w) > 100 {
			p.line("%s", line)
			line, fresh = indent, true
		}
		if !fresh {
			line += " "
		}
		line, fresh = line+w, false
	}
	p.line("%s", line)
}

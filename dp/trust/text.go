package trust

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Meaning says in one plain sentence what the report's ε and δ promise.
func (r *Report) Meaning() string {
	if r.Epsilon == 0 {
		return "The report releases nothing about people and spends no privacy budget."
	}
	s := "Adding or removing any one person's events and consent records changes the chance of any result in this report by at most a factor of " +
		strconv.FormatFloat(math.Exp(r.Epsilon), 'g', 3, 64) + " (e^ε)"
	if r.Delta > 0 {
		s += ", except with probability at most δ = " + g3(r.Delta)
	}
	s += "."
	if !r.Private {
		s = "NOT PRIVATE (built with test noise): " + s
	}
	return s
}

// String returns the report as text: the privacy statement, then each
// table, then the notes.
func (r *Report) String() string {
	var b strings.Builder
	unit := r.Period.String()
	fmt.Fprintf(&b, "Trust report by %s", unit)
	if n := len(r.Buckets); n > 0 {
		fmt.Fprintf(&b, ", %s to %s (%d %ss, UTC)", day(r.From), day(r.To.AddDate(0, 0, -1)), n, unit)
	}
	fmt.Fprintf(&b, "\nPrivacy: ε=%s, δ=%s. %s\n", g3(r.Epsilon), g3(r.Delta), r.Meaning())
	per := "once per row"
	if r.MaxContributions > 1 {
		per = "with at most " + strconv.Itoa(r.MaxContributions) + " events per row of consent changes and responses"
	}
	conf := ftoa(100 * (1 - r.Alpha))
	fmt.Fprintf(&b, "Each person counts in at most %d rows of each table, %s; ± is the %s%% confidence interval, and a count whose interval reaches below %d people is not shown (·): each count shown is, with %s%% confidence, a group of at least %d (across many cells, a few may not be).\n",
		r.MaxPartitions, per, conf, r.MinPersons, conf, r.MinPersons)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	section := func(title, header string) {
		tw.Flush()
		fmt.Fprintf(&b, "\n%s\n", title)
		fmt.Fprintln(tw, header)
	}
	consentTable := func(title, key string, rows []ConsentRow, totals bool) {
		if totals { // one row per key
			section(title, key+"\tgrants\tdenials\twithdrawals")
			for _, row := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row.Key, est(row.Grants), est(row.Denials), est(row.Withdrawals))
			}
		} else {
			section(title, unit+"\t"+key+"\tgrants\tdenials\twithdrawals")
			for _, row := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", day(row.Bucket), row.Key, est(row.Grants), est(row.Denials), est(row.Withdrawals))
			}
		}
		if len(rows) == 0 {
			fmt.Fprintln(tw, "(none shown)")
		}
	}
	if r.GPC != nil {
		n := strconv.Itoa(len(r.Buckets)) + " " + unit + "s"
		consentTable("Consent changes by purpose over the "+n+" (people per "+unit+", summed)", "purpose", r.PurposeTotals, true)
		consentTable("Consent changes by channel over the "+n+" (people per "+unit+", summed)", "channel", r.ChannelTotals, true)
		consentTable("Consent changes by purpose (people)", "purpose", r.ByPurpose, false)
		consentTable("Consent changes by channel (people)", "channel", r.ByChannel, false)
	}
	if r.GPC != nil {
		section("Opt-outs from Global Privacy Control (people who denied or withdrew anything; share from a GPC signal)", unit+"\topted out\tfrom GPC\tshare")
		for _, row := range r.GPC {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", day(row.Bucket), est(row.OptOuts), est(row.FromGPC), pct(row.Share))
		}
	}
	if r.Reconsent != nil {
		section("Re-consent after a policy change (people who granted again under a newer version)", unit+"\tpurpose\tpeople")
		for _, row := range r.Reconsent {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", day(row.Bucket), row.Purpose, est(row.People))
		}
		if len(r.Reconsent) == 0 {
			fmt.Fprintln(tw, "(none shown)")
		}
	}
	if r.Serve != nil {
		section("Responses per tier (people served; share whose responses left out a \"not interested\" item, suppressed any item, were in warm-up, held back below the confidence floor, held back a sensitive item)",
			unit+"\ttier\tserved\tnot interested\tsuppressed\twarm-up\tconfidence floor\tsensitive")
		for _, row := range r.Serve {
			share := func(e Estimate) string { return pct(Share(e, row.Served)) }
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", day(row.Bucket), row.Tier, est(row.Served),
				share(row.NotInterested), share(row.Suppressed), share(row.WarmUp), share(row.ConfidenceFloor), share(row.Sensitive))
		}
		if len(r.Serve) == 0 {
			fmt.Fprintln(tw, "(none shown)")
		}
		section("Tier moves (people served at a tier above any before)", unit+"\ttier reached\tpeople")
		for _, row := range r.TierMoves {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", day(row.Bucket), row.Tier, est(row.People))
		}
		if len(r.TierMoves) == 0 {
			fmt.Fprintln(tw, "(none shown)")
		}
	}
	tw.Flush()
	if len(r.Notes) > 0 {
		b.WriteString("\nNotes\n")
		for _, n := range r.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return b.String()
}

// g3 formats x with at most three significant digits.
func g3(x float64) string { return strconv.FormatFloat(x, 'g', 3, 64) }

// est formats a count as "34 ±12", as "3 [0-20]" when its interval is
// cut at zero, or "·" when it was not released.
func est(e Estimate) string {
	if !e.Released {
		return "·"
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 0, 64) }
	lo, hi := e.Value-e.Lower, e.Upper-e.Value
	if math.Abs(lo-hi) > 0.5 {
		return f(e.Value) + " [" + f(e.Lower) + "-" + f(e.Upper) + "]"
	}
	return f(e.Value) + " ±" + f((hi+lo)/2)
}

// pct formats a ratio as "12% [5-20]", or "·".
func pct(r Ratio) string {
	if !r.Released {
		return "·"
	}
	p := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 0, 64) }
	return p(r.Value) + "% [" + p(r.Lower) + "-" + p(r.Upper) + "]"
}

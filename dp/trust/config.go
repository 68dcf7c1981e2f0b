package trust

import (
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/dp"
)

// Period is the length of a report's time buckets.
type Period uint8

// Periods. Buckets are in UTC; a week starts on Monday.
const (
	Week Period = iota
	Day
)

// String returns "week" or "day".
func (p Period) String() string {
	switch p {
	case Week:
		return "week"
	case Day:
		return "day"
	}
	return "Period(" + strconv.Itoa(int(p)) + ")"
}

// Start returns the start of the bucket t falls in.
func (p Period) Start(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if p == Week {
		d = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	}
	return d
}

// next returns the start of the bucket after the one starting at t.
func (p Period) next(t time.Time) time.Time {
	if p == Week {
		return t.AddDate(0, 0, 7)
	}
	return t.AddDate(0, 0, 1)
}

// Input is what a report and a check read: audit events (from
// [ReadEvents]) and the consent ledger's records, in sequence order (from
// [ReadLedger], or consent.Store.Scan). Either may be empty, not both.
type Input struct {
	Events []Event
	Ledger []consent.Record
}

// Config configures a [Release]. Epsilon and Delta are required; the zero
// value of every other field means the default its doc gives.
type Config struct {
	// Epsilon and Delta are what the whole report spends from the budget,
	// split evenly between its tables (each a separate dp release). Epsilon
	// must be positive and finite, Delta in [0, 1): each table gets the
	// noise with the smaller spread for its bounds, Laplace (which spends
	// no δ) or Gaussian (which needs δ > 0).
	Epsilon, Delta float64

	// Policy is the consent policy whose purposes (those on consent or
	// legitimate interest: what people can grant, deny, withdraw or
	// object to) are the rows of the consent tables; records of other
	// purposes count under "other". The rows are a public list, known
	// without looking at anyone's records, so that each is released with
	// noise and no threshold of dp's private selection. Its purposes on
	// consent whose Version is above 1 (a material change) are the rows
	// of the re-consent table. Required when the input has a ledger; use
	// the latest policy of the report's window.
	Policy *consent.Policy

	// Channels are the rows of the channel table (records from other
	// channels count under "other", an erased subject's records under
	// "erased"). Nil means the usual ones: web, app, store, call_centre,
	// email, post, api.
	Channels []consent.Channel

	// Period is the length of a time bucket; the zero value is Week.
	Period Period

	// From and To limit the report to events and records in [From, To),
	// widened to whole buckets. Zero means from the first and to the last
	// one in the input, which the report then reveals (to the bucket):
	// set both for a guarantee that covers the dates too.
	From, To time.Time

	// MaxPartitions is how many rows of each table one person may count
	// in (a row is one bucket and one purpose, channel, tier...). When a
	// person has more, a random subset is kept. dp's L0 is MaxPartitions
	// times the counts one event can add to in a row: 6 in the response
	// table (served, and the five things a response may show), 2 in the
	// GPC table (an opt-out, and whether GPC made it), 1 elsewhere (a
	// grant, a denial or a withdrawal). Default 4.
	MaxPartitions int

	// MaxContributions is how many events of one person count in one row
	// of the tables that count events (consent changes, responses): dp's
	// L∞. The other tables count people, each once per row. Default 1,
	// which makes every table a count of people.
	MaxContributions int

	// MinPersons is the suppression threshold: a cell is shown only if its
	// whole confidence interval lies at or above MinPersons, that is, if
	// it is (with the interval's confidence) a group of at least that
	// many people; otherwise it is small, or too noisy at this ε to tell
	// from small or from nobody, and neither it nor a share that needs it
	// is shown. Hiding cells after the noise is post-processing and costs
	// no privacy. Default 10.
	MinPersons int

	// Alpha sets the confidence intervals (each holds with probability at
	// least 1-Alpha), and so the suppression threshold. Zero means 0.01,
	// not dp's 0.05: a report has hundreds of cells, and at 95% a few of
	// those with nobody behind them would be shown. It must be in
	// [1e-12, 1), as dp.Params.Alpha.
	Alpha float64

	// PersonKey names the attribute of "recommend.serve" events that
	// identifies the person, which the host's slog handler adds (a keyed
	// pseudonym, for instance: recommend itself never logs who was
	// served). Without it no person-level bound can be enforced on
	// responses, and the report leaves out the response and tier tables.
	PersonKey string

	// Logger, if not nil, receives dp's "dp.release" audit events.
	Logger *slog.Logger

	// NoiseSource and Rand replace the secure noise and the randomness of
	// contribution bounding, for tests (see package dptest and
	// dp.Params). Nil means secure noise and fresh randomness.
	NoiseSource dp.NoiseSource
	Rand        *rand.Rand
}

// Defaults of [Config].
const (
	DefaultMaxPartitions    = 4
	DefaultMaxContributions = 1
	DefaultMinPersons       = 10
	DefaultAlpha            = 0.01
)

func (c Config) withDefaults() (Config, error) {
	if math.IsNaN(c.Epsilon) || math.IsInf(c.Epsilon, 0) || c.Epsilon <= 0 {
		return c, &ConfigError{Field: "Epsilon", Why: "must be positive and finite, not " + ftoa(c.Epsilon)}
	}
	if math.IsNaN(c.Delta) || !(c.Delta >= 0 && c.Delta < 1) {
		return c, &ConfigError{Field: "Delta", Why: "must be in [0, 1), not " + ftoa(c.Delta)}
	}
	if c.Policy != nil {
		if err := c.Policy.Validate(); err != nil {
			return c, &ConfigError{Field: "Policy", Why: "not a valid policy", Err: err}
		}
	}
	if c.Channels == nil {
		c.Channels = []consent.Channel{consent.ChannelWeb, consent.ChannelApp, consent.ChannelStore,
			consent.ChannelCallCentre, consent.ChannelEmail, consent.ChannelPost, consent.ChannelAPI}
	}
	if c.Alpha == 0 {
		c.Alpha = DefaultAlpha
	}
	if !(c.Alpha >= 1e-12 && c.Alpha < 1) {
		return c, &ConfigError{Field: "Alpha", Why: "must be in [1e-12, 1), not " + ftoa(c.Alpha)}
	}
	if c.Period != Week && c.Period != Day {
		return c, &ConfigError{Field: "Period", Why: "must be Week or Day"}
	}
	if !c.From.IsZero() && !c.To.IsZero() && !c.From.Before(c.To) {
		return c, &ConfigError{Field: "To", Why: "must be after From"}
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"MaxPartitions", &c.MaxPartitions, DefaultMaxPartitions},
		{"MaxContributions", &c.MaxContributions, DefaultMaxContributions},
		{"MinPersons", &c.MinPersons, DefaultMinPersons}} {
		switch {
		case *f.v < 0:
			return c, &ConfigError{Field: f.name, Why: "must not be negative"}
		case *f.v == 0:
			*f.v = f.def
		}
	}
	return c, nil
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Command trust measures trust from tact's audit trail. It runs the
// quickstart's synthetic shop for some weeks of traffic (or reads saved
// audit events and a ledger), prints the differentially private trust
// report, draws its charts, and runs the continuous audit.
//
//	go run ./examples/trust                        # the report, as text
//	go run ./examples/trust -svg /tmp/trust-charts # and its charts, as SVG
//	go run ./examples/trust -save /tmp/trail       # keep the events, ledger and policies
//	go run ./examples/trust -events /tmp/trail/events.jsonl -ledger /tmp/trail/ledger.jsonl
//	go run ./examples/trust -check                 # the continuous audit; exit 1 on a violation
//	go run ./examples/trust -check -events F -ledger F -policies /tmp/trail/policies.json
//
// Exit status: 0 when all went well, 1 when the audit found violations, 2
// for bad flags or input.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
	"github.com/tact-go/tact/dp/trust"
	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/examples/internal/trustview"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, trust.ErrViolation):
		os.Exit(1)
	default:
		msg := err.Error()
		if !strings.HasPrefix(msg, "trust: ") {
			msg = "trust: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(2)
	}
}

type options struct {
	seed                   uint64
	shoppers, items, weeks int
	events, ledger, pols   string
	save, svg              string
	check                  bool
	testNoise              bool
	cfg                    trust.Config
	period                 string
	budgetEps, budgetDelta float64
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("trust", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the synthetic shop and its traffic (also keys the person pseudonyms)")
	fs.IntVar(&o.shoppers, "shoppers", 20000, "number of synthetic shoppers (DP noise does not grow with them: more people, clearer shares)")
	fs.IntVar(&o.items, "items", 300, "number of catalog items")
	fs.IntVar(&o.weeks, "weeks", 8, "weeks of simulated traffic; the policy changes halfway")
	fs.StringVar(&o.events, "events", "", "read audit events (slog JSON lines) from this file instead of running the shop")
	fs.StringVar(&o.ledger, "ledger", "", "read the consent ledger (JSON Lines export) from this file")
	fs.StringVar(&o.pols, "policies", "", "with -events: the policies in force (JSON, as -save writes them), for -check and for the report's purposes (default: the shop's first)")
	fs.StringVar(&o.save, "save", "", "write the synthetic shop's events.jsonl, ledger.jsonl and policies.json to this directory")
	fs.StringVar(&o.svg, "svg", "", "write the report's charts as SVG files to this directory")
	fs.BoolVar(&o.check, "check", false, "run the continuous audit instead of the report: exit 1 on a violation")
	fs.BoolVar(&o.testNoise, "test-noise", false, "deterministic, NOT PRIVATE noise for the shop and the report (tests only)")
	fs.Float64Var(&o.cfg.Epsilon, "epsilon", 1, "privacy loss ε the report spends")
	fs.Float64Var(&o.cfg.Delta, "delta", 1e-6, "δ the report spends")
	fs.StringVar(&o.period, "period", "week", "time bucket: week or day")
	fs.IntVar(&o.cfg.MaxPartitions, "max-partitions", trust.DefaultMaxPartitions, "rows of each table one person may count in")
	fs.IntVar(&o.cfg.MinPersons, "min-persons", trust.DefaultMinPersons, "a count is shown only when its 95% interval lies at or above this many people")
	e, d := declaredBudget()
	fs.Float64Var(&o.budgetEps, "budget-epsilon", e, "for -check: the ε all dp.release events may spend together")
	fs.Float64Var(&o.budgetDelta, "budget-delta", d, "for -check: the δ all dp.release events may spend together")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: trust [flags]\n\nPrints the trust report of tact's synthetic shop or of saved audit events and a ledger,\ndraws its charts (-svg), or runs the continuous audit (-check).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch o.period {
	case "week":
		o.cfg.Period = trust.Week
	case "day":
		o.cfg.Period = trust.Day
	default:
		return nil, fmt.Errorf("-period must be week or day, not %q", o.period)
	}
	if (o.events == "") != (o.ledger == "") {
		return nil, errors.New("-events and -ledger go together")
	}
	if o.events == "" && (o.shoppers < 10 || o.items < 50 || o.weeks < 1) {
		return nil, fmt.Errorf("need at least 10 shoppers, 50 items and 1 week (got %d, %d, %d)", o.shoppers, o.items, o.weeks)
	}
	if o.pols != "" && o.events == "" {
		return nil, errors.New("-policies goes with -events and -ledger (the shop knows its own)")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	var events, ledger []byte
	var policies []trust.InForce
	if o.events != "" {
		if events, err = os.ReadFile(o.events); err != nil {
			return err
		}
		if ledger, err = os.ReadFile(o.ledger); err != nil {
			return err
		}
		if o.pols != "" {
			b, err := os.ReadFile(o.pols)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &policies); err != nil {
				return fmt.Errorf("%s: %w", o.pols, err)
			}
		}
	} else {
		do := demo.Options{Seed: o.seed, Shoppers: o.shoppers, Items: o.items}
		if o.testNoise {
			do.Noise = dptest.Noise{}
		}
		sim, err := simulate(ctx, do, o.weeks)
		if err != nil {
			return err
		}
		events, ledger, policies = sim.events, sim.ledger, sim.policies
		o.cfg.From, o.cfg.To = sim.from, sim.to
		if o.save != "" {
			if err := save(o.save, sim); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "saved %s, %s and %s\n", filepath.Join(o.save, "events.jsonl"), filepath.Join(o.save, "ledger.jsonl"), filepath.Join(o.save, "policies.json"))
		}
	}
	evs, err := trust.ReadEvents(bytes.NewReader(events))
	if err != nil {
		return err
	}
	recs, err := trust.ReadLedger(bytes.NewReader(ledger))
	if err != nil {
		return err
	}
	in := trust.Input{Events: evs, Ledger: recs}
	if o.check {
		return check(ctx, stdout, in, trust.CheckConfig{
			Policies: policies, PersonKey: "person", Pseudonym: pseudonymizer(o.seed),
			Epsilon: o.budgetEps, Delta: o.budgetDelta,
		})
	}
	o.cfg.PersonKey = "person"
	o.cfg.Policy = demo.Policy() // the shop's, or the latest of -policies
	if n := len(policies); n > 0 {
		o.cfg.Policy = policies[n-1].Policy
	}
	if o.testNoise {
		o.cfg.NoiseSource = dptest.Noise{}
	}
	budget, err := dp.NewBudget(o.cfg.Epsilon, o.cfg.Delta, nil)
	if err != nil {
		return err
	}
	rep, err := trust.Release(ctx, budget, in, o.cfg)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(stdout, rep.String()); err != nil {
		return err
	}
	if o.svg == "" {
		return nil
	}
	drawn, err := writeCharts(rep, o.svg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nCharts\n")
	for _, d := range drawn {
		fmt.Fprintf(stdout, "%s: %s\n", d[0], d[1])
	}
	return nil
}

// check runs the continuous audit and prints what it checked and found.
func check(ctx context.Context, w io.Writer, in trust.Input, cfg trust.CheckConfig) error {
	sum, err := trust.Check(ctx, in, cfg)
	a, aerr := trustview.AuditOf(sum, err, cfg.Epsilon, cfg.Delta)
	if aerr != nil {
		return aerr
	}
	fmt.Fprintf(w, "Continuous audit: %s\n", a.Checked[0])
	for _, c := range a.Checked[1:] {
		fmt.Fprintf(w, "  %s\n", c)
	}
	for _, u := range a.Unchecked {
		fmt.Fprintf(w, "  not checked: %s\n", u)
	}
	if a.OK {
		fmt.Fprintln(w, "OK: no violation")
		return nil
	}
	fmt.Fprintf(w, "FAILED: %d violation(s)\n", len(a.Violations))
	for _, v := range a.Violations {
		fmt.Fprintf(w, "  %s\n", v)
	}
	return err
}

// save writes the simulation's trail to dir.
func save(dir string, sim *simulation) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pols, err := json.MarshalIndent(sim.policies, "", "  ")
	if err != nil {
		return err
	}
	for name, b := range map[string][]byte{"events.jsonl": sim.events, "ledger.jsonl": sim.ledger, "policies.json": pols} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

package dpbeam_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/tact-go/tact/dp"
	dpbeam "github.com/tact-go/tact/dp/beam"
	"github.com/tact-go/tact/dp/dptest"
)

func someRecords(p *dpbeam.Pipeline) beam.PCollection {
	return beam.CreateList(p.Scope(), []dpbeam.Record[int64]{{Person: "a", Key: "x", Value: 1}, {Person: "b", Key: "x", Value: 2}})
}

var countParams = dp.Params{Epsilon: 0.5, Delta: 1e-7, MaxPartitions: 1, MaxContributions: 1, Partitions: []string{"x"}}

func TestBudgetDeclaredUpFront(t *testing.T) {
	dir := t.TempDir()
	p, err := dpbeam.NewPipeline(dir, 1, 1e-6, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := dpbeam.Aggregate(p, someRecords(p), countParams, dp.Spec[int64]{Metrics: dp.Count})
	if err != nil {
		t.Fatal(err)
	}
	// 0.5 + 0.75 > 1: refused when added, before anything runs.
	_, err = dpbeam.TopK(p, beam.CreateList(p.Scope(), []dpbeam.Event{{Person: "a", Item: "x"}}), 1,
		dp.Params{Epsilon: 0.75, Delta: 1e-7, MaxPartitions: 1, MaxContributions: 1})
	var be *dp.BudgetError
	if !errors.Is(err, dp.ErrBudgetExhausted) || !errors.As(err, &be) || be.RemainingEpsilon != 0.5 {
		t.Fatalf("adding a job over the budget: %v, want a *dp.BudgetError with 0.5 remaining", err)
	}
	if eps, _ := p.Budget().Spent(); eps != 0.5 {
		t.Errorf("spent ε = %v, want 0.5 (the refused job spends nothing)", eps)
	}
	host := budget(t)
	err = p.Run(context.Background(), host)
	if !errors.Is(err, dp.ErrBudgetExhausted) || !errors.Is(p.Err(), dp.ErrBudgetExhausted) {
		t.Fatalf("Run of a pipeline with a refused job: %v, want it refused", err)
	}
	if eps, _ := host.Spent(); eps != 0 {
		t.Errorf("the host budget paid %v for a pipeline that did not run", eps)
	}
	if _, err := os.Stat(first.Path()); !os.IsNotExist(err) {
		t.Errorf("the refused pipeline ran: %s exists (%v)", first.Path(), err)
	}
	if _, err := first.Result(); !errors.Is(err, dpbeam.ErrNotRun) {
		t.Errorf("Result of a job that did not run: %v, want ErrNotRun", err)
	}
}

func TestRunSpendsFromHost(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		p, err := dpbeam.NewPipeline(t.TempDir(), 1, 1e-6, nil)
		if err != nil {
			t.Fatal(err)
		}
		j, err := dpbeam.Aggregate(p, someRecords(p), countParams, dp.Spec[int64]{Metrics: dp.Count})
		if err != nil {
			t.Fatal(err)
		}
		host, _ := dp.NewBudget(0.25, 1e-6, nil)
		if err := p.Run(context.Background(), host); !errors.Is(err, dp.ErrBudgetExhausted) {
			t.Fatalf("Run over the host's budget: %v, want ErrBudgetExhausted", err)
		}
		if _, err := os.Stat(j.Path()); !os.IsNotExist(err) {
			t.Errorf("the pipeline ran although the host refused: %v", err)
		}
	})
	t.Run("granted", func(t *testing.T) {
		p, err := dpbeam.NewPipeline(t.TempDir(), 1, 1e-6, &dpbeam.Options{Label: "nightly"})
		if err != nil {
			t.Fatal(err)
		}
		params := countParams
		params.NoiseSource = dptest.Noise{}
		j, err := dpbeam.Aggregate(p, someRecords(p), params, dp.Spec[int64]{Metrics: dp.Count})
		if err != nil {
			t.Fatal(err)
		}
		host, _ := dp.NewBudget(1, 1e-6, nil)
		if err := p.Run(context.Background(), host); err != nil {
			t.Fatal(err)
		}
		if l := host.Ledger(); len(l) != 1 || l[0].Label != "nightly" || l[0].Epsilon != 0.5 || l[0].Delta != 0 {
			t.Errorf("host ledger %+v, want one spend of (0.5, 0) labelled nightly (public partitions with Laplace spend no δ, as in dp)", l)
		}
		res, err := j.Result()
		if err != nil {
			t.Fatal(err)
		}
		if pt, ok := res.Lookup("x"); !ok || pt.Count.Value != 2 {
			t.Errorf("count of x = %+v, want 2", pt)
		}
		if err := p.Run(context.Background(), host); !errors.Is(err, dp.ErrReleased) {
			t.Errorf("second Run: %v, want dp.ErrReleased", err)
		}
		if _, err := dpbeam.Aggregate(p, someRecords(p), countParams, dp.Spec[int64]{Metrics: dp.Count}); !errors.Is(err, dp.ErrReleased) {
			t.Errorf("a job added after Run: %v, want dp.ErrReleased", err)
		}
		if eps, _ := host.Spent(); eps != 0.5 {
			t.Errorf("host spent %v, want 0.5 once", eps)
		}
	})
}

func TestJobErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string
		add    func(p *dpbeam.Pipeline) error
		want   error
	}{{
		name: "invalid params", reason: "dp's validation, before anything is spent",
		add: func(p *dpbeam.Pipeline) error {
			_, err := dpbeam.Aggregate(p, someRecords(p), dp.Params{Epsilon: 0.5, MaxPartitions: 1, MaxContributions: 1}, dp.Spec[int64]{Metrics: dp.Count})
			return err
		},
		want: dp.ErrInvalidParams,
	}, {
		name: "huge ExpectedPersons", reason: "checked as dp does, without allocating the table dp would",
		add: func(p *dpbeam.Pipeline) error {
			params := countParams
			params.ExpectedPersons = 1 << 31
			_, err := dpbeam.Aggregate(p, someRecords(p), params, dp.Spec[int64]{Metrics: dp.Count})
			return err
		},
		want: dp.ErrInvalidParams,
	}, {
		name: "wrong input type", reason: "records of float64 for an int64 aggregation",
		add: func(p *dpbeam.Pipeline) error {
			_, err := dpbeam.Aggregate(p, beam.CreateList(p.Scope(), []dpbeam.Record[float64]{{Person: "a"}}), countParams, dp.Spec[int64]{Metrics: dp.Count})
			return err
		},
		want: dpbeam.ErrInput,
	}, {
		name: "unsupported noise source", reason: "only dptest.Noise{} has a pbeam equivalent",
		add: func(p *dpbeam.Pipeline) error {
			params := countParams
			params.NoiseSource = dptest.Noise{StdDevs: 1}
			_, err := dpbeam.Aggregate(p, someRecords(p), params, dp.Spec[int64]{Metrics: dp.Count})
			return err
		},
		want: dp.ErrInvalidParams,
	}, {
		name: "δ below Google's threshold precision", reason: "dp computes the threshold exactly; pbeam's rounds it to +Inf",
		add: func(p *dpbeam.Pipeline) error {
			_, err := dpbeam.TopK(p, beam.CreateList(p.Scope(), []dpbeam.Event{{Person: "a", Item: "x"}}), 1,
				dp.Params{Epsilon: 0.5, Delta: 1e-17, MaxPartitions: 1, MaxContributions: 1, Noise: dp.Gaussian})
			return err
		},
		want: dp.ErrInvalidParams,
	}, {
		name: "co-occurrence of the wrong input", reason: "events of TopK for a co-occurrence",
		add: func(p *dpbeam.Pipeline) error {
			_, err := dpbeam.Cooccurrence(p, beam.CreateList(p.Scope(), []dpbeam.Event{{Person: "a"}}),
				dp.CooccurrenceParams{Epsilon: 0.5, MaxItems: 2, MaxPairs: 1, Items: []string{"x"}, PairItems: 1})
			return err
		},
		want: dpbeam.ErrInput,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := dpbeam.NewPipeline(t.TempDir(), 1, 1e-6, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.add(p); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if eps, _ := p.Budget().Spent(); eps != 0 {
				t.Errorf("a refused job spent ε = %v", eps)
			}
			if err := p.Run(context.Background(), nil); !errors.Is(err, tc.want) {
				t.Errorf("Run after a refused job: %v, want it refused with %v", err, tc.want)
			}
		})
	}
	if _, err := dp.NewTopK(1, dp.Params{Epsilon: 0.5, Delta: 1e-17, MaxPartitions: 1, MaxContributions: 1, Noise: dp.Gaussian}); err != nil {
		t.Errorf("dp refuses δ = 1e-17 too (%v): the difference this test documents is gone", err)
	}
}

func TestNewPipelineErrors(t *testing.T) {
	if _, err := dpbeam.NewPipeline(t.TempDir(), 0, 0, nil); !errors.Is(err, dp.ErrInvalidParams) {
		t.Errorf("ε = 0: %v, want ErrInvalidParams", err)
	}
	if _, err := dpbeam.NewPipeline("", 1, 0, nil); !errors.Is(err, dp.ErrInvalidParams) {
		t.Errorf("no directory: %v, want ErrInvalidParams", err)
	}
	if _, err := dpbeam.NewPipeline("nofs://bucket/releases", 1, 0, nil); err == nil {
		t.Error("a directory on no registered filesystem was accepted")
	}
	p, err := dpbeam.NewPipeline(filepath.Join(t.TempDir(), "a", "b")+"/", 1, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := dpbeam.Aggregate(p, someRecords(p), countParams, dp.Spec[int64]{Metrics: dp.Count, Lower: 0, Upper: 0})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(j.Path()) != "01-dp-release.json" || filepath.Dir(filepath.Dir(j.Path())) == "/" {
		t.Errorf("release path %s", j.Path())
	}
}

// recorder keeps the messages and attributes of the slog records it gets.
type recorder struct {
	mu   sync.Mutex
	recs []map[string]any
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	m := map[string]any{"msg": rec.Message}
	rec.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.Any(); return true })
	r.mu.Lock()
	r.recs = append(r.recs, m)
	r.mu.Unlock()
	return nil
}

// events returns a copy of the records the recorder has got.
func (r *recorder) events() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs)
}

// sameEvents reports a difference between the audit events of Beam and
// those of dp.
func sameEvents(t *testing.T, what string, beam, dp []map[string]any) {
	t.Helper()
	if len(beam) == 0 || !reflect.DeepEqual(beam, dp) {
		t.Errorf("%s events:\nBeam %v\ndp   %v", what, beam, dp)
	}
}

// TestAuditEvents runs the same three jobs in package dp and on Beam, with
// budgets of the same total, and requires the same audit events with the
// same attributes: one "dp.spend" per job from the budget (on Beam the
// pipeline's, when the job is added and before anything runs; in dp at
// Release), granted or refused, and one "dp.release" per release to the
// Logger of the job's parameters (on Beam once Run has read the release);
// and on Beam one "dp.spend" of the pipeline's total from the host's
// budget, when it runs.
func TestAuditEvents(t *testing.T) {
	const totalEps, totalDelta = 4.5, 1e-4
	aggParams := dp.Params{Epsilon: 1, Delta: 1e-5, MaxPartitions: 3, MaxContributions: 2, Label: "visits"}
	aggSpec := dp.Spec[float64]{Metrics: dp.Count | dp.Mean, Lower: -1, Upper: 4}
	topParams := dp.Params{Epsilon: 1, Delta: 1e-5, MaxPartitions: 1, MaxContributions: 1} // default label
	coocParams := dp.CooccurrenceParams{Epsilon: 2, MaxItems: 4, MaxPairs: 6, Items: catalog(20), PairItems: 8, Label: "pairs"}
	recs := records[float64](1, 120, 12, aggParams.MaxPartitions, aggParams.MaxContributions, aggSpec.Upper)
	evs := events(3, 300, 3, 12, topParams.MaxPartitions)
	hist := histories(4, 200, 20, coocParams.MaxItems, false)

	// In process, with dp.
	var dpSpends, dpReleases recorder
	aggParams.NoiseSource, topParams.NoiseSource, coocParams.NoiseSource = dptest.Noise{}, dptest.Noise{}, dptest.Noise{}
	aggParams.Logger, topParams.Logger, coocParams.Logger = slog.New(&dpReleases), slog.New(&dpReleases), slog.New(&dpReleases)
	dpBudget, err := dp.NewBudget(totalEps, totalDelta, &dp.BudgetOptions{Logger: slog.New(&dpSpends)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	agg, err := dp.NewAggregation(aggParams, aggSpec)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		agg.Add(r.Person, r.Key, r.Value)
	}
	top, err := dp.NewTopK(3, topParams)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		top.Add(e.Person, e.Segment, e.Item)
	}
	cooc, err := dp.NewCooccurrence(coocParams)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range hist {
		cooc.Add(e.Person, e.Item)
	}
	if _, err := agg.Release(ctx, dpBudget); err != nil {
		t.Fatal(err)
	}
	if _, err := top.Release(ctx, dpBudget); err != nil {
		t.Fatal(err)
	}
	if _, err := cooc.Release(ctx, dpBudget); err != nil {
		t.Fatal(err)
	}

	// On Beam, with the loggers of the same parameters replaced.
	var spends, releases, hostSpends recorder
	aggParams.Logger, topParams.Logger, coocParams.Logger = slog.New(&releases), slog.New(&releases), slog.New(&releases)
	p, err := dpbeam.NewPipeline(t.TempDir(), totalEps, totalDelta, &dpbeam.Options{Logger: slog.New(&spends), Label: "nightly"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dpbeam.Aggregate(p, beam.CreateList(p.Scope(), recs), aggParams, aggSpec); err != nil {
		t.Fatal(err)
	}
	if _, err := dpbeam.TopK(p, beam.CreateList(p.Scope(), evs), 3, topParams); err != nil {
		t.Fatal(err)
	}
	if _, err := dpbeam.Cooccurrence(p, beam.CreateList(p.Scope(), hist), coocParams); err != nil {
		t.Fatal(err)
	}
	sameEvents(t, "spend (when the jobs are added)", spends.events(), dpSpends.events())
	if r := releases.events(); len(r) != 0 {
		t.Errorf("release events before Run: %v", r)
	}
	host, err := dp.NewBudget(10, 1e-3, &dp.BudgetOptions{Logger: slog.New(&hostSpends)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx, host); err != nil {
		t.Fatal(err)
	}
	sameEvents(t, "release", releases.events(), dpReleases.events())
	if n := len(spends.events()); n != 3 {
		t.Errorf("the pipeline's budget emitted %d spend events after Run, want the 3 of the jobs", n)
	}
	eps, delta := p.Budget().Spent()
	want := []map[string]any{{"msg": dp.EventSpend, "event": dp.EventSpend, "label": "nightly", "epsilon": eps,
		"delta": delta, "granted": true, "remaining_epsilon": 10 - eps, "remaining_delta": 1e-3 - delta}}
	if got := hostSpends.events(); !reflect.DeepEqual(got, want) {
		t.Errorf("host budget events %v, want %v", got, want)
	}

	// A job over the budget: refused, with the same event, and no release.
	var refusedSpends, refusedReleases, dpRefusedSpends, dpRefusedReleases recorder
	topParams.Logger = slog.New(&dpRefusedReleases)
	small, err := dp.NewBudget(0.5, 1e-6, &dp.BudgetOptions{Logger: slog.New(&dpRefusedSpends)})
	if err != nil {
		t.Fatal(err)
	}
	top, err = dp.NewTopK(3, topParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := top.Release(ctx, small); !errors.Is(err, dp.ErrBudgetExhausted) {
		t.Fatalf("dp released over its budget: %v", err)
	}
	topParams.Logger = slog.New(&refusedReleases)
	p, err = dpbeam.NewPipeline(t.TempDir(), 0.5, 1e-6, &dpbeam.Options{Logger: slog.New(&refusedSpends)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dpbeam.TopK(p, beam.CreateList(p.Scope(), evs), 3, topParams); !errors.Is(err, dp.ErrBudgetExhausted) {
		t.Fatalf("a job over the pipeline's budget: %v", err)
	}
	sameEvents(t, "refused spend", refusedSpends.events(), dpRefusedSpends.events())
	if ev := refusedSpends.events(); len(ev) != 1 || ev[0]["granted"] != false {
		t.Errorf("refused spend events %v, want one not granted", ev)
	}
	if r, d := refusedReleases.events(), dpRefusedReleases.events(); len(r) != 0 || len(d) != 0 {
		t.Errorf("release events of a refused job: Beam %v, dp %v", r, d)
	}
}

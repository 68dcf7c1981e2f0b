package dpbeam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths for releases
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/google/differential-privacy/privacy-on-beam/v3/pbeam"
	"github.com/tact-go/tact/dp"
	"github.com/tact-go/tact/dp/dptest"
)

// Sentinel errors of the package. Invalid parameters are reported as
// package dp reports them (a *dp.ParamError, errors.Is dp.ErrInvalidParams),
// and refused spends as a *dp.BudgetError (errors.Is dp.ErrBudgetExhausted).
var (
	// ErrInput reports an input PCollection whose elements are not of the
	// type the job reads.
	ErrInput = errors.New("dpbeam: wrong input type")

	// ErrNotRun reports a job's result asked for before its pipeline ran
	// successfully.
	ErrNotRun = errors.New("dpbeam: pipeline has not run")

	// ErrNotInitialized reports a Run before beam.Init: a main package
	// calls flag.Parse and then beam.Init first, so that a process started
	// as a Beam worker becomes one before it builds a pipeline.
	ErrNotInitialized = errors.New("dpbeam: beam.Init has not been called")
)

// Options configure a [Pipeline]. A nil *Options means the defaults.
type Options struct {
	// Label names the pipeline's spend in the host's budget ([Pipeline.Run]).
	// Empty means "dpbeam pipeline".
	Label string

	// Logger, if not nil, receives the "dp.spend" audit events of the
	// pipeline's budget (each job's spend at construction, granted or
	// not), as a dp.Budget emits them. Each job's "dp.release" event goes
	// to the Logger of its parameters, as in package dp.
	Logger *slog.Logger

	// Runner executes the pipeline. Nil means the prism runner in this
	// process (github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism);
	// give beamx.Run, or a runner's Execute, to run elsewhere.
	Runner func(context.Context, *beam.Pipeline) (beam.PipelineResult, error)
}

// Pipeline is a Beam pipeline of differentially private jobs that spend
// from one privacy budget declared up front. Build it with [NewPipeline],
// read the input with Beam IO from [Pipeline.Scope], add jobs with
// [Aggregate], [TopK] and [Cooccurrence], and run it once with
// [Pipeline.Run]; then each job's Result returns its release.
//
// Each job spends its (ε, δ) from the pipeline's budget when it is added,
// before anything runs, exactly what the same job spends in package dp; a
// job that does not fit is refused with a *dp.BudgetError and adds
// nothing, and the pipeline then refuses to run. Run spends the total of
// the jobs from the host's budget, once, before executing.
//
// A Pipeline is not safe for concurrent use: build and run it from one
// goroutine. Results are immutable once returned.
type Pipeline struct {
	bp     *beam.Pipeline
	s      beam.Scope
	dir    string
	budget *dp.Budget
	o      Options
	jobs   []job
	err    error // the first job refused
	ran    bool
}

// job is what Run needs of a job: where its release is, and how to decode
// and keep it.
type job interface {
	path() string
	load(data []byte) error
}

// NewPipeline returns an empty pipeline whose jobs may spend (epsilon,
// delta) in total, and write their releases under dir, one JSON file per
// job: a local directory, or a path on any filesystem registered with
// Beam's filesystem package (gs://…, with its package imported), which
// every worker and this process can reach. Invalid totals return a
// *dp.ParamError; a dir no filesystem is registered for returns an error.
func NewPipeline(dir string, epsilon, delta float64, o *Options) (*Pipeline, error) {
	if o == nil {
		o = &Options{}
	}
	budget, err := dp.NewBudget(epsilon, delta, &dp.BudgetOptions{Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(dir) == "" {
		return nil, &dp.ParamError{Param: "dir", Value: strconv.Quote(dir), Reason: "a directory for the releases is required"}
	}
	fs, err := filesystem.New(context.Background(), dir)
	if err != nil {
		return nil, fmt.Errorf("dpbeam: releases directory %q: %w", dir, err)
	}
	_ = fs.Close()
	bp, s := beam.NewPipelineWithRoot()
	return &Pipeline{bp: bp, s: s, dir: strings.TrimRight(dir, "/"), budget: budget, o: *o}, nil
}

// Scope returns the pipeline's root scope, where the jobs' inputs are read.
func (p *Pipeline) Scope() beam.Scope { return p.s }

// Beam returns the underlying Beam pipeline.
func (p *Pipeline) Beam() *beam.Pipeline { return p.bp }

// Budget returns the pipeline's budget: its declared total, and in its
// ledger the spend of every job added so far.
func (p *Pipeline) Budget() *dp.Budget { return p.budget }

// Err returns the first error that refused a job, or nil. A pipeline with
// an error does not run.
func (p *Pipeline) Err() error { return p.err }

// add validates a new job's place in the pipeline and spends its (ε, δ)
// from the pipeline's budget. It returns the path of the job's release.
func (p *Pipeline) add(label string, eps, delta float64) (string, error) {
	if p.ran {
		return "", dp.ErrReleased
	}
	if err := p.budget.Spend(context.Background(), label, eps, delta); err != nil { // in memory: nothing to cancel
		p.fail(err)
		return "", err
	}
	return p.dir + "/" + fmt.Sprintf("%02d-%s.json", len(p.jobs)+1, slug(label)), nil
}

// fail records err as the reason the pipeline does not run, if it is the
// first.
func (p *Pipeline) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// refuse records a job refused before it spent anything (invalid
// parameters, wrong input) and returns err.
func (p *Pipeline) refuse(err error) error {
	p.fail(err)
	return err
}

// Run executes the pipeline once, and then reads every job's release.
// Before it executes anything it checks that no job was refused (else it
// returns that job's error, wrapped) and that beam.Init was called (else
// [ErrNotInitialized]), and, if host is not nil, spends from
// host what the jobs spent in total, in one spend labelled
// Options.Label: a refusal (a *dp.BudgetError) or an error of host's log
// or ctx is returned and nothing runs. A pipeline runs at most once: a
// second Run returns dp.ErrReleased. If execution fails after host paid,
// the spend counts and nothing is released, as in package dp.
//
// With a nil host, the pipeline's declared budget is the only accounting:
// use it for a batch job whose total is a policy of its own.
func (p *Pipeline) Run(ctx context.Context, host *dp.Budget) error {
	if p.ran {
		return dp.ErrReleased
	}
	if p.err != nil {
		return fmt.Errorf("dpbeam: pipeline refused: %w", p.err)
	}
	if !beam.Initialized() {
		return ErrNotInitialized
	}
	if host != nil {
		eps, delta := p.budget.Spent()
		label := p.o.Label
		if label == "" {
			label = "dpbeam pipeline"
		}
		if err := host.Spend(ctx, label, eps, delta); err != nil {
			return err
		}
	}
	p.ran = true
	run := p.o.Runner
	if run == nil {
		run = prism.Execute
	}
	if _, err := run(ctx, p.bp); err != nil {
		return fmt.Errorf("dpbeam: pipeline failed: %w", err)
	}
	for _, j := range p.jobs {
		data, err := readFile(ctx, j.path())
		if err != nil {
			return fmt.Errorf("dpbeam: reading release %s: %w", j.path(), err)
		}
		if err := j.load(data); err != nil {
			return fmt.Errorf("dpbeam: release %s: %w", j.path(), err)
		}
	}
	return nil
}

func readFile(ctx context.Context, path string) ([]byte, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	r, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// writeFile writes data to path through Beam's filesystems.
func writeFile(ctx context.Context, path string, data []byte) error {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return err
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, path)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		_ = w.Close()
		return err
	}
	return w.Close()
}

// slug makes a label fit a file name.
func slug(label string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(label) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	if s := strings.TrimRight(b.String(), "-"); s != "" {
		return s
	}
	return "release"
}

// testMode maps a job's NoiseSource to pbeam's test mode: nil is real
// noise; dptest.Noise{} (no noise, every partition with a person
// released) is pbeam's no-noise mode with contribution bounding. Any other
// source cannot be reproduced on Beam and is refused.
func testMode(src dp.NoiseSource) (pbeam.TestMode, error) {
	switch src {
	case nil:
		return pbeam.TestModeDisabled, nil
	case dptest.Noise{}:
		return pbeam.TestModeWithContributionBounding, nil
	}
	return 0, &dp.ParamError{Param: "NoiseSource", Value: fmt.Sprintf("%T%+v", src, src),
		Reason: "on Beam only nil (secure noise) and dptest.Noise{} (pbeam's no-noise test mode) are supported"}
}

// logRelease emits dp's "dp.release" audit event.
func logRelease(l *slog.Logger, kind, label string, eps, delta float64, partitions int, private bool) {
	if l == nil {
		return
	}
	l.LogAttrs(context.Background(), slog.LevelInfo, dp.EventRelease,
		slog.String("event", dp.EventRelease),
		slog.String("kind", kind),
		slog.String("label", label),
		slog.Float64("epsilon", eps),
		slog.Float64("delta", delta),
		slog.Int("partitions", partitions),
		slog.Bool("private", private))
}

// Command evaluate measures the recommend models offline on public data
// sets and prints a table per data set: popularity, item-item and EASE on
// exact counts (non-private) and what recommend.Recommender serves with
// its defaults; at several ε the same models on differentially private
// counts, the best of them blended with DP popularity, and what is served
// from the release.
//
//	go run ./examples/evaluate \
//	    -movielens /work/shared/data/ml-latest-small/ratings.csv \
//	    -retail /work/shared/data/online-retail/online_retail.csv.gz
//
// MovieLens (ml-latest-small): a random 75/25 split per person (seed
// -seed), every rating counts as an interaction, top-k excluding seen.
// Online Retail (UCI): a chronological split, training before 2011-11-01
// and testing after, for customers known before the cutoff; cancellations,
// guest checkouts and non-product codes (postage, fees) are skipped.
//
// Each row is a model; the columns are Precision, Recall, nDCG and MAP at
// k, catalog coverage, nDCG relative to three non-private rows ("vs pop":
// popularity on exact counts; "vs ii": item-item on exact counts; "vs
// best": the best plain model on exact counts, the row the footnote
// names) and the training time (counting, releasing and building the
// model, wall clock). All rows count each person's distinct items under
// the same per-person bound (-max-items, recommend.PersonItems). Every
// plain model backfills as recommend.ItemItem.Top does: the items the
// person's history scores first, then the most counted others, so nobody
// with a history gets an empty list while there are counted items.
//
// # The rows
//
//   - "popularity (exact counts)": items ranked by their exact number of
//     persons in the training part. Not private: it is the baseline.
//   - "item-item (exact counts)": recommend's item-item model
//     (recommend.NewItemItem) on exact co-occurrence counts, damped when
//     the tuning chose it (the line above the table says). Not private.
//   - "item-item cosine (exact counts)": the same with cosine similarity
//     (the best cosine configuration of the tuning), the baseline of issue
//     11's "1.2× item-item cosine" target. Not private.
//   - "EASE (exact counts)": recommend.TrainEASE on exact counts, damped
//     when the tuning chose it. Not private.
//   - "served, defaults (exact counts)": what tact serves: eval.Served, a
//     recommend.Recommender with recommend.Config{} over the Model of the
//     exact popularity and recommend.TrainEASE with EASEConfig{} (the
//     library's defaults, not the settings of the EASE row), for an
//     established person who allows every purpose, past the warm-up:
//     blend, guards, bounded seeds and backfill included. Not private.
//   - "served, tuned EASE (exact counts)": the same, serving the model of
//     the EASE row (its tuned settings) instead of EASEConfig{}: what a
//     host who tuned EASE serves, still with recommend.Config{}. EASE is
//     the best plain model on validation on both data sets, so this is
//     the row the "served within 2% of the best plain model"
//     target reads. Not private.
//   - "item-item DP ε=x": the item-item model on the counts of one
//     differentially private release (below; recommend.CountsFromRelease).
//   - "EASE DP ε=x": EASE on the counts of one release, over the items the
//     release counts pairs among.
//   - "popularity (DP counts ε=x)": items ranked by the noisy item counts
//     of one release (or, where the tuning chose it, the candidates of the
//     pairs first by their summed pair counts, then the other items by
//     their counts). The like-for-like baseline of the next row: the same
//     release, the same popularity.
//   - "best DP ε=x": the best model on that same release, item-item or
//     EASE (chosen on validation), blended with its DP popularity as
//     recommend.Recommender blends history and popularity (see blend.go):
//     the model's confidence plus β times the popularity. β = 0 is
//     backfill (the model first, then popularity); β = +Inf is the
//     fallback to DP popularity when the private signal is too weak to
//     help: the popularity of the same release first, then what only the
//     model scores, which never ranks below the popularity row. β is
//     chosen on validation with the rest, so where the model does not help
//     the tuning falls back to popularity.
//   - "served, defaults (DP ε=x)": what tact serves from that same
//     release with its defaults: recommend.CountsFromRelease with no
//     options, recommend.TrainEASE with EASEConfig{}, the release's item
//     counts as popularity, and eval.Served as in the exact served row.
//     The weaker the release's pairs (ItemItem.SignalToNoise), the more
//     of history's weight the Recommender gives popularity, with no
//     setting chosen here (see recommend.Weights).
//
// After the table, one line per ε says what it buys: the best DP row
// against DP popularity at that ε and the non-private rows, and the served
// row against the best plain model.
//
// # How ε and δ are spent
//
// Every DP row at x (-epsilons, default 0.5, 1, 2, 4, 8) is post-processing
// of exactly one dp.Cooccurrence release, which spends exactly (ε, δ) =
// (x, 1e-5) from a dp.Budget of its own of (x, 1e-5), leaving nothing, and
// nothing else is spent. The release first divides ε and δ additively:
//
//   - 1% of ε: the number of persons (Laplace, sensitivity 1), which
//     cosine, Jaccard and EASE do not use;
//   - a share of ε (30% unless the row's settings say otherwise) and δ/4:
//     a noisy count for every item of the public catalog (Gaussian), each
//     person weighted to norm 1 (a person with m items counts 1/√m in
//     each);
//   - the rest of ε (69% by default) and 3δ/4: a noisy count for every pair
//     among the most counted catalog items (a function of the released item
//     counts, so free), released as public partitions without threshold
//     (Gaussian), each person weighted to norm 1 (a person with n such pairs
//     counts 1/√n in each, after McSherry and Mironov).
//
// The two Gaussian parts then compose exactly rather than by adding their
// shares (dp.CooccurrenceParams.Epsilon): both noises are divided by the
// same factor (1.1 to 1.3 for the splits used here), as far as composing
// them exactly to the rest of ε and all of δ allows.
//
// The rows at one ε share a run's release when their settings release the
// same (pairs among as many items, the same split of ε): the item-item
// row reads the release of its settings, the EASE row that of its own,
// and the popularity, best and served rows one release, that of the best
// row's settings. Rows whose settings release differently get a release
// each, from a budget of its own of exactly (x, 1e-5): still one release,
// and one (ε, δ), per row; the releases are alternatives (a deployment
// makes one), not spent together. A note under the table says, per ε,
// what each release spent, the noise σ of its counts, which rows it gives
// and their settings.
//
// The guarantee is person-level (ε, δ)-DP for the release; what follows is
// post-processing and costs nothing: an optional denoising of the pair
// counts (a fixed rank, or recommend.ReleaseOptions.Denoise, which keeps
// what stands out of the noise; either with recommend.DefaultResidual of
// the rest), a prior added to item counts, the models (with a shrinkage
// and a regularization in units of the pair noise), the popularity, the
// blend, serving and the evaluation. The catalog (every item id in the
// file) is treated as public, as a store's catalog is. Noise is Google's
// secure Gaussian and Laplace noise, so the rows are random: each DP row is
// the mean of -dp-runs independent runs (each release from its own budget;
// a deployment makes one), with the standard deviation of their nDCG in
// the "± nDCG" column.
//
// # Choosing the settings
//
// With -tune, every setting is chosen on a validation split carved out of
// the training part only (MovieLens: a further random 75/25 split of the
// training part, seed -seed+1; Online Retail: training before 2011-10-01,
// validating on October), then the rows are evaluated on the test part;
// no test data is looked at. The settings are the item-item configuration
// (similarity, neighbours, shrinkage; and the best with cosine similarity)
// and the EASE one (N, λ, neighbours, then, for the best of those,
// recommend.EASEConfig.PopularityDamping), each with or without
// recommend.CountOptions.DampActivity for its counts (a person's
// contribution divided by the square root of their number of items;
// popularity always counts persons);
// for each ε, the DP settings of the item-item row (how many items the
// pairs are among, the denoising (none, rank 5, rank 10 or Denoise), an
// item prior and a shrinkage in units of the pair noise σ, the number of
// neighbours), of
// the EASE row (the same, λ instead of the shrinkage), and of the best
// row: its model (item-item or EASE) and settings, the share of ε for the
// item counts (15%, 30%, 60% or 80%), the form of the popularity and β (0,
// backfill, to +Inf, popularity first). Each DP setting is scored by the
// mean validation nDCG of min(-dp-runs, 2) releases. -tune takes about
// an hour and a quarter for both data sets (72 minutes, 2 cores,
// 2026-12-05), so without it the program uses the settings such a run
// chose, written in the source (movieLensSettings and retailSettings;
// -tune prints each choice "as Go", ready to paste). The "served,
// defaults" rows have no settings: they are recommend's defaults, which
// were chosen on the same validation splits (see their doc comments); the
// "served, tuned EASE" row serves the EASE row's settings. -tune prints
// what both serve on validation beside the best plain model. The privacy cost of tuning on
// the training data is not counted in ε, as usual in offline
// evaluations; a deployment would fix the settings in advance.
//
// # Bias audit
//
// With -bias, each data set's table is followed by a bias audit
// (recommend/eval's Auditor, k as above) of the exact popularity,
// item-item, EASE and "served, defaults" rows and, at each ε of
// -bias-epsilons (default 1 and 8), of the "best DP" and "served,
// defaults (DP)" rows, each averaged over -dp-runs releases trained again
// for the audit (their own budgets, as in the table). Persons are
// segmented by activity (eval.ActivityLevels: terciles of their distinct
// training items) and, for Online Retail, by country (the Country of the
// customer's first kept line); segments with fewer than k persons are
// hidden. Exposure and calibration group items by MovieLens genre (from
// movies.csv beside ratings.csv: the movie's most specific genre, the one
// fewest movies list, since the list is alphabetical; without movies.csv
// neither is reported) and by Online Retail price band (the median unit
// price of the item's lines: under £1, £1-2, £2-5, £5-10, £10 and more;
// the data set has no department or supplier). It prints an overview, the
// audit of each model (eval.AuditReport.WriteTable), the comparisons
// (eval.Compare) of EASE on exact counts (base) with the best DP model
// (other) and of the exact served row (base) with the DP one (other),
// and, per comparison and segmentation, which segment privacy costs most
// and least, with the gap and whether it exceeds twice its standard error
// over the releases. -svg DIR (with -bias) also writes charts there:
// nDCG per segment of the exact and DP models, the share of the exact
// nDCG each segment keeps, exposure against catalog share, and long tail
// and coverage per model. -bias makes the run about half a minute longer.
//
// # The residual the denoising keeps
//
// With -residuals SHARES (comma-separated, each in [0, 1]), evaluate
// prints instead of the tables a comparison of those shares of
// recommend.ReleaseOptions.Residual (0: none, added if missing): for
// each DP model of the settings (tuned, or as -tune chooses) that
// denoises, at each ε, and
// for the validation and then the test split, the model's nDCG@k with
// every share, each the mean over -dp-runs releases read with all the
// shares; then, per share and split, the geometric mean over the models
// of the ratio to no residual, the smallest ratio, and how many models
// score below no residual. recommend.DefaultResidual was chosen from the
// validation lines of
//
//	go run ./examples/evaluate -movielens … -retail … -dp-runs 6 \
//	    -residuals 0,0.1,0.2,0.3,0.4,0.5,0.7,1
//
// A data set whose path is empty or missing is skipped with a message.
package main

import (
	"cmp"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/eval"
)

func main() {
	if err := evaluate(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "evaluate:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// defaultEpsilons are the ε of the DP rows unless -epsilons says
// otherwise; the source holds tuned settings for each.
const defaultEpsilons = "0.5,1,2,4,8"

var errUsage = errors.New("nothing to do: give -movielens and/or -retail (see -h)")

// settings are how the rows of one data set train: the models on exact
// counts and, per ε, the DP rows.
type settings struct {
	itemItem recommend.ItemItemConfig
	// cosine is the best item-item configuration with cosine similarity,
	// the baseline issue 11's quality target names.
	cosine recommend.ItemItemConfig
	ease   recommend.EASEConfig
	// iiDamp, cosDamp and easeDamp count the pairs of the item-item, the
	// cosine and the EASE model with recommend.CountOptions.DampActivity.
	iiDamp, cosDamp, easeDamp bool
	dp                        map[float64]dpSettings
}

// damped is o with DampActivity set to d.
func damped(o recommend.CountOptions, d bool) recommend.CountOptions {
	o.DampActivity = d
	return o
}

// dpFor returns the DP settings at eps, defaultDPSettings for an ε
// without an entry.
func (s settings) dpFor(eps float64) dpSettings {
	if d, ok := s.dp[eps]; ok {
		return d
	}
	return defaultDPSettings
}

// evaluate runs the program with command-line args, printing to w.
func evaluate(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	movielens := fs.String("movielens", "", "path to MovieLens ratings.csv")
	retail := fs.String("retail", "", "path to UCI Online Retail CSV (.csv or .csv.gz)")
	k := fs.Int("k", 10, "recommendation list length")
	seed := fs.Uint64("seed", 42, "seed of the random split")
	tune := fs.Bool("tune", false, "choose the settings of every row on a validation split of the training data")
	maxItems := fs.Int("max-items", 0, "per-person bound on distinct items counted (0: the library default; negative: none)")
	epsList := fs.String("epsilons", defaultEpsilons, "comma-separated ε of the DP rows (empty: no DP rows)")
	runs := fs.Int("dp-runs", 5, "independent DP releases averaged per DP row")
	bias := fs.Bool("bias", false, "also audit bias per segment: the exact models and the best DP model at -bias-epsilons")
	biasEps := fs.String("bias-epsilons", defaultBiasEpsilons, "comma-separated ε of the DP models of the bias audit")
	svgDir := fs.String("svg", "", "with -bias, write the bias audit's charts (SVG) into this directory")
	residuals := fs.String("residuals", "", "instead of the tables, compare these comma-separated shares of the residual the denoising keeps (recommend.ReleaseOptions.Residual; 0: none) on the DP models that denoise")
	if err := fs.Parse(args); err != nil {
		return err
	}
	epsilons, err := parseEpsilons(*epsList)
	if err != nil {
		return err
	}
	if *runs < 1 {
		return fmt.Errorf("%w: -dp-runs %d must be at least 1", errUsage, *runs)
	}
	biasEpsilons, err := parseEpsilons(*biasEps)
	if err != nil {
		return err
	}
	var shares []float64
	if *residuals != "" {
		if shares, err = parseShares(*residuals); err != nil {
			return err
		}
	}
	if *svgDir != "" && !*bias {
		return fmt.Errorf("%w: -svg needs -bias", errUsage)
	}
	if *movielens == "" && *retail == "" {
		return errUsage
	}
	counting := countOptions
	counting.MaxItemsPerPerson = *maxItems
	ran := false
	for _, ds := range []struct {
		name, slug string
		path       string
		load       func(string) (dataset, error)
		split      func([]recommend.Interaction) (eval.Split, eval.Split, error)
		settings   settings
	}{
		{"MovieLens ml-latest-small", "movielens", *movielens, loadMovieLens, movieLensSplits(*seed), movieLensSettings},
		{"UCI Online Retail", "retail", *retail, loadRetail, retailSplits, retailSettings},
	} {
		if ds.path == "" {
			continue
		}
		if _, err := os.Stat(ds.path); err != nil {
			fmt.Fprintf(w, "%s: skipped: %v\n\n", ds.name, err)
			continue
		}
		data, err := ds.load(ds.path)
		if err != nil {
			return fmt.Errorf("%s: %w", ds.name, err)
		}
		in := data.in
		cat, err := recommend.NewCatalog(data.items)
		if err != nil {
			return fmt.Errorf("%s: %w", ds.name, err)
		}
		test, validation, err := ds.split(in)
		if err != nil {
			return fmt.Errorf("%s: %w", ds.name, err)
		}
		// Tuning reads the validation split only: training data.
		set := ds.settings
		if *tune {
			if set, err = tuneAll(w, cat, validation, *k, counting, epsilons, min(*runs, 2)); err != nil {
				return fmt.Errorf("%s: %w", ds.name, err)
			}
		}
		if shares != nil {
			if err := sweepResidual(w, ds.name, cat, test, validation, *k, set, counting, epsilons, shares, *runs); err != nil {
				return fmt.Errorf("%s: %w", ds.name, err)
			}
			ran = true
			continue
		}
		sources := []source{
			popularitySource(cat, counting),
			exactSource(cat, set.itemItem, damped(counting, set.iiDamp)),
			cosineSource(cat, set.cosine, damped(counting, set.cosDamp)),
			easeSource(cat, set.ease, damped(counting, set.easeDamp)),
			servedSource(cat, recommend.EASEConfig{}, counting, counting),
			servedSource(cat, set.ease, counting, damped(counting, set.easeDamp)),
		}
		for _, eps := range epsilons {
			sources = append(sources, dpSource(eps, set.dpFor(eps), cat, set.itemItem, counting, *runs))
		}
		if err := run(w, ds.name, cat, test, *k, set, counting, sources); err != nil {
			return fmt.Errorf("%s: %w", ds.name, err)
		}
		if *bias {
			b := biasSpec{slug: ds.slug, data: data, epsilons: biasEpsilons, runs: *runs, svgDir: *svgDir}
			if err := runBias(w, ds.name, cat, test, *k, set, counting, b); err != nil {
				return fmt.Errorf("%s: bias audit: %w", ds.name, err)
			}
		}
		ran = true
	}
	if !ran {
		fmt.Fprintln(w, "evaluate: no data set available; nothing evaluated")
	}
	return nil
}

// Chosen with -tune on validation splits of the training data (see the
// package comment); rerun with -tune to reproduce the choice.
var (
	countOptions = recommend.CountOptions{Seed: 1}
)

// workers is how many goroutines EASE's inversion uses.
var workers = runtime.GOMAXPROCS(0)

// Groups of rows, in the order of the table.
const (
	groupExact      = iota // non-private: exact counts
	groupItemItemDP        // item-item on a DP release
	groupEASEDP            // EASE on a DP release
	groupPopDP             // popularity on a DP release
	groupBestDP            // the best DP model, blended with DP popularity
	groupServedDP          // what tact serves from a DP release
)

// rowSpec names a row of the table, its group and its ε (0: exact
// counts).
type rowSpec struct {
	name  string
	group int
	eps   float64
	// plain marks a plain model on exact counts: the rows "vs best"
	// compares with.
	plain bool
}

// A source trains one or more models on the training part, each the
// ranking of one row. A random source (DP releases) is trained runs
// times, independently, and its rows average the runs.
type source struct {
	rows []rowSpec
	runs int
	// train returns a ranker and a training time (wall clock: counting,
	// the row's release and building) per row.
	train func(train []recommend.Interaction) ([]eval.Ranker, []time.Duration, error)
	// spent, if not nil, describes what the last run spent (DP rows).
	spent func() string
}

// popularitySource is the non-private popularity baseline: exact numbers
// of persons per item.
func popularitySource(cat *recommend.Catalog, o recommend.CountOptions) source {
	return source{
		rows: []rowSpec{{name: "popularity (exact counts)", group: groupExact, plain: true}},
		runs: 1,
		train: func(train []recommend.Interaction) ([]eval.Ranker, []time.Duration, error) {
			start := time.Now()
			p, err := recommend.NewPopularity(cat, recommend.CountItems(train, o), nil)
			if err != nil {
				return nil, nil, err
			}
			return []eval.Ranker{popularityRanker(p)}, []time.Duration{time.Since(start)}, nil
		},
	}
}

// exactSource is the non-private item-item model on exact co-occurrence
// counts.
func exactSource(cat *recommend.Catalog, cfg recommend.ItemItemConfig, o recommend.CountOptions) source {
	return source{
		rows: []rowSpec{{name: "item-item (exact counts)", group: groupExact, plain: true}},
		runs: 1,
		train: func(train []recommend.Interaction) ([]eval.Ranker, []time.Duration, error) {
			start := time.Now()
			ii, err := recommend.NewItemItem(cat, recommend.CountCooccurrence(train, o), cfg)
			if err != nil {
				return nil, nil, err
			}
			return []eval.Ranker{itemItemRanker(ii)}, []time.Duration{time.Since(start)}, nil
		},
	}
}

// cosineSource is the non-private item-item model with cosine similarity
// on exact co-occurrence counts: the best cosine configuration, which the
// item-item row need not be.
func cosineSource(cat *recommend.Catalog, cfg recommend.ItemItemConfig, o recommend.CountOptions) source {
	src := exactSource(cat, cfg, o)
	src.rows = []rowSpec{{name: "item-item cosine (exact counts)", group: groupExact, plain: true}}
	return src
}

// easeSource is the non-private EASE model on exact co-occurrence counts.
func easeSource(cat *recommend.Catalog, cfg recommend.EASEConfig, o recommend.CountOptions) source {
	cfg.Workers = workers
	return source{
		rows: []rowSpec{{name: "EASE (exact counts)", group: groupExact, plain: true}},
		runs: 1,
		train: func(train []recommend.Interaction) ([]eval.Ranker, []time.Duration, error) {
			start := time.Now()
			m, err := recommend.TrainEASE(cat, recommend.CountCooccurrence(train, o), cfg)
			if err != nil {
				return nil, nil, err
			}
			return []eval.Ranker{itemItemRanker(m)}, []time.Duration{time.Since(start)}, nil
		},
	}
}

// servedName is the name of the served rows on library defaults.
const servedName = "served, defaults"

// servedTunedName is the name of the served row on the tuned EASE model.
const servedTunedName = "served, tuned EASE"

// servedSource is what tact serves from exact counts:
// recommend.Recommender (recommend.Config{}) over the Model of the exact
// popularity and the EASE model of cfg, for an established person who
// allows everything, past the warm-up (eval.Served). With the zero cfg it
// is the library's defaults ("served, defaults"); otherwise the EASE
// row's settings, the model a host who tuned it would serve ("served,
// tuned EASE", its pairs counted with pairs, the EASE row's counting).
// Popularity counts with o.
func servedSource(cat *recommend.Catalog, cfg recommend.EASEConfig, o, pairs recommend.CountOptions) source {
	name := servedName
	if cfg != (recommend.EASEConfig{}) {
		name = servedTunedName
	}
	return source{
		rows: []rowSpec{{name: name + " (exact counts)", group: groupExact}},
		runs: 1,
		train: func(train []recommend.Interaction) ([]eval.Ranker, []time.Duration, error) {
			start := time.Now()
			pop, err := recommend.NewPopularity(cat, recommend.CountItems(train, o), nil)
			if err != nil {
				return nil, nil, err
			}
			rank, err := served(cat, pop, recommend.CountCooccurrence(train, pairs), cfg, train)
			if err != nil {
				return nil, nil, err
			}
			return []eval.Ranker{rank}, []time.Duration{time.Since(start)}, nil
		},
	}
}

// served returns what recommend.Recommender serves with its default
// Config over the Model of pop and the EASE model of counts with cfg
// (eval.Served).
func served(cat *recommend.Catalog, pop *recommend.Popularity, counts *recommend.Counts, cfg recommend.EASEConfig, train []recommend.Interaction) (eval.Ranker, error) {
	cfg.Workers = workers
	m, err := recommend.TrainEASE(cat, counts, cfg)
	if err != nil {
		return nil, err
	}
	model, err := recommend.NewModel(cat, pop, m)
	if err != nil {
		return nil, err
	}
	return eval.Served(model, train, recommend.Config{})
}

// row is the evaluation of one row: metrics averaged over its runs, the
// spread of nDCG and the mean training time.
type row struct {
	rowSpec
	runs   int
	m      eval.Metrics
	ndcgSD float64
	train  time.Duration
}

// evalSource trains src runs times on s.Train and evaluates each of its
// rows on s.
func evalSource(src source, s eval.Split, k, catalogSize int) ([]row, error) {
	n := max(src.runs, 1)
	rows := make([]row, len(src.rows))
	sum := make([]float64, len(src.rows))
	sq := make([]float64, len(src.rows))
	for i := 0; i < n; i++ {
		rankers, times, err := src.train(s.Train)
		if err != nil {
			return nil, err
		}
		for j, rank := range rankers {
			m := eval.Evaluate(s, k, catalogSize, rank)
			r := &rows[j]
			r.train += times[j]
			r.m.Precision += m.Precision
			r.m.Recall += m.Recall
			r.m.NDCG += m.NDCG
			r.m.MAP += m.MAP
			r.m.Coverage += m.Coverage
			sum[j] += m.NDCG
			sq[j] += m.NDCG * m.NDCG
		}
	}
	f := float64(n)
	for j := range rows {
		r := &rows[j]
		r.rowSpec, r.runs = src.rows[j], n
		r.m.Precision /= f
		r.m.Recall /= f
		r.m.NDCG /= f
		r.m.MAP /= f
		r.m.Coverage /= f
		r.train /= time.Duration(n)
		if n > 1 {
			r.ndcgSD = math.Sqrt(max(0, (sq[j]-sum[j]*sum[j]/f)/(f-1)))
		}
	}
	return rows, nil
}

// run evaluates the sources on s and prints the table: the rows grouped
// (see the group constants), in the order of the sources within a group,
// then what each ε buys. The first source must be the popularity baseline
// and the second the exact item-item model, which the ratio columns refer
// to.
func run(w io.Writer, name string, cat *recommend.Catalog, s eval.Split, k int, set settings, o recommend.CountOptions, sources []source) error {
	trainItems := make(map[string]bool)
	for _, x := range s.Train {
		trainItems[x.Item] = true
	}
	fmt.Fprintf(w, "%s: %d training interactions, %d items in training, %d test persons; k=%d\n",
		name, len(s.Train), len(trainItems), len(s.Test), k)
	cfg, c, e := set.itemItem, set.cosine, set.ease
	fmt.Fprintf(w, "item-item: %s, %d neighbours, shrink %g%s; item-item cosine: %d neighbours, shrink %g%s; EASE: %s%s; at most %s items per person\n\n",
		cfg.Similarity, cfg.Neighbors, cfg.Shrink, dampString(set.iiDamp), c.Neighbors, c.Shrink, dampString(set.cosDamp), easeString(e), dampString(set.easeDamp), maxItems(o))
	var rows []row
	var notes []string
	for _, src := range sources {
		r, err := evalSource(src, s, k, len(trainItems))
		if err != nil {
			return fmt.Errorf("%s: %w", src.rows[0].name, err)
		}
		rows = append(rows, r...)
		if src.spent != nil {
			notes = append(notes, src.spent())
		}
	}
	if len(rows) < 2 {
		return errors.New("no baseline rows")
	}
	pop, ii := rows[0].m, rows[1].m
	var best row
	for _, r := range rows {
		if r.plain && r.m.NDCG > best.m.NDCG {
			best = r
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.group, b.group) })
	fmt.Fprintf(w, "| %-34s | %7s | %7s | %7s | %7s | %8s | %8s | %6s | %6s | %7s | %8s |\n", "model", "P@k", "R@k", "nDCG@k", "± nDCG", "MAP@k", "coverage", "vs pop", "vs ii", "vs best", "train")
	fmt.Fprintf(w, "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", dashes(36), dashes(9), dashes(9), dashes(9), dashes(9), dashes(10), dashes(10), dashes(8), dashes(8), dashes(9), dashes(10))
	for _, r := range rows {
		printRow(w, r, pop, ii, best.m)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "vs pop, vs ii, vs best: nDCG@k over that of popularity (exact counts), item-item (exact counts) and the best plain model on exact counts (%s), all non-private.\n", best.name)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	printBuys(w, rows, k, pop, ii, best)
	fmt.Fprintln(w)
	return nil
}

// printBuys says what each ε buys: the best DP row at that ε against DP
// popularity at that ε and the non-private rows.
func printBuys(w io.Writer, rows []row, k int, pop, ii eval.Metrics, best row) {
	var eps []float64
	bestAt := make(map[float64]row)
	popAt := make(map[float64]row)
	servedAt := make(map[float64]row)
	for _, r := range rows {
		switch r.group {
		case groupBestDP:
			eps = append(eps, r.eps)
			bestAt[r.eps] = r
		case groupPopDP:
			popAt[r.eps] = r
		case groupServedDP:
			servedAt[r.eps] = r
		}
	}
	if len(eps) == 0 {
		return
	}
	fmt.Fprintf(w, "What each ε buys (the best DP row; the served row in brackets), nDCG@%d:\n", k)
	for _, e := range eps {
		b := bestAt[e].m.NDCG
		fmt.Fprintf(w, "  ε=%-4g %.4f: %s DP popularity at ε=%g, %s popularity, %s item-item, %s %s (non-private) [served %.4f: %s %s]\n",
			e, b, ratio(b, popAt[e].m.NDCG), e, ratio(b, pop.NDCG), ratio(b, ii.NDCG), ratio(b, best.m.NDCG), best.name,
			servedAt[e].m.NDCG, ratio(servedAt[e].m.NDCG, best.m.NDCG), best.name)
	}
}

func maxItems(o recommend.CountOptions) string {
	switch {
	case o.MaxItemsPerPerson == 0:
		return strconv.Itoa(recommend.DefaultMaxItemsPerPerson)
	case o.MaxItemsPerPerson < 0:
		return "unbounded"
	}
	return strconv.Itoa(o.MaxItemsPerPerson)
}

func dashes(n int) string { return strings.Repeat("-", n) }

func ratio(x, base float64) string {
	if base > 0 {
		return fmt.Sprintf("%.2fx", x/base)
	}
	return "-"
}

func printRow(w io.Writer, r row, pop, ii, best eval.Metrics) {
	sd := "-"
	if r.runs > 1 {
		sd = fmt.Sprintf("%.4f", r.ndcgSD)
	}
	m := r.m
	fmt.Fprintf(w, "| %-34s | %7.4f | %7.4f | %7.4f | %7s | %8.4f | %8.4f | %6s | %6s | %7s | %8s |\n",
		r.name, m.Precision, m.Recall, m.NDCG, sd, m.MAP, m.Coverage, ratio(m.NDCG, pop.NDCG), ratio(m.NDCG, ii.NDCG), ratio(m.NDCG, best.NDCG), fmtDuration(r.train))
}

// easeString describes an EASE configuration, defaults filled in.
func easeString(c recommend.EASEConfig) string {
	n, l, nb := c.Items, c.Lambda, c.Neighbors
	if n == 0 {
		n = recommend.DefaultEASEItems
	}
	if l == 0 {
		l = recommend.DefaultEASELambda
	}
	if nb == 0 {
		nb = recommend.DefaultEASENeighbors
	}
	s := fmt.Sprintf("%d items, λ %g, %d neighbours", n, l, nb)
	if c.PopularityDamping != 0 {
		s += fmt.Sprintf(", popularity damped by %g", c.PopularityDamping)
	}
	return s
}

// dampString says when pairs are counted with DampActivity.
func dampString(d bool) string {
	if d {
		return ", activity damped"
	}
	return ""
}

func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

func popularityRanker(p *recommend.Popularity) eval.Ranker {
	return func(_ string, history []string, k int) []string {
		return ids(p.Top(k, "", excluding(history)))
	}
}

func itemItemRanker(ii *recommend.ItemItem) eval.Ranker {
	return func(_ string, history []string, k int) []string {
		return ids(ii.Top(history, k, nil))
	}
}

func excluding(history []string) func(string) bool {
	seen := make(map[string]bool, len(history))
	for _, h := range history {
		seen[h] = true
	}
	return func(id string) bool { return seen[id] }
}

func ids(s []recommend.Scored) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.Item
	}
	return out
}

func movieLensSplits(seed uint64) func([]recommend.Interaction) (eval.Split, eval.Split, error) {
	return func(in []recommend.Interaction) (eval.Split, eval.Split, error) {
		test, err := eval.RandomSplit(in, 0.25, seed)
		if err != nil {
			return eval.Split{}, eval.Split{}, err
		}
		validation, err := eval.RandomSplit(test.Train, 0.25, seed+1)
		return test, validation, err
	}
}

var retailCutoff = time.Date(2011, 11, 1, 0, 0, 0, 0, time.UTC)

func retailSplits(in []recommend.Interaction) (eval.Split, eval.Split, error) {
	test := eval.ChronologicalSplit(in, retailCutoff)
	var before []recommend.Interaction
	for _, x := range in {
		if x.At.Before(retailCutoff) {
			before = append(before, x)
		}
	}
	validation := eval.ChronologicalSplit(before, retailCutoff.AddDate(0, -1, 0))
	return test, validation, nil
}

// dataset is a loaded data set: the interactions, the catalog and what
// the bias audit reads beside them.
type dataset struct {
	in    []recommend.Interaction
	items []recommend.Item
	// country is each person's country (Online Retail; nil for MovieLens).
	country map[string]string
	// group is each catalog item's group, the grouping of the exposure
	// audit and the category of calibration (nil: none known), named
	// groupName; groupNote says where it comes from.
	group     map[string]string
	groupName string
	groupNote string
	// groupOrdinal says the groups' labels sort in a meaningful order
	// (price bands), which charts keep.
	groupOrdinal bool
}

func loadMovieLens(path string) (dataset, error) {
	in, items, err := loadRatings(path)
	if err != nil {
		return dataset{}, err
	}
	d := dataset{in: in, items: items, groupName: "genre"}
	movies := filepath.Join(filepath.Dir(path), "movies.csv")
	switch genres, err := loadGenres(movies); {
	case errors.Is(err, fs.ErrNotExist):
		d.groupNote = "no " + movies + ": no genre, so no exposure by genre and no calibration"
	case err != nil:
		return dataset{}, err
	default:
		d.group = genres
		d.groupNote = "genre: the most specific genre movies.csv lists for the movie (the one fewest movies have; the list is alphabetical, so its first is no primary genre); exposure is by genre and calibration compares the genre mixes"
	}
	return d, nil
}

// loadGenres reads MovieLens movies.csv (movieId,title,genres) and
// returns one genre per movie, keyed as loadRatings keys items: its most
// specific genre, the one fewest movies of the file list (ties by name).
// MovieLens lists a movie's genres in alphabetical order, so the first is
// no primary genre ("Action" and "Adventure" would swallow half the
// catalog); the rarest is the most telling ("Animation" rather than
// "Comedy" for Toy Story). IMAX, a format rather than a genre, counts only
// when a movie lists nothing else.
func loadGenres(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	if _, err := r.Read(); err != nil { // header
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	lists := make(map[string][]string)
	movies := make(map[string]int) // per genre
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) < 3 {
			return nil, fmt.Errorf("%s: line %d: want 3 fields", path, line)
		}
		gs := strings.Split(rec[2], "|")
		if len(gs) > 1 {
			gs = slices.DeleteFunc(gs, func(g string) bool { return g == "IMAX" })
		}
		lists["m"+rec[0]] = gs
		for _, g := range gs {
			movies[g]++
		}
	}
	genres := make(map[string]string, len(lists))
	for id, gs := range lists {
		genres[id] = slices.MinFunc(gs, func(a, b string) int { return cmp.Or(cmp.Compare(movies[a], movies[b]), cmp.Compare(a, b)) })
	}
	return genres, nil
}

func loadRatings(path string) ([]recommend.Interaction, []recommend.Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil { // header
		return nil, nil, err
	}
	var in []recommend.Interaction
	var items []recommend.Item
	seen := make(map[string]bool)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if len(rec) < 4 {
			return nil, nil, fmt.Errorf("line %d: want 4 fields", len(in)+2)
		}
		ts, err := strconv.ParseInt(rec[3], 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", len(in)+2, err)
		}
		item := "m" + rec[1]
		if !seen[item] {
			seen[item] = true
			items = append(items, recommend.Item{ID: item, Title: "movie " + rec[1]})
		}
		in = append(in, recommend.Interaction{Person: "u" + rec[0], Item: item, At: time.Unix(ts, 0).UTC()})
	}
	return in, items, nil
}

// loadRetail reads the UCI Online Retail CSV. Besides the interactions
// and the catalog it keeps each customer's country (that of their first
// kept line) and groups the items by price band: the median unit price of
// the item's kept lines (see priceBand). The data set has no department
// or supplier; the price band is the attribute every item has that a
// store would audit exposure by (are cheap items crowded out?).
func loadRetail(path string) (dataset, error) {
	d, err := readRetail(path)
	if err != nil {
		return dataset{}, err
	}
	d.groupName, d.groupOrdinal = "price band", true
	d.groupNote = "price band: the median unit price of the item's lines (Online Retail has no department or supplier); exposure is by price band and calibration compares the price-band mixes"
	return d, nil
}

// priceBands are the upper bounds (exclusive, £) of the price bands but
// the last, and bandLabels their labels, which sort in band order.
var (
	priceBands = []float64{1, 2, 5, 10}
	bandLabels = []string{"1: under £1", "2: £1-2", "3: £2-5", "4: £5-10", "5: £10 and more"}
)

// priceBand is the band of the median of prices.
func priceBand(prices []float64) string {
	slices.Sort(prices)
	n := len(prices)
	m := prices[n/2]
	if n%2 == 0 {
		m = (prices[n/2-1] + prices[n/2]) / 2
	}
	i, _ := slices.BinarySearch(priceBands, m)
	if i < len(priceBands) && priceBands[i] == m {
		i++
	}
	return bandLabels[i]
}

func readRetail(path string) (dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return dataset{}, err
	}
	defer f.Close()
	var rd io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return dataset{}, err
		}
		defer z.Close()
		rd = z
	}
	r := csv.NewReader(rd)
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	if _, err := r.Read(); err != nil {
		return dataset{}, err
	}
	var in []recommend.Interaction
	var items []recommend.Item
	seen := make(map[string]bool)
	country := make(map[string]string)
	prices := make(map[string][]float64)
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return dataset{}, err
		}
		if len(rec) < 8 {
			return dataset{}, fmt.Errorf("line %d: want 8 fields", line)
		}
		invoice, code, desc, qty, date, price, customer := rec[0], strings.ToUpper(strings.TrimSpace(rec[1])), rec[2], rec[3], rec[4], rec[5], rec[6]
		if strings.HasPrefix(invoice, "C") || customer == "" || code == "" || code[0] < '0' || code[0] > '9' {
			continue
		}
		if q, err := strconv.Atoi(qty); err != nil || q <= 0 {
			continue
		}
		at, err := time.Parse("2006-01-02 15:04:05", date)
		if err != nil {
			return dataset{}, fmt.Errorf("line %d: %w", line, err)
		}
		if !seen[code] {
			seen[code] = true
			items = append(items, recommend.Item{ID: code, Title: strings.TrimSpace(desc)})
		}
		person := "c" + strings.TrimSuffix(customer, ".0")
		if _, ok := country[person]; !ok && len(rec) > 7 {
			country[person] = strings.TrimSpace(rec[7])
		}
		if p, err := strconv.ParseFloat(price, 64); err == nil && p >= 0 {
			prices[code] = append(prices[code], p)
		}
		in = append(in, recommend.Interaction{Person: person, Item: code, At: at})
	}
	group := make(map[string]string, len(prices))
	for code, ps := range prices {
		group[code] = priceBand(ps)
	}
	return dataset{in: in, items: items, country: country, group: group}, nil
}

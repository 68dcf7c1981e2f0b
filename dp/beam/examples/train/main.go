// Command train runs tact's differentially private training and trending
// on Apache Beam, with the prism runner in this process, and builds a
// recommender from the releases.
//
// It reads minimized order events, one JSON object a line
// ({"customer": pseudonym, "country": ..., "item": ...}), from -events,
// or generates them: a synthetic shop (recommend/recommendtest) whose
// order lines are minimized for analytics (package minimize: the customer
// number replaced by a keyed pseudonym, everything else dropped but the
// country and the item). One Beam pipeline, with a budget of ε = 2,
// δ = 2·10⁻⁶ declared up front, releases what is trending per country
// (dp/beam.TopK, as dp.TopK) and the item co-occurrences a recommender
// trains on (dp/beam.Cooccurrence, as dp.Cooccurrence: the public
// catalog, public pairs among the 100 most counted items, weighted
// persons). The releases are written as JSON, in package dp's encoding,
// under -out; the recommender (recommend.NewPopularity,
// recommend.CountsFromRelease, recommend.NewItemItem) is built from those
// files, as a serving host would build it.
//
// From the repository root:
//
//	go -C dp/beam run ./examples/train
//
// or, in dp/beam, go run ./examples/train [-shoppers 5000] [-out dir]
// [-events file.jsonl].
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/dp"
	dpbeam "github.com/tact-go/tact/dp/beam"
	"github.com/tact-go/tact/minimize"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// Order is a minimized order line: what analytics.aggregate keeps.
type Order struct {
	Customer string `json:"customer" tact:"user.unique_id"`
	Country  string `json:"country" tact:"user.location.approximate"`
	Item     string `json:"item" tact:"user.behavior.purchase_history"`
}

// AllSegments is the trending segment of every country together.
const AllSegments = "all"

// The releases' privacy parameters; their sum is the pipeline's budget.
const (
	trendingEpsilon = 1.0
	coocEpsilon     = 1.0
	delta           = 1e-6
	trendingK       = 10
	pairItems       = 100
)

func init() {
	register.Function2x0[string, func(Order)](parseOrder)
	register.Emitter1[Order]()
	register.Function2x0[Order, func(dpbeam.Event)](orderEvents)
	register.Emitter1[dpbeam.Event]()
	register.Function1x1[Order, dpbeam.ItemEvent](orderItem)
	beam.RegisterType(reflect.TypeOf(Order{}))
}

func main() {
	flag.Parse()
	beam.Init()
	if err := run(context.Background(), options{}.fromFlags(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

type options struct {
	events   string
	out      string
	shoppers int
	seed     uint64
}

var (
	flagEvents   = flag.String("events", "", "minimized order events, one JSON object a line; empty: generate them")
	flagOut      = flag.String("out", "", "directory for the events and releases; empty: a new temporary directory")
	flagShoppers = flag.Int("shoppers", 5000, "shoppers of the generated shop")
	flagSeed     = flag.Uint64("seed", 1, "seed of the generated shop")
)

func (options) fromFlags() options {
	return options{events: *flagEvents, out: *flagOut, shoppers: *flagShoppers, seed: *flagSeed}
}

func run(ctx context.Context, o options, w io.Writer) error {
	if o.out == "" {
		dir, err := os.MkdirTemp("", "tact-beam-")
		if err != nil {
			return err
		}
		o.out = dir
	}
	var items []recommend.Item
	if o.events == "" {
		world := recommendtest.Generate(recommendtest.Options{Seed: o.seed, Shoppers: o.shoppers, Items: 300})
		o.events = filepath.Join(o.out, "events.jsonl")
		n, err := writeMinimized(world, o.seed, o.events)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "generated %d minimized order events of %d shoppers: %s\n", n, o.shoppers, o.events)
		items = world.Items
	}
	var catalog []string // public item ids: the catalog a shop publishes
	for _, it := range items {
		catalog = append(catalog, it.ID)
	}

	p, err := dpbeam.NewPipeline(o.out, trendingEpsilon+coocEpsilon, 2*delta, &dpbeam.Options{Label: "nightly training"})
	if err != nil {
		return err
	}
	s := p.Scope()
	orders := beam.ParDo(s, parseOrder, textio.Read(s, o.events))
	trending, err := dpbeam.TopK(p, beam.ParDo(s, orderEvents, orders), trendingK, dp.Params{
		Epsilon: trendingEpsilon, Delta: delta, MaxPartitions: 16, MaxContributions: 1, Noise: dp.Gaussian,
		Label: "trending per country"})
	if err != nil {
		return err
	}
	cp := dp.CooccurrenceParams{Epsilon: coocEpsilon, Delta: delta, Noise: dp.Gaussian, MaxItems: 50,
		MaxPairs: pairItems * (pairItems - 1) / 2, Weighted: true, Split: [3]float64{0.01, 0.3, 0.69},
		Label: "item-item"}
	if catalog != nil {
		cp.Items, cp.PairItems = catalog, pairItems
	} else {
		// No public catalog: thresholded items and pairs, and dp's default
		// split, whose larger share for the number of persons keeps its
		// noisy value positive on small files (dp's decoder, which loads
		// the release below, refuses a negative one).
		cp.Weighted, cp.MaxItems, cp.MaxPairs, cp.Split = false, 8, 28, [3]float64{}
	}
	cooc, err := dpbeam.Cooccurrence(p, beam.ParDo(s, orderItem, orders), cp)
	if err != nil {
		return err
	}
	// The host's budget for the period: in a service, a dp.Budget over its
	// database (dp/sqlbudget), which the pipeline's total is taken from.
	host, err := dp.NewBudget(4, 4*delta, nil)
	if err != nil {
		return err
	}
	if err := p.Run(ctx, host); err != nil {
		return err
	}
	fmt.Fprintf(w, "ran on Beam (prism); host budget spent ε=%g δ=%g\n", first(host.Spent()), second(host.Spent()))

	// A serving host loads the releases from the files, with dp's decoders.
	var tr dp.Trending
	if err := loadJSON(trending.Path(), &tr); err != nil {
		return err
	}
	var co dp.Cooccurrences
	if err := loadJSON(cooc.Path(), &co); err != nil {
		return err
	}
	fmt.Fprintf(w, "releases:\n  %s\n    %v\n  %s\n    %v\n", trending.Path(), &tr, cooc.Path(), &co)

	if items == nil {
		for _, ic := range co.Items {
			items = append(items, recommend.Item{ID: ic.Item, Title: ic.Item})
		}
	}
	model, err := buildModel(items, &tr, &co)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "recommender built from the releases: %d catalog items\n", model.all.Catalog().Len())
	top := model.pop.Top(5, "", nil)
	fmt.Fprintf(w, "trending everywhere:")
	for _, sc := range top {
		fmt.Fprintf(w, " %s", sc.Item)
	}
	fmt.Fprintln(w)
	if len(top) > 0 {
		nb := model.ii.Neighbors(top[0].Item)
		fmt.Fprintf(w, "bought with %s (DP item-item, %d neighbours):", top[0].Item, len(nb))
		for _, n := range nb[:min(5, len(nb))] {
			fmt.Fprintf(w, " %s (%.2f)", n.Item, n.Similarity)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func first(a, _ float64) float64  { return a }
func second(_, b float64) float64 { return b }

// model is what the recommender is built from the releases.
type model struct {
	all *recommend.Model
	pop *recommend.Popularity
	ii  *recommend.ItemItem
}

// buildModel builds the popularity model from the trending release and the
// item-item model from the co-occurrence release: post-processing, no
// further privacy cost.
func buildModel(items []recommend.Item, tr *dp.Trending, co *dp.Cooccurrences) (*model, error) {
	cat, err := recommend.NewCatalog(items)
	if err != nil {
		return nil, err
	}
	segments := make(map[string][]recommend.ItemCount)
	for _, seg := range tr.Segments() {
		if seg != AllSegments {
			segments[seg] = ranked(tr.Top(seg))
		}
	}
	pop, err := recommend.NewPopularity(cat, ranked(tr.Top(AllSegments)), segments)
	if err != nil {
		return nil, err
	}
	counts, err := recommend.CountsFromRelease(co, recommend.ReleaseOptions{ItemPrior: 30})
	if err != nil {
		return nil, err
	}
	_, sigma := co.CountNoise()
	ii, err := recommend.NewItemItem(cat, counts, recommend.ItemItemConfig{Shrink: 3 * sigma, Neighbors: 50})
	if err != nil {
		return nil, err
	}
	m, err := recommend.NewModel(cat, pop, ii)
	if err != nil {
		return nil, err
	}
	return &model{m, pop, ii}, nil
}

func ranked(rs []dp.Ranked) []recommend.ItemCount {
	out := make([]recommend.ItemCount, 0, len(rs))
	for _, r := range rs {
		out = append(out, recommend.ItemCount{Item: r.Item, Count: float64(r.Count)})
	}
	return out
}

func loadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// writeMinimized writes the world's purchases as minimized order lines to
// path, and returns how many.
func writeMinimized(world *recommendtest.World, seed uint64, path string) (int, error) {
	policy, err := minimize.NewPolicy(consent.PurposeAnalyticsAggregate,
		minimize.ForCategory(consent.CategoryUniqueID, minimize.Pseudonymize()),
		minimize.ForField("Country", minimize.Keep()),
		minimize.ForField("Item", minimize.Keep()))
	if err != nil {
		return 0, err
	}
	// The host loads its pseudonym key from its secret store; here it is
	// derived from the seed, so that runs are reproducible.
	secret := sha256.Sum256(fmt.Appendf(nil, "tact beam example pseudonym key %d", seed))
	keys, err := minimize.NewKeyring(minimize.Key{ID: "example-1", Secret: secret[:]})
	if err != nil {
		return 0, err
	}
	m, err := minimize.New(policy, minimize.Config{Keyring: keys})
	if err != nil {
		return 0, err
	}
	countries := []string{"DE", "FR", "NL", "PL", "SE"}
	var orders []Order
	for _, x := range world.Interactions {
		if x.Kind != recommend.Purchase {
			continue
		}
		h := sha256.Sum256([]byte(x.Person))
		orders = append(orders, Order{Customer: x.Person, Country: countries[int(h[0])%len(countries)], Item: x.Item})
	}
	out, _, err := minimize.StructBatch(m, orders)
	if err != nil {
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	for _, o := range out {
		if err := enc.Encode(o); err != nil {
			_ = f.Close()
			return 0, err
		}
	}
	if err := bw.Flush(); err != nil {
		_ = f.Close()
		return 0, err
	}
	return len(out), f.Close()
}

// parseOrder decodes one line of the events file; a line that is not an
// order is dropped (a real job would count it).
func parseOrder(line string, emit func(Order)) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	var o Order
	if err := json.Unmarshal([]byte(line), &o); err == nil {
		emit(o)
	}
}

// orderEvents is the trending view of an order: the item in the customer's
// country and in every country together.
func orderEvents(o Order, emit func(dpbeam.Event)) {
	emit(dpbeam.Event{Person: o.Customer, Segment: o.Country, Item: o.Item})
	emit(dpbeam.Event{Person: o.Customer, Segment: AllSegments, Item: o.Item})
}

// orderItem is the co-occurrence view of an order: the item in the
// customer's history.
func orderItem(o Order) dpbeam.ItemEvent { return dpbeam.ItemEvent{Person: o.Customer, Item: o.Item} }

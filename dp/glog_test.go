package dp_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostMain is a host program: it defines its own -v and -name, imports a
// package (early) that registers and sets -early before glog and dp are
// initialized, and runs every kind of release on tact's normal paths.
const hostMain = `package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"

	_ "example.com/host/early"
	"github.com/tact-go/tact/dp"
)

var (
	verbose = flag.Bool("v", false, "host: verbose output")
	name    = flag.String("name", "world", "host: who to greet")
)

func main() {
	flag.Parse()
	ctx := context.Background()
	budget, err := dp.NewBudget(20, 1e-3, nil)
	check(err)
	released := 0
	for _, noise := range []dp.NoiseKind{dp.Laplace, dp.Gaussian} {
		agg, err := dp.NewAggregation(dp.Params{Epsilon: 2, Delta: 1e-5, MaxPartitions: 2,
			MaxContributions: 2, Noise: noise},
			dp.Spec[float64]{Metrics: dp.Count | dp.Sum | dp.Mean | dp.Quantiles,
				Lower: 0, Upper: 10, Ranks: []float64{0.5}})
		check(err)
		tk, err := dp.NewTopK(3, dp.Params{Epsilon: 2, Delta: 1e-5, MaxPartitions: 2, Noise: noise})
		check(err)
		cooc, err := dp.NewCooccurrence(dp.CooccurrenceParams{Epsilon: 2, Delta: 1e-5,
			MaxItems: 3, MaxPairs: 3, Noise: noise})
		check(err)
		for i := range 3000 {
			person, key := "p"+strconv.Itoa(i), "k"+strconv.Itoa(i%3)
			agg.Add(person, key, float64(i%11))
			tk.Add(person, "", key)
			cooc.Add(person, key)
			cooc.Add(person, "k"+strconv.Itoa((i+1)%3))
		}
		res, err := agg.Release(ctx, budget)
		check(err)
		tr, err := tk.Release(ctx, budget)
		check(err)
		co, err := cooc.Release(ctx, budget)
		check(err)
		released += res.Len() + len(tr.Top("")) + len(co.Items) + len(co.Pairs)
	}
	var set []string
	flag.Visit(func(f *flag.Flag) { set = append(set, f.Name) })
	fmt.Printf("hello %s v=%v early=%s set=%v released>0=%v\n",
		*name, *verbose, flag.Lookup("early").Value, set, released > 0)
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
`

// hostEarly registers a flag before glog's and dp's initialization (its
// import path sorts before github.com/golang/glog and it imports neither),
// and sets it.
const hostEarly = `package early

import "flag"

func init() {
	flag.String("early", "default", "early: registered before dp")
	flag.Set("early", "changed")
}
`

// A program that imports dp and defines its own -v builds and runs, and
// its -h lists its own flags and none of glog's. Nothing of glog writes
// to stderr or to files in the temporary directory on tact's paths.
func TestHostDefinesV(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	env := append(os.Environ(), "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local",
		"GOFLAGS="+os.Getenv("GOFLAGS")+" -mod=mod")
	gomod, err := exec.Command(gotool, "env", "GOMOD").Output()
	require.NoError(t, err)
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)

	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/host\n\ngo 1.24\n\nrequire github.com/tact-go/tact v0.0.0\n\n" +
			"replace github.com/tact-go/tact => " + root + "\n",
		"go.sum":         string(sum),
		"main.go":        hostMain,
		"early/early.go": hostEarly,
	}
	for name, text := range files {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	bin := filepath.Join(dir, "host")
	build := exec.Command(gotool, "build", "-o", bin, ".")
	build.Dir, build.Env = dir, env
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	run := func(args ...string) (stdout, stderr string, code int) {
		tmp := t.TempDir() // where glog would write its log files
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		left, err := os.ReadDir(tmp)
		require.NoError(t, err)
		assert.Empty(t, left, "files written to the temporary directory: %v", left)
		return o.String(), e.String(), code
	}

	stdout, stderr, code := run("-v", "-name=tact")
	require.Equal(t, 0, code, "stderr:\n%s", stderr)
	assert.Equal(t, "hello tact v=true early=changed set=[early name v] released>0=true\n", stdout)
	assert.Empty(t, stderr)

	stdout, stderr, code = run("-h")
	require.Equal(t, 0, code, "stderr:\n%s", stderr)
	assert.Empty(t, stdout)
	for _, f := range []string{"v", "name", "early"} {
		assert.Regexp(t, `(?m)^\s+-`+f+`\b`, stderr, "-h lists -%s", f)
	}
	assert.Contains(t, stderr, "host: verbose output")
	assert.Contains(t, stderr, "early: registered before dp")
	for _, f := range []string{"vmodule", "log_backtrace_at", "logtostderr", "alsologtostderr",
		"stderrthreshold", "log_dir", "log_link", "logbuflevel"} {
		assert.NotRegexp(t, `(?m)^\s+-`+regexp.QuoteMeta(f)+`\b`, stderr, "-h lists glog's -%s", f)
	}
	assert.NotContains(t, stderr, "log level for V logs", "glog's -v")
}

package dp

import (
	"bytes"
	"flag"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// In this test binary too, dp's initialization took glog's nine flags off
// flag.CommandLine; GlogFlags holds them, glog's -v among them.
func TestGlogFlagsOffCommandLine(t *testing.T) {
	for name := range glogFlagNames {
		assert.Nil(t, flag.CommandLine.Lookup(name), "-%s still on flag.CommandLine", name)
	}
	var names []string
	fs := GlogFlags()
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	assert.Equal(t, slices.Sorted(maps.Keys(glogFlagNames)), names)
	require.NotNil(t, fs.Lookup("v"))
	assert.True(t, fromGlog(fs.Lookup("v").Value), "glog's own -v")
	assert.Equal(t, "false", fs.Lookup("logtostderr").Value.String(), "glog's defaults hold")
	assert.Equal(t, "", fs.Lookup("log_dir").Value.String())
	assert.Equal(t, "2", fs.Lookup("stderrthreshold").Value.String(), "ERROR")

	// Setting a flag of the returned set sets glog's own setting.
	require.NoError(t, fs.Set("logbuflevel", "-1"))
	assert.Equal(t, "-1", GlogFlags().Lookup("logbuflevel").Value.String())
	require.NoError(t, fs.Set("logbuflevel", fs.Lookup("logbuflevel").DefValue))
}

// withoutGlogFlags keeps every other flag as it was: the same Value (and
// value), usage, default and set state, with the set's name, error
// handling, output and Usage; the host can then define -v.
func TestWithoutGlogFlagsKeepsOtherFlags(t *testing.T) {
	glogV := glogFlags.Lookup("v").Value
	var out bytes.Buffer
	usageCalls := 0
	fs := flag.NewFlagSet("host", flag.ContinueOnError)
	fs.SetOutput(&out)
	fs.Usage = func() { usageCalls++ }
	alpha := fs.Int("alpha", 3, "alpha usage")
	beta := fs.String("beta", "x", "beta usage")
	gammaCalls := 0
	fs.Func("gamma", "gamma usage", func(string) error { gammaCalls++; return nil })
	fs.Var(glogV, "v", "log level for V logs")
	fs.Bool("logtostderr", false, "log to standard error instead of files")
	require.NoError(t, fs.Set("alpha", "7"))
	require.NoError(t, fs.Set("gamma", "g"))

	removed := flag.NewFlagSet("removed", flag.ContinueOnError)
	got := withoutGlogFlags(fs, removed)
	require.NotSame(t, fs, got)
	assert.Nil(t, got.Lookup("v"))
	assert.Nil(t, got.Lookup("logtostderr"))
	assert.Same(t, glogV, removed.Lookup("v").Value)
	assert.NotNil(t, removed.Lookup("logtostderr"))

	a := got.Lookup("alpha")
	require.NotNil(t, a)
	assert.Equal(t, "alpha usage", a.Usage)
	assert.Equal(t, "3", a.DefValue, "the default, not the current value")
	assert.Equal(t, "7", a.Value.String())
	assert.Equal(t, "x", got.Lookup("beta").Value.String())
	assert.Equal(t, 1, gammaCalls, "Set is not called again")
	var set []string
	got.Visit(func(f *flag.Flag) { set = append(set, f.Name) })
	assert.Equal(t, []string{"alpha", "gamma"}, set, "set flags stay set")

	assert.Equal(t, "host", got.Name())
	assert.Equal(t, flag.ContinueOnError, got.ErrorHandling())
	assert.Same(t, &out, got.Output())
	got.Usage()
	assert.Equal(t, 1, usageCalls)

	// The host's own -v now fits; the old flags parse into the same values.
	v := got.Bool("v", false, "host verbose")
	require.NoError(t, got.Parse([]string{"-v", "-alpha=9", "-beta=y"}))
	assert.True(t, *v)
	assert.Equal(t, 9, *alpha)
	assert.Equal(t, "y", *beta)

	// A set whose -v is not glog's, or already parsed, is left alone.
	plain := flag.NewFlagSet("plain", flag.ContinueOnError)
	plain.Bool("v", false, "")
	plain.Bool("logtostderr", false, "")
	assert.Same(t, plain, withoutGlogFlags(plain, flag.NewFlagSet("", flag.ContinueOnError)))
	parsed := flag.NewFlagSet("parsed", flag.ContinueOnError)
	parsed.Var(glogV, "v", "")
	require.NoError(t, parsed.Parse(nil))
	assert.Same(t, parsed, withoutGlogFlags(parsed, flag.NewFlagSet("", flag.ContinueOnError)))
}

package dp

import (
	"flag"
	"os"
	"reflect"
)

// Google's library imports github.com/golang/glog, whose initialization
// registers nine flags on flag.CommandLine. A host that defines its own -v
// would panic ("flag redefined: v"), and every host's -h would list
// them. Package dp's initialization, which runs after glog's (glog is a
// dependency) and before that of any package importing dp (the host's main
// package among them), takes them off flag.CommandLine. See "glog" in the
// package doc.

// glogFlagNames are the flags glog v1.2.0 registers: in glog_flags.go -v,
// -vmodule, -log_backtrace_at, -logtostderr, -alsologtostderr,
// -stderrthreshold; in glog_file.go -log_dir, -log_link, -logbuflevel.
var glogFlagNames = map[string]bool{
	"v": true, "vmodule": true, "log_backtrace_at": true,
	"logtostderr": true, "alsologtostderr": true, "stderrthreshold": true,
	"log_dir": true, "log_link": true, "logbuflevel": true,
}

const glogPkg = "github.com/golang/glog"

// glogFlags holds glog's flags once taken off flag.CommandLine: the same
// flag.Values, which glog keeps reading.
var glogFlags = flag.NewFlagSet("glog", flag.ContinueOnError)

func init() {
	flag.CommandLine = withoutGlogFlags(flag.CommandLine, glogFlags)
}

// withoutGlogFlags returns a copy of fs without glog's flags, which it
// registers on removed. Every other flag keeps its Value (and so its
// value), usage, default and whether it was set; the copy keeps fs's name,
// error handling, Usage function and output. fs itself is returned when
// its -v is not glog's (someone already took glog's flags away) or when it
// was already parsed.
func withoutGlogFlags(fs, removed *flag.FlagSet) *flag.FlagSet {
	if v := fs.Lookup("v"); v == nil || !fromGlog(v.Value) || fs.Parsed() {
		return fs
	}
	out := flag.NewFlagSet(fs.Name(), fs.ErrorHandling())
	out.Usage = fs.Usage
	if w := fs.Output(); w != os.Stderr {
		out.SetOutput(w)
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		dst := out
		if glogFlagNames[f.Name] {
			dst = removed
		}
		moveFlag(dst, f, set[f.Name])
	})
	return out
}

// fromGlog reports whether v is a flag.Value of package glog.
func fromGlog(v flag.Value) bool {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.PkgPath() == glogPkg
}

// moveFlag registers f on dst with the same Value, usage and default, and
// marks it set if it was, without calling its Set again.
func moveFlag(dst *flag.FlagSet, f *flag.Flag, wasSet bool) {
	dst.Var(noopValue{}, f.Name, f.Usage)
	if wasSet {
		_ = dst.Set(f.Name, "") // noopValue.Set never fails
	}
	nf := dst.Lookup(f.Name)
	nf.Value, nf.DefValue = f.Value, f.DefValue
}

// noopValue stands in for a flag's Value while moveFlag registers it.
type noopValue struct{}

func (noopValue) String() string   { return "" }
func (noopValue) Set(string) error { return nil }

// GlogFlags returns a new flag set holding the flags of glog (the logger
// Google's library uses), which package dp takes off flag.CommandLine: -v,
// -vmodule, -log_backtrace_at, -logtostderr, -alsologtostderr,
// -stderrthreshold, -log_dir, -log_link and -logbuflevel. They are glog's
// own settings: setting one (with the set's Set or Parse) changes glog's
// behaviour. A host that logs with glog itself and wants them on its
// command line can register them:
//
//	dp.GlogFlags().VisitAll(func(f *flag.Flag) { flag.Var(f.Value, f.Name, f.Usage) })
//
// The set is empty if glog's flags were not on flag.CommandLine when
// package dp was initialized.
func GlogFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("glog", flag.ContinueOnError)
	glogFlags.VisitAll(func(f *flag.Flag) { moveFlag(fs, f, false) })
	return fs
}

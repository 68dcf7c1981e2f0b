//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"syscall/js"

	"github.com/tact-go/tact/recommend/ondevice"
)

// ranker is the Ranker the last successful load built.
var ranker atomic.Pointer[ondevice.Ranker]

func run() {
	js.Global().Set("tact", js.ValueOf(map[string]any{
		"load": js.FuncOf(load),
		"rank": js.FuncOf(rank),
	}))
	select {} // serve calls until the page goes away
}

func fail(err error) any {
	b, _ := json.Marshal(map[string]string{"error": err.Error()})
	return string(b)
}

func load(_ js.Value, args []js.Value) any {
	if len(args) != 3 || args[0].Type() != js.TypeObject {
		return `{"error":"tact.load(model Uint8Array, consent string, settings string)"}`
	}
	model := make([]byte, args[0].Get("length").Int())
	js.CopyBytesToGo(model, args[0])
	r, err := ondevice.Load(model, []byte(args[1].String()), []byte(args[2].String()))
	if err != nil {
		return fail(err)
	}
	ranker.Store(r)
	return "{}"
}

func rank(_ js.Value, args []js.Value) any {
	r := ranker.Load()
	if r == nil || len(args) != 1 {
		return `{"error":"tact.rank(query string) after tact.load"}`
	}
	out, err := r.RankJSON(context.Background(), []byte(args[0].String()))
	if err != nil {
		return fail(err)
	}
	return string(out)
}
